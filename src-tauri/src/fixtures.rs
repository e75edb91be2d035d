//! Recorded answers of the real office for the UI's mock shell (`npm run dev:mock`, the page
//! test): a test drives a real [`Office`] (a bureau with the demo data set and a few cases made
//! by hand, on a fixed clock, minting its ids from a counter) through the page test's scenario
//! and writes what each command answers into `ui/src/api/fixtures/recorded.json`, which is
//! checked in. The mock looks an answer up by state, command and arguments and computes nothing.
//!
//! The recording is a chain of states. In each, every read the UI makes ([`reads`]) is asked
//! and written where its answer differs from the state before (the mock looks a read up in its
//! state, then in the states before). A change ([`changes`]) is recorded with its answer, the
//! events the shell emits for it and the state it leads to. The test fails when the checked-in
//! file is not what the office answers now, and prints the command that records it again:
//!
//! ```sh
//! UPDATE_FIXTURES=1 cargo test -p ledger-desktop fixtures
//! ```
//!
//! What needs a hub, a keyring or a native dialog (enrollment, unlocking, sync, picking files)
//! is not recorded here: `ui/src/api/fixtures/shell.json` holds those answers, hand-written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ledger_office::{
    ActionInput, ActionKind, CaseField, CaseId, Clock, DocumentKind, Draft, ImportOptions, NewCase,
    Office, OfficeConfig, Role, RuleInput,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::commands::cases::{ActInput, QueryInput, case_field, case_id};
use crate::error::{CommandError, CommandResult};
use crate::state::{ProgressEvent, ProgressTask, StoreChanged};

/// Where the fixtures live, from this crate's folder.
const FIXTURES: &str = "../ui/src/api/fixtures";

/// The day the page test's 督办单 asks the report by.
const SUPERVISE_DUE: &str = "2026-12-04";

/// The day every recording is made (a fixed clock: 10:00 in China). The page test sets the
/// browser's clock to the same time.
const TODAY: &str = "2026-11-27";

/// The recording office's Automerge actor, and the other device's that edits a case at the
/// same time (the conflict the page test settles).
const ACTOR: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
const OTHER_DEVICE: &str = "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1";

/// Where the app keeps its data, as `app_state` shows it (the recording's is a temporary folder).
const DATA_DIR: &str = "/home/guotu/.local/share/ledger";

/// The handles the mock's file dialogs give (`shell.json`), and the files behind them here.
const PICK_LEDGER: &str = "pick-open_ledger";
const PICK_ATTACHMENT: &str = "pick-attachments";
const PICK_SAVE_LEDGER: &str = "pick-save_ledger";
const PICK_SAVE_STATISTICS: &str = "pick-save_statistics";

