//! Sync end to end: the real hub on 127.0.0.1:0, real office stores, real HTTP.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use ledger_client::{ClientError, SyncTarget, sync_round};
use ledger_domain::schema::{CaseField, Draft};
use ledger_domain::{ActionKind, CaseId, CloseReason, Role, Satisfaction, Status};
use ledger_office::{ActionInput, CaseQuery, OfficeError};
use ledger_protocol::keys::SecretKey;
use ledger_protocol::{DocKind, EnrollRequest, Hash, SyncRequest, SyncResponse, UpChange, encode};
use ledger_store::DocKind as StoreKind;
use ledger_tests::{County, TestHub, TestOffice, case_input, supervision};

const TODAY: &str = "2024-03-05";

async fn county() -> County {
    County::start(TODAY).await.unwrap()
}

fn act(action: ActionKind) -> ActionInput {
    // A reply states its 处理意见 (信访工作条例 §32).
    let outcome = (action == ActionKind::Reply).then_some(ledger_domain::Outcome::Supported);
    ActionInput { action: Some(action), outcome, ..Default::default() }
}

fn to(action: ActionKind, township: &str) -> ActionInput {
    ActionInput { action: Some(action), target: Some(township.into()), ..Default::default() }
}

fn has_case(o: &TestOffice, id: CaseId) -> bool {
    o.office.store().row(id).unwrap().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referral_flow_bureau_assigns_township_replies_offline_bureau_closes() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "市信访局交办", "张三丰", "邻居违法建房"), None)
        .unwrap();
    c.bureau.office.act(id, &to(ActionKind::Assign, "黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    assert_eq!(c.bureau.office.store().outbox_len().unwrap(), 0, "every change acknowledged");

    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.view(id).unwrap().status, Status::Assigned);
    // Offline at the township: investigate, draft, reply.
    c.a.office.act(id, &act(ActionKind::Investigate)).unwrap();
    c.a.office.set_draft(id, Draft::Reply, "经调查核实，违法建筑已拆除。").unwrap();
    c.a.office.act(id, &act(ActionKind::Reply)).unwrap();
    assert_eq!(c.a.office.store().outbox_len().unwrap(), 3);
    c.a.sync().await.unwrap();

    c.bureau.sync().await.unwrap();
    let seen = c.bureau.office.view(id).unwrap();
    assert_eq!(seen.status, Status::Replied);
    let reply = seen.case.events.iter().find(|e| e.action == ActionKind::Reply).unwrap();
    assert_eq!(reply.text.as_deref(), Some("经调查核实，违法建筑已拆除。"));
    assert_eq!(reply.office, "hq");
    c.bureau
        .office
        .act(
            id,
            &ActionInput { result: Some(Satisfaction::Satisfied), ..act(ActionKind::Evaluate) },
        )
        .unwrap();
    // 答复后未申请复查 would wait out the petitioner's 30 days; a withdrawal ends it now.
    c.bureau
        .office
        .act(id, &ActionInput { reason: Some(CloseReason::Withdrawn), ..act(ActionKind::Close) })
        .unwrap();
    c.bureau.sync().await.unwrap();

    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.view(id).unwrap().status, Status::Closed);
    // The other township never saw it.
    c.b.sync().await.unwrap();
    assert!(!has_case(&c.b, id));
    // The hub's statistics see the same case.
    let stats = c.hub.store().all_facts().unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].status, Status::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervision_order_goes_down_and_its_report_and_the_follow_up_come_back() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "张三丰", "邻居违法建房"), None)
        .unwrap();
    c.bureau.office.act(id, &to(ActionKind::Assign, "黄桥镇")).unwrap();
    let order = ActionInput {
        text: Some("请于3月15日前查清占地面积并报告".into()),
        due: Some("2024-03-15".parse().unwrap()),
        ..act(ActionKind::Supervise)
    };
    // Addressed to the township that holds the case, or to none.
    let elsewhere = ActionInput { target: Some("石江镇".into()), ..order.clone() };
    match c.bureau.office.act(id, &elsewhere) {
        Err(OfficeError::Invalid(fields)) => assert_eq!(fields[0].field, "to"),
        other => panic!("an order to a township that does not hold the case: {other:?}"),
    }
    c.bureau.office.act(id, &order).unwrap();
    assert!(c.bureau.office.view(id).unwrap().answerable_supervisions.is_empty());
    c.bureau.sync().await.unwrap();

    c.a.sync().await.unwrap();
    let at_a = c.a.office.view(id).unwrap();
    assert_eq!(at_a.supervisions.len(), 1);
    assert_eq!(at_a.supervisions[0].to.as_deref(), Some("黄桥镇"), "the township assigned");
    assert!(at_a.allowed_actions.contains(&ActionKind::SuperviseReport));
    assert_eq!(at_a.answerable_supervisions, at_a.supervisions);
    let report = ActionInput {
        text: Some("已查清：占地0.3亩".into()),
        ..act(ActionKind::SuperviseReport)
    };
    c.a.office.act(id, &report).unwrap();
    c.a.office.set_draft(id, Draft::Reply, "经调查核实，违法建筑已拆除。").unwrap();
    c.a.office.act(id, &act(ActionKind::Reply)).unwrap();
    let visit = ActionInput {
        method: Some(ledger_domain::FollowUpMethod::Phone),
        text: Some("信访人表示满意".into()),
        result: Some(Satisfaction::Satisfied),
        ..act(ActionKind::FollowUp)
    };
    c.a.office.act(id, &visit).unwrap();
    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.store().outbox_len().unwrap(), 0, "the hub took every change");
    assert!(c.a.office.view(id).unwrap().refused.is_empty());

    c.bureau.sync().await.unwrap();
    let seen = c.bureau.office.view(id).unwrap();
    let reported = seen.supervisions[0].report.as_ref().map(|(_, text)| text.as_str());
    assert_eq!(reported, Some("已查清：占地0.3亩"));
    let follow_up = seen.case.events.iter().find(|e| e.action == ActionKind::FollowUp).unwrap();
    assert_eq!(follow_up.method, Some(ledger_domain::FollowUpMethod::Phone));
    assert_eq!(follow_up.satisfaction, Some(Satisfaction::Satisfied));
    assert!(seen.anomalies.is_empty(), "{:?}", seen.anomalies);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignment_a_to_b_and_back_while_a_holds_unsynced_edits() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "李四", "宅基地纠纷"), None)
        .unwrap();
    c.bureau.office.act(id, &to(ActionKind::Assign, "黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();

    // A works offline: several edits, each its own change, each larger than the smallest
    // batch so that one goes up per exchange below.
    let long = "现场核实：占用耕地约0.3亩，已拍照取证并制作询问笔录。".repeat(60);
    c.a.office.set_draft(id, Draft::Investigation, &long).unwrap();
    c.a.office
        .act(id, &ActionInput { text: Some(long.clone()), ..act(ActionKind::Investigate) })
        .unwrap();
    c.a.office.set_field(id, &CaseField::Subject, &format!("某养殖场{long}")).unwrap();
    assert_eq!(c.a.office.store().outbox_for_case(id).unwrap(), 3);

    // Meanwhile the bureau reassigns to B.
    c.bureau.office.act(id, &to(ActionKind::Reassign, "石江镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.b.sync().await.unwrap();
    let at_b = c.b.office.view(id).unwrap();
    assert_eq!(at_b.case.jurisdiction.as_deref(), Some("石江镇"));
    assert_eq!(at_b.status, Status::Assigned);
    assert!(at_b.identity.is_some(), "B gets the whole case, identity included");

    // A syncs one change at a time: the leave arrives while its edits still wait.
    let target: Arc<dyn SyncTarget> = c.a.target();
    let first = sync_round(c.a.client(), &target, 1).await.unwrap();
    assert_eq!(first.uploaded, 1);
    let row =
        c.a.office.store().row(id).unwrap().expect("still here until its edits are acknowledged");
    assert!(row.handed_over, "shown read-only as 已转交");
    let err = c.a.office.act(id, &act(ActionKind::Reply)).unwrap_err();
    assert!(matches!(err, OfficeError::HandedOver), "{err}");
    c.a.sync().await.unwrap();
    assert!(!has_case(&c.a, id), "evicted once every edit was acknowledged");
    let hits =
        c.a.office.list(&CaseQuery { text: Some("李四".into()), ..Default::default() }).unwrap();
    assert_eq!(hits.total, 0, "no index or search row left behind");
    assert_eq!(
        c.hub.store().evictions(id).unwrap().len(),
        1,
        "the hub logged the confirmed eviction"
    );

    // Nothing lost: B sees A's offline work.
    c.b.sync().await.unwrap();
    let at_b = c.b.office.case(id).unwrap();
    assert!(at_b.events.iter().any(|e| e.action == ActionKind::Investigate && e.office == "hq"));
    assert_eq!(at_b.investigation_report, long);
    assert!(at_b.subject.starts_with("某养殖场"));

    // And back to A: it gets the whole case again.
    c.bureau.sync().await.unwrap();
    c.bureau.office.act(id, &to(ActionKind::Reassign, "黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    let back = c.a.office.view(id).unwrap();
    assert!(!back.handed_over);
    assert_eq!(back.case.jurisdiction.as_deref(), Some("黄桥镇"));
    assert!(back.case.subject.starts_with("某养殖场"));
    c.b.sync().await.unwrap();
    assert!(!has_case(&c.b, id));
    assert_eq!(c.a.office.case(id).unwrap(), c.bureau.office.case(id).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_bureau_device_bootstraps_from_cursor_zero_with_enter_records() {
    let c = county().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let township = if i % 2 == 0 { "黄桥镇" } else { "石江镇" };
        let id = c
            .bureau
            .office
            .register(
                &case_input(township, "本局接收", &format!("村民{i}"), &format!("诉求{i}")),
                None,
            )
            .unwrap();
        c.bureau.office.act(id, &to(ActionKind::Assign, township)).unwrap();
        ids.push(id);
    }
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    c.a.office.act(ids[0], &act(ActionKind::Investigate)).unwrap();
    c.a.sync().await.unwrap();

    let token = c.hub.token("county").unwrap();
    let fresh = TestOffice::enroll(&c.hub.url(), &token, "刘洪", TODAY).await.unwrap();
    assert_eq!(fresh.office.config().device, "B", "a second device of the bureau");
    let report = fresh.sync().await.unwrap();
    // 12 cases x (case + identity), the three offices' staff rosters and the county's rules:
    // whole documents, not the history change by change.
    assert_eq!(report.downloaded, 24 + 3 + 1, "{report:?}");
    // The pass's last page wrote the search rows its pages left waiting: none is left.
    assert_eq!(fresh.office.store().catch_up_search().unwrap(), 0);
    let found = fresh.office.list(&CaseQuery { text: Some("诉求".into()), ..Default::default() });
    assert_eq!(found.unwrap().total, 12);
    c.bureau.sync().await.unwrap();
    for id in &ids {
        assert_eq!(fresh.office.case(*id).unwrap(), c.bureau.office.case(*id).unwrap());
    }
    assert_eq!(fresh.office.view(ids[0]).unwrap().status, Status::InProgress);
    // Nothing new: one small exchange.
    let again = fresh.sync().await.unwrap();
    assert_eq!((again.rounds, again.downloaded), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_converge_to_the_same_documents_and_status() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "王五", "征地补偿"), None)
        .unwrap();
    c.bureau.office.act(id, &to(ActionKind::Assign, "黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    // Both offline.
    c.bureau.office.set_field(id, &CaseField::Category, "违法占地建设").unwrap();
    c.bureau.office.act(id, &supervision(&c.bureau.office, "请加快办理")).unwrap();
    c.a.office.set_field(id, &CaseField::Category, "非法转让土地").unwrap();
    c.a.office.act(id, &act(ActionKind::Investigate)).unwrap();
    c.a.office
        .act(id, &ActionInput { text: Some("已答复".into()), ..act(ActionKind::Reply) })
        .unwrap();
    for _ in 0..2 {
        c.a.sync().await.unwrap();
        c.bureau.sync().await.unwrap();
    }
    let (x, y) = (c.a.office.view(id).unwrap(), c.bureau.office.view(id).unwrap());
    assert_eq!(x.case, y.case);
    assert_eq!(x.status, y.status);
    assert_eq!(x.status, Status::Replied);
    assert_eq!(
        c.a.office.store().heads(id, StoreKind::Case).unwrap(),
        c.bureau.office.store().heads(id, StoreKind::Case).unwrap()
    );
    // The concurrent category edit is kept for review on both sides.
    assert_eq!(x.conflicts.len(), 1);
    assert_eq!(x.conflicts, y.conflicts);
    assert_eq!(x.conflicts[0].field, CaseField::Category);
    // Resolving it at the bureau clears it everywhere.
    c.bureau.office.resolve_conflict(id, &CaseField::Category, "违法占地建设", None).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert!(c.a.office.view(id).unwrap().conflicts.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_never_holds_the_identity_of_a_12336_informant() {
    let c = county().await;
    let mut input = case_input("黄桥镇", "12336举报", "赵秘密", "举报某村干部违法批地");
    input.petitioners[0].id_number = "11010519491231002X".into();
    input.petitioners[0].phone = "13900001111".into();
    let id = c.bureau.office.register(&input, None).unwrap();
    c.bureau.office.act(id, &to(ActionKind::Assign, "黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    let at_a = c.a.office.view(id).unwrap();
    assert!(at_a.identity.is_none());
    assert_eq!(at_a.case.petitioners[0].display_name, "赵*密");
    // Not a byte of it anywhere in the township's files.
    drop(at_a);
    for entry in std::fs::read_dir(c.a.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for secret in ["赵秘密", "13900001111", "11010519491231002X"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "township file holds {secret}"
            );
        }
    }
    // A second bureau device does get it.
    let fresh = TestOffice::enroll(&c.hub.url(), &c.hub.token("county").unwrap(), "刘洪", TODAY)
        .await
        .unwrap();
    fresh.sync().await.unwrap();
    assert_eq!(fresh.office.view(id).unwrap().identity.unwrap().persons[0].name, "赵秘密");
}

async fn post(url: &str, credential: Option<&str>, body: Vec<u8>) -> (u16, serde_json::Value) {
    let mut req = ledger_tests::raw_http().post(format!("{url}/v1/sync")).body(body);
    if let Some(c) = credential {
        req = req.bearer_auth(c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_their_code_and_store_nothing() {
    let c = county().await;
    let id =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "钱七", "界址纠纷"), None).unwrap();
    let head = c.hub.store().head().unwrap();
    let credential = c.a.office.store().meta("sync.credential").unwrap().unwrap();

    // Wrong token at enrollment.
    let err =
        c.a.client()
            .enroll(
                &c.hub.url(),
                &EnrollRequest {
                    token: "NOPE-NOPE".into(),
                    actor: "ab".into(),
                    device_name: "x".into(),
                    public_key: SecretKey::from_seed([1; 32]).public().to_hex(),
                },
            )
            .await
            .unwrap_err();
    assert!(matches!(err, ClientError::Unauthorized(_)), "{err:?}");
    // Wrong credential.
    let (status, body) =
        post(&c.hub.url(), Some("0000"), encode(&SyncRequest::default()).unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    // Garbage.
    let (status, body) = post(&c.hub.url(), Some(&credential), b"not a sync body".to_vec()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));
    // Oversized, and a compression bomb that is small on the wire.
    // Refused on its declared length, before the body is read: sent by hand, because a client
    // still writing 17 MiB when the hub answers and closes sees a broken pipe, not the answer.
    let answer =
        ledger_tests::answer_to_declared_body(c.hub.addr(), Some(&credential), 17 * 1024 * 1024)
            .await
            .unwrap()
            .expect("the hub answered before the body was sent");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let mut bomb = b"LG\x00\x04".to_vec();
    bomb.extend(zstd_bomb());
    let (status, body) = post(&c.hub.url(), Some(&credential), bomb).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("too_large")));
    // An unsupported protocol version names the supported ones.
    let mut future = encode(&SyncRequest::default()).unwrap();
    future[3] = 9;
    let (status, body) = post(&c.hub.url(), Some(&credential), future).await;
    assert_eq!(status, 409);
    assert_eq!(body["supported_versions"], serde_json::json!([4]));
    // An older office (before per-change verdicts; before the rules document) is told to
    // upgrade.
    for v in [1, 2] {
        let mut old = encode(&SyncRequest::default()).unwrap();
        old[3] = v;
        let (status, body) = post(&c.hub.url(), Some(&credential), old).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("unsupported_version")));
        assert!(body["message"].as_str().unwrap().contains("请升级"), "{body}");
    }
    assert_eq!(c.hub.store().head().unwrap(), head, "nothing stored");
    assert!(c.hub.store().case_scope(id).unwrap().is_none());

    // A revoked device.
    c.hub.store().revoke("hq", None, ledger_hub::now_ms()).unwrap();
    let err = c.a.sync().await.unwrap_err();
    assert!(matches!(err, ClientError::Unauthorized(_)), "{err:?}");
    assert!(c.hub.store().case_scope(id).unwrap().is_none(), "nothing stored");
    assert_eq!(c.a.office.sync_status().unwrap().last_error.as_deref(), Some("unauthorized"));
}

fn zstd_bomb() -> Vec<u8> {
    // 64 MiB of zeros compress to a few KiB.
    let zeros = vec![0u8; 64 * 1024 * 1024];
    ledger_tests::compress(&zeros)
}

/// A forged change (another office's actor) and an out-of-scope change are refused by hash,
/// each alone inside a normal reply; the rest of the batch is stored, the office quarantines
/// the two and its other cases still sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_out_of_scope_changes_are_refused_and_the_rest_syncs() {
    let c = county().await;
    // A case of B's.
    let b_case =
        c.b.office.register(&case_input("石江镇", "本局接收", "孙八", "林地纠纷"), None).unwrap();
    c.b.sync().await.unwrap();
    // A's own, good case.
    let good =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "周九", "宅基地"), None).unwrap();

    // A change to B's case made with A's actor (A somehow held a copy): out of scope.
    let b_doc = c.b.office.store().save_doc(b_case, StoreKind::Case).unwrap();
    let actor = c.a.office.store().actor();
    let out_of_scope = ledger_tests::edit_change(&b_doc, actor, "subject", "篡改");
    // A change to A's case made with B's actor: forged.
    let a_doc = c.a.office.store().save_doc(good, StoreKind::Case).unwrap();
    let forged = ledger_tests::edit_change(&a_doc, c.b.office.store().actor(), "subject", "伪造");

    let credential = c.a.office.store().meta("sync.credential").unwrap().unwrap();
    let mut request = c.a.office.prepare(256 * 1024).unwrap();
    let own: Vec<UpChange> = request.changes.clone();
    request.changes.push(UpChange {
        case_id: b_case.0,
        kind: DocKind::Case,
        hash: Hash(out_of_scope.0),
        bytes: out_of_scope.1.clone(),
    });
    request.changes.push(UpChange {
        case_id: good.0,
        kind: DocKind::Case,
        hash: Hash(forged.0),
        bytes: forged.1.clone(),
    });
    let (status, response) = ledger_tests::post_sync(&c.hub.url(), &credential, &request).await;
    assert_eq!(status, 200);
    let refused: Vec<String> = response.refused.iter().map(|r| r.hash.clone()).collect();
    assert!(refused.contains(&Hash(out_of_scope.0).to_hex()));
    assert!(refused.contains(&Hash(forged.0).to_hex()));
    assert_eq!(refused.len(), 2, "{:?}", response.refused);
    assert!(response.refused.iter().all(|r| r.reason.chars().any(|c| c > '\u{4e00}')));
    let rules: Vec<&str> = response.refused.iter().map(|r| r.rule.as_str()).collect();
    assert!(rules.contains(&"scope") && rules.contains(&"actor"), "{rules:?}");
    // The rest of the batch is stored and acknowledged.
    for up in &own {
        assert!(c.hub.store().has_change(&up.hash.to_hex()).unwrap());
        assert!(response.acked.contains(&up.hash));
    }
    assert_eq!(c.hub.store().quarantined(10).unwrap().len(), 2, "kept at the hub too");

    // Through the real client: the forged change sits in A's outbox with the good ones.
    ledger_tests::inject_outbox(&c.a.dir, good, &forged.1);
    c.a.office.register(&case_input("黄桥镇", "本局接收", "吴十", "采矿"), None).unwrap();
    let report = c.a.sync().await.unwrap();
    assert!(report.refused >= 1, "{report:?}");
    let quarantined = c.a.office.quarantine().unwrap();
    assert!(quarantined.iter().all(|q| q.case_id == good));
    assert!(quarantined.iter().any(|q| q.hash == Hash(forged.0).to_hex()));
    // Every other case went through.
    c.bureau.sync().await.unwrap();
    assert_eq!(c.bureau.office.case_count().unwrap(), 3, "B's case and both of A's");
    assert_eq!(c.bureau.office.case(good).unwrap().subject, "", "the forged edit never arrived");
    assert_eq!(c.a.office.sync_status().unwrap().quarantined, quarantined.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_cannot_write_bureau_only_fields() {
    let c = county().await;
    let id = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "郑一", "宅基地"), None)
        .unwrap();
    c.bureau.office.act(id, &to(ActionKind::Assign, "黄桥镇")).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    // The facade refuses it, so forge the change below the facade.
    let doc = c.a.office.store().save_doc(id, StoreKind::Case).unwrap();
    let change =
        ledger_tests::edit_change(&doc, c.a.office.store().actor(), "jurisdiction", "石江镇");
    ledger_tests::inject_outbox(&c.a.dir, id, &change.1);
    let report = c.a.sync().await.unwrap();
    assert_eq!(report.refused, 1);
    let q = c.a.office.quarantine().unwrap();
    assert!(q[0].error.contains("所属乡镇"), "{}", q[0].error);
    c.bureau.sync().await.unwrap();
    assert_eq!(c.bureau.office.case(id).unwrap().jurisdiction.as_deref(), Some("黄桥镇"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_travel_as_blobs_once_and_only_in_scope() {
    let c = county().await;
    let id =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "冯二", "违法建房"), None).unwrap();
    let other =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "冯二", "再次反映"), None).unwrap();
    let scan: Vec<u8> =
        (0..3 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let hash = c.a.office.attach(id, "来信扫描.pdf", &scan, "application/pdf").unwrap();
    c.a.office.attach(other, "来信扫描(复印).pdf", &scan, "application/pdf").unwrap();
    c.a.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    assert_eq!(c.bureau.office.attachment(&hash).unwrap(), scan);
    assert_eq!(c.bureau.office.store().blob_count().unwrap(), 1, "stored once for both cases");
    c.b.sync().await.unwrap();
    assert!(c.b.office.attachment(&hash).is_err(), "not in B's scope");
    // A second device of A's office gets it too.
    let a2 =
        TestOffice::enroll(&c.hub.url(), &c.hub.token("hq").unwrap(), "李娟", TODAY).await.unwrap();
    a2.sync().await.unwrap();
    assert_eq!(a2.office.attachment(&hash).unwrap(), scan);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bureau_views_of_offices_and_statistics() {
    let c = county().await;
    let id =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "陈三", "违法建房"), None).unwrap();
    c.a.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    let cred = |o: &TestOffice| o.office.store().meta("sync.credential").unwrap().unwrap();
    let offices =
        c.bureau.client().get_json(&c.hub.url(), &cred(&c.bureau), "/v1/offices").await.unwrap();
    let hq = offices.as_array().unwrap().iter().find(|o| o["office"] == "hq").unwrap();
    assert!(hq["last_sync"].as_i64().is_some());
    assert_eq!(hq["pending"], 0);
    assert!(
        hq["clock_skew_ms"].as_i64().is_some(),
        "the office clock is fixed at {TODAY}: a large skew"
    );
    let stats = c
        .bureau
        .client()
        .get_json(&c.hub.url(), &cred(&c.bureau), "/v1/stats?year=2024")
        .await
        .unwrap();
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["by_source"]["本局接收"], 1);
    let err =
        c.a.client().get_json(&c.hub.url(), &cred(&c.a), "/v1/stats?year=2024").await.unwrap_err();
    assert!(matches!(err, ClientError::Refused(_) | ClientError::Server(403, _)), "{err:?}");
    let health =
        ledger_tests::raw_http().get(format!("{}/v1/health", c.hub.url())).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let _ = id;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_enrollment_reply_does_not_burn_the_token() {
    let hub = TestHub::start().await.unwrap();
    let token = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let client = ledger_client::HubClient::new(
        std::time::Duration::from_secs(5),
        &ledger_client::HubTrust::with_ca_pem(&ledger_tests::test_pki().ca_pem).unwrap(),
    )
    .unwrap();
    let device = SecretKey::from_seed([42; 32]);
    let req = EnrollRequest {
        token: token.clone(),
        actor: "abcdef0123".into(),
        device_name: "pc".into(),
        public_key: device.public().to_hex(),
    };
    let first = client.enroll(&hub.url(), &req).await.unwrap();
    let again = client.enroll(&hub.url(), &req).await.unwrap();
    let open = |r: &ledger_protocol::EnrollResponse| device.open(r.sealed.as_ref().unwrap());
    assert_eq!(open(&first).unwrap(), open(&again).unwrap(), "the retry gets the credential back");
    assert_eq!(first.device_id, again.device_id);
    assert_eq!(hub.store().devices(Some("hq")).unwrap().len(), 1);

    // Whoever replays the captured request gets nothing usable: the credential is not in the
    // reply in the clear, and only the device's private key opens it.
    let credential = open(&first).unwrap();
    let thief = SecretKey::from_seed([43; 32]);
    for reply in [&first, &again] {
        assert!(reply.credential.is_empty());
        let json = serde_json::to_string(reply).unwrap();
        assert!(!json.contains(&credential), "credential in the clear: {json}");
        assert!(thief.open(reply.sealed.as_ref().unwrap()).is_err());
    }
    // Nor does a replay that swaps in the thief's key, or another actor.
    let swapped = EnrollRequest { public_key: thief.public().to_hex(), ..req.clone() };
    let err = client.enroll(&hub.url(), &swapped).await.unwrap_err();
    assert!(err.to_string().contains("已被使用"), "{err}");
    let other = EnrollRequest { actor: "99".into(), ..req.clone() };
    let err = client.enroll(&hub.url(), &other).await.unwrap_err();
    assert!(err.to_string().contains("已被使用"), "{err}");
    // A request without a device key (a client from before keys) is refused outright.
    let token = hub.token("hq").unwrap();
    let keyless = EnrollRequest { token, public_key: String::new(), ..req };
    let err = client.enroll(&hub.url(), &keyless).await.unwrap_err();
    assert!(matches!(err, ClientError::BadRequest(_)), "{err:?}");
    assert_eq!(hub.store().devices(Some("hq")).unwrap().len(), 1, "nothing enrolled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_syncs_after_an_edit_and_on_demand() {
    let c = county().await;
    let config = ledger_client::SyncConfig {
        debounce: std::time::Duration::from_millis(50),
        interval: std::time::Duration::from_secs(3600),
        ..c.a.config.clone()
    };
    let handle = ledger_client::SyncService::spawn(c.a.client().clone(), c.a.target(), config);
    let id =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "褚四", "违法建房"), None).unwrap();
    handle.notify_edit();
    let mut status = handle.subscribe();
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if status.borrow().last_success.is_some()
                && c.a.office.store().outbox_len().unwrap() == 0
            {
                break;
            }
            let _ = status.changed().await;
        }
    })
    .await
    .expect("synced after the edit");
    assert!(c.hub.store().case_scope(id).unwrap().is_some());
    let report = handle.sync_now().await.unwrap();
    assert_eq!(report.uploaded, 0);
    assert_eq!(handle.status().pending, 0);
    handle.shutdown().await;
}

