use chrono::NaiveDate;

use super::*;
use crate::calendar::WorkCalendar;
use crate::deadline::PolicyTable;
use crate::facts::Notice;
use crate::fixtures::seed_2017;
use crate::workflow::replay;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn facts(cases: &[crate::Case]) -> Vec<CaseFacts> {
    let (policies, calendar) = (PolicyTable::default(), WorkCalendar::china());
    cases.iter().map(|c| CaseFacts::project(c, &replay(&c.events), &policies, &calendar)).collect()
}

fn year_2017(township: Option<&str>) -> StatsQuery<'_> {
    StatsQuery {
        period: Period::year(2017).unwrap(),
        township,
        as_of: d("2017-12-31"),
        settled_window_days: 90,
    }
}

#[test]
fn the_seed_year_reproduces_every_figure_of_the_report() {
    let cases = seed_2017();
    assert!(cases.iter().all(|c| replay(&c.events).anomalies.is_empty()));
    let s = statistics(&facts(&cases), &year_2017(None));
    assert_eq!(s.total, 137);
    assert_eq!(s.cases, 137);
    // 省、市信访局交办28件
    assert_eq!(s.by_source["省信访局交办"] + s.by_source["市信访局交办"], 28);
    assert!(s.by_source["省信访局交办"] > 0 && s.by_source["市信访局交办"] > 0);
    assert_eq!(s.by_source["县级部门交办"], 15);
    // 12336违法举报和网络舆情36件
    assert_eq!(s.by_source["12336举报"] + s.by_source["网络舆情"], 36);
    assert_eq!(s.by_source["市国土局交办"], 5);
    // 本局信访接收53件次(来信3件,来访50批116人次)
    assert_eq!(s.by_source["本局接收"], 53);
    assert_eq!(s.by_source_channel["本局接收"]["来信"], 3);
    assert_eq!(s.by_source_channel["本局接收"]["来访"], 50);
    assert_eq!(s.visits, Visits { batches: 50, persons: 116 });
    assert_eq!(s.by_source.values().sum::<u64>(), 137);
    // 非法转让土地5件,违法占地建设107件,咨询及要求办证15件,涉采矿权3件,纠纷调处6件,其它1件
    let cat: Vec<u64> =
        ["非法转让土地", "违法占地建设", "咨询及要求办证", "涉采矿权", "纠纷调处", "其它"]
            .iter()
            .map(|k| s.by_category[*k])
            .collect();
    assert_eq!(cat, [5, 107, 15, 3, 6, 1]);
    assert_eq!(s.by_category.values().sum::<u64>(), 137);
    // 涉土132件,涉矿3件,其它2件 (the seed's 122 is a misprint: it cannot sum to 137)
    assert_eq!((s.by_domain["涉土"], s.by_domain["涉矿"], s.by_domain["其它"]), (132, 3, 2));
    // 回复率100% (除正在调查中的)
    let reply = s.rates["回复率"];
    assert_eq!(reply.value, Some(1.0));
    assert!(reply.denominator > 100 && reply.denominator < 137, "{reply:?}");
    assert_eq!(s.flags, Flags::default());
    assert_eq!(s.rates["重复信访率"].value, Some(0.0));
    // 其他都已办结: every matter due to be concluded was; those still under investigation wait.
    let closed = s.rates["办结率"];
    assert_eq!(closed.value, Some(1.0));
    assert_eq!(closed.denominator + closed.pending, 137, "{closed:?}");
    assert_eq!(closed.pending, 137 - reply.denominator, "{closed:?}");
    // The seed's history is imported with no 受理告知书 dates: not late, unknown.
    let timely = s.rates["及时受理率"];
    assert_eq!((timely.denominator, timely.unknown, timely.value), (0, 137, None));
}

