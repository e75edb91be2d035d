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

/// A database URL fit for a log: its password (in a `postgres://user:password@` URL, or a
/// `password=` setting) replaced with `***`.
pub fn redact(url: &str) -> String {
    if let Some(rest) =
        url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"))
    {
        let scheme = &url[..url.len() - rest.len()];
        // The user information ends at the last `@` before the host.
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!("{scheme}{}:***{}", &userinfo[..colon], &rest[at..]);
            }
        }
        return url.to_owned();
    }
    url.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.trim().eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
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
    }
}
