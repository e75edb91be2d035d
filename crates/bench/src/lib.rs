//! Benchmarks: local store figures and a fleet of real offices against a real hub. Built with
//! the store and sync issues.
