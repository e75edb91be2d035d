//! The county's rules as a synced document, on the real hub over TCP: the bureau sets next
//! year's holidays, a provincial deadline and its document settings; every township receives
//! them by sync and reckons with them, the hub's own statistics too; past matters keep their
//! deadlines; a township's or a backdated entry is refused alone.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use ledger_domain::rules::RuleEntry;
use ledger_domain::{ActionKind, CaseId, DeadlineKind, HandlingTrack, schema};
use ledger_office::{ActionInput, Office, RuleInput};
use ledger_protocol::rules_id;
use ledger_store::DocKind;
use ledger_tests::{County, case_input};

const TODAY: &str = "2026-12-01";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A 2027 schedule in the form a county enters the State Council's (made up for the test: its
/// 调休 Saturday 2027-01-30 is what moves a deadline here).
const Y2027: &str = "2027-01-01 holiday 元旦\n2027-01-30 workday 春节\n2027-02-08 holiday 春节\n";

fn rule(item: &str, value: &str) -> RuleInput {
    RuleInput { item: item.into(), value: value.into(), ..Default::default() }
}

fn due(office: &Office, id: CaseId, kind: &DeadlineKind) -> (NaiveDate, bool) {
    let view = office.view(id).unwrap();
    let d = view.deadlines.items.iter().find(|d| d.kind == *kind).unwrap();
    (d.due, d.estimated)
}

