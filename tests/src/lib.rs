//! Shared helpers for the end-to-end tests and the fleet benchmark: a real hub on
//! 127.0.0.1:0 ([`TestHub`]), real office stores enrolled with it ([`TestOffice`]), and the
//! fault-injecting proxy ([`FaultProxy`]) to put between them.

pub mod forge;
pub mod harness;
pub mod proxy;

pub use forge::{compress, edit_change, inject_outbox};
pub use harness::{
    County, TestHub, TestOffice, answer_to_declared_body, case_input, clock_at, raw_http, raw_tls,
    test_pki, test_trust, write_test_pki,
};

pub use proxy::{FaultProxy, LinkProfile, ProxyStats, SpecError};
