//! Renders the statistics of `ledger-domain` for people: a readable Chinese table now; the
//! summary paragraph, XLSX and the statutory documents come with the reports issue.

mod table;

pub use table::render_text;
