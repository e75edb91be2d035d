//! The statutory documents (`reference/domain.md` §2.5) rendered from a case as printable HTML:
//! 受理告知书, 不予受理告知书, 延长办理期限告知书, 信访处理意见书, 办结报告, 转送告知书 and
//! 不再受理告知书.
//!
//! Each page is A4 with the issuing office's name, the 文书编号 (or a preview mark before one is
//! assigned), the petitioners' names as the office holds them (full names where it holds the
//! identity, for a document is served on a real person; never an ID number), 你 or 你们 by their
//! number, and dates in Chinese. A written reply states what the law requires of it (信访工作条例
//! §32; 山东 §41; 北京 §43): the request, the facts found, the opinion in a sentence, its legal
//! basis, and, on the petition procedure only, the review right with its time limit and the
//! reviewing body. Anonymous matters get no document addressed to the petitioner. A part the case lacks (an imported case has no reply text) prints as
//! 「(未录入)」 so the gap is seen before the letter is sent; a document whose decisive event is
//! missing (an opinion without a 答复) is refused. All case text is escaped.

use chrono::NaiveDate;
use ledger_domain::workflow::{Replay, replay};
use ledger_domain::{
    ActionKind, Case, DocumentKind, Event, Outcome, Policy, ReviewOutcome, Source,
};

use crate::error::ReportError;
use crate::summary::chinese_date;

/// Where the templates address the petitioners; 你 or 你们 goes there once the page is written.
const YOU: &str = "<you/>";

/// What a part the case lacks prints as.
pub const MISSING: &str = "(未录入)";

/// What to render.
#[derive(Debug, Clone, Copy)]
pub struct DocumentRequest<'a> {
    /// The case.
    pub case: &'a Case,
    /// Which document.
    pub kind: &'a DocumentKind,
    /// The issuing office's name (洞口县国土资源局).
    pub issuer: &'a str,
    /// For a 办结报告, the body it reports to (the 交办机关).
    pub addressee: Option<&'a str>,
    /// 文书编号; `None` renders a preview that says it is not issued.
    pub number: Option<&'a str>,
    /// The issue date.
    pub date: NaiveDate,
    /// The deadline rules in force (the review window, the handling period).
    pub policy: &'a Policy,
    /// Where a review (复查) is requested: the body the office's settings name
    /// (洞口县人民政府, 邵阳市自然资源和规划局).
    pub review_body: &'a str,
    /// The petitioners' names as the issuing office holds them: full names where it holds the
    /// identity (a document is served on a real person), else the masked ones. Empty: the
    /// masked display names.
    pub names: &'a [String],
    /// 法律依据: the law and article the matter turns on (the county's legal-basis table for its
    /// category), cited beside the procedure in a 处理意见书.
    pub legal_basis: Option<&'a str>,
    /// Whether the bureau issues it (a 办结报告 then goes to the body that referred the matter,
    /// dated from the referral; a township's goes to the bureau, dated from the assignment).
    pub by_bureau: bool,
}

/// The articles each document cites, by the instrument in force.
struct Basis {
    instrument: &'static str,
    accept: &'static str,
    routes: &'static str,
    opinion: &'static str,
    period: &'static str,
    review: &'static str,
    recheck: &'static str,
    report: &'static str,
    no_further: &'static str,
}

fn basis(policy: &Policy) -> Basis {
    if policy.id.starts_with("xftl-") {
        Basis {
            instrument: "《信访条例》",
            accept: "第二十二条",
            routes: "第十四条",
            opinion: "第三十二条",
            period: "第三十三条",
            review: "第三十四条",
            recheck: "第三十五条",
            report: "第二十一条",
            no_further: "第三十五条",
        }
    } else {
        Basis {
            instrument: "《信访工作条例》",
            accept: "第二十三条",
            routes: "第三十一条",
            opinion: "第三十二条",
            period: "第三十四条",
            review: "第三十五条",
            recheck: "第三十六条",
            report: "第二十二条",
            no_further: "第三十六条",
        }
    }
}