fn now_ms() -> i64 {
    let day: chrono::NaiveDate = TODAY.parse().unwrap();
    day.and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn clock() -> Clock {
    let ms = now_ms();
    Arc::new(move || ms)
}

fn day(offset: i64) -> String {
    let today: chrono::NaiveDate = TODAY.parse().unwrap();
    (today + chrono::Duration::days(offset)).to_string()
}

fn config() -> OfficeConfig {
    let mut config = OfficeConfig::new("county", "洞口县国土资源局", Role::Bureau);
    config.townships =
        ["黄桥镇", "高沙镇", "竹市镇", "石江镇", "山门镇", "醪田镇", "花园镇", "江口镇", "洞口镇"]
            .map(str::to_owned)
            .to_vec();
    config.staff = ["李娟", "刘洪", "王敏"].map(str::to_owned).to_vec();
    config.number_prefix = "洞口".to_owned();
    config
}

/// The mock's office: the county bureau the page test works as, with nothing in it yet.
fn bureau(dir: &Path, actor: &str) -> Office {
    Office::init_deterministic(dir, config(), clock(), actor).unwrap()
}

/// The address of the county's hub, as enrolling leaves it in the store. No hub runs here: the
/// recorded commands never reach it, and what sync answers is in `shell.json`.
fn enrolled(office: &Office) {
    office.store().set_meta(&[("sync.hub", "https://county-hub:8750")]).unwrap();
}

/// The township office the page test sets up offline (`setup_local`), with nothing in it yet.
fn township(dir: &Path) -> Office {
    let mut config = OfficeConfig::new("hq", "黄桥镇国土所", Role::Township);
    config.townships = vec!["黄桥镇".to_owned()];
    config.staff = vec!["刘洪".to_owned()];
    Office::init_deterministic(dir, config, clock(), ACTOR).unwrap()
}

fn to_json(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap()
}

/// An argument of a command, as Tauri reads it.
fn input<T: serde::de::DeserializeOwned>(args: &Value, key: &str) -> T {
    serde_json::from_value(args[key].clone()).unwrap()
}

/// What a command answers: its value, or the error the UI receives.
type Answer = Result<Value, Value>;

/// What the recording office holds besides the office: the files behind the dialogs' handles
/// and the events a command emitted.
struct Shell {
    office: Arc<Office>,
    files: BTreeMap<&'static str, PathBuf>,
    events: Vec<Value>,
}

impl Shell {
    fn changed(&mut self, case_id: Option<String>) {
        self.events.push(json!({"event": "store-changed", "payload": StoreChanged { case_id }}));
    }

    fn file(&self, handle: &Value) -> CommandResult<PathBuf> {
        let handle = handle.as_str().unwrap_or_default();
        self.files
            .get(handle)
            .cloned()
            .ok_or_else(|| CommandError::new("invalid_input", "请先在对话框中选择文件"))
    }

    /// Answers `command` with `args` as the Tauri command of that name does (the same input
    /// types and conversions, `commands/*.rs`), emitting what it emits.
    fn call(&mut self, command: &str, args: &Value) -> Answer {
        self.events.clear();
        self.answer(command, args).map_err(to_json)
    }

    fn answer(&mut self, command: &str, a: &Value) -> CommandResult<Value> {
        let o = self.office.clone();
        let s = |key: &str| a[key].as_str().unwrap_or_default().to_owned();
        let township = || a["township"].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
        let id = || case_id(a["id"].as_str().unwrap_or_default());
        Ok(match command {
            "app_state" => to_json(self.app_state()),
            "vocabularies" => {
                to_json(tauri::async_runtime::block_on(crate::commands::setup::vocabularies())?)
            }
            "rules_view" => to_json(o.rules_view()?),
            "set_rule" => {
                let input = RuleInput {
                    item: s("item"),
                    value: s("value"),
                    from: crate::commands::cases::date(a["from"].as_str())?,
                    note: s("note"),
                    handler: a["handler"].as_str().map(str::to_owned),
                };
                let view = o.set_rule(&input)?;
                self.changed(None);
                to_json(view)
            }
            "township_choices" => to_json(o.township_choices()?),
            "remove_demo" => {
                let removed = o.remove_demo(a["handler"].as_str())?;
                self.changed(None);
                let state = self.app_state();
                to_json(crate::commands::setup::DemoRemoved { removed, state })
            }
            "list_cases" => {
                let query: QueryInput = input(a, "query");
                to_json(o.list(&query.into_query()?)?)
            }
            "case_detail" => to_json(o.view(id()?)?),
            "register_case" => {
                let new: NewCase = input(a, "input");
                let case = o.register(&new, a["handler"].as_str())?;
                self.changed(Some(case.to_string()));
                json!(case.to_string())
            }
            "similar_cases" => to_json(o.similar_open_cases(&s("name"), &s("village"))?),
            // The recording office is on its own: the hub's answer is "not enrolled", which the
            // register form takes as offline (the local hint alone).
            "county_repeats" => {
                let ids: Vec<String> = input(a, "id_numbers");
                to_json(tauri::async_runtime::block_on(o.county_repeats(&ids))?)
            }
            "act" => {
                let case = id()?;
                let act: ActInput = input(a, "input");
                let status = o.act(case, &act.into_action()?)?;
                self.changed(Some(case.to_string()));
                json!(status.code())
            }
            "set_draft" => {
                let draft = if s("draft") == "reply" { Draft::Reply } else { Draft::Investigation };
                o.set_draft(id()?, draft, &s("text"))?;
                self.changed(Some(s("id")));
                Value::Null
            }
            "resolve_conflict" => {
                o.resolve_conflict(id()?, &case_field(&s("field"))?, &s("value"), None)?;
                self.changed(Some(s("id")));
                Value::Null
            }
            "attach_file" => {
                let hash = o.attach_file(id()?, &self.file(&a["handle"])?)?;
                self.changed(Some(s("id")));
                json!(hash)
            }
            "due_list" => to_json(o.due(township().as_deref())?),
            "statistics" => {
                let period = crate::commands::reports::period(&s("from"), &s("to"))?;
                to_json(o.statistics(period, township().as_deref())?)
            }
            "year_report" => {
                let year = a["year"].as_i64().and_then(|y| i32::try_from(y).ok()).unwrap();
                to_json(o.year_report(year, township().as_deref())?)
            }
            "export_ledger" => {
                let path = self.file(&a["handle"])?;
                let mut progress = Vec::new();
                let n = o.export_xlsx(&path, &mut |p| progress.push((p.done, p.total)))?;
                self.progress(ProgressTask::Export, progress);
                json!(n)
            }
            "export_statistics" => {
                let period = crate::commands::reports::period(&s("from"), &s("to"))?;
                let path = self.file(&a["handle"])?;
                o.statistics_xlsx(period, township().as_deref(), &path)?;
                Value::Null
            }
            "import_ledger" => {
                let path = self.file(&a["handle"])?;
                let flag = |key: &str| a[key].as_bool().unwrap_or_default();
                let options = ImportOptions {
                    skip_invalid: flag("skip_invalid"),
                    dry_run: flag("dry_run"),
                    join_by_number: flag("join_by_number"),
                    demo: false,
                };
                let mut progress = Vec::new();
                let report =
                    o.import_file(&path, options, &mut |p| progress.push((p.done, p.total)))?;
                self.progress(ProgressTask::Import, progress);
                if !options.dry_run {
                    self.changed(None);
                }
                to_json(report)
            }
            "render_document" => {
                let kind = DocumentKind::parse(&s("kind")).ok_or_else(|| {
                    CommandError::new("invalid_input", format!("文书类别「{}」无效", s("kind")))
                })?;
                let issue = a["issue"].as_bool().unwrap_or_default();
                let html = o.document(id()?, &kind, issue, None)?;
                if issue {
                    self.changed(Some(s("id")));
                }
                json!(html)
            }
            "work_records" => {
                let year = a["year"].as_i64().and_then(|y| i32::try_from(y).ok());
                to_json(o.work_records(Some(&s("kind")), year)?)
            }
            "work_totals" => {
                let year = a["year"].as_i64().and_then(|y| i32::try_from(y).ok()).unwrap();
                to_json(o.work_totals(year)?)
            }
            "screening_month" => to_json(o.screening_month(&s("month"))?),
            "duty_outlook" => {
                let days = a["days"].as_u64().and_then(|d| u32::try_from(d).ok()).unwrap_or(7);
                to_json(o.duty_outlook(a["office"].as_str(), days)?)
            }
            "add_work" => {
                let view = o.add_work(input(a, "input"))?;
                self.changed(None);
                to_json(view)
            }
            "change_work" => {
                let view = o.change_work(&s("id"), input(a, "change"), a["handler"].as_str())?;
                self.changed(None);
                to_json(view)
            }
            other => panic!("the recorder does not drive `{other}`: add it to Shell::answer"),
        })
    }

    fn progress(&mut self, task: ProgressTask, steps: Vec<(usize, usize)>) {
        for (done, total) in steps {
            self.events
                .push(json!({"event": "progress", "payload": ProgressEvent { task, done, total }}));
        }
    }

    fn app_state(&self) -> crate::commands::setup::AppState {
        let running = crate::state::Running { office: self.office.clone(), sync: None };
        crate::commands::setup::read_app_state(Some(&running), DATA_DIR.to_owned())
    }
}

/// The cases the scenario names, by id.
struct Cases {
    /// The newest registered case, which the page test accepts.
    newest_registered: String,
    /// 洞口-…-A-0003: in progress, a reply drafted, a photo attached, its category set on two
    /// devices at once.
    conflicted: String,
    /// The value the page test adopts for the conflicted category (the first offered).
    adopted: String,
    /// 洞口-…-A-0004: six villagers through two representatives, 涉法涉诉, replied.
    collective: String,
    /// 洞口-…-A-0005: reassigned away from this office (read-only here).
    handed_over: String,
    /// This month's screening list of the office, with one dispute (the page test adds a
    /// second and files the list).
    screening: String,
}

/// Registers a case from the form's fields as the UI sends them; `handler` records it.
fn register(office: &Office, handler: &str, form: Value) -> CaseId {
    let mut input =
        json!({"channel": "letter", "source": "direct", "sector": "land", "purpose": "appeal"});
    let Value::Object(form) = form else { panic!("a form is an object") };
    for (key, value) in form {
        input[key] = value;
    }
    let new: NewCase = serde_json::from_value(input).unwrap();
    office.register(&new, Some(handler)).unwrap()
}

fn person(name: &str) -> Value {
    json!({"name": name, "phone": "13807391234"})
}

fn representative(name: &str) -> Value {
    json!({"name": name, "phone": "13807391234", "representative": true})
}

fn act(office: &Office, id: CaseId, action: ActionKind, change: impl FnOnce(&mut ActionInput)) {
    let mut input = ActionInput { action: Some(action), ..ActionInput::default() };
    change(&mut input);
    office.act(id, &input).unwrap();
}

/// The office the page test sees: the demo data set, and five cases registered by hand (their
/// numbers 洞口-<year>-A-0001 to -0005) in the states the page test visits.
fn seed(office: &Office, dir: &Path) -> Cases {
    office.seed_demo(&mut |_| {}).unwrap();

    // 0001: registered yesterday, a repeat visit of 张三丰 (the register form's hint).
    register(
        office,
        "李娟",
        json!({"received": day(-1), "channel": "visit", "category": "illegal_occupation",
            "village": "大屋村", "subject": "同组村民张某", "persons": 2,
            "request": "邻居在承包地上违法建房，请求依法查处",
            "petitioners": [person("张三丰"), person("张桂兰")]}),
    );
    // 0002: registered 40 days ago and never decided: overdue.
    register(
        office,
        "李娟",
        json!({"received": day(-40), "source": "city_bureau", "category": "illegal_transfer",
            "township": "高沙镇", "village": "金塘村",
            "request": "村组干部私下出租集体土地建砖厂，请求查处并公开租金去向",
            "petitioners": [person("王德明")]}),
    );
    // 0003: in 黄桥镇, investigated by the bureau itself, a reply drafted, a photo attached, and
    // its category set here and on the bureau's other computer at the same time.
    let conflicted = register(
        office,
        "刘洪",
        json!({"received": day(-20), "channel": "phone", "source": "county_department",
            "category": "illegal_occupation", "township": "黄桥镇", "village": "白竹村",
            "request": "白竹村有人占用基本农田建设厂房，请求制止并拆除",
            "petitioners": [person("刘光辉")]}),
    );
    act(office, conflicted, ActionKind::Accept, |_| {});
    act(office, conflicted, ActionKind::Investigate, |i| {
        i.text = Some("已到现场核实，厂房约300平方米，已下达停工通知。".to_owned());
    });
    office
        .set_draft(
            conflicted,
            Draft::Reply,
            "经调查核实，你反映的白竹村占用基本农田建设厂房问题属实。",
        )
        .unwrap();
    let photo = dir.join("现场照片.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 photo of the site").unwrap();
    office.attach_file(conflicted, &photo).unwrap();
    let other_dir = dir.join("other-device");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = bureau(&other_dir, OTHER_DEVICE);
    other.merge_case_from(office, conflicted).unwrap();
    other
        .set_field(conflicted, &CaseField::parse("category").unwrap(), "illegal_transfer")
        .unwrap();
    office.set_field(conflicted, &CaseField::parse("category").unwrap(), "dispute").unwrap();
    office.merge_case_from(&other, conflicted).unwrap();

    // 0004: six villagers through two representatives (信访工作条例 §20), a matter already before
    // a court; answered after a mediation.
    let replied = register(
        office,
        "李娟",
        json!({"received": day(-70), "channel": "visit", "category": "dispute",
            "township": "竹市镇", "village": "岩门村", "persons": 6, "litigation": true,
            "request": "与邻村山林界址不清，多次协商未果，请求国土所现场勘界调处",
            "petitioners": [representative("陈玉梅"), representative("陈长生")]}),
    );
    act(office, replied, ActionKind::Accept, |_| {});
    act(office, replied, ActionKind::Mediate, |i| {
        i.text = Some("组织双方现场调解，初步达成一致。".to_owned());
    });
    act(office, replied, ActionKind::Reply, |i| {
        i.text = Some("经现场勘界，界址以1998年林权证附图为准，已告知双方。".to_owned());
        i.outcome = ledger_office::Outcome::parse("explained");
    });

    // 0005: assigned to 山门镇, then reassigned away from this office by sync: read-only here.
    let handed_over = register(
        office,
        "王敏",
        json!({"received": day(-25), "channel": "online", "source": "online_opinion",
            "sector": "mineral", "category": "mining_right", "township": "山门镇",
            "village": "杉木村", "request": "河道采砂影响农田灌溉，请求查处",
            "petitioners": [person("肖建国")]}),
    );
    act(office, handed_over, ActionKind::Accept, |_| {});
    office.store().set_handed_over(handed_over, true).unwrap();

    let page = office.list(&ledger_office::CaseQuery { limit: Some(20), ..Default::default() });
    let newest_registered = page
        .unwrap()
        .rows
        .into_iter()
        .find(|r| r.status == ledger_office::Status::Registered)
        .map(|r| r.id.to_string())
        .unwrap();
    let adopted = office.view(conflicted).unwrap().conflicts[0].values[0].clone();
    // 工作记录: a consultation and the 4.22 campaign earlier this year, and this month's
    // screening list with one dispute.
    let year = &TODAY[..4];
    let work = |kind: &str, fields: Value| {
        let input = json!({"kind": kind, "fields": fields, "handler": "刘洪"});
        office.add_work(serde_json::from_value(input).unwrap()).unwrap()
    };
    work(
        "consult",
        json!({"date": format!("{year}-03-02"), "channel": "phone", "topic": "征地补偿标准",
            "answer": "按省定区片综合地价补偿，已告知查询渠道", "asker": "王先生"}),
    );
    work(
        "outreach",
        json!({"date": format!("{year}-04-22"), "occasion": "earth_day", "place": "县城人民广场",
            "topic": "节约集约利用土地", "leaflets": 16000, "slogans": 1600, "mass_meetings": 5,
            "forums": 15}),
    );
    let screening = work("screening", json!({"month": &TODAY[..7]})).id;
    // 值班: today and the day after tomorrow (tomorrow and the rest of the week are gaps).
    for (offset, staff) in [(0, "刘洪"), (2, "李娟")] {
        work(
            "duty",
            json!({"date": day(offset), "staff": staff, "shift": "all_day",
            "phone": "0739-7221234"}),
        );
    }
    // 领导接待日 this month, with the case registered for its one visitor (0001).
    let reception =
        work("reception", json!({"date": day(-1), "leader": "王局长", "place": "局信访接待室"})).id;
    let visitor = json!({"op": "item", "fields": {"case": format!("洞口-{year}-A-0001"),
        "matter": "邻居违法建房", "persons": 2, "outcome": "registered"}});
    office.change_work(&reception, serde_json::from_value(visitor).unwrap(), Some("刘洪")).unwrap();
    // 领导包案: one settled, one still being resolved.
    work(
        "leader",
        json!({"scope": "case", "leader": "王局长", "matter": "洞口-2026-A-0002",
            "start": format!("{year}-02-10"), "settlement": "settled",
            "result": "双方达成调解协议，信访人息诉"}),
    );
    work(
        "leader",
        json!({"scope": "area", "leader": "赵副局长", "matter": "黄桥镇、石江镇",
            "start": format!("{year}-06-01")}),
    );
    let dispute = json!({"op": "item", "fields": {"parties": "白竹村三组与四组", "place": "白竹村",
        "issue": "山林界址争议，双方多次发生口角", "risk": "medium", "measures": "村委会调解，所长包案",
        "owner": "刘洪", "status": "resolving"}});
    office.change_work(&screening, serde_json::from_value(dispute).unwrap(), Some("刘洪")).unwrap();
    Cases {
        newest_registered,
        conflicted: conflicted.to_string(),
        adopted,
        collective: replied.to_string(),
        handed_over: handed_over.to_string(),
        screening,
    }
}

/// The ledger file the page test imports: two bad rows (3 and 7), and row 5 sharing its
/// number with a case here without a case id to prove it is the same matter.
fn ledger_file(dir: &Path) -> PathBuf {
    let header = "案件编号,登记日期,信访形式,信访来源,信访人,证件号码,联系电话,住址,人数,所属乡镇,涉及领域,问题类别,诉求内容,是否越级,是否重复,办理状态,答复日期,办结日期,满意度,信访目的";
    let row = |number: &str, date: &str, name: &str, id: &str, township: &str| {
        format!(
            "{number},{date},来信,市信访局交办,{name},{id},13807390000,{township}新田村,1,{township},涉土,违法占地建设,反映违法占地建房，请求查处。,否,否,登记,,,,检举控告"
        )
    };
    let rows = [
        row("", "2024-03-02", "曾春花", "", "黄桥镇"),
        row("", "2024-13-01", "邓光辉", "", "高沙镇"),
        row("", "2024-03-05", "谢玉梅", "", "竹市镇"),
        row("演示-2025-003", "2024-03-06", "尹长生", "", "石江镇"),
        row("", "2024-03-08", "罗小红", "", "山门镇"),
        row("", "2024-03-09", "周海波", "430525198110152450", "花园镇"),
    ];
    let path = dir.join("ledger-with-bad-rows.csv");
    std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    path
}

/// Every read the UI makes on the pages the page test visits, with the arguments it sends.
fn reads(cases: &Cases) -> Vec<(&'static str, Value)> {
    let year: i32 = TODAY[..4].parse().unwrap();
    let month = &TODAY[..7];
    let mut reads = vec![
        ("app_state", json!({})),
        ("vocabularies", json!({})),
        ("township_choices", json!({})),
        ("rules_view", json!({})),
        ("list_cases", json!({"query": {"limit": 20, "offset": 0}})),
        ("list_cases", json!({"query": {"limit": 20, "offset": 0, "text": "张"}})),
        ("due_list", json!({})),
        ("similar_cases", json!({"name": "张三丰", "village": ""})),
        ("similar_cases", json!({"name": "张三丰", "village": "大屋村"})),
        ("county_repeats", json!({"id_numbers": ["11010519491231002X"]})),
        ("year_report", json!({"year": year})),
        ("year_report", json!({"year": year - 1})),
    ];
    for n in [3, 4, 5] {
        let text = format!("洞口-{year}-A-000{n}");
        reads.push(("list_cases", json!({"query": {"limit": 20, "offset": 0, "text": text}})));
    }
    for kind in ["consult", "outreach"] {
        reads.push(("work_records", json!({"kind": kind, "year": year})));
    }
    reads.push(("work_totals", json!({"year": year})));
    reads.push(("screening_month", json!({"month": month})));
    reads.push(("work_records", json!({"kind": "leader", "year": year})));
    reads.push(("work_records", json!({"kind": "reception", "year": year})));
    reads.push(("duty_outlook", json!({"office": null, "days": 7})));
    for id in [&cases.newest_registered, &cases.conflicted, &cases.collective, &cases.handed_over] {
        reads.push(("case_detail", json!({"id": id})));
    }
    reads.push((
        "render_document",
        json!({"id": cases.conflicted, "kind": "acceptance_notice", "issue": false}),
    ));
    // 统计: this month and the months the page test picks (January to March), each beside the
    // same months a year earlier.
    let last_day = |y: i32, m: u32| {
        let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1).unwrap() - chrono::Duration::days(1)
    };
    let this_month: u32 = month[5..].parse().unwrap();
    for y in [year, year - 1] {
        let mut periods = vec![(1, 3), (1, 1), (2, 2), (3, 3)];
        periods.push((this_month, this_month));
        for (from, to) in periods {
            let from = format!("{y}-{from:02}-01");
            let to = last_day(y, to).to_string();
            reads.push(("statistics", json!({"from": from, "to": to})));
        }
    }
    reads
}