#[test]
fn json_shape_is_keyed_by_chinese_labels_in_report_order() {
    let s = statistics(&facts(&seed_2017()), &year_2017(None));
    let json = serde_json::to_value(&s).unwrap();
    for key in
        ["total", "by_source", "by_channel", "by_domain", "by_category", "visits", "flags", "rates"]
    {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["visits"]["persons"], 116);
    assert_eq!(json["flags"]["skip_level"], 0);
    let rates: Vec<&String> = json["rates"].as_object().unwrap().keys().collect();
    assert_eq!(rates, RATE_NAMES);
    for r in json["rates"].as_object().unwrap().values() {
        assert!(r.get("numerator").is_some() && r.get("denominator").is_some());
        assert!(r.get("value").is_some());
    }
    let sources: Vec<&String> = json["by_source"].as_object().unwrap().keys().collect();
    assert_eq!(sources[0], "本局接收");
    let back: Statistics = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
}

#[test]
fn township_and_period_filters() {
    let all = facts(&seed_2017());
    let one = statistics(&all, &year_2017(Some("黄桥镇")));
    assert!(one.total > 0 && one.total < 137);
    let sum: u64 = crate::fixtures::TOWNSHIPS
        .iter()
        .map(|t| statistics(&all, &year_2017(Some(t))).total)
        .sum();
    assert_eq!(sum, 137);
    let march = StatsQuery { period: Period::month(2017, 3).unwrap(), ..year_2017(None) };
    let m = statistics(&all, &march);
    assert!(m.total > 5 && m.total < 20, "{}", m.total);
    let none = StatsQuery { period: Period::year(2018).unwrap(), ..year_2017(None) };
    let n = statistics(&all, &none);
    assert_eq!(n.total, 0);
    assert_eq!(n.rates["及时受理率"].value, None);
}

#[test]
fn voided_cases_leave_the_statistics() {
    let mut cases = seed_2017();
    let first = &mut cases[0];
    let mut void = first.events[0].clone();
    void.id = "void".into();
    void.action = crate::ActionKind::Void;
    void.lamport = first.next_lamport();
    first.events.push(void);
    let s = statistics(&facts(&cases), &year_2017(None));
    assert_eq!(s.total, 136);
}

/// Hand-built facts for each rate's edge cases.
mod rates {
    use super::*;
    use crate::CaseId;
    use crate::facts::SubmissionFacts;
    use crate::terms::{Category, Channel, Purpose, Satisfaction, Sector, Source};
    use crate::workflow::Status;

    fn base(n: u128, received: &str) -> CaseFacts {
        let received = d(received);
        CaseFacts {
            id: CaseId(uuid::Uuid::from_u128(n)),
            status: Status::Registered,
            township: Some("黄桥镇".into()),
            sector: Sector::Land,
            category: Category::Dispute,
            purpose: Purpose::Appeal,
            submissions: vec![SubmissionFacts {
                received,
                channel: Channel::Visit,
                source: Source::Direct,
                batches: 1,
                persons: 6,
                collective: true,
                skip_level: false,
                repeat: false,
                urgent: false,
                threat: false,
                litigation: false,
            }],
            received: Some(received),
            decide_due: Some(received + chrono::Days::new(15)),
            decided_on: None,
            notice: crate::facts::Notice::Missing,
            accepted_on: None,
            handle_due: None,
            first_reply_on: None,
            closed_on: None,
            evaluation: None,
            evaluated_on: None,
            rating_due: None,
            statutory: false,
            anomalies: 0,
        }
    }

    fn handled(n: u128, accepted: &str, replied: Option<&str>) -> CaseFacts {
        let mut c = base(n, "2024-03-01");
        c.decided_on = Some(d(accepted));
        c.accepted_on = Some(d(accepted));
        c.handle_due = Some(d(accepted) + chrono::Days::new(60));
        c.first_reply_on = replied.map(d);
        c.rating_due = c.first_reply_on.map(|r| r + chrono::Days::new(30));
        c
    }

