//! The README's command-line walk, run as written: every command between `<!-- cli-walk -->`
//! and `<!-- /cli-walk -->` runs with the built `ledger`, in order, in a fresh directory, and
//! must succeed; then the ledger must hold what the walk says it made.
//!
//! The commands are read by a small interpreter of the shell the walk uses (words, quotes,
//! comments, `export NAME=VALUE`, `NAME=$(command)`, `$NAME`), not by `sh`, so that each
//! command's exit is checked on its own and anything fancier fails here with a clear message
//! instead of passing silently.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

const LEDGER: &str = env!("CARGO_BIN_EXE_ledger");

/// The fenced blocks of the README between the walk's markers: (language, body).
fn walk_blocks() -> Vec<(String, String)> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    let start = text.find("<!-- cli-walk -->").expect("README lost its <!-- cli-walk --> marker");
    let end = text.find("<!-- /cli-walk -->").expect("README lost its <!-- /cli-walk --> marker");
    assert!(start < end, "the walk's markers are out of order");
    let mut blocks = Vec::new();
    let mut lines = text[start..end].lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.trim().strip_prefix("```") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push((lang.trim().to_owned(), body.join("\n")));
        }
    }
    blocks
}

/// One line of the walk, read as the shell reads it.
#[derive(Debug, PartialEq)]
enum Line {
    /// `export NAME=VALUE` or `NAME=VALUE`.
    Assign { name: String, value: String, export: bool },
    /// `NAME=$(command ...)`: the command's stdout, trailing newlines removed.
    Capture { name: String, words: Vec<String> },
    /// A command.
    Run(Vec<String>),
}

struct Shell {
    vars: HashMap<String, String>,
    exported: Vec<String>,
    dir: std::path::PathBuf,
}

impl Shell {
    fn new(dir: &Path) -> Self {
        let mut vars = HashMap::new();
        vars.insert("HOME".to_owned(), dir.display().to_string());
        vars.insert("PWD".to_owned(), dir.display().to_string());
        vars.insert("PATH".to_owned(), std::env::var("PATH").unwrap_or_default());
        Self { vars, exported: vec!["HOME".to_owned(), "PATH".to_owned()], dir: dir.to_owned() }
    }

    /// Splits `text` into words: quotes, `$NAME`/`${NAME}` expansion, `#` comments.
    fn words(&self, text: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' => words.extend(word.take()),
                '#' if word.is_none() => break,
                '\'' => {
                    let w = word.get_or_insert_with(String::new);
                    for q in chars.by_ref().take_while(|&q| q != '\'') {
                        w.push(q);
                    }
                }
                '"' => {
                    let w = word.get_or_insert_with(String::new);
                    while let Some(q) = chars.next() {
                        match q {
                            '"' => break,
                            '\\' if matches!(chars.peek(), Some('"' | '\\' | '$')) => {
                                w.extend(chars.next());
                            }
                            '$' => w.push_str(&self.expand(&mut chars)),
                            _ => w.push(q),
                        }
                    }
                }
                '$' => {
                    let value = self.expand(&mut chars);
                    word.get_or_insert_with(String::new).push_str(&value);
                }
                '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
                '|' | ';' | '&' | '<' | '>' | '`' | '(' | ')' => panic!(
                    "the README walk uses `{c}` in: {text}\n\
                     keep it to one plain command per line so the test can check each one"
                ),
                _ => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        words
    }

