//! 清除演示数据 across a real county: demo cases leave the bureau, the hub and the townships;
//! every case entered by hand, and every enrollment, stays. The hub's purge is the one deletion
//! it performs, and it refuses anything not created as demo data.

#![allow(clippy::unwrap_used)]

use ledger_domain::ActionKind;
use ledger_office::{ActionInput, CaseQuery};
use ledger_tests::{County, case_input};

const TODAY: &str = "2026-11-30";

fn huangqiao_cases(o: &ledger_office::Office) -> Vec<ledger_office::CaseRow> {
    o.list(&CaseQuery { township: Some("黄桥镇".into()), ..Default::default() }).unwrap().rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_removal_takes_demo_cases_from_everywhere_and_nothing_else() {
    let c = County::start(TODAY).await.unwrap();
    let demo = c.bureau.office.seed_demo(&mut |_| {}).unwrap();
    assert!(demo.cases > 20, "{demo:?}");
    let real = c
        .bureau
        .office
        .register(&case_input("黄桥镇", "本局接收", "钱七", "承包地被占用"), None)
        .unwrap();
    // The township registers one of its own too.
    let own =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "孙八", "界址纠纷"), None).unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    let held = c.a.office.demo_cases().unwrap();
    assert!(held > 0, "the township holds the demo cases of 黄桥镇");
    assert!(huangqiao_cases(&c.a.office).iter().any(|r| r.demo));

    // A township cannot remove demo data; the bureau cannot remove a real case.
    let err = c.a.office.remove_demo(None).unwrap_err();
    assert!(err.to_string().contains("只能由县局清除"), "{err}");
    let remove = ActionInput { action: Some(ActionKind::RemoveDemo), ..Default::default() };
    let err = c.bureau.office.act(real, &remove).unwrap_err();
    assert!(err.to_string().contains("只有演示数据可以清除"), "{err}");

    // Before it hears of the removal, the township works on a demo case offline.
    let demo_here = huangqiao_cases(&c.a.office).into_iter().find(|r| r.demo).unwrap().id;
    let note = ActionInput {
        action: Some(ActionKind::Notify),
        text: Some("已电话告知".into()),
        ..Default::default()
    };
    c.a.office.act(demo_here, &note).unwrap();

    let removed = c.bureau.office.remove_demo(None).unwrap();
    assert_eq!(removed.cases as u64, demo.cases as u64);
    assert!(removed.awaiting_hub);
    // Out of the bureau's lists and statistics at once.
    assert_eq!(c.bureau.office.list(&CaseQuery::default()).unwrap().total, 2);
    assert_eq!(c.bureau.office.demo_cases().unwrap(), 0);
    c.bureau.sync().await.unwrap();
    c.bureau.sync().await.unwrap();

    // The hub kept exactly the two real cases.
    let hub_facts = c.hub.store().all_facts().unwrap();
    assert_eq!(hub_facts.len(), 2, "the hub purged the demo cases");
    assert!(c.hub.store().case_scope(real).unwrap().is_some());
    assert!(c.hub.store().case_scope(demo_here).unwrap().is_none());
    // The bureau deleted its copies and is still enrolled.
    assert_eq!(c.bureau.office.case_count().unwrap(), 2);
    assert!(c.bureau.office.hub_url().unwrap().is_some());

    // The township: its offline work on a purged case is refused, never resurrects it, and
    // its copies go; its own case stays.
    c.a.sync().await.unwrap();
    c.a.sync().await.unwrap();
    assert_eq!(c.a.office.demo_cases().unwrap(), 0);
    let left: Vec<_> = huangqiao_cases(&c.a.office).into_iter().map(|r| r.id).collect();
    assert!(left.contains(&real) && left.contains(&own), "{left:?}");
    assert!(!left.contains(&demo_here));
    assert!(c.hub.store().case_scope(demo_here).unwrap().is_none(), "not resurrected");
    assert!(c.a.office.hub_url().unwrap().is_some());
    assert_eq!(c.hub.store().all_facts().unwrap().len(), 2);
    // A township that was offline throughout gets nothing of the demo data either.
    c.b.sync().await.unwrap();
    assert_eq!(c.b.office.demo_cases().unwrap(), 0);
}
