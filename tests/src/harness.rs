//! A real hub and real offices for tests: the hub runs in-process on `127.0.0.1:0` over its
//! SQLite file in a temporary directory, serving HTTPS with a county CA made once per test
//! process ([`test_pki`]); each office is a real store in its own directory, enrolled over
//! HTTPS with a one-time token (trusting that CA as a county office would), syncing through the
//! real client.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use ledger_client::{ClientError, HubClient, SyncConfig, SyncReport, SyncTarget, sync_until_done};
use ledger_domain::{NewCase, NewPetitioner, NewSubmission, Role};
use ledger_hub::store::{LogKind, OfficeRecord, Reader};
use ledger_hub::tls::CountyPki;
use ledger_hub::{HubState, HubStore, PgHubStore, SqliteHubStore, auth};
use ledger_office::{Clock, Enrollment, HubAddress, Office};
use rustls::pki_types::pem::PemObject;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A fixed clock at 10:00 Beijing time on `date` (`2024-03-05`).
pub fn clock_at(date: &str) -> Clock {
    let ms = date
        .parse::<chrono::NaiveDate>()
        .ok()
        .and_then(|d| d.and_hms_opt(2, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0);
    Arc::new(move || ms)
}

/// A repeat visit on 2024-03-04 by one new petitioner.
pub fn repeat_visit(name: &str) -> ledger_office::SubmissionInput {
    ledger_office::SubmissionInput {
        submission: NewSubmission {
            received: "2024-03-04".parse().ok(),
            channel: "来访".into(),
            source: "本局接收".into(),
            persons: Some(1),
            ..Default::default()
        },
        petitioners: vec![NewPetitioner { name: name.into(), ..Default::default() }],
        representatives: Vec::new(),
    }
}

/// A 督办单 from `office`: its demand, reported on within ten days of the office's today, to the
/// township the case is assigned to.
pub fn supervision(office: &Office, demand: &str) -> ledger_office::ActionInput {
    ledger_office::ActionInput {
        action: Some(ledger_office::ActionKind::Supervise),
        text: Some(demand.into()),
        due: Some(office.today() + chrono::Days::new(10)),
        ..Default::default()
    }
}

/// A register-form input for a case in `township`.
pub fn case_input(township: &str, source: &str, name: &str, request: &str) -> NewCase {
    NewCase {
        submission: NewSubmission {
            received: "2024-03-01".parse().ok(),
            channel: "来访".into(),
            source: source.into(),
            persons: Some(2),
            ..Default::default()
        },
        purpose: if source.starts_with("12336") { "检举控告" } else { "申诉求决" }.into(),
        sector: "涉土".into(),
        category: "纠纷调处".into(),
        township: township.into(),
        request: request.into(),
        village: "大屋村".into(),
        petitioners: vec![NewPetitioner {
            name: name.into(),
            id_number: "11010519491231002X".into(),
            phone: "13812345678".into(),
            address: "大屋村3组".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The county CA and server certificate (for `localhost` and `127.0.0.1`) every test hub of
/// this process serves, made on first use.
pub fn test_pki() -> &'static CountyPki {
    static PKI: OnceLock<CountyPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let today = chrono::DateTime::from_timestamp_millis(ledger_hub::now_ms())
            .map(|t| t.date_naive())
            .unwrap_or_default()
            - chrono::Duration::days(1);
        ledger_hub::tls::make_county_pki(
            "测试县",
            &["localhost".to_owned(), "127.0.0.1".to_owned()],
            today,
        )
        .expect("a test CA")
    })
}

/// Writes the test county's server certificate and key where `ledger-hub serve` (and the
/// `fixture hub` process) look for them in the hub's data directory `dir`.
pub fn write_test_pki(dir: &Path) -> anyhow::Result<()> {
    let files = ledger_hub::tls::TlsFiles::under(dir);
    std::fs::create_dir_all(&files.dir)?;
    let pki = test_pki();
    std::fs::write(files.ca_cert(), &pki.ca_pem)?;
    std::fs::write(files.chain(), &pki.chain_pem)?;
    std::fs::write(files.key(), &pki.key_pem)?;
    Ok(())
}

/// What an office trusts for a hub at `url`: the test county's CA for `https://`.
pub fn test_trust(url: &str) -> Option<String> {
    url.starts_with("https://").then(|| test_pki().ca_pem.clone())
}

/// A TLS connection to a test hub at `addr`, trusting the test county's CA: for tests that
/// write HTTP by hand (slow bodies, lies in headers).
pub async fn raw_tls(
    addr: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(test_pki().ca_pem.as_bytes()) {
        roots.add(cert.map_err(std::io::Error::other)?).map_err(std::io::Error::other)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(std::io::Error::other)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await
}

/// Sends the hub at `addr` a sync request that declares a `length`-byte body (with
/// `credential`, if any) and only its first 4 KiB, and returns the first bytes of the answer:
/// what the hub says before reading a body it should not read. `None` when it has not answered
/// within 5 s.
pub async fn answer_to_declared_body(
    addr: SocketAddr,
    credential: Option<&str>,
    length: usize,
) -> std::io::Result<Option<String>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = raw_tls(addr).await?;
    let auth = credential.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-ledger-sync\r\n{auth}Content-Length: {length}\r\n\r\n",
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(&[0u8; 4096]).await?;
    let mut answer = vec![0u8; 512];
    match tokio::time::timeout(Duration::from_secs(5), s.read(&mut answer)).await {
        Ok(n) => Ok(Some(String::from_utf8_lossy(&answer[..n?]).to_string())),
        Err(_) => Ok(None),
    }
}

/// Posts a hand-made sync request with a device's credential; the status and the decoded
/// answer (the default when the body is not a sync answer).
pub async fn post_sync(
    url: &str,
    credential: &str,
    request: &ledger_protocol::SyncRequest,
) -> (u16, ledger_protocol::SyncResponse) {
    let resp = raw_http()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(credential)
        .body(ledger_protocol::encode(request).expect("a request encodes"))
        .send()
        .await
        .expect("the hub answers");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("the answer's body arrives");
    (status, ledger_protocol::decode(&body).unwrap_or_default())
}

/// A reqwest client that trusts the test county's CA, to send hand-made requests to a hub.
pub fn raw_http() -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(test_pki().ca_pem.as_bytes()) {
        roots.add(cert.expect("the test CA parses")).expect("the test CA is usable");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .build()
        .expect("a reqwest client")
}

/// What `LEDGER_TEST_HUB` says the hubs of the tests keep their records in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The SQLite file in the hub's data directory (the default).
    Sqlite,
    /// A database of its own on the PostgreSQL server `LEDGER_TEST_PG` names.
    Postgres,
}

/// The backend of this test run: `LEDGER_TEST_HUB=postgres` runs every [`TestHub`] on
/// PostgreSQL (CI runs the sync tests once so); unset or `sqlite`, on SQLite.
pub fn backend() -> Backend {
    match std::env::var("LEDGER_TEST_HUB").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("LEDGER_TEST_HUB={other}: expected sqlite or postgres"),
    }
}

