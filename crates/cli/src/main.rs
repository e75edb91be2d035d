//! `ledger`: the office from a terminal. Every subcommand is a thin adapter over one
//! [`ledger_office::Office`] use case, so whatever the desktop app does can be scripted.
//!
//! Errors go to stderr in plain Chinese with a non-zero exit; `--verbose` adds the technical
//! cause. The data directory comes from `--data-dir`, else `LEDGER_DATA_DIR`, else the desktop
//! app's own directory. `LEDGER_NOW` (a date or RFC 3339 time) fixes the clock for scripts and
//! tests.

mod args;
mod help;
mod output;
mod reports;
mod work;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use clap::{CommandFactory, FromArgMatches};
use ledger_office::{
    ActionInput, ActionKind, CaseField, CaseId, CaseQuery, ClientError, Clock, CloseReason,
    DocumentKind, Enrollment, FolderImport, FollowUpMethod, HandlingTrack, HubAddress, HubLink,
    ImportOptions, NewCase, Office, OfficeConfig, OfficeError, Outcome, ReviewOutcome, Role,
    RuleInput, Satisfaction, Status, StoreError, Unlock, system_clock,
};

use args::{
    BundleCommand, CaseCommand, Cli, Command, HubCommand, RulesCommand, StaffCommand, TrustArgs,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The exit status of a process ended by SIGPIPE, as a shell reports it.
const CLOSED_PIPE_EXIT: i32 = 128 + 13;

/// `ledger case list --json | head`: once the reader is gone, stop quietly, as Unix tools do.
/// Rust ignores SIGPIPE, so `println!` panics on a closed pipe instead (and unsafe code, which
/// restoring the signal's default would take, is forbidden here).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout")
            && message.to_ascii_lowercase().contains("broken pipe")
        {
            std::process::exit(CLOSED_PIPE_EXIT);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let command = help::localized(Cli::command());
    let matches = command.clone().get_matches();
    help::answer_help_command(command, &matches);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LEDGER_LOG").unwrap_or_else(
            |_| tracing_subscriber::EnvFilter::new(if cli.verbose { "info" } else { "warn" }),
        ))
        .with_writer(std::io::stderr)
        .init();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("错误：{}", chinese_message(&err));
            if cli.verbose {
                for cause in err.chain().skip(1) {
                    eprintln!("  原因: {cause}");
                }
                eprintln!("  ({err:?})");
            }
            ExitCode::FAILURE
        }
    }
}

/// What to type to enroll, for messages that would otherwise point at the desktop's settings.
pub(crate) const ENROLL_HINT: &str = "请先运行 ledger enroll --hub <地址> --token <令牌>";

/// The first Chinese sentence in the error chain: office errors already speak Chinese, but
/// some of them name the desktop app's screens, which a terminal does not have.
fn chinese_message(err: &anyhow::Error) -> String {
    match err.downcast_ref::<OfficeError>() {
        Some(OfficeError::Store(StoreError::Missing(dir))) => format!(
            "数据目录 {} 中还没有台账：请先运行 ledger init 创建台账，或运行 ledger enroll --hub <地址> --token <令牌> 接入县局",
            dir.display()
        ),
        Some(OfficeError::Sync(e)) => sync_message(e),
        Some(OfficeError::Invalid(fields)) => fields
            .iter()
            .map(|f| match flag_of(&f.field) {
                Some("--handler") => format!("{f}（--handler；添加人员：ledger staff add 姓名）"),
                Some(flag) => format!("{f}（{flag}）"),
                None => f.to_string(),
            })
            .collect::<Vec<_>>()
            .join("；"),
        Some(office) => office.to_string(),
        None => err.to_string(),
    }
}

