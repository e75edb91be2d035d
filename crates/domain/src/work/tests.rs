//! The replay of a work record's log, the judgement of its entries, and what records add up to.

#![allow(clippy::unwrap_used)]

use super::*;

const DAY: i64 = 86_400_000;
/// 2017-04-22T02:00:00Z.
const APRIL_22: i64 = 1_492_826_400_000;

fn entry(id: &str, op: EntryOp, at: i64, fields: &[(&str, FieldValue)]) -> WorkEntry {
    WorkEntry {
        id: id.into(),
        // Every entry as if concurrent: the order is the clock's, which these tests set.
        lamport: 1,
        op,
        target: None,
        by: "刘洪".into(),
        office: "county".into(),
        at,
        fields: fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
    }
}

fn t(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

fn record(kind: WorkKind, office: &str, entries: Vec<WorkEntry>) -> WorkRecord {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    WorkRecord {
        id: Uuid::from_u128(u128::from(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))),
        schema_version: 1,
        kind,
        office: office.into(),
        created_by: "刘洪".into(),
        created_at: APRIL_22,
        import_key: None,
        entries,
    }
}

fn outreach(date: &str, occasion: &str, leaflets: u64, forums: u64) -> WorkRecord {
    record(
        WorkKind::Outreach,
        "county",
        vec![entry(
            "o",
            EntryOp::Open,
            APRIL_22,
            &[
                ("date", t(date)),
                ("occasion", t(occasion)),
                ("place", t("县城广场")),
                ("leaflets", FieldValue::Count(leaflets)),
                ("forums", FieldValue::Count(forums)),
            ],
        )],
    )
}

fn consult(date: &str) -> WorkRecord {
    record(
        WorkKind::Consult,
        "county",
        vec![entry(
            "o",
            EntryOp::Open,
            APRIL_22,
            &[
                ("date", t(date)),
                ("channel", t("phone")),
                ("topic", t("办证")),
                ("answer", t("答")),
            ],
        )],
    )
}

#[test]
fn the_later_correction_wins_and_voiding_keeps_the_record() {
    let mut r = outreach("2017-04-22", "earth_day", 16000, 15);
    // Two devices correct the same count offline: the later entry wins, whatever the log order.
    r.entries.push(entry(
        "b",
        EntryOp::Amend,
        APRIL_22 + 2 * DAY,
        &[("leaflets", FieldValue::Count(15000))],
    ));
    r.entries.push(entry(
        "a",
        EntryOp::Amend,
        APRIL_22 + DAY,
        &[("leaflets", FieldValue::Count(9))],
    ));
    let state = r.state();
    assert_eq!(state.count("leaflets"), 15000);
    assert_eq!(state.count("forums"), 15);
    assert!(state.voided.is_none());
    r.entries.push(entry("v", EntryOp::Void, APRIL_22 + 3 * DAY, &[("reason", t("重复录入"))]));
    r.entries.push(entry("w", EntryOp::Void, APRIL_22 + 4 * DAY, &[("reason", t("再次作废"))]));
    let state = r.state();
    assert_eq!(state.voided.as_ref().map(|v| v.reason.as_str()), Some("重复录入"));
    assert_eq!(state.count("leaflets"), 15000, "a voided record still says what it said");
}

#[test]
fn an_entry_follows_what_its_author_had_seen_whatever_the_clock() {
    let mut r = outreach("2017-04-22", "earth_day", 16000, 15);
    // A correction made on a device whose clock runs an hour behind, after it had seen the
    // record: it still comes after the 建立 it corrects.
    let mut fix =
        entry("0", EntryOp::Amend, APRIL_22 - 3_600_000, &[("leaflets", FieldValue::Count(1))]);
    fix.lamport = r.next_lamport();
    r.entries.push(fix);
    assert_eq!(r.next_lamport(), 3);
    assert_eq!(r.state().count("leaflets"), 1);
}

