//! Each rule of [`super::judge`], on documents built the way offices build them and changes
//! forged the way an attacker would.

#![allow(clippy::unwrap_used)]

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, Change, ExpandedChange, ROOT};
use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::model::{
    CaseId, Event, EventHead, Person, PetitionerRef, Roster, StaffEntry, Submission,
};
use crate::schema::{self, CaseField, FieldValue};
use crate::terms::{Category, Channel, IdType, PetitionerKind, Purpose, Role, Sector, Source};
use crate::workflow::ActionKind;

const T: &str = "2024-03-05";
const AT: i64 = 1_709_604_000_000; // 2024-03-05T02:00:00Z

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn bureau_actor() -> ActorId {
    ActorId::from(vec![0xb0; 16])
}

fn township_actor() -> ActorId {
    ActorId::from(vec![0x70; 16])
}

fn roster(office: &str, names: &[&str]) -> Roster {
    Roster {
        office: office.into(),
        staff: names
            .iter()
            .map(|n| StaffEntry { name: (*n).into(), added: d("2020-01-01"), left: None })
            .collect(),
    }
}

struct World {
    case_id: Uuid,
    townships: Vec<String>,
    bureau_actors: Vec<String>,
    township_actors: Vec<String>,
    bureau_roster: Roster,
    township_roster: Roster,
}

impl World {
    fn new() -> Self {
        Self {
            case_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            townships: vec!["黄桥镇".into()],
            bureau_actors: vec![bureau_actor().to_hex_string()],
            township_actors: vec![township_actor().to_hex_string()],
            bureau_roster: roster("county", &["刘洪"]),
            township_roster: roster("hq", &["李娟"]),
        }
    }

    fn bureau(&self) -> Caller<'_> {
        Caller {
            office: "county",
            role: &Role::Bureau,
            townships: &[],
            actors: &self.bureau_actors,
        }
    }

    fn township(&self) -> Caller<'_> {
        Caller {
            office: "hq",
            role: &Role::Township,
            townships: &self.townships,
            actors: &self.township_actors,
        }
    }

    fn input<'a>(&'a self, caller: Caller<'a>, class: DocClass) -> Input<'a> {
        let roster =
            if caller.office == "county" { &self.bureau_roster } else { &self.township_roster };
        Input {
            caller,
            class,
            doc_id: self.case_id,
            case_doc: None,
            roster: Some(roster),
            limits: Limits::default(),
            known: Known::default(),
        }
    }

    /// A 检举控告 case registered by the bureau and assigned to 黄桥镇, as the hub holds it.
    fn case(&self, purpose: Purpose) -> Automerge {
        self.case_with(purpose, false)
    }

    /// The same case, as demo data or not.
    fn case_with(&self, purpose: Purpose, demo: bool) -> Automerge {
        let mut doc = Automerge::new().with_actor(bureau_actor());
        let case = Case {
            id: CaseId(self.case_id),
            schema_version: 1,
            number: "洞口-2024-A-0001".into(),
            official_number: None,
            registered_by: "county".into(),
            purpose,
            sector: Sector::Land,
            category: Category::IllegalOccupation,
            jurisdiction: Some("黄桥镇".into()),
            subject: String::new(),
            request: "邻居违法建房".into(),
            village: "大屋村".into(),
            confidential: false,
            identity_released: false,
            restrictive_values: false,
            demo,
            petitioners: vec![PetitionerRef {
                id: "p1".into(),
                kind: PetitionerKind::Citizen,
                display_name: "张*丰".into(),
            }],
            submissions: vec![Submission {
                id: "s1".into(),
                channel: Channel::Visit,
                source: Source::Direct,
                received: d("2024-03-01"),
                batches: 1,
                persons: 1,
                collective: false,
                skip_level: false,
                repeat: false,
                anonymous: false,
                confidential: false,
                petitioners: vec!["p1".into()],
                summary: String::new(),
                registered_by: "county".into(),
                fingerprint: None,
                referred_by: None,
                referral_number: None,
                platform_number: None,
                representatives: Vec::new(),
                urgent: false,
                threat: false,
                litigation: false,
            }],
            events: vec![event(
                1,
                ActionKind::Register,
                "county",
                Role::Bureau,
                &bureau_actor(),
                "刘洪",
            )],
            attachments: Vec::new(),
            reply_draft: String::new(),
            investigation_report: String::new(),
        };
        let mut tx = doc.transaction();
        schema::write_case(&mut tx, &case).unwrap();
        tx.commit_with(CommitOptions::default().with_time(AT / 1000));
        let mut tx = doc.transaction();
        let mut assign =
            event(2, ActionKind::Assign, "county", Role::Bureau, &bureau_actor(), "刘洪");
        assign.target = Some("黄桥镇".into());
        schema::add_event(&mut tx, &assign).unwrap();
        tx.commit_with(CommitOptions::default().with_time(AT / 1000));
        doc
    }

    fn identity(&self, case: &Automerge) -> Automerge {
        let _ = case;
        let mut doc = Automerge::new().with_actor(bureau_actor());
        let mut tx = doc.transaction();
        schema::write_identity(
            &mut tx,
            &Identity {
                case_id: CaseId(self.case_id),
                schema_version: 1,
                persons: vec![Person {
                    id: "p1".into(),
                    name: "张三丰".into(),
                    id_type: IdType::ResidentId,
                    id_number: "11010519491231002X".into(),
                    phone: "13812345678".into(),
                    address: "大屋村3组".into(),
                }],
            },
        )
        .unwrap();
        tx.commit_with(CommitOptions::default().with_time(AT / 1000));
        doc
    }
}

fn event(
    lamport: u64,
    action: ActionKind,
    office: &str,
    role: Role,
    actor: &ActorId,
    handler: &str,
) -> Event {
    Event::new(EventHead {
        id: format!("ev-{lamport:03}-{office}-{}", action.code()),
        lamport,
        action,
        actor: actor.to_hex_string(),
        office: office.into(),
        role,
        handler: handler.into(),
        at: AT,
        date: d(T),
        imported: false,
    })
}

/// A change by `actor` on a fork of `doc`, made by `f`.
fn change_on(
    doc: &Automerge,
    actor: ActorId,
    f: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
) -> Change {
    let mut fork = doc.fork().with_actor(actor);
    let mut tx = fork.transaction();
    f(&mut tx);
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    fork.get_change_by_hash(&hash.unwrap()).unwrap()
}

fn township_event(doc: &Automerge, action: ActionKind) -> Event {
    let case = schema::read_case(doc).unwrap();
    event(case.next_lamport(), action, "hq", Role::Township, &township_actor(), "李娟")
}

fn verdict(input: &Input<'_>, doc: &Automerge, change: &Change) -> Result<(), Rule> {
    judge(input, doc, change.raw_bytes(), Some(change.hash().0)).map(|_| ()).map_err(|r| r.rule)
}

/// Re-encodes an expanded change (the hash is computed afresh, as an attacker would).
fn forge(change: &Change, edit: impl FnOnce(&mut ExpandedChange)) -> Change {
    let mut expanded = change.decode();
    edit(&mut expanded);
    expanded.hash = None;
    Change::from(expanded)
}

#[test]
fn a_township_investigation_on_its_assigned_case_is_accepted() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let e = township_event(&doc, ActionKind::Investigate);
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    let accepted =
        judge(&w.input(w.township(), DocClass::Case), &doc, c.raw_bytes(), Some(c.hash().0))
            .unwrap();
    let case = schema::read_case(&accepted.doc).unwrap();
    assert_eq!(case.events.len(), 3);
}

#[test]
fn a_change_on_every_head_and_one_beside_a_concurrent_change_are_judged_alike() {
    // A change built on the whole document (read once, no historical view) and the same kind
    // of change built beside a concurrent one (read at its own heads) reach the same verdicts.
    let w = World::new();
    let input = w.input(w.township(), DocClass::Case);
    let doc = w.case(Purpose::Report);
    let mut ahead = doc.clone();
    let mut tx = ahead.transaction();
    schema::put_field(&mut tx, &CaseField::Subject, FieldValue::Text("某公司".into())).unwrap();
    tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let note = township_event(&doc, ActionKind::Investigate);
    let ok = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &note).unwrap());
    assert_eq!(verdict(&input, &doc, &ok), Ok(()));
    assert_eq!(verdict(&input, &ahead, &ok), Ok(()));
    let loosen = change_on(&doc, township_actor(), |tx| {
        schema::put_field(tx, &CaseField::Purpose, FieldValue::Text("appeal".into())).unwrap()
    });
    assert_eq!(verdict(&input, &doc, &loosen), Err(Rule::Restriction));
    assert_eq!(verdict(&input, &ahead, &loosen), Err(Rule::Restriction));
}

