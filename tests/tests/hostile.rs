//! Hostile offices (issue 10): a township device that has been lost, infected or misused, and
//! speaks the sync protocol itself with Automerge changes made by hand, against the real hub
//! over TCP with real office stores.
//!
//! Every test names one attack and asserts that its *effect* did not happen (the case is still
//! restricted, the bureau's record is unchanged, the identity never reached the township ...),
//! not merely that something was refused. After every attack [`County::after_attack`] checks
//! the same invariants: the hub is up and a normal sync succeeds, nothing panicked outside the
//! test code, every stored document loads at the hub and every case loads at every office, the
//! bureau's record of the attacked cases is unchanged, and no file of either township holds a
//! byte of the name, ID number or phone of an informant of a restricted case the bureau
//! registered.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use ledger_client::SyncTarget;
use ledger_domain::automerge::legacy::{
    ElementId, Key, ObjectId, Op as LegacyOperation, OpId, OpType as LegacyOp,
};
use ledger_domain::automerge::sync::{State as SyncState, SyncDoc};
use ledger_domain::automerge::transaction::{CommitOptions, Transactable, Transaction};
use ledger_domain::automerge::{
    ActorId, Automerge, Change, ExpandedChange, ObjType, ROOT, ReadDoc, ScalarValue,
};
use ledger_domain::schema::{self, CaseField};
use ledger_domain::{
    ActionKind, Case, CaseId, Event, EventHead, Identity, NewPetitioner, NewSubmission, Purpose,
    RegistrationContext, Role, Status,
};
use ledger_office::{ActionInput, SubmissionInput};
use ledger_protocol::{
    Cursor, DocKind as WireKind, DropPerson, ErrorBody, Hash, IdentityDrop, MIN_BATCH_BYTES,
    Partial, Record, RepairRequest, RepairSync, SyncRequest, SyncResponse, UpChange, decode,
    encode, heads_digest, roster_id,
};
use ledger_store::DocKind as StoreKind;
use ledger_tests::{TestHub, TestOffice, case_input, inject_outbox, supervision};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TODAY: &str = "2024-03-05";

// ---------------------------------------------------------------------------------------------
// Panics anywhere but in this test code (the hub's handlers, Automerge inside the hub, the
// offices' stores) are recorded, even when something catches them: catch_unwind may only be the
// last line of defence, never the check itself. The tests of this file run one at a time
// ([`exclusive`]) so that each panic is charged to the test it happened in.

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The tests of this file run one at a time, so a panic is charged to the test whose hub (or
/// office) it happened in.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits for the other tests of this file to finish, then starts with no panic on record.
async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    watch_panics();
    let guard = SERIAL.lock().await;
    PANICS.lock().unwrap_or_else(|p| p.into_inner()).clear();
    guard
}

fn watch_panics() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file().to_owned()).unwrap_or_default();
            // Assertions of the tests themselves (and their unwraps) are located in tests/.
            if !file.starts_with("tests/") && !file.contains("/tests/tests/") {
                let thread = std::thread::current().name().unwrap_or("?").to_owned();
                PANICS.lock().unwrap_or_else(|p| p.into_inner()).push(format!("[{thread}] {info}"));
            }
            previous(info);
        }));
    });
}

