//! Bearer keys and the roles they hold.
//!
//! A key is 32 random bytes, written `sr_` + base64url; the configuration
//! holds its id, its roles and `sha256:<hex>` of it — never the key.
//! Keys are random, not chosen by people, so one unsalted SHA-256 is the
//! right hash (a slow password hash would only slow every request).
//!
//! [`Keyring::authenticate`] hashes the presented key and compares the
//! digest with every configured one in constant time, never stopping at
//! the first match: neither the length of a key nor which one matched
//! shows in the time taken. [`Keys`] is the shared, swappable keyring:
//! rotation replaces it while the server runs.
//!
//! The development keys (`dev-ingest-key`, …, [`DEV_KEYS`]) are what the
//! default configuration holds, for the README's examples on loopback;
//! [`Keyring::check_bind`] refuses them on any other address.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use axum::http::{HeaderMap, header};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// What a key may do; a key may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Players and apps posting events (`POST /v1/events`).
    Ingest,
    /// Apps reading recommendations and playback state.
    App,
    /// Product analysts: metrics and SQL.
    Analyst,
    /// Marketing: audiences, triggers, campaigns.
    Marketing,
    /// Operators: key rotation and other administration.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Ingest,
        Role::App,
        Role::Analyst,
        Role::Marketing,
        Role::Admin,
    ];

    /// Its name in configuration and messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::App => "app",
            Role::Analyst => "analyst",
            Role::Marketing => "marketing",
            Role::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown role `{s}` (ingest, app, analyst, marketing or admin)"))
    }
}

/// A set of roles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleSet(u8);

impl RoleSet {
    /// Whether `role` is in the set.
    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// The roles in the set.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl FromIterator<Role> for RoleSet {
    fn from_iter<I: IntoIterator<Item = Role>>(it: I) -> Self {
        RoleSet(it.into_iter().fold(0, |acc, r| acc | r.bit()))
    }
}

/// One key of the configuration (`[[http.keys]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// Its name, shown in refusals and logs: `[a-z0-9_-]`, unique.
    pub id: String,
    /// What it may do.
    pub roles: Vec<Role>,
    /// `sha256:<64 hex digits>` of the key.
    pub hash: String,
}

impl KeyEntry {
    /// The entry as the TOML lines to add to the configuration.
    pub fn config_lines(&self) -> String {
        let roles: Vec<String> = self.roles.iter().map(|r| format!("\"{r}\"")).collect();
        format!(
            "[[http.keys]]\nid = \"{}\"\nroles = [{}]\nhash = \"{}\"\n",
            self.id,
            roles.join(", "),
            self.hash
        )
    }
}

/// `sha256:<hex>` of `key`: what the configuration holds.
pub fn hash_key(key: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// A new key, printed once, and its configuration entry.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The key: give it to whoever calls; it is not stored anywhere.
    pub key: String,
    /// What to add to the configuration.
    pub entry: KeyEntry,
}

/// Makes a key holding `roles`, named `id` (checked as the configuration
/// checks it).
pub fn generate(id: &str, roles: &[Role]) -> Result<NewKey, String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!(
        "sr_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let entry = KeyEntry {
        id: id.to_owned(),
        roles: roles.to_vec(),
        hash: hash_key(&key),
    };
    Keyring::new(std::slice::from_ref(&entry))?;
    Ok(NewKey { key, entry })
}

/// The development keys: (id, role, key). Public, so refused off loopback.
pub const DEV_KEYS: [(&str, Role, &str); 5] = [
    ("dev-ingest", Role::Ingest, "dev-ingest-key"),
    ("dev-app", Role::App, "dev-app-key"),
    ("dev-analyst", Role::Analyst, "dev-analyst-key"),
    ("dev-marketing", Role::Marketing, "dev-marketing-key"),
    ("dev-admin", Role::Admin, "dev-admin-key"),
];

/// The entries of the development keys (the default configuration's).
pub fn dev_entries() -> Vec<KeyEntry> {
    DEV_KEYS
        .iter()
        .map(|(id, role, key)| KeyEntry {
            id: (*id).to_owned(),
            roles: vec![*role],
            hash: hash_key(key),
        })
        .collect()
}

/// Who called: the key's id and roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's id.
    pub id: Arc<str>,
    /// Its roles.
    pub roles: RoleSet,
}

#[derive(Debug)]
struct Stored {
    id: Arc<str>,
    roles: RoleSet,
    digest: [u8; 32],
    dev: bool,
}