#[test]
fn declassification_by_a_township_is_refused_in_every_field() {
    let w = World::new();
    let doc = w.case(Purpose::Report);
    let input = w.input(w.township(), DocClass::Case);
    let c = change_on(&doc, township_actor(), |tx| {
        schema::put_field(tx, &CaseField::Purpose, FieldValue::Text("appeal".into())).unwrap()
    });
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Restriction));
    // 是否保密: set, then the township tries to clear it.
    let mut confidential = w.case(Purpose::Appeal);
    let mut tx = confidential.transaction();
    schema::put_field(&mut tx, &CaseField::Confidential, FieldValue::Flag(true)).unwrap();
    tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let c = change_on(&confidential, township_actor(), |tx| {
        schema::put_field(tx, &CaseField::Confidential, FieldValue::Flag(false)).unwrap()
    });
    assert_eq!(verdict(&input, &confidential, &c), Err(Rule::Restriction));
    // 解除保密 is the bureau's alone.
    let c =
        change_on(&doc, township_actor(), |tx| schema::put_identity_released(tx, true).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Restriction));
    // Tightening is fine.
    let open = w.case(Purpose::Appeal);
    let c = change_on(&open, township_actor(), |tx| {
        schema::put_field(tx, &CaseField::Purpose, FieldValue::Text("report".into())).unwrap();
        schema::put_identity_released(tx, false).unwrap();
    });
    assert_eq!(verdict(&input, &open, &c), Ok(()));
}

#[test]
fn only_a_bureau_lift_event_with_a_reason_lifts_a_restriction() {
    let w = World::new();
    let doc = w.case(Purpose::Report);
    let input = w.input(w.bureau(), DocClass::Case);
    // Reclassifying without 解除保密 is refused even for the bureau.
    let c = change_on(&doc, bureau_actor(), |tx| {
        schema::put_field(tx, &CaseField::Purpose, FieldValue::Text("appeal".into())).unwrap()
    });
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Restriction));
    let case = schema::read_case(&doc).unwrap();
    let mut lift = event(
        case.next_lamport(),
        ActionKind::LiftRestriction,
        "county",
        Role::Bureau,
        &bureau_actor(),
        "刘洪",
    );
    let no_reason = lift.clone();
    let c = change_on(&doc, bureau_actor(), |tx| {
        schema::add_event(tx, &no_reason).unwrap();
        schema::put_identity_released(tx, true).unwrap();
    });
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Restriction));
    lift.text = Some("举报人书面同意公开身份".into());
    let c = change_on(&doc, bureau_actor(), |tx| {
        schema::add_event(tx, &lift).unwrap();
        schema::put_identity_released(tx, true).unwrap();
    });
    assert_eq!(verdict(&input, &doc, &c), Ok(()));
}

#[test]
fn a_concurrent_loosening_never_wins() {
    // The township had seen an unrestricted case; the bureau meanwhile made it a 检举控告.
    let w = World::new();
    let base = w.case(Purpose::Appeal);
    let mut hub = base.clone();
    let mut tx = hub.transaction();
    schema::put_field(&mut tx, &CaseField::Purpose, FieldValue::Text("report".into())).unwrap();
    tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let c = change_on(&base, township_actor(), |tx| {
        schema::put_field(tx, &CaseField::Purpose, FieldValue::Text("suggestion".into())).unwrap()
    });
    let accepted =
        judge(&w.input(w.township(), DocClass::Case), &hub, c.raw_bytes(), None).unwrap();
    let case = schema::read_case(&accepted.doc).unwrap();
    assert!(case.identity_restricted(), "any concurrent 检举控告 keeps the identity restricted");
}

#[test]
fn forged_authorship_is_refused() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let lamport = schema::read_case(&doc).unwrap().next_lamport();
    let forged = [
        event(lamport, ActionKind::Void, "county", Role::Bureau, &township_actor(), "刘洪"),
        event(lamport, ActionKind::Investigate, "hq", Role::Bureau, &township_actor(), "李娟"),
        event(lamport, ActionKind::Investigate, "hq", Role::Township, &bureau_actor(), "李娟"),
        event(lamport, ActionKind::Investigate, "hq", Role::Township, &township_actor(), "刘洪"),
        Event {
            imported: true,
            ..event(lamport, ActionKind::Void, "hq", Role::Township, &township_actor(), "李娟")
        },
    ];
    for e in forged {
        let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
        assert_eq!(verdict(&input, &doc, &c), Err(Rule::Authorship), "{e:?}");
    }
    // A township action the role table gives the bureau.
    let e = event(lamport, ActionKind::Void, "hq", Role::Township, &township_actor(), "李娟");
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Role));
}

#[test]
fn unknown_actions_and_fields_fail_closed_for_townships_only() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let lamport = schema::read_case(&doc).unwrap().next_lamport();
    let e = event(
        lamport,
        ActionKind::Unknown("teleport".into()),
        "hq",
        Role::Township,
        &township_actor(),
        "李娟",
    );
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Role));
    let e = event(
        lamport,
        ActionKind::Unknown("teleport".into()),
        "county",
        Role::Bureau,
        &bureau_actor(),
        "刘洪",
    );
    let c = change_on(&doc, bureau_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&w.input(w.bureau(), DocClass::Case), &doc, &c), Ok(()));
    let c = change_on(&doc, township_actor(), |tx| {
        tx.put(ROOT, "priority_lane", "fast").unwrap();
    });
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Role));
    let c = change_on(&doc, township_actor(), |tx| {
        schema::put_field(tx, &CaseField::Jurisdiction, FieldValue::Text("石江镇".into())).unwrap()
    });
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Role));
}

#[test]
fn lamport_and_time_extremes_are_refused() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let mut e = township_event(&doc, ActionKind::Investigate);
    e.lamport = u64::MAX;
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Authorship));
    let mut e = township_event(&doc, ActionKind::Investigate);
    e.lamport = 1; // before what its author had seen
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Authorship));
    for at in [i64::MIN, 0, i64::MAX] {
        let mut e = township_event(&doc, ActionKind::Investigate);
        e.at = at;
        let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
        assert_eq!(verdict(&input, &doc, &c), Err(Rule::Structure), "at {at}");
    }
    let mut e = township_event(&doc, ActionKind::Investigate);
    e.date = d("9999-12-31");
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Structure));
    // The change's own timestamp: 0 is what Automerge writes by default, i64::MIN is an attack.
    let e = township_event(&doc, ActionKind::Investigate);
    let good = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    for time in [i64::MIN, -1, i64::MAX] {
        let bad = forge(&good, |x| x.time = time);
        assert_eq!(verdict(&input, &doc, &bad), Err(Rule::Structure), "time {time}");
    }
    assert_eq!(verdict(&input, &doc, &forge(&good, |x| x.time = 0)), Ok(()));
}

#[test]
fn sequence_and_operation_numbers_must_follow_on() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let e = township_event(&doc, ActionKind::Investigate);
    let good = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&input, &doc, &forge(&good, |x| x.seq = 2)), Err(Rule::Causality));
    assert_eq!(verdict(&input, &doc, &forge(&good, |x| x.seq = u64::MAX)), Err(Rule::Causality));
    assert_eq!(verdict(&input, &doc, &forge(&good, |x| x.seq = 0)), Err(Rule::Causality));
    let bumped =
        forge(&good, |x| x.start_op = std::num::NonZeroU64::new(x.start_op.get() + 5).unwrap());
    assert_eq!(verdict(&input, &doc, &bumped), Err(Rule::Causality));
    let missing = forge(&good, |x| x.deps = vec![automerge::ChangeHash([7; 32])]);
    assert_eq!(verdict(&input, &doc, &missing), Err(Rule::Causality));
    // The next change of the same actor must build on its previous one.
    let accepted = judge(&input, &doc, good.raw_bytes(), None).unwrap().doc;
    let mut e2 = township_event(&accepted, ActionKind::Investigate);
    e2.id = "ev-second".into();
    let next = change_on(&accepted, township_actor(), |tx| schema::add_event(tx, &e2).unwrap());
    assert_eq!(verdict(&input, &accepted, &next), Ok(()));
}

#[test]
fn bytes_that_do_not_decode_or_hash_are_refused() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let e = township_event(&doc, ActionKind::Investigate);
    let good = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    let mut flipped = good.raw_bytes().to_vec();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let r = judge(&input, &doc, &flipped, Some(good.hash().0)).unwrap_err();
    assert_eq!(r.rule, Rule::Structure);
    let r = judge(&input, &doc, b"not a change", None).unwrap_err();
    assert_eq!(r.rule, Rule::Structure);
    let r = judge(&input, &doc, good.raw_bytes(), Some([0; 32])).unwrap_err();
    assert_eq!(r.rule, Rule::Structure);
    let small = Input { limits: Limits { max_change_bytes: 16, ..Limits::default() }, ..input };
    assert_eq!(judge(&small, &doc, good.raw_bytes(), None).unwrap_err().rule, Rule::Size);
}