fn foreign_panics() -> Vec<String> {
    PANICS.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/// A valid 18-digit resident ID number (GB 11643 check digit) from its first 17 digits.
fn resident_id(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    let id = format!("{first17}{}", CHECK[(sum % 11) as usize]);
    assert!(ledger_domain::idcard::check_resident_id(&id).is_ok(), "{id}");
    id
}

/// A random id string (event ids, drop ids).
fn random_hex() -> String {
    ActorId::random().to_hex_string()
}

/// A random UUID (v4) as a case id.
fn random_case_id() -> CaseId {
    let mut b = ActorId::random().to_bytes().to_vec();
    b.resize(16, 0);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
        .parse()
        .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` (recursively) holding one of `secrets`, as "path holds secret".
fn leaks(dir: &Path, secrets: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else { continue };
            for s in secrets {
                if contains(&bytes, s.as_bytes()) {
                    out.push(format!("{} holds {s}", path.display()));
                }
            }
        }
    }
    out
}

/// The hash a change's bytes really have (or a made-up one for bytes that do not decode).
fn hash_of(bytes: &[u8]) -> Hash {
    Change::from_bytes(bytes.to_vec()).map(|c| Hash(c.hash().0)).unwrap_or(Hash([0xEE; 32]))
}

fn up(case: CaseId, kind: WireKind, bytes: Vec<u8>) -> UpChange {
    UpChange { case_id: case.0, kind, hash: hash_of(&bytes), bytes }
}

/// Commits `f` on `doc` as one change with Automerge time `time` (seconds); returns its bytes.
fn commit_on(doc: &mut Automerge, time: i64, f: impl FnOnce(&mut Transaction<'_>)) -> Vec<u8> {
    let mut tx = doc.transaction();
    f(&mut tx);
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(time));
    let hash = hash.expect("the forged transaction made a change");
    doc.get_change_by_hash(&hash).unwrap().raw_bytes().to_vec()
}

fn now_secs() -> i64 {
    ledger_hub::now_ms() / 1000
}

/// The office's own copy of a document, forked with the office device's own actor: what a
/// tampered device holds.
fn own_copy(o: &TestOffice, id: CaseId, kind: StoreKind) -> Automerge {
    let saved = o.office.store().save_doc(id, kind).unwrap();
    Automerge::load(&saved).unwrap().with_actor(o.office.store().actor())
}

/// One change made below the facade on the office's copy of a document, with its own actor.
fn forge(
    o: &TestOffice,
    id: CaseId,
    kind: StoreKind,
    f: impl FnOnce(&mut Transaction<'_>),
) -> Vec<u8> {
    let mut doc = own_copy(o, id, kind);
    commit_on(&mut doc, now_secs(), f)
}

/// Re-encodes a change after editing its decoded header or operations (re-hashed).
fn reencode(bytes: &[u8], f: impl FnOnce(&mut ExpandedChange)) -> Vec<u8> {
    let change = Change::from_bytes(bytes.to_vec()).unwrap();
    let mut expanded = change.decode();
    f(&mut expanded);
    expanded.hash = None;
    Change::from(expanded).raw_bytes().to_vec()
}

/// An event signed as `o` would sign it (the caller then falsifies what it wants).
fn event_by(o: &TestOffice, case: &Case, action: ActionKind) -> Event {
    let cfg = o.office.config();
    Event::new(EventHead {
        id: random_hex(),
        lamport: case.next_lamport(),
        action,
        actor: o.office.store().actor().to_hex_string(),
        office: cfg.code.clone(),
        role: cfg.role,
        handler: cfg.staff[0].clone(),
        at: o.office.now(),
        date: o.office.today(),
        imported: false,
    })
}

fn act(action: ActionKind) -> ActionInput {
    // A reply states its 处理意见 (信访工作条例 §32).
    let outcome = (action == ActionKind::Reply).then_some(ledger_domain::Outcome::Supported);
    ActionInput { action: Some(action), outcome, ..Default::default() }
}

fn with_text(action: ActionKind, text: &str) -> ActionInput {
    ActionInput { action: Some(action), text: Some(text.into()), ..Default::default() }
}

fn has_identity(o: &TestOffice, id: CaseId) -> bool {
    o.office.store().has_doc(id, StoreKind::Identity).unwrap()
}

fn restricted_at_hub(hub: &TestHub, id: CaseId) -> bool {
    hub.store().case_scope(id).unwrap().expect("the hub knows the case").restricted
}

// ---------------------------------------------------------------------------------------------
// The hostile client: the township's own credential, its own bodies.

struct Hostile {
    url: String,
    credential: String,
    http: reqwest::Client,
    /// Identity documents this caller must never receive.
    sealed: Vec<CaseId>,
}

impl Hostile {
    fn new(hub: &TestHub, o: &TestOffice, sealed: &[CaseId]) -> Self {
        let credential = o.office.store().meta("sync.credential").unwrap().unwrap();
        Self { url: hub.url(), credential, http: ledger_tests::raw_http(), sealed: sealed.to_vec() }
    }

    /// POSTs a body and returns the status and the body.
    async fn raw(&self, path: &str, credential: Option<&str>, body: Vec<u8>) -> (u16, Vec<u8>) {
        let mut req = self.http.post(format!("{}{path}", self.url)).body(body);
        if let Some(c) = credential {
            req = req.bearer_auth(c);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.bytes().await.unwrap().to_vec())
    }

    /// One sync exchange; anything but 200 fails the test. Checks the answer carries no sealed
    /// identity document.
    async fn exchange(&self, req: &SyncRequest) -> SyncResponse {
        let (status, body) =
            self.raw("/v1/sync", Some(&self.credential), encode(req).unwrap()).await;
        assert_eq!(status, 200, "hub answered {status}: {}", String::from_utf8_lossy(&body));
        let resp: SyncResponse = decode(&body).unwrap();
        self.assert_sealed(&resp);
        resp
    }

    fn assert_sealed(&self, resp: &SyncResponse) {
        for record in &resp.records {
            let (case, kind) = match record {
                Record::Change { case_id, kind, .. } | Record::Enter { case_id, kind, .. } => {
                    (*case_id, *kind)
                }
                _ => continue,
            };
            assert!(
                !(kind == WireKind::Identity && self.sealed.iter().any(|s| s.0 == case)),
                "the hub served the identity document of restricted case {case}"
            );
        }
    }

    /// Sends changes (and nothing else) and returns the reply.
    async fn push(&self, changes: Vec<UpChange>) -> SyncResponse {
        self.exchange(&SyncRequest {
            changes,
            page_bytes: MIN_BATCH_BYTES,
            device_time: ledger_hub::now_ms(),
            ..Default::default()
        })
        .await
    }

    /// Sends one change and asserts it was refused alone (not acknowledged, not stored).
    async fn refused(
        &self,
        hub: &TestHub,
        what: &str,
        change: UpChange,
    ) -> ledger_protocol::Refused {
        let hash = change.hash;
        let resp = self.push(vec![change]).await;
        assert!(!resp.acked.contains(&hash), "{what}: the hub acknowledged it");
        assert!(!hub.store().has_change(&hash.to_hex()).unwrap(), "{what}: the hub stored it");
        let r = resp.refused.iter().find(|r| r.hash == hash.to_hex());
        let r = r.unwrap_or_else(|| panic!("{what}: not refused: {:?}", resp.refused)).clone();
        assert!(
            r.reason.chars().any(|c| c > '\u{4e00}'),
            "{what}: reason in Chinese: {}",
            r.reason
        );
        r
    }
}

// ---------------------------------------------------------------------------------------------
// The county: the bureau and two townships, each a real store enrolled with the real hub.

/// An informant of a restricted case the bureau registered: none of it may reach a township.
struct Secret {
    case: CaseId,
    words: Vec<String>,
}

/// The bureau's record of one case before an attack.
type Snapshot = Vec<(CaseId, Case, Option<Identity>)>;

struct County {
    hub: TestHub,
    bureau: TestOffice,
    hq: TestOffice,
    sj: TestOffice,
    secrets: Vec<Secret>,
    /// Held for the whole test (dropped last).
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

async fn county() -> County {
    let serial = exclusive().await;
    let hub = TestHub::start().await.unwrap();
    let tb = hub.add_office("county", "洞口县国土资源局", Role::Bureau, &[]).unwrap();
    let ta = hub.add_office("hq", "黄桥镇国土所", Role::Township, &["黄桥镇"]).unwrap();
    let tc = hub.add_office("sj", "石江镇国土所", Role::Township, &["石江镇"]).unwrap();
    let bureau = TestOffice::enroll(&hub.url(), &tb, "刘洪", TODAY).await.unwrap();
    let hq = TestOffice::enroll(&hub.url(), &ta, "李娟", TODAY).await.unwrap();
    let sj = TestOffice::enroll(&hub.url(), &tc, "王五", TODAY).await.unwrap();
    let c = County { hub, bureau, hq, sj, secrets: Vec::new(), _serial: serial };
    c.settle().await;
    c
}

impl County {
    /// The bureau registers a 检举控告 case (违法占地建设 implies it) about `township` and
    /// assigns it there. Its informant is a secret from every township.
    fn sealed_case(&mut self, township: &str, name: &str, serial: &str, phone: &str) -> CaseId {
        let mut input = case_input(township, "市信访局交办", name, "举报村干部违法占地建房");
        input.category = "违法占地建设".into();
        input.purpose = "检举控告".into();
        input.petitioners[0].id_number = resident_id(&format!("43052119800101{serial}"));
        input.petitioners[0].phone = phone.into();
        let words = vec![name.to_owned(), input.petitioners[0].id_number.clone(), phone.to_owned()];
        let id = self.bureau.office.register(&input, None).unwrap();
        self.bureau
            .office
            .act(id, &ActionInput { target: Some(township.into()), ..act(ActionKind::Assign) })
            .unwrap();
        assert!(self.bureau.office.case(id).unwrap().identity_restricted());
        self.secrets.push(Secret { case: id, words });
        id
    }

    /// The bureau registers an ordinary (申诉求决) case and assigns it to `township`.
    fn open_case(&self, township: &str, name: &str) -> CaseId {
        let input = case_input(township, "本局接收", name, "宅基地纠纷");
        let id = self.bureau.office.register(&input, None).unwrap();
        self.bureau
            .office
            .act(id, &ActionInput { target: Some(township.into()), ..act(ActionKind::Assign) })
            .unwrap();
        assert!(!self.bureau.office.case(id).unwrap().identity_restricted());
        id
    }

    fn sealed_ids(&self) -> Vec<CaseId> {
        self.secrets.iter().map(|s| s.case).collect()
    }

    /// Everyone syncs until nothing moves.
    async fn settle(&self) {
        for _ in 0..2 {
            self.bureau.sync().await.unwrap();
            self.hq.sync().await.unwrap();
            self.sj.sync().await.unwrap();
        }
        self.bureau.sync().await.unwrap();
    }

    fn snapshot(&self, ids: &[CaseId]) -> Snapshot {
        ids.iter()
            .map(|id| {
                let v = self.bureau.office.view(*id).unwrap();
                (*id, v.case, v.identity)
            })
            .collect()
    }

    /// The invariants every attack must leave standing.
    async fn after_attack(&self, before: &Snapshot, attack: &str) {
        // The hub is up and serves normal syncs.
        let health = ledger_tests::raw_http()
            .get(format!("{}/v1/health", self.hub.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200, "{attack}: hub health");
        self.settle().await;
        // Every document the hub holds loads and reads.
        let check =
            ledger_hub::check::check(self.hub.store().as_ref(), false, ledger_hub::now_ms())
                .unwrap();
        assert!(check.problems.is_empty(), "{attack}: hub check: {:?}", check.problems);
        // The bureau's record is unchanged, and the case loads at every office that holds it.
        for (id, case, identity) in before {
            let now = self.bureau.office.view(*id).unwrap();
            assert_eq!(&now.case, case, "{attack}: the bureau's case {id} changed");
            assert_eq!(&now.identity, identity, "{attack}: the bureau's identity of {id} changed");
            for o in [&self.hq, &self.sj] {
                if o.office.store().row(*id).unwrap().is_some() {
                    o.office.view(*id).unwrap();
                }
            }
        }
        let ids: Vec<CaseId> = self.bureau.office.store().case_ids().unwrap();
        for id in ids {
            self.bureau.office.view(id).unwrap();
        }
        for o in [&self.hq, &self.sj] {
            for id in o.office.store().case_ids().unwrap() {
                o.office.view(id).unwrap();
            }
        }
        // No township file holds a byte of a protected informant.
        self.assert_no_leaks(attack);
        // Nothing panicked outside the test code (caught or not): last, so that a caught panic
        // does not hide the state of everything above.
        let panics = foreign_panics();
        assert!(panics.is_empty(), "{attack}: panics: {panics:#?}");
    }

    fn assert_no_leaks(&self, attack: &str) {
        let words: Vec<String> = self.secrets.iter().flat_map(|s| s.words.clone()).collect();
        for (name, o) in [("hq", &self.hq), ("sj", &self.sj)] {
            let found = leaks(o.dir.path(), &words);
            assert!(found.is_empty(), "{attack}: {name}'s files: {found:#?}");
            for s in &self.secrets {
                assert!(!has_identity(o, s.case), "{attack}: {name} holds identity of {}", s.case);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Declassification

/// A township tries to take the protection off an informant's identity, through every field
/// and value that decides it, as a raw upload and then through its own outbox, `ledger
/// repair` and sync: the case stays restricted and the identity never reaches the township or
/// a new device of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declassification_through_every_field_is_refused_and_the_identity_stays_at_the_bureau() {
    let mut c = county().await;
    let by_category = c.sealed_case("黄桥镇", "赵秘密", "123", "13900001111");
    // 检举控告 set explicitly, with a category that would not imply it.
    let by_purpose = {
        let mut input = case_input("黄桥镇", "本局接收", "钱暗访", "反映村支书侵占集体土地");
        input.purpose = "检举控告".into();
        input.petitioners[0].id_number = resident_id("43052119810202234");
        input.petitioners[0].phone = "13900002222".into();
        let words =
            vec!["钱暗访".to_owned(), input.petitioners[0].id_number.clone(), "13900002222".into()];
        let id = c.bureau.office.register(&input, None).unwrap();
        c.bureau
            .office
            .act(id, &ActionInput { target: Some("黄桥镇".into()), ..act(ActionKind::Assign) })
            .unwrap();
        c.secrets.push(Secret { case: id, words });
        id
    };
    // Restricted by 是否保密 alone (申诉求决), flagged before it ever reached the township.
    let by_flag = {
        let mut input = case_input("黄桥镇", "本局接收", "孙保密", "征地补偿不到位");
        input.petitioners[0].id_number = resident_id("43052119820303345");
        input.petitioners[0].phone = "13900003333".into();
        let words =
            vec!["孙保密".to_owned(), input.petitioners[0].id_number.clone(), "13900003333".into()];
        let id = c.bureau.office.register(&input, None).unwrap();
        c.bureau.office.set_field(id, &CaseField::Confidential, "是").unwrap();
        c.bureau
            .office
            .act(id, &ActionInput { target: Some("黄桥镇".into()), ..act(ActionKind::Assign) })
            .unwrap();
        assert!(c.bureau.office.case(id).unwrap().confidential);
        c.secrets.push(Secret { case: id, words });
        id
    };
    c.settle().await;
    let sealed = c.sealed_ids();
    for id in &sealed {
        assert!(restricted_at_hub(&c.hub, *id), "precondition: {id} restricted at the hub");
        assert!(c.hq.office.store().row(*id).unwrap().is_some(), "precondition: hq has the case");
        assert!(!has_identity(&c.hq, *id), "precondition: hq has no identity");
    }
    assert_eq!(c.hq.office.case(by_category).unwrap().purpose, Purpose::Report);
    let before = c.snapshot(&sealed);
    let hostile = Hostile::new(&c.hub, &c.hq, &sealed);

    // The facade refuses it, so the attacker goes below it.
    assert!(c.hq.office.set_field(by_category, &CaseField::Purpose, "申诉求决").is_err());

    let lift_as = |o: &TestOffice, id: CaseId, office: &str, role: Role| {
        let case = o.office.case(id).unwrap();
        let mut e = event_by(o, &case, ActionKind::LiftRestriction);
        e.office = office.into();
        e.role = role;
        e.text = Some("信访人同意公开身份".into());
        forge(o, id, StoreKind::Case, |tx| {
            schema::add_event(tx, &e).unwrap();
            schema::put_identity_released(tx, true).unwrap();
        })
    };
    let attacks: Vec<(&str, CaseId, Vec<u8>)> = vec![
        (
            "purpose 申诉求决",
            by_category,
            forge(&c.hq, by_category, StoreKind::Case, |tx| {
                tx.put(ROOT, "purpose", "appeal").unwrap();
            }),
        ),
        (
            "purpose 建议意见",
            by_purpose,
            forge(&c.hq, by_purpose, StoreKind::Case, |tx| {
                tx.put(ROOT, "purpose", "suggestion").unwrap();
            }),
        ),
        (
            "purpose deleted",
            by_purpose,
            forge(&c.hq, by_purpose, StoreKind::Case, |tx| {
                tx.delete(ROOT, "purpose").unwrap();
            }),
        ),
        (
            "category and purpose",
            by_category,
            forge(&c.hq, by_category, StoreKind::Case, |tx| {
                tx.put(ROOT, "category", "dispute").unwrap();
                tx.put(ROOT, "purpose", "enquiry").unwrap();
            }),
        ),
        (
            "confidential false",
            by_flag,
            forge(&c.hq, by_flag, StoreKind::Case, |tx| {
                tx.put(ROOT, "confidential", false).unwrap();
            }),
        ),
        (
            "confidential deleted",
            by_flag,
            forge(&c.hq, by_flag, StoreKind::Case, |tx| {
                tx.delete(ROOT, "confidential").unwrap();
            }),
        ),
        (
            "confidential as text",
            by_flag,
            forge(&c.hq, by_flag, StoreKind::Case, |tx| {
                tx.put(ROOT, "confidential", "false").unwrap();
            }),
        ),
        (
            "identity_released true",
            by_category,
            forge(&c.hq, by_category, StoreKind::Case, |tx| {
                schema::put_identity_released(tx, true).unwrap();
            }),
        ),
        (
            "identity_released on the flagged case",
            by_flag,
            forge(&c.hq, by_flag, StoreKind::Case, |tx| {
                schema::put_identity_released(tx, true).unwrap();
            }),
        ),
        (
            "解除保密 as the township",
            by_category,
            lift_as(&c.hq, by_category, "hq", Role::Township),
        ),
        (
            "解除保密 signed as the bureau",
            by_category,
            lift_as(&c.hq, by_category, "county", Role::Bureau),
        ),
    ];
    for (what, id, bytes) in &attacks {
        hostile.refused(&c.hub, what, up(*id, WireKind::Case, bytes.clone())).await;
        assert!(restricted_at_hub(&c.hub, *id), "{what}: the hub lifted the restriction");
    }
    // All of them in one batch, too.
    let batch: Vec<UpChange> =
        attacks.iter().map(|(_, id, b)| up(*id, WireKind::Case, b.clone())).collect();
    let resp = hostile.push(batch).await;
    assert!(resp.acked.is_empty(), "{:?}", resp.acked);
    for id in &sealed {
        assert!(restricted_at_hub(&c.hub, *id));
    }

    // Through the township's own software: the forged change applied to its store and queued,
    // then sync, `ledger repair` (recovery, repair, sync) and sync again.
    let mut doc = own_copy(&c.hq, by_category, StoreKind::Case);
    let bytes = commit_on(&mut doc, now_secs(), |tx| {
        tx.put(ROOT, "purpose", "appeal").unwrap();
        schema::put_identity_released(tx, true).unwrap();
    });
    c.hq.office.store().merge_remote(by_category, StoreKind::Case, &doc.save()).unwrap();
    inject_outbox(&c.hq.dir, by_category, &bytes);
    let report = c.hq.sync().await.unwrap();
    assert!(report.refused >= 1, "{report:?}");
    assert!(
        c.hq.office.quarantine().unwrap().iter().any(|q| q.hash == hash_of(&bytes).to_hex()),
        "quarantined at the township"
    );
    assert!(restricted_at_hub(&c.hub, by_category));
    assert!(!has_identity(&c.hq, by_category));
    // ledger repair
    assert!(c.hq.office.begin_recovery().unwrap() >= 1);
    c.hq.sync().await.unwrap();
    let recovered = c.hq.office.take_recovery_report().unwrap();
    assert!(recovered.cases >= 1, "{recovered:?}");
    // The forged purpose cannot be recorded again through the rules: the report says so.
    let number = c.hq.office.case_number(by_category).unwrap();
    let purpose = CaseField::Purpose.label();
    assert!(
        recovered.unrecoverable.iter().any(|l| l.contains(&number) && l.contains(purpose)),
        "the report does not list the purpose edit it could not redo: {recovered:?}"
    );
    assert!(!recovered.redone.iter().any(|l| l.contains(purpose)), "{recovered:?}");
    let target: Arc<dyn SyncTarget> = c.hq.target();
    ledger_client::repair(c.hq.client(), &target).await.unwrap();
    c.hq.sync().await.unwrap();
    c.hq.sync().await.unwrap();
    assert!(c.hq.office.quarantine().unwrap().is_empty(), "recovery cleared the quarantine");
    assert_eq!(c.hq.office.case(by_category).unwrap().purpose, Purpose::Report, "the hub's copy");
    for id in &sealed {
        assert!(restricted_at_hub(&c.hub, *id), "{id} still restricted after repair");
        assert!(!has_identity(&c.hq, *id), "{id}: identity reached the township");
        assert!(c.hq.office.view(*id).unwrap().identity.is_none());
    }
    // Nor its CSV export.
    let csv = c.hq.dir.path().join("export.csv");
    c.hq.office.export_csv(&csv, &mut |_| {}).unwrap();
    let exported = std::fs::read(&csv).unwrap();
    std::fs::remove_file(&csv).unwrap();
    for s in &c.secrets {
        for w in &s.words {
            assert!(!contains(&exported, w.as_bytes()), "the township's CSV export holds {w}");
        }
    }
    // Nor a new device of the township.
    let fresh =
        TestOffice::enroll(&c.hub.url(), &c.hub.token("hq").unwrap(), "李娟", TODAY).await.unwrap();
    fresh.sync().await.unwrap();
    let words: Vec<String> = c.secrets.iter().flat_map(|s| s.words.clone()).collect();
    for id in &sealed {
        assert!(fresh.office.store().row(*id).unwrap().is_some(), "the new device has the case");
        assert!(!has_identity(&fresh, *id), "a new township device got the identity of {id}");
    }
    assert!(leaks(fresh.dir.path(), &words).is_empty(), "{:?}", leaks(fresh.dir.path(), &words));
    c.after_attack(&before, "declassification").await;
}

/// A township that saw a case before the bureau restricted it writes the old, unrestricted
/// purpose concurrently (twice, the second on top of its own first): every concurrent value
/// counts, so the case stays restricted and the identity leaves the township.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_declassification_never_wins_and_the_identity_leaves_the_township() {
    let c = county().await;
    let id = c.open_case("黄桥镇", "吴后密");
    c.settle().await;
    assert!(has_identity(&c.hq, id), "precondition: an ordinary case's identity is at hq");
    // The township's copy from before the restriction.
    let mut stale = own_copy(&c.hq, id, StoreKind::Case);
    // The bureau reclassifies it as a report.
    c.bureau.office.set_field(id, &CaseField::Purpose, "检举控告").unwrap();
    c.bureau.sync().await.unwrap();
    assert!(restricted_at_hub(&c.hub, id));
    let before = c.snapshot(&[id]);
    let hostile = Hostile::new(&c.hub, &c.hq, &[]);
    // Neither loosens anything at its own dependencies: the purpose there is 申诉求决.
    let first = commit_on(&mut stale, now_secs(), |tx| {
        tx.put(ROOT, "purpose", "enquiry").unwrap();
    });
    let second = commit_on(&mut stale, now_secs(), |tx| {
        tx.put(ROOT, "purpose", "suggestion").unwrap();
        tx.put(ROOT, "confidential", false).unwrap();
        schema::put_identity_released(tx, false).unwrap();
    });
    let resp =
        hostile.push(vec![up(id, WireKind::Case, first), up(id, WireKind::Case, second)]).await;
    // Whether or not the hub takes these concurrent edits, the case stays restricted.
    assert!(restricted_at_hub(&c.hub, id), "a concurrent value loosened the case: {resp:?}");
    c.settle().await;
    let at_bureau = c.bureau.office.case(id).unwrap();
    assert!(at_bureau.identity_restricted(), "the bureau sees it unrestricted");
    assert!(!has_identity(&c.hq, id), "the identity did not leave the township");
    let fresh =
        TestOffice::enroll(&c.hub.url(), &c.hub.token("hq").unwrap(), "李娟", TODAY).await.unwrap();
    fresh.sync().await.unwrap();
    assert!(!has_identity(&fresh, id), "a new township device got the identity");
    // Only the township's own concurrent edits may differ from the snapshot: none of its
    // values may have become the bureau's identity or the case's restriction.
    let now = c.bureau.office.view(id).unwrap();
    assert_eq!(now.identity, before[0].2, "the bureau's identity changed");
    assert!(restricted_at_hub(&c.hub, id));
    // What left should leave no bytes behind either (secure delete, WAL checkpointed).
    let words = vec!["吴后密".to_owned()];
    assert!(
        leaks(c.hq.dir.path(), &words).is_empty(),
        "an identity that left the township lingers in its files: {:?}",
        leaks(c.hq.dir.path(), &words)
    );
}

