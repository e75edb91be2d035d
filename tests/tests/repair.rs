//! Repair after a restore from backup, and USB bundles for an office with no link at all.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use ledger_domain::schema::{CaseField, Draft};
use ledger_domain::{ActionKind, Role};
use ledger_office::{ActionInput, OfficeError};
use ledger_tests::{TestHub, TestOffice, case_input, supervision};

const TODAY: &str = "2024-03-05";

/// How [`SpoilingHub`] answers a repair step for its spoilt case.
#[derive(Debug, Clone, Copy)]
enum Spoil {
    /// A well-formed answer whose message is no sync message.
    Garbage,
    /// The hub's own refusal of the document (403, its body naming the case).
    Refuse,
    /// This status, with no body (a hub that cannot apply the message, or a proxy's page).
    Status(u16),
}

impl Spoil {
    /// Whether the whole repair run ends on it (rather than the document alone).
    fn ends_the_run(self) -> bool {
        matches!(self, Self::Status(status) if status != 400)
    }
}

/// Spoils the repair steps of every case.
const EVERY_CASE: uuid::Uuid = uuid::Uuid::nil();

/// A hub gone bad in one way, in front of the real one: it answers every repair step for the
/// case set in `spoilt` as its [`Spoil`] says, and passes everything else on.
struct SpoilingHub {
    upstream: String,
    http: reqwest::Client,
    spoilt: Mutex<Option<(uuid::Uuid, Spoil)>>,
}

