//! Parallel ingest (issue 15): batches on different cases validate and commit at the same
//! time, and one case's batches never do. A store wrapper holds each commit until another
//! commit is inside the store too (or a second passes) and records which cases were in flight
//! together: with the engine's old global lock two commits were never inside at once.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ledger_domain::{CaseFacts, CaseId, Role};
use ledger_hub::store::{
    CaseScope, Commit, DeviceRecord, LogRow, OfficeRecord, QuarantineRecord, Reader, Result,
    StoredDoc, SyncHealth, TokenRecord,
};
use ledger_hub::{HubStore, MemoryHubStore};
use ledger_protocol::{BlobChunk, DocKind};
use uuid::Uuid;

#[path = "support/office.rs"]
mod office;

use office::{enroll, new_case, sync};

/// What the gate saw.
#[derive(Default)]
struct Seen {
    /// The cases of each commit inside the store now.
    inside: Vec<BTreeSet<CaseId>>,
    /// The most commits inside at once.
    most: usize,
    /// Two commits inside at once that shared a case.
    shared: bool,
}

/// A memory store whose commits, once armed, wait for company.
struct GateStore {
    inner: MemoryHubStore,
    armed: AtomicBool,
    seen: Mutex<Seen>,
    changed: Condvar,
    wait: Duration,
}

impl GateStore {
    fn new(wait: Duration) -> Self {
        Self {
            inner: MemoryHubStore::new(),
            armed: AtomicBool::new(false),
            seen: Mutex::new(Seen::default()),
            changed: Condvar::new(),
            wait,
        }
    }
}

impl HubStore for GateStore {
    fn commit(&self, commit: &Commit) -> Result<()> {
        if !self.armed.load(Ordering::SeqCst) {
            return self.inner.commit(commit);
        }
        let cases: BTreeSet<CaseId> = commit.docs.iter().map(|d| d.case_id).collect();
        let mut seen = self.seen.lock().unwrap();
        seen.shared |= seen.inside.iter().any(|other| !other.is_disjoint(&cases));
        seen.inside.push(cases.clone());
        seen.most = seen.most.max(seen.inside.len());
        self.changed.notify_all();
        // Until two have been inside together (the other may be gone again when this one wakes).
        let (mut seen, _) =
            self.changed.wait_timeout_while(seen, self.wait, |s| s.most < 2).unwrap();
        // Once two met, the rest of the run goes ungated.
        if seen.most >= 2 {
            self.armed.store(false, Ordering::SeqCst);
        }
        let result = self.inner.commit(commit);
        if let Some(at) = seen.inside.iter().position(|c| *c == cases) {
            seen.inside.remove(at);
        }
        self.changed.notify_all();
        result
    }

    fn add_office(&self, office: &OfficeRecord) -> Result<()> {
        self.inner.add_office(office)
    }

    fn office(&self, code: &str) -> Result<Option<OfficeRecord>> {
        self.inner.office(code)
    }

    fn offices(&self) -> Result<Vec<OfficeRecord>> {
        self.inner.offices()
    }

    fn add_token(&self, office: &str, hash: &str, expires_at: i64) -> Result<()> {
        self.inner.add_token(office, hash, expires_at)
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        self.inner.token(hash)
    }

    fn use_token(&self, hash: &str, device: &DeviceRecord, credential_hash: &str) -> Result<()> {
        self.inner.use_token(hash, device, credential_hash)
    }

    fn device_by_credential(&self, hash: &str) -> Result<Option<(DeviceRecord, String)>> {
        self.inner.device_by_credential(hash)
    }

    fn device(&self, id: &str) -> Result<Option<DeviceRecord>> {
        self.inner.device(id)
    }

    fn register_device_key(&self, id: &str, public_key: &str) -> Result<bool> {
        self.inner.register_device_key(id, public_key)
    }

    fn signing_key(&self) -> Result<String> {
        self.inner.signing_key()
    }

    fn devices(&self, office: Option<&str>) -> Result<Vec<DeviceRecord>> {
        self.inner.devices(office)
    }

    fn revoke(&self, office: &str, device: Option<&str>, now: i64) -> Result<usize> {
        self.inner.revoke(office, device, now)
    }