#[test]
fn another_devices_actor_is_refused() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let e = township_event(&doc, ActionKind::Investigate);
    let c = change_on(&doc, ActorId::from(vec![0x55; 16]), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Actor));
}

#[test]
fn history_is_append_only() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.bureau(), DocClass::Case);
    let events = match doc.get(ROOT, "events").unwrap() {
        Some((_, id)) => id,
        None => panic!("events"),
    };
    let first = doc.keys(&events).next().unwrap();
    let (_, event_obj) = doc.get(&events, first.as_str()).unwrap().unwrap();
    // Editing an existing event, even by the bureau.
    let c = change_on(&doc, bureau_actor(), |tx| tx.put(&event_obj, "action", "void").unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::AppendOnly));
    // Deleting one.
    let c = change_on(&doc, bureau_actor(), |tx| tx.delete(&events, first.as_str()).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::AppendOnly));
    // Replacing the whole log.
    let c = change_on(&doc, bureau_actor(), |tx| {
        tx.put_object(ROOT, "events", automerge::ObjType::Map).unwrap();
    });
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::AppendOnly));
    // An event id that exists already.
    let c = change_on(&doc, bureau_actor(), |tx| {
        tx.put_object(&events, first.as_str(), automerge::ObjType::Map).unwrap();
    });
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::AppendOnly));
}

#[test]
fn a_blind_overwrite_of_a_restricted_identity_is_refused() {
    let w = World::new();
    let case = w.case(Purpose::Report);
    let identity = w.identity(&case);
    let input = Input { case_doc: Some(&case), ..w.input(w.township(), DocClass::Identity) };
    // A change with no dependencies that puts junk and then a fresh empty `persons` map.
    let mut blind = Automerge::new().with_actor(township_actor());
    let mut tx = blind.transaction();
    tx.put(ROOT, "junk", 1).unwrap();
    tx.put_object(ROOT, "persons", automerge::ObjType::Map).unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let c = blind.get_change_by_hash(&hash.unwrap()).unwrap();
    assert_eq!(verdict(&input, &identity, &c), Err(Rule::AppendOnly));
    // With dependencies, replacing `persons` is refused too.
    let c = change_on(&identity, township_actor(), |tx| {
        tx.put_object(ROOT, "persons", automerge::ObjType::Map).unwrap();
    });
    assert_eq!(verdict(&input, &identity, &c), Err(Rule::AppendOnly));
    // Adding a person is the one thing allowed.
    let c = change_on(&identity, township_actor(), |tx| {
        schema::put_person(
            tx,
            &Person {
                id: "p2".into(),
                name: "李四".into(),
                id_type: IdType::ResidentId,
                id_number: String::new(),
                phone: String::new(),
                address: String::new(),
            },
        )
        .unwrap()
    });
    assert_eq!(verdict(&input, &identity, &c), Ok(()));
    // Changing an existing person is not.
    let c = change_on(&identity, township_actor(), |tx| {
        schema::put_person(
            tx,
            &Person {
                id: "p1".into(),
                name: "另一人".into(),
                id_type: IdType::ResidentId,
                id_number: String::new(),
                phone: String::new(),
                address: String::new(),
            },
        )
        .unwrap()
    });
    assert_eq!(verdict(&input, &identity, &c), Err(Rule::AppendOnly));
}

#[test]
fn scope_is_judged_where_the_author_stood() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let other = vec!["石江镇".to_owned()];
    let caller = Caller { townships: &other, ..w.township() };
    let e = township_event(&doc, ActionKind::Investigate);
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&w.input(caller, DocClass::Case), &doc, &c), Err(Rule::Scope));
    // Work done offline before a reassignment still counts: the author stood in 黄桥镇.
    let mut hub = doc;
    let mut tx = hub.transaction();
    schema::put_field(&mut tx, &CaseField::Jurisdiction, FieldValue::Text("石江镇".into()))
        .unwrap();
    tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &hub, &c), Ok(()));
}

#[test]
fn staff_off_the_roster_cannot_sign_but_former_staff_still_validate() {
    let mut w = World::new();
    let doc = w.case(Purpose::Appeal);
    let mut e = township_event(&doc, ActionKind::Investigate);
    e.handler = "王五".into();
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Authorship));
    w.township_roster.staff.push(StaffEntry {
        name: "王五".into(),
        added: d("2020-01-01"),
        left: Some(d("2024-03-05")),
    });
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Ok(()));
    w.township_roster.staff[1].left = Some(d("2024-03-04"));
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Authorship));
    let no_roster = Input { roster: None, ..w.input(w.township(), DocClass::Case) };
    assert_eq!(verdict(&no_roster, &doc, &c), Err(Rule::Authorship));
}

#[test]
fn registration_is_for_the_callers_own_townships() {
    let w = World::new();
    let hub_copy = w.case(Purpose::Appeal);
    let mut case = schema::read_case(&hub_copy).unwrap();
    case.registered_by = "hq".into();
    case.events.truncate(1);
    case.events[0] =
        event(1, ActionKind::Register, "hq", Role::Township, &township_actor(), "李娟");
    case.submissions[0].registered_by = "hq".into();
    let mut doc = Automerge::new().with_actor(township_actor());
    let mut tx = doc.transaction();
    schema::write_case(&mut tx, &case).unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let c = doc.get_change_by_hash(&hash.unwrap()).unwrap();
    let input = w.input(w.township(), DocClass::Case);
    assert_eq!(verdict(&input, &Automerge::new(), &c), Ok(()));
    let other = vec!["石江镇".to_owned()];
    let caller = Caller { townships: &other, ..w.township() };
    assert_eq!(verdict(&w.input(caller, DocClass::Case), &Automerge::new(), &c), Err(Rule::Scope));
    // Under another id than the one it is sent as.
    let wrong = Input { doc_id: Uuid::from_u128(9), ..input };
    assert_eq!(verdict(&wrong, &Automerge::new(), &c), Err(Rule::Schema));
}

#[test]
fn rosters_are_written_by_their_own_office_and_only_grow() {
    let w = World::new();
    let mut doc = Automerge::new().with_actor(ActorId::from(vec![0x11; 16]));
    let mut tx = doc.transaction();
    schema::write_roster(&mut tx, "hq").unwrap();
    schema::add_staff(&mut tx, "李娟", d("2024-01-01")).unwrap();
    tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let input = w.input(w.township(), DocClass::Roster);
    let c = change_on(&doc, township_actor(), |tx| schema::add_staff(tx, "王五", d(T)).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Ok(()));
    let c = change_on(&doc, township_actor(), |tx| schema::staff_left(tx, "李娟", d(T)).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Ok(()));
    let staff = match doc.get(ROOT, "staff").unwrap() {
        Some((_, id)) => id,
        None => panic!("staff"),
    };
    let (_, entry) = doc.get(&staff, "李娟").unwrap().unwrap();
    let c = change_on(&doc, township_actor(), |tx| tx.put(&entry, "added", "1999-01-01").unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::AppendOnly));
    let c = change_on(&doc, township_actor(), |tx| tx.delete(&staff, "李娟").unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::AppendOnly));
    let other = Caller { office: "sj", ..w.township() };
    let c = change_on(&doc, township_actor(), |tx| schema::add_staff(tx, "王五", d(T)).unwrap());
    assert_eq!(verdict(&w.input(other, DocClass::Roster), &doc, &c), Err(Rule::Scope));
}

#[test]
fn imported_history_rides_only_on_creation() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let mut e =
        event(3, ActionKind::Close, "county", Role::Bureau, &bureau_actor(), "某历史办理人");
    e.imported = true;
    let c = change_on(&doc, bureau_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&w.input(w.bureau(), DocClass::Case), &doc, &c), Err(Rule::Authorship));
}

#[test]
fn field_values_of_the_wrong_type_are_refused() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let c = change_on(&doc, township_actor(), |tx| tx.put(ROOT, "confidential", "yes").unwrap());
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Schema));
    let c = change_on(&doc, township_actor(), |tx| tx.put(ROOT, "purpose", 3).unwrap());
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &doc, &c), Err(Rule::Schema));
}

