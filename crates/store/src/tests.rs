use ledger_domain::fixtures::seed_2017;
use ledger_domain::schema::{self, CaseField, FieldValue};
use ledger_domain::{
    ActionKind, Case, CaseId, Category, Identity, Person, PolicyTable, Role, Status, WorkCalendar,
};

use super::*;

fn identity_for(case: &Case) -> Identity {
    Identity {
        case_id: case.id,
        schema_version: 1,
        persons: case
            .petitioners
            .iter()
            .map(|p| Person {
                id: p.id.clone(),
                name: format!("{}{}", p.display_name.chars().next().unwrap_or('王'), "志强"),
                id_type: ledger_domain::IdType::ResidentId,
                id_number: String::new(),
                phone: "13800000000".into(),
                address: String::new(),
            })
            .collect(),
    }
}

fn seeded(dir: &Path) -> (Store, Vec<Case>) {
    let store = Store::create(dir).unwrap();
    let cases = seed_2017();
    let batch: Vec<_> = cases.iter().map(|c| (c.clone(), identity_for(c), vec![])).collect();
    store.create_cases(&batch).unwrap();
    (store, cases)
}

#[test]
fn create_then_open_keeps_actor_and_a_second_opener_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let actor = store.actor();
    assert!(matches!(Store::create(dir.path()), Err(StoreError::InUse { .. })));
    let err = Store::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("正被另一个程序使用"), "{err}");
    assert!(err.to_string().contains(&std::process::id().to_string()), "{err}");
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.actor(), actor);
    drop(store);
    assert!(matches!(Store::create(dir.path()), Err(StoreError::Exists(_))));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(Store::open(empty.path()), Err(StoreError::Missing(_))));
}

#[test]
fn created_cases_are_indexed_and_queued() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let page = store.list(&CaseQuery { limit: Some(50), ..Default::default() }).unwrap();
    assert_eq!(page.total, 137);
    assert_eq!(page.rows.len(), 50);
    assert!(page.rows.windows(2).all(|w| w[0].received >= w[1].received));
    // Two documents per case, one change each.
    assert_eq!(store.outbox_len().unwrap(), 274);
    let loaded = store.load_case(cases[5].id).unwrap();
    assert_eq!(loaded, cases[5]);
    let by_status =
        store.list(&CaseQuery { status: Some(Status::InProgress), ..Default::default() }).unwrap();
    assert!(by_status.total > 0 && by_status.total < 20, "{}", by_status.total);
    let facts = store.all_facts().unwrap();
    assert_eq!(facts.len(), 137);
}

#[test]
fn survives_reopen_without_loading_documents() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.list(&CaseQuery::default()).unwrap().total, 137);
    assert_eq!(store.load_case(cases[100].id).unwrap(), cases[100]);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// Every page a store reads at open is decrypted once it is encrypted: the rules lookup and the
/// first page's count go through their narrow indexes, never a scan of a wide one; and the
/// narrow index takes no search away from its covering index.
#[test]
fn what_an_open_reads_goes_through_narrow_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = seeded(dir.path());
    let plan = |sql: &str, args: &[rusqlite::types::Value]| -> String {
        let conn = store.reader();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    };
    let rules = plan(RULES_DOC_SQL, &[DocKind::Rules.code().into()]);
    assert!(rules.contains("INDEX docs_kind (kind=?)"), "{rules}");
    let (count, args) = index::count_sql(&index::filter(&CaseQuery::default()), COUNT_CAP);
    let count = plan(&count, &args);
    assert!(count.contains("SCAN cases USING COVERING INDEX cases_demo"), "{count}");
    // A two-character search with nothing else narrowing counts in its search table alone.
    let name = CaseQuery { text: Some("建国".into()), ..Default::default() };
    let (search, args) = index::count_sql(&index::filter(&name), COUNT_CAP);
    let search = plan(&search, &args);
    assert!(search.contains("SCAN search VIRTUAL TABLE"), "{search}");
    assert!(!search.contains("cases"), "{search}");
    // One character still reads the short columns through their covering index.
    let one = CaseQuery { text: Some("建".into()), ..Default::default() };
    let (search, args) = index::count_sql(&index::filter(&one), COUNT_CAP);
    let search = plan(&search, &args);
    assert!(search.contains("COVERING INDEX cases_received"), "{search}");
    assert!(!search.contains("cases_demo"), "{search}");
}

/// A search with many matches walks the date index newest first and stops at the page's end;
/// one with few looks them up and sorts them. Both give the same pages.
#[test]
fn a_common_word_walks_the_date_index_and_a_rare_one_is_looked_up() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let conn = store.reader();
    let plan = |sql: &str, args: &[rusqlite::types::Value]| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    };
    let q = CaseQuery {
        text: Some("请求依法查处".into()), limit: Some(10), ..Default::default()
    };
    let f = index::filter(&q);
    let (walk, args) = index::page_sql(&f, &q, 5_000, 1_000);
    let walk = plan(&walk, &args);
    assert!(walk.contains("SCAN cases USING INDEX cases_received"), "{walk}");
    assert!(!walk.contains("TEMP B-TREE FOR ORDER BY"), "{walk}");
    let (lookup, args) = index::page_sql(&f, &q, 10, 1_000);
    let lookup = plan(&lookup, &args);
    assert!(!lookup.contains("cases_received"), "{lookup}");
    // Narrowed to a township, the walk goes down that township's part of its index.
    let q = CaseQuery { township: Some("黄桥镇".into()), ..q };
    let (walk, args) = index::page_sql(&index::filter(&q), &q, 5_000, 1_000);
    let walk = plan(&walk, &args);
    assert!(walk.contains("INDEX cases_township (township=?)"), "{walk}");
    assert!(!walk.contains("TEMP B-TREE FOR ORDER BY"), "{walk}");

    let township = cases[0].jurisdiction.clone().unwrap();
    let township = Some(township.as_str());
    let closed = Some(Status::Closed);
    for (text, township, status) in [
        ("请求依法查处", None, None),
        ("查处", None, None),
        ("查处", township, None),
        ("查处", None, closed),
    ] {
        for offset in [0, 2] {
            let q = CaseQuery {
                text: Some(text.into()),
                township: township.map(str::to_owned),
                status: status.clone(),
                limit: Some(3),
                offset,
                ..Default::default()
            };
            let walked = index::list_with(&conn, &q, COUNT_CAP, 0).unwrap();
            let looked_up = index::list_with(&conn, &q, COUNT_CAP, u64::MAX).unwrap();
            assert!(walked.total > 5 && walked.rows.len() == 3, "{text} {township:?} {walked:?}");
            assert_eq!(walked, looked_up, "{text} {township:?} {offset}");
        }
    }
}

/// A case whose demo data is being removed is found by no search, so a search table's count
/// is the list's.
#[test]
fn leaving_demo_data_has_no_search_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let conn = store.reader();
    let q = CaseQuery { text: Some("查处".into()), ..Default::default() };
    let before = index::list(&conn, &q).unwrap().total;
    let case = &cases[3];
    let mut leaving = case.clone();
    leaving.demo = true;
    leaving
        .events
        .push(ledger_domain::Event { action: ActionKind::RemoveDemo, ..leaving.events[0].clone() });
    let p = index::project(&leaving, None, &Automerge::new(), &store.rules());
    index::write(&store.writer().conn, &case.id.to_string(), &p, 0).unwrap();
    let after = index::list(&conn, &q).unwrap();
    assert_eq!(after.total, before - 1);
    assert!(after.rows.iter().all(|r| r.id != case.id));
    let narrowed = CaseQuery { township: case.jurisdiction.clone(), ..q };
    let narrowed = index::list(&conn, &narrowed).unwrap();
    assert!(narrowed.rows.iter().all(|r| r.id != case.id));
}

