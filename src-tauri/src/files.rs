//! Files the user chooses, and files the app hands to other programs.
//!
//! File dialogs are opened here, by Rust: the chosen path stays on this side and the webview
//! gets an opaque handle and the file's name to show. No command takes a path from the webview,
//! so a page that runs hostile script (a crafted attachment name, a compromised dependency)
//! cannot read or overwrite a file the user did not choose. `LEDGER_PICK_FILES` (paths joined
//! like `PATH`) answers every dialog instead of GTK, for the end-to-end test: WebDriver cannot
//! drive a native dialog.
//!
//! Attachments opened with the system's viewer are written to a directory of this user's data
//! directory (0700, files 0600), emptied when the app starts and when it exits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

use crate::error::{CommandError, CommandResult};

/// What a dialog is for: which kind of dialog, filters and how many files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "PickPurpose"))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A ledger file to import (.xlsx, .csv).
    OpenLedger,
    /// Files to attach to a case (several).
    Attachments,
    /// Where to export the ledger (.xlsx or .csv).
    SaveLedger,
    /// Where to write the statistics workbook (.xlsx).
    SaveStatistics,
    /// A file of work records to import (.jsonl).
    OpenWork,
}

impl Purpose {
    fn saves(self) -> bool {
        matches!(self, Self::SaveLedger | Self::SaveStatistics)
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::OpenLedger | Self::SaveLedger => &["xlsx", "csv"],
            Self::SaveStatistics => &["xlsx"],
            Self::OpenWork => &["jsonl"],
            Self::Attachments => &[],
        }
    }
}

/// What the webview learns of a chosen file.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Picked {
    /// The handle later commands take instead of a path.
    pub handle: String,
    /// The file's name, to show.
    pub name: String,
}

/// The files chosen in this session, by handle.
#[derive(Debug, Default)]
pub struct Picks {
    chosen: Mutex<HashMap<String, PathBuf>>,
}

impl Picks {
    fn keep(&self, path: PathBuf) -> Picked {
        let handle = uuid::Uuid::new_v4().simple().to_string();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.chosen.lock().unwrap_or_else(|p| p.into_inner()).insert(handle.clone(), path);
        Picked { handle, name }
    }

    /// The path behind a handle a dialog gave out.
    pub fn path(&self, handle: &str) -> CommandResult<PathBuf> {
        self.chosen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(handle)
            .cloned()
            .ok_or_else(|| CommandError::new("invalid_input", "请先在对话框中选择文件"))
    }
}

/// Labels the webview passes for the dialog (its i18n holds the words).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct DialogText {
    /// The dialog's title.
    pub title: String,
    /// The name of the file type filter.
    #[serde(default)]
    pub filter: String,
    /// A suggested file name (save dialogs).
    #[serde(default)]
    pub default_name: String,
}

/// Opens the dialog for `purpose` (on a blocking thread: GTK dialogs block) and keeps what was
/// chosen; an empty list when the user cancelled.
pub async fn pick(
    app: &AppHandle,
    picks: &Picks,
    purpose: Purpose,
    text: DialogText,
) -> CommandResult<Vec<Picked>> {
    let chosen = match std::env::var_os("LEDGER_PICK_FILES") {
        Some(list) => std::env::split_paths(&list).collect(),
        None => {
            let app = app.clone();
            tauri::async_runtime::spawn_blocking(move || dialog(&app, purpose, &text))
                .await
                .map_err(|e| CommandError::new("internal", e.to_string()))?
        }
    };
    let chosen: Vec<PathBuf> = if purpose == Purpose::Attachments {
        chosen
    } else {
        chosen.into_iter().take(1).map(|p| with_extension(purpose, p)).collect()
    };
    Ok(chosen.into_iter().map(|p| picks.keep(p)).collect())
}