/// The body a completion report on a referred matter goes back to, by the first submission's
/// source; `None` when nobody referred it.
pub fn referring_body(source: &Source) -> Option<&'static str> {
    match source {
        Source::ProvincialBureau => Some("省信访局"),
        Source::CityBureau => Some("市信访局"),
        Source::CountyDepartment => Some("县级交办部门"),
        Source::Report12336 => Some("12336违法线索举报平台"),
        Source::CityLandBureau => Some("市国土资源局"),
        Source::NationalBureau => Some("国家信访局"),
        Source::ProvincialDepartment => Some("省国土资源厅"),
        Source::Hotline12345 => Some("12345政务服务便民热线"),
        Source::LeaderInstruction => Some("批示领导"),
        Source::Direct | Source::OnlineOpinion | Source::LowerLevel | Source::Unknown(_) => None,
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn missing() -> String {
    format!("<span class=\"missing\">{MISSING}</span>")
}

/// Case text, escaped, line breaks kept; or the missing mark.
fn text_or_missing(text: Option<&str>) -> String {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => escape(t).replace('\n', "<br>"),
        None => missing(),
    }
}

/// Case text as a sentence ending in 。, escaped; or the missing mark.
fn sentence(text: Option<&str>) -> String {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => {
            let t = t.trim_end_matches(['。', '.', '；', ';', '，', ',']);
            format!("{}。", escape(t).replace('\n', "<br>"))
        }
        None => format!("{}。", missing()),
    }
}

fn date_or_missing(d: Option<NaiveDate>) -> String {
    d.map(chinese_date).unwrap_or_else(missing)
}

/// The case's events of one action that fit the workflow, in replay order.
fn valid<'a>(case: &'a Case, replayed: &Replay, action: &ActionKind) -> Vec<&'a Event> {
    let mut events: Vec<&Event> = case
        .events
        .iter()
        .filter(|e| &e.action == action)
        .filter(|e| !replayed.anomalies.iter().any(|a| a.event_id == e.id))
        .collect();
    events.sort_by(|a, b| a.order().cmp(&b.order()));
    events
}

/// The opinion in a sentence (信访工作条例 §32), not a form label.
fn outcome_sentence(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Supported => "综上，对<you/>的信访请求，本机关予以支持。".to_owned(),
        Outcome::PartlySupported => "综上，对<you/>的信访请求，本机关部分予以支持。".to_owned(),
        Outcome::Explained => {
            "综上，<you/>的信访请求缺乏法律、政策依据，本机关不能予以支持，特作上述解释说明。"
                .to_owned()
        }
        Outcome::NotSupported => "综上，对<you/>的信访请求，本机关不予支持。".to_owned(),
        Outcome::Unknown(code) => format!("处理意见：{}。", escape(code)),
    }
}

/// Whether nobody can be written to: every submission anonymous and no petitioner named.
fn anonymous(case: &Case) -> bool {
    !case.submissions.is_empty()
        && case.submissions.iter().all(|s| s.anonymous)
        && case.petitioners.iter().all(|p| p.display_name.trim().is_empty())
}

fn refused(message: &str) -> ReportError {
    ReportError::Refused(message.to_owned())
}

