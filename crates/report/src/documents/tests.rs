//! Each document kind rendered from fixture cases: required parts, refusals, escaping.

use ledger_domain::fixtures::seed_2017;
use ledger_domain::{CloseReason, HandlingTrack, Outcome, PolicyTable, ReviewOutcome, Role};

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The seed's first case: a provincial referral, assigned to 洞口镇, investigated, replied,
/// rated 基本满意 and closed.
fn replied_case() -> Case {
    seed_2017().remove(0)
}

/// A case of the seed received in December: assigned and under investigation, no reply.
fn open_case() -> Case {
    seed_2017().into_iter().find(|c| c.received().unwrap() >= d("2017-12-01")).unwrap()
}

/// The case's register event plus one more action, as the bureau records it.
fn push<'a>(case: &'a mut Case, action: ActionKind, date: &str) -> &'a mut Event {
    let mut event = case.events[0].clone();
    event.lamport = case.next_lamport();
    event.id = format!("{}-{}", action.code(), event.lamport);
    event.action = action;
    event.role = Role::Bureau;
    event.imported = false;
    event.date = d(date);
    event.at += i64::try_from(event.lamport).unwrap();
    case.events.push(event);
    case.events.last_mut().unwrap()
}

fn registered_only() -> Case {
    let mut case = replied_case();
    case.events.truncate(1);
    case
}

fn render(case: &Case, kind: &DocumentKind, number: Option<&str>) -> Result<String, ReportError> {
    let policies = PolicyTable::default();
    render_document(&DocumentRequest {
        case,
        kind,
        issuer: "洞口县国土资源局",
        addressee: Some("洞口县国土资源局"),
        number,
        date: d("2024-03-05"),
        policy: policies.current(),
        review_body: "洞口县人民政府",
        names: &[],
        legal_basis: None,
        by_bureau: false,
    })
}

/// The visible text of the page: tags dropped, entities decoded.
fn text_of(html: &str) -> String {
    let body = html.split_once("<body>").map(|(_, b)| b).unwrap_or(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn assert_parts(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "missing 「{part}」 in\n{text}");
    }
}

/// What every document carries: the issuer, the number, the date in Chinese, the case number,
/// the A4 page.
fn assert_frame(html: &str, title: &str, number: &str) {
    assert!(html.contains("@page { size: A4; margin: 2.5cm }"));
    assert!(html.contains("仿宋") && html.contains("宋体"));
    let text = text_of(html);
    assert_parts(&text, &["洞口县国土资源局", title, number, "2024年3月5日", "洞口-2017-A-0001"]);
    assert!(!text.contains("预览"), "an issued document is not a preview");
}

#[test]
fn acceptance_notice_states_receipt_route_and_procedure() {
    let case = replied_case();
    let html =
        render(&case, &DocumentKind::AcceptanceNotice, Some("洞口国土信受〔2024〕1号")).unwrap();
    assert_frame(&html, "受理告知书", "洞口国土信受〔2024〕1号");
    let text = text_of(&html);
    let name = &case.petitioners[0].display_name;
    assert!(name.contains('*'), "a masked display name: {name}");
    assert_parts(
        &text,
        &[
            &format!("{name}："),
            "2017年1月3日以来信形式（信访来源：省信访局交办）",
            "信访请求：反映洞口镇1组违法占地建设问题",
            "《信访工作条例》第二十三条",
            "决定受理",
            "交由洞口镇国土所调查核实",
            "60日内办结",
            "不超过30日",
        ],
    );
    let err = render(&registered_only(), &DocumentKind::AcceptanceNotice, None).unwrap_err();
    assert!(err.to_string().contains("请先记录「受理」"), "{err}");
}

#[test]
fn non_acceptance_notice_needs_the_decision_and_gives_its_reason() {
    let mut case = registered_only();
    let err = render(&case, &DocumentKind::NonAcceptanceNotice, None).unwrap_err();
    assert!(err.to_string().contains("不予受理"), "{err}");
    push(&mut case, ActionKind::NotAccept, "2017-01-10").text =
        Some("该事项属于土地权属争议，应由乡级人民政府依法处理。".to_owned());
    let html = render(&case, &DocumentKind::NonAcceptanceNotice, Some("洞口国土信不受〔2024〕1号"))
        .unwrap();
    assert_frame(&html, "不予受理告知书", "洞口国土信不受〔2024〕1号");
    assert_parts(
        &text_of(&html),
        &[
            "经审查，该事项属于土地权属争议，应由乡级人民政府依法处理。根据",
            "第二十三条、第三十一条",
            "2017年1月10日决定不予受理",
            "向有权处理的机关提出",
        ],
    );
}

