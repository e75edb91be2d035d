//! The projected index: one row per case with what lists, filters and counts need, plus one
//! FTS5 search row. Rebuilt from the documents whenever a case changes.
//!
//! Search: a query of two or more characters is a substring search of numbers, names,
//! villages and the request text, answered by the `search` table, which holds each text as
//! its two-character pieces in order ([`grams`]): the query's own pieces, as a phrase, match
//! exactly where the query is a substring of one of the texts. One character uses `LIKE` on
//! the index's short columns (names, village, number). A text search counts its matches only
//! up to [`COUNT_CAP`] (the page says 「1万+」 beyond it), from the search table alone when
//! nothing else narrows the list. Its page is read one of two ways, chosen by that count: few
//! matches are looked up and sorted; many are found by walking the date index newest first
//! and stopping at the page's end, which reads a few hundred entries for a common word
//! instead of ten thousand rows (BENCHMARKS.md, 100,000 cases). A case whose demo data is
//! being removed keeps an empty search row: no search finds it.
use chrono::NaiveDate;
use ledger_domain::automerge::Automerge;
use ledger_domain::deadline::deadlines;
use ledger_domain::schema;
use ledger_domain::workflow::replay;
use ledger_domain::{ActionKind, Case, CaseFacts, CaseId, Category, Identity, Status};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use crate::error::Result;
use crate::{Rules, Store};

/// What the index holds for a case.
#[derive(Debug, Clone)]
pub(crate) struct Projection {
    number: String,
    status: String,
    township: Option<String>,
    category: String,
    sector: String,
    purpose: String,
    source: Option<String>,
    channel: Option<String>,
    received: Option<String>,
    last_received: Option<String>,
    names: String,
    search_names: String,
    village: String,
    request: String,
    next_due: Option<String>,
    next_due_kind: Option<String>,
    anomalies: i64,
    conflicts: i64,
    registered_by: String,
    /// 0 a real case, 1 demo data, 2 demo data being removed.
    demo: i64,
    facts: String,
    /// Attachments the case cites.
    attachments: Vec<String>,
}

/// The `meta` key under which the index records the rules it was projected with.
pub const STAMP_KEY: &str = "index_stamp";

/// Bumped whenever [`project`] computes something differently, so existing indexes are
/// re-projected on the next open.
const PROJECTION_VERSION: u32 = 10;

/// A text search counts at most this many matches; [`Page::capped`] says there are more.
pub const COUNT_CAP: u64 = 10_000;

/// A text search with at most this many matches reads them all and sorts them; with more, it
/// walks the date index to the page's end (the first costs a row lookup a match, the second an
/// index entry for every case newer than the page's last match).
const LOOKUP_MAX: u64 = 1_000;

/// The last 256 code points of the second private-use plane, which the pieces use for what
/// the `ascii` tokenizer would otherwise split at (it splits only at ASCII separators and keeps
/// every other character inside a token). A text's own character from this block is escaped
/// ([`ESCAPE`] before it), so no text can stand in for another.
const RESERVED: std::ops::RangeInclusive<char> = '\u{10ff00}'..='\u{10ffff}';

/// Stands between two texts in a search row: a one-character token, which no query's piece
/// (two characters at least) can equal, so a phrase never runs from one text into the next.
const TEXT_BREAK: char = '\u{10ffff}';

/// Comes before a text's own character from [`RESERVED`].
const ESCAPE: char = '\u{10fffe}';

/// Where an ASCII character that is not a letter or digit goes in a piece: `PUNCT_BASE + byte`,
/// so a piece is always one token and quotes are never query syntax.
const PUNCT_BASE: u32 = 0x10ff00;

