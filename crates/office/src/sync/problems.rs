//! 同步问题: what sync skipped and a person should look at (something from the hub that does
//! not read here), in words, kept until the clerk has looked. Apart from the recovery report,
//! which a recovery starts afresh and hands to whoever asked for it: these wait for the sync
//! screen (`SyncStatus::unresolved` counts them, and the header says 同步出错 meanwhile).

use crate::Office;
use crate::error::Result;

/// The list, JSON.
pub(super) const PROBLEMS: &str = "sync.problems";
/// How many older lines the bound below has dropped, not yet looked at.
pub(super) const DROPPED: &str = "sync.problems.dropped";
/// The most lines kept. A hub that sends unreadable records page after page (a hostile one)
/// must not grow the list, which every status reads, without end; every line is in the log
/// too, and the clerk is told how many were dropped.
const KEPT: usize = 200;

/// The list as stored: the newest lines, oldest first, and how many older ones were dropped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Problems {
    lines: Vec<String>,
    dropped: u64,
}

impl Problems {
    /// Adds a line; the oldest go once more than [`KEPT`] wait.
    pub(super) fn push(&mut self, line: String) {
        self.lines.push(line);
        self.trim();
    }

    fn trim(&mut self) {
        let over = self.lines.len().saturating_sub(KEPT);
        if over > 0 {
            self.lines.drain(..over);
            self.dropped = self.dropped.saturating_add(over as u64);
        }
    }

    /// Adds a line unless the same words already wait.
    pub(super) fn push_once(&mut self, line: String) {
        if !self.lines.contains(&line) {
            self.push(line);
        }
    }

    /// The meta pairs that store the list.
    pub(super) fn pairs(&self) -> [(&'static str, String); 2] {
        [(PROBLEMS, Office::to_json(&self.lines)), (DROPPED, self.dropped.to_string())]
    }

    /// What the clerk sees: a line for the dropped ones first, then the kept lines.
    fn shown(&self) -> Vec<String> {
        let mut shown = Vec::with_capacity(self.lines.len() + 1);
        if self.dropped > 0 {
            shown.push(dropped_line(self.dropped));
        }
        shown.extend(self.lines.iter().cloned());
        shown
    }

    /// Less what the clerk has seen, each seen line taking away one equal line (the same words
    /// can name two skipped items of one case). A seen count of dropped lines takes that many
    /// away: any dropped since stay counted.
    fn without_seen(self, seen: &[String]) -> Self {
        let mut seen: Vec<&String> = seen.iter().collect();
        let mut dropped = self.dropped;
        if let Some(i) = seen.iter().position(|s| dropped_count(s).is_some()) {
            dropped = dropped.saturating_sub(dropped_count(seen[i]).unwrap_or(0));
            seen.swap_remove(i);
        }
        let mut take = |line: &String| match seen.iter().position(|s| *s == line) {
            Some(i) => {
                seen.swap_remove(i);
                true
            }
            None => false,
        };
        let lines = self.lines.into_iter().filter(|l| !take(l)).collect();
        Self { lines, dropped }
    }
}

const DROPPED_BEFORE: &str = "另有 ";
const DROPPED_AFTER: &str =
    " 条更早的同步问题未在此列出（已记入本机日志）；如仍反复出现，请联系县局";

fn dropped_line(dropped: u64) -> String {
    format!("{DROPPED_BEFORE}{dropped}{DROPPED_AFTER}")
}

/// The count a line made by [`dropped_line`] says.
fn dropped_count(line: &str) -> Option<u64> {
    line.strip_prefix(DROPPED_BEFORE)?.strip_suffix(DROPPED_AFTER)?.parse().ok()
}

impl Office {
    /// What sync skipped and a person should look at, oldest first, in words. They stay until
    /// [`Office::dismiss_sync_problems`]. A damaged list reads as empty: it is words for a
    /// person (each line is in the log too), and must not stop sync or its status.
    pub fn sync_problems(&self) -> Result<Vec<String>> {
        Ok(self.stored_problems()?.shown())
    }

    /// The clerk has looked at `seen` (as [`Office::sync_problems`] gave them): they leave the
    /// list; any that came after stay. Returns how many are left.
    pub fn dismiss_sync_problems(&self, seen: &[String]) -> Result<u64> {
        self.store.batch(|| {
            let left = self.stored_problems()?.without_seen(seen);
            self.meta_pairs(&left.pairs())?;
            Ok(left.shown().len() as u64)
        })
    }

