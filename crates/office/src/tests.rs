use std::sync::Arc;

use chrono::NaiveDate;
use ledger_domain::schema::{CaseField, Draft};
use ledger_domain::stats::Period;
use ledger_domain::{
    ActionKind, CloseReason, DocumentKind, FollowUpMethod, HandlingTrack, NewCase, NewPetitioner,
    NewSubmission, ReviewOutcome, Role, Satisfaction, Status,
};

use super::*;

fn clock_at(date: &str) -> Clock {
    let d: NaiveDate = date.parse().unwrap();
    let ms = d.and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis();
    Arc::new(move || ms)
}

#[allow(clippy::needless_pass_by_value)]
fn config(role: Role) -> OfficeConfig {
    let mut c = match role {
        Role::Bureau => OfficeConfig::new("county", "洞口县国土资源局", Role::Bureau),
        _ => OfficeConfig::new("hq", "黄桥镇国土所", Role::Township),
    };
    c.staff = vec!["刘洪".into(), "李娟".into()];
    c.townships = match role {
        Role::Bureau => vec!["黄桥镇".into(), "石江镇".into(), "高沙镇".into()],
        _ => vec!["黄桥镇".into()],
    };
    c
}

fn office(role: Role, date: &str) -> (tempfile::TempDir, Office) {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::init(dir.path(), config(role), clock_at(date)).unwrap();
    (dir, office)
}