    fn actor_office(&self, actor: &str) -> Result<Option<String>> {
        self.inner.actor_office(actor)
    }

    fn register_actor(&self, actor: &str, device: &str, office: &str) -> Result<()> {
        self.inner.register_actor(actor, device, office)
    }

    fn record_sync(&self, device: &str, health: &SyncHealth) -> Result<()> {
        self.inner.record_sync(device, health)
    }

    fn secret(&self) -> Result<[u8; 32]> {
        self.inner.secret()
    }

    fn doc(&self, case: CaseId, kind: DocKind) -> Result<Option<StoredDoc>> {
        self.inner.doc(case, kind)
    }

    fn doc_version(&self, case: CaseId, kind: DocKind) -> Result<Option<i64>> {
        self.inner.doc_version(case, kind)
    }

    fn has_change(&self, hash: &str) -> Result<bool> {
        self.inner.has_change(hash)
    }

    fn doc_change_hashes(&self, case: CaseId, kind: DocKind) -> Result<Vec<String>> {
        self.inner.doc_change_hashes(case, kind)
    }

    fn change(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        self.inner.change(hash)
    }

    fn case_scope(&self, case: CaseId) -> Result<Option<CaseScope>> {
        self.inner.case_scope(case)
    }

    fn log_after(&self, after: u64, reader: &Reader<'_>, limit: usize) -> Result<Vec<LogRow>> {
        self.inner.log_after(after, reader, limit)
    }

    fn head(&self) -> Result<u64> {
        self.inner.head()
    }

    fn scope_docs(
        &self,
        reader: &Reader<'_>,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
        skip_own: bool,
    ) -> Result<Vec<(CaseId, DocKind, CaseScope)>> {
        self.inner.scope_docs(reader, after, limit, skip_own)
    }

    fn log_eviction(&self, case: CaseId, office: &str, device: &str, at: i64) -> Result<()> {
        self.inner.log_eviction(case, office, device, at)
    }

    fn evictions(&self, case: CaseId) -> Result<Vec<(String, String, i64)>> {
        self.inner.evictions(case)
    }

    fn all_facts(&self) -> Result<Vec<CaseFacts>> {
        self.inner.all_facts()
    }

    fn case_ids(&self) -> Result<Vec<CaseId>> {
        self.inner.case_ids()
    }

    fn set_facts(&self, rows: &[(CaseId, CaseFacts)]) -> Result<()> {
        self.inner.set_facts(rows)
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.inner.meta(key)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.inner.set_meta(key, value)
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        self.inner.blob(hash)
    }

    fn blob_progress(&self, hash: &str) -> Result<Result<(), u64>> {
        self.inner.blob_progress(hash)
    }

    fn blob_piece(&self, chunk: &BlobChunk, now: i64) -> Result<()> {
        self.inner.blob_piece(chunk, now)
    }

    fn blob_cases(&self, hash: &str) -> Result<Vec<CaseId>> {
        self.inner.blob_cases(hash)
    }

    fn expire_uploads(&self, before: i64) -> Result<usize> {
        self.inner.expire_uploads(before)
    }

    fn device_actors(&self, device: &str) -> Result<Vec<String>> {
        self.inner.device_actors(device)
    }

    fn quarantine(&self, record: &QuarantineRecord, keep: usize) -> Result<()> {
        self.inner.quarantine(record, keep)
    }

    fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRecord>> {
        self.inner.quarantined(limit)
    }

    fn drop_merged(&self, id: Uuid) -> Result<bool> {
        self.inner.drop_merged(id)
    }

    fn has_leave(&self, case: CaseId, office: &str) -> Result<bool> {
        self.inner.has_leave(case, office)
    }

    fn lease(
        &self,
        office: &str,
        series: &str,
        device: &str,
        used: u64,
        size: u64,
        now: i64,
    ) -> Result<(u64, u64)> {
        self.inner.lease(office, series, device, used, size, now)
    }

    fn all_docs(
        &self,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
    ) -> Result<Vec<(CaseId, DocKind)>> {
        self.inner.all_docs(after, limit)
    }

    fn set_aside(&self, case: CaseId, kind: DocKind, reason: &str, now: i64) -> Result<()> {
        self.inner.set_aside(case, kind, reason, now)
    }