    /// Names one problem for the clerk outside a page (a page keeps its list in its state),
    /// unless the same words already wait.
    pub(super) fn note_sync_problem(&self, line: String) -> Result<()> {
        self.store.batch(|| {
            let mut problems = self.stored_problems()?;
            problems.push_once(line);
            self.meta_pairs(&problems.pairs())
        })
    }

    pub(super) fn stored_problems(&self) -> Result<Problems> {
        let lines = match self.store.meta(PROBLEMS)? {
            None => Vec::new(),
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the list of sync problems does not read; started afresh");
                Vec::new()
            }),
        };
        let dropped = self.store.meta(DROPPED)?.and_then(|n| n.parse().ok()).unwrap_or(0);
        // A list stored before the bound existed is bounded when read.
        let mut problems = Problems { lines, dropped };
        problems.trim();
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{DROPPED, KEPT, PROBLEMS, Problems, dropped_count, dropped_line};
    use crate::sync::repair_tests::township;

    fn lines(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn without_seen(problems: Vec<String>, seen: &[String]) -> Vec<String> {
        Problems { lines: problems, dropped: 0 }.without_seen(seen).lines
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
        office
            .meta_pairs(&[(PROBLEMS, "[\"甲\", 7".to_owned()), (DROPPED, "-3".to_owned())])
            .unwrap();
        assert!(office.sync_problems().unwrap().is_empty());
        assert_eq!(office.sync_status().unwrap().unresolved, 0);
        assert_eq!(office.dismiss_sync_problems(&[]).unwrap(), 0);
        assert_eq!(office.store.meta(PROBLEMS).unwrap().as_deref(), Some("[]"));
    }

    #[test]
    fn the_list_keeps_the_newest_lines_and_counts_the_dropped_until_that_count_is_seen() {
        let mut problems = Problems::default();
        for n in 0..KEPT + 5 {
            problems.push(format!("第{n}条"));
        }
        problems.push_once(format!("第{}条", KEPT + 4));
        let shown = problems.shown();
        assert_eq!(shown.len(), KEPT + 1);
        assert_eq!(shown[0], dropped_line(5));
        assert_eq!(shown[1], "第5条");
        assert_eq!(shown[KEPT], format!("第{}条", KEPT + 4));

        // Seen with the count it had: the count goes with it. Five more dropped since: those
        // five stay counted, since the clerk did not see them (and 第5条 went with them).
        let seen = vec![dropped_line(5), "第5条".to_owned()];
        let after = problems.clone().without_seen(&seen);
        assert_eq!((after.dropped, after.lines.len()), (0, KEPT - 1));
        for n in 0..5 {
            problems.push(format!("又一条{n}"));
        }
        let after = problems.without_seen(&seen);
        assert_eq!((after.dropped, after.lines.len()), (5, KEPT));
        assert_eq!(dropped_count(&dropped_line(123)), Some(123));
        assert_eq!(dropped_count("第5条"), None);
    }

    /// A hostile hub cannot grow the stored list: however many pages name problems, the
    /// office keeps the newest lines and says how many went; and a list stored unbounded by
    /// an older release is bounded when read.
    #[test]
    fn the_stored_list_stays_bounded_and_the_clerk_can_clear_the_count() {
        let (_dir, office) = township();
        let old: Vec<String> = (0..KEPT * 3).map(|n| format!("旧{n}")).collect();
        office.meta_pairs(&[(PROBLEMS, serde_json::to_string(&old).unwrap())]).unwrap();
        let shown = office.sync_problems().unwrap();
        assert_eq!(shown.len(), KEPT + 1);
        assert_eq!(shown[0], dropped_line(KEPT as u64 * 2));
        assert_eq!(office.sync_status().unwrap().unresolved, KEPT as u64 + 1);

        let mut stored = office.stored_problems().unwrap();
        stored.push("新".to_owned());
        office.meta_pairs(&stored.pairs()).unwrap();
        let stored_lines: Vec<String> =
            serde_json::from_str(&office.store.meta(PROBLEMS).unwrap().unwrap()).unwrap();
        assert_eq!(stored_lines.len(), KEPT);
        assert_eq!(office.store.meta(DROPPED).unwrap().as_deref(), Some("401"));

        let shown = office.sync_problems().unwrap();
        assert_eq!(office.dismiss_sync_problems(&shown[..1]).unwrap(), KEPT as u64);
        assert_eq!(office.dismiss_sync_problems(&office.sync_problems().unwrap()).unwrap(), 0);
        assert_eq!(office.sync_status().unwrap().unresolved, 0);
    }
}