/// A case as the register form sends it.
fn form(over: Value) -> Value {
    let mut input = json!({
        "received": day(-3), "channel": "visit", "source": "direct", "sector": "land",
        "category": "illegal_occupation", "purpose": "report", "township": "黄桥镇",
        "village": "大屋村", "request": "邻居在承包地上违法建房，请求依法查处",
        "petitioners": [{"name": "张三丰", "id_number": "11010519491231002X", "phone": "13812345678"}],
    });
    let Value::Object(over) = over else { panic!("a form is an object") };
    for (key, value) in over {
        input[key] = value;
    }
    json!({"input": input, "handler": "刘洪"})
}

/// Calls the office refuses, whatever the state: each answer is an error.
fn refused() -> Vec<(&'static str, Value)> {
    vec![
        (
            "register_case",
            form(
                json!({"channel": "", "petitioners": [{"name": "张三丰", "id_number": "110105194912310021"}]}),
            ),
        ),
        ("register_case", form(json!({"request": "", "received": day(1)}))),
        ("set_rule", json!({"item": "county.review_body", "value": " ", "handler": "李娟"})),
        ("statistics", json!({"from": "2026-06-01", "to": "2026-03-01"})),
    ]
}

/// What the page test changes, in its order: each with the state it leads to.
fn changes(cases: &Cases) -> Vec<(&'static str, Value, &'static str)> {
    let handler = "李娟";
    let (fresh, c3) = (&cases.newest_registered, &cases.conflicted);
    let year: i32 = TODAY[..4].parse().unwrap();
    vec![
        (
            "act",
            json!({"id": fresh, "input": {"action": "accept", "text": "已当场告知信访人受理", "track": "petition", "handler": handler}}),
            "accepted",
        ),
        (
            "export_statistics",
            json!({"from": format!("{year}-01-01"), "to": format!("{year}-03-31"), "handle": PICK_SAVE_STATISTICS}),
            "accepted",
        ),
        ("attach_file", json!({"id": c3, "handle": PICK_ATTACHMENT}), "attached"),
        (
            "resolve_conflict",
            json!({"id": c3, "field": "category", "value": cases.adopted}),
            "settled",
        ),
        (
            "act",
            json!({"id": c3, "input": {"action": "reply", "text": "经调查核实，你反映的白竹村占用基本农田建设厂房问题属实。", "outcome": "supported", "handler": handler}}),
            "replied",
        ),
        (
            "act",
            json!({"id": c3, "input": {"action": "deliver", "target": "张三丰", "text": "直接送达", "date": TODAY, "handler": handler}}),
            "delivered",
        ),
        (
            "act",
            json!({"id": c3, "input": {"action": "review", "handler": handler}}),
            "under_review",
        ),
        (
            "act",
            json!({"id": c3, "input": {"action": "review_opinion", "target": "洞口县人民政府", "review_outcome": "upheld", "handler": handler}}),
            "reviewed",
        ),
        (
            "act",
            json!({"id": c3, "input": {"action": "supervise", "target": "执法监察大队", "due": SUPERVISE_DUE, "text": "请于12月4日前报告整改情况", "handler": handler}}),
            "supervised",
        ),
        ("import_ledger", import_args(false, true, false), "supervised"),
        ("import_ledger", import_args(true, true, false), "supervised"),
        ("import_ledger", import_args(true, true, true), "supervised"),
        ("import_ledger", import_args(true, false, true), "imported"),
        ("export_ledger", json!({"handle": PICK_SAVE_LEDGER}), "imported"),
        (
            "set_rule",
            json!({"item": "county.review_body", "value": "洞口县人民政府", "from": null, "note": null, "handler": handler}),
            "rules_set",
        ),
        ("remove_demo", json!({"handler": null}), "demo_removed"),
        // 工作记录: a consultation typed with an empty answer (refused by field), then right;
        // a second dispute on this month's list; the list filed.
        (
            "add_work",
            json!({"input": {"kind": "consult", "fields": {"date": TODAY, "channel": "counter",
                "topic": "宅基地审批需要哪些材料"}, "handler": handler}}),
            "demo_removed",
        ),
        (
            "add_work",
            json!({"input": {"kind": "consult", "fields": {"date": TODAY, "channel": "counter",
                "topic": "宅基地审批需要哪些材料", "answer": "已告知需提交申请书、户口簿和村组意见"},
                "handler": handler}}),
            "consulted",
        ),
        (
            "change_work",
            json!({"id": cases.screening, "change": {"op": "item", "fields": {
                "parties": "黄桥镇大屋村张某与李某", "place": "大屋村", "issue": "宅基地界址争议",
                "risk": "high", "measures": "镇村联合调处", "owner": "李娟", "status": "watching"}},
                "handler": handler}),
            "disputed",
        ),
        (
            "change_work",
            json!({"id": cases.screening, "change": {"op": "file"}, "handler": handler}),
            "screening_filed",
        ),
        // What the page test does not do, for `npm run dev:mock`: a case registered by hand.
        ("register_case", form(json!({})), "registered"),
    ]
}