#[test]
fn extension_notice_gives_reasons_and_the_new_deadline() {
    let err = render(&replied_case(), &DocumentKind::ExtensionNotice, None).unwrap_err();
    assert!(err.to_string().contains("没有「延期」记录"), "{err}");
    let mut case = open_case();
    let extend = push(&mut case, ActionKind::Extend, "2018-01-20");
    extend.due = Some(d("2018-03-05"));
    extend.text = Some("涉及多户村民，需进一步测量核实".to_owned());
    let html =
        render(&case, &DocumentKind::ExtensionNotice, Some("洞口国土信延〔2024〕1号")).unwrap();
    let text = text_of(&html);
    assert_parts(
        &text,
        &[
            "延长办理期限告知书",
            "延期理由：涉及多户村民，需进一步测量核实。",
            "延长至2018年3月5日",
            "不超过30日",
            "第三十四条",
        ],
    );
}

#[test]
fn handling_opinion_has_every_required_part() {
    let mut case = replied_case();
    let investigate = case.events.iter_mut().find(|e| e.action == ActionKind::Investigate).unwrap();
    investigate.text = Some("经现场测量，被反映人占用耕地120平方米建房".to_owned());
    let reply = case.events.iter_mut().find(|e| e.action == ActionKind::Reply).unwrap();
    reply.outcome = Some(Outcome::PartlySupported);
    let html =
        render(&case, &DocumentKind::HandlingOpinion, Some("洞口国土信复〔2024〕7号")).unwrap();
    assert_frame(&html, "信访处理意见书", "洞口国土信复〔2024〕7号");
    assert_parts(
        &text_of(&html),
        &[
            // the request
            "一、信访请求",
            "反映洞口镇1组违法占地建设问题，请求依法查处。",
            // the facts found
            "二、查明的事实",
            "2017年1月13日，经现场测量，被反映人占用耕地120平方米建房",
            // the opinion
            "三、处理意见",
            "经调查核实，已依法处理。\n综上，对你的信访请求，本机关部分予以支持。",
            // its legal basis
            "四、法律依据",
            "依据《信访工作条例》第三十二条、第三十四条的规定",
            // the review right and its time limit
            "五、复查权利",
            "如不服本处理意见，可自收到本意见书之日起30日内向洞口县人民政府申请复查",
            "第三十五条",
        ],
    );
    assert!(!text_of(&html).contains(MISSING), "nothing is missing here");
}

#[test]
fn the_opinion_cites_the_law_the_matter_turns_on_beside_the_procedure() {
    let case = replied_case();
    let policies = PolicyTable::default();
    let html = render_document(&DocumentRequest {
        case: &case,
        kind: &DocumentKind::HandlingOpinion,
        issuer: "洞口县国土资源局",
        addressee: None,
        number: Some("洞口国土信复〔2024〕8号"),
        date: d("2024-03-05"),
        policy: policies.current(),
        review_body: "洞口县人民政府",
        names: &[],
        legal_basis: Some("《中华人民共和国土地管理法》第七十七条"),
        by_bureau: true,
    })
    .unwrap();
    // Written by hand from 信访工作条例 §32 (the opinion states its basis) and the 土地管理法
    // article on illegal occupation (§77).
    assert_parts(
        &text_of(&html),
        &[
            "四、法律依据\n依据《中华人民共和国土地管理法》第七十七条和《信访工作条例》第三十二条、第三十四条的规定，作出本处理意见。",
        ],
    );
}

#[test]
fn an_imported_reply_without_text_prints_as_not_entered() {
    let mut case = replied_case();
    let reply = case.events.iter_mut().find(|e| e.action == ActionKind::Reply).unwrap();
    reply.text = None;
    let text = text_of(&render(&case, &DocumentKind::HandlingOpinion, None).unwrap());
    assert_parts(
        &text,
        &[
            "处理意见：(未录入)",
            "三、处理意见\n(未录入)",
            "二、查明的事实\n(未录入)",
            "预览稿",
            "（预览，未编号）",
        ],
    );
}