impl SpoilingHub {
    /// Starts it in front of `upstream`; returns it and its URL.
    async fn start(upstream: String) -> (Arc<Self>, String) {
        let spoiler =
            Arc::new(Self { upstream, http: ledger_tests::raw_http(), spoilt: Mutex::new(None) });
        let app = axum::Router::new().fallback(Self::answer).with_state(Arc::clone(&spoiler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (spoiler, url)
    }

    async fn answer(
        axum::extract::State(this): axum::extract::State<Arc<Self>>,
        request: axum::extract::Request,
    ) -> axum::response::Response {
        use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
        use axum::response::IntoResponse;
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let spoilt = *this.spoilt.lock().unwrap();
        if parts.uri.path() == "/v1/repair/sync" {
            let asked: ledger_protocol::RepairSync = ledger_protocol::decode(&body).unwrap();
            match spoilt.filter(|(case, _)| *case == asked.case_id || *case == EVERY_CASE) {
                Some((_, Spoil::Garbage)) => {
                    let garbage = b"\x42 this is no sync message".to_vec();
                    let answer = ledger_protocol::RepairSyncResponse { message: Some(garbage) };
                    let bytes = ledger_protocol::encode(&answer).unwrap();
                    let content = [(CONTENT_TYPE, ledger_protocol::CONTENT_TYPE)];
                    return (content, bytes).into_response();
                }
                Some((_, Spoil::Refuse)) => {
                    let refused = ledger_protocol::Refused {
                        hash: String::new(),
                        case_id: asked.case_id,
                        reason: "该案件不属于本单位管辖".into(),
                        rule: "scope".into(),
                    };
                    let body = ledger_protocol::ErrorBody {
                        code: "forbidden".into(),
                        message: "县局拒收".into(),
                        refused: vec![refused],
                        supported_versions: Vec::new(),
                    };
                    return (axum::http::StatusCode::FORBIDDEN, axum::Json(body)).into_response();
                }
                Some((_, Spoil::Status(status))) => {
                    return axum::http::StatusCode::from_u16(status).unwrap().into_response();
                }
                None => {}
            }
        }
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut forward = this.http.request(parts.method, format!("{}{path}", this.upstream));
        for (name, value) in &parts.headers {
            if name != HOST && name != CONTENT_LENGTH {
                forward = forward.header(name, value);
            }
        }
        let answer = forward.body(body).send().await.unwrap();
        let (status, headers) = (answer.status(), answer.headers().clone());
        let mut response = (status, answer.bytes().await.unwrap()).into_response();
        for (name, value) in &headers {
            if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
                response.headers_mut().insert(name, value.clone());
            }
        }
        response
    }
}

/// No (actor, sequence) pair of a document is used by two different changes at the hub.
fn assert_no_duplicate_actor_seq(hub: &TestHub) {
    // Read through the store, so it holds on either backend.
    let store = hub.store();
    let mut seen = HashSet::new();
    let mut n = 0;
    let mut after = None;
    loop {
        let docs = store.all_docs(after, 1000).unwrap();
        let Some(last) = docs.last() else { break };
        after = Some(*last);
        for (case, kind) in docs {
            for hash in store.doc_change_hashes(case, kind).unwrap() {
                let Some(bytes) = store.change(&hash).unwrap() else { continue };
                let change = ledger_domain::automerge::Change::from_bytes(bytes).unwrap();
                // Sequence numbers count per document.
                assert!(
                    seen.insert((case, kind, change.actor_id().clone(), change.seq())),
                    "duplicate (actor, seq)"
                );
                n += 1;
            }
        }
    }
    assert!(n > 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_restored_from_an_old_backup_converges_with_nothing_lost() {
    let hub = TestHub::start().await.unwrap();
    let tb = hub.add_office("county", "县局", Role::Bureau, &[]).unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let bureau = TestOffice::enroll(&hub.url(), &tb, "刘洪", TODAY).await.unwrap();
    let a = TestOffice::enroll(&hub.url(), &ta, "李娟", TODAY).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            a.office
                .register(
                    &case_input("黄桥镇", "本局接收", &format!("村民{i}"), "宅基地纠纷"),
                    None,
                )
                .unwrap(),
        );
    }
    a.sync().await.unwrap();
    let backup = tempfile::tempdir().unwrap();
    let file = backup.path().join("hq.db");
    a.office.store().backup(&file).unwrap();
    let old_actor = a.office.store().actor();

    // After the backup: edits and new cases, all synced to the hub.
    for id in &ids[..3] {
        a.office.set_draft(*id, Draft::Investigation, "备份之后的调查记录").unwrap();
        a.office.set_field(*id, &CaseField::Subject, "备份之后补充的被反映人").unwrap();
    }
    for i in 5..7 {
        ids.push(
            a.office
                .register(&case_input("黄桥镇", "本局接收", &format!("村民{i}"), "违法建房"), None)
                .unwrap(),
        );
    }
    a.sync().await.unwrap();
    bureau.sync().await.unwrap();
    let TestOffice { office, dir, .. } = a;
    drop(office);
    drop(dir);

    // The disk dies; the office restores last week's backup onto a new machine.
    let restored_dir = tempfile::tempdir().unwrap();
    let new_actor = ledger_office::Office::restore(restored_dir.path(), &file).unwrap();
    assert_ne!(new_actor, old_actor.to_hex_string());
    let restored = TestOffice::open(restored_dir, TODAY).unwrap();
    assert_eq!(restored.office.case_count().unwrap(), 5, "the backup's state");
    // One ordinary sync: the client sees the restore and runs repair by itself.
    restored.sync().await.unwrap();
    assert_eq!(restored.office.case_count().unwrap(), 7, "cases made after the backup came back");
    for id in &ids {
        assert_eq!(
            restored.office.case(*id).unwrap(),
            bureau.office.case(*id).unwrap(),
            "case {id}"
        );
    }
    assert!(!ledger_client::SyncTarget::needs_repair(&*restored.office));
    // New work is made by the new actor, accepted by the hub, and no pair is reused.
    restored.office.set_field(ids[4], &CaseField::Subject, "恢复之后的修改").unwrap();
    restored.sync().await.unwrap();
    assert_eq!(restored.office.store().outbox_len().unwrap(), 0);
    assert!(restored.office.quarantine().unwrap().is_empty());
    bureau.sync().await.unwrap();
    assert_eq!(bureau.office.case(ids[4]).unwrap().subject, "恢复之后的修改");
    assert_no_duplicate_actor_seq(&hub);
}

/// A hub whose repair answer for one document does not read here (damaged on the way, or a hub
/// gone bad) costs that document alone: the run still repairs the others, counts it unsettled
/// so repair stays due, and names its case on the sync screen. It used to end the whole run,
/// every time, so nothing written after the backup came back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_answer_that_does_not_read_costs_its_document_alone() {
    one_bad_repair_answer_costs_its_document_alone(Spoil::Garbage, false).await;
}

/// So does the hub's refusal of one document (403: out of this office's scope since the
/// digests; 400: a message it could not apply): those used to end the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_step_the_hub_refuses_costs_its_document_alone() {
    one_bad_repair_answer_costs_its_document_alone(Spoil::Refuse, false).await;
    one_bad_repair_answer_costs_its_document_alone(Spoil::Status(400), false).await;
}

