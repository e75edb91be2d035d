//! 县局名录 as this office uses it: the names of offices (never their codes, where a person
//! reads) and the townships a case may be assigned to, each with the offices that answer for it.
//! The directory is the hub's; the office keeps the copy it last received, so all of this works
//! offline.

use std::collections::BTreeMap;

use ledger_domain::Case;
use serde::Serialize;

use crate::Office;
use crate::error::Result;

/// A township a case may be assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TownshipChoice {
    /// 乡镇 name.
    pub name: String,
    /// The names of the offices enrolled for it; empty when none is (a case assigned there
    /// stays with the bureau's copy until one enrolls).
    pub offices: Vec<String>,
}

impl Office {
    /// The name a person reads for office `code`: this office's own name, or the directory's,
    /// or the code itself when neither knows it.
    pub fn office_name(&self, code: &str) -> String {
        let cfg = self.config();
        if cfg.code == code {
            return cfg.name;
        }
        // A name to show: a damaged directory shows the code here, and is reported where the
        // office acts on it (registration, import, sync).
        self.directory()
            .ok()
            .flatten()
            .and_then(|d| d.office_name(code).map(str::to_owned))
            .unwrap_or_else(|| code.to_owned())
    }

    /// The names of every office a case mentions (registrar, events, submissions, attachments).
    pub fn office_names(&self, case: &Case) -> BTreeMap<String, String> {
        let codes = std::iter::once(&case.registered_by)
            .chain(case.events.iter().map(|e| &e.office))
            .chain(case.submissions.iter().map(|s| &s.registered_by))
            .chain(case.attachments.iter().map(|a| &a.added_by));
        codes.map(|c| (c.clone(), self.office_name(c))).collect()
    }

    /// The townships a case may go to (交办, 改派, registration): the county's from the directory,
    /// or this office's own when it has no directory.
    pub fn township_choices(&self) -> Result<Vec<TownshipChoice>> {
        let cfg = self.config();
        let Some(directory) = self.directory()? else {
            return Ok(cfg
                .townships
                .iter()
                .map(|t| TownshipChoice { name: t.clone(), offices: Vec::new() })
                .collect());
        };
        // The bureau assigns across the county; a township office names its own.
        let names: Vec<String> = if cfg.townships.is_empty() || self.is_bureau() {
            directory.townships.clone()
        } else {
            cfg.townships
        };
        Ok(names
            .into_iter()
            .map(|t| TownshipChoice {
                offices: directory.offices_for(&t).map(|o| o.name.clone()).collect(),
                name: t,
            })
            .collect())
    }

    /// The townships a registration here may name: this office's own, or for the bureau the
    /// county's full list from the directory (empty, so any, for a bureau without one).
    pub(crate) fn registration_townships(&self) -> Result<Vec<String>> {
        let cfg = self.config();
        if !cfg.townships.is_empty() {
            return Ok(cfg.townships);
        }
        Ok(self.directory()?.filter(|d| d.complete).map(|d| d.townships).unwrap_or_default())
    }

    /// Whether `township` is one the county knows (always true without a directory or before the
    /// county set its full list: an office on its own names its townships itself).
    pub(crate) fn known_township(&self, township: &str) -> Result<bool> {
        let cfg = self.config();
        if !cfg.townships.is_empty() {
            return Ok(cfg.townships.iter().any(|t| t == township));
        }
        Ok(self
            .directory()?
            .is_none_or(|d| !d.complete || d.townships.iter().any(|t| t == township)))
    }
}