#[test]
fn search_two_characters_and_three_by_their_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    // Full names come from the identity documents held here.
    let name = identity_for(&cases[7]).persons[0].name.clone();
    let two: String = name.chars().skip(1).collect();
    assert_eq!(two.chars().count(), 2);
    let hits = store.list(&CaseQuery { text: Some(two), ..Default::default() }).unwrap();
    assert!(hits.rows.iter().any(|r| r.id == cases[7].id));
    let three = store.list(&CaseQuery { text: Some(name.clone()), ..Default::default() }).unwrap();
    assert!(three.rows.iter().any(|r| r.id == cases[7].id));
    let holders: Vec<_> = cases
        .iter()
        .filter(|c| identity_for(c).persons.iter().any(|p| p.name == name))
        .map(|c| c.id)
        .collect();
    assert!(three.rows.iter().all(|r| holders.contains(&r.id)));
    assert_eq!(three.total as usize, holders.len());
    // The identity is held here, so lists show the full name (ID numbers and phones never).
    assert!(three.rows.iter().all(|r| r.names.contains(&name) && !r.names.contains('*')));
    assert!(three.rows.iter().all(|r| !r.names.contains("13800000000")));
    // Request text is searched with three or more characters.
    let by_request =
        store.list(&CaseQuery { text: Some("请求依法查处".into()), ..Default::default() }).unwrap();
    assert_eq!(by_request.total, 137);
    let township =
        store.list(&CaseQuery { text: Some("黄桥镇5组".into()), ..Default::default() }).unwrap();
    assert!(township.total > 0 && township.total < 137);
    // Quotes and LIKE wildcards are data, not syntax.
    assert_eq!(
        store.list(&CaseQuery { text: Some("\"%_".into()), ..Default::default() }).unwrap().total,
        0
    );
    assert_eq!(
        store.list(&CaseQuery { text: Some("%".into()), ..Default::default() }).unwrap().total,
        0
    );
}

#[test]
fn two_characters_find_request_words_and_a_text_search_stops_counting_at_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let mut cases = seed_2017();
    let requests = ["村民占用耕地建房，请求查处", "邻居填埋鱼塘修路", "耕 地界址不清", "Road 堵路"];
    for (case, request) in cases.iter_mut().zip(requests) {
        case.request = request.to_owned();
    }
    let batch: Vec<_> = cases.iter().map(|c| (c.clone(), identity_for(c), vec![])).collect();
    store.create_cases(&batch).unwrap();
    let find = |text: &str| {
        let page =
            store.list(&CaseQuery { text: Some(text.into()), ..Default::default() }).unwrap();
        let mut ids: Vec<_> = page.rows.iter().map(|r| r.id).collect();
        ids.sort();
        ids
    };
    let ids = |of: &[usize]| {
        let mut v: Vec<_> = of.iter().map(|&i| cases[i].id).collect();
        v.sort();
        v
    };
    // 耕地 is in the first request; the third has 耕 and 地 apart, which is not the word.
    assert_eq!(find("耕地"), ids(&[0]));
    assert_eq!(find("鱼塘"), ids(&[1]));
    assert_eq!(find("塘"), Vec::<CaseId>::new(), "one character searches the short columns only");
    assert_eq!(find("ro"), ids(&[3]), "letters are lowercased alike");
    // Re-projecting a case replaces its pieces: the old word no longer finds it.
    store
        .edit(cases[0].id, DocKind::Case, |tx| {
            schema::put_field(tx, &CaseField::Request, FieldValue::Text("山林权属争议".into()))
        })
        .unwrap();
    assert_eq!(find("耕地"), Vec::<CaseId>::new());
    assert_eq!(find("林权"), ids(&[0]));
    // A deleted case leaves no pieces behind.
    store.delete_case(cases[1].id).unwrap();
    assert_eq!(find("鱼塘"), Vec::<CaseId>::new());

    // Every seed request ends 请求依法查处 (the others were replaced): the count stops at the cap.
    let conn = store.reader();
    let q = CaseQuery { text: Some("查处".into()), limit: Some(3), ..Default::default() };
    let page = index::list_with(&conn, &q, 5, 1_000).unwrap();
    assert_eq!((page.total, page.capped, page.rows.len()), (5, true, 3));
    let page = index::list_with(&conn, &q, 1000, 1_000).unwrap();
    assert!(!page.capped && page.total > 100, "{}", page.total);
    // Lists without a text search count everything.
    let all = index::list_with(&conn, &CaseQuery::default(), 5, 1_000).unwrap();
    assert_eq!((all.total, all.capped), (136, false));
}