/// The option a person types for an input field the office names (its errors name fields,
/// never options; the terminal says which option to give).
fn flag_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "to" => "--to",
        "due" => "--due",
        "text" => "--text",
        "result" => "--result",
        "reason" => "--reason",
        "outcome" | "review_outcome" => "--outcome",
        "date" => "--date",
        "document" => "--document",
        "track" => "--track",
        "refers" => "--refers",
        "method" => "--method",
        "hub" => "--hub",
        "token" => "--token",
        "ca" => "--ca",
        "fingerprint" => "--ca-fingerprint",
        "code" => "--office",
        "townships" => "--township",
        "name" => "--name",
        "year" => "--year",
        "handler" => "--handler",
        "channel" => "--channel",
        "topic" => "--topic",
        "answer" => "--answer",
        "asker" => "--asker",
        "occasion" => "--occasion",
        "place" => "--place",
        "leaflets" => "--leaflets",
        "slogans" => "--slogans",
        "mass_meetings" => "--mass-meetings",
        "forums" => "--forums",
        "trainings" => "--trainings",
        "attendees" => "--attendees",
        "month" => "--month",
        "parties" => "--parties",
        "issue" => "--issue",
        "risk" => "--risk",
        "measures" => "--measures",
        "owner" => "--owner",
        "status" => "--status",
        "item" => "--item",
        "shift" => "--shift",
        "phone" => "--phone",
        "scope" => "--scope",
        "leader" => "--leader",
        "matter" => "--matter",
        "case" => "--case",
        "start" => "--start",
        "days" => "--days",
        _ => return None,
    })
}

/// [`ledger_office::sync_message`], saying what to type where the desktop says where to click.
fn sync_message(e: &ClientError) -> String {
    match e {
        ClientError::NotEnrolled => format!("本机尚未接入县局：{ENROLL_HINT}"),
        ClientError::SyncPositionDamaged(_) => {
            "本机的同步进度记录已损坏：台账数据不受影响，请运行 ledger sync --restart 从头重新同步"
                .to_owned()
        }
        other => ledger_office::sync_message(other),
    }
}

/// [`ledger_office::sync_error_text`] for a stored error code, worded for the terminal.
pub(crate) fn sync_error_text(code: &str) -> String {
    match code {
        "not_enrolled" => format!("本机尚未接入县局：{ENROLL_HINT}"),
        "sync_position_damaged" => {
            "本机的同步进度记录已损坏：请运行 ledger sync --restart 从头重新同步".to_owned()
        }
        "unauthorized" => "本机的同步凭据无效或已被停用：请向县局索取新的接入令牌，在新的数据目录中运行 ledger enroll 重新接入".to_owned(),
        other => ledger_office::sync_error_text(other).to_owned(),
    }
}

/// The desktop app's data directory, shared with the CLI.
fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("org.petitionledger.desktop")
}

fn clock() -> anyhow::Result<Clock> {
    let Ok(raw) = std::env::var("LEDGER_NOW") else { return Ok(system_clock()) };
    let ms = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw.trim()) {
        t.timestamp_millis()
    } else {
        let d: chrono::NaiveDate =
            raw.trim().parse().with_context(|| format!("LEDGER_NOW「{raw}」不是日期"))?;
        // 10:00 in Beijing.
        d.and_hms_opt(2, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(0)
    };
    Ok(Arc::new(move || ms))
}

/// Opens the office's encrypted store with the key `LEDGER_PASSPHRASE` or the keyring gives;
/// a store from before encryption is encrypted first, with progress.
fn open(dir: &Path) -> anyhow::Result<Office> {
    let mut announced = false;
    let opened = Office::open_unlocked(dir, &Unlock::from_env(), clock()?, &mut |done, total| {
        if !announced && done < total {
            eprintln!("正在加密台账（{} MB），请勿关闭…", total.div_ceil(1 << 20));
            announced = true;
        }
    })?;
    if announced {
        eprintln!("台账已加密");
    }
    show_recovery(opened.recovery.as_deref());
    refresh_index(&opened.office)?;
    Ok(opened.office)
}

