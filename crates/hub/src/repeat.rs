//! 重复信访的全县提示 (repeat detection across the county): at registration an office asks
//! whether its petitioners, by ID number, have an open matter elsewhere in the county.
//!
//! The hub holds every identity document, so it alone can answer. It keeps, in memory, an index
//! from a hash of each ID number (keyed with a key derived from its own secret, never sent
//! anywhere) to the cases naming it, and a short summary of every case (number, office, status,
//! whether it is open and whether its identity is restricted). Both are refreshed from the hub
//! log: another hub process or a bundle import is seen as soon as it is in the log. An answer
//! reads only memory, so a match the caller may not hear of costs what no match costs: the
//! bureau is told of every open matter; a township only of matters whose identity it could be
//! shown anyway (never an informant's: 信访工作条例 §30), and nothing tells it that a hidden
//! match exists. ID numbers are few enough to guess, so every office's queries are rate-limited,
//! malformed ones included, and every query is logged.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use ledger_domain::workflow::replay;
use ledger_domain::{Case, CaseId, Role, schema};
use ledger_protocol::{
    DocKind, MAX_REPEAT_IDS, RepeatAnswer, RepeatMatter, RepeatQuery,
    normalize_id_number as normalize_id,
};

use crate::engine::{Caller, Engine};
use crate::store::{LogKind, Reader, StoreError};

/// Queries one office may make in [`WINDOW_MS`].
pub const QUERIES_PER_WINDOW: usize = 30;
/// The rate limit's window (ms): ten minutes.
pub const WINDOW_MS: i64 = 10 * 60 * 1000;
/// Log rows read per refresh step.
const REFRESH_PAGE: usize = 2_000;

/// Why a repeat query was not answered.
#[derive(Debug, thiserror::Error)]
pub enum RepeatError {
    /// The office asked too often (429).
    #[error("重复信访查询过于频繁：每个单位每10分钟最多查询{QUERIES_PER_WINDOW}次，请稍后再试")]
    TooMany,
    /// The query is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// Storage failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a caller of `role` may be told of a matter: it is open, and the bureau asks or its
/// identity is not restricted (an informant's matter is never told to a township).
pub fn tellable(open: bool, restricted: bool, role: &Role) -> bool {
    open && (*role == Role::Bureau || !restricted)
}

/// Admits one query at `now` if fewer than `limit` were admitted in the `span` before it.
pub fn admit(times: &mut VecDeque<i64>, now: i64, limit: usize, span: i64) -> bool {
    while times.front().is_some_and(|t| *t <= now - span) {
        times.pop_front();
    }
    if times.len() >= limit {
        return false;
    }
    times.push_back(now);
    true
}

/// What an answer says of a case, kept from its last change.
#[derive(Debug, Clone)]
struct Summary {
    matter: RepeatMatter,
    open: bool,
    restricted: bool,
}

impl Summary {
    fn of(case: &Case) -> Self {
        let status = replay(&case.events).status;
        Self {
            open: status.is_open(),
            restricted: case.identity_restricted(),
            matter: RepeatMatter {
                number: case.number.clone(),
                registered_by: case.registered_by.clone(),
                township: case.jurisdiction.clone(),
                status: status.code().to_owned(),
                received: case.received().map(|d| d.to_string()),
            },
        }
    }
}

/// The hub's index of petitioners by keyed hash of ID number.
#[derive(Default)]
pub struct RepeatIndex {
    /// Held only to read or apply, never across storage reads.
    index: Mutex<Index>,
    /// One refresher at a time; a query that finds one running answers from the index as is.
    refreshing: Mutex<()>,
    key: OnceLock<[u8; 32]>,
    /// When each office's recent queries were admitted.
    asked: Mutex<HashMap<String, VecDeque<i64>>>,
}

#[derive(Default)]
struct Index {
    /// The last log row applied.
    seen: u64,
    people: HashMap<[u8; 32], BTreeSet<CaseId>>,
    of_case: HashMap<CaseId, Vec<[u8; 32]>>,
    cases: HashMap<CaseId, Summary>,
}

impl Index {
    /// Replaces what the index holds for `case`'s identity with `hashes`.
    fn reindex(&mut self, case: CaseId, hashes: Vec<[u8; 32]>) {
        for old in self.of_case.remove(&case).unwrap_or_default() {
            if let Some(cases) = self.people.get_mut(&old) {
                cases.remove(&case);
                if cases.is_empty() {
                    self.people.remove(&old);
                }
            }
        }
        for h in &hashes {
            self.people.entry(*h).or_default().insert(case);
        }
        if !hashes.is_empty() {
            self.of_case.insert(case, hashes);
        }
    }
}

/// What one refresh step read, to apply under the index lock.
struct Read {
    last: u64,
    full: bool,
    identities: Vec<(CaseId, Vec<[u8; 32]>)>,
    cases: Vec<(CaseId, Option<Summary>)>,
}

fn hash(key: &[u8; 32], id: &str) -> [u8; 32] {
    *blake3::keyed_hash(key, id.as_bytes()).as_bytes()
}

impl RepeatIndex {
    fn key(&self, engine: &Engine) -> Result<[u8; 32], StoreError> {
        if let Some(key) = self.key.get() {
            return Ok(*key);
        }
        let secret = engine.store().secret()?;
        Ok(*self.key.get_or_init(|| blake3::derive_key("ledger-hub 2026 repeat index", &secret)))
    }