#[test]
fn a_search_row_is_each_texts_pieces_in_order_and_a_query_its_own() {
    let (brk, space, comma, dash) = ('\u{10ffff}', '\u{10ff20}', '\u{10ff2c}', '\u{10ff2d}');
    assert_eq!(index::grams(&["占用耕地，占用"]), "占用 用耕 耕地 地， ，占 占用");
    // ASCII punctuation and spaces stay inside a piece (the tokenizer would split at them);
    // letters are lowercased; a text of one character has no pieces; texts are kept apart.
    assert_eq!(
        index::grams(&["AB c", "x", "2017-1"]),
        format!("ab b{space} {space}c {brk} {brk} 20 01 17 7{dash} {dash}1")
    );
    assert_eq!(index::grams(&["a,"]), format!("a{comma}"));
    assert_eq!(index::grams(&["。"]), "");
    // A text's own character from the reserved block is escaped: it never reads as a comma.
    let own = '\u{10ff2c}';
    assert_eq!(index::grams(&[&format!("a{own}")]), format!("a\u{10fffe}{own}"));
    assert_ne!(index::grams(&["a-"]), index::grams(&["a\u{10ff2d}"]));
    // Letters beyond the common ideographs, and case, as Unicode has them.
    assert_eq!(
        index::grams(&["ÀÉ 𠀀𠀁 Ωω"]),
        format!("àé é{space} {space}𠀀 𠀀𠀁 𠀁{space} {space}ω ωω")
    );
    // A query is its own pieces as one phrase; quotes are data; one character has none.
    assert_eq!(index::gram_query("耕地").as_deref(), Some("\"耕地\""));
    assert_eq!(index::gram_query("\"宅基").unwrap(), format!("\"{}宅 宅基\"", '\u{10ff22}'));
    assert_eq!(index::gram_query("耕"), None);
    assert_eq!(index::grams(&["一龥"]), "一龥");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// The search table finds exactly the rows where the query is a substring of one text
    /// (letters lowercased), whatever punctuation, spaces, quotes and ASCII the texts hold.
    #[test]
    fn a_search_finds_exactly_the_rows_holding_the_query(
        rows in proptest::collection::vec(proptest::collection::vec(TEXT, 4), 1..12),
        queries in proptest::collection::vec("[耕地占用aB1 \\-，\"*\u{e12c}\u{10ff2d}\u{10fffe}]{2,5}", 8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let conn = &store.writer().conn;
        for (rowid, texts) in rows.iter().enumerate() {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            conn.execute(
                "INSERT INTO search (rowid, grams) VALUES (?1, ?2)",
                rusqlite::params![rowid as i64, index::grams(&texts)],
            )
            .unwrap();
        }
        // Also every piece of the rows' own texts, so most queries find something.
        let own = rows.iter().flatten().filter(|t| t.chars().count() >= 2).map(|t| t.chars().take(3).collect());
        for query in queries.into_iter().chain(own) {
            let query: String = query;
            let phrase = index::gram_query(&query).unwrap();
            let mut stmt = conn.prepare("SELECT rowid FROM search WHERE search MATCH ?1 ORDER BY rowid").unwrap();
            let found: Vec<i64> = stmt.query_map([&phrase], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
            let lower = query.to_lowercase();
            let expected: Vec<i64> = rows
                .iter()
                .enumerate()
                .filter(|(_, texts)| texts.iter().any(|t| t.to_lowercase().contains(&lower)))
                .map(|(i, _)| i as i64)
                .collect();
            proptest::prop_assert_eq!(found, expected, "query {:?}", query);
        }
    }
}

#[test]
fn an_identity_that_leaves_leaves_no_piece_of_its_names_in_the_search_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let case = seed_2017().remove(0);
    let mut identity = identity_for(&case);
    identity.persons[0].name = "龚翟甄".into();
    store.create_cases(&[(case.clone(), identity, vec![])]).unwrap();
    // The index's own terms, deleted rows' included until their segments merge.
    let terms = |store: &Store| -> Vec<String> {
        let conn = store.reader();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms USING fts5vocab(main, search, row)",
        )
        .unwrap();
        let mut stmt = conn.prepare("SELECT term FROM temp.terms").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let name_pieces = ["龚翟", "翟甄"].map(String::from);
    assert!(name_pieces.iter().all(|p| terms(&store).contains(p)));
    let hits = |text: &str| {
        store.list(&CaseQuery { text: Some(text.into()), ..Default::default() }).unwrap().total
    };
    assert_eq!(hits("龚翟甄"), 1);
    store.delete_doc(case.id, DocKind::Identity).unwrap();
    assert_eq!(hits("龚翟甄"), 0);
    assert_eq!(hits("翟甄"), 0);
    let left = terms(&store);
    assert!(name_pieces.iter().all(|p| !left.contains(p)), "a name's pieces stayed in the index");
    assert!(left.iter().any(|t| t == "查处"), "the rest of the row is indexed again");
}

/// A text of the property test above: a few letters, digits, spaces and punctuation.
const TEXT: &str = "[耕地占用aAbB1 \\-，\"*\u{e12c}\u{10ff2d}\u{10fffe}\u{10ffff}]{0,10}";

#[test]
fn edits_commit_change_index_and_outbox_together() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let id = cases[0].id;
    let before = store.outbox_len().unwrap();
    store
        .edit(id, DocKind::Case, |tx| {
            schema::put_field(tx, &CaseField::Category, FieldValue::Text("dispute".into()))
        })
        .unwrap();
    assert_eq!(store.outbox_len().unwrap(), before + 1);
    assert_eq!(store.row(id).unwrap().unwrap().category, Category::Dispute);
    // A failing edit changes nothing.
    let err = store
        .edit(id, DocKind::Case, |tx| {
            schema::put_field(tx, &CaseField::Category, FieldValue::Text("other".into()))?;
            Err::<(), _>(schema::SchemaError::Missing("boom".into()))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Document { .. }));
    assert_eq!(store.load_case(id).unwrap().category.code(), "dispute");
    assert_eq!(store.outbox_len().unwrap(), before + 1);
    // Status follows events.
    let mut case = store.load_case(id).unwrap();
    let mut void = case.events[0].clone();
    void.id = "void-1".into();
    void.action = ActionKind::Void;
    void.role = Role::Bureau;
    void.imported = false;
    void.lamport = case.next_lamport();
    store.edit(id, DocKind::Case, |tx| schema::add_event(tx, &void)).unwrap();
    case.events.push(void);
    assert_eq!(store.row(id).unwrap().unwrap().status, Status::Voided);
}

#[test]
fn compaction_keeps_every_unacknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let id = cases[3].id;
    for i in 0..120 {
        store
            .edit(id, DocKind::Case, |tx| {
                schema::put_field(tx, &CaseField::Subject, FieldValue::Text(format!("subject {i}")))
            })
            .unwrap();
    }
    let pending: i64 = store
        .reader()
        .query_row(
            "SELECT pending FROM docs WHERE case_id = ?1 AND kind = 0",
            [id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(pending < 50, "compaction ran: {pending}");
    let queued = store.outbox_for_case(id).unwrap();
    assert_eq!(queued, 122, "two creation changes and 120 edits");
    // Every queued change applies to a fresh document and rebuilds the same case.
    let batch = store.outbox_batch(usize::MAX, usize::MAX).unwrap();
    let mut doc = ledger_domain::automerge::Automerge::new();
    let changes: Vec<_> = batch
        .iter()
        .filter(|e| e.case_id == id && e.kind == DocKind::Case)
        .map(|e| ledger_domain::automerge::Change::from_bytes(e.bytes.clone()).unwrap())
        .collect();
    doc.apply_changes(changes).unwrap();
    assert_eq!(schema::read_case(&doc).unwrap().subject, "subject 119");
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.load_case(id).unwrap().subject, "subject 119");
}

#[test]
fn outbox_batches_acknowledgement_and_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let batch = store.outbox_batch(4096, usize::MAX).unwrap();
    let size: usize = batch.iter().map(|e| e.bytes.len()).sum();
    assert!(!batch.is_empty() && size <= 4096 + batch[0].bytes.len());
    assert!(
        store.outbox_batch(1, usize::MAX).unwrap().len() == 1,
        "at least one change even if larger"
    );
    let counted = store.outbox_batch(usize::MAX, 3).unwrap();
    assert_eq!(counted.len(), 3, "at most the count asked for");
    assert_eq!(counted[..], store.outbox_batch(usize::MAX, usize::MAX).unwrap()[..3], "the oldest");
    let hashes: Vec<String> = batch.iter().map(|e| e.hash.clone()).collect();
    store.acknowledge(&hashes).unwrap();
    assert_eq!(store.outbox_len().unwrap(), 274 - hashes.len() as u64);
    let victim = store
        .outbox_batch(usize::MAX, usize::MAX)
        .unwrap()
        .into_iter()
        .find(|e| e.case_id == cases[50].id)
        .unwrap();
    store.quarantine(&[(victim.hash, "案件不在本单位范围".into())]).unwrap();
    let q = store.quarantined().unwrap();
    assert!(!q.is_empty() && q.iter().all(|c| c.case_id == cases[50].id));
    assert!(
        store
            .outbox_batch(usize::MAX, usize::MAX)
            .unwrap()
            .iter()
            .all(|e| e.case_id != cases[50].id)
    );
    assert!(store.release_quarantine(cases[50].id).unwrap() >= 1);
    assert!(store.quarantined().unwrap().is_empty());
}

