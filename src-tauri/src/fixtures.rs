//! Recorded responses of the real office for the UI's mock shell: the test drives a real
//! [`Office`] (a bureau on a fixed clock) and writes what the commands answer into
//! `ui/src/api/fixtures/*.json`, which are checked in. The mock replays them instead of keeping
//! its own copy of the vocabularies and the county's rules. The test fails when a recorded file
//! is not what the office answers now, and prints the command that records them again:
//!
//! ```sh
//! UPDATE_FIXTURES=1 cargo test -p ledger-desktop fixtures
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use ledger_office::{Clock, Office, OfficeConfig, Role, RuleInput};
use serde::Serialize;

/// Where the fixtures live, from this crate's folder.
const FIXTURES: &str = "../ui/src/api/fixtures";

/// The day every recording is made (a fixed clock: 10:00 in China).
const TODAY: &str = "2026-11-20";

fn clock() -> Clock {
    let day: chrono::NaiveDate = TODAY.parse().unwrap();
    let ms = day.and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis();
    Arc::new(move || ms)
}

/// The mock's office: the county bureau the page test works as.
fn bureau(dir: &std::path::Path) -> Office {
    let mut config = OfficeConfig::new("county", "洞口县国土资源局", Role::Bureau);
    config.townships =
        ["黄桥镇", "高沙镇", "竹市镇", "石江镇", "山门镇", "醪田镇", "花园镇", "江口镇"]
            .map(str::to_owned)
            .to_vec();
    config.staff = ["李娟", "刘洪", "王敏"].map(str::to_owned).to_vec();
    Office::init(dir, config, clock()).unwrap()
}

fn json(value: impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    text.push('\n');
    text
}

/// Every fixture file by name, as the office answers now.
fn record() -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    let vocabularies =
        tauri::async_runtime::block_on(crate::commands::setup::vocabularies()).unwrap();
    out.insert("vocabularies.json", json(vocabularies));

    let dir = tempfile::tempdir().unwrap();
    let office = bureau(dir.path());
    out.insert("rules_view.json", json(office.rules_view().unwrap()));
    // The page test's change: the bureau names the reviewing body.
    let input = RuleInput {
        item: "county.review_body".to_owned(),
        value: "洞口县人民政府".to_owned(),
        ..RuleInput::default()
    };
    out.insert("set_rule_review_body.json", json(office.set_rule(&input).unwrap()));
    out
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FIXTURES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_what_the_office_answers() {
        let fresh = record();
        let dir = dir();
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            for (name, text) in &fresh {
                std::fs::write(dir.join(name), text).unwrap();
            }
            return;
        }
        for (name, text) in &fresh {
            let path = dir.join(name);
            let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                &checked_in == text,
                "{} is not what the office answers: run\n  \
                 UPDATE_FIXTURES=1 cargo test -p ledger-desktop fixtures\n\
                 and commit the files",
                path.display()
            );
        }
    }
}