/// The adapters' sync goes through the office alone: a pass from a terminal, the background
/// service, a repair against the hub, and the bureau's view of every office.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_runs_sync_for_the_adapters() {
    let c = county().await;
    let id =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "钱七", "界址纠纷"), None).unwrap();

    let report = c.a.office.sync_once(std::time::Duration::from_secs(30)).await.unwrap();
    assert!(report.uploaded > 0, "{report:?}");
    assert_eq!(c.a.office.pending_changes().unwrap(), 0);

    let service = c.bureau.office.start_sync().unwrap().expect("the bureau is enrolled");
    let moved = service.sync_now().await.unwrap();
    assert!(moved.downloaded > 0, "{moved:?}");
    assert_eq!(c.bureau.office.case(id).unwrap().id, id);
    assert!(service.status().last_success.is_some(), "{:?}", service.status());
    service.shutdown().await;

    let repaired = c.a.office.repair_from_hub().await.unwrap();
    assert!(repaired.compared > 0, "{repaired:?}");
    assert_eq!((repaired.differ, repaired.missing), (0, 0), "{repaired:?}");

    let offices = c.bureau.office.hub_offices().await.unwrap();
    let codes: Vec<&str> =
        offices.as_array().unwrap().iter().filter_map(|o| o["office"].as_str()).collect();
    assert!(codes.contains(&"hq") && codes.contains(&"sj"), "{offices}");
    let err = c.a.office.hub_offices().await.unwrap_err();
    assert_eq!(err.code(), "refused", "{err}");
}

