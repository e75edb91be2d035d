//! `ledger report --format summary|xlsx`, `ledger export --xlsx` then `ledger import` of it,
//! and `ledger doc`, end to end on real store files.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LEDGER: &str = env!("CARGO_BIN_EXE_ledger");

struct Ledger {
    dir: tempfile::TempDir,
    today: &'static str,
}

impl Ledger {
    fn new(today: &'static str) -> Self {
        let l = Self { dir: tempfile::tempdir().unwrap(), today };
        l.ok(&[
            "init",
            "--office",
            "county",
            "--name",
            "洞口县国土资源局",
            "--role",
            "bureau",
            "--staff",
            "刘洪",
            "--staff",
            "李娟",
        ]);
        l
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(LEDGER)
            .env("LEDGER_DATA_DIR", self.dir.path())
            .env("LEDGER_NOW", self.today)
            .env("LEDGER_PASSPHRASE", "测试台账口令-2026")
            .env_remove("LEDGER_HANDLER")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "ledger {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "ledger {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const HEADER: &str = "案件编号,登记日期,信访形式,信访来源,信访人,证件号码,联系电话,住址,人数,所属乡镇,涉及领域,问题类别,诉求内容,是否越级,是否重复,办理状态,答复日期,办结日期,满意度\n";

/// The seed's 2017 year as a ledger: 137 rows grouped by source and category as the seed
/// counts them; December's still under investigation at year end.
fn seed_ledger() -> String {
    let mut sources: Vec<(&str, &str)> = Vec::new();
    for (n, source, channel) in [
        (14, "省信访局交办", "来信"),
        (14, "市信访局交办", "来信"),
        (15, "县级部门交办", "来信"),
        (20, "12336举报", "来电"),
        (16, "网络舆情", "网上信访"),
        (5, "市国土局交办", "来信"),
        (3, "本局接收", "来信"),
        (50, "本局接收", "来访"),
    ] {
        sources.extend(std::iter::repeat_n((source, channel), n));
    }
    let mut categories: Vec<(&str, &str)> = Vec::new();
    for (n, category, sector) in [
        (5, "非法转让土地", "涉土"),
        (107, "违法占地建设", "涉土"),
        (14, "咨询及要求办证", "涉土"),
        (1, "咨询及要求办证", "其它"),
        (3, "涉采矿权", "涉矿"),
        (6, "纠纷调处", "涉土"),
        (1, "其它", "其它"),
    ] {
        categories.extend(std::iter::repeat_n((category, sector), n));
    }
    let mut text = String::from(HEADER);
    let mut visits = 0;
    for (i, ((source, channel), (category, sector))) in sources.iter().zip(&categories).enumerate()
    {
        let month = 1 + i * 12 / 137;
        let day = 1 + i % 20;
        let persons = if *channel == "来访" {
            visits += 1;
            if visits <= 34 { 2 } else { 3 }
        } else {
            1
        };
        let (status, reply, close) = if month == 12 {
            ("办理中", String::new(), String::new())
        } else {
            let reply = format!("2017-{month:02}-{:02}", day + 5);
            let close = format!("2017-{month:02}-{:02}", day + 8);
            ("办结", reply, close)
        };
        text.push_str(&format!(
            "洞口-2017-A-{:04},2017-{month:02}-{day:02},{channel},{source},村民{i},,,,{persons},{},{sector},{category},反映{category}问题，请求依法处理,否,否,{status},{reply},{close},\n",
            i + 1,
            ["黄桥镇", "石江镇", "高沙镇"][i % 3],
        ));
    }
    text
}

fn seeded() -> Ledger {
    let l = Ledger::new("2018-01-05");
    let csv = l.path("2017.csv");
    std::fs::write(&csv, seed_ledger()).unwrap();
    assert_eq!(l.ok(&["import", path(&csv)]).trim(), "137");
    l
}

#[test]
fn the_summary_paragraph_of_the_seed_year() {
    let l = seeded();
    let summary = l.ok(&["report", "--year", "2017", "--format", "summary"]);
    for expected in [
        "全年共受理各类信访137件（涉土132件，涉矿3件，其它2件）。",
        "信访件按来源分为省、市信访局交办28件，县级部门交办15件，12336违法举报和网络舆情36件，市国土局交办5件，本局信访接收53件次（来信3件，来访50批116人次）。",
        "其中反映非法转让土地5件，举报违法占地建设107件，咨询及要求办证15件，涉采矿权信访3件，纠纷调处类6件，其它问题1件。",
        "回复率100%",
    ] {
        assert!(summary.contains(expected), "missing 「{expected}」 in {summary}");
    }
    let month = l.ok(&["report", "--month", "2017-03", "--format", "summary"]);
    assert!(month.starts_with("3月份共受理各类信访"), "{month}");
    let text = l.ok(&["report", "--year", "2017"]);
    assert!(text.contains("上年同期 2016-01-01 至 2016-12-31"), "{text}");
    assert!(text.contains("分子/分母"), "{text}");
    let err = l.fails(&["report", "--month", "2017-13"]);
    assert!(err.contains("月份「2017-13」无效"), "{err}");
}

#[test]
fn statistics_workbook_needs_a_file() {
    let l = seeded();
    let err = l.fails(&["report", "--year", "2017", "--format", "xlsx"]);
    assert!(err.contains("--out"), "{err}");
    let out = l.path("统计.xlsx");
    l.ok(&["report", "--year", "2017", "--format", "xlsx", "--out", path(&out)]);
    assert!(std::fs::read(&out).unwrap().starts_with(b"PK"));
}

#[test]
fn xlsx_export_imports_back_to_the_same_report() {
    let l = seeded();
    let xlsx = l.path("台账.xlsx");
    l.ok(&["export", "--xlsx", path(&xlsx)]);
    let fresh = Ledger::new("2018-01-05");
    assert_eq!(fresh.ok(&["import", path(&xlsx)]).trim(), "137");
    for format in ["summary", "json", "text"] {
        assert_eq!(
            l.ok(&["report", "--year", "2017", "--format", format]),
            fresh.ok(&["report", "--year", "2017", "--format", format]),
            "{format}"
        );
    }
    let err = l.fails(&["export"]);
    assert!(err.contains("--csv") || err.contains("--xlsx"), "{err}");
}

#[test]
fn documents_preview_then_issue() {
    let l = seeded();
    let preview = l.path("preview.html");
    l.ok(&["doc", "洞口-2017-A-0001", "信访处理意见书", "--out", path(&preview)]);
    let html = std::fs::read_to_string(&preview).unwrap();
    assert!(html.contains("预览") && html.contains("信访处理意见书"));
    assert!(
        html.contains("<h2>三、处理意见</h2>\n<p><span class=\"missing\">(未录入)</span></p>"),
        "imported: no reply text"
    );

    let issued = l.path("issued.html");
    let number =
        l.ok(&["doc", "洞口-2017-A-0001", "handling_opinion", "--issue", "--out", path(&issued)]);
    assert_eq!(number.trim(), "洞口国土信复〔2018〕1号");
    let html = std::fs::read_to_string(&issued).unwrap();
    assert!(html.contains("洞口国土信复〔2018〕1号") && !html.contains("预览稿"));
    assert!(html.contains("2018年1月5日"));
    let show: serde_json::Value =
        serde_json::from_str(&l.ok(&["case", "show", "洞口-2017-A-0001", "--json"])).unwrap();
    let docs = show["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["number"], "洞口国土信复〔2018〕1号");

    // December's cases were not answered yet: no handling opinion.
    let err = l.fails(&["doc", "洞口-2017-A-0137", "信访处理意见书", "--issue"]);
    assert!(err.contains("还没有「答复」记录"), "{err}");
    let err = l.fails(&["doc", "洞口-2017-A-0001", "告状书"]);
    assert!(err.contains("不认识文书") && err.contains("受理告知书"), "{err}");
}

#[test]
fn a_reply_recorded_here_prints_with_its_outcome() {
    let l = Ledger::new("2024-03-05");
    let case = l.path("case.json");
    std::fs::write(
        &case,
        r#"{"received":"2024-03-01","channel":"来访","source":"本局接收","persons":2,
  "purpose":"检举控告","sector":"涉土","category":"违法占地建设","township":"黄桥镇","village":"大屋村",
  "request":"邻居在承包地上违法建房，请求依法查处",
  "petitioners":[{"name":"张三丰","id_number":"11010519491231002X"}]}"#,
    )
    .unwrap();
    let id = l.ok(&["case", "new", "--json", path(&case)]).trim().to_owned();
    l.ok(&["case", "act", &id, "accept"]);
    let number = l.ok(&["doc", &id, "受理告知书", "--issue", "--out", path(&l.path("a.html"))]);
    assert_eq!(number.trim(), "洞口国土信受〔2024〕1号");
    l.ok(&["case", "act", &id, "investigate", "--text", "现场核实：占用耕地80平方米"]);
    let err = l.fails(&["case", "act", &id, "reply", "--text", "x", "--outcome", "同意"]);
    assert!(err.contains("处理意见应为"), "{err}");
    l.ok(&["case", "act", &id, "reply", "--text", "责令限期拆除", "--outcome", "部分支持"]);
    let html = l.ok(&["doc", &id, "信访处理意见书"]);
    // Served on a real person: the full name the bureau holds, never the ID number.
    for part in ["本机关部分予以支持", "责令限期拆除", "现场核实：占用耕地80平方米", "张三丰："]
    {
        assert!(html.contains(part), "missing {part}");
    }
    assert!(!html.contains("11010519491231002X"));
}
