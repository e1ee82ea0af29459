//! Every NATS subject and default stream name of Showrunner. Nothing else
//! in the workspace spells one.
//!
//! ```text
//! EVENTS      events.<family>.<event_type>   every accepted event
//! DEADLETTER  deadletter.<family>            refused events, with a reason
//! ```

use showrunner_events::{Event, Family};

/// Default name of the event stream.
pub const EVENTS_STREAM: &str = "EVENTS";
/// Default name of the dead-letter stream.
pub const DEADLETTER_STREAM: &str = "DEADLETTER";
/// The event stream's subjects (every event).
pub const EVENTS: &str = "events.>";
/// The dead-letter stream's subjects.
pub const DEADLETTER: &str = "deadletter.>";

const EVENTS_PREFIX: &str = "events.";
const DEADLETTER_PREFIX: &str = "deadletter.";

/// The subject of an event: `events.<family>.<type>`.
pub fn of(e: &Event) -> String {
    event(e.family(), e.event_type())
}

/// The subject of a family and type: `events.<family>.<type>`.
pub fn event(family: Family, event_type: &str) -> String {
    format!("{EVENTS_PREFIX}{family}.{event_type}")
}

/// The subjects of one family's events: `events.<family>.>`.
pub fn family(family: Family) -> String {
    format!("{EVENTS_PREFIX}{family}.>")
}

/// The (family, event type) an event subject names; `None` for any other
/// subject.
pub fn parse(subject: &str) -> Option<(&str, &str)> {
    subject.strip_prefix(EVENTS_PREFIX)?.split_once('.')
}

/// Whether `subject` is the subject of an event of `family` and
/// `event_type`.
pub fn is_event(subject: &str, family: Family, event_type: &str) -> bool {
    parse(subject) == Some((family.as_str(), event_type))
}

/// The dead-letter subject of an event subject: `deadletter.<family>`
/// (`deadletter.unknown` when the subject names no known family).
pub fn deadletter(event_subject: &str) -> String {
    let family = parse(event_subject)
        .map(|(f, _)| f)
        .filter(|f| f.parse::<Family>().is_ok())
        .unwrap_or("unknown");
    format!("{DEADLETTER_PREFIX}{family}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let s = event(Family::Player, "play_requested");
        assert_eq!(s, "events.player.play_requested");
        assert_eq!(parse(&s), Some(("player", "play_requested")));
        assert!(is_event(&s, Family::Player, "play_requested"));
        assert!(!is_event(&s, Family::Watch, "play_requested"));
        assert_eq!(family(Family::Watch), "events.watch.>");
        assert_eq!(deadletter(&s), "deadletter.player");
        assert_eq!(deadletter("other"), "deadletter.unknown");
        assert_eq!(deadletter("events.bogus.x"), "deadletter.unknown");
        assert_eq!(parse("deadletter.player"), None);
        for e in showrunner_events::examples::examples() {
            assert_eq!(parse(&of(&e)), Some((e.family().as_str(), e.event_type())));
        }
    }
}