#[test]
fn handling_opinion_without_a_reply_is_refused() {
    let err = render(&open_case(), &DocumentKind::HandlingOpinion, None).unwrap_err();
    assert!(matches!(err, ReportError::Refused(_)));
    assert!(err.to_string().contains("还没有「答复」记录"), "{err}");
    assert!(err.to_string().contains("请先"), "says what to do: {err}");
}

#[test]
fn completion_report_tells_the_assigning_body_what_was_done() {
    let case = replied_case();
    let html =
        render(&case, &DocumentKind::CompletionReport, Some("洞口国土信结〔2024〕2号")).unwrap();
    assert_frame(&html, "办结报告", "洞口国土信结〔2024〕2号");
    assert_parts(
        &text_of(&html),
        &[
            "洞口县国土资源局：",
            "2017年1月6日交办",
            "一、信访事项",
            "信访来源：省信访局交办",
            "问题属地：洞口镇王家村",
            "二、调查核实情况",
            "三、处理及答复情况",
            "答复日期：2017年2月2日",
            "四、信访人意见",
            "满意度评价：基本满意（2017年2月7日）",
            "五、办结情况",
            "2017年2月3日办结（答复后未申请复查）",
            "第二十二条",
        ],
    );
    let err = render(&open_case(), &DocumentKind::CompletionReport, None).unwrap_err();
    assert!(err.to_string().contains("尚未答复"), "{err}");
}

#[test]
fn forwarding_and_no_further_notices() {
    let mut case = registered_only();
    push(&mut case, ActionKind::Forward, "2017-01-08").target = Some("洞口县人民法院".to_owned());
    let text = text_of(&render(&case, &DocumentKind::ForwardingNotice, None).unwrap());
    assert_parts(&text, &["转送告知书", "将其转送洞口县人民法院办理"]);
    let mut case = registered_only();
    push(&mut case, ActionKind::NoFurther, "2017-01-08").text =
        Some("该事项已经复核终结".to_owned());
    let text = text_of(&render(&case, &DocumentKind::NoFurtherNotice, None).unwrap());
    assert_parts(&text, &["不再受理告知书", "该事项已经复核终结。", "第三十六条"]);
    assert!(render(&case, &DocumentKind::Unknown("x".to_owned()), None).is_err());
}

#[test]
fn documents_are_served_on_real_people_in_the_right_number() {
    let policies = PolicyTable::default();
    let mut case = replied_case();
    let mut second = case.petitioners[0].clone();
    second.id = "p2".to_owned();
    second.display_name = "李*".to_owned();
    case.petitioners.push(second);
    let reply = case.events.iter_mut().find(|e| e.action == ActionKind::Reply).unwrap();
    reply.outcome = Some(Outcome::Supported);
    case.submissions[0].referral_number = Some("湘信交〔2017〕3号".to_owned());
    let names = ["张三丰".to_owned(), "李四".to_owned()];
    let request = |by_bureau: bool, kind: &'static DocumentKind| DocumentRequest {
        case: &case,
        kind,
        issuer: "洞口县国土资源局",
        addressee: Some("省信访局"),
        number: None,
        date: d("2017-02-02"),
        policy: policies.for_date(d("2017-02-02")),
        review_body: "洞口县人民政府",
        names: &names,
        legal_basis: None,
        by_bureau,
    };
    let text = text_of(&render_document(&request(true, &DocumentKind::HandlingOpinion)).unwrap());
    // The names the office holds, not the masked ones; 你们 to two people, never 你（们）.
    assert_parts(&text, &["张三丰、李四：", "综上，对你们的信访请求"]);
    assert!(!text.contains("你（们）") && !text.contains("处理意见："), "{text}");
    // The bureau's report goes back to the referrer, dated from the referral.
    let text = text_of(&render_document(&request(true, &DocumentKind::CompletionReport)).unwrap());
    let received = chinese_date(case.received().unwrap());
    assert_parts(&text, &["省信访局：", &format!("{received}以湘信交〔2017〕3号交办的")]);
    // Anonymous: nobody to write to.
    let mut anon = replied_case();
    for s in &mut anon.submissions {
        s.anonymous = true;
    }
    for p in &mut anon.petitioners {
        p.display_name = String::new();
    }
    let err = render(&anon, &DocumentKind::HandlingOpinion, None).unwrap_err();
    assert!(err.to_string().contains("匿名"), "{err}");
    assert!(render(&anon, &DocumentKind::CompletionReport, None).is_ok(), "reports still go up");
}