/// Shows a recovery passphrase made just now, the one time it is shown.
fn show_recovery(recovery: Option<&str>) {
    if let Some(recovery) = recovery {
        eprintln!(
            "\n请抄写下面的恢复口令，交县局信息管理员保存。它只显示这一次；忘记口令、换电脑或用备份恢复时，凭它打开台账：\n\n    {recovery}\n"
        );
    }
}

/// Re-projects the ledger's index after the rules changed (an upgrade, or the county's rules
/// document), with progress.
fn refresh_index(office: &Office) -> anyhow::Result<()> {
    if !office.index_is_current()? {
        eprintln!("期限规则或节假日表有更新，正在重算台账中各案件的期限和统计数据…");
        let mut last = 0;
        office.refresh_index(&mut |done, total| {
            let percent = done * 100 / total.max(1);
            if percent >= last + 10 || done == total {
                last = percent;
                eprintln!("  {done}/{total}");
            }
        })?;
    }
    Ok(())
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let handler = cli.handler.as_deref();
    match &cli.command {
        Command::Init { office, name, role, township, staff } => {
            let role =
                Role::parse(role).ok_or_else(|| anyhow!("--role 应为 township 或 bureau"))?;
            let mut config = OfficeConfig::new(office, name, role);
            config.townships = township.clone();
            config.staff = staff.clone();
            let opened = Office::init_unlocked(&dir, config, &Unlock::from_env(), clock()?)?;
            show_recovery(opened.recovery.as_deref());
            let office = opened.office;
            eprintln!(
                "已在 {} 创建台账：{}（{}）",
                dir.display(),
                office.config().name,
                office.config().role.label()
            );
            println!("本机设备标识：{}（同步和排查问题时使用）", office.device_actor());
        }
        Command::Staff { command } => {
            let office = open(&dir)?;
            match command {
                StaffCommand::Add { name } => {
                    office.add_staff(name)?;
                }
                StaffCommand::Remove { name } => {
                    office.remove_staff(name)?;
                }
                StaffCommand::List => {
                    for s in &office.config().staff {
                        println!("{s}");
                    }
                }
            }
        }
        Command::Rules { command } => {
            let office = open(&dir)?;
            let input = match command {
                None | Some(RulesCommand::Show) => None,
                Some(RulesCommand::Set { item, value, from, note, handler }) => Some(RuleInput {
                    item: item.clone(),
                    value: value.clone(),
                    from: *from,
                    note: note.clone(),
                    handler: handler.clone(),
                }),
                Some(RulesCommand::Holidays { year, file, note, handler }) => {
                    // A year's schedule is a few dozen lines: a large file is not one, and is
                    // refused before it is read.
                    let size = std::fs::metadata(file)
                        .with_context(|| format!("无法读取节假日安排文件 {}", file.display()))?
                        .len();
                    if size > 64 * 1024 {
                        bail!(
                            "节假日安排文件 {} 有 {size} 字节，不像一年的放假安排（每行一天，至多 60 行）",
                            file.display()
                        );
                    }
                    let value = std::fs::read_to_string(file)
                        .with_context(|| format!("无法读取节假日安排文件 {}", file.display()))?;
                    Some(RuleInput {
                        item: format!("holidays.{year}"),
                        value,
                        from: None,
                        note: note.clone(),
                        handler: handler.clone(),
                    })
                }
            };
            let view = match input {
                Some(input) => {
                    office.set_rule(&input)?;
                    refresh_index(&office)?;
                    office.rules_view()?
                }
                None => office.rules_view()?,
            };
            output::rules(&view);
        }
        Command::Import { file, skip_invalid, dry_run, join_by_number } => {
            let office = open(&dir)?;
            let mut last = std::time::Instant::now();
            let mut progress = |p: ledger_office::Progress| {
                if last.elapsed().as_millis() >= 500 || p.done == p.total {
                    eprintln!("导入进度 {}%", p.done * 100 / p.total.max(1));
                    last = std::time::Instant::now();
                }
            };
            let options = ImportOptions {
                skip_invalid: *skip_invalid,
                dry_run: *dry_run,
                join_by_number: *join_by_number,
                demo: false,
            };
            if file.is_dir() {
                for done in office.import_folder(file, options, &mut progress)? {
                    match done {
                        FolderImport::Ledger(report) => output::import_report(&report),
                        FolderImport::Work(report) => output::work_import_report(&report),
                    }
                }
            } else if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("jsonl")) {
                output::work_import_report(&office.import_work_file(file, *dry_run)?);
            } else {
                output::import_report(&office.import_file(file, options, &mut progress)?);
            }
        }
        Command::Export { csv, xlsx } => reports::export(&dir, csv.as_deref(), xlsx.as_deref())?,
        Command::Case { command } => case_command(&dir, command, handler)?,
        Command::Consult { command } => work::consult(&open(&dir)?, command, handler)?,
        Command::Outreach { command } => work::outreach(&open(&dir)?, command, handler)?,
        Command::Screening { command } => work::screening(&open(&dir)?, command, handler)?,
        Command::Work { command } => work::work(&open(&dir)?, command, handler)?,
        Command::Duty { command } => work::duty(&open(&dir)?, command, handler)?,
        Command::Leader { command } => work::leader(&open(&dir)?, command, handler)?,
        Command::Reception { command } => work::reception(&open(&dir)?, command, handler)?,
        Command::Due { township, json } => {
            let office = open(&dir)?;
            let due = office.due(township.as_deref())?;
            output::due(&due, *json)?;
        }
        Command::Report { year, month, from, to, township, format, out } => {
            let period = reports::period(*year, month.as_deref(), *from, *to)?;
            reports::report(&open(&dir)?, period, township.as_deref(), *format, out.as_deref())?;
        }
        Command::Doc { id, kind, issue, out } => {
            reports::document(&open(&dir)?, id, kind, *issue, handler, out.as_deref())?;
        }
        Command::Backup { out } => {
            let office = open(&dir)?;
            match office.backup(out)? {
                Some(keys) => eprintln!(
                    "已备份到 {}（已加密），密钥文件 {}：两个文件须一起保存，另一台电脑上凭恢复口令打开",
                    out.display(),
                    keys.display()
                ),
                None => eprintln!("已备份到 {}", out.display()),
            }
        }
        Command::Check { deep } => {
            let checked = open(&dir)?.check(*deep)?;
            let (cases, pending) = (checked.cases, checked.pending);
            if !checked.intact() {
                bail!(
                    "台账文件已损坏：{}；请用最近的备份恢复（ledger restore 备份文件）",
                    checked.integrity
                );
            }
            if let Some(report) = &checked.deep {
                for p in &report.problems {
                    let case = p.case_id.map(|c| format!("案件 {c}：")).unwrap_or_default();
                    println!("{case}{}", p.problem);
                }
                if !report.problems.is_empty() {
                    bail!(
                        "深度检查发现 {} 处问题（已核对 {} 份文档、{} 条待上传更改）；可运行 ledger repair 以县局记录为准恢复",
                        report.problems.len(),
                        report.documents,
                        report.outbox
                    );
                }
                eprintln!(
                    "深度检查通过：{} 份文档均可读取，{} 条待上传更改均符合县局的校验规则",
                    report.documents, report.outbox
                );
            }
            eprintln!("台账文件完好：{cases} 件案件，{pending} 条更改待上传");
            println!("完好");
        }
        Command::Enroll { hub, token, staff, trust } => enroll(&dir, hub, token, staff, trust)?,
        Command::Hub { command: HubCommand::SetUrl { url, trust } } => {
            let office = open(&dir)?;
            let address = hub_address(url, trust);
            let link = runtime()?.block_on(office.set_hub(&address))?;
            eprintln!("已改用县局服务器 {}，接入凭据不变", url.trim());
            if link == HubLink::Plain {
                eprintln!("警告：{}", ledger_office::sync_error_text("plain_http"));
            }
        }
        Command::Sync { timeout, restart } => {
            if *restart {
                open(&dir)?.restart_sync()?;
                eprintln!("已清除本机的同步进度：这次同步从头核对县局的记录");
            }
            sync(&dir, *timeout)?
        }
        Command::Repair => {
            let office = Arc::new(open(&dir)?);
            let repaired = runtime()?.block_on(office.repair(None))?;
            output::repaired(&repaired);
        }
        Command::Bundle { command } => {
            let office = open(&dir)?;
            match command {
                BundleCommand::Export { out } => {
                    let n = office.export_bundle(out)?;
                    eprintln!("已把 {n} 条待上传的更改写入同步包 {}；请交县局导入", out.display());
                    let left = office.pending_changes()?.saturating_sub(n as u64);
                    if left > 0 {
                        eprintln!("另有 {left} 条更改放不进一个同步包，将随下一个同步包带走");
                    }
                }
                BundleCommand::Import { file } => {
                    let r = office.import_bundle(file)?;
                    eprintln!(
                        "已导入县局返回的同步包：县局确认 {} 条更改，收到 {} 条记录{}",
                        r.acknowledged,
                        r.records,
                        if r.refused > 0 {
                            format!("，{} 条被拒收（见 ledger status）", r.refused)
                        } else {
                            String::new()
                        }
                    );
                }
            }
        }
        Command::Rekey { keyring } => {
            let new = if *keyring {
                Unlock::Keyring
            } else {
                match std::env::var("LEDGER_NEW_PASSPHRASE") {
                    Ok(p) if !p.trim().is_empty() => Unlock::Passphrase(p),
                    _ => bail!(
                        "请用环境变量 LEDGER_NEW_PASSPHRASE 给出新口令（至少 8 个字符），或加 --keyring 把钥匙存入系统密钥环"
                    ),
                }
            };
            // Encrypts a store from before first, so there is a key to change.
            drop(open(&dir)?);
            let recovery = Office::rekey(&dir, &Unlock::from_env(), &new)?;
            eprintln!("已更换台账的钥匙；旧口令和旧恢复口令不再有效");
            show_recovery(recovery.as_deref());
        }
        Command::Status { json } => {
            let office = open(&dir)?;
            output::status(&office, *json)?;
        }
        Command::DemoSeed => {
            let report = open(&dir)?.seed_demo(&mut |_| {})?;
            eprintln!(
                "已导入演示数据 {} 件（已标记为演示数据，可在桌面程序的设置中清除）",
                report.cases
            );
        }
        Command::WriteLoop { count } => {
            let office = open(&dir)?;
            write_loop(&office, *count, handler)?;
        }
        Command::Restore { file } => {
            let actor = Office::restore_unlocked(&dir, file, &Unlock::from_env())?;
            eprintln!(
                "已从 {} 恢复台账；本机使用新的设备标识 {actor}，下次同步时会与县局核对",
                file.display()
            );
        }
    }
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn hub_address(url: &str, trust: &TrustArgs) -> HubAddress {
    HubAddress {
        url: url.to_owned(),
        ca_file: trust.ca.clone(),
        fingerprint: trust.ca_fingerprint.clone(),
        allow_plain: trust.allow_http,
        ..HubAddress::default()
    }
}

