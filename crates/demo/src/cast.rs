//! The demo's cast: who is registered, with which key.

use crate::scenario::Actor;
use coop_core::SecretKey;
use coop_treaty::Party;

/// Everyone the demo registers.
#[derive(Debug)]
pub struct Cast {
    /// Kazakhstan's root (diplomatic channel).
    pub kz_root: Actor,
    /// Turkmenistan's root.
    pub tm_root: Actor,
    /// Kazakhstan's competent authorities: KZ-MVD, KZ-KNB, KZ-AFM.
    pub kz: [Actor; 3],
    /// Turkmenistan's: TM-MVD, TM-MNS, TM-GPO.
    pub tm: [Actor; 3],
    /// An auditor (Kazakhstan's).
    pub auditor: Actor,
    /// Each Party's witness.
    pub kz_witness: Actor,
    /// Turkmenistan's witness.
    pub tm_witness: Actor,
}

impl Cast {
    /// The cast, each with a key from `new_key`.
    pub fn new(mut new_key: impl FnMut() -> SecretKey) -> anyhow::Result<Cast> {
        let mut a = |id: &str, party, name| Actor::new(id, party, name, new_key());
        Ok(Cast {
            kz_root: a(
                "KZ-MFA",
                Party::Kz,
                "Ministry of Foreign Affairs of Kazakhstan",
            )?,
            tm_root: a(
                "TM-MFA",
                Party::Tm,
                "Ministry of Foreign Affairs of Turkmenistan",
            )?,
            kz: [
                a(
                    "KZ-MVD",
                    Party::Kz,
                    "Ministry of Internal Affairs of Kazakhstan",
                )?,
                a(
                    "KZ-KNB",
                    Party::Kz,
                    "National Security Committee of Kazakhstan",
                )?,
                a(
                    "KZ-AFM",
                    Party::Kz,
                    "Agency for Financial Monitoring of Kazakhstan",
                )?,
            ],
            tm: [
                a(
                    "TM-MVD",
                    Party::Tm,
                    "Ministry of Internal Affairs of Turkmenistan",
                )?,
                a(
                    "TM-MNS",
                    Party::Tm,
                    "Ministry of National Security of Turkmenistan",
                )?,
                a(
                    "TM-GPO",
                    Party::Tm,
                    "Prosecutor General's Office of Turkmenistan",
                )?,
            ],
            auditor: a(
                "KZ-AUDIT",
                Party::Kz,
                "Accounts Committee auditor (Kazakhstan)",
            )?,
            kz_witness: a("KZ-WITNESS", Party::Kz, "Kazakhstan's witness node")?,
            tm_witness: a("TM-WITNESS", Party::Tm, "Turkmenistan's witness node")?,
        })
    }

    /// Everyone, roots first.
    pub fn all(&self) -> impl Iterator<Item = &Actor> {
        [
            &self.kz_root,
            &self.tm_root,
            &self.auditor,
            &self.kz_witness,
            &self.tm_witness,
        ]
        .into_iter()
        .chain(self.kz.iter())
        .chain(self.tm.iter())
    }
}