fn new_case(received: &str) -> NewCase {
    NewCase {
        submission: NewSubmission {
            received: Some(received.parse().unwrap()),
            channel: "来访".into(),
            source: "本局接收".into(),
            persons: Some(2),
            ..Default::default()
        },
        sector: "涉土".into(),
        category: "违法占地建设".into(),
        purpose: "检举控告".into(),
        township: "黄桥镇".into(),
        request: "邻居在承包地上违法建房，请求依法查处".into(),
        village: "大屋村".into(),
        petitioners: vec![NewPetitioner {
            name: "张三丰".into(),
            id_number: "11010519491231002X".into(),
            phone: "13812345678".into(),
            address: "黄桥镇大屋村3组".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// 受理 on the petition procedure (§31(6)), whatever the 信访目的 proposes: the tests of the
/// stages after the reply (送达, 复查, 复核) need a matter open to review.
fn petition(action: ActionKind) -> ActionInput {
    ActionInput { track: Some(HandlingTrack::Petition), ..act(action) }
}

fn act(action: ActionKind) -> ActionInput {
    // A reply states its 处理意见 (信访工作条例 §32).
    let outcome = (action == ActionKind::Reply).then_some(ledger_domain::Outcome::Supported);
    ActionInput { action: Some(action), outcome, ..Default::default() }
}

#[test]
fn init_then_open_keeps_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::init(dir.path(), config(Role::Bureau), clock_at("2024-03-01")).unwrap();
    drop(office);
    let office = Office::open(dir.path(), clock_at("2024-03-01")).unwrap();
    assert_eq!(office.config().code, "county");
    assert_eq!(office.config().number_prefix, "洞口");
    assert!(office.is_bureau());
    let empty = tempfile::tempdir().unwrap();
    let err = Office::open(empty.path(), system_clock()).err().unwrap();
    assert_eq!(err.code(), "not_initialised");
    assert!(err.to_string().contains("ledger init"));
}

/// The first field error of an invalid input, as (field, message).
fn field_error(err: OfficeError) -> (String, String) {
    match err {
        OfficeError::Invalid(fields) => (fields[0].field.clone(), fields[0].message.clone()),
        other => panic!("not a field error: {other}"),
    }
}

/// `ledger init` and the app's 离线使用 pass what was typed; the office keeps it one way.
#[test]
fn init_keeps_the_settings_as_typed_tidied_and_names_the_field_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut typed = OfficeConfig::new(" hq ", " 黄桥镇国土所 ", Role::Township);
    typed.townships = vec![" 黄桥镇 ".into(), "  ".into()];
    typed.staff = vec!["".into(), " 李娟".into(), "刘洪 ".into()];
    let office = Office::init(dir.path(), typed, clock_at("2024-03-01")).unwrap();
    let kept = office.config();
    assert_eq!((kept.code.as_str(), kept.name.as_str()), ("hq", "黄桥镇国土所"));
    assert_eq!(kept.townships, ["黄桥镇"]);
    assert_eq!(kept.staff, ["李娟", "刘洪"]);

    for (config, field) in [
        (OfficeConfig::new("  ", "黄桥镇国土所", Role::Township), "code"),
        (OfficeConfig::new("hq", "", Role::Township), "name"),
        (
            OfficeConfig {
                staff: vec!["李娟".into(), " 李娟 ".into()], ..config(Role::Township)
            },
            "staff",
        ),
        (
            OfficeConfig {
                townships: vec!["黄桥镇".into(), "黄桥镇".into()],
                ..config(Role::Township)
            },
            "townships",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let err = Office::init(dir.path(), config.clone(), clock_at("2024-03-01")).err().unwrap();
        assert_eq!(field_error(err).0, field, "{config:?}");
        let unlock = Unlock::Passphrase("a long passphrase".into());
        let err = Office::init_unlocked(dir.path(), config, &unlock, clock_at("2024-03-01"))
            .err()
            .unwrap();
        assert_eq!(field_error(err).0, field);
        assert!(!ledger_store_exists(dir.path()), "nothing made");
    }
}

/// `ledger staff add/remove` and the settings screen's staff list edit it through the office.
#[test]
fn the_staff_list_is_edited_through_the_office_and_refusals_name_the_field() {
    let (_d, office) = office(Role::Bureau, "2024-03-01");
    assert_eq!(office.add_staff(" 王五 ").unwrap().staff, ["刘洪", "李娟", "王五"]);
    assert_eq!(office.handler(Some("王五")).unwrap(), "王五");
    let (field, message) = field_error(office.add_staff("李娟").unwrap_err());
    assert_eq!(field, "staff");
    assert!(message.contains("已在本单位人员名单中"), "{message}");
    assert_eq!(field_error(office.add_staff("  ").unwrap_err()).0, "staff");

    assert_eq!(office.remove_staff("刘洪").unwrap().staff, ["李娟", "王五"]);
    assert_eq!(office.handler(None).unwrap(), "李娟", "the first is the default");
    let (field, message) = field_error(office.remove_staff("刘洪").unwrap_err());
    assert_eq!(field, "staff");
    assert!(message.contains("不在本单位人员名单中"), "{message}");

    let kept = office.set_staff(vec![" 赵六".into(), "".into(), "李娟".into()]).unwrap();
    assert_eq!(kept.staff, ["赵六", "李娟"]);
    for bad in [vec!["赵六".into(), "赵六".into()], vec![" ".into()], vec![]] {
        assert_eq!(field_error(office.set_staff(bad).unwrap_err()).0, "staff");
    }
    office.remove_staff("赵六").unwrap();
    let (field, message) = field_error(office.remove_staff("李娟").unwrap_err());
    assert_eq!(field, "staff");
    assert!(message.contains("至少保留一名办理人"), "{message}");
    assert_eq!(office.config().staff, ["李娟"], "refusals change nothing");
}

#[test]
fn handlers_come_from_the_staff_list() {
    let (_d, office) = office(Role::Bureau, "2024-03-01");
    assert_eq!(office.handler(None).unwrap(), "刘洪");
    assert_eq!(office.handler(Some("李娟")).unwrap(), "李娟");
    let err = office.handler(Some("王五")).unwrap_err();
    assert!(err.to_string().contains("不在本单位人员名单中"), "{err}");
}

#[test]
fn register_numbers_and_indexes_the_case() {
    let (_d, office) = office(Role::Bureau, "2024-03-02");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    let id2 = office.register(&new_case("2024-03-02"), Some("李娟")).unwrap();
    let view = office.view(id).unwrap();
    assert_eq!(view.case.number, "洞口-2024-A-0001");
    assert_eq!(office.case(id2).unwrap().number, "洞口-2024-A-0002");
    assert_eq!(view.status, Status::Registered);
    assert_eq!(view.case.events[0].handler, "刘洪");
    assert_eq!(office.case(id2).unwrap().events[0].handler, "李娟");
    assert_eq!(view.identity.unwrap().persons[0].name, "张三丰");
    assert!(view.allowed_actions.contains(&ActionKind::Assign));
    let decide = view.deadlines.get(&ledger_domain::DeadlineKind::Decide).unwrap();
    assert_eq!(decide.due, "2024-03-18".parse::<NaiveDate>().unwrap());
    let page = office.list(&CaseQuery { text: Some("三丰".into()), ..Default::default() }).unwrap();
    assert_eq!(page.total, 2);
    // Bad input changes nothing and says what is wrong.
    let mut bad = new_case("2024-03-01");
    bad.category = "外星人".into();
    let err = office.register(&bad, None).unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("问题类别"), "{err}");
    assert_eq!(office.case_count().unwrap(), 2);
}

#[test]
fn bureau_referral_actions_and_refusals() {
    let (_d, office) = office(Role::Bureau, "2024-03-05");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    assert_eq!(office.act(id, &act(ActionKind::Accept)).unwrap(), Status::Accepted);
    assert_eq!(office.case(id).unwrap().official_number.as_deref(), Some("洞口信〔2024〕1号"));
    let err = office.act(id, &act(ActionKind::Assign)).unwrap_err();
    assert!(err.to_string().contains("承办乡镇"), "{err}");
    let err = office
        .act(id, &ActionInput { target: Some("火星镇".into()), ..act(ActionKind::Assign) })
        .unwrap_err();
    assert!(err.to_string().contains("不是本县的乡镇"), "{err}");
    let status = office
        .act(
            id,
            &ActionInput {
                target: Some("石江镇".into()),
                due: Some("2024-04-01".parse().unwrap()),
                ..act(ActionKind::Assign)
            },
        )
        .unwrap();
    assert_eq!(status, Status::Assigned);
    assert_eq!(office.case(id).unwrap().jurisdiction.as_deref(), Some("石江镇"));
    // The bureau does not investigate or reply to a case it assigned down.
    let err = office
        .act(id, &ActionInput { text: Some("x".into()), ..act(ActionKind::Reply) })
        .unwrap_err();
    assert_eq!(err.code(), "refused");
    assert!(err.to_string().contains("乡镇国土所"), "{err}");
    let err = office
        .act(id, &ActionInput { target: Some("石江镇".into()), ..act(ActionKind::Reassign) })
        .unwrap_err();
    assert!(err.to_string().contains("无需改派"), "{err}");
    office
        .act(id, &ActionInput { target: Some("高沙镇".into()), ..act(ActionKind::Reassign) })
        .unwrap();
    assert_eq!(office.case(id).unwrap().jurisdiction.as_deref(), Some("高沙镇"));
    // Extension needs a date within 30 days and a reason.
    let err = office
        .act(
            id,
            &ActionInput { due: Some("2024-06-01".parse().unwrap()), ..act(ActionKind::Extend) },
        )
        .unwrap_err();
    assert!(err.to_string().contains("理由"), "{err}");
    let err = office
        .act(
            id,
            &ActionInput {
                due: Some("2024-06-30".parse().unwrap()),
                text: Some("案情复杂".into()),
                ..act(ActionKind::Extend)
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("30"), "{err}");
    office
        .act(
            id,
            &ActionInput {
                due: Some("2024-05-20".parse().unwrap()),
                text: Some("案情复杂".into()),
                ..act(ActionKind::Extend)
            },
        )
        .unwrap();
    assert_eq!(office.view(id).unwrap().status, Status::Extended);
    // Void needs a reason and excludes the case from statistics.
    assert!(office.void(id, "", None).is_err());
    office.void(id, "重复登记", None).unwrap();
    let stats = office.statistics(Period::year(2024).unwrap(), None).unwrap();
    assert_eq!(stats.total, 0);
}

#[test]
fn township_handles_and_the_bureau_closes() {
    let (_d, township) = office(Role::Township, "2024-03-10");
    let id = township.register(&new_case("2024-03-09"), None).unwrap();
    let err = township.act(id, &act(ActionKind::Accept)).unwrap_err();
    assert!(err.to_string().contains("只能由县局办理"), "{err}");
    let err = township.act(id, &act(ActionKind::Investigate)).unwrap_err();
    assert!(err.to_string().contains("「登记」"), "{err}");
    let view = township.view(id).unwrap();
    assert!(!view.allowed_actions.contains(&ActionKind::Close));
    assert_eq!(view.case.jurisdiction.as_deref(), Some("黄桥镇"));
    // The township may not change bureau-only fields.
    assert!(township.set_field(id, &CaseField::OfficialNumber, "X").is_err());
    assert!(township.set_field(id, &CaseField::Jurisdiction, "石江镇").is_err());
    township.set_field(id, &CaseField::Subject, "某建筑公司").unwrap();
    assert_eq!(township.case(id).unwrap().subject, "某建筑公司");
}

#[test]
fn a_supervision_order_names_its_demand_and_day_and_each_report_answers_one() {
    let (_d, bureau) = office(Role::Bureau, "2024-03-10");
    let id = bureau.register(&new_case("2024-03-09"), None).unwrap();
    bureau.act(id, &petition(ActionKind::Accept)).unwrap();
    let order = |text: &str, due: &str, to: Option<&str>| ActionInput {
        text: Some(text.into()),
        due: Some(due.parse().unwrap()),
        target: to.map(str::to_owned),
        ..act(ActionKind::Supervise)
    };
    let refused = |input: ActionInput| field_error(bureau.act(id, &input).unwrap_err());
    assert_eq!(
        refused(ActionInput { text: None, ..order("x", "2024-03-20", Some("法规股")) }).0,
        "text"
    );
    assert_eq!(
        refused(ActionInput { due: None, ..order("查清", "2024-03-20", Some("法规股")) }).0,
        "due"
    );
    assert_eq!(refused(order("查清", "2024-03-09", Some("法规股"))).0, "due", "a day already past");
    // Handled by the bureau itself: no township to default to.
    let (field, message) = refused(order("查清", "2024-03-20", None));
    assert_eq!(field, "to", "{message}");
    assert!(!bureau.view(id).unwrap().allowed_actions.contains(&ActionKind::SuperviseReport));

    bureau.act(id, &order("三日内查清占地面积", "2024-03-13", Some("执法监察大队"))).unwrap();
    bureau.act(id, &order("报送处理意见", "2024-03-20", Some("执法监察大队"))).unwrap();
    let view = bureau.view(id).unwrap();
    // 首问责任: whoever registered it answers for it, shown with the case.
    let first = view.first_receiver.clone().unwrap();
    assert_eq!((first.handler.as_str(), first.office.as_str()), ("刘洪", "county"));
    assert_eq!(first.date, "2024-03-10".parse::<NaiveDate>().unwrap());
    assert_eq!(view.supervisions.len(), 2);
    assert_eq!(view.supervisions[0].demand.as_deref(), Some("三日内查清占地面积"));
    assert_eq!(view.supervisions[0].to.as_deref(), Some("执法监察大队"));
    let clocks = view.deadlines.items.iter().filter(|d| d.kind == DeadlineKind::Supervised).count();
    assert_eq!(clocks, 2);
    assert!(view.allowed_actions.contains(&ActionKind::SuperviseReport));
    let (first, second) = (view.supervisions[0].id.clone(), view.supervisions[1].id.clone());

    let report = |refers: Option<&str>, text: Option<&str>| ActionInput {
        refers: refers.map(str::to_owned),
        text: text.map(str::to_owned),
        ..act(ActionKind::SuperviseReport)
    };
    let (field, message) = refused(report(None, Some("已查清")));
    assert_eq!(field, "refers");
    assert!(message.contains("2份"), "{message}");
    assert_eq!(refused(report(Some("no-such-order"), Some("已查清"))).0, "refers");
    assert_eq!(refused(report(Some(&first), None)).0, "text");
    bureau.act(id, &report(Some(&first), Some("占地0.3亩，已拍照取证"))).unwrap();
    assert_eq!(refused(report(Some(&first), Some("再报一次"))).0, "refers", "answered already");
    // One left: it needs no choosing.
    bureau.act(id, &report(None, Some("拟予支持，已报局务会"))).unwrap();
    let view = bureau.view(id).unwrap();
    let reports: Vec<_> = view.supervisions.iter().map(|s| s.report.clone()).collect();
    let on: NaiveDate = "2024-03-10".parse().unwrap();
    assert_eq!(
        reports,
        vec![
            Some((on, "占地0.3亩，已拍照取证".to_owned())),
            Some((on, "拟予支持，已报局务会".to_owned()))
        ]
    );
    let event = view.case.events.iter().rev().find(|e| e.action == ActionKind::SuperviseReport);
    assert_eq!(event.and_then(|e| e.refers.clone()), Some(second));
    assert!(!view.allowed_actions.contains(&ActionKind::SuperviseReport));
    assert!(view.anomalies.is_empty(), "{:?}", view.anomalies);
    let err = bureau.act(id, &report(None, Some("x"))).unwrap_err();
    assert!(err.to_string().contains("没有待反馈的督办单"), "{err}");
}

#[test]
fn a_follow_up_says_how_and_what_was_heard_or_that_no_one_was_reached() {
    let (_d, bureau) = office(Role::Bureau, "2024-03-10");
    let id = bureau.register(&new_case("2024-03-09"), None).unwrap();
    bureau.act(id, &petition(ActionKind::Accept)).unwrap();
    bureau
        .act(id, &ActionInput { text: Some("经调查核实……".into()), ..act(ActionKind::Reply) })
        .unwrap();
    let visit = |method: Option<FollowUpMethod>, text: Option<&str>| ActionInput {
        method,
        text: text.map(str::to_owned),
        ..act(ActionKind::FollowUp)
    };
    let refused = |input: ActionInput| field_error(bureau.act(id, &input).unwrap_err());
    assert_eq!(refused(visit(None, Some("表示满意"))).0, "method");
    let (field, message) = refused(visit(Some(FollowUpMethod::Phone), None));
    assert_eq!(field, "text");
    assert!(message.contains("无法回访"), "{message}");
    let unreachable = ActionInput {
        unreachable: true,
        result: Some(Satisfaction::Satisfied),
        ..visit(Some(FollowUpMethod::Phone), None)
    };
    assert_eq!(refused(unreachable.clone()).0, "result", "no one stated a satisfaction");

    bureau.act(id, &ActionInput { result: None, ..unreachable }).unwrap();
    bureau
        .act(
            id,
            &ActionInput {
                result: Some(Satisfaction::BasicallySatisfied),
                ..visit(Some(FollowUpMethod::Visit), Some("违建已拆，信访人表示基本满意"))
            },
        )
        .unwrap();
    let view = bureau.view(id).unwrap();
    let visits: Vec<_> = view
        .case
        .events
        .iter()
        .filter(|e| e.action == ActionKind::FollowUp)
        .map(|e| (e.method.clone(), e.unreachable, e.satisfaction.clone()))
        .collect();
    assert_eq!(
        visits,
        vec![
            (Some(FollowUpMethod::Phone), true, None),
            (Some(FollowUpMethod::Visit), false, Some(Satisfaction::BasicallySatisfied))
        ]
    );
    // The satisfaction heard on a 回访 is not the petitioner's 评价 the statistics count.
    assert!(view.evaluations.is_empty());
}

#[test]
fn service_is_recorded_and_a_late_review_request_needs_its_reason() {
    let (dir, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    let deliver = |date: Option<&str>| ActionInput {
        target: Some("张三丰".into()),
        text: Some("直接送达".into()),
        date: date.map(|d| d.parse().unwrap()),
        ..act(ActionKind::Deliver)
    };
    assert_eq!(office.act(id, &deliver(None)).unwrap_err().code(), "refused", "nothing decided");
    office.act(id, &petition(ActionKind::Accept)).unwrap();
    let err = office.act(id, &deliver(None)).unwrap_err();
    assert!(err.to_string().contains("尚未答复"), "no reply to serve yet: {err}");
    office.act(id, &act(ActionKind::Investigate)).unwrap();
    office
        .act(id, &ActionInput { text: Some("经调查核实……".into()), ..act(ActionKind::Reply) })
        .unwrap();
    let view = office.view(id).unwrap();
    assert!(view.deadlines.problems.iter().any(|p| p.message.contains("送达")));
    let err = office.act(id, &ActionInput { target: None, ..deliver(None) }).unwrap_err();
    assert!(err.to_string().contains("受送达人"), "{err}");
    let err = office.act(id, &ActionInput { text: None, ..deliver(None) }).unwrap_err();
    assert!(err.to_string().contains("送达方式"), "{err}");
    let err = office.act(id, &deliver(Some("2024-03-11"))).unwrap_err();
    assert!(err.to_string().contains("晚于今天"), "{err}");
    let err = office.act(id, &deliver(Some("2024-03-09"))).unwrap_err();
    assert!(err.to_string().contains("早于答复日期"), "{err}");
    office.act(id, &deliver(Some("2024-03-10"))).unwrap();
    let view = office.view(id).unwrap();
    let window = view.deadlines.get(&ledger_domain::deadline::DeadlineKind::ReviewRequest).unwrap();
    assert_eq!(window.due.to_string(), "2024-04-09", "30 days from service");

    // Forty days later the petitioner asks for a review: refused unless a reason is recorded.
    drop(office);
    let late = Office::open(dir.path(), clock_at("2024-04-19")).unwrap();
    let err = late.act(id, &act(ActionKind::Review)).unwrap_err();
    assert!(err.to_string().contains("超过期限"), "{err}");
    late.act(
        id,
        &ActionInput {
            text: Some("因病住院，有出院证明".into()), ..act(ActionKind::Review)
        },
    )
    .unwrap();
    let window = late
        .view(id)
        .unwrap()
        .deadlines
        .get(&ledger_domain::deadline::DeadlineKind::ReviewRequest)
        .cloned()
        .unwrap();
    assert!(window.late, "the request is on record as late");
}

#[test]
fn the_bureau_records_the_reviewing_bodies_and_a_set_aside_reopens() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    office.act(id, &petition(ActionKind::Accept)).unwrap();
    office
        .act(id, &ActionInput { text: Some("经调查核实……".into()), ..act(ActionKind::Reply) })
        .unwrap();
    office.act(id, &act(ActionKind::Review)).unwrap();
    // The handling office does not answer a review itself.
    let err = office.act(id, &ActionInput { text: Some("维持".into()), ..act(ActionKind::Reply) });
    assert!(err.unwrap_err().to_string().contains("复查意见"));
    let opinion = |outcome: Option<ReviewOutcome>, body: Option<&str>| ActionInput {
        target: body.map(str::to_owned),
        review_outcome: outcome,
        ..act(ActionKind::ReviewOpinion)
    };
    let err = office.act(id, &opinion(None, Some("洞口县人民政府"))).unwrap_err();
    assert!(err.to_string().contains("维持"), "{err}");
    let err = office.act(id, &opinion(Some(ReviewOutcome::Redo), None)).unwrap_err();
    assert!(err.to_string().contains("机关"), "{err}");
    let status =
        office.act(id, &opinion(Some(ReviewOutcome::Redo), Some("洞口县人民政府"))).unwrap();
    assert_eq!(status, Status::InProgress, "set aside: handled again");
    let view = office.view(id).unwrap();
    let handle = view.deadlines.get(&ledger_domain::deadline::DeadlineKind::Handle).unwrap();
    assert_eq!(handle.start.to_string(), "2024-03-10", "a new handling period from the opinion");
    assert!(handle.met_on.is_none());
    assert!(view.allowed_actions.contains(&ActionKind::Reply));
}

#[test]
fn the_bureau_prints_the_review_opinion_where_it_is_the_reviewing_body() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    office.act(id, &petition(ActionKind::Accept)).unwrap();
    office
        .act(id, &ActionInput { text: Some("经调查核实……".into()), ..act(ActionKind::Reply) })
        .unwrap();
    office.act(id, &act(ActionKind::Review)).unwrap();
    let name = office.config().name;
    office
        .act(
            id,
            &ActionInput {
                target: Some(name.clone()),
                text: Some("经复查，原认定事实清楚".into()),
                review_outcome: Some(ReviewOutcome::Upheld),
                ..act(ActionKind::ReviewOpinion)
            },
        )
        .unwrap();
    assert!(office.view(id).unwrap().printable.contains(&DocumentKind::ReviewOpinion));
    let html = office.document(id, &DocumentKind::ReviewOpinion, true, None).unwrap();
    assert!(html.contains("本机关决定予以维持"), "{html}");
    assert!(html.contains(&name));
    assert_eq!(office.view(id).unwrap().documents.len(), 1, "issued and recorded");
}

#[test]
fn an_upheld_review_is_served_and_closes_after_the_recheck_window() {
    let (d, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    office.act(id, &petition(ActionKind::Accept)).unwrap();
    office
        .act(id, &ActionInput { text: Some("经调查核实……".into()), ..act(ActionKind::Reply) })
        .unwrap();
    let serve = ActionInput {
        target: Some("张三丰".into()),
        text: Some("直接送达".into()),
        ..act(ActionKind::Deliver)
    };
    office.act(id, &serve).unwrap();
    office.act(id, &act(ActionKind::Review)).unwrap();
    let err = office.act(id, &act(ActionKind::Close)).unwrap_err();
    assert!(err.to_string().contains("已申请复查"), "{err}");
    office
        .act(
            id,
            &ActionInput {
                target: Some("洞口县人民政府".into()),
                review_outcome: Some(ReviewOutcome::Upheld),
                ..act(ActionKind::ReviewOpinion)
            },
        )
        .unwrap();
    // The 送达 recorded now is the review opinion's (the clerk need not say so).
    office.act(id, &serve).unwrap();
    let case = office.case(id).unwrap();
    let served = case.events.iter().rev().find(|e| e.action == ActionKind::Deliver).unwrap();
    assert_eq!(served.document_kind, Some(DocumentKind::ReviewOpinion));
    let review_served =
        ActionInput { reason: Some(CloseReason::ReviewServed), ..act(ActionKind::Close) };
    let err = office.act(id, &review_served).unwrap_err();
    assert!(err.to_string().contains("复核申请期限"), "{err}");
    // The office cannot print the reviewing body's opinion as its own.
    let err = office.document(id, &DocumentKind::ReviewOpinion, false, None).unwrap_err();
    assert!(err.to_string().contains("复查（复核）机关出具"), "{err}");
    assert!(!office.view(id).unwrap().printable.contains(&DocumentKind::ReviewOpinion));
    drop(office);
    let office = Office::open(d.path(), clock_at("2024-04-10")).unwrap();
    assert_eq!(office.act(id, &review_served).unwrap(), Status::Closed);
}

#[test]
fn the_bureau_returns_a_misdirected_referral_within_five_working_days() {
    let (_d, office) = office(Role::Bureau, "2024-03-06");
    let referral = |received: &str| NewCase {
        submission: NewSubmission {
            source: "市信访局交办".into(),
            ..new_case(received).submission
        },
        ..new_case(received)
    };
    let object = ActionInput {
        text: Some("不属于国土资源部门职权范围".into()),
        ..act(ActionKind::Object)
    };
    let id = office.register(&referral("2024-03-01"), None).unwrap();
    assert_eq!(office.act(id, &object).unwrap(), Status::Returned);
    let case = office.case(id).unwrap();
    let returned = case.events.last().unwrap();
    assert_eq!(returned.target.as_deref(), Some("市信访局交办"), "back to the body that sent it");
    // Received 2024-02-20: five working days ran out on 02-27.
    let late = office.register(&referral("2024-02-20"), None).unwrap();
    let err = office.act(late, &object).unwrap_err();
    assert!(err.to_string().contains("2024-02-27"), "{err}");
    let direct = office.register(&new_case("2024-03-05"), None).unwrap();
    assert!(office.act(direct, &object).is_err(), "a direct petition is the bureau's to decide");
}

#[test]
fn no_further_acceptance_names_the_matter_already_handled() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let original = office.register(&new_case("2024-01-02"), None).unwrap();
    let number = office.case(original).unwrap().number;
    let again = office.register(&new_case("2024-03-08"), None).unwrap();
    let no_further = |to: Option<&str>| ActionInput {
        target: to.map(str::to_owned),
        text: Some("同一事实和理由，已经复核终结".into()),
        ..act(ActionKind::NoFurther)
    };
    let err = office.act(again, &no_further(None)).unwrap_err();
    assert!(err.to_string().contains("原信访事项"), "{err}");
    let err = office.act(again, &no_further(Some("洞口-1999-Z-0001"))).unwrap_err();
    assert!(err.to_string().contains("没有案件编号"), "{err}");
    let own = office.case(again).unwrap().number;
    assert!(office.act(again, &no_further(Some(&own))).is_err(), "not itself");
    assert_eq!(office.act(again, &no_further(Some(&number))).unwrap(), Status::NotAccepted);
    let case = office.case(again).unwrap();
    assert_eq!(case.events.last().unwrap().target.as_deref(), Some(number.as_str()));
    // 不予受理 may name where the petitioner should go instead (§23).
    let outside = office.register(&new_case("2024-03-09"), None).unwrap();
    let input = ActionInput {
        target: Some("洞口县人力资源和社会保障局".into()),
        text: Some("不属于国土资源部门职权范围".into()),
        ..act(ActionKind::NotAccept)
    };
    office.act(outside, &input).unwrap();
    let case = office.case(outside).unwrap();
    assert_eq!(case.events.last().unwrap().target.as_deref(), Some("洞口县人力资源和社会保障局"));
}

#[test]
fn acceptance_records_the_proposed_track_or_the_one_chosen() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    // 检举控告 is proposed for §30: handled and fed back, closed without a review window.
    let report = office.register(&new_case("2024-03-01"), None).unwrap();
    let view = office.view(report).unwrap();
    assert_eq!(view.proposed_track, HandlingTrack::Report);
    office.act(report, &act(ActionKind::Accept)).unwrap();
    assert_eq!(office.view(report).unwrap().track, HandlingTrack::Report);
    office
        .act(
            report,
            &ActionInput {
                text: Some("经查，已责令拆除。".into()), ..act(ActionKind::Reply)
            },
        )
        .unwrap();
    let view = office.view(report).unwrap();
    assert!(!view.allowed_actions.contains(&ActionKind::Review), "no 复查 on a §30 report");
    assert_eq!(office.act(report, &act(ActionKind::Close)).unwrap(), Status::Closed);
    // The clerk may route the matter into enforcement instead: no 60-day petition clock.
    let routed = office.register(&new_case("2024-03-02"), None).unwrap();
    let enforce =
        ActionInput { track: Some(HandlingTrack::Enforcement), ..act(ActionKind::Accept) };
    office.act(routed, &enforce).unwrap();
    let view = office.view(routed).unwrap();
    assert_eq!(view.track, HandlingTrack::Enforcement);
    assert!(view.deadlines.get(&ledger_domain::deadline::DeadlineKind::Handle).is_none());
    let close =
        ActionInput { reason: Some(CloseReason::StatutoryProcedure), ..act(ActionKind::Close) };
    assert_eq!(office.act(routed, &close).unwrap(), Status::Closed);
}

#[test]
fn a_township_office_drafts_and_the_bureau_issues_unless_the_county_says_otherwise() {
    let (_d, office) = office(Role::Township, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    let err = office.document(id, &DocumentKind::AcceptanceNotice, true, None).unwrap_err();
    assert!(err.to_string().contains("由县局编号出具"), "{err}");
    assert!(office.view(id).unwrap().documents.is_empty(), "nothing numbered or recorded");
    // Where the township government handles petitions, it issues in its own name: the
    // document's own conditions then apply (not accepted yet).
    let err = office
        .set_rule(&crate::RuleInput {
            item: "county.issues_own_documents".into(),
            value: "true".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("只能由县局修改"), "{err}");
    // The bureau sets it in the county's rules, and the township receives them by sync.
    let (_b, bureau) = super::tests::office(Role::Bureau, "2024-03-10");
    bureau
        .set_rule(&crate::RuleInput {
            item: "county.issues_own_documents".into(),
            value: "true".into(),
            ..Default::default()
        })
        .unwrap();
    let key = ledger_domain::CaseId(ledger_protocol::rules_id());
    let saved = bureau.store.save_doc(key, ledger_store::DocKind::Rules).unwrap();
    office.store.merge_remote(key, ledger_store::DocKind::Rules, &saved).unwrap();
    assert!(office.rules_view().unwrap().county.issues_own_documents);
    let err = office.document(id, &DocumentKind::AcceptanceNotice, true, None).unwrap_err();
    assert!(err.to_string().contains("尚未受理"), "{err}");
}

/// `ledger rules set 复查机关 …` and the settings screen's code name the same item.
#[test]
fn a_rule_is_named_by_its_code_or_its_label() {
    use ledger_domain::rules::{CountySetting, RuleItem};
    let (_d, bureau) = office(Role::Bureau, "2024-03-10");
    let own = RuleItem::County(CountySetting::IssuesOwnDocuments);
    let body = RuleItem::County(CountySetting::ReviewBody);
    for (given, value, item) in [
        (own.label().rsplit('·').next().unwrap_or_default().to_owned(), "true", &own),
        (format!(" {} ", body.label()), "洞口县人民政府", &body),
    ] {
        let input = crate::RuleInput { item: given, value: value.into(), ..Default::default() };
        let view = bureau.set_rule(&input).unwrap();
        assert!(view.entries.iter().any(|e| e.item == item.code()), "{input:?}: {view:?}");
    }
    let view = bureau.rules_view().unwrap();
    assert!(view.county.issues_own_documents);
    assert_eq!(view.county.review_body.as_deref(), Some("洞口县人民政府"));
    let input =
        crate::RuleInput {
            item: "没有这一项".into(), value: "1".into(), ..Default::default()
        };
    match bureau.set_rule(&input).unwrap_err() {
        OfficeError::Invalid(fields) => assert_eq!(fields[0].field, "item", "{fields:?}"),
        other => panic!("{other}"),
    }
}

#[test]
fn reply_freezes_the_draft_and_close_needs_a_reply() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    office.act(id, &petition(ActionKind::Accept)).unwrap();
    let err = office.act(id, &act(ActionKind::Close)).unwrap_err();
    assert!(err.to_string().contains("尚未答复"), "{err}");
    office.act(id, &act(ActionKind::Investigate)).unwrap();
    let err = office.act(id, &act(ActionKind::Reply)).unwrap_err();
    assert!(err.to_string().contains("答复内容"), "{err}");
    office.set_draft(id, Draft::Reply, "经调查核实，已责令拆除。").unwrap();
    let err = office.act(id, &ActionInput { outcome: None, ..act(ActionKind::Reply) }).unwrap_err();
    assert!(err.to_string().contains("处理意见"), "a reply states its outcome: {err}");
    office.act(id, &act(ActionKind::Reply)).unwrap();
    let case = office.case(id).unwrap();
    let reply = case.events.iter().find(|e| e.action == ActionKind::Reply).unwrap();
    assert_eq!(reply.text.as_deref(), Some("经调查核实，已责令拆除。"));
    assert_eq!(case.reply_draft, "", "the draft is cleared once issued");
    let err = office.act(id, &act(ActionKind::Evaluate)).unwrap_err();
    assert!(err.to_string().contains("满意"), "{err}");
    office
        .act(
            id,
            &ActionInput { result: Some(Satisfaction::Satisfied), ..act(ActionKind::Evaluate) },
        )
        .unwrap();
    // 答复后未申请复查 only once the petitioner's 30 days from service have run out.
    let err = office.act(id, &act(ActionKind::Close)).unwrap_err();
    assert!(err.to_string().contains("送达"), "{err}");
    office
        .act(
            id,
            &ActionInput {
                target: Some("张三".into()),
                text: Some("直接送达".into()),
                ..act(ActionKind::Deliver)
            },
        )
        .unwrap();
    let err = office.act(id, &act(ActionKind::Close)).unwrap_err();
    assert!(err.to_string().contains("2024-04-09"), "{err}");
    let dir = _d.path().to_owned();
    drop(office);
    let office = Office::open(&dir, clock_at("2024-04-10")).unwrap();
    assert_eq!(office.act(id, &act(ActionKind::Close)).unwrap(), Status::Closed);
    let closed = office.case(id).unwrap();
    assert_eq!(closed.events.last().unwrap().close_reason, Some(CloseReason::Replied));
    let stats = office.statistics(Period::year(2024).unwrap(), None).unwrap();
    assert_eq!(stats.rates["满意率"].value, Some(1.0));
    assert_eq!(stats.rates["办结率"].value, Some(1.0));
    // Withdrawal closes an unanswered case.
    let other = office.register(&new_case("2024-03-02"), None).unwrap();
    office.act(other, &act(ActionKind::Accept)).unwrap();
    office
        .act(other, &ActionInput { reason: Some(CloseReason::Withdrawn), ..act(ActionKind::Close) })
        .unwrap();
}

#[test]
fn repeat_submissions_count_as_repeats() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    let input = SubmissionInput {
        submission: NewSubmission {
            received: Some("2024-03-08".parse().unwrap()),
            channel: "来访".into(),
            source: "本局接收".into(),
            persons: Some(6),
            ..Default::default()
        },
        petitioners: vec![],
        representatives: vec![],
    };
    // Six visitors speak through representatives (信访工作条例 §20): chosen from the case.
    let Err(OfficeError::Invalid(errors)) = office.add_submission(id, &input, None) else {
        panic!("six visitors without representatives were taken")
    };
    assert_eq!(errors[0].field, "representatives");
    let stranger = SubmissionInput { representatives: vec!["p-none".into()], ..input.clone() };
    assert!(office.add_submission(id, &stranger, None).is_err());
    let first = office.case(id).unwrap().petitioners[0].id.clone();
    let input = SubmissionInput { representatives: vec![first.clone()], ..input };
    office.add_submission(id, &input, None).unwrap();
    let case = office.case(id).unwrap();
    assert_eq!(case.submissions.len(), 2);
    assert!(case.submissions[1].repeat && case.submissions[1].collective);
    assert_eq!(case.submissions[1].representatives, [first]);
    let stats = office.statistics(Period::year(2024).unwrap(), None).unwrap();
    assert_eq!((stats.total, stats.flags.repeat, stats.flags.collective), (2, 1, 1));
    assert_eq!(stats.visits.persons, 8);
}

#[test]
fn attachments_are_stored_once_and_capped() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let a = office.register(&new_case("2024-03-01"), None).unwrap();
    let b = office.register(&new_case("2024-03-02"), None).unwrap();
    let scan = b"%PDF-1.4 scanned letter".to_vec();
    let h1 = office.attach(a, "来信.pdf", &scan, "application/pdf").unwrap();
    let h2 = office.attach(b, "来信扫描件.pdf", &scan, "application/pdf").unwrap();
    assert_eq!(h1, h2);
    assert_eq!(office.store().blob_count().unwrap(), 1);
    assert_eq!(office.attachment(&h1).unwrap(), scan);
    assert_eq!(office.case(b).unwrap().attachments[0].name, "来信扫描件.pdf");
    let big = vec![0u8; 9 * 1024 * 1024];
    let err = office.attach(a, "录像.mp4", &big, "video/mp4").unwrap_err();
    assert!(err.to_string().contains("8 MiB"), "{err}");
}

