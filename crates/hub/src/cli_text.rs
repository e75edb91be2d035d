//! What `ledger-hub`'s commands print for a person: Chinese help screens, times in the machine's
//! own zone, and columns lined up by display width.

use clap::{Arg, ArgAction, Command};

/// `cmd` with Chinese headings and Chinese help and version flags, throughout the tree. clap
/// writes its own headings and the texts of the flags it adds in English.
pub(crate) fn localized(cmd: Command) -> Command {
    let cmd = cmd
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .global(true)
                .action(ArgAction::Help)
                .help("显示帮助"),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("显示版本"),
        );
    with_template(cmd)
}

/// The template names only the sections a command has: an empty heading reads as a mistake.
fn with_template(cmd: Command) -> Command {
    let mut template = String::from("{before-help}{about-with-newline}\n用法：{usage}\n");
    if cmd.get_subcommands().next().is_some() {
        template.push_str("\n命令：\n{subcommands}\n");
    }
    if cmd.get_positionals().next().is_some() {
        template.push_str("\n参数：\n{positionals}\n");
    }
    template.push_str("\n选项：\n{options}{after-help}");
    cmd.help_template(template).mut_subcommands(with_template)
}

/// Formats moments in the machine's local time zone.
///
/// chrono is built here without its clock feature, which is what knows the zone; SQLite's
/// `localtime` asks the C library instead, which honours `TZ` and daylight saving per moment.
pub(crate) struct LocalTime {
    conn: rusqlite::Connection,
}

impl LocalTime {
    /// A formatter.
    pub(crate) fn new() -> anyhow::Result<Self> {
        Ok(Self { conn: rusqlite::Connection::open_in_memory()? })
    }

    /// 2026-11-30 20:15（本机时间 UTC+08:00）, or 从未 for no moment.
    pub(crate) fn text(&self, ms: Option<i64>) -> anyhow::Result<String> {
        let Some(ms) = ms else { return Ok("从未".to_owned()) };
        let (local, offset_minutes): (String, i64) = self.conn.query_row(
            "SELECT strftime('%Y-%m-%d %H:%M', ?1, 'unixepoch', 'localtime'),
                    CAST(round((julianday(?1, 'unixepoch', 'localtime')
                                - julianday(?1, 'unixepoch')) * 1440) AS INTEGER)",
            [ms.div_euclid(1000)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(format!("{local}（本机时间 UTC{}）", offset_text(offset_minutes)))
    }
}

/// +08:00, -03:30.
fn offset_text(minutes: i64) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

pub(crate) use ledger_domain::text::display_width;

/// `text` followed by spaces up to `width` columns (at least one space, so columns never touch).
pub(crate) fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(display_width(text)).max(1)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cjk_takes_two_columns() {
        assert_eq!(display_width("hq"), 2);
        assert_eq!(display_width("罗溪瑶族乡"), 10);
        assert_eq!(display_width("黄桥镇国土所（hq）"), 18);
        assert_eq!(display_width(&pad("黄桥镇", 12)), 12);
        assert_eq!(display_width(&pad("sj", 12)), 12);
    }

    #[test]
    fn times_name_their_zone() {
        let t = LocalTime::new().unwrap();
        assert_eq!(t.text(None).unwrap(), "从未");
        let text = t.text(Some(1_796_000_000_000)).unwrap();
        assert!(text.contains("（本机时间 UTC"), "{text}");
        assert_eq!(offset_text(480), "+08:00");
        assert_eq!(offset_text(-210), "-03:30");
        assert_eq!(offset_text(0), "+00:00");
    }
}
