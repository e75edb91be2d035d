//! A separate process for fault tests to kill: `fixture hub --dir DIR --listen ADDR` runs the
//! hub on its database over TLS with the certificate in `DIR/tls` (printing its address); `fixture sync --dir DIR` syncs an office store
//! until done, printing a line per finished exchange. SIGKILL either at any moment.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ledger_client::{SyncConfig, SyncTarget, sync_round};
use ledger_hub::{HubState, HubStore, SqliteHubStore};
use ledger_office::Office;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str) -> anyhow::Result<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .with_context(|| format!("missing {name}"))
}

fn main() -> anyhow::Result<()> {
    let mode = std::env::args().nth(1).context("usage: fixture hub|sync ...")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match mode.as_str() {
        "hub" => runtime.block_on(async {
            let dir = PathBuf::from(arg("--dir")?);
            let store: Arc<dyn HubStore> = Arc::new(SqliteHubStore::open(&dir)?);
            let listener = tokio::net::TcpListener::bind(arg("--listen")?).await?;
            // The test wrote its county's certificate here (`harness::write_test_pki`).
            let files = ledger_hub::tls::TlsFiles::under(&dir);
            let tls = ledger_hub::tls::load_server_config(&files.chain(), &files.key())?;
            println!("listening on https://{}", listener.local_addr()?);
            ledger_hub::tls::serve_tls(listener, HubState::new(store), tls, std::future::pending())
                .await?;
            Ok(())
        }),
        "sync" => runtime.block_on(async {
            let dir = PathBuf::from(arg("--dir")?);
            let office = Arc::new(Office::open(&dir, ledger_office::system_clock())?);
            let config =
                SyncConfig { request_timeout: Duration::from_secs(20), ..SyncConfig::default() };
            let client = office.hub_client(config.request_timeout)?;
            let office: Arc<dyn SyncTarget> = office;
            let budget: u32 =
                arg("--budget").ok().and_then(|b| b.parse().ok()).unwrap_or(config.max_batch);
            loop {
                let round = sync_round(&client, &office, budget).await?;
                println!("round {} {}", round.uploaded, round.downloaded);
                if !round.more {
                    break;
                }
            }
            Ok(())
        }),
        other => anyhow::bail!("unknown mode {other}"),
    }
}