/// 搜索片段: the two-character pieces of `texts`, in order, space-separated, for the `search`
/// table: every two neighbouring characters of a text (spaces and punctuation included,
/// lowercased as [`char::to_lowercase`] has it) form one token, and [`TEXT_BREAK`] stands
/// between texts. A query's pieces ([`gram_query`]) then match, as a phrase, exactly where the
/// query is a substring of one text, as a trigram index would, for a fraction of its cost
/// (BENCHMARKS.md, bootstrap), and two-character words (耕地, 占地) are single tokens.
pub(crate) fn grams(texts: &[&str]) -> String {
    let mut out = String::with_capacity(texts.iter().map(|t| t.len() * 3).sum::<usize>() + 8);
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push(TEXT_BREAK);
        }
        let mut prev: Option<Codeword> = None;
        for c in text.chars().flat_map(lowercase).map(Codeword::of) {
            if let Some(p) = prev {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.extend(p.chars().iter().chain(c.chars()));
            }
            prev = Some(c);
        }
    }
    out
}

/// A character as it stands in a piece: an ASCII character the tokenizer would split at moved
/// into [`RESERVED`], a character of that block escaped, every other character as it is. No
/// codeword begins another, so two pieces are the same token only if their characters are.
#[derive(Debug, Clone, Copy)]
struct Codeword {
    chars: [char; 2],
    len: usize,
}

impl Codeword {
    fn of(c: char) -> Self {
        if c.is_ascii() && !c.is_ascii_alphanumeric() {
            let moved = char::from_u32(PUNCT_BASE + u32::from(c as u8)).unwrap_or(ESCAPE);
            Self { chars: [moved, ' '], len: 1 }
        } else if RESERVED.contains(&c) {
            Self { chars: [ESCAPE, c], len: 2 }
        } else {
            Self { chars: [c, ' '], len: 1 }
        }
    }

    fn chars(&self) -> &[char] {
        &self.chars[..self.len]
    }
}

/// The common Chinese characters (CJK Unified Ideographs): letters without case. Checked
/// first, as nearly every character a pull indexes is one of them and Unicode's tables are
/// searched for each otherwise.
const IDEOGRAPHS: std::ops::RangeInclusive<char> = '\u{4e00}'..='\u{9fff}';

/// `c` lowercased, as [`char::to_lowercase`] has it.
fn lowercase(c: char) -> impl Iterator<Item = char> {
    let ideograph = IDEOGRAPHS.contains(&c);
    let mut lower = (!ideograph).then(|| c.to_lowercase());
    let mut own = ideograph.then_some(c);
    std::iter::from_fn(move || own.take().or_else(|| lower.as_mut()?.next()))
}

/// The `search` query of a text of two or more characters: its pieces as one phrase.
pub(crate) fn gram_query(text: &str) -> Option<String> {
    text.chars().nth(1)?;
    let pieces = grams(&[text]);
    (!pieces.is_empty()).then(|| format!("\"{pieces}\""))
}

/// A digest of what the index rows depend on besides the documents: the projection code's
/// version, the policy table and the holiday calendar.
pub(crate) fn stamp(rules: &Rules) -> String {
    let text = format!("{PROJECTION_VERSION}\n{}", rules.describe());
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// Projects a case for the index.
pub(crate) fn project(
    case: &Case,
    identity: Option<&Identity>,
    doc: &Automerge,
    rules: &Rules,
) -> Projection {
    let replayed = replay(&case.events);
    let facts = CaseFacts::project(case, &replayed, &rules.policies, &rules.calendar);
    let first = case.submissions.first();
    let received = case.received();
    let due = deadlines(
        case,
        &replayed,
        &rules.policies,
        &rules.calendar,
        received.unwrap_or(NaiveDate::MIN),
    );
    let next = if replayed.status.is_open() { due.next_due() } else { None };
    let display = case.names(identity);
    let mut names: Vec<String> = case.petitioners.iter().map(|p| p.display_name.clone()).collect();
    if let Some(identity) = identity {
        names.extend(identity.persons.iter().map(|p| p.name.clone()));
    }
    Projection {
        number: case.number.clone(),
        status: replayed.status.code().to_owned(),
        township: case.jurisdiction.clone(),
        category: case.category.code().to_owned(),
        sector: case.sector.code().to_owned(),
        purpose: case.purpose.code().to_owned(),
        source: first.map(|s| s.source.code().to_owned()),
        channel: first.map(|s| s.channel.code().to_owned()),
        received: received.map(|d| d.to_string()),
        last_received: case.submissions.iter().map(|s| s.received).max().map(|d| d.to_string()),
        names: display.join("、"),
        search_names: names.join(" "),
        village: case.village.clone(),
        request: case.request.clone(),
        next_due: next.map(|d| d.due.to_string()),
        next_due_kind: next.map(|d| d.kind.code().to_owned()),
        anomalies: replayed.anomalies.len() as i64,
        conflicts: schema::conflicts(doc).map(|c| c.len() as i64).unwrap_or(0),
        registered_by: case.registered_by.clone(),
        demo: match (case.demo, case.events.iter().any(|e| e.action == ActionKind::RemoveDemo)) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        },
        facts: serde_json::to_string(&facts).unwrap_or_default(),
        attachments: case.attachments.iter().map(|a| a.hash.clone()).collect(),
    }
}

