//! Several hub processes on one database (issue 15): township offices push through two hubs
//! while bureau devices pull through both, and every puller ends with every change.
//!
//! On PostgreSQL the two hubs are two servers with stores of their own (two connection pools,
//! two engines with their own document caches: to the database and to each other, two
//! processes), one of them pausing between numbering its log rows and committing, the window
//! in which a naive sequence shows a later row before an earlier one (`crates/hub/tests/
//! ordering.rs` shows the naive store losing rows in it). On SQLite the same run goes through
//! one hub.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ledger_domain::{CaseId, Role};
use ledger_hub::{HubStore, PgHubStore, PgOptions, SqliteHubStore};
use ledger_tests::{TestHub, TestOffice, case_input, pg, test_pki};

const TODAY: &str = "2026-11-20";
const TOWNSHIPS: usize = 6;
const ROUNDS: usize = 3;
const CASES_PER_ROUND: usize = 2;

/// Townships enrolled round-robin on `hubs` register and edit cases and sync, all at once,
/// while a bureau device on each hub pulls over and over; then every puller syncs once more
/// and must hold every township's every change.
async fn push_through_while_others_pull(hubs: &[TestHub]) {
    let first = &hubs[0];
    let mut townships = Vec::new();
    for i in 0..TOWNSHIPS {
        let name = format!("第{i}镇");
        let token = first
            .add_office(&format!("t{i}"), &format!("{name}国土所"), Role::Township, &[&name])
            .unwrap();
        let hub = &hubs[i % hubs.len()];
        let office = TestOffice::enroll(&hub.url(), &token, "李娟", TODAY).await.unwrap();
        townships.push((Arc::new(office), name));
    }
    let mut bureaus = Vec::new();
    for hub in hubs {
        let token = match first.add_office("county", "县国土资源局", Role::Bureau, &[]) {
            Ok(token) => token,
            Err(_) => first.token("county").unwrap(),
        };
        bureaus
            .push(Arc::new(TestOffice::enroll(&hub.url(), &token, "刘洪", TODAY).await.unwrap()));
    }

    let pushed = Arc::new(AtomicBool::new(false));
    let mut pullers = tokio::task::JoinSet::new();
    for bureau in &bureaus {
        let (bureau, pushed) = (bureau.clone(), pushed.clone());
        pullers.spawn(async move {
            let mut pulls = 0;
            while !pushed.load(Ordering::SeqCst) {
                bureau.sync().await.unwrap();
                pulls += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            pulls
        });
    }
    let mut pushers = tokio::task::JoinSet::new();
    for (office, name) in &townships {
        let (office, name) = (office.clone(), name.clone());
        pushers.spawn(async move {
            let mut ids = Vec::new();
            for round in 0..ROUNDS {
                for k in 0..CASES_PER_ROUND {
                    let who = format!("村民{round}-{k}");
                    let input = case_input(&name, "本局接收", &who, "宅基地纠纷");
                    ids.push(office.office.register(&input, None).unwrap());
                }
                office.sync().await.unwrap();
            }
            ids
        });
    }
    let mut ids: Vec<CaseId> = Vec::new();
    while let Some(done) = pushers.join_next().await {
        ids.extend(done.unwrap());
    }
    pushed.store(true, Ordering::SeqCst);
    while let Some(pulls) = pullers.join_next().await {
        assert!(pulls.unwrap() > 0, "a bureau device pulled while the townships pushed");
    }

    for (i, bureau) in bureaus.iter().enumerate() {
        bureau.sync().await.unwrap();
        assert_eq!(
            bureau.office.case_count().unwrap(),
            (TOWNSHIPS * ROUNDS * CASES_PER_ROUND) as u64,
            "the bureau device on hub {i} holds every case"
        );
        for (office, _) in &townships {
            for id in office.office.store().case_ids().unwrap() {
                assert_eq!(
                    bureau.office.case(id).unwrap(),
                    office.office.case(id).unwrap(),
                    "hub {i}: case {id} as its township has it"
                );
            }
        }
    }
    assert_eq!(ids.len(), TOWNSHIPS * ROUNDS * CASES_PER_ROUND);
    for hub in hubs {
        hub.assert_log_exactly_once();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offices_pushing_through_two_hub_processes_on_postgres_reach_every_puller() {
    let url = pg::TestDb::create().keep();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let slow =
        PgOptions { pause_before_commit: Some(Duration::from_millis(20)), ..PgOptions::default() };
    let a: Arc<dyn HubStore> = Arc::new(PgHubStore::open_with(&url, dir_a.path(), slow).unwrap());
    // Every process serving one database signs with the same key.
    a.signing_key().unwrap();
    std::fs::copy(
        dir_a.path().join(ledger_hub::sqlite::KEY_FILE),
        dir_b.path().join(ledger_hub::sqlite::KEY_FILE),
    )
    .unwrap();
    let b: Arc<dyn HubStore> = Arc::new(PgHubStore::open(&url, dir_b.path()).unwrap());
    assert_eq!(a.signing_key().unwrap(), b.signing_key().unwrap());
    let hubs = [
        TestHub::serve_store(dir_a, a, Some(test_pki())).await.unwrap(),
        TestHub::serve_store(dir_b, b, Some(test_pki())).await.unwrap(),
    ];
    push_through_while_others_pull(&hubs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offices_pushing_through_one_hub_on_sqlite_reach_every_puller() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn HubStore> = Arc::new(SqliteHubStore::open(dir.path()).unwrap());
    let hub = TestHub::serve_store(dir, store, Some(test_pki())).await.unwrap();
    push_through_while_others_pull(&[hub]).await;
}
