//! `ledger-hub`: the county hub's server and its administration commands.
//!
//! `serve` runs the HTTP hub on its SQLite file; `office ...` works on the same file directly
//! (and takes effect on a running hub at once). Tokens are printed alone on the last line of
//! stdout, hints go to stderr.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use ledger_domain::Role;
use ledger_hub::store::OfficeRecord;
use ledger_hub::{HubState, HubStore, SqliteHubStore, auth, now_ms};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 信访台账县局服务器.
#[derive(Debug, Parser)]
#[command(name = "ledger-hub", version, about = "信访台账县局同步服务器")]
struct Cli {
    /// The hub's data directory.
    #[arg(long, global = true, env = "LEDGER_HUB_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the hub.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8750")]
        listen: SocketAddr,
    },
    /// Offices and their devices.
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// USB bundles for offices with no link.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// Loads and reads every stored document; exits 1 when any fails.
    Check {
        /// Sets failing documents aside (out of service, bytes kept).
        #[arg(long)]
        quarantine: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Lists the changes the hub refused, newest first.
    Refused {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Applies an office's bundle (validated like a network sync) and writes its return bundle.
    Import {
        /// The office's bundle.
        file: PathBuf,
        /// Where to write the return bundle.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum OfficeCommand {
    /// Adds an office and prints a token for its first device.
    Add {
        /// 单位代码.
        #[arg(long)]
        code: String,
        /// 单位名称.
        #[arg(long)]
        name: String,
        /// township or bureau.
        #[arg(long)]
        role: String,
        /// A township the office answers for (repeat).
        #[arg(long)]
        township: Vec<String>,
        /// Days the token stays valid.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Prints a token for another device of an office.
    Token {
        /// 单位代码.
        #[arg(long)]
        code: String,
        /// Days the token stays valid.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Lists offices and devices.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Revokes every device of an office, or one.
    Revoke {
        /// 单位代码.
        #[arg(long)]
        code: String,
        /// One device id.
        #[arg(long)]
        device: Option<String>,
    },
}

fn default_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("petition-ledger-hub")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(
            |_| format!("{}=info,tower_http=warn", env!("CARGO_CRATE_NAME")).into(),
        ))
        .with_writer(std::io::stderr)
        .init();
    let dir = cli.data_dir.clone().unwrap_or_else(default_dir);
    match run(&dir, &cli.command) {
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

fn run(dir: &Path, command: &Command) -> anyhow::Result<()> {
    let store = SqliteHubStore::open(dir)
        .with_context(|| format!("无法打开县局数据目录 {}", dir.display()))?;
    match command {
        Command::Serve { listen } => serve(Arc::new(store), *listen),
        Command::Office { command } => office(&store, command),
        Command::Bundle { command: BundleCommand::Import { file, out } } => {
            bundle_import(Arc::new(store), file, out)
        }
        Command::Check { quarantine, json } => check(&store, *quarantine, *json),
        Command::Refused { limit, json } => refused(&store, *limit, *json),
    }
}

fn check(store: &SqliteHubStore, quarantine: bool, json: bool) -> anyhow::Result<()> {
    let report = ledger_hub::check::check(store, quarantine, now_ms())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for p in &report.problems {
            let what = if p.set_aside { "（已隔离）" } else { "" };
            println!("{} {:?}：{}{what}", p.case_id, p.kind, p.reason);
        }
        println!("已检查 {} 个文档，{} 个有问题", report.documents, report.problems.len());
    }
    if !report.problems.is_empty() && !quarantine {
        bail!("有 {} 个文档无法载入或与记录不符；可用 --quarantine 隔离", report.problems.len());
    }
    Ok(())
}

fn refused(store: &SqliteHubStore, limit: usize, json: bool) -> anyhow::Result<()> {
    let list = store.quarantined(limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).context("时区")?;
    for q in &list {
        let when = chrono::DateTime::from_timestamp_millis(q.received_at)
            .map(|t| t.with_timezone(&beijing).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        println!(
            "{when}  {}  设备 {}  案件 {}  [{}] {}",
            q.office, q.device, q.case_id, q.rule, q.reason
        );
    }
    eprintln!("共 {} 条被拒收的更改（北京时间）", list.len());
    Ok(())
}

fn bundle_import(store: Arc<dyn HubStore>, file: &Path, out: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let imported = ledger_hub::bundles::import(store, &bytes, now_ms())?;
    std::fs::write(out, &imported.bytes).with_context(|| format!("无法写入 {}", out.display()))?;
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

fn serve(store: Arc<dyn HubStore>, listen: SocketAddr) -> anyhow::Result<()> {
    // The engine handles one batch at a time, so a large blocking pool only adds threads (and
    // their allocator caches) waiting on its lock.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().max_blocking_threads(8).enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("无法监听 {listen}"))?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr}");
        tracing::info!(%addr, "hub started");
        let state = HubState::new(store);
        ledger_hub::serve(listener, state, shutdown_signal()).await?;
        tracing::info!("hub stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn office(store: &SqliteHubStore, command: &OfficeCommand) -> anyhow::Result<()> {
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
                "已添加单位 {code}（{name}）。请把下面的一次性登记令牌交给该单位，{days} 天内有效："
            );
            println!("{token}");
        }
        OfficeCommand::Token { code, days } => {
            if store.office(code)?.is_none() {
                bail!("没有单位代码为 {code} 的单位");
            }
            let token = token_for(store, code, *days)?;
            eprintln!("单位 {code} 另一台设备的一次性登记令牌，{days} 天内有效：");
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
                for o in offices {
                    println!(
                        "{}  {}  {}  {}",
                        o.code,
                        o.name,
                        o.role.label(),
                        o.townships.join("、")
                    );
                    for d in store.devices(Some(&o.code))? {
                        let state = if d.revoked_at.is_some() { "已停用" } else { "正常" };
                        println!(
                            "    设备 {} ({})  {}  待上传 {}",
                            d.id, d.letter, state, d.pending
                        );
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
                None => eprintln!("已停用单位 {code} 的 {n} 台设备，并作废其全部未使用的登记令牌"),
            }
        }
    }
    Ok(())
}