    /// Charges one query to the caller's office, whatever it turns out to hold: past
    /// [`QUERIES_PER_WINDOW`] in [`WINDOW_MS`] it is refused and logged.
    pub fn admit(&self, caller: &Caller, now: i64) -> Result<(), RepeatError> {
        let office = &caller.office.code;
        let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        if admit(asked.entry(office.clone()).or_default(), now, QUERIES_PER_WINDOW, WINDOW_MS) {
            return Ok(());
        }
        tracing::warn!(target: "audit", %office, device = %caller.device.id, "repeat query refused: too many");
        Err(RepeatError::TooMany)
    }

    /// Reads the hub log into the index (`ledger-hub serve` runs it once beside serving, so the
    /// first registration after a start does not wait). Returns how many cases it knows.
    pub fn warm(&self, engine: &Engine) -> Result<usize, StoreError> {
        self.refresh(engine, true)?;
        Ok(self.index.lock().unwrap_or_else(|p| p.into_inner()).cases.len())
    }

    /// Brings the index up to the hub log's head. With `wait` false, a refresh already running
    /// elsewhere is left to finish and this returns at once.
    fn refresh(&self, engine: &Engine, wait: bool) -> Result<(), StoreError> {
        let _one = if wait {
            self.refreshing.lock().unwrap_or_else(|p| p.into_inner())
        } else {
            match self.refreshing.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(()),
            }
        };
        let key = self.key(engine)?;
        loop {
            let seen = self.index.lock().unwrap_or_else(|p| p.into_inner()).seen;
            let Some(read) = read_after(engine, &key, seen)? else { return Ok(()) };
            let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            for (case, hashes) in read.identities {
                index.reindex(case, hashes);
            }
            for (case, summary) in read.cases {
                match summary {
                    Some(s) => index.cases.insert(case, s),
                    None => index.cases.remove(&case),
                };
            }
            index.seen = read.last;
            if !read.full {
                return Ok(());
            }
        }
    }

    /// Answers an admitted `query` for `caller`: the index refreshed from the hub log first
    /// (unless another refresh is running), then read from memory alone.
    pub fn answer(
        &self,
        engine: &Engine,
        caller: &Caller,
        query: &RepeatQuery,
    ) -> Result<RepeatAnswer, RepeatError> {
        if query.id_numbers.len() > MAX_REPEAT_IDS {
            return Err(RepeatError::BadRequest(format!("一次最多查询{MAX_REPEAT_IDS}个证件号码")));
        }
        let key = self.key(engine)?;
        self.refresh(engine, false)?;
        let asked: Vec<[u8; 32]> = query
            .id_numbers
            .iter()
            .filter_map(|n| normalize_id(n))
            .map(|n| hash(&key, &n))
            .collect();
        let index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let cases: BTreeSet<CaseId> =
            asked.iter().filter_map(|h| index.people.get(h)).flatten().copied().collect();
        let mut matters: Vec<RepeatMatter> = cases
            .iter()
            .filter_map(|id| index.cases.get(id))
            .filter(|s| tellable(s.open, s.restricted, &caller.office.role))
            .map(|s| s.matter.clone())
            .collect();
        drop(index);
        matters.sort_by(|a, b| b.received.cmp(&a.received).then(a.number.cmp(&b.number)));
        // The numbers themselves are never logged: how many were asked, and how many told.
        tracing::info!(target: "audit", office = %caller.office.code, device = %caller.device.id, asked = asked.len(), told = matters.len(), "repeat query");
        Ok(RepeatAnswer { matters })
    }
}