#[test]
fn items_are_added_corrected_and_voided_by_their_id() {
    let mut r = record(
        WorkKind::Screening,
        "hq",
        vec![entry("o", EntryOp::Open, APRIL_22, &[("month", t("2017-04"))])],
    );
    r.entries.push(entry(
        "i1",
        EntryOp::Item,
        APRIL_22 + 1,
        &[("status", t("resolving")), ("risk", t("high"))],
    ));
    r.entries.push(entry(
        "i2",
        EntryOp::Item,
        APRIL_22 + 2,
        &[("status", t("watching")), ("risk", t("low"))],
    ));
    let mut settle = entry("s", EntryOp::Amend, APRIL_22 + DAY, &[("status", t("settled"))]);
    settle.target = Some("i1".into());
    let mut void = entry("v", EntryOp::Void, APRIL_22 + DAY, &[("reason", t("不属于矛盾纠纷"))]);
    void.target = Some("i2".into());
    let mut stray = entry("x", EntryOp::Amend, APRIL_22 + DAY, &[("status", t("settled"))]);
    stray.target = Some("nowhere".into());
    r.entries.extend([settle, void, stray, entry("f", EntryOp::File, APRIL_22 + 2 * DAY, &[])]);
    let state = r.state();
    assert_eq!(state.items.len(), 2);
    assert_eq!(state.items[0].text("status"), "settled");
    assert_eq!(state.items[0].text("risk"), "high");
    assert!(state.items[1].voided.is_some());
    assert_eq!(state.live_items().count(), 1);
    assert_eq!(state.filed.as_ref().map(|f| f.on), NaiveDate::from_ymd_opt(2017, 4, 24));
    assert_eq!(state.anomalies.len(), 1, "{:?}", state.anomalies);
}

#[test]
fn entries_are_judged_field_by_field_in_chinese() {
    let ok = consult("2017-05-02").entries.remove(0);
    assert_eq!(check_entry(&WorkKind::Consult, &ok), Ok(()));
    let mut missing = ok.clone();
    missing.fields.remove("answer");
    assert_eq!(check_entry(&WorkKind::Consult, &missing).unwrap_err().field, "answer");
    let mut bad_date = ok.clone();
    bad_date.fields.insert("date".into(), t("2017-13-01"));
    assert!(
        check_entry(&WorkKind::Consult, &bad_date).unwrap_err().to_string().contains("咨询日期")
    );
    let mut bad_channel = ok.clone();
    bad_channel.fields.insert("channel".into(), t("pigeon"));
    assert!(
        check_entry(&WorkKind::Consult, &bad_channel).unwrap_err().to_string().contains("咨询方式")
    );
    let mut blank = ok.clone();
    blank.fields.insert("topic".into(), t("  "));
    assert!(check_entry(&WorkKind::Consult, &blank).unwrap_err().to_string().contains("不能为空"));
    let mut long = ok.clone();
    long.fields.insert("topic".into(), t(&"字".repeat(201)));
    assert!(check_entry(&WorkKind::Consult, &long).unwrap_err().to_string().contains("200"));
    let mut foreign = ok.clone();
    foreign.fields.insert("leaflets".into(), FieldValue::Count(1));
    assert!(
        check_entry(&WorkKind::Consult, &foreign).unwrap_err().to_string().contains("leaflets")
    );
    let mut typed = ok.clone();
    typed.fields.insert("topic".into(), FieldValue::Count(1));
    assert!(check_entry(&WorkKind::Consult, &typed).unwrap_err().to_string().contains("文字"));
    // Items and filing belong to screening lists only.
    let item = entry("i", EntryOp::Item, APRIL_22, &[]);
    assert!(check_entry(&WorkKind::Consult, &item).is_err());
    let file = entry("f", EntryOp::File, APRIL_22, &[]);
    assert!(check_entry(&WorkKind::Consult, &file).is_err());
    assert_eq!(check_entry(&WorkKind::Screening, &file), Ok(()));
    // Counts are bounded; a correction says what it corrects; unknown kinds fail closed.
    let huge =
        entry("a", EntryOp::Amend, APRIL_22, &[("leaflets", FieldValue::Count(MAX_COUNT + 1))]);
    assert!(check_entry(&WorkKind::Outreach, &huge).unwrap_err().to_string().contains("上限"));
    let empty = entry("a", EntryOp::Amend, APRIL_22, &[]);
    assert!(check_entry(&WorkKind::Outreach, &empty).is_err());
    assert!(check_entry(&WorkKind::Unknown("duty".into()), &ok).is_err());
    let void = entry("v", EntryOp::Void, APRIL_22, &[]);
    assert_eq!(
        check_entry(&WorkKind::Outreach, &void).unwrap_err().to_string(),
        "作废理由: 必须填写"
    );
}

#[test]
fn totals_count_the_period_and_leave_voided_records_out() {
    let mut voided = consult("2017-06-01");
    voided.entries.push(entry("v", EntryOp::Void, APRIL_22 + DAY, &[("reason", t("重复"))]));
    let records = vec![
        outreach("2017-04-22", "earth_day", 16000, 15),
        outreach("2017-06-25", "land_day", 500, 1),
        outreach("2018-04-22", "earth_day", 7, 7),
        consult("2017-01-03"),
        consult("2017-12-31"),
        consult("2018-01-01"),
        voided,
    ];
    let from = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2017, 12, 31).unwrap();
    let totals = totals(&records, from, to);
    assert_eq!(totals.consults, 2);
    assert_eq!(totals.outreach_events, 2);
    assert_eq!(totals.leaflets, 16500);
    assert_eq!(totals.forums, 16);
    assert_eq!(totals.by_occasion["4.22地球日"].leaflets, 16000);
    assert_eq!(totals.by_occasion["6.25土地日"].events, 1);
}

