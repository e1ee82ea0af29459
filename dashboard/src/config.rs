//! `[http]` of the configuration: where the HTTP roles listen, the keys
//! (ids, roles, hashes — never a key), the rate limits of each role, the
//! origins browsers may call from.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use showrunner_web::keys::{KeyEntry, Keyring, dev_entries};
use showrunner_web::limit::RateLimits;

/// `[http]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address the server listens on.
    pub bind: String,
    /// The keys (`[[http.keys]]`: `id`, `roles`, `hash`; `showrunner keys
    /// new` makes one). Default: the development keys, loopback only.
    pub keys: Vec<KeyEntry>,
    /// Calls per second and burst of each role, per key.
    pub rate_limits: RateLimits,
    /// Origins whose pages may post events to the collector from a
    /// browser (CORS), e.g. `https://watch.example.com`; empty: none.
    pub cors_origins: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            keys: dev_entries(),
            rate_limits: RateLimits::default(),
            cors_origins: Vec::new(),
        }
    }
}

impl HttpConfig {
    /// Checks the fields; the error names the one that is wrong.
    pub fn validate(&self) -> Result<(), String> {
        self.bind.parse::<SocketAddr>().map_err(|_| {
            format!(
                "config field `http.bind` must be an address like 127.0.0.1:8080, got `{}`",
                self.bind
            )
        })?;
        self.keyring()?;
        self.rate_limits.validate()?;
        if let Some(bad) = self
            .cors_origins
            .iter()
            .find(|o| !showrunner_web::cors::is_origin(o))
        {
            return Err(format!(
                "config field `http.cors_origins`: `{bad}` is not an origin (scheme://host[:port], no path)"
            ));
        }
        Ok(())
    }

    /// The keys, checked (the error names the entry).
    pub fn keyring(&self) -> Result<Keyring, String> {
        Keyring::new(&self.keys).map_err(|e| format!("config field `http.keys`: {e}"))
    }
}
