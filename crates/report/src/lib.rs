//! Renders the statistics of `ledger-domain`: tables, the Chinese summary paragraph, XLSX export
//! and import, and the statutory documents as printable HTML. Built with the reports issue.
