//! What the command line prints: JSON for scripts, readable Chinese for people.

use chrono::NaiveDate;
use ledger_office::{
    CaseRow, CaseView, Channel, DueList, HubLink, ImportReport, Page, Repaired, Source, Status,
};
use serde_json::{Value, json};

fn label<T>(code: Option<&str>, from: fn(&str) -> T, label: fn(&T) -> &str) -> String {
    code.map(|c| label(&from(c)).to_owned()).unwrap_or_default()
}

/// The list keys: what `case list --json` prints per case and `case show --json` starts with.
pub(crate) fn row_json(row: &CaseRow, today: NaiveDate) -> Value {
    json!({
        "id": row.id,
        "number": row.number,
        "status": row.status,
        "status_label": row.status.label(),
        "township": row.township,
        "received": row.received,
        "category": row.category.label(),
        "source": label(row.source.as_deref(), Source::from_code, Source::label),
        "channel": label(row.channel.as_deref(), Channel::from_code, Channel::label),
        "names": row.names,
        "village": row.village,
        "next_due": row.next_due,
        "overdue": row.next_due.is_some_and(|d| d < today),
        "handed_over": row.handed_over,
        "needs_review": row.conflicts > 0 || row.anomalies > 0,
    })
}

pub(crate) fn case_list(page: &Page, today: NaiveDate, json: bool) -> anyhow::Result<()> {
    if json {
        let rows: Vec<Value> = page.rows.iter().map(|r| row_json(r, today)).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{}{}{}{}{}期限",
        pad("案件编号", 23),
        pad("状态", 9),
        pad("乡镇", 11),
        pad("信访人", 11),
        pad("登记日期", 13)
    );
    for r in &page.rows {
        let due = match r.next_due {
            Some(d) if d < today => format!("{d} 已超期"),
            Some(d) => d.to_string(),
            None => String::new(),
        };
        println!(
            "{}{}{}{}{}{}",
            pad(&r.number, 23),
            pad(r.status.label(), 9),
            pad(r.township.as_deref().unwrap_or("-"), 11),
            pad(r.names.split(' ').next().unwrap_or(""), 11),
            pad(&r.received.map(|d| d.to_string()).unwrap_or_default(), 13),
            due
        );
    }
    eprintln!("共 {} 件，显示 {} 件", page.total, page.rows.len());
    Ok(())
}