/// Where a write's search rows go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchRows {
    /// Into the FTS5 table, with the index rows.
    Now,
    /// Into `search_backlog`, for [`write_backlog`] to move in one pass (a pull's pages).
    Backlog,
}

/// Writes a case's index and search rows.
pub(crate) fn write(tx: &Connection, case_id: &str, p: &Projection, now: i64) -> Result<()> {
    write_many(tx, &[(case_id.to_owned(), p)], now, SearchRows::Now)
}

/// Writes the index rows of several cases, their search rows in one statement: FTS5 writes its pending terms out at the start of every statement inside a
/// transaction, so a row at a time would leave a segment a row (and merge them, again and
/// again). `to` says whether the search rows go to the FTS5 table or wait in the backlog.
pub(crate) fn write_many(
    tx: &Connection,
    rows: &[(String, &Projection)],
    now: i64,
    to: SearchRows,
) -> Result<()> {
    let mut search = Vec::with_capacity(rows.len());
    for (case_id, p) in rows {
        let rowid = write_row(tx, case_id, p, now)?;
        // Leaving demo data: found by no search (the list's `demo < 2` then holds for every
        // match).
        let grams = if p.demo == 2 {
            String::new()
        } else {
            grams(&[&p.request, &p.search_names, &p.village, &p.number])
        };
        search.push(serde_json::json!([rowid, grams]));
    }
    let search = serde_json::Value::Array(search).to_string();
    if to == SearchRows::Backlog {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO search_backlog (id, grams)
             SELECT value ->> 0, value ->> 1 FROM json_each(?1)",
        )?
        .execute([&search])?;
        return Ok(());
    }
    // A text still waiting is older than this one: it must not overwrite it later.
    tx.prepare_cached(
        "DELETE FROM search_backlog WHERE id IN (SELECT value ->> 0 FROM json_each(?1))",
    )?
    .execute([&search])?;
    tx.prepare_cached("DELETE FROM search WHERE rowid IN (SELECT value ->> 0 FROM json_each(?1))")?
        .execute([&search])?;
    tx.prepare_cached(
        "INSERT INTO search (rowid, grams) SELECT value ->> 0, value ->> 1 FROM json_each(?1)",
    )?
    .execute([&search])?;
    Ok(())
}

/// For a case whose document does not read, whose index row is left as it was: if it has no
/// search row (the search table was rebuilt by an upgrade, migration 012), one is written from
/// that row's number, names and village (the request text is in the document alone), so the
/// case is still found by them.
pub(crate) fn keep_search_row(tx: &Connection, case_id: &str) -> Result<()> {
    let row = tx
        .query_row(
            "SELECT id, number, search_names, village, demo FROM cases c WHERE case_id = ?1
               AND NOT EXISTS (SELECT 1 FROM search WHERE rowid = c.id)
               AND NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.id = c.id)",
            [case_id],
            |r| {
                let texts: (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
                Ok((r.get::<_, i64>(0)?, texts, r.get::<_, i64>(4)?))
            },
        )
        .optional()?;
    let Some((rowid, (number, names, village), demo)) = row else { return Ok(()) };
    let grams = if demo == 2 { String::new() } else { grams(&["", &names, &village, &number]) };
    tx.execute("INSERT INTO search (rowid, grams) VALUES (?1, ?2)", params![rowid, grams])?;
    Ok(())
}

