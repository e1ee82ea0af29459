//! Checks the chart library the pages embed (uPlot, from npm at the version
//! `assets/package-lock.json` pins) against the checksums below, and hands
//! its paths to `include_bytes!`. `scripts/assets.sh` installs it (`npm ci`
//! in `dashboard/assets`); nothing is downloaded here.

use std::path::Path;

use sha2::{Digest, Sha256};

/// (file under `assets/node_modules/uplot`, env var, SHA-256) of uPlot 1.6.32.
const PINNED: &[(&str, &str, &str)] = &[
    (
        "dist/uPlot.iife.min.js",
        "UPLOT_JS",
        "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
    ),
    (
        "dist/uPlot.min.css",
        "UPLOT_CSS",
        "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
    ),
    (
        "LICENSE",
        "UPLOT_LICENSE",
        "8f989229699b4fe2f1a0432d0e9edc338a8a911e250e2d1b01ecd770a5f5b1bd",
    ),
];

fn main() {
    // the manifest's directory as cargo says it now (a compiled-in path
    // would outlive a moved checkout sharing the target directory)
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("assets/node_modules/uplot");
    println!("cargo:rerun-if-changed=assets/package-lock.json");
    for (file, var, sha) in PINNED {
        let path = dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}. The dashboard embeds uPlot from npm: run scripts/assets.sh first \
                 (npm ci in dashboard/assets)",
                path.display()
            )
        });
        let got = hex(&Sha256::digest(&bytes));
        assert_eq!(
            &got,
            sha,
            "{} is not uPlot 1.6.32's (sha256 {got}); run scripts/assets.sh again",
            path.display()
        );
        println!("cargo:rustc-env={var}={}", path.display());
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
