//! `ledger consult|outreach|screening|work`: work records from a terminal. Each command turns
//! its options into the office's input, makes one call and prints what came back.

use std::collections::BTreeMap;

use anyhow::bail;
use chrono::{Datelike, NaiveDate};
use ledger_office::{FieldValue, Office, ScreeningView, WorkChange, WorkInput, WorkView, label_of};

use crate::args::{
    ConsultCommand, DutyCommand, LeaderCommand, OutreachCommand, ReceptionCommand,
    ScreeningCommand, WorkCommand, WorkListArgs,
};

/// A field as a person reads it: a vocabulary's label, else the text as stored.
fn shown<'a>(key: &str, value: &'a str) -> &'a str {
    label_of(key, value).unwrap_or(value)
}

fn text(fields: &mut BTreeMap<String, FieldValue>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        fields.insert(key.to_owned(), FieldValue::Text(v.to_owned()));
    }
}

fn count(fields: &mut BTreeMap<String, FieldValue>, key: &str, value: Option<u64>) {
    if let Some(n) = value {
        fields.insert(key.to_owned(), FieldValue::Count(n));
    }
}

fn day(office: &Office, date: Option<NaiveDate>) -> String {
    date.unwrap_or_else(|| office.today()).to_string()
}

fn month(office: &Office, month: Option<&str>) -> String {
    month.map_or_else(
        || {
            let today = office.today();
            format!("{:04}-{:02}", today.year(), today.month())
        },
        str::to_owned,
    )
}

pub(crate) fn consult(
    office: &Office,
    command: &ConsultCommand,
    handler: Option<&str>,
) -> anyhow::Result<()> {
    match command {
        ConsultCommand::Add { date, channel, topic, answer, asker } => {
            let mut fields = BTreeMap::new();
            text(&mut fields, "date", Some(&day(office, *date)));
            text(&mut fields, "channel", Some(channel));
            text(&mut fields, "topic", Some(topic));
            text(&mut fields, "answer", Some(answer));
            text(&mut fields, "asker", asker.as_deref());
            let made = add(office, "consult", fields, handler)?;
            println!("{}", made.id);
        }
        ConsultCommand::List(args) => list(office, "consult", args)?,
    }
    Ok(())
}

pub(crate) fn outreach(
    office: &Office,
    command: &OutreachCommand,
    handler: Option<&str>,
) -> anyhow::Result<()> {
    match command {
        OutreachCommand::Add {
            date,
            occasion,
            place,
            topic,
            leaflets,
            slogans,
            mass_meetings,
            forums,
            trainings,
            attendees,
        } => {
            let mut fields = BTreeMap::new();
            text(&mut fields, "date", Some(&day(office, *date)));
            text(&mut fields, "occasion", Some(occasion));
            text(&mut fields, "place", Some(place));
            text(&mut fields, "topic", topic.as_deref());
            count(&mut fields, "leaflets", *leaflets);
            count(&mut fields, "slogans", *slogans);
            count(&mut fields, "mass_meetings", *mass_meetings);
            count(&mut fields, "forums", *forums);
            count(&mut fields, "trainings", *trainings);
            count(&mut fields, "attendees", *attendees);
            let made = add(office, "outreach", fields, handler)?;
            println!("{}", made.id);
        }
        OutreachCommand::List(args) => list(office, "outreach", args)?,
    }
    Ok(())
}

pub(crate) fn duty(
    office: &Office,
    command: &DutyCommand,
    handler: Option<&str>,
) -> anyhow::Result<()> {
    match command {
        DutyCommand::Add { date, staff, shift, phone } => {
            let mut fields = BTreeMap::new();
            text(&mut fields, "date", Some(&date.to_string()));
            text(&mut fields, "staff", Some(staff));
            text(&mut fields, "shift", Some(shift));
            text(&mut fields, "phone", phone.as_deref());
            println!("{}", add(office, "duty", fields, handler)?.id);
        }
        DutyCommand::Show { days, office: other, json } => {
            let outlook = office.duty_outlook(other.as_deref(), *days)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&outlook)?);
                return Ok(());
            }
            let name = office.office_name(&outlook.office);
            if outlook.on_duty.is_empty() {
                println!("{name} 今天（{}）无人值班", outlook.today);
            }
            for s in &outlook.coming {
                let phone =
                    if s.phone.is_empty() { String::new() } else { format!("  {}", s.phone) };
                println!("{}  {}  {}{phone}", s.date, shown("shift", &s.shift), s.staff);
            }
            if !outlook.gaps.is_empty() {
                let days: Vec<String> = outlook.gaps.iter().map(ToString::to_string).collect();
                println!("无人值班：{}", days.join("、"));
            }
        }
    }
    Ok(())
}