#[test]
fn malformed_operations_are_refused_before_automerge_sees_them() {
    use automerge::legacy::{ElementId, Key, ObjectId, OpId};
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let c = change_on(&doc, township_actor(), |tx| {
        schema::set_draft(tx, schema::Draft::Reply, "经调查").unwrap()
    });
    assert_eq!(verdict(&input, &doc, &c), Ok(()));
    let ghost = OpId(9999, bureau_actor());
    // An operation on an object that does not exist (Automerge panics on it).
    let bad = forge(&c, |x| x.operations[0].obj = ObjectId::Id(ghost.clone()));
    assert_eq!(verdict(&input, &doc, &bad), Err(Rule::AppendOnly));
    // Inserting after an element that does not exist (Automerge panics on it too).
    let bad = forge(&c, |x| x.operations[0].key = Key::Seq(ElementId::Id(ghost.clone())));
    assert_eq!(verdict(&input, &doc, &bad), Err(Rule::Structure));
    // A sequence key on a map, an insert into the root map.
    let field = change_on(&doc, township_actor(), |tx| {
        schema::put_field(tx, &CaseField::Subject, FieldValue::Text("某公司".into())).unwrap()
    });
    let bad = forge(&field, |x| {
        x.operations[0].key = Key::Seq(ElementId::Head);
        x.operations[0].insert = true;
    });
    assert_eq!(verdict(&input, &doc, &bad), Err(Rule::Structure));
    let bad = forge(&field, |x| x.operations[0].insert = true);
    assert_eq!(verdict(&input, &doc, &bad), Err(Rule::Structure));
}

#[test]
fn a_draft_edited_at_its_start_and_further_on_in_one_change_is_accepted() {
    let w = World::new();
    let input = w.input(w.township(), DocClass::Case);
    let doc = w.case(Purpose::Appeal);
    let first = change_on(&doc, township_actor(), |tx| {
        schema::set_draft(tx, schema::Draft::Reply, "经调查属实").unwrap()
    });
    assert_eq!(verdict(&input, &doc, &first), Ok(()));
    let mut doc = doc;
    doc.apply_changes([first]).unwrap();
    // One edit types before the first character and after the last: the change inserts at the
    // head of the text and after a character the hub already holds.
    let edit = change_on(&doc, township_actor(), |tx| {
        schema::set_draft(tx, schema::Draft::Reply, "现经调查属实，予以答复").unwrap()
    });
    use automerge::legacy::{ElementId, Key};
    let expanded = edit.decode();
    let start = expanded.start_op.get();
    let inserts: Vec<&Key> =
        expanded.operations.iter().filter(|op| op.insert).map(|op| &op.key).collect();
    assert!(inserts.iter().any(|k| **k == Key::Seq(ElementId::Head)));
    assert!(
        inserts.iter().any(|k| matches!(k, Key::Seq(ElementId::Id(id)) if id.0 < start)),
        "an insert after a character the hub holds"
    );
    assert_eq!(verdict(&input, &doc, &edit), Ok(()));
}

#[test]
fn a_township_cannot_register_a_case_already_declassified_or_numbered() {
    let w = World::new();
    let hub_copy = w.case(Purpose::Report);
    let mut case = schema::read_case(&hub_copy).unwrap();
    case.registered_by = "hq".into();
    case.events.truncate(1);
    case.events[0] =
        event(1, ActionKind::Register, "hq", Role::Township, &township_actor(), "李娟");
    case.submissions[0].registered_by = "hq".into();
    let input = w.input(w.township(), DocClass::Case);
    let create = |f: &dyn Fn(&mut automerge::transaction::Transaction<'_>)| {
        let mut doc = Automerge::new().with_actor(township_actor());
        let mut tx = doc.transaction();
        schema::write_case(&mut tx, &case).unwrap();
        f(&mut tx);
        let (hash, _) = tx.commit_with(CommitOptions::default().with_time(AT / 1000));
        doc.get_change_by_hash(&hash.unwrap()).unwrap()
    };
    let released = create(&|tx| schema::put_identity_released(tx, true).unwrap());
    assert_eq!(verdict(&input, &Automerge::new(), &released), Err(Rule::Restriction));
    let numbered = create(&|tx| {
        schema::put_field(
            tx,
            &CaseField::OfficialNumber,
            FieldValue::Text("洞口信〔2024〕1号".into()),
        )
        .unwrap()
    });
    assert_eq!(verdict(&input, &Automerge::new(), &numbered), Err(Rule::Role));
    assert_eq!(verdict(&input, &Automerge::new(), &create(&|_| {})), Ok(()));
}

#[test]
fn only_demo_data_can_be_removed_and_nothing_becomes_demo_data_later() {
    let w = World::new();
    let real = w.case(Purpose::Appeal);
    let demo = w.case_with(Purpose::Appeal, true);
    let bureau = w.input(w.bureau(), DocClass::Case);
    let remove = |doc: &Automerge| {
        let case = schema::read_case(doc).unwrap();
        let e = event(
            case.next_lamport(),
            ActionKind::RemoveDemo,
            "county",
            Role::Bureau,
            &bureau_actor(),
            "刘洪",
        );
        change_on(doc, bureau_actor(), |tx| schema::add_event(tx, &e).unwrap())
    };
    assert_eq!(verdict(&bureau, &demo, &remove(&demo)), Ok(()));
    // The hub never deletes a real case, whoever asks.
    assert_eq!(verdict(&bureau, &real, &remove(&real)), Err(Rule::Role));
    // A township may not remove even demo data.
    let e = township_event(&demo, ActionKind::RemoveDemo);
    let c = change_on(&demo, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&w.input(w.township(), DocClass::Case), &demo, &c), Err(Rule::Role));
    // Making a real case demo data, to purge it next, is refused: the key is written once.
    let c = change_on(&real, bureau_actor(), |tx| tx.put(ROOT, "demo", true).unwrap());
    assert_eq!(verdict(&bureau, &real, &c), Err(Rule::AppendOnly));
}

/// The record `key` of `container` (or its last, for the list of petitioners), as `tx` holds it.
fn record_in(
    tx: &automerge::transaction::Transaction<'_>,
    container: &str,
    key: Option<&str>,
) -> automerge::ObjId {
    let (_, map) = tx.get(ROOT, container).unwrap().unwrap();
    match key {
        Some(k) => tx.get(&map, k).unwrap().unwrap().1,
        None => tx.get(&map, tx.length(&map) - 1).unwrap().unwrap().1,
    }
}

/// A township event with every optional key the writer knows set.
fn full_township_event(doc: &Automerge) -> Event {
    let mut e = township_event(doc, ActionKind::Investigate);
    e.target = Some("黄桥镇".into());
    e.due = Some(d("2024-04-05"));
    e.text = Some("经调查属实".into());
    e.satisfaction = Some(crate::terms::Satisfaction::KNOWN[0].clone());
    e.close_reason = Some(crate::terms::CloseReason::KNOWN[0].clone());
    e.outcome = Some(crate::terms::Outcome::KNOWN[0].clone());
    e.review_outcome = Some(crate::terms::ReviewOutcome::KNOWN[0].clone());
    e.track = Some(crate::terms::HandlingTrack::KNOWN[0].clone());
    e.document_kind = Some(crate::terms::DocumentKind::KNOWN[0].clone());
    e.document_number = Some("黄国土〔2024〕1号".into());
    e.field = Some("subject".into());
    e.refers = Some("ev-1".into());
    e.method = Some(crate::terms::FollowUpMethod::KNOWN[0].clone());
    e.unreachable = true;
    e
}

#[test]
fn a_township_supervision_report_names_its_order_and_what_was_done() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let report = |refers: Option<&str>, text: Option<&str>| {
        let mut e = township_event(&doc, ActionKind::SuperviseReport);
        e.refers = refers.map(str::to_owned);
        e.text = text.map(str::to_owned);
        change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap())
    };
    assert_eq!(verdict(&input, &doc, &report(Some("ev-1"), Some("已查清"))), Ok(()));
    for (refers, text) in [(None, Some("已查清")), (Some("ev-1"), None), (Some("ev-1"), Some("  "))]
    {
        assert_eq!(verdict(&input, &doc, &report(refers, text)), Err(Rule::Structure), "{text:?}");
    }
    // A township records no 督办 itself.
    let order = township_event(&doc, ActionKind::Supervise);
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &order).unwrap());
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Role));
}

#[test]
fn a_township_urgent_report_names_to_whom_and_what() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let report = |target: Option<&str>, text: Option<&str>| {
        let mut e = township_event(&doc, ActionKind::ReportUp);
        e.target = target.map(str::to_owned);
        e.text = text.map(str::to_owned);
        change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap())
    };
    assert_eq!(verdict(&input, &doc, &report(Some("县委县政府"), Some("8人扬言上访"))), Ok(()));
    for (target, text) in
        [(None, Some("扬言")), (Some("县委县政府"), None), (Some(" "), Some("扬言"))]
    {
        assert_eq!(
            verdict(&input, &doc, &report(target, text)),
            Err(Rule::Structure),
            "{target:?}"
        );
    }
}

