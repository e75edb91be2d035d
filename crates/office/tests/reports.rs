//! Reports and documents through the office: the year report, the summary of the seed year,
//! the XLSX round trip and a bad sheet, and issuing documents (number, event, refusals).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::NaiveDate;
use ledger_domain::fixtures::seed_2017;
use ledger_domain::stats::Period;
use ledger_domain::{
    ActionKind, DocumentKind, HandlingTrack, Identity, NewCase, NewPetitioner, NewSubmission,
    Outcome, Role,
};
use ledger_office::{
    ActionInput, Clock, FieldValue, ImportOptions, LEDGER_COLUMNS, Office, OfficeConfig,
    WorkChange, WorkInput,
};

fn clock_at(date: &str) -> Clock {
    let d: NaiveDate = date.parse().unwrap();
    let ms = d.and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis();
    Arc::new(move || ms)
}

fn bureau(date: &str) -> (tempfile::TempDir, Office) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = OfficeConfig::new("county", "洞口县国土资源局", Role::Bureau);
    cfg.staff = vec!["刘洪".into(), "李娟".into()];
    let office = Office::init(dir.path(), cfg, clock_at(date)).unwrap();
    (dir, office)
}

/// The bureau holding the seed's 2017 year, on 2018-01-05.
fn seeded() -> (tempfile::TempDir, Office) {
    let (dir, office) = bureau("2018-01-05");
    let cases: Vec<_> = seed_2017()
        .into_iter()
        .map(|c| {
            let identity = Identity { case_id: c.id, schema_version: 1, persons: vec![] };
            (c, identity, vec![])
        })
        .collect();
    office.store().create_cases(&cases).unwrap();
    (dir, office)
}

#[test]
fn the_year_report_has_the_year_the_year_before_and_twelve_months() {
    let (_d, office) = seeded();
    let report = office.year_report(2017, None).unwrap();
    assert_eq!(report.year.total, 137);
    assert_eq!(report.previous.total, 0);
    assert_eq!(report.previous.period, Period::year(2016).unwrap());
    assert_eq!(report.months.len(), 12);
    assert_eq!(report.months.iter().map(|m| m.total).sum::<u64>(), 137);
    assert_eq!(report.months[2].period, Period::month(2017, 3).unwrap());
    let json = serde_json::to_value(&report).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["year", "previous", "months"]);
    assert_eq!(json["year"]["visits"]["persons"], 116);
    let township = office.year_report(2017, Some("黄桥镇")).unwrap();
    assert!(township.year.total > 0 && township.year.total < 137);
    assert_eq!(township.year.township.as_deref(), Some("黄桥镇"));
}

#[test]
fn the_seed_year_summary_and_tables() {
    let (_d, office) = seeded();
    let year = Period::year(2017).unwrap();
    let summary = office.summary(year, None).unwrap();
    assert!(
        summary.starts_with("全年共受理各类信访137件（涉土132件，涉矿3件，其它2件）。"),
        "{summary}"
    );
    assert!(summary.contains("本局信访接收53件次（来信3件，来访50批116人次）"), "{summary}");
    assert!(!summary.contains("与上年同期相比"), "2016 had nothing to compare: {summary}");
    assert!(summary.ends_with("上年无数据，不作同比。"), "{summary}");
    let tables = office.report_tables(year, None).unwrap();
    assert_eq!(tables.previous_period, Period::year(2016));
    // 2016 has no petitions: no change is stated against it, not 增加137件次.
    assert!(tables.previous_empty);
    assert_eq!(tables.figure("总量", "信访总量").unwrap().change, None);
    let text = tables.to_text();
    assert!(text.contains("上年同期 2016-01-01 至 2016-12-31"), "{text}");
    assert!(text.contains("上年无数据"), "{text}");
}

fn work(kind: &str, pairs: &[(&str, &str)]) -> WorkInput {
    WorkInput {
        kind: kind.into(),
        fields: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), FieldValue::Text((*v).to_owned())))
            .collect(),
        handler: None,
    }
}

