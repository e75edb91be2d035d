//! How a case and its identity live in Automerge: one case document and one identity document
//! per case, each with a `schema_version`.
//!
//! Layout of a case document (keys are stable; codes, never labels, are stored):
//!
//! ```text
//! { schema_version, kind: "case", id, number, official_number?, registered_by,
//!   purpose, sector, category, jurisdiction?, subject, request, village, confidential,
//!   identity_released?, demo?,
//!   petitioners: [ { id, kind, display_name } ],
//!   submissions: { <id>: { channel, source, received, batches, persons, ... } },
//!   events:      { <event_id>: { lamport, action, actor, office, role, handler, at, date, ... } },
//!   attachments: { <blake3>: { name, size, mime, added_at, added_by } },
//!   reply_draft: Text, investigation_report: Text }
//! ```
//!
//! An identity document is `{ schema_version, kind: "identity", case_id, persons: { <id>: {...} } }`.
//! A roster document (an office's staff) is
//! `{ schema_version, kind: "roster", office, staff: { <name>: { added, left? } } }`; the hub
//! creates it and the office's devices add to it. The county's rules document is
//! `{ schema_version, kind: "rules", entries: { <uuid>: { item, value, from, recorded_at,
//! handler, note? } } }` (see [`crate::rules`]); the hub creates it and only the bureau adds.
//! A work record (政策咨询, 宣传与培训, 矛盾纠纷排查: [`crate::work`]) is
//! `{ schema_version, kind: "work", id, record_kind, office, created_by, created_at, log: {...} }`
//! (see [`write_work`]).
//!
//! Every container is created when the document is created ([`write_case`], [`write_identity`]),
//! never lazily, because two offices creating the same container concurrently would each get
//! their own and one would hide the other. After creation every write is a targeted put of one
//! key ([`put_field`], [`add_event`], ...): nothing ever reconciles a whole struct, so keys and
//! values written by a newer version survive an edit by this one. Drafts are Automerge text;
//! every other string is a scalar (text costs about 30 times the operations). The issued reply
//! is frozen into the 答复 event's `text` as one scalar, so two issued replies show as a
//! conflict, never as interleaved characters.

use automerge::transaction::Transactable;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use automerge::{ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use chrono::NaiveDate;

use crate::coded_enum;
use crate::model::{
    AttachmentRef, Case, CaseId, Event, Identity, Person, PetitionerRef, Roster, SCHEMA_VERSION,
    StaffEntry, Submission, restrictive_purpose,
};
use crate::rules::{RuleEntry, RulesDoc};
use crate::terms::{
    Category, Channel, CloseReason, DocumentKind, FollowUpMethod, HandlingTrack, IdType, Outcome,
    PetitionerKind, Purpose, ReviewOutcome, Role, Satisfaction, Sector, Source,
};
use crate::workflow::ActionKind;

/// Why a document could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Automerge itself failed.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// A required key is absent.
    #[error("document lacks `{0}`")]
    Missing(String),
    /// A key holds the wrong kind of value.
    #[error("`{path}` should be {expected}")]
    Type {
        /// Where.
        path: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A value does not parse.
    #[error("`{path}` holds an invalid value {value:?}")]
    Value {
        /// Where.
        path: String,
        /// The value.
        value: String,
    },
    /// The document is not of the expected kind.
    #[error("document is a {found:?}, not a {expected}")]
    Kind {
        /// What was expected.
        expected: &'static str,
        /// What the `kind` key says.
        found: Option<String>,
    },
}

type Result<T> = std::result::Result<T, SchemaError>;

coded_enum! {
    /// 案件字段: a scalar field of the case that can be edited after registration. Concurrent
    /// edits keep every value (Automerge `get_all`) for review.
    pub enum CaseField {
        /// 信访目的.
        Purpose = ("purpose", "信访目的"),
        /// 涉及领域.
        Sector = ("sector", "涉及领域"),
        /// 问题类别.
        Category = ("category", "问题类别"),
        /// 所属乡镇: bureau only after registration (assign and reassign).
        Jurisdiction = ("jurisdiction", "所属乡镇"),
        /// 被反映对象.
        Subject = ("subject", "被反映对象"),
        /// 诉求内容.
        Request = ("request", "诉求内容"),
        /// 问题属地.
        Village = ("village", "问题属地"),
        /// 是否保密.
        Confidential = ("confidential", "是否保密"),
        /// 正式编号: bureau only.
        OfficialNumber = ("official_number", "正式编号"),
    }
}

impl CaseField {
    /// Fields a township may set at registration but only the bureau may change afterwards.
    pub fn bureau_only(&self) -> bool {
        matches!(self, Self::Jurisdiction | Self::OfficialNumber)
    }
}

/// How setting a field changes the protection of a case's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestrictionEffect {
    /// It makes the case 检举控告 or confidential.
    Tightens,
    /// It takes away a 检举控告 purpose or a confidentiality flag: a township may never do
    /// this, and the bureau only once the restriction is lifted (解除保密).
    Loosens,
    /// It does not touch the restriction.
    Neutral,
}

/// What setting `field` to `value` would do to `case`'s identity restriction.
pub fn restriction_effect(case: &Case, field: &CaseField, value: &FieldValue) -> RestrictionEffect {
    let (old, new) = match (field, value) {
        (CaseField::Purpose, FieldValue::Text(code)) => {
            (restrictive_purpose(&case.purpose), restrictive_purpose(&Purpose::from_code(code)))
        }
        (CaseField::Purpose, _) => (restrictive_purpose(&case.purpose), false),
        (CaseField::Confidential, FieldValue::Flag(flag)) => (case.confidential, *flag),
        (CaseField::Confidential, _) => (case.confidential, false),
        _ => return RestrictionEffect::Neutral,
    };
    match (old, new) {
        (false, true) => RestrictionEffect::Tightens,
        (true, false) => RestrictionEffect::Loosens,
        _ => RestrictionEffect::Neutral,
    }
}

