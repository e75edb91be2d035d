//! The rules document: entries applied by first day, refusals that keep the past, the
//! creating change the hub and a bureau share.

#![allow(clippy::unwrap_used)]

use automerge::Automerge;

use super::*;
use crate::schema;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn entry(n: u8, item: &str, value: &str, from: &str) -> RuleEntry {
    RuleEntry {
        id: format!("0190{n:04}"),
        item: item.to_owned(),
        value: value.to_owned(),
        from: d(from),
        recorded_at: 1_790_000_000_000 + i64::from(n),
        handler: "刘洪".to_owned(),
        note: String::new(),
    }
}

fn doc(entries: Vec<RuleEntry>) -> RulesDoc {
    RulesDoc { entries }
}

/// The State Council's 2027 schedule as a county would type it (an excerpt: the days the tests
/// below turn on).
const Y2027: &str = "2027-01-01 holiday 元旦\n2027-02-06 holiday 春节\n2027-02-07 holiday 春节\n\
                     2027-02-08 holiday 春节\n2027-02-09 holiday 春节\n2027-02-10 holiday 春节\n\
                     2027-02-11 holiday 春节\n2027-02-12 holiday 春节\n2027-02-20 workday 春节\n";

#[test]
fn the_built_in_rules_are_the_national_ones() {
    let rules = Rules::builtin();
    let p = rules.policies.for_date(d("2024-03-01"));
    assert_eq!(
        (p.id.as_ref(), p.decide_days, p.decide_working, p.handle_days),
        ("xfgztl-2022", 15, false, 60)
    );
    assert_eq!(rules.policies.for_date(d("2017-03-01")).id, "xftl-2005");
    assert_eq!(rules.county_on(d("2026-12-01")), CountySettings::default());
    assert_eq!(rules.calendar.coverage().1, d("2026-12-31"));
}

#[test]
fn a_provincial_variant_applies_to_matters_received_from_its_first_day_only() {
    let (rules, skipped) = Rules::builtin().with_doc(&doc(vec![
        entry(1, "policy.decide_days", "5", "2027-01-01"),
        entry(2, "policy.decide_working", "true", "2027-01-01"),
        entry(3, "policy.name", "浙江省信访条例", "2027-01-01"),
    ]));
    assert!(skipped.is_empty(), "{skipped:?}");
    let before = rules.policies.for_date(d("2026-12-31"));
    assert_eq!(
        (before.id.as_ref(), before.decide_days, before.decide_working),
        ("xfgztl-2022", 15, false)
    );
    let after = rules.policies.for_date(d("2027-01-01"));
    assert_eq!(after.id, "xfgztl-2022+2027-01-01");
    assert_eq!(after.name, "浙江省信访条例");
    assert_eq!((after.decide_days, after.decide_working, after.handle_days), (5, true, 60));
    // A later change builds on the county's version, and the national base stays named.
    let (rules, _) = rules.with_doc(&doc(vec![entry(4, "policy.handle_days", "45", "2028-01-01")]));
    let later = rules.policies.for_date(d("2028-02-01"));
    assert_eq!(later.id, "xfgztl-2022+2028-01-01");
    assert_eq!((later.decide_days, later.handle_days), (5, 45));
}

#[test]
fn next_years_holidays_arrive_as_an_entry_and_end_the_estimate() {
    let builtin = Rules::builtin();
    // Beyond the embedded table: the Monday-to-Friday rule, flagged 预计.
    let guess = builtin.calendar.add_days(d("2027-01-25"), 15).unwrap();
    assert!(guess.estimated);
    let (rules, skipped) =
        builtin.with_doc(&doc(vec![entry(1, "holidays.2027", Y2027, "2026-12-01")]));
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(rules.calendar.coverage().1, d("2027-12-31"));
    assert_eq!(rules.calendar.is_working_day(d("2027-01-01")), Ok(false));
    assert_eq!(rules.calendar.is_working_day(d("2027-02-20")), Ok(true), "a 调休 Saturday");
    // 15 days after 2027-01-25 is 2027-02-09, inside 春节 (to 02-12); 02-13 and 02-14 are a
    // weekend, so the last day moves to Monday 2027-02-15.
    let known = rules.calendar.add_days(d("2027-01-25"), 15).unwrap();
    assert_eq!((known.date, known.estimated), (d("2027-02-15"), false));
    // A schedule recorded again replaces the earlier one for that year.
    let (rules, _) = rules.with_doc(&doc(vec![
        entry(1, "holidays.2027", Y2027, "2026-12-01"),
        entry(2, "holidays.2027", "2027-01-01 holiday 元旦\n", "2026-12-02"),
    ]));
    assert_eq!(rules.calendar.is_working_day(d("2027-02-08")), Ok(true));
}