fn enroll(
    dir: &Path,
    hub: &str,
    token: &str,
    staff: &[String],
    trust: &TrustArgs,
) -> anyhow::Result<()> {
    let enrollment = Enrollment {
        hub: hub_address(hub, trust),
        token: token.to_owned(),
        staff: staff.to_vec(),
        // The hub lists this computer by its host name.
        device_name: String::new(),
        unlock: Some(Unlock::from_env()),
    };
    let opened = runtime()?.block_on(Office::enroll(dir, &enrollment, clock()?))?;
    show_recovery(opened.recovery.as_deref());
    let office = opened.office;
    if office.hub_link()? == Some(HubLink::Plain) {
        eprintln!("警告：{}", ledger_office::sync_error_text("plain_http"));
    }
    let config = office.config();
    eprintln!(
        "已接入县局 {hub}：{}（{}，设备 {}），管辖：{}",
        config.name,
        config.role.label(),
        config.device,
        if config.townships.is_empty() {
            "全县".to_owned()
        } else {
            config.townships.join("、")
        }
    );
    println!("{}", config.code);
    Ok(())
}

fn sync(dir: &Path, timeout: u64) -> anyhow::Result<()> {
    let office = Arc::new(open(dir)?);
    let r = runtime()?.block_on(office.sync_once(std::time::Duration::from_secs(timeout)))?;
    let pending = office.pending_changes()?;
    eprintln!(
        "同步完成：上传 {} 条更改，下载 {} 条记录（{} 次往返{}）；待上传 {} 条{}",
        r.uploaded,
        r.downloaded,
        r.rounds,
        if r.retries > 0 { format!("，重试 {} 次", r.retries) } else { String::new() },
        pending,
        if r.refused > 0 {
            format!("；{} 条被县局拒收，见 ledger status", r.refused)
        } else {
            String::new()
        }
    );
    println!("{} {}", r.uploaded, r.downloaded);
    // The county's rules may have come with the pass.
    refresh_index(&office)
}