#[test]
fn due_lists_by_deadline() {
    let (_d, office) = office(Role::Bureau, "2024-03-15");
    let overdue = office.register(&new_case("2024-02-20"), None).unwrap();
    let soon = office.register(&new_case("2024-03-02"), None).unwrap();
    let later = office.register(&new_case("2024-03-12"), None).unwrap();
    let due = office.due(None).unwrap();
    assert_eq!(due.overdue.iter().map(|r| r.id).collect::<Vec<_>>(), vec![overdue]);
    assert_eq!(due.within_3.iter().map(|r| r.id).collect::<Vec<_>>(), vec![soon]);
    assert!(due.within_10.iter().all(|r| r.id != later));
    let only = office.list(&CaseQuery { overdue: true, ..Default::default() }).unwrap();
    assert_eq!(only.total, 1);
}

#[test]
fn similar_open_cases_hint_repeat_visits() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    let found = office.similar_open_cases("张三丰", "").unwrap();
    assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(office.similar_open_cases("", "大屋村").unwrap().len(), 1);
    assert!(office.similar_open_cases("李四", "").unwrap().is_empty());
}

mod import {
    use super::*;
    use ledger_domain::fixtures::seed_2017;

    fn seeded_bureau() -> (tempfile::TempDir, Office) {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(Role::Bureau);
        cfg.townships.clear();
        let office = Office::init(dir.path(), cfg, clock_at("2018-01-05")).unwrap();
        let cases: Vec<_> = seed_2017()
            .into_iter()
            .map(|c| {
                let identity =
                    ledger_domain::Identity { case_id: c.id, schema_version: 1, persons: vec![] };
                (c, identity, vec![])
            })
            .collect();
        office.store().create_cases(&cases).unwrap();
        (dir, office)
    }

