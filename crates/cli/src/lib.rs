//! The `ledger` command line: the office facade from a terminal. Built with the store issue.
