//! 同步问题: what sync skipped and a person should look at (something from the hub that does
//! not read here), in words, kept until the clerk has looked. Apart from the recovery report,
//! which a recovery starts afresh and hands to whoever asked for it: these wait for the sync
//! screen (`SyncStatus::unresolved` counts them, and the header says 同步出错 meanwhile).

use crate::Office;
use crate::error::Result;

/// The list, JSON.
pub(super) const PROBLEMS: &str = "sync.problems";

impl Office {
    /// What sync skipped and a person should look at, oldest first, in words. They stay until
    /// [`Office::dismiss_sync_problems`]. A damaged list reads as empty: it is words for a
    /// person (each line is in the log too), and must not stop sync or its status.
    pub fn sync_problems(&self) -> Result<Vec<String>> {
        let Some(json) = self.store.meta(PROBLEMS)? else { return Ok(Vec::new()) };
        Ok(serde_json::from_str(&json).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the list of sync problems does not read; started afresh");
            Vec::new()
        }))
    }

    /// The clerk has looked at `seen` (as [`Office::sync_problems`] gave them): they leave the
    /// list; any that came after stay. Returns how many are left.
    pub fn dismiss_sync_problems(&self, seen: &[String]) -> Result<u64> {
        self.store.batch(|| {
            let left = without_seen(self.sync_problems()?, seen);
            self.meta_pairs(&[(PROBLEMS, Self::to_json(&left))])?;
            Ok(left.len() as u64)
        })
    }
}

/// `problems` less `seen`, each seen line taking away one equal line (the same words can name
/// two skipped items of one case).
fn without_seen(problems: Vec<String>, seen: &[String]) -> Vec<String> {
    let mut seen: Vec<&String> = seen.iter().collect();
    problems
        .into_iter()
        .filter(|p| match seen.iter().position(|s| *s == p) {
            Some(i) => {
                seen.swap_remove(i);
                false
            }
            None => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{PROBLEMS, without_seen};
    use crate::sync::repair_tests::township;

    fn lines(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn dismissing_takes_away_what_was_seen_once_each_and_keeps_what_came_after() {
        let problems = lines(&["甲", "乙", "甲", "丙"]);
        assert_eq!(without_seen(problems.clone(), &lines(&["甲", "乙"])), lines(&["甲", "丙"]));
        assert_eq!(without_seen(problems.clone(), &lines(&["甲", "甲", "丙"])), lines(&["乙"]));
        assert_eq!(without_seen(problems.clone(), &lines(&["丁"])), problems);
        assert!(without_seen(problems.clone(), &problems).is_empty());
    }

    #[test]
    fn a_damaged_list_reads_as_empty_and_the_status_still_reads() {
        let (_dir, office) = township();
        office.meta_pairs(&[(PROBLEMS, "[\"甲\", 7".to_owned())]).unwrap();
        assert!(office.sync_problems().unwrap().is_empty());
        assert_eq!(office.sync_status().unwrap().unresolved, 0);
        assert_eq!(office.dismiss_sync_problems(&[]).unwrap(), 0);
        assert_eq!(office.store.meta(PROBLEMS).unwrap().as_deref(), Some("[]"));
    }
}