/// The seed's consultations and outreach, recorded one by one: 政策咨询解答81次; the 4.22 campaign
/// spread over three events whose figures add up to the seed's (16000 leaflets, 1600 slogans, 5
/// mass meetings, 15 forums); a 6.25 event; the May training of the 24 township offices; and one
/// consultation entered twice and voided, which must not count.
#[test]
fn the_seed_years_consultations_and_outreach_come_from_recorded_events() {
    let (_d, office) = seeded();
    for i in 0..81 {
        let day = NaiveDate::from_ymd_opt(2017, 1, 3).unwrap() + chrono::Days::new(i * 4);
        let channel = if i % 3 == 0 { "电话" } else { "窗口" };
        let date = day.to_string();
        office
            .add_work(work(
                "政策咨询",
                &[
                    ("date", &date),
                    ("channel", channel),
                    ("topic", "征地补偿"),
                    ("answer", "已解答"),
                ],
            ))
            .unwrap();
    }
    let twice = office
        .add_work(work(
            "consult",
            &[
                ("date", "2017-05-02"),
                ("channel", "phone"),
                ("topic", "办证"),
                ("answer", "已解答"),
            ],
        ))
        .unwrap();
    let void = WorkChange::Void { item: None, reason: "重复录入".into() };
    office.change_work(&twice.id, void, None).unwrap();
    for (date, place, figures) in [
        ("2017-04-20", "县城广场", ["8000", "900", "2", "6"]),
        ("2017-04-22", "高沙镇集市", ["6000", "500", "2", "5"]),
        ("2017-04-24", "黄桥镇", ["2000", "200", "1", "4"]),
    ] {
        let [leaflets, slogans, meetings, forums] = figures;
        office
            .add_work(work(
                "outreach",
                &[
                    ("date", date),
                    ("occasion", "4.22地球日"),
                    ("place", place),
                    ("leaflets", leaflets),
                    ("slogans", slogans),
                    ("mass_meetings", meetings),
                    ("forums", forums),
                ],
            ))
            .unwrap();
    }
    office
        .add_work(work(
            "outreach",
            &[("date", "2017-06-25"), ("occasion", "土地日"), ("place", "县城")],
        ))
        .unwrap();
    office
        .add_work(work(
            "outreach",
            &[
                ("date", "2017-05-18"),
                ("occasion", "培训"),
                ("place", "局五楼"),
                ("topic", "信访业务培训（24个乡镇国土所）"),
                ("trainings", "1"),
                ("attendees", "48"),
            ],
        ))
        .unwrap();
    let totals = office.work_totals(2017).unwrap();
    assert_eq!(totals.consults, 81);
    assert_eq!(
        (totals.leaflets, totals.slogans, totals.mass_meetings, totals.forums),
        (16000, 1600, 5, 15)
    );
    let summary = office.summary(Period::year(2017).unwrap(), None).unwrap();
    assert!(summary.contains("全年政策咨询解答81次。"), "{summary}");
    assert!(
        summary.contains(
            "在“4.22地球日”宣传活动期间，共发放国土资源法律法规宣传单16000张，张贴宣传标语1600条，召开群众会5次，座谈会15次。"
        ),
        "{summary}"
    );
    assert!(summary.contains("举办信访业务培训1期，参加48人次。"), "{summary}");
    // The cases' paragraph is unchanged in front of it.
    assert!(summary.starts_with("全年共受理各类信访137件"), "{summary}");
    let text = office.report_tables(Period::year(2017).unwrap(), None).unwrap().to_text();
    assert!(text.contains("宣传与咨询"), "{text}");
    // A township's tables are about its cases; work records belong to offices.
    let township = office.report_tables(Period::year(2017).unwrap(), Some("黄桥镇")).unwrap();
    assert!(township.work.is_none());
    // Another year counts none of it.
    assert_eq!(office.work_totals(2016).unwrap().consults, 0);
}

