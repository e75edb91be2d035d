//! The county hub: an axum server that merges every office's changes, decides each office's scope
//! and validates what it receives, over a `HubStore` (SQLite by default, PostgreSQL later). Built
//! with the sync issue.
