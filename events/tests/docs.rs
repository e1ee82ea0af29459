//! `docs/events.md` shows one current example per event type.

use showrunner_events::examples::examples;

#[test]
fn docs_show_every_example_as_it_is() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events.md");
    let doc = std::fs::read_to_string(path).expect("docs/events.md");
    for e in examples() {
        let json = serde_json::to_string(&e).expect("json");
        assert!(
            doc.contains(&json),
            "docs/events.md lacks the current example of `{}`; regenerate it with \
             `showrunner events examples | scripts/gen-events-doc.py > docs/events.md`",
            e.event_type()
        );
        assert!(
            doc.contains(&format!("#### `{}`", e.event_type())),
            "no section for {}",
            e.event_type()
        );
    }
}
