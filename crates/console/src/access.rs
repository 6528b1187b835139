//! Who may see the console on a node (`serve`, `follow`): a person proves they hold the
//! key the ledger registers for their id by signing a one-time challenge in the browser
//! (WebCrypto Ed25519: the key file is read by the page and never leaves it); the node
//! checks the signature strictly against the id's current key, and answers with a
//! short-lived session cookie (HttpOnly, SameSite=Strict). The read roles are the API's
//! (docs/API.md): roots and auditors see everything; a competent authority its own cases;
//! a witness the ledger, the registry and the checkpoints.
//!
//! The signed message (docs/API.md, "Console login"):
//! `coopledger console login\n{host}\n{registered id}\n{challenge}\n`, where host is the
//! `Host` the browser used (one of the node's names), so a signature made for one node
//! cannot be replayed to another, and the challenge is single-use.

use coop_core::{AuthorityId, PublicKey, Signature};
use coop_treaty::Role;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a challenge may be answered.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);
/// How long a session lasts (not extended by use).
pub const SESSION_TTL: Duration = Duration::from_secs(15 * 60);
/// Most challenges or sessions held at once (a flood cannot grow memory without bound):
/// beyond this the oldest is dropped for the new one, never a new one refused, so a flood
/// cannot lock everyone out for a challenge's or a session's lifetime.
pub const MAX_OPEN: usize = 10_000;
/// Most outstanding challenges of one client (its address): its next one drops its oldest,
/// so one client reloading the sign-in page cannot crowd out the others.
pub const CHALLENGES_PER_CLIENT: usize = 32;
/// Most live sessions of one identity: a new sign-in ends its oldest, so one key signing
/// in again and again cannot crowd out the others.
pub const SESSIONS_PER_IDENTITY: usize = 8;

/// A signed-in person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Who {
    /// Their registered id.
    pub id: AuthorityId,
    /// Their role.
    pub role: Role,
}

impl Who {
    /// The id whose cases alone this person may see (`None`: every case).
    pub fn viewer(&self) -> Option<&AuthorityId> {
        coop_ledger::read::viewer_of(self.role, &self.id)
    }

    /// Whether this person may read cases (roots, auditors, competent authorities).
    pub fn reads_cases(&self) -> bool {
        self.role != Role::Witness
    }

    /// Whether this person may read the Article 7 register (roots and auditors).
    pub fn reads_register(&self) -> bool {
        matches!(self.role, Role::Root | Role::Auditor)
    }
}

struct Session {
    who: Who,
    key: PublicKey,
    until: Instant,
}

struct Challenge {
    until: Instant,
    client: String,
}

/// The sign-in tables as `/metrics` shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessStats {
    /// Challenges outstanding.
    pub challenges: usize,
    /// Sessions live.
    pub sessions: usize,
    /// Challenges dropped for newer ones (a client's, or the oldest when full).
    pub challenges_dropped: u64,
    /// Sessions ended for newer ones (an identity's, or the oldest when full).
    pub sessions_dropped: u64,
}

/// Why a login was refused. Nothing is kept from a refused attempt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The challenge was never issued, was used already, or expired: reload the login
    /// page and sign again.
    #[error("the challenge is unknown, used or expired: reload the page and sign again")]
    Challenge,
    /// The page was signed for another host name.
    #[error("the login was signed for another address")]
    Host,
    /// No such registered id, or it has no current key (retired, revoked).
    #[error("{0} is not registered with a current key in this ledger")]
    Unknown(String),
    /// The signature does not verify under the id's current key: wrong key file.
    #[error("the signature does not verify under the key registered for {0}")]
    Signature(String),
    /// Too many open logins: try again in a few minutes.
    #[error("too many logins are open; try again in a few minutes")]
    Busy,
}

/// The node's sessions and outstanding challenges.
pub struct Access {
    challenges: Mutex<HashMap<String, Challenge>>,
    sessions: Mutex<HashMap<String, Session>>,
    dropped: Mutex<(u64, u64)>,
    /// The names clients reach the node by (empty: any).
    hosts: Vec<String>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

fn random_hex() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(hex::encode(b))
}

/// Removes the entry of `map` that `mine` selects and ends soonest (the oldest: every
/// entry lives as long); 1 if one was removed.
fn drop_oldest<T>(
    map: &mut HashMap<String, T>,
    mine: impl Fn(&T) -> bool,
    until: impl Fn(&T) -> Instant,
) -> u64 {
    let oldest = map
        .iter()
        .filter(|(_, v)| mine(v))
        .min_by_key(|(_, v)| until(v))
        .map(|(k, _)| k.clone());
    match oldest {
        Some(k) => {
            map.remove(&k);
            1
        }
        None => 0,
    }
}

/// The message a browser signs to log in.
pub fn login_message(host: &str, id: &str, challenge: &str) -> String {
    format!("coopledger console login\n{host}\n{id}\n{challenge}\n")
}

