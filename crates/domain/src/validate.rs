//! 变更校验: whether one Automerge change sent by an office may enter the county's record.
//!
//! Every office is untrusted: a township laptop can be lost, infected or misused. The hub is the
//! one place where every office's record merges, so it judges each change by what it does, the
//! way CouchDB's `validate_doc_update` judges each write (`reference/sync-anchors.md` §6a):
//! [`judge`] takes the caller as the hub knows it, the document as the hub holds it and one
//! change, and answers with the document the change leads to or a [`Rejection`] with a Chinese
//! reason. It does no IO and keeps no state, so the hub, USB bundle import, repair and
//! `check --deep` reach the same verdict on the same inputs, and every rule is unit-tested here.
//!
//! The rules, in the order they run (each refusal names its [`Rule`]):
//!
//! 1. **Size**: the change's bytes, operations and dependencies are bounded, and so is the
//!    document it leads to. What a chunk declares is read first without Automerge
//!    ([`precheck`]): a compressed chunk, or a column declaring more operations than allowed,
//!    never reaches it.
//! 2. **Structure**: it decodes, its hash is the one claimed, its timestamp is in range.
//! 3. **Actor**: its Automerge actor is one of the calling device's.
//! 4. **Causality**: every dependency is here; `seq` is exactly one past the actor's previous
//!    change, which is among its dependencies; `start_op` is exactly one past the highest
//!    operation of its dependencies. Nothing waits for missing dependencies: such a change is
//!    refused, and the office fetches the case whole.
//! 5. **Append-only**: an allow-list over the path each operation touches. Nothing edits or
//!    deletes an existing event, submission, attachment, petitioner or person; no root
//!    container is ever replaced; a change with no dependencies may only create a document.
//! 6. **Role**: a township writes only the fields and actions the workflow's role table gives
//!    it, and nothing this version does not know (fail closed: upgrade the hub first): no
//!    unknown root field, action, or key in a new record (each kind of record holds only the
//!    keys [`schema::record_keys`] lists, those this version's writers write).
//! 7. **Authorship**: every event the change adds names the caller's office and role, the
//!    change's own actor, and a 办理人 on the office's roster as the hub holds it; its Lamport
//!    number follows what its author had seen, within a small bound; its times and dates are in
//!    range. Imported history rides only on a case's creation.
//! 8. **Restriction**: judged over every concurrent value, at the change's causal point. A
//!    township may tighten 信访目的 or 是否保密, never loosen them; only a bureau 解除保密 event,
//!    with its reason, lifts a restriction.
//!    Only a case created as demo data (its write-once `demo` key) takes a 清除演示数据 event.
//! 9. **Scope**: a township writes only cases of its townships (or unassigned ones it
//!    registered) as of what the change's author had seen, and only its own roster.
//! 10. **Schema**: the document the change leads to still reads, at the change and as a whole.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{
    ActorId, Automerge, Change, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::model::{Case, Event, Identity, Roster, restrictive_purpose};
use crate::registration::MAX_PLATFORM_NUMBER;
use crate::rules;
use crate::schema::{self, CaseField, IDENTITY_RELEASED};
pub use crate::scope::DocClass;
use crate::terms::{Purpose, Role, Source};
use crate::work;
use crate::workflow::{ActionKind, roles_for};

/// Device times before this are refused (1980-01-01T00:00:00Z, ms).
pub const MIN_TIME_MS: i64 = 315_532_800_000;
/// Device times from this on are refused (2100-01-01T00:00:00Z, ms). Every difference of two
/// times in range fits an `i64`, so nothing downstream can overflow.
pub const MAX_TIME_MS: i64 = 4_102_444_800_000;

/// The most 代表 a submission names: 信访工作条例 §20's 5 (a province may ask fewer; the
/// office checks that number, the hub the law's).
pub const MAX_REPRESENTATIVES: usize = 5;

/// Whether a date (event, deadline, receipt) is in the range the ledger reckons with.
pub fn date_in_bounds(date: NaiveDate) -> bool {
    let lo = NaiveDate::from_ymd_opt(1980, 1, 1);
    let hi = NaiveDate::from_ymd_opt(2100, 12, 31);
    matches!((lo, hi), (Some(lo), Some(hi)) if date >= lo && date <= hi)
}

/// The bounds every change and document keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of one change.
    pub max_change_bytes: usize,
    /// The most operations of one change.
    pub max_change_ops: usize,
    /// The most operations a document may grow to (its highest operation counter).
    pub max_doc_ops: u64,
    /// The most dependencies of one change.
    pub max_deps: usize,
    /// The most changes a document may hold.
    pub max_doc_changes: usize,
    /// How far past what its author had seen an event's Lamport number may go, beyond one per
    /// event the change adds.
    pub lamport_slack: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_change_bytes: 2 * 1024 * 1024,
            max_change_ops: 200_000,
            max_doc_ops: 2_000_000,
            max_deps: 64,
            max_doc_changes: 100_000,
            lamport_slack: 16,
        }
    }
}

/// The office sending the change, as the hub knows it (never as the change says).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// 单位代码.
    pub office: &'a str,
    /// Bureau or township.
    pub role: &'a Role,
    /// The townships it answers for.
    pub townships: &'a [String],
    /// The Automerge actors (hex) registered to the calling device.
    pub actors: &'a [String],
}

impl Caller<'_> {
    fn is_bureau(&self) -> bool {
        *self.role == Role::Bureau
    }
}

/// Everything besides the document and the change that a verdict depends on.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The caller.
    pub caller: Caller<'a>,
    /// The kind of document.
    pub class: DocClass,
    /// The document's id (the case id, or the roster's id).
    pub doc_id: Uuid,
    /// For an identity document: the case document as the hub holds it.
    pub case_doc: Option<&'a Automerge>,
    /// The caller office's roster as the hub holds it.
    pub roster: Option<&'a Roster>,
    /// The bounds.
    pub limits: Limits,
    /// What the caller already read with the schema.
    pub known: Known<'a>,
}

/// What the caller already read with the schema, so the rules need not read it again: a hub
/// judging a batch knows each case as it read it after the batch's previous change to it.
/// Each, when given, must be what the whole document named reads as now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    /// The case document the change applies to (`doc` in [`judge`]).
    pub doc: Option<&'a Case>,
    /// The case document of an identity document ([`Input::case_doc`]).
    pub case_doc: Option<&'a Case>,
}

/// Which rule refused a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Too large.
    Size,
    /// Does not decode, wrong hash, header out of range.
    Structure,
    /// Not the calling device's actor.
    Actor,
    /// Missing dependencies, or `seq`/`start_op` out of order.
    Causality,
    /// Edits or deletes what may only be added to.
    AppendOnly,
    /// Not this role's field or action.
    Role,
    /// An event claiming someone it is not.
    Authorship,
    /// Loosens an identity restriction.
    Restriction,
    /// A document outside the caller's scope.
    Scope,
    /// Leaves a document the schema cannot read.
    Schema,
}

impl Rule {
    /// Every rule, in the order they run.
    pub const ALL: [Rule; 10] = [
        Rule::Size,
        Rule::Structure,
        Rule::Actor,
        Rule::Causality,
        Rule::AppendOnly,
        Rule::Role,
        Rule::Authorship,
        Rule::Restriction,
        Rule::Scope,
        Rule::Schema,
    ];

    /// A stable code, for logs, metrics and the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Size => "size",
            Self::Structure => "structure",
            Self::Actor => "actor",
            Self::Causality => "causality",
            Self::AppendOnly => "append_only",
            Self::Role => "role",
            Self::Authorship => "authorship",
            Self::Restriction => "restriction",
            Self::Scope => "scope",
            Self::Schema => "schema",
        }
    }
}