#[test]
fn remote_changes_apply_once_and_report_missing_dependencies() {
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let (a, cases) = seeded(a_dir.path());
    let b = Store::create(b_dir.path()).unwrap();
    let id = cases[9].id;
    for i in 0..3 {
        a.edit(id, DocKind::Case, |tx| {
            schema::put_field(tx, &CaseField::Subject, FieldValue::Text(format!("s{i}")))
        })
        .unwrap();
    }
    let changes: Vec<Vec<u8>> = a
        .outbox_batch(usize::MAX, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.case_id == id && e.kind == DocKind::Case)
        .map(|e| e.bytes)
        .collect();
    assert_eq!(changes.len(), 4);
    // The last change alone: its dependencies are missing; nothing is indexed yet.
    let applied = b.apply_remote(id, DocKind::Case, vec![changes[3].clone()]).unwrap();
    assert_eq!(applied.new, 1);
    assert!(!applied.missing_deps.is_empty());
    assert!(b.row(id).unwrap().is_none());
    let applied = b.apply_remote(id, DocKind::Case, changes.clone()).unwrap();
    assert!(applied.new >= 3);
    assert!(applied.missing_deps.is_empty());
    assert_eq!(b.load_case(id).unwrap().subject, "s2");
    assert_eq!(b.row(id).unwrap().unwrap().number, cases[9].number);
    assert_eq!(b.apply_remote(id, DocKind::Case, changes.clone()).unwrap().new, 0);
    assert_eq!(b.outbox_len().unwrap(), 0, "remote changes never go to the outbox");
    assert!(b.load_identity(id).unwrap().is_none(), "identity not received");
    // Bytes that are no change are refused with the case named, and change nothing.
    let mut cut = changes[0].clone();
    cut.truncate(cut.len() / 2);
    for bad in [cut, b"not a change".to_vec()] {
        let before = b.heads(id, DocKind::Case).unwrap();
        match b.apply_remote(id, DocKind::Case, vec![changes[3].clone(), bad]) {
            Err(StoreError::BadChange { id: named, .. }) => assert_eq!(named, id),
            other => panic!("{other:?}"),
        }
        assert_eq!(b.heads(id, DocKind::Case).unwrap(), before);
        assert_eq!(b.load_case(id).unwrap().subject, "s2");
    }
}

#[test]
fn a_panic_inside_automerge_becomes_an_error_for_that_item() {
    let caught: std::result::Result<(), String> = crate::guarded(|| panic!("列越界"));
    assert!(caught.unwrap_err().contains("列越界"));
    let owned: std::result::Result<(), String> = crate::guarded(|| panic!("{}", 7));
    assert!(owned.unwrap_err().contains('7'));
    assert_eq!(crate::guarded(|| Ok::<_, String>(7)), Ok(7));
    assert_eq!(crate::guarded(|| Err::<(), _>("否".to_owned())), Err("否".to_owned()));
}

#[test]
fn delete_case_removes_every_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let id = cases[7].id;
    let name = identity_for(&cases[7]).persons[0].name.clone();
    store.delete_case(id).unwrap();
    assert!(store.row(id).unwrap().is_none());
    assert!(matches!(store.load_case(id), Err(StoreError::NoCase(_))));
    let hits = store.list(&CaseQuery { text: Some(name), ..Default::default() }).unwrap();
    assert!(hits.rows.iter().all(|r| r.id != id));
    assert_eq!(store.outbox_for_case(id).unwrap(), 0);
    let n: i64 = store
        .reader()
        .query_row("SELECT count(*) FROM changes WHERE case_id = ?1", [id.to_string()], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn blobs_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let h1 = store.put_blob(b"scanned letter").unwrap();
    let h2 = store.put_blob(b"scanned letter").unwrap();
    assert_eq!(h1, h2);
    assert_eq!(h1, blob_hash(b"scanned letter"));
    assert_eq!(store.blob_count().unwrap(), 1);
    assert_eq!(store.blob(&h1).unwrap().unwrap(), b"scanned letter");
    assert!(store.blob("0000").unwrap().is_none());
}

#[test]
fn backup_and_restore_mint_a_new_actor() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let old_actor = store.actor();
    let out = dir.path().join("backup.db");
    store.backup(&out).unwrap();
    assert!(matches!(Store::restore(dir.path(), &out), Err(StoreError::InUse { .. })));
    drop(store);
    let other = tempfile::tempdir().unwrap();
    let new_actor = Store::restore(other.path(), &out).unwrap();
    assert_ne!(new_actor, old_actor);
    let restored = Store::open(other.path()).unwrap();
    assert_eq!(restored.actor(), new_actor);
    assert_eq!(restored.list(&CaseQuery::default()).unwrap().total, 137);
    assert_eq!(restored.load_case(cases[1].id).unwrap(), cases[1]);
    assert_eq!(restored.meta("needs_repair").unwrap().as_deref(), Some("1"));
    // New edits are made by the new actor.
    restored
        .edit(cases[1].id, DocKind::Case, |tx| {
            schema::put_field(tx, &CaseField::Subject, FieldValue::Text("x".into()))
        })
        .unwrap();
    let actor = restored
        .with_doc(cases[1].id, DocKind::Case, |d| {
            d.get_last_local_change().map(|c| c.actor_id().clone())
        })
        .unwrap();
    assert_eq!(actor, Some(new_actor));
    // A file that is not a store is refused whole.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let err = Store::restore(tempfile::tempdir().unwrap().path(), &junk).unwrap_err();
    assert!(matches!(err, StoreError::BadBackup { .. }), "{err}");
}

#[test]
fn a_full_disk_refuses_the_edit_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let id = cases[2].id;
    let before = store.load_case(id).unwrap();
    let outbox = store.outbox_len().unwrap();
    {
        let w = store.writer();
        let pages: i64 = w.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        w.conn.pragma_update(None, "max_page_count", pages).unwrap();
    }
    let big = "很长的诉求".repeat(20_000);
    let err = store
        .edit(id, DocKind::Case, |tx| {
            schema::put_field(tx, &CaseField::Request, FieldValue::Text(big.clone()))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::DiskFull(_)), "{err:?}");
    assert!(err.to_string().contains("磁盘已满"));
    assert_eq!(store.load_case(id).unwrap(), before, "memory did not run ahead of the file");
    assert_eq!(store.outbox_len().unwrap(), outbox);
    {
        let w = store.writer();
        w.conn.pragma_update(None, "max_page_count", 1_073_741_823i64).unwrap();
    }
    store
        .edit(id, DocKind::Case, |tx| {
            schema::put_field(tx, &CaseField::Request, FieldValue::Text(big.clone()))
        })
        .unwrap();
    assert_eq!(store.load_case(id).unwrap().request, big);
}

#[test]
fn counters_are_durable_and_monotonic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    assert_eq!(store.reserve_counter("case-2024", 1).unwrap(), 1);
    assert_eq!(store.reserve_counter("case-2024", 1).unwrap(), 2);
    assert_eq!(store.reserve_counter("case-2025", 1).unwrap(), 1);
    assert_eq!(store.reserve_counter("case-2024", 10).unwrap(), 3);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.reserve_counter("case-2024", 1).unwrap(), 13);
}

