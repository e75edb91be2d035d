//! 演示数据: the demo data set, marked case by case, and its removal everywhere it went.
//!
//! Demo cases are ordinary cases with the write-once `demo` flag. Removing them never touches
//! anything else: an office on its own deletes its demo cases at once; an office bound to a hub
//! records 清除演示数据 on each (the bureau only), they leave its lists and statistics at once,
//! and the hub, judging the removal like any change, purges them and tells every office,
//! which deletes its copy on its next sync. The enrollment and every real case stay.

use ledger_domain::ActionKind;
use serde::Serialize;

use crate::error::{OfficeError, Result};
use crate::{ActionInput, ImportOptions, ImportReport, Office, Progress};

/// The demo data set: a ledger of made-up cases in the county's townships, in the columns
/// `ledger import` reads.
const DEMO_LEDGER: &str = include_str!("demo.csv");

/// What removing the demo data did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoRemoval {
    /// Demo cases removed (deleted here, or marked for the hub to purge).
    pub cases: usize,
    /// Whether the hub still has to purge them (they go from the other offices after it has).
    pub awaiting_hub: bool,
}

impl Office {
    /// Imports the demo data set, every case marked 演示数据.
    pub fn seed_demo(&self, progress: &mut dyn FnMut(Progress)) -> Result<ImportReport> {
        let (header, rows) = crate::import::parse_csv(DEMO_LEDGER)?;
        let options = ImportOptions { demo: true, ..ImportOptions::default() };
        self.import_table(&header, &rows, options, progress)
    }

    /// How many demo cases this office holds (the demo banner shows while any do).
    pub fn demo_cases(&self) -> Result<u64> {
        Ok(self.store.demo_count()?)
    }

    /// Removes every demo case, and only those: see the module documentation.
    pub fn remove_demo(&self, handler: Option<&str>) -> Result<DemoRemoval> {
        let ids = self.store.demo_cases()?;
        if ids.is_empty() {
            return Ok(DemoRemoval::default());
        }
        if self.hub_url()?.is_none() {
            for id in &ids {
                self.store.delete_case(*id)?;
            }
            tracing::info!(cases = ids.len(), "demo cases deleted (no hub)");
            return Ok(DemoRemoval { cases: ids.len(), awaiting_hub: false });
        }
        if !self.is_bureau() {
            return Err(OfficeError::Refused(
                "演示数据只能由县局清除：县局清除后，本机的演示案件会在同步时自动删除".to_owned(),
            ));
        }
        let input = ActionInput {
            action: Some(ActionKind::RemoveDemo),
            handler: handler.map(str::to_owned),
            ..ActionInput::default()
        };
        for id in &ids {
            self.act(*id, &input)?;
        }
        tracing::info!(cases = ids.len(), "demo cases marked for removal; the hub purges them");
        Ok(DemoRemoval { cases: ids.len(), awaiting_hub: true })
    }
}
