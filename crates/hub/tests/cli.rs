//! The `ledger-hub` binary: administration commands on the database file, and `serve` starting,
//! printing its address and stopping cleanly on SIGTERM.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const HUB: &str = env!("CARGO_BIN_EXE_ledger-hub");

fn hub(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(HUB).arg("--data-dir").arg(dir).args(args).output().unwrap()
}

#[test]
fn office_commands_print_tokens_alone_on_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub(
        dir.path(),
        &[
            "office",
            "add",
            "--code",
            "hq",
            "--name",
            "黄桥镇国土所",
            "--role",
            "township",
            "--township",
            "黄桥镇",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap();
    assert_eq!(token.len(), 29, "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("令牌"));
    let out = hub(dir.path(), &["office", "token", "--code", "hq"]);
    let second = String::from_utf8(out.stdout).unwrap();
    assert_ne!(second.trim(), token);
    let out = hub(
        dir.path(),
        &["office", "add", "--code", "hq", "--name", "x", "--role", "township", "--township", "x"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("已存在"));
    let out =
        hub(dir.path(), &["office", "add", "--code", "t2", "--name", "x", "--role", "township"]);
    assert!(!out.status.success(), "a township office needs its townships");
    let out = hub(dir.path(), &["office", "list"]);
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.contains("黄桥镇国土所") && listed.contains("尚未接入"), "{listed}");
    let out = hub(dir.path(), &["office", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["office"]["code"], "hq");
    assert_eq!(list[0]["office"]["townships"][0], "黄桥镇");
    // Revoking an office with no device yet still voids its outstanding tokens.
    let out = hub(dir.path(), &["office", "revoke", "--code", "hq"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("作废其全部未使用的接入令牌"));
    let out = hub(dir.path(), &["office", "revoke", "--code", "hq", "--device", "nope"]);
    assert!(!out.status.success(), "no such device");
    let out = hub(dir.path(), &["office", "revoke", "--code", "nope"]);
    assert!(!out.status.success(), "no such office");
    let out = hub(dir.path(), &["office", "token", "--code", "nope"]);
    assert!(!out.status.success());
    // Only hashes are stored.
    let db = std::fs::read(dir.path().join("hub.db")).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));
}

#[test]
fn serve_prints_its_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(HUB)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(
        &mut stream,
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""));
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean shutdown: {exit:?}");
}

