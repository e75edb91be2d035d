//! The workspace checks its own layers: every crate's dependencies point the way DESIGN §2
//! draws them, read from `cargo metadata`, so a fresh clone checks them with `cargo test` and
//! needs no tool from outside the repository. Only normal and build dependencies count;
//! dev-dependencies are free.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// Which of our crates each crate may depend on (DESIGN §2).
const OURS_ALLOWED: &[(&str, &[&str])] = &[
    ("ledger-domain", &[]),
    ("ledger-protocol", &[]),
    ("ledger-store", &["ledger-domain"]),
    ("ledger-client", &["ledger-protocol"]),
    ("ledger-report", &["ledger-domain"]),
    (
        "ledger-office",
        &["ledger-domain", "ledger-protocol", "ledger-store", "ledger-client", "ledger-report"],
    ),
    ("ledger-hub", &["ledger-domain", "ledger-protocol"]),
    ("ledger-cli", &["ledger-office"]),
    ("ledger", &["ledger-office"]),
    ("ledger-desktop", &["ledger-office"]),
];

/// Third-party crates that belong to one layer only.
const ONLY_IN: &[(&str, &[&str])] = &[
    ("rusqlite", &["ledger-store", "ledger-hub"]),
    ("reqwest", &["ledger-client"]),
    ("axum", &["ledger-hub"]),
    ("tauri", &["ledger-desktop"]),
];

/// Crates that may depend on whatever they exercise.
const FREE: &[&str] = &["ledger-bench", "ledger-tests"];

/// Pure crates: decisions only, no IO and no async runtime. `ledger-protocol` holds the sync
/// core (the pass state machine and its backoff), which must stay free of tokio, reqwest and
/// rusqlite: this is the rule that says so.
const PURE: &[&str] = &["ledger-domain", "ledger-protocol"];
const IO_CRATES: &[&str] = &["tokio", "rusqlite", "reqwest", "axum", "tauri", "hyper"];

/// Every rule `metadata` (the JSON of `cargo metadata --no-deps`) breaks, one line each.
fn broken_rules(metadata: &Value) -> Vec<String> {
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        OURS_ALLOWED.iter().map(|(name, deps)| (*name, deps.iter().copied().collect())).collect();
    let mut broken = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default();
        if FREE.contains(&name) {
            continue;
        }
        let deps: BTreeSet<&str> = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null() || d["kind"] == "build")
            .filter_map(|d| d["name"].as_str())
            .collect();
        match allowed.get(name) {
            Some(ours_allowed) => {
                for dep in deps.iter().filter(|d| d.starts_with("ledger")) {
                    if !ours_allowed.contains(dep) {
                        broken.push(format!(
                            "{name} depends on {dep}: DESIGN §2 allows only {ours_allowed:?}"
                        ));
                    }
                }
            }
            None => broken.push(format!("{name} is not in DESIGN §2's table: place it there")),
        }
        for (crate_name, owners) in ONLY_IN {
            if deps.contains(crate_name) && !owners.contains(&name) {
                broken.push(format!(
                    "{name} depends on {crate_name}, which belongs in {owners:?} only"
                ));
            }
        }
        if PURE.contains(&name) {
            for io in IO_CRATES.iter().filter(|io| deps.contains(*io)) {
                broken.push(format!("{name} is pure (no IO, no async) but depends on {io}"));
            }
        }
        if ADAPTERS.contains(&name) {
            // Through one of its own features, too (`x = ["ledger-office/test-support"]`).
            let own = package["features"].as_object().into_iter().flat_map(|f| f.values());
            if own
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str)
                .any(|f| f == format!("ledger-office/{TEST_SUPPORT}"))
            {
                broken.push(format!(
                    "{name} enables ledger-office's {TEST_SUPPORT} through a feature of its own"
                ));
            }
            // An adapter's own tests may build an office with its test hooks (the desktop
            // records the UI's fixtures from a seeded office); cargo does not carry a
            // dev-dependency's features into the shipped build, and CI checks the adapters
            // without them.
            let shipped = package["dependencies"].as_array().into_iter().flatten();
            for dep in shipped.filter(|dep| dep["kind"] != "dev") {
                let features = dep["features"].as_array().into_iter().flatten();
                if dep["name"] == "ledger-office"
                    && features.filter_map(Value::as_str).any(|f| f == TEST_SUPPORT)
                {
                    broken.push(format!(
                        "{name} enables ledger-office's {TEST_SUPPORT}: adapters call Office \
                         methods, never its store"
                    ));
                }
            }
        }
    }
    broken
}

/// The adapters: one call into `Office` per command, never its store.
const ADAPTERS: &[&str] = &["ledger-cli", "ledger", "ledger-desktop"];
/// The `ledger-office` feature that opens `Office::store()` to tests and benchmarks.
const TEST_SUPPORT: &str = "test-support";

#[test]
fn every_crate_depends_only_the_way_design_draws() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: BTreeSet<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    // The check saw the workspace, not an empty list.
    for crate_name in ["ledger-domain", "ledger-office", "ledger-hub", "ledger-desktop"] {
        assert!(names.contains(crate_name), "{crate_name} missing from {names:?}");
    }
    let broken = broken_rules(&metadata);
    assert!(broken.is_empty(), "layer rules broken:\n{}", broken.join("\n"));
}

#[test]
fn the_check_finds_a_dependency_against_the_layers() {
    let metadata = serde_json::json!({
        "packages": [
            { "name": "ledger-domain", "dependencies": [
                { "name": "tokio", "kind": null },
                { "name": "proptest", "kind": "dev" },
            ] },
            { "name": "ledger-cli", "dependencies": [
                { "name": "ledger-office", "kind": null },
                { "name": "ledger-store", "kind": null },
                { "name": "rusqlite", "kind": null },
            ] },
            { "name": "ledger-tests", "dependencies": [
                { "name": "rusqlite", "kind": null },
                { "name": "ledger-office", "kind": null, "features": ["test-support"] },
            ] },
            { "name": "ledger-sideways", "dependencies": [] },
            { "name": "ledger-desktop", "dependencies": [
                { "name": "ledger-office", "kind": null, "features": ["test-support"] },
                { "name": "ledger-office", "kind": "dev", "features": ["ts", "test-support"] },
            ] },
            { "name": "ledger", "features": { "inspect": ["ledger-office/test-support"] },
              "dependencies": [{ "name": "ledger-office", "kind": null, "features": [] }] },
        ]
    });
    let broken = broken_rules(&metadata);
    assert_eq!(broken.len(), 6, "{broken:#?}");
    assert!(broken[4].starts_with("ledger-desktop enables ledger-office's test-support"));
    assert!(broken[5].starts_with("ledger enables ledger-office's test-support through"));
    assert!(broken[0].contains("ledger-domain is pure") && broken[0].contains("tokio"));
    assert!(broken[1].starts_with("ledger-cli depends on ledger-store"));
    assert!(broken[2].starts_with("ledger-cli depends on rusqlite"));
    assert!(broken[3].starts_with("ledger-sideways is not in"));
}