/// A township cannot register a case that is already declassified: the 解除保密 flag written
/// with the registration of a 检举控告 case. Reassigned to another township, its informant's
/// identity must not follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_cannot_register_a_report_already_declassified() {
    let c = county().await;
    let input = {
        let mut i = case_input("黄桥镇", "12336举报", "冯举报", "举报非法采砂");
        i.category = "违法占地建设".into();
        i.petitioners[0].id_number = resident_id("43052119830404456");
        i.petitioners[0].phone = "13900004444".into();
        i
    };
    let cfg = c.hq.office.config();
    let actor = c.hq.office.store().actor();
    let id = random_case_id();
    let mut mint = random_hex;
    let mut ctx = RegistrationContext {
        case_id: id,
        number: "黄桥-2024-A-0999".into(),
        mint_id: &mut mint,
        office: &cfg.code,
        role: cfg.role,
        actor: &actor.to_hex_string(),
        handler: "李娟",
        at: c.hq.office.now(),
        today: c.hq.office.today(),
        townships: &cfg.townships,
        default_township: Some("黄桥镇"),
        collective_threshold: 5,
        representatives_max: 5,
        fingerprint: None,
        legacy: false,
    };
    let (case, identity) = input.build(&mut ctx).unwrap();
    assert!(case.identity_restricted());
    let mut case_doc = Automerge::new().with_actor(actor.clone());
    let case_bytes = commit_on(&mut case_doc, now_secs(), |tx| {
        schema::write_case(tx, &case).unwrap();
        schema::put_identity_released(tx, true).unwrap();
    });
    let mut id_doc = Automerge::new().with_actor(actor);
    let id_bytes = commit_on(&mut id_doc, now_secs(), |tx| {
        schema::write_identity(tx, &identity).unwrap();
    });
    let hostile = Hostile::new(&c.hub, &c.hq, &[]);
    let resp = hostile
        .push(vec![up(id, WireKind::Case, case_bytes), up(id, WireKind::Identity, id_bytes)])
        .await;
    let Some(scope) = c.hub.store().case_scope(id).unwrap() else {
        // Refused outright: nothing to follow up.
        assert!(resp.acked.is_empty(), "{resp:?}");
        return;
    };
    // The case was taken: it must be restricted all the same, and stay so when the bureau assigns it to another township.
    let mut found = Vec::new();
    if !scope.restricted {
        found.push(format!(
            "the hub took a township's 检举控告 registration with 解除保密 already set as \
             unrestricted (acked {:?}); only a bureau 解除保密 event may lift a restriction",
            resp.acked
        ));
    }
    c.bureau.sync().await.unwrap();
    if !c.bureau.office.case(id).unwrap().identity_restricted() {
        found.push("the bureau's copy shows the report as unrestricted".to_owned());
    }
    c.bureau
        .office
        .act(id, &ActionInput { target: Some("石江镇".into()), ..act(ActionKind::Assign) })
        .unwrap();
    c.settle().await;
    if has_identity(&c.sj, id) {
        found.push(
            "assigned to 石江镇, the informant's identity followed the case to 石江镇".to_owned(),
        );
    }
    let words =
        vec!["冯举报".to_owned(), resident_id("43052119830404456"), "13900004444".to_owned()];
    let at_sj = leaks(c.sj.dir.path(), &words);
    if !at_sj.is_empty() {
        found.push(format!("石江镇's files: {at_sj:?}"));
    }
    assert!(found.is_empty(), "{found:#?}");
}

// ---------------------------------------------------------------------------------------------
// 2. A poisoned case