#[test]
fn the_month_lists_every_office_and_names_those_not_filed() {
    let list = |office: &str, month: &str, filed: bool| {
        let mut r = record(
            WorkKind::Screening,
            office,
            vec![entry("o", EntryOp::Open, APRIL_22, &[("month", t(month))])],
        );
        r.entries.push(entry("i", EntryOp::Item, APRIL_22 + 1, &[("risk", t("high"))]));
        if filed {
            r.entries.push(entry("f", EntryOp::File, APRIL_22 + 2, &[]));
        }
        r
    };
    let records = vec![
        list("hq", "2017-04", true),
        list("sj", "2017-04", false),
        list("sj", "2017-03", true),
        consult("2017-04-02"),
    ];
    let offices = vec!["hq".to_owned(), "sj".to_owned(), "yx".to_owned()];
    let month = screening_month(&records, "2017-04", &offices);
    assert_eq!(month.lists.len(), 2);
    assert_eq!(month.not_filed, vec!["sj".to_owned(), "yx".to_owned()]);
    assert_eq!(month.by_risk, vec![RiskCount { risk: "high".into(), count: 2 }]);
}

#[test]
fn vocabulary_fields_show_their_labels() {
    assert_eq!(label_of("occasion", "earth_day"), Some("4.22地球日"));
    assert_eq!(label_of("risk", "high"), Some("高"));
    assert_eq!(label_of("status", "settled"), Some("已化解"));
    assert_eq!(label_of("risk", "extreme"), None);
    assert_eq!(label_of("topic", "high"), None);
    assert_eq!(code_of("channel", "电话"), Some("phone".to_owned()));
    assert_eq!(code_of("channel", "飞鸽"), None);
}

#[test]
fn months_and_days_read_only_in_their_form() {
    assert_eq!(parse_month("2017-04"), NaiveDate::from_ymd_opt(2017, 4, 1));
    assert_eq!(parse_month("2017-4"), None);
    assert_eq!(parse_month("2017-13"), None);
    assert_eq!(parse_month("17-04"), None);
    assert_eq!(month_code(NaiveDate::from_ymd_opt(2017, 4, 30).unwrap()), "2017-04");
    let r = consult("2017-05-02");
    assert_eq!(r.day(&r.state()), NaiveDate::from_ymd_opt(2017, 5, 2).unwrap());
}

fn duty(office: &str, date: &str, staff: &str) -> WorkRecord {
    record(
        WorkKind::Duty,
        office,
        vec![entry(
            "o",
            EntryOp::Open,
            APRIL_22,
            &[("date", t(date)), ("staff", t(staff)), ("shift", t("day"))],
        )],
    )
}

#[test]
fn the_duty_outlook_names_todays_duty_and_the_days_nobody_is_on() {
    let mut voided = duty("hq", "2017-04-24", "王五");
    voided.entries.push(entry("v", EntryOp::Void, APRIL_22 + DAY, &[("reason", t("调休"))]));
    let records = vec![
        duty("hq", "2017-04-22", "李娟"),
        duty("hq", "2017-04-23", "刘洪"),
        voided,
        duty("hq", "2017-04-21", "昨天的人"),
        duty("hq", "2017-04-29", "八天后"),
        duty("sj", "2017-04-25", "石江的人"),
    ];
    let today = NaiveDate::from_ymd_opt(2017, 4, 22).unwrap();
    let outlook = duty_outlook(&records, "hq", today, 7);
    assert_eq!(outlook.on_duty.iter().map(|s| s.staff.as_str()).collect::<Vec<_>>(), ["李娟"]);
    assert_eq!(outlook.coming.len(), 2);
    let gaps: Vec<String> = outlook.gaps.iter().map(ToString::to_string).collect();
    assert_eq!(gaps, ["2017-04-24", "2017-04-25", "2017-04-26", "2017-04-27", "2017-04-28"]);
    // Nobody on duty today is a gap today.
    let bare = duty_outlook(&records, "sj", today, 1);
    assert!(bare.on_duty.is_empty());
    assert_eq!(bare.gaps, vec![today]);
}