/// A refused change: which rule, and why in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    /// The rule.
    pub rule: Rule,
    /// What is wrong, in plain Chinese.
    pub reason: String,
}

impl Rejection {
    fn new(rule: Rule, reason: impl Into<String>) -> Self {
        Self { rule, reason: reason.into() }
    }
}

type Verdict<T> = Result<T, Rejection>;

/// An accepted change and the document it leads to.
#[derive(Debug)]
pub struct Accepted {
    /// The document with the change applied.
    pub doc: Automerge,
    /// The decoded change.
    pub change: Change,
    /// For a case: what the whole document reads as with the change (for [`Known::doc`] when
    /// the next change to it is judged).
    pub case: Option<Case>,
    /// Whether `case` came from reading the whole document, rather than only the parts the
    /// change touched on top of the reading before it ([`schema::reread_case`]).
    pub read_whole: bool,
}

/// Judges one change (`bytes`, claiming the hash `claimed` when given) against `doc`, the
/// document as the hub holds it (empty for a document it does not have yet).
pub fn judge(
    input: &Input<'_>,
    doc: &Automerge,
    bytes: &[u8],
    claimed: Option<[u8; 32]>,
) -> Verdict<Accepted> {
    let limits = &input.limits;
    if bytes.len() > limits.max_change_bytes {
        return Err(Rejection::new(
            Rule::Size,
            format!("单条更改有 {} 字节，超过上限 {} 字节", bytes.len(), limits.max_change_bytes),
        ));
    }
    precheck::precheck(bytes, limits)?;
    let change = Change::try_from(bytes)
        .map_err(|e| Rejection::new(Rule::Structure, format!("更改无法解析：{e}")))?;
    if claimed.is_some_and(|c| c != change.hash().0) {
        return Err(Rejection::new(Rule::Structure, "更改的哈希与内容不符"));
    }
    header(&change, limits)?;
    let actor = change.actor_id().to_hex_string();
    if !input.caller.actors.iter().any(|a| a.eq_ignore_ascii_case(&actor)) {
        return Err(Rejection::new(
            Rule::Actor,
            format!("更改的设备标识 {actor} 不属于发送它的设备（{}）", input.caller.office),
        ));
    }
    if input.class == DocClass::Rules && !input.caller.is_bureau() {
        return Err(Rejection::new(
            Rule::Role,
            "全县规则（期限、节假日、文书设置）只能由县局修改；乡镇国土所只能接收",
        ));
    }
    let (held_ops, held_changes) = causality(doc, &change)?;
    // Every branch counts: a device minting actors cannot grow a document past its bound.
    let total = held_ops.saturating_add(change.len() as u64);
    if total > limits.max_doc_ops || held_changes >= limits.max_doc_changes {
        return Err(Rejection::new(
            Rule::Size,
            format!("文档已有 {held_changes} 条更改、{held_ops} 项操作，已达上限，不能再增加"),
        ));
    }
    let creating = doc.get_heads().is_empty();
    if change.deps().is_empty() && !creating {
        return Err(Rejection::new(
            Rule::AppendOnly,
            "这条更改不依赖文档的任何已有版本，却要修改已有的文档；只有新建文档的更改可以这样",
        ));
    }
    // Every operation is placed and checked before Automerge sees it: an operation on an object
    // or element that does not exist would panic inside Automerge.
    let mut scan = OpScan::new(doc, input, &change, creating)?;
    scan.run()?;
    let mut next = doc.clone();
    next.apply_changes([change.clone()])
        .map_err(|e| Rejection::new(Rule::Structure, format!("更改无法应用：{e}")))?;
    if !next.get_missing_deps(&[]).is_empty() {
        return Err(Rejection::new(Rule::Causality, "更改应用后文档仍缺少依赖"));
    }
    let max_op = change.max_op();
    if max_op > limits.max_doc_ops {
        return Err(Rejection::new(
            Rule::Size,
            format!("文档将有 {max_op} 项操作，超过上限 {}", limits.max_doc_ops),
        ));
    }
    let at = [change.hash()];
    let mut read_whole = true;
    let case = match input.class {
        DocClass::Case => {
            let (case, whole) = case_rules(input, doc, &next, &change, &at, creating, &scan)?;
            read_whole = whole;
            Some(case)
        }
        DocClass::Identity => {
            identity_rules(input, doc, &next, &change, &at, creating)?;
            None
        }
        DocClass::Roster => {
            roster_rules(input, doc, &next, &change, &at)?;
            None
        }
        DocClass::Rules => {
            rules_rules(doc, &next)?;
            None
        }
        DocClass::Work => {
            work_rules(input, doc, &next, &change, &at, creating)?;
            None
        }
    };
    Ok(Accepted { doc: next, change, case, read_whole })
}

/// Whether `change` builds on every head of `doc` and on nothing else: then the document after
/// it reads at the change alone exactly as it reads whole, and before it as it reads now.
fn builds_on_all_heads(doc: &Automerge, change: &Change) -> bool {
    same_heads(&doc.get_heads(), change.deps())
}

/// Header fields in range.
fn header(change: &Change, limits: &Limits) -> Verdict<()> {
    let time = change.timestamp();
    if !(0..MAX_TIME_MS).contains(&time) {
        return Err(Rejection::new(Rule::Structure, format!("更改的时间戳 {time} 超出范围")));
    }
    if change.seq() == 0 || change.seq() > u64::from(u32::MAX) {
        return Err(Rejection::new(Rule::Causality, format!("更改序号 {} 超出范围", change.seq())));
    }
    if change.deps().len() > limits.max_deps {
        return Err(Rejection::new(
            Rule::Size,
            format!("更改依赖 {} 个版本，超过上限 {}", change.deps().len(), limits.max_deps),
        ));
    }
    if change.len() > limits.max_change_ops {
        return Err(Rejection::new(
            Rule::Size,
            format!("单条更改有 {} 项操作，超过上限 {}", change.len(), limits.max_change_ops),
        ));
    }
    if change.message().is_some_and(|m| m.len() > 1024) || change.extra_bytes().len() > 1024 {
        return Err(Rejection::new(Rule::Size, "更改附带的说明过长"));
    }
    if change.other_actor_ids().len() > 4096 {
        return Err(Rejection::new(Rule::Size, "更改引用的设备过多"));
    }
    Ok(())
}