#[test]
fn a_year_after_a_missing_one_is_not_applied() {
    let (rules, skipped) = Rules::builtin().with_doc(&doc(vec![entry(
        1,
        "holidays.2028",
        "2028-01-01 holiday 元旦",
        "2026-12-01",
    )]));
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].reason.contains("2027"), "{}", skipped[0].reason);
    assert_eq!(rules.calendar.coverage().1, d("2026-12-31"));
}

#[test]
fn county_settings_and_legal_bases_hold_from_their_first_day() {
    let (rules, _) = Rules::builtin().with_doc(&doc(vec![
        entry(1, "county.review_body", "洞口县人民政府", "2026-12-01"),
        entry(2, "county.issues_own_documents", "true", "2027-01-01"),
        entry(
            3,
            "basis.dispute",
            "《中华人民共和国土地管理法》第十四条、《土地权属争议调查处理办法》",
            "2026-12-01",
        ),
        entry(4, "county.review_body", "邵阳市自然资源和规划局", "2027-07-01"),
        entry(5, "basis.other_land_violation", "", "2026-12-01"),
        entry(6, "county.township_review_body", "洞口县国土资源局", "2027-01-01"),
    ]));
    assert_eq!(
        rules.county_on(d("2027-01-01")).township_review_body.as_deref(),
        Some("洞口县国土资源局"),
        "what a 国土所 issues in its own name is reviewed by the body the county names"
    );
    assert_eq!(rules.county_on(d("2026-11-30")), CountySettings::default());
    let dec = rules.county_on(d("2026-12-15"));
    assert_eq!(
        (dec.review_body.as_deref(), dec.issues_own_documents, dec.township_review_body),
        (Some("洞口县人民政府"), false, None)
    );
    assert!(rules.county_on(d("2027-01-01")).issues_own_documents);
    assert_eq!(
        rules.county_on(d("2027-07-01")).review_body.as_deref(),
        Some("邵阳市自然资源和规划局")
    );
    assert_eq!(
        rules.legal_basis(&Category::IllegalOccupation, d("2026-12-15")).as_deref(),
        Some("《中华人民共和国土地管理法》第七十七条"),
        "built in"
    );
    assert!(
        rules
            .legal_basis(&Category::Dispute, d("2026-12-15"))
            .unwrap()
            .contains("土地权属争议调查处理办法")
    );
    assert_eq!(rules.legal_basis(&Category::OtherLandViolation, d("2026-12-15")), None, "cleared");
    assert!(rules.is_set(&RuleItem::County(CountySetting::ReviewBody)));
    assert!(!rules.is_set(&RuleItem::LegalBasis(Category::IllegalOccupation)), "built in");
}

#[test]
fn two_entries_for_one_day_take_the_later_recorded() {
    let (rules, _) = Rules::builtin().with_doc(&doc(vec![
        entry(2, "county.review_body", "邵阳市人民政府", "2027-01-01"),
        entry(1, "county.review_body", "洞口县人民政府", "2027-01-01"),
    ]));
    assert_eq!(rules.county_on(d("2027-01-02")).review_body.as_deref(), Some("邵阳市人民政府"));
}

