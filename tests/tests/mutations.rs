//! Mutation testing of the hub's rules. Real offices (the `Office` facade over real stores,
//! enrolled with a real hub) register, assign, investigate, reply, edit fields and draft; their
//! outbox changes are taken before they are synced, decoded, mutated at random (values, keys,
//! objects, actions, operations, `seq`, `start_op`, time, dependencies, actor, size, bytes on
//! the wire), re-encoded and re-hashed so they reach the rules rather than the hash check, and
//! sent to the real sync engine over a copy of the real hub database.
//!
//! Each mutated change goes to a fresh copy of the hub database after the unmutated changes that
//! precede it in its office's outbox, so every mutation is judged against the state its original
//! was made on. After every mutation: the engine answers (never an error, never a panic, and
//! Automerge does not panic inside it either); the change is acknowledged or refused, once, with
//! a known rule and a Chinese reason; every stored document passes `ledger-hub check` and loads
//! from its snapshot and tail; the record already at the hub (events, petitioners, submissions,
//! attachments, persons, staff, number, registrar, and for a township 所属乡镇 and 正式编号) is
//! unchanged; every new event names the caller's office, role and actor, a 办理人 on its roster,
//! an in-range time and a bounded Lamport number; a restricted case stays restricted (unless a
//! bureau 解除保密 with a reason lifted it); no identity of a restricted case reaches the
//! township, in the log or in what a sync serves it; and every document a sync serves (to the
//! township, and to a new bureau device) loads and reads at the office. At the end it reports
//! how many mutations each rule caught, how many were accepted (still valid changes) and how
//! many Automerge could not re-encode (skipped).
//!
//! - `LEDGER_MUTATION_CASES`: the number of mutations (default 200).
//! - `LEDGER_MUTATION_SEED`: the seed (default fixed), so a failure reproduces; the failing
//!   mutation is shrunk and printed.
//! - `LEDGER_MUTATION_SURVEY=1`: record every broken invariant and go on, then report them all
//!   (by kind, each with its simplest example) instead of stopping at the first.
//! - `LEDGER_MUTATION_ALLOW_CAUGHT_PANICS=1`: report Automerge panics the engine caught without
//!   failing on them.

#![allow(clippy::unwrap_used)]

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU64;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex, Once};
use std::time::Instant;

use ledger_domain::automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use ledger_domain::automerge::{
    ActorId, Automerge, Change, ChangeHash, ExpandedChange, ObjId, ObjType, Prop, ROOT, ReadDoc,
    ScalarValue, Value,
};
use ledger_domain::model::{Identity, Roster};
use ledger_domain::schema::{self, CaseField, Draft};
use ledger_domain::validate::{self, Limits, MAX_TIME_MS, MIN_TIME_MS, Rule};
use ledger_domain::workflow::replay;
use ledger_domain::{ActionKind, Case, NewPetitioner, Role};
use ledger_hub::store::{LogKind, Reader};
use ledger_hub::{Caller, Engine, HubStore, SqliteHubStore};
use ledger_office::{ActionInput, SubmissionInput, WorkChange, WorkInput};
use ledger_protocol::{
    Cursor, DocKind, Hash, Record, SyncRequest, SyncResponse, UpChange, roster_id,
};
use ledger_tests::{TestHub, TestOffice, case_input, repeat_visit, supervision};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use uuid::Uuid;

const TODAY: &str = "2024-03-05";
const COUNTY: &str = "county";
const TOWN: &str = "hq";
const TOWNSHIP: &str = "黄桥镇";
/// The reason the engine gives when Automerge panicked inside the rules.
const CAUGHT_PANIC: &str = "更改无法处理（解析时出错）";