/// A new value for a [`CaseField`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// A string (codes for the coded fields).
    Text(String),
    /// A flag.
    Flag(bool),
    /// No value (the key is deleted).
    Absent,
}

/// Concurrent values of one field, as Automerge kept them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldConflict {
    /// The field.
    pub field: CaseField,
    /// Every value, the current winner first, as text.
    pub values: Vec<String>,
}

/// Which draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draft {
    /// 答复草稿.
    Reply,
    /// 调查报告.
    Investigation,
}

impl Draft {
    fn key(self) -> &'static str {
        match self {
            Self::Reply => "reply_draft",
            Self::Investigation => "investigation_report",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

// The keys each kind of record holds, exactly as the writers below write them. The hub refuses
// any other key in a record a township creates (`validate::OpScan::check`: fail closed, so a
// township cannot smuggle unknown or future fields past a hub that cannot judge them); the
// test `writers_write_exactly_the_listed_keys` keeps these lists and the writers in step, so a
// key added to a writer without its list fails the build's tests rather than every township's
// sync. None of these records holds a nested object.

/// The keys of an event ([`add_event`]).
pub const EVENT_KEYS: &[&str] = &[
    "lamport",
    "action",
    "actor",
    "office",
    "role",
    "handler",
    "at",
    "date",
    "imported",
    "target",
    "due",
    "text",
    "satisfaction",
    "close_reason",
    "outcome",
    "review_outcome",
    "track",
    "document_kind",
    "document_number",
    "field",
    "refers",
    "method",
    "unreachable",
];

/// The keys of a submission ([`add_submission`]).
pub const SUBMISSION_KEYS: &[&str] = &[
    "channel",
    "source",
    "received",
    "batches",
    "persons",
    "collective",
    "skip_level",
    "repeat",
    "anonymous",
    "confidential",
    "petitioners",
    "summary",
    "registered_by",
    "fingerprint",
    "referred_by",
    "referral_number",
    "platform_number",
    "representatives",
    "urgent",
    "threat",
    "litigation",
];

/// The keys of a petitioner reference ([`add_petitioner`]).
pub const PETITIONER_KEYS: &[&str] = &["id", "kind", "display_name"];

/// The keys of an attachment reference ([`add_attachment`]).
pub const ATTACHMENT_KEYS: &[&str] = &["name", "size", "mime", "added_at", "added_by"];

/// The keys of a person in an identity document ([`put_person`]).
pub const PERSON_KEYS: &[&str] = &["name", "id_type", "id_number", "phone", "address"];

/// The keys of a roster entry ([`add_staff`], [`staff_left`]).
pub const STAFF_KEYS: &[&str] = &["added", "left"];

/// The keys of a rules entry ([`add_rule_entry`]).
pub const RULE_ENTRY_KEYS: &[&str] = &["item", "value", "from", "recorded_at", "handler", "note"];

/// The keys a record in the root container `container` may hold. Empty for a container this
/// version does not know, so whoever asks about one fails closed.
pub fn record_keys(container: &str) -> &'static [&'static str] {
    match container {
        "events" => EVENT_KEYS,
        "submissions" => SUBMISSION_KEYS,
        "petitioners" => PETITIONER_KEYS,
        "attachments" => ATTACHMENT_KEYS,
        "persons" => PERSON_KEYS,
        "staff" => STAFF_KEYS,
        "entries" => RULE_ENTRY_KEYS,
        WORK_LOG => work_entry_keys(),
        _ => &[],
    }
}

fn put_opt_str(tx: &mut impl Transactable, obj: &ObjId, key: &str, v: Option<&str>) -> Result<()> {
    if let Some(v) = v {
        tx.put(obj, key, v)?;
    }
    Ok(())
}

fn put_date(tx: &mut impl Transactable, obj: &ObjId, key: &str, d: NaiveDate) -> Result<()> {
    tx.put(obj, key, d.format("%Y-%m-%d").to_string())?;
    Ok(())
}

/// Writes a whole new case into an empty document, creating every container. Only for
/// registration (or import): afterwards use the targeted writes.
pub fn write_case(tx: &mut impl Transactable, case: &Case) -> Result<()> {
    tx.put(ROOT, "schema_version", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "case")?;
    tx.put(ROOT, "id", case.id.to_string())?;
    tx.put(ROOT, "number", case.number.as_str())?;
    put_opt_str(tx, &ROOT, "official_number", case.official_number.as_deref())?;
    tx.put(ROOT, "registered_by", case.registered_by.as_str())?;
    tx.put(ROOT, "purpose", case.purpose.code())?;
    tx.put(ROOT, "sector", case.sector.code())?;
    tx.put(ROOT, "category", case.category.code())?;
    put_opt_str(tx, &ROOT, "jurisdiction", case.jurisdiction.as_deref())?;
    tx.put(ROOT, "subject", case.subject.as_str())?;
    tx.put(ROOT, "request", case.request.as_str())?;
    tx.put(ROOT, "village", case.village.as_str())?;
    tx.put(ROOT, "confidential", case.confidential)?;
    // Only demo cases carry the key: a real case's document has no trace of the feature.
    if case.demo {
        tx.put(ROOT, "demo", true)?;
    }
    tx.put_object(ROOT, "petitioners", ObjType::List)?;
    tx.put_object(ROOT, "submissions", ObjType::Map)?;
    tx.put_object(ROOT, "events", ObjType::Map)?;
    tx.put_object(ROOT, "attachments", ObjType::Map)?;
    let reply = tx.put_object(ROOT, "reply_draft", ObjType::Text)?;
    tx.splice_text(&reply, 0, 0, &case.reply_draft)?;
    let report = tx.put_object(ROOT, "investigation_report", ObjType::Text)?;
    tx.splice_text(&report, 0, 0, &case.investigation_report)?;
    for p in &case.petitioners {
        add_petitioner(tx, p)?;
    }
    for s in &case.submissions {
        add_submission(tx, s)?;
    }
    for e in &case.events {
        add_event(tx, e)?;
    }
    for a in &case.attachments {
        add_attachment(tx, a)?;
    }
    Ok(())
}

fn container(tx: &impl ReadDoc, key: &str) -> Result<ObjId> {
    match tx.get(ROOT, key)? {
        Some((Value::Object(_), id)) => Ok(id),
        Some(_) => Err(SchemaError::Type { path: key.to_owned(), expected: "an object" }),
        None => Err(SchemaError::Missing(key.to_owned())),
    }
}

/// Sets one field (a targeted put; nothing else is touched).
pub fn put_field(tx: &mut impl Transactable, field: &CaseField, value: FieldValue) -> Result<()> {
    let key = field.code();
    match value {
        FieldValue::Text(s) => tx.put(ROOT, key, s)?,
        FieldValue::Flag(b) => tx.put(ROOT, key, b)?,
        FieldValue::Absent => tx.delete(ROOT, key)?,
    }
    Ok(())
}

/// The root key of the bureau's 解除保密 flag.
pub const IDENTITY_RELEASED: &str = "identity_released";

/// Sets the 解除保密 flag: `true` only by the bureau, with its 解除保密 event in the same change;
/// `false` by any office that tightens the restriction again.
pub fn put_identity_released(tx: &mut impl Transactable, released: bool) -> Result<()> {
    tx.put(ROOT, IDENTITY_RELEASED, released)?;
    Ok(())
}

/// Appends a petitioner reference.
pub fn add_petitioner(tx: &mut impl Transactable, p: &PetitionerRef) -> Result<()> {
    let list = container(tx, "petitioners")?;
    let at = tx.length(&list);
    let obj = tx.insert_object(&list, at, ObjType::Map)?;
    tx.put(&obj, "id", p.id.as_str())?;
    tx.put(&obj, "kind", p.kind.code())?;
    tx.put(&obj, "display_name", p.display_name.as_str())?;
    Ok(())
}

/// Adds a submission (a repeat letter or visit is a new submission on the same case).
pub fn add_submission(tx: &mut impl Transactable, s: &Submission) -> Result<()> {
    let map = container(tx, "submissions")?;
    let obj = tx.put_object(&map, s.id.as_str(), ObjType::Map)?;
    tx.put(&obj, "channel", s.channel.code())?;
    tx.put(&obj, "source", s.source.code())?;
    put_date(tx, &obj, "received", s.received)?;
    tx.put(&obj, "batches", u64::from(s.batches))?;
    tx.put(&obj, "persons", u64::from(s.persons))?;
    tx.put(&obj, "collective", s.collective)?;
    tx.put(&obj, "skip_level", s.skip_level)?;
    tx.put(&obj, "repeat", s.repeat)?;
    tx.put(&obj, "anonymous", s.anonymous)?;
    tx.put(&obj, "confidential", s.confidential)?;
    tx.put(&obj, "petitioners", s.petitioners.join("\n"))?;
    tx.put(&obj, "summary", s.summary.as_str())?;
    tx.put(&obj, "registered_by", s.registered_by.as_str())?;
    put_opt_str(tx, &obj, "fingerprint", s.fingerprint.as_deref())?;
    put_opt_str(tx, &obj, "referred_by", s.referred_by.as_deref())?;
    put_opt_str(tx, &obj, "referral_number", s.referral_number.as_deref())?;
    // Written only when set: a submission without them reads the same to a version that
    // does not know these keys, and its hub takes it.
    put_opt_str(tx, &obj, "platform_number", s.platform_number.as_deref())?;
    if !s.representatives.is_empty() {
        tx.put(&obj, "representatives", s.representatives.join("\n"))?;
    }
    for (key, set) in [("urgent", s.urgent), ("threat", s.threat), ("litigation", s.litigation)] {
        if set {
            tx.put(&obj, key, true)?;
        }
    }
    Ok(())
}

/// Appends an event to the log.
pub fn add_event(tx: &mut impl Transactable, e: &Event) -> Result<()> {
    let map = container(tx, "events")?;
    let obj = tx.put_object(&map, e.id.as_str(), ObjType::Map)?;
    tx.put(&obj, "lamport", e.lamport)?;
    tx.put(&obj, "action", e.action.code())?;
    tx.put(&obj, "actor", e.actor.as_str())?;
    tx.put(&obj, "office", e.office.as_str())?;
    tx.put(&obj, "role", e.role.code())?;
    tx.put(&obj, "handler", e.handler.as_str())?;
    tx.put(&obj, "at", ScalarValue::Timestamp(e.at))?;
    put_date(tx, &obj, "date", e.date)?;
    if e.imported {
        tx.put(&obj, "imported", true)?;
    }
    put_opt_str(tx, &obj, "target", e.target.as_deref())?;
    if let Some(due) = e.due {
        put_date(tx, &obj, "due", due)?;
    }
    put_opt_str(tx, &obj, "text", e.text.as_deref())?;
    put_opt_str(tx, &obj, "satisfaction", e.satisfaction.as_ref().map(|v| v.code()))?;
    put_opt_str(tx, &obj, "close_reason", e.close_reason.as_ref().map(|v| v.code()))?;
    put_opt_str(tx, &obj, "outcome", e.outcome.as_ref().map(|v| v.code()))?;
    put_opt_str(tx, &obj, "review_outcome", e.review_outcome.as_ref().map(|v| v.code()))?;
    put_opt_str(tx, &obj, "track", e.track.as_ref().map(|v| v.code()))?;
    put_opt_str(tx, &obj, "document_kind", e.document_kind.as_ref().map(|v| v.code()))?;
    put_opt_str(tx, &obj, "document_number", e.document_number.as_deref())?;
    put_opt_str(tx, &obj, "field", e.field.as_deref())?;
    put_opt_str(tx, &obj, "refers", e.refers.as_deref())?;
    put_opt_str(tx, &obj, "method", e.method.as_ref().map(|v| v.code()))?;
    if e.unreachable {
        tx.put(&obj, "unreachable", true)?;
    }
    Ok(())
}

/// Records an attachment reference.
pub fn add_attachment(tx: &mut impl Transactable, a: &AttachmentRef) -> Result<()> {
    let map = container(tx, "attachments")?;
    let obj = tx.put_object(&map, a.hash.as_str(), ObjType::Map)?;
    tx.put(&obj, "name", a.name.as_str())?;
    tx.put(&obj, "size", a.size)?;
    tx.put(&obj, "mime", a.mime.as_str())?;
    tx.put(&obj, "added_at", ScalarValue::Timestamp(a.added_at))?;
    tx.put(&obj, "added_by", a.added_by.as_str())?;
    Ok(())
}

/// Replaces a draft's text with `text`, as a character diff (concurrent drafting merges).
pub fn set_draft(tx: &mut impl Transactable, draft: Draft, text: &str) -> Result<()> {
    let obj = container(tx, draft.key())?;
    tx.update_text(&obj, text)?;
    Ok(())
}

/// Writes a new identity document, creating every container.
pub fn write_identity(tx: &mut impl Transactable, identity: &Identity) -> Result<()> {
    tx.put(ROOT, "schema_version", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "identity")?;
    tx.put(ROOT, "case_id", identity.case_id.to_string())?;
    tx.put_object(ROOT, "persons", ObjType::Map)?;
    for p in &identity.persons {
        put_person(tx, p)?;
    }
    Ok(())
}

/// Adds or updates one person (every key is a targeted put).
pub fn put_person(tx: &mut impl Transactable, p: &Person) -> Result<()> {
    let map = container(tx, "persons")?;
    let obj = match tx.get(&map, p.id.as_str())? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(&map, p.id.as_str(), ObjType::Map)?,
    };
    tx.put(&obj, "name", p.name.as_str())?;
    tx.put(&obj, "id_type", p.id_type.code())?;
    tx.put(&obj, "id_number", p.id_number.as_str())?;
    tx.put(&obj, "phone", p.phone.as_str())?;
    tx.put(&obj, "address", p.address.as_str())?;
    Ok(())
}