/// A township change with timestamp 0, then one on top of it with i64::MIN, as a raw upload
/// and through its outbox. After a hub restart every case loads everywhere, new devices of the
/// bureau and the township finish their first sync, and other batches are answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_timestamp_cannot_break_a_case_even_after_a_hub_restart() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "褚秘密", "234", "13900005555");
    let raw_target = c.open_case("黄桥镇", "卫一");
    let outbox_target = c.open_case("黄桥镇", "蒋二");
    let other = c.open_case("黄桥镇", "沈三");
    c.settle().await;
    let before = c.snapshot(&[sealed, other]);

    let poison = |o: &TestOffice, id: CaseId| {
        let mut doc = own_copy(o, id, StoreKind::Case);
        let zero = commit_on(&mut doc, 0, |tx| {
            tx.put(ROOT, "subject", "时间为零").unwrap();
        });
        // Automerge may refuse to commit with i64::MIN itself: re-encode a normal change.
        let next = commit_on(&mut doc, now_secs(), |tx| {
            tx.put(ROOT, "subject", "时间溢出").unwrap();
        });
        let min = reencode(&next, |e| e.time = i64::MIN);
        (zero, min)
    };
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    let (zero, min) = poison(&c.hq, raw_target);
    let resp = hostile
        .push(vec![
            up(raw_target, WireKind::Case, zero),
            up(raw_target, WireKind::Case, min.clone()),
        ])
        .await;
    assert!(!resp.acked.contains(&hash_of(&min)), "the i64::MIN change was taken");
    let (zero, min) = poison(&c.hq, outbox_target);
    inject_outbox(&c.hq.dir, outbox_target, &zero);
    inject_outbox(&c.hq.dir, outbox_target, &min);
    c.hq.sync().await.unwrap();
    let (zero, min) = poison(&c.hq, sealed);
    let resp = hostile
        .push(vec![
            up(sealed, WireKind::Case, zero.clone()),
            up(sealed, WireKind::Case, min.clone()),
        ])
        .await;
    assert!(resp.refused.iter().any(|r| r.hash == hash_of(&min).to_hex()), "{resp:?}");
    assert!(!c.hub.store().has_change(&hash_of(&min).to_hex()).unwrap());
    // A timestamp of 0 is in range: that change may be taken as an ordinary edit of 被反映对象.
    let zero_taken = resp.acked.contains(&hash_of(&zero));

    // Restart the hub on the same database; the offices follow it to its new port.
    let County { hub, bureau, hq, sj, secrets, _serial } = c;
    let dir = hub.stop().await.unwrap();
    let hub = TestHub::start_in(dir).await.unwrap();
    for o in [&bureau, &hq, &sj] {
        o.office.store().set_meta(&[("sync.hub", &hub.url())]).unwrap();
    }
    let c = County { hub, bureau, hq, sj, secrets, _serial };
    for id in [raw_target, outbox_target, other, sealed] {
        assert!(c.hub.store().case_scope(id).unwrap().is_some());
    }
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    // Another batch, on another case, is answered (and taken).
    let fine = forge(&c.hq, other, StoreKind::Case, |tx| {
        schema::set_draft(tx, schema::Draft::Investigation, "现场核实中").unwrap();
    });
    let fine = up(other, WireKind::Case, fine);
    let resp = hostile.push(vec![fine.clone()]).await;
    assert!(resp.acked.contains(&fine.hash), "{resp:?}");
    // Touching the poisoned cases again answers 200, never 500.
    for id in [raw_target, outbox_target, sealed] {
        let again = forge(&c.hq, id, StoreKind::Case, |tx| {
            tx.put(ROOT, "subject", "重启之后").unwrap();
        });
        hostile.push(vec![up(id, WireKind::Case, again)]).await;
    }
    // The bureau and township sync, and the cases load everywhere.
    c.settle().await;
    for id in [raw_target, outbox_target, other, sealed] {
        c.bureau.office.view(id).unwrap();
        c.hq.office.view(id).unwrap();
    }
    // New devices finish their first sync.
    for (office, staff) in [("county", "刘洪"), ("hq", "李娟")] {
        let fresh = TestOffice::enroll(&c.hub.url(), &c.hub.token(office).unwrap(), staff, TODAY)
            .await
            .unwrap();
        let report = tokio::time::timeout(Duration::from_secs(60), fresh.sync())
            .await
            .expect("first sync of a new device finished")
            .unwrap();
        assert!(report.downloaded > 0, "{office}: {report:?}");
        for id in [raw_target, outbox_target, other, sealed] {
            fresh.office.view(id).unwrap();
        }
    }
    // What was taken above (the investigation draft, a subject edited at time 0) is part of
    // the record now; nothing else is.
    let before: Snapshot = before
        .into_iter()
        .map(|(id, mut case, identity)| {
            if id == other {
                case.investigation_report = "现场核实中".into();
            }
            if id == sealed && zero_taken {
                case.subject = "时间为零".into();
            }
            (id, case, identity)
        })
        .collect();
    assert_eq!(c.bureau.office.case(other).unwrap().investigation_report, "现场核实中");
    c.after_attack(&before, "poisoned timestamps").await;
    // The township device never held what the hostile client sent with its actor; `ledger
    // repair` brings it in line with the hub.
    let target: Arc<dyn SyncTarget> = c.hq.target();
    ledger_client::repair(c.hq.client(), &target).await.unwrap();
    c.hq.sync().await.unwrap();
    for id in [raw_target, outbox_target, other, sealed] {
        assert_eq!(c.hq.office.case(id).unwrap(), c.bureau.office.case(id).unwrap(), "{id}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Forged authorship

/// A township adds a 作废 signed as the bureau (by office, role, device, imported history): the
/// bureau's case is not voided and it can act on it as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_authorship_cannot_void_the_bureaus_case() {
    let mut c = county().await;
    let id = c.sealed_case("黄桥镇", "韩秘密", "345", "13900006666");
    let open = c.open_case("黄桥镇", "杨四");
    c.settle().await;
    let before = c.snapshot(&[id, open]);
    let status = c.bureau.office.view(id).unwrap().status;
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    let bureau_actor = c.bureau.office.store().actor().to_hex_string();

    let void = |target: CaseId, edit: &dyn Fn(&mut Event)| {
        let case = c.hq.office.case(target).unwrap();
        let mut e = event_by(&c.hq, &case, ActionKind::Void);
        e.text = Some("登记错误".into());
        edit(&mut e);
        forge(&c.hq, target, StoreKind::Case, |tx| schema::add_event(tx, &e).unwrap())
    };
    let as_bureau = |e: &mut Event| {
        e.office = "county".into();
        e.role = Role::Bureau;
        e.handler = "刘洪".into();
    };
    let attacks: Vec<(&str, CaseId, Vec<u8>)> = vec![
        ("作废 signed as the bureau", id, void(id, &as_bureau)),
        (
            "作废 signed as the bureau's device",
            id,
            void(id, &|e: &mut Event| {
                as_bureau(e);
                e.actor = bureau_actor.clone();
            }),
        ),
        ("作废 as the township", id, void(id, &|_: &mut Event| {})),
        (
            "作废 as imported bureau history",
            id,
            void(id, &|e: &mut Event| {
                as_bureau(e);
                e.imported = true;
            }),
        ),
        ("作废 as imported township history", id, void(id, &|e: &mut Event| e.imported = true)),
        (
            "作废 as imported history on an open case",
            open,
            void(open, &|e: &mut Event| {
                e.imported = true;
                e.date = "2017-05-01".parse().unwrap();
            }),
        ),
        (
            "作废 by someone not on the roster",
            open,
            void(open, &|e: &mut Event| {
                as_bureau(e);
                e.handler = "不存在的人".into();
            }),
        ),
        ("办结 signed as the bureau", open, {
            let case = c.hq.office.case(open).unwrap();
            let mut e = event_by(&c.hq, &case, ActionKind::Close);
            as_bureau(&mut e);
            forge(&c.hq, open, StoreKind::Case, |tx| schema::add_event(tx, &e).unwrap())
        }),
    ];
    for (what, target, bytes) in &attacks {
        hostile.refused(&c.hub, what, up(*target, WireKind::Case, bytes.clone())).await;
    }
    // Through the township's outbox, too.
    inject_outbox(&c.hq.dir, id, &attacks[0].2);
    let report = c.hq.sync().await.unwrap();
    assert!(report.refused >= 1, "{report:?}");
    // The bureau's own roster cannot be written by a township either.
    let mut roster = Automerge::new().with_actor(c.hq.office.store().actor());
    let roster_change = commit_on(&mut roster, now_secs(), |tx| {
        schema::write_roster(tx, "county").unwrap();
        schema::add_staff(tx, "李娟", "2024-01-01".parse().unwrap()).unwrap();
    });
    let county_roster = CaseId(roster_id("county"));
    hostile
        .refused(&c.hub, "the bureau's roster", up(county_roster, WireKind::Roster, roster_change))
        .await;

    c.after_attack(&before, "forged authorship").await;
    for target in [id, open] {
        let v = c.bureau.office.view(target).unwrap();
        assert_ne!(v.status, Status::Voided, "the forged 作废 voided {target}");
        assert_ne!(v.status, Status::Closed);
        assert!(v.case.events.iter().all(|e| e.office != "county" || e.actor == bureau_actor));
    }
    assert_eq!(c.bureau.office.view(id).unwrap().status, status);
    // The bureau acts as before.
    c.bureau.office.act(id, &supervision(&c.bureau.office, "请抓紧办理")).unwrap();
    c.bureau.office.act(open, &with_text(ActionKind::Void, "重复登记")).unwrap();
    c.settle().await;
    for o in [&c.bureau, &c.hq] {
        assert!(o.office.view(id).unwrap().anomalies.is_empty());
        let v = o.office.view(open).unwrap();
        assert_eq!(v.status, Status::Voided);
        assert!(v.anomalies.is_empty(), "{:?}", v.anomalies);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Lamport overflow

/// A township event with Lamport u64::MAX is refused, and the bureau's next 督办 and 作废 are
/// ordinary events, not anomalies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lamport_overflow_is_refused_and_the_bureau_acts_normally() {
    let mut c = county().await;
    let id = c.sealed_case("黄桥镇", "朱秘密", "456", "13900007777");
    c.settle().await;
    let before = c.snapshot(&[id]);
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    let with_lamport = |lamport: u64| {
        let case = c.hq.office.case(id).unwrap();
        let mut e = event_by(&c.hq, &case, ActionKind::Investigate);
        e.lamport = lamport;
        forge(&c.hq, id, StoreKind::Case, |tx| schema::add_event(tx, &e).unwrap())
    };
    let seen = c.hq.office.case(id).unwrap().next_lamport() - 1;
    for (what, lamport) in [
        ("lamport u64::MAX", u64::MAX),
        ("lamport u64::MAX - 1", u64::MAX - 1),
        ("lamport 2^63", 1u64 << 63),
        ("lamport far ahead", seen + 1_000_000),
        ("lamport 0", 0),
        ("lamport already used", seen),
    ] {
        let r = hostile.refused(&c.hub, what, up(id, WireKind::Case, with_lamport(lamport))).await;
        assert!(!r.rule.is_empty(), "{what}: {r:?}");
    }
    // Through the outbox.
    inject_outbox(&c.hq.dir, id, &with_lamport(u64::MAX));
    let report = c.hq.sync().await.unwrap();
    assert!(report.refused >= 1, "{report:?}");
    c.after_attack(&before, "lamport overflow").await;
    assert!(c.bureau.office.case(id).unwrap().events.iter().all(|e| e.lamport < 1000));

    c.bureau.office.act(id, &supervision(&c.bureau.office, "请于本周内答复")).unwrap();
    c.bureau.sync().await.unwrap();
    c.bureau.office.act(id, &with_text(ActionKind::Void, "系重复登记")).unwrap();
    c.settle().await;
    for o in [&c.bureau, &c.hq] {
        let v = o.office.view(id).unwrap();
        assert!(v.anomalies.is_empty(), "督办/作废 became anomalies: {:?}", v.anomalies);
        assert_eq!(v.status, Status::Voided);
        let supervise = v.case.events.iter().find(|e| e.action == ActionKind::Supervise).unwrap();
        let void = v.case.events.iter().find(|e| e.action == ActionKind::Void).unwrap();
        assert!(supervise.lamport > 0 && void.lamport > supervise.lamport);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Blind overwrite

/// A township change with no dependencies puts junk and then a new, empty `persons` map into a
/// restricted identity document it never had: the bureau's identity keeps its person. Nor can
/// an identity drop overwrite a person already recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_overwrite_of_a_restricted_identity_is_refused() {
    let mut c = county().await;
    let id = c.sealed_case("黄桥镇", "秦秘密", "567", "13900008888");
    c.settle().await;
    let before = c.snapshot(&[id]);
    let person = before[0].2.as_ref().unwrap().persons[0].clone();
    assert_eq!(person.name, "秦秘密");
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    let actor = c.hq.office.store().actor();

    // Enough junk operations that the new map's op id beats the bureau's.
    let blind = |with_header: bool| {
        let mut doc = Automerge::new().with_actor(actor.clone());
        commit_on(&mut doc, now_secs(), |tx| {
            for i in 0..300 {
                tx.put(ROOT, "junk", i).unwrap();
            }
            if with_header {
                tx.put(ROOT, "schema_version", 1u64).unwrap();
                tx.put(ROOT, "kind", "identity").unwrap();
                tx.put(ROOT, "case_id", id.to_string()).unwrap();
            }
            tx.put_object(ROOT, "persons", ObjType::Map).unwrap();
        })
    };
    hostile.refused(&c.hub, "blind persons map", up(id, WireKind::Identity, blind(false))).await;
    hostile
        .refused(&c.hub, "blind identity document", up(id, WireKind::Identity, blind(true)))
        .await;
    // The same bytes claimed as the case document.
    hostile.refused(&c.hub, "blind case overwrite", up(id, WireKind::Case, blind(true))).await;
    // A blind overwrite of the case's own containers.
    let mut doc = Automerge::new().with_actor(actor.clone());
    let events = commit_on(&mut doc, now_secs(), |tx| {
        for i in 0..300 {
            tx.put(ROOT, "junk", i).unwrap();
        }
        tx.put_object(ROOT, "events", ObjType::Map).unwrap();
        tx.put_object(ROOT, "petitioners", ObjType::List).unwrap();
    });
    hostile.refused(&c.hub, "blind events map", up(id, WireKind::Case, events)).await;
    // Through the outbox.
    inject_outbox(&c.hq.dir, id, &blind(true));
    c.hq.sync().await.unwrap();
    // An identity drop naming the person already recorded, with other details.
    let drop_id = random_case_id().0;
    let resp = hostile
        .exchange(&SyncRequest {
            drops: vec![IdentityDrop {
                id: drop_id,
                case_id: id.0,
                persons: vec![DropPerson {
                    id: person.id.clone(),
                    name: "篡改人".into(),
                    id_type: "resident_id".into(),
                    id_number: resident_id("43052119900101000"),
                    phone: "13000000000".into(),
                    address: "别处".into(),
                }],
            }],
            page_bytes: MIN_BATCH_BYTES,
            ..Default::default()
        })
        .await;
    let _ = resp;

    c.after_attack(&before, "blind overwrite").await;
    let identity = c.bureau.office.view(id).unwrap().identity.unwrap();
    assert!(identity.persons.contains(&person), "the bureau lost the informant: {identity:?}");
    assert!(identity.persons.iter().all(|p| p.name != "篡改人"), "a drop replaced a person");
    let fresh = TestOffice::enroll(&c.hub.url(), &c.hub.token("county").unwrap(), "刘洪", TODAY)
        .await
        .unwrap();
    fresh.sync().await.unwrap();
    let at_hub = fresh.office.view(id).unwrap().identity.unwrap();
    assert_eq!(at_hub, identity, "the hub's identity document is the bureau's");
}

// ---------------------------------------------------------------------------------------------
// 6. Wedged outbox

/// One byte flipped in one outbox entry: that change is refused alone and quarantined, the
/// office's other cases still upload, the deep check reports it, and recovery brings the case
/// back in line with the hub, with the township's action recorded again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_outbox_entry_is_refused_alone_and_recovery_converges() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "尤秘密", "678", "13900009999");
    let id = c.open_case("黄桥镇", "许五");
    let second = c.open_case("黄桥镇", "何六");
    c.settle().await;
    let before = c.snapshot(&[sealed]);
    // Offline work: an action on the case, an edit on another, a new case.
    c.hq.office.act(id, &with_text(ActionKind::Investigate, "已到现场核实")).unwrap();
    c.hq.office.set_draft(second, schema::Draft::Investigation, "另案调查记录").unwrap();
    let own =
        c.hq.office.register(&case_input("黄桥镇", "本局接收", "吕七", "违法建房"), None).unwrap();
    // Flip one byte of the action's outbox entry.
    let (seq, hash) = corrupt_first_outbox_entry(&c.hq, id);
    // `ledger check --deep` sees it, in the store and in the office.
    let deep = c.hq.office.store().check_deep().unwrap();
    assert!(
        deep.problems.iter().any(|p| p.case_id == Some(id)),
        "the store's deep check missed outbox entry #{seq}: {deep:?}"
    );
    let deep = c.hq.office.check_deep().unwrap();
    assert!(deep.problems.iter().any(|p| p.case_id == Some(id)), "{deep:?}");

    let report = c.hq.sync().await.unwrap();
    assert!(report.refused >= 1, "{report:?}");
    let q = c.hq.office.quarantine().unwrap();
    assert!(q.iter().any(|q| q.hash == hash), "{q:?}");
    assert!(q.iter().all(|q| q.case_id == id), "only the corrupt case's changes: {q:?}");
    assert!(!c.hub.store().has_change(&hash).unwrap());
    assert_eq!(c.hub.store().quarantined(100).unwrap().len(), q.len(), "kept at the hub too");
    // Every other case went through.
    c.bureau.sync().await.unwrap();
    assert!(c.bureau.office.store().row(own).unwrap().is_some(), "the new case uploaded");
    assert_eq!(c.bureau.office.case(second).unwrap().investigation_report, "另案调查记录");
    assert!(
        !c.bureau
            .office
            .case(id)
            .unwrap()
            .events
            .iter()
            .any(|e| e.action == ActionKind::Investigate),
        "the corrupt change never arrived"
    );
    // The status shows it; the deep check still reports it.
    assert_eq!(c.hq.office.sync_status().unwrap().quarantined, q.len() as u64);
    assert!(!c.hq.office.view(id).unwrap().refused.is_empty());
    assert!(!c.hq.office.store().check_deep().unwrap().problems.is_empty());

    // `ledger repair` (and the app's 恢复): recover, compare with the hub, report.
    let repaired = c.hq.office.repair(None).await.unwrap();
    assert_eq!(repaired.refused_cases, 1, "{repaired:?}");
    let compared = repaired.compared.expect("every document compared with the hub's");
    assert!(compared.compared > 0 && compared.unsettled == 0, "{compared:?}");
    let recovered = repaired.recovered;
    assert_eq!(recovered.cases, 1, "{recovered:?}");
    assert!(!recovered.redone.is_empty(), "the 调查核实 was recorded again: {recovered:?}");
    c.hq.sync().await.unwrap();
    assert!(c.hq.office.quarantine().unwrap().is_empty(), "quarantine left after recovery");
    assert_eq!(c.hq.office.store().outbox_len().unwrap(), 0);
    assert!(c.hq.office.store().check_deep().unwrap().problems.is_empty());
    c.bureau.sync().await.unwrap();
    let at_bureau = c.bureau.office.case(id).unwrap();
    assert!(
        at_bureau.events.iter().any(|e| e.action == ActionKind::Investigate && e.office == "hq")
    );
    assert_eq!(c.hq.office.case(id).unwrap(), at_bureau, "the case converged with the hub");
    assert_eq!(
        c.hq.office.store().heads(id, StoreKind::Case).unwrap(),
        c.bureau.office.store().heads(id, StoreKind::Case).unwrap()
    );
    c.after_attack(&before, "wedged outbox").await;
}

/// Flips one byte of the oldest outbox entry of case `id` at `o`: its sequence and hash.
fn corrupt_first_outbox_entry(o: &TestOffice, id: CaseId) -> (i64, String) {
    let conn = rusqlite::Connection::open(o.dir.path().join("ledger.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let (seq, hash, mut bytes): (i64, String, Vec<u8>) = conn
        .query_row(
            "SELECT seq, hash, bytes FROM outbox WHERE case_id = ?1 ORDER BY seq LIMIT 1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    conn.execute("UPDATE outbox SET bytes = ?1 WHERE seq = ?2", rusqlite::params![bytes, seq])
        .unwrap();
    (seq, hash)
}

/// A batch large enough to be judged in lanes side by side (thirty new cases and two changes to
/// an old one, the first corrupt): the corrupt change and the one built on it are refused,
/// every other case goes through, as when a batch is judged on one thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_change_in_a_batch_judged_side_by_side_is_refused_alone() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "柏秘密", "789", "13900003434");
    let id = c.open_case("黄桥镇", "秦十");
    c.settle().await;
    let before = c.snapshot(&[sealed]);
    let mut new = Vec::new();
    for n in 0..30 {
        let input = case_input("黄桥镇", "本局接收", &format!("来访人{n}"), "宅基地纠纷");
        new.push(c.hq.office.register(&input, None).unwrap());
    }
    c.hq.office.act(id, &with_text(ActionKind::Investigate, "已到现场核实")).unwrap();
    c.hq.office.set_draft(id, schema::Draft::Investigation, "调查记录").unwrap();
    let queued = c.hq.office.store().outbox_len().unwrap();
    assert!(queued >= 62, "one batch of {queued} changes, enough for lanes");
    let (_, hash) = corrupt_first_outbox_entry(&c.hq, id);
    let report = c.hq.sync().await.unwrap();
    assert_eq!(report.refused, 2, "the corrupt change and the one after it: {report:?}");
    let q = c.hq.office.quarantine().unwrap();
    assert_eq!(q.len(), 2, "{q:?}");
    assert!(q.iter().all(|q| q.case_id == id), "only the corrupt case's changes: {q:?}");
    assert!(q.iter().any(|q| q.hash == hash), "{q:?}");
    let at_hub = c.hub.store().quarantined(100).unwrap();
    let rules: Vec<&str> = at_hub.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(rules.contains(&"causality"), "the change built on it: {rules:?}");
    assert!(!c.hub.store().has_change(&hash).unwrap());
    assert_eq!(c.hq.office.store().outbox_len().unwrap(), 0, "the rest acknowledged");
    c.bureau.sync().await.unwrap();
    for case in &new {
        assert!(c.bureau.office.store().row(*case).unwrap().is_some(), "case {case} uploaded");
        assert_eq!(
            c.bureau.office.store().heads(*case, StoreKind::Case).unwrap(),
            c.hq.office.store().heads(*case, StoreKind::Case).unwrap()
        );
    }
    let at_bureau = c.bureau.office.case(id).unwrap();
    assert!(!at_bureau.events.iter().any(|e| e.action == ActionKind::Investigate));
    assert!(at_bureau.investigation_report.is_empty(), "the draft built on it never arrived");
    c.after_attack(&before, "corrupt change judged in lanes").await;
}

// ---------------------------------------------------------------------------------------------
// 7. Panics from the network

/// Changes whose headers Automerge itself would choke on (seq u64::MAX, a seq gap, a wrong
/// start_op, timestamps that overflow, dependencies that do not exist) and bytes that are not
/// changes: each answered 200 with the change in `refused`, never 500, and the hub serves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_changes_are_refused_in_a_normal_reply_never_a_500() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "施秘密", "789", "13900001212");
    let id = c.open_case("黄桥镇", "孔八");
    let good_case = c.open_case("黄桥镇", "曹九");
    c.settle().await;
    // The township has written on the case before, so its actor has a previous change there.
    c.hq.office.act(id, &with_text(ActionKind::Investigate, "初步核实")).unwrap();
    c.settle().await;
    let before = c.snapshot(&[sealed, id]);
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    let base = forge(&c.hq, id, StoreKind::Case, |tx| {
        tx.put(ROOT, "subject", "某村委会").unwrap();
    });
    let decoded = Change::from_bytes(base.clone()).unwrap();
    let (seq, start) = (decoded.seq(), decoded.start_op().get());
    let missing = ledger_domain::automerge::ChangeHash([0x42; 32]);
    let other_actor = c.bureau.office.store().actor();
    let whole_doc = c.hq.office.store().save_doc(id, StoreKind::Case).unwrap();
    let op_forge = |f: &dyn Fn(&mut LegacyOperation)| reencode(&base, |e| f(&mut e.operations[0]));
    let flipped = {
        let mut b = base.clone();
        let at = b.len() / 2;
        b[at] ^= 0xff;
        b
    };
    let forged: Vec<(&str, Vec<u8>)> = vec![
        ("seq u64::MAX", reencode(&base, |e| e.seq = u64::MAX)),
        ("seq u64::MAX - 1", reencode(&base, |e| e.seq = u64::MAX - 1)),
        ("seq 2^32", reencode(&base, |e| e.seq = 1 << 32)),
        ("seq gap", reencode(&base, |e| e.seq = seq + 2)),
        ("seq repeated", reencode(&base, |e| e.seq = seq - 1)),
        ("seq 0", reencode(&base, |e| e.seq = 0)),
        ("start_op ahead", reencode(&base, |e| e.start_op = (start + 5).try_into().unwrap())),
        ("start_op behind", reencode(&base, |e| e.start_op = 1.try_into().unwrap())),
        ("start_op u64::MAX", reencode(&base, |e| e.start_op = u64::MAX.try_into().unwrap())),
        ("time i64::MAX", reencode(&base, |e| e.time = i64::MAX)),
        ("time i64::MIN", reencode(&base, |e| e.time = i64::MIN)),
        ("time -1", reencode(&base, |e| e.time = -1)),
        ("missing dependency", reencode(&base, |e| e.deps = vec![missing])),
        ("extra missing dependency", reencode(&base, |e| e.deps.push(missing))),
        ("no dependencies", reencode(&base, |e| e.deps.clear())),
        ("another device's actor", reencode(&base, |e| e.actor_id = other_actor.clone())),
        ("huge message", reencode(&base, |e| e.message = Some("溢".repeat(100_000)))),
        ("huge extra bytes", reencode(&base, |e| e.extra_bytes = vec![7; 100_000])),
        ("one byte flipped", flipped),
        ("truncated", base[..base.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect()),
        ("a whole document", whole_doc),
        ("trailing bytes", {
            let mut b = base.clone();
            b.extend_from_slice(b"tail");
            b
        }),
        // Operations Automerge has to make sense of when it applies them.
        (
            "an operation on a missing object",
            op_forge(&|op| {
                op.obj = ObjectId::Id(OpId(9999, other_actor.clone()));
            }),
        ),
        (
            "a predecessor u64::MAX",
            op_forge(&|op| {
                op.pred = vec![OpId(u64::MAX, other_actor.clone())].into();
            }),
        ),
        (
            "a list key on the root map",
            op_forge(&|op| {
                op.key = Key::Seq(ElementId::Head);
                op.insert = true;
            }),
        ),
        (
            "a list key after a missing element",
            op_forge(&|op| {
                op.key = Key::Seq(ElementId::Id(OpId(u64::MAX, other_actor.clone())));
                op.insert = true;
            }),
        ),
        ("an increment of a string", op_forge(&|op| op.action = LegacyOp::Increment(1))),
        ("text over a scalar field", op_forge(&|op| op.action = LegacyOp::Make(ObjType::Text))),
        (
            "a delete with no predecessor",
            op_forge(&|op| {
                op.action = LegacyOp::Delete;
                op.pred = Vec::new().into();
            }),
        ),
        (
            "a timestamp value i64::MIN",
            op_forge(&|op| {
                op.action = LegacyOp::Put(ScalarValue::Timestamp(i64::MIN));
            }),
        ),
    ];
    let started = Instant::now();
    for (what, bytes) in &forged {
        // Each alone, so each reaches its own rule.
        hostile.refused(&c.hub, what, up(id, WireKind::Case, bytes.clone())).await;
    }
    // A change claiming another change's hash.
    let mut lying = up(id, WireKind::Case, reencode(&base, |e| e.time += 1));
    lying.hash = Hash([0x24; 32]);
    hostile.refused(&c.hub, "wrong hash claimed", lying).await;
    // A change to a case that does not exist, and one filed under the wrong kind.
    hostile
        .refused(&c.hub, "unknown case", up(random_case_id(), WireKind::Case, base.clone()))
        .await;
    hostile
        .refused(&c.hub, "case change as identity", up(id, WireKind::Identity, base.clone()))
        .await;
    let own_roster = CaseId(roster_id("hq"));
    hostile
        .refused(&c.hub, "case change as roster", up(own_roster, WireKind::Roster, base.clone()))
        .await;
    // Everything at once with a good change to another case: the good one goes in.
    let good = up(
        good_case,
        WireKind::Case,
        forge(&c.hq, good_case, StoreKind::Case, |tx| {
            schema::set_draft(tx, schema::Draft::Reply, "拟答复").unwrap();
        }),
    );
    let mut all: Vec<UpChange> =
        forged.iter().map(|(_, b)| up(id, WireKind::Case, b.clone())).collect();
    all.push(good.clone());
    let resp = hostile.push(all).await;
    assert!(resp.acked.contains(&good.hash), "the good change was held back: {resp:?}");
    assert_eq!(resp.acked.len(), 1, "{:?}", resp.acked);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    // Through the outbox, too.
    for (_, bytes) in forged.iter().take(6) {
        if Change::from_bytes(bytes.clone()).is_ok() {
            inject_outbox(&c.hq.dir, id, bytes);
        }
    }
    let report = c.hq.sync().await.unwrap();
    assert!(report.refused >= 1, "{report:?}");
    c.after_attack(&before, "malformed changes").await;
    assert_eq!(c.bureau.office.case(good_case).unwrap().reply_draft, "拟答复");
}

/// `ledger check --deep` judges every outbox entry with the hub's rules: entries whose
/// operations Automerge cannot apply (an object that does not exist, a list key on a map) are
/// reported as problems, without a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deep_check_reports_unappliable_outbox_entries_without_panicking() {
    let c = county().await;
    let id = c.open_case("黄桥镇", "邓十三");
    c.settle().await;
    let base = forge(&c.hq, id, StoreKind::Case, |tx| {
        tx.put(ROOT, "subject", "某村委会").unwrap();
    });
    let other_actor = c.bureau.office.store().actor();
    let bad = [
        reencode(&base, |e| e.operations[0].obj = ObjectId::Id(OpId(9999, other_actor.clone()))),
        reencode(&base, |e| {
            e.operations[0].key = Key::Seq(ElementId::Head);
            e.operations[0].insert = true;
        }),
    ];
    for (i, bytes) in bad.iter().enumerate() {
        inject_outbox(&c.hq.dir, id, bytes);
        let deep =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.hq.office.check_deep()))
                .unwrap_or_else(|_| {
                    panic!("`ledger check --deep` panicked on hostile outbox entry {i}")
                })
                .unwrap();
        assert!(deep.problems.iter().any(|p| p.case_id == Some(id)), "{i}: {deep:?}");
        // Only one at a time: the next entry would be judged on top of this one.
        let conn = rusqlite::Connection::open(c.hq.dir.path().join("ledger.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute("DELETE FROM outbox WHERE hash = ?1", [hash_of(bytes).to_string()]).unwrap();
    }
    c.after_attack(&Vec::new(), "deep check").await;
}

// ---------------------------------------------------------------------------------------------
// 8. Visibility on every path

/// A township asks for what it may not see by every path that serves a document: a
/// hand-written partial-download cursor for a restricted identity, `want_whole` and a partial
/// cursor for another township's case, its attachment, and repair. It gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_requests_get_nothing_the_township_may_not_see() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "吕秘密", "890", "13900001313");
    let elsewhere = c.open_case("石江镇", "严十");
    let scan: Vec<u8> =
        (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let blob = c.bureau.office.attach(elsewhere, "现场照片.jpg", &scan, "image/jpeg").unwrap();
    c.settle().await;
    assert!(c.hq.office.store().row(elsewhere).unwrap().is_none(), "precondition");
    let before = c.snapshot(&[sealed, elsewhere]);
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    let heads = |id: CaseId, kind: StoreKind| -> Vec<Hash> {
        c.bureau.office.store().heads(id, kind).unwrap().iter().map(|h| Hash(h.0)).collect()
    };
    let head = c.hub.store().head().unwrap();
    let nothing_of = |resp: &SyncResponse, id: CaseId, what: &str| {
        for r in &resp.records {
            match r {
                Record::Enter { case_id, .. } | Record::Change { case_id, .. } => {
                    assert_ne!(*case_id, id.0, "{what}: served a document of {id}");
                }
                Record::Blob(chunk) => assert_ne!(chunk.hash, blob, "{what}: served the blob"),
                Record::Leave { .. } => {}
            }
        }
    };
    let partial = |id: CaseId, kind: WireKind, heads: Vec<Hash>| SyncRequest {
        cursor: Cursor {
            seq: head,
            bootstrap: None,
            partial: Some(Partial { case_id: id.0, kind, heads, offset: 0 }),
        },
        page_bytes: 1024 * 1024,
        ..Default::default()
    };
    // The restricted identity, at its real heads, at no heads, from an offset.
    for (what, req) in [
        (
            "partial identity",
            partial(sealed, WireKind::Identity, heads(sealed, StoreKind::Identity)),
        ),
        ("partial identity, no heads", partial(sealed, WireKind::Identity, Vec::new())),
        ("partial identity, offset", {
            let mut r = partial(sealed, WireKind::Identity, heads(sealed, StoreKind::Identity));
            if let Some(p) = &mut r.cursor.partial {
                p.offset = 16;
            }
            r
        }),
        (
            "partial other township's case",
            partial(elsewhere, WireKind::Case, heads(elsewhere, StoreKind::Case)),
        ),
        (
            "partial other township's identity",
            partial(elsewhere, WireKind::Identity, heads(elsewhere, StoreKind::Identity)),
        ),
    ] {
        let resp = hostile.exchange(&req).await;
        let target = if what.contains("other") { elsewhere } else { sealed };
        if target == sealed {
            for r in &resp.records {
                if let Record::Enter { case_id, kind, .. } = r {
                    assert!(!(*case_id == sealed.0 && *kind == WireKind::Identity), "{what}");
                }
            }
        } else {
            nothing_of(&resp, elsewhere, what);
        }
    }
    // want_whole of another township's case and of the restricted case.
    let resp = hostile
        .exchange(&SyncRequest {
            cursor: Cursor { seq: head, ..Default::default() },
            want_whole: vec![elsewhere.0, sealed.0],
            page_bytes: 1024 * 1024,
            ..Default::default()
        })
        .await;
    nothing_of(&resp, elsewhere, "want_whole");
    // The other township's attachment.
    let resp = hostile
        .exchange(&SyncRequest {
            cursor: Cursor { seq: head, ..Default::default() },
            want_blobs: vec![ledger_protocol::BlobWant { hash: blob.clone(), offset: 0 }],
            page_bytes: 1024 * 1024,
            ..Default::default()
        })
        .await;
    nothing_of(&resp, elsewhere, "want_blobs");
    // A bootstrap from cursor zero.
    let mut req = SyncRequest { page_bytes: 4 * 1024 * 1024, ..Default::default() };
    for _ in 0..50 {
        let resp = hostile.exchange(&req).await;
        nothing_of(&resp, elsewhere, "bootstrap");
        if !resp.more {
            break;
        }
        req.cursor = resp.cursor;
    }
    // Repair: digests naming what it may not hold are not answered, and Automerge's own sync
    // protocol from an empty document brings nothing.
    let credential = c.hq.office.store().meta("sync.credential").unwrap().unwrap();
    let digests =
        c.hq.client()
            .repair_digests(
                &c.hub.url(),
                &credential,
                &RepairRequest {
                    after: None,
                    digests: vec![
                        ledger_protocol::DocDigest {
                            case_id: sealed.0,
                            kind: WireKind::Identity,
                            heads: heads_digest(&[]),
                        },
                        ledger_protocol::DocDigest {
                            case_id: elsewhere.0,
                            kind: WireKind::Case,
                            heads: heads_digest(&[]),
                        },
                    ],
                    last: true,
                },
            )
            .await
            .unwrap();
    let named: Vec<_> = digests.differ.iter().chain(&digests.missing).collect();
    assert!(
        named.iter().all(|(case, kind)| *case != elsewhere.0
            && !(*case == sealed.0 && *kind == WireKind::Identity)),
        "repair named documents hq may not hold: {named:?}"
    );
    for (what, id, kind) in [
        ("repair of the restricted identity", sealed, WireKind::Identity),
        ("repair of another township's case", elsewhere, WireKind::Case),
        ("repair of another township's identity", elsewhere, WireKind::Identity),
    ] {
        let mut doc = Automerge::new();
        let mut state = SyncState::new();
        for _ in 0..8 {
            let Some(message) = doc.generate_sync_message(&mut state) else { break };
            let reply =
                c.hq.client()
                    .repair_sync(
                        &c.hub.url(),
                        &credential,
                        &RepairSync { case_id: id.0, kind, message: message.encode() },
                    )
                    .await;
            let Ok(reply) = reply else { break };
            let Some(m) = reply.message else { break };
            let m = ledger_domain::automerge::sync::Message::decode(&m).unwrap();
            doc.receive_sync_message(&mut state, m).unwrap();
        }
        assert!(doc.get_heads().is_empty(), "{what}: the hub sent its changes");
    }
    c.after_attack(&before, "hand-written cursors").await;
}

// ---------------------------------------------------------------------------------------------
// 9. Revocation

/// Revoking an office revokes its devices and every token it has not used yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_an_office_burns_its_outstanding_tokens() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "范秘密", "246", "13900001717");
    c.settle().await;
    let before = c.snapshot(&[sealed]);
    let outstanding = c.hub.token("hq").unwrap();
    let unrelated = c.hub.token("sj").unwrap();
    assert!(c.hub.store().revoke("hq", None, ledger_hub::now_ms()).unwrap() >= 1);
    let err = TestOffice::enroll(&c.hub.url(), &outstanding, "李娟", TODAY).await;
    assert!(err.is_err(), "an outstanding token of a revoked office enrolled a device");
    let err = c.hq.sync().await.unwrap_err();
    assert!(matches!(err, ledger_client::ClientError::Unauthorized(_)), "{err:?}");
    // Nor can its old credential reach anything by hand.
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());
    let (status, _) = hostile
        .raw("/v1/sync", Some(&hostile.credential), encode(&SyncRequest::default()).unwrap())
        .await;
    assert_eq!(status, 401);
    // Other offices are not touched.
    TestOffice::enroll(&c.hub.url(), &unrelated, "王五", TODAY).await.unwrap();
    c.sj.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    // The invariants, without the revoked township's sync.
    assert_eq!(c.bureau.office.view(sealed).unwrap().case, before[0].1);
    assert_eq!(c.bureau.office.view(sealed).unwrap().identity, before[0].2);
    let check =
        ledger_hub::check::check(c.hub.store().as_ref(), false, ledger_hub::now_ms()).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    c.hq.office.view(sealed).unwrap();
    c.assert_no_leaks("revocation");
    let panics = foreign_panics();
    assert!(panics.is_empty(), "{panics:#?}");
}

// ---------------------------------------------------------------------------------------------
// 10. Bounds

/// Oversized lists are refused at once with 400 while other offices sync; unauthenticated
/// bodies are answered 401 before they are read; repeated bad credentials end in 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_lists_and_unauthenticated_bodies_are_cut_short() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "金秘密", "901", "13900001414");
    let open = c.open_case("石江镇", "魏十一");
    c.settle().await;
    let before = c.snapshot(&[sealed, open]);
    let hostile = Hostile::new(&c.hub, &c.hq, &c.sealed_ids());

    // 3,000 random ids in `evicted` (and in `want_whole`), while the other township syncs.
    let random: Vec<_> = (0..3000).map(|_| random_case_id().0).collect();
    for (what, req) in [
        ("evicted", SyncRequest { evicted: random.clone(), ..Default::default() }),
        ("want_whole", SyncRequest { want_whole: random.clone(), ..Default::default() }),
    ] {
        c.sj.office.set_field(open, &CaseField::Subject, &format!("{what}期间的修改")).unwrap();
        let started = Instant::now();
        let (bad, other) = tokio::join!(
            hostile.raw("/v1/sync", Some(&hostile.credential), encode(&req).unwrap()),
            c.sj.sync()
        );
        let (status, body) = bad;
        assert_eq!(status, 400, "{what}: {}", String::from_utf8_lossy(&body));
        let body: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.code, "bad_request");
        assert!(started.elapsed() < Duration::from_secs(5), "{what}: {:?}", started.elapsed());
        other.unwrap();
    }
    assert_eq!(c.sj.office.store().outbox_len().unwrap(), 0, "the other township kept syncing");
    c.bureau.sync().await.unwrap();
    assert_eq!(c.bureau.office.case(open).unwrap().subject, "want_whole期间的修改");
    let before: Snapshot = before
        .into_iter()
        .map(|(id, case, identity)| {
            let case = if id == open { c.bureau.office.case(id).unwrap() } else { case };
            (id, case, identity)
        })
        .collect();

    // Unauthenticated 16 MiB bodies: answered 401 when 4 KiB of them have been sent.
    for credential in [None, Some("NOT-A-CREDENTIAL")] {
        let answer =
            ledger_tests::answer_to_declared_body(c.hub.addr(), credential, 16 * 1024 * 1024)
                .await
                .unwrap()
                .expect("the hub answered before the body was sent");
        assert!(answer.starts_with("HTTP/1.1 401"), "{credential:?}: {answer}");
    }
    // Many at once: none is held open reading.
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut s = ledger_tests::raw_tls(c.hub.addr()).await.unwrap();
        let head = format!(
            "POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            16 * 1024 * 1024
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&[1u8; 8192]).await.unwrap();
        held.push(s);
    }
    for s in &mut held {
        let mut answer = vec![0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut answer))
            .await
            .expect("answered")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]).to_string();
        assert!(
            answer.starts_with("HTTP/1.1 401") || answer.starts_with("HTTP/1.1 429"),
            "{answer}"
        );
    }
    drop(held);
    c.after_attack(&before, "bounds").await;

    // Repeated bad credentials from one address end in 429 (last: it locks out the address).
    let mut statuses = Vec::new();
    for i in 0..40 {
        let (status, _) = hostile
            .raw(
                "/v1/sync",
                Some(&format!("GUESS-{i:04}")),
                encode(&SyncRequest::default()).unwrap(),
            )
            .await;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "no rate limit after {} failures: {statuses:?}",
        statuses.len()
    );
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    // Enrollment tokens cannot be guessed at speed either.
    let status = ledger_tests::raw_http()
        .post(format!("{}/v1/enroll", c.hub.url()))
        .json(&serde_json::json!({"token": "GUESS", "actor": "ab", "device_name": "x"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 429);
    // A valid credential from the same address is still served (a shared NAT or proxy).
    hostile.exchange(&SyncRequest { page_bytes: 4096, ..Default::default() }).await;
    let health =
        ledger_tests::raw_http().get(format!("{}/v1/health", c.hub.url())).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "the hub stays up");
    assert!(foreign_panics().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 11. Names typed at a township for a restricted case

/// A township adds a repeat visit with a new petitioner to a restricted case (and registers a
/// report of its own): the names reach the bureau's identity document, and afterwards no file
/// of the township holds a byte of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_typed_at_a_township_for_a_restricted_case_reach_the_bureau_and_leave_no_trace() {
    let mut c = county().await;
    let id = c.sealed_case("黄桥镇", "陶秘密", "012", "13900001515");
    c.settle().await;
    let before_persons = c.bureau.office.view(id).unwrap().identity.unwrap().persons.len();
    let visitor = NewPetitioner {
        name: "姜再访".into(),
        id_number: resident_id("43052119750505567"),
        phone: "13700002468".into(),
        address: "黄桥镇大屋村5组".into(),
        ..Default::default()
    };
    let typed = vec![visitor.name.clone(), visitor.id_number.clone(), visitor.phone.clone()];
    c.hq.office
        .add_submission(
            id,
            &SubmissionInput {
                submission: NewSubmission {
                    received: "2024-03-04".parse().ok(),
                    channel: "来访".into(),
                    source: "本局接收".into(),
                    summary: "再次反映".into(),
                    ..Default::default()
                },
                petitioners: vec![visitor.clone()],
                representatives: Vec::new(),
            },
            None,
        )
        .unwrap();
    let view = c.hq.office.view(id).unwrap();
    assert!(view.identity.is_none());
    assert_eq!(view.identities_to_deliver, 1, "the names wait for the bureau");
    assert!(view.case.petitioners.iter().any(|p| p.display_name == "姜*访"));
    // The township registers a report of its own, too.
    let own_words =
        vec!["邹自报".to_owned(), resident_id("43052119760606678"), "13700001357".to_owned()];
    let own = {
        let mut input = case_input("黄桥镇", "12336举报", &own_words[0], "举报非法采矿");
        input.category = "违法占地建设".into();
        input.purpose = "检举控告".into();
        input.petitioners[0].id_number = own_words[1].clone();
        input.petitioners[0].phone = own_words[2].clone();
        c.hq.office.register(&input, None).unwrap()
    };
    assert!(!has_identity(&c.hq, own));
    c.settle().await;
    assert_eq!(c.hq.office.identities_to_deliver().unwrap(), 0, "every drop acknowledged");

    let identity = c.bureau.office.view(id).unwrap().identity.unwrap();
    assert_eq!(identity.persons.len(), before_persons + 1, "{identity:?}");
    let p = identity.persons.iter().find(|p| p.name == visitor.name).expect("the name arrived");
    assert_eq!(
        (p.id_number.as_str(), p.phone.as_str()),
        (visitor.id_number.as_str(), visitor.phone.as_str())
    );
    let own_identity = c.bureau.office.view(own).unwrap().identity.expect("the report's identity");
    assert_eq!(own_identity.persons[0].name, own_words[0]);
    assert!(c.hub.store().case_scope(own).unwrap().unwrap().restricted);

    // Not a byte left at the township: ledger.db, ledger.db-wal, or any other file.
    let mut words = typed.clone();
    words.extend(own_words.clone());
    let found = leaks(c.hq.dir.path(), &words);
    assert!(found.is_empty(), "typed names linger at the township: {found:#?}");
    c.secrets.push(Secret { case: id, words: typed });
    c.secrets.push(Secret { case: own, words: own_words });
    let before = c.snapshot(&[id, own]);
    c.after_attack(&before, "repeat visit").await;
}

// ---------------------------------------------------------------------------------------------
// 12. Official numbers

/// Two bureau devices accept cases offline, after one sync each: no official number is issued
/// twice, even past the first leased block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bureau_devices_offline_never_issue_the_same_official_number() {
    let c = county().await;
    let second = TestOffice::enroll(&c.hub.url(), &c.hub.token("county").unwrap(), "刘洪", TODAY)
        .await
        .unwrap();
    second.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    // Offline from here on.
    let mut numbers: Vec<(String, String)> = Vec::new();
    let mut ids = Vec::new();
    for (device, o) in [("A", &c.bureau), ("B", &second)] {
        for i in 0..26 {
            let id = o
                .office
                .register(
                    &case_input("黄桥镇", "本局接收", &format!("受理{device}{i}"), "土地纠纷"),
                    None,
                )
                .unwrap();
            o.office.act(id, &act(ActionKind::Accept)).unwrap();
            let n = o.office.case(id).unwrap().official_number.expect("an official number");
            numbers.push((device.to_owned(), n));
            ids.push(id);
        }
    }
    let unique: BTreeSet<&String> = numbers.iter().map(|(_, n)| n).collect();
    assert_eq!(unique.len(), numbers.len(), "duplicate official numbers: {numbers:?}");
    // And as the county's record has them once everything is synced.
    second.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    second.sync().await.unwrap();
    let at_hub: Vec<String> =
        ids.iter().map(|id| c.bureau.office.case(*id).unwrap().official_number.unwrap()).collect();
    let unique: BTreeSet<&String> = at_hub.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{at_hub:?}");
    c.after_attack(&Vec::new(), "official numbers").await;
}

