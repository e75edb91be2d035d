//! One conformance suite for every `HubStore` backend. Each check is written once against
//! `&dyn HubStore` and run by the `conformance!` macro on a fresh `SqliteHubStore` (in a
//! temporary directory), a fresh `PgHubStore` (on a database of its own on the server
//! `LEDGER_TEST_PG` names) and a fresh `MemoryHubStore`: a check passing on one and failing on
//! another is a backend that does not keep the trait's contract.
//!
//! Where only a durable store can promise something (keys kept across a reopen), the check runs
//! on SQLite and PostgreSQL, below the suite. Last come engine rounds run on every backend,
//! whose results must agree.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ledger_domain::{CaseFacts, CaseId, Category, Purpose, Role, Sector, Status};
use ledger_hub::store::{
    CaseScope, Commit, DeviceRecord, DocWrite, LogEntry, LogKind, LogRow, NewLogRow, OfficeRecord,
    QuarantineRecord, Reader, StoreError, StoredChange, SyncHealth,
};
use ledger_hub::{HubStore, MemoryHubStore, SqliteHubStore};
use ledger_protocol::{BlobChunk, DocKind};
use uuid::Uuid;

#[path = "support/office.rs"]
mod office;
#[path = "support/pg.rs"]
mod pg;

/// Instantiates every check once per backend, each on a store of its own.
macro_rules! conformance {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = ledger_hub::SqliteHubStore::open(dir.path()).unwrap();
                    super::$check(&store);
                }
            )+
        }

        mod memory {
            $(
                #[test]
                fn $check() {
                    super::$check(&ledger_hub::MemoryHubStore::new());
                }
            )+
        }

        mod postgres {
            $(
                #[test]
                fn $check() {
                    let db = super::pg::TestDb::create();
                    let dir = tempfile::tempdir().unwrap();
                    let store = ledger_hub::PgHubStore::open(&db.url, dir.path()).unwrap();
                    super::$check(&store);
                }
            )+
        }
    };
}

conformance! {
    offices_are_unique_and_listed_bureau_first,
    a_token_enrolls_one_device,
    a_refused_enrollment_leaves_the_token_unused,
    devices_are_listed_by_office_then_enrollment,
    a_device_key_is_registered_once,
    revoking_a_device_or_a_whole_office,
    actors_belong_to_the_device_that_registered_them_first,
    a_device_registers_a_bounded_number_of_actors,
    sync_health_is_recorded_per_device,
    the_secret_and_the_signing_key_are_made_once,
    meta_values_are_replaced,
    county_townships_keep_their_order,
    the_directory_stamp_moves_with_offices_and_townships,
    documents_keep_a_snapshot_a_tail_and_a_version,
    a_tail_naming_a_change_the_hub_does_not_hold_is_reported,
    a_stale_commit_stores_nothing,
    a_commit_planned_with_a_scope_since_changed_stores_nothing,
    a_commit_checks_every_expected_version,
    a_batch_may_write_one_document_twice,
    many_documents_in_one_batch_all_or_none,
    the_first_copy_of_a_change_stands,
    the_log_pages_in_sequence_order,
    the_log_shows_each_reader_its_rows,
    case_scope_and_facts,
    scope_docs_filters_by_reader_and_pages,
    scope_docs_can_leave_out_the_readers_own_documents,
    all_docs_pages_in_case_then_kind_order,
    evictions_keep_the_first_confirmation,
    leaves_are_found_per_case_and_office,
    quarantine_keeps_the_newest_per_device,
    identity_drops_are_remembered,
    number_leases_never_overlap,
    leases_taken_at_once_keep_to_the_days_limit,
    blobs_are_assembled_from_pieces_in_order,
    a_blob_that_does_not_match_its_hash_is_dropped,
    stale_uploads_expire,
    blob_cases_list_the_citing_cases,
    purging_a_demo_case,
    sequence_numbers_are_never_reused,
    setting_a_document_aside,
    a_survey_reads_what_each_read_would,
    concurrent_commits_keep_the_log_in_order,
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const FAR: i64 = i64::MAX / 2;

fn case(n: u128) -> CaseId {
    CaseId(Uuid::from_u128(n))
}

fn office(code: &str, role: Role, townships: &[&str]) -> OfficeRecord {
    OfficeRecord {
        code: code.to_owned(),
        name: format!("{code} 国土所"),
        role,
        townships: townships.iter().map(|t| (*t).to_owned()).collect(),
        created_at: 7,
    }
}

fn device(id: &str, office: &str, actor: &str, enrolled_at: i64) -> DeviceRecord {
    DeviceRecord {
        id: id.to_owned(),
        office: office.to_owned(),
        name: format!("host-{id}"),
        actor: actor.to_owned(),
        letter: "A".to_owned(),
        enrolled_at,
        revoked_at: None,
        last_sync: None,
        pending: 0,
        last_error: None,
        skew_ms: None,
        public_key: None,
    }
}

/// Adds the office `hq` (township 黄桥镇), `sj` (石江镇) and the bureau `county`.
fn county(store: &dyn HubStore) {
    store.add_office(&office("county", Role::Bureau, &[])).unwrap();
    store.add_office(&office("hq", Role::Township, &["黄桥镇"])).unwrap();
    store.add_office(&office("sj", Role::Township, &["石江镇"])).unwrap();
}

/// Enrolls a device with a token of its own; its credential hash is `cred-<id>`.
fn enroll(store: &dyn HubStore, record: &DeviceRecord) {
    let token = format!("tok-{}", record.id);
    store.add_token(&record.office, &token, FAR).unwrap();
    store.use_token(&token, record, &format!("cred-{}", record.id)).unwrap();
}

fn change(hash: &str, case: CaseId, kind: DocKind, device: &str) -> StoredChange {
    StoredChange {
        hash: hash.to_owned(),
        case_id: case,
        kind,
        device: device.to_owned(),
        received_at: 100,
        bytes: format!("bytes of {hash}").into_bytes(),
    }
}

fn write(
    case: CaseId,
    kind: DocKind,
    snapshot: Option<&str>,
    tail: &[&str],
    expected: Option<i64>,
) -> DocWrite {
    DocWrite {
        case_id: case,
        kind,
        snapshot: snapshot.map(|s| s.as_bytes().to_vec()),
        tail: tail.iter().map(|h| (*h).to_owned()).collect(),
        expected,
    }
}

fn scope(township: Option<&str>, registrar: &str, restricted: bool) -> CaseScope {
    CaseScope { township: township.map(str::to_owned), registrar: registrar.to_owned(), restricted }
}

fn facts(id: CaseId, status: Status, anomalies: u32) -> CaseFacts {
    CaseFacts {
        id,
        status,
        township: Some("黄桥镇".to_owned()),
        sector: Sector::Land,
        category: Category::IllegalTransfer,
        purpose: Purpose::Suggestion,
        submissions: Vec::new(),
        received: None,
        decide_due: None,
        decided_on: None,
        notice: Default::default(),
        accepted_on: None,
        handle_due: None,
        first_reply_on: None,
        closed_on: None,
        evaluation: None,
        evaluated_on: None,
        rating_due: None,
        statutory: false,
        anomalies,
    }
}

/// A change row visible to offices answering for `township` (or to `registrar`).
fn change_row(
    case: CaseId,
    kind: DocKind,
    hash: &str,
    author: &str,
    township: Option<&str>,
    registrar: Option<&str>,
    bureau_only: bool,
) -> NewLogRow {
    NewLogRow {
        case_id: case,
        kind,
        entry: LogEntry::Change {
            hash: hash.to_owned(),
            author_device: author.to_owned(),
            township: township.map(str::to_owned),
            registrar: registrar.map(str::to_owned),
            bureau_only,
        },
        received_at: 500,
    }
}

fn enter(case: CaseId, kind: DocKind, target: &str) -> NewLogRow {
    NewLogRow {
        case_id: case,
        kind,
        entry: LogEntry::Enter { target: target.to_owned() },
        received_at: 600,
    }
}

fn leave(case: CaseId, kind: DocKind, target: &str) -> NewLogRow {
    NewLogRow {
        case_id: case,
        kind,
        entry: LogEntry::Leave { target: target.to_owned() },
        received_at: 700,
    }
}

/// A reader that is the bureau (sees every change but its own).
fn bureau(device: &str) -> Reader<'_> {
    Reader { office: "county", device, bureau: true, townships: &[] }
}

fn township<'a>(office: &'a str, device: &'a str, townships: &'a [String]) -> Reader<'a> {
    Reader { office, device, bureau: false, townships }
}

/// Everything in the log, as the bureau's reader `nobody` sees it.
fn whole_log(store: &dyn HubStore) -> Vec<LogRow> {
    store.log_after(0, &bureau("nobody"), usize::MAX).unwrap()
}

/// Every row of the log: the bureau's view (all changes) merged with each office's own enter
/// and leave rows, in sequence order.
fn every_row(store: &dyn HubStore, offices: &[&str]) -> Vec<LogRow> {
    let mut rows = whole_log(store);
    for office in offices {
        let reader = township(office, "nobody", &[]);
        rows.extend(store.log_after(0, &reader, usize::MAX).unwrap());
    }
    rows.sort_by_key(|r| r.seq);
    rows.dedup();
    rows
}