fn import_args(skip_invalid: bool, dry_run: bool, join_by_number: bool) -> Value {
    json!({"handle": PICK_LEDGER, "skip_invalid": skip_invalid, "dry_run": dry_run, "join_by_number": join_by_number})
}

/// One recorded call.
fn entry(command: &str, args: &Value, answer: Answer) -> serde_json::Map<String, Value> {
    let mut e = serde_json::Map::new();
    e.insert("command".to_owned(), json!(command));
    e.insert("args".to_owned(), args.clone());
    match answer {
        Ok(v) => e.insert("ok".to_owned(), v),
        Err(v) => e.insert("error".to_owned(), v),
    };
    e
}

/// The states of one office, each with its calls: reads whose answer changed, then the change
/// that leaves it.
fn record_states(
    shell: &mut Shell,
    first: &str,
    reads: &[(&str, Value)],
    changes: &[(&str, Value, &str)],
) -> Vec<(String, Vec<Value>)> {
    let mut states: Vec<(String, Vec<Value>)> = Vec::new();
    let mut known: BTreeMap<String, Answer> = BTreeMap::new();
    let mut state = first.to_owned();
    let mut calls = Vec::new();
    let mut ask_reads = |shell: &mut Shell, calls: &mut Vec<Value>| {
        for (command, args) in reads {
            let answer = shell.call(command, args);
            assert!(
                shell.events.is_empty(),
                "{command} is not a read: it emitted {:?}",
                shell.events
            );
            let key = format!("{command} {args}");
            if known.get(&key) != Some(&answer) {
                known.insert(key, answer.clone());
                calls.push(Value::Object(entry(command, args, answer)));
            }
        }
    };
    ask_reads(shell, &mut calls);
    if first == "demo" {
        for (command, args) in refused() {
            let answer = shell.call(command, &args);
            assert!(answer.is_err(), "{command} {args} was not refused");
            calls.push(Value::Object(entry(command, &args, answer)));
        }
    }
    for (command, args, next) in changes {
        let answer = shell.call(command, args);
        // Only a change the page test expects refused (the import with bad rows) stays put.
        assert!(answer.is_ok() || *next == state, "{command} {args} failed: {answer:?}");
        let mut e = entry(command, args, answer);
        if !shell.events.is_empty() {
            e.insert("events".to_owned(), json!(shell.events));
        }
        if *next != state {
            e.insert("then".to_owned(), json!(next));
            calls.push(Value::Object(e));
            states.push((
                std::mem::replace(&mut state, (*next).to_owned()),
                std::mem::take(&mut calls),
            ));
            ask_reads(shell, &mut calls);
        } else {
            calls.push(Value::Object(e));
        }
    }
    states.push((state, calls));
    states
}

