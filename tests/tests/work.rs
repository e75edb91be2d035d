//! Work records (政策咨询, 宣传与培训, 矛盾纠纷排查) through the real hub over TCP: a township
//! keeps its monthly screening offline and the bureau sees it after sync; no other township
//! does; and what a hostile device sends in another office's name is refused alone.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use ledger_client::SyncTarget;
use ledger_domain::automerge::transaction::Transactable;
use ledger_domain::automerge::{Automerge, ROOT, ReadDoc};
use ledger_domain::schema;
use ledger_domain::work::{EntryOp, WorkEntry, WorkKind, WorkRecord};
use ledger_office::{FieldValue, OfficeError, WorkChange, WorkInput};
use ledger_protocol::{DocKind, Hash, UpChange, work_id};
use ledger_store::DocKind as StoreKind;
use ledger_tests::County;
use uuid::Uuid;

const TODAY: &str = "2024-03-05";

fn text(pairs: &[(&str, &str)]) -> BTreeMap<String, FieldValue> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), FieldValue::Text((*v).to_owned()))).collect()
}

fn consult(date: &str) -> WorkInput {
    WorkInput {
        kind: "consult".into(),
        fields: text(&[
            ("date", date),
            ("channel", "counter"),
            ("topic", "宅基地审批"),
            ("answer", "已告知审批程序"),
        ]),
        handler: None,
    }
}

fn dispute() -> BTreeMap<String, FieldValue> {
    text(&[
        ("parties", "大屋村一组与二组"),
        ("place", "大屋村"),
        ("issue", "林地边界争议"),
        ("risk", "high"),
        ("measures", "镇村联合调处"),
        ("owner", "李娟"),
        ("status", "watching"),
    ])
}