/// The store of a hub whose data directory is `dir`: on PostgreSQL, the database named in the
/// directory (a restarted hub finds its records again), made on first use.
fn hub_store(dir: &Path) -> anyhow::Result<Arc<dyn HubStore>> {
    Ok(match backend() {
        Backend::Sqlite => Arc::new(SqliteHubStore::open(dir)?),
        Backend::Postgres => {
            let named = dir.join("test-database");
            let url = match std::fs::read_to_string(&named) {
                Ok(url) => url,
                Err(_) => {
                    let url = crate::pg::TestDb::create().keep();
                    std::fs::write(&named, &url)?;
                    url
                }
            };
            Arc::new(PgHubStore::open(&url, dir)?)
        }
    })
}

/// The hub, running in this process.
pub struct TestHub {
    dir: tempfile::TempDir,
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<HubState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestHub {
    /// Starts a hub on a fresh database.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        Self::start_in(dir).await
    }

    /// Starts a hub on the database in `dir` (a restart keeps it).
    pub async fn start_in(dir: tempfile::TempDir) -> anyhow::Result<Self> {
        Self::start_serving(dir, Some(test_pki())).await
    }

    /// Starts a hub serving the certificate of `pki` (`None`: plain HTTP, as before TLS).
    pub async fn start_serving(
        dir: tempfile::TempDir,
        pki: Option<&CountyPki>,
    ) -> anyhow::Result<Self> {
        let store = hub_store(dir.path())?;
        Self::serve_store(dir, store, pki).await
    }