#[test]
fn entries_that_do_not_fit_or_reach_into_the_past_are_refused() {
    let today = d("2026-12-01");
    let ok = |e: RuleEntry| check_entry(&e, today);
    assert_eq!(ok(entry(1, "policy.decide_days", "5", "2027-01-01")), Ok(()));
    assert_eq!(ok(entry(1, "county.review_body", "洞口县人民政府", "2026-12-01")), Ok(()));
    assert_eq!(ok(entry(1, "holidays.2027", Y2027, "2026-12-01")), Ok(()));
    let refused = |e: RuleEntry| check_entry(&e, today).unwrap_err();
    assert!(refused(entry(1, "policy.handle_days", "45", "2026-01-01")).contains("不能追溯既往"));
    assert!(
        refused(entry(1, "holidays.2025", "2025-01-01 holiday 元旦", "2026-12-01"))
            .contains("已经过去")
    );
    assert!(refused(entry(1, "policy.handle_days", "0", "2027-01-01")).contains("1 至 365"));
    assert!(refused(entry(1, "policy.handle_days", "六十", "2027-01-01")).contains("整数"));
    assert!(
        refused(entry(1, "policy.decide_working", "yes", "2027-01-01")).contains("true 或 false")
    );
    assert!(refused(entry(1, "county.review_body", " ", "2027-01-01")).contains("1 至 60"));
    assert!(
        refused(entry(1, "holidays.2027", "2028-01-01 holiday 元旦", "2026-12-01"))
            .contains("第1行")
    );
    assert!(
        refused(entry(1, "holidays.2027", "2027-01-01 rest 元旦", "2026-12-01")).contains("第1行")
    );
    assert!(refused(entry(1, "policy.speed", "5", "2027-01-01")).contains("不认识"));
    // §20 caps representatives at 5: a province may ask fewer (浙江: 3), never more.
    assert_eq!(ok(entry(1, "policy.representatives_max", "3", "2027-01-01")), Ok(()));
    assert!(refused(entry(1, "policy.representatives_max", "6", "2027-01-01")).contains("1 至 5"));
    // The 12336 clocks are local practice: a county may turn one off with 0; the law's may not.
    assert_eq!(ok(entry(1, "policy.assess_12336_working_days", "0", "2027-01-01")), Ok(()));
    assert!(refused(entry(1, "policy.review_days", "0", "2027-01-01")).contains("1 至 365"));
    let (rules, _) = Rules::builtin().with_doc(&doc(vec![
        entry(1, "policy.representatives_max", "3", "2027-01-01"),
        entry(2, "policy.feedback_12336_days", "30", "2027-01-01"),
    ]));
    let p = rules.policies.for_date(d("2027-01-02"));
    assert_eq!((p.representatives_max, p.feedback_12336_days), (3, 30));
    assert_eq!(rules.policies.for_date(d("2026-12-31")).representatives_max, 5);
    assert!(refused(entry(1, "basis.dispute", &"法".repeat(201), "2027-01-01")).contains("200"));
    assert_eq!(RuleItem::parse("holidays.02027"), RuleItem::Unknown("holidays.02027".into()));
}

#[test]
fn the_creating_change_is_the_same_wherever_it_is_made_and_entries_round_trip() {
    let a = genesis();
    assert!(!a.is_empty());
    assert_eq!(a, genesis());
    let mut doc = Automerge::load(&a).unwrap();
    assert_eq!(schema::read_rules(&doc).unwrap(), RulesDoc::default());
    let e = RuleEntry {
        note: "国办发明电〔2026〕7号".into(),
        ..entry(1, "holidays.2027", Y2027, "2026-12-01")
    };
    let mut tx = doc.transaction();
    schema::add_rule_entry(&mut tx, &e).unwrap();
    tx.commit();
    assert_eq!(schema::read_rules(&doc).unwrap().entries, vec![e]);
    assert_eq!(doc.get_changes(&[]).len(), 2);
}

/// The creating change is pinned: a build whose change differed (another schema version,
/// another Automerge encoding) would make a second document at a bureau that set rules before
/// its first sync, which the hub's copy could never merge with.
#[test]
fn the_creating_change_never_changes_between_builds() {
    let change = automerge::Change::from_bytes(genesis()).unwrap();
    assert_eq!(
        change.hash().to_string(),
        "15f4f6cc37789b2a2fffc346dfb9ebe45d066cb448fd779a93e34a612a7dd3c5"
    );
}

#[test]
fn a_schedule_for_a_year_under_way_changes_only_the_days_from_its_first_day() {
    let builtin = Rules::builtin();
    assert_eq!(builtin.calendar.is_working_day(d("2026-10-01")), Ok(false), "国庆节");
    let (rules, skipped) = builtin.with_doc(&doc(vec![entry(
        1,
        "holidays.2026",
        "2026-12-25 holiday 县里放假（测试）",
        "2026-12-01",
    )]));
    assert!(skipped.is_empty(), "{skipped:?}");
    // The days before keep the schedule deadlines were reckoned with.
    assert_eq!(rules.calendar.is_working_day(d("2026-10-01")), Ok(false));
    // From its first day on, the new schedule governs.
    assert_eq!(rules.calendar.is_working_day(d("2026-12-25")), Ok(false));
    assert_eq!(rules.calendar.is_working_day(d("2026-12-31")), Ok(true));
    // And its first day cannot lie in the past either.
    let back = entry(2, "holidays.2026", "2026-12-25 holiday 县里放假", "2026-06-01");
    assert!(check_entry(&back, d("2026-12-01")).unwrap_err().contains("不能追溯既往"));
}
