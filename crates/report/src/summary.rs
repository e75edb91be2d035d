//! The summary paragraph of the annual report (the seed's first paragraphs), generated from the
//! statistics so every figure in it is computed and every breakdown sums to the total.
//!
//! Sources are grouped as the seed groups them: 省、市信访局交办 (provincial + city petition
//! bureaus), 县级部门交办, 12336违法举报和网络舆情, 市国土局交办, 本局信访接收 with its letters
//! and visits; anything else as 其他来源, only when there is some.

use chrono::Datelike;
use ledger_domain::work::{Occasion, WorkTotals};
use ledger_domain::{Category, Channel, Period, Sector, Source, Statistics};

use crate::table::{Figure, ReportTables};

/// The seed's source groups: a heading and the sources it adds up.
const SOURCE_GROUPS: [(&str, &[Source]); 4] = [
    ("省、市信访局交办", &[Source::ProvincialBureau, Source::CityBureau]),
    ("县级部门交办", &[Source::CountyDepartment]),
    ("12336违法举报和网络舆情", &[Source::Report12336, Source::OnlineOpinion]),
    ("市国土局交办", &[Source::CityLandBureau]),
];

/// How the seed words each category in its list (反映非法转让土地5件,举报违法占地建设107件 ...).
fn category_phrase(label: &str) -> String {
    match Category::parse(label) {
        Some(Category::IllegalTransfer) => "反映非法转让土地".to_owned(),
        Some(Category::IllegalOccupation) => "举报违法占地建设".to_owned(),
        Some(Category::EnquiryCertificate) => "咨询及要求办证".to_owned(),
        Some(Category::MiningRight) => "涉采矿权信访".to_owned(),
        Some(Category::Dispute) => "纠纷调处类".to_owned(),
        Some(Category::Other) => "其它问题".to_owned(),
        Some(Category::Unknown(_)) | None => label.to_owned(),
        Some(_) => format!("举报{label}"),
    }
}

/// 100% for whole percentages, else one decimal (98.5%). Digits and % stay half-width.
fn percent(value: f64) -> String {
    let p = value * 100.0;
    if (p - p.round()).abs() < 0.05 { format!("{:.0}%", p.round()) } else { format!("{p:.1}%") }
}

/// 全年, 3月份, or 2017年3月1日至2017年6月30日.
fn period_words(period: &Period) -> String {
    let whole_year = Period::year(period.from.year()).is_some_and(|y| y == *period);
    let whole_month =
        Period::month(period.from.year(), period.from.month()).is_some_and(|m| m == *period);
    if whole_year {
        "全年".to_owned()
    } else if whole_month {
        format!("{}月份", period.from.month())
    } else {
        format!("{}至{}", chinese_date(period.from), chinese_date(period.to))
    }
}