#[test]
fn a_damaged_bundle_is_refused_whole_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.lgb");
    std::fs::write(&junk, b"PK\x03\x04 not a bundle").unwrap();
    let out = hub(
        dir.path(),
        &[
            "bundle",
            "import",
            junk.to_str().unwrap(),
            "--out",
            dir.path().join("ret.lgb").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("不是信访台账的同步包"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("ret.lgb").exists(), "nothing written");
    let mut fake = b"LGBUNDLE\x02\x01".to_vec();
    fake.extend_from_slice(&[0u8; 40]);
    std::fs::write(&junk, &fake).unwrap();
    let out = hub(
        dir.path(),
        &[
            "bundle",
            "import",
            junk.to_str().unwrap(),
            "--out",
            dir.path().join("ret.lgb").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("不完整") || err.contains("损坏"), "{err}");
    // The first format, whose signature a copy of the hub's database could make.
    fake[8] = 1;
    std::fs::write(&junk, &fake).unwrap();
    let out = hub(
        dir.path(),
        &[
            "bundle",
            "import",
            junk.to_str().unwrap(),
            "--out",
            dir.path().join("ret.lgb").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("旧版软件导出") && err.contains("重新导出"), "{err}");
}

#[test]
fn township_set_replaces_the_list_in_order_and_list_names_who_answers() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub(dir.path(), &["township", "list"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ledger-hub township set"));

    let ok = |args: &[&str]| {
        let out = hub(dir.path(), args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    ok(&["township", "set", "洞口镇", "黄桥镇"]);
    ok(&["township", "set", "石江镇", "黄桥镇", "罗溪瑶族乡"]);
    ok(&[
        "office",
        "add",
        "--code",
        "hq",
        "--name",
        "黄桥镇国土所",
        "--role",
        "township",
        "--township",
        "黄桥镇",
    ]);
    let listed = ok(&["township", "list"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "replaced, not added to: {listed}");
    assert!(lines[0].starts_with("石江镇") && lines[0].ends_with("尚无国土所接入"), "{listed}");
    assert!(lines[1].starts_with("黄桥镇") && lines[1].contains("黄桥镇国土所（hq"), "{listed}");
    assert!(lines[2].starts_with("罗溪瑶族乡"), "{listed}");
    // The office column starts at the same screen column on every line, CJK counted double.
    let column = |line: &str| {
        let name: String = line.chars().take_while(|c| *c != ' ').collect();
        let spaces = line[name.len()..].chars().take_while(|c| *c == ' ').count();
        name.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>() + spaces
    };
    assert!(lines.iter().all(|l| column(l) == column(lines[0])), "{listed}");

    for (args, expected) in [
        (&["township", "set", "石江镇", " ", "黄桥镇"][..], "第 2 个乡镇名称是空的"),
        (&["township", "set", "石江镇", "黄桥镇", "石江镇"][..], "乡镇「石江镇」重复了"),
    ] {
        let out = hub(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{err}");
    }
    assert_eq!(ok(&["township", "list"]), listed, "a refused list changes nothing");
}

#[test]
fn help_is_chinese() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["office", "--help"], &["township", "set", "--help"]] {
        let out = hub(dir.path(), args);
        assert!(out.status.success());
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("用法：") && help.contains("选项："), "{help}");
        for english in ["Usage", "Options", "Commands", "Arguments", "Print "] {
            assert!(!help.contains(english), "{args:?} shows {english}:\n{help}");
        }
    }
}

/// Starts `ledger-hub serve` with `args`, returns it and the address line it printed.
fn spawn_serve(dir: &std::path::Path, args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(HUB)
        .arg("--data-dir")
        .arg(dir)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_owned())
}

fn stop(mut child: std::process::Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "clean shutdown");
}

#[test]
fn tls_init_makes_the_county_ca_and_serve_speaks_https_to_an_office_that_pinned_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub(dir.path(), &["tls", "init", "--name", "localhost", "--ip", "127.0.0.1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fingerprint = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("根证书"));
    // Renewal keeps the CA: offices change nothing.
    let again = hub(dir.path(), &["tls", "init", "--name", "localhost", "--ip", "127.0.0.1"]);
    assert_eq!(String::from_utf8(again.stdout).unwrap().trim(), fingerprint);
    assert!(String::from_utf8_lossy(&again.stderr).contains("沿用"));
    let printed = hub(dir.path(), &["tls", "fingerprint"]);
    assert_eq!(String::from_utf8(printed.stdout).unwrap().trim(), fingerprint);

    // The fingerprint is printed beside each token (stderr), the token alone on stdout.
    let out = hub(
        dir.path(),
        &["office", "add", "--code", "hq", "--name", "黄桥镇国土所", "--role", "township"]
            .into_iter()
            .chain(["--township", "黄桥镇"])
            .collect::<Vec<_>>(),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&fingerprint));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 29);

    let (child, line) = spawn_serve(dir.path(), &["--listen", "127.0.0.1:0"]);
    let url = line.strip_prefix("listening on ").unwrap().to_owned();
    assert!(url.starts_with("https://"), "{line}");

    let office_dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let enrollment = ledger_office::Enrollment {
        hub: ledger_office::HubAddress {
            url: url.clone(),
            fingerprint: Some(fingerprint),
            ..Default::default()
        },
        token,
        staff: vec!["李娟".to_owned()],
        device_name: "test".to_owned(),
        unlock: Some(ledger_office::Unlock::Passphrase("测试台账口令-2026".to_owned())),
    };
    let office = runtime
        .block_on(ledger_office::Office::enroll(
            office_dir.path(),
            &enrollment,
            ledger_office::system_clock(),
        ))
        .unwrap()
        .office;
    assert_eq!(office.config().code, "hq");
    let client = office.hub_client(std::time::Duration::from_secs(10)).unwrap();
    runtime.block_on(client.health(&url, std::time::Duration::from_secs(10))).unwrap();
    stop(child);

    // The key files are private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["tls/ca.key", "tls/server.key", "hub.db", "hub.key"] {
            let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
}

#[test]
fn plain_http_is_served_only_on_this_machine_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub(dir.path(), &["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tls init") && err.contains("--allow-http"), "{err}");
    let (child, line) = spawn_serve(dir.path(), &["--listen", "0.0.0.0:0", "--allow-http"]);
    assert!(line.starts_with("listening on http://"), "{line}");
    stop(child);
    // Half a certificate is a usage error, not a silent plain server.
    let out = hub(dir.path(), &["serve", "--tls-cert", "x.pem"]);
    assert!(!out.status.success());
}

/// `ledger-hub backup` copies the database to a new file that opens as the hub's records, is
/// private to the hub's user, and never overwrites; on PostgreSQL it points to pg_dump.
#[test]
fn backup_copies_the_database_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub(
        dir.path(),
        &[
            "office",
            "add",
            "--code",
            "hq",
            "--name",
            "黄桥镇国土所",
            "--role",
            "township",
            "--township",
            "黄桥镇",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copy_dir = tempfile::tempdir().unwrap();
    let file = copy_dir.path().join(ledger_hub::sqlite::DB_FILE);
    let out = hub(dir.path(), &["backup", "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hub.key"), "the key is named");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // The copy opens as a hub's records.
    let store = ledger_hub::SqliteHubStore::open(copy_dir.path()).unwrap();
    use ledger_hub::HubStore;
    assert_eq!(store.offices().unwrap()[0].code, "hq");
    drop(store);
    let before = std::fs::read(&file).unwrap();
    let out = hub(dir.path(), &["backup", "--out", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("已存在"));
    assert_eq!(std::fs::read(&file).unwrap(), before, "the existing file is untouched");
    let out = hub(
        dir.path(),
        &["--database-url", "host=/nonexistent", "backup", "--out", "/tmp/never-written.db"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}

/// A configuration file sets the data directory, the address and JSON logs; a setting on the
/// command line wins over it; a misspelt key stops the hub with the key named; a database
/// password in it never reaches the log.
#[test]
fn the_configuration_file_is_read_and_secrets_stay_out_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("hub.toml");
    std::fs::write(
        &config,
        format!(
            "# test\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:1\"\nlog_format = \"json\"\n",
            data.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(HUB)
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert!(
        line.starts_with("listening on http://127.0.0.1:"),
        "the command line's address: {line}"
    );
    assert!(!line.contains("127.0.0.1:1\n"));
    assert!(data.join(ledger_hub::sqlite::DB_FILE).exists(), "the file's data directory");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let logs = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = logs.lines().collect();
    assert!(!lines.is_empty());
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{l}");
    }

    std::fs::write(&config, "listn = \"127.0.0.1:0\"\n").unwrap();
    let out =
        Command::new(HUB).arg("--config").arg(&config).args(["office", "list"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("listn"));

    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\ndatabase_url = \"postgres://hub:s3cret-pw@127.0.0.1:1/ledger\"\n",
            data.display()
        ),
    )
    .unwrap();
    let out =
        Command::new(HUB).arg("--config").arg(&config).args(["office", "list"]).output().unwrap();
    assert!(!out.status.success(), "nothing listens on port 1");
    let said =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("PostgreSQL"), "{said}");
    assert!(!said.contains("s3cret-pw"), "{said}");
}
