//! Chinese `--help`: clap writes its own headings ("Usage", "Options", "Commands") and the texts
//! of what it adds itself (`--help`, `--version`, the `help` subcommand) in English. This module
//! replaces them throughout the command tree so the whole screen reads in Chinese.

use clap::{Arg, ArgAction, ArgMatches, Command};

/// `cmd` with Chinese headings, Chinese help and version flags and a Chinese `help` subcommand.
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
        )
        .subcommand(
            Command::new("help")
                .about("显示某个命令的帮助（如 help case act）")
                .arg(Arg::new("command").num_args(0..).help("命令")),
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

/// Answers `ledger help [COMMAND...]` (the help of that command, like `--help`) and exits;
/// returns for every other command.
pub(crate) fn answer_help_command(mut cmd: Command, matches: &ArgMatches) {
    let Some(("help", sub)) = matches.subcommand() else { return };
    let path: Vec<&String> = sub.get_many::<String>("command").into_iter().flatten().collect();
    cmd.build();
    let mut target = &mut cmd;
    for name in &path {
        match target.find_subcommand_mut(name.as_str()) {
            Some(next) => target = next,
            None => {
                eprintln!("错误：没有命令「{name}」；运行 ledger --help 查看全部命令");
                std::process::exit(2);
            }
        }
    }
    let _ = target.print_help();
    std::process::exit(0);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::CommandFactory;

    use super::*;
    use crate::args::Cli;

    fn help_of(path: &[&str]) -> String {
        let mut args = vec!["ledger"];
        args.extend_from_slice(path);
        args.push("--help");
        let err = localized(Cli::command()).try_get_matches_from(args).unwrap_err();
        err.to_string()
    }

    /// Every heading and every text of the help screens is Chinese, apart from names and values.
    #[test]
    fn help_has_no_english_sentences() {
        for path in [&[][..], &["case"], &["case", "act"], &["report"], &["enroll"], &["bundle"]] {
            let help = help_of(path);
            for english in ["Usage", "Options", "Commands", "Arguments", "Print "] {
                assert!(!help.contains(english), "{path:?} shows {english}:\n{help}");
            }
            assert!(help.contains("用法："), "{help}");
        }
        assert!(help_of(&[]).contains("命令：\n"));
        let act = help_of(&["case", "act"]);
        assert!(act.contains("参数：\n"), "{act}");
        assert!(act.find("<ID>").unwrap() < act.find("<ACTION>").unwrap(), "in order: {act}");
        assert!(!help_of(&["report"]).contains("参数："), "no empty section");
    }

    #[test]
    fn the_command_tree_is_valid() {
        localized(Cli::command()).debug_assert();
    }
}