    #[test]
    fn export_then_import_gives_the_same_statistics() {
        let (dir, bureau) = seeded_bureau();
        let csv = dir.path().join("台账.csv");
        assert_eq!(bureau.export_csv(&csv, &mut |_| {}).unwrap(), 137);
        let fresh_dir = tempfile::tempdir().unwrap();
        let mut cfg = config(Role::Bureau);
        cfg.townships.clear();
        let fresh = Office::init(fresh_dir.path(), cfg, clock_at("2018-01-05")).unwrap();
        let mut ticks = 0;
        let report = fresh.import_csv(&csv, ImportOptions::default(), &mut |_| ticks += 1).unwrap();
        assert_eq!((report.rows, report.cases, report.duplicates), (137, 137, 0));
        assert!(ticks > 0);
        let year = Period::year(2017).unwrap();
        let (a, b) =
            (bureau.statistics(year, None).unwrap(), fresh.statistics(year, None).unwrap());
        assert_eq!(a.total, b.total);
        assert_eq!(a.by_source, b.by_source);
        assert_eq!(a.by_category, b.by_category);
        assert_eq!(a.by_domain, b.by_domain);
        assert_eq!(a.visits, b.visits);
        let statuses = |o: &Office| {
            let mut v = o.store().count_by_status().unwrap();
            v.sort();
            v
        };
        assert_eq!(statuses(&bureau), statuses(&fresh));
        // Importing the same file again adds nothing, and says so.
        let again = fresh.import_csv(&csv, ImportOptions::default(), &mut |_| {}).unwrap();
        assert_eq!((again.cases, again.duplicates), (0, 137));
        assert_eq!(fresh.case_count().unwrap(), 137);
    }

    fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const HEADER: &str = "案件编号,登记日期,信访形式,信访来源,信访人,证件号码,联系电话,住址,人数,所属乡镇,涉及领域,问题类别,诉求内容,是否越级,是否重复,办理状态,答复日期,办结日期,满意度\n";