/// The configured keys, checked.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: Vec<Stored>,
}

impl Keyring {
    /// The keyring of `entries`; the error names the entry that is wrong
    /// (a bad id, a repeated id, no role, a hash that is not
    /// `sha256:<64 hex>`, a hash given twice).
    pub fn new(entries: &[KeyEntry]) -> Result<Self, String> {
        let dev: Vec<[u8; 32]> = dev_entries()
            .iter()
            .filter_map(|e| parse_hash(&e.hash))
            .collect();
        let mut keys: Vec<Stored> = Vec::with_capacity(entries.len());
        for e in entries {
            let good_id = !e.id.is_empty()
                && e.id.len() <= 64
                && e.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_".contains(&b));
            if !good_id {
                return Err(format!(
                    "key id `{}`: use 1 to 64 of a-z, 0-9, `-` and `_`",
                    e.id
                ));
            }
            if keys.iter().any(|k| *k.id == e.id) {
                return Err(format!("key id `{}` is given twice", e.id));
            }
            if e.roles.is_empty() {
                return Err(format!("key `{}` holds no role", e.id));
            }
            let digest = parse_hash(&e.hash).ok_or_else(|| {
                format!(
                    "key `{}`: hash must be `sha256:` and 64 hex digits (make one with `showrunner keys new`)",
                    e.id
                )
            })?;
            if let Some(k) = keys.iter().find(|k| k.digest == digest) {
                return Err(format!("keys `{}` and `{}` have the same hash", k.id, e.id));
            }
            keys.push(Stored {
                id: e.id.as_str().into(),
                roles: e.roles.iter().copied().collect(),
                digest,
                dev: dev.contains(&digest),
            });
        }
        Ok(Keyring { keys })
    }

    /// The key `token` is, if any. Every configured digest is compared, in
    /// constant time.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = subtle::Choice::from(0);
        let mut index = 0u32;
        for (i, k) in self.keys.iter().enumerate() {
            let eq = k.digest.ct_eq(&digest);
            index = u32::conditional_select(&index, &(i as u32), eq);
            found |= eq;
        }
        if bool::from(found) {
            let k = &self.keys[index as usize];
            Some(Principal {
                id: k.id.clone(),
                roles: k.roles,
            })
        } else {
            None
        }
    }

    /// The ids of the development keys this keyring holds.
    pub fn dev_ids(&self) -> Vec<&str> {
        self.keys.iter().filter(|k| k.dev).map(|k| &*k.id).collect()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Refuses the development keys when serving on `addr` that is not a
    /// loopback address, saying how to make real ones.
    pub fn check_bind(&self, addr: SocketAddr) -> Result<(), String> {
        let dev = self.dev_ids();
        if addr.ip().is_loopback() || dev.is_empty() {
            return Ok(());
        }
        Err(format!(
            "the development keys ({}) are public and only work on a loopback address, not {addr}: \
             make real ones with `showrunner keys new --role <ingest|app|analyst|marketing|admin> --id <name>` \
             and put the printed [[http.keys]] lines in the configuration in place of the defaults",
            dev.join(", ")
        ))
    }
}

fn parse_hash(h: &str) -> Option<[u8; 32]> {
    let hex = h.strip_prefix("sha256:")?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

/// The bearer token of a request, if it sent one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    // the scheme is case-insensitive (RFC 9110, 11.1)
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start())
}

/// The keyring in use, shared by every request and replaced whole when
/// keys rotate.
#[derive(Debug, Clone, Default)]
pub struct Keys(Arc<RwLock<Arc<Keyring>>>);

impl Keys {
    /// Shares `ring`.
    pub fn new(ring: Keyring) -> Self {
        Keys(Arc::new(RwLock::new(Arc::new(ring))))
    }