/// A failing hub, a refusal that names no case (a proxy's page), or the hub refusing one
/// document after another still end the run (the next sync tries again), rather than counting
/// every document of the office unsettled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_hub_ends_the_repair_run() {
    one_bad_repair_answer_costs_its_document_alone(Spoil::Status(500), false).await;
    one_bad_repair_answer_costs_its_document_alone(Spoil::Status(403), false).await;
    one_bad_repair_answer_costs_its_document_alone(Spoil::Status(400), true).await;
}

/// Three cases changed after the backup; the repair of the restored store meets `spoil` for the
/// first case, or for `every` case.
async fn one_bad_repair_answer_costs_its_document_alone(spoil: Spoil, every: bool) {
    let hub = TestHub::start_serving(tempfile::tempdir().unwrap(), None).await.unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let (spoiler, url) = SpoilingHub::start(hub.url()).await;
    let a = TestOffice::enroll(&url, &ta, "李娟", TODAY).await.unwrap();
    let ids: Vec<_> = (0..3)
        .map(|i| {
            let case = case_input("黄桥镇", "本局接收", &format!("村民{i}"), "宅基地纠纷");
            a.office.register(&case, None).unwrap()
        })
        .collect();
    a.sync().await.unwrap();
    let backup = tempfile::tempdir().unwrap();
    let file = backup.path().join("hq.db");
    a.office.store().backup(&file).unwrap();
    for id in &ids {
        a.office.set_field(*id, &CaseField::Subject, "备份之后补充的被反映人").unwrap();
    }
    a.sync().await.unwrap();
    let synced: Vec<_> = ids.iter().map(|id| a.office.case(*id).unwrap()).collect();
    drop(a);

    let restored_dir = tempfile::tempdir().unwrap();
    ledger_office::Office::restore(restored_dir.path(), &file).unwrap();
    let restored = TestOffice::open(restored_dir, TODAY).unwrap();
    let spoilt = ids[0];
    *spoiler.spoilt.lock().unwrap() = Some((if every { EVERY_CASE } else { spoilt.0 }, spoil));
    let run = ledger_client::repair(restored.client(), &restored.target()).await;
    let ends = every || spoil.ends_the_run();
    if ends {
        let err = run.unwrap_err();
        let expected = match spoil {
            Spoil::Status(500) => "server_error",
            Spoil::Status(403) => "refused",
            _ => "bad_request",
        };
        assert_eq!(err.code(), expected, "{spoil:?}: {err:?}");
    } else {
        let report = run.unwrap();
        assert_eq!(report.unsettled, 1, "{spoil:?}: {report:?}");
        for (id, synced) in ids.iter().zip(&synced).skip(1) {
            assert_eq!(&restored.office.case(*id).unwrap(), synced, "case {id} was repaired");
        }
    }
    assert_ne!(restored.office.case(spoilt).unwrap().subject, "备份之后补充的被反映人");
    assert!(ledger_client::SyncTarget::needs_repair(&*restored.office));
    // Named on the sync screen, unless the whole run ended (the sync's own error says so).
    let number = restored.office.case_number(spoilt).unwrap();
    let problems = restored.office.sync_problems().unwrap();
    let named = problems.iter().filter(|p| p.contains("修复")).count();
    // Refused one after another, the run named the first two and ended on the third.
    let expected = if every { 2 } else { usize::from(!ends) };
    assert_eq!(named, expected, "{spoil:?}: {problems:?}");
    let said = match spoil {
        Spoil::Garbage => "无法读取",
        Spoil::Refuse => "不属于本单位",
        Spoil::Status(_) => "无法处理",
    };
    assert!(problems.iter().all(|p| !p.contains(&number) || p.contains(said)), "{problems:?}");

    // The hub mended: the next sync repairs the rest by itself.
    *spoiler.spoilt.lock().unwrap() = None;
    restored.sync().await.unwrap();
    assert_eq!(&restored.office.case(spoilt).unwrap(), &synced[0]);
    assert!(!ledger_client::SyncTarget::needs_repair(&*restored.office));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usb_bundles_carry_a_sync_both_ways() {
    let hub = TestHub::start().await.unwrap();
    let tb = hub.add_office("county", "县局", Role::Bureau, &[]).unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let bureau = TestOffice::enroll(&hub.url(), &tb, "刘洪", TODAY).await.unwrap();
    let a = TestOffice::enroll(&hub.url(), &ta, "李娟", TODAY).await.unwrap();
    // The bureau assigns a case down; the township has no link from now on.
    let down = bureau
        .office
        .register(&case_input("黄桥镇", "市信访局交办", "韩七", "违法占地"), None)
        .unwrap();
    bureau
        .office
        .act(
            down,
            &ActionInput {
                action: Some(ActionKind::Assign),
                target: Some("黄桥镇".into()),
                ..Default::default()
            },
        )
        .unwrap();
    bureau.sync().await.unwrap();
    let mine =
        a.office.register(&case_input("黄桥镇", "本局接收", "杨八", "宅基地纠纷"), None).unwrap();
    a.office.set_draft(mine, Draft::Investigation, "现场核实").unwrap();
    let files = tempfile::tempdir().unwrap();
    let up = files.path().join("hq-up.lgb");
    // The case, its identity and the draft, after the office's staff joined its roster.
    assert_eq!(a.office.export_bundle(&up).unwrap(), 4);

    let ret = files.path().join("hq-return.lgb");
    hub_import(&hub, &up, &ret);
    let report = a.office.import_bundle(&ret).unwrap();
    assert_eq!(report.acknowledged, 4);
    assert_eq!(a.office.store().outbox_len().unwrap(), 0);
    assert!(a.office.case(down).is_ok(), "the assigned case came back in the return bundle");
    bureau.sync().await.unwrap();
    assert_eq!(bureau.office.case(mine).unwrap().investigation_report, "现场核实");

    // Re-importing either bundle changes nothing.
    let hub_changes = hub.store().head().unwrap();
    let again = files.path().join("hq-return-2.lgb");
    hub_import(&hub, &up, &again);
    assert_eq!(hub.store().head().unwrap(), hub_changes);
    let before = a.office.store().meta("sync.cursor").unwrap();
    a.office.import_bundle(&ret).unwrap();
    assert_eq!(a.office.store().meta("sync.cursor").unwrap(), before);

    // A newer exchange, then the old return bundle again: the cursor never moves back.
    bureau.office.act(down, &supervision(&bureau.office, "请抓紧")).unwrap();
    bureau.sync().await.unwrap();
    let up2 = files.path().join("hq-up-2.lgb");
    a.office.export_bundle(&up2).unwrap();
    let ret2 = files.path().join("hq-return-3.lgb");
    hub_import(&hub, &up2, &ret2);
    a.office.import_bundle(&ret2).unwrap();
    let newest = a.office.store().meta("sync.cursor").unwrap();
    a.office.import_bundle(&ret).unwrap();
    assert_eq!(
        a.office.store().meta("sync.cursor").unwrap(),
        newest,
        "an older bundle never rewinds the cursor"
    );
    assert!(a.office.case(down).unwrap().events.iter().any(|e| e.action == ActionKind::Supervise));

    // Corrupted, truncated and unsigned bundles are refused whole.
    let bytes = std::fs::read(&ret2).unwrap();
    let mut corrupt = bytes.clone();
    corrupt[40] ^= 0x55;
    let cases = [
        ("corrupt.lgb", corrupt),
        ("short.lgb", bytes[..bytes.len() / 2].to_vec()),
        ("unsigned.lgb", {
            let mut u = bytes.clone();
            let n = u.len();
            u[n - 32..].fill(0);
            u
        }),
    ];
    for (name, data) in cases {
        let path = files.path().join(name);
        std::fs::write(&path, data).unwrap();
        let err = a.office.import_bundle(&path).unwrap_err();
        assert!(matches!(err, OfficeError::BadFile(_)), "{name}: {err:?}");
        assert!(err.to_string().contains("同步包"), "{name}: {err}");
    }
    // The office's own bundle is not a return bundle.
    let err = a.office.import_bundle(&up2).unwrap_err();
    assert!(err.to_string().contains("县局"), "{err}");
}

/// What `ledger-hub bundle import` does, through the hub library on the running hub's store.
fn hub_import(hub: &TestHub, up: &std::path::Path, ret: &std::path::Path) {
    let bytes = std::fs::read(up).unwrap();
    let imported =
        ledger_hub::bundles::import(hub.store().clone(), &bytes, ledger_hub::now_ms()).unwrap();
    std::fs::write(ret, imported.bytes).unwrap();
}