    #[test]
    fn one_bad_row_imports_nothing_and_names_the_row() {
        let (dir, office) = office(Role::Bureau, "2024-06-01");
        let text = format!(
            "{HEADER}\
             A-1,2024-03-01,来访,本局接收,张三丰,11010519491231002X,13812345678,大屋村,2,黄桥镇,涉土,违法占地建设,建房,否,否,交办,,,\n\
             A-2,2024-02-30,来信,市信访局交办,李四,,,,1,黄桥镇,涉土,纠纷调处,界址,否,否,登记,,,\n\
             A-3,2024-03-03,来信,12336举报,王五,110105194912310021,,,1,石江镇,涉土,违法占地建设,举报,否,否,登记,,,\n"
        );
        let path = write(dir.path(), "bad.csv", &text);
        let err = office.import_csv(&path, ImportOptions::default(), &mut |_| {}).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.code(), "import_rejected");
        assert!(msg.contains("第3行 登记日期"), "{msg}");
        assert!(msg.contains("第4行 证件号码"), "{msg}");
        assert!(!msg.contains("第2行"), "{msg}");
        assert_eq!(office.case_count().unwrap(), 0);
        let report = office
            .import_csv(
                &path,
                ImportOptions { skip_invalid: true, ..Default::default() },
                &mut |_| {},
            )
            .unwrap();
        assert_eq!((report.cases, report.invalid.len()), (1, 2));
        let case = office.case(office.find_by_number("A-1").unwrap().unwrap()).unwrap();
        assert_eq!(case.jurisdiction.as_deref(), Some("黄桥镇"));
        let assign = case.events.iter().find(|e| e.action == ActionKind::Assign).unwrap();
        assert!(assign.imported);
        assert_eq!(assign.target.as_deref(), Some("黄桥镇"));
    }

    #[test]
    fn gbk_files_header_variants_and_shared_numbers() {
        let (dir, office) = office(Role::Bureau, "2024-06-01");
        let text = "编号,信访日期,形式,来源,姓名,身份证号码,电话,地址,人次,乡镇,领域,类别,反映问题,越级,重复,状态,回复日期,结案日期,评价,备注\n\
             G-1,2024/3/1,来访,本局信访接收,赵六,,,,3,黄桥镇,涉土,纠纷调处,宅基地纠纷,是,否,办结,2024/3/20,2024/4/1,基本满意,老户\n\
             G-1,2024/3/10,来访,本局接收,赵六,,,,2,黄桥镇,涉土,纠纷调处,宅基地纠纷,否,是,办结,2024/3/20,2024/4/1,基本满意,\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let path = dir.path().join("gbk.csv");
        std::fs::write(&path, &gbk).unwrap();
        let report = office.import_csv(&path, ImportOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(report.cases, 1);
        assert_eq!(report.unknown_columns, vec!["备注".to_owned()]);
        let case = office.case(office.find_by_number("G-1").unwrap().unwrap()).unwrap();
        assert_eq!(case.submissions.len(), 2);
        assert!(case.submissions[0].skip_level && case.submissions[1].repeat);
        let view = office.view(case.id).unwrap();
        assert_eq!(view.status, Status::Closed);
        assert!(view.anomalies.is_empty(), "{:?}", view.anomalies);
        assert_eq!(view.evaluations[0].result, Satisfaction::BasicallySatisfied);
        // A later row with the same case number but no case id joins only when the clerk
        // confirms: the dry run says so and writes nothing.
        let more = format!(
            "{HEADER}G-1,2024-05-01,来电,本局接收,赵六,,,,1,黄桥镇,涉土,纠纷调处,宅基地纠纷,否,是,登记,,,,\n"
        );
        let path = write(dir.path(), "more.csv", &more);
        let confirmed = ImportOptions { join_by_number: true, dry_run: true, ..Default::default() };
        let plan = office.import_csv(&path, confirmed, &mut |_| {}).unwrap();
        assert!(plan.dry_run);
        assert_eq!((plan.cases, plan.added_submissions), (0, 1));
        assert_eq!(plan.number_matches.len(), 1, "{:?}", plan.number_matches);
        assert_eq!(office.case(case.id).unwrap().submissions.len(), 2, "a dry run writes nothing");
        let confirmed = ImportOptions { dry_run: false, ..confirmed };
        let report = office.import_csv(&path, confirmed, &mut |_| {}).unwrap();
        assert_eq!((report.cases, report.added_submissions), (0, 1));
        assert_eq!(office.case(case.id).unwrap().submissions.len(), 3);
        let again = office.import_csv(&path, ImportOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(again.duplicates, 1);
    }

    /// Two offices' stores both number from 0001: one's export imported into the other must
    /// never attach its petitioners to the other's unrelated cases.
    #[test]
    fn a_colliding_export_becomes_new_cases_unless_its_case_id_is_here() {
        let (dir, home) = office(Role::Bureau, "2024-06-01");
        let mine = home.register(&new_case("2024-03-01"), None).unwrap();
        let my_number = home.case(mine).unwrap().number;
        let other_dir = tempfile::tempdir().unwrap();
        let other =
            Office::init(other_dir.path(), config(Role::Bureau), clock_at("2024-06-01")).unwrap();
        let mut theirs = new_case("2024-04-02");
        theirs.petitioners[0].name = "钱七".into();
        theirs.petitioners[0].id_number = String::new();
        theirs.request = "承包地被他人占用".into();
        let their_id = other.register(&theirs, None).unwrap();
        assert_eq!(other.case(their_id).unwrap().number, my_number, "the numbers collide");
        let csv = dir.path().join("其他单位.csv");
        other.export_csv(&csv, &mut |_| {}).unwrap();

        let plan = home
            .import_csv(&csv, ImportOptions { dry_run: true, ..Default::default() }, &mut |_| {})
            .unwrap();
        assert_eq!((plan.cases, plan.added_submissions), (1, 0));
        assert_eq!(plan.renumbered.len(), 1, "{plan:?}");
        assert_eq!(home.case_count().unwrap(), 1, "a dry run writes nothing");

        let report = home.import_csv(&csv, ImportOptions::default(), &mut |_| {}).unwrap();
        assert_eq!((report.cases, report.added_submissions), (1, 0));
        assert_eq!(home.case(mine).unwrap().submissions.len(), 1, "my case is untouched");
        assert_eq!(home.case_count().unwrap(), 2);
        let imported =
            home.list(&CaseQuery { text: Some("钱七".into()), ..Default::default() }).unwrap().rows;
        assert_eq!(imported.len(), 1);
        assert_ne!(imported[0].number, my_number, "the new case has a number of this store");
        assert_ne!(imported[0].id, their_id, "and an id of its own");

        // My own export, changed and imported back, joins my case by its 案件标识.
        let own = dir.path().join("本单位.csv");
        home.export_csv(&own, &mut |_| {}).unwrap();
        let text = std::fs::read_to_string(&own).unwrap();
        let mine_row = text.lines().find(|l| l.contains(&mine.to_string())).unwrap().to_owned();
        let changed = mine_row.replacen("2024-03-01", "2024-05-20", 1);
        let header = text.lines().next().unwrap();
        let again = write(dir.path(), "追加.csv", &format!("{header}\n{changed}\n"));
        let report = home.import_csv(&again, ImportOptions::default(), &mut |_| {}).unwrap();
        assert_eq!((report.cases, report.added_submissions), (0, 1), "{report:?}");
        assert!(report.number_matches.is_empty());
        assert_eq!(home.case(mine).unwrap().submissions.len(), 2);
    }

    #[test]
    fn this_stores_own_export_imported_again_adds_nothing() {
        let (dir, home) = office(Role::Bureau, "2024-06-01");
        let first = home.register(&new_case("2024-03-01"), None).unwrap();
        let mut other = new_case("2024-04-02");
        other.petitioners[0].name = "钱七".into();
        other.petitioners[0].id_number = String::new();
        let second = home.register(&other, None).unwrap();
        home.add_submission(
            second,
            &SubmissionInput {
                submission: NewSubmission { repeat: true, ..other.submission.clone() },
                petitioners: Vec::new(),
                representatives: Vec::new(),
            },
            None,
        )
        .unwrap();
        let csv = dir.path().join("本单位.csv");
        assert_eq!(home.export_csv(&csv, &mut |_| {}).unwrap(), 3);
        let xlsx = dir.path().join("本单位.xlsx");
        home.export_xlsx(&xlsx, &mut |_| {}).unwrap();

        for file in [&csv, &xlsx] {
            let plan = home
                .import_file(
                    file,
                    ImportOptions { dry_run: true, ..Default::default() },
                    &mut |_| {},
                )
                .unwrap();
            assert_eq!(
                (plan.cases, plan.added_submissions, plan.duplicates),
                (0, 0, 3),
                "{}: {plan:?}",
                file.display()
            );
            let report = home.import_file(file, ImportOptions::default(), &mut |_| {}).unwrap();
            assert_eq!((report.cases, report.added_submissions, report.duplicates), (0, 0, 3));
        }
        assert_eq!(home.case_count().unwrap(), 2);
        assert_eq!(home.case(first).unwrap().submissions.len(), 1);
        assert_eq!(home.case(second).unwrap().submissions.len(), 2);
    }

    #[test]
    fn a_file_without_the_layout_is_refused() {
        let (dir, office) = office(Role::Bureau, "2024-06-01");
        let path = write(dir.path(), "x.csv", "name,age\nbob,3\n");
        let err = office.import_csv(&path, ImportOptions::default(), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("表头缺少必需的列"), "{err}");
        let path = write(dir.path(), "empty.csv", "");
        assert_eq!(
            office.import_csv(&path, ImportOptions::default(), &mut |_| {}).unwrap_err().code(),
            "bad_file"
        );
    }
}

/// An office bound to a hub (no hub runs: these tests never sync).
fn enrolled(role: Role, date: &str) -> (tempfile::TempDir, Office) {
    let (dir, office) = office(role, date);
    office
        .store()
        .set_meta(&[("sync.hub", "http://127.0.0.1:9"), ("sync.credential", "test")])
        .unwrap();
    (dir, office)
}

/// Every file of a store directory, read raw.
fn raw_files(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn a_township_keeps_no_identity_of_a_restricted_case_it_registers() {
    let (dir, township) = enrolled(Role::Township, "2024-03-05");
    // 违法占地建设 implies 检举控告: the informant's identity goes to the bureau only.
    let id = township.register(&new_case("2024-03-01"), None).unwrap();
    let view = township.view(id).unwrap();
    assert!(view.identity_restricted);
    assert!(view.identity.is_none(), "no identity document here");
    assert_eq!(view.identities_to_deliver, 1);
    assert_eq!(view.case.petitioners[0].display_name, "张*丰");
    let drops = township.store().pending_drops(10).unwrap();
    assert_eq!(drops.len(), 1);
    assert!(drops[0].persons.contains("张三丰") && drops[0].persons.contains("13812345678"));
    // The outbox carries the case only, and no history holds the name.
    for entry in township.store().outbox_batch(usize::MAX, usize::MAX).unwrap() {
        assert!(!holds(&entry.bytes, "张三丰"), "an Automerge change holds the name");
    }
    // Once the hub has it, nothing of it is left in the files.
    township.store().ack_drops(&[drops[0].id.clone()]).unwrap();
    let files = raw_files(dir.path());
    for secret in ["张三丰", "11010519491231002X", "13812345678"] {
        assert!(!holds(&files, secret), "{secret} still in the township's files");
    }
    // A store for this computer only has no bureau to deliver to: it keeps the identity.
    let (_d, alone) = office(Role::Township, "2024-03-05");
    let id = alone.register(&new_case("2024-03-01"), None).unwrap();
    assert!(alone.view(id).unwrap().identity.is_some());
}

#[test]
fn a_repeat_visit_on_a_restricted_case_sends_its_names_to_the_bureau() {
    let (_dir, township) = enrolled(Role::Township, "2024-03-05");
    let id = township.register(&new_case("2024-03-01"), None).unwrap();
    let input = SubmissionInput {
        submission: NewSubmission {
            received: Some("2024-03-04".parse().unwrap()),
            channel: "来访".into(),
            source: "本局接收".into(),
            persons: Some(1),
            ..Default::default()
        },
        petitioners: vec![NewPetitioner {
            name: "李四光".into(),
            phone: "13900001111".into(),
            ..Default::default()
        }],
        representatives: Vec::new(),
    };
    township.add_submission(id, &input, None).unwrap();
    let view = township.view(id).unwrap();
    assert_eq!(view.case.submissions.len(), 2);
    assert_eq!(view.identities_to_deliver, 2, "nothing typed is dropped");
    let drops = township.store().pending_drops(10).unwrap();
    assert!(
        drops.iter().any(|d| d.persons.contains("李四光") && d.persons.contains("13900001111"))
    );
}

#[test]
fn restrictions_tighten_anywhere_and_loosen_only_by_the_bureaus_lift() {
    let (_d, township) = office(Role::Township, "2024-03-05");
    let id = township.register(&new_case("2024-03-01"), None).unwrap();
    let err = township.set_field(id, &CaseField::Purpose, "申诉求决").unwrap_err();
    assert!(err.to_string().contains("只能加强保密"), "{err}");
    township.set_field(id, &CaseField::Confidential, "是").unwrap();
    let err = township.set_field(id, &CaseField::Confidential, "否").unwrap_err();
    assert!(matches!(err, OfficeError::Refused(_)), "{err}");

    let (_d, bureau) = office(Role::Bureau, "2024-03-05");
    let id = bureau.register(&new_case("2024-03-01"), None).unwrap();
    assert!(bureau.view(id).unwrap().allowed_actions.contains(&ActionKind::LiftRestriction));
    let err = bureau.set_field(id, &CaseField::Purpose, "申诉求决").unwrap_err();
    assert!(err.to_string().contains("解除保密"), "{err}");
    let err = bureau.act(id, &act(ActionKind::LiftRestriction)).unwrap_err();
    assert!(err.to_string().contains("理由"), "{err}");
    bureau
        .act(
            id,
            &ActionInput {
                text: Some("举报人书面同意公开身份".into()),
                ..act(ActionKind::LiftRestriction)
            },
        )
        .unwrap();
    let view = bureau.view(id).unwrap();
    assert!(!view.identity_restricted);
    assert!(!view.allowed_actions.contains(&ActionKind::LiftRestriction));
    bureau.set_field(id, &CaseField::Purpose, "申诉求决").unwrap();
    // Tightening again restricts again, whatever the earlier lift said.
    bureau.set_field(id, &CaseField::Confidential, "是").unwrap();
    assert!(bureau.view(id).unwrap().identity_restricted);
}

#[test]
fn numbers_come_from_leased_blocks_and_else_carry_the_device_letter() {
    let (_d, bureau) = enrolled(Role::Bureau, "2024-03-05");
    let first = bureau.register(&new_case("2024-03-01"), None).unwrap();
    bureau.act(first, &act(ActionKind::Accept)).unwrap();
    // No block leased yet (never synced): the device letter keeps the number unique.
    assert_eq!(bureau.case(first).unwrap().official_number.as_deref(), Some("洞口信〔2024〕A1号"));
    bureau.store().add_number_blocks(&[("official:2024".into(), 41, 42)]).unwrap();
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let id = bureau.register(&new_case("2024-03-01"), None).unwrap();
        bureau.act(id, &act(ActionKind::Accept)).unwrap();
        numbers.push(bureau.case(id).unwrap().official_number.unwrap());
    }
    assert_eq!(numbers, ["洞口信〔2024〕41号", "洞口信〔2024〕42号", "洞口信〔2024〕A2号"]);
}

#[test]
fn a_confidential_repeat_visit_restricts_a_lifted_case_again() {
    let (_d, bureau) = office(Role::Bureau, "2024-03-05");
    let id = bureau.register(&new_case("2024-03-01"), None).unwrap();
    bureau
        .act(
            id,
            &ActionInput {
                text: Some("举报人同意公开".into()),
                ..act(ActionKind::LiftRestriction)
            },
        )
        .unwrap();
    assert!(!bureau.view(id).unwrap().identity_restricted);
    let input = SubmissionInput {
        submission: NewSubmission {
            received: Some("2024-03-04".parse().unwrap()),
            channel: "来信".into(),
            source: "本局接收".into(),
            confidential: true,
            ..Default::default()
        },
        petitioners: vec![NewPetitioner { name: "第二检举人".into(), ..Default::default() }],
        representatives: Vec::new(),
    };
    bureau.add_submission(id, &input, None).unwrap();
    assert!(bureau.view(id).unwrap().identity_restricted, "a new informant is protected again");
}

#[test]
fn a_townships_import_leaves_the_bureaus_decisions_to_the_bureau() {
    let (dir, township) = enrolled(Role::Township, "2024-06-01");
    let path = dir.path().join("台账.csv");
    let header = LEDGER_COLUMNS.join(",");
    let mut row: Vec<String> = LEDGER_COLUMNS.iter().map(|_| String::new()).collect();
    let set = |row: &mut Vec<String>, col: &str, v: &str| {
        let i = LEDGER_COLUMNS.iter().position(|c| *c == col).unwrap();
        row[i] = v.to_owned();
    };
    set(&mut row, "登记日期", "2024-03-01");
    set(&mut row, "答复日期", "2024-04-01");
    set(&mut row, "办结日期", "2024-04-20");
    set(&mut row, "信访形式", "来访");
    set(&mut row, "信访来源", "本局接收");
    set(&mut row, "问题类别", "纠纷调处");
    set(&mut row, "涉及领域", "涉土");
    set(&mut row, "所属乡镇", "黄桥镇");
    set(&mut row, "信访人", "王五");
    set(&mut row, "诉求内容", "宅基地界址纠纷");
    set(&mut row, "办理状态", "办结");
    std::fs::write(&path, format!("{header}\n{}\n", row.join(","))).unwrap();
    let report = township.import_csv(&path, ImportOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.cases, 1, "{report:?}");
    assert!(report.bureau_steps_left_out >= 2, "{report:?}");
    let id = township.list(&CaseQuery::default()).unwrap().rows[0].id;
    let case = township.case(id).unwrap();
    assert!(case.events.iter().all(|e| e.role == Role::Township && e.office == "hq"));
    assert!(case.events.iter().all(|e| e.action != ActionKind::Close));
}

#[test]
fn a_spent_block_arriving_again_is_never_issued_twice() {
    let (_d, bureau) = enrolled(Role::Bureau, "2024-03-05");
    let block = ("official:2024".to_owned(), 7, 7);
    bureau.store().add_number_blocks(std::slice::from_ref(&block)).unwrap();
    assert_eq!(bureau.store().take_number("official:2024").unwrap(), Some(7));
    bureau.store().add_number_blocks(&[block]).unwrap();
    assert_eq!(bureau.store().take_number("official:2024").unwrap(), None);
}

#[test]
fn attaching_the_same_file_twice_cites_it_once() {
    let (_d, township) = office(Role::Township, "2024-03-05");
    let id = township.register(&new_case("2024-03-01"), None).unwrap();
    let first = township.attach(id, "现场.jpg", b"same bytes", "image/jpeg").unwrap();
    let outbox = township.store().outbox_len().unwrap();
    let again = township.attach(id, "现场-副本.jpg", b"same bytes", "image/jpeg").unwrap();
    assert_eq!(first, again);
    assert_eq!(township.case(id).unwrap().attachments.len(), 1);
    assert_eq!(township.store().outbox_len().unwrap(), outbox, "nothing new to send");
}

/// A store for this computer only: the demo cases go at once, the case entered by hand and the
/// settings stay.
#[test]
fn removing_the_demo_data_keeps_what_was_entered_by_hand() {
    let (dir, office) = office(Role::Bureau, "2026-11-30");
    let mut cfg = office.config();
    cfg.townships.clear();
    office.update_config(cfg).unwrap();
    let demo = office.seed_demo(&mut |_| {}).unwrap();
    assert!(demo.cases > 20);
    let mine = office.register(&new_case("2026-11-02"), None).unwrap();
    assert_eq!(office.demo_cases().unwrap(), demo.cases as u64);
    let listed = office.list(&CaseQuery::default()).unwrap();
    assert_eq!(listed.rows.iter().filter(|r| r.demo).count(), demo.cases);
    assert!(!listed.rows.iter().find(|r| r.id == mine).unwrap().demo);
    // A real case cannot be removed as demo data.
    let err = office.act(mine, &act(ActionKind::RemoveDemo)).unwrap_err();
    assert_eq!(err.code(), "refused");

    let removed = office.remove_demo(None).unwrap();
    assert_eq!((removed.cases, removed.awaiting_hub), (demo.cases, false));
    assert_eq!(office.case_count().unwrap(), 1);
    assert_eq!(office.case(mine).unwrap().id, mine);
    assert_eq!(office.demo_cases().unwrap(), 0);
    drop(office);
    let again = Office::open(dir.path(), clock_at("2026-11-30")).unwrap();
    assert_eq!(again.config().code, "county", "the settings stay");
    assert_eq!(again.case_count().unwrap(), 1);
}

#[test]
fn document_settings_kept_by_an_older_store_move_into_the_county_rules() {
    let (d, office) = office(Role::Bureau, "2024-03-10");
    let mut raw = serde_json::to_value(office.config()).unwrap();
    raw["review_body"] = "洞口县人民政府".into();
    raw["issues_own_documents"] = true.into();
    office.store.set_meta(&[(CONFIG_KEY, &raw.to_string())]).unwrap();
    drop(office);
    let office = Office::open(d.path(), clock_at("2024-03-10")).unwrap();
    let county = office.rules_view().unwrap().county;
    assert_eq!(county.review_body.as_deref(), Some("洞口县人民政府"));
    assert!(county.issues_own_documents);
    let stored = office.store.meta(CONFIG_KEY).unwrap().unwrap();
    assert!(!stored.contains("review_body"), "moved, not kept twice: {stored}");
    drop(office);
    // Opened again: nothing moves twice.
    let office = Office::open(d.path(), clock_at("2024-03-11")).unwrap();
    assert_eq!(office.rules_view().unwrap().entries.len(), 2);
}

#[test]
fn a_formula_in_a_case_exports_as_text_and_imports_back_as_written() {
    let (d, office) = office(Role::Bureau, "2024-03-10");
    let mut input = new_case("2024-03-01");
    input.request = "=HYPERLINK(\"http://example.invalid\",\"点击查看\")".into();
    office.register(&input, None).unwrap();
    let csv = d.path().join("台账.csv");
    office.export_csv(&csv, &mut |_| {}).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("\"'=HYPERLINK("), "a spreadsheet opens it as text: {text}");
    let (_e, other) = self::office(Role::Bureau, "2024-03-10");
    let report = other.import_file(&csv, ImportOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.cases, 1, "{report:?}");
    let id = other.store.case_ids().unwrap()[0];
    assert_eq!(other.case(id).unwrap().request, input.request);
}