/// Moves every search row waiting in `search_backlog` into the FTS5 table, in one statement,
/// so FTS5 builds its segments from all of them at once. Returns how many moved.
pub(crate) fn write_backlog(tx: &Connection) -> Result<usize> {
    tx.execute("DELETE FROM search WHERE rowid IN (SELECT id FROM search_backlog)", [])?;
    tx.execute("INSERT INTO search (rowid, grams) SELECT id, grams FROM search_backlog", [])?;
    Ok(tx.execute("DELETE FROM search_backlog", [])?)
}

/// Whether search rows wait in `search_backlog`.
pub(crate) fn backlog_waits(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM search_backlog)", [], |r| r.get(0))?)
}

/// Writes a case's row of `cases` and its attachment references; returns the row's id.
fn write_row(tx: &Connection, case_id: &str, p: &Projection, now: i64) -> Result<i64> {
    let rowid: i64 = tx.prepare_cached(
        "INSERT INTO cases (case_id, number, status, township, category, sector, purpose, source,
             channel, received, last_received, names, village, next_due, next_due_kind, anomalies,
             conflicts, registered_by, updated_at, facts, search_names, demo)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)
         ON CONFLICT(case_id) DO UPDATE SET number = excluded.number, status = excluded.status,
             township = excluded.township, category = excluded.category, sector = excluded.sector,
             purpose = excluded.purpose, source = excluded.source, channel = excluded.channel,
             received = excluded.received, last_received = excluded.last_received,
             names = excluded.names, search_names = excluded.search_names,
             village = excluded.village, next_due = excluded.next_due,
             next_due_kind = excluded.next_due_kind, anomalies = excluded.anomalies,
             conflicts = excluded.conflicts, registered_by = excluded.registered_by,
             updated_at = excluded.updated_at, facts = excluded.facts, demo = excluded.demo
         RETURNING id",
    )?
    .query_row(
        params![
            case_id,
            p.number,
            p.status,
            p.township,
            p.category,
            p.sector,
            p.purpose,
            p.source,
            p.channel,
            p.received,
            p.last_received,
            p.names,
            p.village,
            p.next_due,
            p.next_due_kind,
            p.anomalies,
            p.conflicts,
            p.registered_by,
            now,
            p.facts,
            p.search_names,
            p.demo
        ],
        |r| r.get(0),
    )?;
    for hash in &p.attachments {
        tx.prepare_cached("INSERT OR IGNORE INTO blob_refs (hash, case_id) VALUES (?1, ?2)")?
            .execute(params![hash, case_id])?;
    }
    Ok(rowid)
}

/// One row of a case list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CaseRow {
    /// The case id.
    pub id: CaseId,
    /// 案件编号.
    pub number: String,
    /// 办理状态 (on the wire its code, `in_progress`).
    pub status: Status,
    /// 所属乡镇.
    pub township: Option<String>,
    /// 问题类别 (on the wire its code); a newer version's category is kept as `Unknown`.
    pub category: Category,
    /// 涉及领域 code.
    pub sector: String,
    /// 信访目的 code.
    pub purpose: String,
    /// First submission's 信访来源 code.
    pub source: Option<String>,
    /// First submission's 信访形式 code.
    pub channel: Option<String>,
    /// First received.
    pub received: Option<NaiveDate>,
    /// Petitioners' masked display names (张*丰、李*).
    pub names: String,
    /// 问题属地.
    pub village: String,
    /// The nearest open deadline.
    pub next_due: Option<NaiveDate>,
    /// Which deadline that is (code).
    pub next_due_kind: Option<String>,
    /// Events that did not fit the workflow.
    pub anomalies: u32,
    /// Fields edited concurrently, to review.
    pub conflicts: u32,
    /// 已转交: reassigned away from this office, read-only until it leaves.
    pub handed_over: bool,
    /// The registering office.
    pub registered_by: String,
    /// 演示数据.
    pub demo: bool,
}