// ---------------------------------------------------------------------------------------------
// Panics: Automerge may panic re-encoding a nonsensical change (skipped and counted); a panic
// inside the hub is recorded, never silenced.

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static PANICS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                PANICS.with(|p| p.borrow_mut().push(info.to_string()));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f` with panics recorded instead of printed; returns its result and the panics.
fn quietly<T>(f: impl FnOnce() -> T) -> (std::thread::Result<T>, Vec<String>) {
    QUIET.with(|q| q.set(true));
    let out = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    (out, PANICS.with(|p| std::mem::take(&mut *p.borrow_mut())))
}

// ---------------------------------------------------------------------------------------------
// The world: a hub database holding the county's cases, and the offices' unsent changes.

/// One office's side: how the hub knows it, and its outbox as it would go up.
struct Side {
    caller: Caller,
    outbox: Vec<UpChange>,
    actor: ActorId,
}

/// What a document holds at the hub before any mutation.
struct DocInfo {
    doc: Automerge,
    /// Objects (containers and records), as operation ids.
    objects: Vec<OpId>,
    /// Operations of root keys, by key.
    root_ops: Vec<(String, OpId)>,
    /// Scalar values inside records (events' fields ...).
    value_ops: Vec<OpId>,
    /// Characters of the drafts.
    elems: Vec<OpId>,
    /// Every change: hash and highest operation.
    changes: Vec<(ChangeHash, u64)>,
}

struct World {
    baseline: tempfile::TempDir,
    /// The hub log's head at the baseline.
    head: u64,
    township: Side,
    bureau: Side,
    docs: HashMap<(Uuid, DocKind), DocInfo>,
    cases: BTreeMap<Uuid, Case>,
    identities: BTreeMap<Uuid, Identity>,
    rosters: BTreeMap<String, Roster>,
    /// The county's rules document before the mutation.
    rules: Option<ledger_domain::RulesDoc>,
    /// Work records before the mutation.
    works: BTreeMap<Uuid, ledger_domain::work::WorkRecord>,
    restricted: BTreeSet<Uuid>,
    /// Every document, in an order that does not depend on random ids.
    doc_order: Vec<(Uuid, DocKind)>,
    /// Every change hash at the hub.
    hashes: Vec<ChangeHash>,
}

fn to_opid(id: &ObjId) -> Option<OpId> {
    match id {
        ObjId::Id(counter, actor, _) => Some(OpId(*counter, actor.clone())),
        ObjId::Root => None,
    }
}

impl DocInfo {
    /// Reads what a mutation may refer to, ordered by what does not change from run to run
    /// (operation counters, then whose actor), so a seed picks the same thing every time.
    fn new(doc: Automerge, rank: &dyn Fn(&ActorId) -> u8) -> Self {
        let mut info = Self {
            objects: Vec::new(),
            root_ops: Vec::new(),
            value_ops: Vec::new(),
            elems: Vec::new(),
            changes: {
                let mut metas: Vec<_> = doc
                    .get_changes_meta(&[])
                    .iter()
                    .map(|m| (m.max_op, rank(&m.actor), m.hash))
                    .collect();
                metas.sort();
                metas.into_iter().map(|(max_op, _, hash)| (hash, max_op)).collect()
            },
            doc: Automerge::new(),
        };
        let keys: Vec<String> = doc.keys(ROOT).collect();
        for key in keys {
            for (value, id) in doc.get_all(ROOT, key.as_str()).unwrap_or_default() {
                let Some(op) = to_opid(&id) else { continue };
                info.root_ops.push((key.clone(), op.clone()));
                match value {
                    Value::Object(ObjType::Text) => {
                        info.objects.push(op);
                        let n = doc.length(&id).min(40);
                        for i in 0..n {
                            for (_, c) in doc.get_all(&id, Prop::Seq(i)).unwrap_or_default() {
                                info.elems.extend(to_opid(&c));
                            }
                        }
                    }
                    Value::Object(t) => {
                        info.objects.push(op);
                        let props: Vec<Prop> = if t == ObjType::List {
                            (0..doc.length(&id)).map(Prop::Seq).collect()
                        } else {
                            doc.keys(&id).map(Prop::Map).collect()
                        };
                        for prop in props {
                            for (item, item_id) in doc.get_all(&id, prop).unwrap_or_default() {
                                let Some(item_op) = to_opid(&item_id) else { continue };
                                if let Value::Object(_) = item {
                                    info.objects.push(item_op);
                                    let fields: Vec<String> = doc.keys(&item_id).collect();
                                    for f in fields {
                                        for (_, v) in
                                            doc.get_all(&item_id, f.as_str()).unwrap_or_default()
                                        {
                                            info.value_ops.extend(to_opid(&v));
                                        }
                                    }
                                } else {
                                    info.value_ops.push(item_op);
                                }
                            }
                        }
                    }
                    Value::Scalar(_) => {}
                }
            }
        }
        let order = |ops: &mut Vec<OpId>| ops.sort_by_key(|o| (o.0, rank(&o.1)));
        order(&mut info.objects);
        order(&mut info.value_ops);
        order(&mut info.elems);
        info.root_ops.sort_by_key(|(k, o)| (k.clone(), o.0, rank(&o.1)));
        info.doc = doc;
        info
    }
}

/// A fresh copy of the baseline hub database.
fn fresh_copy(baseline: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(baseline).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// A stored document, loaded from its snapshot and tail as the hub stores them.
fn load_stored(store: &dyn HubStore, id: Uuid, kind: DocKind) -> Result<Option<Automerge>, String> {
    let Some((snapshot, tail)) =
        store.doc(ledger_domain::CaseId(id), kind).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let mut doc = Automerge::load(&snapshot).map_err(|e| e.to_string())?;
    let mut changes = Vec::new();
    for bytes in tail {
        changes.push(Change::from_bytes(bytes).map_err(|e| e.to_string())?);
    }
    doc.apply_changes(changes).map_err(|e| e.to_string())?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err("missing dependencies".into());
    }
    Ok(Some(doc))
}

fn caller_of(store: &dyn HubStore, office: &str) -> Caller {
    let device = store.devices(Some(office)).unwrap().into_iter().next().unwrap();
    let office = store.office(office).unwrap().unwrap();
    Caller { device, office }
}

fn up(entries: Vec<ledger_store::OutboxEntry>) -> Vec<UpChange> {
    entries
        .into_iter()
        .map(|e| UpChange {
            case_id: e.case_id.0,
            kind: match e.kind {
                ledger_store::DocKind::Case => DocKind::Case,
                ledger_store::DocKind::Identity => DocKind::Identity,
                ledger_store::DocKind::Roster => DocKind::Roster,
                ledger_store::DocKind::Rules => DocKind::Rules,
                ledger_store::DocKind::Work => DocKind::Work,
            },
            hash: Hash::from_hex(&e.hash).unwrap(),
            bytes: e.bytes,
        })
        .collect()
}

fn informant_case(name: &str, township: &str) -> ledger_domain::NewCase {
    let mut input = case_input(township, "本局接收", name, "邻居在基本农田上违法建房");
    input.category = "违法占地建设".into();
    input.purpose = "检举控告".into();
    input
}

fn act(action: ActionKind, text: Option<&str>) -> ActionInput {
    let outcome = (action == ActionKind::Reply).then_some(ledger_domain::Outcome::Supported);
    ActionInput {
        action: Some(action),
        text: text.map(str::to_owned),
        outcome,
        ..Default::default()
    }
}

fn assign() -> ActionInput {
    ActionInput {
        action: Some(ActionKind::Assign),
        target: Some(TOWNSHIP.into()),
        ..Default::default()
    }
}

/// The county at work: the bureau registers and assigns (two 检举控告 cases, one of them
/// unassigned at registration, a plain one, one the township will restrict, one the bureau will
/// lift), the township investigates, replies, edits, drafts, registers its own cases, attaches
/// a photo and adds a staff member; the bureau supervises, lifts a restriction and sets two of
/// the county's rules meanwhile.
/// Everything the hub holds is synced; the offices' last work is left in their outboxes.
async fn build_world() -> World {
    let hub = TestHub::start().await.unwrap();
    let tb = hub.add_office(COUNTY, "洞口县国土资源局", Role::Bureau, &[]).unwrap();
    let ta = hub.add_office(TOWN, "黄桥镇国土所", Role::Township, &[TOWNSHIP]).unwrap();
    let bureau = TestOffice::enroll(&hub.url(), &tb, "刘洪", TODAY).await.unwrap();
    let town = TestOffice::enroll(&hub.url(), &ta, "李娟", TODAY).await.unwrap();
    bureau.sync().await.unwrap();
    let b = &bureau.office;
    let report = b.register(&informant_case("赵铁柱", TOWNSHIP), None).unwrap();
    let unassigned = b.register(&informant_case("钱秀英", ""), None).unwrap();
    let plain =
        b.register(&case_input(TOWNSHIP, "本局接收", "孙建国", "宅基地界址纠纷"), None).unwrap();
    let tighten =
        b.register(&case_input(TOWNSHIP, "本局接收", "周桂兰", "征地补偿未到位"), None).unwrap();
    let lift = b.register(&informant_case("吴志强", TOWNSHIP), None).unwrap();
    for id in [report, unassigned, plain, tighten, lift] {
        b.act(id, &act(ActionKind::Accept, None)).unwrap();
        b.act(id, &assign()).unwrap();
    }
    // The township's screening list for the month, held by the hub.
    let text = |pairs: &[(&str, &str)]| -> BTreeMap<String, ledger_office::FieldValue> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), ledger_office::FieldValue::Text((*v).to_owned())))
            .collect()
    };
    let list = town
        .office
        .add_work(WorkInput {
            kind: "screening".into(),
            fields: text(&[("month", "2024-03")]),
            handler: None,
        })
        .unwrap();
    let dispute = text(&[
        ("parties", "大屋村一组与二组"),
        ("place", "大屋村"),
        ("issue", "林地边界争议"),
        ("risk", "medium"),
        ("measures", "镇村联合调处"),
        ("owner", "李娟"),
        ("status", "resolving"),
    ]);
    let item =
        town.office.change_work(&list.id, WorkChange::Item { fields: dispute }, None).unwrap();
    let item = item.state.items[0].id.clone();
    bureau.sync().await.unwrap();
    town.sync().await.unwrap();

    // The township's work, left unsent.
    let t = &town.office;
    let settle = WorkChange::Amend { item: Some(item), fields: text(&[("status", "settled")]) };
    t.change_work(&list.id, settle, None).unwrap();
    t.change_work(&list.id, WorkChange::File, None).unwrap();
    t.add_work(WorkInput {
        kind: "consult".into(),
        fields: text(&[
            ("date", "2024-03-05"),
            ("channel", "phone"),
            ("topic", "宅基地审批"),
            ("answer", "已告知程序"),
        ]),
        handler: None,
    })
    .unwrap();
    t.act(report, &act(ActionKind::Investigate, Some("已到现场核实"))).unwrap();
    t.set_draft(report, Draft::Investigation, "经核实，被反映人在基本农田上建房约120平方米。")
        .unwrap();
    t.set_field(report, &CaseField::Subject, "被反映人张某").unwrap();
    t.add_submission(
        report,
        &SubmissionInput {
            petitioners: vec![NewPetitioner {
                name: "郑小红".into(),
                id_number: "11010519491231002X".into(),
                phone: "13900001111".into(),
                address: "大屋村5组".into(),
                ..Default::default()
            }],
            ..repeat_visit("郑小红")
        },
        None,
    )
    .unwrap();
    t.set_draft(report, Draft::Reply, "拟责令限期拆除。").unwrap();
    t.act(report, &act(ActionKind::Reply, None)).unwrap();
    t.act(unassigned, &act(ActionKind::Mediate, Some("组织双方调解"))).unwrap();
    t.set_draft(unassigned, Draft::Reply, "拟答复意见").unwrap();
    t.act(plain, &act(ActionKind::Investigate, Some("调查界址"))).unwrap();
    t.attach(plain, "现场照片.jpg", b"\xff\xd8\xff\xe0 not really a photo", "image/jpeg").unwrap();
    t.set_field(plain, &CaseField::Village, "小屋村").unwrap();
    t.set_field(tighten, &CaseField::Confidential, "是").unwrap();
    t.act(tighten, &act(ActionKind::Hearing, Some("举行听证"))).unwrap();
    let own =
        t.register(&case_input(TOWNSHIP, "本局接收", "冯大海", "土地承包纠纷"), None).unwrap();
    t.set_draft(own, Draft::Investigation, "初步调查").unwrap();
    t.register(&informant_case("陈明", TOWNSHIP), None).unwrap();
    let mut config = t.config();
    config.staff.push("王强".into());
    t.update_config(config).unwrap();
    t.act(
        report,
        &ActionInput {
            action: Some(ActionKind::FollowUp),
            method: Some(ledger_domain::FollowUpMethod::Phone),
            text: Some("信访人对答复表示理解".into()),
            handler: Some("王强".into()),
            ..Default::default()
        },
    )
    .unwrap();

    // The bureau's work meanwhile, left unsent.
    b.act(report, &supervision(b, "请抓紧办理")).unwrap();
    b.act(plain, &act(ActionKind::Chase, Some("请于本周内答复"))).unwrap();
    b.act(lift, &act(ActionKind::LiftRestriction, Some("举报人书面同意公开身份"))).unwrap();
    b.set_field(plain, &CaseField::Subject, "邻居李某").unwrap();
    // ... and the county's rules: a document setting and next year's holidays.
    b.set_rule(&ledger_office::RuleInput {
        item: "county.review_body".into(),
        value: "洞口县人民政府".into(),
        ..Default::default()
    })
    .unwrap();
    b.set_rule(&ledger_office::RuleInput {
        item: "holidays.2027".into(),
        value: "2027-01-01 holiday 元旦\n2027-02-20 workday 春节\n".into(),
        ..Default::default()
    })
    .unwrap();

    let township_outbox = up(t.store().outbox_batch(usize::MAX, usize::MAX).unwrap());
    let bureau_outbox = up(b.store().outbox_batch(usize::MAX, usize::MAX).unwrap());
    let township_actor = t.store().actor();
    let bureau_actor = b.store().actor();
    drop(town);
    drop(bureau);
    let dir = hub.stop().await.unwrap();
    let baseline = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), baseline.path().join(entry.file_name())).unwrap();
        }
    }

    // What the hub holds, read from a copy.
    let copy = fresh_copy(baseline.path());
    let store = SqliteHubStore::open(copy.path()).unwrap();
    let mut world = World {
        head: store.head().unwrap(),
        township: Side {
            caller: caller_of(&store, TOWN),
            outbox: township_outbox,
            actor: township_actor,
        },
        bureau: Side {
            caller: caller_of(&store, COUNTY),
            outbox: bureau_outbox,
            actor: bureau_actor,
        },
        docs: HashMap::new(),
        cases: BTreeMap::new(),
        identities: BTreeMap::new(),
        rosters: BTreeMap::new(),
        rules: None,
        works: BTreeMap::new(),
        restricted: BTreeSet::new(),
        doc_order: Vec::new(),
        hashes: Vec::new(),
        baseline,
    };
    let docs = store.all_docs(None, 10_000).unwrap();
    for (id, kind) in docs {
        let doc = load_stored(&store, id.0, kind).unwrap().unwrap();
        match kind {
            DocKind::Case => {
                let case = schema::read_case(&doc).unwrap();
                if store.case_scope(id).unwrap().unwrap().restricted {
                    world.restricted.insert(id.0);
                }
                world.cases.insert(id.0, case);
            }
            DocKind::Identity => {
                world.identities.insert(id.0, schema::read_identity(&doc).unwrap());
            }
            DocKind::Roster => {
                let roster = schema::read_roster(&doc).unwrap();
                world.rosters.insert(roster.office.clone(), roster);
            }
            DocKind::Rules => world.rules = Some(schema::read_rules(&doc).unwrap()),
            DocKind::Work => {
                world.works.insert(id.0, schema::read_work(&doc).unwrap());
            }
        }
        let (b, t) = (world.bureau.actor.clone(), world.township.actor.clone());
        let rank = move |a: &ActorId| {
            if *a == b {
                0
            } else if *a == t {
                1
            } else {
                2
            }
        };
        world.docs.insert((id.0, kind), DocInfo::new(doc, &rank));
    }
    // Documents in an order that does not change from run to run (ids are random).
    let mut order: Vec<((u8, String), (Uuid, DocKind))> = world
        .docs
        .iter()
        .map(|(key, info)| {
            let label = match key.1 {
                DocKind::Roster => schema::read_roster(&info.doc).map(|r| r.office),
                _ => Ok(world.cases.get(&key.0).map(|c| c.number.clone()).unwrap_or_default()),
            };
            let code = match key.1 {
                DocKind::Case => 0,
                DocKind::Identity => 1,
                DocKind::Roster => 2,
                DocKind::Rules => 3,
                DocKind::Work => 4,
            };
            ((code, label.unwrap_or_default()), *key)
        })
        .collect();
    order.sort();
    world.doc_order = order.into_iter().map(|(_, key)| key).collect();
    world.hashes = world
        .doc_order
        .iter()
        .flat_map(|key| world.docs[key].changes.iter().map(|(h, _)| *h))
        .collect();
    world
}

// ---------------------------------------------------------------------------------------------
// Mutations

/// What a mutation does, with its weight among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A put's value, chosen for its key (a role, a Lamport number, a purpose ...).
    Value,
    /// A put's value, any scalar.
    AnyValue,
    /// A new put at the root (信访目的, 是否保密, 所属乡镇, 解除保密, fixed keys, unknown keys).
    RootPut,
    /// A new put into a record (an event's `imported`, `role` ...).
    RecordPut,
    /// An operation's key.
    Key,
    /// An operation's object.
    Object,
    /// An operation's action (put, delete, make, increment).
    Action,
    /// An operation dropped.
    Drop,
    /// An operation duplicated.
    Duplicate,
    /// Two operations swapped.
    Swap,
    /// An operation's predecessors.
    Pred,
    /// An operation's insert flag.
    Insert,
    /// The change's `seq`.
    Seq,
    /// The change's `start_op`.
    StartOp,
    /// The change's timestamp.
    Time,
    /// The change's dependencies.
    Deps,
    /// The change moved onto another point of the document's history (dependencies and
    /// operation ids consistent).
    Rebase,
    /// The change's actor (with its own operation ids, or the header alone).
    Actor,
    /// Oversized message, extra bytes, value or dependencies.
    Size,
    /// A byte of the encoded change flipped.
    Flip,
    /// A hash claimed that is not the change's.
    Claim,
    /// Sent for another document.
    Retarget,
}

const KINDS: &[(Kind, u16)] = &[
    (Kind::Value, 24),
    (Kind::AnyValue, 5),
    (Kind::RootPut, 12),
    (Kind::RecordPut, 6),
    (Kind::Key, 6),
    (Kind::Object, 5),
    (Kind::Action, 5),
    (Kind::Drop, 3),
    (Kind::Duplicate, 3),
    (Kind::Swap, 2),
    (Kind::Pred, 5),
    (Kind::Insert, 2),
    (Kind::Seq, 3),
    (Kind::StartOp, 2),
    (Kind::Time, 3),
    (Kind::Deps, 4),
    (Kind::Rebase, 4),
    (Kind::Actor, 3),
    (Kind::Size, 3),
    (Kind::Flip, 2),
    (Kind::Claim, 1),
    (Kind::Retarget, 3),
];

fn total_weight() -> u16 {
    KINDS.iter().map(|(_, w)| w).sum()
}

fn kind_of(roll: u16) -> Kind {
    let mut roll = roll % total_weight();
    for (kind, w) in KINDS {
        if roll < *w {
            return *kind;
        }
        roll -= w;
    }
    Kind::Value
}

/// One mutation: its kind (a weighted roll) and two numbers that choose within it.
#[derive(Debug, Clone)]
struct Step {
    roll: u16,
    a: u64,
    b: u64,
}

/// A mutated change: which office's change, and the mutations, in order.
#[derive(Debug, Clone)]
struct Plan {
    bureau: bool,
    target: prop::sample::Index,
    steps: Vec<Step>,
}

fn plan_strategy() -> impl Strategy<Value = Plan> {
    let step = (0..total_weight(), any::<u64>(), any::<u64>()).prop_map(|(roll, a, b)| Step {
        roll,
        a,
        b,
    });
    let steps = prop_oneof![
        6 => prop::collection::vec(step.clone(), 1..=1),
        3 => prop::collection::vec(step.clone(), 2..=2),
        1 => prop::collection::vec(step, 3..=3),
    ];
    (prop::bool::weighted(0.2), any::<prop::sample::Index>(), steps)
        .prop_map(|(bureau, target, steps)| Plan { bureau, target, steps })
}

fn pick<T: Clone>(items: &[T], n: u64) -> Option<T> {
    if items.is_empty() { None } else { items.get((n % items.len() as u64) as usize).cloned() }
}

/// `Debug` of a value, cut short for the report.
fn short(v: &impl std::fmt::Debug) -> String {
    let text = format!("{v:?}");
    if text.chars().count() > 48 {
        format!("{}…({} chars)", text.chars().take(40).collect::<String>(), text.chars().count())
    } else {
        text
    }
}

fn s(v: &str) -> ScalarValue {
    ScalarValue::Str(v.into())
}

/// Text that deflate cannot shrink.
fn noise(len: usize, seed: u64) -> String {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'!' + (x % 90) as u8)
        })
        .collect()
}

const ACTIONS: &[&str] = &[
    "register",
    "accept",
    "not_accept",
    "no_further",
    "forward",
    "assign",
    "reassign",
    "object",
    "notify",
    "investigate",
    "hearing",
    "mediate",
    "extend",
    "reply",
    "review",
    "supervise",
    "supervise_report",
    "chase",
    "follow_up",
    "evaluate",
    "close",
    "void",
    "issue_document",
    "resolve_conflict",
    "lift_restriction",
    "frobnicate",
    "",
];

const ROOT_KEYS: &[&str] = &[
    "purpose",
    "confidential",
    "identity_released",
    "jurisdiction",
    "official_number",
    "number",
    "registered_by",
    "id",
    "kind",
    "schema_version",
    "case_id",
    "office",
    "subject",
    "category",
    "sector",
    "village",
    "request",
    "events",
    "persons",
    "staff",
    "petitioners",
    "submissions",
    "attachments",
    "reply_draft",
    "investigation_report",
    "restrictive_values",
    "x_unknown_field",
];

/// Root keys whose values only the bureau (or nobody) may change, and the record containers.
const GUARDED: &[&str] = &[
    "jurisdiction",
    "official_number",
    "number",
    "registered_by",
    "purpose",
    "confidential",
    "identity_released",
    "events",
    "petitioners",
    "submissions",
    "attachments",
    "persons",
    "staff",
    "office",
    "case_id",
];

const RECORD_KEYS: &[&str] = &[
    "role",
    "office",
    "action",
    "lamport",
    "at",
    "imported",
    "handler",
    "actor",
    "date",
    "due",
    "text",
    "target",
    "field",
    "outcome",
    "registered_by",
    "received",
    "confidential",
    "source",
    "added",
    "left",
    "added_by",
    "added_at",
    "name",
    "id_number",
    "display_name",
    "refers",
    "method",
    "unreachable",
    "x_unknown",
];

/// The actors a change may claim: the other office's, a stranger's, its own.
struct Actors<'a> {
    own: &'a ActorId,
    other: &'a ActorId,
}

impl Actors<'_> {
    fn pick(&self, n: u64) -> ActorId {
        match n % 3 {
            0 => self.other.clone(),
            1 => ActorId::from(n.to_be_bytes().repeat(2)),
            _ => self.own.clone(),
        }
    }
}

/// A value for `key`: mostly plausible and wrong for the key, sometimes anything.
fn value_for(key: &str, old: Option<&ScalarValue>, n: u64, actors: &Actors<'_>) -> ScalarValue {
    if n.is_multiple_of(7) {
        return any_value(n / 7);
    }
    let n = n / 7;
    let old_u = match old {
        Some(ScalarValue::Uint(u)) => *u,
        Some(ScalarValue::Int(i)) => i.unsigned_abs(),
        _ => 1,
    };
    let old_t = match old {
        Some(ScalarValue::Timestamp(t) | ScalarValue::Int(t)) => *t,
        _ => 1_709_604_000_000,
    };
    let strs = |v: &[&str]| v.iter().map(|x| s(x)).collect::<Vec<_>>();
    let choices: Vec<ScalarValue> = match key {
        "role" => strs(&["bureau", "township", "", "Bureau", "hub"]),
        "office" | "registered_by" | "added_by" => strs(&[COUNTY, TOWN, "", "sj", "HQ"]),
        "action" => strs(ACTIONS),
        "lamport" => vec![
            ScalarValue::Uint(0),
            ScalarValue::Uint(u64::MAX),
            ScalarValue::Uint(old_u.saturating_add(1)),
            ScalarValue::Uint(old_u.saturating_add(30)),
            ScalarValue::Uint(old_u.saturating_sub(1)),
            ScalarValue::Int(-1),
            s("7"),
        ],
        "at" | "added_at" => vec![
            ScalarValue::Timestamp(0),
            ScalarValue::Timestamp(i64::MIN),
            ScalarValue::Timestamp(i64::MAX),
            ScalarValue::Timestamp(MAX_TIME_MS),
            ScalarValue::Timestamp(MIN_TIME_MS - 1),
            ScalarValue::Timestamp(old_t.saturating_add(1)),
            ScalarValue::Int(old_t),
            s("now"),
        ],
        "imported" | "confidential" | "identity_released" | "collective" | "repeat"
        | "restrictive_values" => vec![
            ScalarValue::Boolean(true),
            ScalarValue::Boolean(false),
            s("false"),
            ScalarValue::Uint(1),
            ScalarValue::Null,
        ],
        "handler" => strs(&["李娟", "王强", "刘洪", "张三", ""]),
        "actor" => vec![
            s(&actors.own.to_hex_string()),
            s(&actors.other.to_hex_string()),
            s(&ActorId::from(n.to_be_bytes().to_vec()).to_hex_string()),
            s(""),
        ],
        "date" | "due" | "received" | "added" | "left" => strs(&[
            "2024-03-05",
            "2024-03-06",
            "1900-01-01",
            "2200-01-01",
            "2024-02-30",
            "",
            "-262143-01-01",
        ]),
        "purpose" => strs(&["report", "appeal", "suggestion", "enquiry", "", "secret"]),
        "jurisdiction" | "target" => {
            let mut v = strs(&[TOWNSHIP, "石江镇", ""]);
            v.push(ScalarValue::Null);
            v
        }
        "official_number" | "number" => strs(&["洞口信〔2024〕1号", "", "洞口-2024-A-0001"]),
        "kind" => strs(&["case", "identity", "roster", ""]),
        "schema_version" => {
            vec![ScalarValue::Uint(1), ScalarValue::Uint(2), ScalarValue::Uint(u64::MAX), s("1")]
        }
        "outcome" => strs(&["supported", "not_supported", "bogus", ""]),
        "field" => strs(&["purpose", "jurisdiction", "bogus"]),
        "method" => strs(&["phone", "bogus", ""]),
        "unreachable" => vec![ScalarValue::Boolean(true), s("yes"), ScalarValue::Null],
        "source" => strs(&["12336", "direct", "bogus"]),
        "" => vec![s("字"), s("x"), s(""), s("两字"), ScalarValue::Null, ScalarValue::Uint(7)],
        _ => vec![s(""), s("改写的内容"), s(&noise(5000, n)), s("a\0b"), ScalarValue::Uint(3)],
    };
    pick(&choices, n).unwrap_or(ScalarValue::Null)
}

fn any_value(n: u64) -> ScalarValue {
    let choices = [
        s("bureau"),
        s(""),
        ScalarValue::Int(i64::MIN),
        ScalarValue::Int(-1),
        ScalarValue::Uint(u64::MAX),
        ScalarValue::Uint(0),
        ScalarValue::F64(f64::NAN),
        ScalarValue::Timestamp(i64::MAX),
        ScalarValue::Boolean(true),
        ScalarValue::Null,
        ScalarValue::Bytes(vec![0, 1, 2]),
        ScalarValue::counter(5),
        ScalarValue::Unknown { type_code: 9, bytes: vec![1] },
    ];
    pick(&choices, n).unwrap_or(ScalarValue::Null)
}

/// The key of an operation, as text.
fn key_name(op: &ledger_domain::automerge::legacy::Op) -> String {
    match &op.key {
        Key::Map(k) => k.to_string(),
        Key::Seq(_) => String::new(),
    }
}

/// Re-labels every operation id the change made itself (`counter >= start`, its actor).
fn remap_own(ex: &mut ExpandedChange, to_actor: &ActorId, new_start: u64) {
    let from = ex.actor_id.clone();
    let old_start = ex.start_op.get();
    let fix = |id: &OpId| {
        if id.1 == from && id.0 >= old_start {
            OpId(id.0.wrapping_sub(old_start).wrapping_add(new_start), to_actor.clone())
        } else {
            id.clone()
        }
    };
    for op in &mut ex.operations {
        if let ObjectId::Id(id) = &op.obj {
            op.obj = ObjectId::Id(fix(id));
        }
        if let Key::Seq(ElementId::Id(id)) = &op.key {
            op.key = Key::Seq(ElementId::Id(fix(id)));
        }
        op.pred = op.pred.iter().map(fix).collect();
    }
    ex.actor_id = to_actor.clone();
    ex.start_op = NonZeroU64::new(new_start).unwrap_or(NonZeroU64::MIN);
}

/// What happens to the encoded change on the wire.
#[derive(Default)]
struct Wire {
    flip: Option<(u64, u8)>,
    claim: Option<[u8; 32]>,
    retarget: Option<(Uuid, DocKind)>,
}

struct Forge<'a> {
    world: &'a World,
    info: Option<&'a DocInfo>,
    actors: Actors<'a>,
    original_hash: [u8; 32],
}

impl Forge<'_> {
    /// Applies one mutation; returns what it did.
    fn apply(&self, step: &Step, ex: &mut ExpandedChange, wire: &mut Wire) -> String {
        let kind = kind_of(step.roll);
        let (a, b) = (step.a, step.b);
        let n_ops = ex.operations.len() as u64;
        let own_start = ex.start_op.get();
        let actor = ex.actor_id.clone();
        // Objects this change makes, as operation ids.
        let made: Vec<OpId> = ex
            .operations
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op.action, OpType::Make(_)))
            .map(|(i, _)| OpId(own_start.saturating_add(i as u64), actor.clone()))
            .collect();
        let empty = Vec::new();
        let objects = self.info.map_or(&empty, |i| &i.objects);
        let describe = |i: usize, ex: &ExpandedChange| {
            ex.operations.get(i).map_or_else(String::new, |op| {
                format!("op {i} ({} on {:?} key {:?})", short(&op.action), op.obj, op.key)
            })
        };
        match kind {
            Kind::Value | Kind::AnyValue => {
                let puts: Vec<usize> = (0..ex.operations.len())
                    .filter(|i| matches!(ex.operations[*i].action, OpType::Put(_)))
                    .collect();
                // Half the time, a field that matters.
                let interesting: Vec<usize> = puts
                    .iter()
                    .copied()
                    .filter(|i| {
                        let k = key_name(&ex.operations[*i]);
                        RECORD_KEYS[..12].contains(&k.as_str())
                            || ["purpose", "confidential", "jurisdiction", "identity_released"]
                                .contains(&k.as_str())
                    })
                    .collect();
                let pool = if b.is_multiple_of(2) && !interesting.is_empty() {
                    &interesting
                } else {
                    &puts
                };
                let Some(i) = pick(pool, a) else { return "no put to change".into() };
                let before = describe(i, ex);
                let op = &mut ex.operations[i];
                let old = op.primitive_value();
                let value = if kind == Kind::Value {
                    value_for(&key_name(op), old.as_ref(), b / 2, &self.actors)
                } else {
                    any_value(b / 2)
                };
                op.action = OpType::Put(value.clone());
                format!("value of {before} → {}", short(&value))
            }
            Kind::RootPut => {
                // Half the time, a key that guards the identity.
                let key = if a.is_multiple_of(2) {
                    pick(&ROOT_KEYS[..4], a / 2).unwrap_or("purpose")
                } else {
                    pick(ROOT_KEYS, a / 2).unwrap_or("purpose")
                };
                let value = value_for(key, None, b, &self.actors);
                let pred: Vec<OpId> = if b.is_multiple_of(3) {
                    Vec::new()
                } else {
                    self.info
                        .map(|i| {
                            i.root_ops
                                .iter()
                                .filter(|(k, _)| k == key)
                                .map(|(_, o)| o.clone())
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let at = if a.is_multiple_of(4) { 0 } else { ex.operations.len() };
                ex.operations.insert(
                    at,
                    ledger_domain::automerge::legacy::Op {
                        action: OpType::Put(value.clone()),
                        obj: ObjectId::Root,
                        key: Key::Map(key.into()),
                        pred: pred.into_iter().collect(),
                        insert: false,
                    },
                );
                format!("root put {key} = {} at op {at}", short(&value))
            }
            Kind::RecordPut => {
                let target = if b.is_multiple_of(3) { pick(objects, a) } else { pick(&made, a) };
                let Some(obj) = target else { return "no record to put into".into() };
                let key = pick(RECORD_KEYS, b).unwrap_or("imported");
                let value = value_for(key, None, a / 3, &self.actors);
                ex.operations.push(ledger_domain::automerge::legacy::Op {
                    action: OpType::Put(value.clone()),
                    obj: ObjectId::Id(obj.clone()),
                    key: Key::Map(key.into()),
                    pred: Vec::new().into_iter().collect(),
                    insert: false,
                });
                format!("put {key} = {} into {obj:?}", short(&value))
            }
            Kind::Key => {
                let Some(i) = pick(&(0..n_ops as usize).collect::<Vec<_>>(), a) else {
                    return "no op".into();
                };
                let before = describe(i, ex);
                let op = &mut ex.operations[i];
                op.key = match b % 5 {
                    0 => Key::Seq(ElementId::Head),
                    1 => Key::Seq(ElementId::Id(OpId(b / 5 % 1000 + 1, actor))),
                    2 => Key::Map(pick(ROOT_KEYS, b / 5).unwrap_or("x").into()),
                    _ => Key::Map(pick(RECORD_KEYS, b / 5).unwrap_or("x").into()),
                };
                format!("key of {before} → {:?}", op.key)
            }
            Kind::Object => {
                let Some(i) = pick(&(0..n_ops as usize).collect::<Vec<_>>(), a) else {
                    return "no op".into();
                };
                let before = describe(i, ex);
                let obj = match b % 5 {
                    0 => ObjectId::Root,
                    1 | 2 => pick(objects, b / 5).map_or(ObjectId::Root, ObjectId::Id),
                    3 => pick(&made, b / 5).map_or(ObjectId::Root, ObjectId::Id),
                    _ => ObjectId::Id(OpId(b / 5 % 100_000 + 1, self.actors.pick(b / 5))),
                };
                ex.operations[i].obj = obj.clone();
                format!("object of {before} → {obj:?}")
            }
            Kind::Action => {
                let Some(i) = pick(&(0..n_ops as usize).collect::<Vec<_>>(), a) else {
                    return "no op".into();
                };
                let before = describe(i, ex);
                let action = match (&ex.operations[i].action, b % 6) {
                    (OpType::Put(_), 0 | 1) => OpType::Delete,
                    (_, 0) => OpType::Put(value_for("", None, b, &self.actors)),
                    (_, 1) => OpType::Delete,
                    (_, 2) => OpType::Make(ObjType::Map),
                    (_, 3) => OpType::Make(ObjType::List),
                    (_, 4) => OpType::Make(ObjType::Text),
                    _ => {
                        if b % 12 < 6 {
                            OpType::Increment(1)
                        } else {
                            OpType::Make(ObjType::Table)
                        }
                    }
                };
                ex.operations[i].action = action.clone();
                format!("action of {before} → {}", short(&action))
            }
            Kind::Drop => {
                if ex.operations.is_empty() {
                    return "no op".into();
                }
                let i = (a % n_ops) as usize;
                let before = describe(i, ex);
                ex.operations.remove(i);
                format!("dropped {before}")
            }
            Kind::Duplicate => {
                if ex.operations.is_empty() {
                    return "no op".into();
                }
                let i = (a % n_ops) as usize;
                let op = ex.operations[i].clone();
                let at = if b.is_multiple_of(2) { i + 1 } else { ex.operations.len() };
                ex.operations.insert(at, op);
                format!("duplicated {} at {at}", describe(i, ex))
            }
            Kind::Swap => {
                if ex.operations.len() < 2 {
                    return "too few ops".into();
                }
                let (i, j) = ((a % n_ops) as usize, (b % n_ops) as usize);
                ex.operations.swap(i, j);
                format!("swapped ops {i} and {j}")
            }
            Kind::Pred => {
                let Some(i) = pick(&(0..n_ops as usize).collect::<Vec<_>>(), a) else {
                    return "no op".into();
                };
                let before = describe(i, ex);
                // Operations of the document it may claim to overwrite: half the time one that
                // holds a guarded root value or container, else any value or character.
                let guarded: Vec<OpId> = self
                    .info
                    .map(|inf| {
                        inf.root_ops
                            .iter()
                            .filter(|(k, _)| GUARDED.contains(&k.as_str()))
                            .map(|(_, o)| o.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let existing: Vec<OpId> = self
                    .info
                    .map(|inf| {
                        inf.value_ops
                            .iter()
                            .chain(inf.root_ops.iter().map(|(_, o)| o))
                            .chain(inf.elems.iter())
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                let op = &mut ex.operations[i];
                let mut pred: Vec<OpId> = op.pred.iter().cloned().collect();
                match b % 8 {
                    0 => pred.clear(),
                    1 => pred.push(OpId(b / 8 % 100_000 + 1, self.actors.pick(b / 8))),
                    2 | 3 => pred.extend(pick(&existing, b / 8)),
                    _ => pred.extend(pick(&guarded, b / 8)),
                }
                pred.sort();
                pred.dedup();
                op.pred = pred.into_iter().collect();
                format!("preds of {before} → {:?}", op.pred)
            }
            Kind::Insert => {
                let Some(i) = pick(&(0..n_ops as usize).collect::<Vec<_>>(), a) else {
                    return "no op".into();
                };
                let before = describe(i, ex);
                ex.operations[i].insert = !ex.operations[i].insert;
                format!("insert flag of {before} flipped")
            }
            Kind::Seq => {
                let seq = ex.seq;
                ex.seq = match a % 7 {
                    0 => seq.saturating_add(1),
                    1 => seq.saturating_sub(1),
                    2 => 0,
                    3 => u64::MAX,
                    4 => u64::from(u32::MAX) + 1,
                    5 => seq.saturating_add(2),
                    _ => 1,
                };
                format!("seq {seq} → {}", ex.seq)
            }
            Kind::StartOp => {
                let old = ex.start_op.get();
                let new = match a % 5 {
                    0 => old.saturating_add(1),
                    1 => old.saturating_sub(1),
                    2 => 1,
                    3 => u64::MAX,
                    _ => old.saturating_add(1000),
                };
                ex.start_op = NonZeroU64::new(new).unwrap_or(NonZeroU64::MIN);
                format!("start_op {old} → {}", ex.start_op)
            }
            Kind::Time => {
                let old = ex.time;
                ex.time = match a % 8 {
                    0 => 0,
                    1 => -1,
                    2 => i64::MIN,
                    3 => i64::MAX,
                    4 => MAX_TIME_MS,
                    5 => MAX_TIME_MS - 1,
                    6 => old.saturating_add(1),
                    _ => old.saturating_mul(1000),
                };
                format!("time {old} → {}", ex.time)
            }
            Kind::Deps => {
                let old = ex.deps.len();
                let random = ChangeHash(<[u8; 32]>::try_from(a.to_be_bytes().repeat(4)).unwrap());
                let what = match b % 6 {
                    0 => {
                        ex.deps.clear();
                        "cleared"
                    }
                    1 => {
                        ex.deps.pop();
                        "one dropped"
                    }
                    2 => {
                        ex.deps.push(random);
                        "an unknown hash added"
                    }
                    3 => {
                        ex.deps.extend(pick(&self.world.hashes, a));
                        "a hash from anywhere at the hub added"
                    }
                    4 => {
                        if let Some(d) = ex.deps.first().copied() {
                            ex.deps.push(d);
                        }
                        "first duplicated"
                    }
                    _ => {
                        let ancestors: Vec<ChangeHash> = self
                            .info
                            .map(|i| i.changes.iter().map(|c| c.0).collect())
                            .unwrap_or_default();
                        ex.deps = pick(&ancestors, a).into_iter().collect();
                        "replaced by an older change of the document"
                    }
                };
                format!("deps ({old}) {what}")
            }
            Kind::Rebase => {
                let changes = self.info.map(|i| i.changes.as_slice()).unwrap_or_default();
                let onto = if b.is_multiple_of(5) { None } else { pick(changes, a) };
                let (deps, start) = match onto {
                    Some((hash, max_op)) => (vec![hash], max_op.saturating_add(1)),
                    None => (Vec::new(), 1),
                };
                let a_own = ex.actor_id.clone();
                remap_own(ex, &a_own, start);
                ex.deps = deps;
                format!("rebased onto {:?} with start_op {start}", onto.map(|o| o.0))
            }
            Kind::Actor => {
                let to = self.actors.pick(a);
                if b.is_multiple_of(3) {
                    ex.actor_id = to.clone();
                    format!("actor (header only) → {to}")
                } else {
                    remap_own(ex, &to, own_start);
                    format!("actor (with its operations) → {to}")
                }
            }
            Kind::Size => match a % 4 {
                0 => {
                    ex.message = Some(noise(2000, b));
                    "a 2000-character message".into()
                }
                1 => {
                    ex.extra_bytes = vec![7; 2000];
                    "2000 extra bytes".into()
                }
                2 => {
                    ex.operations.push(ledger_domain::automerge::legacy::Op {
                        action: OpType::Put(s(&noise(2_200_000, b))),
                        obj: ObjectId::Root,
                        key: Key::Map("subject".into()),
                        pred: Vec::new().into_iter().collect(),
                        insert: false,
                    });
                    "a 2.2 MB value".into()
                }
                _ => {
                    for i in 0..65u64 {
                        let bytes = (a ^ i).to_be_bytes().repeat(4);
                        ex.deps.push(ChangeHash(<[u8; 32]>::try_from(bytes).unwrap()));
                    }
                    "65 more dependencies".into()
                }
            },
            Kind::Flip => {
                wire.flip = Some((a, (b as u8) | 1));
                format!("byte {a} (mod length) xor {:#04x} on the wire", (b as u8) | 1)
            }
            Kind::Claim => {
                wire.claim = Some(if b.is_multiple_of(2) {
                    self.original_hash
                } else {
                    <[u8; 32]>::try_from(a.to_be_bytes().repeat(4)).unwrap()
                });
                "another hash claimed".into()
            }
            Kind::Retarget => {
                let mut ids = self.world.doc_order.clone();
                ids.push((roster_id(COUNTY), DocKind::Roster));
                ids.push((
                    Uuid::from_u128(u128::from(a) << 64 | 0x7000_8000_0000_0001),
                    DocKind::Case,
                ));
                let target = pick(&ids, a).unwrap();
                let kind = match b % 4 {
                    0 => DocKind::Case,
                    1 => DocKind::Identity,
                    2 => DocKind::Roster,
                    _ => target.1,
                };
                wire.retarget = Some((target.0, kind));
                format!("sent for {} {kind:?}", target.0)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sending and checking

/// A hub over a fresh copy of the baseline database.
struct Hub {
    _dir: tempfile::TempDir,
    store: Arc<dyn HubStore>,
    engine: Engine,
}

impl Hub {
    fn fresh(world: &World) -> Self {
        let dir = fresh_copy(world.baseline.path());
        let store: Arc<dyn HubStore> = Arc::new(SqliteHubStore::open(dir.path()).unwrap());
        let engine = Engine::new(store.clone());
        Self { _dir: dir, store, engine }
    }

    /// One sync. A panic out of the engine, or an error, is a broken invariant; a panic the
    /// engine caught itself is kept in `PANICS` for the caller to record.
    fn sync(&self, caller: &Caller, req: &SyncRequest, now: i64) -> Result<SyncResponse, String> {
        let (out, panics) = quietly(|| self.engine.sync(caller, req, now));
        match out {
            Err(_) => Err(format!("the engine panicked: {}", panics.join(" | "))),
            Ok(Err(e)) => Err(format!("the engine answered an error: {e}")),
            Ok(Ok(resp)) => {
                PANICS.with(|p| p.borrow_mut().extend(panics));
                Ok(resp)
            }
        }
    }
}

fn request(changes: Vec<UpChange>, cursor: Cursor, now: i64) -> SyncRequest {
    SyncRequest { cursor, changes, page_bytes: 64 * 1024, device_time: now, ..Default::default() }
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Everything that must hold after any change, accepted or refused.
fn invariants(world: &World, hub: &Hub, caller: &Caller, now: i64) -> Result<(), String> {
    let store = &*hub.store;
    let report = ledger_hub::check::check(store, false, now).map_err(|e| format!("check: {e}"))?;
    if !report.problems.is_empty() {
        return Err(format!("stored documents fail `ledger-hub check`: {:?}", report.problems));
    }
    let bureau = caller.office.role == Role::Bureau;
    let actors = store
        .device_actors(&caller.device.id)
        .map_err(|e| format!("the hub store failed ({e})"))?;
    let roster = load_stored(store, roster_id(&caller.office.code), DocKind::Roster)?
        .map(|d| schema::read_roster(&d))
        .transpose()
        .map_err(|e| format!("a stored document does not read (the caller's roster: {e})"))?;
    let slack = Limits::default().lamport_slack;
    let mut restricted_now = BTreeSet::new();
    for (id, kind) in
        store.all_docs(None, 100_000).map_err(|e| format!("the hub store failed ({e})"))?
    {
        let doc = catch_unwind(AssertUnwindSafe(|| load_stored(store, id.0, kind)))
            .map_err(|_| format!("a stored document panics when loaded ({id} {kind:?})"))??
            .ok_or_else(|| format!("a stored document vanished ({id} {kind:?})"))?;
        match kind {
            DocKind::Case => {
                let case = schema::read_case(&doc)
                    .map_err(|e| format!("a stored document does not read ({id}: {e})"))?;
                catch_unwind(AssertUnwindSafe(|| replay(&case.events)))
                    .map_err(|_| format!("replaying a case panics ({id})"))?;
                let scope =
                    store.case_scope(id).map_err(|e| format!("the hub store failed ({e})"))?;
                if scope.as_ref().is_some_and(|s| s.restricted) || case.identity_restricted() {
                    restricted_now.insert(id.0);
                }
                let before = world.cases.get(&id.0);
                if let Some(before) = before {
                    for e in &before.events {
                        if !case.events.contains(e) {
                            return Err(format!(
                                "case {id}: an event at the hub changed or vanished ({} {} {})",
                                e.office,
                                e.action.label(),
                                e.id
                            ));
                        }
                    }
                    if before.petitioners.iter().any(|p| !case.petitioners.contains(p))
                        || before.submissions.iter().any(|s| !case.submissions.contains(s))
                        || before.attachments.iter().any(|a| !case.attachments.contains(a))
                    {
                        return Err(format!(
                            "case {id}: a petitioner, submission or attachment changed or vanished"
                        ));
                    }
                    if before.number != case.number || before.registered_by != case.registered_by {
                        return Err(format!("case {id}: number or registrar changed"));
                    }
                    if !bureau
                        && (before.jurisdiction != case.jurisdiction
                            || before.official_number != case.official_number)
                    {
                        return Err(format!(
                            "case {id}: a township changed 所属乡镇 or 正式编号 ({:?} → {:?}, {:?} → {:?})",
                            before.jurisdiction,
                            case.jurisdiction,
                            before.official_number,
                            case.official_number
                        ));
                    }
                }
                let known: BTreeSet<&str> =
                    before.iter().flat_map(|b| b.events.iter().map(|e| e.id.as_str())).collect();
                let seen =
                    before.map_or(0, |b| b.events.iter().map(|e| e.lamport).max().unwrap_or(0));
                let new: Vec<_> =
                    case.events.iter().filter(|e| !known.contains(e.id.as_str())).collect();
                let bound = seen.saturating_add(new.len() as u64).saturating_add(slack);
                for e in &new {
                    let signed = roster.as_ref().is_some_and(|r| r.may_sign(&e.handler, e.date))
                        || (bureau && e.imported);
                    let ok = e.office == caller.office.code
                        && e.role == caller.office.role
                        && actors.iter().any(|a| a.eq_ignore_ascii_case(&e.actor))
                        && (MIN_TIME_MS..MAX_TIME_MS).contains(&e.at)
                        && e.lamport > seen
                        && e.lamport <= bound
                        && !(e.imported && before.is_some())
                        && validate::date_in_bounds(e.date)
                        && signed;
                    if !ok {
                        return Err(format!(
                            "case {id}: an event got in that should not have: {e:?}"
                        ));
                    }
                }
                if world.restricted.contains(&id.0) && !restricted_now.contains(&id.0) {
                    let lifted = bureau
                        && new.iter().any(|e| {
                            e.action == ActionKind::LiftRestriction
                                && e.role == Role::Bureau
                                && e.text.as_deref().is_some_and(|t| !t.trim().is_empty())
                        });
                    if !lifted {
                        return Err(format!("case {id}: the restriction was loosened"));
                    }
                }
            }
            DocKind::Identity => {
                let identity = schema::read_identity(&doc)
                    .map_err(|e| format!("a stored document does not read ({id}: {e})"))?;
                if let Some(before) = world.identities.get(&id.0)
                    && before.persons.iter().any(|p| !identity.persons.contains(p))
                {
                    return Err(format!("identity {id}: a person changed or vanished"));
                }
            }
            DocKind::Roster => {
                let r = schema::read_roster(&doc)
                    .map_err(|e| format!("a stored document does not read ({id}: {e})"))?;
                if let Some(before) = world.rosters.get(&r.office) {
                    let kept = before
                        .staff
                        .iter()
                        .all(|s| r.staff.iter().any(|t| t.name == s.name && t.added == s.added));
                    if !kept || (r.office != caller.office.code && r != *before) {
                        return Err(format!(
                            "roster of {}: changed by {}",
                            r.office, caller.office.code
                        ));
                    }
                }
            }
            DocKind::Rules => {
                let r = schema::read_rules(&doc)
                    .map_err(|e| format!("the rules document does not read ({e})"))?;
                let before = world.rules.clone().unwrap_or_default();
                let kept = before.entries.iter().all(|e| r.entries.contains(e));
                if !kept || (!bureau && r != before) {
                    return Err(format!("the county's rules: changed by {}", caller.office.code));
                }
            }
            DocKind::Work => {
                let r = schema::read_work(&doc)
                    .map_err(|e| format!("a stored work record does not read ({id}: {e})"))?;
                let before = world.works.get(&id.0);
                let kept = before.is_none_or(|b| {
                    b.office == r.office
                        && b.kind == r.kind
                        && b.entries.iter().all(|e| r.entries.contains(e))
                });
                let foreign = r.office != caller.office.code
                    && before.is_none_or(|b| b.entries.len() != r.entries.len());
                let unsigned = r.entries.iter().any(|e| {
                    before.is_none_or(|b| !b.entries.contains(e))
                        && (e.office != caller.office.code
                            || ledger_domain::work::check_entry(&r.kind, e).is_err())
                });
                if !kept || foreign || unsigned {
                    return Err(format!("work record {id}: changed by {}", caller.office.code));
                }
            }
        }
    }
    // No identity of a restricted case reaches the township: not in the log...
    let townships = [TOWNSHIP.to_owned()];
    let reader =
        Reader { office: TOWN, device: "a-new-device", bureau: false, townships: &townships };
    for row in store
        .log_after(world.head, &reader, 100_000)
        .map_err(|e| format!("the hub store failed ({e})"))?
    {
        if row.kind == DocKind::Identity
            && row.what == LogKind::Change
            && restricted_now.contains(&row.case_id.0)
        {
            return Err(format!(
                "the log shows the township an identity of a restricted case (row {}, case {})",
                row.seq, row.case_id
            ));
        }
    }
    // ...nor in what a sync serves it, from where it was or from scratch; and every document
    // served (to the township, and to a new bureau device) loads and reads at the office.
    let town = &world.township.caller;
    let county = &world.bureau.caller;
    let from_head = Cursor { seq: world.head, ..Default::default() };
    for (reader, start) in
        [(town, from_head), (town, Cursor::default()), (county, Cursor::default())]
    {
        let mut cursor = start;
        for _ in 0..100 {
            let resp = hub.sync(reader, &request(Vec::new(), cursor, now), now)?;
            for r in &resp.records {
                served_loads(r)?;
                let (case, kind) = match r {
                    Record::Change { case_id, kind, .. } | Record::Enter { case_id, kind, .. } => {
                        (*case_id, *kind)
                    }
                    _ => continue,
                };
                if reader.office.code == TOWN
                    && kind == DocKind::Identity
                    && restricted_now.contains(&case)
                {
                    return Err(format!(
                        "a sync serves the township an identity of a restricted case ({case})"
                    ));
                }
            }
            if !resp.more {
                break;
            }
            cursor = resp.cursor;
        }
    }
    Ok(())
}

/// A record as an office receives it: a change decodes, a whole document loads and reads.
fn served_loads(record: &Record) -> Result<(), String> {
    match record {
        Record::Change { case_id, bytes, .. } => Change::from_bytes(bytes.clone())
            .map(|_| ())
            .map_err(|e| format!("a served change does not decode ({case_id}: {e})")),
        Record::Enter { case_id, kind, offset: 0, total, bytes }
            if *total == bytes.len() as u64 =>
        {
            let (read, panics) = quietly(|| {
                let doc = Automerge::load(bytes).map_err(|e| e.to_string())?;
                match kind {
                    DocKind::Case => schema::read_case(&doc).map(|_| ()),
                    DocKind::Identity => schema::read_identity(&doc).map(|_| ()),
                    DocKind::Roster => schema::read_roster(&doc).map(|_| ()),
                    DocKind::Rules => schema::read_rules(&doc).map(|_| ()),
                    DocKind::Work => schema::read_work(&doc).map(|_| ()),
                }
                .map_err(|e| e.to_string())
            });
            match read {
                Err(_) => Err(format!(
                    "a served document panics Automerge at the office ({case_id} {kind:?}: {})",
                    panics.join(" | ")
                )),
                Ok(Err(e)) => {
                    Err(format!("a served document does not read at the office ({case_id}: {e})"))
                }
                Ok(Ok(())) => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Outcomes, by rule and by kind of mutation.
#[derive(Default)]
struct Stats {
    total: usize,
    accepted: usize,
    unencodable: usize,
    by_rule: BTreeMap<String, usize>,
    by_kind: BTreeMap<Kind, BTreeMap<String, usize>>,
    examples: BTreeMap<String, String>,
    /// Panics inside the hub that it caught itself, by where they happened: how many, and the
    /// first mutation that caused one there.
    caught_panics: BTreeMap<String, (usize, usize, String)>,
    /// Broken invariants (survey mode), by what broke: how many, and the example with the
    /// fewest steps.
    broken: BTreeMap<String, (usize, usize, String)>,
    /// A case failed: what follows is proptest shrinking it, not counted.
    shrinking: bool,
}

impl Stats {
    /// Records a broken invariant.
    fn broke(&mut self, what: &str, steps: usize, label: &str) {
        let rest = match what.split_once(": ") {
            Some((head, tail)) if head.starts_with("case ") || head.starts_with("identity ") => {
                tail
            }
            _ => what,
        };
        let kind = rest.split(['(', '{', '[', ':']).next().unwrap_or(rest).trim().to_owned();
        let entry = self.broken.entry(kind).or_insert((0, usize::MAX, String::new()));
        entry.0 += 1;
        if steps < entry.1 {
            entry.1 = steps;
            entry.2 = format!("{label}\n        → {what}");
        }
    }

    /// Records panics the hub caught; keeps, per place, the example with the fewest steps.
    fn panicked(&mut self, panics: &[String], steps: usize, label: &str) {
        for p in panics {
            let first = p.lines().next().unwrap_or_default();
            let site = first.rsplit_once("/src/").map_or(first, |(_, s)| s).to_owned();
            let message = p.lines().nth(1).unwrap_or_default();
            let example = format!("{label}\n        → {message}");
            let entry = self.caught_panics.entry(site).or_insert((0, usize::MAX, String::new()));
            entry.0 += 1;
            if steps < entry.1 {
                entry.1 = steps;
                entry.2 = example;
            }
        }
    }

    fn count(&mut self, plan: &Plan, outcome: &str, label: &str) {
        self.total += 1;
        let kind = plan.steps.first().map_or(Kind::Value, |s| kind_of(s.roll));
        *self.by_kind.entry(kind).or_default().entry(outcome.to_owned()).or_default() += 1;
        match outcome {
            "accepted" => self.accepted += 1,
            "unencodable" => self.unencodable += 1,
            rule => *self.by_rule.entry(rule.to_owned()).or_default() += 1,
        }
        self.examples.entry(outcome.to_owned()).or_insert_with(|| label.to_owned());
    }
}

/// A mutated change, ready to send after the changes before it in its office's outbox.
struct Forged<'w> {
    side: &'w Side,
    /// The unmutated changes before it.
    before: &'w [UpChange],
    change: UpChange,
    /// What was done, for the report.
    label: String,
}

/// Decodes the plan's change, mutates it and encodes it again (`None`: Automerge could not).
fn forge<'w>(world: &'w World, plan: &Plan) -> (Option<Forged<'w>>, String) {
    let (side, other, who) = if plan.bureau {
        (&world.bureau, &world.township, "bureau")
    } else {
        (&world.township, &world.bureau, "township")
    };
    let k = plan.target.index(side.outbox.len());
    let target = &side.outbox[k];
    let forge = Forge {
        world,
        info: world.docs.get(&(target.case_id, target.kind)),
        actors: Actors { own: &side.actor, other: &other.actor },
        original_hash: target.hash.0,
    };
    let mut ex = Change::from_bytes(target.bytes.clone()).unwrap().decode();
    let mut wire = Wire::default();
    let notes: Vec<String> =
        plan.steps.iter().map(|s| forge.apply(s, &mut ex, &mut wire)).collect();
    let label = format!(
        "{who} change {k}/{} ({:?} of {}): {}",
        side.outbox.len(),
        target.kind,
        target.case_id,
        notes.join("; ")
    );
    ex.hash = None;
    let (encoded, _) = quietly(move || {
        let c = Change::from(ex);
        (c.raw_bytes().to_vec(), c.hash().0)
    });
    let Ok((mut bytes, mut hash)) = encoded else { return (None, label) };
    if let Some((pos, mask)) = wire.flip {
        let i = (pos % bytes.len() as u64) as usize;
        bytes[i] ^= mask;
    }
    if let Some(claim) = wire.claim {
        hash = claim;
    }
    let (case_id, kind) = wire.retarget.unwrap_or((target.case_id, target.kind));
    let change = UpChange { case_id, kind, hash: Hash(hash), bytes };
    (Some(Forged { side, before: &side.outbox[..k], change, label: label.clone() }), label)
}

/// Sends a forged change to a fresh hub and checks the verdict and every invariant. Returns
/// the outcome (`accepted` or the rule that refused it) or what broke.
fn send_and_check(
    world: &World,
    plan: &Plan,
    forged: &Forged<'_>,
    stats: &Mutex<Stats>,
) -> Result<String, String> {
    let Forged { side, before, change, label } = forged;
    let hub = Hub::fresh(world);
    let now = ledger_hub::now_ms();
    let mut changes = before.to_vec();
    changes.push(change.clone());
    let cursor = Cursor { seq: world.head, ..Default::default() };
    let resp = hub.sync(&side.caller, &request(changes, cursor, now), now)?;
    let panics = PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if before.iter().any(|c| !resp.acked.contains(&c.hash)) {
        return Err(format!("an unmutated change before it was not acknowledged: {resp:?}"));
    }
    let hex = change.hash.to_hex();
    let acked = resp.acked.contains(&change.hash);
    let refused: Vec<_> = resp.refused.iter().filter(|r| r.hash == hex).collect();
    let outcome = match (acked, refused.as_slice()) {
        (true, []) => "accepted".to_owned(),
        (false, [r]) => {
            if !Rule::ALL.iter().any(|rule| rule.code() == r.rule) {
                return Err(format!("refused under an unknown rule ({:?})", r.rule));
            }
            if r.reason.trim().is_empty() || !has_chinese(&r.reason) {
                return Err(format!("refused without a Chinese reason ({:?})", r.reason));
            }
            if r.reason == CAUGHT_PANIC && panics.is_empty() {
                stats.lock().unwrap().panicked(
                    &["(no message)".to_owned()],
                    plan.steps.len(),
                    label,
                );
            }
            r.rule.clone()
        }
        _ => return Err(format!("neither acknowledged nor refused exactly once ({resp:?})")),
    };
    stats.lock().unwrap().panicked(&panics, plan.steps.len(), label);
    invariants(world, &hub, &side.caller, now).map_err(|e| format!("{e} [verdict: {outcome}]"))?;
    let leftover = PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()));
    stats.lock().unwrap().panicked(&leftover, plan.steps.len(), &format!("{label} (checking)"));
    Ok(outcome)
}

/// One case of the property: forge, send, check. In survey mode a broken invariant is
/// recorded and the run goes on; otherwise it fails the case (and proptest shrinks it).
fn run_plan(
    world: &World,
    plan: &Plan,
    stats: &Mutex<Stats>,
    survey: bool,
) -> Result<(), TestCaseError> {
    let (forged, label) = forge(world, plan);
    let Some(forged) = forged else {
        let mut stats = stats.lock().unwrap();
        if !stats.shrinking {
            stats.count(plan, "unencodable", &label);
        }
        return Ok(());
    };
    match send_and_check(world, plan, &forged, stats) {
        Ok(outcome) => {
            let mut stats = stats.lock().unwrap();
            if !stats.shrinking {
                stats.count(plan, &outcome, &label);
            }
            Ok(())
        }
        Err(broken) if survey => {
            stats.lock().unwrap().broke(&broken, plan.steps.len(), &label);
            Ok(())
        }
        Err(broken) => {
            stats.lock().unwrap().shrinking = true;
            Err(TestCaseError::fail(format!("{broken}\n  mutation: {label}")))
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

#[test]
fn mutated_real_changes_reach_the_rules_and_never_break_the_hub() {
    install_panic_hook();
    let cases = env_number("LEDGER_MUTATION_CASES", 200);
    let seed = env_number("LEDGER_MUTATION_SEED", 0x1ed9_e710);
    let started = Instant::now();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let world = runtime.block_on(build_world());
    drop(runtime);
    let setup = started.elapsed();
    assert!(world.restricted.len() >= 3, "the 检举控告 cases are restricted at the hub");
    assert!(world.township.outbox.len() >= 15, "{}", world.township.outbox.len());
    assert!(world.bureau.outbox.len() >= 4, "{}", world.bureau.outbox.len());

    // The control: the offices' real outboxes, unmutated, are accepted whole and keep every
    // invariant (so the checks below do not refuse what is legitimate).
    for side in [&world.township, &world.bureau] {
        let hub = Hub::fresh(&world);
        let now = ledger_hub::now_ms();
        let req =
            request(side.outbox.clone(), Cursor { seq: world.head, ..Default::default() }, now);
        let resp = hub.sync(&side.caller, &req, now).unwrap();
        assert!(resp.refused.is_empty(), "{:?}", resp.refused);
        assert_eq!(resp.acked.len(), side.outbox.len());
        invariants(&world, &hub, &side.caller, now).unwrap();
    }

    let stats = Mutex::new(Stats::default());
    let mut rng_seed = [0u8; 32];
    rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: u32::try_from(cases).unwrap_or(u32::MAX),
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed));
    let survey = std::env::var_os("LEDGER_MUTATION_SURVEY").is_some();
    let result = runner.run(&plan_strategy(), |plan| run_plan(&world, &plan, &stats, survey));
    let stats = stats.into_inner().unwrap();

    eprintln!(
        "\nmutations: {} in {:.1?} (setup {:.1?}), seed {seed}",
        stats.total,
        started.elapsed(),
        setup
    );
    eprintln!("  accepted (still a valid change): {}", stats.accepted);
    eprintln!("  could not be re-encoded (skipped): {}", stats.unencodable);
    for rule in Rule::ALL {
        eprintln!(
            "  refused by {:<12} {}",
            rule.code(),
            stats.by_rule.get(rule.code()).unwrap_or(&0)
        );
    }
    eprintln!("  by kind of (first) mutation:");
    for (kind, outcomes) in &stats.by_kind {
        let line: Vec<String> = outcomes.iter().map(|(o, n)| format!("{o} {n}")).collect();
        eprintln!("    {kind:?}: {}", line.join(", "));
    }
    eprintln!("  an example of each outcome:");
    for (outcome, label) in &stats.examples {
        eprintln!("    {outcome}: {label}");
    }
    let caught: usize = stats.caught_panics.values().map(|(n, _, _)| n).sum();
    eprintln!("  Automerge panics the engine caught (refused as structure): {caught}");
    for (site, (n, _, example)) in &stats.caught_panics {
        eprintln!("    {n}× at automerge {site}\n      e.g. {example}");
    }
    for (what, (n, _, example)) in &stats.broken {
        eprintln!("  BROKEN ({n}×): {what}\n      e.g. {example}");
    }
    assert!(stats.broken.is_empty(), "mutations broke invariants (see above)");
    if let Err(e) = result {
        panic!(
            "{e}\nreproduce with LEDGER_MUTATION_SEED={seed} LEDGER_MUTATION_CASES={cases} \
             cargo test -p ledger-tests --test mutations"
        );
    }
    // The rules must refuse a malformed change before Automerge applies it: catch_unwind is
    // the last line of defence, never the check (and a panic is printed to the hub's log).
    if std::env::var_os("LEDGER_MUTATION_ALLOW_CAUGHT_PANICS").is_none() {
        assert!(
            stats.caught_panics.is_empty(),
            "Automerge panicked inside the hub's rules {caught} times (see above); set \
             LEDGER_MUTATION_ALLOW_CAUGHT_PANICS=1 to check the other invariants only"
        );
    }
    if cases >= 200 {
        for rule in Rule::ALL {
            assert!(
                stats.by_rule.get(rule.code()).is_some_and(|n| *n > 0),
                "no mutation was refused by the {} rule",
                rule.code()
            );
        }
        assert!(stats.accepted > 0, "no mutation was still a valid change");
    }
}
