//! The `watch` family: what was watched and how far (resume points, completions).

use super::field::event_family;

event_family! {
    /// A watch event.
    WatchEvent {
        /// The playhead reached `position_ms` of a title of `duration_ms`.
        Progress = "progress" {
            /// Playhead position, ms.
            position_ms: i64,
            /// Title duration, ms.
            duration_ms: i64,
        },
        /// The title was watched to its end.
        Completed = "completed" {
            /// Title duration, ms.
            duration_ms: Option<i64>,
        },
    }
}
