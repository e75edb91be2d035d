//! 重复信访的全县提示 (repeat detection across the county): at registration an office asks
//! whether its petitioners, by ID number, have an open matter elsewhere in the county.
//!
//! The hub holds every identity document, so it alone can answer. It keeps an index from a hash
//! of each ID number, keyed with a secret derived from its own (never sent anywhere), to the
//! cases naming it, refreshed from the hub log before each answer: another hub process or a
//! bundle import is seen as soon as it is in the log. The bureau is told of every open matter;
//! a township only of matters whose identity it could be shown anyway (never an informant's:
//! 信访工作条例 §30), and nothing tells it that a hidden match exists. ID numbers are few enough
//! to guess, so every office's queries are rate-limited and every query is logged.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

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

/// Whether `caller_role` may be told of `case` as a repeat: it is open, and the bureau asks or
/// its identity is not restricted (an informant's matter is never told to a township).
pub fn tellable(case: &Case, caller_role: &Role) -> bool {
    let open = replay(&case.events).status.is_open();
    open && (*caller_role == Role::Bureau || !case.identity_restricted())
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

/// The hub's index of petitioners by keyed hash of ID number.
#[derive(Default)]
pub struct RepeatIndex {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The key the numbers are hashed with (derived from the hub's secret on first use).
    key: Option<[u8; 32]>,
    /// The last log row read.
    seen: u64,
    people: HashMap<[u8; 32], BTreeSet<CaseId>>,
    of_case: HashMap<CaseId, Vec<[u8; 32]>>,
    /// When each office's recent queries were admitted.
    asked: HashMap<String, VecDeque<i64>>,
}

impl State {
    fn hash(&self, id: &str) -> Option<[u8; 32]> {
        self.key.map(|key| *blake3::keyed_hash(&key, id.as_bytes()).as_bytes())
    }

    /// Replaces what the index holds for `case` with the numbers its identity names now.
    fn reindex(&mut self, case: CaseId, numbers: &[String]) {
        for old in self.of_case.remove(&case).unwrap_or_default() {
            if let Some(cases) = self.people.get_mut(&old) {
                cases.remove(&case);
                if cases.is_empty() {
                    self.people.remove(&old);
                }
            }
        }
        let hashes: Vec<[u8; 32]> = numbers
            .iter()
            .filter_map(|n| normalize_id(n))
            .filter_map(|n| self.hash(&n))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for h in &hashes {
            self.people.entry(*h).or_default().insert(case);
        }
        if !hashes.is_empty() {
            self.of_case.insert(case, hashes);
        }
    }
}

impl RepeatIndex {
    /// Reads the whole hub log into the index, so the first registration after a start is
    /// answered as fast as the next (`ledger-hub serve` runs it beside serving). Returns how
    /// many cases name an ID number.
    pub fn warm(&self, engine: &Engine) -> Result<usize, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.key.is_none() {
            let secret = engine.store().secret()?;
            state.key = Some(blake3::derive_key("ledger-hub 2026 repeat index", &secret));
        }
        refresh(&mut state, engine)?;
        Ok(state.of_case.len())
    }

    /// Answers `query` for `caller` as of `now`: rate-limited, logged, the index refreshed from
    /// the hub log first.
    pub fn answer(
        &self,
        engine: &Engine,
        caller: &Caller,
        query: &RepeatQuery,
        now: i64,
    ) -> Result<RepeatAnswer, RepeatError> {
        if query.id_numbers.len() > MAX_REPEAT_IDS {
            return Err(RepeatError::BadRequest(format!("一次最多查询{MAX_REPEAT_IDS}个证件号码")));
        }
        let office = caller.office.code.clone();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let admitted = admit(
            state.asked.entry(office.clone()).or_default(),
            now,
            QUERIES_PER_WINDOW,
            WINDOW_MS,
        );
        if !admitted {
            tracing::warn!(target: "audit", %office, device = %caller.device.id, "repeat query refused: too many");
            return Err(RepeatError::TooMany);
        }
        drop(state);
        self.warm(engine)?;
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut cases = BTreeSet::new();
        let asked: Vec<String> = query.id_numbers.iter().filter_map(|n| normalize_id(n)).collect();
        for id in &asked {
            if let Some(found) = state.hash(id).and_then(|h| state.people.get(&h)) {
                cases.extend(found.iter().copied());
            }
        }
        drop(state);
        let mut matters = Vec::new();
        for id in cases {
            let Some((doc, _)) = engine.load(id, DocKind::Case)? else { continue };
            let Ok(case) = schema::read_case(&doc) else { continue };
            if !tellable(&case, &caller.office.role) {
                continue;
            }
            matters.push(RepeatMatter {
                number: case.number.clone(),
                registered_by: case.registered_by.clone(),
                township: case.jurisdiction.clone(),
                status: replay(&case.events).status.code().to_owned(),
                received: case.received().map(|d| d.to_string()),
            });
        }
        matters.sort_by(|a, b| b.received.cmp(&a.received).then(a.number.cmp(&b.number)));
        // The numbers themselves are never logged: how many were asked, and how many told.
        tracing::info!(target: "audit", %office, device = %caller.device.id, asked = asked.len(), told = matters.len(), "repeat query");
        Ok(RepeatAnswer { matters })
    }
}

/// Reads the hub log past what the index has seen and re-reads every identity document it
/// names (a case's identity changes, or is purged, through the log like everything else).
fn refresh(state: &mut State, engine: &Engine) -> Result<(), StoreError> {
    let everything = Reader { office: "", device: "", bureau: true, townships: &[] };
    loop {
        let rows = engine.store().log_after(state.seen, &everything, REFRESH_PAGE)?;
        let Some(last) = rows.last().map(|r| r.seq) else { return Ok(()) };
        let touched: BTreeSet<CaseId> = rows
            .iter()
            .filter(|r| r.kind == DocKind::Identity && r.what == LogKind::Change)
            .map(|r| r.case_id)
            .collect();
        for case in touched {
            let numbers = match engine.load(case, DocKind::Identity)? {
                Some((doc, _)) => schema::read_identity(&doc)
                    .map(|i| i.persons.into_iter().map(|p| p.id_number).collect())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            state.reindex(case, &numbers);
        }
        state.seen = last;
        if rows.len() < REFRESH_PAGE {
            return Ok(());
        }
    }
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
    fn the_index_follows_an_identity_as_it_changes() {
        let mut state = State { key: Some([7; 32]), ..State::default() };
        let case = CaseId(uuid::Uuid::from_u128(1));
        state.reindex(case, &["11010519491231002X".into(), "bad".into()]);
        let h = state.hash("11010519491231002X").unwrap();
        assert!(state.people[&h].contains(&case));
        assert_eq!(state.of_case[&case].len(), 1, "a number that is not one is left out");
        state.reindex(case, &[]);
        assert!(state.people.is_empty() && state.of_case.is_empty());
        // Another key makes other hashes: nothing computed elsewhere can be compared.
        let other = State { key: Some([8; 32]), ..State::default() };
        assert_ne!(other.hash("11010519491231002X"), Some(h));
    }
}