    fn query(as_of: &str) -> StatsQuery<'static> {
        StatsQuery {
            period: Period::year(2024).unwrap(),
            township: None,
            as_of: d(as_of),
            settled_window_days: 90,
        }
    }

    #[test]
    fn timely_acceptance_counts_late_and_overdue_but_not_pending() {
        let mut timely = base(1, "2024-03-01");
        timely.decided_on = Some(d("2024-03-10"));
        timely.notice = Notice::Issued(d("2024-03-12"));
        // Decided in time, but the written notice went out late: late.
        let mut late = base(2, "2024-03-01");
        late.decided_on = Some(d("2024-03-10"));
        late.notice = Notice::Issued(d("2024-04-05"));
        // Decided in time, no notice at all: 超期未受理.
        let mut unnotified = base(3, "2024-03-01");
        unnotified.decided_on = Some(d("2024-03-10"));
        let overdue = base(4, "2024-03-01");
        let pending = base(5, "2024-06-25");
        let mut imported = base(6, "2024-03-01");
        imported.decided_on = Some(d("2024-03-30"));
        imported.notice = Notice::Unknown;
        let mut anonymous = base(7, "2024-03-01");
        anonymous.decided_on = Some(d("2024-03-05"));
        anonymous.notice = Notice::NotPossible;
        let cases = [timely, late, unnotified, overdue, pending, imported, anonymous];
        let s = statistics(&cases, &query("2024-06-30"));
        let r = s.rates["及时受理率"];
        assert_eq!((r.numerator, r.denominator, r.pending, r.unknown), (2, 5, 1, 1));
        assert_eq!(r.value, Some(0.4));
        // As of a day before the imported decision, it had certainly not been notified.
        let early = statistics(&cases, &query("2024-03-25"));
        let r = early.rates["及时受理率"];
        assert_eq!((r.numerator, r.denominator, r.pending, r.unknown), (2, 6, 1, 0));
    }

    /// Facts projected by an older version carry no notice: the decision's date stands in.
    #[test]
    fn facts_without_a_notice_fall_back_to_the_decision() {
        let mut old = base(1, "2024-03-01");
        old.decided_on = Some(d("2024-03-10"));
        let mut json = serde_json::to_value(&old).unwrap();
        json.as_object_mut().unwrap().remove("notice");
        let old: CaseFacts = serde_json::from_value(json).unwrap();
        assert_eq!(old.notice, Notice::Unprojected);
        let r = statistics(&[old], &query("2024-06-30")).rates["及时受理率"];
        assert_eq!((r.numerator, r.denominator), (1, 1));
    }

    #[test]
    fn on_time_reply_and_reply_rate_leave_out_cases_still_in_time() {
        let cases = [
            handled(1, "2024-03-05", Some("2024-04-01")),
            handled(2, "2024-03-05", Some("2024-06-01")),
            handled(3, "2024-03-05", None),
            handled(4, "2024-06-01", None),
        ];
        let s = statistics(&cases, &query("2024-06-30"));
        let on_time = s.rates["按期办结率"];
        assert_eq!((on_time.numerator, on_time.denominator), (1, 3));
        let reply = s.rates["回复率"];
        assert_eq!((reply.numerator, reply.denominator), (2, 3));
        assert_eq!((reply.pending, on_time.pending), (1, 1));
        // None closed: three past their 办理期限, one still within it.
        let closed = s.rates["办结率"];
        assert_eq!((closed.numerator, closed.denominator, closed.pending), (0, 3, 1));
    }

    #[test]
    fn rating_participation_and_satisfaction() {
        let mut a = handled(1, "2024-03-05", Some("2024-04-01"));
        a.evaluation = Some(Satisfaction::Satisfied);
        a.evaluated_on = Some(d("2024-04-05"));
        let mut b = handled(2, "2024-03-05", Some("2024-04-01"));
        b.evaluation = Some(Satisfaction::Dissatisfied);
        b.evaluated_on = Some(d("2024-04-05"));
        let unrated_overdue = handled(3, "2024-03-05", Some("2024-04-01"));
        let unrated_in_time = handled(4, "2024-03-05", Some("2024-06-20"));
        let s = statistics(&[a, b, unrated_overdue, unrated_in_time], &query("2024-06-30"));
        let p = s.rates["参评率"];
        assert_eq!((p.numerator, p.denominator), (2, 3));
        let m = s.rates["满意率"];
        assert_eq!((m.numerator, m.denominator), (1, 2));
        assert_eq!(m.value, Some(0.5));
    }

    #[test]
    fn matters_routed_into_a_statutory_procedure_are_not_rated() {
        let mut routed = handled(1, "2024-03-05", Some("2024-04-01"));
        routed.statutory = true;
        routed.handle_due = None;
        let mut rated = handled(2, "2024-03-05", Some("2024-04-01"));
        rated.evaluation = Some(Satisfaction::Satisfied);
        rated.evaluated_on = Some(d("2024-04-05"));
        let s = statistics(&[routed, rated], &query("2024-06-30"));
        let p = s.rates["参评率"];
        assert_eq!((p.numerator, p.denominator), (1, 1), "the routed matter is not 超期未评价");
        let on_time = s.rates["按期办结率"];
        assert_eq!(on_time.denominator, 1, "nor judged by the petition procedure's 60 days");
    }

    #[test]
    fn settled_rate_looks_for_new_submissions_after_closing() {
        let mut quiet = handled(1, "2024-03-05", Some("2024-04-01"));
        quiet.closed_on = Some(d("2024-04-10"));
        let mut again = handled(2, "2024-03-05", Some("2024-04-01"));
        again.closed_on = Some(d("2024-04-10"));
        let mut repeat = again.submissions[0].clone();
        repeat.received = d("2024-05-01");
        repeat.repeat = true;
        again.submissions.push(repeat);
        let s = statistics(&[quiet.clone(), again.clone()], &query("2024-12-31"));
        let r = s.rates["停访息诉率"];
        assert_eq!((r.numerator, r.denominator), (1, 2));
        // Before the window has run (closed 04-10, 90 days: to 07-09) nobody is judged, not
        // even the one who came back.
        let early = statistics(&[quiet.clone(), again.clone()], &query("2024-07-08"));
        let r = early.rates["停访息诉率"];
        assert_eq!((r.numerator, r.denominator, r.pending, r.value), (0, 0, 2, None));
        let on_the_day = statistics(&[quiet, again], &query("2024-07-09"));
        let r = on_the_day.rates["停访息诉率"];
        assert_eq!((r.numerator, r.denominator, r.pending), (1, 2, 0));
        assert_eq!(s.total, 3);
        assert_eq!(s.flags.repeat, 1);
        let rep = s.rates["重复信访率"];
        assert_eq!((rep.numerator, rep.denominator), (1, 3));
    }

    #[test]
    fn flags_count_every_flagged_submission_whatever_its_channel() {
        let mut letter = base(1, "2024-03-01");
        letter.submissions[0].channel = Channel::Letter;
        letter.submissions[0].skip_level = true;
        let visit = base(2, "2024-03-02");
        let s = statistics(&[letter, visit], &query("2024-06-30"));
        assert_eq!(s.flags.collective, 2);
        assert_eq!(s.flags.skip_level, 1);
        assert_eq!(s.visits, Visits { batches: 1, persons: 6 });
        assert_eq!(s.by_channel["来信"], 1);
        assert_eq!(s.by_channel["来访"], 1);
    }

    #[test]
    fn unknown_values_get_their_own_rows() {
        let mut c = base(1, "2024-03-01");
        c.category = Category::Unknown("zoning".into());
        let s = statistics(&[c], &query("2024-06-30"));
        assert_eq!(s.by_category["zoning"], 1);
        assert_eq!(s.by_category["违法占地建设"], 0);
    }
}