/// A save dialog's file typed without one of the purpose's extensions gets the first (Excel):
/// a ledger saved as 「台账」 must not become a CSV with no extension.
fn with_extension(purpose: Purpose, path: PathBuf) -> PathBuf {
    let known = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| purpose.extensions().iter().any(|x| x.eq_ignore_ascii_case(e)));
    match purpose.extensions().first() {
        Some(first) if purpose.saves() && !known => {
            let mut name = path.into_os_string();
            name.push(".");
            name.push(first);
            PathBuf::from(name)
        }
        _ => path,
    }
}

fn dialog(app: &AppHandle, purpose: Purpose, text: &DialogText) -> Vec<PathBuf> {
    let mut builder = app.dialog().file().set_title(&text.title);
    // Left to itself GTK opens in the directory the app was started from.
    if let Some(dir) = app.path().document_dir().ok().or_else(|| app.path().home_dir().ok()) {
        builder = builder.set_directory(dir);
    }
    if !purpose.extensions().is_empty() {
        builder = builder.add_filter(&text.filter, purpose.extensions());
    }
    if !text.default_name.is_empty() {
        builder = builder.set_file_name(&text.default_name);
    }
    let paths = if purpose.saves() {
        builder.blocking_save_file().into_iter().collect::<Vec<_>>()
    } else if purpose == Purpose::Attachments {
        builder.blocking_pick_files().unwrap_or_default()
    } else {
        builder.blocking_pick_file().into_iter().collect()
    };
    paths.into_iter().filter_map(|p| p.into_path().ok()).collect()
}

/// Where attachments are written for the system's viewer.
pub fn opened_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("opened")
}

/// Removes every attachment written for the viewer (at start and at exit).
pub fn empty_opened(data_dir: &Path) {
    let dir = opened_dir(data_dir);
    if dir.exists()
        && let Err(e) = std::fs::remove_dir_all(&dir)
    {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot empty the opened attachments");
    }
}

/// Writes an attachment for the viewer into the private directory; returns its path.
pub fn write_opened(data_dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let dir = opened_dir(data_dir);
    ledger_office::private::create_dir(&dir)?;
    let safe: String = name
        .chars()
        .map(|c| if matches!(c, '/' | '\\' | ':' | '\0') || c.is_control() { '_' } else { c })
        .collect();
    let safe = safe.trim_start_matches('.').to_owned();
    let path = dir.join(if safe.is_empty() { "附件".to_owned() } else { safe });
    ledger_office::private::write_file(&path, bytes)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opened_files_are_private_and_cannot_leave_their_directory() {
        let data = tempfile::tempdir().unwrap();
        for name in ["../../etc/passwd", "..", "/abs", "a\u{0}b", ".hidden"] {
            let path = write_opened(data.path(), name, b"x").unwrap();
            assert_eq!(path.parent(), Some(opened_dir(data.path()).as_path()), "{name}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = write_opened(data.path(), "信访件.pdf", b"%PDF").unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&opened_dir(data.path())), 0o700);
        }
        empty_opened(data.path());
        assert!(!opened_dir(data.path()).exists());
    }

    #[test]
    fn a_save_without_an_extension_becomes_a_workbook() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(with_extension(Purpose::SaveLedger, p("/d/台账")), p("/d/台账.xlsx"));
        assert_eq!(with_extension(Purpose::SaveLedger, p("/d/台账.CSV")), p("/d/台账.CSV"));
        assert_eq!(
            with_extension(Purpose::SaveStatistics, p("/d/统计.csv")),
            p("/d/统计.csv.xlsx")
        );
        assert_eq!(with_extension(Purpose::OpenLedger, p("/d/台账")), p("/d/台账"));
        assert_eq!(with_extension(Purpose::Attachments, p("/d/照片")), p("/d/照片"));
    }

    #[test]
    fn a_handle_never_given_out_is_refused() {
        let picks = Picks::default();
        let picked = picks.keep(PathBuf::from("/home/u/台账.xlsx"));
        assert_eq!(picked.name, "台账.xlsx");
        assert_eq!(picks.path(&picked.handle).unwrap(), PathBuf::from("/home/u/台账.xlsx"));
        assert!(picks.path("/etc/passwd").is_err());
    }
}
