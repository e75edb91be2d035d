//! How a work record ([`crate::work`]) lives in Automerge:
//!
//! ```text
//! { schema_version, kind: "work", id, record_kind, office, created_by, created_at, import_key?,
//!   log: { <entry id>: { lamport, op, target?, by, office, at, <fields> } } }
//! ```
//!
//! The log is created with the document and only ever added to; counts are unsigned integers,
//! every other field a string.

use automerge::transaction::Transactable;
use automerge::{ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue};
use uuid::Uuid;

use super::{Reader, Result, SchemaError, container};
use crate::model::SCHEMA_VERSION;
use crate::work::{EntryOp, FieldValue, WorkEntry, WorkKind, WorkRecord, payload_keys};

/// The root container of a work record's log.
pub const WORK_LOG: &str = "log";

/// The keys of a log entry besides its fields.
const ENTRY_OWN_KEYS: &[&str] = &["lamport", "op", "target", "by", "office", "at"];

/// Every key a log entry may hold ([`add_work_entry`]).
pub fn work_entry_keys() -> &'static [&'static str] {
    static KEYS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys: Vec<&'static str> = ENTRY_OWN_KEYS.to_vec();
        keys.extend(payload_keys());
        keys
    })
    .as_slice()
}

/// Writes a new work record into an empty document: the header, the log and its 建立 entry.
pub fn write_work(tx: &mut impl Transactable, record: &WorkRecord) -> Result<()> {
    tx.put(ROOT, "schema_version", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "work")?;
    tx.put(ROOT, "id", record.id.to_string())?;
    tx.put(ROOT, "record_kind", record.kind.code())?;
    tx.put(ROOT, "office", record.office.as_str())?;
    tx.put(ROOT, "created_by", record.created_by.as_str())?;
    tx.put(ROOT, "created_at", ScalarValue::Timestamp(record.created_at))?;
    if let Some(key) = &record.import_key {
        tx.put(ROOT, "import_key", key.as_str())?;
    }
    tx.put_object(ROOT, WORK_LOG, ObjType::Map)?;
    for e in &record.entries {
        add_work_entry(tx, e)?;
    }
    Ok(())
}

/// Adds one entry to a work record's log.
pub fn add_work_entry(tx: &mut impl Transactable, e: &WorkEntry) -> Result<()> {
    let log = container(tx, WORK_LOG)?;
    let obj = tx.put_object(&log, e.id.as_str(), ObjType::Map)?;
    tx.put(&obj, "lamport", ScalarValue::Uint(e.lamport))?;
    tx.put(&obj, "op", e.op.code())?;
    if let Some(target) = &e.target {
        tx.put(&obj, "target", target.as_str())?;
    }
    tx.put(&obj, "by", e.by.as_str())?;
    tx.put(&obj, "office", e.office.as_str())?;
    tx.put(&obj, "at", ScalarValue::Timestamp(e.at))?;
    for (key, value) in &e.fields {
        match value {
            FieldValue::Count(n) => tx.put(&obj, key.as_str(), ScalarValue::Uint(*n))?,
            FieldValue::Text(s) => tx.put(&obj, key.as_str(), s.as_str())?,
        }
    }
    Ok(())
}

/// Reads a work record (now).
pub fn read_work(doc: &impl ReadDoc) -> Result<WorkRecord> {
    read_work_impl(&Reader::new(doc, None))
}

/// Reads a work record as it was at `heads`.
pub fn read_work_at(doc: &impl ReadDoc, heads: &[ChangeHash]) -> Result<WorkRecord> {
    read_work_impl(&Reader::new(doc, Some(heads)))
}

fn read_work_impl<D: ReadDoc>(r: &Reader<'_, D>) -> Result<WorkRecord> {
    r.kind("work")?;
    let raw_id = r.str(&ROOT, "", "id")?;
    let id: Uuid =
        raw_id.parse().map_err(|_| SchemaError::Value { path: "id".into(), value: raw_id })?;
    let mut record = WorkRecord {
        id,
        schema_version: r.uint(&ROOT, "", "schema_version")?,
        kind: WorkKind::from_code(&r.str(&ROOT, "", "record_kind")?),
        office: r.str(&ROOT, "", "office")?,
        created_by: r.str(&ROOT, "", "created_by")?,
        created_at: r.time(&ROOT, "", "created_at")?,
        import_key: r.opt_str(&ROOT, "", "import_key")?,
        entries: Vec::new(),
    };
    let Some(log) = r.object(&ROOT, WORK_LOG)? else {
        return Err(SchemaError::Missing(WORK_LOG.into()));
    };
    for key in r.keys(&log) {
        let Some(obj) = r.object(&log, &key)? else {
            return Err(SchemaError::Type { path: format!("log/{key}"), expected: "a map" });
        };
        let path = format!("log/{key}/");
        let p = path.as_str();
        let mut fields = std::collections::BTreeMap::new();
        for field in r.keys(&obj) {
            if ENTRY_OWN_KEYS.contains(&field.as_str()) {
                continue;
            }
            let value = match r.scalar(&obj, p, &field)? {
                Some(ScalarValue::Str(s)) => FieldValue::Text(s.to_string()),
                Some(ScalarValue::Uint(n)) => FieldValue::Count(n),
                Some(ScalarValue::Int(n)) if n >= 0 => FieldValue::Count(n.unsigned_abs()),
                _ => {
                    return Err(SchemaError::Type {
                        path: format!("{p}{field}"),
                        expected: "a string or a count",
                    });
                }
            };
            fields.insert(field, value);
        }
        record.entries.push(WorkEntry {
            lamport: r.uint(&obj, p, "lamport")?,
            op: EntryOp::from_code(&r.str(&obj, p, "op")?),
            target: r.opt_str(&obj, p, "target")?,
            by: r.str(&obj, p, "by")?,
            office: r.str(&obj, p, "office")?,
            at: r.time(&obj, p, "at")?,
            fields,
            id: key,
        });
    }
    record
        .entries
        .sort_by(|a, b| (a.lamport, a.at).cmp(&(b.lamport, b.at)).then_with(|| a.id.cmp(&b.id)));
    Ok(record)
}
