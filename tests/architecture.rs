//! ARCHITECTURE.md's crate graph is the workspace's real one: the edges
//! between Showrunner crates that `cargo metadata` reports (normal and dev
//! dependencies apart) equal the table between the `crate-edges` markers
//! of ARCHITECTURE.md, so neither can change without the other.

use std::collections::BTreeMap;
use std::process::Command;

/// crate → (normal dependencies, dev-only dependencies), short names
/// (`showrunner-` dropped; the binary package is `showrunner`).
type Edges = BTreeMap<String, (Vec<String>, Vec<String>)>;

fn short(name: &str) -> String {
    name.strip_prefix("showrunner-").unwrap_or(name).to_owned()
}

/// Runs the cargo that runs the tests, offline, in the workspace; stdout.
fn cargo(args: &[&str]) -> Vec<u8> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .arg("--offline")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn real_edges() -> Edges {
    let meta: serde_json::Value =
        serde_json::from_slice(&cargo(&["metadata", "--format-version", "1", "--no-deps"]))
            .expect("json");
    let mut edges = Edges::new();
    for p in meta["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("name");
        let (mut normal, mut dev) = (Vec::new(), Vec::new());
        for d in p["dependencies"].as_array().expect("deps") {
            let dep = d["name"].as_str().expect("dep name");
            if !dep.starts_with("showrunner-") {
                continue;
            }
            match d["kind"].as_str() {
                Some("dev") => dev.push(short(dep)),
                _ => normal.push(short(dep)),
            }
        }
        normal.sort();
        normal.dedup();
        dev.sort();
        dev.dedup();
        // a dev edge that is also a normal one says nothing more
        dev.retain(|d| !normal.contains(d));
        edges.insert(short(name), (normal, dev));
    }
    edges
}

fn documented_edges() -> Edges {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md");
    let start = doc.find("<!-- crate-edges -->").expect("start marker");
    let end = doc.find("<!-- /crate-edges -->").expect("end marker");
    let list = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty() && *x != "—")
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    let mut edges = Edges::new();
    for line in doc[start..end].lines() {
        // | crate | depends on | dev-only |
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || cells[1].starts_with('-') || cells[1] == "crate" {
            continue;
        }
        let name = cells[1].trim_matches('`').to_owned();
        edges.insert(name, (list(cells[2]), list(cells[3])));
    }
    edges
}

#[test]
fn the_documented_crate_graph_is_the_real_one() {
    let (real, doc) = (real_edges(), documented_edges());
    assert!(real.len() >= 8, "{real:?}");
    for (name, want) in &real {
        assert_eq!(
            doc.get(name),
            Some(want),
            "ARCHITECTURE.md's row for `{name}` (normal, dev-only) differs from Cargo.toml"
        );
    }
    let extra: Vec<&String> = doc.keys().filter(|k| !real.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "documented crates that do not exist: {extra:?}"
    );
}

#[test]
fn catalog_side_crates_link_no_analytics_engine() {
    // the lake's and the bus's owners and the read models are used by
    // playback and catalog code paths: they must not pull DataFusion,
    // polars or linfa into them
    for krate in [
        "showrunner-lake",
        "showrunner-bus",
        "showrunner-events",
        "showrunner-projections",
    ] {
        let tree = cargo(&["tree", "-p", krate, "-e", "normal", "--prefix", "none"]);
        let tree = String::from_utf8_lossy(&tree);
        for heavy in ["datafusion", "polars", "linfa"] {
            assert!(
                !tree.lines().any(|l| l.starts_with(heavy)),
                "{krate} depends on {heavy}"
            );
        }
    }
}

#[test]
fn no_shipped_binary_links_the_testkit() {
    // the local test servers are dev-only: what a user runs never has them
    // (the benchmark binary, not shipped, starts them like the tests)
    for krate in ["showrunner", "showrunner-node", "showrunner-dashboard"] {
        let tree = cargo(&["tree", "-p", krate, "-e", "normal", "--prefix", "none"]);
        let tree = String::from_utf8_lossy(&tree);
        assert!(
            !tree.lines().any(|l| l.starts_with("showrunner-testkit")),
            "{krate} links showrunner-testkit"
        );
    }
}