#[test]
fn a_new_submissions_representatives_are_among_its_petitioners_and_at_most_five() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let people: Vec<PetitionerRef> = (2..=7)
        .map(|k| PetitionerRef {
            id: format!("p{k}"),
            kind: PetitionerKind::Citizen,
            display_name: "李*".into(),
        })
        .collect();
    let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
    let submit = |edit: &dyn Fn(&mut Submission)| {
        let mut s = Submission {
            id: "s2".into(),
            channel: Channel::Visit,
            source: Source::Direct,
            received: d("2024-03-04"),
            batches: 1,
            persons: 30,
            collective: true,
            skip_level: false,
            repeat: true,
            anonymous: false,
            confidential: false,
            petitioners: ids.clone(),
            summary: "集体来访".into(),
            registered_by: "hq".into(),
            fingerprint: None,
            referred_by: None,
            referral_number: None,
            platform_number: None,
            representatives: ids[..2].to_vec(),
            urgent: true,
            threat: true,
            litigation: true,
        };
        edit(&mut s);
        change_on(&doc, township_actor(), |tx| {
            for p in &people {
                schema::add_petitioner(tx, p).unwrap();
            }
            schema::add_submission(tx, &s).unwrap();
        })
    };
    assert_eq!(verdict(&input, &doc, &submit(&|_| {})), Ok(()));
    type Edit<'a> = &'a dyn Fn(&mut Submission);
    let refused: [(&str, Edit<'_>); 6] = [
        ("a stranger", &|s| s.representatives = vec!["p1".into()]),
        ("six", &|s| s.representatives = ids.clone()),
        ("one twice", &|s| s.representatives = vec!["p2".into(), "p2".into()]),
        ("a visitor not on the case", &|s| {
            s.petitioners.push("p99".into());
            s.representatives = vec!["p99".into()];
        }),
        ("a platform number on a direct petition", &|s| s.platform_number = Some("JB1".into())),
        ("a platform number too long", &|s| {
            s.source = Source::Report12336;
            s.platform_number = Some("9".repeat(41));
        }),
    ];
    for (what, edit) in refused {
        assert_eq!(verdict(&input, &doc, &submit(edit)), Err(Rule::Structure), "{what}");
    }
}

#[test]
fn a_township_event_with_a_key_this_version_does_not_know_is_refused() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    // Every key the writer writes is accepted.
    let e = full_township_event(&doc);
    let known = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    assert_eq!(verdict(&input, &doc, &known), Ok(()));
    // One key more is not, whatever it holds, and the reason names it.
    for value in [
        automerge::ScalarValue::Str("fast".into()),
        automerge::ScalarValue::Boolean(true),
        automerge::ScalarValue::Null,
    ] {
        let c = change_on(&doc, township_actor(), |tx| {
            schema::add_event(tx, &e).unwrap();
            let obj = record_in(tx, "events", Some(&e.id));
            tx.put(&obj, "priority_lane", value.clone()).unwrap();
        });
        let r = judge(&input, &doc, c.raw_bytes(), None).unwrap_err();
        assert_eq!(r.rule, Rule::Role, "{value:?}");
        assert!(r.reason.contains("办理记录") && r.reason.contains("「priority_lane」"), "{r}");
    }
    // A key that is a listed key of another kind of record is no key of an event.
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_event(tx, &e).unwrap();
        let obj = record_in(tx, "events", Some(&e.id));
        tx.put(&obj, "added_by", "hq").unwrap();
    });
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Role));
    // A very long key is named cut short.
    let long = "x".repeat(5000);
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_event(tx, &e).unwrap();
        let obj = record_in(tx, "events", Some(&e.id));
        tx.put(&obj, long.as_str(), 1).unwrap();
    });
    let r = judge(&input, &doc, c.raw_bytes(), None).unwrap_err();
    assert_eq!(r.rule, Rule::Role);
    assert!(r.reason.len() < 400, "{}", r.reason.len());
}

#[test]
fn a_township_registration_carries_only_known_keys_in_its_records() {
    let w = World::new();
    let hub_copy = w.case(Purpose::Appeal);
    let mut case = schema::read_case(&hub_copy).unwrap();
    case.registered_by = "hq".into();
    let mut register = full_township_event(&hub_copy);
    register.action = ActionKind::Register;
    register.lamport = 1;
    register.imported = true;
    case.events = vec![register];
    case.submissions[0].registered_by = "hq".into();
    case.submissions[0].fingerprint = Some("fp".into());
    let input = w.input(w.township(), DocClass::Case);
    let create = |extra: Option<(&str, Option<&str>)>| {
        let mut doc = Automerge::new().with_actor(township_actor());
        let mut tx = doc.transaction();
        schema::write_case(&mut tx, &case).unwrap();
        if let Some((container, key)) = extra {
            let obj = record_in(&tx, container, key);
            tx.put(&obj, "hearing_room", "3").unwrap();
        }
        let (hash, _) = tx.commit_with(CommitOptions::default().with_time(AT / 1000));
        doc.get_change_by_hash(&hash.unwrap()).unwrap()
    };
    assert_eq!(verdict(&input, &Automerge::new(), &create(None)), Ok(()));
    let event_id = case.events[0].id.clone();
    for extra in
        [("events", Some(event_id.as_str())), ("submissions", Some("s1")), ("petitioners", None)]
    {
        assert_eq!(
            verdict(&input, &Automerge::new(), &create(Some(extra))),
            Err(Rule::Role),
            "{extra:?}"
        );
    }
}

#[test]
fn every_kind_of_new_record_holds_only_its_listed_keys() {
    // Every container of records has its list (none is left open).
    for class in [DocClass::Case, DocClass::Identity, DocClass::Roster, DocClass::Work] {
        for (name, typ) in containers(class) {
            if *typ != automerge::ObjType::Text {
                assert!(!schema::record_keys(name).is_empty(), "{name} has no key list");
            }
        }
    }
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    // Each writer on its own is accepted; with one key more it is refused.
    let submission = Submission {
        id: "s2".into(),
        channel: Channel::Visit,
        source: Source::Direct,
        received: d("2024-03-04"),
        batches: 1,
        persons: 1,
        collective: false,
        skip_level: false,
        repeat: true,
        anonymous: false,
        confidential: false,
        petitioners: vec!["p1".into()],
        summary: "再次来访".into(),
        registered_by: "hq".into(),
        fingerprint: Some("fp".into()),
        referred_by: None,
        referral_number: None,
        platform_number: None,
        representatives: vec!["p1".into()],
        urgent: true,
        threat: true,
        litigation: true,
    };
    let attachment = crate::model::AttachmentRef {
        hash: "ab".repeat(32),
        name: "现场照片.jpg".into(),
        size: 1024,
        mime: "image/jpeg".into(),
        added_at: AT,
        added_by: "hq".into(),
    };
    let petitioner = PetitionerRef {
        id: "p2".into(),
        kind: PetitionerKind::Citizen,
        display_name: "李*".into(),
    };
    type Write<'a> = Box<dyn Fn(&mut automerge::transaction::Transaction<'_>) + 'a>;
    let writers: [(&str, Option<&str>, Write<'_>); 3] = [
        (
            "submissions",
            Some("s2"),
            Box::new(|tx| schema::add_submission(tx, &submission).unwrap()),
        ),
        (
            "attachments",
            Some(attachment.hash.as_str()),
            Box::new(|tx| schema::add_attachment(tx, &attachment).unwrap()),
        ),
        ("petitioners", None, Box::new(|tx| schema::add_petitioner(tx, &petitioner).unwrap())),
    ];
    for (container, key, write) in &writers {
        let plain = change_on(&doc, township_actor(), |tx| write(tx));
        assert_eq!(verdict(&input, &doc, &plain), Ok(()), "{container}");
        let extra = change_on(&doc, township_actor(), |tx| {
            write(tx);
            let obj = record_in(tx, container, *key);
            tx.put(&obj, "hearing_room", "3").unwrap();
        });
        assert_eq!(verdict(&input, &doc, &extra), Err(Rule::Role), "{container}");
    }
    // A person in the identity document.
    let identity = w.identity(&doc);
    let input = Input { case_doc: Some(&doc), ..w.input(w.township(), DocClass::Identity) };
    let person = Person {
        id: "p2".into(),
        name: "李四".into(),
        id_type: IdType::ResidentId,
        id_number: "11010519491231002X".into(),
        phone: "13812345678".into(),
        address: "大屋村4组".into(),
    };
    let plain =
        change_on(&identity, township_actor(), |tx| schema::put_person(tx, &person).unwrap());
    assert_eq!(verdict(&input, &identity, &plain), Ok(()));
    let extra = change_on(&identity, township_actor(), |tx| {
        schema::put_person(tx, &person).unwrap();
        let obj = record_in(tx, "persons", Some("p2"));
        tx.put(&obj, "ethnicity", "汉").unwrap();
    });
    assert_eq!(verdict(&input, &identity, &extra), Err(Rule::Role));
    // A member on the roster, joining and leaving at once.
    let mut roster = Automerge::new().with_actor(ActorId::from(vec![0x11; 16]));
    let mut tx = roster.transaction();
    schema::write_roster(&mut tx, "hq").unwrap();
    tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let input = w.input(w.township(), DocClass::Roster);
    let plain = change_on(&roster, township_actor(), |tx| {
        schema::add_staff(tx, "王五", d("2024-01-02")).unwrap();
        schema::staff_left(tx, "王五", d(T)).unwrap();
    });
    assert_eq!(verdict(&input, &roster, &plain), Ok(()));
    let extra = change_on(&roster, township_actor(), |tx| {
        schema::add_staff(tx, "王五", d("2024-01-02")).unwrap();
        let obj = record_in(tx, "staff", Some("王五"));
        tx.put(&obj, "post", "所长").unwrap();
    });
    assert_eq!(verdict(&input, &roster, &extra), Err(Rule::Role));
}