/// The log rows after `seen` and what they changed: each identity's hashes, each case's
/// summary (none when it is gone or does not read). `None` when nothing is new.
fn read_after(engine: &Engine, key: &[u8; 32], seen: u64) -> Result<Option<Read>, StoreError> {
    let everything = Reader { office: "", device: "", bureau: true, townships: &[] };
    let rows = engine.store().log_after(seen, &everything, REFRESH_PAGE)?;
    let Some(last) = rows.last().map(|r| r.seq) else { return Ok(None) };
    let touched = |kind: DocKind| -> BTreeSet<CaseId> {
        rows.iter()
            .filter(|r| r.kind == kind && r.what == LogKind::Change)
            .map(|r| r.case_id)
            .collect()
    };
    let mut identities = Vec::new();
    for case in touched(DocKind::Identity) {
        let numbers: Vec<String> = match engine.load(case, DocKind::Identity)? {
            Some((doc, _)) => schema::read_identity(&doc)
                .map(|i| i.persons.into_iter().map(|p| p.id_number).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let hashes: BTreeSet<[u8; 32]> =
            numbers.iter().filter_map(|n| normalize_id(n)).map(|n| hash(key, &n)).collect();
        identities.push((case, hashes.into_iter().collect()));
    }
    let mut cases = Vec::new();
    for case in touched(DocKind::Case) {
        let summary = match engine.load(case, DocKind::Case) {
            Ok(Some((doc, _))) => schema::read_case(&doc).ok().map(|c| Summary::of(&c)),
            Ok(None) => None,
            // A document that does not load is left out of answers, not a failed query.
            Err(e) => {
                tracing::warn!(%case, error = %e, "repeat index: case does not load");
                None
            }
        };
        cases.push((case, summary));
    }
    Ok(Some(Read { last, full: rows.len() >= REFRESH_PAGE, identities, cases }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_compare_without_spaces_or_case_and_junk_is_never_hashed() {
        assert_eq!(normalize_id(" 110105 19491231002x "), Some("11010519491231002X".to_owned()));
        for junk in ["", "12345", "110105-19491231", &"1".repeat(33), "张三丰"] {
            assert_eq!(normalize_id(junk), None, "{junk}");
        }
    }

    #[test]
    fn an_office_is_admitted_its_queries_per_window_and_again_once_it_passes() {
        let mut times = VecDeque::new();
        for k in 0..3 {
            assert!(admit(&mut times, 1_000 + k, 3, 100));
        }
        assert!(!admit(&mut times, 1_050, 3, 100), "a fourth within the window");
        assert!(!admit(&mut times, 1_099, 3, 100));
        assert!(admit(&mut times, 1_100, 3, 100), "the first has left the window");
    }

    #[test]
    fn a_township_hears_only_of_open_unrestricted_matters_and_the_bureau_of_every_open_one() {
        for (open, restricted, township, bureau) in [
            (true, false, true, true),
            (true, true, false, true),
            (false, false, false, false),
            (false, true, false, false),
        ] {
            assert_eq!(tellable(open, restricted, &Role::Township), township);
            assert_eq!(tellable(open, restricted, &Role::Bureau), bureau);
        }
    }

    #[test]
    fn the_index_follows_an_identity_as_it_changes() {
        let mut index = Index::default();
        let case = CaseId(uuid::Uuid::from_u128(1));
        let h = hash(&[7; 32], "11010519491231002X");
        index.reindex(case, vec![h]);
        assert!(index.people[&h].contains(&case));
        index.reindex(case, Vec::new());
        assert!(index.people.is_empty() && index.of_case.is_empty());
        // Another key makes other hashes: nothing computed elsewhere can be compared.
        assert_ne!(hash(&[8; 32], "11010519491231002X"), h);
    }
}
