//! `ledger-hub`: the county hub's server and its administration commands.
//!
//! `serve` runs the hub on its SQLite file, over TLS when it has a certificate (`tls init` makes
//! a county CA and one); `office ...` and `township ...` work on the same file directly (and take
//! effect on a running hub at once). Tokens are printed alone on the last line of stdout, hints
//! (the CA's fingerprint among them) go to stderr.

mod cli_text;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use ledger_domain::Role;
use ledger_hub::check::doc_kind_label;
use ledger_hub::config::LogFormat;
use ledger_hub::store::{DeviceRecord, OfficeRecord};
use ledger_hub::tls::TlsFiles;
use ledger_hub::{HubState, HubStore, PgHubStore, SqliteHubStore, auth, now_ms};

use cli_text::{LocalTime, pad};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 信访台账县局同步服务器：各单位的同步、单位与设备的管理、全县乡镇名录。
#[derive(Debug, Parser)]
#[command(name = "ledger-hub", version)]
struct Cli {
    /// 县局服务器的数据目录。
    #[arg(long, global = true, env = "LEDGER_HUB_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// 把县局数据放在 PostgreSQL 数据库中（postgres://用户@主机/库名，或 host=… dbname=…）；
    /// 不写则用数据目录里的 SQLite 文件。多个县局服务器进程可共用一个数据库（各自的数据目录里须放同一个 hub.key）。
    #[arg(long, global = true, env = "LEDGER_HUB_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// 配置文件（TOML，见软件包里的 /etc/ledger-hub/hub.toml）；命令行参数和 LEDGER_HUB_* 环境变量优先于它。
    #[arg(long, global = true, env = "LEDGER_HUB_CONFIG")]
    config: Option<PathBuf>,
    /// 日志格式：text（给人看）或 json（每行一个 JSON 对象，给日志采集程序）。
    #[arg(long, global = true, env = "LEDGER_HUB_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 运行县局服务器。
    Serve {
        /// 监听地址。
        #[arg(long, default_value = "127.0.0.1:8750")]
        listen: SocketAddr,
        /// 服务器证书链（PEM，服务器证书在前）；不填时使用 tls init 生成的证书。
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// 服务器私钥（PEM）。
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// 没有证书时也在非本机地址上以不加密的 HTTP 服务（不建议：身份证号等会明文传输）。
        #[arg(long)]
        allow_http: bool,
    },
    /// 加密连接（TLS）：县级根证书与服务器证书。
    Tls {
        #[command(subcommand)]
        command: TlsCommand,
    },
    /// 单位及其设备。
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// 全县乡镇名录：交办时可选的乡镇，随同步发给各单位。
    Township {
        #[command(subcommand)]
        command: TownshipCommand,
    },
    /// 同步包：没有网络的单位用 U 盘同步。
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// 数据自检：载入并读取每份文档；有问题时以状态 1 退出。
    Check {
        /// 隔离有问题的文档（停止使用，保留原始数据）。
        #[arg(long)]
        quarantine: bool,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
    /// 把县局数据库备份到一个新文件（服务运行中也可以）；签名钥匙 hub.key 不在其中，请另行保管。
    /// PostgreSQL 上的数据请用 pg_dump 备份（见 docs/operations.md）。
    Backup {
        /// 备份文件（不能已存在）。
        #[arg(long)]
        out: PathBuf,
    },
    /// 列出县局拒收的更改，最新的在前。
    Refused {
        /// 列出多少条。
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TlsCommand {
    /// 生成县级根证书（已有则沿用）和由它签发的服务器证书，输出根证书指纹。
    Init {
        /// 服务器的主机名（各单位填写的县局地址中的名称）。
        #[arg(long, default_value = "localhost")]
        name: String,
        /// 服务器的 IP 地址；可重复填写多个。
        #[arg(long)]
        ip: Vec<std::net::IpAddr>,
    },
    /// 输出县级根证书的指纹（各单位接入时核对）。
    Fingerprint,
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// 导入单位的同步包（与网络同步同样校验），并写出返回的同步包。
    Import {
        /// 单位交来的同步包。
        file: PathBuf,
        /// 返回的同步包写到哪里。
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum OfficeCommand {
    /// 添加单位，并输出其第一台设备的接入令牌。
    Add {
        /// 单位代码。
        #[arg(long)]
        code: String,
        /// 单位名称。
        #[arg(long)]
        name: String,
        /// 单位类别：bureau（县局）或 township（乡镇国土所）。
        #[arg(long)]
        role: String,
        /// 该单位管辖的乡镇；可重复填写多个。
        #[arg(long)]
        township: Vec<String>,
        /// 令牌有效天数。
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// 为单位的另一台设备输出接入令牌。
    Token {
        /// 单位代码。
        #[arg(long)]
        code: String,
        /// 令牌有效天数。
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// 列出单位和设备：上次同步、待上传的更改。
    List {
        /// 输出 JSON（供脚本使用）。
        #[arg(long)]
        json: bool,
    },
    /// 停用单位的全部设备，或其中一台。
    Revoke {
        /// 单位代码。
        #[arg(long)]
        code: String,
        /// 只停用这一台设备（设备标识）。
        #[arg(long)]
        device: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TownshipCommand {
    /// 设置全县乡镇名录（按给出的顺序，替换原有名录）。
    Set {
        /// 乡镇名称，按全县的顺序。
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// 列出全县乡镇及接入的国土所。
    List,
}

fn default_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("petition-ledger-hub")
}

/// Fills what the command line and the environment left unset from the configuration file.
fn apply_config(cli: &mut Cli, matches: &clap::ArgMatches) -> anyhow::Result<Option<String>> {
    let Some(path) = cli.config.clone() else { return Ok(None) };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("无法读取配置文件 {}", path.display()))?;
    let file = ledger_hub::config::parse(&text).with_context(|| path.display().to_string())?;
    cli.data_dir = cli.data_dir.take().or(file.data_dir);
    cli.database_url = cli.database_url.take().or(file.database_url);
    cli.log_format = cli.log_format.or(file.log_format);
    if let Command::Serve { listen, tls_cert, tls_key, allow_http } = &mut cli.command {
        let given = |id: &str| {
            matches.subcommand_matches("serve").and_then(|m| m.value_source(id))
                != Some(clap::parser::ValueSource::DefaultValue)
        };
        if let Some(addr) = file.listen.filter(|_| !given("listen")) {
            *listen = addr;
        }
        if tls_cert.is_none() && tls_key.is_none() {
            (*tls_cert, *tls_key) = (file.tls_cert, file.tls_key);
        }
        *allow_http = *allow_http || file.allow_http.unwrap_or(false);
    }
    Ok(file.log_level)
}

fn init_logs(format: LogFormat, level: Option<String>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        level.unwrap_or_else(|| format!("{}=info,tower_http=warn", env!("CARGO_CRATE_NAME"))).into()
    });
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
}

fn main() -> ExitCode {
    let matches = cli_text::localized(Cli::command()).get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let level = match apply_config(&mut cli, &matches) {
        Ok(level) => level,
        Err(e) => {
            eprintln!("错误：{e:#}");
            return ExitCode::FAILURE;
        }
    };
    init_logs(cli.log_format.unwrap_or_default(), level);
    let dir = cli.data_dir.clone().unwrap_or_else(default_dir);
    if let Some(url) = &cli.database_url {
        tracing::info!(database = %ledger_hub::config::redact(url), "hub records in PostgreSQL");
    }
    match run(&dir, cli.database_url.as_deref(), &cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn token_for(store: &dyn HubStore, office: &str, days: u32) -> anyhow::Result<String> {
    let token = auth::new_token()?;
    let expires = now_ms() + i64::from(days) * 86_400_000;
    store.add_token(office, &auth::hash_secret(&token), expires)?;
    Ok(token)
}

/// The hub's store: the PostgreSQL database the URL names, else the SQLite file in `dir`.
fn open_store(dir: &Path, database_url: Option<&str>) -> anyhow::Result<Arc<dyn HubStore>> {
    Ok(match database_url {
        Some(url) => {
            Arc::new(PgHubStore::open(url, dir).context("无法打开县局的 PostgreSQL 数据库")?)
        }
        None => Arc::new(
            SqliteHubStore::open(dir)
                .with_context(|| format!("无法打开县局数据目录 {}", dir.display()))?,
        ),
    })
}

fn run(dir: &Path, database_url: Option<&str>, command: &Command) -> anyhow::Result<()> {
    if let Command::Tls { command } = command {
        return tls(dir, command);
    }
    if let Command::Backup { out } = command {
        if database_url.is_some() {
            bail!(
                "县局数据在 PostgreSQL 中：请用 pg_dump 备份（见 docs/operations.md），并另行保管数据目录里的 hub.key"
            );
        }
        let store = SqliteHubStore::open(dir)
            .with_context(|| format!("无法打开县局数据目录 {}", dir.display()))?;
        store.backup(out).context("备份失败")?;
        eprintln!(
            "已备份到 {}。签名钥匙 {} 不在备份中，请另行妥善保管。",
            out.display(),
            dir.join(ledger_hub::sqlite::KEY_FILE).display()
        );
        return Ok(());
    }
    let shared = open_store(dir, database_url)?;
    let store = shared.as_ref();
    match command {
        Command::Tls { .. } | Command::Backup { .. } => Ok(()),
        Command::Serve { listen, tls_cert, tls_key, allow_http } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
                _ => {
                    let files = TlsFiles::under(dir);
                    files.exist().then(|| (files.chain(), files.key()))
                }
            };
            serve(shared.clone(), *listen, tls, *allow_http)
        }
        Command::Office { command } => office(dir, store, command),
        Command::Township { command } => township(store, command),
        Command::Bundle { command: BundleCommand::Import { file, out } } => {
            bundle_import(shared.clone(), file, out)
        }
        Command::Check { quarantine, json } => check(store, *quarantine, *json),
        Command::Refused { limit, json } => refused(store, *limit, *json),
    }
}

fn check(store: &dyn HubStore, quarantine: bool, json: bool) -> anyhow::Result<()> {
    let report = ledger_hub::check::check(store, quarantine, now_ms())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for p in &report.problems {
            let what = if p.set_aside { "（已隔离）" } else { "" };
            println!("{} {}：{}{what}", p.case_id, doc_kind_label(p.kind), p.reason);
        }
        println!("已检查 {} 个文档，{} 个有问题", report.documents, report.problems.len());
    }
    if !report.problems.is_empty() && !quarantine {
        bail!("有 {} 个文档无法载入或与记录不符；可用 --quarantine 隔离", report.problems.len());
    }
    Ok(())
}

fn refused(store: &dyn HubStore, limit: usize, json: bool) -> anyhow::Result<()> {
    let list = store.quarantined(limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let time = LocalTime::new()?;
    for q in &list {
        let when = time.text(Some(q.received_at))?;
        println!(
            "{when}  {}  设备 {}  案件 {}  [{}] {}",
            q.office, q.device, q.case_id, q.rule, q.reason
        );
    }
    eprintln!("共 {} 条被拒收的更改", list.len());
    Ok(())
}

fn bundle_import(store: Arc<dyn HubStore>, file: &Path, out: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let imported = ledger_hub::bundles::import(store, &bytes, now_ms())?;
    ledger_hub::private::write_file(out, &imported.bytes)
        .with_context(|| format!("无法写入 {}", out.display()))?;
    eprintln!(
        "已导入单位 {} 的同步包：收到更改 {} 条（拒收 {} 条），返回记录 {} 条，写入 {}",
        imported.office,
        imported.changes,
        imported.refused,
        imported.records,
        out.display()
    );
    Ok(())
}

fn tls(dir: &Path, command: &TlsCommand) -> anyhow::Result<()> {
    let files = TlsFiles::under(dir);
    match command {
        TlsCommand::Init { name, ip } => {
            let mut hosts = vec![name.trim().to_owned()];
            hosts.extend(ip.iter().map(ToString::to_string));
            let today = chrono::DateTime::from_timestamp_millis(now_ms())
                .map(|t| t.date_naive())
                .unwrap_or_default();
            let done = ledger_hub::tls::init(&files, name.trim(), &hosts, today)
                .context("无法生成证书")?;
            if done.kept_ca {
                eprintln!("沿用已有的县级根证书，已重新签发服务器证书（{}）", hosts.join("、"));
            } else {
                eprintln!(
                    "已生成县级根证书 {} 和服务器证书（{}）；私钥只留在本机",
                    files.ca_cert().display(),
                    hosts.join("、")
                );
            }
            eprintln!(
                "服务器证书有效期 {} 年；重新运行 ledger-hub tls init 可续签（根证书不变，各单位无需改动）",
                ledger_hub::tls::SERVER_YEARS
            );
            eprintln!("下次启动 ledger-hub serve 时启用加密连接。根证书指纹（各单位接入时核对）：");
            println!("{}", done.fingerprint);
        }
        TlsCommand::Fingerprint => match ledger_hub::tls::county_fingerprint(dir) {
            Some(fp) => println!("{fp}"),
            None => bail!("还没有县级根证书：请先运行 ledger-hub tls init"),
        },
    }
    Ok(())
}

/// Prints the county CA's fingerprint beside a token (stderr; the token stays alone on stdout).
fn print_fingerprint(dir: &Path) {
    match ledger_hub::tls::county_fingerprint(dir) {
        Some(fp) => eprintln!("县局根证书指纹（接入时填写或核对）：{fp}"),
        None => {
            eprintln!("（本服务器没有 tls init 生成的县级根证书：接入时按县局所用证书的说明填写）")
        }
    }
}

fn serve(
    store: Arc<dyn HubStore>,
    listen: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
    allow_http: bool,
) -> anyhow::Result<()> {
    let tls = match tls {
        Some((cert, key)) => {
            Some(ledger_hub::tls::load_server_config(&cert, &key).context("无法载入服务器证书")?)
        }
        None if listen.ip().is_loopback() || allow_http => None,
        None => bail!(
            "不加密的 HTTP 只能在本机地址（127.0.0.1）上服务：请先运行 ledger-hub tls init 生成证书；\
             确需明文传输时加 --allow-http（不建议，身份证号等会明文经过网络）"
        ),
    };
    // The engine handles one batch at a time, so a large blocking pool only adds threads (and
    // their allocator caches) waiting on its lock.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().max_blocking_threads(8).enable_all().build()?;
    let state = HubState::new(store);
    // The repeat-petitioner index reads every identity document once; beside serving, so the
    // first registration's query does not wait for it.
    let warming = state.clone();
    runtime.spawn_blocking(move || {
        let started = std::time::Instant::now();
        match warming.repeats.warm(&warming.engine) {
            Ok(people) => {
                tracing::info!(cases = people, elapsed = ?started.elapsed(), "repeat index ready")
            }
            Err(e) => tracing::warn!(error = %e, "repeat index not built; built on first query"),
        }
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("无法监听 {listen}"))?;
        let addr = listener.local_addr()?;
        // Before the address is printed: whoever reads it may stop the hub at once.
        let stop = shutdown_signal().context("无法登记停止信号")?;
        match tls {
            Some(tls) => {
                println!("listening on https://{addr}");
                tracing::info!(%addr, "hub started (TLS)");
                ledger_hub::tls::serve_tls(listener, state, tls, stop).await?;
            }
            None => {
                println!("listening on http://{addr}");
                if !addr.ip().is_loopback() {
                    tracing::warn!(%addr, "serving plain HTTP beyond this machine (--allow-http)");
                }
                tracing::info!(%addr, "hub started");
                ledger_hub::serve(listener, state, stop).await?;
            }
        }
        tracing::info!("hub stopped");
        Ok(())
    })
}

/// Registers SIGINT and SIGTERM now and returns the wait for either. Registered eagerly: a
/// signal that arrives before its handler exists ends the process uncleanly, and a supervisor
/// (or a test) may send one as soon as it reads the printed address.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot wait for Ctrl-C; stop the hub another way");
            std::future::pending::<()>().await;
        }
    })
}

fn office(dir: &Path, store: &dyn HubStore, command: &OfficeCommand) -> anyhow::Result<()> {
    match command {
        OfficeCommand::Add { code, name, role, township, days } => {
            let role = Role::parse(role)
                .filter(|r| r.is_known())
                .context("--role 应为 township 或 bureau")?;
            if role == Role::Township && township.is_empty() {
                bail!("乡镇国土所须用 --township 写明其管辖的乡镇");
            }
            store.add_office(&OfficeRecord {
                code: code.trim().to_owned(),
                name: name.trim().to_owned(),
                role,
                townships: township.clone(),
                created_at: now_ms(),
            })?;
            let token = token_for(store, code.trim(), *days)?;
            eprintln!(
                "已添加单位 {code}（{name}）。请把下面的一次性接入令牌交给该单位，{days} 天内有效："
            );
            print_fingerprint(dir);
            println!("{token}");
        }
        OfficeCommand::Token { code, days } => {
            if store.office(code)?.is_none() {
                bail!("没有单位代码为 {code} 的单位");
            }
            let token = token_for(store, code, *days)?;
            eprintln!("单位 {code} 另一台设备的一次性接入令牌，{days} 天内有效：");
            print_fingerprint(dir);
            println!("{token}");
        }
        OfficeCommand::List { json } => {
            let offices = store.offices()?;
            if *json {
                let mut out = Vec::new();
                for o in offices {
                    let devices = store.devices(Some(&o.code))?;
                    out.push(serde_json::json!({"office": o, "devices": devices}));
                }
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                let time = LocalTime::new()?;
                for o in offices {
                    let devices = store.devices(Some(&o.code))?;
                    let synced = devices.iter().filter_map(|d| d.last_sync).max();
                    let scope = if o.townships.is_empty() {
                        "全县".to_owned()
                    } else {
                        o.townships.join("、")
                    };
                    let sync = if devices.is_empty() {
                        "尚未接入".to_owned()
                    } else {
                        format!("上次同步 {}", time.text(synced)?)
                    };
                    println!(
                        "{}{}{}{}{sync}",
                        pad(&o.code, 8),
                        pad(&o.name, 18),
                        pad(o.role.label(), 12),
                        pad(&scope, 14)
                    );
                    for d in &devices {
                        println!("    {}", device_line(d, &time)?);
                    }
                }
            }
        }
        OfficeCommand::Revoke { code, device } => {
            if store.office(code)?.is_none() {
                bail!("没有单位代码为 {code} 的单位");
            }
            let n = store.revoke(code, device.as_deref(), now_ms())?;
            match device {
                Some(d) if n == 0 => bail!("单位 {code} 没有可停用的设备 {d}"),
                Some(_) => eprintln!("已停用 1 台设备"),
                None => eprintln!("已停用单位 {code} 的 {n} 台设备，并作废其全部未使用的接入令牌"),
            }
        }
    }
    Ok(())
}

fn device_line(d: &DeviceRecord, time: &LocalTime) -> anyhow::Result<String> {
    let state = if d.revoked_at.is_some() { "已停用" } else { "正常" };
    Ok(format!(
        "设备 {}（{}，{}）  {state}  上次同步 {}  待上传 {} 条",
        d.id,
        d.letter,
        d.name,
        time.text(d.last_sync)?,
        d.pending
    ))
}

/// The names as given, trimmed, or why they cannot be the county's list.
fn township_names(names: &[String]) -> anyhow::Result<Vec<String>> {
    let mut list: Vec<String> = Vec::with_capacity(names.len());
    for (i, raw) in names.iter().enumerate() {
        let name = raw.trim();
        if name.is_empty() {
            bail!("第 {} 个乡镇名称是空的：请写出每个乡镇的名称", i + 1);
        }
        if list.iter().any(|n| n == name) {
            bail!("乡镇「{name}」重复了：每个乡镇只写一次");
        }
        list.push(name.to_owned());
    }
    Ok(list)
}

fn township(store: &dyn HubStore, command: &TownshipCommand) -> anyhow::Result<()> {
    match command {
        TownshipCommand::Set { names } => {
            let list = township_names(names)?;
            store.set_county_townships(&list)?;
            eprintln!(
                "已设置全县乡镇 {} 个：{}（各单位下次同步时收到）",
                list.len(),
                list.join("、")
            );
            let missing: Vec<String> = store
                .offices()?
                .into_iter()
                .flat_map(|o| o.townships)
                .filter(|t| !list.contains(t))
                .collect();
            if !missing.is_empty() {
                eprintln!(
                    "注意：{} 有国土所管辖，却不在名录中；发给各单位时附在名录末尾，如名称有误请改正",
                    missing.join("、")
                );
            }
        }
        TownshipCommand::List => {
            let offices = store.offices()?;
            let mut names = store.county_townships()?;
            if names.is_empty() {
                eprintln!("尚未设置全县乡镇名录：运行 ledger-hub township set 乡镇1 乡镇2 …");
            }
            let listed = names.len();
            for t in offices.iter().flat_map(|o| o.townships.iter()) {
                if !names.contains(t) {
                    names.push(t.clone());
                }
            }
            for (i, name) in names.iter().enumerate() {
                let mut answering = Vec::new();
                for o in offices.iter().filter(|o| o.townships.contains(name)) {
                    let enrolled =
                        store.devices(Some(&o.code))?.iter().any(|d| d.revoked_at.is_none());
                    answering.push(if enrolled {
                        format!("{}（{}）", o.name, o.code)
                    } else {
                        format!("{}（{}，尚未接入）", o.name, o.code)
                    });
                }
                let who = if answering.is_empty() {
                    "尚无国土所接入".to_owned()
                } else {
                    answering.join("、")
                };
                let name =
                    if i >= listed { format!("{name}（不在名录中）") } else { name.clone() };
                println!("{}{who}", pad(&name, 14));
            }
        }
    }
    Ok(())
}
