//! Petition Ledger's desktop app (Tauri 2): one window with the Vue UI, the office's store in the
//! platform's app data directory (or `--data-dir DIR` / `LEDGER_DATA_DIR`, so two offices can run
//! side by side), and the background sync.
//!
//! This crate is the only one that knows Tauri. Commands ([`commands`]) are one-line adapters into
//! `ledger-office`; errors reach the UI as `{code, message}` ([`error`]); store changes and sync
//! status reach it as events ([`state`]).

#[cfg(test)]
mod bindings;
#[cfg(test)]
mod checked_in;
pub mod commands;
pub mod error;
pub mod files;
#[cfg(test)]
mod fixtures;
pub mod state;

use std::path::PathBuf;

use tauri::Manager;

/// The data directory given on the command line or in the environment, if any.
fn data_dir_override() -> Option<PathBuf> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(dir) = arg.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(dir));
        }
    }
    std::env::var_os("LEDGER_DATA_DIR").map(PathBuf::from)
}

/// Starts the app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LEDGER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,ledger=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    run_app(tauri::Builder::default());
}

/// Builds and runs the app on `builder`.
pub fn run_app(builder: tauri::Builder<tauri::Wry>) {
    let result = builder
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let dir = match data_dir_override() {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            ledger_office::private::create_dir(&dir)?;
            tracing::info!(dir = %dir.display(), "data directory");
            // Attachments left from a session that did not end cleanly.
            files::empty_opened(&dir);
            app.manage(state::Desktop::new(app.handle().clone(), dir));
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!());
    let app = match result {
        Ok(app) => app,
        Err(e) => {
            eprintln!("信访台账无法启动：{e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(desktop) = handle.try_state::<state::Desktop>()
        {
            files::empty_opened(desktop.data_dir());
        }
    });
}