#[test]
fn the_marks_and_the_platform_number_survive_an_export_and_its_import() {
    let (d, office) = office(Role::Bureau, "2024-03-10");
    let mut input = new_case("2024-03-01");
    input.submission.source = "12336举报".into();
    input.submission.channel = "来电".into();
    input.submission.platform_number = "JB20240301000123".into();
    input.submission.urgent = true;
    input.submission.litigation = true;
    office.register(&input, None).unwrap();
    let csv = d.path().join("台账.csv");
    office.export_csv(&csv, &mut |_| {}).unwrap();
    let (_e, other) = self::office(Role::Bureau, "2024-03-10");
    let report = other.import_file(&csv, ImportOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.cases, 1, "{report:?}");
    let id = other.store.case_ids().unwrap()[0];
    let s = other.case(id).unwrap().submissions[0].clone();
    assert_eq!(s.platform_number.as_deref(), Some("JB20240301000123"));
    assert!(s.urgent && !s.threat && s.litigation);
}

#[test]
fn the_sync_position_is_kept_typed_and_a_damaged_one_is_reported() {
    use ledger_protocol::{Bootstrap, Cursor, DocKind as WireKind, Hash, Partial};
    let (_dir, office) = office(Role::Township, "2026-03-02");
    assert_eq!(office.cursor().unwrap(), Cursor::default(), "nothing kept yet");

    // The release before kept it as JSON in `meta`: it still reads.
    let legacy = Cursor {
        seq: 41,
        bootstrap: Some(Bootstrap {
            head: 90,
            after: Some((uuid::Uuid::nil(), WireKind::Identity)),
        }),
        partial: None,
    };
    let json = serde_json::to_string(&legacy).unwrap();
    office.store.set_meta(&[(ledger_store::LEGACY_META_KEY, &json)]).unwrap();
    assert_eq!(office.cursor().unwrap(), legacy);

    // Written back typed, every field survives and the JSON is gone.
    let cursor = Cursor {
        seq: 42,
        bootstrap: None,
        partial: Some(Partial {
            case_id: uuid::Uuid::from_u128(7),
            kind: WireKind::Case,
            heads: vec![Hash([3; 32]), Hash([9; 32])],
            offset: 1 << 20,
        }),
    };
    office.store.set_sync_position(&super::sync::position_of(&cursor)).unwrap();
    assert_eq!(office.cursor().unwrap(), cursor);
    assert_eq!(office.store.meta(ledger_store::LEGACY_META_KEY).unwrap(), None);

    // A damaged row is reported with its code, not read as "from zero".
    office.store.clear_sync_position().unwrap();
    office.store.set_meta(&[(ledger_store::LEGACY_META_KEY, "{\"seq\": -")]).unwrap();
    let err = office.cursor().unwrap_err();
    assert_eq!(err.code(), "sync_position_damaged", "{err}");
    assert!(err.to_string().contains("同步进度"), "{err}");
    // The sync surfaces it as its own kind, which the status names and the app offers to fix.
    let damaged = |office: &Office| {
        let err = ledger_client::SyncTarget::prepare(office, 1 << 20).unwrap_err();
        assert_eq!(err.kind, ledger_client::TargetErrorKind::SyncPositionDamaged, "{err}");
    };
    damaged(&office);
    office.restart_sync().unwrap();
    assert_eq!(office.cursor().unwrap(), Cursor::default());
    assert!(ledger_client::SyncTarget::prepare(&office, 1 << 20).is_ok());

    // A damaged list of the sync is part of its position: the same kind, the same way back.
    // Valid JSON of the wrong shape counts (it does not read as what the list holds).
    office.store.set_meta(&[("sync.evicted", "[\"not-a-case\"]")]).unwrap();
    damaged(&office);
    office.restart_sync().unwrap();
    assert_eq!(office.store.meta("sync.evicted").unwrap().as_deref(), Some("[]"));
    assert!(ledger_client::SyncTarget::prepare(&office, 1 << 20).is_ok());
}