/// The number a document was issued under, and whether it came from a leased block (a number
/// without the device letter: `…〔2024〕12号`, not `…〔2024〕B3号`).
fn document_number(o: &TestOffice, id: CaseId) -> (String, bool) {
    let case = o.office.case(id).unwrap();
    let n = case
        .events
        .iter()
        .rev()
        .find_map(|e| e.document_number.clone())
        .expect("a document number");
    let serial = n.rsplit('〕').next().unwrap_or_default();
    let leased = serial.chars().next().is_some_and(|c| c.is_ascii_digit());
    (n, leased)
}

/// Two bureau devices issue documents offline, after they synced once since their first
/// document: no document number is issued twice, from the leased blocks or past them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bureau_devices_offline_never_issue_the_same_document_number() {
    let c = county().await;
    let second = TestOffice::enroll(&c.hub.url(), &c.hub.token("county").unwrap(), "刘洪", TODAY)
        .await
        .unwrap();
    let devices = [("A", &c.bureau), ("B", &second)];
    let kind = ledger_domain::DocumentKind::AcceptanceNotice;
    let issue = |o: &TestOffice, name: &str| {
        let id =
            o.office.register(&case_input("黄桥镇", "本局接收", name, "土地纠纷"), None).unwrap();
        o.office.act(id, &act(ActionKind::Accept)).unwrap();
        o.office.document(id, &kind, true, None).unwrap();
        id
    };
    // A first document on each device makes its series known; the next sync leases a block.
    let mut ids: Vec<(usize, CaseId)> = Vec::new();
    for (d, (device, o)) in devices.iter().enumerate() {
        ids.push((d, issue(o, &format!("首份{device}"))));
    }
    for (_, o) in devices {
        o.sync().await.unwrap();
    }
    // Offline from here on: past the 20 numbers of the block.
    for (d, (device, o)) in devices.iter().enumerate() {
        for i in 0..26 {
            ids.push((d, issue(o, &format!("文书{device}{i}"))));
        }
    }
    let numbers: Vec<(usize, String, bool)> = ids
        .iter()
        .map(|(d, id)| {
            let (n, leased) = document_number(devices[*d].1, *id);
            (*d, n, leased)
        })
        .collect();
    let unique: BTreeSet<&String> = numbers.iter().map(|(_, n, _)| n).collect();
    assert_eq!(unique.len(), numbers.len(), "duplicate document numbers: {numbers:?}");
    for d in 0..2 {
        let leased = numbers.iter().filter(|(x, _, l)| *x == d && *l).count();
        assert!(leased >= 20, "device {d} issued {leased} numbers from a block: {numbers:?}");
    }
    // And as the county's record has them once everything is synced.
    second.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    second.sync().await.unwrap();
    let at_bureau: Vec<String> =
        ids.iter().map(|(_, id)| document_number(&c.bureau, *id).0).collect();
    let unique: BTreeSet<&String> = at_bureau.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{at_bureau:?}");
    c.after_attack(&Vec::new(), "document numbers").await;
}

