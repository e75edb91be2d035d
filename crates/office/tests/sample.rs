//! The seed's year in the product (`samples/2017/`): the generator that writes the sample, a
//! check that the checked-in sample is what it writes, and the sample imported with one call
//! into a fresh county ledger, whose 2017 summary must carry every figure of the seed's first
//! paragraphs and its consultation and outreach figures, all counted from what was imported.
//!
//! The cases are the seed's 137 (`ledger_domain::fixtures::seed_2017`, built from the seed's
//! published breakdowns: sources, channels, categories, domains, visit persons, outcomes),
//! written as the office's own ledger export; the work records are 81 consultations and the
//! year's outreach, one line each. To write the sample again after a deliberate change:
//!
//! ```sh
//! UPDATE_SAMPLE=1 cargo test -p ledger-office --features test-support --test sample
//! ```

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use ledger_domain::Identity;
use ledger_domain::fixtures::seed_2017;
use ledger_domain::stats::Period;
use ledger_office::{Clock, FolderImport, ImportOptions, Office, OfficeConfig, Role};
use serde_json::json;

const LEDGER_FILE: &str = "ledger-2017.csv";
const WORK_FILE: &str = "work-2017.jsonl";

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/2017")
}

fn clock_at(date: &str) -> Clock {
    let d: NaiveDate = date.parse().unwrap();
    let ms = d.and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis();
    Arc::new(move || ms)
}

fn bureau(dir: &Path, date: &str) -> Office {
    let mut cfg = OfficeConfig::new("county", "洞口县国土资源局", Role::Bureau);
    cfg.staff = vec!["刘洪".into(), "李娟".into()];
    Office::init(dir, cfg, clock_at(date)).unwrap()
}

/// The ledger file: the seed's 137 cases as the bureau's own CSV export of them.
fn ledger_csv() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let office = bureau(&dir.path().join("office"), "2018-01-05");
    let cases: Vec<_> = seed_2017()
        .into_iter()
        .map(|c| {
            let identity = Identity { case_id: c.id, schema_version: 1, persons: vec![] };
            (c, identity, vec![])
        })
        .collect();
    office.store().create_cases(&cases).unwrap();
    let out = dir.path().join(LEDGER_FILE);
    office.export_csv(&out, &mut |_| {}).unwrap();
    std::fs::read(out).unwrap()
}

/// What the public asked about, and what they were told: the consultations cycle through these.
const QUESTIONS: [(&str, &str); 6] = [
    (
        "征地补偿标准和发放程序",
        "已告知区片综合地价标准、公示和发放程序，建议向所在乡镇核实本组补偿方案",
    ),
    ("农村宅基地审批需要哪些材料", "已告知需提交申请书、户口簿、村组意见，经乡镇审核后报县审批"),
    ("不动产登记办证流程", "已告知到县不动产登记中心申请，所需材料清单当场提供"),
    ("土地承包经营权流转是否需要审批", "已告知流转须签订书面合同并向乡镇备案，不得改变土地用途"),
    ("采矿许可证延续手续", "已告知延续申请应在有效期届满30日前提出，并告知所需材料"),
    ("举报违法占地的途径", "已告知可拨打12336或到局信访室、所在乡镇国土所举报"),
];