/// Dependencies present; `seq` and `start_op` exactly next.
/// Dependencies present; `seq` and `start_op` exactly next. Returns the operations and changes
/// the document already holds, for its size bound.
fn causality(doc: &Automerge, change: &Change) -> Verdict<(u64, usize)> {
    // A judged document holds no queued changes (one whose dependencies are missing is
    // refused here, never applied), so this names exactly the dependencies it lacks; asking
    // for each change by hash instead would encode each again.
    let missing =
        doc.get_missing_deps(change.deps()).iter().filter(|h| change.deps().contains(h)).count();
    if missing > 0 {
        return Err(Rejection::new(
            Rule::Causality,
            format!("缺少此更改所依赖的 {missing} 条更改；请先完整同步该案件"),
        ));
    }
    let deps_max = change
        .deps()
        .iter()
        .filter_map(|d| doc.get_change_meta_by_hash(d))
        .map(|m| m.max_op)
        .max()
        .unwrap_or(0);
    if change.start_op().get() != deps_max.saturating_add(1) {
        return Err(Rejection::new(
            Rule::Causality,
            format!(
                "更改的起始操作号 {} 与其依赖不符（应为 {}）",
                change.start_op(),
                deps_max.saturating_add(1)
            ),
        ));
    }
    let actor = change.actor_id();
    let all = doc.get_changes_meta(&[]);
    let held_ops: u64 =
        all.iter().map(|m| m.max_op.saturating_sub(m.start_op).saturating_add(1)).sum();
    let held = (held_ops, all.len());
    let previous = all
        .into_iter()
        .filter(|m| m.actor.as_ref() == actor)
        .max_by_key(|m| m.seq)
        .map(|m| (m.seq, m.hash));
    match previous {
        None if change.seq() != 1 => Err(Rejection::new(
            Rule::Causality,
            format!("该设备在此文档上的第一条更改序号应为 1，却是 {}", change.seq()),
        )),
        Some((seq, _)) if change.seq() != seq + 1 => Err(Rejection::new(
            Rule::Causality,
            format!("更改序号 {} 不接续该设备的上一条更改（{seq}）", change.seq()),
        )),
        Some((_, hash)) => {
            // The actor's previous change must be part of what this one builds on.
            if doc.get_changes_meta(change.deps()).iter().any(|m| m.hash == hash) {
                Err(Rejection::new(Rule::Causality, "更改没有建立在该设备的上一条更改之上"))
            } else {
                Ok(held)
            }
        }
        None => Ok(held),
    }
}

// ---------------------------------------------------------------------------------------------
// The allow-list over operations

/// Where an operation's object sits in the document layout.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// The root map.
    Root,
    /// A container at the root whose entries are records (`events`, `persons`, `staff` ...).
    Container(&'static str),
    /// A record inside a container; `new` when this change created it.
    Item { container: &'static str, new: bool },
    /// A draft (Automerge text at the root).
    Text(&'static str),
}

/// The root containers of each kind of document, and whether each is text.
fn containers(class: DocClass) -> &'static [(&'static str, ObjType)] {
    match class {
        DocClass::Case => &[
            ("petitioners", ObjType::List),
            ("submissions", ObjType::Map),
            ("events", ObjType::Map),
            ("attachments", ObjType::Map),
            ("reply_draft", ObjType::Text),
            ("investigation_report", ObjType::Text),
        ],
        DocClass::Identity => &[("persons", ObjType::Map)],
        DocClass::Roster => &[("staff", ObjType::Map)],
        DocClass::Rules => &[("entries", ObjType::Map)],
        DocClass::Work => &[(schema::WORK_LOG, ObjType::Map)],
    }
}

/// Root keys written once, at creation.
fn fixed_keys(class: DocClass) -> &'static [&'static str] {
    match class {
        // `demo` too: a real case can never be made demo data and so purged.
        DocClass::Case => &["schema_version", "kind", "id", "number", "registered_by", "demo"],
        DocClass::Identity => &["schema_version", "kind", "case_id"],
        DocClass::Roster => &["schema_version", "kind", "office"],
        DocClass::Rules => &["schema_version", "kind"],
        DocClass::Work => &[
            "schema_version",
            "kind",
            "id",
            "record_kind",
            "office",
            "created_by",
            "created_at",
            "import_key",
        ],
    }
}

fn record_label(container: &str) -> &'static str {
    match container {
        "events" => "办理记录",
        "submissions" => "信访件",
        "attachments" => "附件",
        "petitioners" => "信访人",
        "persons" => "信访人身份信息",
        "staff" => "人员名单",
        "entries" => "规则变更",
        schema::WORK_LOG => "工作记录条目",
        _ => "记录",
    }
}

/// Walks the change's operations, placing each and checking it against the allow-list.
struct OpScan<'a> {
    doc: &'a Automerge,
    input: &'a Input<'a>,
    change: &'a Change,
    creating: bool,
    /// Objects of `doc`, and those this change makes.
    places: HashMap<ObjId, Place>,
    /// Whether the records already in `doc` are in `places` (see [`OpScan::place`]).
    records_placed: bool,
    /// Root fields this change puts, with the values.
    root_puts: Vec<(String, ScalarValue)>,
    /// For a case: the parts of the document its operations touch.
    case_parts: schema::CaseParts,
    /// The elements of each sequence (list or text) an operation may name: those its author
    /// saw, and those this change inserted; loaded when first needed.
    elements: HashMap<ObjId, HashSet<ObjId>>,
    /// This change's own operations by slot (a map key or a sequence element of an object).
    written: HashMap<(ObjId, Slot), HashSet<ObjId>>,
    /// The records this change makes, by container and key.
    made: BTreeSet<(&'static str, String)>,
}

/// Where an operation writes inside its object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    /// A key of a map.
    Key(String),
    /// An element of a list or text.
    Element(ObjId),
}

/// An operation of a decoded change as the document names it. The actor's index in the
/// document is not known here; `usize::MAX` makes Automerge look the actor up by its bytes.
fn exid(id: &OpId) -> ObjId {
    op_id(id.0, &id.1)
}

fn op_id(counter: u64, actor: &ActorId) -> ObjId {
    ObjId::Id(counter, actor.clone(), usize::MAX)
}

fn malformed() -> Rejection {
    Rejection::new(Rule::Structure, "更改中有结构错误的操作")
}

impl<'a> OpScan<'a> {
    fn new(
        doc: &'a Automerge,
        input: &'a Input<'a>,
        change: &'a Change,
        creating: bool,
    ) -> Verdict<Self> {
        let mut places = HashMap::new();
        for (name, typ) in containers(input.class) {
            let Ok(values) = doc.get_all(ROOT, *name) else { continue };
            for (value, id) in values {
                if let Value::Object(_) = value {
                    let place = if *typ == ObjType::Text {
                        Place::Text(name)
                    } else {
                        Place::Container(name)
                    };
                    places.insert(id, place);
                }
            }
        }
        Ok(Self {
            doc,
            input,
            change,
            creating,
            places,
            records_placed: false,
            root_puts: Vec::new(),
            case_parts: schema::CaseParts::default(),
            elements: HashMap::new(),
            written: HashMap::new(),
            made: BTreeSet::new(),
        })
    }

    /// Where an object of the document (or of this change) sits. The records already in the
    /// containers are placed only when an operation names an object that is not a container
    /// or made by this change: an honest change only adds records, so most never pay for it.
    fn place(&mut self, obj: &ObjId) -> Option<Place> {
        if !self.records_placed && !self.places.contains_key(obj) {
            self.place_records();
        }
        self.places.get(obj).cloned()
    }

    fn place_records(&mut self) {
        self.records_placed = true;
        let doc = self.doc;
        for (name, typ) in containers(self.input.class) {
            if *typ == ObjType::Text {
                continue;
            }
            let Ok(values) = doc.get_all(ROOT, *name) else { continue };
            for (value, id) in values {
                if !matches!(value, Value::Object(_)) {
                    continue;
                }
                let keys: Vec<automerge::Prop> = if *typ == ObjType::List {
                    (0..doc.length(&id)).map(automerge::Prop::Seq).collect()
                } else {
                    doc.keys(&id).map(automerge::Prop::Map).collect()
                };
                for prop in keys {
                    let Ok(items) = doc.get_all(&id, prop) else { continue };
                    for (item, item_id) in items {
                        if let Value::Object(_) = item {
                            self.places
                                .entry(item_id)
                                .or_insert(Place::Item { container: name, new: false });
                        }
                    }
                }
            }
        }
    }

    /// Whether the object is a sequence (a list or text); every other one is a map.
    fn is_sequence(&self, place: &Place) -> bool {
        match place {
            Place::Text(_) => true,
            Place::Container(name) => {
                containers(self.input.class).iter().any(|(n, t)| n == name && *t == ObjType::List)
            }
            Place::Root | Place::Item { .. } => false,
        }
    }

