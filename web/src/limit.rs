//! Rate limits: a token bucket per key and role. A key calling a route of
//! role R spends one token of its R bucket; the bucket holds at most
//! `burst` tokens and refills at `per_second`. An empty bucket answers how
//! long until the next token ([`Limiter::take`]), which the gate sends as
//! `Retry-After`.
//!
//! Buckets live in memory, per process: behind a load balancer each
//! replica limits on its own (the configured rate is per replica).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::keys::Role;

/// One role's limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Most tokens held: how many calls may come at once.
    pub burst: u32,
}

impl Rate {
    /// `per_second`, `burst`.
    pub const fn new(per_second: f64, burst: u32) -> Self {
        Rate { per_second, burst }
    }
}

/// `[http.rate_limits]`: the limit of each role, per key. A role's table
/// may give one of its two fields; the other keeps that role's default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "RateLimitsFile")]
pub struct RateLimits {
    /// `POST /v1/events` (a player batches its events).
    pub ingest: Rate,
    /// Apps' reads.
    pub app: Rate,
    /// Analysts' queries.
    pub analyst: Rate,
    /// Marketing.
    pub marketing: Rate,
    /// Administration.
    pub admin: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            ingest: Rate::new(500.0, 1_000),
            app: Rate::new(1_000.0, 2_000),
            analyst: Rate::new(20.0, 40),
            marketing: Rate::new(20.0, 40),
            admin: Rate::new(2.0, 10),
        }
    }
}

/// `[http.rate_limits]` as written: each field may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RateLimitsFile {
    ingest: PartialRate,
    app: PartialRate,
    analyst: PartialRate,
    marketing: PartialRate,
    admin: PartialRate,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialRate {
    per_second: Option<f64>,
    burst: Option<u32>,
}

impl PartialRate {
    fn or(&self, default: Rate) -> Rate {
        Rate {
            per_second: self.per_second.unwrap_or(default.per_second),
            burst: self.burst.unwrap_or(default.burst),
        }
    }
}

impl From<RateLimitsFile> for RateLimits {
    fn from(f: RateLimitsFile) -> Self {
        let d = RateLimits::default();
        RateLimits {
            ingest: f.ingest.or(d.ingest),
            app: f.app.or(d.app),
            analyst: f.analyst.or(d.analyst),
            marketing: f.marketing.or(d.marketing),
            admin: f.admin.or(d.admin),
        }
    }
}

impl RateLimits {
    /// The same limit for every role.
    pub fn all(rate: Rate) -> Self {
        RateLimits {
            ingest: rate,
            app: rate,
            analyst: rate,
            marketing: rate,
            admin: rate,
        }
    }

    /// `role`'s limit.
    pub fn of(&self, role: Role) -> Rate {
        match role {
            Role::Ingest => self.ingest,
            Role::App => self.app,
            Role::Analyst => self.analyst,
            Role::Marketing => self.marketing,
            Role::Admin => self.admin,
        }
    }

    /// Checks every limit; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        for role in Role::ALL {
            let r = self.of(role);
            if !(r.per_second.is_finite() && r.per_second > 0.0) || r.burst == 0 {
                return Err(format!(
                    "config field `http.rate_limits.{role}` needs per_second > 0 and burst ≥ 1"
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every key.
#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(Arc<str>, Role), Bucket>>,
}

impl Limiter {
    /// Buckets refilling at `limits`.
    pub fn new(limits: RateLimits) -> Self {
        Limiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Spends a token of `key`'s `role` bucket, or says how long until
    /// there is one.
    pub fn take(&self, key: &Arc<str>, role: Role) -> Result<(), Duration> {
        let rate = self.limits.of(role);
        let now = Instant::now();
        let mut buckets = match self.buckets.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let b = buckets.entry((key.clone(), role)).or_insert(Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate.per_second).min(f64::from(rate.burst));
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            // a very small rate would overflow a Duration: wait "forever"
            Err(
                Duration::try_from_secs_f64((1.0 - b.tokens) / rate.per_second)
                    .unwrap_or(Duration::MAX),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_one_token_per_interval() {
        let l = Limiter::new(RateLimits::all(Rate::new(2.0, 3)));
        let k: Arc<str> = "k".into();
        for _ in 0..3 {
            assert_eq!(l.take(&k, Role::App), Ok(()));
        }
        let wait = l.take(&k, Role::App).expect_err("empty");
        assert_eq!(wait, Duration::from_millis(500));
        // another role's bucket, and another key's, are full
        assert_eq!(l.take(&k, Role::Analyst), Ok(()));
        assert_eq!(l.take(&"other".into(), Role::App), Ok(()));
        tokio::time::advance(Duration::from_millis(499)).await;
        assert!(l.take(&k, Role::App).is_err());
        tokio::time::advance(Duration::from_millis(2)).await;
        assert_eq!(l.take(&k, Role::App), Ok(()));
        assert!(l.take(&k, Role::App).is_err());
        // a long pause refills to the burst, not beyond
        tokio::time::advance(Duration::from_secs(60)).await;
        for _ in 0..3 {
            assert_eq!(l.take(&k, Role::App), Ok(()));
        }
        assert!(l.take(&k, Role::App).is_err());
    }

    #[test]
    fn a_role_table_may_give_one_field() {
        let l: RateLimits =
            serde_json::from_str(r#"{"analyst": {"per_second": 2.5}, "app": {"burst": 7}}"#)
                .expect("partial");
        let d = RateLimits::default();
        assert_eq!(l.analyst, Rate::new(2.5, d.analyst.burst));
        assert_eq!(l.app, Rate::new(d.app.per_second, 7));
        assert_eq!(l.admin, d.admin);
        assert!(serde_json::from_str::<RateLimits>(r#"{"cook": {}}"#).is_err());
        assert!(serde_json::from_str::<RateLimits>(r#"{"app": {"rate": 1}}"#).is_err());
    }

    #[test]
    fn limits_are_validated_by_field() {
        let mut l = RateLimits::default();
        assert!(l.validate().is_ok());
        l.analyst.burst = 0;
        assert!(
            l.validate()
                .expect_err("bad")
                .contains("http.rate_limits.analyst")
        );
        let mut l = RateLimits::default();
        l.admin.per_second = f64::NAN;
        assert!(l.validate().expect_err("bad").contains("admin"));
    }
}
