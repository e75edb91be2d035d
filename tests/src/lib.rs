//! Shared helpers for the end-to-end tests: a real hub on 127.0.0.1:0, real office stores and
//! the fault-injecting proxy. Built with the sync issue.

pub mod proxy;

pub use proxy::{FaultProxy, LinkProfile, ProxyStats, SpecError};