    /// The elements of the sequence `obj` its author could name: those it saw, and those this
    /// change inserted so far.
    fn elements(&mut self, obj: &ObjId) -> &mut HashSet<ObjId> {
        let (doc, deps) = (self.doc, self.change.deps());
        self.elements
            .entry(obj.clone())
            .or_insert_with(|| doc.list_range_at(obj, .., deps).map(|item| item.id()).collect())
    }

    fn run(&mut self) -> Verdict<()> {
        let expanded = self.change.decode();
        let actor = &expanded.actor_id;
        let start = expanded.start_op.get();
        for (i, op) in expanded.operations.iter().enumerate() {
            let own = op_id(start + i as u64, actor);
            let (obj, place) = match &op.obj {
                ObjectId::Root => (ROOT, Place::Root),
                ObjectId::Id(id) => {
                    let obj = exid(id);
                    let place = self.place(&obj).ok_or_else(|| {
                        Rejection::new(Rule::AppendOnly, "更改修改了文档中不存在或不允许修改的对象")
                    })?;
                    (obj, place)
                }
            };
            match (&place, &op.key) {
                (Place::Root, Key::Map(k)) => self.case_parts.touch(k),
                (Place::Container(name) | Place::Text(name), _)
                | (Place::Item { container: name, .. }, _) => self.case_parts.touch(name),
                // Refused below: a sequence key on the root.
                (Place::Root, Key::Seq(_)) => self.case_parts.root = true,
            }
            let preds: Vec<ObjId> = op.pred.iter().map(exid).collect();
            let (key, slot) = match (&op.key, self.is_sequence(&place)) {
                (Key::Map(k), false) if !op.insert => {
                    let slot = (obj.clone(), Slot::Key(k.to_string()));
                    self.check_preds(&slot, &preds, &op.action, |doc, deps| {
                        doc.get_all_at(&obj, k.as_str(), deps)
                            .map(|all| all.into_iter().map(|(_, id)| id).collect())
                            .unwrap_or_default()
                    })?;
                    (k.as_str(), slot)
                }
                (Key::Seq(element), true) => {
                    let element = match element {
                        ElementId::Head if op.insert => None,
                        ElementId::Id(id) => {
                            let id = exid(id);
                            if !self.elements(&obj).contains(&id) {
                                return Err(malformed());
                            }
                            Some(id)
                        }
                        ElementId::Head => return Err(malformed()),
                    };
                    if op.insert {
                        if !preds.is_empty() || matches!(op.action, OpType::Delete) {
                            return Err(malformed());
                        }
                        self.elements(&obj).insert(own.clone());
                        ("", (obj, Slot::Element(own.clone())))
                    } else {
                        let Some(element) = element else { return Err(malformed()) };
                        // A character is only ever overwritten or deleted where it stands.
                        let slot = (obj, Slot::Element(element.clone()));
                        self.check_preds(&slot, &preds, &op.action, move |_, _| vec![element])?;
                        ("", slot)
                    }
                }
                _ => return Err(malformed()),
            };
            self.written.entry(slot).or_default().insert(own.clone());
            if let Some(made) = self.check(&place, key, op.insert, &op.action)? {
                self.places.insert(own, made);
            }
        }
        Ok(())
    }

    /// An operation may only overwrite (name as predecessors) the values its author saw in that
    /// same slot, or this change's own earlier operations there; a delete must overwrite
    /// something. A predecessor elsewhere would overwrite another field unseen.
    fn check_preds(
        &self,
        slot: &(ObjId, Slot),
        preds: &[ObjId],
        action: &OpType,
        visible: impl FnOnce(&Automerge, &[ChangeHash]) -> Vec<ObjId>,
    ) -> Verdict<()> {
        if matches!(action, OpType::Delete) && preds.is_empty() {
            return Err(malformed());
        }
        if preds.is_empty() {
            return Ok(());
        }
        let seen = visible(self.doc, self.change.deps());
        let own = self.written.get(slot);
        if preds.iter().all(|p| seen.contains(p) || own.is_some_and(|own| own.contains(p))) {
            Ok(())
        } else {
            Err(Rejection::new(Rule::AppendOnly, "更改覆盖了它所依据的版本中不存在的值"))
        }
    }

    /// Checks one operation; for one that makes an object, returns where the object sits.
    fn check(
        &mut self,
        place: &Place,
        key: &str,
        insert: bool,
        action: &OpType,
    ) -> Verdict<Option<Place>> {
        let class = self.input.class;
        if matches!(action, OpType::Increment(_) | OpType::MarkBegin(_) | OpType::MarkEnd(_)) {
            return Err(Rejection::new(
                Rule::AppendOnly,
                "更改含有本系统不使用的操作（计数或标记）",
            ));
        }
        match place {
            Place::Root => self.check_root(key, action),
            Place::Container(name) => {
                let list = containers(class).iter().any(|(n, t)| n == name && *t == ObjType::List);
                let fresh = list && insert || !list && !self.exists(name, key);
                match action {
                    OpType::Make(ObjType::Map) if fresh => {
                        Ok(Some(Place::Item { container: name, new: true }))
                    }
                    _ => Err(Rejection::new(
                        Rule::AppendOnly,
                        format!("已有的{}只能追加，不能修改、替换或删除", record_label(name)),
                    )),
                }
            }
            Place::Item { container, new: true, .. } => match action {
                // A new record holds only the keys this version writes into its kind, or a
                // township could write fields the hub cannot judge (fail closed). The bureau is
                // trusted, as with unknown root fields and actions: a newer bureau client may
                // add a field before the hub is upgraded, and readers here ignore it.
                OpType::Put(_)
                    if !self.input.caller.is_bureau()
                        && !schema::record_keys(container).contains(&key) =>
                {
                    Err(unknown_record_key(container, key))
                }
                OpType::Put(_) => Ok(None),
                _ => Err(Rejection::new(
                    Rule::Schema,
                    format!("新{}的结构不符合规定", record_label(container)),
                )),
            },
            Place::Item { container: "staff", new: false, .. }
                if class == DocClass::Roster
                    && key == "left"
                    && matches!(action, OpType::Put(ScalarValue::Str(_)) | OpType::Delete) =>
            {
                Ok(None)
            }
            Place::Item { container, new: false, .. } => Err(Rejection::new(
                Rule::AppendOnly,
                format!("已有的{}只能追加，不能修改或删除", record_label(container)),
            )),
            Place::Text(_) => match action {
                OpType::Put(ScalarValue::Str(_)) | OpType::Delete => Ok(None),
                _ => Err(Rejection::new(Rule::AppendOnly, "草稿只能写入文字")),
            },
        }
    }

    /// Whether `container` already held a record under `key` where the change's author stood,
    /// or this change made one there already. (A record made concurrently under the same key,
    /// such as one attachment added by two offices, is no replacement of anything its author
    /// saw: both are kept.)
    fn exists(&mut self, container: &'static str, key: &str) -> bool {
        if !self.made.insert((container, key.to_owned())) {
            return true;
        }
        let deps = self.change.deps();
        let Ok(ids) = self.doc.get_all_at(ROOT, container, deps) else { return false };
        ids.iter().any(|(value, id)| {
            matches!(value, Value::Object(_))
                && self.doc.get_all_at(id, key, deps).is_ok_and(|v| !v.is_empty())
        })
    }

