//! The hub's decisions as pure functions over what the engine loaded: where a case stands
//! after a batch (its scope), which offices it enters or leaves, the log rows that say so, and
//! whether an identity drop's persons belong to its case. The engine reads the store and the
//! working documents and calls these; they are tested here with plain values.

use std::collections::BTreeSet;

use ledger_domain::model::{Person, PetitionerRef};
use ledger_domain::scope::{CaseScope, Viewer, township_viewers};
use ledger_domain::{Case, CaseId, IdType};
use ledger_protocol::{DocKind, IdentityDrop, is_work_id, roster_id, rules_id};
use uuid::Uuid;

use crate::store::{LogEntry, NewLogRow, StoredChange};

/// The scope a case (or roster, or the rules) has after a batch, from the documents the batch
/// changed: the rules are every office's; a roster or a work record (`owner`) is its office's; a case is its township's
/// (and its registrar's while unassigned). Nothing that decides scope changed: as before.
pub(crate) fn scope_after(
    before: Option<&CaseScope>,
    rules_doc: bool,
    owner: Option<&str>,
    case: Option<&Case>,
) -> Option<CaseScope> {
    if rules_doc {
        return Some(CaseScope::default());
    }
    match (owner, case) {
        (Some(office), _) => {
            Some(CaseScope { township: None, registrar: office.to_owned(), restricted: false })
        }
        (None, Some(c)) => Some(CaseScope {
            township: c.jurisdiction.clone(),
            registrar: c.registered_by.clone(),
            restricted: c.identity_restricted(),
        }),
        (None, None) => before.cloned(),
    }
}

/// Which township offices see a case before and after a batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Move {
    /// Township offices that saw it before.
    pub(crate) old: BTreeSet<String>,
    /// Township offices that see it after.
    pub(crate) new: BTreeSet<String>,
    /// It existed before and after, and the offices differ.
    pub(crate) moved: bool,
}

pub(crate) fn movement<'a>(
    viewers: &[Viewer<'a>],
    before: Option<&CaseScope>,
    after: Option<&CaseScope>,
) -> Move {
    let seen = |scope: Option<&CaseScope>| -> BTreeSet<String> {
        scope
            .map(|s| township_viewers(viewers.iter().copied(), s))
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    let (old, new) = (seen(before), seen(after));
    let moved = before.is_some() && after.is_some() && old != new;
    Move { old, new, moved }
}

/// The log rows of a document's accepted changes. A change goes to the bureau only when the
/// case moved in this batch (the enter rows carry it to its new offices whole), when it is a
/// restricted case's identity, or when the case has no scope yet.
pub(crate) fn change_rows(
    id: CaseId,
    kind: DocKind,
    changes: &[StoredChange],
    after: Option<&CaseScope>,
    moved: bool,
    now: i64,
) -> Vec<NewLogRow> {
    let scope = after.cloned().unwrap_or_default();
    let bureau_only = moved || (kind == DocKind::Identity && scope.restricted) || after.is_none();
    changes
        .iter()
        .map(|c| NewLogRow {
            case_id: id,
            kind,
            entry: LogEntry::Change {
                hash: c.hash.clone(),
                author_device: c.device.clone(),
                township: scope.township.clone(),
                registrar: Some(scope.registrar.clone()),
                bureau_only,
            },
            received_at: now,
        })
        .collect()
}

/// The enter and leave rows of a case whose offices changed: the case enters offices that see
/// it now and leaves those that no longer do; for offices that keep it, its identity leaves when
/// it becomes restricted and comes back when the restriction is lifted.
pub(crate) fn scope_rows(
    id: CaseId,
    before: &CaseScope,
    after: &CaseScope,
    movement: &Move,
    now: i64,
) -> Vec<NewLogRow> {
    let row = |target: &str, kind: DocKind, enter: bool| {
        let target = target.to_owned();
        NewLogRow {
            case_id: id,
            kind,
            entry: if enter { LogEntry::Enter { target } } else { LogEntry::Leave { target } },
            received_at: now,
        }
    };
    let mut rows: Vec<NewLogRow> = Vec::new();
    rows.extend(movement.new.difference(&movement.old).map(|o| row(o, DocKind::Case, true)));
    rows.extend(movement.old.difference(&movement.new).map(|o| row(o, DocKind::Case, false)));
    if before.restricted != after.restricted {
        rows.extend(
            movement
                .old
                .intersection(&movement.new)
                .map(|o| row(o, DocKind::Identity, before.restricted)),
        );
    }
    rows
}

/// Whether a change's document id fits its kind: an office's roster is the one named after the
/// office, the rules document has the county's one id, a work record's id is a UUIDv8
/// ([`ledger_protocol::work_id`]), and a case id is neither that nor a roster's or the rules'
/// kind of id (a UUIDv5): one id never names two kinds of document, so a work record cannot
/// take over a case's scope.
pub(crate) fn doc_id_rule(
    kind: DocKind,
    doc_id: Uuid,
    office: &str,
) -> Result<(), (&'static str, String)> {
    match kind {
        DocKind::Roster if doc_id != roster_id(office) => {
            Err(("scope", "只能修改本单位的人员名单".into()))
        }
        DocKind::Rules if doc_id != rules_id() => Err(("scope", "全县规则文档的标识无效".into())),
        DocKind::Case | DocKind::Identity
            if doc_id.get_version_num() == 5 || is_work_id(&doc_id) =>
        {
            Err(("scope", "案件标识无效".into()))
        }
        DocKind::Work if !is_work_id(&doc_id) => Err(("scope", "工作记录标识无效".into())),
        _ => Ok(()),
    }
}

/// The most characters of any field of a dropped person.
const DROP_FIELD_CHARS: usize = 200;

/// The persons an identity drop delivers (身份投递), checked against its case's petitioners:
/// each one of them, named, and no field over [`DROP_FIELD_CHARS`] characters. The first
/// problem refuses the whole drop, in words for the office.
pub(crate) fn drop_persons(
    drop: &IdentityDrop,
    petitioners: &[PetitionerRef],
) -> Result<Vec<Person>, &'static str> {
    let mut persons = Vec::with_capacity(drop.persons.len());
    for p in &drop.persons {
        if !petitioners.iter().any(|r| r.id == p.id) {
            return Err("投递的信访人不在该案件的信访人名单中");
        }
        let fields = [&p.name, &p.id_type, &p.id_number, &p.phone, &p.address];
        if p.name.trim().is_empty() || fields.iter().any(|f| f.chars().count() > DROP_FIELD_CHARS) {
            return Err("投递的信访人信息不完整或过长");
        }
        persons.push(Person {
            id: p.id.clone(),
            name: p.name.clone(),
            id_type: IdType::from_code(&p.id_type),
            id_number: p.id_number.clone(),
            phone: p.phone.clone(),
            address: p.address.clone(),
        });
    }
    Ok(persons)
}