/// Writes a new, empty roster document for `office` (the hub does this once per office).
pub fn write_roster(tx: &mut impl Transactable, office: &str) -> Result<()> {
    tx.put(ROOT, "schema_version", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "roster")?;
    tx.put(ROOT, "office", office)?;
    tx.put_object(ROOT, "staff", ObjType::Map)?;
    Ok(())
}

/// Adds a member to a roster, or brings back one who had left.
pub fn add_staff(tx: &mut impl Transactable, name: &str, added: NaiveDate) -> Result<()> {
    let map = container(tx, "staff")?;
    match tx.get(&map, name)? {
        Some((Value::Object(ObjType::Map), obj)) => {
            if tx.get(&obj, "left")?.is_some() {
                tx.delete(&obj, "left")?;
            }
        }
        _ => {
            let obj = tx.put_object(&map, name, ObjType::Map)?;
            put_date(tx, &obj, "added", added)?;
        }
    }
    Ok(())
}

/// Records that a member left the office on `left` (the entry stays).
pub fn staff_left(tx: &mut impl Transactable, name: &str, left: NaiveDate) -> Result<()> {
    let map = container(tx, "staff")?;
    if let Some((Value::Object(ObjType::Map), obj)) = tx.get(&map, name)? {
        put_date(tx, &obj, "left", left)?;
    }
    Ok(())
}

