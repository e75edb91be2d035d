//! Opening a store as the app does on start: `Office::open`, then the first page of the ledger.
//! Run in a fresh process (the benchmark re-executes itself with the hidden `open-probe`
//! subcommand), so the time includes nothing already loaded and the resident memory is the
//! store's alone.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use ledger_office::CaseQuery;
use serde::{Deserialize, Serialize};

use crate::error::{BenchError, Result};
use crate::measure::{Memory, memory, ms};

/// What one open measured, inside the fresh process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// `Office::open`, ms.
    pub open_ms: f64,
    /// The first page of 50 after it, ms.
    pub first_page_ms: f64,
    /// Both, ms.
    pub total_ms: f64,
    /// For an encrypted store, one more fetch of its key after the open (the keyring over
    /// D-Bus, or Argon2 for a passphrase), ms: the share of the open that is the key's.
    pub key_ms: Option<f64>,
    /// Cases in the store (the page's total).
    pub cases: u64,
    /// Rows on the first page.
    pub rows: usize,
    /// Resident memory after the first page.
    pub memory: Memory,
}

/// Opens the office in `dir` and lists its first page, in this process.
pub fn run(dir: &Path) -> Result<ProbeReport> {
    let start = Instant::now();
    let office = crate::local::open_office(dir)?;
    let opened = start.elapsed();
    let page = office.list(&CaseQuery { limit: Some(50), ..Default::default() })?;
    let total = start.elapsed();
    let key_ms = crate::local::time_key_fetch(dir)?;
    Ok(ProbeReport {
        open_ms: ms(opened),
        first_page_ms: ms(total - opened),
        total_ms: ms(total),
        key_ms,
        cases: page.total,
        rows: page.rows.len(),
        memory: memory()?,
    })
}

/// Runs `exe open-probe --dir DIR` and returns its report and the whole process's wall time, ms.
pub fn spawn(exe: &Path, dir: &Path) -> Result<(ProbeReport, f64)> {
    let start = Instant::now();
    let output = Command::new(exe)
        .arg("open-probe")
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let wall = ms(start.elapsed());
    if !output.status.success() {
        return Err(BenchError::Probe(format!("{} exited with {}", exe.display(), output.status)));
    }
    let report = serde_json::from_slice(&output.stdout).map_err(|e| {
        BenchError::Probe(format!(
            "unreadable output ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        ))
    })?;
    Ok((report, wall))
}