/// Registers `count` cases, printing each id (flushed) only after the store reported it saved.
fn write_loop(office: &Office, count: u32, handler: Option<&str>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    for i in 0..count {
        let input: NewCase = serde_json::from_value(serde_json::json!({
            "received": office.today(),
            "channel": "来访",
            "source": "本局接收",
            "persons": 1 + i % 4,
            "sector": "涉土",
            "purpose": "检举控告",
            "category": "违法占地建设",
            "township": office.config().townships.first().cloned().unwrap_or_else(|| "黄桥镇".to_owned()),
            "request": format!("第{i}号：反映村民在基本农田上违法建房，请求依法查处。"),
            "petitioners": [{"name": format!("压力测试{i}")}],
        }))?;
        let id = office.register(&input, handler)?;
        writeln!(stdout, "{id} {i}")?;
        stdout.flush()?;
    }
    Ok(())
}

/// A case named by its id or its human number.
/// A coded flag (code or Chinese label) as given, or what it must be.
fn coded_flag<T>(
    value: &Option<String>,
    parse: fn(&str) -> Option<T>,
    what: &str,
    known: fn() -> String,
) -> anyhow::Result<Option<T>> {
    value.as_deref().map(|v| parse(v).ok_or_else(|| anyhow!("{what}应为：{}", known()))).transpose()
}