/// A small 2024 ledger built as real cases (events and documents, projected as a store projects
/// them), its rates counted by hand as of 2024-12-31.
mod ledger_2024 {
    use super::*;
    use crate::model::{Case, Event, EventHead};
    use crate::terms::{Channel, CloseReason, DocumentKind, Outcome, Role, Satisfaction, Source};
    use crate::{ActionKind, CaseId};

    fn case(n: u128, received: &str) -> Case {
        let mut c = seed_2017().swap_remove(0);
        c.id = CaseId(uuid::Uuid::from_u128(0x2024_0000_0000_7000_8000_0000_0000_0000 | n));
        c.number = format!("洞口-2024-{n:04}");
        let s = &mut c.submissions[0];
        s.id = format!("s-2024-{n}");
        s.received = d(received);
        s.source = Source::Direct;
        s.channel = Channel::Visit;
        (s.batches, s.persons) = (1, 1);
        c.events.clear();
        push(&mut c, ActionKind::Register, received);
        c
    }

    fn push<'a>(c: &'a mut Case, action: ActionKind, date: &str) -> &'a mut Event {
        let lamport = c.next_lamport();
        let date = d(date);
        let at = date.and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis();
        c.events.push(Event::new(EventHead {
            id: format!("{}-{lamport}", c.number),
            lamport,
            action,
            actor: "bureau".into(),
            office: crate::fixtures::BUREAU.into(),
            role: Role::Bureau,
            handler: "刘洪".into(),
            at,
            date,
            imported: false,
        }));
        c.events.last_mut().unwrap()
    }

    fn notice(c: &mut Case, date: &str) {
        let e = push(c, ActionKind::IssueDocument, date);
        e.document_kind = Some(DocumentKind::AcceptanceNotice);
        e.document_number = Some(format!("洞国土信受〔2024〕{}号", e.lamport));
    }

    fn reply(c: &mut Case, date: &str) {
        let e = push(c, ActionKind::Reply, date);
        e.outcome = Some(Outcome::Supported);
        e.text = Some("经调查核实，已依法处理。".into());
    }

    fn close(c: &mut Case, date: &str) {
        push(c, ActionKind::Close, date).close_reason = Some(CloseReason::Replied);
    }

    /// Accepted, and its 受理告知书 issued, on the given days.
    fn handled(n: u128, received: &str, accepted: &str, noticed: &str) -> Case {
        let mut c = case(n, received);
        push(&mut c, ActionKind::Accept, accepted);
        notice(&mut c, noticed);
        c
    }

    fn ledger() -> Vec<Case> {
        // A: in time throughout, rated 满意, closed 05-20, nobody came back.
        let mut a = handled(1, "2024-03-01", "2024-03-04", "2024-03-05");
        reply(&mut a, "2024-04-10");
        push(&mut a, ActionKind::Evaluate, "2024-04-15").satisfaction =
            Some(Satisfaction::Satisfied);
        close(&mut a, "2024-05-20");
        // B: accepted in time but the 受理告知书 went out 05-10, past its 04-16 deadline; closed
        // 06-25 and the petitioner came back 07-15, inside the 90 days.
        let mut b = handled(2, "2024-04-01", "2024-04-03", "2024-05-10");
        reply(&mut b, "2024-05-20");
        close(&mut b, "2024-06-25");
        let mut again = b.submissions[0].clone();
        again.id = "s-2024-2b".into();
        again.received = d("2024-07-15");
        again.repeat = true;
        b.submissions.push(again);
        // C: closed 11-01; its 90 days run to 2025-01-30, so it is not judged yet.
        let mut c = handled(3, "2024-05-06", "2024-05-07", "2024-05-08");
        reply(&mut c, "2024-06-28");
        close(&mut c, "2024-11-01");
        // D, E: never decided, past their 15 days. F: undecided, still within them.
        let d_ = case(4, "2024-10-08");
        let e = case(5, "2024-11-04");
        let f = case(6, "2024-12-20");
        // G: accepted 09-03, no reply by its 60-day deadline. H: accepted 12-03, in time.
        let g = handled(7, "2024-09-02", "2024-09-03", "2024-09-03");
        let h = handled(8, "2024-12-02", "2024-12-03", "2024-12-03");
        vec![a, b, c, d_, e, f, g, h]
    }

    fn stats_of(cases: &[Case]) -> Statistics {
        for c in cases {
            assert!(replay(&c.events).anomalies.is_empty(), "{}", c.number);
        }
        let query = StatsQuery {
            period: Period::year(2024).unwrap(),
            township: None,
            as_of: d("2024-12-31"),
            settled_window_days: 90,
        };
        statistics(&facts(cases), &query)
    }

    fn counts(s: &Statistics, name: &str) -> (u64, u64, u64, u64) {
        let r = s.rates[name];
        (r.numerator, r.denominator, r.pending, r.unknown)
    }

    #[test]
    fn every_rate_equals_the_hand_count() {
        let s = stats_of(&ledger());
        assert_eq!((s.total, s.cases), (9, 8));
        // 及时受理率: A C G H noticed in time; B late; D E never; F still in time.
        assert_eq!(counts(&s, "及时受理率"), (4, 7, 1, 0));
        assert_eq!(s.rates["及时受理率"].value, Some(0.5714));
        // 按期办结率 / 回复率: A B C replied in time, G overdue, H still in time.
        assert_eq!(counts(&s, "按期办结率"), (3, 4, 1, 0));
        assert_eq!(counts(&s, "回复率"), (3, 4, 1, 0));
        // 办结率: A B C closed; D E undecided and overdue, G overdue in handling; F H in time.
        assert_eq!(counts(&s, "办结率"), (3, 6, 2, 0));
        assert_eq!(s.rates["办结率"].value, Some(0.5));
        // 参评率: A rated; B and C past their 30 days unrated. 满意率: A of A.
        assert_eq!(counts(&s, "参评率"), (1, 3, 0, 0));
        assert_eq!(counts(&s, "满意率"), (1, 1, 0, 0));
        // 停访息诉率: A settled, B came back, C inside its window.
        assert_eq!(counts(&s, "停访息诉率"), (1, 2, 1, 0));
        // 重复信访率: B's return of 9 submissions.
        assert_eq!(counts(&s, "重复信访率"), (1, 9, 0, 0));
    }

    /// The ledger that showed 100 %: one closed case and two overdue undecided ones.
    #[test]
    fn overdue_undecided_cases_are_in_the_closure_base() {
        let cases: Vec<Case> = ledger()
            .into_iter()
            .filter(|c| {
                ["洞口-2024-0001", "洞口-2024-0004", "洞口-2024-0005"].contains(&c.number.as_str())
            })
            .collect();
        let s = stats_of(&cases);
        assert_eq!(counts(&s, "办结率"), (1, 3, 0, 0));
    }

    #[test]
    fn the_notice_is_projected_from_documents_imports_and_anonymity() {
        let [a, b, .., g, _] = &facts(&ledger())[..] else { panic!() };
        assert_eq!(a.notice, Notice::Issued(d("2024-03-05")));
        assert_eq!(b.notice, Notice::Issued(d("2024-05-10")));
        assert_eq!(g.notice, Notice::Issued(d("2024-09-03")));
        let mut undecided = case(9, "2024-03-01");
        push(&mut undecided, ActionKind::Accept, "2024-03-02");
        let mut imported = undecided.clone();
        imported.events.iter_mut().for_each(|e| e.imported = true);
        let mut anonymous = undecided.clone();
        anonymous.submissions[0].anonymous = true;
        let projected = facts(&[undecided, imported, anonymous]);
        let notices: Vec<Notice> = projected.iter().map(|f| f.notice).collect();
        assert_eq!(notices, [Notice::Missing, Notice::Unknown, Notice::NotPossible]);
        // The seed's history is imported and records no notices.
        assert!(facts(&seed_2017()).iter().all(|f| f.notice == Notice::Unknown));
    }
}