    fn is_set_aside(&self, case: CaseId, kind: DocKind) -> Result<bool> {
        self.inner.is_set_aside(case, kind)
    }

    fn purge_case(&self, case: CaseId, by: &str, leave_for: &[String], now: i64) -> Result<()> {
        self.inner.purge_case(case, by, leave_for, now)
    }

    fn is_purged(&self, case: CaseId) -> Result<bool> {
        self.inner.is_purged(case)
    }

    fn county_townships(&self) -> Result<Vec<String>> {
        self.inner.county_townships()
    }

    fn set_county_townships(&self, townships: &[String]) -> Result<()> {
        self.inner.set_county_townships(townships)
    }
}

/// A hub on `store`, serving plain HTTP on loopback until the returned sender is dropped.
async fn serve(store: Arc<dyn HubStore>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ledger_hub::serve(listener, ledger_hub::HubState::new(store), async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

fn add_office(store: &dyn HubStore, code: &str, role: Role, townships: &[&str]) -> String {
    store
        .add_office(&OfficeRecord {
            code: code.into(),
            name: format!("{code} 单位"),
            role,
            townships: townships.iter().map(|t| (*t).to_owned()).collect(),
            created_at: 0,
        })
        .ok();
    let token = ledger_hub::auth::new_token().unwrap();
    store
        .add_token(code, &ledger_hub::auth::hash_secret(&token), ledger_hub::now_ms() + 600_000)
        .unwrap();
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_on_different_cases_commit_at_the_same_time() {
    let gate = Arc::new(GateStore::new(Duration::from_secs(10)));
    let (url, _stop) = serve(gate.clone()).await;
    let (_a_dir, a) =
        enroll(&url, add_office(gate.as_ref(), "hq", Role::Township, &["黄桥镇"]), "李娟").await;
    let (_b_dir, b) =
        enroll(&url, add_office(gate.as_ref(), "sj", Role::Township, &["石江镇"]), "王五").await;
    // First syncs (rosters, rules) before the gate is armed.
    sync(&a).await;
    sync(&b).await;
    a.register(&new_case("黄桥镇", "钱七"), None).unwrap();
    b.register(&new_case("石江镇", "孙八"), None).unwrap();
    gate.armed.store(true, Ordering::SeqCst);
    let (up_a, up_b) = tokio::join!(sync(&a), sync(&b));
    assert!(up_a.uploaded > 0 && up_b.uploaded > 0);
    let seen = gate.seen.lock().unwrap();
    assert_eq!(seen.most, 2, "the two townships' batches were inside the store together");
    assert!(!seen.shared);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_on_one_case_commit_one_after_the_other() {
    // A second is long enough for the other batch to arrive, were it not held back.
    let gate = Arc::new(GateStore::new(Duration::from_secs(1)));
    let (url, _stop) = serve(gate.clone()).await;
    let token = add_office(gate.as_ref(), "hq", Role::Township, &["黄桥镇"]);
    let (_one_dir, one) = enroll(&url, token, "李娟").await;
    let (_two_dir, two) =
        enroll(&url, add_office(gate.as_ref(), "hq", Role::Township, &["黄桥镇"]), "王芳").await;
    let id = one.register(&new_case("黄桥镇", "钱七"), None).unwrap();
    sync(&one).await;
    sync(&two).await;
    assert!(two.case(id).is_ok(), "the second device has the case");
    one.set_field(id, &ledger_domain::schema::CaseField::Village, "大屋村一组").unwrap();
    two.set_field(id, &ledger_domain::schema::CaseField::Request, "界址纠纷（补充）").unwrap();
    gate.armed.store(true, Ordering::SeqCst);
    let (up_one, up_two) = tokio::join!(sync(&one), sync(&two));
    assert!(up_one.uploaded > 0 && up_two.uploaded > 0);
    {
        let seen = gate.seen.lock().unwrap();
        assert!(!seen.shared, "two batches on one case were inside the store together");
        assert_eq!(seen.most, 1);
    }
    // Both edits arrived, one after the other.
    sync(&one).await;
    let case = one.case(id).unwrap();
    assert_eq!((case.village.as_str(), case.request.as_str()), ("大屋村一组", "界址纠纷（补充）"));
}