/// A page of cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Page {
    /// Matches in all; for a text search at most [`COUNT_CAP`].
    pub total: u64,
    /// A text search found more than [`COUNT_CAP`] matches and stopped counting.
    pub capped: bool,
    /// This page.
    pub rows: Vec<CaseRow>,
}

/// Filters for a case list. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseQuery {
    /// 办理状态.
    pub status: Option<Status>,
    /// Township name.
    pub township: Option<String>,
    /// 问题类别.
    pub category: Option<Category>,
    /// Source code (of the first submission).
    pub source: Option<String>,
    /// Received on or after.
    pub received_from: Option<NaiveDate>,
    /// Received on or before.
    pub received_to: Option<NaiveDate>,
    /// Text to search for.
    pub text: Option<String>,
    /// Only cases with an open deadline already past `today`.
    pub overdue: bool,
    /// Only cases with an open deadline within this many days of `today` (not yet past).
    pub due_within: Option<u32>,
    /// Only cases with unreviewed concurrent edits or anomalies.
    pub needs_review: bool,
    /// Page size; all when `None`.
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: u32,
    /// Today, for the deadline filters.
    pub today: Option<NaiveDate>,
}

fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// How a list's text is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextMatch {
    /// The `search` table's MATCH query.
    Fts(String),
    /// A `LIKE` pattern over the short columns.
    Like(String),
}

/// A list's WHERE clause apart from its text, its parameters, and its text.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    /// Conditions on `cases`, `?N` parameters numbered from 1.
    clauses: Vec<String>,
    args: Vec<SqlValue>,
    /// Whether anything besides the text (and leaving demo data) narrows the list.
    narrowed: bool,
    text: Option<TextMatch>,
}

impl Filter {
    /// The whole WHERE clause (text included) and its parameters.
    pub(crate) fn sql(&self) -> (String, Vec<SqlValue>) {
        let mut clauses = self.clauses.clone();
        let mut args = self.args.clone();
        match &self.text {
            Some(TextMatch::Fts(query)) => {
                args.push(SqlValue::Text(query.clone()));
                clauses.push(format!(
                    "id IN (SELECT rowid FROM search WHERE search MATCH ?{})",
                    args.len()
                ));
            }
            Some(TextMatch::Like(pattern)) => {
                args.push(SqlValue::Text(pattern.clone()));
                let n = args.len();
                clauses.push(format!(
                    "(search_names LIKE ?{n} ESCAPE '\\' OR village LIKE ?{n} ESCAPE '\\' OR number LIKE ?{n} ESCAPE '\\')"
                ));
            }
            None => {}
        }
        (format!("WHERE {}", clauses.join(" AND ")), args)
    }
}