#[test]
fn xlsx_export_then_import_reproduces_the_report() {
    let (dir, office) = seeded();
    let xlsx = dir.path().join("台账.xlsx");
    let csv = dir.path().join("台账.csv");
    assert_eq!(office.export_xlsx(&xlsx, &mut |_| {}).unwrap(), 137);
    assert_eq!(office.export_csv(&csv, &mut |_| {}).unwrap(), 137);
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
    let (_x, from_xlsx) = bureau("2018-01-05");
    let report = from_xlsx.import_file(&xlsx, ImportOptions::default(), &mut |_| {}).unwrap();
    assert_eq!((report.rows, report.cases, report.duplicates), (137, 137, 0));
    assert!(report.invalid.is_empty() && report.unknown_columns.is_empty());
    let (_c, from_csv) = bureau("2018-01-05");
    from_csv.import_file(&csv, ImportOptions::default(), &mut |_| {}).unwrap();

    let year = Period::year(2017).unwrap();
    let (a, b) =
        (office.statistics(year, None).unwrap(), from_xlsx.statistics(year, None).unwrap());
    // The XLSX path is the CSV path: the same cases, to the last rate.
    assert_eq!(b, from_csv.statistics(year, None).unwrap());
    assert_eq!(from_xlsx.summary(year, None).unwrap(), from_csv.summary(year, None).unwrap());
    // Every count of the report survives the round trip.
    assert_eq!((a.total, a.cases, a.visits, a.flags), (b.total, b.cases, b.visits, b.flags));
    assert_eq!(a.by_source, b.by_source);
    assert_eq!(a.by_channel, b.by_channel);
    assert_eq!(a.by_domain, b.by_domain);
    assert_eq!(a.by_category, b.by_category);
    assert_eq!(a.by_source_channel, b.by_source_channel);
    // And every rate, except the two judged on the rating's date: the ledger layout has no
    // 评价日期 column, so a rating given after the year's end comes back dated at the 办结日期.
    for (name, rate) in &a.rates {
        if name != "参评率" && name != "满意率" {
            assert_eq!(rate, &b.rates[name], "{name}");
        }
    }
    let sentences = |s: String| s.split('。').take(3).collect::<Vec<_>>().join("。");
    assert_eq!(
        sentences(office.summary(year, None).unwrap()),
        sentences(from_xlsx.summary(year, None).unwrap())
    );
    // Importing it again adds nothing.
    let again = from_xlsx.import_file(&xlsx, ImportOptions::default(), &mut |_| {}).unwrap();
    assert_eq!((again.cases, again.duplicates), (0, 137));
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_sheet_with_a_bad_row_imports_nothing_and_names_row_and_column() {
    let (dir, office) = bureau("2024-06-01");
    let header: Vec<String> = LEDGER_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let good = row(&[
        "A-1",
        "2024-03-01",
        "来访",
        "本局接收",
        "张三丰",
        "",
        "",
        "",
        "2",
        "黄桥镇",
        "涉土",
        "违法占地建设",
        "建房",
        "否",
        "否",
        "登记",
        "",
        "",
        "",
    ]);
    let bad = row(&[
        "A-2",
        "2024-02-30",
        "来信",
        "市信访局交办",
        "李四",
        "",
        "",
        "",
        "1",
        "黄桥镇",
        "涉土",
        "纠纷调处",
        "界址",
        "否",
        "否",
        "登记",
        "",
        "",
        "",
    ]);
    let path = dir.path().join("bad.xlsx");
    let bytes = ledger_report::ledger_xlsx(&header, &[good.clone(), bad.clone()]).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let err = office.import_file(&path, ImportOptions::default(), &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "import_rejected");
    let msg = err.to_string();
    assert!(msg.contains("第3行 登记日期"), "{msg}");
    assert!(msg.contains("2024-02-30"), "{msg}");
    assert!(!msg.contains("第2行"), "{msg}");
    assert_eq!(office.case_count().unwrap(), 0);

    // Under a title row the rows are named by their Excel row.
    let mut rows = vec![header, good, bad];
    rows[2][8] = "三".to_owned();
    let titled = dir.path().join("titled.xlsx");
    let bytes = ledger_report::ledger_xlsx(&["2024年信访台账".to_owned()], &rows).unwrap();
    std::fs::write(&titled, bytes).unwrap();
    let err = office.import_file(&titled, ImportOptions::default(), &mut |_| {}).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("第4行 登记日期") && msg.contains("第4行 人数"), "{msg}");
    let skipped = office
        .import_file(
            &titled,
            ImportOptions { skip_invalid: true, ..Default::default() },
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(skipped.cases, 1);
    assert!(skipped.invalid.iter().all(|m| m.starts_with("第4行")), "{:?}", skipped.invalid);

    let xls = dir.path().join("old.xls");
    std::fs::write(&xls, b"\xd0\xcf\x11\xe0").unwrap();
    let err = office.import_file(&xls, ImportOptions::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("另存为 .xlsx"), "{err}");
    let junk = dir.path().join("junk.xlsx");
    std::fs::write(&junk, b"junk").unwrap();
    let err = office.import_file(&junk, ImportOptions::default(), &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "bad_file");
}

#[test]
fn the_statistics_workbook_is_written() {
    let (dir, office) = seeded();
    let path = dir.path().join("统计.xlsx");
    office.statistics_xlsx(Period::year(2017).unwrap(), None, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"PK"));
}

