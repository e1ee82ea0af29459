//! Holdout and control assignment: the places agree with an independent
//! implementation (Python, from the description in `assign.rs`), the
//! shares hold over 200,000 users, and a campaign's control group is drawn
//! independently of the global holdout and of other campaigns.

use std::process::Command;

use showrunner_marketing::assign::{HOLDOUT_SALT, in_control, in_holdout, unit};

const PYTHON: &str = r#"
import sys
M = (1 << 64) - 1
def unit(salt, user):
    h = 0xcbf29ce484222325
    for b in salt.encode() + b"\xff" + user.encode():
        h = ((h ^ b) * 0x100000001b3) & M
    h = ((h ^ (h >> 30)) * 0xbf58476d1ce4e5b9) & M
    h = ((h ^ (h >> 27)) * 0x94d049bb133111eb) & M
    h ^= h >> 31
    return (h >> 11) / float(1 << 53)
for line in sys.stdin:
    salt, user = line.rstrip("\n").split("\t")
    print(repr(unit(salt, user)))
"#;

#[test]
fn places_agree_with_an_independent_implementation() {
    let pairs: Vec<(String, String)> = (0..500)
        .map(|i| {
            let salt = match i % 3 {
                0 => HOLDOUT_SALT.to_owned(),
                1 => "winback-2026".to_owned(),
                _ => format!("campaign-{i}"),
            };
            (salt, format!("u{i:06}-é"))
        })
        .collect();
    let input: String = pairs.iter().map(|(s, u)| format!("{s}\t{u}\n")).collect();
    let mut child = Command::new("python3")
        .args(["-c", PYTHON])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (the test command installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success());
    let theirs: Vec<f64> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| l.parse().expect("float"))
        .collect();
    assert_eq!(theirs.len(), pairs.len());
    for ((salt, user), t) in pairs.iter().zip(theirs) {
        assert_eq!(unit(salt, user), t, "{salt} {user}");
    }
}

#[test]
fn shares_hold_and_groups_are_independent() {
    let users: Vec<String> = (0..200_000).map(|i| format!("user-{i}")).collect();
    let holdout: Vec<bool> = users.iter().map(|u| in_holdout(u, 0.05)).collect();
    let a: Vec<bool> = users.iter().map(|u| in_control("a", u, 0.2)).collect();
    let b: Vec<bool> = users.iter().map(|u| in_control("b", u, 0.2)).collect();
    let share = |v: &[bool]| v.iter().filter(|x| **x).count() as f64 / v.len() as f64;
    // binomial standard errors: 0.05 → 0.00049, 0.2 → 0.00089; 4 σ
    assert!(
        (share(&holdout) - 0.05).abs() < 0.002,
        "{}",
        share(&holdout)
    );
    assert!((share(&a) - 0.2).abs() < 0.0036, "{}", share(&a));
    // control share inside the holdout, and b's inside a's control group
    let within = |g: &[bool], of: &[bool]| {
        let picked: Vec<bool> = g
            .iter()
            .zip(of)
            .filter(|(_, o)| **o)
            .map(|(x, _)| *x)
            .collect();
        share(&picked)
    };
    assert!(
        (within(&a, &holdout) - 0.2).abs() < 0.016,
        "{}",
        within(&a, &holdout)
    );
    assert!((within(&b, &a) - 0.2).abs() < 0.008, "{}", within(&b, &a));
    // a place never changes with the share: growing it only adds users
    for u in users.iter().take(10_000) {
        assert!(!in_holdout(u, 0.05) || in_holdout(u, 0.10));
    }
}
