//! `[http]` of the configuration: where the HTTP roles listen and the
//! bearer keys each surface accepts.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// `[http]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address the server listens on.
    pub bind: String,
    /// Keys accepted by `POST /v1/events` (`Authorization: Bearer <key>`).
    pub ingest_keys: Vec<String>,
    /// Keys of analysts: `/v1/metrics` and `/v1/sql` (`Authorization: Bearer <key>`).
    pub analyst_keys: Vec<String>,
    /// Keys of apps: `/v1/users/…`, `/v1/titles/…`, `/v1/models/current`
    /// (`Authorization: Bearer <key>`).
    pub app_keys: Vec<String>,
    /// Origins whose pages may post events to the collector from a
    /// browser (CORS), e.g. `https://watch.example.com`; empty: none.
    pub cors_origins: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            ingest_keys: vec!["dev-ingest-key".into()],
            analyst_keys: vec!["dev-analyst-key".into()],
            app_keys: vec!["dev-app-key".into()],
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
        for (name, keys) in [
            ("http.ingest_keys", &self.ingest_keys),
            ("http.analyst_keys", &self.analyst_keys),
            ("http.app_keys", &self.app_keys),
        ] {
            if keys.is_empty() || keys.iter().any(|k| k.len() < 8) {
                return Err(format!(
                    "config field `{name}` needs at least one key of 8 or more characters"
                ));
            }
        }
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
}
