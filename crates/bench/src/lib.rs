//! Benchmarks of Petition Ledger that print JSON. `ledger-bench local` builds an office store of
//! realistic cases on disk and measures the user paths on it (register, open, a filtered page,
//! name and request search, import); the figures go into `BENCHMARKS.md`, never into assertions.
//!
//! - [`bootstrap`]: a fresh device pulling a county's cases, against the floors.
//! - [`data`]: the seeded data generator (cases, petitioners, request texts, ledger rows).
//! - [`local`]: the local store benchmark.
//! - [`encryption`]: plain against encrypted stores, interleaved in rounds.
//! - [`probe`]: opening a store in a fresh process, for honest time and resident memory.
//! - [`measure`]: medians, percentiles and memory readings.
//! - [`rng`]: the seeded random source behind the generator.
//! - [`sync`]: the sync benchmark against a real hub.
//! - [`fleet`]: a working month of many offices through a faulty link.
//! - [`ingest`]: many offices uploading at once, on SQLite or PostgreSQL, through one or more
//!   hubs.
//! - [`load`]: a working day of a thousand offices against real hub processes.
//! - `hubproc`: a real `ledger-hub serve` process for the benchmarks above.

pub mod bootstrap;
pub mod data;
pub mod encryption;
mod error;
pub mod fleet;
mod hubproc;
pub mod ingest;
pub mod load;
pub mod local;
pub mod measure;
pub mod probe;
pub mod rng;
pub mod sync;

pub use error::{BenchError, Result};
