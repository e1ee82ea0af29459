//! Browser sessions: an analyst signs in with a key once
//! ([`Sessions::open`]); the browser then holds a session cookie
//! ([`COOKIE`]: `HttpOnly`, `SameSite=Strict`, `Path=/`, expiring) instead
//! of the key. API clients keep sending `Authorization: Bearer`.
//!
//! - The cookie's token is 32 random bytes; the server keeps only its
//!   SHA-256, so what the server holds does not open a session.
//! - A session holds the key it was opened with and authenticates it again
//!   on every request: a key removed by rotation ends its sessions at
//!   once, and the session has exactly the key's roles.
//! - It expires `ttl` after sign-in (no sliding renewal: an analyst signs
//!   in again each working day); sign-out ([`Sessions::close`]) ends it.
//! - Requests that change state and come with the cookie carry the
//!   session's CSRF token ([`CSRF_HEADER`], or the form field
//!   [`CSRF_FIELD`]) and are not cross-site ([`cross_site`]); the gate
//!   checks both (`crate::access`). `SameSite=Strict` already keeps the
//!   cookie off other sites' requests; the token is the second lock, for
//!   browsers or proxies that do not honour it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::time::Instant;

use crate::keys::{Keyring, Principal};

/// The session cookie's name.
pub const COOKIE: &str = "sr_session";

/// The header a page's scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The form field a page's forms send the CSRF token in.
pub const CSRF_FIELD: &str = "csrf";

/// Sessions open at most at once; the soonest to expire goes first.
const MAX_SESSIONS: usize = 10_000;

/// The open sessions of one process.
#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    open: Mutex<HashMap<[u8; 32], Stored>>,
}

#[derive(Debug)]
struct Stored {
    key: String,
    csrf: String,
    expires: Instant,
}

/// A session just opened: the cookie's token and the page's CSRF token.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The cookie's value.
    pub token: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Who signed in.
    pub principal: Principal,
}

/// The CSRF token of the session a request came with: the gate puts it in
/// the request's extensions, for the page to hand to its scripts.
#[derive(Debug, Clone)]
pub struct SessionCsrf(pub String);

/// The session a request's cookie names.
#[derive(Debug, Clone)]
pub struct Session {
    /// Its key's id and roles, as the keyring says now.
    pub principal: Principal,
    /// Its CSRF token.
    pub csrf: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// Sessions lasting `ttl` from sign-in.
    pub fn new(ttl: Duration) -> Self {
        Sessions {
            ttl,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Stored>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session for `key` when `ring` knows it; `None` for an
    /// unknown key.
    pub fn open(&self, ring: &Keyring, key: &str) -> Option<Opened> {
        let principal = ring.authenticate(key)?;
        let token = random_token();
        let csrf = random_token();
        let now = Instant::now();
        let mut open = self.lock();
        open.retain(|_, s| s.expires > now);
        if open.len() >= MAX_SESSIONS
            && let Some(oldest) = open.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            open.remove(&oldest);
        }
        open.insert(
            digest(&token),
            Stored {
                key: key.to_owned(),
                csrf: csrf.clone(),
                expires: now + self.ttl,
            },
        );
        Some(Opened {
            token,
            csrf,
            principal,
        })
    }

    /// The live session of cookie value `token`: not expired, and its key
    /// still in `ring` (an expired one, or one whose key is gone, is
    /// dropped).
    pub fn find(&self, ring: &Keyring, token: &str) -> Option<Session> {
        let id = digest(token);
        let mut open = self.lock();
        let stored = open.get(&id)?;
        let principal = (stored.expires > Instant::now())
            .then(|| ring.authenticate(&stored.key))
            .flatten();
        match principal {
            Some(principal) => Some(Session {
                principal,
                csrf: stored.csrf.clone(),
            }),
            None => {
                open.remove(&id);
                None
            }
        }
    }

    /// Ends the session of cookie value `token`; whether there was one.
    pub fn close(&self, token: &str) -> bool {
        self.lock().remove(&digest(token)).is_some()
    }

    /// How many sessions are open (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `Set-Cookie` value that gives the browser `token`; `secure`
    /// (the browser came over TLS) adds `Secure`.
    pub fn set_cookie(&self, token: &str, secure: bool) -> HeaderValue {
        let v = format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            self.ttl.as_secs(),
            if secure { "; Secure" } else { "" }
        );
        HeaderValue::from_str(&v).unwrap_or_else(|_| clear_cookie())
    }
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("sr_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session cookie's value in a request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Whether `presented` is the session's CSRF token (in constant time).
pub fn csrf_matches(session: &Session, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(session.csrf.as_bytes())))
}