/// A case of 黄桥镇 received on `received`, accepted on `accepted` (by the bureau) on the
/// 信访程序; not accepted when `accepted` is empty.
fn accepted_case(office: &Office, received: &str, accepted: &str) -> CaseId {
    let mut input = case_input("黄桥镇", "本局接收", "周某", "宅基地纠纷");
    input.submission.received = Some(d(received));
    let id = office.register(&input, None).unwrap();
    if !accepted.is_empty() {
        office
            .act(
                id,
                &ActionInput {
                    action: Some(ActionKind::Accept),
                    date: Some(d(accepted)),
                    track: Some(HandlingTrack::Petition),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bureaus_rules_reach_every_office_and_the_hubs_statistics() {
    let c = County::start(TODAY).await.unwrap();
    for o in [&c.bureau, &c.a, &c.b] {
        o.sync().await.unwrap();
    }
    assert!(c.a.office.rules_view().unwrap().received, "the hub made the county's document");
    assert!(!c.a.office.rules_view().unwrap().editable, "a township only receives them");

    // Before: 60 days from today end on Saturday 2027-01-30, beyond the holiday table: the
    // Monday after, 预计.
    let old = accepted_case(&c.bureau.office, "2026-11-20", TODAY);
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert_eq!(due(&c.a.office, old, &DeadlineKind::Handle), (d("2027-02-01"), true));
    assert_eq!(due(&c.a.office, old, &DeadlineKind::Decide), (d("2026-12-07"), false));

    // The bureau enters next year's schedule and Zhejiang's 5 working days from today.
    c.bureau
        .office
        .set_rule(&RuleInput {
            note: "国办发明电〔2026〕X号".into(),
            ..rule("holidays.2027", Y2027)
        })
        .unwrap();
    c.bureau.office.set_rule(&rule("policy.decide_days", "5")).unwrap();
    c.bureau.office.set_rule(&rule("policy.decide_working", "true")).unwrap();
    // The office takes item codes and their names (since issue 14 the CLI's lookup is the
    // office's); anything else is refused.
    c.bureau.office.set_rule(&rule("复核机构", "洞口县人民政府")).unwrap_err();
    c.bureau.office.set_rule(&rule("county.review_body", "洞口县人民政府")).unwrap();
    let err = c
        .bureau
        .office
        .set_rule(&RuleInput { from: Some(d("2026-01-01")), ..rule("policy.handle_days", "30") })
        .unwrap_err();
    assert!(err.to_string().contains("不能追溯既往"), "{err}");
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();

    // The township reckons with them at once; its index after the re-projection.
    let view = c.a.office.rules_view().unwrap();
    assert_eq!(view.calendar_to, d("2027-12-31"));
    assert_eq!(view.county.review_body.as_deref(), Some("洞口县人民政府"));
    assert_eq!(view.entries.len(), 4);
    assert!(
        view.policies
            .iter()
            .any(|p| p.in_force && p.policy.decide_days == 5 && p.policy.decide_working)
    );
    // The 调休 Saturday is a working day: the last day stays on it, and is no longer 预计.
    assert_eq!(due(&c.a.office, old, &DeadlineKind::Handle), (d("2027-01-30"), false));
    // Received before the 5-working-day rule: its 15 days stay.
    assert_eq!(
        due(&c.a.office, old, &DeadlineKind::Decide),
        (d("2026-12-07"), false),
        "the past stays"
    );
    assert!(!c.a.office.index_is_current().unwrap());
    c.a.office.refresh_index(&mut |_, _| {}).unwrap();
    assert!(c.a.office.index_is_current().unwrap());
    // A matter received today gets 5 working days: Wed 12-02 … Tue 12-08.
    let new = accepted_case(&c.a.office, TODAY, "");
    assert_eq!(due(&c.a.office, new, &DeadlineKind::Decide), (d("2026-12-08"), false));
    c.a.sync().await.unwrap();
    c.b.sync().await.unwrap();
    assert_eq!(c.b.office.rules_view().unwrap().entries.len(), 4, "every township");

    // The hub's statistics reckon with the same rules as the offices.
    let hub_facts = c.hub.engine().facts().unwrap();
    let hub_new = hub_facts.iter().find(|f| f.id == new).unwrap();
    assert_eq!(hub_new.decide_due, Some(d("2026-12-08")));
    let a_facts = c.a.office.store().all_facts().unwrap();
    for f in &hub_facts {
        let ours = a_facts.iter().find(|g| g.id == f.id).unwrap();
        assert_eq!(f, ours, "hub and township agree on case {}", f.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_townships_entry_or_a_backdated_one_is_refused_alone() {
    let c = County::start(TODAY).await.unwrap();
    c.bureau.office.set_rule(&rule("county.review_body", "洞口县人民政府")).unwrap();
    // Set before the bureau's first sync: the same county document, not a second one.
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert_eq!(
        c.a.office.rules_view().unwrap().county.review_body.as_deref(),
        Some("洞口县人民政府")
    );

    // A township laptop writes an entry straight into its copy (past the office's refusal),
    // beside an honest case.
    let key = CaseId(rules_id());
    let forged = RuleEntry {
        id: "forged-1".into(),
        item: "county.review_body".into(),
        value: "黄桥镇人民政府".into(),
        from: d(TODAY),
        recorded_at: c.a.office.now(),
        handler: "李娟".into(),
        note: String::new(),
    };
    c.a.office.store().edit(key, DocKind::Rules, |tx| schema::add_rule_entry(tx, &forged)).unwrap();
    let honest = accepted_case(&c.a.office, "2026-11-20", "");
    let report = c.a.sync().await.unwrap();
    assert_eq!(report.refused, 1, "{report:?}");
    c.bureau.sync().await.unwrap();
    assert!(c.bureau.office.view(honest).is_ok(), "its neighbour went through");
    let view = c.bureau.office.rules_view().unwrap();
    assert_eq!(view.entries.len(), 1);
    assert_eq!(view.county.review_body.as_deref(), Some("洞口县人民政府"));

    // A bureau device that backdates a deadline change past its own check is refused too.
    let backdated = RuleEntry {
        id: "backdated-1".into(),
        item: "policy.handle_days".into(),
        value: "30".into(),
        from: d("2025-01-01"),
        recorded_at: c.bureau.office.now(),
        handler: "刘洪".into(),
        note: String::new(),
    };
    c.bureau
        .office
        .store()
        .edit(key, DocKind::Rules, |tx| schema::add_rule_entry(tx, &backdated))
        .unwrap();
    let report = c.bureau.sync().await.unwrap();
    assert_eq!(report.refused, 1, "{report:?}");
    let rules = c.hub.engine().rules();
    assert_eq!(rules.policies.for_date(d("2025-06-01")).handle_days, 60, "the past kept");
}

/// A rules change that reaches the hub's database through another process (`ledger-hub bundle
/// import` while `serve` runs) is seen by the running hub before it serves statistics or a sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rules_change_written_by_another_hub_process_is_seen() {
    use ledger_client::SyncTarget;
    let c = County::start(TODAY).await.unwrap();
    c.bureau.sync().await.unwrap();
    let before = c.hub.engine().facts().unwrap();
    assert!(before.is_empty());
    c.bureau.office.set_rule(&rule("policy.handle_days", "45")).unwrap();
    let other = ledger_hub::Engine::new(c.hub.another_store().unwrap());
    let credential = c.bureau.office.store().meta("sync.credential").unwrap().unwrap();
    let caller = ledger_hub::auth::authenticate(c.hub.store().as_ref(), &credential).unwrap();
    let req = c.bureau.office.prepare(1024 * 1024).unwrap();
    let answer = other.sync(&caller, &req, ledger_hub::now_ms()).unwrap();
    assert!(answer.refused.is_empty() && !answer.acked.is_empty(), "{answer:?}");
    assert_eq!(other.rules().policies.for_date(d(TODAY)).handle_days, 45);
    // The serving engine still holds the rules it read; it reads them again before serving.
    c.hub.engine().facts().unwrap();
    assert_eq!(c.hub.engine().rules().policies.for_date(d(TODAY)).handle_days, 45);
}
