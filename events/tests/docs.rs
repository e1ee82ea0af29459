//! `docs/events.md` shows one current example per event type.

use showrunner_events::examples::examples;

#[test]
fn docs_show_every_example_as_it_is() {
    // the package directory at run time (cargo sets it), so that a test
    // binary built in another checkout still reads this one's docs
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let path = std::path::Path::new(&dir).join("../docs/events.md");
    let doc = std::fs::read_to_string(&path).expect("docs/events.md");
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
