//! The trust boundary end to end, on the real hub over TCP: what each office may see on every
//! path that serves a document, identities that leave and come back with a restriction,
//! identity drops, staff rosters, and the hub's and the office's deep checks.

#![allow(clippy::unwrap_used)]

use ledger_client::SyncTarget;
use ledger_domain::{ActionKind, CaseId};
use ledger_office::ActionInput;
use ledger_protocol::{
    BlobWant, Cursor, DocKind, Partial, Record, RepairRequest, RepairSync, SyncRequest,
    SyncResponse, decode, encode,
};
use ledger_store::DocKind as StoreKind;
use ledger_tests::{County, TestHub, TestOffice, case_input, repeat_visit};

const TODAY: &str = "2024-03-05";

async fn county() -> County {
    County::start(TODAY).await.unwrap()
}

fn assign(township: &str) -> ActionInput {
    ActionInput {
        action: Some(ActionKind::Assign),
        target: Some(township.into()),
        ..Default::default()
    }
}

/// A 检举控告 case (违法占地建设 implies it) registered by the bureau and assigned to `township`.
async fn report_case(c: &County, township: &str, informant: &str) -> CaseId {
    let mut input = case_input(township, "本局接收", informant, "邻居违法占用耕地建房");
    input.category = "违法占地建设".into();
    input.purpose = "检举控告".into();
    let id = c.bureau.office.register(&input, None).unwrap();
    c.bureau.office.act(id, &assign(township)).unwrap();
    c.bureau.sync().await.unwrap();
    id
}

