//! Two real `ledger-hub serve` processes on one PostgreSQL database (issue 15): a township syncs
//! through one, the bureau through the other, and each sees what the other did. The offices
//! are added with the `ledger-hub office` command against the same database, as county IT
//! would; both processes share one data directory (one signing key).

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

#[path = "support/office.rs"]
mod office;
#[path = "support/pg.rs"]
mod pg;

use office::{enroll, new_case, sync};

const HUB: &str = env!("CARGO_BIN_EXE_ledger-hub");

fn hub(dir: &Path, url: &str) -> Command {
    let mut command = Command::new(HUB);
    command.arg("--data-dir").arg(dir).args(["--database-url", url]);
    command
}

/// `ledger-hub office add` on the shared database; the token it prints last.
fn add_office(dir: &Path, url: &str, args: &[&str]) -> String {
    let out = hub(dir, url).args(["office", "add"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_owned()
}

/// A serving process and its address.
struct Serving {
    child: Child,
    url: String,
}

impl Serving {
    fn start(dir: &Path, url: &str) -> Self {
        let mut child = hub(dir, url)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}"));
        Self { url: addr.to_owned(), child }
    }
}

/// The body of `GET /metrics` from the process at `url` (`http://127.0.0.1:port`).
fn metrics(url: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response.split_once("\r\n\r\n").unwrap().1.to_owned()
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_and_the_bureau_sync_through_two_hub_processes() {
    let db = pg::TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.clone();
    let hq_token = add_office(
        dir.path(),
        &url,
        &["--code", "hq", "--name", "黄桥镇国土所", "--role", "township", "--township", "黄桥镇"],
    );
    let county_token = add_office(
        dir.path(),
        &url,
        &["--code", "county", "--name", "县国土资源局", "--role", "bureau"],
    );
    let one = Serving::start(dir.path(), &url);
    let two = Serving::start(dir.path(), &url);
    assert_ne!(one.url, two.url);

    let (_hq_dir, hq) = enroll(&one.url, hq_token, "李娟").await;
    let (_county_dir, bureau) = enroll(&two.url, county_token, "刘洪").await;
    let input = new_case("黄桥镇", "钱七");
    let id = hq.register(&input, None).unwrap();
    let up_hq = sync(&hq).await;
    assert!(up_hq.uploaded > 0, "{up_hq:?}");

    // The bureau, on the other process, gets the case and writes to it.
    sync(&bureau).await;
    let seen = bureau.case(id).unwrap();
    assert_eq!(seen.request, "界址纠纷");
    bureau
        .set_field(id, &ledger_domain::schema::CaseField::Request, "界址纠纷（县局已阅）")
        .unwrap();
    let up_bureau = sync(&bureau).await;
    assert!(up_bureau.uploaded > 0, "{up_bureau:?}");

    // And the township, through the first process, sees the bureau's edit.
    sync(&hq).await;
    assert_eq!(hq.case(id).unwrap().request, "界址纠纷（县局已阅）");

    // Each process counts its own work; both show the database pool.
    let accepted: f64 = [&one, &two]
        .iter()
        .map(|p| {
            let body = metrics(&p.url);
            assert!(body.contains("ledger_hub_db_connections{state=\"open\"}"), "{body}");
            body.lines()
                .find_map(|l| l.strip_prefix("ledger_hub_changes_accepted_total "))
                .unwrap()
                .parse::<f64>()
                .unwrap()
        })
        .sum();
    // At least what the offices counted as taken (an acknowledgment of a change sent again counts too).
    assert!(accepted >= (up_hq.uploaded + up_bureau.uploaded) as f64, "{accepted}");
    drop((one, two));
}