#[test]
fn a_restart_rebuilds_the_cases_still_leaving_from_their_marks() {
    let (_dir, office) = office(Role::Township, "2026-03-02");
    let id = office.register(&new_case("2026-03-02"), None).unwrap();
    office.store.set_handed_over(id, true).unwrap();
    office.store.set_meta(&[("sync.leaving", "{broken")]).unwrap();
    office.restart_sync().unwrap();
    let leaving: Vec<ledger_domain::CaseId> =
        serde_json::from_str(&office.store.meta("sync.leaving").unwrap().unwrap()).unwrap();
    assert_eq!(leaving, [id], "the case waiting to leave is still on its way out");
}

#[test]
fn a_missing_input_names_its_field_and_no_command_line_option() {
    let (_dir, office) = office(Role::Bureau, "2026-03-02");
    let id = office.register(&new_case("2026-03-02"), None).unwrap();
    let err = office.act(id, &act(ActionKind::Assign)).unwrap_err();
    let OfficeError::Invalid(fields) = &err else { panic!("{err:?}") };
    assert_eq!((fields[0].field.as_str(), fields[0].label.as_str()), ("to", "承办乡镇"));
    assert!(!fields[0].message.contains("--"), "{}", fields[0].message);
}

#[test]
fn attach_file_reads_the_named_file_and_tells_its_type() {
    let (dir, office) = office(Role::Bureau, "2024-03-10");
    let id = office.register(&new_case("2024-03-01"), None).unwrap();
    let photo = dir.path().join("现场照片.JPG");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 a photo").unwrap();
    let hash = office.attach_file(id, &photo).unwrap();
    let case = office.case(id).unwrap();
    let attached = &case.attachments[0];
    assert_eq!((attached.name.as_str(), attached.mime.as_str()), ("现场照片.JPG", "image/jpeg"));
    assert_eq!(attached.hash, hash);
    assert_eq!(office.attachment(&hash).unwrap(), b"\xff\xd8\xff\xe0 a photo");

    let err = office.attach_file(id, &dir.path().join("不存在.pdf")).unwrap_err();
    assert_eq!(err.code(), "bad_file", "{err}");
    assert!(err.to_string().contains("不存在.pdf"), "{err}");
    // Refused by its length, before a byte is read (a sparse file of 9 MiB).
    let huge = dir.path().join("录像.mp4");
    std::fs::File::create(&huge).unwrap().set_len(9 * 1024 * 1024).unwrap();
    let err = office.attach_file(id, &huge).unwrap_err();
    assert!(err.to_string().contains("8 MiB"), "{err}");
    assert_eq!(office.case(id).unwrap().attachments.len(), 1);
}

#[test]
fn check_counts_and_runs_the_deep_check_only_when_asked() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    office.register(&new_case("2024-03-01"), None).unwrap();
    office.register(&new_case("2024-03-02"), None).unwrap();
    let quick = office.check(false).unwrap();
    assert!(quick.intact(), "{quick:?}");
    assert_eq!(quick.cases, 2);
    assert_eq!(quick.pending, office.pending_changes().unwrap());
    assert!(quick.pending > 0);
    assert!(quick.deep.is_none());
    let deep = office.check(true).unwrap().deep.expect("asked for");
    assert!(deep.documents >= 4, "{deep:?}");
    assert!(deep.problems.is_empty(), "{deep:?}");
}

#[test]
fn a_damaged_county_directory_is_reported_not_read_as_absent() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(Role::Bureau);
    // A bureau takes its townships from the county directory.
    cfg.townships.clear();
    let office = Office::init(dir.path(), cfg, clock_at("2024-06-01")).unwrap();
    office
        .store()
        .set_meta(&[
            ("sync.hub", "http://127.0.0.1:9"),
            ("sync.credential", "test"),
            ("directory", "{\"offices\": [trunca"),
        ])
        .unwrap();

    let err = office.directory().unwrap_err();
    assert_eq!(err.code(), "damaged", "{err}");
    assert!(err.to_string().contains("县级名录已损坏"), "{err}");
    let err = office.register(&new_case("2024-03-01"), None).unwrap_err();
    assert_eq!(err.code(), "damaged", "{err}");
    let csv = dir.path().join("台账.csv");
    let mut row: Vec<&str> = LEDGER_COLUMNS.iter().map(|_| "").collect();
    for (col, v) in [
        ("登记日期", "2024-03-01"),
        ("信访形式", "来访"),
        ("信访来源", "本局接收"),
        ("问题类别", "纠纷调处"),
        ("涉及领域", "涉土"),
        ("所属乡镇", "黄桥镇"),
        ("信访人", "王五"),
        ("诉求内容", "宅基地界址纠纷"),
    ] {
        row[LEDGER_COLUMNS.iter().position(|c| *c == col).unwrap()] = v;
    }
    std::fs::write(&csv, format!("{}\n{}\n", LEDGER_COLUMNS.join(","), row.join(","))).unwrap();
    let err = office.import_csv(&csv, ImportOptions::default(), &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "damaged", "{err}");
    assert_eq!(office.case_count().unwrap(), 0);
    // The sync asks the hub for the directory again, which mends it.
    let request = ledger_client::SyncTarget::prepare(&office, 1 << 20).unwrap();
    assert_eq!(request.directory_version, None);
}

#[test]
fn sync_control_of_an_office_on_its_own_says_it_is_not_enrolled() {
    let (_d, office) = office(Role::Bureau, "2024-03-10");
    let office = Arc::new(office);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _inside = runtime.enter();
    assert!(office.start_sync().unwrap().is_none());
    let actor = office.device_actor();
    let errors = runtime.block_on(async {
        [
            office.sync_once(std::time::Duration::from_secs(5)).await.map(|_| ()).unwrap_err(),
            office.repair_from_hub().await.map(|_| ()).unwrap_err(),
            office.repair(None).await.map(|_| ()).unwrap_err(),
            office.hub_offices().await.map(|_| ()).unwrap_err(),
        ]
    });
    for err in errors {
        assert_eq!(err.code(), "not_enrolled", "{err}");
    }
    assert_eq!(office.device_actor(), actor, "a repair that cannot run starts nothing");
}

fn fields(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, FieldValue> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), FieldValue::Text((*v).to_owned()))).collect()
}

fn consult_input(date: &str) -> WorkInput {
    WorkInput {
        kind: "政策咨询".into(),
        fields: fields(&[
            ("date", date),
            ("channel", "phone"),
            ("topic", "征地补偿标准"),
            ("answer", "按省定区片综合地价补偿"),
        ]),
        handler: None,
    }
}

fn dispute(status: &str) -> std::collections::BTreeMap<String, FieldValue> {
    fields(&[
        ("parties", "张某与李某"),
        ("place", "大屋村"),
        ("issue", "宅基地界址争议"),
        ("risk", "high"),
        ("measures", "村组调解，所长包案"),
        ("owner", "李娟"),
        ("status", status),
    ])
}

#[test]
fn consultations_and_outreach_are_recorded_corrected_voided_and_counted() {
    let (_d, office) = office(Role::Bureau, "2017-12-20");
    for date in ["2017-03-01", "2017-05-02", "2016-12-30"] {
        office.add_work(consult_input(date)).unwrap();
    }
    let mut day = WorkInput {
        kind: "outreach".into(),
        fields: fields(&[("date", "2017-04-22"), ("occasion", "植树节"), ("place", "县城广场")]),
        handler: Some("李娟".into()),
    };
    // An occasion the vocabulary does not know is refused by name; its label or code is taken.
    let err = office.add_work(day.clone()).unwrap_err();
    assert_eq!(field_error(err).0, "occasion");
    day.fields.insert("occasion".into(), FieldValue::Text("4.22地球日".into()));
    // A count typed as text (a form field, a terminal) is read as the number.
    day.fields.insert("leaflets".into(), FieldValue::Text(" 1600 ".into()));
    day.fields.insert("slogans".into(), FieldValue::Count(1600));
    day.fields.insert("mass_meetings".into(), FieldValue::Count(5));
    day.fields.insert("forums".into(), FieldValue::Count(15));
    let made = office.add_work(day).unwrap();
    assert_eq!(made.state.text("occasion"), "earth_day");
    assert_eq!(made.state.count("leaflets"), 1600);
    assert_eq!(made.created_by, "李娟");
    assert!(made.editable);
    // A slip of a zero is corrected, not retyped; the correction is one more entry.
    let amend = WorkChange::Amend {
        item: None,
        fields: [("leaflets".to_owned(), FieldValue::Count(16000))].into(),
    };
    let fixed = office.change_work(&made.id, amend, None).unwrap();
    assert_eq!(fixed.state.count("leaflets"), 16000);
    let totals = office.work_totals(2017).unwrap();
    assert_eq!(
        (totals.consults, totals.leaflets, totals.slogans, totals.mass_meetings, totals.forums),
        (2, 16000, 1600, 5, 15)
    );
    // A record voided stays listed, is no longer counted, and takes nothing more.
    let first = office.work_records(Some("consult"), Some(2017)).unwrap();
    assert_eq!(first.len(), 2);
    let void = WorkChange::Void { item: None, reason: "重复录入".into() };
    office.change_work(&first[0].id, void.clone(), None).unwrap();
    assert_eq!(office.work_totals(2017).unwrap().consults, 1);
    assert_eq!(office.work_records(Some("consult"), Some(2017)).unwrap().len(), 2);
    assert!(matches!(office.change_work(&first[0].id, void, None), Err(OfficeError::Refused(_))));
    // Bad input names its field and changes nothing.
    let mut blank = consult_input("2017-06-01");
    blank.fields.insert("answer".into(), FieldValue::Text("   ".into()));
    assert_eq!(field_error(office.add_work(blank).unwrap_err()).0, "answer");
    let mut typed = consult_input("2017-06-01");
    typed.fields.insert("channel".into(), FieldValue::Text("飞鸽".into()));
    assert_eq!(field_error(office.add_work(typed).unwrap_err()).0, "channel");
    let mut extra = consult_input("2017-06-01");
    extra.fields.insert("leaflets".into(), FieldValue::Count(3));
    assert_eq!(field_error(office.add_work(extra).unwrap_err()).0, "leaflets");
    let unknown = WorkInput { kind: "接访".into(), ..consult_input("2017-06-01") };
    assert_eq!(field_error(office.add_work(unknown).unwrap_err()).0, "kind");
    assert!(matches!(office.work_record("not-an-id"), Err(OfficeError::NotFound(_))));
    assert_eq!(office.work_records(None, None).unwrap().len(), 4);
}