#[test]
fn a_store_of_the_release_before_finds_by_its_pieces_after_the_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let name = identity_for(&cases[7]).persons[0].name.clone();
    let given: String = name.chars().skip(1).collect();
    let queries = [name.as_str(), given.as_str(), "请求依法查处", "黄桥镇5组", "查处"];
    let totals = |store: &Store| -> Vec<u64> {
        let q = |text: &str| CaseQuery { text: Some(text.into()), ..Default::default() };
        queries.iter().map(|t| store.list(&q(t)).unwrap().total).collect()
    };
    let expected = totals(&store);
    assert!(expected.iter().all(|&n| n > 0), "{expected:?}");
    drop(store);
    // The release before: two search tables with their texts, a row waiting in the old
    // backlog, the eleven migrations before this one, and its projection's stamp.
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "DROP TABLE search; DROP TABLE search_backlog;
         CREATE VIRTUAL TABLE search USING fts5 (number, names, village, request, tokenize = 'trigram');
         CREATE VIRTUAL TABLE search_pairs USING fts5 (pairs);
         INSERT INTO search (rowid, number, names, village, request) VALUES (1, 'x', '旧名', '', '');
         CREATE TABLE search_backlog (id INTEGER PRIMARY KEY, number TEXT NOT NULL,
             names TEXT NOT NULL, village TEXT NOT NULL, request TEXT NOT NULL, pairs TEXT NOT NULL);
         INSERT INTO search_backlog VALUES (2, 'x', '旧名', '', '', '旧名');
         PRAGMA user_version = 11;
         UPDATE meta SET value = 'the release before' WHERE key = 'index_stamp';",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(dir.path()).unwrap();
    assert!(!store.index_is_current().unwrap());
    assert_eq!(totals(&store), vec![0; queries.len()], "nothing found before the refresh");
    assert_eq!(store.refresh_index(&mut |_, _| {}).unwrap(), 137);
    assert_eq!(totals(&store), expected);
    assert_eq!(count(&store, "SELECT count(*) FROM search"), 137);
    assert_eq!(count(&store, "SELECT count(*) FROM sqlite_master WHERE name = 'search_pairs'"), 0);
}

#[test]
fn the_index_is_re_projected_when_the_rules_change_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded(dir.path()).0);
    let db = dir.path().join(DB_FILE);
    let rows = |conn: &Connection| -> Vec<(String, Option<String>, String)> {
        let mut stmt =
            conn.prepare("SELECT case_id, next_due, facts FROM cases ORDER BY case_id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let damage = || {
        let conn = Connection::open(&db).unwrap();
        let before = rows(&conn);
        conn.execute("UPDATE cases SET next_due = NULL, facts = '{}'", []).unwrap();
        before
    };
    let expected = damage();
    assert!(expected.iter().any(|(_, due, _)| due.is_some()));

    // Same rules: the rows are trusted as they are.
    let store = Store::open(dir.path()).unwrap();
    assert!(store.index_is_current().unwrap());
    assert_eq!(store.refresh_index(&mut |_, _| {}).unwrap(), 0);
    drop(store);
    assert!(
        rows(&Connection::open(&db).unwrap())
            .iter()
            .all(|(_, due, facts)| due.is_none() && facts == "{}")
    );

    // A release with other rules (here: an older stamp) re-projects every row.
    Connection::open(&db)
        .unwrap()
        .execute("UPDATE meta SET value = 'an older release' WHERE key = 'index_stamp'", [])
        .unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(!store.index_is_current().unwrap());
    let mut reported = Vec::new();
    assert_eq!(store.refresh_index(&mut |done, total| reported.push((done, total))).unwrap(), 137);
    assert_eq!(reported.last(), Some(&(137, 137)));
    assert!(store.index_is_current().unwrap());
    drop(store);
    assert_eq!(rows(&Connection::open(&db).unwrap()), expected);

    // So does a different holiday table.
    damage();
    let calendar = WorkCalendar::parse("# coverage 2017-01-01 2017-12-31\n").unwrap();
    let rules = Rules::new(PolicyTable::default(), calendar);
    let store = Store::open_with(dir.path(), rules).unwrap();
    assert_eq!(store.refresh_index(&mut |_, _| {}).unwrap(), 137);
    drop(store);
    let reprojected = rows(&Connection::open(&db).unwrap());
    assert!(reprojected.iter().all(|(_, _, facts)| facts != "{}"));
}