pub(crate) fn leader(
    office: &Office,
    command: &LeaderCommand,
    handler: Option<&str>,
) -> anyhow::Result<()> {
    match command {
        LeaderCommand::Add { scope, leader, matter, start } => {
            let mut fields = BTreeMap::new();
            text(&mut fields, "scope", Some(scope));
            text(&mut fields, "leader", Some(leader));
            text(&mut fields, "matter", Some(matter));
            text(&mut fields, "start", Some(&day(office, *start)));
            println!("{}", add(office, "leader", fields, handler)?.id);
        }
        LeaderCommand::List(args) => list(office, "leader", args)?,
    }
    Ok(())
}

pub(crate) fn reception(
    office: &Office,
    command: &ReceptionCommand,
    handler: Option<&str>,
) -> anyhow::Result<()> {
    match command {
        ReceptionCommand::Add { date, leader, place } => {
            let mut fields = BTreeMap::new();
            text(&mut fields, "date", Some(&day(office, *date)));
            text(&mut fields, "leader", Some(leader));
            text(&mut fields, "place", Some(place));
            println!("{}", add(office, "reception", fields, handler)?.id);
        }
        ReceptionCommand::Visitor { id, case, matter, persons, outcome, result } => {
            let mut fields = BTreeMap::new();
            text(&mut fields, "case", Some(case));
            text(&mut fields, "matter", Some(matter));
            count(&mut fields, "persons", *persons);
            text(&mut fields, "outcome", Some(outcome));
            text(&mut fields, "result", result.as_deref());
            let after = office.change_work(id, WorkChange::Item { fields }, handler)?;
            if let Some(item) = after.state.items.last() {
                println!("{}", item.id);
            }
        }
        ReceptionCommand::List(args) => list(office, "reception", args)?,
    }
    Ok(())
}

pub(crate) fn screening(
    office: &Office,
    command: &ScreeningCommand,
    handler: Option<&str>,
) -> anyhow::Result<()> {
    match command {
        ScreeningCommand::Add {
            month: m,
            parties,
            place,
            issue,
            risk,
            measures,
            owner,
            status,
        } => {
            let list = open_month(office, &month(office, m.as_deref()), handler)?;
            let mut fields = BTreeMap::new();
            for (key, value) in [
                ("parties", parties),
                ("place", place),
                ("issue", issue),
                ("risk", risk),
                ("measures", measures),
                ("owner", owner),
                ("status", status),
            ] {
                text(&mut fields, key, Some(value));
            }
            let after = office.change_work(&list.id, WorkChange::Item { fields }, handler)?;
            if let Some(item) = after.state.items.last() {
                println!("{}", item.id);
            }
        }
        ScreeningCommand::File { month: m } => {
            let m = month(office, m.as_deref());
            let list = open_month(office, &m, handler)?;
            let filed = office.change_work(&list.id, WorkChange::File, handler)?;
            let n = filed.state.live_items().count();
            if n == 0 {
                eprintln!("{m} 排查表已报送（本月无矛盾纠纷，零报告）");
            } else {
                eprintln!("{m} 排查表已报送，共 {n} 项矛盾纠纷");
            }
        }
        ScreeningCommand::Show { month: m, json } => {
            let view = office.screening_month(&month(office, m.as_deref()))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_month(&view);
            }
        }
    }
    Ok(())
}

pub(crate) fn work(
    office: &Office,
    command: &WorkCommand,
    handler: Option<&str>,
) -> anyhow::Result<()> {
    match command {
        WorkCommand::Show { id, json } => {
            let view = office.work_record(id)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_record(&view);
            }
        }
        WorkCommand::Amend { id, item, set } => {
            let mut fields = BTreeMap::new();
            for pair in set {
                let Some((key, value)) = pair.split_once('=') else {
                    bail!("--set 应写成 字段=值，如 --set leaflets=16000（收到「{pair}」）");
                };
                fields.insert(key.trim().to_owned(), FieldValue::Text(value.to_owned()));
            }
            let change = WorkChange::Amend { item: item.clone(), fields };
            print_record(&office.change_work(id, change, handler)?);
        }
        WorkCommand::Void { id, item, reason } => {
            let change = WorkChange::Void { item: item.clone(), reason: reason.clone() };
            office.change_work(id, change, handler)?;
            eprintln!("已作废（记录保留，不再计入统计）");
        }
    }
    Ok(())
}

