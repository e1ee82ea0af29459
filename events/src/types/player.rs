//! The `player` family: quality of experience, one play attempt = one `view_id`.

use super::field::{Country, event_family, wire_enum};

wire_enum!(
    /// Device class.
    DeviceType { Tv = "tv", Mobile = "mobile", Tablet = "tablet", Web = "web", Console = "console" }
);

wire_enum!(
    /// Network access type.
    NetworkType { Wifi = "wifi", Cellular = "cellular", Ethernet = "ethernet", Unknown = "unknown" }
);

wire_enum!(
    /// Why a view ended.
    EndReason { Completed = "completed", UserExit = "user_exit", Error = "error", Background = "background" }
);

event_family! {
    /// A player event.
    PlayerEvent {
        /// The viewer asked to play a title; carries the view's breakdown context.
        PlayRequested = "play_requested" {
            /// Device class.
            device_type: DeviceType,
            /// Operating system.
            os: String,
            /// Operating system version.
            os_version: Option<String>,
            /// Device model.
            device_model: Option<String>,
            /// Player software name.
            player_name: String,
            /// Player software version.
            player_version: String,
            /// App version.
            app_version: String,
            /// CDN serving the view.
            cdn: String,
            /// Viewing country.
            country: Country,
            /// Internet service provider.
            isp: String,
            /// Autonomous system number.
            asn: Option<i64>,
            /// Network access type.
            network_type: NetworkType,
            /// Autoplay start.
            autoplay: Option<bool>,
        },
        /// The first video frame was rendered.
        FirstFrame = "first_frame" {},
        /// Playback stalled waiting for data.
        RebufferStart = "rebuffer_start" {},
        /// Playback resumed after a stall.
        RebufferEnd = "rebuffer_end" {},
        /// The rendition changed (also emitted at first frame for the initial one).
        BitrateChanged = "bitrate_changed" {
            /// New bitrate, kbit/s.
            bitrate_kbps: i64,
            /// Rendition label.
            rendition: Option<String>,
        },
        /// The viewer seeked.
        Seek = "seek" {
            /// Position before, ms.
            from_ms: i64,
            /// Position after, ms.
            to_ms: i64,
        },
        /// The viewer paused.
        Pause = "pause" {},
        /// The viewer resumed after a pause.
        Resume = "resume" {},
        /// Periodic playback state.
        Heartbeat = "heartbeat" {
            /// Playhead position, ms.
            position_ms: i64,
            /// Current bitrate, kbit/s.
            bitrate_kbps: i64,
            /// Frames dropped since the previous heartbeat.
            dropped_frames: Option<i64>,
        },
        /// A playback error.
        PlaybackError = "error" {
            /// Error code.
            code: String,
            /// Message.
            message: Option<String>,
            /// The error ended playback.
            fatal: bool,
        },
        /// The view ended.
        ViewEnded = "view_ended" {
            /// Why.
            reason: EndReason,
            /// Final playhead position, ms.
            position_ms: Option<i64>,
        },
    }
}