#[test]
fn only_the_petition_procedure_gets_a_review_clause() {
    let mut case = registered_only();
    push(&mut case, ActionKind::Accept, "2017-01-05").track = Some(HandlingTrack::Report);
    let reply = push(&mut case, ActionKind::Reply, "2017-02-01");
    reply.text = Some("经查，违法建筑已拆除".to_owned());
    reply.outcome = Some(Outcome::Supported);
    let text = text_of(&render(&case, &DocumentKind::HandlingOpinion, None).unwrap());
    assert_parts(&text, &["本事项按「检举控告办理」办理，现将办理结果反馈如下，不适用复查程序。"]);
    assert!(!text.contains("申请复查（"), "{text}");
    let text = text_of(&render(&replied_case(), &DocumentKind::HandlingOpinion, None).unwrap());
    assert_parts(&text, &["五、复查权利", "日内向"]);
}

#[test]
fn a_matter_outside_the_land_system_is_told_where_to_go_and_a_repeat_names_the_original() {
    let mut case = registered_only();
    let event = push(&mut case, ActionKind::NotAccept, "2017-01-08");
    event.text = Some("所反映的工资拖欠问题不属于国土资源部门职权范围".to_owned());
    event.target = Some("洞口县人力资源和社会保障局".to_owned());
    let text = text_of(&render(&case, &DocumentKind::NonAcceptanceNotice, None).unwrap());
    assert_parts(&text, &["不予受理告知书", "请你向洞口县人力资源和社会保障局提出。"]);
    assert!(!text.contains("向有权处理的机关提出"), "{text}");
    let mut case = registered_only();
    let event = push(&mut case, ActionKind::NoFurther, "2017-01-08");
    event.text = Some("该事项已经复核终结".to_owned());
    event.target = Some("洞口-2016-A-0031".to_owned());
    let text = text_of(&render(&case, &DocumentKind::NoFurtherNotice, None).unwrap());
    assert_parts(
        &text,
        &["与本机关已办理的信访事项（编号：洞口-2016-A-0031）相同。该事项已经复核终结。"],
    );
    // The reviewing bodies' opinions are theirs to issue.
    let err = render(&replied_case(), &DocumentKind::ReviewOpinion, None).unwrap_err();
    assert!(err.to_string().contains("复查（复核）机关出具"), "{err}");
}

#[test]
fn case_text_is_escaped() {
    let mut case = replied_case();
    case.request = "<script>alert('x')</script> & \"引号\"".to_owned();
    case.petitioners[0].display_name = "王<b>*".to_owned();
    let reply = case.events.iter_mut().find(|e| e.action == ActionKind::Reply).unwrap();
    reply.text = Some("第一行\n<img src=x onerror=alert(1)>".to_owned());
    let html = render(&case, &DocumentKind::HandlingOpinion, None).unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;引号&quot;")
    );
    assert!(html.contains("第一行<br>&lt;img"));
    assert!(text_of(&html).contains("<script>alert('x')</script>"), "the text reads as entered");
}

#[test]
fn a_2017_document_under_the_2005_rules_cites_them() {
    let policies = PolicyTable::default();
    let mut case = replied_case();
    let close = case.events.iter().position(|e| e.action == ActionKind::Close).unwrap();
    case.events[close].close_reason = Some(CloseReason::Replied);
    let html = render_document(&DocumentRequest {
        case: &case,
        kind: &DocumentKind::HandlingOpinion,
        issuer: "洞口县国土资源局",
        addressee: None,
        number: Some("洞口国土信复〔2017〕3号"),
        date: d("2017-02-02"),
        policy: policies.for_date(d("2017-02-02")),
        review_body: "洞口县人民政府",
        names: &[],
        legal_basis: None,
        by_bureau: true,
    })
    .unwrap();
    assert_parts(
        &text_of(&html),
        &["《信访条例》第三十二条", "30日内向洞口县人民政府申请复查", "《信访条例》第三十四条"],
    );
}