fn add(
    office: &Office,
    kind: &str,
    fields: BTreeMap<String, FieldValue>,
    handler: Option<&str>,
) -> ledger_office::Result<WorkView> {
    office.add_work(WorkInput {
        kind: kind.to_owned(),
        fields,
        handler: handler.map(str::to_owned),
    })
}

/// This office's list for `month`: the one it has, or a new one.
fn open_month(office: &Office, month: &str, handler: Option<&str>) -> anyhow::Result<WorkView> {
    let mut fields = BTreeMap::new();
    text(&mut fields, "month", Some(month));
    Ok(add(office, "screening", fields, handler)?)
}

fn list(office: &Office, kind: &str, args: &WorkListArgs) -> anyhow::Result<()> {
    let views = office.work_records(Some(kind), args.year)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    for v in &views {
        let voided = if v.state.voided.is_some() { "  （已作废）" } else { "" };
        let what = match kind {
            "consult" => {
                format!("{}  {}", shown("channel", v.state.text("channel")), v.state.text("topic"))
            }
            "reception" => format!(
                "{}  {}  接待 {} 批，当场解决 {} 批",
                v.state.text("leader"),
                v.state.text("place"),
                v.state.live_items().count(),
                v.state.live_items().filter(|i| i.text("outcome") == "on_spot").count()
            ),
            "leader" => format!(
                "{}  {}  {}  {}",
                shown("scope", v.state.text("scope")),
                v.state.text("leader"),
                v.state.text("matter"),
                match v.state.text("settlement") {
                    "" => "化解中",
                    code => shown("settlement", code),
                }
            ),
            _ => format!(
                "{}  {}  宣传单{} 标语{} 群众会{} 座谈会{} 培训{} 人数{}",
                shown("occasion", v.state.text("occasion")),
                v.state.text("place"),
                v.state.count("leaflets"),
                v.state.count("slogans"),
                v.state.count("mass_meetings"),
                v.state.count("forums"),
                v.state.count("trainings"),
                v.state.count("attendees"),
            ),
        };
        println!("{}  {}  {}  {what}{voided}", v.day, v.office_name, v.id);
    }
    eprintln!("共 {} 条", views.len());
    Ok(())
}

fn print_record(v: &WorkView) {
    println!("{}  {}  {}", v.kind_label, v.office_name, v.id);
    for (key, value) in &v.state.fields {
        match value {
            FieldValue::Text(s) => println!("  {key}: {}", shown(key, s)),
            FieldValue::Count(n) => println!("  {key}: {n}"),
        }
    }
    if let Some(voided) = &v.state.voided {
        println!("  已作废：{}（{}，{}）", voided.reason, voided.by, voided.on);
    }
    if let Some(filed) = &v.state.filed {
        println!("  已报送：{}（{}）", filed.on, filed.by);
    }
    for item in &v.state.items {
        let voided = if item.voided.is_some() { "（已作废）" } else { "" };
        println!(
            "  - {}  {}  {}  风险{}  {}{voided}",
            item.id,
            item.text("parties"),
            item.text("issue"),
            shown("risk", item.text("risk")),
            shown("status", item.text("status"))
        );
    }
}

fn print_month(view: &ScreeningView) {
    let m = &view.month;
    let name = |code: &str| view.office_names.get(code).cloned().unwrap_or_else(|| code.to_owned());
    println!("{} 矛盾纠纷排查", m.month);
    if !m.by_risk.is_empty() {
        let risks: Vec<String> = m
            .by_risk
            .iter()
            .map(|r| format!("{}风险 {} 项", shown("risk", &r.risk), r.count))
            .collect();
        println!("  {}", risks.join("、"));
    }
    for list in &m.lists {
        let filed =
            list.filed.as_ref().map_or("未报送".to_owned(), |f| format!("{} 报送", f.on));
        let live = list.items.iter().filter(|i| i.voided.is_none()).count();
        println!("  {}  {filed}  {live} 项", name(&list.office));
        for item in list.items.iter().filter(|i| i.voided.is_none()) {
            println!(
                "    - {}  {}  风险{}  {}  责任人 {}",
                item.text("parties"),
                item.text("issue"),
                shown("risk", item.text("risk")),
                shown("status", item.text("status")),
                item.text("owner")
            );
        }
    }
    if !m.not_filed.is_empty() {
        let names: Vec<String> = m.not_filed.iter().map(|o| name(o)).collect();
        println!("  未报送：{}", names.join("、"));
    }
}
