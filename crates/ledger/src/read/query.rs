//! Parsing what a reader asks: as-of points, case ids, and the case query (unknown keys and words refused).

use super::*;

/// A question the caller asked badly: a word, a key or a number the views do not know.
/// Fix the request (HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A filter value that is not one of the known words.
    #[error(transparent)]
    Word(#[from] UnknownWord),
    /// A parameter the view does not take.
    #[error("unknown parameter {given:?}; known: {}", known.join(", "))]
    Key {
        /// What was given.
        given: String,
        /// What is known.
        known: Vec<String>,
    },
    /// A malformed value.
    #[error("{0}")]
    Value(String),
}

/// Parses an as-of point: a record's seq, or an RFC 3339 time (`2026-03-01T12:00:00Z`;
/// a time without a zone is UTC).
pub fn parse_as_of(s: &str) -> Result<AsOf, QueryError> {
    let s = s.trim();
    if let Ok(seq) = s.parse::<u64>() {
        return Ok(AsOf::Seq(seq));
    }
    // A browser's datetime-local field gives minutes only ("2026-03-01T12:00").
    let padded;
    let s = if s.len() == 16 && s.as_bytes().get(10) == Some(&b'T') {
        padded = format!("{s}:00");
        padded.as_str()
    } else {
        s
    };
    let t = humantime::parse_rfc3339_weak(s).map_err(|_| {
        QueryError::Value(format!(
            "{s:?} is neither a record seq nor an RFC 3339 time"
        ))
    })?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| QueryError::Value(format!("{s:?} is before 1970")))?
        .as_millis();
    u64::try_from(ms)
        .map(|ms| AsOf::Time(Timestamp(ms)))
        .map_err(|_| QueryError::Value(format!("{s:?} is too far ahead")))
}

/// Parses a case id (32 hex digits).
pub fn parse_case(s: &str) -> Result<CaseId, QueryError> {
    CaseId::from_hex(s)
        .map_err(|_| QueryError::Value(format!("{s:?} is not a case id (32 hex digits)")))
}

/// Most cases one page may hold.
pub const MAX_PAGE: usize = 1000;
/// Cases on a page when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// Which cases, and which page of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseQuery {
    /// The treaty's filter words.
    pub filter: CaseFilter,
    /// Only cases this authority requested or was asked in.
    pub authority: Option<AuthorityId>,
    /// Only cases whose id, authorities, category or purposes contain this text
    /// (case-insensitive).
    pub search: Option<String>,
    /// Cases skipped.
    pub offset: usize,
    /// Page size (at most [`MAX_PAGE`]; 0 means [`DEFAULT_PAGE`]).
    pub limit: usize,
}

impl CaseQuery {
    /// The parameters [`CaseQuery::parse`] takes (besides the as-of ones, which the
    /// caller reads).
    pub const KEYS: [&'static str; 8] = [
        "status",
        "category",
        "overdue",
        "disputed",
        "authority",
        "q",
        "offset",
        "limit",
    ];

    /// From query-string pairs. An unknown key or value is an error, never ignored;
    /// `ignore` lists keys another part of the caller reads (as-of, language).
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        ignore: &[&str],
    ) -> Result<CaseQuery, QueryError> {
        let mut q = CaseQuery::default();
        for (k, v) in pairs {
            // An empty value (a form's blank field) means "any".
            if ignore.contains(&k) || (v.is_empty() && CaseQuery::KEYS.contains(&k)) {
                continue;
            }
            match k {
                "status" => q.filter.status = Some(CaseFilter::status_word(v)?),
                "category" => q.filter.category = Some(CaseFilter::category_word(v)?),
                "overdue" => q.filter.overdue = CaseFilter::flag("overdue", v)?,
                "disputed" => q.filter.disputed = CaseFilter::flag("disputed", v)?,
                "authority" => {
                    q.authority =
                        Some(AuthorityId::new(v).map_err(|e| QueryError::Value(e.to_string()))?);
                }
                "q" => q.search = Some(v.to_owned()),
                "offset" => q.offset = number("offset", v)?,
                "limit" => q.limit = page_limit(v)?,
                _ => {
                    return Err(QueryError::Key {
                        given: k.to_owned(),
                        known: CaseQuery::KEYS
                            .iter()
                            .chain(ignore)
                            .map(|k| k.to_string())
                            .collect(),
                    });
                }
            }
        }
        Ok(q)
    }

    pub(super) fn matches(&self, c: &Case, now: Timestamp) -> bool {
        self.filter.matches(c, now)
            && self
                .authority
                .as_ref()
                .is_none_or(|a| &c.requester == a || &c.requested == a)
            && self.search.as_deref().is_none_or(|s| {
                let s = s.to_lowercase();
                c.id.to_hex().contains(&s)
                    || c.requester.as_str().to_lowercase().contains(&s)
                    || c.requested.as_str().to_lowercase().contains(&s)
                    || category_word(&c.category).contains(&s)
                    || c.purposes.iter().any(|p| p.0.to_lowercase().contains(&s))
            })
    }
}

/// A page's `limit`: 1 to [`MAX_PAGE`] (0 is refused, not read as "the default").
pub(super) fn page_limit(v: &str) -> Result<usize, QueryError> {
    let n = number("limit", v)?;
    if n == 0 || n > MAX_PAGE {
        return Err(QueryError::Value(format!(
            "limit {n} is not from 1 to {MAX_PAGE}"
        )));
    }
    Ok(n)
}

pub(super) fn number(what: &str, v: &str) -> Result<usize, QueryError> {
    v.parse()
        .map_err(|_| QueryError::Value(format!("{what} {v:?} is not a number")))
}

/// Who is reading, for what a competent authority may see (its own cases); `None`: a
/// reader who sees every case (an auditor, a Party's root, the console over a copy).
pub type Viewer<'a> = Option<&'a AuthorityId>;