/// A case with its case document (one change `h<n>`) and a scope, committed.
fn seed_case(store: &dyn HubStore, id: CaseId, hash: &str, s: CaseScope) {
    store
        .commit(&Commit {
            changes: vec![change(hash, id, DocKind::Case, "dev-a")],
            docs: vec![write(id, DocKind::Case, Some("snap"), &[], None)],
            cases: vec![(id, s, None)],
            log: vec![change_row(id, DocKind::Case, hash, "dev-a", Some("黄桥镇"), None, false)],
            ..Commit::default()
        })
        .unwrap();
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn piece(hash: &str, offset: u64, total: u64, bytes: &[u8]) -> BlobChunk {
    BlobChunk { hash: hash.to_owned(), offset, total, bytes: bytes.to_vec() }
}

fn quarantined(hash: &str, device: &str, bytes: Vec<u8>) -> QuarantineRecord {
    QuarantineRecord {
        hash: hash.to_owned(),
        case_id: case(9),
        kind: DocKind::Case,
        device: device.to_owned(),
        office: "hq".to_owned(),
        rule: "R1".to_owned(),
        reason: "不合规则".to_owned(),
        received_at: 42,
        bytes,
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Offices, tokens, devices, actors

fn offices_are_unique_and_listed_bureau_first(store: &dyn HubStore) {
    assert_eq!(store.offices().unwrap(), vec![]);
    store.add_office(&office("sj", Role::Township, &["石江镇"])).unwrap();
    store.add_office(&office("county", Role::Bureau, &[])).unwrap();
    store.add_office(&office("hq", Role::Township, &["黄桥镇", "大屋乡"])).unwrap();

    let twin = OfficeRecord { name: "另一个".to_owned(), ..office("hq", Role::Bureau, &[]) };
    assert!(matches!(store.add_office(&twin), Err(StoreError::Conflict(_))));
    // The conflict changed nothing.
    assert_eq!(
        store.office("hq").unwrap(),
        Some(office("hq", Role::Township, &["黄桥镇", "大屋乡"]))
    );
    assert_eq!(store.office("nope").unwrap(), None);

    let codes: Vec<String> = store.offices().unwrap().into_iter().map(|o| o.code).collect();
    assert_eq!(codes, ["county", "hq", "sj"]);
}

fn a_token_enrolls_one_device(store: &dyn HubStore) {
    county(store);
    store.add_token("hq", "tok", 5_000).unwrap();
    let token = store.token("tok").unwrap().unwrap();
    assert_eq!((token.office.as_str(), token.expires_at, token.used.clone()), ("hq", 5_000, None));
    assert_eq!(store.token("other").unwrap(), None);
    // A token hash is a key: the same one twice is refused.
    assert!(store.add_token("hq", "tok", 6_000).is_err());
    assert_eq!(store.token("tok").unwrap().unwrap().expires_at, 5_000);
    // A token for an office the hub does not know is refused.
    assert!(store.add_token("nope", "tok-nope", 5_000).is_err());
    assert_eq!(store.token("tok-nope").unwrap(), None);

    let d = DeviceRecord { public_key: Some("ab".repeat(32)), ..device("d1", "hq", "a1", 1_000) };
    store.use_token("tok", &d, "cred-1").unwrap();
    let used = store.token("tok").unwrap().unwrap();
    assert_eq!(used.used, Some((1_000, "a1".to_owned(), "d1".to_owned())));
    assert_eq!(store.device("d1").unwrap(), Some(d.clone()));
    assert_eq!(store.device_by_credential("cred-1").unwrap(), Some((d.clone(), "cred-1".into())));
    assert_eq!(store.device_by_credential("cred-2").unwrap(), None);
    assert_eq!(store.device("d2").unwrap(), None);

    // A used token (or an unknown one) enrolls nothing more.
    let again = store.use_token("tok", &device("d2", "hq", "a2", 2_000), "cred-2");
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let unknown = store.use_token("never", &device("d3", "hq", "a3", 2_000), "cred-3");
    assert!(matches!(unknown, Err(StoreError::Conflict(_))), "{unknown:?}");
    assert_eq!(store.devices(None).unwrap(), vec![d]);
}

fn a_refused_enrollment_leaves_the_token_unused(store: &dyn HubStore) {
    county(store);
    enroll(store, &device("d1", "hq", "a1", 1_000));
    store.add_token("hq", "t2", FAR).unwrap();
    // The same device id, then the same credential: the token stays unused each time.
    let same_id = store.use_token("t2", &device("d1", "hq", "a9", 2_000), "cred-new");
    assert!(same_id.is_err());
    assert_eq!(store.token("t2").unwrap().unwrap().used, None);
    let same_credential = store.use_token("t2", &device("d2", "hq", "a2", 2_000), "cred-d1");
    assert!(same_credential.is_err());
    assert_eq!(store.token("t2").unwrap().unwrap().used, None);
    assert_eq!(store.device("d2").unwrap(), None);
    assert_eq!(store.device("d1").unwrap().unwrap().actor, "a1");
    // And the token still works.
    store.use_token("t2", &device("d2", "hq", "a2", 2_000), "cred-d2").unwrap();
    assert!(store.token("t2").unwrap().unwrap().used.is_some());
}

fn devices_are_listed_by_office_then_enrollment(store: &dyn HubStore) {
    county(store);
    for d in [
        device("z-first", "sj", "a1", 100),
        device("b-late", "hq", "a2", 300),
        device("y-early", "hq", "a3", 200),
        device("a-bureau", "county", "a4", 400),
    ] {
        enroll(store, &d);
    }
    let ids = |office: Option<&str>| -> Vec<String> {
        store.devices(office).unwrap().into_iter().map(|d| d.id).collect()
    };
    assert_eq!(ids(None), ["a-bureau", "y-early", "b-late", "z-first"]);
    assert_eq!(ids(Some("hq")), ["y-early", "b-late"]);
    assert_eq!(ids(Some("nope")), Vec::<String>::new());
}

fn a_device_key_is_registered_once(store: &dyn HubStore) {
    county(store);
    enroll(store, &device("d1", "hq", "a1", 1));
    assert!(store.register_device_key("d1", "key-1").unwrap());
    // A key already registered is never replaced.
    assert!(!store.register_device_key("d1", "key-2").unwrap());
    assert_eq!(store.device("d1").unwrap().unwrap().public_key.as_deref(), Some("key-1"));
    assert!(!store.register_device_key("nope", "key-3").unwrap());
    assert_eq!(store.device("nope").unwrap(), None);
}

fn revoking_a_device_or_a_whole_office(store: &dyn HubStore) {
    county(store);
    enroll(store, &device("h1", "hq", "a1", 1));
    enroll(store, &device("h2", "hq", "a2", 2));
    enroll(store, &device("h3", "hq", "a3", 3));
    enroll(store, &device("s1", "sj", "a4", 4));
    store.add_token("hq", "open-late", 9_000).unwrap();
    store.add_token("hq", "open-early", 50).unwrap();
    store.add_token("sj", "sj-open", 9_000).unwrap();

    // A device of another office is not revoked through this one.
    assert_eq!(store.revoke("hq", Some("s1"), 100).unwrap(), 0);
    assert_eq!(store.revoke("hq", Some("h1"), 100).unwrap(), 1);
    assert_eq!(store.revoke("hq", Some("h1"), 150).unwrap(), 0, "already revoked");
    assert_eq!(store.device("h1").unwrap().unwrap().revoked_at, Some(100));
    // Revoking one device leaves the office's tokens alone.
    assert_eq!(store.token("open-late").unwrap().unwrap().expires_at, 9_000);

    assert_eq!(store.revoke("hq", None, 200).unwrap(), 2);
    assert_eq!(store.device("h1").unwrap().unwrap().revoked_at, Some(100), "kept");
    assert_eq!(store.device("h2").unwrap().unwrap().revoked_at, Some(200));
    assert_eq!(store.device("h3").unwrap().unwrap().revoked_at, Some(200));
    assert_eq!(store.device("s1").unwrap().unwrap().revoked_at, None);
    // Its unused tokens stop working; one expiring earlier keeps its day; a used one and
    // another office's are untouched.
    assert!(store.token("open-late").unwrap().unwrap().expires_at < 200);
    assert_eq!(store.token("open-early").unwrap().unwrap().expires_at, 50);
    assert_eq!(store.token("tok-h2").unwrap().unwrap().expires_at, FAR);
    assert_eq!(store.token("sj-open").unwrap().unwrap().expires_at, 9_000);
}

fn actors_belong_to_the_device_that_registered_them_first(store: &dyn HubStore) {
    county(store);
    enroll(store, &device("h1", "hq", "aa01", 1));
    enroll(store, &device("s1", "sj", "bb01", 2));
    assert_eq!(store.actor_office("aa01").unwrap().as_deref(), Some("hq"));
    assert_eq!(store.actor_office("ff00").unwrap(), None);

    store.register_actor("aa02", "h1", "hq").unwrap();
    assert_eq!(store.actor_office("aa02").unwrap().as_deref(), Some("hq"));
    // An actor already known stays with its device, whoever registers it again.
    store.register_actor("aa02", "s1", "sj").unwrap();
    store.register_actor("aa01", "s1", "sj").unwrap();
    assert_eq!(store.actor_office("aa02").unwrap().as_deref(), Some("hq"));
    assert_eq!(store.actor_office("aa01").unwrap().as_deref(), Some("hq"));
    assert_eq!(sorted(store.device_actors("h1").unwrap()), ["aa01", "aa02"]);
    assert_eq!(store.device_actors("s1").unwrap(), ["bb01"]);
    assert_eq!(store.device_actors("nope").unwrap(), Vec::<String>::new());
    // An actor of a device the hub does not know is refused.
    assert!(store.register_actor("cc01", "ghost", "hq").is_err());
    assert_eq!(store.actor_office("cc01").unwrap(), None);
}

fn a_device_registers_a_bounded_number_of_actors(store: &dyn HubStore) {
    county(store);
    enroll(store, &device("h1", "hq", "a0", 1));
    enroll(store, &device("h2", "hq", "b0", 2));
    let mut registered = 0;
    for n in 1..=100 {
        let actor = format!("a{n}");
        store.register_actor(&actor, "h1", "hq").unwrap();
        if store.actor_office(&actor).unwrap().is_some() {
            registered += 1;
        }
    }
    // Some are kept (a restore mints one), not all of a flood, and the refusal is silent.
    assert!((1..100).contains(&registered), "{registered}");
    assert_eq!(store.device_actors("h1").unwrap().len(), registered + 1);
    // The bound is per device.
    store.register_actor("b1", "h2", "hq").unwrap();
    assert_eq!(store.actor_office("b1").unwrap().as_deref(), Some("hq"));
}

fn sync_health_is_recorded_per_device(store: &dyn HubStore) {
    county(store);
    enroll(store, &device("h1", "hq", "a1", 1));
    enroll(store, &device("h2", "hq", "a2", 2));
    let health =
        SyncHealth {
            at: 900, seq: 12, pending: 3, last_error: Some("断网".into()), skew_ms: -40
        };
    store.record_sync("h1", &health).unwrap();
    let d = store.device("h1").unwrap().unwrap();
    assert_eq!(
        (d.last_sync, d.pending, d.last_error.as_deref(), d.skew_ms),
        (Some(900), 3, Some("断网"), Some(-40))
    );
    let cleared = SyncHealth { at: 950, seq: 13, pending: 0, last_error: None, skew_ms: 5 };
    store.record_sync("h1", &cleared).unwrap();
    let d = store.device("h1").unwrap().unwrap();
    assert_eq!((d.last_sync, d.pending, d.last_error, d.skew_ms), (Some(950), 0, None, Some(5)));
    assert_eq!(store.device("h2").unwrap().unwrap().last_sync, None);
    // A device the hub does not know is no error (it may have been removed meanwhile).
    store.record_sync("nope", &health).unwrap();
}

fn the_secret_and_the_signing_key_are_made_once(store: &dyn HubStore) {
    let secret = store.secret().unwrap();
    assert_ne!(secret, [0u8; 32]);
    assert_eq!(store.secret().unwrap(), secret);
    let key = store.signing_key().unwrap();
    assert_eq!(hex::decode(&key).unwrap().len(), 32, "{key}");
    assert_eq!(store.signing_key().unwrap(), key);
    assert_ne!(key, hex::encode(secret), "two keys, not one");
}

fn meta_values_are_replaced(store: &dyn HubStore) {
    assert_eq!(store.meta("facts_rules").unwrap(), None);
    store.set_meta("facts_rules", "v1").unwrap();
    store.set_meta("other", "x").unwrap();
    store.set_meta("facts_rules", "v2").unwrap();
    assert_eq!(store.meta("facts_rules").unwrap().as_deref(), Some("v2"));
    assert_eq!(store.meta("other").unwrap().as_deref(), Some("x"));
}

fn county_townships_keep_their_order(store: &dyn HubStore) {
    assert_eq!(store.county_townships().unwrap(), Vec::<String>::new());
    let list = vec!["石江镇".to_owned(), "黄桥镇".to_owned(), "大屋乡".to_owned()];
    store.set_county_townships(&list).unwrap();
    assert_eq!(store.county_townships().unwrap(), list);
    store.set_county_townships(&list[1..]).unwrap();
    assert_eq!(store.county_townships().unwrap(), list[1..]);
}

fn the_directory_stamp_moves_with_offices_and_townships(store: &dyn HubStore) {
    let empty = store.directory_stamp().unwrap();
    assert_eq!(store.directory_stamp().unwrap(), empty, "reading it changes nothing");
    store.add_office(&office("a", Role::Township, &["黄桥镇"])).unwrap();
    let one = store.directory_stamp().unwrap();
    assert_ne!(one, empty);
    // A refused second office of the same code changes nothing.
    assert!(store.add_office(&office("a", Role::Township, &["石江镇"])).is_err());
    assert_eq!(store.directory_stamp().unwrap(), one);
    store.set_county_townships(&["黄桥镇".to_owned(), "石江镇".to_owned()]).unwrap();
    let set = store.directory_stamp().unwrap();
    assert_ne!(set, one);
    store.set_county_townships(&["石江镇".to_owned(), "黄桥镇".to_owned()]).unwrap();
    assert_ne!(store.directory_stamp().unwrap(), set, "the county's order is part of it");
}

// ---------------------------------------------------------------------------------------------
// Documents and commits

fn documents_keep_a_snapshot_a_tail_and_a_version(store: &dyn HubStore) {
    let c = case(1);
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), None);
    assert_eq!(store.doc_version(c, DocKind::Case).unwrap(), None);

    store
        .commit(&Commit {
            changes: vec![change("h1", c, DocKind::Case, "dev")],
            docs: vec![write(c, DocKind::Case, Some("s1"), &[], None)],
            ..Commit::default()
        })
        .unwrap();
    let v1 = store.doc_version(c, DocKind::Case).unwrap().unwrap();
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), Some((b"s1".to_vec(), vec![])));
    assert!(store.has_change("h1").unwrap());
    assert!(!store.has_change("h2").unwrap());
    // A batch's lookup answers for every hash at once, and for none when given none.
    let asked = ["h2", "h1", "h1", "it's; a \"quote\""].map(String::from);
    assert_eq!(store.stored_changes(&asked).unwrap(), HashSet::from(["h1".to_owned()]));
    assert!(store.stored_changes(&[]).unwrap().is_empty());
    assert_eq!(store.change("h1").unwrap(), Some(b"bytes of h1".to_vec()));
    assert_eq!(store.change("h2").unwrap(), None);
    // The other documents of the case do not exist.
    assert_eq!(store.doc(c, DocKind::Identity).unwrap(), None);
    assert_eq!(store.doc_version(c, DocKind::Identity).unwrap(), None);

    // Two changes appended to the tail, in the order given (not hash order).
    store
        .commit(&Commit {
            changes: vec![
                change("h3", c, DocKind::Case, "dev"),
                change("h2", c, DocKind::Case, "dev"),
            ],
            docs: vec![write(c, DocKind::Case, None, &["h3", "h2"], Some(v1))],
            ..Commit::default()
        })
        .unwrap();
    let v2 = store.doc_version(c, DocKind::Case).unwrap().unwrap();
    assert!(v2 > v1, "every write bumps the version");
    assert_eq!(
        store.doc(c, DocKind::Case).unwrap(),
        Some((b"s1".to_vec(), vec![b"bytes of h3".to_vec(), b"bytes of h2".to_vec()]))
    );
    assert_eq!(sorted(store.doc_change_hashes(c, DocKind::Case).unwrap()), ["h1", "h2", "h3"]);
    assert_eq!(store.doc_change_hashes(c, DocKind::Identity).unwrap(), Vec::<String>::new());

    // A new snapshot replaces the old one and clears the tail.
    store
        .commit(&Commit {
            docs: vec![write(c, DocKind::Case, Some("s2"), &[], Some(v2))],
            ..Commit::default()
        })
        .unwrap();
    let v3 = store.doc_version(c, DocKind::Case).unwrap().unwrap();
    assert!(v3 > v2);
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), Some((b"s2".to_vec(), vec![])));
    // The changes stay accepted.
    assert_eq!(sorted(store.doc_change_hashes(c, DocKind::Case).unwrap()), ["h1", "h2", "h3"]);

    // A snapshot with a tail: the tail follows the new snapshot.
    store
        .commit(&Commit {
            changes: vec![change("h4", c, DocKind::Case, "dev")],
            docs: vec![write(c, DocKind::Case, Some("s3"), &["h4"], Some(v3))],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(
        store.doc(c, DocKind::Case).unwrap(),
        Some((b"s3".to_vec(), vec![b"bytes of h4".to_vec()]))
    );
    assert!(store.doc_version(c, DocKind::Case).unwrap().unwrap() > v3);
}

fn a_tail_naming_a_change_the_hub_does_not_hold_is_reported(store: &dyn HubStore) {
    let c = case(1);
    store
        .commit(&Commit {
            changes: vec![change("h1", c, DocKind::Case, "dev")],
            docs: vec![write(c, DocKind::Case, Some("s"), &["h1", "lost"], None)],
            ..Commit::default()
        })
        .unwrap();
    // The document is not loaded without it (it would be something it never was): reading it
    // is an error that names the missing change, and the record stays for `ledger-hub check`.
    let err = store.doc(c, DocKind::Case).unwrap_err().to_string();
    assert!(err.contains("lost"), "{err}");
    assert_eq!(sorted(store.doc_change_hashes(c, DocKind::Case).unwrap()), ["h1", "lost"]);
    assert!(!store.has_change("lost").unwrap());
}

fn a_commit_planned_with_a_scope_since_changed_stores_nothing(store: &dyn HubStore) {
    county(store);
    let (a, b) = (case(1), case(2));
    let open = scope(Some("黄桥镇"), "hq", false);
    seed_case(store, a, "h-a", open.clone());
    let log = whole_log(store);
    // An identity change planned while the case was open to its township; meanwhile another
    // process restricted it (its case document and scope written).
    let identity = |hash: &str, read: Option<CaseScope>| Commit {
        changes: vec![change(hash, a, DocKind::Identity, "dev-a")],
        docs: vec![write(a, DocKind::Identity, Some("id"), &[], None)],
        cases: vec![(a, open.clone(), None)],
        log: vec![change_row(a, DocKind::Identity, hash, "dev-a", Some("黄桥镇"), None, false)],
        scopes_read: vec![(a, read), (b, None)],
        ..Commit::default()
    };
    let restricted = scope(Some("黄桥镇"), "hq", true);
    for read in [Some(restricted), Some(scope(Some("石江镇"), "hq", false)), None] {
        let err = store.commit(&identity("h-id", read));
        assert!(matches!(err, Err(StoreError::Busy(_))), "{err:?}");
        assert_eq!(whole_log(store), log);
        assert!(!store.has_change("h-id").unwrap());
        assert_eq!(store.doc_version(a, DocKind::Identity).unwrap(), None);
        assert_eq!(store.case_scope(a).unwrap(), Some(open.clone()));
    }
    // A case named absent that has a row since is a change too.
    let mut late = identity("h-id", Some(open.clone()));
    late.scopes_read = vec![(a, None)];
    assert!(matches!(store.commit(&late), Err(StoreError::Busy(_))));
    assert_eq!(whole_log(store), log);
    // Read as it is stored (and the other case still absent), the commit goes through.
    store.commit(&identity("h-id", Some(open.clone()))).unwrap();
    assert!(store.has_change("h-id").unwrap());
    assert_eq!(whole_log(store).len(), log.len() + 1);
    assert_eq!(store.case_scope(a).unwrap(), Some(open));
}

fn a_stale_commit_stores_nothing(store: &dyn HubStore) {
    county(store);
    let (a, b) = (case(1), case(2));
    seed_case(store, a, "h-a", scope(Some("黄桥镇"), "hq", false));
    let head = store.head().unwrap();
    let log = whole_log(store);
    let version = store.doc_version(a, DocKind::Case).unwrap();
    let before = store.doc(a, DocKind::Case).unwrap();
    let facts_before = store.all_facts().unwrap();

    // A whole batch: a new case (valid on its own) and a change to `a` read at a version that
    // is no longer the stored one.
    let stale = version.map(|v| v - 1);
    let drop = Uuid::from_u128(77);
    let batch = Commit {
        changes: vec![
            change("h-b", b, DocKind::Case, "dev-a"),
            change("h-a2", a, DocKind::Case, "dev-a"),
        ],
        docs: vec![
            write(b, DocKind::Case, Some("new"), &[], None),
            write(a, DocKind::Case, None, &["h-a2"], stale),
        ],
        cases: vec![
            (b, scope(Some("石江镇"), "sj", false), Some(facts(b, Status::Registered, 0))),
            (a, scope(Some("石江镇"), "sj", true), Some(facts(a, Status::Closed, 0))),
        ],
        log: vec![
            change_row(b, DocKind::Case, "h-b", "dev-a", Some("石江镇"), None, false),
            change_row(a, DocKind::Case, "h-a2", "dev-a", Some("黄桥镇"), None, false),
            leave(a, DocKind::Case, "hq"),
        ],
        blob_refs: vec![("blob".to_owned(), b)],
        drops: vec![(drop, a, "hq".to_owned())],
        scopes_read: Vec::new(),
    };
    let err = store.commit(&batch);
    assert!(matches!(err, Err(StoreError::Busy(_))), "{err:?}");

    assert_eq!(store.head().unwrap(), head);
    assert_eq!(whole_log(store), log);
    assert!(!store.has_change("h-b").unwrap());
    assert!(!store.has_change("h-a2").unwrap());
    assert_eq!(store.doc(b, DocKind::Case).unwrap(), None);
    assert_eq!(store.doc_version(b, DocKind::Case).unwrap(), None);
    assert_eq!(store.doc(a, DocKind::Case).unwrap(), before);
    assert_eq!(store.doc_version(a, DocKind::Case).unwrap(), version);
    assert_eq!(store.case_scope(b).unwrap(), None);
    assert_eq!(store.case_scope(a).unwrap(), Some(scope(Some("黄桥镇"), "hq", false)));
    assert_eq!(store.all_facts().unwrap(), facts_before);
    assert_eq!(store.blob_cases("blob").unwrap(), vec![]);
    assert!(!store.drop_merged(drop).unwrap());
    assert!(!store.has_leave(a, "hq").unwrap());
    assert_eq!(store.case_ids().unwrap(), vec![a]);

    // The same batch read at the right version goes through whole.
    let fresh = Commit {
        docs: vec![
            write(b, DocKind::Case, Some("new"), &[], None),
            write(a, DocKind::Case, None, &["h-a2"], version),
        ],
        ..batch
    };
    store.commit(&fresh).unwrap();
    assert!(store.has_change("h-b").unwrap() && store.has_change("h-a2").unwrap());
    assert_eq!(store.head().unwrap(), head + 3);
    assert!(store.drop_merged(drop).unwrap());
    assert!(store.has_leave(a, "hq").unwrap());
    assert_eq!(store.blob_cases("blob").unwrap(), vec![b]);
}

fn a_commit_checks_every_expected_version(store: &dyn HubStore) {
    let c = case(1);
    // A document said to exist that does not.
    let ghost = store.commit(&Commit {
        docs: vec![write(c, DocKind::Case, Some("s"), &[], Some(1))],
        ..Commit::default()
    });
    assert!(matches!(ghost, Err(StoreError::Busy(_))), "{ghost:?}");
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), None);

    store
        .commit(&Commit {
            docs: vec![write(c, DocKind::Case, Some("s"), &[], None)],
            ..Commit::default()
        })
        .unwrap();
    let version = store.doc_version(c, DocKind::Case).unwrap();
    assert!(version.is_some());
    // Created twice: the second writer read it as absent.
    let twice = store.commit(&Commit {
        docs: vec![write(c, DocKind::Case, Some("other"), &[], None)],
        ..Commit::default()
    });
    assert!(matches!(twice, Err(StoreError::Busy(_))), "{twice:?}");
    // A version from the future.
    let future = store.commit(&Commit {
        docs: vec![write(c, DocKind::Case, Some("other"), &[], version.map(|v| v + 1))],
        ..Commit::default()
    });
    assert!(matches!(future, Err(StoreError::Busy(_))), "{future:?}");
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), Some((b"s".to_vec(), vec![])));
    assert_eq!(store.doc_version(c, DocKind::Case).unwrap(), version);
}