    /// Starts a hub on `store` (whose data directory is `dir`).
    pub async fn serve_store(
        dir: tempfile::TempDir,
        store: Arc<dyn HubStore>,
        pki: Option<&CountyPki>,
    ) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = HubState::new(store);
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        let task = match pki {
            Some(pki) => {
                let tls = ledger_hub::tls::server_config(
                    pki.chain_pem.as_bytes(),
                    pki.key_pem.as_bytes(),
                )?;
                tokio::spawn(ledger_hub::tls::serve_tls(listener, state.clone(), tls, stopped))
            }
            None => tokio::spawn(ledger_hub::serve(listener, state.clone(), stopped)),
        };
        let scheme = if pki.is_some() { "https" } else { "http" };
        Ok(Self { dir, addr, scheme, state, stop: Some(stop), task: Some(task) })
    }

    /// `https://127.0.0.1:port` (`http://` for a hub started without TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The hub's store, to look behind the API.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        self.state.store()
    }

    /// The hub's sync engine, to drive it at a chosen time (`Engine::sync` takes `now`).
    pub fn engine(&self) -> &ledger_hub::Engine {
        &self.state.engine
    }

    /// A second store on this hub's records, as another hub process (or `ledger-hub bundle
    /// import` while this one serves) would open them.
    pub fn another_store(&self) -> anyhow::Result<Arc<dyn HubStore>> {
        hub_store(self.dir())
    }

    /// The hub's data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Adds an office and returns a token for its first device.
    pub fn add_office(
        &self,
        code: &str,
        name: &str,
        role: Role,
        townships: &[&str],
    ) -> anyhow::Result<String> {
        self.store().add_office(&OfficeRecord {
            code: code.into(),
            name: name.into(),
            role,
            townships: townships.iter().map(|t| (*t).to_owned()).collect(),
            created_at: ledger_hub::now_ms(),
        })?;
        self.token(code)
    }

    /// Another token for an office.
    pub fn token(&self, code: &str) -> anyhow::Result<String> {
        let token = auth::new_token()?;
        self.store().add_token(
            code,
            &auth::hash_secret(&token),
            ledger_hub::now_ms() + 86_400_000,
        )?;
        Ok(token)
    }

    /// Asserts that every change the hub holds is in its log exactly once (see
    /// [`assert_log_exactly_once`]).
    pub fn assert_log_exactly_once(&self) {
        assert_log_exactly_once(self.store().as_ref(), self.dir());
    }

    /// Stops the hub (requests in flight finish) and returns its directory for a restart.
    pub async fn stop(mut self) -> anyhow::Result<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("hub task")??;
        }
        let dir = tempfile::tempdir()?;
        Ok(std::mem::replace(&mut self.dir, dir))
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Asserts that every change the hub holds is in its log exactly once. Read through the store,
/// so it holds on either backend; a SQLite file in `dir` is checked for integrity too.
pub fn assert_log_exactly_once(store: &dyn HubStore, dir: &Path) {
    // A bureau reader no device is: every change row, and no enter or leave.
    let reader = Reader { office: "", device: "", bureau: true, townships: &[] };
    let mut logged: BTreeMap<String, usize> = BTreeMap::new();
    let mut cursor = 0;
    loop {
        let rows = store.log_after(cursor, &reader, 10_000).expect("the hub log reads");
        let Some(last) = rows.last() else { break };
        cursor = last.seq;
        for row in rows.iter().filter(|r| r.what == LogKind::Change) {
            *logged.entry(row.hash.clone().expect("a change row names its change")).or_default() +=
                1;
        }
    }
    let twice: Vec<&String> = logged.iter().filter(|(_, n)| **n > 1).map(|(h, _)| h).collect();
    assert!(twice.is_empty(), "changes logged twice: {twice:?}");
    let mut after = None;
    loop {
        let docs = store.all_docs(after, 1000).expect("the hub's documents list");
        let Some(last) = docs.last() else { break };
        after = Some(*last);
        for (case, kind) in &docs {
            for hash in store.doc_change_hashes(*case, *kind).expect("a document's changes") {
                assert!(logged.contains_key(&hash), "change {hash} of {case} is not in the log");
            }
        }
    }
    if dir.join("hub.db").exists() {
        let conn = rusqlite::Connection::open(dir.join("hub.db")).expect("hub.db");
        let ok: String =
            conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity check");
        assert_eq!(ok, "ok");
    }
}