#[test]
fn the_settlement_rate_counts_what_the_leaders_settled() {
    let leader = |settlement: Option<&str>, start: &str| {
        let mut fields = vec![
            ("scope", t("case")),
            ("leader", t("局长")),
            ("matter", t("洞口-2017-A-0012")),
            ("start", t(start)),
        ];
        if let Some(s) = settlement {
            fields.push(("settlement", t(s)));
        }
        record(WorkKind::Leader, "county", vec![entry("o", EntryOp::Open, APRIL_22, &fields)])
    };
    let mut later = leader(None, "2017-03-01");
    later.entries.push(entry("s", EntryOp::Amend, APRIL_22 + DAY, &[("settlement", t("settled"))]));
    let records = vec![
        leader(Some("settled"), "2017-02-01"),
        later,
        leader(Some("unsettled"), "2017-05-01"),
        leader(None, "2017-06-01"),
        leader(Some("settled"), "2016-12-01"),
    ];
    let from = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2017, 12, 31).unwrap();
    let totals = totals(&records, from, to);
    assert_eq!((totals.leader_settled, totals.leader_cases), (2, 4));
    assert_eq!(totals.settlement_rate().value, Some(0.5));
    assert_eq!(WorkTotals::default().settlement_rate().value, None, "nothing to judge");
    assert_eq!(records[0].day(&records[0].state()), NaiveDate::from_ymd_opt(2017, 2, 1).unwrap());
}

#[test]
fn no_field_shares_a_name_with_an_entrys_own_keys() {
    // A field named like `target` would be read as the entry's own key and its value lost.
    for key in payload_keys() {
        assert!(
            !["lamport", "op", "target", "by", "office", "at"].contains(&key),
            "field `{key}` collides with an entry key"
        );
    }
}

#[test]
fn reception_days_count_their_visitors_and_what_was_settled_on_the_spot() {
    let mut day = record(
        WorkKind::Reception,
        "county",
        vec![entry(
            "o",
            EntryOp::Open,
            APRIL_22,
            &[("date", t("2017-05-10")), ("leader", t("王局长")), ("place", t("局信访接待室"))],
        )],
    );
    for (id, outcome) in [("v1", "on_spot"), ("v2", "registered"), ("v3", "on_spot")] {
        day.entries.push(entry(
            id,
            EntryOp::Item,
            APRIL_22 + 1,
            &[("case", t("洞口-2017-A-0040")), ("matter", t("征地补偿")), ("outcome", t(outcome))],
        ));
    }
    let mut mistaken = entry("x", EntryOp::Void, APRIL_22 + 2, &[("reason", t("记错接待日"))]);
    mistaken.target = Some("v3".into());
    day.entries.push(mistaken);
    let from = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2017, 12, 31).unwrap();
    let totals = totals(&[day], from, to);
    assert_eq!(
        (totals.reception_days, totals.reception_visits, totals.reception_on_spot),
        (1, 2, 1)
    );
    let item = entry(
        "i",
        EntryOp::Item,
        APRIL_22,
        &[("case", t("A-1")), ("matter", t("m")), ("outcome", t("later"))],
    );
    assert_eq!(check_entry(&WorkKind::Reception, &item).unwrap_err().field, "outcome");
}

#[test]
fn screening_lists_and_duties_are_counted_for_the_period() {
    let list = |month: &str, filed: bool, items: &[(&str, &str)]| {
        let mut r = record(
            WorkKind::Screening,
            "hq",
            vec![entry("o", EntryOp::Open, APRIL_22, &[("month", t(month))])],
        );
        for (k, (risk, status)) in items.iter().enumerate() {
            let id = format!("i{k}");
            let fields = [("risk", t(risk)), ("status", t(status))];
            r.entries.push(entry(&id, EntryOp::Item, APRIL_22 + 1 + k as i64, &fields));
        }
        if filed {
            r.entries.push(entry("f", EntryOp::File, APRIL_22 + 100, &[]));
        }
        r
    };
    let mut voided_item = list("2017-05", true, &[("high", "settled"), ("low", "watching")]);
    voided_item.entries.push(WorkEntry {
        target: Some(voided_item.entries[1].id.clone()),
        ..entry("v", EntryOp::Void, APRIL_22 + 200, &[("reason", t("重复"))])
    });
    let records = vec![
        list("2017-04", true, &[("high", "settled"), ("medium", "resolving")]),
        voided_item,
        list("2017-06", false, &[]),
        list("2018-01", true, &[("high", "watching")]),
        duty("hq", "2017-04-22", "李娟"),
        duty("hq", "2017-04-23", "刘洪"),
        duty("hq", "2018-04-23", "刘洪"),
    ];
    let from = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2017, 12, 31).unwrap();
    let totals = totals(&records, from, to);
    assert_eq!(totals.screening_lists, 2, "June's list was never filed; 2018's is another year");
    assert_eq!(totals.disputes, 3, "the voided item is left out");
    assert_eq!((totals.disputes_high_risk, totals.disputes_settled), (1, 1));
    assert_eq!(totals.duties, 2);
}