async fn exchange(o: &TestOffice, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let binding = o.office.binding().unwrap().unwrap();
    let resp = ledger_tests::raw_http()
        .post(format!("{}{path}", binding.hub))
        .bearer_auth(&binding.credential)
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

async fn sync_raw(o: &TestOffice, request: &SyncRequest) -> SyncResponse {
    let (status, body) = exchange(o, "/v1/sync", encode(request).unwrap()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    decode(&body).unwrap()
}

fn identity_records(r: &SyncResponse, id: CaseId) -> usize {
    r.records
        .iter()
        .filter(|rec| match rec {
            Record::Change { case_id, kind, .. } | Record::Enter { case_id, kind, .. } => {
                *case_id == id.0 && *kind == DocKind::Identity
            }
            _ => false,
        })
        .count()
}

/// Every path that serves a document asks the one visibility function: pages, enter records,
/// documents sent whole, pieces, repair, and attachments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_that_serves_a_document_applies_the_same_visibility() {
    let c = county().await;
    let sealed = report_case(&c, "黄桥镇", "检举人甲").await;
    // A case of the other township, with an attachment.
    let other = c
        .bureau
        .office
        .register(&case_input("石江镇", "本局接收", "村民乙", "林地纠纷"), None)
        .unwrap();
    c.bureau.office.act(other, &assign("石江镇")).unwrap();
    let blob = c
        .bureau
        .office
        .attach(other, "现场.jpg", b"jpeg bytes of another township", "image/jpeg")
        .unwrap();
    c.bureau.sync().await.unwrap();

    // Pages (a fresh device: bootstrap, then the log from the start of time).
    let fresh = sync_raw(&c.a, &SyncRequest { page_bytes: 1 << 20, ..Default::default() }).await;
    assert_eq!(identity_records(&fresh, sealed), 0, "bootstrap");
    let from_zero = sync_raw(
        &c.a,
        &SyncRequest {
            cursor: Cursor { seq: 1, ..Default::default() },
            page_bytes: 1 << 20,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(identity_records(&from_zero, sealed), 0, "a hand-written cursor replaying the log");
    assert!(
        from_zero
            .records
            .iter()
            .all(|r| !matches!(r, Record::Change { case_id, .. } if *case_id == other.0))
    );
    // Documents asked for whole.
    let whole = sync_raw(
        &c.a,
        &SyncRequest {
            want_whole: vec![sealed.0, other.0],
            page_bytes: 1 << 20,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(identity_records(&whole, sealed), 0, "want_whole");
    assert!(whole.records.iter().any(
        |r| matches!(r, Record::Enter { case_id, kind: DocKind::Case, .. } if *case_id == sealed.0)
    ));
    assert!(
        !whole
            .records
            .iter()
            .any(|r| matches!(r, Record::Enter { case_id, .. } if *case_id == other.0))
    );
    // A document in pieces, forged for the identity.
    let pieces = sync_raw(
        &c.a,
        &SyncRequest {
            cursor: Cursor {
                seq: 1,
                partial: Some(Partial {
                    case_id: sealed.0,
                    kind: DocKind::Identity,
                    heads: Vec::new(),
                    offset: 0,
                }),
                ..Default::default()
            },
            page_bytes: 1 << 20,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(identity_records(&pieces, sealed), 0, "a partial cursor");
    // Repair: digests and Automerge's own sync protocol.
    let (status, body) = exchange(
        &c.a,
        "/v1/repair/digests",
        encode(&RepairRequest { last: true, ..Default::default() }).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let missing: ledger_protocol::RepairResponse = decode(&body).unwrap();
    assert!(missing.missing.contains(&(sealed.0, DocKind::Case)));
    assert!(
        !missing.missing.iter().any(|(id, kind)| *id == sealed.0 && *kind == DocKind::Identity)
    );
    assert!(!missing.missing.iter().any(|(id, _)| *id == other.0));
    let message = {
        use ledger_domain::automerge::sync::{State, SyncDoc};
        let empty = ledger_domain::automerge::Automerge::new();
        empty.generate_sync_message(&mut State::new()).unwrap().encode()
    };
    let (status, _) = exchange(
        &c.a,
        "/v1/repair/sync",
        encode(&RepairSync {
            case_id: sealed.0,
            kind: DocKind::Identity,
            message: message.clone(),
        })
        .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "repair of a restricted identity");
    let (status, _) = exchange(
        &c.a,
        "/v1/repair/sync",
        encode(&RepairSync { case_id: other.0, kind: DocKind::Case, message }).unwrap(),
    )
    .await;
    assert_eq!(status, 403, "repair of another township's case");
    // Attachments.
    let blobs = sync_raw(
        &c.a,
        &SyncRequest {
            want_blobs: vec![BlobWant { hash: blob.clone(), offset: 0 }],
            page_bytes: 1 << 20,
            ..Default::default()
        },
    )
    .await;
    assert!(
        !blobs.records.iter().any(|r| matches!(r, Record::Blob(_))),
        "another township's attachment"
    );
    let theirs = sync_raw(
        &c.b,
        &SyncRequest {
            want_blobs: vec![BlobWant { hash: blob, offset: 0 }],
            page_bytes: 1 << 20,
            ..Default::default()
        },
    )
    .await;
    assert!(
        theirs.records.iter().any(|r| matches!(r, Record::Blob(_))),
        "its own township gets it"
    );
}

/// A case restricted after its identity reached a township takes the identity away from it;
/// the bureau's 解除保密 brings it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_leaves_when_the_case_is_restricted_and_returns_when_lifted() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "赵公明", "宅基地纠纷"), None)
        .unwrap();
    c.bureau.office.act(id, &assign("黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert!(c.a.office.view(id).unwrap().identity.is_some(), "an ordinary case's identity");

    // The petitioner asks for confidentiality.
    c.bureau.office.set_field(id, &ledger_domain::schema::CaseField::Confidential, "是").unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert!(!c.a.office.store().has_doc(id, StoreKind::Identity).unwrap());
    assert!(c.a.office.view(id).unwrap().identity.is_none());
    let files = raw_files(c.a.dir.path());
    assert!(!holds(&files, "赵公明"), "the name is gone from the township's files");
    // A new device of the township never gets it.
    let token = c.hub.token("hq").unwrap();
    let fresh = TestOffice::enroll(&c.hub.url(), &token, "李娟", TODAY).await.unwrap();
    fresh.sync().await.unwrap();
    assert!(fresh.office.view(id).unwrap().identity.is_none());

    // Lifted by the bureau, with its reason.
    c.bureau
        .office
        .act(
            id,
            &ActionInput {
                action: Some(ActionKind::LiftRestriction),
                text: Some("信访人书面撤回保密要求".into()),
                ..Default::default()
            },
        )
        .unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    let identity = c.a.office.view(id).unwrap().identity.unwrap();
    assert_eq!(identity.persons[0].name, "赵公明");
}

/// Identities typed at a township for a restricted case reach the bureau outside Automerge
/// history and leave the township once merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_drops_reach_the_bureau_and_leave_the_township() {
    let c = county().await;
    let mut input = case_input("黄桥镇", "12336举报", "钱检举", "有人非法占用基本农田");
    input.category = "违法占地建设".into();
    input.purpose = "检举控告".into();
    input.petitioners[0].id_number = "43052519800101123X".into();
    input.petitioners[0].phone = "13700002222".into();
    let id = c.a.office.register(&input, None).unwrap();
    assert_eq!(c.a.office.identities_to_deliver().unwrap(), 1);
    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.identities_to_deliver().unwrap(), 0, "merged, then deleted here");
    c.bureau.sync().await.unwrap();
    let identity = c.bureau.office.view(id).unwrap().identity.unwrap();
    assert_eq!(identity.persons[0].name, "钱检举");
    assert_eq!(identity.persons[0].phone, "13700002222");
    let files = raw_files(c.a.dir.path());
    for secret in ["钱检举", "43052519800101123X", "13700002222"] {
        assert!(!holds(&files, secret), "{secret} in the township's files");
    }
    // A drop sent again merges once; one for a case of another township is refused alone.
    let replay = SyncRequest {
        drops: vec![ledger_protocol::IdentityDrop {
            id: "01900000-0000-7000-8000-00000000abcd".parse::<CaseId>().unwrap().0,
            case_id: id.0,
            persons: vec![ledger_protocol::DropPerson {
                id: "unknown-ref".into(),
                name: "伪造".into(),
                id_type: "resident_id".into(),
                id_number: String::new(),
                phone: String::new(),
                address: String::new(),
            }],
        }],
        page_bytes: 64 * 1024,
        ..Default::default()
    };
    let answer = sync_raw(&c.b, &replay).await;
    assert_eq!(answer.refused_drops.len(), 1, "another township's case");
    let answer = sync_raw(&c.a, &replay).await;
    assert_eq!(answer.refused_drops.len(), 1, "a person the case does not name");
    c.bureau.sync().await.unwrap();
    assert_eq!(c.bureau.office.view(id).unwrap().identity.unwrap().persons.len(), 1);
    // A repeat visit with a new petitioner, offline, then synced.
    c.a.office.add_submission(id, &repeat_visit("孙同访"), None).unwrap();
    c.a.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    let names: Vec<String> = c
        .bureau
        .office
        .view(id)
        .unwrap()
        .identity
        .unwrap()
        .persons
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"孙同访".to_owned()), "{names:?}");
    assert!(!holds(&raw_files(c.a.dir.path()), "孙同访"));
}

/// The identity drops of one exchange are written together: three cases registered offline
/// and a second submission with a new petitioner on one of them reach the bureau in one sync,
/// the repeat petitioner beside the first one of that case, and leave the township.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_drops_of_one_exchange_all_reach_the_bureau() {
    let c = county().await;
    let names = ["赵一检", "钱二检", "孙三检"];
    let ids: Vec<CaseId> = names
        .iter()
        .map(|name| {
            let mut input = case_input("黄桥镇", "12336举报", name, "有人非法占用基本农田");
            input.category = "违法占地建设".into();
            input.purpose = "检举控告".into();
            c.a.office.register(&input, None).unwrap()
        })
        .collect();
    c.a.office.add_submission(ids[0], &repeat_visit("李同案"), None).unwrap();
    assert_eq!(c.a.office.identities_to_deliver().unwrap(), 4);
    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.identities_to_deliver().unwrap(), 0, "every drop merged");
    c.bureau.sync().await.unwrap();
    for (id, name) in ids.iter().zip(names) {
        let persons = c.bureau.office.view(*id).unwrap().identity.unwrap().persons;
        let mut got: Vec<String> = persons.into_iter().map(|p| p.name).collect();
        got.sort();
        let mut want = vec![name.to_owned()];
        if *id == ids[0] {
            want.push("李同案".to_owned());
            want.sort();
        }
        assert_eq!(got, want, "case {id}");
    }
    let files = raw_files(c.a.dir.path());
    for secret in names.iter().chain(&["李同案"]) {
        assert!(!holds(&files, secret), "{secret} in the township's files");
    }
}

/// Staff added after enrollment join the roster before anything they sign goes up; someone
/// not on the roster cannot sign at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_signed_by_staff_on_the_roster() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "周一", "宅基地"), None)
        .unwrap();
    c.bureau.office.act(id, &assign("黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    let mut config = c.a.office.config();
    config.staff.push("新同事".into());
    c.a.office.update_config(config).unwrap();
    c.a.office
        .act(
            id,
            &ActionInput {
                action: Some(ActionKind::Investigate),
                handler: Some("新同事".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let report = c.a.sync().await.unwrap();
    assert_eq!(report.refused, 0);
    c.bureau.sync().await.unwrap();
    let events = c.bureau.office.case(id).unwrap().events;
    assert!(events.iter().any(|e| e.handler == "新同事"));
    let roster =
        c.hub.store().doc(CaseId(ledger_protocol::roster_id("hq")), DocKind::Roster).unwrap();
    assert!(roster.is_some(), "the hub holds the roster");
}

/// `ledger-hub check` finds a stored document that no longer loads and sets it aside; the
/// hub goes on serving everything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_check_sets_aside_a_document_that_no_longer_loads() {
    let c = county().await;
    let broken = report_case(&c, "黄桥镇", "某甲").await;
    let fine = report_case(&c, "黄桥镇", "某乙").await;
    let report = ledger_hub::check::check(c.hub.store().as_ref(), false, 0).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert!(report.documents >= 4);
    {
        let conn = rusqlite::Connection::open(c.hub.dir().join("hub.db")).unwrap();
        conn.execute(
            "UPDATE docs SET snapshot = x'00010203' WHERE case_id = ?1 AND kind = 0",
            [broken.to_string()],
        )
        .unwrap();
    }
    let hub_dir = c.hub.stop().await.unwrap();
    let hub = TestHub::start_in(hub_dir).await.unwrap();
    let report = ledger_hub::check::check(hub.store().as_ref(), false, 0).unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert_eq!(report.problems[0].case_id, broken);
    // Syncing still works for every other case.
    let token = hub.token("hq").unwrap();
    let fresh = TestOffice::enroll(&hub.url(), &token, "李娟", TODAY).await.unwrap();
    fresh.sync().await.unwrap();
    assert!(fresh.office.case(fine).is_ok());
    let report = ledger_hub::check::check(hub.store().as_ref(), true, 0).unwrap();
    assert!(report.problems[0].set_aside);
    assert!(ledger_hub::check::check(hub.store().as_ref(), false, 0).unwrap().problems.is_empty());
}

/// `ledger check --deep` finds an outbox entry the hub would refuse (one byte flipped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deep_check_finds_a_corrupt_outbox_entry() {
    let c = county().await;
    let id =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "吴某", "宅基地"), None).unwrap();
    assert!(c.a.office.check_deep().unwrap().problems.is_empty(), "a clean store passes");
    let path = c.a.dir.path().join(ledger_store::DB_FILE);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (seq, mut bytes): (i64, Vec<u8>) = conn
        .query_row("SELECT seq, bytes FROM outbox WHERE kind = 0 ORDER BY seq LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    conn.execute("UPDATE outbox SET bytes = ?1 WHERE seq = ?2", rusqlite::params![bytes, seq])
        .unwrap();
    drop(conn);
    let report = c.a.office.check_deep().unwrap();
    assert!(!report.problems.is_empty());
    assert!(report.problems.iter().all(|p| p.case_id == Some(id)), "{report:?}");
    assert!(report.problems.iter().any(|p| p.problem.contains(&format!("#{seq}"))), "{report:?}");
}

/// A case that leaves a township takes its attachments, staging rows and receipts with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicted_case_leaves_nothing_behind() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "冯某", "违法建房"), None)
        .unwrap();
    c.bureau.office.act(id, &assign("黄桥镇")).unwrap();
    let secret = b"photograph of the informant's house, unique bytes 8c1f";
    c.bureau.office.attach(id, "现场.jpg", secret, "image/jpeg").unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert!(c.a.office.attachment(&ledger_store::blob_hash(secret)).is_ok());
    let rows = |table: &str| -> i64 {
        let conn = rusqlite::Connection::open(c.a.dir.path().join(ledger_store::DB_FILE)).unwrap();
        conn.query_row(
            &format!("SELECT count(*) FROM {table} WHERE case_id = ?1"),
            [id.to_string()],
            |r| r.get(0),
        )
        .unwrap()
    };
    // A later change of the bureau's reaches the township as a change, with its receipt.
    c.bureau
        .office
        .set_field(id, &ledger_domain::schema::CaseField::Subject, "违法建房（补充）")
        .unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert!(rows("receipts") > 0, "precondition: the township holds receipts of the case");
    c.bureau
        .office
        .act(
            id,
            &ActionInput {
                action: Some(ActionKind::Reassign),
                target: Some("石江镇".into()),
                ..Default::default()
            },
        )
        .unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert!(c.a.office.store().row(id).unwrap().is_none(), "evicted");
    for table in ["receipts", "staging", "changes", "blob_refs"] {
        assert_eq!(rows(table), 0, "{table} rows of the evicted case remain");
    }
    let files = raw_files(c.a.dir.path());
    assert!(!holds_bytes(&files, secret), "the attachment left with the case");
    assert!(!holds(&files, "冯某"));
    assert!(!c.hub.store().evictions(id).unwrap().is_empty(), "the eviction was confirmed");
    // Confirming an eviction of a case that never left is ignored.
    sync_raw(&c.b, &SyncRequest { evicted: vec![id.0], page_bytes: 4096, ..Default::default() })
        .await;
    assert!(c.hub.store().evictions(id).unwrap().iter().all(|(office, _, _)| office == "hq"));
}

fn raw_files(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn holds(bytes: &[u8], text: &str) -> bool {
    holds_bytes(bytes, text.as_bytes())
}

fn holds_bytes(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

/// A bureau device leases a block of official numbers at its first sync and asks for nothing
/// more while the block lasts: an idle sync stays one small exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leased_block_keeps_idle_syncs_small() {
    let c = county().await;
    c.bureau.sync().await.unwrap();
    let request = c.bureau.office.prepare(64 * 1024).unwrap();
    assert!(request.want_leases.is_empty(), "{:?}", request.want_leases);
    assert!(c.bureau.office.store().numbers_left("official:2024").unwrap() >= 5);
    let idle = encode(&request).unwrap();
    assert!(idle.len() < 200, "an idle request is {} bytes", idle.len());
}

/// Documents asked for whole fill one page at most, once each; the rest are named to ask for
/// again, and the office does ask again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_asked_for_whole_respect_the_page_and_come_later() {
    let c = county().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(report_case(&c, "黄桥镇", &format!("某{i}")).await);
    }
    let mut asked: Vec<_> = ids.iter().map(|i| i.0).collect();
    asked.extend(std::iter::repeat_n(ids[0].0, 200));
    let answer =
        sync_raw(&c.a, &SyncRequest { want_whole: asked, page_bytes: 2048, ..Default::default() })
            .await;
    let entered = answer.records.iter().filter(|r| matches!(r, Record::Enter { .. })).count();
    assert!((1..6).contains(&entered), "{entered} documents in a 2 KiB page");
    assert!(!answer.deferred_whole.is_empty());
    assert!(answer.more);
    // Through the real client, everything arrives.
    c.a.sync().await.unwrap();
    for id in &ids {
        assert!(c.a.office.case(*id).is_ok());
    }
}

/// Once a device has confirmed it deleted a case that left it, nothing it sends for that case
/// is accepted any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_cannot_write_to_a_case_it_confirmed_gone() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "陈某", "宅基地"), None)
        .unwrap();
    c.bureau.office.act(id, &assign("黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    let saved = c.a.office.store().save_doc(id, StoreKind::Case).unwrap();
    c.bureau
        .office
        .act(
            id,
            &ActionInput {
                action: Some(ActionKind::Reassign),
                target: Some("石江镇".into()),
                ..Default::default()
            },
        )
        .unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert!(c.a.office.store().row(id).unwrap().is_none());
    // The device kept a copy and writes to it from its old standpoint.
    let (hash, bytes) =
        ledger_tests::edit_change(&saved, c.a.office.store().actor(), "subject", "离开后仍在修改");
    let answer = sync_raw(
        &c.a,
        &SyncRequest {
            changes: vec![ledger_protocol::UpChange {
                case_id: id.0,
                kind: DocKind::Case,
                hash: ledger_protocol::Hash(hash),
                bytes,
            }],
            page_bytes: 4096,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(answer.refused.len(), 1);
    assert_eq!(answer.refused[0].rule, "scope");
}

/// The hub takes attachment pieces only for files a case the sender may see cites.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_can_park_files_at_the_hub() {
    let c = county().await;
    let junk = vec![7u8; 4096];
    let hash = ledger_store::blob_hash(&junk);
    let chunk =
        ledger_protocol::BlobChunk { hash: hash.clone(), offset: 0, total: 4096, bytes: junk };
    sync_raw(&c.a, &SyncRequest { blobs: vec![chunk], page_bytes: 4096, ..Default::default() })
        .await;
    assert!(c.hub.store().blob(&hash).unwrap().is_none());
    assert_eq!(c.hub.store().blob_progress(&hash).unwrap(), Err(0));
}
