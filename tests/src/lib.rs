//! Shared helpers for the end-to-end tests and the fleet benchmark: a real hub on
//! 127.0.0.1:0 ([`TestHub`]), real office stores enrolled with it ([`TestOffice`]), and the
//! fault-injecting proxy ([`FaultProxy`]) to put between them.

pub mod forge;
pub mod harness;
/// Test databases on the PostgreSQL server `LEDGER_TEST_PG` names (shared with the hub's own
/// tests).
#[path = "../../crates/hub/tests/support/pg.rs"]
pub mod pg;
pub mod proxy;

pub use forge::{compress, edit_change, inject_outbox};
pub use harness::{
    Backend, County, TestHub, TestOffice, answer_to_declared_body, assert_log_exactly_once,
    backend, case_input, clock_at, post_sync, raw_http, raw_tls, repeat_visit, supervision,
    test_pki, test_trust, write_test_pki,
};

pub use proxy::{FaultProxy, LinkProfile, ProxyStats, SpecError};
