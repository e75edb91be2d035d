//! Files generated from the Rust side and checked in for the UI (the bindings, the recorded
//! fixtures): a test compares each with what the Rust side makes now, and writes it again when
//! the named environment variable is set.

use std::path::Path;

/// Fails unless the file at `path` holds `fresh`; with `update_var` set in the environment,
/// writes `fresh` there instead. The message names the command that writes the file again.
pub(crate) fn assert_checked_in(path: &Path, fresh: &str, update_var: &str, command: &str) {
    if std::env::var_os(update_var).is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, fresh).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "{} is not what the Rust side makes now: run\n  {update_var}=1 {command}\nand commit it",
        path.display()
    );
}