/// The recording, as the mock reads it: one call a line, so a change shows as a small diff.
fn recording() -> String {
    let dir = tempfile::tempdir().unwrap();
    let (mut shell, cases) = demo(dir.path());
    let mut states = record_states(&mut shell, "demo", &reads(&cases), &changes(&cases));
    // A computer just enrolled, or set up offline: an empty office (`shell.json` leads there).
    let fresh_reads = [
        ("app_state", json!({})),
        ("vocabularies", json!({})),
        ("township_choices", json!({})),
        ("rules_view", json!({})),
        ("list_cases", json!({"query": {"limit": 20, "offset": 0}})),
    ];
    let empty = bureau(&dir.path().join("empty"), ACTOR);
    enrolled(&empty);
    for (name, office) in [("fresh", empty), ("fresh-township", township(&dir.path().join("hq")))] {
        let mut shell =
            Shell { office: Arc::new(office), files: BTreeMap::new(), events: Vec::new() };
        states.extend(record_states(&mut shell, name, &fresh_reads, &[]));
    }

    let mut out = format!("{{\n\"today\": \"{TODAY}\",\n\"now\": {},\n\"states\": [\n", now_ms());
    let mut parent: Option<String> = None;
    for (i, (name, calls)) in states.iter().enumerate() {
        // Each office's first state stands on its own; the others on the one before.
        let parent_of = if name.starts_with("fresh") { None } else { parent.clone() };
        out.push_str(&format!(
            "{{\"name\": {}, \"parent\": {}, \"calls\": [\n",
            json!(name),
            json!(parent_of)
        ));
        let lines: Vec<String> = calls.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
        out.push_str(&lines.join(",\n"));
        out.push_str(if i + 1 == states.len() { "\n]}\n" } else { "\n]},\n" });
        parent = Some(name.clone());
    }
    out.push_str("]}\n");
    out
}