// ---------------------------------------------------------------------------------------------
// USB bundles: the same judge as the network

/// What `ledger-hub bundle import` does: the hub library on the hub's database, in its own
/// process (its own store and engine), while the server runs.
fn hub_import(hub: &TestHub, up: &Path, ret: &Path) -> ledger_hub::bundles::Imported {
    let bytes = std::fs::read(up).unwrap();
    let imported =
        ledger_hub::bundles::import(hub.another_store().unwrap(), &bytes, ledger_hub::now_ms())
            .unwrap();
    std::fs::write(ret, &imported.bytes).unwrap();
    imported
}

/// A declassification carried to the county on a USB stick is refused exactly like one sent
/// over the network, and the return bundle carries no identity the township may not hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_change_on_a_usb_bundle_is_refused_like_one_over_the_network() {
    let mut c = county().await;
    let sealed = c.sealed_case("黄桥镇", "潘秘密", "135", "13900001616");
    c.settle().await;
    let before = c.snapshot(&[sealed]);
    let forged = forge(&c.hq, sealed, StoreKind::Case, |tx| {
        tx.put(ROOT, "purpose", "appeal").unwrap();
        schema::put_identity_released(tx, true).unwrap();
    });
    inject_outbox(&c.hq.dir, sealed, &forged);
    let files = tempfile::tempdir().unwrap();
    let (up_file, ret_file) = (files.path().join("hq.lgb"), files.path().join("hq-return.lgb"));
    assert!(c.hq.office.export_bundle(&up_file).unwrap() >= 1);
    let imported = hub_import(&c.hub, &up_file, &ret_file);
    assert!(imported.refused >= 1, "the bundle's forged change was taken");
    assert!(!c.hub.store().has_change(&hash_of(&forged).to_hex()).unwrap());
    assert!(restricted_at_hub(&c.hub, sealed));
    let report = c.hq.office.import_bundle(&ret_file).unwrap();
    assert!(report.refused >= 1, "{report:?}");
    assert!(!has_identity(&c.hq, sealed), "the return bundle carried the identity");
    let ret = std::fs::read(&ret_file).unwrap();
    for s in &c.secrets {
        for w in &s.words {
            assert!(!contains(&ret, w.as_bytes()), "the return bundle holds {w}");
        }
    }
    c.after_attack(&before, "USB bundle").await;
}

