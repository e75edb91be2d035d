//! Read-only use cases over many cases: lists, search, deadlines lists, statistics and the
//! review queue. All of them read the index; none loads every document.

use chrono::NaiveDate;
use ledger_domain::stats::{Period, Statistics};
use ledger_store::{CaseQuery, CaseRow, Page};
use serde::Serialize;

use crate::Office;
use crate::error::Result;

/// Cases by deadline: what is overdue and what falls due soon.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DueList {
    /// The day judged.
    pub today: NaiveDate,
    /// Past their deadline.
    pub overdue: Vec<CaseRow>,
    /// Due within 3 days.
    pub within_3: Vec<CaseRow>,
    /// Due in 4 to 10 days.
    pub within_10: Vec<CaseRow>,
}

/// A case that needs a person's review: concurrent edits or workflow anomalies.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    /// The case.
    pub row: CaseRow,
}

impl Office {
    /// A filtered, searched page of cases. Deadline filters are judged as of today.
    pub fn list(&self, query: &CaseQuery) -> Result<Page> {
        let mut q = query.clone();
        q.today.get_or_insert(self.today());
        Ok(self.store.list(&q)?)
    }

    /// Overdue cases and those due within 3 and 10 days, optionally for one township.
    pub fn due(&self, township: Option<&str>) -> Result<DueList> {
        let today = self.today();
        let base = CaseQuery {
            township: township.map(str::to_owned),
            today: Some(today),
            ..Default::default()
        };
        let overdue = self.store.list(&CaseQuery { overdue: true, ..base.clone() })?.rows;
        let soon = self.store.list(&CaseQuery { due_within: Some(10), ..base })?.rows;
        let (within_3, within_10) =
            soon.into_iter().partition(|r| r.next_due.is_some_and(|d| (d - today).num_days() <= 3));
        let sort = |mut v: Vec<CaseRow>| {
            v.sort_by(|a, b| a.next_due.cmp(&b.next_due).then(a.number.cmp(&b.number)));
            v
        };
        Ok(DueList {
            today,
            overdue: sort(overdue),
            within_3: sort(within_3),
            within_10: sort(within_10),
        })
    }

    /// The statistics of a period, county-wide or for one township, judged as of the earlier
    /// of the period's end and today.
    pub fn statistics(&self, period: Period, township: Option<&str>) -> Result<Statistics> {
        let facts = self.store.all_facts()?;
        Ok(self.period_stats(&facts, period, township))
    }

    /// Cases with concurrent edits or workflow anomalies to review.
    pub fn review_queue(&self) -> Result<Vec<ReviewItem>> {
        let page = self.store.list(&CaseQuery { needs_review: true, ..Default::default() })?;
        Ok(page.rows.into_iter().map(|row| ReviewItem { row }).collect())
    }

    /// Open cases that may be the same matter: the petitioner's name or the place matches
    /// (the register form's repeat-visit hint).
    pub fn similar_open_cases(&self, name: &str, village: &str) -> Result<Vec<CaseRow>> {
        let mut found: Vec<CaseRow> = Vec::new();
        for text in [name.trim(), village.trim()].into_iter().filter(|t| t.chars().count() >= 2) {
            let page = self.store.list(&CaseQuery {
                text: Some(text.to_owned()),
                limit: Some(20),
                ..Default::default()
            })?;
            for row in page.rows {
                let open = row.status.is_open();
                if open && !found.iter().any(|f| f.id == row.id) {
                    found.push(row);
                }
            }
        }
        Ok(found)
    }
}
