//! Real office devices for the hub's own tests: enrolled over HTTP, syncing until done.

#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::sync::Arc;

use ledger_client::{SyncConfig, SyncTarget, sync_until_done};
use ledger_office::{Enrollment, HubAddress, Office};

/// A device of the office `token` enrolls, at 10:00 Beijing time on 2024-03-05.
pub async fn enroll(url: &str, token: String, staff: &str) -> (tempfile::TempDir, Arc<Office>) {
    let dir = tempfile::tempdir().unwrap();
    let enrollment = Enrollment {
        hub: HubAddress { url: url.to_owned(), ..HubAddress::default() },
        token,
        staff: vec![staff.to_owned()],
        device_name: "test".to_owned(),
        unlock: None,
    };
    // 10:00 Beijing time on 2024-03-05.
    let clock: ledger_office::Clock = Arc::new(|| 1_709_604_000_000);
    let office = Office::enroll(dir.path(), &enrollment, clock).await.unwrap().office;
    (dir, Arc::new(office))
}

/// Syncs until nothing is left to move.
pub async fn sync(office: &Arc<Office>) -> ledger_client::SyncReport {
    let config = SyncConfig {
        request_timeout: std::time::Duration::from_secs(10),
        backoff_base: std::time::Duration::from_millis(50),
        backoff_max: std::time::Duration::from_millis(500),
        ..SyncConfig::default()
    };
    let client = office.hub_client(config.request_timeout).unwrap();
    let target: Arc<dyn SyncTarget> = office.clone();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut budget = config.first_batch();
    sync_until_done(&client, &target, &config, deadline, &mut budget).await.unwrap()
}

/// A case of `township` brought by `name` at the counter.
pub fn new_case(township: &str, name: &str) -> ledger_domain::NewCase {
    ledger_domain::NewCase {
        submission: ledger_domain::NewSubmission {
            received: "2024-03-01".parse().ok(),
            channel: "来访".into(),
            source: "本局接收".into(),
            persons: Some(1),
            ..Default::default()
        },
        purpose: "申诉求决".into(),
        sector: "涉土".into(),
        category: "纠纷调处".into(),
        township: township.into(),
        request: "界址纠纷".into(),
        village: "大屋村".into(),
        petitioners: vec![ledger_domain::NewPetitioner {
            name: name.into(),
            address: "大屋村3组".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}