/// Whether a browser says the request comes from another site: its
/// `Sec-Fetch-Site` is `cross-site`, or its `Origin` is not this host.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site == Some("cross-site") {
        return true;
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    origin_host != Some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Keyring, Role, generate};

    fn ring_with(keys: &[&crate::keys::NewKey]) -> Keyring {
        let entries: Vec<_> = keys.iter().map(|k| k.entry.clone()).collect();
        Keyring::new(&entries).expect("ring")
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_lasts_its_ttl_and_follows_its_key() {
        let analyst = generate("ana", &[Role::Analyst]).expect("key");
        let other = generate("other", &[Role::App]).expect("key");
        let ring = ring_with(&[&analyst, &other]);
        let sessions = Sessions::new(Duration::from_secs(3600));
        assert!(sessions.open(&ring, "sr_wrong").is_none());
        let s = sessions.open(&ring, &analyst.key).expect("opened");
        assert_eq!(&*s.principal.id, "ana");
        assert_ne!(s.token, s.csrf);
        let found = sessions.find(&ring, &s.token).expect("found");
        assert!(found.principal.roles.contains(Role::Analyst));
        assert!(csrf_matches(&found, Some(&s.csrf)));
        assert!(!csrf_matches(&found, Some(&s.token)));
        assert!(!csrf_matches(&found, None));
        assert!(sessions.find(&ring, "not-a-session").is_none());

        tokio::time::advance(Duration::from_secs(3599)).await;
        assert!(sessions.find(&ring, &s.token).is_some(), "before its ttl");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(sessions.find(&ring, &s.token).is_none(), "after its ttl");
        assert!(sessions.is_empty(), "an expired session is dropped");

        // the key rotated away: its session ends with it
        let s = sessions.open(&ring, &analyst.key).expect("opened");
        let rotated = ring_with(&[&other]);
        assert!(sessions.find(&rotated, &s.token).is_none());
        assert!(sessions.find(&ring, &s.token).is_none(), "and stays ended");

        // sign-out
        let s = sessions.open(&ring, &analyst.key).expect("opened");
        assert!(sessions.close(&s.token));
        assert!(!sessions.close(&s.token));
        assert!(sessions.find(&ring, &s.token).is_none());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_found_among_others() {
        let sessions = Sessions::new(Duration::from_secs(28_800));
        let c = sessions.set_cookie("abc", false);
        assert_eq!(
            c,
            "sr_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800"
        );
        assert!(
            sessions
                .set_cookie("abc", true)
                .to_str()
                .expect("ascii")
                .ends_with("; Secure")
        );
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; sr_sessionx=2"),
        );
        assert_eq!(cookie(&h), None);
        h.append(
            header::COOKIE,
            HeaderValue::from_static("b=3;  sr_session=tok"),
        );
        assert_eq!(cookie(&h), Some("tok"));
    }

    #[test]
    fn cross_site_requests_are_told_apart() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        assert!(!cross_site(&h(&[("host", "127.0.0.1:8080")])));
        assert!(!cross_site(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(cross_site(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
        ])));
        assert!(cross_site(&h(&[
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site"),
        ])));
        assert!(cross_site(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
        ])));
    }
}
