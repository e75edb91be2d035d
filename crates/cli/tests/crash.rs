//! Crash safety with real processes: `ledger` registers cases in a loop and is killed with
//! SIGKILL at random moments, 50 times. After each kill every case it had reported as saved is
//! present and whole, and `PRAGMA integrity_check` is ok.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt as _, SeedableRng as _};

const LEDGER: &str = env!("CARGO_BIN_EXE_ledger");

fn ledger(dir: &Path) -> Command {
    let mut cmd = Command::new(LEDGER);
    cmd.env("LEDGER_DATA_DIR", dir)
        .env("LEDGER_NOW", "2024-03-05")
        .env("LEDGER_PASSPHRASE", "测试台账口令-2026")
        .env_remove("LEDGER_HANDLER");
    cmd
}

#[test]
fn sigkill_mid_write_never_loses_a_reported_case() {
    let dir = tempfile::tempdir().unwrap();
    let status = ledger(dir.path())
        .args(["init", "--office", "hq", "--name", "黄桥镇国土所", "--role", "township"])
        .args(["--township", "黄桥镇", "--staff", "刘洪"])
        .status()
        .unwrap();
    assert!(status.success());
    let seed = std::env::var("LEDGER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    // Seeded, so a failure can be replayed from its seed.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut reported: Vec<String> = Vec::new();
    for round in 0..50 {
        let mut child = ledger(dir.path())
            .args(["write-loop", "--count", "100000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Let it open the store and write, then kill at a random moment within 20 to 400 ms.
        let deadline = Instant::now() + Duration::from_millis(rng.random_range(20..400));
        let mut this_round = 0;
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(5)) {
                reported.push(line.split(' ').next().unwrap().to_owned());
                this_round += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        // Lines already written before the kill count as reported too.
        for line in rx.try_iter() {
            reported.push(line.split(' ').next().unwrap().to_owned());
        }
        let _ = this_round;

        let out = ledger(dir.path()).arg("check").output().unwrap();
        assert!(
            out.status.success(),
            "round {round}: check failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "完好", "round {round}");
        let out = ledger(dir.path()).args(["case", "list", "--json"]).output().unwrap();
        assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let ids: std::collections::HashSet<&str> =
            listed.iter().filter_map(|v| v["id"].as_str()).collect();
        for id in &reported {
            assert!(
                ids.contains(id.as_str()),
                "round {round} (seed {seed}): case {id} was reported saved but is missing"
            );
        }
    }
    assert!(reported.len() > 50, "the loop wrote too little to test anything: {}", reported.len());
    // Every reported case is whole: its documents load and show what was written.
    for id in reported.iter().step_by(reported.len() / 25 + 1) {
        let out = ledger(dir.path()).args(["case", "show", id, "--json"]).output().unwrap();
        assert!(out.status.success(), "{id}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "registered");
        assert!(v["request"].as_str().unwrap().contains("违法建房"));
        assert_eq!(v["events"].as_array().unwrap().len(), 1);
        assert_eq!(v["submissions"].as_array().unwrap().len(), 1);
    }
}