#[test]
fn referred_matters_report_back_to_their_referrer() {
    assert_eq!(referring_body(&Source::CityBureau), Some("市信访局"));
    assert_eq!(referring_body(&Source::Direct), None);
}

/// The seed's first case as far as its reply, then a 复查 request and the review opinion the
/// bureau recorded as the reviewing body (a 国土所 that answered in its own name).
fn reviewed_case(outcome: ReviewOutcome) -> Case {
    let mut case = replied_case();
    let reply = case.events.iter().position(|e| e.action == ActionKind::Reply).unwrap();
    case.events.truncate(reply + 1);
    let replied = case.events[reply].date;
    let on = |days: u64| (replied + chrono::Days::new(days)).format("%Y-%m-%d").to_string();
    push(&mut case, ActionKind::Review, &on(10)).text =
        Some("认为被反映人占地面积认定有误，请求复查".to_owned());
    let opinion = push(&mut case, ActionKind::ReviewOpinion, &on(30));
    opinion.target = Some("洞口县国土资源局".to_owned());
    opinion.review_outcome = Some(outcome);
    opinion.text = Some("经复查，重新测量占地面积为118平方米，与原认定基本一致".to_owned());
    case
}

fn review_request<'a>(
    issuer: &'a str,
    case: &'a Case,
    policies: &'a PolicyTable,
) -> DocumentRequest<'a> {
    DocumentRequest {
        case,
        kind: &DocumentKind::ReviewOpinion,
        issuer,
        addressee: None,
        number: Some("洞口国土信复查〔2024〕1号"),
        date: d("2024-03-05"),
        policy: policies.current(),
        review_body: "洞口县人民政府",
        names: &[],
        legal_basis: Some("《中华人民共和国土地管理法》第七十七条"),
        by_bureau: true,
    }
}

#[test]
fn the_review_opinion_is_issued_by_the_reviewing_body_with_the_recheck_right() {
    let case = reviewed_case(ReviewOutcome::Upheld);
    let policies = PolicyTable::default();
    let html = render_document(&review_request("洞口县国土资源局", &case, &policies)).unwrap();
    assert_frame(&html, "复查意见书", "洞口国土信复查〔2024〕1号");
    // Written by hand from 信访工作条例 §35-36: the request and its reasons, the facts the
    // review found, its opinion on the original one, the basis, and the 复核 right with its
    // window and the body above.
    assert_parts(
        &text_of(&html),
        &[
            "作出的信访处理意见不服",
            "向本机关申请复查",
            "一、复查请求及理由\n认为被反映人占地面积认定有误，请求复查",
            "二、复查查明的事实\n经复查，重新测量占地面积为118平方米，与原认定基本一致",
            "三、复查意见\n经复查，原处理意见认定事实清楚，适用依据正确，本机关决定予以维持。",
            "依据《中华人民共和国土地管理法》第七十七条和《信访工作条例》第三十五条的规定，作出本复查意见。",
            "如不服本复查意见，可自收到本意见书之日起30日内向洞口县人民政府申请复核（《信访工作条例》第三十六条）。",
        ],
    );
    assert!(!text_of(&html).contains(MISSING));
    let redo = reviewed_case(ReviewOutcome::Redo);
    let text =
        text_of(&render_document(&review_request("洞口县国土资源局", &redo, &policies)).unwrap());
    assert!(text.contains("本机关决定予以撤销，责令原办理机关"), "{text}");
    // Any other office is not the reviewing body; nobody here issues the 复核意见书.
    let err = render_document(&review_request("洞口镇国土所", &case, &policies)).unwrap_err();
    assert!(err.to_string().contains("复查（复核）机关出具"), "{err}");
    let recheck = DocumentRequest {
        kind: &DocumentKind::RecheckOpinion,
        ..review_request("洞口县国土资源局", &case, &policies)
    };
    assert!(render_document(&recheck).is_err());
}