/// Whether `case` has what `kind` states: refused, in Chinese with what to do, when the
/// decisive event is missing (a 信访处理意见书 without a 答复, say).
///
/// `issuer` is the office asking: a 复查意见书 is issued only by the reviewing body the bureau
/// recorded with the 复查意见 (the bureau, where the county names it the reviewing body of what
/// its 国土所 issue in their own name); a 复核意见书 never by a county office (the body above the
/// reviewing one issues it).
pub fn check_document(case: &Case, kind: &DocumentKind, issuer: &str) -> Result<(), ReportError> {
    let r = replay(&case.events);
    let decided = r.decided.as_ref().map(|(a, _)| a);
    let to_petitioner = !matches!(kind, DocumentKind::CompletionReport);
    if to_petitioner && anonymous(case) {
        return Err(refused(
            "匿名信访无法书面告知或答复信访人（信访工作条例第二十三条）：该事项照常办理，但不出具送达信访人的文书",
        ));
    }
    match kind {
        DocumentKind::AcceptanceNotice if r.accepted_on.is_none() => {
            Err(refused("案件尚未受理，不能出具受理告知书：请先记录「受理」（或「交办」），再出具"))
        }
        DocumentKind::NonAcceptanceNotice if decided != Some(&ActionKind::NotAccept) => {
            Err(refused(
                "案件没有作出「不予受理」决定，不能出具不予受理告知书：请先记录「不予受理」并写明理由",
            ))
        }
        DocumentKind::NoFurtherNotice if decided != Some(&ActionKind::NoFurther) => Err(refused(
            "案件没有作出「不再受理」决定，不能出具不再受理告知书：请先记录「不再受理」并写明理由",
        )),
        DocumentKind::ExtensionNotice if valid(case, &r, &ActionKind::Extend).is_empty() => {
            Err(refused(
                "案件没有「延期」记录，不能出具延长办理期限告知书：请先记录延期，写明延长后的办理期限和理由",
            ))
        }
        DocumentKind::HandlingOpinion if r.replied.is_none() => Err(refused(
            "案件还没有「答复」记录，不能出具信访处理意见书：请先由承办单位记录答复（答复内容和处理意见），再出具",
        )),
        DocumentKind::CompletionReport if r.replied.is_none() && r.closed.is_none() => {
            Err(refused("案件尚未答复，不能出具办结报告：请先记录答复，办理完毕后再出具"))
        }
        DocumentKind::ForwardingNotice if valid(case, &r, &ActionKind::Forward).is_empty() => {
            Err(refused(
                "案件没有「转送」记录，不能出具转送告知书：请先记录「转送」并写明转送的有权处理机关",
            ))
        }
        DocumentKind::Unknown(code) => {
            Err(ReportError::Refused(format!("本版本不认识文书类别「{code}」，请升级软件后再出具")))
        }
        DocumentKind::ReviewOpinion
            if valid(case, &r, &ActionKind::ReviewOpinion)
                .pop()
                .is_some_and(|e| e.target.as_deref().map(str::trim) == Some(issuer.trim())) =>
        {
            Ok(())
        }
        DocumentKind::ReviewOpinion | DocumentKind::RecheckOpinion => {
            Err(ReportError::Refused(format!(
                "{}由登记的复查（复核）机关出具，本机关不是该机关；收到后请登记其「送达」",
                kind.label()
            )))
        }
        _ => Ok(()),
    }
}

/// Renders the document as a complete HTML page, or refuses as [`check_document`] does.
pub fn render_document(req: &DocumentRequest<'_>) -> Result<String, ReportError> {
    check_document(req.case, req.kind, req.issuer)?;
    let ctx = Ctx::new(req);
    let body = match req.kind {
        DocumentKind::AcceptanceNotice => ctx.acceptance(),
        DocumentKind::NonAcceptanceNotice => ctx.non_acceptance(),
        DocumentKind::ExtensionNotice => ctx.extension(),
        DocumentKind::HandlingOpinion => ctx.opinion(),
        DocumentKind::CompletionReport => ctx.completion(),
        DocumentKind::ForwardingNotice => ctx.forwarding(),
        DocumentKind::NoFurtherNotice => ctx.no_further(),
        DocumentKind::ReviewOpinion => ctx.review_opinion(),
        DocumentKind::RecheckOpinion | DocumentKind::Unknown(_) => String::new(),
    };
    // 你 or 你们, by how many petitioners the document is addressed to. The templates write
    // [`YOU`]; escaped case text never holds a `<`, so the petitioner's own words stay as written.
    let body = body.replace(YOU, ctx.you());
    Ok(ctx.page(&body))
}

/// Everything the templates read, worked out once.
struct Ctx<'a> {
    req: &'a DocumentRequest<'a>,
    replayed: Replay,
    basis: Basis,
    names: String,
}

impl<'a> Ctx<'a> {
    fn new(req: &'a DocumentRequest<'a>) -> Self {
        let names: Vec<&str> = if req.names.is_empty() {
            req.case.petitioners.iter().map(|p| p.display_name.trim()).collect()
        } else {
            req.names.iter().map(|n| n.trim()).collect()
        };
        let names: Vec<&str> = names.into_iter().filter(|n| !n.is_empty()).collect();
        let names = if names.is_empty() { missing() } else { escape(&names.join("、")) };
        Self { req, replayed: replay(&req.case.events), basis: basis(req.policy), names }
    }