    fn check_root(&mut self, key: &str, action: &OpType) -> Verdict<Option<Place>> {
        let class = self.input.class;
        let bureau = self.input.caller.is_bureau();
        let container = containers(class).iter().find(|(n, _)| *n == key);
        if self.creating {
            return match (action, container) {
                // A second container of the same name in the one change would sit beside the
                // first, unjudged and unread: a container is made once.
                (OpType::Make(_), Some((name, _)))
                    if !self.made.insert(("#root", (*name).to_owned())) =>
                {
                    Err(Rejection::new(Rule::Schema, format!("新文档的「{key}」被建立了两次")))
                }
                (OpType::Make(t), Some((name, want))) if t == want => {
                    Ok(Some(if *want == ObjType::Text {
                        Place::Text(name)
                    } else {
                        Place::Container(name)
                    }))
                }
                (OpType::Make(_), _) => {
                    Err(Rejection::new(Rule::Schema, format!("新文档的「{key}」结构不符合规定")))
                }
                (OpType::Put(value), None) => {
                    if !bureau && !known_root_field(class, key) {
                        return Err(unknown_field(key));
                    }
                    self.root_puts.push((key.to_owned(), value.clone()));
                    Ok(None)
                }
                _ => Err(Rejection::new(Rule::Schema, format!("新文档的「{key}」结构不符合规定"))),
            };
        }
        if container.is_some() || matches!(action, OpType::Make(_)) {
            return Err(Rejection::new(
                Rule::AppendOnly,
                format!("不能替换文档的「{key}」；记录只能逐条追加"),
            ));
        }
        if fixed_keys(class).contains(&key) {
            return Err(Rejection::new(Rule::AppendOnly, format!("「{key}」在建立文档后不能更改")));
        }
        if class != DocClass::Case {
            return Err(Rejection::new(Rule::AppendOnly, format!("不能修改文档的「{key}」")));
        }
        let field = Some(CaseField::from_code(key)).filter(CaseField::is_known);
        match (action, &field) {
            (OpType::Delete, _) if !bureau => Err(Rejection::new(
                Rule::Role,
                format!("乡镇国土所不能删除案件的「{}」", label_of(key)),
            )),
            (OpType::Delete, _) => Ok(None),
            (OpType::Put(value), _) => {
                if key == IDENTITY_RELEASED {
                    if !matches!(value, ScalarValue::Boolean(_)) {
                        return Err(Rejection::new(Rule::Schema, "「解除保密」的值应为是或否"));
                    }
                    if !bureau && matches!(value, ScalarValue::Boolean(true)) {
                        return Err(Rejection::new(
                            Rule::Restriction,
                            "只有县局可以解除保密；乡镇国土所只能加强保密",
                        ));
                    }
                } else if let Some(f) = &field {
                    if !bureau && f.bureau_only() {
                        return Err(Rejection::new(
                            Rule::Role,
                            format!("乡镇国土所不能修改「{}」；该字段只能由县局变更", f.label()),
                        ));
                    }
                    let typed = match f {
                        CaseField::Confidential => matches!(value, ScalarValue::Boolean(_)),
                        _ => matches!(value, ScalarValue::Str(_)),
                    };
                    if !typed {
                        return Err(Rejection::new(
                            Rule::Schema,
                            format!("「{}」的值类型不对", f.label()),
                        ));
                    }
                } else if !bureau {
                    return Err(unknown_field(key));
                }
                self.root_puts.push((key.to_owned(), value.clone()));
                Ok(None)
            }
            _ => Err(Rejection::new(Rule::AppendOnly, format!("不能修改文档的「{key}」"))),
        }
    }
}

fn known_root_field(class: DocClass, key: &str) -> bool {
    fixed_keys(class).contains(&key)
        || match class {
            DocClass::Case => key == IDENTITY_RELEASED || CaseField::from_code(key).is_known(),
            DocClass::Identity | DocClass::Roster | DocClass::Rules | DocClass::Work => false,
        }
}

fn label_of(key: &str) -> String {
    let field = CaseField::from_code(key);
    if field.is_known() { field.label().to_owned() } else { key.to_owned() }
}

/// A key a township wrote into a new record that this version does not write into that kind of
/// record. The key is shown cut short: it is whatever the change says.
fn unknown_record_key(container: &str, key: &str) -> Rejection {
    let mut shown: String = key.chars().take(40).collect();
    if shown.len() < key.len() {
        shown.push('…');
    }
    Rejection::new(
        Rule::Role,
        format!(
            "新{}含有县局服务器不认识的字段「{shown}」；乡镇国土所须等县局服务器升级后才能写入它",
            record_label(container)
        ),
    )
}

fn unknown_field(key: &str) -> Rejection {
    Rejection::new(
        Rule::Role,
        format!("县局服务器不认识字段「{key}」；乡镇国土所须等县局服务器升级后才能写入它"),
    )
}

// ---------------------------------------------------------------------------------------------
// What the document means

fn schema_err(e: &schema::SchemaError) -> Rejection {
    Rejection::new(Rule::Schema, format!("更改后的文档不符合规定：{e}"))
}

fn case_rules(
    input: &Input<'_>,
    doc: &Automerge,
    next: &Automerge,
    change: &Change,
    at: &[ChangeHash],
    creating: bool,
    scan: &OpScan<'_>,
) -> Verdict<(Case, bool)> {
    // Most changes build on the whole document as the hub holds it (no concurrent branch):
    // then the document after the change reads whole as it reads at the change, and the one
    // before it as it reads now (or as the caller already read it), so each is read at most
    // once and without a historical view. With concurrent changes beside this one, the whole
    // document must read too (a new document is exactly the change).
    let linear = builds_on_all_heads(doc, change);
    let read_before;
    let before: Option<&Case> = if creating {
        None
    } else if linear && let Some(known) = input.known.doc {
        Some(known)
    } else {
        read_before =
            if linear { schema::read_case(doc) } else { schema::read_case_at(doc, change.deps()) }
                .map_err(|e| schema_err(&e))?;
        Some(&read_before)
    };
    // After a change on every head, only the parts it touched read differently.
    let read_whole = !linear || before.is_none();
    let whole = match before {
        Some(before) if linear => schema::reread_case(next, before, scan.case_parts),
        _ => schema::read_case(next),
    }
    .map_err(|e| schema_err(&e))?;
    debug_assert!(
        schema::read_case(next).is_ok_and(|read| read == whole),
        "a case read again part by part reads as a whole read"
    );
    let at_change;
    let after = if linear {
        &whole
    } else {
        at_change = schema::read_case_at(next, at).map_err(|e| schema_err(&e))?;
        &at_change
    };
    if after.id.0 != input.doc_id {
        return Err(Rejection::new(Rule::Schema, "文档中的案件标识与所报的不符"));
    }
    if !linear && !creating {
        // A change beside a concurrent one could make a record under a key the hub already
        // holds but its author claims not to have seen, and win the conflict: every event the
        // hub holds must read the same after it. Event ids are random, so no honest change
        // ever makes one twice.
        let held = schema::read_case(doc).map_err(|e| schema_err(&e))?;
        let now: BTreeMap<&str, &Event> = whole.events.iter().map(|e| (e.id.as_str(), e)).collect();
        if held.events.iter().any(|e| now.get(e.id.as_str()) != Some(&e)) {
            return Err(Rejection::new(Rule::AppendOnly, "已有的办理记录不能修改或删除"));
        }
    }
    case_checks(input, doc, change, creating, scan, before, after)?;
    Ok((whole, read_whole))
}