#[test]
fn a_bureau_record_may_carry_a_key_this_version_does_not_know() {
    // Decided: the list binds townships only. The bureau is trusted, and a newer bureau client
    // may add a field before the hub is upgraded; this version's readers ignore it.
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.bureau(), DocClass::Case);
    let case = schema::read_case(&doc).unwrap();
    let e = event(
        case.next_lamport(),
        ActionKind::Investigate,
        "county",
        Role::Bureau,
        &bureau_actor(),
        "刘洪",
    );
    let c = change_on(&doc, bureau_actor(), |tx| {
        schema::add_event(tx, &e).unwrap();
        let obj = record_in(tx, "events", Some(&e.id));
        tx.put(&obj, "hearing_room", "3").unwrap();
    });
    let accepted = judge(&input, &doc, c.raw_bytes(), None).unwrap();
    assert_eq!(schema::read_case(&accepted.doc).unwrap().events.len(), 3);
    // Still no nested object inside a record, even from the bureau.
    let c = change_on(&doc, bureau_actor(), |tx| {
        schema::add_event(tx, &e).unwrap();
        let obj = record_in(tx, "events", Some(&e.id));
        tx.put_object(&obj, "hearing", automerge::ObjType::Map).unwrap();
    });
    assert_eq!(verdict(&input, &doc, &c), Err(Rule::Schema));
}

#[test]
fn documents_are_bounded_in_operations_and_changes() {
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let input = w.input(w.township(), DocClass::Case);
    let e = township_event(&doc, ActionKind::Investigate);
    let c = change_on(&doc, township_actor(), |tx| schema::add_event(tx, &e).unwrap());
    let held_changes = doc.get_changes(&[]).len();
    let held_ops: usize = doc.get_changes(&[]).iter().map(|c| c.len()).sum();
    let ops = (held_ops + c.len()) as u64;
    let with = |limits: Limits| Input { limits, ..input };
    // Exactly at the bounds is fine.
    let at_bound = Limits { max_doc_ops: ops, max_doc_changes: held_changes + 1, ..input.limits };
    assert_eq!(verdict(&with(at_bound), &doc, &c), Ok(()));
    // One operation, or one change, too many is refused.
    let ops_over = Limits { max_doc_ops: ops - 1, ..at_bound };
    let r = judge(&with(ops_over), &doc, c.raw_bytes(), None).unwrap_err();
    assert_eq!(r.rule, Rule::Size, "{r}");
    let changes_over = Limits { max_doc_changes: held_changes, ..at_bound };
    let r = judge(&with(changes_over), &doc, c.raw_bytes(), None).unwrap_err();
    assert_eq!(r.rule, Rule::Size, "{r}");
    assert!(r.reason.contains("已达上限"), "{r}");
    // A document already past its bound takes nothing more, not even the smallest change.
    let full = Limits { max_doc_ops: held_ops as u64, ..at_bound };
    assert_eq!(verdict(&with(full), &doc, &c), Err(Rule::Size));
}

#[test]
fn only_the_bureau_adds_to_the_rules_and_never_into_the_past() {
    let w = World::new();
    let doc = Automerge::load(&crate::rules::genesis()).unwrap();
    let today = d(T);
    let entry = |n: u8, item: &str, value: &str, from: NaiveDate| crate::rules::RuleEntry {
        id: format!("entry-{n}"),
        item: item.into(),
        value: value.into(),
        from,
        recorded_at: AT,
        handler: "刘洪".into(),
        note: String::new(),
    };
    let bureau = w.input(w.bureau(), DocClass::Rules);
    let township = w.input(w.township(), DocClass::Rules);
    let good = entry(1, "county.review_body", "洞口县人民政府", today);
    let c = change_on(&doc, bureau_actor(), |tx| schema::add_rule_entry(tx, &good).unwrap());
    assert_eq!(verdict(&bureau, &doc, &c), Ok(()));
    // A township only receives the rules.
    let c = change_on(&doc, township_actor(), |tx| schema::add_rule_entry(tx, &good).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Role));
    // Nothing reaches into the past: a policy dated before the change, a year already over.
    let back = entry(2, "policy.handle_days", "30", d("2024-01-01"));
    let c = change_on(&doc, bureau_actor(), |tx| schema::add_rule_entry(tx, &back).unwrap());
    assert_eq!(verdict(&bureau, &doc, &c), Err(Rule::Schema));
    let past = entry(3, "holidays.2023", "2023-01-02 holiday 元旦", today);
    let c = change_on(&doc, bureau_actor(), |tx| schema::add_rule_entry(tx, &past).unwrap());
    assert_eq!(verdict(&bureau, &doc, &c), Err(Rule::Schema));
    // A year the table cannot reach yet (2027 is missing before 2028) would not apply.
    let gap = entry(4, "holidays.2028", "2028-01-01 holiday 元旦", today);
    let c = change_on(&doc, bureau_actor(), |tx| schema::add_rule_entry(tx, &gap).unwrap());
    assert_eq!(verdict(&bureau, &doc, &c), Err(Rule::Schema));
    // Entries are never edited: a correction is a later entry.
    let mut held = doc.fork();
    let mut tx = held.transaction();
    schema::add_rule_entry(&mut tx, &good).unwrap();
    tx.commit_with(CommitOptions::default().with_time(AT / 1000));
    let entries = held.get(ROOT, "entries").unwrap().unwrap().1;
    let (_, obj) = held.get(&entries, "entry-1").unwrap().unwrap();
    let c = change_on(&held, bureau_actor(), |tx| tx.put(&obj, "value", "某某").unwrap());
    assert_eq!(verdict(&bureau, &held, &c), Err(Rule::AppendOnly));
    // Nobody but the hub creates the document (two creators would hide each other's entries).
    let empty = Automerge::new();
    let c = change_on(&empty, bureau_actor(), |tx| schema::write_rules(tx).unwrap());
    assert_eq!(verdict(&bureau, &empty, &c), Err(Rule::AppendOnly));
}

fn work_entry(
    id: &str,
    op: crate::work::EntryOp,
    by: &str,
    office: &str,
) -> crate::work::WorkEntry {
    crate::work::WorkEntry {
        id: id.into(),
        lamport: 2,
        op,
        target: None,
        by: by.into(),
        office: office.into(),
        at: AT,
        fields: Default::default(),
    }
}

fn text(s: &str) -> crate::work::FieldValue {
    crate::work::FieldValue::Text(s.into())
}

/// A screening list for March 2024 made by 黄桥 (`hq`), as its creating change and the
/// document after it.
fn screening(w: &World) -> (Change, Automerge) {
    use crate::work::{EntryOp, WorkKind, WorkRecord};
    let mut open = work_entry("0190a000-0000-7000-8000-000000000001", EntryOp::Open, "李娟", "hq");
    open.lamport = 1;
    open.fields.insert("month".into(), text("2024-03"));
    let record = WorkRecord {
        id: w.case_id,
        schema_version: 1,
        kind: WorkKind::Screening,
        office: "hq".into(),
        created_by: "李娟".into(),
        created_at: AT,
        import_key: None,
        entries: vec![open],
    };
    let c = change_on(&Automerge::new(), township_actor(), |tx| {
        schema::write_work(tx, &record).unwrap();
    });
    let mut doc = Automerge::new();
    doc.apply_changes([c.clone()]).unwrap();
    (c, doc)
}

