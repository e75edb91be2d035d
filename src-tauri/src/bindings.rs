//! The UI's contract, generated: TypeScript declarations of every type a command takes or
//! returns, written by ts-rs from the Rust types into `ui/src/api/generated/bindings.ts`, which
//! is checked in. The test fails when the checked-in file is not what the Rust types say; it
//! prints the command that writes it again:
//!
//! ```sh
//! UPDATE_BINDINGS=1 cargo test -p ledger-desktop bindings
//! ```
//!
//! Only the command types are named here; every type they contain follows (ts-rs walks the
//! fields), so a new field or a new vocabulary reaches the UI without a list to keep.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use ts_rs::{Config, TS, TypeVisitor};

/// Where the bindings live, from this crate's folder.
const BINDINGS: &str = "../ui/src/api/generated/bindings.ts";

/// Collects the declaration of a type and of everything it contains, by TypeScript name.
struct Collect<'a> {
    cfg: &'a Config,
    seen: HashSet<TypeId>,
    decls: BTreeMap<String, String>,
}

impl TypeVisitor for Collect<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Primitives and containers have no declaration of their own.
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let mut text = T::docs().unwrap_or_default();
        text.push_str("export ");
        text.push_str(&T::decl(self.cfg));
        let name = T::ident(self.cfg);
        if let Some(other) = self.decls.insert(name.clone(), text) {
            panic!("two Rust types are both `{name}` in TypeScript (the other: {other})");
        }
        T::visit_dependencies(self);
    }
}

/// The bindings file as the Rust types say it should be.
pub(crate) fn generate() -> String {
    // Every integer on the wire is a count, a day count or a time in ms: all well inside the
    // 2^53 a JavaScript number holds exactly.
    let cfg = Config::new().with_large_int("number");
    let mut c = Collect { cfg: &cfg, seen: HashSet::new(), decls: BTreeMap::new() };
    roots(&mut c);
    let mut out = String::from(
        "// Generated from the Rust types by `src-tauri/src/bindings.rs` (ts-rs). Do not edit:\n\
         // change the Rust type, then `UPDATE_BINDINGS=1 cargo test -p ledger-desktop bindings`.\n\
         /* eslint-disable */\n",
    );
    for decl in c.decls.values() {
        out.push('\n');
        out.push_str(decl);
        out.push('\n');
    }
    out
}

/// The types commands take and return (`commands.md`), and the events' payloads.
fn roots(c: &mut Collect<'_>) {
    use crate::commands::{cases, setup, sync};
    use ledger_office::{NewCase, Statistics};
    c.visit::<setup::AppState>();
    c.visit::<setup::Vocabularies>();
    c.visit::<setup::DemoRemoved>();
    c.visit::<ledger_office::OfficeConfig>();
    c.visit::<ledger_office::RulesView>();
    c.visit::<ledger_office::TownshipChoice>();
    c.visit::<cases::QueryInput>();
    c.visit::<cases::ActInput>();
    c.visit::<ledger_office::Page>();
    c.visit::<ledger_office::CaseView>();
    c.visit::<ledger_office::WorkInput>();
    c.visit::<ledger_office::WorkChange>();
    c.visit::<ledger_office::WorkView>();
    c.visit::<ledger_office::WorkTotals>();
    c.visit::<ledger_office::ScreeningView>();
    c.visit::<ledger_office::DutyOutlook>();
    c.visit::<NewCase>();
    c.visit::<ledger_office::SubmissionInput>();
    c.visit::<ledger_office::CountyRepeat>();
    c.visit::<crate::files::Purpose>();
    c.visit::<crate::files::DialogText>();
    c.visit::<crate::files::Picked>();
    c.visit::<ledger_office::DueList>();
    c.visit::<ledger_office::YearReport>();
    c.visit::<Statistics>();
    c.visit::<ledger_office::ImportReport>();
    c.visit::<ledger_office::WorkImportReport>();
    c.visit::<sync::SyncStatusView>();
    c.visit::<sync::Moved>();
    c.visit::<ledger_office::QuarantinedChange>();
    c.visit::<ledger_office::RecoveryReport>();
    c.visit::<crate::error::CommandError>();
    // The payloads of the events the shell emits (`sync-status` is `SyncStatusView`).
    c.visit::<crate::state::StoreChanged>();
    c.visit::<crate::state::ProgressEvent>();
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(BINDINGS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_what_the_rust_types_say() {
        // After an update, `cd ui && npx vue-tsc --noEmit` checks the UI against them.
        crate::checked_in::assert_checked_in(
            &path(),
            &generate(),
            "UPDATE_BINDINGS",
            "cargo test -p ledger-desktop bindings",
        );
    }

    /// One argument casing: every command reads the snake_case keys of `commands.md` (the
    /// bindings' field names), never Tauri's camelCase default.
    #[test]
    fn every_command_reads_snake_case_arguments() {
        let sources = [
            ("commands.rs", include_str!("commands.rs")),
            ("commands/cases.rs", include_str!("commands/cases.rs")),
            ("commands/reports.rs", include_str!("commands/reports.rs")),
            ("commands/setup.rs", include_str!("commands/setup.rs")),
            ("commands/sync.rs", include_str!("commands/sync.rs")),
        ];
        let mut commands = 0;
        for (file, text) in sources {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.starts_with("#[tauri::command") {
                    commands += 1;
                    assert_eq!(
                        line,
                        r#"#[tauri::command(rename_all = "snake_case")]"#,
                        "{file}:{}",
                        n + 1
                    );
                }
            }
        }
        assert!(commands > 30, "{commands} commands found");
    }

    #[test]
    fn coded_vocabularies_are_their_codes_or_a_newer_code() {
        let bindings = generate();
        assert!(
            bindings.contains(r#"export type Status = "registered" | "accepted""#),
            "{bindings}"
        );
        assert!(bindings.contains(r#"| (string & {});"#));
        // An i64 time is a number, not a bigint.
        assert!(!bindings.contains("bigint"));
    }
}