    /// The value of the variable after a `$`.
    fn expand(&self, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
        let mut name = String::new();
        if chars.peek() == Some(&'{') {
            chars.next();
            name.extend(chars.by_ref().take_while(|&c| c != '}'));
        } else {
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric() || **c == '_') {
                name.push(c);
                chars.next();
            }
        }
        assert!(!name.is_empty(), "a bare `$` in the README walk");
        self.vars
            .get(&name)
            .cloned()
            .unwrap_or_else(|| panic!("the README walk uses ${name} before setting it"))
    }

    fn parse(&self, line: &str) -> Option<Line> {
        let line = line.trim();
        let (export, rest) = match line.strip_prefix("export ") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, line),
        };
        let assignment = rest.split_once('=').filter(|(name, _)| {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        });
        if let Some((name, value)) = assignment {
            if let Some(inner) = value.strip_prefix("$(") {
                let (command, after) = inner.split_once(')').expect("an unclosed $( in the walk");
                assert!(self.words(after).is_empty(), "text after $(...) in: {line}");
                return Some(Line::Capture { name: name.to_owned(), words: self.words(command) });
            }
            let mut value = self.words(value);
            assert!(value.len() <= 1, "an assignment of several words in: {line}");
            return Some(Line::Assign {
                name: name.to_owned(),
                value: value.pop().unwrap_or_default(),
                export,
            });
        }
        assert!(!export, "an export without a value in: {line}");
        let words = self.words(line);
        (!words.is_empty()).then_some(Line::Run(words))
    }

    /// Runs one command (`ledger ...`) and checks that it succeeded.
    fn run(&self, words: &[String]) -> Output {
        let (program, args) = words.split_first().unwrap();
        assert_eq!(
            program, "ledger",
            "the README walk runs `{program}`; this test knows only ledger (and skips cargo)"
        );
        let mut cmd = Command::new(LEDGER);
        cmd.args(args).current_dir(&self.dir).env_clear();
        for name in &self.exported {
            cmd.env(name, &self.vars[name]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "README walk: `{}` failed ({}):\n{}{}",
            words.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs every line of the walk; returns how many commands ran.
    fn walk(&mut self, script: &str) -> usize {
        let mut ran = 0;
        for line in script.lines() {
            match self.parse(line) {
                None => {}
                // The test's own build already made the binary this test runs.
                Some(Line::Run(words)) if words[0] == "cargo" => {}
                Some(Line::Run(words)) => {
                    self.run(&words);
                    ran += 1;
                }
                Some(Line::Capture { name, words }) => {
                    let out = self.run(&words);
                    let value = String::from_utf8(out.stdout).unwrap();
                    self.vars.insert(name, value.trim_end_matches('\n').to_owned());
                    ran += 1;
                }
                Some(Line::Assign { name, value, export }) => {
                    if export && !self.exported.contains(&name) {
                        self.exported.push(name.clone());
                    }
                    self.vars.insert(name, value);
                }
            }
        }
        ran
    }

    fn ledger(&self, args: &[&str]) -> String {
        let words: Vec<String> =
            std::iter::once("ledger").chain(args.iter().copied()).map(str::to_owned).collect();
        String::from_utf8(self.run(&words).stdout).unwrap()
    }
}

#[test]
fn the_readme_cli_walk_runs_as_written() {
    let blocks = walk_blocks();
    let scripts: Vec<&str> =
        blocks.iter().filter(|(lang, _)| lang == "sh").map(|(_, body)| body.as_str()).collect();
    let json: Vec<&str> =
        blocks.iter().filter(|(lang, _)| lang == "json").map(|(_, body)| body.as_str()).collect();
    assert_eq!(scripts.len(), 1, "one sh block in the walk");
    assert_eq!(json.len(), 1, "the walk's case.json");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("case.json"), json[0]).unwrap();
    let mut shell = Shell::new(dir.path());
    let ran = shell.walk(scripts[0]);
    assert!(ran >= 10, "the walk ran only {ran} commands");

    // What the walk says it made.
    let data = shell.vars.get("LEDGER_DATA_DIR").expect("the walk sets LEDGER_DATA_DIR");
    assert!(Path::new(data).join("ledger.db").exists(), "the ledger is in {data}");
    let id = &shell.vars["ID"];
    let show: serde_json::Value =
        serde_json::from_str(&shell.ledger(&["case", "show", id, "--json"])).unwrap();
    assert_eq!(show["status"], "replied", "{show}");
    assert_eq!(show["track"], "检举控告办理", "proposed from 检举控告: {show}");
    let rules = shell.ledger(&["rules"]);
    assert!(rules.contains("复查机关：洞口县人民政府"), "the walk set it: {rules}");
    assert!(rules.contains("违法占地建设：《中华人民共和国土地管理法》第七十七条"), "{rules}");
    assert_eq!(show["documents"].as_array().unwrap().len(), 1, "the issued 信访处理意见书");
    assert!(shell.ledger(&["case", "show", id]).contains("状态：已答复"));
    let assigned: serde_json::Value =
        serde_json::from_str(&shell.ledger(&["case", "show", &shell.vars["ID2"], "--json"]))
            .unwrap();
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["township"], "黄桥镇");
    // The work records the walk made: one consultation, one outreach event, a filed list.
    let consults: serde_json::Value =
        serde_json::from_str(&shell.ledger(&["consult", "list", "--json"])).unwrap();
    assert_eq!(consults.as_array().unwrap().len(), 1, "{consults}");
    assert_eq!(consults[0]["state"]["fields"]["channel"], "phone", "电话 stored as its code");
    let outreach: serde_json::Value =
        serde_json::from_str(&shell.ledger(&["outreach", "list", "--json"])).unwrap();
    assert_eq!(outreach[0]["state"]["fields"]["leaflets"], 2000, "{outreach}");
    let month: serde_json::Value =
        serde_json::from_str(&shell.ledger(&["screening", "show", "--json"])).unwrap();
    assert_eq!(month["lists"].as_array().unwrap().len(), 1, "{month}");
    assert!(month["lists"][0]["filed"].is_object(), "the walk filed it: {month}");
    let duty: serde_json::Value =
        serde_json::from_str(&shell.ledger(&["duty", "show", "--days", "31", "--json"])).unwrap();
    let leaders: serde_json::Value =
        serde_json::from_str(&shell.ledger(&["leader", "list", "--json"])).unwrap();
    assert_eq!(leaders[0]["state"]["fields"]["matter"], "洞口-2024-A-0002", "{leaders}");
    assert!(duty["office"] == "county", "{duty}");
    for file in ["意见书.html", "统计.xlsx", "台账.csv", "county.db"] {
        assert!(dir.path().join(file).exists(), "the walk wrote {file}");
    }
}