/// 2017年3月1日.
pub(crate) fn chinese_date(d: chrono::NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn count(stats: &Statistics, source: &Source) -> u64 {
    stats.by_source.get(source.label()).copied().unwrap_or(0)
}

/// The paragraph for `stats`, in the style of the seed's first paragraph: the total with its
/// domain split, the sources as the seed groups them, the categories, and the rates with what
/// they are made of, in full-width punctuation. Figures that are zero are left out, and so is
/// every rate with nothing to judge. With `previous` (the same period a year earlier) a
/// sentence on what rose and fell follows, as the seed's third paragraph says it, or 上年无数据
/// when that year has no petitions.
pub fn summary_paragraph(stats: &Statistics, previous: Option<&Statistics>) -> String {
    let scope = stats.township.clone().unwrap_or_default();
    let when = period_words(&stats.period);
    if stats.is_empty() {
        return format!("{scope}{when}未受理信访件。");
    }
    let mut out = String::new();

    // 全年共受理各类信访137件（涉土132件，涉矿3件，其它2件）。 Each submission counts in exactly
    // one domain, so the split sums to the total.
    let mut domains: Vec<String> = Sector::KNOWN
        .iter()
        .map(|s| (s.label(), stats.by_domain.get(s.label()).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .map(|(label, n)| format!("{label}{n}件"))
        .collect();
    for (label, n) in &stats.by_domain {
        if *n > 0 && Sector::parse(label).is_none_or(|s| !s.is_known()) {
            domains.push(format!("{label}{n}件"));
        }
    }
    out.push_str(&format!(
        "{scope}{when}共受理各类信访{}件（{}）。",
        stats.total,
        domains.join("，")
    ));

    // 信访件按来源分为……
    let mut parts: Vec<String> = Vec::new();
    let mut grouped: Vec<&str> = vec![Source::Direct.label()];
    for (heading, sources) in SOURCE_GROUPS {
        let n: u64 = sources.iter().map(|s| count(stats, s)).sum();
        grouped.extend(sources.iter().map(Source::label));
        if n > 0 {
            parts.push(format!("{heading}{n}件"));
        }
    }
    let direct = count(stats, &Source::Direct);
    if direct > 0 {
        parts.push(format!("本局信访接收{direct}件次（{}）", direct_channels(stats)));
    }
    let others: u64 = stats
        .by_source
        .iter()
        .filter(|(label, _)| !grouped.contains(&label.as_str()))
        .map(|(_, n)| n)
        .sum();
    if others > 0 {
        parts.push(format!("其他来源{others}件"));
    }
    out.push_str(&format!("信访件按来源分为{}。", parts.join("，")));
    let all_visits = stats.by_channel.get(Channel::Visit.label()).copied().unwrap_or(0);
    if all_visits > direct_visits(stats) {
        out.push_str(&format!(
            "全部来访共{}批{}人次。",
            stats.visits.batches, stats.visits.persons
        ));
    }

    // 其中反映非法转让土地5件，举报违法占地建设107件，……
    let categories: Vec<String> = stats
        .by_category
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| format!("{}{n}件", category_phrase(label)))
        .collect();
    out.push_str(&format!("其中{}。", categories.join("，")));

    out.push_str(&reply_sentence(stats));
    out.push_str(&rates_sentence(stats));
    match previous {
        Some(before) if before.is_empty() => out.push_str("上年无数据，不作同比。"),
        Some(before) => out.push_str(&comparison_sentence(stats, before)),
        None => {}
    }
    out
}

fn direct_visits(stats: &Statistics) -> u64 {
    stats
        .by_source_channel
        .get(Source::Direct.label())
        .and_then(|c| c.get(Channel::Visit.label()))
        .copied()
        .unwrap_or(0)
}

/// 来信3件，来访50批116人次: the direct submissions by channel. Visit batches and persons are
/// only counted county-wide, so they are given here only when every visit came in directly.
fn direct_channels(stats: &Statistics) -> String {
    let Some(channels) = stats.by_source_channel.get(Source::Direct.label()) else {
        return String::new();
    };
    let all_visits = stats.by_channel.get(Channel::Visit.label()).copied().unwrap_or(0);
    channels
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| {
            if label == Channel::Visit.label() && *n == all_visits {
                if stats.visits.batches == *n {
                    format!("来访{n}批{}人次", stats.visits.persons)
                } else {
                    format!("来访{n}件{}批{}人次", stats.visits.batches, stats.visits.persons)
                }
            } else {
                format!("{label}{n}件")
            }
        })
        .collect::<Vec<_>>()
        .join("，")
}

/// 全年受理的信访事项除9件正在办理外，其余均已答复，回复率100%（已答复128件，应答复128件）。
///
/// 正在办理 is 回复率's pending figure: matters in handling, unanswered and still within their
/// 办理期限 (the seed's 除正在调查中的).
fn reply_sentence(stats: &Statistics) -> String {
    let Some(reply) = stats.rates.get("回复率") else { return String::new() };
    let when = period_words(&stats.period);
    let pending = reply.pending;
    let overdue = reply.denominator.saturating_sub(reply.numerator);
    let Some(value) = reply.value else {
        return if pending > 0 {
            format!("{when}受理的信访事项{pending}件均正在办理，尚未到答复期限。")
        } else {
            String::new()
        };
    };
    let state = match (pending > 0, overdue > 0) {
        (true, false) => format!("除{pending}件正在办理外，其余均已答复"),
        (false, false) => "均已答复".to_owned(),
        (true, true) => format!("除{pending}件正在办理外，另有{overdue}件超期未答复"),
        (false, true) => format!("有{overdue}件超期未答复"),
    };
    format!(
        "{when}受理的信访事项{state}，回复率{}（已答复{}件，应答复{}件）。",
        percent(value),
        reply.numerator,
        reply.denominator
    )
}

/// 按期办结率100%（128/128），办结率100%（128/128），……。 Only rates with something to judge:
/// a rate whose denominator is 0 is left out, and 参评率 and 满意率 are left out when nobody
/// rated (a 参评率 of 0% says the ratings are not collected, not that petitioners declined).
fn rates_sentence(stats: &Statistics) -> String {
    let nobody_rated = stats.rates.get("参评率").is_none_or(|r| r.numerator == 0);
    let parts: Vec<String> = stats
        .rates
        .iter()
        .filter(|(name, _)| name.as_str() != "回复率")
        .filter(|(name, _)| !(nobody_rated && matches!(name.as_str(), "参评率" | "满意率")))
        .filter_map(|(name, r)| {
            let value = r.value.filter(|_| r.denominator > 0)?;
            let unknown = if r.unknown > 0 {
                format!("，另有{}件无告知日期未计入", r.unknown)
            } else {
                String::new()
            };
            Some(format!("{name}{}（{}/{}{unknown}）", percent(value), r.numerator, r.denominator))
        })
        .collect();
    if parts.is_empty() { String::new() } else { format!("{}。", parts.join("，")) }
}

/// 减少6件次（下降75%） / 增加2件次 / 持平: a figure's change in the paragraph's words.
fn moved(f: &Figure) -> String {
    let ratio = |r: Option<f64>| {
        r.map(|r| format!("（{}{}）", if r < 0.0 { "下降" } else { "上升" }, percent(r.abs())))
    };
    match f.change {
        Some(c) if c > 0 => format!("增加{c}件次{}", ratio(f.change_ratio).unwrap_or_default()),
        Some(c) if c < 0 => format!("减少{}件次{}", -c, ratio(f.change_ratio).unwrap_or_default()),
        _ => "持平".to_owned(),
    }
}

/// 与上年同期相比，信访总量120件次，减少17件次（下降12.4%）；集体访……；办结率95%，提高3.2个
/// 百分点。 A figure that is zero in both years is left out; a rate only where both years had
/// something to judge.
fn comparison_sentence(stats: &Statistics, before: &Statistics) -> String {
    let tables = ReportTables::new(stats, Some(before));
    let mut parts: Vec<String> = Vec::new();
    for (section, label) in [
        ("总量", "信访总量"),
        ("重点信访", "越级访"),
        ("重点信访", "重复访"),
        ("重点信访", "集体访"),
    ] {
        let Some(f) = tables.figure(section, label) else { continue };
        if f.current > 0 || f.previous.is_some_and(|p| p > 0) {
            parts.push(format!("{label}{}件次，{}", f.current, moved(f)));
        }
    }
    for name in ["办结率", "停访息诉率", "满意率"] {
        let Some(r) = tables.rates.iter().find(|r| r.name == name) else { continue };
        let (Some(now), Some(points)) = (r.current.value, r.change_points) else { continue };
        let moved = if points > 0.0 {
            format!("提高{points:.1}个百分点")
        } else if points < 0.0 {
            format!("下降{:.1}个百分点", -points)
        } else {
            "持平".to_owned()
        };
        parts.push(format!("{name}{}，{moved}", percent(now)));
    }
    format!("与上年同期相比，{}。", parts.join("；"))
}

/// 政策咨询与宣传: the sentences the seed gives its consultations and outreach, from the
/// period's work records: 政策咨询解答81次; per occasion, in the vocabulary's order, what was
/// handed out and held (在“4.22地球日”宣传活动期间，共发放……); the trainings held. Empty when
/// the period recorded none of it.
pub fn work_paragraph(totals: &WorkTotals, period: &Period) -> String {
    let mut out = String::new();
    let when = period_words(period);
    if totals.consults > 0 {
        out.push_str(&format!("{when}政策咨询解答{}次。", totals.consults));
    }
    let mut occasions: Vec<&str> =
        Occasion::KNOWN.iter().filter(|o| **o != Occasion::Training).map(Occasion::label).collect();
    occasions.extend(
        totals
            .by_occasion
            .keys()
            .map(String::as_str)
            .filter(|k| Occasion::parse(k).is_none() && *k != Occasion::Training.label()),
    );
    for label in occasions {
        let Some(o) = totals.by_occasion.get(label) else { continue };
        let figures: Vec<String> = [
            ("发放国土资源法律法规宣传单", o.leaflets, "张"),
            ("张贴宣传标语", o.slogans, "条"),
            ("召开群众会", o.mass_meetings, "次"),
            ("座谈会", o.forums, "次"),
        ]
        .iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(what, n, unit)| format!("{what}{n}{unit}"))
        .collect();
        if figures.is_empty() {
            out.push_str(&format!("开展“{label}”宣传活动{}次。", o.events));
        } else {
            out.push_str(&format!("在“{label}”宣传活动期间，共{}。", figures.join("，")));
        }
    }
    if totals.reception_days > 0 {
        out.push_str(&format!(
            "举行领导接待日{}次，接待来访{}批，当场解决{}批。",
            totals.reception_days, totals.reception_visits, totals.reception_on_spot
        ));
    }
    if totals.leader_cases > 0 {
        let rate = totals.settlement_rate();
        out.push_str(&format!(
            "领导包案包片{}件，已化解{}件，化解率{}。",
            totals.leader_cases,
            totals.leader_settled,
            rate.value.map_or_else(|| "—".to_owned(), percent)
        ));
    }
    if totals.screening_lists > 0 || totals.disputes > 0 {
        out.push_str(&format!(
            "开展矛盾纠纷排查，报送排查表{}份，排查矛盾纠纷{}件（其中高风险{}件），已化解{}件。",
            totals.screening_lists,
            totals.disputes,
            totals.disputes_high_risk,
            totals.disputes_settled
        ));
    }
    if totals.duties > 0 {
        out.push_str(&format!("安排信访值班{}人次。", totals.duties));
    }
    if totals.trainings > 0 {
        out.push_str(&format!("举办信访业务培训{}期", totals.trainings));
        let attendees =
            totals.by_occasion.get(Occasion::Training.label()).map_or(0, |o| o.attendees);
        if attendees > 0 {
            out.push_str(&format!("，参加{attendees}人次"));
        }
        out.push('。');
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use ledger_domain::Rate;
    use ledger_domain::fixtures::{TOWNSHIPS, seed_2017};
    use ledger_domain::stats::{StatsQuery, statistics};
    use ledger_domain::workflow::replay;
    use ledger_domain::{CaseFacts, PolicyTable, WorkCalendar};

    use super::*;

    fn stats(period: Period, township: Option<&str>) -> Statistics {
        let (p, c) = (PolicyTable::default(), WorkCalendar::china());
        let facts: Vec<_> =
            seed_2017().iter().map(|k| CaseFacts::project(k, &replay(&k.events), &p, &c)).collect();
        let query = StatsQuery {
            period,
            township,
            as_of: period.to.min(NaiveDate::from_ymd_opt(2017, 12, 31).unwrap()),
            settled_window_days: 90,
        };
        statistics(&facts, &query)
    }

    fn year_2017() -> Statistics {
        stats(Period::year(2017).unwrap(), None)
    }

    /// The seed year, written out by hand from the fixture's rules (`ledger_domain::fixtures`):
    /// matters received on day 3 + n·357/137 of 2017, assigned 3 days later, replied after 30
    /// and closed after 31, except the 9 received in December (n = 128..136), still being
    /// handled at year end; every third (n = 0, 3, …) rated 35 days after receipt. So 回复率,
    /// 按期办结率 and 办结率 are 128 of 128 with 9 pending; 42 ratings were in by 12-31 (n = 126
    /// rated on 2018-01-01), and 77 unrated matters were past their 30 days (replied by 10-31,
    /// n ≤ 115, less the 39 rated ones), so 参评率 42/119; 停访息诉率 judges only the 93 matters
    /// closed by 10-02 (n ≤ 92), whose 90 days have run; every 受理 decision is imported without a
    /// 受理告知书 date, so 及时受理率 has nothing to judge and is left out.
    const SEED_2017: &str = "全年共受理各类信访137件（涉土132件，涉矿3件，其它2件）。\
        信访件按来源分为省、市信访局交办28件，县级部门交办15件，12336违法举报和网络舆情36件，\
        市国土局交办5件，本局信访接收53件次（来信3件，来访50批116人次）。\
        其中反映非法转让土地5件，举报违法占地建设107件，咨询及要求办证15件，涉采矿权信访3件，\
        纠纷调处类6件，其它问题1件。\
        全年受理的信访事项除9件正在办理外，其余均已答复，回复率100%（已答复128件，应答复128件）。\
        按期办结率100%（128/128），办结率100%（128/128），参评率35.3%（42/119），\
        满意率100%（42/42），停访息诉率100%（93/93），重复信访率0%（0/137）。";

    #[test]
    fn the_seed_year_paragraph_word_for_word() {
        assert_eq!(summary_paragraph(&year_2017(), None), SEED_2017);
    }

    #[test]
    fn against_a_year_with_no_data_it_says_so() {
        let empty = stats(Period::year(2016).unwrap(), None);
        let text = summary_paragraph(&year_2017(), Some(&empty));
        assert_eq!(text, format!("{SEED_2017}上年无数据，不作同比。"));
    }

    /// A small year, built by hand: 6 matters, all answered, nobody asked to rate, no 停访息诉
    /// window run yet.
    fn small_year() -> Statistics {
        let query = StatsQuery {
            period: Period::year(2024).unwrap(),
            township: None,
            as_of: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
            settled_window_days: 90,
        };
        let mut s = statistics(&[], &query);
        s.total = 6;
        s.cases = 6;
        s.by_source["县级部门交办"] = 2;
        s.by_source["本局接收"] = 4;
        s.by_channel["来信"] = 3;
        s.by_channel["来访"] = 3;
        s.by_source_channel.insert("县级部门交办".into(), [("来信".to_owned(), 2)].into());
        s.by_source_channel
            .insert("本局接收".into(), [("来信".to_owned(), 1), ("来访".to_owned(), 3)].into());
        s.by_domain["涉土"] = 6;
        s.by_category["违法占地建设"] = 4;
        s.by_category["纠纷调处"] = 2;
        s.visits.batches = 3;
        s.visits.persons = 7;
        for (name, rate) in [
            ("及时受理率", Rate::of(6, 6)),
            ("按期办结率", Rate::of(5, 6)),
            ("回复率", Rate::of(6, 6)),
            ("办结率", Rate::of(6, 6)),
            ("参评率", Rate::of(0, 4)),
            ("满意率", Rate::of(0, 0)),
            ("停访息诉率", Rate { pending: 6, ..Rate::of(0, 0) }),
            ("重复信访率", Rate::of(0, 6)),
        ] {
            s.rates[name] = rate;
        }
        s
    }

    #[test]
    fn a_year_with_nothing_pending_says_all_were_answered() {
        assert_eq!(
            summary_paragraph(&small_year(), None),
            "全年共受理各类信访6件（涉土6件）。\
             信访件按来源分为县级部门交办2件，本局信访接收4件次（来信1件，来访3批7人次）。\
             其中举报违法占地建设4件，纠纷调处类2件。\
             全年受理的信访事项均已答复，回复率100%（已答复6件，应答复6件）。\
             及时受理率100%（6/6），按期办结率83.3%（5/6），办结率100%（6/6），重复信访率0%（0/6）。"
        );
    }

    #[test]
    fn overdue_replies_are_said_beside_the_pending_ones() {
        let mut s = small_year();
        s.rates["回复率"] = Rate { pending: 2, ..Rate::of(4, 6) };
        let text = summary_paragraph(&s, None);
        assert!(
            text.contains(
                "全年受理的信访事项除2件正在办理外，另有2件超期未答复，回复率66.7%（已答复4件，应答复6件）。"
            ),
            "{text}"
        );
        s.rates["回复率"] = Rate::of(4, 6);
        let text = summary_paragraph(&s, None);
        assert!(
            text.contains(
                "全年受理的信访事项有2件超期未答复，回复率66.7%（已答复4件，应答复6件）。"
            ),
            "{text}"
        );
        s.rates["回复率"] = Rate { pending: 6, ..Rate::of(0, 0) };
        s.rates["及时受理率"] = Rate { unknown: 3, ..Rate::of(2, 3) };
        let text = summary_paragraph(&s, None);
        assert!(text.contains("全年受理的信访事项6件均正在办理，尚未到答复期限。"), "{text}");
        assert!(text.contains("及时受理率66.7%（2/3，另有3件无告知日期未计入）"), "{text}");
    }

    /// Every number the paragraph states is the figure the tables show for the same thing:
    /// each number is read with the words before and after it and looked up in
    /// [`ReportTables`]; a number the test cannot place fails it.
    #[test]
    fn every_number_in_the_paragraph_is_a_table_figure() {
        let mut checked = 0;
        for township in [None, Some("黄桥镇"), Some("罗溪瑶族乡")] {
            for period in [Period::year(2017).unwrap(), Period::month(2017, 3).unwrap()] {
                let s = stats(period, township);
                let text = summary_paragraph(&s, None);
                checked += check_numbers(&text, &s);
            }
        }
        checked += check_numbers(&summary_paragraph(&small_year(), None), &small_year());
        assert!(checked > 100, "{checked}");
    }

    /// One number of the paragraph: the words just before it (back to a punctuation mark), the
    /// number, and the words just after it.
    struct Stated {
        before: String,
        number: f64,
        after: String,
    }

    fn stated_numbers(text: &str) -> Vec<Stated> {
        // A name, not a figure.
        let text = text.replace("12336", HOTLINE);
        let breaks = |c: char| "，。（）；：/".contains(c) || c.is_ascii_digit();
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if !chars[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let mut from = start;
            while from > 0 && !breaks(chars[from - 1]) {
                from -= 1;
            }
            let mut to = i;
            while to < chars.len() && !breaks(chars[to]) {
                to += 1;
            }
            out.push(Stated {
                before: chars[from..start].iter().collect(),
                number: chars[start..i].iter().collect::<String>().parse().unwrap(),
                after: chars[i..to].iter().collect(),
            });
        }
        out
    }

    /// Checks every number of `text` against the tables of `stats`; returns how many.
    fn check_numbers(text: &str, stats: &Statistics) -> usize {
        let tables = ReportTables::new(stats, None);
        let figure = |section: &str, label: &str| {
            tables.figure(section, label).map_or(0, |f| f.current) as f64
        };
        let rate = |name: &str| tables.rates.iter().find(|r| r.name == name).unwrap().current;
        let reply = rate("回复率");
        // The numbers still owed by the last rate read: its numerator, then its denominator.
        let mut owed: Vec<f64> = Vec::new();
        let mut last_rate: Option<Rate> = None;
        let numbers = stated_numbers(text);
        for n in &numbers {
            let (before, after) = (n.before.as_str(), n.after.as_str());
            let expected = if after == "%" {
                let name = RATE_NAMES_IN_TEXT
                    .iter()
                    .find(|name| before.ends_with(*name))
                    .unwrap_or_else(|| panic!("no rate before {}% in {text}", n.number));
                let r = rate(name);
                last_rate = Some(r);
                if *name != "回复率" {
                    owed = vec![r.denominator as f64, r.numerator as f64];
                }
                let value = r.value.unwrap() * 100.0;
                assert!((n.number - value).abs() < 0.05 + 1e-9, "{name}: {} vs {value}", n.number);
                continue;
            } else if after.starts_with("月份") {
                let scope = stats.township.as_deref().unwrap_or_default();
                assert!(before.is_empty() || before == scope, "{text}");
                f64::from(stats.period.from.month())
            } else if before.is_empty() && after.is_empty() {
                owed.pop().unwrap_or_else(|| panic!("unplaced {} in {text}", n.number))
            } else if before.ends_with("共受理各类信访") && after == "件" {
                figure("总量", "信访总量")
            } else if after == "件正在办理外" || after == "件均正在办理" {
                reply.pending as f64
            } else if after == "件超期未答复" {
                (reply.denominator - reply.numerator) as f64
            } else if before == "已答复" {
                reply.numerator as f64
            } else if before == "应答复" {
                reply.denominator as f64
            } else if before == "另有" && after == "件无告知日期未计入" {
                last_rate.unwrap().unknown as f64
            } else if before == "本局信访接收" && after == "件次" {
                figure("按来源", Source::Direct.label())
            } else if before == "来信" && after == "件" {
                stats.by_source_channel[Source::Direct.label()][Channel::Letter.label()] as f64
            } else if before == "来访" {
                if after == "批" {
                    figure("来访", "来访批次")
                } else {
                    stats.by_source_channel[Source::Direct.label()][Channel::Visit.label()] as f64
                }
            } else if before == "批" && after == "人次" {
                figure("来访", "来访人次")
            } else if let Some((_, sources)) =
                SOURCE_GROUPS.iter().find(|(h, _)| before.ends_with(&h.replace("12336", HOTLINE)))
            {
                sources.iter().map(|s| figure("按来源", s.label())).sum()
            } else if Sector::KNOWN.iter().any(|s| s.label() == before) && after == "件" {
                figure("按涉及领域", before)
            } else if let Some(label) =
                stats.by_category.keys().find(|label| before.ends_with(&category_phrase(label)))
            {
                figure("按问题类别", label)
            } else {
                panic!("unplaced 「{before}」{}「{after}」 in {text}", n.number);
            };
            assert_eq!(n.number, expected, "「{before}」{}「{after}」 in {text}", n.number);
        }
        assert!(owed.is_empty(), "{text}");
        numbers.len()
    }

    /// Stands in for the hotline's number while numbers are read.
    const HOTLINE: &str = "〇";

    /// The rates as the paragraph names them, longest first where one ends another.
    const RATE_NAMES_IN_TEXT: [&str; 8] = [
        "按期办结率",
        "及时受理率",
        "停访息诉率",
        "重复信访率",
        "回复率",
        "办结率",
        "参评率",
        "满意率",
    ];

    #[test]
    fn the_punctuation_is_full_width_and_no_zero_is_listed() {
        let mut periods = vec![Period::year(2017).unwrap()];
        periods.extend((1..=12).filter_map(|m| Period::month(2017, m)));
        for township in std::iter::once(None).chain(TOWNSHIPS.iter().copied().map(Some)) {
            for period in &periods {
                let text = summary_paragraph(&stats(*period, township), None);
                assert!(!text.contains([',', ';', ':', '(', ')']), "{text}");
                let zero = stated_numbers(&text)
                    .into_iter()
                    .find(|n| n.number == 0.0 && !n.before.ends_with("率") && !n.before.is_empty());
                assert!(zero.is_none(), "a zero count in {text}");
                assert!(!text.contains("参评率0%"), "{text}");
            }
        }
    }

    /// Every number the paragraph states adds up: domains and sources to the total.
    #[test]
    fn every_sum_is_consistent() {
        for township in [None, Some("黄桥镇"), Some("罗溪瑶族乡")] {
            for period in [Period::year(2017).unwrap(), Period::month(2017, 3).unwrap()] {
                let s = stats(period, township);
                if s.total == 0 {
                    continue;
                }
                let text = summary_paragraph(&s, None);
                let (head, rest) = text.split_once("）。").unwrap();
                let total: u64 = head
                    .split("各类信访")
                    .nth(1)
                    .and_then(|t| t.split('件').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap();
                assert_eq!(total, s.total);
                let domain_sum: u64 = numbers_before_jian(head.split_once('（').unwrap().1);
                assert_eq!(domain_sum, total, "{text}");
                let sources =
                    rest.split_once("信访件按来源分为").unwrap().1.split_once('。').unwrap().0;
                let without_detail: String = strip_parens(sources);
                assert_eq!(numbers_before_jian(&without_detail), total, "{text}");
                let categories = text.split_once("其中").unwrap().1.split_once('。').unwrap().0;
                assert_eq!(numbers_before_jian(categories), total, "{text}");
            }
        }
    }

    /// Sums every number written just before 件 (件次 too).
    fn numbers_before_jian(text: &str) -> u64 {
        let mut sum = 0;
        let mut digits = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            if c == '件' && !digits.is_empty() {
                sum += digits.parse::<u64>().unwrap();
            }
            digits.clear();
        }
        sum
    }

    fn strip_parens(text: &str) -> String {
        let mut depth = 0;
        text.chars()
            .filter(|c| {
                match c {
                    '（' => depth += 1,
                    '）' => {
                        depth -= 1;
                        return false;
                    }
                    _ => {}
                }
                depth == 0
            })
            .collect()
    }

    #[test]
    fn other_sources_and_referred_visits_are_grouped_apart() {
        let mut s = year_2017();
        *s.by_source.get_mut("本局接收").unwrap() -= 2;
        *s.by_source.get_mut("12345热线").unwrap() += 1;
        *s.by_source.get_mut("领导批示").unwrap() += 1;
        s.by_source_channel.get_mut("本局接收").unwrap()["来访"] -= 2;
        let text = summary_paragraph(&s, None);
        assert!(text.contains("其他来源2件"), "{text}");
        assert!(text.contains("本局信访接收51件次（来信3件，来访48件）"), "{text}");
        assert!(text.contains("全部来访共50批116人次"), "{text}");
    }

    #[test]
    fn a_month_a_township_and_an_empty_period() {
        let march =
            summary_paragraph(&stats(Period::month(2017, 3).unwrap(), Some("黄桥镇")), None);
        assert!(march.starts_with("黄桥镇3月份共受理各类信访"), "{march}");
        assert!(!march.contains("涉矿0件"), "{march}");
        let empty = summary_paragraph(&stats(Period::year(2016).unwrap(), None), None);
        assert_eq!(empty, "全年未受理信访件。");
        let odd = Period {
            from: NaiveDate::from_ymd_opt(2017, 3, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2017, 6, 30).unwrap(),
        };
        assert!(
            summary_paragraph(&stats(odd, None), None)
                .starts_with("2017年3月1日至2017年6月30日共受理")
        );
    }

    #[test]
    fn with_last_year_the_paragraph_says_what_fell_and_by_how_much() {
        let mut before = year_2017();
        before.flags.skip_level = 6;
        before.flags.repeat = 10;
        let now = year_2017();
        let text = summary_paragraph(&now, Some(&before));
        assert!(
            text.ends_with(
                "与上年同期相比，信访总量137件次，持平；越级访0件次，减少6件次（下降100%）；\
                 重复访0件次，减少10件次（下降100%）；办结率100%，持平；停访息诉率100%，持平；\
                 满意率100%，持平。"
            ),
            "{text}"
        );
        assert!(!text.contains("集体访"), "zero in both years: {text}");
    }

    #[test]
    fn the_work_paragraph_says_what_the_seed_says_of_consultations_and_outreach() {
        use ledger_domain::work::{OccasionTotals, WorkTotals};
        let year = Period::year(2017).unwrap();
        assert_eq!(work_paragraph(&WorkTotals::default(), &year), "");
        let mut totals = WorkTotals { consults: 81, trainings: 1, ..WorkTotals::default() };
        totals.by_occasion.insert(
            "4.22地球日".into(),
            OccasionTotals {
                events: 3,
                leaflets: 16000,
                slogans: 1600,
                mass_meetings: 5,
                forums: 15,
                ..OccasionTotals::default()
            },
        );
        totals
            .by_occasion
            .insert("6.25土地日".into(), OccasionTotals { events: 2, ..OccasionTotals::default() });
        totals.leader_cases = 7;
        totals.leader_settled = 6;
        totals.by_occasion.insert(
            "信访业务培训".into(),
            OccasionTotals { events: 1, trainings: 1, attendees: 60, ..OccasionTotals::default() },
        );
        assert_eq!(
            work_paragraph(&totals, &year),
            "全年政策咨询解答81次。在“4.22地球日”宣传活动期间，共发放国土资源法律法规宣传单16000张，\
             张贴宣传标语1600条，召开群众会5次，座谈会15次。开展“6.25土地日”宣传活动2次。\
             领导包案包片7件，已化解6件，化解率85.7%。举办信访业务培训1期，参加60人次。"
        );
        // The months' screening lists and the duty roster, when kept.
        let kept = WorkTotals {
            screening_lists: 12,
            disputes: 9,
            disputes_high_risk: 2,
            disputes_settled: 7,
            duties: 365,
            ..WorkTotals::default()
        };
        assert_eq!(
            work_paragraph(&kept, &year),
            "开展矛盾纠纷排查，报送排查表12份，排查矛盾纠纷9件（其中高风险2件），已化解7件。\
             安排信访值班365人次。"
        );
    }
}