    fn case(&self) -> &'a Case {
        self.req.case
    }

    /// 你 to one petitioner, 你们 to several.
    fn you(&self) -> &'static str {
        if self.case().petitioners.len() > 1 { "你们" } else { "你" }
    }

    fn last(&self, action: &ActionKind) -> Option<&'a Event> {
        valid(self.case(), &self.replayed, action).pop()
    }

    /// 你（们）于2017年1月3日以来信形式（信访来源：市信访局交办）反映的信访事项
    fn received(&self) -> String {
        let case = self.case();
        let first = case.submissions.iter().min_by_key(|s| (s.received, &s.id));
        let how = match first {
            Some(s) if s.source == Source::Direct => format!("以{}形式向本机关", s.channel.label()),
            Some(s) => format!("以{}形式（信访来源：{}）", s.channel.label(), s.source.label()),
            None => String::new(),
        };
        format!("<you/>于{}{}反映的信访事项", date_or_missing(case.received()), escape(&how))
    }

    /// The receipt and the request, as the notices open.
    fn received_line(&self) -> String {
        format!(
            "<p>{}收悉。</p>\n<p>信访请求：{}</p>",
            self.received(),
            text_or_missing(Some(&self.case().request))
        )
    }

    fn to(&self) -> String {
        format!("<p class=\"to\">{}：</p>", self.names)
    }

    fn acceptance(&self) -> String {
        let b = &self.basis;
        let p = self.req.policy;
        let route = match &self.replayed.assigned_to {
            Some(t) => format!(
                "本机关已将该事项交由{}国土所调查核实，处理意见由本机关依法作出并书面答复<you/>。",
                escape(t)
            ),
            None => "该事项由本机关调查核实并依法处理。".to_owned(),
        };
        format!(
            "{}\n{}\n<p>经审查，该事项属于本机关职权范围。根据{}{}的规定，本机关已于{}决定受理。</p>\n\
             <p>{route}</p>\n\
             <p>本机关将自受理之日起{}日内办结并书面答复<you/>；情况复杂的，经本机关负责人批准，可以适当延长办理期限，但延长期限不超过{}日，并告知<you/>延期理由（{}{}）。办理期间，<you/>可以凭本告知书向本机关查询办理情况。</p>\n\
             <p>特此告知。</p>",
            self.to(),
            self.received_line(),
            b.instrument,
            b.accept,
            date_or_missing(self.replayed.accepted_on),
            p.handle_days,
            p.extension_max_days,
            b.instrument,
            b.period,
        )
    }

    fn non_acceptance(&self) -> String {
        let b = &self.basis;
        let event = self.last(&ActionKind::NotAccept);
        // §23: outside the land system the petitioner is told which body to go to.
        let go_to = match event.and_then(|e| e.target.as_deref()).map(str::trim) {
            Some(body) if !body.is_empty() => format!("请<you/>向{}提出。", escape(body)),
            _ => "<you/>可以依照有关法律、行政法规规定的程序，向有权处理的机关提出。".to_owned(),
        };
        format!(
            "{}\n{}\n<p>经审查，{}根据{}{}、{}的规定，本机关于{}决定不予受理。</p>\n\
             <p>{go_to}</p>\n\
             <p>特此告知。</p>",
            self.to(),
            self.received_line(),
            sentence(event.and_then(|e| e.text.as_deref())),
            b.instrument,
            b.accept,
            b.routes,
            date_or_missing(event.map(|e| e.date)),
        )
    }

    fn no_further(&self) -> String {
        let b = &self.basis;
        let event = self.last(&ActionKind::NoFurther);
        let original = match event.and_then(|e| e.target.as_deref()).map(str::trim) {
            Some(no) if !no.is_empty() => {
                format!("<you/>反映的事项与本机关已办理的信访事项（编号：{}）相同。", escape(no))
            }
            _ => String::new(),
        };
        format!(
            "{}\n{}\n<p>经审查，{original}{}根据{}{}的规定，本机关于{}决定不再受理。</p>\n<p>特此告知。</p>",
            self.to(),
            self.received_line(),
            sentence(event.and_then(|e| e.text.as_deref())),
            b.instrument,
            b.no_further,
            date_or_missing(event.map(|e| e.date)),
        )
    }

    fn forwarding(&self) -> String {
        let b = &self.basis;
        let event = self.last(&ActionKind::Forward);
        let target = text_or_missing(event.and_then(|e| e.target.as_deref()));
        format!(
            "{}\n{}\n<p>经审查，该事项不属于本机关职权范围。根据{}{}的规定，本机关已于{}将其转送{target}办理，请<you/>与{target}联系。</p>\n\
             <p>特此告知。</p>",
            self.to(),
            self.received_line(),
            b.instrument,
            b.accept,
            date_or_missing(event.map(|e| e.date)),
        )
    }

    fn extension(&self) -> String {
        let b = &self.basis;
        let p = self.req.policy;
        let event = self.last(&ActionKind::Extend);
        let reason = event.and_then(|e| e.text.as_deref()).map(str::trim).filter(|t| !t.is_empty());
        format!(
            "{}\n{}\n<p>该事项本机关已于{}受理，依照{}{}的规定，应当自受理之日起{}日内办结。</p>\n\
             <p>延期理由：{}</p>\n\
             <p>经本机关负责人批准，办理期限延长至{}（延长期限不超过{}日）。本机关将在延长期限内办结并书面答复<you/>。</p>\n\
             <p>特此告知。</p>",
            self.to(),
            self.received_line(),
            date_or_missing(self.replayed.accepted_on),
            b.instrument,
            b.period,
            p.handle_days,
            sentence(reason),
            date_or_missing(event.and_then(|e| e.due)),
            p.extension_max_days,
        )
    }

    /// The facts found: the investigation notes and the investigation report.
    fn facts(&self) -> String {
        let mut parts: Vec<String> = valid(self.case(), &self.replayed, &ActionKind::Investigate)
            .into_iter()
            .filter_map(|e| {
                let text = e.text.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
                Some(format!("{}，{}", chinese_date(e.date), escape(text).replace('\n', "<br>")))
            })
            .collect();
        let report = self.case().investigation_report.trim();
        if !report.is_empty() {
            parts.push(escape(report).replace('\n', "<br>"));
        }
        if parts.is_empty() {
            return format!("<p>{}</p>", missing());
        }
        parts.iter().map(|p| format!("<p>{p}</p>")).collect::<Vec<_>>().join("\n")
    }

    fn reply(&self) -> Option<&'a Event> {
        let (_, id) = self.replayed.replied.as_ref()?;
        self.case().events.iter().find(|e| &e.id == id)
    }

    fn opinion(&self) -> String {
        let b = &self.basis;
        let p = self.req.policy;
        let reply = self.reply();
        let outcome = match reply.and_then(|e| e.outcome.as_ref()) {
            Some(o) => outcome_sentence(o),
            None => format!("处理意见：{}", missing()),
        };
        // Only the petition procedure (§31(6)) ends in an opinion open to 复查; a §30 report or a
        // suggestion is fed back, with no review clause.
        let track = self.replayed.track();
        let rights = if track.reviewable() {
            format!(
                "\n<h2>五、复查权利</h2>\n<p>如不服本处理意见，可自收到本意见书之日起{}日内向{}申请复查（{}{}）。</p>",
                p.review_request_days,
                escape(self.req.review_body),
                b.instrument,
                b.review,
            )
        } else {
            format!(
                "\n<p>本事项按「{}」办理，现将办理结果反馈如下，不适用复查程序。</p>",
                track.label()
            )
        };
        format!(
            "{}\n<p>{}，本机关已于{}受理。经调查核实，现将处理意见告知如下：</p>\n\
             <h2>一、信访请求</h2>\n<p>{}</p>\n\
             <h2>二、查明的事实</h2>\n{}\n\
             <h2>三、处理意见</h2>\n<p>{}</p>\n<p>{}</p>\n\
             <h2>四、法律依据</h2>\n<p>依据{}{}{}、{}的规定，作出本处理意见。</p>{rights}",
            self.to(),
            self.received(),
            date_or_missing(self.replayed.accepted_on),
            text_or_missing(Some(&self.case().request)),
            self.facts(),
            text_or_missing(reply.and_then(|e| e.text.as_deref())),
            outcome,
            self.req.legal_basis.map(|l| format!("{}和", escape(l))).unwrap_or_default(),
            b.instrument,
            b.opinion,
            b.period,
        )
    }

    /// 复查意见书 (信访工作条例 §35), issued by the reviewing body: the request, what the review
    /// found, its opinion on the original one, its basis, and the petitioner's right to a 复核
    /// within the window, at the body above (the county's 复查机关 setting: the bureau's own
    /// next level up).
    fn review_opinion(&self) -> String {
        let b = &self.basis;
        let p = self.req.policy;
        let request = self.last(&ActionKind::Review);
        let opinion = self.last(&ActionKind::ReviewOpinion);
        let replied = self.reply().map(|e| e.date);
        let outcome = match opinion.and_then(|e| e.review_outcome.as_ref()) {
            Some(ReviewOutcome::Upheld) => {
                "经复查，原处理意见认定事实清楚，适用依据正确，本机关决定予以维持。".to_owned()
            }
            Some(ReviewOutcome::Redo) => {
                "经复查，原处理意见认定事实不清或者适用依据错误，本机关决定予以撤销，责令原办理机关自收到本意见书之日起重新办理并作出处理意见。".to_owned()
            }
            Some(ReviewOutcome::Changed) => {
                "经复查，原处理意见部分不当，本机关决定予以变更，变更后的意见以本意见书为准。".to_owned()
            }
            Some(ReviewOutcome::Unknown(code)) => format!("复查意见：{}。", escape(code)),
            None => format!("复查意见：{}", missing()),
        };
        format!(
            "{}\n<p><you/>对{}作出的信访处理意见不服，于{}向本机关申请复查。本机关依法进行了复查，现将复查意见告知如下：</p>\n\
             <h2>一、复查请求及理由</h2>\n<p>{}</p>\n\
             <h2>二、复查查明的事实</h2>\n<p>{}</p>\n\
             <h2>三、复查意见</h2>\n<p>{outcome}</p>\n\
             <h2>四、法律依据</h2>\n<p>依据{}{}{}的规定，作出本复查意见。</p>\n\
             <h2>五、复核权利</h2>\n<p>如不服本复查意见，可自收到本意见书之日起{}日内向{}申请复核（{}{}）。</p>",
            self.to(),
            date_or_missing(replied),
            date_or_missing(request.map(|e| e.date)),
            text_or_missing(request.and_then(|e| e.text.as_deref())),
            text_or_missing(opinion.and_then(|e| e.text.as_deref())),
            self.req.legal_basis.map(|l| format!("{}和", escape(l))).unwrap_or_default(),
            b.instrument,
            b.review,
            p.review_request_days,
            escape(self.req.review_body),
            b.instrument,
            b.recheck,
        )
    }

    fn completion(&self) -> String {
        let b = &self.basis;
        let case = self.case();
        let reply = self.reply();
        let first = case.submissions.iter().min_by_key(|s| (s.received, &s.id));
        // The bureau reports to the body that referred the matter, on the day it was referred
        // (received here), citing its document number; a township reports to the bureau, on the
        // day it was assigned.
        let number = match first.and_then(|s| s.referral_number.as_deref()) {
            Some(n) if self.req.by_bureau => format!("以{}", escape(n)),
            _ => String::new(),
        };
        let assigned = if self.req.by_bureau {
            case.received()
        } else {
            valid(case, &self.replayed, &ActionKind::Assign)
                .first()
                .map(|e| e.date)
                .or(self.replayed.accepted_on)
        };
        let evaluation = case.evaluations().pop().map(|e| {
            let comment = e.comment.trim();
            if comment.is_empty() {
                format!("{}（{}）", escape(e.result.label()), chinese_date(e.date))
            } else {
                format!(
                    "{}（{}）：{}",
                    escape(e.result.label()),
                    chinese_date(e.date),
                    escape(comment)
                )
            }
        });
        let follow_ups: Vec<String> = valid(case, &self.replayed, &ActionKind::FollowUp)
            .into_iter()
            .map(|e| format!("{}，{}", chinese_date(e.date), text_or_missing(e.text.as_deref())))
            .collect();
        let closed = match &self.replayed.closed {
            Some((d, reason)) => format!(
                "该事项已于{}办结（{}）。",
                chinese_date(*d),
                reason.as_ref().map(|r| escape(r.label())).unwrap_or_else(missing)
            ),
            None => format!(
                "该事项已于{}答复，尚待答复后复查期满办结。",
                date_or_missing(reply.map(|e| e.date))
            ),
        };
        let place =
            format!("{}{}", case.jurisdiction.as_deref().unwrap_or_default(), case.village.trim());
        format!(
            "<p class=\"to\">{}：</p>\n\
             <p>{}{number}交办的{}反映的信访事项（案件编号{}），已办理完毕，现将办理情况报告如下：</p>\n\
             <h2>一、信访事项</h2>\n<p>信访人：{}；信访日期：{}；信访形式：{}；信访来源：{}；问题属地：{}。</p>\n<p>信访请求：{}</p>\n\
             <h2>二、调查核实情况</h2>\n{}\n\
             <h2>三、处理及答复情况</h2>\n<p>答复日期：{}；处理意见：{}。</p>\n<p>答复内容：{}</p>\n\
             <h2>四、信访人意见</h2>\n<p>满意度评价：{}</p>\n<p>回访情况：{}</p>\n\
             <h2>五、办结情况</h2>\n<p>{}</p>\n\
             <p>依照{}{}的规定，特此报告。</p>",
            text_or_missing(self.req.addressee),
            date_or_missing(assigned),
            self.names,
            escape(&case.number),
            self.names,
            date_or_missing(case.received()),
            first.map(|s| escape(s.channel.label())).unwrap_or_else(missing),
            first.map(|s| escape(s.source.label())).unwrap_or_else(missing),
            text_or_missing(Some(&place)),
            text_or_missing(Some(&case.request)),
            self.facts(),
            date_or_missing(reply.map(|e| e.date)),
            reply
                .and_then(|e| e.outcome.as_ref())
                .map(|o| escape(o.label()))
                .unwrap_or_else(missing),
            text_or_missing(reply.and_then(|e| e.text.as_deref())),
            evaluation.unwrap_or_else(missing),
            if follow_ups.is_empty() { missing() } else { follow_ups.join("；") },
            closed,
            b.instrument,
            b.report,
        )
    }

    fn page(&self, body: &str) -> String {
        let req = self.req;
        let title = escape(req.kind.label());
        let issuer = escape(req.issuer);
        let (number, preview) = match req.number {
            Some(n) => (escape(n), String::new()),
            None => (
                "（预览，未编号）".to_owned(),
                "<p class=\"preview\">预览稿：尚未编号出具，不得送达。出具时由系统编号并记入办理记录。</p>\n"
                    .to_owned(),
            ),
        };
        let official = req
            .case
            .official_number
            .as_deref()
            .map(|n| format!("；正式编号：{}", escape(n)))
            .unwrap_or_default();
        format!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{title} {number}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
             <article class=\"document {code}\">\n{preview}\
             <p class=\"issuer\">{issuer}</p>\n<h1>{title}</h1>\n<p class=\"docno\">{number}</p>\n\
             {body}\n\
             <div class=\"signature\">\n<p>{issuer}（印章）</p>\n<p>{date}</p>\n</div>\n\
             <p class=\"caseref\">案件编号：{case_number}{official}</p>\n\
             </article>\n</body>\n</html>\n",
            code = escape(req.kind.code()),
            date = chinese_date(req.date),
            case_number = escape(&req.case.number),
        )
    }
}