/// Builds the filter of a query.
pub(crate) fn filter(q: &CaseQuery) -> Filter {
    // Demo cases being removed have left every list already. The unary `+` keeps `demo` from
    // choosing an index: with `cases_demo` as a range, a name search read every table row (16 ms
    // instead of 10 at 20,000 cases, BENCHMARKS.md); as a filter, the plain count scans
    // `cases_demo` whole (the narrowest index holding `demo`) and every search keeps its
    // covering index.
    let mut clauses: Vec<String> = vec!["+demo < 2".to_owned()];
    let mut args: Vec<SqlValue> = Vec::new();
    let mut eq = |col: &str, v: &Option<String>, clauses: &mut Vec<String>| {
        if let Some(v) = v {
            args.push(SqlValue::Text(v.clone()));
            clauses.push(format!("{col} = ?{}", args.len()));
        }
    };
    eq("status", &q.status.as_ref().map(|s| s.code().to_owned()), &mut clauses);
    eq("township", &q.township, &mut clauses);
    eq("category", &q.category.as_ref().map(|c| c.code().to_owned()), &mut clauses);
    eq("source", &q.source, &mut clauses);
    if let Some(from) = q.received_from {
        args.push(SqlValue::Text(from.to_string()));
        clauses.push(format!("received >= ?{}", args.len()));
    }
    if let Some(to) = q.received_to {
        args.push(SqlValue::Text(to.to_string()));
        clauses.push(format!("received <= ?{}", args.len()));
    }
    let today = q.today.unwrap_or(NaiveDate::MIN);
    if q.overdue {
        args.push(SqlValue::Text(today.to_string()));
        clauses.push(format!("next_due < ?{}", args.len()));
    }
    if let Some(days) = q.due_within {
        args.push(SqlValue::Text(today.to_string()));
        let from = args.len();
        args.push(SqlValue::Text((today + chrono::Days::new(u64::from(days))).to_string()));
        clauses.push(format!("next_due >= ?{from} AND next_due <= ?{}", args.len()));
    }
    if q.needs_review {
        clauses.push("(conflicts > 0 OR anomalies > 0)".to_owned());
    }
    let narrowed = clauses.len() > 1;
    let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(|text| {
        match gram_query(text) {
            Some(phrase) => TextMatch::Fts(phrase),
            None => TextMatch::Like(like_pattern(text)),
        }
    });
    Filter { clauses, args, narrowed, text }
}

const COLUMNS: &str = "case_id, number, status, township, category, sector, purpose, source, channel,
    received, names, village, next_due, next_due_kind, anomalies, conflicts, handed_over, registered_by,
    demo";

/// Column `i` as a case id: an id that does not parse is a damaged row, reported as one.
pub(crate) fn case_id_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<CaseId> {
    let text: String = r.get(i)?;
    text.parse().map_err(|e| {
        let damaged =
            format!("案件索引中的案件标识「{text}」已损坏（{e}）：请运行 ledger check --deep");
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, damaged.into())
    })
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    // Every date column was written from a `NaiveDate`: one that does not parse is a damaged
    // index, reported rather than shown as no date (a case with no due date is never overdue).
    let date = |i: usize, what: &'static str| -> rusqlite::Result<Option<NaiveDate>> {
        r.get::<_, Option<String>>(i)?
            .map(|text| text.parse().map_err(|_| bad_column(i, what, &text)))
            .transpose()
    };
    Ok(CaseRow {
        id: case_id_at(r, 0)?,
        number: r.get(1)?,
        status: stored_status(r, 2)?,
        township: r.get(3)?,
        category: stored_category(r, 4)?,
        sector: r.get(5)?,
        purpose: r.get(6)?,
        source: r.get(7)?,
        channel: r.get(8)?,
        received: date(9, "登记日期")?,
        names: r.get(10)?,
        village: r.get(11)?,
        next_due: date(12, "下一期限")?,
        next_due_kind: r.get(13)?,
        anomalies: r.get(14)?,
        conflicts: r.get(15)?,
        handed_over: r.get(16)?,
        registered_by: r.get(17)?,
        demo: r.get::<_, i64>(18)? > 0,
    })
}