/// The work records: 81 consultations through the year, three 4.22 events whose figures add
/// up to the seed's (16000 leaflets, 1600 slogans, 5 mass meetings, 15 forums), a 6.25 event
/// (the seed gives no figures for it) and the May training of the township offices.
fn work_jsonl() -> String {
    let mut lines = Vec::new();
    let first = NaiveDate::from_ymd_opt(2017, 1, 3).unwrap();
    for i in 0..81u64 {
        let day = first + chrono::Days::new(i * 4);
        let (topic, answer) = QUESTIONS[(i % 6) as usize];
        let channel = if i % 3 == 0 { "phone" } else { "counter" };
        lines.push(
            json!({"kind": "consult", "fields": {"date": day.to_string(), "channel": channel,
            "topic": topic, "answer": answer}}),
        );
    }
    for (date, place, leaflets, slogans, meetings, forums) in [
        ("2017-04-20", "县城人民广场", 8000, 900, 2, 6),
        ("2017-04-22", "高沙镇集市", 6000, 500, 2, 5),
        ("2017-04-24", "黄桥镇、石江镇", 2000, 200, 1, 4),
    ] {
        lines.push(json!({"kind": "outreach", "fields": {"date": date, "occasion": "earth_day",
            "place": place, "topic": "国土资源法律法规宣传", "leaflets": leaflets,
            "slogans": slogans, "mass_meetings": meetings, "forums": forums}}));
    }
    lines.push(json!({"kind": "outreach", "fields": {"date": "2017-06-25", "occasion": "land_day",
        "place": "县城人民广场", "topic": "节约集约利用土地"}}));
    lines.push(json!({"kind": "outreach", "fields": {"date": "2017-05-18", "occasion": "training",
        "place": "局五楼会议室", "topic": "信访业务培训（24个乡镇国土所及各二级机构信访员）",
        "trainings": 1}}));
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn the_checked_in_sample_is_what_the_generator_writes() {
    let dir = sample_dir();
    let expected = [(LEDGER_FILE, ledger_csv()), (WORK_FILE, work_jsonl().into_bytes())];
    if std::env::var_os("UPDATE_SAMPLE").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &expected {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    for (name, bytes) in &expected {
        let held = std::fs::read(dir.join(name)).unwrap_or_default();
        assert!(
            held == *bytes,
            "samples/2017/{name} is not what the generator writes; run \
             UPDATE_SAMPLE=1 cargo test -p ledger-office --features test-support --test sample"
        );
    }
}

#[test]
fn the_sample_imported_in_one_call_gives_the_seeds_year() {
    let dir = tempfile::tempdir().unwrap();
    // A newcomer today, on a fresh bureau ledger.
    let office = bureau(dir.path(), "2026-12-02");
    let done = office.import_folder(&sample_dir(), ImportOptions::default(), &mut |_| {}).unwrap();
    let (mut cases, mut records) = (0, 0);
    for d in &done {
        match d {
            FolderImport::Ledger(r) => cases += r.cases,
            FolderImport::Work(r) => records += r.records,
        }
    }
    assert_eq!((cases, records), (137, 86), "{done:?}");

    let year = Period::year(2017).unwrap();
    let summary = office.summary(year, None).unwrap();
    // The seed's first paragraph, figure by figure (涉土 132: the seed's 122 cannot sum to 137).
    for expected in [
        "全年共受理各类信访137件（涉土132件，涉矿3件，其它2件）。",
        "省、市信访局交办28件",
        "县级部门交办15件",
        "36件",
        "市国土局交办5件",
        "本局信访接收53件次（来信3件，来访50批116人次）",
        "非法转让土地5件",
        "违法占地建设107件",
        "咨询及要求办证15件",
        "3件",
        "纠纷调处",
        "回复率100%",
        // Its later paragraphs: consultations and the 4.22 campaign.
        "全年政策咨询解答81次。",
        "在“4.22地球日”宣传活动期间，共发放国土资源法律法规宣传单16000张，张贴宣传标语1600条，召开群众会5次，座谈会15次。",
        "举办信访业务培训1期。",
    ] {
        assert!(summary.contains(expected), "the summary lacks 「{expected}」:\n{summary}");
    }
    let stats = office.statistics(year, None).unwrap();
    assert_eq!(stats.total, 137);
    assert_eq!(stats.by_domain.values().sum::<u64>(), 137, "the domain split sums to the total");
    assert_eq!((stats.visits.batches, stats.visits.persons), (50, 116));

    // Importing the folder again adds nothing.
    let again = office.import_folder(&sample_dir(), ImportOptions::default(), &mut |_| {}).unwrap();
    for d in &again {
        match d {
            FolderImport::Ledger(r) => assert_eq!(r.cases, 0, "{r:?}"),
            FolderImport::Work(r) => assert_eq!((r.records, r.duplicates), (0, 86), "{r:?}"),
        }
    }
    assert_eq!(office.work_totals(2017).unwrap().consults, 81);
}

#[test]
fn a_folder_with_one_bad_line_imports_nothing_and_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let office = bureau(&dir.path().join("office"), "2026-12-02");
    let folder = dir.path().join("in");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(sample_dir().join(LEDGER_FILE), folder.join(LEDGER_FILE)).unwrap();
    let mut work = work_jsonl();
    work.push_str("{\"kind\": \"consult\", \"fields\": {\"date\": \"2017-13-01\"}}\n");
    work.push_str("not json\n");
    std::fs::write(folder.join(WORK_FILE), work).unwrap();
    match office.import_folder(&folder, ImportOptions::default(), &mut |_| {}) {
        Err(ledger_office::OfficeError::ImportRejected(lines)) => {
            assert_eq!(lines.len(), 2, "{lines:?}");
            assert!(lines[0].starts_with("work-2017.jsonl：第87行"), "{lines:?}");
            assert!(lines[0].contains("咨询日期"), "{lines:?}");
            assert!(
                lines[1].contains("第88行") && lines[1].contains("不是一条工作记录"),
                "{lines:?}"
            );
        }
        other => panic!("a bad line must refuse the folder: {other:?}"),
    }
    assert_eq!(office.case_count().unwrap(), 0, "the good ledger file was not imported either");
    assert!(office.work_records(None, None).unwrap().is_empty());
    // A line twice in a file, or again with other spacing, is one record.
    let twice = dir.path().join("twice.jsonl");
    let line = r#"{"kind": "consult", "fields": {"date": "2017-05-02", "channel": "phone", "topic": "办证", "answer": "已解答"}}"#;
    let spaced = r#"{"fields":{"answer":"已解答","channel":"phone","date":"2017-05-02","topic":"办证"},"kind":"consult"}"#;
    std::fs::write(&twice, format!("{line}\n{line}\n\n{spaced}\n")).unwrap();
    let report = office.import_work_file(&twice, false).unwrap();
    assert_eq!((report.rows, report.records, report.duplicates), (3, 1, 2), "{report:?}");
    // A file of junk names its first hundred bad lines and stops.
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, "x\n".repeat(5000)).unwrap();
    match office.import_work_file(&junk, false) {
        Err(ledger_office::OfficeError::ImportRejected(lines)) => assert_eq!(lines.len(), 101),
        other => panic!("junk must be refused: {other:?}"),
    }
    // An empty folder says what it wanted.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = office.import_folder(&empty, ImportOptions::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains(".jsonl"), "{err}");
}