impl Access {
    /// Sessions for a node reached by `hosts` (empty: any name).
    pub fn new(hosts: Vec<String>) -> Access {
        Access {
            challenges: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            dropped: Mutex::new((0, 0)),
            hosts: hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// A fresh single-use challenge for `client` (the address it came from): the
    /// client's oldest is dropped beyond [`CHALLENGES_PER_CLIENT`], the oldest of all
    /// beyond [`MAX_OPEN`].
    pub fn challenge(&self, client: &str) -> Result<String, LoginError> {
        let now = Instant::now();
        let mut open = self.challenges.lock().map_err(|_| LoginError::Busy)?;
        open.retain(|_, c| c.until > now);
        let mut dropped = 0;
        let mine = open.values().filter(|c| c.client == client).count();
        if mine >= CHALLENGES_PER_CLIENT {
            dropped += drop_oldest(&mut open, |c| c.client == client, |c| c.until);
        }
        if open.len() >= MAX_OPEN {
            dropped += drop_oldest(&mut open, |_| true, |c| c.until);
        }
        let c = random_hex().ok_or(LoginError::Busy)?;
        open.insert(
            c.clone(),
            Challenge {
                until: now + CHALLENGE_TTL,
                client: client.to_owned(),
            },
        );
        drop(open);
        if let Ok(mut d) = self.dropped.lock() {
            d.0 += dropped;
        }
        Ok(c)
    }

    /// The tables' sizes and what was dropped from them.
    pub fn stats(&self) -> AccessStats {
        let (challenges_dropped, sessions_dropped) =
            self.dropped.lock().map(|d| *d).unwrap_or_default();
        AccessStats {
            challenges: self.challenges.lock().map(|c| c.len()).unwrap_or(0),
            sessions: self.sessions.lock().map(|s| s.len()).unwrap_or(0),
            challenges_dropped,
            sessions_dropped,
        }
    }

    /// Checks a signed challenge; on success returns the new session's token. `lookup`
    /// gives the id's role and current key from the ledger. The challenge is spent
    /// whatever the outcome.
    pub fn login(
        &self,
        host: &str,
        id: &str,
        challenge: &str,
        signature: &[u8],
        lookup: impl FnOnce(&AuthorityId) -> Option<(Role, PublicKey)>,
    ) -> Result<(String, Who), LoginError> {
        let now = Instant::now();
        let fresh = self
            .challenges
            .lock()
            .map_err(|_| LoginError::Busy)?
            .remove(challenge)
            .is_some_and(|c| c.until > now);
        if !fresh {
            return Err(LoginError::Challenge);
        }
        let host = host.to_ascii_lowercase();
        if !self.hosts.is_empty() && !self.hosts.contains(&host) {
            return Err(LoginError::Host);
        }
        let aid = AuthorityId::new(id).map_err(|_| LoginError::Unknown(id.to_owned()))?;
        let (role, key) = lookup(&aid).ok_or_else(|| LoginError::Unknown(id.to_owned()))?;
        let sig: [u8; 64] = signature
            .try_into()
            .map_err(|_| LoginError::Signature(id.to_owned()))?;
        key.verify(
            login_message(&host, id, challenge).as_bytes(),
            &Signature(sig),
        )
        .map_err(|_| LoginError::Signature(id.to_owned()))?;
        let who = Who { id: aid, role };
        let token = random_hex().ok_or(LoginError::Busy)?;
        let mut sessions = self.sessions.lock().map_err(|_| LoginError::Busy)?;
        sessions.retain(|_, s| s.until > now);
        let mut dropped = 0;
        let mine = sessions.values().filter(|s| s.who.id == who.id).count();
        if mine >= SESSIONS_PER_IDENTITY {
            dropped += drop_oldest(&mut sessions, |s| s.who.id == who.id, |s| s.until);
        }
        if sessions.len() >= MAX_OPEN {
            dropped += drop_oldest(&mut sessions, |_| true, |s| s.until);
        }
        if let Ok(mut d) = self.dropped.lock() {
            d.1 += dropped;
        }
        sessions.insert(
            token.clone(),
            Session {
                who: who.clone(),
                key,
                until: now + SESSION_TTL,
            },
        );
        Ok((token, who))
    }

    /// The person a session token belongs to, if it is live and `current` still holds
    /// (their key is still the one the ledger registers: a revoked, changed or retired
    /// key ends the session at once).
    pub fn session(
        &self,
        token: &str,
        current: impl FnOnce(&AuthorityId) -> Option<PublicKey>,
    ) -> Option<Who> {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().ok()?;
        let s = sessions.get(token)?;
        if s.until <= now || current(&s.who.id) != Some(s.key) {
            sessions.remove(token);
            return None;
        }
        Some(s.who.clone())
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coop_core::SecretKey;

    fn key() -> SecretKey {
        SecretKey::from_seed(&[7; 32])
    }

    fn lookup(k: PublicKey) -> impl FnOnce(&AuthorityId) -> Option<(Role, PublicKey)> {
        move |id| (id.as_str() == "KZ-AUDIT").then_some((Role::Auditor, k))
    }

    #[test]
    fn a_signed_challenge_opens_one_session_once() {
        let a = Access::new(vec!["127.0.0.1:8080".into()]);
        let c = a.challenge("127.0.0.1").unwrap();
        let sig = key().sign(login_message("127.0.0.1:8080", "KZ-AUDIT", &c).as_bytes());
        let (token, who) = a
            .login(
                "127.0.0.1:8080",
                "KZ-AUDIT",
                &c,
                &sig.0,
                lookup(key().public()),
            )
            .unwrap();
        assert_eq!(who.role, Role::Auditor);
        assert_eq!(a.session(&token, |_| Some(key().public())), Some(who));
        // The challenge is spent: the same signature does not log in twice.
        assert_eq!(
            a.login(
                "127.0.0.1:8080",
                "KZ-AUDIT",
                &c,
                &sig.0,
                lookup(key().public())
            ),
            Err(LoginError::Challenge)
        );
        // A key changed in the ledger ends the session.
        let other = SecretKey::from_seed(&[8; 32]).public();
        assert_eq!(a.session(&token, |_| Some(other)), None);
        assert_eq!(a.session(&token, |_| Some(key().public())), None);
    }

    #[test]
    fn wrong_key_other_host_unknown_id_and_forged_challenges_are_refused() {
        let a = Access::new(vec!["127.0.0.1:8080".into()]);
        let wrong = SecretKey::from_seed(&[9; 32]);
        let c = a.challenge("127.0.0.1").unwrap();
        let sig = wrong.sign(login_message("127.0.0.1:8080", "KZ-AUDIT", &c).as_bytes());
        assert_eq!(
            a.login(
                "127.0.0.1:8080",
                "KZ-AUDIT",
                &c,
                &sig.0,
                lookup(key().public())
            ),
            Err(LoginError::Signature("KZ-AUDIT".into()))
        );
        let c = a.challenge("127.0.0.1").unwrap();
        let sig = key().sign(login_message("evil.example:80", "KZ-AUDIT", &c).as_bytes());
        assert_eq!(
            a.login(
                "evil.example:80",
                "KZ-AUDIT",
                &c,
                &sig.0,
                lookup(key().public())
            ),
            Err(LoginError::Host)
        );
        let c = a.challenge("127.0.0.1").unwrap();
        let sig = key().sign(login_message("127.0.0.1:8080", "TM-NOBODY", &c).as_bytes());
        assert_eq!(
            a.login(
                "127.0.0.1:8080",
                "TM-NOBODY",
                &c,
                &sig.0,
                lookup(key().public())
            ),
            Err(LoginError::Unknown("TM-NOBODY".into()))
        );
        let made_up = "00".repeat(32);
        let sig = key().sign(login_message("127.0.0.1:8080", "KZ-AUDIT", &made_up).as_bytes());
        assert_eq!(
            a.login(
                "127.0.0.1:8080",
                "KZ-AUDIT",
                &made_up,
                &sig.0,
                lookup(key().public())
            ),
            Err(LoginError::Challenge)
        );
        assert_eq!(a.session("not-a-token", |_| Some(key().public())), None);
    }

    /// Issue 26, finding 2: 10,001 sign-in pages from one client filled the challenge
    /// table and every sign-in failed for five minutes; one witness signing in 10,001
    /// times filled the sessions and locked everyone else out for fifteen. Now each client
    /// and each identity has its own small share, and a full table drops its oldest.
    #[test]
    fn a_flood_of_sign_ins_from_one_client_or_one_key_locks_nobody_else_out() {
        let a = Access::new(vec!["127.0.0.1:8080".into()]);
        for _ in 0..MAX_OPEN + 1 {
            a.challenge("203.0.113.9").unwrap();
        }
        assert!(a.stats().challenges <= CHALLENGES_PER_CLIENT);
        let sign_in = |a: &Access, client: &str, id: &str, k: &SecretKey| {
            let c = a.challenge(client).unwrap();
            let sig = k.sign(login_message("127.0.0.1:8080", id, &c).as_bytes());
            let public = k.public();
            a.login("127.0.0.1:8080", id, &c, &sig.0, move |aid| {
                (aid.as_str() == id).then_some((Role::Auditor, public))
            })
        };
        // Someone else signs in.
        let (token, _) = sign_in(&a, "198.51.100.7", "KZ-AUDIT", &key()).unwrap();
        assert!(a.session(&token, |_| Some(key().public())).is_some());
        // One key signing in again and again keeps a few sessions; the others stay.
        let witness = SecretKey::from_seed(&[11; 32]);
        let mut last = String::new();
        for _ in 0..MAX_OPEN + 1 {
            last = sign_in(&a, "203.0.113.9", "TM-WITNESS", &witness)
                .unwrap()
                .0;
        }
        assert!(a.stats().sessions <= SESSIONS_PER_IDENTITY + 1);
        assert!(a.session(&last, |_| Some(witness.public())).is_some());
        assert!(
            a.session(&token, |_| Some(key().public())).is_some(),
            "another person's session survived the flood"
        );
        let s = a.stats();
        assert!(s.challenges_dropped > 0 && s.sessions_dropped > 0, "{s:?}");
    }
}