/// A status column: always written by this version's replay, so a code it does not know means
/// a damaged index, reported rather than shown as a status nobody can act on.
fn stored_status(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Status> {
    let code: String = r.get(i)?;
    match Status::from_code(&code) {
        Status::Unknown(_) => Err(bad_column(i, "办理状态", &code)),
        status => Ok(status),
    }
}

/// A category column: a newer version's code is kept (`Unknown`), as the case document keeps
/// it; a value that is no code at all (empty, not snake_case) is reported.
fn stored_category(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Category> {
    let code: String = r.get(i)?;
    let is_code = !code.is_empty()
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if is_code { Ok(Category::from_code(&code)) } else { Err(bad_column(i, "问题类别", &code)) }
}

/// A value in the index that this version cannot have written.
#[derive(Debug, thiserror::Error)]
#[error("索引中的{what}「{value}」无效（台账索引可能已损坏，请运行 `ledger check --deep` 检查）")]
struct BadColumn {
    what: &'static str,
    value: String,
}

fn bad_column(i: usize, what: &'static str, value: &str) -> rusqlite::Error {
    let bad = BadColumn { what, value: value.to_owned() };
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(bad))
}

/// The statement counting a page's hits (a search's only up to one past `cap`), and its
/// parameters.
pub(crate) fn count_sql(f: &Filter, cap: u64) -> (String, Vec<SqlValue>) {
    match &f.text {
        None => {
            let (filter, args) = f.sql();
            (format!("SELECT count(*) FROM cases {filter}"), args)
        }
        // Every search row belongs to a listed case (leaving demo data has empty ones): with
        // nothing else narrowing the list, the search table alone counts it.
        Some(TextMatch::Fts(query)) if !f.narrowed => (
            format!(
                "SELECT count(*) FROM (SELECT 1 FROM search WHERE search MATCH ?1 LIMIT {})",
                cap + 1
            ),
            vec![SqlValue::Text(query.clone())],
        ),
        Some(_) => {
            let (filter, args) = f.sql();
            (format!("SELECT count(*) FROM (SELECT 1 FROM cases {filter} LIMIT {})", cap + 1), args)
        }
    }
}

/// The statement reading a page, and its parameters: a search with more than `lookup_max`
/// matches walks the date index (see the module documentation).
pub(crate) fn page_sql(
    f: &Filter,
    q: &CaseQuery,
    matches: u64,
    lookup_max: u64,
) -> (String, Vec<SqlValue>) {
    let (filter, args) = f.sql();
    let walk = matches!(f.text, Some(TextMatch::Fts(..))) && matches > lookup_max;
    // Each of these indexes holds `received, number` after its equality column, so it is
    // walked in the page's order.
    let from = match (walk, &q.status, &q.township) {
        (false, _, _) => "cases",
        (true, Some(_), _) => "cases INDEXED BY cases_status",
        (true, None, Some(_)) => "cases INDEXED BY cases_township",
        (true, None, None) => "cases INDEXED BY cases_received",
    };
    let limit = q.limit.map(i64::from).unwrap_or(-1);
    let sql = format!(
        "SELECT {COLUMNS} FROM {from} {filter} ORDER BY received DESC, number DESC LIMIT {limit} OFFSET {}",
        q.offset
    );
    (sql, args)
}

pub(crate) fn list(conn: &Connection, q: &CaseQuery) -> Result<Page> {
    list_with(conn, q, COUNT_CAP, LOOKUP_MAX)
}

/// [`list`] with the count cap and the lookup bound given (tests use small ones).
pub(crate) fn list_with(
    conn: &Connection,
    q: &CaseQuery,
    cap: u64,
    lookup_max: u64,
) -> Result<Page> {
    let f = filter(q);
    // Counting every hit of a common word costs as much as reading them all: a text search
    // counts one past the cap and no further.
    let searching = f.text.is_some();
    let (count_sql, args) = count_sql(&f, cap);
    let counted: i64 =
        conn.prepare_cached(&count_sql)?.query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    let counted = u64::try_from(counted).unwrap_or(0);
    let capped = searching && counted > cap;
    let total = if searching { counted.min(cap) } else { counted };
    let (sql, args) = page_sql(&f, q, counted, lookup_max);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Page { total, capped, rows })
}