    /// The keyring now.
    pub fn current(&self) -> Arc<Keyring> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `ring` in place; requests from now on see it.
    pub fn replace(&self, ring: Keyring) {
        let ring = Arc::new(ring);
        match self.0.write() {
            Ok(mut g) => *g = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_round_trips_through_its_config_lines() {
        let k = generate("web-player", &[Role::Ingest, Role::App]).expect("key");
        assert!(k.key.starts_with("sr_") && k.key.len() == 46, "{}", k.key);
        assert!(!k.entry.config_lines().contains(&k.key), "never the key");
        #[derive(Deserialize)]
        struct Http {
            keys: Vec<KeyEntry>,
        }
        #[derive(Deserialize)]
        struct File {
            http: Http,
        }
        let f: File = toml::from_str(&k.entry.config_lines()).expect("toml");
        assert_eq!(f.http.keys, vec![k.entry.clone()]);
        let ring = Keyring::new(&f.http.keys).expect("ring");
        let p = ring.authenticate(&k.key).expect("known");
        assert_eq!(&*p.id, "web-player");
        assert_eq!(
            p.roles.iter().collect::<Vec<_>>(),
            [Role::Ingest, Role::App]
        );
        let mut wrong = k.key.clone();
        wrong.pop();
        assert_eq!(ring.authenticate(&wrong), None);
        assert_eq!(ring.authenticate(""), None);
        assert_ne!(generate("b", &[Role::App]).expect("key").key, k.key);
    }

    #[test]
    fn the_matching_key_is_found_wherever_it_sits() {
        let keys: Vec<NewKey> = (0..5)
            .map(|i| generate(&format!("k{i}"), &[Role::ALL[i]]).expect("key"))
            .collect();
        let entries: Vec<KeyEntry> = keys.iter().map(|k| k.entry.clone()).collect();
        let ring = Keyring::new(&entries).expect("ring");
        for (i, k) in keys.iter().enumerate() {
            let p = ring.authenticate(&k.key).expect("known");
            assert_eq!(&*p.id, format!("k{i}"));
            assert!(p.roles.contains(Role::ALL[i]));
            assert_eq!(p.roles.iter().count(), 1);
        }
    }

    #[test]
    fn bad_entries_are_named() {
        let good = generate("a", &[Role::App]).expect("key").entry;
        let with = |f: &dyn Fn(&mut KeyEntry)| {
            let mut e = good.clone();
            f(&mut e);
            Keyring::new(&[e]).expect_err("refused")
        };
        assert!(with(&|e| e.id = "Big Name".into()).contains("Big Name"));
        assert!(with(&|e| e.roles.clear()).contains("no role"));
        assert!(with(&|e| e.hash = "dev-app-key".into()).contains("sha256:"));
        assert!(with(&|e| e.hash.truncate(20)).contains("`a`"));
        let twice = Keyring::new(&[good.clone(), good.clone()]).expect_err("twice");
        assert!(twice.contains("twice"), "{twice}");
        let mut other = good.clone();
        other.id = "b".into();
        let same = Keyring::new(&[good, other]).expect_err("same hash");
        assert!(same.contains("same hash"), "{same}");
        assert!("cook".parse::<Role>().expect_err("no").contains("cook"));
    }

    #[test]
    fn dev_keys_work_on_loopback_only() {
        let ring = Keyring::new(&dev_entries()).expect("ring");
        for (id, role, key) in DEV_KEYS {
            let p = ring.authenticate(key).expect("dev key");
            assert_eq!(&*p.id, id);
            assert!(p.roles.contains(role));
        }
        assert!(
            ring.check_bind("127.0.0.1:8080".parse().expect("addr"))
                .is_ok()
        );
        assert!(ring.check_bind("[::1]:8080".parse().expect("addr")).is_ok());
        let e = ring
            .check_bind("0.0.0.0:8080".parse().expect("addr"))
            .expect_err("refused");
        assert!(
            e.contains("showrunner keys new") && e.contains("dev-ingest"),
            "{e}"
        );
        let real =
            Keyring::new(&[generate("prod", &[Role::Admin]).expect("key").entry]).expect("ring");
        assert!(
            real.check_bind("0.0.0.0:8080".parse().expect("addr"))
                .is_ok()
        );
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().expect("header"));
            bearer(&h).map(str::to_owned)
        };
        assert_eq!(with("Bearer k1").as_deref(), Some("k1"));
        assert_eq!(with("bearer k1").as_deref(), Some("k1"));
        assert_eq!(with("BEARER  k1").as_deref(), Some("k1"));
        assert_eq!(with("Basic k1"), None);
        assert_eq!(with("Bearerk1"), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn a_replaced_keyring_is_what_requests_see() {
        let a = generate("a", &[Role::App]).expect("key");
        let b = generate("b", &[Role::App]).expect("key");
        let keys = Keys::new(Keyring::new(std::slice::from_ref(&a.entry)).expect("ring"));
        assert!(keys.current().authenticate(&a.key).is_some());
        keys.replace(Keyring::new(std::slice::from_ref(&b.entry)).expect("ring"));
        assert!(keys.current().authenticate(&a.key).is_none());
        assert!(keys.current().authenticate(&b.key).is_some());
    }
}