/// The rules over a case change, given what the case read as before it (`None`: the change
/// creates it) and after it.
fn case_checks(
    input: &Input<'_>,
    doc: &Automerge,
    change: &Change,
    creating: bool,
    scan: &OpScan<'_>,
    before: Option<&Case>,
    after: &Case,
) -> Verdict<()> {
    let caller = &input.caller;
    match before {
        None => {
            if after.registered_by != caller.office {
                return Err(Rejection::new(
                    Rule::Authorship,
                    format!("新案件的登记单位应为本单位 {}", caller.office),
                ));
            }
            if !caller.is_bureau()
                && let Some(t) = &after.jurisdiction
                && !caller.townships.contains(t)
            {
                return Err(Rejection::new(
                    Rule::Scope,
                    format!("「{t}」不是本单位管辖的乡镇，不能为其登记案件"),
                ));
            }
            if !caller.is_bureau() && after.identity_released {
                return Err(Rejection::new(
                    Rule::Restriction,
                    "乡镇国土所登记的案件不能带有「解除保密」；只有县局可以解除保密",
                ));
            }
            if !caller.is_bureau() && after.official_number.is_some() {
                return Err(Rejection::new(Rule::Role, "正式编号只能由县局在受理时给出"));
            }
        }
        Some(before) => {
            if !caller.is_bureau() {
                let at_deps =
                    schema::field_values(doc, &CaseField::Jurisdiction, Some(change.deps()))
                        .map_err(|e| schema_err(&e))?;
                let ours = at_deps.iter().any(|t| caller.townships.contains(t))
                    || (at_deps.is_empty() && before.registered_by == caller.office);
                if !ours {
                    return Err(Rejection::new(
                        Rule::Scope,
                        "该案件在此更改所依据的版本中不属于本单位管辖",
                    ));
                }
                loosening(doc, change.deps(), scan)?;
            }
            kept(before, after)?;
        }
    }
    let lamport_seen =
        before.as_ref().map_or(0, |b| b.events.iter().map(|e| e.lamport).max().unwrap_or(0));
    let known: BTreeSet<&str> =
        before.iter().flat_map(|b| b.events.iter().map(|e| e.id.as_str())).collect();
    let added: Vec<&Event> =
        after.events.iter().filter(|e| !known.contains(e.id.as_str())).collect();
    let actor = change.actor_id().to_hex_string();
    let n = added.len() as u64;
    for event in &added {
        event_rules(input, event, &actor, creating, lamport_seen, n)?;
    }
    if creating && !after.events.iter().any(|e| e.action == ActionKind::Register) {
        return Err(Rejection::new(Rule::Schema, "新案件缺少登记记录"));
    }
    let known_subs: BTreeSet<&str> =
        before.iter().flat_map(|b| b.submissions.iter().map(|s| s.id.as_str())).collect();
    for s in after.submissions.iter().filter(|s| !known_subs.contains(s.id.as_str())) {
        if after.identity_released && (s.confidential || s.source == Source::Report12336) {
            return Err(Rejection::new(
                Rule::Restriction,
                "新增要求保密或12336举报的信访件时，须同时恢复对信访人身份的保护",
            ));
        }
        if s.registered_by != caller.office {
            return Err(Rejection::new(
                Rule::Authorship,
                format!("信访件的登记单位应为本单位 {}", caller.office),
            ));
        }
        if !date_in_bounds(s.received) {
            return Err(Rejection::new(
                Rule::Structure,
                format!("信访日期 {} 超出范围", s.received),
            ));
        }
        // Who came are the case's petitioners, each once; 代表 are chosen among them.
        let on_case: BTreeSet<&str> = after.petitioners.iter().map(|p| p.id.as_str()).collect();
        let came: BTreeSet<&str> = s.petitioners.iter().map(String::as_str).collect();
        if came.len() != s.petitioners.len() || !came.is_subset(&on_case) {
            return Err(Rejection::new(
                Rule::Structure,
                "信访件所列信访人须是本案件的信访人，且不重复",
            ));
        }
        let chosen: BTreeSet<&str> = s.representatives.iter().map(String::as_str).collect();
        if chosen.len() != s.representatives.len() || !chosen.is_subset(&came) {
            return Err(Rejection::new(
                Rule::Structure,
                "信访件的代表须是该信访件的信访人，且不重复",
            ));
        }
        if s.representatives.len() > MAX_REPRESENTATIVES {
            return Err(Rejection::new(
                Rule::Structure,
                format!("信访件的代表超过 {MAX_REPRESENTATIVES} 人（信访工作条例第二十条）"),
            ));
        }
        if s.platform_number.as_deref().is_some_and(|n| {
            s.source != Source::Report12336 || n.chars().count() > MAX_PLATFORM_NUMBER
        }) {
            return Err(Rejection::new(
                Rule::Structure,
                "平台编号只属于12336举报，且不超过 40 个字符",
            ));
        }
    }
    let known_att: BTreeSet<&str> =
        before.iter().flat_map(|b| b.attachments.iter().map(|a| a.hash.as_str())).collect();
    for a in after.attachments.iter().filter(|a| !known_att.contains(a.hash.as_str())) {
        if a.added_by != caller.office {
            return Err(Rejection::new(Rule::Authorship, "附件的添加单位应为本单位"));
        }
        if !(MIN_TIME_MS..MAX_TIME_MS).contains(&a.added_at) {
            return Err(Rejection::new(Rule::Structure, "附件的添加时间超出范围"));
        }
    }
    if !after.demo && added.iter().any(|e| e.action == ActionKind::RemoveDemo) {
        return Err(Rejection::new(
            Rule::Role,
            "只有演示数据可以清除；该案件不是演示数据，县局服务器永不删除真实案件",
        ));
    }
    if let Some(before) = before
        && before.identity_restricted()
        && !after.identity_restricted()
        && !added.iter().any(|e| e.action == ActionKind::LiftRestriction && e.role == Role::Bureau)
    {
        return Err(Rejection::new(
            Rule::Restriction,
            "该案件的信访人身份受保护（检举控告或要求保密）；只有县局「解除保密」并写明理由才能解除",
        ));
    }
    Ok(())
}