fn dispute(id: &str) -> crate::work::WorkEntry {
    let mut e = work_entry(id, crate::work::EntryOp::Item, "李娟", "hq");
    for (k, v) in [
        ("parties", "张某与李某"),
        ("place", "大屋村"),
        ("issue", "宅基地界址争议"),
        ("risk", "medium"),
        ("measures", "村组调解"),
        ("owner", "李娟"),
        ("status", "resolving"),
    ] {
        e.fields.insert(k.into(), text(v));
    }
    e
}

#[test]
fn a_work_record_is_written_by_its_own_office_only() {
    let w = World::new();
    let township = w.input(w.township(), DocClass::Work);
    let (make, _) = screening(&w);
    assert_eq!(verdict(&township, &Automerge::new(), &make), Ok(()));
    // The bureau may not make a record in a township's name, nor write into one.
    let bureau = w.input(w.bureau(), DocClass::Work);
    let (_, made) = screening(&w);
    let record = schema::read_work(&made).unwrap();
    let in_their_name = change_on(&Automerge::new(), bureau_actor(), |tx| {
        schema::write_work(tx, &record).unwrap();
    });
    assert_eq!(verdict(&bureau, &Automerge::new(), &in_their_name), Err(Rule::Scope));
    let (_, doc) = screening(&w);
    let mut item = dispute("0190a000-0000-7000-8000-000000000002");
    item.office = "county".into();
    item.by = "刘洪".into();
    let c = change_on(&doc, bureau_actor(), |tx| schema::add_work_entry(tx, &item).unwrap());
    assert_eq!(verdict(&bureau, &doc, &c), Err(Rule::Scope));
    // Its own office adds to it, signed by someone on its roster.
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_work_entry(tx, &dispute("0190a000-0000-7000-8000-000000000002")).unwrap();
    });
    assert_eq!(verdict(&township, &doc, &c), Ok(()));
    let mut stranger = dispute("0190a000-0000-7000-8000-000000000002");
    stranger.by = "王五".into();
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &stranger).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Authorship));
    let mut elsewhere = dispute("0190a000-0000-7000-8000-000000000002");
    elsewhere.office = "sj".into();
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &elsewhere).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Authorship));
}

#[test]
fn a_work_record_only_grows_and_each_entry_is_one_its_kind_takes() {
    use crate::work::EntryOp;
    let w = World::new();
    let township = w.input(w.township(), DocClass::Work);
    let (_, doc) = screening(&w);
    // A field a dispute does not take, a code out of range, a missing field.
    let mut odd = dispute("0190a000-0000-7000-8000-000000000003");
    odd.fields.insert("leaflets".into(), crate::work::FieldValue::Count(3));
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &odd).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Schema));
    let mut risky = dispute("0190a000-0000-7000-8000-000000000003");
    risky.fields.insert("risk".into(), text("extreme"));
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &risky).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Schema));
    let mut short = dispute("0190a000-0000-7000-8000-000000000003");
    short.fields.remove("owner");
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &short).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Schema));
    // A key outside every kind's list is refused by the allow-list before the schema.
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_work_entry(tx, &dispute("0190a000-0000-7000-8000-000000000003")).unwrap();
        let log = tx.get(ROOT, schema::WORK_LOG).unwrap().unwrap().1;
        let (_, obj) = tx.get(&log, "0190a000-0000-7000-8000-000000000003").unwrap().unwrap();
        tx.put(&obj, "payload", "x").unwrap();
    });
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Role));
    // A second 建立 later, a correction naming no item, an edit of an entry, a new log.
    let mut reopen =
        work_entry("0190a000-0000-7000-8000-000000000004", EntryOp::Open, "李娟", "hq");
    reopen.fields.insert("month".into(), text("2024-04"));
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &reopen).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::AppendOnly));
    let mut amend =
        work_entry("0190a000-0000-7000-8000-000000000005", EntryOp::Amend, "李娟", "hq");
    amend.target = Some("nothing".into());
    amend.fields.insert("status".into(), text("settled"));
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &amend).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Schema));
    let log = doc.get(ROOT, schema::WORK_LOG).unwrap().unwrap().1;
    let (_, open) = doc.get(&log, "0190a000-0000-7000-8000-000000000001").unwrap().unwrap();
    let c = change_on(&doc, township_actor(), |tx| tx.put(&open, "month", "2024-05").unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::AppendOnly));
    let c = change_on(&doc, township_actor(), |tx| {
        tx.put_object(ROOT, schema::WORK_LOG, automerge::ObjType::Map).unwrap();
    });
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::AppendOnly));
    let c = change_on(&doc, township_actor(), |tx| tx.put(ROOT, "office", "sj").unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::AppendOnly));
    // An entry numbered as if it had not seen the log, or far past it, is refused.
    for lamport in [1, 40] {
        let mut early = dispute("0190a000-0000-7000-8000-000000000003");
        early.lamport = lamport;
        let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &early).unwrap());
        assert_eq!(verdict(&township, &doc, &c), Err(Rule::Authorship), "lamport {lamport}");
    }
    // The correction of an item that exists is accepted, in the same change as the item.
    let mut amend =
        work_entry("0190a000-0000-7000-8000-000000000006", EntryOp::Amend, "李娟", "hq");
    amend.lamport = 3;
    amend.target = Some("0190a000-0000-7000-8000-000000000003".into());
    amend.fields.insert("status".into(), text("settled"));
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_work_entry(tx, &dispute("0190a000-0000-7000-8000-000000000003")).unwrap();
        schema::add_work_entry(tx, &amend).unwrap();
    });
    assert_eq!(verdict(&township, &doc, &c), Ok(()));
}

#[test]
fn a_new_work_record_names_its_own_id_and_opens_once() {
    use crate::work::{EntryOp, WorkKind, WorkRecord};
    let w = World::new();
    let township = w.input(w.township(), DocClass::Work);
    let mut open = work_entry("0190a000-0000-7000-8000-000000000001", EntryOp::Open, "李娟", "hq");
    for (k, v) in [
        ("date", "2024-03-05"),
        ("channel", "phone"),
        ("topic", "征地补偿标准"),
        ("answer", "按省定标准"),
    ] {
        open.fields.insert(k.into(), text(v));
    }
    let record = |id: Uuid, entries: Vec<crate::work::WorkEntry>| WorkRecord {
        id,
        schema_version: 1,
        kind: WorkKind::Consult,
        office: "hq".into(),
        created_by: "李娟".into(),
        created_at: AT,
        import_key: None,
        entries,
    };
    let make = |r: &WorkRecord| {
        change_on(&Automerge::new(), township_actor(), |tx| schema::write_work(tx, r).unwrap())
    };
    assert_eq!(
        verdict(&township, &Automerge::new(), &make(&record(w.case_id, vec![open.clone()]))),
        Ok(())
    );
    let other = Uuid::from_u128(7);
    assert_eq!(
        verdict(&township, &Automerge::new(), &make(&record(other, vec![open.clone()]))),
        Err(Rule::Structure)
    );
    assert_eq!(
        verdict(&township, &Automerge::new(), &make(&record(w.case_id, vec![]))),
        Err(Rule::Schema)
    );
    let mut twice = open.clone();
    twice.id = "0190a000-0000-7000-8000-000000000007".into();
    assert_eq!(
        verdict(&township, &Automerge::new(), &make(&record(w.case_id, vec![open, twice]))),
        Err(Rule::AppendOnly)
    );
}

#[test]
fn a_work_entry_is_never_replaced_from_beside_a_concurrent_branch() {
    use crate::work::EntryOp;
    let w = World::new();
    let (_, doc) = screening(&w);
    let held_id = "0190a000-0000-7000-8000-000000000011";
    // The hub holds a voiding of the list, made after its creation.
    let mut void = work_entry(held_id, EntryOp::Void, "李娟", "hq");
    void.fields.insert("reason".into(), text("填错月份"));
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &void).unwrap());
    let mut held = doc.clone();
    held.apply_changes([c]).unwrap();
    // Another device builds on the list as it was before, and makes a map under the voiding's
    // key: its author "had not seen" it, but the hub holds it.
    let other = ActorId::from(vec![0x71; 16]);
    let mut actors = w.township_actors.clone();
    actors.push(other.to_hex_string());
    let caller = Caller { actors: &actors, ..w.township() };
    let input = w.input(caller, DocClass::Work);
    let mut forged = dispute(held_id);
    forged.lamport = 2;
    let c = change_on(&doc, other, |tx| schema::add_work_entry(tx, &forged).unwrap());
    assert_eq!(verdict(&input, &held, &c), Err(Rule::AppendOnly));
    // A new entry of its own from the same old point is fine.
    let c = change_on(&doc, ActorId::from(vec![0x71; 16]), |tx| {
        schema::add_work_entry(tx, &dispute("0190a000-0000-7000-8000-000000000012")).unwrap();
    });
    assert_eq!(verdict(&input, &held, &c), Ok(()));
}