/// The one change a document made by `write` holds, as `actor` would send it.
fn made_by(
    actor: ledger_domain::automerge::ActorId,
    write: impl FnOnce(&mut ledger_domain::automerge::transaction::Transaction<'_>),
) -> ([u8; 32], Vec<u8>) {
    let mut doc = Automerge::new().with_actor(actor);
    let mut tx = doc.transaction();
    write(&mut tx);
    let (hash, _) = tx.commit();
    let hash = hash.unwrap();
    (hash.0, doc.get_change_by_hash(&hash).unwrap().raw_bytes().to_vec())
}

fn screening_record(id: Uuid, office: &str, by: &str) -> WorkRecord {
    let at = 1_709_604_000_000; // 2024-03-05
    WorkRecord {
        id,
        schema_version: 1,
        kind: WorkKind::Screening,
        office: office.into(),
        created_by: by.into(),
        created_at: at,
        import_key: None,
        entries: vec![WorkEntry {
            id: Uuid::from_u128(id.as_u128() ^ 1).to_string(),
            lamport: 1,
            op: EntryOp::Open,
            target: None,
            by: by.into(),
            office: office.into(),
            at,
            fields: text(&[("month", "2024-03")]),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_files_its_screening_offline_and_the_bureau_sees_the_month() {
    let c = County::start(TODAY).await.unwrap();
    // 黄桥 works offline: this month's list, one dispute, filed; a consultation.
    let list =
        c.a.office
            .add_work(WorkInput {
                kind: "矛盾纠纷排查".into(),
                fields: text(&[("month", "2024-03")]),
                handler: None,
            })
            .unwrap();
    c.a.office.change_work(&list.id, WorkChange::Item { fields: dispute() }, None).unwrap();
    c.a.office.change_work(&list.id, WorkChange::File, None).unwrap();
    c.a.office.add_work(consult("2024-03-04")).unwrap();
    // The bureau's view of the month before anything arrived: nobody has filed.
    c.bureau.sync().await.unwrap();
    let before = c.bureau.office.screening_month("2024-03").unwrap();
    assert!(before.month.lists.is_empty());
    assert_eq!(before.month.not_filed, vec!["hq".to_owned(), "sj".to_owned()]);

    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.pending_changes().unwrap(), 0, "the hub took every change");
    c.bureau.sync().await.unwrap();
    let month = c.bureau.office.screening_month("2024-03").unwrap();
    assert_eq!(month.month.not_filed, vec!["sj".to_owned()], "石江 has not filed");
    assert_eq!(month.office_names["sj"], "石江镇国土所");
    assert_eq!(month.month.lists.len(), 1);
    assert_eq!(month.month.lists[0].office, "hq");
    assert_eq!(month.month.lists[0].items[0].text("issue"), "林地边界争议");
    assert_eq!((month.month.by_risk[0].risk.as_str(), month.month.by_risk[0].count), ("high", 1));
    assert_eq!(c.bureau.office.work_totals(2024).unwrap().consults, 1);
    // The bureau reads a township's record and cannot write it.
    let held = c.bureau.office.work_record(&list.id).unwrap();
    assert!(!held.editable);
    assert_eq!(held.office_name, "黄桥镇国土所");
    let err = c.bureau.office.change_work(&list.id, WorkChange::File, None).unwrap_err();
    assert!(matches!(err, OfficeError::Refused(_)), "{err}");
    // Another township never receives them.
    c.b.sync().await.unwrap();
    assert!(c.b.office.work_records(None, None).unwrap().is_empty());
    assert!(c.b.office.work_record(&list.id).is_err());

    // A correction made at 黄桥 later reaches the bureau too.
    let item = month.month.lists[0].items[0].id.clone();
    let settle = WorkChange::Amend { item: Some(item), fields: text(&[("status", "settled")]) };
    c.a.office.change_work(&list.id, settle, None).unwrap();
    c.a.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    let after = c.bureau.office.work_record(&list.id).unwrap();
    assert_eq!(after.state.items[0].text("status"), "settled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_records_in_another_offices_name_or_under_a_case_id_are_refused_alone() {
    let c = County::start(TODAY).await.unwrap();
    let list =
        c.a.office
            .add_work(WorkInput {
                kind: "screening".into(),
                fields: text(&[("month", "2024-03")]),
                handler: None,
            })
            .unwrap();
    c.a.sync().await.unwrap();
    let b_actor = c.b.office.store().actor();
    // 1. A record in 黄桥's name made on 石江's device.
    let forged_id = work_id(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0042));
    let in_their_name = made_by(b_actor.clone(), |tx| {
        schema::write_work(tx, &screening_record(forged_id, "hq", "李娟")).unwrap();
    });
    // 2. A record of its own under a case's kind of id.
    let case_like = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0043);
    let mut own = screening_record(case_like, "sj", "刘洪");
    own.id = case_like;
    let under_case_id = made_by(b_actor.clone(), |tx| schema::write_work(tx, &own).unwrap());
    // 3. An entry added to 黄桥's list (石江 somehow holds a copy).
    let a_doc =
        c.a.office
            .store()
            .save_doc(ledger_domain::CaseId(list.id.parse().unwrap()), StoreKind::Work)
            .unwrap();
    let mut held = Automerge::load(&a_doc).unwrap().with_actor(b_actor.clone());
    let mut tx = held.transaction();
    let log = tx.get(ROOT, schema::WORK_LOG).unwrap().unwrap().1;
    let entry = tx.put_object(&log, "intruder", ledger_domain::automerge::ObjType::Map).unwrap();
    tx.put(&entry, "lamport", ledger_domain::automerge::ScalarValue::Uint(2)).unwrap();
    tx.put(&entry, "op", "file").unwrap();
    tx.put(&entry, "by", "刘洪").unwrap();
    tx.put(&entry, "office", "sj").unwrap();
    tx.put(&entry, "at", ledger_domain::automerge::ScalarValue::Timestamp(1_709_604_000_000))
        .unwrap();
    let (hash, _) = tx.commit();
    let intrusion =
        (hash.unwrap().0, held.get_change_by_hash(&hash.unwrap()).unwrap().raw_bytes().to_vec());
    // 4. 石江's own good consultation in the same batch.
    c.b.office.add_work(consult("2024-03-05")).unwrap();
    let mut request = c.b.office.prepare(256 * 1024).unwrap();
    let good: Vec<UpChange> = request.changes.clone();
    assert!(good.iter().any(|u| u.kind == DocKind::Work));
    for (id, (hash, bytes)) in [
        (forged_id, in_their_name.clone()),
        (case_like, under_case_id.clone()),
        (list.id.parse().unwrap(), intrusion.clone()),
    ] {
        request.changes.push(UpChange {
            case_id: id,
            kind: DocKind::Work,
            hash: Hash(hash),
            bytes,
        });
    }
    let credential = c.b.office.store().meta("sync.credential").unwrap().unwrap();
    let (status, response) = ledger_tests::post_sync(&c.hub.url(), &credential, &request).await;
    assert_eq!(status, 200);
    let refused: BTreeMap<String, String> =
        response.refused.iter().map(|r| (r.hash.clone(), r.rule.clone())).collect();
    assert_eq!(refused.len(), 3, "{:?}", response.refused);
    for (hash, _) in [in_their_name, under_case_id, intrusion] {
        assert_eq!(refused.get(&Hash(hash).to_hex()).map(String::as_str), Some("scope"));
    }
    for up in &good {
        assert!(response.acked.contains(&up.hash), "the good change of the batch was taken");
    }
    // Nothing of it reached 黄桥's list, and no record appeared in 黄桥's name.
    c.bureau.sync().await.unwrap();
    let month = c.bureau.office.screening_month("2024-03").unwrap();
    assert_eq!(month.month.lists.len(), 1);
    assert!(month.month.lists[0].filed.is_none());
    assert_eq!(c.bureau.office.work_totals(2024).unwrap().consults, 1, "石江's consultation");
}
