//! The roles a process can take.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// One role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// `POST /v1/events` into the stream.
    Collector,
    /// The analysts' and apps' HTTP APIs (metrics, SQL, recommendations).
    Api,
    /// The stream into the Parquet lake, exactly once.
    Ingest,
    /// The stream into ClickHouse.
    ClickhouseSink,
    /// The metric tables under `<lake>/metrics/`, on a timer.
    Materializer,
    /// The recommender's model, retrained on a timer.
    Trainer,
    /// Closed partitions compacted, on a timer.
    Compactor,
}

impl Role {
    /// Every role.
    pub const ALL: &'static [Role] = &[
        Role::Collector,
        Role::Api,
        Role::Ingest,
        Role::ClickhouseSink,
        Role::Materializer,
        Role::Trainer,
        Role::Compactor,
    ];

    /// Its name in `--roles`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Collector => "collector",
            Role::Api => "api",
            Role::Ingest => "ingest",
            Role::ClickhouseSink => "clickhouse-sink",
            Role::Materializer => "materializer",
            Role::Trainer => "trainer",
            Role::Compactor => "compactor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role `{s}` (roles: {})", names.join(", "))
            })
    }
}

/// A set of roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    /// Every role.
    pub fn all() -> Roles {
        Roles(Role::ALL.iter().copied().collect())
    }

    /// These roles.
    pub fn of(roles: &[Role]) -> Roles {
        Roles(roles.iter().copied().collect())
    }

    /// Whether `r` is one of them.
    pub fn has(&self, r: Role) -> bool {
        self.0.contains(&r)
    }

    /// Whether a role of them serves HTTP.
    pub fn http(&self) -> bool {
        self.has(Role::Collector) || self.has(Role::Api)
    }

    /// Adds `r`.
    pub fn insert(&mut self, r: Role) {
        self.0.insert(r);
    }

    /// Without `r`.
    pub fn without(mut self, r: Role) -> Roles {
        self.0.remove(&r);
        self
    }

    /// The roles, in [`Role::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for Roles {
    type Err = String;
    /// `collector,api`, or `all`.
    fn from_str(s: &str) -> Result<Roles, String> {
        if s.trim() == "all" {
            return Ok(Roles::all());
        }
        let roles = s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(Role::from_str)
            .collect::<Result<BTreeSet<Role>, String>>()?;
        if roles.is_empty() {
            return Err("no role given".into());
        }
        Ok(Roles(roles))
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Role::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print() {
        let r: Roles = "api, collector,trainer".parse().expect("parses");
        assert_eq!(r.to_string(), "collector,api,trainer");
        assert!(r.http() && r.has(Role::Trainer) && !r.has(Role::Ingest));
        assert_eq!("all".parse::<Roles>().expect("all"), Roles::all());
        let e = "api,cook".parse::<Roles>().expect_err("unknown");
        assert!(
            e.contains("unknown role `cook`") && e.contains("clickhouse-sink"),
            "{e}"
        );
        assert!(" , ".parse::<Roles>().is_err());
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
    }
}
