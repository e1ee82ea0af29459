//! Profiles: each user's country, time zone, language, push opt-in and
//! maturity limit — folded from the `user` events. Each attribute is a
//! last-writer-wins register: `signed_up` sets the ones it carries,
//! `profile_updated` the ones it carries (absent fields are unchanged).

use std::collections::HashMap;

use showrunner_events::types::catalog::Maturity;
use showrunner_events::types::{Payload, UserEvent};
use showrunner_events::{Event, Family};

use crate::{Fold, Lww, Stamp, user_of};

/// One user's profile registers.
#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    signed_up: Lww<()>,
    country: Lww<String>,
    language: Lww<String>,
    time_zone: Lww<String>,
    push_opt_in: Lww<bool>,
    maturity_limit: Lww<Maturity>,
}

/// A user's profile as readers see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// When the account was created, ms (None: no `signed_up` seen).
    pub signed_up_at: Option<i64>,
    /// Country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Preferred language.
    pub language: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Accepts push notifications (false until said otherwise).
    pub push_opt_in: bool,
    /// Highest maturity rating allowed (None: no limit).
    pub maturity_limit: Option<Maturity>,
}

impl State {
    fn profile(&self) -> Profile {
        Profile {
            signed_up_at: self.signed_up.stamp().map(|s| s.at),
            country: self.country.get().cloned(),
            language: self.language.get().cloned(),
            time_zone: self.time_zone.get().cloned(),
            push_opt_in: self.push_opt_in.get().copied().unwrap_or(false),
            maturity_limit: self.maturity_limit.get().copied(),
        }
    }
}

/// Every user's profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profiles {
    users: HashMap<String, State>,
}

impl Profiles {
    /// One user's profile.
    pub fn get(&self, user: &str) -> Option<Profile> {
        self.users.get(user).map(State::profile)
    }

    /// Every profile, by user id.
    pub fn all(&self) -> HashMap<String, Profile> {
        self.users
            .iter()
            .map(|(u, s)| (u.clone(), s.profile()))
            .collect()
    }

    /// Seeds a profile known from elsewhere (fixtures, benchmarks), as if
    /// said before any event: any event about the user overrides it.
    pub fn seed(&mut self, user: &str, p: &Profile) {
        let s = Stamp::default();
        let st = self.users.entry(user.to_owned()).or_default();
        if let Some(at) = p.signed_up_at {
            st.signed_up.set(Stamp { at, ..s }, ());
        }
        if let Some(c) = &p.country {
            st.country.set(s, c.clone());
        }
        if let Some(l) = &p.language {
            st.language.set(s, l.clone());
        }
        if let Some(z) = &p.time_zone {
            st.time_zone.set(s, z.clone());
        }
        st.push_opt_in.set(s, p.push_opt_in);
        if let Some(m) = p.maturity_limit {
            st.maturity_limit.set(s, m);
        }
    }

    /// Number of users known.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user is known.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

impl Fold for Profiles {
    fn families(&self) -> &'static [Family] {
        &[Family::User]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let (Payload::User(u), Some(user)) = (&e.payload, user_of(e)) else {
            return false;
        };
        let s = Stamp::of(e);
        let p = self.users.entry(user.to_owned()).or_default();
        match u {
            UserEvent::SignedUp(x) => {
                p.signed_up.set(s, ());
                p.country.set(s, x.country.0.clone());
                if let Some(l) = &x.language {
                    p.language.set(s, l.clone());
                }
                if let Some(z) = &x.time_zone {
                    p.time_zone.set(s, z.clone());
                }
            }
            UserEvent::ProfileUpdated(x) => {
                if let Some(l) = &x.language {
                    p.language.set(s, l.clone());
                }
                if let Some(z) = &x.time_zone {
                    p.time_zone.set(s, z.clone());
                }
                if let Some(o) = x.push_opt_in {
                    p.push_opt_in.set(s, o);
                }
                if let Some(m) = x.maturity_limit {
                    p.maturity_limit.set(s, m);
                }
            }
        }
        true
    }
}