#[test]
fn a_township_keeps_one_screening_list_a_month_and_files_it() {
    let (_d, office) = office(Role::Township, "2017-04-28");
    let open = |month: &str| WorkInput {
        kind: "screening".into(),
        fields: fields(&[("month", month)]),
        handler: None,
    };
    let list = office.add_work(open("2017-04")).unwrap();
    // Asking again for the month gives the same list, not a second.
    assert_eq!(office.add_work(open("2017-04")).unwrap().id, list.id);
    assert_eq!(field_error(office.add_work(open("2017-4")).unwrap_err()).0, "month");
    let with = office
        .change_work(&list.id, WorkChange::Item { fields: dispute("resolving") }, None)
        .unwrap();
    let item = with.state.items[0].id.clone();
    let mut short = dispute("resolving");
    short.remove("owner");
    let err = office.change_work(&list.id, WorkChange::Item { fields: short }, None).unwrap_err();
    assert_eq!(field_error(err).0, "owner");
    let settle = WorkChange::Amend { item: Some(item), fields: fields(&[("status", "settled")]) };
    let settled = office.change_work(&list.id, settle, None).unwrap();
    assert_eq!(settled.state.items[0].text("status"), "settled");
    let nowhere = WorkChange::Amend {
        item: Some("nowhere".into()),
        fields: fields(&[("status", "settled")]),
    };
    assert_eq!(field_error(office.change_work(&list.id, nowhere, None).unwrap_err()).0, "item");
    // Not filed yet: the month names this office.
    assert_eq!(office.screening_month("2017-04").unwrap().month.not_filed, vec!["hq".to_owned()]);
    office.change_work(&list.id, WorkChange::File, None).unwrap();
    let month = office.screening_month("2017-04").unwrap();
    assert!(month.month.not_filed.is_empty());
    assert_eq!(month.month.lists.len(), 1);
    assert_eq!((month.month.by_risk[0].risk.as_str(), month.month.by_risk[0].count), ("high", 1));
    assert!(matches!(
        office.change_work(&list.id, WorkChange::File, None),
        Err(OfficeError::Refused(_))
    ));
    assert!(office.screening_month("April").is_err());
    // Filing is for screening lists only.
    let consult = office.add_work(consult_input("2017-04-02")).unwrap();
    let err = office.change_work(&consult.id, WorkChange::File, None).unwrap_err();
    assert_eq!(field_error(err).0, "kind");
    // Everything made waits in the outbox for the hub.
    assert_eq!(office.pending_changes().unwrap(), 5);
}

#[test]
fn duties_show_today_and_the_gaps_and_leaders_count_what_they_settled() {
    let (_d, office) = office(Role::Township, "2017-04-22");
    let duty = |date: &str, staff: &str| WorkInput {
        kind: "值班".into(),
        fields: fields(&[("date", date), ("staff", staff), ("shift", "白班")]),
        handler: None,
    };
    office.add_work(duty("2017-04-22", "李娟")).unwrap();
    office.add_work(duty("2017-04-24", "刘洪")).unwrap();
    let outlook = office.duty_outlook(None, 3).unwrap();
    assert_eq!(outlook.on_duty[0].staff, "李娟");
    assert_eq!(outlook.on_duty[0].shift, "day", "白班 stored as its code");
    assert_eq!(outlook.gaps, vec![NaiveDate::from_ymd_opt(2017, 4, 23).unwrap()]);
    assert_eq!(field_error(office.duty_outlook(None, 0).unwrap_err()).0, "days");
    assert_eq!(field_error(office.duty_outlook(None, 32).unwrap_err()).0, "days");
    // A township sees its own duty only.
    assert!(matches!(office.duty_outlook(Some("sj"), 7), Err(OfficeError::Refused(_))));
    let mut odd = duty("2017-04-25", "王五");
    odd.fields.insert("shift".into(), FieldValue::Text("早班".into()));
    assert_eq!(field_error(office.add_work(odd).unwrap_err()).0, "shift");

    let leader = |matter: &str| WorkInput {
        kind: "包案".into(),
        fields: fields(&[
            ("scope", "包案"),
            ("leader", "王局长"),
            ("matter", matter),
            ("start", "2017-03-01"),
        ]),
        handler: None,
    };
    let a = office.add_work(leader("洞口-2017-A-0012")).unwrap();
    office.add_work(leader("洞口-2017-A-0031")).unwrap();
    assert_eq!(a.state.text("matter"), "洞口-2017-A-0012", "the field reads back");
    let settle = WorkChange::Amend {
        item: None,
        fields: fields(&[("settlement", "已化解"), ("result", "双方达成协议")]),
    };
    office.change_work(&a.id, settle, None).unwrap();
    let totals = office.work_totals(2017).unwrap();
    assert_eq!((totals.leader_settled, totals.leader_cases), (1, 2));
    assert_eq!(totals.settlement_rate().value, Some(0.5));
}

#[test]
fn a_reception_day_records_visitors_registered_as_cases() {
    let (_d, office) = office(Role::Bureau, "2024-03-05");
    let case = office.register(&new_case("2024-03-05"), None).unwrap();
    let number = office.case(case).unwrap().number;
    let day = office
        .add_work(WorkInput {
            kind: "领导接待日".into(),
            fields: fields(&[
                ("date", "2024-03-05"),
                ("leader", "王局长"),
                ("place", "局信访接待室"),
            ]),
            handler: None,
        })
        .unwrap();
    let visitor = |case: &str| WorkChange::Item {
        fields: fields(&[("case", case), ("matter", "邻居违法建房"), ("outcome", "当场解决")]),
    };
    // A visitor names a case registered here first.
    let err = office.change_work(&day.id, visitor("洞口-2024-A-9999"), None).unwrap_err();
    assert_eq!(field_error(err).0, "case");
    let after = office.change_work(&day.id, visitor(&number), None).unwrap();
    assert_eq!(after.state.items[0].text("outcome"), "on_spot");
    office.change_work(&day.id, visitor(&case.to_string()), None).unwrap();
    let totals = office.work_totals(2024).unwrap();
    assert_eq!(
        (totals.reception_days, totals.reception_visits, totals.reception_on_spot),
        (1, 2, 2)
    );
    let summary = office.summary(Period::year(2024).unwrap(), None).unwrap();
    assert!(summary.contains("举行领导接待日1次，接待来访2批，当场解决2批。"), "{summary}");
}

#[test]
fn a_threatening_collective_visit_names_representatives_and_is_reported_at_once() {
    let (_d, office) = office(Role::Township, "2024-03-05");
    let mut input = new_case("2024-03-04");
    input.submission.persons = Some(12);
    input.submission.threat = true;
    input.submission.litigation = true;
    let Err(OfficeError::Invalid(errors)) = office.register(&input, None) else {
        panic!("twelve visitors without representatives were registered")
    };
    assert!(errors[0].message.contains("12人来访"), "{errors:?}");
    input.petitioners[0].representative = true;
    let id = office.register(&input, None).unwrap();
    let view = office.view(id).unwrap();
    let s = &view.case.submissions[0];
    assert_eq!(s.representatives, [view.case.petitioners[0].id.clone()]);
    assert_eq!(s.marks(), ["集体访", "扬言", "涉法涉诉"]);
    assert!(view.allowed_actions.contains(&ActionKind::ReportUp), "offered where §25 asks it");
    let plain = office.register(&new_case("2024-03-04"), None).unwrap();
    assert!(!office.view(plain).unwrap().allowed_actions.contains(&ActionKind::ReportUp));
    // Received yesterday and not yet reported: §25's 立即 is already past.
    let report = view.deadlines.get(&DeadlineKind::UrgentReport).unwrap();
    assert!(report.overdue, "{report:?}");
    let err =
        office.act(id, &ActionInput { text: Some("扬言".into()), ..act(ActionKind::ReportUp) });
    assert!(err.unwrap_err().to_string().contains("上报对象"));
    let reported = |date: &str| ActionInput {
        target: Some("黄桥镇党委政府".into()),
        text: Some("12人集体来访，有人扬言到省城上访，已稳控".into()),
        date: Some(date.parse().unwrap()),
        ..act(ActionKind::ReportUp)
    };
    // Phoned up the day they came, entered today; never before the visit.
    let err = office.act(id, &reported("2024-03-03")).unwrap_err();
    assert!(err.to_string().contains("上报日期"), "{err}");
    office.act(id, &reported("2024-03-04")).unwrap();
    let view = office.view(id).unwrap();
    let report = view.deadlines.get(&DeadlineKind::UrgentReport).cloned().unwrap();
    assert_eq!(report.met_on, Some("2024-03-04".parse().unwrap()));
    assert!(!report.late && !report.overdue);
    assert!(!view.allowed_actions.contains(&ActionKind::ReportUp), "reported: no longer offered");
    let stats = office.statistics(Period::year(2024).unwrap(), None).unwrap();
    assert_eq!((stats.flags.threat, stats.flags.litigation, stats.flags.urgent), (1, 1, 0));
}

#[test]
fn a_12336_report_keeps_its_platform_number_and_the_rules_set_its_clocks_and_representatives() {
    let (_d, bureau) = office(Role::Bureau, "2024-03-01");
    for (item, value) in
        [("policy.representatives_max", "3"), ("policy.assess_12336_working_days", "1")]
    {
        let rule =
            crate::RuleInput { item: item.into(), value: value.into(), ..Default::default() };
        bureau.set_rule(&rule).unwrap();
    }
    let mut input = new_case("2024-03-01");
    input.submission.source = "12336举报".into();
    input.submission.channel = "来电".into();
    input.submission.platform_number = "JB20240301000123".into();
    let id = bureau.register(&input, None).unwrap();
    let view = bureau.view(id).unwrap();
    assert_eq!(view.case.submissions[0].platform_number.as_deref(), Some("JB20240301000123"));
    // Friday the 1st: one working day runs to Monday the 4th.
    let assess = view.deadlines.get(&DeadlineKind::Assess12336).unwrap();
    assert_eq!(assess.due, "2024-03-04".parse::<NaiveDate>().unwrap());
    assert!(view.deadlines.get(&DeadlineKind::Feedback12336).is_some());
    // This county asks at most 3 representatives: four are refused.
    let mut visit = new_case("2024-03-01");
    visit.submission.persons = Some(9);
    visit.petitioners = (0..4)
        .map(|k| NewPetitioner {
            name: format!("代表{k}"),
            representative: true,
            ..Default::default()
        })
        .collect();
    let Err(OfficeError::Invalid(errors)) = bureau.register(&visit, None) else {
        panic!("four representatives were taken under a rule of three")
    };
    assert!(errors[0].message.contains("代表不超过3人"), "{errors:?}");
}
