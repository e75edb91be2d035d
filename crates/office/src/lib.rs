//! The office's use cases as one facade, `Office`: register, act on the workflow, search, report,
//! import, export and sync. The desktop app and the `ledger` command line both call it. Built
//! with the store issue.