/// Enrollment reads the county CA from the file a person names (an unreadable one is the CA
/// field's error, and nothing is created), and lists the device by this computer's host name
/// when no name is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_reads_the_ca_file_and_names_the_device_by_its_host() {
    let hub = TestHub::start().await.unwrap();
    let token = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let files = tempfile::tempdir().unwrap();
    let ca = files.path().join("ca.pem");
    std::fs::write(&ca, &ledger_tests::test_pki().ca_pem).unwrap();
    let enrollment = |ca_file: std::path::PathBuf| ledger_office::Enrollment {
        hub: ledger_office::HubAddress {
            url: hub.url(),
            ca_file: Some(ca_file),
            ..Default::default()
        },
        token: token.clone(),
        staff: vec!["李娟".to_owned()],
        device_name: String::new(),
        unlock: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = ledger_tests::clock_at(TODAY);

    let unreadable = enrollment(files.path().join("missing.pem"));
    let err = ledger_office::Office::enroll(dir.path(), &unreadable, clock.clone()).await.err();
    match err {
        Some(OfficeError::Invalid(fields)) => assert_eq!(fields[0].field, "ca", "{fields:?}"),
        other => panic!("expected the CA field's error, got {other:?}"),
    }
    assert!(!ledger_office::ledger_store_exists(dir.path()), "nothing created");

    let opened = ledger_office::Office::enroll(dir.path(), &enrollment(ca), clock).await.unwrap();
    let trusted = opened.office.hub_trust().unwrap().ca_pem;
    assert_eq!(trusted.as_deref(), Some(ledger_tests::test_pki().ca_pem.as_str()));
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ledger".to_owned());
    let devices = hub.store().devices(Some("hq")).unwrap();
    assert_eq!(devices.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), [host.as_str()]);
}