impl Store {
    /// A filtered, searched page of cases, from the index only. A text search first writes
    /// the search rows a pull left waiting ([`Store::catch_up_search`]), waiting for a batch
    /// another thread is applying to end if rows wait, and searches in the same hold of the
    /// writer, so a page committed meanwhile cannot leave a case out.
    pub fn list(&self, query: &CaseQuery) -> Result<Page> {
        if query.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return list(&self.reader(), query);
        }
        {
            let conn = self.reader();
            // The backlog found empty and the search read the same state of the store.
            let snapshot = if conn.is_autocommit() {
                Some(rusqlite::Transaction::new_unchecked(
                    &conn,
                    rusqlite::TransactionBehavior::Deferred,
                )?)
            } else {
                None
            };
            if !backlog_waits(&conn)? {
                let page = list(&conn, query)?;
                if let Some(snapshot) = snapshot {
                    snapshot.commit()?;
                }
                return Ok(page);
            }
        }
        let mut w = self.writer();
        self.catch_up_with(&mut w)?;
        list(&w.conn, query)
    }

    /// Writes the search rows the pages of a pull left in `search_backlog` (with the index rows
    /// a batch still holds back) into the search table, in one pass. The office does this on
    /// the page after which the hub has no more; a text search made before then does it too.
    /// Returns how many rows moved.
    pub fn catch_up_search(&self) -> Result<usize> {
        self.catch_up_with(&mut self.writer())
    }

    fn catch_up_with(&self, w: &mut crate::Writer) -> Result<usize> {
        self.project_pending(w, None)?;
        if !backlog_waits(&w.conn)? {
            return Ok(0);
        }
        let started = std::time::Instant::now();
        let tx = w.tx()?;
        let moved = write_backlog(&tx)?;
        tx.commit()?;
        tracing::debug!(rows = moved, elapsed = ?started.elapsed(), "search rows written");
        Ok(moved)
    }

    /// One case's index row.
    pub fn row(&self, id: CaseId) -> Result<Option<CaseRow>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM cases WHERE case_id = ?1"))?;
        let mut rows = stmt.query_map([id.to_string()], row)?;
        Ok(rows.next().transpose()?)
    }

    /// The statistics facts of every case (for reports), from the index only.
    pub fn all_facts(&self) -> Result<Vec<CaseFacts>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT facts FROM cases WHERE demo < 2")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json?)?);
        }
        Ok(out)
    }

    /// How many cases here are demo data not yet being removed.
    pub fn demo_count(&self) -> Result<u64> {
        let n: i64 =
            self.reader()
                .query_row("SELECT count(*) FROM cases WHERE demo = 1", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The ids of the cases here that are demo data not yet being removed.
    pub fn demo_cases(&self) -> Result<Vec<CaseId>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT case_id FROM cases WHERE demo = 1")?;
        let ids = stmt.query_map([], |r| case_id_at(r, 0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Counts of cases per status code.
    pub fn count_by_status(&self) -> Result<Vec<(String, u64)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT status, count(*) FROM cases GROUP BY status")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Marks a case 已转交 (reassigned away; read-only until it leaves) or clears the mark.
    pub fn set_handed_over(&self, id: CaseId, handed_over: bool) -> Result<()> {
        let w = self.writer();
        w.conn.execute(
            "UPDATE cases SET handed_over = ?2 WHERE case_id = ?1",
            params![id.to_string(), handed_over],
        )?;
        Ok(())
    }

    /// The cases marked 已转交 (reassigned away, waiting to leave this office).
    pub fn handed_over_cases(&self) -> Result<Vec<CaseId>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare("SELECT case_id FROM cases WHERE handed_over ORDER BY case_id")?;
        let ids =
            stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter()
            .map(|id| {
                id.parse().map_err(|_| {
                    crate::StoreError::BadSyncPosition(format!("案件标识「{id}」有误"))
                })
            })
            .collect()
    }

    /// The ids of every case in the index.
    pub fn case_ids(&self) -> Result<Vec<CaseId>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT case_id FROM cases ORDER BY received, number")?;
        let ids = stmt.query_map([], |r| case_id_at(r, 0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut's premise: every common ideograph is a letter, and its own lowercase.
    #[test]
    fn every_common_ideograph_is_a_caseless_letter() {
        for c in IDEOGRAPHS {
            assert!(c.is_alphanumeric(), "{c:?}");
            assert_eq!(c.to_lowercase().collect::<String>(), c.to_string(), "{c:?}");
        }
    }
}