/// An honest township's work arriving by USB bundle while the hub serves (`ledger-hub bundle
/// import` is its own process on the same database): the server must see it. The bureau's
/// next action built on it over the network is taken, and what the bundle brought is not lost
/// when the server compacts the document with its own later changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_imported_from_a_usb_bundle_while_the_hub_serves_is_not_lost() {
    let c = county().await;
    let id = c.open_case("黄桥镇", "钟十二");
    c.settle().await;
    // The server has the case loaded now. The township works offline and sends a USB stick.
    c.hq.office.act(id, &with_text(ActionKind::Investigate, "U盘送达的调查记录")).unwrap();
    let files = tempfile::tempdir().unwrap();
    let (up_file, ret_file) = (files.path().join("hq.lgb"), files.path().join("hq-return.lgb"));
    c.hq.office.export_bundle(&up_file).unwrap();
    let imported = hub_import(&c.hub, &up_file, &ret_file);
    assert_eq!(imported.refused, 0);
    c.hq.office.import_bundle(&ret_file).unwrap();
    let mut found = Vec::new();
    // Meanwhile the bureau, not yet synced, edits the case over the network often enough for
    // the server to compact the document.
    for i in 0..70 {
        c.bureau.office.set_field(id, &CaseField::Subject, &format!("第{i}次修改")).unwrap();
    }
    c.bureau.sync().await.unwrap();
    if !c.bureau.office.quarantine().unwrap().is_empty() {
        found.push(format!("the bureau's edits were refused: {:?}", c.bureau.office.quarantine()));
    }
    let has_investigation =
        |case: &Case| case.events.iter().any(|e| e.action == ActionKind::Investigate);
    if !has_investigation(&c.bureau.office.case(id).unwrap()) {
        found.push("the bureau never received the bundle's 调查核实".to_owned());
    }
    // A new device of the bureau starts from the server's documents.
    let fresh = TestOffice::enroll(&c.hub.url(), &c.hub.token("county").unwrap(), "刘洪", TODAY)
        .await
        .unwrap();
    fresh.sync().await.unwrap();
    if !has_investigation(&fresh.office.case(id).unwrap()) {
        found.push(
            "the server's document lost the bundle's 调查核实 (a new bureau device never gets it)"
                .to_owned(),
        );
    }
    // The bureau acts on top of the township's work.
    c.bureau.office.act(id, &supervision(&c.bureau.office, "请尽快答复")).unwrap();
    let report = c.bureau.sync().await.unwrap();
    if report.refused > 0 {
        found.push(format!(
            "the server refused the bureau's 督办 built on the bundle's change: {:?}",
            c.bureau.office.quarantine().unwrap()
        ));
    }
    assert!(found.is_empty(), "{found:#?}");
    let panics = foreign_panics();
    assert!(panics.is_empty(), "{panics:#?}");
}

/// Pages of an identity the township holds legitimately still arrive whole (a guard that the
/// visibility checks above do not simply refuse everything).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ordinary_identity_still_reaches_its_township() {
    let c = county().await;
    let id = c.open_case("黄桥镇", "柏公开");
    c.settle().await;
    assert!(has_identity(&c.hq, id));
    assert_eq!(c.hq.office.view(id).unwrap().identity.unwrap().persons[0].name, "柏公开");
    let fresh =
        TestOffice::enroll(&c.hub.url(), &c.hub.token("hq").unwrap(), "李娟", TODAY).await.unwrap();
    fresh.sync().await.unwrap();
    assert!(has_identity(&fresh, id));
}