/// A4 with 2.5 cm margins, in the 仿宋/宋体 of government documents (GB/T 9704), falling back
/// to the Noto CJK faces a Linux office has.
const STYLE: &str = r#"@page { size: A4; margin: 2.5cm }
html, body { margin: 0; padding: 0; background: #fff; color: #000 }
body { font-family: "仿宋_GB2312", "仿宋", FangSong, STFangsong, "宋体", SimSun, "Noto Serif CJK SC", serif; font-size: 16pt; line-height: 1.75 }
.document { max-width: 16cm; margin: 0 auto }
.issuer { text-align: center; font-size: 18pt; letter-spacing: 0.1em; margin: 0 }
h1 { font-family: "方正小标宋简体", "宋体", SimSun, "Noto Serif CJK SC", serif; font-size: 22pt; font-weight: normal; text-align: center; margin: 0.4em 0 0.2em }
h2 { font-family: "黑体", SimHei, "Noto Sans CJK SC", sans-serif; font-size: 16pt; font-weight: normal; margin: 0.5em 0 0 }
p { margin: 0; text-indent: 2em; text-align: justify }
.docno { text-align: center; text-indent: 0; margin-bottom: 1em }
.to { text-indent: 0 }
.signature { margin-top: 2em; text-align: right }
.signature p { text-indent: 0; text-align: right }
.caseref { margin-top: 2em; padding-top: 0.3em; border-top: 1px solid #000; font-size: 10.5pt; text-indent: 0 }
.missing { color: #555; border-bottom: 1px dashed #555 }
.preview { border: 1px dashed #c00; color: #c00; font-size: 12pt; text-align: center; text-indent: 0; margin-bottom: 0.5em }
@media screen { body { padding: 1cm } }
"#;

#[cfg(test)]
mod tests;