#[test]
fn the_walk_interpreter_reads_the_shell_it_claims_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut shell = Shell::new(dir.path());
    shell.vars.insert("ID".to_owned(), "abc".to_owned());
    assert_eq!(
        shell
            .parse(r#"ledger case act "$ID" 调查核实 --text "已到 现场"  # a comment's "quote"'s"#),
        Some(Line::Run(
            ["ledger", "case", "act", "abc", "调查核实", "--text", "已到 现场"]
                .map(str::to_owned)
                .to_vec()
        ))
    );
    assert_eq!(
        shell.parse("ID2=$(ledger case new --json case.json)   # prints the id"),
        Some(Line::Capture {
            name: "ID2".to_owned(),
            words: ["ledger", "case", "new", "--json", "case.json"].map(str::to_owned).to_vec()
        })
    );
    assert_eq!(
        shell.parse(r#"export PATH="$HOME/bin:${ID}""#),
        Some(Line::Assign {
            name: "PATH".to_owned(),
            value: format!("{}/bin:abc", dir.path().display()),
            export: true
        })
    );
    assert_eq!(shell.parse("   # only a comment"), None);
    let chained =
        std::panic::catch_unwind(|| shell.parse("ledger backup --out a.db && ledger check"));
    assert!(chained.is_err(), "&& is refused, so a failure in the middle cannot hide");
    shell.walk(
        "export LEDGER_DATA_DIR=$HOME/l\nexport LEDGER_PASSPHRASE='县局台账口令2026'\n\
         ledger init --office c --name 县局 --role bureau",
    );
    assert!(dir.path().join("l/ledger.db").exists());
}
