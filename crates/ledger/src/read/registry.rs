//! The registry of authorities and keys, and where a document digest appears.

use super::*;

/// An authority in the registry, with the records each of its keys was valid for.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AuthorityRow {
    /// Registered id.
    #[schemars(with = "coop_wire::schema::AuthorityId")]
    pub id: AuthorityId,
    /// Its Party.
    #[schemars(with = "coop_wire::schema::Party")]
    pub party: Party,
    /// Its role.
    #[schemars(with = "coop_wire::schema::Role")]
    pub role: Role,
    /// Its name.
    pub name: String,
    /// Its keys: (key, first record, record it stopped at, if it did).
    pub keys: Vec<KeyRow>,
    /// The record that retired it.
    pub retired_at: Option<u64>,
    /// Cases it requested or was asked in.
    pub cases: usize,
}

/// One key of an authority.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct KeyRow {
    /// The key (hex).
    #[schemars(with = "coop_wire::schema::PublicKey")]
    pub key: coop_core::PublicKey,
    /// Valid from this record.
    pub from_seq: u64,
    /// Valid until (not including) this record.
    pub until_seq: Option<u64>,
}

/// The registry at `at`.
pub fn registry(at: &At) -> Vec<AuthorityRow> {
    let s = &at.state;
    let mut cases: BTreeMap<&AuthorityId, usize> = BTreeMap::new();
    for c in s.cases.values() {
        *cases.entry(&c.requester).or_insert(0) += 1;
        *cases.entry(&c.requested).or_insert(0) += 1;
    }
    s.registry
        .values()
        .map(|r| AuthorityRow {
            id: r.id.clone(),
            party: r.party,
            role: r.role,
            name: r.name.clone(),
            keys: r
                .keys
                .iter()
                .map(|k| KeyRow {
                    key: k.key,
                    from_seq: k.from_seq,
                    until_seq: k.until_seq,
                })
                .collect(),
            retired_at: r.retired_at,
            cases: cases.get(&r.id).copied().unwrap_or(0),
        })
        .collect()
}

/// A case that refers to a document, and the events of it that carry the document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DocumentHit {
    /// The case.
    #[schemars(with = "coop_wire::schema::CaseId")]
    pub case: CaseId,
    /// The document as the case records it.
    #[schemars(with = "coop_wire::schema::DocumentRef")]
    pub document: coop_treaty::DocumentRef,
    /// The case's timeline entries whose event carries this digest (Art. 4.2 documents).
    #[schemars(with = "Vec<coop_wire::schema::TimelineEntry>")]
    pub cited_by: Vec<TimelineEntry>,
}

/// Every case (that `viewer` may see) referring to a document with this blake3 digest,
/// and the events that carry it.
pub fn documents(
    source: &dyn ReadSource,
    at: &At,
    digest: &Hash,
    viewer: Viewer<'_>,
) -> Result<Vec<DocumentHit>, LedgerError> {
    // The state keeps no index of documents (ADR 0020): the search reads the records of
    // every case the viewer may see, once.
    let mut hits = Vec::new();
    for c in at.state.cases.values().filter(|c| visible(c, viewer)) {
        let mut document = None;
        let mut cited_by = Vec::new();
        for record in case_records(c, |seq| source.record(seq)) {
            let record = record?;
            let Ok(decoded) = coop_treaty::Decoded::of(&record.event) else {
                continue;
            };
            let Some(d) = coop_treaty::case_documents(&decoded.payload)
                .into_iter()
                .find(|d| &d.digest == digest)
            else {
                continue;
            };
            document.get_or_insert_with(|| d.clone());
            cited_by.push(TimelineEntry::of(&record, &decoded));
        }
        if let Some(document) = document {
            hits.push(DocumentHit {
                case: c.id,
                document,
                cited_by,
            });
        }
    }
    Ok(hits)
}