pub(crate) fn case_show(view: &CaseView, as_json: bool) -> anyhow::Result<()> {
    let case = &view.case;
    if as_json {
        let value = json!({
            "id": case.id,
            "number": case.number,
            "official_number": case.official_number,
            "status": view.status.code(),
            "status_label": view.status.label(),
            "track": view.track.label(),
            "township": case.jurisdiction,
            "received": case.received(),
            "purpose": case.purpose.label(),
            "domain": case.sector.label(),
            "category": case.category.label(),
            "subject": case.subject,
            "request": case.request,
            "village": case.village,
            "confidential": case.confidential,
            "petitioners": case.petitioners,
            "identity": view.identity,
            "submissions": case.submissions,
            "events": case.events,
            "deadlines": view.deadlines,
            "anomalies": view.anomalies,
            "conflicts": view.conflicts,
            "allowed_actions": view.allowed_actions.iter().map(|a| a.code()).collect::<Vec<_>>(),
            "documents": view.documents,
            "evaluations": view.evaluations,
            "supervisions": view.supervisions,
            "first_receiver": view.first_receiver,
            "attachments": case.attachments,
            "handed_over": view.handed_over,
            "pending_upload": view.pending_upload,
            "refused": view.refused,
            "identities_to_deliver": view.identities_to_deliver,
            "identity_restricted": case.identity_restricted(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("案件编号：{}    状态：{}", case.number, view.status.label());
    println!(
        "所属乡镇：{}    问题类别：{}    涉及领域：{}",
        case.jurisdiction.as_deref().unwrap_or("未定"),
        case.category.label(),
        case.sector.label()
    );
    let track = if view.status == Status::Registered {
        format!("受理时确定（建议：{}）", view.proposed_track.label())
    } else {
        view.track.label().to_owned()
    };
    println!("信访目的：{}    办理程序：{track}", case.purpose.label());
    if let Some(first) = &view.first_receiver {
        let office = view.office_names.get(&first.office).unwrap_or(&first.office);
        println!("首问责任人：{}（{office}，{} 登记）", first.handler, first.date);
    }
    println!("诉求内容：{}", case.request);
    println!("\n信访件：");
    let names = &view.names;
    for s in &case.submissions {
        let marks = s.marks();
        let representatives: Vec<&str> = s
            .representatives
            .iter()
            .filter_map(|id| case.petitioners.iter().position(|p| &p.id == id))
            .filter_map(|i| names.get(i).map(String::as_str))
            .collect();
        println!(
            "  {}  {}  {}  {}人{}{}{}",
            s.received,
            s.channel.label(),
            s.source.label(),
            s.persons,
            if marks.is_empty() { String::new() } else { format!("  {}", marks.join("、")) },
            s.platform_number.as_deref().map(|n| format!("  平台编号 {n}")).unwrap_or_default(),
            if representatives.is_empty() {
                String::new()
            } else {
                format!("  代表：{}", representatives.join("、"))
            },
        );
    }
    println!("\n办理记录：");
    for e in &case.events {
        let anomaly = view.anomalies.iter().any(|a| a.event_id == e.id);
        let how = match (&e.method, e.unreachable) {
            (Some(m), true) => format!("{}（无法回访）", m.label()),
            (Some(m), false) => m.label().to_owned(),
            (None, _) => String::new(),
        };
        println!(
            "  {}  {}  {}  {}{how}{}{}",
            e.date,
            e.action.label(),
            e.handler,
            e.target.as_deref().unwrap_or(""),
            e.text.as_deref().map(|t| format!("  {t}")).unwrap_or_default(),
            if anomaly { "  ⚠ 待核查" } else { "" }
        );
    }
    if !view.supervisions.is_empty() {
        println!("\n督办单：");
        for s in &view.supervisions {
            let due = s.due.map(|d| format!("  反馈期限 {d}")).unwrap_or_default();
            let report = match &s.report {
                Some((on, text)) => format!("  {on} 已反馈：{text}"),
                None => "  待反馈".to_owned(),
            };
            println!(
                "  {}  {}  {}{due}{report}  （标识 {}）",
                s.issued_on,
                s.to.as_deref().unwrap_or(""),
                s.demand.as_deref().unwrap_or(""),
                s.id
            );
        }
    }
    println!("\n期限：");
    for d in &view.deadlines.items {
        let state = if d.overdue {
            format!("已超期 {} 天", -d.days_left)
        } else if d.met_on.is_some() {
            "已完成".to_owned()
        } else {
            format!("剩余 {} 天", d.days_left)
        };
        let estimated = if d.estimated {
            "（预计：节假日表未覆盖该年，待更新后复核）"
        } else {
            ""
        };
        println!("  {}  {}{estimated}  {}", d.kind.label(), d.due, state);
    }
    for p in &view.deadlines.problems {
        println!("  {}", p.message);
    }
    if case.identity_restricted() {
        println!("\n信访人身份受保护（检举控告或要求保密）：只有县局持有完整身份信息");
    }
    if view.identities_to_deliver > 0 {
        println!(
            "本机录入的信访人身份信息 {} 份待交县局，同步后即从本机删除",
            view.identities_to_deliver
        );
    }
    if !view.refused.is_empty() {
        println!("\n被县局拒收的更改（运行 ledger repair 以县局记录为准恢复）：");
        for q in &view.refused {
            println!("  {}", q.error);
        }
    }
    if !view.allowed_actions.is_empty() {
        let actions: Vec<&str> = view.allowed_actions.iter().map(|a| a.label()).collect();
        println!("\n可办理：{}", actions.join("、"));
    }
    Ok(())
}

pub(crate) fn due(list: &DueList, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let rows = |v: &[CaseRow]| v.iter().map(|r| row_json(r, list.today)).collect::<Vec<_>>();
        let value = json!({
            "today": list.today,
            "overdue": rows(&list.overdue),
            "within_3": rows(&list.within_3),
            "within_10": rows(&list.within_10),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    for (title, rows) in
        [("已超期", &list.overdue), ("3日内到期", &list.within_3), ("10日内到期", &list.within_10)]
    {
        println!("{title}（{} 件）", rows.len());
        for r in rows {
            println!(
                "  {}  {}  {}",
                r.number,
                r.township.as_deref().unwrap_or("-"),
                r.next_due.map(|d| d.to_string()).unwrap_or_default()
            );
        }
    }
    Ok(())
}

pub(crate) fn work_import_report(report: &ledger_office::WorkImportReport) {
    let verb = if report.dry_run { "将导入" } else { "已导入" };
    eprintln!(
        "工作记录：读取 {} 条，{verb} {} 条{}",
        report.rows,
        report.records,
        if report.duplicates > 0 {
            format!("，{} 条此前已导入（未重复添加）", report.duplicates)
        } else {
            String::new()
        }
    );
}

pub(crate) fn import_report(report: &ImportReport) {
    if report.dry_run {
        eprintln!("试导入（未写入任何数据）：");
    }
    let (new, added) =
        if report.dry_run { ("将新建", "将追加") } else { ("新建", "追加") };
    eprintln!(
        "读取 {} 行：{new} {} 件，{added}信访件 {} 条，重复（已导入过）{} 行",
        report.rows, report.cases, report.added_submissions, report.duplicates
    );
    if !report.number_matches.is_empty() {
        eprintln!("与本台账已有案件同号的行：");
        for line in &report.number_matches {
            eprintln!("  {line}");
        }
        if !report.number_matches.iter().any(|l| l.contains("经确认")) {
            eprintln!(
                "  确是同一事项时，加 --join-by-number 再导入，这些行将追加为该案件的重复信访件"
            );
        }
    }
    for line in &report.renumbered {
        eprintln!("  {line}");
    }
    if report.duplicates > 0 && report.cases == 0 && report.added_submissions == 0 {
        eprintln!("该文件已导入过，本次未新增任何记录");
    }
    if report.bureau_steps_left_out > 0 {
        eprintln!(
            "县局的办理环节（受理、交办、办结等）{} 项未导入：这些须由县局记录",
            report.bureau_steps_left_out
        );
    }
    if !report.unknown_columns.is_empty() {
        eprintln!("未识别的列（已忽略）：{}", report.unknown_columns.join("、"));
    }
    if !report.invalid.is_empty() {
        eprintln!("跳过的错误行：");
        for line in &report.invalid {
            eprintln!("  {line}");
        }
    }
    println!("{}", report.cases);
}

/// What `ledger repair` did: the cases recovered, the comparison with the hub, the pass.
pub(crate) fn repaired(r: &Repaired) {
    if r.refused_cases > 0 {
        eprintln!(
            "有 {} 件案件的更改被县局拒收：已以县局的记录为准取回这些案件，并重新记录本机的办理操作",
            r.refused_cases
        );
        for line in r.recovered.redone.iter().chain(&r.recovered.unrecoverable) {
            eprintln!("  {line}");
        }
        eprintln!(
            "已恢复 {} 件案件：重新记录 {} 项办理操作，{} 项未能重做（见上）",
            r.recovered.cases,
            r.recovered.redone.len(),
            r.recovered.unrecoverable.len()
        );
    }
    match &r.compared {
        Some(c) => eprintln!(
            "核对了 {} 份文档：{} 份与县局不一致，已修复；{} 份本机缺少，已随本次同步取回{}",
            c.compared,
            c.differ,
            c.missing,
            if c.unsettled > 0 {
                format!("；{} 份尚未与县局一致，下次同步时继续核对", c.unsettled)
            } else {
                String::new()
            }
        ),
        None => eprintln!("这次同步没有走到逐份核对：下次同步时会继续与县局核对"),
    }
    eprintln!(
        "同步完成：上传 {} 条更改，下载 {} 条记录（{} 次往返）",
        r.sync.uploaded, r.sync.downloaded, r.sync.rounds
    );
}

/// A MIME type from a file name, for attachments.
/// 全县规则, as text.
pub(crate) fn rules(view: &ledger_office::RulesView) {
    if !view.received {
        println!("（尚未从县局服务器收到全县规则：以下为本版本内置的规则）");
    }
    println!("期限规则：");
    for v in &view.policies {
        let p = &v.policy;
        let decide = if p.decide_working {
            format!("{}个工作日", p.decide_days)
        } else {
            format!("{}日", p.decide_days)
        };
        println!(
            "  {}{}  {} 起受理的事项：受理告知{decide}，办理{}日，延期至多{}日，复查（复核）申请{}日、办理{}日，异议退回{}个工作日，集体访{}人以上（代表不超过{}人），停访息诉观察{}日，12336判定{}、反馈{}",
            if v.in_force { "▶ " } else { "  " },
            p.name,
            p.effective_from,
            p.handle_days,
            p.extension_max_days,
            p.review_request_days,
            p.review_days,
            p.objection_working_days,
            p.collective_threshold,
            p.representatives_max,
            p.settled_window_days,
            days_or_off(p.assess_12336_working_days, "个工作日"),
            days_or_off(p.feedback_12336_days, "日"),
        );
    }
    println!("节假日表：{} 至 {}", view.calendar_from, view.calendar_to);
    println!(
        "复查机关：{}",
        view.county
            .review_body
            .as_deref()
            .unwrap_or("（未设置：意见书写「本机关的上一级行政机关」；县局用 ledger rules set 复查机关 名称 设置）")
    );
    if view.county.issues_own_documents {
        println!(
            "送达信访人的文书：国土所以自己的名义出具；其复查机关：{}",
            view.county.township_review_body.as_deref().unwrap_or(
                "（未设置：意见书写「本机关的上一级行政机关」；县局用 ledger rules set county.township_review_body 名称 设置）"
            )
        );
    } else {
        println!("送达信访人的文书：由县局编号出具，国土所起草");
    }
    println!("法律依据：");
    for b in view.legal_basis.iter().filter(|b| !b.basis.is_empty()) {
        println!("  {}：{}{}", b.label, b.basis, if b.county { "（县局设置）" } else { "" });
    }
    if !view.entries.is_empty() {
        println!("变更记录：");
        for e in &view.entries {
            let value = e.value.lines().next().unwrap_or_default();
            let more = if e.value.lines().count() > 1 { " …" } else { "" };
            println!(
                "  {} {} {}：{value}{more}（{} 起；{}{}）",
                time_text(Some(e.recorded_at)),
                e.handler,
                e.label,
                e.from,
                e.item,
                if e.note.is_empty() { String::new() } else { format!("；依据：{}", e.note) }
            );
        }
    }
}

/// A moment as the machine's local time, naming the zone so nobody has to guess it:
/// 2026-11-30 20:15（本机时间 UTC+08:00）.
pub(crate) fn time_text(ms: Option<i64>) -> String {
    use chrono::TimeZone;
    match ms.and_then(|ms| chrono::Local.timestamp_millis_opt(ms).single()) {
        Some(t) => format!("{}（本机时间 UTC{}）", t.format("%Y-%m-%d %H:%M"), t.format("%:z")),
        None => "从未".to_owned(),
    }
}

pub(crate) use ledger_office::display_width;

/// `text` followed by spaces up to `width` columns (at least one space, so columns never touch).
pub(crate) fn pad(text: &str, width: usize) -> String {
    let used = display_width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used).max(1)))
}

/// `encrypted`, `loopback` or `plain`, for scripts.
fn link_code(link: HubLink) -> &'static str {
    match link {
        HubLink::Encrypted => "encrypted",
        HubLink::Loopback => "loopback",
        HubLink::Plain => "plain",
    }
}

pub(crate) fn status(office: &ledger_office::Office, as_json: bool) -> anyhow::Result<()> {
    let status = office.sync_status()?;
    let hub = office.hub_url()?;
    if as_json {
        let mut value = serde_json::to_value(&status)?;
        value["hub"] = json!(hub);
        value["hub_link"] = json!(office.hub_link()?.map(link_code));
        value["last_error_text"] =
            json!(status.last_error.as_deref().map(ledger_office::sync_error_text));
        value["quarantine"] = serde_json::to_value(office.quarantine()?)?;
        value["problems"] = json!(office.sync_problems()?);
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    match &hub {
        Some(h) => println!("县局服务器：{h}"),
        None => println!("本机尚未接入县局：{}", crate::ENROLL_HINT),
    }
    if office.hub_link()? == Some(HubLink::Plain) {
        println!("警告：{}", ledger_office::sync_error_text("plain_http"));
    }
    println!("上次成功同步：{}", time_text(status.last_success));
    println!("待上传更改：{} 条", status.pending);
    if status.quarantined > 0 {
        println!(
            "被县局拒收：{} 条更改（其余同步不受影响；运行 ledger repair 以县局记录为准恢复）",
            status.quarantined
        );
        for q in office.quarantine()? {
            let number = office.case_number(q.case_id).unwrap_or_else(|| q.case_id.to_string());
            println!("  案件 {number}：{}", q.error);
        }
    }
    if status.unresolved > 0 {
        println!(
            "同步跳过的内容：{} 项（本机无法读取，其余同步不受影响；请告知县局核对）",
            status.unresolved
        );
        for line in office.sync_problems()? {
            println!("  {line}");
        }
    }
    let drops = office.identities_to_deliver()?;
    if drops > 0 {
        println!("待交县局的信访人身份信息：{drops} 份（本机不保留检举人身份，同步后即删除）");
    }
    if let Some(code) = &status.last_error {
        println!("最近的问题：{}", crate::sync_error_text(code));
    }
    if let Some(skew) = status.clock_skew_ms.filter(|s| s.abs() > 120_000) {
        println!("本机时钟与县局相差 {} 分钟，请校准时间（不影响同步）", skew / 60_000);
    }
    Ok(())
}

/// `15日`, or 不计 for a clock a county turned off (0).
fn days_or_off(days: u32, unit: &str) -> String {
    if days == 0 { "不计".to_owned() } else { format!("{days}{unit}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_columns_line_up() {
        assert_eq!(display_width(&pad("案件编号", 23)), 23);
        assert_eq!(display_width(&pad("洞口-2024-A-0001", 23)), 23);
        assert_eq!(pad("很长很长很长的名字", 4), "很长很长很长的名字 ");
    }
}