#[test]
fn a_work_entry_has_a_uuid_and_follows_what_it_targets() {
    use crate::work::EntryOp;
    let w = World::new();
    let township = w.input(w.township(), DocClass::Work);
    let (_, doc) = screening(&w);
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_work_entry(tx, &dispute(&"x".repeat(300))).unwrap();
    });
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Structure));
    // A voiding numbered before the item it voids would be lost in the replay.
    let item = dispute("0190a000-0000-7000-8000-000000000021");
    let mut void = work_entry("0190a000-0000-7000-8000-000000000022", EntryOp::Void, "李娟", "hq");
    void.target = Some(item.id.clone());
    void.fields.insert("reason".into(), text("重复"));
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_work_entry(tx, &item).unwrap();
        schema::add_work_entry(tx, &void).unwrap();
    });
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Schema), "same Lamport number");
    void.lamport = 3;
    let c = change_on(&doc, township_actor(), |tx| {
        schema::add_work_entry(tx, &item).unwrap();
        schema::add_work_entry(tx, &void).unwrap();
    });
    assert_eq!(verdict(&township, &doc, &c), Ok(()));
    // A list's month is never corrected.
    let mut amend =
        work_entry("0190a000-0000-7000-8000-000000000023", EntryOp::Amend, "李娟", "hq");
    amend.fields.insert("month".into(), text("2024-04"));
    let c = change_on(&doc, township_actor(), |tx| schema::add_work_entry(tx, &amend).unwrap());
    assert_eq!(verdict(&township, &doc, &c), Err(Rule::Schema));
}

#[test]
fn a_container_is_made_once_in_a_new_document() {
    let w = World::new();
    let township = w.input(w.township(), DocClass::Work);
    let (make, _) = screening(&w);
    let twice = forge(&make, |c| {
        let first = c
            .operations
            .iter()
            .position(|op| matches!(op.action, OpType::Make(automerge::ObjType::Map)))
            .unwrap();
        let again = c.operations[first].clone();
        c.operations.push(again);
    });
    assert_eq!(verdict(&township, &Automerge::new(), &twice), Err(Rule::Schema));
}

#[test]
fn nothing_is_added_to_what_its_author_saw_voided_nor_a_list_filed_twice() {
    use crate::work::EntryOp;
    let w = World::new();
    let township = w.input(w.township(), DocClass::Work);
    let (_, mut doc) = screening(&w);
    let id = |n: u32| format!("0190a000-0000-7000-8000-{n:012}");
    let step = |doc: &mut Automerge, e: crate::work::WorkEntry| {
        let c = change_on(doc, township_actor(), |tx| schema::add_work_entry(tx, &e).unwrap());
        let verdict = verdict(&township, doc, &c);
        if verdict.is_ok() {
            doc.apply_changes([c]).unwrap();
        }
        verdict
    };
    let entry =
        |n: u32, lamport: u64, op: EntryOp, target: Option<u32>, fields: &[(&str, &str)]| {
            let mut e = work_entry(&id(n), op, "李娟", "hq");
            e.lamport = lamport;
            e.target = target.map(id);
            e.fields = fields.iter().map(|(k, v)| ((*k).to_owned(), text(v))).collect();
            e
        };
    let mut item = dispute(&id(2));
    item.lamport = 2;
    assert_eq!(step(&mut doc, item), Ok(()));
    assert_eq!(step(&mut doc, entry(3, 3, EntryOp::Void, Some(2), &[("reason", "重复")])), Ok(()));
    assert_eq!(step(&mut doc, entry(4, 4, EntryOp::File, None, &[])), Ok(()));
    // Seen voided, seen filed: refused.
    let amend = entry(5, 5, EntryOp::Amend, Some(2), &[("status", "settled")]);
    assert_eq!(step(&mut doc, amend), Err(Rule::Schema));
    assert_eq!(step(&mut doc, entry(6, 5, EntryOp::File, None, &[])), Err(Rule::Schema));
    // The record voided: nothing more.
    assert_eq!(step(&mut doc, entry(7, 5, EntryOp::Void, None, &[("reason", "建错")])), Ok(()));
    let mut late = dispute(&id(8));
    late.lamport = 6;
    assert_eq!(step(&mut doc, late), Err(Rule::Schema));
}

#[test]
fn a_case_read_again_part_by_part_reads_as_a_whole_read() {
    // The judge reads a case after a change on every head only where the change touched it,
    // taking the rest from what it read before: each kind of change, one after another, each
    // judged with the reading the last left, must read as the whole document does.
    let w = World::new();
    fn with_known<'a>(mut input: Input<'a>, known: &'a Case) -> Input<'a> {
        input.known = Known { doc: Some(known), case_doc: None };
        input
    }
    let mut doc = w.case(Purpose::Appeal);
    let mut case = schema::read_case(&doc).unwrap();
    let petitioner = PetitionerRef {
        id: "p2".into(),
        kind: PetitionerKind::Citizen,
        display_name: "李*".into(),
    };
    let mut submission = case.submissions[0].clone();
    submission.id = "s2".into();
    submission.received = d("2024-03-04");
    submission.registered_by = "county".into();
    submission.petitioners = vec!["p2".into()];
    let attachment = crate::model::AttachmentRef {
        hash: "cd".repeat(32),
        name: "现场照片.jpg".into(),
        size: 2048,
        mime: "image/jpeg".into(),
        added_at: AT,
        added_by: "county".into(),
    };
    fn bureau_note(case: &Case) -> Event {
        let actor = bureau_actor();
        event(case.next_lamport(), ActionKind::Investigate, "county", Role::Bureau, &actor, "刘洪")
    }
    type Write = Box<dyn Fn(&Case, &mut automerge::transaction::Transaction<'_>)>;
    let writes: Vec<(&str, Write)> = vec![
        (
            "a root field",
            Box::new(|_, tx| {
                schema::put_field(tx, &CaseField::Subject, FieldValue::Text("某公司".into()))
                    .unwrap()
            }),
        ),
        (
            "a draft",
            Box::new(|_, tx| schema::set_draft(tx, schema::Draft::Reply, "经调查").unwrap()),
        ),
        (
            "the other draft",
            Box::new(|_, tx| {
                schema::set_draft(tx, schema::Draft::Investigation, "现场核实").unwrap()
            }),
        ),
        (
            "an event",
            Box::new(|case, tx| {
                schema::add_event(tx, &bureau_note(case)).unwrap();
            }),
        ),
        (
            "a petitioner and a submission",
            Box::new(move |_, tx| {
                schema::add_petitioner(tx, &petitioner).unwrap();
                schema::add_submission(tx, &submission).unwrap();
            }),
        ),
        ("an attachment", Box::new(move |_, tx| schema::add_attachment(tx, &attachment).unwrap())),
        (
            "a field and an event at once",
            Box::new(|case, tx| {
                schema::put_field(tx, &CaseField::Village, FieldValue::Text("小屋村".into()))
                    .unwrap();
                schema::add_event(tx, &bureau_note(case)).unwrap();
            }),
        ),
    ];
    for (what, write) in &writes {
        let c = change_on(&doc, bureau_actor(), |tx| write(&case, tx));
        let input = with_known(w.input(w.bureau(), DocClass::Case), &case);
        let accepted = judge(&input, &doc, c.raw_bytes(), Some(c.hash().0))
            .unwrap_or_else(|r| panic!("{what}: {r:?}"));
        let read = accepted.case.clone().unwrap();
        assert_eq!(read, schema::read_case(&accepted.doc).unwrap(), "{what}");
        assert_ne!(read, case, "{what} changed the case");
        doc = accepted.doc;
        case = read;
    }
}

#[test]
fn an_operation_id_names_the_documents_object_whatever_its_actor_index() {
    // The scan names objects by the ids a decoded change carries, with no actor index
    // (`exid`); Automerge must find them by the actor's bytes. An upgrade that stopped doing
    // so would refuse every change to an existing record container.
    let w = World::new();
    let doc = w.case(Purpose::Appeal);
    let (_, events) = doc.get(ROOT, "events").unwrap().unwrap();
    let automerge::ObjId::Id(counter, actor, _) = &events else { panic!("events is the root") };
    let named = exid(&automerge::legacy::OpId(*counter, actor.clone()));
    assert_eq!(named, events);
    assert_eq!(doc.keys(&named).collect::<Vec<_>>(), doc.keys(&events).collect::<Vec<_>>());
    assert_eq!(doc.keys(&named).count(), 2, "the register and assign events");
    let stranger = op_id(*counter, &ActorId::from(vec![0x33; 16]));
    assert!(doc.get(&stranger, "x").is_err(), "an actor the document lacks names nothing");
}
