//! The `ledger` binary end to end: real processes on real store files.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const LEDGER: &str = env!("CARGO_BIN_EXE_ledger");

struct Ledger {
    dir: tempfile::TempDir,
    today: &'static str,
}

impl Ledger {
    fn new(role: &str, today: &'static str) -> Self {
        let l = Self { dir: tempfile::tempdir().unwrap(), today };
        let (office, name) = if role == "bureau" {
            ("county", "洞口县国土资源局")
        } else {
            ("hq", "黄桥镇国土所")
        };
        let out = l.run(&[
            "init", "--office", office, "--name", name, "--role", role, "--staff", "刘洪",
            "--staff", "李娟",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        l
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new(LEDGER);
        cmd.env("LEDGER_DATA_DIR", self.dir.path())
            .env("LEDGER_NOW", self.today)
            .env("LEDGER_PASSPHRASE", "测试台账口令-2026")
            .env_remove("LEDGER_HANDLER");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
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
        assert!(out.stdout.is_empty() || !out.status.success());
        String::from_utf8(out.stderr).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const CASE: &str = r#"{"received":"2024-03-01","channel":"来访","source":"本局接收","persons":2,
  "purpose":"检举控告","sector":"涉土","category":"违法占地建设","township":"黄桥镇","village":"大屋村",
  "request":"邻居在承包地上违法建房，请求依法查处",
  "petitioners":[{"name":"张三丰","id_number":"11010519491231002X","phone":"13812345678"}]}"#;

#[test]
fn register_act_list_show_and_report() {
    let l = Ledger::new("bureau", "2024-03-05");
    let file = l.file("case.json", CASE.as_bytes());
    let id = l.ok(&["case", "new", "--json", path(&file)]).trim().to_owned();
    assert_eq!(id.len(), 36, "prints the new id: {id}");
    // From stdin too.
    let mut child = l
        .cmd()
        .args(["case", "new", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), CASE.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait_with_output().unwrap().status.success());

    assert_eq!(
        l.ok(&["case", "act", &id, "交办", "--to", "黄桥镇", "--due", "2024-04-01"]).trim(),
        "案件状态：交办",
        "the status in Chinese, never its code"
    );
    let list = l.json(&["case", "list", "--json"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row = rows.iter().find(|r| r["id"] == id.as_str()).unwrap();
    for key in ["id", "number", "status", "township", "received"] {
        assert!(row.get(key).is_some(), "{key}");
    }
    assert_eq!(row["status"], "assigned");
    assert_eq!(row["township"], "黄桥镇");
    assert_eq!(row["received"], "2024-03-01");
    let filtered = l.json(&["case", "list", "--status", "assigned", "--json"]);
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    let page = l.json(&["case", "list", "--limit", "1", "--offset", "1", "--json"]);
    assert_eq!(page.as_array().unwrap().len(), 1);
    let searched = l.json(&["case", "list", "--query", "三丰", "--json"]);
    assert_eq!(searched.as_array().unwrap().len(), 2);

    let show = l.json(&["case", "show", &id, "--json"]);
    for key in
        ["id", "number", "status", "township", "received", "events", "submissions", "deadlines"]
    {
        assert!(show.get(key).is_some(), "{key}");
    }
    assert_eq!(show["events"].as_array().unwrap().len(), 2);
    let number = show["number"].as_str().unwrap().to_owned();
    assert_eq!(l.json(&["case", "show", &number, "--json"])["id"], id.as_str());

    let report = l.json(&["report", "--year", "2024", "--format", "json"]);
    assert_eq!(report["total"], 2);
    assert_eq!(report["by_source"]["本局接收"], 2);
    assert_eq!(report["visits"]["persons"], 4);
    let out = l.dir.path().join("r.txt");
    l.ok(&["report", "--from", "2024-01-01", "--to", "2024-03-31", "--out", path(&out)]);
    assert!(std::fs::read_to_string(out).unwrap().contains("信访总量  2 件次"));
}

#[test]
fn errors_are_chinese_non_zero_and_change_nothing() {
    let l = Ledger::new("township", "2024-03-05");
    let file = l.file("case.json", CASE.as_bytes());
    let id = l.ok(&["case", "new", "--json", path(&file)]).trim().to_owned();
    let err = l.fails(&["case", "act", &id, "accept"]);
    assert!(err.contains("只能由县局办理"), "{err}");
    let err = l.fails(&["case", "act", &id, "reply", "--text", "x"]);
    assert!(err.contains("「登记」"), "{err}");
    let err = l.fails(&["--handler", "王五", "case", "act", &id, "investigate"]);
    assert!(err.contains("人员名单"), "{err}");
    let bad = l.file("bad.json", br#"{"received":"2024-13-01"}"#);
    let err = l.fails(&["case", "new", "--json", path(&bad)]);
    assert!(err.contains("不是有效的 JSON"), "{err}");
    let bad = l.file("bad2.json", r#"{"received":"2024-03-01","channel":"飞鸽"}"#.as_bytes());
    let err = l.fails(&["case", "new", "--json", path(&bad)]);
    assert!(err.contains("信访形式") && err.contains("飞鸽"), "{err}");
    let verbose = l.cmd().args(["-v", "case", "show", "no-such"]).output().unwrap();
    assert!(!verbose.status.success());
    assert!(String::from_utf8_lossy(&verbose.stderr).contains("找不到案件"));
    assert_eq!(l.json(&["case", "list", "--json"]).as_array().unwrap().len(), 1);
    let events = l.json(&["case", "show", &id, "--json"])["events"].as_array().unwrap().len();
    assert_eq!(events, 1);
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(LEDGER)
        .env("LEDGER_DATA_DIR", empty.path())
        .args(["case", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ledger init"));
}

#[test]
fn a_missing_input_names_the_option_to_give() {
    let l = Ledger::new("bureau", "2024-03-05");
    let file = l.file("case.json", CASE.as_bytes());
    let id = l.ok(&["case", "new", "--json", path(&file)]).trim().to_owned();
    // The office names the field; the terminal says which option carries it.
    let err = l.fails(&["case", "act", &id, "交办"]);
    assert!(err.contains("请选择承办乡镇（--to）"), "{err}");
}

#[test]
fn a_second_process_is_told_the_store_is_in_use() {
    let l = Ledger::new("township", "2024-03-05");
    let mut writer =
        l.cmd().args(["write-loop", "--count", "100000"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(writer.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    let err = l.fails(&["case", "list"]);
    writer.kill().unwrap();
    writer.wait().unwrap();
    assert!(err.contains("正被另一个程序使用"), "{err}");
    assert!(err.contains("ledger"), "names the holder: {err}");
}

const HEADER: &str = "案件编号,登记日期,信访形式,信访来源,信访人,证件号码,联系电话,住址,人数,所属乡镇,涉及领域,问题类别,诉求内容,是否越级,是否重复,办理状态,答复日期,办结日期,满意度\n";

#[test]
fn import_export_round_trip_gbk_bad_rows_and_reimport() {
    let l = Ledger::new("bureau", "2024-06-30");
    let mut text = String::from(HEADER);
    for i in 0..40 {
        let status = ["登记", "交办", "办理中", "已答复", "办结"][i % 5];
        let (reply, close) = match status {
            "已答复" => ("2024-03-20", ""),
            "办结" => ("2024-03-20", "2024-04-02"),
            _ => ("", ""),
        };
        text.push_str(&format!(
            "X-{i:03},2024/3/{},{},{},村民{i},,,,{},{},涉土,{},诉求{i}，请求处理,否,{},{status},{reply},{close},{}\n",
            1 + i % 9,
            ["来信", "来访", "来电"][i % 3],
            ["本局接收", "市信访局交办", "12336举报"][i % 3],
            1 + i % 3,
            ["黄桥镇", "石江镇"][i % 2],
            ["违法占地建设", "纠纷调处"][i % 2],
            if i % 7 == 0 { "是" } else { "否" },
            if status == "办结" && i % 2 == 0 { "满意" } else { "" },
        ));
    }
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let csv = l.file("台账.csv", &gbk);
    assert_eq!(l.ok(&["import", path(&csv)]).trim(), "40");
    let again = l.cmd().args(["import", path(&csv)]).output().unwrap();
    assert!(again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), "0");
    assert!(String::from_utf8_lossy(&again.stderr).contains("已导入过"));
    let report = l.json(&["report", "--year", "2024", "--format", "json"]);
    assert_eq!(report["total"], 40);

    let out = l.dir.path().join("export.csv");
    l.ok(&["export", "--csv", path(&out)]);
    let fresh = Ledger::new("bureau", "2024-06-30");
    assert_eq!(fresh.ok(&["import", path(&out)]).trim(), "40");
    let copy = fresh.json(&["report", "--year", "2024", "--format", "json"]);
    for key in ["total", "by_source", "by_channel", "by_domain", "by_category", "visits", "flags"] {
        assert_eq!(report[key], copy[key], "{key}");
    }
    let statuses = |l: &Ledger| {
        let mut v: Vec<String> = l
            .json(&["case", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(statuses(&l), statuses(&fresh));

    // One bad row: nothing imported, the row named.
    let bad = format!(
        "{HEADER}Y-1,2024-03-01,来信,本局接收,甲,,,,1,黄桥镇,涉土,纠纷调处,诉求,否,否,登记,,,\n\
         Y-2,2024-03-32,来信,本局接收,乙,,,,1,黄桥镇,涉土,纠纷调处,诉求,否,否,登记,,,\n\
         Y-3,2024-03-03,来信,本局接收,丙,110105194912310021,,,1,黄桥镇,涉土,纠纷调处,诉求,否,否,登记,,,\n"
    );
    let bad = l.file("bad.csv", bad.as_bytes());
    let err = l.fails(&["import", path(&bad)]);
    assert!(err.contains("第3行 登记日期"), "{err}");
    assert!(err.contains("第4行 证件号码"), "{err}");
    assert_eq!(l.json(&["report", "--year", "2024", "--format", "json"])["total"], 40);
    assert_eq!(l.ok(&["import", "--skip-invalid", path(&bad)]).trim(), "1");
}

#[test]
fn backup_restore_and_check() {
    let l = Ledger::new("bureau", "2024-03-05");
    let file = l.file("case.json", CASE.as_bytes());
    l.ok(&["case", "new", "--json", path(&file)]);
    let backup = l.dir.path().join("backup.db");
    l.ok(&["backup", "--out", path(&backup)]);
    let other = Ledger { dir: tempfile::tempdir().unwrap(), today: "2024-03-05" };
    other.ok(&["restore", path(&backup)]);
    assert_eq!(other.json(&["case", "list", "--json"]).as_array().unwrap().len(), 1);
    assert_eq!(other.ok(&["check"]).trim(), "完好");
    let junk = l.file("junk.db", b"junk");
    let err = Ledger { dir: tempfile::tempdir().unwrap(), today: "2024-03-05" }
        .fails(&["restore", path(&junk)]);
    assert!(err.contains("不可用"), "{err}");
}

/// `ledger case list --json | head`: a reader that goes away ends the command quietly (the
/// status a shell gives a process ended by SIGPIPE), never with a panic.
#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    let l = Ledger::new("bureau", "2024-03-05");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = l.cmd().args(["rules"]).stdout(writer).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

/// A file over the attachment limit is refused by its size, before it is read: a sparse 16 GiB
/// file would otherwise take the machine's memory.
#[test]
fn a_huge_attachment_is_refused_before_it_is_read() {
    let l = Ledger::new("bureau", "2024-03-05");
    let case = l.file("case.json", CASE.as_bytes());
    let id = l.ok(&["case", "new", "--json", path(&case)]).trim().to_owned();
    let big = l.dir.path().join("现场录像.mp4");
    std::fs::File::create(&big).unwrap().set_len(16 * 1024 * 1024 * 1024).unwrap();
    let err = l.fails(&["case", "attach", &id, path(&big)]);
    assert!(err.contains("超过 8 MiB 的上限"), "{err}");
    let shown = l.json(&["case", "show", &id, "--json"]);
    assert_eq!(shown["attachments"].as_array().map(Vec::len), Some(0), "nothing attached");
}

/// `ledger rules holidays`: a file far larger than a year's schedule is refused before it is
/// read, and a schedule with a date outside its year names the line; nothing is recorded.
#[test]
fn a_holiday_file_that_is_not_a_years_schedule_is_refused() {
    let l = Ledger::new("bureau", "2026-12-01");
    let big = l.file("big.txt", &vec![b'x'; 100 * 1024]);
    let err = l.fails(&["rules", "holidays", "2027", "--file", path(&big)]);
    assert!(err.contains("不像一年的放假安排"), "{err}");
    let wrong = l.file("2027.txt", "2028-01-01 holiday 元旦\n".as_bytes());
    let err = l.fails(&["rules", "holidays", "2027", "--file", path(&wrong)]);
    assert!(err.contains("第1行"), "{err}");
    assert!(!l.ok(&["rules"]).contains("变更记录"), "nothing recorded");
}

/// `ledger staff`, `ledger rules set` by a rule's name, and `ledger demo-seed`: each one office
/// call; a refusal names the value, never an option the subcommand does not have.
#[test]
fn staff_rules_by_name_and_the_demo_seed_go_through_the_office() {
    let l = Ledger::new("bureau", "2024-03-05");
    l.ok(&["staff", "add", " 王五 "]);
    assert_eq!(l.ok(&["staff", "list"]).lines().collect::<Vec<_>>(), ["刘洪", "李娟", "王五"]);
    let err = l.fails(&["staff", "add", "李娟"]);
    assert!(err.contains("「李娟」已在本单位人员名单中") && !err.contains("--"), "{err}");
    let err = l.fails(&["staff", "remove", "赵六"]);
    assert!(err.contains("「赵六」不在本单位人员名单中"), "{err}");
    l.ok(&["staff", "remove", "刘洪"]);
    assert_eq!(l.ok(&["staff", "list"]).lines().collect::<Vec<_>>(), ["李娟", "王五"]);

    let shown = l.ok(&["rules", "set", "复查机关", "洞口县人民政府"]);
    assert!(shown.contains("洞口县人民政府"), "{shown}");
    let err = l.fails(&["rules", "set", "没有这一项", "1"]);
    assert!(err.contains("没有规则项「没有这一项」"), "{err}");

    let l = Ledger::new("bureau", "2026-11-30");
    let seeded = l.run(&["demo-seed"]);
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    assert!(String::from_utf8_lossy(&seeded.stderr).contains("已导入演示数据"));
    let listed = l.json(&["case", "list", "--json"]);
    assert!(listed.as_array().is_some_and(|r| r.len() > 20), "{listed}");
}