fn a_batch_may_write_one_document_twice(store: &dyn HubStore) {
    let c = case(1);
    // The second write is checked against what the first made of the document.
    store
        .commit(&Commit {
            changes: vec![change("h1", c, DocKind::Case, "dev")],
            docs: vec![write(c, DocKind::Case, Some("s"), &[], None)],
            ..Commit::default()
        })
        .unwrap();
    let v1 = store.doc_version(c, DocKind::Case).unwrap().unwrap();
    let d = case(2);
    store
        .commit(&Commit {
            changes: vec![change("h2", d, DocKind::Case, "dev")],
            docs: vec![
                write(d, DocKind::Case, Some("s"), &[], None),
                write(d, DocKind::Case, None, &["h2"], Some(v1)),
            ],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(
        store.doc(d, DocKind::Case).unwrap(),
        Some((b"s".to_vec(), vec![b"bytes of h2".to_vec()]))
    );
    assert!(store.doc_version(d, DocKind::Case).unwrap().unwrap() > v1);

    // Checked against the stored version instead, the second write would pass here and store
    // a tail the first write's version check should have refused.
    let v = store.doc_version(c, DocKind::Case).unwrap();
    let err = store.commit(&Commit {
        docs: vec![
            write(c, DocKind::Case, None, &["h1"], v),
            write(c, DocKind::Case, None, &["h1"], v),
        ],
        ..Commit::default()
    });
    assert!(matches!(err, Err(StoreError::Busy(_))), "{err:?}");
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), Some((b"s".to_vec(), vec![])));

    // A tail for a document that has no snapshot creates no document.
    let e = case(3);
    store
        .commit(&Commit {
            docs: vec![write(e, DocKind::Case, None, &["h1"], None)],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(store.doc_version(e, DocKind::Case).unwrap(), None);
    assert_eq!(store.doc(e, DocKind::Case).unwrap(), None);
}

/// Many documents in one commit, of every kind of write (new, appended to, given a new
/// snapshot, a tail that creates nothing), written in one go; one stale version among them
/// refuses them all. And the same document written twice in succession, and a case's scope
/// given twice, are taken in order.
fn many_documents_in_one_batch_all_or_none(store: &dyn HubStore) {
    let olds: Vec<CaseId> = (1..=20).map(case).collect();
    let news: Vec<CaseId> = (21..=40).map(case).collect();
    let hash = |step: &str, c: CaseId| format!("{step}-{}", c.0.as_u128());
    let changes = |step: &str, cases: &[CaseId]| -> Vec<StoredChange> {
        cases.iter().map(|c| change(&hash(step, *c), *c, DocKind::Case, "dev")).collect()
    };
    store
        .commit(&Commit {
            changes: changes("t0", &olds),
            docs: olds
                .iter()
                .map(|c| write(*c, DocKind::Case, Some("s"), &[&hash("t0", *c)], None))
                .collect(),
            ..Commit::default()
        })
        .unwrap();
    let version = |c: CaseId| store.doc_version(c, DocKind::Case).unwrap();
    let mixed = |stale: Option<CaseId>| Commit {
        changes: changes("t1", &olds),
        docs: olds
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let v = if Some(*c) == stale { version(*c).map(|v| v + 7) } else { version(*c) };
                if i % 2 == 0 {
                    write(*c, DocKind::Case, None, &[&hash("t1", *c)], v)
                } else {
                    write(*c, DocKind::Case, Some("s2"), &[], v)
                }
            })
            .chain(news.iter().map(|c| write(*c, DocKind::Case, Some("n"), &[], None)))
            .chain([write(case(41), DocKind::Identity, None, &[&hash("t1", olds[0])], None)])
            .collect(),
        cases: news.iter().map(|c| (*c, scope(Some("黄桥镇"), "hq", false), None)).collect(),
        ..Commit::default()
    };
    let before: Vec<_> = olds.iter().map(|c| store.doc(*c, DocKind::Case).unwrap()).collect();
    let err = store.commit(&mixed(Some(olds[13])));
    assert!(matches!(err, Err(StoreError::Busy(_))), "{err:?}");
    for (c, b) in olds.iter().zip(&before) {
        assert_eq!(&store.doc(*c, DocKind::Case).unwrap(), b);
    }
    assert!(news.iter().all(|c| store.doc_version(*c, DocKind::Case).unwrap().is_none()));
    assert!(news.iter().all(|c| store.case_scope(*c).unwrap().is_none()));

    store.commit(&mixed(None)).unwrap();
    for (i, c) in olds.iter().enumerate() {
        let t0 = format!("bytes of {}", hash("t0", *c)).into_bytes();
        let t1 = format!("bytes of {}", hash("t1", *c)).into_bytes();
        let expected =
            if i % 2 == 0 { (b"s".to_vec(), vec![t0, t1]) } else { (b"s2".to_vec(), vec![]) };
        assert_eq!(store.doc(*c, DocKind::Case).unwrap(), Some(expected), "case {i}");
    }
    assert!(news.iter().all(|c| store.doc(*c, DocKind::Case).unwrap().is_some()));
    assert_eq!(store.doc(case(41), DocKind::Identity).unwrap(), None);
    assert_eq!(store.case_scope(news[0]).unwrap(), Some(scope(Some("黄桥镇"), "hq", false)));

    // Twice in succession: the second write is based on the first's version.
    let c = olds[1];
    let v = version(c).unwrap();
    store
        .commit(&Commit {
            changes: vec![change("h9", c, DocKind::Case, "dev")],
            docs: vec![
                write(c, DocKind::Case, Some("s3"), &[], Some(v)),
                write(c, DocKind::Case, None, &["h9"], Some(v + 1)),
            ],
            cases: vec![
                (c, scope(Some("黄桥镇"), "hq", false), None),
                (c, scope(Some("石江镇"), "sj", true), None),
            ],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(
        store.doc(c, DocKind::Case).unwrap(),
        Some((b"s3".to_vec(), vec![b"bytes of h9".to_vec()]))
    );
    assert_eq!(store.case_scope(c).unwrap(), Some(scope(Some("石江镇"), "sj", true)));
}

fn the_first_copy_of_a_change_stands(store: &dyn HubStore) {
    let c = case(1);
    store
        .commit(&Commit {
            changes: vec![change("h1", c, DocKind::Case, "dev-a")],
            ..Commit::default()
        })
        .unwrap();
    let mut copy = change("h1", case(2), DocKind::Identity, "dev-b");
    copy.bytes = b"other".to_vec();
    store.commit(&Commit { changes: vec![copy], ..Commit::default() }).unwrap();
    assert_eq!(store.change("h1").unwrap(), Some(b"bytes of h1".to_vec()));
    assert_eq!(store.doc_change_hashes(c, DocKind::Case).unwrap(), ["h1"]);
    assert_eq!(store.doc_change_hashes(case(2), DocKind::Identity).unwrap(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// The log

fn the_log_pages_in_sequence_order(store: &dyn HubStore) {
    assert_eq!(store.head().unwrap(), 0);
    assert_eq!(whole_log(store), vec![]);
    let mut hashes = Vec::new();
    for batch in 0..4 {
        let log = (0..3)
            .map(|i| {
                let hash = format!("h{batch}-{i}");
                hashes.push(hash.clone());
                change_row(case(batch + 1), DocKind::Case, &hash, "dev", None, None, false)
            })
            .collect();
        store.commit(&Commit { log, ..Commit::default() }).unwrap();
    }
    let all = whole_log(store);
    assert_eq!(all.iter().map(|r| r.hash.clone().unwrap()).collect::<Vec<_>>(), hashes);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "{all:?}");
    assert_eq!(store.head().unwrap(), all[11].seq);
    assert!(all.iter().all(|r| r.what == LogKind::Change && r.received_at == 500));
    assert_eq!(all[3].case_id, case(2));

    // Pages of five, each after the last row of the one before.
    let reader = bureau("nobody");
    let mut after = 0;
    let mut pages = Vec::new();
    loop {
        let page = store.log_after(after, &reader, 5).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 5);
        after = page[page.len() - 1].seq;
        pages.push(page);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 2]);
    assert_eq!(pages.concat(), all);
    assert_eq!(store.log_after(all[4].seq, &reader, 1).unwrap(), vec![all[5].clone()]);
    assert_eq!(store.log_after(0, &reader, 0).unwrap(), vec![]);
    assert_eq!(store.log_after(store.head().unwrap(), &reader, 10).unwrap(), vec![]);
}

fn the_log_shows_each_reader_its_rows(store: &dyn HubStore) {
    let (c, r) = (case(1), case(2));
    store
        .commit(&Commit {
            log: vec![
                change_row(c, DocKind::Case, "in-hq", "dev-x", Some("黄桥镇"), Some("hq"), false),
                change_row(c, DocKind::Case, "in-sj", "dev-x", Some("石江镇"), Some("hq"), false),
                change_row(c, DocKind::Case, "registrar", "dev-x", None, Some("hq"), false),
                change_row(c, DocKind::Case, "bureau-only", "dev-x", Some("黄桥镇"), None, true),
                change_row(r, DocKind::Rules, "rules", "hub", None, None, true),
                change_row(c, DocKind::Identity, "own", "dev-h", Some("黄桥镇"), None, false),
                enter(c, DocKind::Case, "hq"),
                enter(c, DocKind::Identity, "sj"),
                leave(c, DocKind::Case, "hq"),
            ],
            ..Commit::default()
        })
        .unwrap();
    let names = |rows: Vec<LogRow>| -> Vec<String> {
        rows.into_iter()
            .map(|r| match r.what {
                LogKind::Change => r.hash.unwrap(),
                LogKind::Enter => format!("enter {:?}", r.kind),
                LogKind::Leave => format!("leave {:?}", r.kind),
            })
            .collect()
    };
    let hq_townships = ["黄桥镇".to_owned()];
    let hq = township("hq", "dev-h", &hq_townships);
    assert_eq!(
        names(store.log_after(0, &hq, 100).unwrap()),
        ["in-hq", "registrar", "rules", "enter Case", "leave Case"]
    );
    let sj_townships = ["石江镇".to_owned()];
    let sj = township("sj", "dev-s", &sj_townships);
    assert_eq!(names(store.log_after(0, &sj, 100).unwrap()), ["in-sj", "rules", "enter Identity"]);
    // The bureau sees every change but its device's own, and no other office's enter/leave.
    assert_eq!(names(store.log_after(0, &bureau("dev-x"), 100).unwrap()), ["rules", "own"]);
    assert_eq!(
        names(store.log_after(0, &bureau("dev-b"), 100).unwrap()),
        ["in-hq", "in-sj", "registrar", "bureau-only", "rules", "own"]
    );
    // A row's fields come back whole.
    let enter_row = &store.log_after(0, &hq, 100).unwrap()[3];
    assert_eq!(
        (enter_row.case_id, enter_row.kind, enter_row.hash.clone(), enter_row.received_at),
        (c, DocKind::Case, None, 600)
    );
    // The limit counts visible rows only.
    assert_eq!(names(store.log_after(0, &sj, 2).unwrap()), ["in-sj", "rules"]);
}

// ---------------------------------------------------------------------------------------------
// Cases, scope, facts

fn case_scope_and_facts(store: &dyn HubStore) {
    let (a, b, roster) = (case(1), case(2), case(3));
    store
        .commit(&Commit {
            docs: vec![
                write(a, DocKind::Case, Some("s"), &[], None),
                write(a, DocKind::Identity, Some("s"), &[], None),
                write(b, DocKind::Case, Some("s"), &[], None),
                write(roster, DocKind::Roster, Some("s"), &[], None),
            ],
            cases: vec![
                (a, scope(Some("黄桥镇"), "hq", false), Some(facts(a, Status::Registered, 0))),
                (b, scope(None, "sj", true), None),
                (roster, scope(None, "hq", false), None),
            ],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(store.case_scope(a).unwrap(), Some(scope(Some("黄桥镇"), "hq", false)));
    assert_eq!(store.case_scope(b).unwrap(), Some(scope(None, "sj", true)));
    assert_eq!(store.case_scope(case(4)).unwrap(), None);
    assert_eq!(store.all_facts().unwrap(), vec![facts(a, Status::Registered, 0)]);
    // Cases only: not the roster, and the case with two documents once.
    assert_eq!(store.case_ids().unwrap(), vec![a, b]);

    // A new scope without facts keeps the facts stored.
    store
        .commit(&Commit {
            cases: vec![(a, scope(Some("石江镇"), "hq", true), None)],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(store.case_scope(a).unwrap(), Some(scope(Some("石江镇"), "hq", true)));
    assert_eq!(store.all_facts().unwrap(), vec![facts(a, Status::Registered, 0)]);

    // Re-projected facts replace those of held cases; a case the hub does not hold gets none.
    store
        .set_facts(&[
            (a, facts(a, Status::Closed, 1)),
            (b, facts(b, Status::Accepted, 2)),
            (case(9), facts(case(9), Status::Closed, 3)),
        ])
        .unwrap();
    let mut all = store.all_facts().unwrap();
    all.sort_by_key(|f| f.id);
    assert_eq!(all, vec![facts(a, Status::Closed, 1), facts(b, Status::Accepted, 2)]);
    assert_eq!(store.case_scope(case(9)).unwrap(), None);
    // Facts given with a new scope replace the stored ones.
    store
        .commit(&Commit {
            cases: vec![(b, scope(None, "sj", true), Some(facts(b, Status::Voided, 0)))],
            ..Commit::default()
        })
        .unwrap();
    let mut all = store.all_facts().unwrap();
    all.sort_by_key(|f| f.id);
    assert_eq!(all, vec![facts(a, Status::Closed, 1), facts(b, Status::Voided, 0)]);
}

/// Documents of five cases and a rules document, for the `scope_docs` checks.
fn scoped_county(store: &dyn HubStore) -> [CaseId; 6] {
    let ids = [case(1), case(2), case(3), case(4), case(5), case(6)];
    let [hq, sj, restricted, unassigned, rules, unscoped] = ids;
    let mut commit = Commit::default();
    for (id, kind, device) in [
        (hq, DocKind::Case, "dev-h"),
        (hq, DocKind::Identity, "dev-h"),
        (sj, DocKind::Case, "dev-s"),
        (restricted, DocKind::Case, "dev-h"),
        (restricted, DocKind::Identity, "dev-h"),
        (unassigned, DocKind::Case, "dev-s"),
        (rules, DocKind::Rules, "hub"),
        (unscoped, DocKind::Case, "dev-h"),
    ] {
        let hash = format!("{id}-{kind:?}");
        commit.changes.push(change(&hash, id, kind, device));
        commit.docs.push(write(id, kind, Some("s"), &[], None));
    }
    // `unscoped` has documents but no scope row: nobody's.
    commit.cases = vec![
        (hq, scope(Some("黄桥镇"), "hq", false), None),
        (sj, scope(Some("石江镇"), "sj", false), None),
        (restricted, scope(Some("黄桥镇"), "hq", true), None),
        (unassigned, scope(None, "hq", false), None),
        (rules, scope(None, "county", false), None),
    ];
    store.commit(&commit).unwrap();
    ids
}

fn scope_docs_filters_by_reader_and_pages(store: &dyn HubStore) {
    let [hq, sj, restricted, unassigned, rules, _] = scoped_county(store);
    let keys = |rows: Vec<(CaseId, DocKind, CaseScope)>| -> Vec<(CaseId, DocKind)> {
        rows.into_iter().map(|(c, k, _)| (c, k)).collect()
    };
    let hq_townships = ["黄桥镇".to_owned()];
    let reader = township("hq", "dev-x", &hq_townships);
    let seen = store.scope_docs(&reader, None, 100, false).unwrap();
    assert_eq!(
        keys(seen.clone()),
        [
            (hq, DocKind::Case),
            (hq, DocKind::Identity),
            (restricted, DocKind::Case),
            (unassigned, DocKind::Case),
            (rules, DocKind::Rules),
        ]
    );
    // Each with its case's scope.
    assert_eq!(seen[2].2, scope(Some("黄桥镇"), "hq", true));

    let everything = [
        (hq, DocKind::Case),
        (hq, DocKind::Identity),
        (sj, DocKind::Case),
        (restricted, DocKind::Case),
        (restricted, DocKind::Identity),
        (unassigned, DocKind::Case),
        (rules, DocKind::Rules),
    ];
    assert_eq!(keys(store.scope_docs(&bureau("dev-x"), None, 100, false).unwrap()), everything);
    // Paged, after a (case, kind) key: the identity of a case comes after its case document.
    let first = keys(store.scope_docs(&bureau("dev-x"), None, 3, false).unwrap());
    assert_eq!(first, everything[..3]);
    let rest = keys(store.scope_docs(&bureau("dev-x"), Some(first[2]), 100, false).unwrap());
    assert_eq!(rest, everything[3..]);
    let after_case = store.scope_docs(&bureau("dev-x"), Some((hq, DocKind::Case)), 1, false);
    assert_eq!(keys(after_case.unwrap()), [(hq, DocKind::Identity)]);

    let sj_townships = ["石江镇".to_owned()];
    let sj_reader = township("sj", "dev-y", &sj_townships);
    assert_eq!(
        keys(store.scope_docs(&sj_reader, None, 100, false).unwrap()),
        [(sj, DocKind::Case), (rules, DocKind::Rules)]
    );
}

fn scope_docs_can_leave_out_the_readers_own_documents(store: &dyn HubStore) {
    let [hq, _, restricted, unassigned, rules, _] = scoped_county(store);
    let hq_townships = ["黄桥镇".to_owned()];
    let reader = township("hq", "dev-h", &hq_townships);
    let keys: Vec<(CaseId, DocKind)> = store
        .scope_docs(&reader, None, 100, true)
        .unwrap()
        .into_iter()
        .map(|(c, k, _)| (c, k))
        .collect();
    // Made only of dev-h's changes: left out. Another device's (or the hub's) change: kept.
    assert_eq!(keys, [(unassigned, DocKind::Case), (rules, DocKind::Rules)]);
    // Once another device changes it, the document is the reader's to fetch again.
    store
        .commit(&Commit {
            changes: vec![change("other", hq, DocKind::Case, "dev-b")],
            ..Commit::default()
        })
        .unwrap();
    let again: Vec<CaseId> =
        store.scope_docs(&reader, None, 100, true).unwrap().into_iter().map(|(c, ..)| c).collect();
    assert_eq!(again, [hq, unassigned, rules]);
    assert!(!again.contains(&restricted));
}

fn all_docs_pages_in_case_then_kind_order(store: &dyn HubStore) {
    // Ids whose text order and numeric order agree by construction; the kinds are written in
    // an order that is neither.
    let (a, b) = (case(0x10), case(0xff00));
    store
        .commit(&Commit {
            docs: vec![
                write(b, DocKind::Rules, Some("s"), &[], None),
                write(a, DocKind::Roster, Some("s"), &[], None),
                write(b, DocKind::Case, Some("s"), &[], None),
                write(a, DocKind::Identity, Some("s"), &[], None),
                write(a, DocKind::Case, Some("s"), &[], None),
            ],
            ..Commit::default()
        })
        .unwrap();
    let all = [
        (a, DocKind::Case),
        (a, DocKind::Identity),
        (a, DocKind::Roster),
        (b, DocKind::Case),
        (b, DocKind::Rules),
    ];
    assert_eq!(store.all_docs(None, 100).unwrap(), all);
    assert_eq!(store.all_docs(None, 2).unwrap(), all[..2]);
    assert_eq!(store.all_docs(Some(all[1]), 2).unwrap(), all[2..4]);
    assert_eq!(store.all_docs(Some(all[4]), 2).unwrap(), vec![]);
    // After a key that is not stored: from the next one there is.
    assert_eq!(store.all_docs(Some((a, DocKind::Rules)), 1).unwrap(), all[3..4]);
}

// ---------------------------------------------------------------------------------------------
// Evictions, quarantine, drops, leases

fn evictions_keep_the_first_confirmation(store: &dyn HubStore) {
    let (c, other) = (case(1), case(2));
    assert_eq!(store.evictions(c).unwrap(), vec![]);
    store.log_eviction(c, "hq", "dev-2", 300).unwrap();
    store.log_eviction(c, "hq", "dev-1", 100).unwrap();
    store.log_eviction(c, "hq", "dev-1", 999).unwrap();
    store.log_eviction(other, "sj", "dev-3", 50).unwrap();
    assert_eq!(
        store.evictions(c).unwrap(),
        vec![
            ("hq".to_owned(), "dev-1".to_owned(), 100),
            ("hq".to_owned(), "dev-2".to_owned(), 300)
        ]
    );
    assert_eq!(store.evictions(other).unwrap(), vec![("sj".to_owned(), "dev-3".to_owned(), 50)]);
}

fn leaves_are_found_per_case_and_office(store: &dyn HubStore) {
    let (c, other) = (case(1), case(2));
    store
        .commit(&Commit {
            log: vec![
                enter(c, DocKind::Case, "sj"),
                leave(c, DocKind::Case, "hq"),
                // An identity document leaving is not the case leaving.
                leave(other, DocKind::Identity, "hq"),
            ],
            ..Commit::default()
        })
        .unwrap();
    assert!(store.has_leave(c, "hq").unwrap());
    assert!(!store.has_leave(c, "sj").unwrap());
    assert!(!store.has_leave(other, "hq").unwrap());
    assert!(!store.has_leave(case(3), "hq").unwrap());
}

fn quarantine_keeps_the_newest_per_device(store: &dyn HubStore) {
    assert_eq!(store.quarantined(10).unwrap(), vec![]);
    for n in 0..5 {
        store.quarantine(&quarantined(&format!("a{n}"), "dev-a", vec![n]), 3).unwrap();
        store.quarantine(&quarantined(&format!("b{n}"), "dev-b", vec![n]), 3).unwrap();
    }
    let hashes = |limit| -> Vec<String> {
        store.quarantined(limit).unwrap().into_iter().map(|q| q.hash).collect()
    };
    assert_eq!(hashes(100), ["b4", "a4", "b3", "a3", "b2", "a2"]);
    assert_eq!(hashes(2), ["b4", "a4"]);
    assert_eq!(store.quarantined(100).unwrap()[1], quarantined("a4", "dev-a", vec![4]));
    // A smaller bound on the next record drops that device's oldest only.
    store.quarantine(&quarantined("a5", "dev-a", vec![5]), 1).unwrap();
    assert_eq!(hashes(100), ["a5", "b4", "b3", "b2"]);

    // Huge refused bytes are cut to a sample, whose start is kept.
    let huge: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    store.quarantine(&quarantined("big", "dev-c", huge.clone()), 10).unwrap();
    let kept = store.quarantined(1).unwrap().remove(0).bytes;
    assert!(!kept.is_empty() && kept.len() < huge.len(), "{}", kept.len());
    assert_eq!(kept[..], huge[..kept.len()]);
}

fn identity_drops_are_remembered(store: &dyn HubStore) {
    let (one, two) = (Uuid::from_u128(1), Uuid::from_u128(2));
    assert!(!store.drop_merged(one).unwrap());
    let merge = |id| Commit { drops: vec![(id, case(1), "hq".to_owned())], ..Commit::default() };
    store.commit(&merge(one)).unwrap();
    // Merging again is no error.
    store.commit(&merge(one)).unwrap();
    assert!(store.drop_merged(one).unwrap());
    assert!(!store.drop_merged(two).unwrap());
}

fn number_leases_never_overlap(store: &dyn HubStore) {
    const DAY: i64 = 86_400_000;
    let now = 10 * DAY;
    let first = store.lease("hq", "case", "dev-1", 0, 20, now).unwrap();
    assert_eq!(first, (1, 20));
    let second = store.lease("hq", "case", "dev-2", 0, 20, now).unwrap();
    assert_eq!(second, (21, 40));
    // Never below what the device says it has used.
    assert_eq!(store.lease("hq", "case", "dev-1", 100, 5, now).unwrap(), (101, 105));
    // A size of 0 is a block of one.
    assert_eq!(store.lease("hq", "case", "dev-1", 0, 0, now).unwrap(), (106, 106));
    // Series and offices are separate.
    assert_eq!(store.lease("hq", "doc", "dev-1", 0, 3, now).unwrap(), (1, 3));
    assert_eq!(store.lease("sj", "case", "dev-9", 0, 3, now).unwrap(), (1, 3));

    // A device leasing a series over and over in a day is refused, and nothing is leased.
    let mut refused = None;
    for n in 0..50 {
        match store.lease("hq", "case", "dev-3", 0, 1, now + n) {
            Ok(_) => {}
            Err(e) => {
                refused = Some((n, e));
                break;
            }
        }
    }
    let (n, err) = refused.expect("a flood of leases is refused");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(n >= 1, "at least one lease a day");
    let next = store.lease("hq", "case", "dev-2", 0, 1, now + 100).unwrap();
    assert_eq!(next.0, 107 + u64::try_from(n).unwrap(), "the refused lease took no number");
    // Another series of the device is not affected, and a day later it may lease again.
    assert!(store.lease("hq", "doc", "dev-3", 0, 1, now + 100).is_ok());
    assert!(store.lease("hq", "case", "dev-3", 0, 1, now + n + DAY + 1).is_ok());
}

/// A device asking for blocks through several connections at once (two hub processes, on
/// PostgreSQL) is held to the same daily limit, and the refused requests take no numbers.
fn leases_taken_at_once_keep_to_the_days_limit(store: &dyn HubStore) {
    let now = 10 * 86_400_000;
    let granted: Vec<(u64, u64)> = std::thread::scope(|s| {
        let askers: Vec<_> = (0..4i64)
            .map(|t| {
                s.spawn(move || {
                    (0..6i64)
                        .filter_map(|i| {
                            store.lease("hq", "case", "dev-1", 0, 1, now + t * 10 + i).ok()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        askers.into_iter().flat_map(|a| a.join().unwrap()).collect()
    });
    let limit = u64::from(ledger_hub::store::MAX_LEASES_PER_DAY);
    let mut firsts: Vec<u64> = granted
        .iter()
        .map(|&(first, last)| {
            assert_eq!(first, last, "a block of one");
            first
        })
        .collect();
    firsts.sort_unstable();
    assert_eq!(firsts, (1..=limit).collect::<Vec<_>>(), "{limit} blocks, numbered without gaps");
    assert!(store.lease("hq", "case", "dev-1", 0, 1, now + 100).is_err());
}

// ---------------------------------------------------------------------------------------------
// Blobs

fn blobs_are_assembled_from_pieces_in_order(store: &dyn HubStore) {
    let content: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
    let hash = blake3_hex(&content);
    let total = content.len() as u64;
    assert_eq!(store.blob(&hash).unwrap(), None);
    assert_eq!(store.blob_progress(&hash).unwrap(), Err(0));

    store.blob_piece(&piece(&hash, 0, total, &content[..300]), 10).unwrap();
    assert_eq!(store.blob_progress(&hash).unwrap(), Err(300));
    // Out of place, empty, past the end, or claiming too big a total: not taken.
    store.blob_piece(&piece(&hash, 600, total, &content[600..]), 11).unwrap();
    store.blob_piece(&piece(&hash, 0, total, &content[..300]), 11).unwrap();
    store.blob_piece(&piece(&hash, 300, total, &[]), 11).unwrap();
    store.blob_piece(&piece(&hash, 300, 400, &content[300..700]), 11).unwrap();
    let too_big = ledger_protocol::MAX_BLOB_BYTES + 1;
    store.blob_piece(&piece(&hash, 300, too_big, &content[300..400]), 11).unwrap();
    assert_eq!(store.blob_progress(&hash).unwrap(), Err(300));
    assert_eq!(store.blob(&hash).unwrap(), None);

    store.blob_piece(&piece(&hash, 300, total, &content[300..800]), 12).unwrap();
    assert_eq!(store.blob_progress(&hash).unwrap(), Err(800));
    store.blob_piece(&piece(&hash, 800, total, &content[800..]), 13).unwrap();
    assert_eq!(store.blob_progress(&hash).unwrap(), Ok(()));
    assert_eq!(store.blob(&hash).unwrap(), Some(content.clone()));

    // A one-piece upload.
    let small = b"small attachment".to_vec();
    let small_hash = blake3_hex(&small);
    store.blob_piece(&piece(&small_hash, 0, small.len() as u64, &small), 14).unwrap();
    assert_eq!(store.blob(&small_hash).unwrap(), Some(small));
    assert_eq!(store.blob(&hash).unwrap(), Some(content));
}

fn a_blob_that_does_not_match_its_hash_is_dropped(store: &dyn HubStore) {
    let content = b"the real content".to_vec();
    let hash = blake3_hex(&content);
    let forged = b"forged content!!".to_vec();
    assert_eq!(forged.len(), content.len());
    store.blob_piece(&piece(&hash, 0, 16, &forged[..8]), 1).unwrap();
    store.blob_piece(&piece(&hash, 8, 16, &forged[8..]), 2).unwrap();
    assert_eq!(store.blob(&hash).unwrap(), None);
    // The upload starts over, and the real content is then taken.
    assert_eq!(store.blob_progress(&hash).unwrap(), Err(0));
    store.blob_piece(&piece(&hash, 0, 16, &content), 3).unwrap();
    assert_eq!(store.blob(&hash).unwrap(), Some(content));
}

fn stale_uploads_expire(store: &dyn HubStore) {
    let old = vec![1u8; 100];
    let fresh = vec![2u8; 100];
    let done = vec![3u8; 10];
    let (old_hash, fresh_hash, done_hash) =
        (blake3_hex(&old), blake3_hex(&fresh), blake3_hex(&done));
    store.blob_piece(&piece(&old_hash, 0, 100, &old[..10]), 100).unwrap();
    store.blob_piece(&piece(&old_hash, 10, 100, &old[10..20]), 200).unwrap();
    // Started long ago, touched recently: its age is that of its newest piece.
    store.blob_piece(&piece(&fresh_hash, 0, 100, &fresh[..10]), 100).unwrap();
    store.blob_piece(&piece(&fresh_hash, 10, 100, &fresh[10..20]), 1_000).unwrap();
    store.blob_piece(&piece(&done_hash, 0, 10, &done), 100).unwrap();

    assert_eq!(store.expire_uploads(200).unwrap(), 0, "untouched since 200 is not before 200");
    // The count is of pieces, as SQLite's DELETE counts rows (the trait says "how many").
    assert_eq!(store.expire_uploads(500).unwrap(), 2);
    assert_eq!(store.blob_progress(&old_hash).unwrap(), Err(0));
    assert_eq!(store.blob_progress(&fresh_hash).unwrap(), Err(20));
    assert_eq!(store.blob(&done_hash).unwrap(), Some(done));
    assert_eq!(store.expire_uploads(500).unwrap(), 0);
    // An expired upload starts again from 0.
    store.blob_piece(&piece(&old_hash, 0, 100, &old), 600).unwrap();
    assert_eq!(store.blob(&old_hash).unwrap(), Some(old));
}

fn blob_cases_list_the_citing_cases(store: &dyn HubStore) {
    let (a, b, c) = (case(3), case(1), case(2));
    assert_eq!(store.blob_cases("x").unwrap(), vec![]);
    store
        .commit(&Commit {
            blob_refs: vec![("x".into(), a), ("x".into(), b), ("y".into(), c)],
            ..Commit::default()
        })
        .unwrap();
    store.commit(&Commit { blob_refs: vec![("x".into(), a)], ..Commit::default() }).unwrap();
    let mut x = store.blob_cases("x").unwrap();
    x.sort();
    assert_eq!(x, vec![b, a], "each case once");
    assert_eq!(store.blob_cases("y").unwrap(), vec![c]);
    // A prefix of a hash is another hash.
    assert_eq!(store.blob_cases("").unwrap(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// Purge and set-aside

fn purging_a_demo_case(store: &dyn HubStore) {
    let (demo, kept) = (case(1), case(2));
    store
        .commit(&Commit {
            changes: vec![
                change("d-case", demo, DocKind::Case, "dev"),
                change("d-id", demo, DocKind::Identity, "dev"),
                change("d-tail", demo, DocKind::Case, "dev"),
                change("k-case", kept, DocKind::Case, "dev"),
            ],
            docs: vec![
                write(demo, DocKind::Case, Some("s"), &["d-tail"], None),
                write(demo, DocKind::Identity, Some("s"), &[], None),
                write(kept, DocKind::Case, Some("s"), &[], None),
            ],
            cases: vec![
                (demo, scope(Some("黄桥镇"), "hq", false), Some(facts(demo, Status::Closed, 0))),
                (kept, scope(Some("黄桥镇"), "hq", false), Some(facts(kept, Status::Closed, 0))),
            ],
            log: vec![
                change_row(demo, DocKind::Case, "d-case", "dev", Some("黄桥镇"), None, false),
                enter(demo, DocKind::Case, "sj"),
                change_row(kept, DocKind::Case, "k-case", "dev", Some("黄桥镇"), None, false),
                change_row(demo, DocKind::Identity, "d-id", "dev", Some("黄桥镇"), None, false),
            ],
            blob_refs: vec![("blob".into(), demo), ("blob".into(), kept), ("only".into(), demo)],
            ..Commit::default()
        })
        .unwrap();
    let head = store.head().unwrap();
    assert!(!store.is_purged(demo).unwrap());

    store.purge_case(demo, "county", &["hq".to_owned(), "sj".to_owned()], 5_000).unwrap();

    assert!(store.is_purged(demo).unwrap());
    assert!(!store.is_purged(kept).unwrap());
    for kind in [DocKind::Case, DocKind::Identity] {
        assert_eq!(store.doc(demo, kind).unwrap(), None);
        assert_eq!(store.doc_version(demo, kind).unwrap(), None);
        assert_eq!(store.doc_change_hashes(demo, kind).unwrap(), Vec::<String>::new());
    }
    for hash in ["d-case", "d-id", "d-tail"] {
        assert!(!store.has_change(hash).unwrap(), "{hash}");
    }
    assert_eq!(store.case_scope(demo).unwrap(), None);
    assert_eq!(store.case_ids().unwrap(), vec![kept]);
    assert_eq!(store.all_facts().unwrap(), vec![facts(kept, Status::Closed, 0)]);
    assert_eq!(store.blob_cases("blob").unwrap(), vec![kept]);
    assert_eq!(store.blob_cases("only").unwrap(), vec![]);
    assert_eq!(store.all_docs(None, 100).unwrap(), vec![(kept, DocKind::Case)]);

    // Its change rows are gone; its enter row stays; every listed office is told it left, after
    // everything before.
    let rows: Vec<(CaseId, LogKind, Option<String>)> =
        every_row(store, &["hq", "sj"]).into_iter().map(|r| (r.case_id, r.what, r.hash)).collect();
    assert_eq!(
        rows,
        [
            (demo, LogKind::Enter, None),
            (kept, LogKind::Change, Some("k-case".to_owned())),
            (demo, LogKind::Leave, None),
            (demo, LogKind::Leave, None),
        ]
    );
    let leaves = every_row(store, &["hq", "sj"]).split_off(2);
    assert!(
        leaves.iter().all(|r| r.seq > head && r.received_at == 5_000 && r.kind == DocKind::Case)
    );
    assert!(store.has_leave(demo, "hq").unwrap() && store.has_leave(demo, "sj").unwrap());
    assert!(!store.has_leave(demo, "county").unwrap());
    let hq_townships = ["黄桥镇".to_owned()];
    let hq_rows = store.log_after(0, &township("hq", "x", &hq_townships), 100).unwrap();
    assert_eq!(
        hq_rows.iter().map(|r| r.what).collect::<Vec<_>>(),
        [LogKind::Change, LogKind::Leave]
    );

    // The other case is whole.
    assert_eq!(store.doc(kept, DocKind::Case).unwrap(), Some((b"s".to_vec(), vec![])));
    assert!(store.has_change("k-case").unwrap());
}

fn sequence_numbers_are_never_reused(store: &dyn HubStore) {
    let (demo, other) = (case(1), case(2));
    store
        .commit(&Commit {
            log: vec![
                change_row(other, DocKind::Case, "o1", "dev", None, Some("hq"), false),
                change_row(demo, DocKind::Case, "d1", "dev", None, Some("hq"), false),
                change_row(demo, DocKind::Case, "d2", "dev", None, Some("hq"), false),
            ],
            ..Commit::default()
        })
        .unwrap();
    let issued = whole_log(store).last().unwrap().seq;
    // Purged with nobody to tell: the last rows go.
    store.purge_case(demo, "county", &[], 10).unwrap();
    assert_eq!(whole_log(store).len(), 1);
    store
        .commit(&Commit {
            log: vec![change_row(other, DocKind::Case, "o2", "dev", None, Some("hq"), false)],
            ..Commit::default()
        })
        .unwrap();
    // A device whose cursor stood at a purged row must still get the new one.
    let after = store.log_after(issued, &bureau("nobody"), 10).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].hash.as_deref(), Some("o2"));
    assert!(after[0].seq > issued);
    assert_eq!(store.head().unwrap(), after[0].seq);
}

/// A survey of a batch's documents reads what asking for each would: versions, documents set
/// aside, purged cases and scopes, and says what it did not survey.
fn a_survey_reads_what_each_read_would(store: &dyn HubStore) {
    let [held, aside, purged, new] = [case(1), case(2), case(3), case(4)];
    let roster = CaseId(ledger_protocol::roster_id("hq"));
    store
        .commit(&Commit {
            changes: vec![change("h1", held, DocKind::Case, "dev")],
            docs: vec![
                write(held, DocKind::Case, Some("s"), &["h1"], None),
                write(held, DocKind::Identity, Some("s"), &[], None),
                write(aside, DocKind::Case, Some("broken"), &[], None),
                write(purged, DocKind::Case, Some("s"), &[], None),
                write(roster, DocKind::Roster, Some("r"), &[], None),
            ],
            cases: vec![
                (held, scope(Some("黄桥镇"), "hq", true), None),
                (aside, scope(None, "county", false), None),
                (purged, scope(Some("石江镇"), "sj", false), None),
            ],
            drops: vec![(Uuid::from_u128(77), held, "hq".to_owned())],
            ..Commit::default()
        })
        .unwrap();
    store.set_aside(aside, DocKind::Case, "无法加载", 900).unwrap();
    store.purge_case(purged, "county", &[], 901).unwrap();
    // Written again, so versions differ between documents.
    let v = store.doc_version(held, DocKind::Case).unwrap();
    store
        .commit(&Commit {
            docs: vec![write(held, DocKind::Case, Some("s2"), &[], v)],
            ..Commit::default()
        })
        .unwrap();

    let keys = [
        (held, DocKind::Case),
        (held, DocKind::Identity),
        (aside, DocKind::Case),
        (purged, DocKind::Case),
        (new, DocKind::Identity),
        (roster, DocKind::Roster),
    ];
    let survey = store.survey(&keys).unwrap();
    for key in keys {
        let (c, kind) = key;
        assert_eq!(survey.version(key), Some(store.doc_version(c, kind).unwrap()), "{key:?}");
        assert_eq!(survey.is_set_aside(key), Some(store.is_set_aside(c, kind).unwrap()), "{key:?}");
    }
    assert_eq!(survey.version((held, DocKind::Case)), Some(v.map(|v| v + 1)));
    assert_eq!(survey.is_set_aside((aside, DocKind::Case)), Some(true));
    for c in [held, aside, purged, new] {
        assert_eq!(survey.is_purged(c), Some(store.is_purged(c).unwrap()), "{c}");
        assert_eq!(survey.scope(c).map(|s| s.cloned()), Some(store.case_scope(c).unwrap()), "{c}");
    }
    assert_eq!(survey.is_purged(purged), Some(true));
    assert_eq!(survey.scope(held), Some(Some(&scope(Some("黄桥镇"), "hq", true))));
    // Not surveyed: a roster is no case, and documents or cases not asked for.
    assert_eq!(survey.scope(roster), None);
    assert_eq!(survey.version((new, DocKind::Case)), None);
    assert_eq!(survey.is_purged(case(9)), None);
    assert_eq!(store.survey(&[]).unwrap(), Default::default());

    // And the drops merged, at once.
    let ids = [Uuid::from_u128(77), Uuid::from_u128(78)];
    let merged = store.merged_drops(&ids).unwrap();
    assert_eq!(merged, HashSet::from([ids[0]]));
    assert!(ids.iter().all(|id| merged.contains(id) == store.drop_merged(*id).unwrap()));
    assert!(store.merged_drops(&[]).unwrap().is_empty());
}

fn setting_a_document_aside(store: &dyn HubStore) {
    let c = case(1);
    store
        .commit(&Commit {
            changes: vec![
                change("h1", c, DocKind::Case, "dev"),
                change("h2", c, DocKind::Case, "dev"),
            ],
            docs: vec![
                write(c, DocKind::Case, Some("broken"), &["h2"], None),
                write(c, DocKind::Identity, Some("fine"), &[], None),
            ],
            cases: vec![(c, scope(Some("黄桥镇"), "hq", false), None)],
            ..Commit::default()
        })
        .unwrap();
    assert!(!store.is_set_aside(c, DocKind::Case).unwrap());
    store.set_aside(c, DocKind::Case, "无法加载", 900).unwrap();
    assert!(store.is_set_aside(c, DocKind::Case).unwrap());
    assert!(!store.is_set_aside(c, DocKind::Identity).unwrap());
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), None);
    assert_eq!(store.doc_version(c, DocKind::Case).unwrap(), None);
    assert_eq!(store.all_docs(None, 10).unwrap(), vec![(c, DocKind::Identity)]);
    assert_eq!(store.case_ids().unwrap(), Vec::<CaseId>::new());
    // The identity document, the changes and the case's scope stay.
    assert_eq!(store.doc(c, DocKind::Identity).unwrap(), Some((b"fine".to_vec(), vec![])));
    assert!(store.has_change("h1").unwrap() && store.has_change("h2").unwrap());
    assert!(store.case_scope(c).unwrap().is_some());
    // The tail went with the document: stored again, it starts clean.
    store
        .commit(&Commit {
            docs: vec![write(c, DocKind::Case, Some("repaired"), &[], None)],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(store.doc(c, DocKind::Case).unwrap(), Some((b"repaired".to_vec(), vec![])));
    assert_eq!(sorted(store.doc_change_hashes(c, DocKind::Case).unwrap()), ["h1", "h2"]);

    // Setting aside a document that is not stored sets nothing aside.
    store.set_aside(case(2), DocKind::Case, "无", 901).unwrap();
    assert!(!store.is_set_aside(case(2), DocKind::Case).unwrap());
}

fn concurrent_commits_keep_the_log_in_order(store: &dyn HubStore) {
    const THREADS: usize = 4;
    const COMMITS: usize = 25;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                for i in 0..COMMITS {
                    let id = case((t * 1000 + i + 1) as u128);
                    let rows = (0..2)
                        .map(|half| {
                            let hash = format!("{t}-{i}-{half}");
                            change_row(id, DocKind::Case, &hash, "dev", None, None, false)
                        })
                        .collect();
                    store
                        .commit(&Commit {
                            changes: vec![change(&format!("{t}-{i}"), id, DocKind::Case, "dev")],
                            docs: vec![write(id, DocKind::Case, Some("s"), &[], None)],
                            log: rows,
                            ..Commit::default()
                        })
                        .unwrap();
                }
            });
        }
    });
    let all = whole_log(store);
    assert_eq!(all.len(), THREADS * COMMITS * 2);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.head().unwrap(), all[all.len() - 1].seq);
    // A batch's rows are never interleaved with another's.
    for pair in all.chunks(2) {
        let (a, b) = (pair[0].hash.clone().unwrap(), pair[1].hash.clone().unwrap());
        assert!(
            a.strip_suffix("-0").is_some_and(|batch| b.strip_suffix("-1") == Some(batch)),
            "{a} {b}"
        );
        assert_eq!(pair[0].case_id, pair[1].case_id);
    }
    // Each thread's batches in the order it committed them.
    for t in 0..THREADS {
        let mine: Vec<String> = all
            .iter()
            .filter_map(|r| r.hash.clone())
            .filter(|h| h.starts_with(&format!("{t}-")) && h.ends_with("-0"))
            .collect();
        let expected: Vec<String> = (0..COMMITS).map(|i| format!("{t}-{i}-0")).collect();
        assert_eq!(mine, expected);
    }
    assert_eq!(store.case_ids().unwrap().len(), THREADS * COMMITS);
}

// ---------------------------------------------------------------------------------------------
// What only a store on disk can do

/// The SQLite store keeps everything in its directory, the signing key in a file beside the
/// database; a memory store has nothing to reopen (its key lives as long as the instance).
#[test]
fn sqlite_keeps_its_keys_and_data_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, key) = {
        let store = SqliteHubStore::open(dir.path()).unwrap();
        county(&store);
        seed_case(&store, case(1), "h1", scope(Some("黄桥镇"), "hq", false));
        (store.secret().unwrap(), store.signing_key().unwrap())
    };
    let store = SqliteHubStore::open(dir.path()).unwrap();
    assert_eq!(store.secret().unwrap(), secret);
    assert_eq!(store.signing_key().unwrap(), key);
    assert!(store.has_change("h1").unwrap());
    assert_eq!(store.offices().unwrap().len(), 3);
    assert!(dir.path().join(ledger_hub::sqlite::KEY_FILE).exists());
}

/// Reopened on the same database and data directory (a restart, or a second hub process), a
/// PostgreSQL store finds the same records, secret and signing key; the migrations run once.
#[test]
fn postgres_keeps_its_keys_and_data_across_a_reopen() {
    let db = pg::TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let (secret, key) = {
        let store = ledger_hub::PgHubStore::open(&db.url, dir.path()).unwrap();
        county(&store);
        seed_case(&store, case(1), "h1", scope(Some("黄桥镇"), "hq", false));
        (store.secret().unwrap(), store.signing_key().unwrap())
    };
    let store = ledger_hub::PgHubStore::open(&db.url, dir.path()).unwrap();
    let second = ledger_hub::PgHubStore::open(&db.url, dir.path()).unwrap();
    assert_eq!(store.secret().unwrap(), secret);
    assert_eq!(second.secret().unwrap(), secret);
    assert_eq!(store.signing_key().unwrap(), key);
    assert!(store.has_change("h1").unwrap());
    assert_eq!(second.offices().unwrap().len(), 3);
}

/// A PostgreSQL address that names no server is one clear error at open, not a hang or a panic.
#[test]
fn a_postgres_address_that_does_not_answer_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let err = ledger_hub::PgHubStore::open("host=/nonexistent-socket-dir user=nobody", dir.path())
        .err()
        .expect("no server there");
    assert!(err.to_string().contains("无法连接 PostgreSQL"), "{err}");
    let err = ledger_hub::PgHubStore::open("postgres://[bad", dir.path()).err().expect("not a URL");
    assert!(err.to_string().contains("连接串"), "{err}");
}

/// The hub's signing key is tied to its records: a process whose data directory holds another
/// `hub.key` than the one first used with the database (a second hub process set up without
/// copying it, or `hub.db` restored beside the wrong key) is refused, on both durable backends.
#[test]
fn a_signing_key_that_is_not_the_records_one_is_refused() {
    let db = pg::TestDb::create();
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = ledger_hub::PgHubStore::open(&db.url, one.path()).unwrap();
    let key = ledger_hub::auth::hub_key(&first).unwrap();
    let other = ledger_hub::PgHubStore::open(&db.url, two.path()).unwrap();
    let Err(err) = ledger_hub::auth::hub_key(&other) else { panic!("another key file was taken") };
    assert!(err.to_string().contains("hub.key"), "{err}");
    std::fs::copy(
        one.path().join(ledger_hub::sqlite::KEY_FILE),
        two.path().join(ledger_hub::sqlite::KEY_FILE),
    )
    .unwrap();
    assert_eq!(ledger_hub::auth::hub_key(&other).unwrap().public(), key.public());

    let (home, restored) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sqlite = SqliteHubStore::open(home.path()).unwrap();
    ledger_hub::auth::hub_key(&sqlite).unwrap();
    drop(sqlite);
    std::fs::copy(
        home.path().join(ledger_hub::sqlite::DB_FILE),
        restored.path().join(ledger_hub::sqlite::DB_FILE),
    )
    .unwrap();
    let moved = SqliteHubStore::open(restored.path()).unwrap();
    assert!(ledger_hub::auth::hub_key(&moved).is_err(), "hub.db without its hub.key");
}

/// Keys are made per store: two hubs never share one (on disk, each directory has its own).
#[test]
fn every_store_makes_its_own_keys() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let stores: Vec<Box<dyn HubStore>> = vec![
        Box::new(SqliteHubStore::open(d1.path()).unwrap()),
        Box::new(SqliteHubStore::open(d2.path()).unwrap()),
        Box::new(MemoryHubStore::new()),
        Box::new(MemoryHubStore::new()),
    ];
    let keys: BTreeSet<String> = stores.iter().map(|s| s.signing_key().unwrap()).collect();
    let secrets: BTreeSet<[u8; 32]> = stores.iter().map(|s| s.secret().unwrap()).collect();
    assert_eq!((keys.len(), secrets.len()), (4, 4));
}

// ---------------------------------------------------------------------------------------------
// The engine on both backends

/// A fresh store of each kind, with what keeps it alive (the SQLite file's directory, the
/// PostgreSQL test database).
struct Backend {
    name: &'static str,
    store: Arc<dyn HubStore>,
    _dir: tempfile::TempDir,
    _db: Option<pg::TestDb>,
}

fn all_backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn HubStore> = Arc::new(SqliteHubStore::open(dir.path()).unwrap());
    let db = pg::TestDb::create();
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres: Arc<dyn HubStore> =
        Arc::new(ledger_hub::PgHubStore::open(&db.url, pg_dir.path()).unwrap());
    vec![
        Backend { name: "sqlite", store: sqlite, _dir: dir, _db: None },
        Backend { name: "postgres", store: postgres, _dir: pg_dir, _db: Some(db) },
        Backend {
            name: "memory",
            store: Arc::new(MemoryHubStore::new()),
            _dir: tempfile::tempdir().unwrap(),
            _db: None,
        },
    ]
}

/// Names a document the same way on every run: rosters and the rules by what they are (their
/// ids are derived), cases by the order they first appear in.
struct Labels(Vec<Uuid>);

impl Labels {
    fn label(&mut self, id: Uuid, kind: DocKind) -> String {
        if id == ledger_protocol::rules_id() {
            return format!("rules/{kind:?}");
        }
        for code in ["county", "hq", "sj"] {
            if id == ledger_protocol::roster_id(code) {
                return format!("roster {code}/{kind:?}");
            }
        }
        let n = self.0.iter().position(|c| *c == id).unwrap_or_else(|| {
            self.0.push(id);
            self.0.len() - 1
        });
        format!("case {n}/{kind:?}")
    }
}

/// What the engine did, in terms that do not depend on random ids or keys.
fn hub_summary(store: &dyn HubStore, labels: &mut Labels) -> Vec<String> {
    let mut out = vec![format!("head {}", store.head().unwrap())];
    for r in every_row(store, &["county", "hq", "sj"]) {
        out.push(format!("log {:?} {}", r.what, labels.label(r.case_id.0, r.kind)));
    }
    let mut docs: Vec<String> = store
        .all_docs(None, 1000)
        .unwrap()
        .into_iter()
        .map(|(c, k)| format!("doc {}", labels.label(c.0, k)))
        .collect();
    docs.sort();
    out.extend(docs);
    for d in store.devices(None).unwrap() {
        out.push(format!(
            "device {} {} synced {} key {}",
            d.office,
            d.letter,
            d.last_sync.is_some(),
            d.public_key.is_some()
        ));
    }
    out.push(format!("cases {}", store.case_ids().unwrap().len()));
    out.push(format!("facts {}", store.all_facts().unwrap().len()));
    out.push(format!("quarantined {}", store.quarantined(100).unwrap().len()));
    out
}

/// Enrolls a device of `office` through `auth::enroll` and returns it as a caller.
fn enroll_device(store: &dyn HubStore, code: &str, seed: u8, now: i64) -> ledger_hub::Caller {
    use ledger_hub::auth;
    let token = auth::new_token().unwrap();
    store.add_token(code, &auth::hash_secret(&token), now + 60_000).unwrap();
    let key = ledger_protocol::keys::SecretKey::from_seed([seed; 32]);
    let request = ledger_protocol::EnrollRequest {
        token,
        actor: format!("{seed:02x}").repeat(16),
        device_name: format!("{code}-pc"),
        public_key: key.public().to_hex(),
    };
    let reply = auth::enroll(store, &request, now).unwrap();
    assert_eq!(reply.hub_key.len(), 64);
    let credential = key.open(reply.sealed.as_ref().unwrap()).unwrap();
    auth::authenticate(store, &credential).unwrap()
}

/// Syncs with no changes until the hub has nothing more; what each page carried.
fn empty_syncs(
    engine: &ledger_hub::Engine,
    caller: &ledger_hub::Caller,
    now: i64,
    labels: &mut Labels,
) -> Vec<String> {
    let mut request = ledger_protocol::SyncRequest { device_time: now, ..Default::default() };
    let mut seen = Vec::new();
    for _ in 0..20 {
        let reply = engine.sync(caller, &request, now).unwrap();
        assert!(reply.refused.is_empty());
        for record in &reply.records {
            seen.push(match record {
                ledger_protocol::Record::Change { case_id, kind, .. } => {
                    format!("change {}", labels.label(*case_id, *kind))
                }
                ledger_protocol::Record::Enter { case_id, kind, .. } => {
                    format!("enter {}", labels.label(*case_id, *kind))
                }
                ledger_protocol::Record::Leave { case_id, kind } => {
                    format!("leave {}", labels.label(*case_id, kind.unwrap_or(DocKind::Case)))
                }
                other => format!("{other:?}"),
            });
        }
        request.cursor = reply.cursor;
        request.directory_version =
            reply.directory.map(|d| d.version).or(request.directory_version);
        if !reply.more {
            seen.sort();
            return seen;
        }
    }
    panic!("the hub kept saying there was more");
}

/// The engine over a store: enrollment, the rules and rosters it makes at the first syncs,
/// and the pages it serves an office and the bureau that send nothing.
fn engine_round(store: &Arc<dyn HubStore>) -> Vec<String> {
    let now = ledger_hub::now_ms();
    county(store.as_ref());
    let engine = ledger_hub::Engine::new(store.clone());
    let hq = enroll_device(store.as_ref(), "hq", 1, now);
    let bureau = enroll_device(store.as_ref(), "county", 2, now);
    let mut labels = Labels(Vec::new());
    let mut out = vec!["hq".to_owned()];
    out.extend(empty_syncs(&engine, &hq, now, &mut labels));
    out.push("county".to_owned());
    out.extend(empty_syncs(&engine, &bureau, now + 1, &mut labels));
    out.push("hq again".to_owned());
    out.extend(empty_syncs(&engine, &hq, now + 2, &mut labels));
    out.extend(hub_summary(store.as_ref(), &mut labels));
    out
}

#[test]
fn an_engine_round_is_the_same_on_every_backend() {
    let backends = all_backends();
    let rounds: Vec<Vec<String>> = backends.iter().map(|b| engine_round(&b.store)).collect();
    let on_memory = rounds[2].clone();
    for (b, round) in backends.iter().zip(&rounds) {
        assert_eq!(round, &on_memory, "{} differs from the memory store", b.name);
    }
    // And the round did what the design says: every office gets the rules document and its
    // own roster, the bureau every roster.
    let hq = &on_memory[..on_memory.iter().position(|l| l == "county").unwrap()];
    assert!(hq.iter().any(|l| l.ends_with(" rules/Rules")), "{on_memory:#?}");
    assert!(hq.iter().any(|l| l.ends_with(" roster hq/Roster")), "{on_memory:#?}");
    assert!(!hq.iter().any(|l| l.contains("roster county")), "{on_memory:#?}");
    assert!(on_memory.contains(&"doc roster county/Roster".to_owned()), "{on_memory:#?}");
}

/// A real office registers a case and syncs over HTTP; the bureau then fetches it. Run on each
/// backend behind the same router, the hub must come out the same.
async fn office_round(store: Arc<dyn HubStore>) -> Vec<String> {
    county(store.as_ref());
    let token = |code: &str| {
        let token = ledger_hub::auth::new_token().unwrap();
        let hash = ledger_hub::auth::hash_secret(&token);
        store.add_token(code, &hash, ledger_hub::now_ms() + 600_000).unwrap();
        token
    };
    let (hq_token, county_token) = (token("hq"), token("county"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ledger_hub::serve(
        listener,
        ledger_hub::HubState::new(store.clone()),
        async move {
            let _ = stopped.await;
        },
    ));

    // Enrolled and synced as the hub's other tests do (support/office.rs: the offices' clock at
    // 10:00 Beijing time on 2024-03-05).
    let (_hq_dir, hq) = office::enroll(&url, hq_token, "李娟").await;
    let (_county_dir, bureau) = office::enroll(&url, county_token, "刘洪").await;
    let sync = |o: Arc<ledger_office::Office>| async move { office::sync(&o).await };

    let input = ledger_domain::NewCase {
        submission: ledger_domain::NewSubmission {
            received: "2024-03-01".parse().ok(),
            channel: "来访".into(),
            source: "本局接收".into(),
            persons: Some(2),
            ..Default::default()
        },
        purpose: "申诉求决".into(),
        sector: "涉土".into(),
        category: "纠纷调处".into(),
        township: "黄桥镇".into(),
        request: "界址纠纷".into(),
        village: "大屋村".into(),
        petitioners: vec![ledger_domain::NewPetitioner {
            name: "钱七".into(),
            id_number: "11010519491231002X".into(),
            phone: "13812345678".into(),
            address: "大屋村3组".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let id = hq.register(&input, None).unwrap();
    let up = sync(hq.clone()).await;
    let down = sync(bureau.clone()).await;
    let view = bureau.view(id).unwrap();

    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let mut labels = Labels(Vec::new());
    labels.label(id.0, DocKind::Case);
    let mut out = vec![
        format!("hq uploaded {} refused {}", up.uploaded, up.refused),
        format!("bureau refused {} got something {}", down.refused, down.downloaded > 0),
        format!("bureau sees {} of {:?}", view.case.request, view.case.jurisdiction),
        format!("bureau holds identity {}", view.identity.is_some()),
    ];
    out.extend(hub_summary(store.as_ref(), &mut labels));
    let scope = store.case_scope(id).unwrap().unwrap();
    out.push(format!("scope {:?} {} {}", scope.township, scope.registrar, scope.restricted));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_round_is_the_same_on_every_backend() {
    // Made, used and dropped on the runtime's own threads: every store works from any thread.
    let backends = all_backends();
    let mut rounds = Vec::new();
    for b in &backends {
        rounds.push(office_round(b.store.clone()).await);
    }
    let on_memory = rounds[2].clone();
    for (b, round) in backends.iter().zip(&rounds) {
        assert_eq!(round, &on_memory, "{} differs from the memory store", b.name);
    }
    // The case went up and came down to the bureau whole.
    assert!(
        on_memory[0].starts_with("hq uploaded ") && !on_memory[0].starts_with("hq uploaded 0"),
        "{on_memory:#?}"
    );
    assert!(
        on_memory.contains(&"bureau sees 界址纠纷 of Some(\"黄桥镇\")".to_owned()),
        "{on_memory:#?}"
    );
    assert!(
        on_memory.contains(&"cases 1".to_owned()) && on_memory.contains(&"facts 1".to_owned()),
        "{on_memory:#?}"
    );
}

/// `ledger-hub check` on every backend: a document whose tail lost a change is reported (and
/// set aside when asked), and the check goes on to the next document.
#[test]
fn the_check_reports_a_document_whose_tail_lost_a_change() {
    for Backend { name, store, .. } in all_backends() {
        let (bad, good) = (case(7), case(8));
        store
            .commit(&Commit {
                changes: vec![
                    change("h1", bad, DocKind::Case, "dev"),
                    change("h2", good, DocKind::Case, "dev"),
                ],
                docs: vec![
                    write(bad, DocKind::Case, Some("s"), &["h1", "lost"], None),
                    write(good, DocKind::Case, Some("s"), &["h2"], None),
                ],
                ..Commit::default()
            })
            .unwrap();
        let report = ledger_hub::check::check(store.as_ref(), true, 5).unwrap();
        assert_eq!(report.documents, 2, "{name}: both were looked at");
        let lost: Vec<_> = report.problems.iter().filter(|p| p.reason.contains("lost")).collect();
        assert_eq!(lost.len(), 1, "{name}: {:?}", report.problems);
        assert_eq!((lost[0].case_id, lost[0].set_aside), (bad, true), "{name}");
        assert!(store.is_set_aside(bad, DocKind::Case).unwrap(), "{name}");
    }
}

/// `ledger-hub check` names a case stored under a work record's kind of id (an older hub took
/// any id for a case), which no office is served.
#[test]
fn the_check_names_a_case_under_a_work_records_id() {
    for Backend { name, store, .. } in all_backends() {
        let odd = CaseId(ledger_protocol::work_id(case(9).0));
        store
            .commit(&Commit {
                changes: vec![change("w1", odd, DocKind::Case, "dev")],
                docs: vec![write(odd, DocKind::Case, Some("s"), &["w1"], None)],
                ..Commit::default()
            })
            .unwrap();
        let report = ledger_hub::check::check(store.as_ref(), false, 5).unwrap();
        let named: Vec<_> =
            report.problems.iter().filter(|p| p.reason.contains("标识与其种类不符")).collect();
        assert_eq!(named.len(), 1, "{name}: {:?}", report.problems);
        assert_eq!((named[0].case_id, named[0].kind), (odd, DocKind::Case), "{name}");
    }
}

/// A fresh office's first download on either backend: a document whose tail lost a change is
/// left out (and logged), and every other document still arrives; the damaged one does not
/// fail the pages that would carry it.
#[test]
fn a_damaged_document_does_not_stop_a_first_download() {
    // The damaged one before the county's own documents in scope order, and the very last.
    let last = CaseId(Uuid::from_u128(u128::MAX));
    for (Backend { name, store, .. }, (good, bad)) in all_backends()
        .into_iter()
        .map(|b| (b, (case(21), case(22))))
        .chain(all_backends().into_iter().map(|b| (b, (case(21), last))))
    {
        let now = ledger_hub::now_ms();
        county(store.as_ref());
        seed_case(store.as_ref(), good, "g1", scope(Some("黄桥镇"), "hq", false));
        store
            .commit(&Commit {
                changes: vec![change("b1", bad, DocKind::Case, "dev-a")],
                docs: vec![write(bad, DocKind::Case, Some("snap"), &["b1", "lost"], None)],
                cases: vec![(bad, scope(Some("黄桥镇"), "hq", false), None)],
                ..Commit::default()
            })
            .unwrap();
        let engine = ledger_hub::Engine::new(store.clone());
        let bureau = enroll_device(store.as_ref(), "county", 3, now);
        let mut labels = Labels(Vec::new());
        // `empty_syncs` unwraps every answer: an error page fails the test.
        let seen = empty_syncs(&engine, &bureau, now, &mut labels);
        let cases: Vec<&String> = seen.iter().filter(|s| s.starts_with("enter case")).collect();
        assert_eq!(cases.len(), 1, "{name}: {seen:?}");
        assert_eq!(labels.0.first(), Some(&good.0), "{name}: the good case came");
    }
}