/// Whether two lists of heads name the same changes.
fn same_heads(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// A township may tighten 信访目的 and 是否保密 but never loosen them, whatever else holds:
/// judged over every concurrent value its author had seen.
fn loosening(doc: &Automerge, deps: &[ChangeHash], scan: &OpScan<'_>) -> Verdict<()> {
    let values = |field: &CaseField| {
        schema::field_values(doc, field, Some(deps)).map_err(|e| schema_err(&e))
    };
    let purpose_restricts = values(&CaseField::Purpose)?
        .iter()
        .any(|code| restrictive_purpose(&Purpose::from_code(code)));
    let confidential = values(&CaseField::Confidential)?.iter().any(|v| v != "false");
    for (key, value) in &scan.root_puts {
        let loosens = match (key.as_str(), value) {
            ("purpose", ScalarValue::Str(code)) => {
                purpose_restricts && !restrictive_purpose(&Purpose::from_code(code))
            }
            ("confidential", ScalarValue::Boolean(false)) => confidential,
            _ => false,
        };
        if loosens {
            return Err(Rejection::new(
                Rule::Restriction,
                "乡镇国土所只能加强保密，不能把检举控告改为其他类别或取消保密；如确需解除，请报县局",
            ));
        }
    }
    Ok(())
}

/// Everything the case held before is still there, unchanged.
fn kept(before: &Case, after: &Case) -> Verdict<()> {
    let by_id: BTreeMap<&str, &Event> = after.events.iter().map(|e| (e.id.as_str(), e)).collect();
    for e in &before.events {
        if by_id.get(e.id.as_str()) != Some(&e) {
            return Err(Rejection::new(Rule::AppendOnly, "已有的办理记录不能修改或删除"));
        }
    }
    for p in &before.petitioners {
        if !after.petitioners.contains(p) {
            return Err(Rejection::new(Rule::AppendOnly, "已有的信访人不能修改或删除"));
        }
    }
    for s in &before.submissions {
        if !after.submissions.contains(s) {
            return Err(Rejection::new(Rule::AppendOnly, "已有的信访件不能修改或删除"));
        }
    }
    if before.registered_by != after.registered_by || before.number != after.number {
        return Err(Rejection::new(Rule::AppendOnly, "案件的登记单位和编号不能更改"));
    }
    Ok(())
}

fn event_rules(
    input: &Input<'_>,
    event: &Event,
    actor: &str,
    creating: bool,
    lamport_seen: u64,
    added: u64,
) -> Verdict<()> {
    let caller = &input.caller;
    let who = |what: &str| {
        Rejection::new(Rule::Authorship, format!("办理记录「{}」{what}", event.action.label()))
    };
    if event.office != caller.office {
        return Err(who(&format!("署名单位为 {}，但发送它的是 {}", event.office, caller.office)));
    }
    if event.role != *caller.role {
        return Err(who(&format!("署名为「{}」，与发送单位的身份不符", event.role.label())));
    }
    if !event.actor.eq_ignore_ascii_case(actor) {
        return Err(who("的设备标识与更改的设备不符"));
    }
    let max = lamport_seen.saturating_add(added).saturating_add(input.limits.lamport_slack);
    if event.lamport <= lamport_seen || event.lamport > max {
        return Err(Rejection::new(
            Rule::Authorship,
            format!(
                "办理记录的逻辑时钟 {} 不合理（应在 {} 到 {max} 之间）",
                event.lamport,
                lamport_seen + 1
            ),
        ));
    }
    if !(MIN_TIME_MS..MAX_TIME_MS).contains(&event.at) {
        return Err(Rejection::new(Rule::Structure, "办理记录的设备时间超出范围"));
    }
    if !date_in_bounds(event.date) || event.due.is_some_and(|d| !date_in_bounds(d)) {
        return Err(Rejection::new(Rule::Structure, "办理记录的日期超出范围"));
    }
    if event.imported && !creating {
        return Err(Rejection::new(Rule::Authorship, "导入的历史记录只能随案件登记一并上传"));
    }
    if event.action == ActionKind::Register && !creating {
        return Err(Rejection::new(Rule::Role, "案件已经登记，不能再添加登记记录"));
    }
    let skip_roster = event.imported && caller.is_bureau();
    if !skip_roster {
        let Some(roster) = input.roster else {
            return Err(Rejection::new(
                Rule::Authorship,
                "县局尚未收到本单位的人员名单；请同步后再试",
            ));
        };
        if !roster.may_sign(&event.handler, event.date) {
            return Err(Rejection::new(
                Rule::Authorship,
                format!("办理人「{}」不在本单位的人员名单上", event.handler),
            ));
        }
    }
    if !caller.is_bureau() {
        if let ActionKind::Unknown(code) = &event.action {
            return Err(Rejection::new(
                Rule::Role,
                format!("县局服务器不认识办理动作「{code}」；请先升级县局服务器"),
            ));
        }
        // A township's own imported history is judged by the role table too: the bureau's
        // decisions (受理, 交办, 办结, 作废 ...) are the bureau's to record, imported or not.
        if !roles_for(&event.action).contains(&Role::Township) {
            return Err(Rejection::new(
                Rule::Role,
                format!("「{}」只能由县局办理", event.action.label()),
            ));
        }
    }
    if event.action == ActionKind::LiftRestriction
        && event.text.as_deref().is_none_or(|t| t.trim().is_empty())
    {
        return Err(Rejection::new(Rule::Restriction, "解除保密须写明理由"));
    }
    if event.action == ActionKind::SuperviseReport
        && (event.refers.is_none() || event.text.as_deref().is_none_or(|t| t.trim().is_empty()))
    {
        return Err(Rejection::new(Rule::Structure, "督办反馈须写明所反馈的督办单和办理情况"));
    }
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
    if event.action == ActionKind::ReportUp && (blank(&event.target) || blank(&event.text)) {
        return Err(Rejection::new(Rule::Structure, "紧急上报须写明上报对象和上报内容"));
    }
    Ok(())
}

fn identity_rules(
    input: &Input<'_>,
    doc: &Automerge,
    next: &Automerge,
    change: &Change,
    at: &[ChangeHash],
    creating: bool,
) -> Verdict<()> {
    let caller = &input.caller;
    let after = schema::read_identity_at(next, at).map_err(|e| schema_err(&e))?;
    schema::read_identity(next).map_err(|e| schema_err(&e))?;
    if after.case_id.0 != input.doc_id {
        return Err(Rejection::new(Rule::Schema, "身份文档中的案件标识与所报的不符"));
    }
    let Some(case_doc) = input.case_doc else {
        return Err(Rejection::new(Rule::Scope, "案件本身尚未同步到县局，不能先上传身份信息"));
    };
    let read;
    let case = match input.known.case_doc {
        Some(known) => known,
        None => {
            read = schema::read_case(case_doc).map_err(|e| schema_err(&e))?;
            &read
        }
    };
    if !caller.is_bureau() {
        let ours = case.jurisdiction.as_ref().is_some_and(|t| caller.townships.contains(t))
            || case.registered_by == caller.office;
        if !ours {
            return Err(Rejection::new(Rule::Scope, "该案件不属于本单位管辖，不能修改信访人信息"));
        }
    }
    if creating {
        if case.registered_by != caller.office && !caller.is_bureau() {
            return Err(Rejection::new(Rule::Authorship, "只有登记该案件的单位可以建立其身份文档"));
        }
    } else {
        let before: Identity =
            schema::read_identity_at(doc, change.deps()).map_err(|e| schema_err(&e))?;
        for p in &before.persons {
            if !after.persons.contains(p) {
                return Err(Rejection::new(Rule::AppendOnly, "已有的信访人身份信息不能修改或删除"));
            }
        }
    }
    Ok(())
}

fn roster_rules(
    input: &Input<'_>,
    doc: &Automerge,
    next: &Automerge,
    change: &Change,
    at: &[ChangeHash],
) -> Verdict<()> {
    if doc.get_heads().is_empty() {
        return Err(Rejection::new(Rule::Role, "人员名单由县局服务器建立，办公室不能新建"));
    }
    let before = schema::read_roster_at(doc, change.deps()).map_err(|e| schema_err(&e))?;
    if before.office != input.caller.office {
        return Err(Rejection::new(Rule::Scope, "只能修改本单位的人员名单"));
    }
    let after = schema::read_roster_at(next, at).map_err(|e| schema_err(&e))?;
    schema::read_roster(next).map_err(|e| schema_err(&e))?;
    for s in &after.staff {
        if !date_in_bounds(s.added) || s.left.is_some_and(|d| !date_in_bounds(d)) {
            return Err(Rejection::new(Rule::Structure, "人员名单中的日期超出范围"));
        }
    }
    Ok(())
}

/// The county's rules: only the bureau adds entries (checked before the scan); each new entry
/// parses for its item and does not reach into the past ([`rules::check_entry`]), and the whole
/// document still applies to the built-in rules without skipping it.
fn rules_rules(doc: &Automerge, next: &Automerge) -> Verdict<()> {
    if doc.get_heads().is_empty() {
        return Err(Rejection::new(
            Rule::AppendOnly,
            "全县规则文档由县局服务器建立，办公室不能新建",
        ));
    }
    let before = schema::read_rules(doc).map_err(|e| schema_err(&e))?;
    let after = schema::read_rules(next).map_err(|e| schema_err(&e))?;
    let held: BTreeSet<&str> = before.entries.iter().map(|e| e.id.as_str()).collect();
    let new: Vec<&rules::RuleEntry> =
        after.entries.iter().filter(|e| !held.contains(e.id.as_str())).collect();
    for e in &new {
        if !date_in_bounds(e.from) || !(MIN_TIME_MS..MAX_TIME_MS).contains(&e.recorded_at) {
            return Err(Rejection::new(Rule::Structure, "规则变更的日期超出范围"));
        }
        // The day the entry was recorded, by the office's clock (the one its own check used;
        // the bureau is trusted, and this guards against mistakes, not malice).
        let today = crate::model::china_date(e.recorded_at);
        rules::check_entry(e, today).map_err(|reason| Rejection::new(Rule::Schema, reason))?;
    }
    let (_, skipped) = rules::Rules::builtin().with_doc(&after);
    if let Some(s) = skipped.iter().find(|s| new.iter().any(|e| e.id == s.id)) {
        return Err(Rejection::new(Rule::Schema, s.reason.clone()));
    }
    Ok(())
}

/// A work record: only its own office writes it, each new entry names that office and a
/// 办理人 on its roster, is one its kind takes ([`work::check_entry`]), is a 建立 only in the
/// change that makes the record, and names as its `target` only an item of the record.
fn work_rules(
    input: &Input<'_>,
    doc: &Automerge,
    next: &Automerge,
    change: &Change,
    at: &[ChangeHash],
    creating: bool,
) -> Verdict<()> {
    let caller = &input.caller;
    let before = if creating {
        None
    } else {
        Some(schema::read_work_at(doc, change.deps()).map_err(|e| schema_err(&e))?)
    };
    let after = schema::read_work_at(next, at).map_err(|e| schema_err(&e))?;
    let whole = schema::read_work(next).map_err(|e| schema_err(&e))?;
    if whole.entries.len() > work::MAX_ENTRIES {
        return Err(Rejection::new(
            Rule::Size,
            format!("一份工作记录最多 {} 条记录，已满；请另建一份", work::MAX_ENTRIES),
        ));
    }
    if !creating {
        // Every entry the hub holds reads the same after the change, whatever the change says
        // it had seen (a change beside a concurrent one could otherwise make a map under a
        // held entry's key and win the conflict). Entry ids are random UUIDs: no honest change
        // makes one twice.
        let held = schema::read_work(doc).map_err(|e| schema_err(&e))?;
        if held.entries.iter().any(|e| !whole.entries.contains(e)) {
            return Err(Rejection::new(Rule::AppendOnly, "工作记录中已有的条目不能修改或删除"));
        }
    }
    if after.office != caller.office {
        return Err(Rejection::new(
            Rule::Scope,
            format!("只能修改本单位的工作记录；该记录属于 {}", after.office),
        ));
    }
    if after.import_key.as_ref().is_some_and(|k| k.len() > 64) {
        return Err(Rejection::new(Rule::Structure, "工作记录的导入标记过长"));
    }
    if creating && after.id != input.doc_id {
        return Err(Rejection::new(Rule::Structure, "工作记录的标识与文档标识不符"));
    }
    if !after.kind.is_known() && !caller.is_bureau() {
        return Err(Rejection::new(
            Rule::Role,
            format!(
                "县局服务器不认识工作记录种类「{}」；乡镇国土所须等县局服务器升级后才能写入它",
                after.kind.code()
            ),
        ));
    }
    let roster_signs = |name: &str, time: i64| -> Verdict<()> {
        let Some(roster) = input.roster else {
            return Err(Rejection::new(
                Rule::Authorship,
                "县局没有本单位的人员名单，无法核对办理人",
            ));
        };
        if roster.may_sign(name, crate::model::china_date(time)) {
            Ok(())
        } else {
            Err(Rejection::new(Rule::Authorship, format!("办理人「{name}」不在本单位的人员名单上")))
        }
    };
    if creating {
        if !(MIN_TIME_MS..MAX_TIME_MS).contains(&after.created_at) {
            return Err(Rejection::new(Rule::Structure, "工作记录的建立时间超出范围"));
        }
        roster_signs(&after.created_by, after.created_at)?;
    }
    let held: BTreeSet<&str> =
        before.iter().flat_map(|b| b.entries.iter().map(|e| e.id.as_str())).collect();
    let items: BTreeSet<&str> = after
        .entries
        .iter()
        .filter(|e| e.op == work::EntryOp::Item)
        .map(|e| e.id.as_str())
        .collect();
    // What the author saw: nothing is added to a record it saw voided, nothing aims at an
    // item it saw voided, and a list it saw filed is not filed again (a concurrent edit it could
    // not see is the replay's to order).
    let saw = before.as_ref().map(work::WorkRecord::state);
    let mut opened = false;
    let seen = before.as_ref().map_or(0, |b| b.next_lamport() - 1);
    let added = after.entries.iter().filter(|e| !held.contains(e.id.as_str())).count() as u64;
    let bound = seen.saturating_add(added).saturating_add(input.limits.lamport_slack);
    for e in after.entries.iter().filter(|e| !held.contains(e.id.as_str())) {
        if Uuid::parse_str(&e.id).is_err() {
            return Err(Rejection::new(Rule::Structure, "工作记录条目的标识无效"));
        }
        if let Some(target) = &e.target
            && after.entries.iter().any(|t| t.id == *target && t.lamport >= e.lamport)
        {
            return Err(Rejection::new(Rule::Schema, "工作记录条目须排在它所更正或作废的条目之后"));
        }
        if e.lamport <= seen || e.lamport > bound {
            return Err(Rejection::new(
                Rule::Authorship,
                format!("工作记录条目的顺序号 {} 不接续作者已见的记录（{seen}）", e.lamport),
            ));
        }
        if e.office != caller.office {
            return Err(Rejection::new(
                Rule::Authorship,
                format!("工作记录条目的单位应为本单位 {}", caller.office),
            ));
        }
        if !(MIN_TIME_MS..MAX_TIME_MS).contains(&e.at) {
            return Err(Rejection::new(Rule::Structure, "工作记录条目的时间超出范围"));
        }
        roster_signs(&e.by, e.at)?;
        if e.op == work::EntryOp::Open {
            if !creating || opened {
                return Err(Rejection::new(
                    Rule::AppendOnly,
                    "「建立」只能在新建工作记录时写一次；修改请用「更正」",
                ));
            }
            opened = true;
        }
        if e.target.as_deref().is_some_and(|t| !items.contains(t)) {
            return Err(Rejection::new(Rule::Schema, "工作记录条目指向的条目不存在"));
        }
        if let Some(saw) = &saw {
            if saw.voided.is_some() {
                return Err(Rejection::new(Rule::Schema, "该工作记录已作废，不能再添加或更正"));
            }
            let voided_item = |t: &str| saw.items.iter().any(|i| i.id == t && i.voided.is_some());
            if e.target.as_deref().is_some_and(voided_item) {
                return Err(Rejection::new(Rule::Schema, "所指的条目已作废，不能再更正或作废"));
            }
            if e.op == work::EntryOp::File && saw.filed.is_some() {
                return Err(Rejection::new(Rule::Schema, "该排查表已报送，不能重复报送"));
            }
        }
        if after.kind.is_known() {
            work::check_entry(&after.kind, e)
                .map_err(|r| Rejection::new(Rule::Schema, r.to_string()))?;
        }
    }
    if creating && !opened {
        return Err(Rejection::new(Rule::Schema, "新工作记录缺少「建立」条目"));
    }
    Ok(())
}

mod precheck;
#[cfg(test)]
mod tests;