#[test]
fn delete_case_takes_its_staging_rows_and_receipts_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let (id, other) = (cases[7].id, cases[8].id);
    let cite = |case: CaseId, hash: &str| {
        let a = ledger_domain::AttachmentRef {
            hash: hash.to_owned(),
            name: "现场.jpg".into(),
            size: 100,
            mime: "image/jpeg".into(),
            added_at: 0,
            added_by: "hq".into(),
        };
        store.edit(case, DocKind::Case, |tx| schema::add_attachment(tx, &a)).unwrap();
    };
    let (own, shared, theirs) = (blob_hash(b"own"), blob_hash(b"shared"), blob_hash(b"theirs"));
    cite(id, &own);
    cite(id, &shared);
    cite(other, &shared);
    cite(other, &theirs);
    for hash in [&own, &shared, &theirs] {
        assert!(!store.stage_blob_piece(hash, 0, 100, &[7; 10]).unwrap());
    }
    for case in [id, other] {
        for kind in [DocKind::Case, DocKind::Identity] {
            assert!(store.stage_piece(case, kind, 0, 1000, &[1; 10]).unwrap().is_none());
        }
    }
    let change_of = |case: CaseId| -> String {
        store
            .reader()
            .query_row(
                "SELECT hash FROM changes WHERE case_id = ?1 ORDER BY hash LIMIT 1",
                [case.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    };
    let (mine, yours) = (change_of(id), change_of(other));
    store.record_receipts(&[("a1".repeat(32), 5, id), ("b2".repeat(32), 5, other)]).unwrap();
    // A receipt from before receipts named their case: found by the change's hash.
    for hash in [&mine, &yours] {
        store
            .writer()
            .conn
            .execute("INSERT INTO receipts (hash, received_at) VALUES (?1, 6)", [hash])
            .unwrap();
    }
    let count = |sql: &str, key: &str| -> i64 {
        store.reader().query_row(sql, [key], |r| r.get(0)).unwrap()
    };
    let staging = "SELECT count(*) FROM staging WHERE case_id = ?1";
    let receipts = "SELECT count(*) FROM receipts WHERE case_id = ?1";
    let receipt = "SELECT count(*) FROM receipts WHERE hash = ?1";
    let blob_staging = "SELECT count(*) FROM blob_staging WHERE hash = ?1";
    assert_eq!(count(staging, &id.to_string()), 2, "precondition");
    assert_eq!(count(receipts, &id.to_string()), 1, "precondition");
    assert_eq!(count(receipt, &mine), 1, "precondition");
    assert_eq!(count(blob_staging, &own), 1, "precondition");

    store.delete_case(id).unwrap();
    assert_eq!(count(staging, &id.to_string()), 0, "the case's documents in transit");
    assert_eq!(count(receipts, &id.to_string()), 0, "its receipts");
    assert_eq!(count(receipt, &mine), 0, "its receipts without a case");
    assert_eq!(count(blob_staging, &own), 0, "an attachment in transit only it cites");
    assert_eq!(store.blob_staged(&own).unwrap(), 0);
    // What another case still needs stays.
    assert_eq!(count(blob_staging, &shared), 1, "an attachment another case cites");
    assert_eq!(count(blob_staging, &theirs), 1);
    assert_eq!(count(staging, &other.to_string()), 2);
    assert_eq!(count(receipts, &other.to_string()), 1);
    assert_eq!(count(receipt, &yours), 1);
}

/// Every case of `from`, both documents saved, as a hub's bootstrap sends them.
fn saved_docs(from: &Store, cases: &[Case]) -> Vec<(CaseId, DocKind, Vec<u8>)> {
    cases
        .iter()
        .flat_map(|c| [(c.id, DocKind::Case), (c.id, DocKind::Identity)])
        .map(|(id, kind)| (id, kind, from.save_doc(id, kind).unwrap()))
        .collect()
}

#[test]
fn a_batch_projects_each_case_once_and_ends_with_the_rows_one_write_at_a_time_makes() {
    let a_dir = tempfile::tempdir().unwrap();
    let (a, cases) = seeded(a_dir.path());
    let docs = saved_docs(&a, &cases);
    let one_dir = tempfile::tempdir().unwrap();
    let one = Store::create(one_dir.path()).unwrap();
    for (id, kind, bytes) in &docs {
        one.merge_remote(*id, *kind, bytes).unwrap();
    }
    let batch_dir = tempfile::tempdir().unwrap();
    let batched = Store::create(batch_dir.path()).unwrap();
    let name = identity_for(&cases[7]).persons[0].name.clone();
    batched
        .batch(|| {
            for (id, kind, bytes) in &docs {
                batched.merge_remote(*id, *kind, bytes)?;
            }
            // Reads inside the batch see what it wrote, its waiting index rows included.
            assert_eq!(batched.row(cases[7].id)?.map(|r| r.number), Some(cases[7].number.clone()));
            let hits =
                batched.list(&CaseQuery { text: Some(name.clone()), ..Default::default() })?;
            assert!(hits.rows.iter().any(|r| r.id == cases[7].id));
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let all = CaseQuery { limit: Some(1000), ..Default::default() };
    let mut expected = one.list(&all).unwrap().rows;
    let mut got = batched.list(&all).unwrap().rows;
    expected.sort_by_key(|r| r.id);
    got.sort_by_key(|r| r.id);
    assert_eq!(got.len(), cases.len());
    assert_eq!(got, expected);
    for text in [name.as_str(), "请求依法查处", "黄桥镇5组"] {
        let query = CaseQuery { text: Some(text.to_owned()), ..Default::default() };
        assert_eq!(batched.list(&query).unwrap().total, one.list(&query).unwrap().total, "{text}");
    }
    // Stored as they came, and whole after a reopen.
    drop(batched);
    let reopened = Store::open(batch_dir.path()).unwrap();
    assert_eq!(reopened.load_case(cases[3].id).unwrap(), one.load_case(cases[3].id).unwrap());
    assert_eq!(
        reopened.load_identity(cases[3].id).unwrap(),
        one.load_identity(cases[3].id).unwrap()
    );
}

fn count(store: &Store, sql: &str) -> i64 {
    store.reader().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_pulls_search_rows_wait_for_one_pass_and_no_search_misses_them() {
    let a_dir = tempfile::tempdir().unwrap();
    let (a, cases) = seeded(a_dir.path());
    let docs = saved_docs(&a, &cases);
    let pulled = |dir: &Path| {
        let store = Store::create(dir).unwrap();
        store
            .batch_replayable(|| {
                for (id, kind, bytes) in &docs {
                    store.merge_remote(*id, *kind, bytes)?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        store
    };
    let name = identity_for(&cases[7]).persons[0].name.clone();
    let texts = [name.as_str(), "请求依法查处", "黄桥镇5组", "查处"];

    // The pages of a pull leave their search rows waiting; the index rows are written.
    let dir = tempfile::tempdir().unwrap();
    let store = pulled(dir.path());
    assert_eq!(count(&store, "SELECT count(*) FROM search_backlog"), 137);
    assert_eq!(count(&store, "SELECT count(*) FROM search"), 0);
    assert_eq!(store.list(&CaseQuery::default()).unwrap().total, 137);
    // A text search moves them first and finds what the store written a row at a time finds.
    for text in texts {
        let query = CaseQuery { text: Some(text.to_owned()), ..Default::default() };
        assert_eq!(store.list(&query).unwrap().total, a.list(&query).unwrap().total, "{text}");
    }
    assert_eq!(count(&store, "SELECT count(*) FROM search_backlog"), 0);
    assert_eq!(count(&store, "SELECT count(*) FROM search"), 137);
    assert_eq!(store.catch_up_search().unwrap(), 0, "nothing left to move");

    // Inside the pull's own batch, a text search sees the batch's cases (on the writer's
    // connection, which is inside the batch's transaction).
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    store
        .batch_replayable(|| {
            for (id, kind, bytes) in &docs {
                store.merge_remote(*id, *kind, bytes)?;
            }
            let query = CaseQuery { text: Some(name.clone()), ..Default::default() };
            assert!(store.list(&query)?.rows.iter().any(|r| r.id == cases[7].id));
            Ok::<_, StoreError>(())
        })
        .unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM search_backlog"), 0);

    // The pull's end moves them without a search.
    let dir = tempfile::tempdir().unwrap();
    let store = pulled(dir.path());
    assert_eq!(store.catch_up_search().unwrap(), 137);
    assert_eq!(count(&store, "SELECT count(*) FROM search"), 137);

    // A case deleted while its row waits takes the row (and the names in it) along.
    let dir = tempfile::tempdir().unwrap();
    let store = pulled(dir.path());
    store.delete_case(cases[7].id).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM search_backlog"), 136);
    let held: i64 = store
        .reader()
        .query_row(
            "SELECT count(*) FROM search_backlog WHERE grams LIKE ?1",
            [format!("%{}%", index::grams(&[&name]))],
            |r| r.get(0),
        )
        .unwrap();
    let others = cases.iter().filter(|c| c.id != cases[7].id);
    let namesakes = others.filter(|c| identity_for(c).persons.iter().any(|p| p.name == name));
    assert_eq!(held as usize, namesakes.count());

    // A row written directly after the pull is newer than the waiting one, which must not
    // overwrite it: here the case leaves (no search finds it).
    let dir = tempfile::tempdir().unwrap();
    let store = pulled(dir.path());
    let mut leaving = cases[3].clone();
    leaving.demo = true;
    leaving
        .events
        .push(ledger_domain::Event { action: ActionKind::RemoveDemo, ..leaving.events[0].clone() });
    let p = index::project(&leaving, None, &Automerge::new(), &store.rules());
    index::write(&store.writer().conn, &cases[3].id.to_string(), &p, 0).unwrap();
    let query = CaseQuery { text: Some("请求依法查处".into()), ..Default::default() };
    assert_eq!(store.list(&query).unwrap().total, 136, "counted by the search rows alone");

    // An identity that leaves (the case became restricted) takes its waiting names along.
    let dir = tempfile::tempdir().unwrap();
    let store = pulled(dir.path());
    let id = cases[7].id;
    store.delete_doc(id, DocKind::Identity).unwrap();
    let waiting: i64 = store
        .reader()
        .query_row(
            "SELECT count(*) FROM search_backlog WHERE id = (SELECT id FROM cases WHERE case_id = ?1)",
            [id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(waiting, 0);
    let hits = store.list(&CaseQuery { text: Some(name.clone()), ..Default::default() }).unwrap();
    assert!(hits.rows.iter().all(|r| r.id != id), "found by a name that left");
}

#[test]
fn a_failed_batch_leaves_nothing_behind() {
    let a_dir = tempfile::tempdir().unwrap();
    let (a, cases) = seeded(a_dir.path());
    let docs = saved_docs(&a, &cases[..3]);
    let dir = tempfile::tempdir().unwrap();
    let b = Store::create(dir.path()).unwrap();
    let result: Result<()> = b.batch(|| {
        for (id, kind, bytes) in &docs {
            b.merge_remote(*id, *kind, bytes)?;
        }
        b.set_meta(&[("cursor", "page 2")])?;
        Err(StoreError::NoCase(cases[0].id))
    });
    assert!(matches!(result, Err(StoreError::NoCase(_))));
    for c in &cases[..3] {
        assert!(b.row(c.id).unwrap().is_none());
        assert!(!b.has_doc(c.id, DocKind::Case).unwrap());
        // The documents loaded during the batch went with it.
        assert!(matches!(b.load_case(c.id), Err(StoreError::NoCase(_))));
    }
    assert_eq!(b.meta("cursor").unwrap(), None);
    // The store goes on: the same page applies cleanly afterwards.
    b.batch(|| {
        for (id, kind, bytes) in &docs {
            b.merge_remote(*id, *kind, bytes)?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(b.list(&CaseQuery::default()).unwrap().total, 3);
}

#[test]
fn a_write_that_fails_part_way_inside_a_batch_fails_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let result = store.batch(|| {
        store.set_meta(&[("before", "1")])?;
        // A write that returned early, its transaction dropped uncommitted: even if the caller
        // went on, the batch must not commit the half of it that ran.
        let mut w = store.writer();
        let tx = w.tx()?;
        tx.execute("INSERT INTO meta (key, value) VALUES ('half', '1')", [])?;
        drop(tx);
        Ok::<_, StoreError>(())
    });
    assert!(matches!(result, Err(StoreError::BatchFailed(_))), "{result:?}");
    assert_eq!(store.meta("before").unwrap(), None);
    assert_eq!(store.meta("half").unwrap(), None);
    // Outside a batch the same drop rolls back its own savepoint and nothing else.
    store.set_meta(&[("after", "1")]).unwrap();
    {
        let mut w = store.writer();
        let tx = w.tx().unwrap();
        tx.execute("INSERT INTO meta (key, value) VALUES ('half', '1')", []).unwrap();
    }
    assert_eq!(store.meta("half").unwrap(), None);
    assert_eq!(store.meta("after").unwrap().as_deref(), Some("1"));
}

#[test]
fn other_threads_wait_for_a_batch_and_read_what_was_there_before_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::create(dir.path()).unwrap());
    store.set_meta(&[("k", "old")]).unwrap();
    let committed = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (read_tx, read_rx) = std::sync::mpsc::channel::<()>();
    let batcher = {
        let store = store.clone();
        let committed = committed.clone();
        std::thread::spawn(move || {
            store
                .batch(|| {
                    store.set_meta(&[("k", "new")])?;
                    started_tx.send(()).unwrap();
                    // Held open until the other thread has read (and started its write).
                    read_rx.recv().unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            committed.store(true, Ordering::SeqCst);
        })
    };
    started_rx.recv().unwrap();
    assert_eq!(
        store.meta("k").unwrap().as_deref(),
        Some("old"),
        "a batch is seen whole or not at all"
    );
    read_tx.send(()).unwrap();
    store.set_meta(&[("other", "1")]).unwrap();
    assert!(committed.load(Ordering::SeqCst), "a write from another thread waited for the batch");
    batcher.join().unwrap();
    assert_eq!(store.meta("k").unwrap().as_deref(), Some("new"));
    assert_eq!(store.meta("other").unwrap().as_deref(), Some("1"));
}

#[test]
fn a_panic_inside_a_batch_rolls_it_back_and_frees_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::create(dir.path()).unwrap());
    let panicked = std::thread::spawn({
        let store = store.clone();
        move || {
            let _ = store.batch(|| -> Result<()> {
                store.set_meta(&[("k", "written before the panic")])?;
                panic!("a bug inside the batch");
            });
        }
    })
    .join();
    assert!(panicked.is_err());
    assert_eq!(store.meta("k").unwrap(), None);
    store.set_meta(&[("k", "after")]).unwrap();
    assert_eq!(store.meta("k").unwrap().as_deref(), Some("after"));
}

/// What the writer's `PRAGMA synchronous` is now (1 NORMAL, 2 FULL).
fn writer_synchronous(store: &Store) -> i64 {
    store.writer().conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap()
}

#[test]
fn a_replayable_batch_skips_the_disk_wait_and_every_other_commit_keeps_it() {
    let a_dir = tempfile::tempdir().unwrap();
    let (a, cases) = seeded(a_dir.path());
    let docs = saved_docs(&a, &cases[..3]);
    let dir = tempfile::tempdir().unwrap();
    let b = Store::create(dir.path()).unwrap();
    assert_eq!(writer_synchronous(&b), 2);
    b.batch_replayable(|| {
        for (id, kind, bytes) in &docs {
            b.merge_remote(*id, *kind, bytes)?;
        }
        assert_eq!(writer_synchronous(&b), 1);
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(writer_synchronous(&b), 2);
    assert_eq!(b.list(&CaseQuery::default()).unwrap().total, 3);
    // A failed one rolls back whole and leaves the writer waiting for the disk again.
    let failed: Result<()> = b.batch_replayable(|| {
        b.set_meta(&[("cursor", "page 3")])?;
        Err(StoreError::NoCase(cases[0].id))
    });
    assert!(matches!(failed, Err(StoreError::NoCase(_))));
    assert_eq!(b.meta("cursor").unwrap(), None);
    assert_eq!(writer_synchronous(&b), 2);
    b.batch(|| {
        assert_eq!(writer_synchronous(&b), 2);
        Ok::<_, StoreError>(())
    })
    .unwrap();
    // What it wrote is there after a reopen.
    drop(b);
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(reopened.list(&CaseQuery::default()).unwrap().total, 3);
}

#[test]
fn a_damaged_case_id_in_the_index_is_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let number = store.row(cases[0].id).unwrap().unwrap().number;
    assert_eq!(store.case_ids().unwrap().len(), cases.len());
    drop(store);
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute(
        "UPDATE cases SET case_id = 'not-a-case-id', demo = 1 WHERE case_id = ?1",
        [cases[0].id.to_string()],
    )
    .unwrap();
    drop(conn);

    let store = Store::open(dir.path()).unwrap();
    for err in [
        store.case_ids().unwrap_err(),
        store.demo_cases().unwrap_err(),
        store.find_by_number(&number).unwrap_err(),
    ] {
        assert!(err.to_string().contains("案件标识「not-a-case-id」已损坏"), "{err}");
    }
}

#[test]
fn a_status_or_category_the_index_cannot_hold_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let id = cases[0].id;
    let status = store.row(id).unwrap().unwrap().status;
    drop(store);
    let db = dir.path().join(DB_FILE);
    let set = |sql: &str| {
        let conn = Connection::open(&db).unwrap();
        conn.execute(sql, [id.to_string()]).unwrap();
    };

    // A newer version's category is kept, as the case document keeps it.
    set("UPDATE cases SET category = 'newer_category' WHERE case_id = ?1");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.row(id).unwrap().unwrap().category,
        Category::Unknown("newer_category".into())
    );
    drop(store);

    // This version's replay wrote every status: one it does not know is a damaged index.
    set("UPDATE cases SET status = 'garbage' WHERE case_id = ?1");
    let store = Store::open(dir.path()).unwrap();
    let err = store.row(id).unwrap_err().to_string();
    assert!(err.contains("办理状态「garbage」无效"), "{err}");
    let err = store.list(&CaseQuery::default()).unwrap_err().to_string();
    assert!(err.contains("办理状态「garbage」无效"), "{err}");
    drop(store);

    // A category that is no code at all.
    set(&format!(
        "UPDATE cases SET status = '{}', category = '' WHERE case_id = ?1",
        status.code()
    ));
    let store = Store::open(dir.path()).unwrap();
    let err = store.row(id).unwrap_err().to_string();
    assert!(err.contains("问题类别「」无效"), "{err}");
}

#[test]
fn a_date_the_index_cannot_hold_is_reported_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let id = cases[0].id;
    drop(store);
    let db = dir.path().join(DB_FILE);
    let set = |sql: &str| {
        let conn = Connection::open(&db).unwrap();
        conn.execute(sql, [id.to_string()]).unwrap();
    };

    // No due date at all is a case with nothing due, not damage.
    set("UPDATE cases SET next_due = NULL WHERE case_id = ?1");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.row(id).unwrap().unwrap().next_due, None);
    drop(store);

    set("UPDATE cases SET next_due = '2024-02-30' WHERE case_id = ?1");
    let store = Store::open(dir.path()).unwrap();
    let err = store.row(id).unwrap_err().to_string();
    assert!(err.contains("下一期限「2024-02-30」无效"), "{err}");
    let err = store.list(&CaseQuery::default()).unwrap_err().to_string();
    assert!(err.contains("下一期限「2024-02-30」无效"), "{err}");
    drop(store);

    set("UPDATE cases SET next_due = NULL, received = 'yesterday' WHERE case_id = ?1");
    let store = Store::open(dir.path()).unwrap();
    let err = store.row(id).unwrap_err().to_string();
    assert!(err.contains("登记日期「yesterday」无效"), "{err}");
}

#[test]
fn a_damaged_outbox_row_is_reported_not_sent_under_another_case() {
    for (column, value, said) in [
        ("case_id", "'not-a-case-id'", "案件标识「not-a-case-id」"),
        ("kind", "9", "文档类型「9」"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (store, _cases) = seeded(dir.path());
        assert!(!store.outbox_batch(1 << 20, usize::MAX).unwrap().is_empty());
        drop(store);
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute(
            &format!(
                "UPDATE outbox SET {column} = {value} WHERE seq = (SELECT min(seq) FROM outbox)"
            ),
            [],
        )
        .unwrap();
        drop(conn);
        let store = Store::open(dir.path()).unwrap();
        let err = store.outbox_batch(1 << 20, usize::MAX).unwrap_err().to_string();
        assert!(err.contains(said) && err.contains("已损坏"), "{err}");
    }
}

/// With SQLite's own checkpoints replaced by the store's thread, the WAL still reaches the
/// file, by the thread: with the store open (so no closing checkpoint), past the thread's
/// threshold and short of the writer's, the file grows and the thread counts a checkpoint. On
/// an encrypted store too (the thread's connection is unlocked with the store's key).
#[test]
fn an_open_store_copies_its_wal_into_its_file_on_its_thread() {
    for key in [None, Some(StoreKey::from_bytes([7; 32]))] {
        let dir = tempfile::tempdir().unwrap();
        let store = match &key {
            Some(key) => Store::create_keyed(dir.path(), None, Some(key.clone())).unwrap(),
            None => Store::create(dir.path()).unwrap(),
        };
        let file = dir.path().join(DB_FILE);
        let before = std::fs::metadata(&file).unwrap().len();
        for i in 0..6u8 {
            store.put_blob(&vec![i; 1_000_000]).unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let grown = || std::fs::metadata(&file).unwrap().len() > before + 3_000_000;
        while !(grown() && store.checkpoints_done() > 0) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(store.checkpoints_done() > 0, "the thread never checkpointed ({key:?})");
        assert!(grown(), "the file stayed at {} bytes", std::fs::metadata(&file).unwrap().len());
        assert_eq!(store.blob_count().unwrap(), 6);
    }
}

#[test]
fn a_case_that_does_not_read_fails_its_batch_unless_the_owner_takes_it() {
    use ledger_domain::automerge::{ROOT, transaction::Transactable};
    let dir = tempfile::tempdir().unwrap();
    let (store, cases) = seeded(dir.path());
    let id = cases[3].id;
    let mut doc = store.with_doc(id, DocKind::Case, Clone::clone).unwrap();
    let mut tx = doc.transaction();
    tx.put(ROOT, "petitioners", 5_i64).unwrap();
    tx.commit();
    let spoiling = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
    let heads = store.with_doc(id, DocKind::Case, |d| d.get_heads()).unwrap();
    let row = store.row(id).unwrap();

    // A batch that does not take it fails whole, as before: nothing of it is stored.
    let failed = store.batch_replayable(|| {
        store.apply_remote(id, DocKind::Case, vec![spoiling.clone()]).map(|_| ())
    });
    assert!(matches!(failed, Err(StoreError::BatchFailed(_))), "{failed:?}");
    assert_eq!(store.with_doc(id, DocKind::Case, |d| d.get_heads()).unwrap(), heads);
    assert!(store.load_case(id).is_ok());

    // Its owner takes it: the batch commits, the case named, its row as it was.
    let taken = store
        .batch_replayable(|| {
            store.apply_remote(id, DocKind::Case, vec![spoiling])?;
            store.take_unreadable()
        })
        .unwrap();
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].0, id);
    assert!(taken[0].1.contains("petitioners"), "{taken:?}");
    assert_eq!(store.row(id).unwrap(), row);
    assert_ne!(store.with_doc(id, DocKind::Case, |d| d.get_heads()).unwrap(), heads);
    // Outside a batch there is nothing to take.
    assert!(store.take_unreadable().unwrap().is_empty());

    // Re-projecting the index (new rules, a new release) passes over it, row kept.
    crate::meta_set(&store.writer().conn, index::STAMP_KEY, "stale").unwrap();
    assert!(!store.index_is_current().unwrap());
    store.refresh_index(&mut |_, _| {}).unwrap();
    assert!(store.index_is_current().unwrap());
    assert_eq!(store.row(id).unwrap(), row);
    // An upgrade that rebuilt the search table: the refresh gives it a search row from its
    // index row (number, names, village), once.
    let number = row.as_ref().unwrap().number.clone();
    let by_number = |store: &Store| {
        let hits = store.list(&CaseQuery { text: Some(number.clone()), ..Default::default() });
        hits.unwrap().rows.iter().any(|r| r.id == id)
    };
    assert!(by_number(&store));
    store
        .writer()
        .conn
        .execute(
            "DELETE FROM search WHERE rowid = (SELECT id FROM cases WHERE case_id = ?1)",
            [id.to_string()],
        )
        .unwrap();
    assert!(!by_number(&store));
    for _ in 0..2 {
        crate::meta_set(&store.writer().conn, index::STAMP_KEY, "stale").unwrap();
        store.refresh_index(&mut |_, _| {}).unwrap();
        assert!(by_number(&store));
    }
    assert_eq!(count(&store, "SELECT count(*) FROM search"), 137);

    // Its identity can still leave (a case made restricted), and its names leave with it:
    // the row, which cannot be projected again without them, goes too.
    let name = identity_for(&cases[3]).persons[0].name.clone();
    let named = |store: &Store| {
        let hits = store.list(&CaseQuery { text: Some(name.clone()), ..Default::default() });
        hits.unwrap().rows.iter().any(|r| r.id == id)
    };
    assert!(named(&store));
    store.delete_doc(id, DocKind::Identity).unwrap();
    assert!(!store.has_doc(id, DocKind::Identity).unwrap());
    assert!(store.row(id).unwrap().is_none());
    assert!(!named(&store));
}