/// The rules document's own schema version: fixed, because its creating change must be the
/// same bytes in every build ([`crate::rules::genesis`]); a new layout is a new document.
pub const RULES_SCHEMA_VERSION: u64 = 1;

/// Writes a new, empty rules document (the hub does this once for the county).
pub fn write_rules(tx: &mut impl Transactable) -> Result<()> {
    tx.put(ROOT, "schema_version", RULES_SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "rules")?;
    tx.put_object(ROOT, "entries", ObjType::Map)?;
    Ok(())
}

/// Adds an entry to the rules document.
pub fn add_rule_entry(tx: &mut impl Transactable, e: &RuleEntry) -> Result<()> {
    let map = container(tx, "entries")?;
    let obj = tx.put_object(&map, e.id.as_str(), ObjType::Map)?;
    tx.put(&obj, "item", e.item.as_str())?;
    tx.put(&obj, "value", e.value.as_str())?;
    put_date(tx, &obj, "from", e.from)?;
    tx.put(&obj, "recorded_at", ScalarValue::Timestamp(e.recorded_at))?;
    tx.put(&obj, "handler", e.handler.as_str())?;
    if !e.note.is_empty() {
        tx.put(&obj, "note", e.note.as_str())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads a document now or as it was at some heads (what an office had seen when it wrote a
/// change: the hub judges scope there).
struct Reader<'a, D: ReadDoc> {
    doc: &'a D,
    heads: Option<&'a [ChangeHash]>,
    /// Maps read whole at their first lookup: a record reads nearly every key of each map it
    /// visits, and one pass over a map costs about what one lookup of a key does.
    maps: RefCell<HashMap<ObjId, Rc<MapEntries>>>,
}

/// A map's keys with their values (the winning one where values conflict) and op ids, sorted
/// by key: a record's maps hold a few dozen keys, which a binary search finds without hashing
/// or a table to build.
type MapEntries = Vec<(String, (Value<'static>, ObjId))>;

impl<'a, D: ReadDoc> Reader<'a, D> {
    fn new(doc: &'a D, heads: Option<&'a [ChangeHash]>) -> Self {
        Self { doc, heads, maps: RefCell::new(HashMap::new()) }
    }

    fn get(&self, obj: &ObjId, key: &str) -> Result<Option<(Value<'static>, ObjId)>> {
        if let Some(map) = self.map(obj) {
            let found = map.binary_search_by(|(k, _)| k.as_str().cmp(key));
            return Ok(found.ok().map(|i| map[i].1.clone()));
        }
        Ok(match self.heads {
            Some(h) => self.doc.get_at(obj, key, h)?,
            None => self.doc.get(obj, key)?,
        }
        .map(|(value, id)| (value.into_owned(), id)))
    }

    /// The entries of `obj` if it is a map (`None` for anything else, which `get` asks key by
    /// key, as Automerge answers it).
    fn map(&self, obj: &ObjId) -> Option<Rc<MapEntries>> {
        if let Some(map) = self.maps.borrow().get(obj) {
            return Some(map.clone());
        }
        if !matches!(self.doc.object_type(obj), Ok(ObjType::Map)) {
            return None;
        }
        let items = match self.heads {
            Some(h) => self.doc.map_range_at(obj, .., h),
            None => self.doc.map_range(obj, ..),
        };
        let mut map: MapEntries = items
            .map(|item| {
                let id = item.id();
                (item.key.to_string(), (item.value.into_value(), id))
            })
            .collect();
        // Automerge yields a map's keys in order; sorting what is sorted costs one pass.
        if !map.is_sorted_by(|a, b| a.0 <= b.0) {
            map.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let map = Rc::new(map);
        self.maps.borrow_mut().insert(obj.clone(), map.clone());
        Some(map)
    }

    fn scalar(&self, obj: &ObjId, path: &str, key: &str) -> Result<Option<ScalarValue>> {
        match self.get(obj, key)? {
            None => Ok(None),
            Some((Value::Scalar(s), _)) => Ok(Some(s.into_owned())),
            Some((Value::Object(_), _)) => {
                Err(SchemaError::Type { path: format!("{path}{key}"), expected: "a scalar" })
            }
        }
    }

    fn opt_str(&self, obj: &ObjId, path: &str, key: &str) -> Result<Option<String>> {
        match self.scalar(obj, path, key)? {
            None => Ok(None),
            Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
            Some(_) => {
                Err(SchemaError::Type { path: format!("{path}{key}"), expected: "a string" })
            }
        }
    }

    fn str(&self, obj: &ObjId, path: &str, key: &str) -> Result<String> {
        self.opt_str(obj, path, key)?.ok_or_else(|| SchemaError::Missing(format!("{path}{key}")))
    }

    fn uint(&self, obj: &ObjId, path: &str, key: &str) -> Result<u64> {
        match self.scalar(obj, path, key)? {
            Some(ScalarValue::Uint(n)) => Ok(n),
            Some(ScalarValue::Int(n)) if n >= 0 => Ok(n.unsigned_abs()),
            None => Err(SchemaError::Missing(format!("{path}{key}"))),
            Some(_) => {
                Err(SchemaError::Type { path: format!("{path}{key}"), expected: "a number" })
            }
        }
    }

    fn u32(&self, obj: &ObjId, path: &str, key: &str) -> Result<u32> {
        let n = self.uint(obj, path, key)?;
        u32::try_from(n)
            .map_err(|_| SchemaError::Value { path: format!("{path}{key}"), value: n.to_string() })
    }

    fn flag(&self, obj: &ObjId, path: &str, key: &str) -> Result<bool> {
        match self.scalar(obj, path, key)? {
            Some(ScalarValue::Boolean(b)) => Ok(b),
            None => Ok(false),
            Some(_) => Err(SchemaError::Type { path: format!("{path}{key}"), expected: "a flag" }),
        }
    }

    fn time(&self, obj: &ObjId, path: &str, key: &str) -> Result<i64> {
        match self.scalar(obj, path, key)? {
            Some(ScalarValue::Timestamp(t) | ScalarValue::Int(t)) => Ok(t),
            None => Err(SchemaError::Missing(format!("{path}{key}"))),
            Some(_) => Err(SchemaError::Type { path: format!("{path}{key}"), expected: "a time" }),
        }
    }

    fn opt_date(&self, obj: &ObjId, path: &str, key: &str) -> Result<Option<NaiveDate>> {
        self.opt_str(obj, path, key)?
            .map(|s| {
                NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| SchemaError::Value { path: format!("{path}{key}"), value: s })
            })
            .transpose()
    }

    fn date(&self, obj: &ObjId, path: &str, key: &str) -> Result<NaiveDate> {
        self.opt_date(obj, path, key)?.ok_or_else(|| SchemaError::Missing(format!("{path}{key}")))
    }

    fn object(&self, obj: &ObjId, key: &str) -> Result<Option<ObjId>> {
        match self.get(obj, key)? {
            Some((Value::Object(_), id)) => Ok(Some(id)),
            Some(_) => Err(SchemaError::Type { path: key.to_owned(), expected: "an object" }),
            None => Ok(None),
        }
    }

    /// Every concurrent scalar value of a key.
    fn all(&self, obj: &ObjId, key: &str) -> Result<Vec<ScalarValue>> {
        let values = match self.heads {
            Some(h) => self.doc.get_all_at(obj, key, h)?,
            None => self.doc.get_all(obj, key)?,
        };
        Ok(values
            .into_iter()
            .filter_map(|(v, _)| match v {
                Value::Scalar(s) => Some(s.into_owned()),
                Value::Object(_) => None,
            })
            .collect())
    }

    fn keys(&self, obj: &ObjId) -> Vec<String> {
        match self.heads {
            Some(h) => self.doc.keys_at(obj, h).collect(),
            None => self.doc.keys(obj).collect(),
        }
    }

    fn length(&self, obj: &ObjId) -> usize {
        match self.heads {
            Some(h) => self.doc.length_at(obj, h),
            None => self.doc.length(obj),
        }
    }

    fn text(&self, key: &str) -> Result<String> {
        match self.object(&ROOT, key)? {
            Some(obj) => Ok(match self.heads {
                Some(h) => self.doc.text_at(&obj, h)?,
                None => self.doc.text(&obj)?,
            }),
            None => Ok(String::new()),
        }
    }

    fn kind(&self, expected: &'static str) -> Result<()> {
        let found = self.opt_str(&ROOT, "", "kind")?;
        if found.as_deref() == Some(expected) {
            Ok(())
        } else {
            Err(SchemaError::Kind { expected, found })
        }
    }

    fn case_id(&self, key: &str) -> Result<CaseId> {
        let raw = self.str(&ROOT, "", key)?;
        raw.parse().map_err(|_| SchemaError::Value { path: key.to_owned(), value: raw })
    }
}

/// Reads the case from a case document (now).
pub fn read_case(doc: &impl ReadDoc) -> Result<Case> {
    read_case_impl(&Reader::new(doc, None))
}

/// Reads the case as it was at `heads`.
pub fn read_case_at(doc: &impl ReadDoc, heads: &[ChangeHash]) -> Result<Case> {
    read_case_impl(&Reader::new(doc, Some(heads)))
}

/// Reads only a case's petitioners (who may be named in its identity document).
pub fn read_petitioners(doc: &impl ReadDoc) -> Result<Vec<PetitionerRef>> {
    let r = Reader::new(doc, None);
    r.kind("case")?;
    petitioners(&r)
}

fn petitioners<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Vec<PetitionerRef>> {
    let mut petitioners = Vec::new();
    if let Some(list) = r.object(&ROOT, "petitioners")? {
        for i in 0..r.length(&list) {
            let item = match r.heads {
                Some(h) => r.doc.get_at(&list, i, h)?,
                None => r.doc.get(&list, i)?,
            };
            let Some((Value::Object(ObjType::Map), obj)) = item else {
                return Err(SchemaError::Type {
                    path: format!("petitioners/{i}"),
                    expected: "a map",
                });
            };
            let path = format!("petitioners/{i}/");
            petitioners.push(PetitionerRef {
                id: r.str(&obj, &path, "id")?,
                kind: PetitionerKind::from_code(&r.str(&obj, &path, "kind")?),
                display_name: r.str(&obj, &path, "display_name")?,
            });
        }
    }
    Ok(petitioners)
}

fn read_case_impl<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Case> {
    let mut case = root_fields(r)?;
    case.reply_draft = r.text("reply_draft")?;
    case.investigation_report = r.text("investigation_report")?;
    case.petitioners = petitioners(r)?;
    case.submissions = submissions(r)?;
    case.events = events(r)?;
    case.sort_events();
    case.attachments = attachments(r)?;
    Ok(case)
}

/// The parts of a case document a change touches (see [`reread_case`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseParts {
    /// A field at the root (every scalar of the case).
    pub root: bool,
    /// 信访人: the petitioners list.
    pub petitioners: bool,
    /// 信访件: the submissions.
    pub submissions: bool,
    /// 办理记录: the events.
    pub events: bool,
    /// 附件: the attachments.
    pub attachments: bool,
    /// 答复草稿: the reply draft.
    pub reply_draft: bool,
    /// 调查报告: the investigation report.
    pub investigation_report: bool,
}

impl CaseParts {
    /// Marks the part a root key names: a container, a draft, or else a field of the root.
    pub fn touch(&mut self, key: &str) {
        match key {
            "petitioners" => self.petitioners = true,
            "submissions" => self.submissions = true,
            "events" => self.events = true,
            "attachments" => self.attachments = true,
            "reply_draft" => self.reply_draft = true,
            "investigation_report" => self.investigation_report = true,
            _ => self.root = true,
        }
    }
}

/// Reads a case again after a change that touched only `parts` of its document, `before` being
/// what the document read as just before the change (the change building on every head of it):
/// the parts the change left alone read as they did, so they are taken from `before`. Reads as
/// [`read_case`] does, part for part.
pub fn reread_case(doc: &impl ReadDoc, before: &Case, parts: CaseParts) -> Result<Case> {
    let r = Reader::new(doc, None);
    let mut case = before.clone();
    if parts.root {
        let fresh = root_fields(&r)?;
        case = Case {
            petitioners: std::mem::take(&mut case.petitioners),
            submissions: std::mem::take(&mut case.submissions),
            events: std::mem::take(&mut case.events),
            attachments: std::mem::take(&mut case.attachments),
            reply_draft: std::mem::take(&mut case.reply_draft),
            investigation_report: std::mem::take(&mut case.investigation_report),
            ..fresh
        };
    }
    if parts.reply_draft {
        case.reply_draft = r.text("reply_draft")?;
    }
    if parts.investigation_report {
        case.investigation_report = r.text("investigation_report")?;
    }
    if parts.petitioners {
        case.petitioners = petitioners(&r)?;
    }
    if parts.submissions {
        case.submissions = submissions(&r)?;
    }
    if parts.events {
        case.events = events(&r)?;
        case.sort_events();
    }
    if parts.attachments {
        case.attachments = attachments(&r)?;
    }
    Ok(case)
}

/// The case's root fields, its lists and drafts left empty.
fn root_fields<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Case> {
    r.kind("case")?;
    Ok(Case {
        id: r.case_id("id")?,
        schema_version: r.uint(&ROOT, "", "schema_version")?,
        number: r.str(&ROOT, "", "number")?,
        official_number: r.opt_str(&ROOT, "", "official_number")?,
        registered_by: r.str(&ROOT, "", "registered_by")?,
        purpose: Purpose::from_code(&r.str(&ROOT, "", "purpose")?),
        sector: Sector::from_code(&r.str(&ROOT, "", "sector")?),
        category: Category::from_code(&r.str(&ROOT, "", "category")?),
        jurisdiction: r.opt_str(&ROOT, "", "jurisdiction")?,
        subject: r.opt_str(&ROOT, "", "subject")?.unwrap_or_default(),
        request: r.opt_str(&ROOT, "", "request")?.unwrap_or_default(),
        village: r.opt_str(&ROOT, "", "village")?.unwrap_or_default(),
        confidential: r.flag(&ROOT, "", "confidential")?,
        identity_released: released(r)?,
        restrictive_values: restrictive_values(r)?,
        demo: r.flag(&ROOT, "", "demo")?,
        petitioners: Vec::new(),
        submissions: Vec::new(),
        events: Vec::new(),
        attachments: Vec::new(),
        reply_draft: String::new(),
        investigation_report: String::new(),
    })
}

fn submissions<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Vec<Submission>> {
    let mut submissions = Vec::new();
    if let Some(map) = r.object(&ROOT, "submissions")? {
        for id in r.keys(&map) {
            let Some(obj) = r.object(&map, &id)? else { continue };
            submissions.push(read_submission(r, &obj, id)?);
        }
        submissions.sort_by(|a, b| (a.received, &a.id).cmp(&(b.received, &b.id)));
    }
    Ok(submissions)
}

/// The events, in no particular order ([`Case::sort_events`] orders them).
fn events<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    if let Some(map) = r.object(&ROOT, "events")? {
        for id in r.keys(&map) {
            let Some(obj) = r.object(&map, &id)? else { continue };
            events.push(read_event(r, &obj, id)?);
        }
    }
    Ok(events)
}

fn attachments<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Vec<AttachmentRef>> {
    let mut attachments = Vec::new();
    if let Some(map) = r.object(&ROOT, "attachments")? {
        for hash in r.keys(&map) {
            let Some(obj) = r.object(&map, &hash)? else { continue };
            let path = format!("attachments/{hash}/");
            attachments.push(AttachmentRef {
                name: r.str(&obj, &path, "name")?,
                size: r.uint(&obj, &path, "size")?,
                mime: r.opt_str(&obj, &path, "mime")?.unwrap_or_default(),
                added_at: r.time(&obj, &path, "added_at")?,
                added_by: r.str(&obj, &path, "added_by")?,
                hash,
            });
        }
        attachments.sort_by(|a, b| (a.added_at, &a.hash).cmp(&(b.added_at, &b.hash)));
    }
    Ok(attachments)
}

/// 解除保密 holds only when every concurrent value of the flag says so.
fn released<D: ReadDoc>(r: &Reader<'_, D>) -> Result<bool> {
    let values = r.all(&ROOT, IDENTITY_RELEASED)?;
    Ok(!values.is_empty() && values.iter().all(|v| matches!(v, ScalarValue::Boolean(true))))
}

/// Whether a losing concurrent value of 信访目的 or 是否保密 restricts the identity (the
/// winning values are the case's own fields). Automerge lists the winner last.
fn restrictive_values<D: ReadDoc>(r: &Reader<'_, D>) -> Result<bool> {
    let losers = |key: &str| -> Result<Vec<ScalarValue>> {
        let mut all = r.all(&ROOT, key)?;
        all.pop();
        Ok(all)
    };
    let purpose = losers(CaseField::Purpose.code())?.iter().any(|v| match v {
        ScalarValue::Str(code) => restrictive_purpose(&Purpose::from_code(code)),
        _ => true,
    });
    let confidential = losers(CaseField::Confidential.code())?
        .iter()
        .any(|v| !matches!(v, ScalarValue::Boolean(false)));
    Ok(purpose || confidential)
}

fn read_submission<D: ReadDoc>(r: &Reader<'_, D>, obj: &ObjId, id: String) -> Result<Submission> {
    let path = format!("submissions/{id}/");
    let p = path.as_str();
    let petitioners = r.opt_str(obj, p, "petitioners")?.unwrap_or_default();
    Ok(Submission {
        channel: Channel::from_code(&r.str(obj, p, "channel")?),
        source: Source::from_code(&r.str(obj, p, "source")?),
        received: r.date(obj, p, "received")?,
        batches: r.u32(obj, p, "batches")?,
        persons: r.u32(obj, p, "persons")?,
        collective: r.flag(obj, p, "collective")?,
        skip_level: r.flag(obj, p, "skip_level")?,
        repeat: r.flag(obj, p, "repeat")?,
        anonymous: r.flag(obj, p, "anonymous")?,
        confidential: r.flag(obj, p, "confidential")?,
        petitioners: petitioners.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        summary: r.opt_str(obj, p, "summary")?.unwrap_or_default(),
        registered_by: r.str(obj, p, "registered_by")?,
        fingerprint: r.opt_str(obj, p, "fingerprint")?,
        referred_by: r.opt_str(obj, p, "referred_by")?,
        referral_number: r.opt_str(obj, p, "referral_number")?,
        platform_number: r.opt_str(obj, p, "platform_number")?,
        representatives: r
            .opt_str(obj, p, "representatives")?
            .unwrap_or_default()
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        urgent: r.flag(obj, p, "urgent")?,
        threat: r.flag(obj, p, "threat")?,
        litigation: r.flag(obj, p, "litigation")?,
        id,
    })
}

fn read_event<D: ReadDoc>(r: &Reader<'_, D>, obj: &ObjId, id: String) -> Result<Event> {
    let path = format!("events/{id}/");
    let p = path.as_str();
    let coded = |key: &str| r.opt_str(obj, p, key);
    Ok(Event {
        lamport: r.uint(obj, p, "lamport")?,
        action: ActionKind::from_code(&r.str(obj, p, "action")?),
        actor: r.str(obj, p, "actor")?,
        office: r.str(obj, p, "office")?,
        role: Role::from_code(&r.str(obj, p, "role")?),
        handler: r.opt_str(obj, p, "handler")?.unwrap_or_default(),
        at: r.time(obj, p, "at")?,
        date: r.date(obj, p, "date")?,
        imported: r.flag(obj, p, "imported")?,
        target: r.opt_str(obj, p, "target")?,
        due: r.opt_date(obj, p, "due")?,
        text: r.opt_str(obj, p, "text")?,
        satisfaction: coded("satisfaction")?.map(|c| Satisfaction::from_code(&c)),
        close_reason: coded("close_reason")?.map(|c| CloseReason::from_code(&c)),
        outcome: coded("outcome")?.map(|c| Outcome::from_code(&c)),
        review_outcome: coded("review_outcome")?.map(|c| ReviewOutcome::from_code(&c)),
        track: coded("track")?.map(|c| HandlingTrack::from_code(&c)),
        document_kind: coded("document_kind")?.map(|c| DocumentKind::from_code(&c)),
        document_number: r.opt_str(obj, p, "document_number")?,
        field: r.opt_str(obj, p, "field")?,
        refers: r.opt_str(obj, p, "refers")?,
        method: coded("method")?.map(|c| FollowUpMethod::from_code(&c)),
        unreachable: r.flag(obj, p, "unreachable")?,
        id,
    })
}

/// Reads the identity from an identity document.
pub fn read_identity(doc: &impl ReadDoc) -> Result<Identity> {
    read_identity_impl(&Reader::new(doc, None))
}

fn read_identity_impl<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Identity> {
    r.kind("identity")?;
    let mut identity = Identity {
        case_id: r.case_id("case_id")?,
        schema_version: r.uint(&ROOT, "", "schema_version")?,
        persons: Vec::new(),
    };
    if let Some(map) = r.object(&ROOT, "persons")? {
        for id in r.keys(&map) {
            let Some(obj) = r.object(&map, &id)? else { continue };
            let path = format!("persons/{id}/");
            let p = path.as_str();
            identity.persons.push(Person {
                name: r.str(&obj, p, "name")?,
                id_type: IdType::from_code(&r.str(&obj, p, "id_type")?),
                id_number: r.opt_str(&obj, p, "id_number")?.unwrap_or_default(),
                phone: r.opt_str(&obj, p, "phone")?.unwrap_or_default(),
                address: r.opt_str(&obj, p, "address")?.unwrap_or_default(),
                id,
            });
        }
    }
    identity.persons.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(identity)
}

/// Reads a roster document.
pub fn read_roster(doc: &impl ReadDoc) -> Result<Roster> {
    read_roster_impl(&Reader::new(doc, None))
}

fn read_roster_impl<D: ReadDoc>(r: &Reader<'_, D>) -> Result<Roster> {
    r.kind("roster")?;
    let mut roster = Roster { office: r.str(&ROOT, "", "office")?, staff: Vec::new() };
    if let Some(map) = r.object(&ROOT, "staff")? {
        for name in r.keys(&map) {
            let Some(obj) = r.object(&map, &name)? else { continue };
            let path = format!("staff/{name}/");
            roster.staff.push(StaffEntry {
                added: r.date(&obj, &path, "added")?,
                left: r.opt_date(&obj, &path, "left")?,
                name,
            });
        }
    }
    roster.staff.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(roster)
}

/// Reads a rules document.
pub fn read_rules(doc: &impl ReadDoc) -> Result<RulesDoc> {
    let r = Reader::new(doc, None);
    r.kind("rules")?;
    let mut rules = RulesDoc::default();
    if let Some(map) = r.object(&ROOT, "entries")? {
        for id in r.keys(&map) {
            let Some(obj) = r.object(&map, &id)? else { continue };
            let path = format!("entries/{id}/");
            let p = path.as_str();
            rules.entries.push(RuleEntry {
                item: r.str(&obj, p, "item")?,
                value: r.str(&obj, p, "value")?,
                from: r.date(&obj, p, "from")?,
                recorded_at: r.time(&obj, p, "recorded_at")?,
                handler: r.opt_str(&obj, p, "handler")?.unwrap_or_default(),
                note: r.opt_str(&obj, p, "note")?.unwrap_or_default(),
                id,
            });
        }
    }
    Ok(rules)
}

/// Reads an identity document as it was at `heads`.
pub fn read_identity_at(doc: &impl ReadDoc, heads: &[ChangeHash]) -> Result<Identity> {
    read_identity_impl(&Reader::new(doc, Some(heads)))
}

/// Reads a roster document as it was at `heads`.
pub fn read_roster_at(doc: &impl ReadDoc, heads: &[ChangeHash]) -> Result<Roster> {
    read_roster_impl(&Reader::new(doc, Some(heads)))
}

/// The `kind` of a document (`case`, `identity` or `roster`), if it has one.
pub fn document_kind(doc: &impl ReadDoc) -> Option<String> {
    match doc.get(ROOT, "kind") {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(k) => Some(k.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Every value of `field`, as of `heads` (or now): more than one means a concurrent edit.
pub fn field_values(
    doc: &impl ReadDoc,
    field: &CaseField,
    heads: Option<&[ChangeHash]>,
) -> Result<Vec<String>> {
    let all = match heads {
        Some(h) => doc.get_all_at(ROOT, field.code(), h)?,
        None => doc.get_all(ROOT, field.code())?,
    };
    let mut values: Vec<String> = all
        .into_iter()
        .filter_map(|(v, _)| match v {
            Value::Scalar(s) => Some(match s.as_ref() {
                ScalarValue::Str(t) => t.to_string(),
                ScalarValue::Boolean(b) => b.to_string(),
                other => other.to_string(),
            }),
            Value::Object(_) => None,
        })
        .collect();
    // Automerge's `get` winner comes last in `get_all`; show it first.
    values.reverse();
    Ok(values)
}

/// The governed fields edited concurrently, with every value kept, for review.
pub fn conflicts(doc: &impl ReadDoc) -> Result<Vec<FieldConflict>> {
    let mut out = Vec::new();
    for field in CaseField::KNOWN {
        let values = field_values(doc, field, None)?;
        if values.len() > 1 {
            out.push(FieldConflict { field: field.clone(), values });
        }
    }
    Ok(out)
}

mod work;
pub use work::{WORK_LOG, add_work_entry, read_work, read_work_at, work_entry_keys, write_work};

#[cfg(test)]
mod tests;