/// A fresh device's pull, each page held back until the hub has answered the next one: the
/// pull ends only if every next page is asked for while the page before it is applied.
/// `edit_on_page`: a case registered on the device right after that page, so the request
/// that follows uploads it and the page read ahead (a pure read) goes unused.
struct ReadAheadGate {
    office: Arc<ledger_office::Office>,
    client: ledger_client::HubClient,
    applied: std::sync::atomic::AtomicU64,
    edit_on_page: Option<u64>,
}

impl SyncTarget for ReadAheadGate {
    fn binding(&self) -> Result<Option<ledger_client::Binding>, ledger_client::TargetError> {
        SyncTarget::binding(self.office.as_ref())
    }
    fn prepare(&self, budget: u32) -> Result<SyncRequest, ledger_client::TargetError> {
        SyncTarget::prepare(self.office.as_ref(), budget)
    }
    fn apply(
        &self,
        request: &SyncRequest,
        response: &SyncResponse,
    ) -> Result<ledger_client::Applied, ledger_client::TargetError> {
        use std::sync::atomic::Ordering;
        let page = self.applied.fetch_add(1, Ordering::SeqCst) + 1;
        if ledger_protocol::readahead::next_read(request, response).is_some() {
            // The exchange that brought this page is counted; the next one must come on its own.
            let waited = std::time::Instant::now();
            while self.client.traffic().exchanges <= self.exchanges_before(page) {
                assert!(
                    waited.elapsed() < std::time::Duration::from_secs(20),
                    "page {page}: the next page was not asked for while this one applied"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let applied = SyncTarget::apply(self.office.as_ref(), request, response)?;
        if self.edit_on_page == Some(page) {
            self.office
                .register(&case_input("黄桥镇", "本局接收", "新来人", "读前页时登记"), None)
                .unwrap();
        }
        Ok(applied)
    }
    fn save_status(
        &self,
        status: &ledger_client::SyncStatus,
    ) -> Result<(), ledger_client::TargetError> {
        SyncTarget::save_status(self.office.as_ref(), status)
    }
    fn load_status(&self) -> Result<ledger_client::SyncStatus, ledger_client::TargetError> {
        SyncTarget::load_status(self.office.as_ref())
    }
    fn now(&self) -> i64 {
        SyncTarget::now(self.office.as_ref())
    }
    fn needs_repair(&self) -> bool {
        SyncTarget::needs_repair(self.office.as_ref())
    }
    fn digests(
        &self,
        after: Option<(uuid::Uuid, DocKind)>,
        limit: usize,
    ) -> Result<Vec<ledger_protocol::DocDigest>, ledger_client::TargetError> {
        SyncTarget::digests(self.office.as_ref(), after, limit)
    }
    fn repair_step(
        &self,
        case: uuid::Uuid,
        kind: DocKind,
        state: &mut Vec<u8>,
        incoming: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, ledger_client::TargetError> {
        SyncTarget::repair_step(self.office.as_ref(), case, kind, state, incoming)
    }
    fn repair_refused(
        &self,
        case: uuid::Uuid,
        kind: DocKind,
        answer: &ledger_client::ClientError,
    ) -> Result<(), ledger_client::TargetError> {
        SyncTarget::repair_refused(self.office.as_ref(), case, kind, answer)
    }
    fn repair_finished(
        &self,
        missing: &[(uuid::Uuid, DocKind)],
        report: &ledger_client::RepairReport,
    ) -> Result<(), ledger_client::TargetError> {
        SyncTarget::repair_finished(self.office.as_ref(), missing, report)
    }
}

impl ReadAheadGate {
    /// Exchanges counted by the time page `page` was answered: one a page, plus the read-ahead
    /// that went unused after the edit.
    fn exchanges_before(&self, page: u64) -> u64 {
        page + u64::from(self.edit_on_page.is_some_and(|edit| page > edit + 1))
    }
}

async fn pull_through_gate(
    edit_on_page: Option<u64>,
) -> (County, Vec<CaseId>, TestOffice, ledger_client::SyncReport, u64) {
    let c = county().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let id = c
            .bureau
            .office
            .register(
                &case_input(
                    "黄桥镇",
                    "本局接收",
                    &format!("村民{i}"),
                    &"反映违法占地。".repeat(30),
                ),
                None,
            )
            .unwrap();
        ids.push(id);
    }
    c.bureau.sync().await.unwrap();
    let token = c.hub.token("county").unwrap();
    let mut fresh = TestOffice::enroll(&c.hub.url(), &token, "刘洪", TODAY).await.unwrap();
    // Small pages, so the pull takes many.
    fresh.config.max_batch = 16 * 1024;
    let client = fresh.client().clone();
    let before = client.traffic().exchanges;
    assert_eq!(before, 0, "a fresh client");
    let gate: Arc<dyn SyncTarget> = Arc::new(ReadAheadGate {
        office: fresh.office.clone(),
        client: client.clone(),
        applied: std::sync::atomic::AtomicU64::new(0),
        edit_on_page,
    });
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut budget = fresh.config.max_batch;
    let report =
        ledger_client::sync_until_done(&client, &gate, &fresh.config, deadline, &mut budget)
            .await
            .unwrap();
    let exchanges = client.traffic().exchanges;
    (c, ids, fresh, report, exchanges)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_page_is_read_while_this_one_applies() {
    let (c, ids, fresh, report, exchanges) = pull_through_gate(None).await;
    assert!(report.rounds >= 4, "several pages: {report:?}");
    // Every page read ahead was the one asked for: no exchange beyond the pass's rounds.
    assert_eq!(exchanges, report.rounds as u64, "{report:?}");
    for id in &ids {
        assert_eq!(fresh.office.case(*id).unwrap(), c.bureau.office.case(*id).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_read_ahead_goes_unused_when_the_device_has_something_to_send() {
    let (c, ids, fresh, report, exchanges) = pull_through_gate(Some(2)).await;
    // The read-ahead after page 2 was not the request that followed (it uploads the new case).
    assert_eq!(exchanges, report.rounds as u64 + 1, "{report:?}");
    assert_eq!(report.uploaded, 2, "the new case and its identity: {report:?}");
    for id in &ids {
        assert_eq!(fresh.office.case(*id).unwrap(), c.bureau.office.case(*id).unwrap());
    }
    c.bureau.sync().await.unwrap();
    let registered = fresh.office.list(&CaseQuery::default()).unwrap();
    assert_eq!(registered.total, 31, "every case and the one registered mid-pull");
    assert_eq!(
        c.bureau.office.list(&CaseQuery::default()).unwrap().total,
        31,
        "it reached the hub"
    );
}

/// A township's sync passes the rows of the county's log it may not see, so the next sync
/// does not read them again (with a city's thousand offices, every sync re-reading the log
/// since its own office's last change was the hub's second largest cost, BENCHMARKS.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_townships_cursor_passes_the_rows_it_may_not_see() {
    let c = county().await;
    c.a.sync().await.unwrap();
    for i in 0..3 {
        let input = case_input("石江镇", "direct", &format!("王{i}"), "占用耕地建房");
        c.b.office.register(&input, None).unwrap();
    }
    c.b.sync().await.unwrap();
    let pulled = c.a.sync().await.unwrap();
    assert_eq!(pulled.downloaded, 0, "石江镇's cases are not 黄桥镇's");
    let conn = rusqlite::Connection::open(c.hub.dir().join(ledger_hub::sqlite::DB_FILE)).unwrap();
    let head: i64 = conn.query_row("SELECT max(seq) FROM log", [], |r| r.get(0)).unwrap();
    let seq: i64 = conn
        .query_row("SELECT last_seq FROM devices WHERE office = 'hq'", [], |r| r.get(0))
        .unwrap();
    assert!(head > 0);
    assert_eq!(seq, head, "the cursor stopped at the township's own last row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_townships_collective_visit_its_representatives_and_urgent_report_reach_the_bureau() {
    let c = county().await;
    // 12 villagers at 黄桥's counter, one threatening to go to the province: two speak for them.
    let mut input = case_input("黄桥镇", "本局接收", "张三丰", "征地补偿款未到位");
    input.submission.persons = Some(12);
    input.submission.threat = true;
    input.petitioners[0].representative = true;
    input.petitioners.push(ledger_domain::NewPetitioner {
        name: "李四光".into(),
        representative: true,
        ..Default::default()
    });
    let id = c.a.office.register(&input, None).unwrap();
    let report = ActionInput {
        target: Some("黄桥镇党委政府".into()),
        text: Some("12人集体来访，有人扬言越级上访，已稳控并报告".into()),
        ..act(ActionKind::ReportUp)
    };
    c.a.office.act(id, &report).unwrap();
    // A 12336 report keeps the platform's number on its way up.
    let mut lead = case_input("黄桥镇", "12336举报", "王五", "村东头有人挖砂");
    lead.submission.channel = "来电".into();
    lead.submission.platform_number = "JB20240301000123".into();
    let lead = c.a.office.register(&lead, None).unwrap();
    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.pending_changes().unwrap(), 0, "the hub took every change");
    c.bureau.sync().await.unwrap();
    let view = c.bureau.office.view(id).unwrap();
    let s = &view.case.submissions[0];
    assert_eq!(s.representatives.len(), 2);
    assert!(s.representatives.iter().all(|r| s.petitioners.contains(r)));
    assert_eq!(s.marks(), ["集体访", "扬言"]);
    let urgent = view.deadlines.get(&ledger_domain::DeadlineKind::UrgentReport).unwrap();
    assert!(urgent.met_on.is_some() && !urgent.overdue, "{urgent:?}");
    let lead = c.bureau.office.view(lead).unwrap();
    assert_eq!(lead.case.submissions[0].platform_number.as_deref(), Some("JB20240301000123"));
    assert!(lead.deadlines.get(&ledger_domain::DeadlineKind::Feedback12336).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_tells_of_a_petitioners_open_matters_elsewhere_but_never_a_townships_informant() {
    const OPEN: &str = "11010519491231002X";
    const INFORMANT: &str = "430521198001010012";
    let c = county().await;
    let mut appeal = case_input("黄桥镇", "本局接收", "张三丰", "征地补偿款未到位");
    appeal.petitioners[0].id_number = OPEN.into();
    let appeal = c.a.office.register(&appeal, None).unwrap();
    let mut report = case_input("黄桥镇", "本局接收", "李四光", "邻居违法占地建房");
    report.purpose = "检举控告".into();
    report.petitioners[0].id_number = INFORMANT.into();
    let report = c.a.office.register(&report, None).unwrap();
    let number = c.a.office.case(appeal).unwrap().number;
    let hidden = c.a.office.case(report).unwrap().number;
    c.a.sync().await.unwrap();
    let ask = |who: &TestOffice, id: &str| {
        let office = who.office.clone();
        let ids = vec![id.to_owned()];
        async move { office.county_repeats(&ids).await }
    };
    // 石江 registers the same man: told of 黄桥's open matter, as typed with spaces and a small x.
    let told = ask(&c.b, " 110105 19491231002x").await.unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!((told[0].number.as_str(), told[0].office.as_str()), (number.as_str(), "hq"));
    assert_eq!(told[0].office_name, "黄桥镇国土所");
    // An informant's matter is never told to a township, not even that one exists.
    assert!(ask(&c.b, INFORMANT).await.unwrap().is_empty());
    // The bureau is told of both.
    let bureau = ask(&c.bureau, INFORMANT).await.unwrap();
    assert_eq!(bureau.iter().map(|m| m.number.as_str()).collect::<Vec<_>>(), [hidden.as_str()]);
    // A matter voided is no longer open.
    c.bureau.sync().await.unwrap();
    let void = ActionInput { text: Some("重复登记".into()), ..act(ActionKind::Void) };
    c.bureau.office.act(appeal, &void).unwrap();
    c.bureau.sync().await.unwrap();
    assert!(ask(&c.b, OPEN).await.unwrap().is_empty());
    // More than ten numbers at once are refused whole.
    let client = c.b.office.hub_client(std::time::Duration::from_secs(5)).unwrap();
    let credential = c.b.office.store().meta("sync.credential").unwrap().unwrap();
    let many = ledger_protocol::RepeatQuery { id_numbers: vec![OPEN.to_owned(); 11] };
    let err = client.repeat(&c.hub.url(), &credential, &many).await.unwrap_err();
    assert!(err.to_string().contains("最多查询10个"), "{err}");
    // A few compressed bytes that decompress past the query's 4 KiB are refused before decoding.
    let bomb = ledger_protocol::encode(&ledger_protocol::RepeatQuery {
        id_numbers: vec![String::new(); 50_000],
    })
    .unwrap();
    assert!(bomb.len() < 4096, "{} bytes", bomb.len());
    let status = ledger_tests::raw_http()
        .post(format!("{}/v1/repeat", c.hub.url()))
        .bearer_auth(&credential)
        .body(bomb)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 413);
    // ID numbers are few enough to guess: an office asks at most 30 times in ten minutes, the
    // malformed queries above counted too.
    let mut answered = 5;
    let refused = loop {
        match ask(&c.b, OPEN).await {
            Ok(_) => answered += 1,
            Err(e) => break e,
        }
        assert!(answered <= 30, "the 31st query was answered");
    };
    assert_eq!(answered, 30);
    assert!(refused.to_string().contains("过于频繁"), "{refused}");
    // The limit is 石江's alone: 黄桥 still asks.
    assert!(ask(&c.a, OPEN).await.is_ok());
}
