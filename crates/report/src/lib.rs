//! Renders the statistics and cases of `ledger-domain` for people and for Excel.
//!
//! - [`table`]: the statistics tables of a period with year-over-year change per figure and
//!   every rate's numerator and denominator ([`ReportTables`], [`render_text`]).
//! - [`summary`]: the annual report's summary paragraph in the seed's words
//!   ([`summary_paragraph`]).
//! - [`xlsx`]: the ledger and statistics workbooks, and reading an .xlsx ledger back
//!   ([`ledger_xlsx`], [`statistics_xlsx`], [`read_xlsx`]).
//! - [`documents`]: the statutory notices and replies as printable HTML
//!   ([`render_document`]).
//!
//! Pure rendering: no store, no clock; callers pass statistics, cases and dates in.

pub mod documents;
mod error;
pub mod summary;
pub mod table;
pub mod xlsx;

pub use documents::{DocumentRequest, MISSING, check_document, referring_body, render_document};
pub use error::ReportError;
pub use summary::{summary_paragraph, work_paragraph};
pub use table::{Figure, RateFigure, ReportTables, Section, render_text};
pub use xlsx::{Breakdown, Sheet, ledger_xlsx, read_xlsx, statistics_xlsx};