#[cfg(test)]
mod tests {
    use ledger_domain::Role;

    use super::*;

    fn scope(township: Option<&str>, registrar: &str, restricted: bool) -> CaseScope {
        CaseScope { township: township.map(str::to_owned), registrar: registrar.into(), restricted }
    }

    fn change(hash: &str) -> StoredChange {
        StoredChange {
            hash: hash.into(),
            case_id: CaseId(uuid::Uuid::nil()),
            kind: DocKind::Case,
            device: "d1".into(),
            received_at: 0,
            bytes: Vec::new(),
        }
    }

    fn names(rows: &[NewLogRow]) -> Vec<String> {
        rows.iter()
            .map(|r| match &r.entry {
                LogEntry::Enter { target } => format!("enter {target} {:?}", r.kind),
                LogEntry::Leave { target } => format!("leave {target} {:?}", r.kind),
                LogEntry::Change { bureau_only, .. } => format!("change bureau_only={bureau_only}"),
            })
            .collect()
    }

    #[test]
    fn the_rules_are_everyones_a_roster_or_work_record_its_offices_and_nothing_changed_keeps_the_scope()
     {
        let before = scope(Some("黄桥镇"), "hq", false);
        assert_eq!(scope_after(Some(&before), true, None, None), Some(CaseScope::default()));
        assert_eq!(
            scope_after(Some(&before), false, Some("sj"), None),
            Some(scope(None, "sj", false))
        );
        assert_eq!(scope_after(Some(&before), false, None, None), Some(before));
        assert_eq!(scope_after(None, false, None, None), None);
    }

    #[test]
    fn a_case_moves_from_one_township_to_another() {
        let (bureau, hq, sj) = (Role::Bureau, Role::Township, Role::Township);
        let hq_towns = vec!["黄桥镇".to_owned()];
        let sj_towns = vec!["石江镇".to_owned()];
        let viewers = [
            Viewer { office: "county", role: &bureau, townships: &[] },
            Viewer { office: "hq", role: &hq, townships: &hq_towns },
            Viewer { office: "sj", role: &sj, townships: &sj_towns },
        ];
        let before = scope(Some("黄桥镇"), "hq", false);
        let after = scope(Some("石江镇"), "hq", false);
        let m = movement(&viewers, Some(&before), Some(&after));
        assert!(m.moved);
        assert_eq!(
            names(&scope_rows(CaseId(uuid::Uuid::nil()), &before, &after, &m, 1)),
            ["enter sj Case", "leave hq Case"]
        );
        // The move's own changes go to the bureau only; the enter row carries the case.
        let rows = change_rows(
            CaseId(uuid::Uuid::nil()),
            DocKind::Case,
            &[change("a")],
            Some(&after),
            true,
            1,
        );
        assert_eq!(names(&rows), ["change bureau_only=true"]);
        // Staying put is no move, and its changes go to the township.
        let m = movement(&viewers, Some(&before), Some(&before));
        assert_eq!((m.moved, m.old.len()), (false, 1));
        let rows = change_rows(
            CaseId(uuid::Uuid::nil()),
            DocKind::Case,
            &[change("b")],
            Some(&before),
            false,
            1,
        );
        assert_eq!(names(&rows), ["change bureau_only=false"]);
        // A new case (no scope before) is not a move.
        assert!(!movement(&viewers, None, Some(&after)).moved);
    }

