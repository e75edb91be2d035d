//! The hub's configuration file (TOML, `--config` or `LEDGER_HUB_CONFIG`; the package installs
//! a commented one at `/etc/ledger-hub/hub.toml`). A setting given on the command line or in a
//! `LEDGER_HUB_*` variable wins over the file; the file wins over the built-in default.
//!
//! Parsing and redaction are pure: the binary reads the file and applies the result.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// What the file may set. An unknown key is an error (a misspelt setting silently ignored
/// would leave the hub running on a default the operator meant to change).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The data directory (`--data-dir`).
    pub data_dir: Option<PathBuf>,
    /// The PostgreSQL database (`--database-url`); the SQLite file in the data directory when
    /// absent.
    pub database_url: Option<String>,
    /// `serve --listen`.
    pub listen: Option<SocketAddr>,
    /// `serve --tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// `serve --tls-key`.
    pub tls_key: Option<PathBuf>,
    /// `serve --allow-http`.
    pub allow_http: Option<bool>,
    /// `--log-format`.
    pub log_format: Option<LogFormat>,
    /// The log filter (`RUST_LOG` syntax, e.g. `ledger_hub=info`); `RUST_LOG` wins.
    pub log_level: Option<String>,
}

/// How the hub writes its log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for a person.
    #[default]
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

/// A configuration file that does not read.
#[derive(Debug, thiserror::Error)]
#[error("配置文件有误：{0}")]
pub struct ConfigError(String);

/// Reads the file's text.
pub fn parse(text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError(e.to_string()))
}

/// A database URL fit for a log: every password (in a `postgres://user:password@` URL, a
/// `password=` query parameter, or a `password=` setting, quoted or not) replaced with `***`.
pub fn redact(url: &str) -> String {
    let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"))
    else {
        return redact_settings(url);
    };
    let scheme = &url[..url.len() - rest.len()];
    let (authority_and_path, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    // The user information ends at the last `@` (a password may hold `/` or `@` unencoded).
    let mut out = String::from(scheme);
    match authority_and_path.rfind('@') {
        Some(at) => {
            let userinfo = &authority_and_path[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => out.push_str(&format!("{user}:***")),
                None => out.push_str(userinfo),
            }
            out.push_str(&authority_and_path[at..]);
        }
        None => out.push_str(authority_and_path),
    }
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// `key=value` settings with every `password` value (quoted or not) replaced with `***`.
fn redact_settings(settings: &str) -> String {
    let mut out = String::new();
    let mut rest = settings;
    while let Some(at) = find_key(rest, "password") {
        out.push_str(&rest[..at]);
        let after_key = &rest[at + "password".len()..];
        let trimmed = after_key.trim_start();
        let Some(value) = trimmed.strip_prefix('=') else {
            out.push_str("password");
            rest = after_key;
            continue;
        };
        let value = value.trim_start();
        let consumed = if let Some(quoted) = value.strip_prefix('\'') {
            // Up to the closing quote, `\'` inside it escaped.
            let mut end = quoted.len();
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = i + 1;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            1 + end
        } else {
            value.find(char::is_whitespace).unwrap_or(value.len())
        };
        out.push_str("password=***");
        rest = &value[consumed.min(value.len())..];
    }
    out.push_str(rest);
    out
}

/// Where `key` starts as a whole word in `text`.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(key) {
        let at = from + i;
        let before = lower[..at].chars().next_back();
        if before.is_none_or(char::is_whitespace) {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commented_file_reads() {
        let text = r#"
            # the county hub
            data_dir = "/var/lib/ledger-hub"
            listen = "0.0.0.0:8750"
            log_format = "json"
            allow_http = false
        "#;
        let config = parse(text).unwrap();
        assert_eq!(config.data_dir, Some(PathBuf::from("/var/lib/ledger-hub")));
        assert_eq!(config.listen, Some("0.0.0.0:8750".parse().unwrap()));
        assert_eq!(config.log_format, Some(LogFormat::Json));
        assert_eq!(config.allow_http, Some(false));
        assert_eq!(config.database_url, None);
        assert_eq!(parse("").unwrap(), FileConfig::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let err = parse("listn = \"0.0.0.0:8750\"").unwrap_err().to_string();
        assert!(err.contains("listn"), "{err}");
        assert!(parse("listen = \"not an address\"").is_err());
        assert!(parse("log_format = \"xml\"").is_err());
    }

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://hub:s3cret@db.example:5432/ledger"),
            "postgres://hub:***@db.example:5432/ledger"
        );
        assert_eq!(redact("postgresql://a:p@ss@host/db"), "postgresql://a:***@host/db");
        assert_eq!(redact("postgres://hub@db/ledger"), "postgres://hub@db/ledger");
        assert_eq!(
            redact("host=/run/postgresql user=hub password=s3cret dbname=ledger"),
            "host=/run/postgresql user=hub password=*** dbname=ledger"
        );
        assert!(!redact("postgres://u:pw@h/d?x=1").contains("pw"));
        assert_eq!(
            redact("postgres://hub@db/ledger?sslmode=disable&password=s3cret"),
            "postgres://hub@db/ledger?sslmode=disable&password=***"
        );
        assert_eq!(redact("postgres://hub:pa/ss@db/x"), "postgres://hub:***@db/x");
        assert_eq!(redact("host=db password='a b\\' c' user=hub"), "host=db password=*** user=hub");
        assert_eq!(redact("host=db password = s3cret"), "host=db password=***");
        for leaky in [
            "postgres://hub:s3cret@db/x",
            "postgres://hub@db/x?password=s3cret",
            "postgres://hub:s3/cret@db/x",
            "host=db password='s3cret and more'",
            "host=db PASSWORD=s3cret",
        ] {
            assert!(!redact(leaky).contains("s3"), "{leaky} -> {}", redact(leaky));
        }
    }
}