/// The demo bureau the page test works with, before its changes, and its cases.
fn demo(dir: &Path) -> (Shell, Cases) {
    let office = Arc::new(bureau(&dir.join("office"), ACTOR));
    enrolled(&office);
    let cases = seed(&office, dir);
    let files_dir = dir.join("files");
    std::fs::create_dir_all(&files_dir).unwrap();
    let photo = files_dir.join("现场照片2.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 another photo").unwrap();
    let files = BTreeMap::from([
        (PICK_LEDGER, ledger_file(&files_dir)),
        (PICK_ATTACHMENT, photo),
        (PICK_SAVE_LEDGER, files_dir.join("信访台账.xlsx")),
        (PICK_SAVE_STATISTICS, files_dir.join("信访统计表.xlsx")),
    ]);
    (Shell { office, files, events: Vec::new() }, cases)
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FIXTURES).join("recorded.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(shell: &mut Shell, command: &str, args: &Value) -> Value {
        let answer = shell.call(command, args);
        answer.unwrap_or_else(|e| panic!("{command} {args}: {e}"))
    }

    fn err(shell: &mut Shell, command: &str, args: &Value) -> Value {
        let answer = shell.call(command, args);
        answer.expect_err(&format!("{command} {args} was not refused"))
    }

    fn sum(counts: &Value) -> u64 {
        counts.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum()
    }

    // What the UI's mock used to compute for itself, and its unit tests asserted of it
    // (ui/tests/unit/mock.test.ts, statisticsMock.test.ts), asserted of the real office.

    #[test]
    fn register_reports_every_bad_field_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let (mut shell, _) = demo(dir.path());
        let bad = form(
            json!({"channel": "", "petitioners": [{"name": "张三丰", "id_number": "110105194912310021"}]}),
        );
        let e = err(&mut shell, "register_case", &bad);
        assert_eq!(e["code"], "invalid_input");
        let fields: Vec<&str> =
            e["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["petitioners[0].id_number", "channel"], "{e}");
    }

    #[test]
    fn a_registered_case_moves_by_its_actions() {
        let dir = tempfile::tempdir().unwrap();
        let (mut shell, _) = demo(dir.path());
        let id = ok(&mut shell, "register_case", &form(json!({})));
        let view = ok(&mut shell, "case_detail", &json!({"id": id}));
        assert_eq!(view["status"], "registered");
        assert!(view["allowed_actions"].as_array().unwrap().contains(&json!("accept")));
        let accept = json!({"id": id, "input": {"action": "accept"}});
        assert_eq!(ok(&mut shell, "act", &accept), "accepted");
        let e = err(&mut shell, "act", &json!({"id": id, "input": {"action": "assign"}}));
        assert_eq!(e["fields"][0]["field"], "to", "{e}");
        let assign = json!({"id": id, "input": {"action": "assign", "target": "高沙镇"}});
        assert_eq!(ok(&mut shell, "act", &assign), "assigned");
        let view = ok(&mut shell, "case_detail", &json!({"id": id}));
        assert_eq!(view["case"]["jurisdiction"], "高沙镇");
        let actions: Vec<&str> = view["case"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["register", "accept", "assign"]);
    }

    #[test]
    fn the_ledger_pages_and_one_character_is_search_enough() {
        let dir = tempfile::tempdir().unwrap();
        let (mut shell, _) = demo(dir.path());
        let page = ok(&mut shell, "list_cases", &json!({"query": {"limit": 10, "offset": 0}}));
        assert_eq!(page["rows"].as_array().unwrap().len(), 10);
        let total = page["total"].as_u64().unwrap();
        assert!(total > 20, "{total}");
        let found = ok(&mut shell, "list_cases", &json!({"query": {"text": "张"}}));
        let hits = found["total"].as_u64().unwrap();
        assert!(hits > 0 && hits < total, "{hits} of {total}");
    }

    #[test]
    fn a_year_report_adds_up_and_a_month_range_is_the_sum_of_its_months() {
        let dir = tempfile::tempdir().unwrap();
        let (mut shell, _) = demo(dir.path());
        for year in [2025, 2026] {
            let report = ok(&mut shell, "year_report", &json!({"year": year}));
            let total = report["year"]["total"].as_u64().unwrap();
            assert!(total > 0, "{year}");
            assert_eq!(sum(&report["year"]["by_source"]), total);
            assert_eq!(sum(&report["year"]["by_category"]), total);
            let months = report["months"].as_array().unwrap();
            assert_eq!(months.iter().map(|m| m["total"].as_u64().unwrap()).sum::<u64>(), total);
            assert_eq!(report["year"]["rates"].as_object().unwrap().len(), 8);
            let range = json!({"from": format!("{year}-03-01"), "to": format!("{year}-05-31")});
            let range = ok(&mut shell, "statistics", &range);
            let three: u64 = months[2..5].iter().map(|m| m["total"].as_u64().unwrap()).sum();
            assert_eq!(range["total"].as_u64().unwrap(), three, "{year}");
            let period = json!({"from": format!("{year}-03-01"), "to": format!("{year}-05-31")});
            assert_eq!(range["period"], period);
        }
        let reversed =
            err(&mut shell, "statistics", &json!({"from": "2017-06-01", "to": "2017-03-01"}));
        assert_eq!(reversed["code"], "invalid_input");
        let bad =
            err(&mut shell, "statistics", &json!({"from": "2017-02-30x", "to": "2017-03-01"}));
        assert_eq!(bad["code"], "invalid_input");
    }

    #[test]
    fn the_bureau_keeps_the_county_rules_and_refuses_an_empty_reviewing_body() {
        let dir = tempfile::tempdir().unwrap();
        let (mut shell, _) = demo(dir.path());
        let before = ok(&mut shell, "rules_view", &json!({}));
        // Editable here; not yet received: the rules document exists once a rule is set.
        assert_eq!((&before["editable"], &before["received"]), (&json!(true), &json!(false)));
        let in_force: Vec<&Value> = before["policies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in_force"] == json!(true))
            .map(|p| &p["name"])
            .collect();
        assert_eq!(in_force, [&json!("信访工作条例（2022）")]);
        let e = err(&mut shell, "set_rule", &json!({"item": "county.review_body", "value": " "}));
        assert_eq!(e["code"], "invalid_input");
        assert!(e["message"].as_str().unwrap().contains("复查机关名称应为 1 至 60 个字"), "{e}");
        let set = json!({"item": "county.review_body", "value": "洞口县人民政府", "note": "洞政函〔2026〕1号"});
        let after = ok(&mut shell, "set_rule", &set);
        assert_eq!(after["county"]["review_body"], "洞口县人民政府");
        assert_eq!(after["received"], true);
        let entry = &after["entries"][0];
        assert_eq!(
            [&entry["item"], &entry["label"], &entry["note"], &entry["handler"]],
            [
                &json!("county.review_body"),
                &json!("县局设置·复查机关"),
                &json!("洞政函〔2026〕1号"),
                &json!("李娟")
            ]
        );
        let entries = ok(&mut shell, "rules_view", &json!({}))["entries"].as_array().unwrap().len();
        assert_eq!(entries, 1);
    }

    #[test]
    fn files_go_by_the_handles_the_dialogs_gave() {
        let dir = tempfile::tempdir().unwrap();
        let (mut shell, cases) = demo(dir.path());
        let id = &cases.conflicted;
        let hash = ok(&mut shell, "attach_file", &json!({"id": id, "handle": PICK_ATTACHMENT}));
        let view = ok(&mut shell, "case_detail", &json!({"id": id}));
        let names: Vec<&Value> = view["case"]["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["hash"] == hash)
            .map(|a| &a["name"])
            .collect();
        assert_eq!(names, [&json!("现场照片2.jpg")]);
        let e = err(&mut shell, "attach_file", &json!({"id": id, "handle": "/etc/passwd"}));
        assert_eq!(e["code"], "invalid_input");
        let plan = ok(&mut shell, "import_ledger", &import_args(true, true, false));
        assert_eq!(plan["dry_run"], true);
        let done = ok(&mut shell, "import_ledger", &import_args(true, false, false));
        assert_eq!(done["dry_run"], false);
        let exported = ok(&mut shell, "export_ledger", &json!({"handle": PICK_SAVE_LEDGER}));
        assert!(exported.as_u64().unwrap() > 0);
        let workbook = json!({"from": "2026-03-01", "to": "2026-05-31", "handle": PICK_SAVE_STATISTICS, "township": "黄桥镇"});
        assert_eq!(ok(&mut shell, "export_statistics", &workbook), Value::Null);
        assert!(shell.files[PICK_SAVE_STATISTICS].metadata().unwrap().len() > 0);
    }

    #[test]
    fn fixtures_are_what_the_office_answers() {
        crate::checked_in::assert_checked_in(
            &path(),
            &recording(),
            "UPDATE_FIXTURES",
            "cargo test -p ledger-desktop fixtures",
        );
    }
}
