use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc};
use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::*;
use crate::model::{AttachmentRef, Case, CaseId, Event, EventHead, PetitionerRef, Submission};

fn coded<T: Clone + std::fmt::Debug + 'static>(
    known: &'static [T],
    unknown: fn(String) -> T,
) -> impl Strategy<Value = T> {
    prop_oneof![
        4 => proptest::sample::select(known),
        1 => "future_[a-z]{1,6}".prop_map(unknown),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0i64..4000)
        .prop_map(|d| NaiveDate::from_ymd_opt(2017, 1, 1).unwrap() + chrono::Duration::days(d))
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn id() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,12}"
}

fn submission() -> impl Strategy<Value = Submission> {
    (
        (id(), coded(Channel::KNOWN, Channel::Unknown), coded(Source::KNOWN, Source::Unknown)),
        (date(), 0u32..60, 0u32..500),
        proptest::array::uniform5(any::<bool>()),
        (prop::collection::vec(id(), 0..3), text(), id(), prop::option::of(id())),
        (prop::option::of(text()), prop::option::of(text())),
        (
            prop::option::of(text()),
            prop::collection::vec(id(), 0..3),
            proptest::array::uniform3(any::<bool>()),
        ),
    )
        .prop_map(
            |((id, channel, source), (received, batches, persons), f, rest, referral, more)| {
                Submission {
                    id,
                    channel,
                    source,
                    received,
                    batches,
                    persons,
                    collective: f[0],
                    skip_level: f[1],
                    repeat: f[2],
                    anonymous: f[3],
                    confidential: f[4],
                    petitioners: rest.0,
                    summary: rest.1,
                    registered_by: rest.2,
                    fingerprint: rest.3,
                    referred_by: referral.0,
                    referral_number: referral.1,
                    platform_number: more.0,
                    representatives: more.1,
                    urgent: more.2[0],
                    threat: more.2[1],
                    litigation: more.2[2],
                }
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    (
        (id(), 1u64..1000, coded(ActionKind::KNOWN, ActionKind::Unknown)),
        (id(), id(), coded(Role::KNOWN, Role::Unknown), text()),
        (-10_000_000_000_000i64..10_000_000_000_000, date(), any::<bool>()),
        (prop::option::of(text()), prop::option::of(date()), prop::option::of(text())),
        (
            prop::option::of(coded(Satisfaction::KNOWN, Satisfaction::Unknown)),
            prop::option::of(coded(CloseReason::KNOWN, CloseReason::Unknown)),
            prop::option::of(coded(Outcome::KNOWN, Outcome::Unknown)),
        ),
        (
            prop::option::of(coded(DocumentKind::KNOWN, DocumentKind::Unknown)),
            prop::option::of(text()),
            prop::option::of(id()),
            prop::option::of(coded(ReviewOutcome::KNOWN, ReviewOutcome::Unknown)),
            prop::option::of(coded(HandlingTrack::KNOWN, HandlingTrack::Unknown)),
        ),
        (
            prop::option::of(id()),
            prop::option::of(coded(FollowUpMethod::KNOWN, FollowUpMethod::Unknown)),
            any::<bool>(),
        ),
    )
        .prop_map(|(a, b, c, d, e, f, g)| Event {
            id: a.0,
            lamport: a.1,
            action: a.2,
            actor: b.0,
            office: b.1,
            role: b.2,
            handler: b.3,
            at: c.0,
            date: c.1,
            imported: c.2,
            target: d.0,
            due: d.1,
            text: d.2,
            satisfaction: e.0,
            close_reason: e.1,
            outcome: e.2,
            document_kind: f.0,
            document_number: f.1,
            field: f.2,
            review_outcome: f.3,
            track: f.4,
            refers: g.0,
            method: g.1,
            unreachable: g.2,
        })
}

fn attachment() -> impl Strategy<Value = AttachmentRef> {
    ("[0-9a-f]{64}", text(), any::<u64>(), "[a-z/]{0,12}", any::<i64>(), id()).prop_map(
        |(hash, name, size, mime, added_at, added_by)| AttachmentRef {
            hash,
            name,
            size,
            mime,
            added_at,
            added_by,
        },
    )
}

fn petitioner() -> impl Strategy<Value = PetitionerRef> {
    (id(), coded(PetitionerKind::KNOWN, PetitionerKind::Unknown), text())
        .prop_map(|(id, kind, display_name)| PetitionerRef { id, kind, display_name })
}

prop_compose! {
    fn case()(
        uuid in any::<u128>(),
        head in (text(), prop::option::of(text()), id()),
        terms in (
            coded(Purpose::KNOWN, Purpose::Unknown),
            coded(Sector::KNOWN, Sector::Unknown),
            coded(Category::KNOWN, Category::Unknown),
        ),
        body in (prop::option::of(text()), text(), text(), text(), any::<bool>()),
        petitioners in prop::collection::vec(petitioner(), 0..3),
        submissions in prop::collection::btree_map(id(), submission(), 1..4),
        events in prop::collection::btree_map(id(), event(), 0..8),
        attachments in prop::collection::btree_map("[0-9a-f]{64}", attachment(), 0..3),
        drafts in (text(), text()),
    ) -> Case {
        let mut case = Case {
            id: CaseId(uuid::Uuid::from_u128(uuid)),
            schema_version: crate::SCHEMA_VERSION,
            number: head.0,
            official_number: head.1,
            registered_by: head.2,
            purpose: terms.0,
            sector: terms.1,
            category: terms.2,
            jurisdiction: body.0,
            subject: body.1,
            request: body.2,
            village: body.3,
            confidential: body.4,
            identity_released: false,
            restrictive_values: false,
            demo: false,
            petitioners,
            submissions: submissions.into_iter().map(|(id, s)| Submission { id, ..s }).collect(),
            events: events.into_iter().map(|(id, e)| Event { id, ..e }).collect(),
            attachments: attachments.into_iter().map(|(hash, a)| AttachmentRef { hash, ..a }).collect(),
            reply_draft: drafts.0,
            investigation_report: drafts.1,
        };
        normalise(&mut case);
        case
    }
}

/// The order hydration returns collections in.
fn normalise(case: &mut Case) {
    case.submissions.sort_by(|a, b| (a.received, &a.id).cmp(&(b.received, &b.id)));
    case.sort_events();
    case.attachments.sort_by(|a, b| (a.added_at, &a.hash).cmp(&(b.added_at, &b.hash)));
}

fn doc_of(case: &Case) -> AutoCommit {
    let mut doc = AutoCommit::new();
    write_case(&mut doc, case).unwrap();
    doc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_case_survives_a_round_trip(case in case()) {
        let mut doc = doc_of(&case);
        prop_assert_eq!(&read_case(&doc).unwrap(), &case);
        // And through the binary format.
        let loaded = automerge::Automerge::load(&doc.save()).unwrap();
        prop_assert_eq!(read_case(&loaded).unwrap(), case);
    }

    #[test]
    fn newer_fields_and_values_survive_this_version(case in case(), extra in text()) {
        // A newer version wrote an extra field, an unknown enum value and an unknown key inside
        // an event.
        let mut newer = doc_of(&case);
        newer.put(ROOT, "hearing_room", extra.as_str()).unwrap();
        newer.put(ROOT, "category", "future_zoning").unwrap();
        let events = newer.get(ROOT, "events").unwrap().unwrap().1;
        let ev = newer.put_object(&events, "zz-newer-event", ObjType::Map).unwrap();
        for (k, v) in [("action", "escalate"), ("actor", "x"), ("office", "o"), ("role", "bureau"),
                       ("date", "2024-01-01"), ("priority", "high")] {
            newer.put(&ev, k, v).unwrap();
        }
        newer.put(&ev, "lamport", 7u64).unwrap();
        newer.put(&ev, "at", automerge::ScalarValue::Timestamp(5)).unwrap();
        let bytes = newer.save();

        // This version reads it, edits it with targeted writes, and saves.
        let mut ours = AutoCommit::load(&bytes).unwrap();
        let read = read_case(&ours).unwrap();
        prop_assert_eq!(&read.category, &Category::Unknown("future_zoning".into()));
        prop_assert!(read.events.iter().any(|e| e.action == ActionKind::Unknown("escalate".into())));
        put_field(&mut ours, &CaseField::Subject, FieldValue::Text("某公司".into())).unwrap();
        let mut next = read.events.first().cloned().unwrap_or_else(|| read.events_placeholder());
        next.id = "our-event-00001".into();
        next.lamport = read.next_lamport();
        add_event(&mut ours, &next).unwrap();
        let saved = ours.save();

        // The newer version's data is intact.
        let back = automerge::Automerge::load(&saved).unwrap();
        prop_assert_eq!(string_at(&back, &ROOT, "hearing_room"), Some(extra));
        prop_assert_eq!(string_at(&back, &ROOT, "category"), Some("future_zoning".to_owned()));
        let events = back.get(ROOT, "events").unwrap().unwrap().1;
        let ev = back.get(&events, "zz-newer-event").unwrap().unwrap().1;
        prop_assert_eq!(string_at(&back, &ev, "priority"), Some("high".to_owned()));
        let reread = read_case(&back).unwrap();
        prop_assert_eq!(reread.subject, "某公司");
        prop_assert_eq!(reread.category, Category::Unknown("future_zoning".into()));
        prop_assert_eq!(reread.events.len(), read.events.len() + 1);
    }
}

impl Case {
    fn events_placeholder(&self) -> Event {
        Event::new(EventHead {
            id: String::new(),
            lamport: 0,
            action: ActionKind::Notify,
            actor: "a".into(),
            office: "o".into(),
            role: Role::Bureau,
            handler: "h".into(),
            at: 0,
            date: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            imported: false,
        })
    }
}

fn string_at(doc: &impl ReadDoc, obj: &automerge::ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).unwrap()? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn sample() -> Case {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    case().new_tree(&mut runner).unwrap().current()
}

#[test]
fn identity_round_trip_and_update() {
    let id = CaseId(uuid::Uuid::from_u128(7));
    let identity = Identity {
        case_id: id,
        schema_version: crate::SCHEMA_VERSION,
        persons: vec![Person {
            id: "p1".into(),
            name: "张三".into(),
            id_type: IdType::ResidentId,
            id_number: "11010519491231002X".into(),
            phone: "13812345678".into(),
            address: "黄桥镇大屋村3组".into(),
        }],
    };
    let mut doc = AutoCommit::new();
    write_identity(&mut doc, &identity).unwrap();
    assert_eq!(read_identity(&doc).unwrap(), identity);
    let mut changed = identity.persons[0].clone();
    changed.phone = "13900000000".into();
    put_person(&mut doc, &changed).unwrap();
    assert_eq!(read_identity(&doc).unwrap().persons[0].phone, "13900000000");
    // A case document is not an identity document, and vice versa.
    assert!(matches!(read_case(&doc), Err(SchemaError::Kind { .. })));
    assert_eq!(document_kind(&doc).as_deref(), Some("identity"));
}

#[test]
fn concurrent_field_edits_are_kept_as_conflicts() {
    let case = sample();
    let mut bureau = doc_of(&case);
    let mut township = bureau.fork().with_actor(automerge::ActorId::random());
    put_field(&mut bureau, &CaseField::Category, FieldValue::Text("dispute".into())).unwrap();
    put_field(&mut township, &CaseField::Category, FieldValue::Text("other".into())).unwrap();
    bureau.merge(&mut township).unwrap();
    let found = conflicts(&bureau).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field, CaseField::Category);
    let mut values = found[0].values.clone();
    // The winner `get` shows comes first.
    assert_eq!(values[0], read_case(&bureau).unwrap().category.code());
    values.sort();
    assert_eq!(values, ["dispute", "other"]);
    // Resolving is a put that has seen both: the conflict is gone.
    put_field(&mut bureau, &CaseField::Category, FieldValue::Text("other".into())).unwrap();
    assert!(conflicts(&bureau).unwrap().is_empty());
}

#[test]
fn concurrent_events_and_submissions_merge_without_loss() {
    let mut case = sample();
    case.events.clear();
    let mut a = doc_of(&case);
    let mut b = a.fork().with_actor(automerge::ActorId::random());
    let mut e1 = case.events_placeholder();
    e1.id = "e-a".into();
    e1.lamport = 1;
    let mut e2 = e1.clone();
    e2.id = "e-b".into();
    add_event(&mut a, &e1).unwrap();
    add_event(&mut b, &e2).unwrap();
    let mut s = case.submissions[0].clone();
    s.id = "repeat-visit".into();
    add_submission(&mut b, &s).unwrap();
    a.merge(&mut b).unwrap();
    let merged = read_case(&a).unwrap();
    assert_eq!(merged.events.len(), 2);
    assert_eq!(merged.submissions.len(), case.submissions.len() + 1);
}

#[test]
fn drafts_are_text_and_merge_character_edits() {
    let mut case = sample();
    case.reply_draft = "经调查，情况属实。".into();
    let mut a = doc_of(&case);
    let mut b = a.fork().with_actor(automerge::ActorId::random());
    set_draft(&mut a, Draft::Reply, "经调查核实，情况属实。").unwrap();
    set_draft(&mut b, Draft::Reply, "经调查，情况属实。已责令整改。").unwrap();
    a.merge(&mut b).unwrap();
    assert_eq!(read_case(&a).unwrap().reply_draft, "经调查核实，情况属实。已责令整改。");
}

#[test]
fn text_costs_many_more_operations_than_a_scalar() {
    let reply =
        "经调查核实，你反映的黄桥镇大屋村违法占地建房问题属实，我局已依法立案查处。".repeat(4);
    let mut scalar = AutoCommit::new();
    scalar.put(ROOT, "reply", reply.as_str()).unwrap();
    let mut text = AutoCommit::new();
    let obj = text.put_object(ROOT, "reply", ObjType::Text).unwrap();
    text.splice_text(&obj, 0, 0, &reply).unwrap();
    let ops = |d: &mut AutoCommit| d.get_changes(&[]).iter().map(|c| c.len()).sum::<usize>();
    let (s, t) = (ops(&mut scalar), ops(&mut text));
    assert_eq!(s, 1);
    assert!(t >= 30 * s, "text {t} ops vs scalar {s}");
}

#[test]
fn reading_at_heads_sees_the_past() {
    let case = sample();
    let mut doc = doc_of(&case);
    let before = doc.get_heads();
    put_field(&mut doc, &CaseField::Jurisdiction, FieldValue::Text("石江镇".into())).unwrap();
    assert_eq!(read_case(&doc).unwrap().jurisdiction.as_deref(), Some("石江镇"));
    let past = read_case_at(&doc, &before).unwrap();
    assert_eq!(past.jurisdiction, case.jurisdiction);
    assert_eq!(
        field_values(&doc, &CaseField::Jurisdiction, Some(&before)).unwrap(),
        case.jurisdiction.iter().cloned().collect::<Vec<_>>()
    );
}

#[test]
fn malformed_documents_are_errors_not_panics() {
    let mut doc = AutoCommit::new();
    assert!(matches!(read_case(&doc), Err(SchemaError::Kind { found: None, .. })));
    doc.put(ROOT, "kind", "case").unwrap();
    doc.put(ROOT, "id", "not-a-uuid").unwrap();
    assert!(matches!(read_case(&doc), Err(SchemaError::Value { .. })));
    let mut doc = doc_of(&sample());
    doc.put(ROOT, "number", 5u64).unwrap();
    assert!(matches!(read_case(&doc), Err(SchemaError::Type { .. })));
    let mut doc = doc_of(&sample());
    let subs = doc.get(ROOT, "submissions").unwrap().unwrap().1;
    let key = doc.keys(&subs).next().unwrap();
    let obj = doc.get(&subs, &key).unwrap().unwrap().1;
    doc.put(&obj, "received", "2017-13-40").unwrap();
    assert!(matches!(read_case(&doc), Err(SchemaError::Value { .. })));
}

/// The keys of every record object in `container` (a map of records, or a list of them).
fn record_keys_in(doc: &impl ReadDoc, container: &str) -> BTreeSet<String> {
    let (_, obj) = doc.get(ROOT, container).unwrap().unwrap();
    let records: Vec<automerge::ObjId> = match doc.object_type(&obj).unwrap() {
        ObjType::List => {
            (0..doc.length(&obj)).map(|i| doc.get(&obj, i).unwrap().unwrap().1).collect()
        }
        _ => doc.keys(&obj).map(|k| doc.get(&obj, k.as_str()).unwrap().unwrap().1).collect(),
    };
    assert!(!records.is_empty(), "no record in {container}");
    records.iter().flat_map(|r| doc.keys(r)).collect()
}

fn listed(keys: &[&str]) -> BTreeSet<String> {
    let set: BTreeSet<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(set.len(), keys.len(), "a key listed twice");
    set
}

#[test]
fn writers_write_exactly_the_listed_keys() {
    // Every optional value set, so every key the writers can write is written.
    let date = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
    let mut event = Event::new(EventHead {
        id: "ev-1".into(),
        lamport: 1,
        action: ActionKind::Register,
        actor: "00".into(),
        office: "hq".into(),
        role: Role::Township,
        handler: "李娟".into(),
        at: 1_709_604_000_000,
        date,
        imported: true,
    });
    event.target = Some("黄桥镇".into());
    event.due = Some(date);
    event.text = Some("经调查".into());
    event.satisfaction = Some(Satisfaction::KNOWN[0].clone());
    event.close_reason = Some(CloseReason::KNOWN[0].clone());
    event.outcome = Some(Outcome::KNOWN[0].clone());
    event.review_outcome = Some(ReviewOutcome::KNOWN[0].clone());
    event.track = Some(HandlingTrack::KNOWN[0].clone());
    event.document_kind = Some(DocumentKind::KNOWN[0].clone());
    event.document_number = Some("洞口信〔2024〕1号".into());
    event.field = Some("subject".into());
    event.refers = Some("ev-1".into());
    event.method = Some(FollowUpMethod::KNOWN[0].clone());
    event.unreachable = true;
    let mut case = sample();
    case.petitioners = vec![PetitionerRef {
        id: "p1".into(),
        kind: PetitionerKind::Citizen,
        display_name: "张*".into(),
    }];
    case.submissions.truncate(1);
    case.submissions[0].fingerprint = Some("fp".into());
    case.submissions[0].referred_by = Some("邵阳市信访局".into());
    case.submissions[0].referral_number = Some("邵信交〔2024〕12号".into());
    case.submissions[0].platform_number = Some("JB2024030500012".into());
    case.submissions[0].representatives = vec!["p1".into()];
    case.submissions[0].urgent = true;
    case.submissions[0].threat = true;
    case.submissions[0].litigation = true;
    case.events = vec![event];
    case.attachments = vec![AttachmentRef {
        hash: "ab".repeat(32),
        name: "照片.jpg".into(),
        size: 1,
        mime: "image/jpeg".into(),
        added_at: 1_709_604_000_000,
        added_by: "hq".into(),
    }];
    let doc = doc_of(&case);
    for (container, keys) in [
        ("events", EVENT_KEYS),
        ("submissions", SUBMISSION_KEYS),
        ("petitioners", PETITIONER_KEYS),
        ("attachments", ATTACHMENT_KEYS),
    ] {
        assert_eq!(record_keys(container), keys);
        assert_eq!(record_keys_in(&doc, container), listed(keys), "{container}");
    }
    let mut identity = AutoCommit::new();
    write_identity(
        &mut identity,
        &Identity {
            case_id: case.id,
            schema_version: crate::SCHEMA_VERSION,
            persons: vec![Person {
                id: "p1".into(),
                name: "张三".into(),
                id_type: IdType::ResidentId,
                id_number: "11010519491231002X".into(),
                phone: "13812345678".into(),
                address: "大屋村".into(),
            }],
        },
    )
    .unwrap();
    assert_eq!(record_keys("persons"), PERSON_KEYS);
    assert_eq!(record_keys_in(&identity, "persons"), listed(PERSON_KEYS));
    let mut roster = AutoCommit::new();
    write_roster(&mut roster, "hq").unwrap();
    add_staff(&mut roster, "李娟", date).unwrap();
    staff_left(&mut roster, "李娟", date).unwrap();
    assert_eq!(record_keys("staff"), STAFF_KEYS);
    assert_eq!(record_keys_in(&roster, "staff"), listed(STAFF_KEYS));
    // A container this version does not know holds nothing it would accept.
    assert!(record_keys("hearings").is_empty());
}
