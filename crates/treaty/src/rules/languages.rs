//! Art. 4.2: which documents of each payload are "requests, supporting documents and later
//! communications" between the competent authorities, and so drawn up in the author's
//! state language with a translation (or in the languages the two authorities agreed).
//!
//! One list, read by the rule ([`super::request::check_languages`], for a request and
//! for every event inside a case) and by the fold that keeps a case's documents.
//! Documents of Article 8 disputes (between the Parties, not their authorities), of cost
//! arrangements and of other forms of cooperation are not communications about a request
//! and are not listed.

use crate::model::DocumentRef;
use crate::payload::Payload;

/// The Art. 4.2 documents `payload` carries (a request: its element documents and its
/// document list).
pub fn of(payload: &Payload) -> Vec<&DocumentRef> {
    match payload {
        Payload::Request(r) => {
            let e = &r.elements;
            [
                &e.grounds,
                &e.case_description,
                &e.content,
                &e.decision_copy,
                &e.legal_provision,
            ]
            .into_iter()
            .flatten()
            .chain(r.documents.iter())
            .collect()
        }
        Payload::OralRequestConfirmed { documents }
        | Payload::AdditionalInfoRequested { documents }
        | Payload::InformationTransferred { documents, .. }
        | Payload::ConsentGranted { documents, .. } => documents.iter().collect(),
        Payload::AdditionalInfoProvided { information } => information.documents.iter().collect(),
        Payload::Refused { reasons, .. } => reasons.iter().collect(),
        Payload::ExecutionReported {
            reasons, results, ..
        } => reasons
            .iter()
            .chain(results.iter().flat_map(|i| i.documents.iter()))
            .collect(),
        _ => Vec::new(),
    }
}