/// An office device: a real store, enrolled with the hub.
pub struct TestOffice {
    /// The office facade.
    pub office: Arc<Office>,
    /// Its data directory.
    pub dir: tempfile::TempDir,
    client: HubClient,
    /// How it syncs.
    pub config: SyncConfig,
}

impl TestOffice {
    /// Enrolls a new device at `hub` (the hub or a proxy in front of it) with `token`.
    pub async fn enroll(hub: &str, token: &str, staff: &str, today: &str) -> anyhow::Result<Self> {
        let address =
            HubAddress { url: hub.to_owned(), ca_pem: test_trust(hub), ..HubAddress::default() };
        Self::enroll_at(address, token, staff, today).await
    }

    /// Enrolls a new device at the hub `address` says, trusting what it says.
    pub async fn enroll_at(
        address: HubAddress,
        token: &str,
        staff: &str,
        today: &str,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let enrollment = Enrollment {
            hub: address,
            token: token.to_owned(),
            staff: vec![staff.to_owned()],
            device_name: "test".to_owned(),
            // Plain stores keep these tests fast; tests/keys.rs covers the encrypted ones.
            unlock: None,
        };
        let office = Office::enroll(dir.path(), &enrollment, clock_at(today)).await?.office;
        let config = Self::config();
        let client = office.hub_client(config.request_timeout)?;
        Ok(Self { office: Arc::new(office), dir, client, config })
    }

    fn config() -> SyncConfig {
        SyncConfig {
            request_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_millis(500),
            ..SyncConfig::default()
        }
    }

    /// An office store already on disk in `dir`, opened and ready to sync.
    pub fn open(dir: tempfile::TempDir, today: &str) -> anyhow::Result<Self> {
        let office = Office::open(dir.path(), clock_at(today))?;
        let config = Self::config();
        let client = office.hub_client(config.request_timeout)?;
        Ok(Self { office: Arc::new(office), dir, client, config })
    }

    /// Syncs with `config` from now on (its request timeout included: the client is made
    /// again).
    pub fn set_config(&mut self, config: SyncConfig) -> anyhow::Result<()> {
        self.client = self.office.hub_client(config.request_timeout)?;
        self.config = config;
        Ok(())
    }

    /// The office as a sync target.
    pub fn target(&self) -> Arc<dyn SyncTarget> {
        self.office.clone()
    }

    /// The client it syncs with.
    pub fn client(&self) -> &HubClient {
        &self.client
    }

    /// Syncs until nothing is left to move (or 30 s pass).
    pub async fn sync(&self) -> Result<SyncReport, ClientError> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut budget = self.config.first_batch();
        sync_until_done(&self.client, &self.target(), &self.config, deadline, &mut budget).await
    }
}

/// A small county: the hub, the bureau (刘洪), 黄桥镇国土所 `a` (李娟) and 石江镇国土所 `b`
/// (王五), every device enrolled over HTTP.
pub struct County {
    /// The hub.
    pub hub: TestHub,
    /// 洞口县国土资源局, code `county`.
    pub bureau: TestOffice,
    /// 黄桥镇国土所, code `hq`.
    pub a: TestOffice,
    /// 石江镇国土所, code `sj`.
    pub b: TestOffice,
}

impl County {
    /// Starts the hub and enrolls the three offices, their clocks at `today`.
    pub async fn start(today: &str) -> anyhow::Result<Self> {
        let hub = TestHub::start().await?;
        let tb = hub.add_office("county", "洞口县国土资源局", Role::Bureau, &[])?;
        let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"])?;
        let tc = hub.add_office("sj", "石江镇国土所", Role::Township, &["石江镇"])?;
        let bureau = TestOffice::enroll(&hub.url(), &tb, "刘洪", today).await?;
        let a = TestOffice::enroll(&hub.url(), &ta, "李娟", today).await?;
        let b = TestOffice::enroll(&hub.url(), &tc, "王五", today).await?;
        Ok(Self { hub, bureau, a, b })
    }
}