fn case_id(office: &Office, id: &str) -> anyhow::Result<CaseId> {
    if let Ok(id) = id.parse::<CaseId>() {
        return Ok(id);
    }
    office
        .find_by_number(id.trim())?
        .ok_or_else(|| anyhow!("找不到案件「{id}」：请用案件编号或 ledger case list 列出的标识"))
}

fn case_command(dir: &Path, command: &CaseCommand, handler: Option<&str>) -> anyhow::Result<()> {
    let office = open(dir)?;
    match command {
        CaseCommand::New { json } => {
            let mut text = String::new();
            if json.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(json)
                    .with_context(|| format!("无法读取 {}", json.display()))?;
            }
            let input: NewCase =
                serde_json::from_str(&text).map_err(|e| anyhow!("登记内容不是有效的 JSON：{e}"))?;
            let id = office.register(&input, handler)?;
            println!("{id}");
        }
        CaseCommand::List { status, township, query, overdue, limit, offset, json } => {
            let status = status
                .as_deref()
                .map(|s| {
                    Status::parse(s).ok_or_else(|| {
                        anyhow!("不认识状态「{s}」，应为：{}", Status::known_labels())
                    })
                })
                .transpose()?;
            let page = office.list(&CaseQuery {
                status,
                township: township.clone(),
                text: query.clone(),
                overdue: *overdue,
                limit: *limit,
                offset: offset.unwrap_or(0),
                ..Default::default()
            })?;
            output::case_list(&page, office.today(), *json)?;
        }
        CaseCommand::Show { id, json } => {
            let id = case_id(&office, id)?;
            let view = office.view(id)?;
            output::case_show(&view, *json)?;
        }
        CaseCommand::Act {
            id,
            action,
            to,
            due,
            text,
            result,
            reason,
            outcome,
            date,
            document,
            track,
            refers,
            method,
            unreachable,
        } => {
            let id = case_id(&office, id)?;
            let action = ActionKind::parse(action).ok_or_else(|| {
                anyhow!("不认识办理动作「{action}」，可用：accept, not_accept, forward, assign, reassign, investigate, extend, reply, deliver, review, supervise, supervise_report, follow_up, evaluate, close, void（或中文：{}）", ActionKind::known_labels())
            })?;
            let result =
                coded_flag(result, Satisfaction::parse, "评价结果", Satisfaction::known_labels)?;
            let reason =
                coded_flag(reason, CloseReason::parse, "办结原因", CloseReason::known_labels)?;
            // --outcome is the reply's 处理意见, or a reviewing body's conclusion.
            let review = matches!(action, ActionKind::ReviewOpinion | ActionKind::RecheckOpinion);
            let (review_outcome, outcome) = if review {
                (
                    coded_flag(outcome, ReviewOutcome::parse, "结论", ReviewOutcome::known_labels)?,
                    None,
                )
            } else {
                (None, coded_flag(outcome, Outcome::parse, "处理意见", Outcome::known_labels)?)
            };
            let document_kind =
                coded_flag(document, DocumentKind::parse, "文书类别", DocumentKind::known_labels)?;
            let track =
                coded_flag(track, HandlingTrack::parse, "办理程序", HandlingTrack::known_labels)?;
            let method = coded_flag(
                method,
                FollowUpMethod::parse,
                "回访方式",
                FollowUpMethod::known_labels,
            )?;
            let status = office.act(
                id,
                &ActionInput {
                    action: Some(action.clone()),
                    target: to.clone(),
                    due: *due,
                    text: text.clone(),
                    result,
                    reason,
                    outcome,
                    date: *date,
                    document_kind,
                    review_outcome,
                    track,
                    handler: handler.map(str::to_owned),
                    refers: refers.clone(),
                    method,
                    unreachable: *unreachable,
                },
            )?;
            eprintln!("已记录「{}」", action.label());
            println!("案件状态：{}", status.label());
        }
        CaseCommand::Attach { id, file } => {
            let id = case_id(&office, id)?;
            let hash = office.attach_file(id, file)?;
            let name =
                file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            eprintln!("已添加附件「{name}」；附件标识：");
            println!("{hash}");
        }
        CaseCommand::Set { id, field, value } => {
            let id = case_id(&office, id)?;
            let field = CaseField::parse(field).ok_or_else(|| {
                anyhow!("不认识字段「{field}」，可用：{}", CaseField::known_labels())
            })?;
            office.set_field(id, &field, value)?;
        }
        CaseCommand::Submit { id, json } => {
            let id = case_id(&office, id)?;
            let text = std::fs::read_to_string(json)
                .with_context(|| format!("无法读取 {}", json.display()))?;
            let input: ledger_office::SubmissionInput = serde_json::from_str(&text)
                .map_err(|e| anyhow!("信访件内容不是有效的 JSON：{e}"))?;
            println!("{}", office.add_submission(id, &input, handler)?);
        }
    }
    Ok(())
}