    #[test]
    fn a_restriction_takes_the_identity_away_and_lifting_it_brings_it_back() {
        let hq = Role::Township;
        let towns = vec!["黄桥镇".to_owned()];
        let viewers = [Viewer { office: "hq", role: &hq, townships: &towns }];
        let open = scope(Some("黄桥镇"), "hq", false);
        let sealed = scope(Some("黄桥镇"), "hq", true);
        let id = CaseId(uuid::Uuid::nil());
        let m = movement(&viewers, Some(&open), Some(&sealed));
        assert!(!m.moved, "the case itself stays");
        assert_eq!(names(&scope_rows(id, &open, &sealed, &m, 1)), ["leave hq Identity"]);
        let m = movement(&viewers, Some(&sealed), Some(&open));
        assert_eq!(names(&scope_rows(id, &sealed, &open, &m, 1)), ["enter hq Identity"]);
        // A restricted identity's changes never go to the township; the case's still do.
        let identity = change_rows(id, DocKind::Identity, &[change("c")], Some(&sealed), false, 1);
        assert_eq!(names(&identity), ["change bureau_only=true"]);
        let case = change_rows(id, DocKind::Case, &[change("d")], Some(&sealed), false, 1);
        assert_eq!(names(&case), ["change bureau_only=false"]);
        // No scope at all: bureau only.
        let orphan = change_rows(id, DocKind::Case, &[change("e")], None, false, 1);
        assert_eq!(names(&orphan), ["change bureau_only=true"]);
    }

    #[test]
    fn a_drop_names_only_the_cases_petitioners_in_full_and_within_bounds() {
        let case = ledger_domain::fixtures::seed_2017().into_iter().next().unwrap();
        let petitioner = case.petitioners[0].id.clone();
        let person = |id: &str, name: &str, address: String| ledger_protocol::DropPerson {
            id: id.into(),
            name: name.into(),
            id_type: "resident_id".into(),
            id_number: "11010519491231002X".into(),
            phone: "13812345678".into(),
            address,
        };
        let drop = |persons| IdentityDrop { id: uuid::Uuid::nil(), case_id: case.id.0, persons };
        let ok = drop_persons(
            &drop(vec![person(&petitioner, "张三丰", "大屋村".into())]),
            &case.petitioners,
        )
        .unwrap();
        assert_eq!((ok[0].id.as_str(), ok[0].name.as_str()), (petitioner.as_str(), "张三丰"));
        let refusals = [
            person("someone-else", "李四", "大屋村".into()),
            person(&petitioner, "  ", "大屋村".into()),
            person(&petitioner, "张三丰", "村".repeat(DROP_FIELD_CHARS + 1)),
        ];
        for bad in refusals {
            // One bad person refuses the drop, even beside a good one.
            let both = drop(vec![person(&petitioner, "张三丰", "大屋村".into()), bad.clone()]);
            assert!(drop_persons(&both, &case.petitioners).is_err(), "{bad:?}");
        }
        let limit = person(&petitioner, "张三丰", "村".repeat(DROP_FIELD_CHARS));
        assert!(
            drop_persons(&drop(vec![limit]), &case.petitioners).is_ok(),
            "at the limit is allowed"
        );
    }

    #[test]
    fn a_documents_id_must_fit_its_kind() {
        assert!(doc_id_rule(DocKind::Roster, roster_id("hq"), "hq").is_ok());
        assert!(
            doc_id_rule(DocKind::Roster, roster_id("sj"), "hq").is_err(),
            "another office's roster"
        );
        assert!(doc_id_rule(DocKind::Rules, rules_id(), "hq").is_ok());
        assert!(doc_id_rule(DocKind::Rules, roster_id("hq"), "hq").is_err());
        let case = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let work = ledger_protocol::work_id(case);
        assert_eq!(work.get_version_num(), 8);
        assert!(doc_id_rule(DocKind::Work, work, "hq").is_ok());
        assert!(doc_id_rule(DocKind::Work, case, "hq").is_err());
        assert!(doc_id_rule(DocKind::Work, roster_id("hq"), "hq").is_err());
        assert!(doc_id_rule(DocKind::Case, work, "hq").is_err());
        assert!(doc_id_rule(DocKind::Identity, work, "hq").is_err());
        assert!(doc_id_rule(DocKind::Case, case, "hq").is_ok());
        let case = Uuid::from_u128(0x0190_b3f0_0000_7000_8000_0000_0000_0001);
        assert!(doc_id_rule(DocKind::Case, case, "hq").is_ok());
        assert!(doc_id_rule(DocKind::Identity, case, "hq").is_ok());
        for v5 in [roster_id("hq"), rules_id()] {
            assert_eq!(doc_id_rule(DocKind::Case, v5, "hq").unwrap_err().0, "scope");
            assert!(doc_id_rule(DocKind::Identity, v5, "hq").is_err());
        }
    }
}