fn new_case() -> NewCase {
    NewCase {
        submission: NewSubmission {
            received: Some("2024-03-01".parse().unwrap()),
            channel: "来访".into(),
            source: "市信访局交办".into(),
            persons: Some(2),
            referred_by: "邵阳市信访局".into(),
            referral_number: "邵信交〔2024〕12号".into(),
            ..Default::default()
        },
        sector: "涉土".into(),
        category: "违法占地建设".into(),
        purpose: "检举控告".into(),
        township: "黄桥镇".into(),
        request: "邻居在承包地上违法建房，请求依法查处".into(),
        village: "大屋村".into(),
        petitioners: vec![NewPetitioner {
            name: "张三丰".into(),
            id_number: "11010519491231002X".into(),
            phone: "13812345678".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn act(action: ActionKind) -> ActionInput {
    // A reply states its 处理意见 (信访工作条例 §32).
    let outcome = (action == ActionKind::Reply).then_some(Outcome::Supported);
    ActionInput { action: Some(action), outcome, ..Default::default() }
}

#[test]
fn documents_preview_issue_and_refuse() {
    let (_d, office) = bureau("2024-03-05");
    let id = office.register(&new_case(), None).unwrap();
    let err = office.document(id, &DocumentKind::AcceptanceNotice, false, None).unwrap_err();
    assert_eq!(err.code(), "refused");
    // On the petition procedure (§31(6)): its opinion carries the right to a 复查.
    let accept = ActionInput { track: Some(HandlingTrack::Petition), ..act(ActionKind::Accept) };
    office.act(id, &accept).unwrap();

    let preview = office.document(id, &DocumentKind::AcceptanceNotice, false, None).unwrap();
    assert!(preview.contains("预览"), "{preview}");
    assert!(office.view(id).unwrap().documents.is_empty(), "a preview records nothing");

    let issued = office.document(id, &DocumentKind::AcceptanceNotice, true, Some("李娟")).unwrap();
    assert!(issued.contains("洞口国土信受〔2024〕1号"), "{issued}");
    assert!(issued.contains("洞口县国土资源局"));
    // Served on a real person: the full name the bureau holds, never the ID number.
    assert!(issued.contains("张三丰："), "the full name");
    assert!(!issued.contains("张*丰") && !issued.contains("11010519491231002X"));
    assert!(!issued.contains("预览"));
    let view = office.view(id).unwrap();
    assert_eq!(view.documents.len(), 1);
    assert_eq!(view.documents[0].kind, DocumentKind::AcceptanceNotice);
    assert_eq!(view.documents[0].number, "洞口国土信受〔2024〕1号");
    let event = view.case.events.iter().find(|e| e.action == ActionKind::IssueDocument).unwrap();
    assert_eq!(event.handler, "李娟");
    assert!(view.anomalies.is_empty(), "{:?}", view.anomalies);
    // A reprint carries the number; a second issue takes the next one.
    let reprint = office.document(id, &DocumentKind::AcceptanceNotice, false, None).unwrap();
    assert!(reprint.contains("洞口国土信受〔2024〕1号") && !reprint.contains("预览"));
    let second = office.document(id, &DocumentKind::AcceptanceNotice, true, None).unwrap();
    assert!(second.contains("洞口国土信受〔2024〕2号"));

    // No 答复 yet: no handling opinion, and nothing is recorded or numbered.
    let err = office.document(id, &DocumentKind::HandlingOpinion, true, None).unwrap_err();
    assert_eq!(err.code(), "refused");
    assert!(err.to_string().contains("还没有「答复」记录"), "{err}");
    let err = office.document(id, &DocumentKind::ExtensionNotice, true, None).unwrap_err();
    assert!(err.to_string().contains("延期"), "{err}");
    let err = office.document(id, &DocumentKind::NonAcceptanceNotice, true, None).unwrap_err();
    assert!(err.to_string().contains("不予受理"), "{err}");
    assert_eq!(office.view(id).unwrap().documents.len(), 2);

    // The bureau handles it itself: investigates, extends, replies.
    office
        .act(
            id,
            &ActionInput {
                text: Some("现场核实：占用耕地80平方米".into()),
                ..act(ActionKind::Investigate)
            },
        )
        .unwrap();
    office
        .act(
            id,
            &ActionInput {
                due: Some("2024-05-20".parse().unwrap()),
                text: Some("需测绘部门出具测量报告".into()),
                ..act(ActionKind::Extend)
            },
        )
        .unwrap();
    let ext = office.document(id, &DocumentKind::ExtensionNotice, true, None).unwrap();
    assert!(ext.contains("洞口国土信延〔2024〕1号") && ext.contains("需测绘部门出具测量报告"));
    office
        .act(
            id,
            &ActionInput {
                text: Some("经调查核实，责令当事人限期拆除。".into()),
                outcome: Some(Outcome::Supported),
                ..act(ActionKind::Reply)
            },
        )
        .unwrap();
    let opinion = office.document(id, &DocumentKind::HandlingOpinion, true, None).unwrap();
    for part in [
        "洞口国土信复〔2024〕1号",
        "邻居在承包地上违法建房，请求依法查处",
        "现场核实：占用耕地80平方米",
        "经调查核实，责令当事人限期拆除。",
        "综上，对你的信访请求，本机关予以支持。",
        "《信访工作条例》第三十二条",
        "自收到本意见书之日起30日内向本机关的上一级行政机关申请复查",
    ] {
        assert!(opinion.contains(part), "missing {part}");
    }
    // Referred by the city petition bureau: the bureau's completion report goes back there.
    let report = office.document(id, &DocumentKind::CompletionReport, false, None).unwrap();
    // Back to the referring body by its full name, citing its document and the referral's day.
    assert!(report.contains(">邵阳市信访局：<"), "{report}");
    assert!(report.contains("2024年3月1日以邵信交〔2024〕12号交办的"), "{report}");
    // The reviewing body named in the county's rules, from the day it was set.
    office
        .set_rule(&ledger_office::RuleInput {
            item: "county.review_body".into(),
            value: "洞口县人民政府".into(),
            ..Default::default()
        })
        .unwrap();
    let opinion = office.document(id, &DocumentKind::HandlingOpinion, false, None).unwrap();
    assert!(opinion.contains("30日内向洞口县人民政府申请复查"), "{opinion}");
    // The law the matter turns on (违法占地建设: 土地管理法 §77) beside the procedure.
    assert!(
        opinion.contains("依据《中华人民共和国土地管理法》第七十七条和《信访工作条例》第三十二条"),
        "{opinion}"
    );
    assert_eq!(office.view(id).unwrap().documents.len(), 4);

    office.void(id, "重复登记", None).unwrap();
    let err = office.document(id, &DocumentKind::AcceptanceNotice, true, None).unwrap_err();
    assert!(err.to_string().contains("作废"), "{err}");
}
