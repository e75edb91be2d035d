//! The summary paragraph of the annual report (the seed's first paragraphs), generated from the
//! statistics so every figure in it is computed and every breakdown sums to the total.
//!
//! Sources are grouped as the seed groups them: 省、市信访局交办 (provincial + city petition
//! bureaus), 县级部门交办, 12336违法举报和网络舆情, 市国土局交办, 本局信访接收 with its letters
//! and visits; anything else as 其他来源, only when there is some.

use chrono::Datelike;
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

/// 100% for whole percentages, else one decimal (98.5%).
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
/// they are made of. With `previous` (the same period a year earlier, if it had any petitions)
/// a sentence on what rose and fell follows, as the seed's third paragraph says it.
pub fn summary_paragraph(stats: &Statistics, previous: Option<&Statistics>) -> String {
    let scope = stats.township.clone().unwrap_or_default();
    let when = period_words(&stats.period);
    if stats.total == 0 {
        return format!("{scope}{when}未受理信访件。");
    }
    let mut out = String::new();

    // 全年共受理各类信访137件(涉土132件,涉矿3件,其它2件)。 Each submission counts in exactly one
    // domain, so the split sums to the total.
    let mut domains: Vec<String> = Sector::KNOWN
        .iter()
        .map(|s| format!("{}{}件", s.label(), stats.by_domain.get(s.label()).copied().unwrap_or(0)))
        .collect();
    for (label, n) in &stats.by_domain {
        if *n > 0 && Sector::parse(label).is_none_or(|s| !s.is_known()) {
            domains.push(format!("{label}{n}件"));
        }
    }
    out.push_str(&format!("{scope}{when}共受理各类信访{}件({})。", stats.total, domains.join(",")));

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
        parts.push(format!("本局信访接收{direct}件次({})", direct_channels(stats)));
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
    out.push_str(&format!("信访件按来源分为{}。", parts.join(",")));
    let all_visits = stats.by_channel.get(Channel::Visit.label()).copied().unwrap_or(0);
    if all_visits > direct_visits(stats) {
        out.push_str(&format!(
            "全部来访共{}批{}人次。",
            stats.visits.batches, stats.visits.persons
        ));
    }

    // 其中反映非法转让土地5件,举报违法占地建设107件,……
    let categories: Vec<String> = stats
        .by_category
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| format!("{}{n}件", category_phrase(label)))
        .collect();
    out.push_str(&format!("其中{}。", categories.join(",")));

    out.push_str(&rates_sentence(stats));
    if let Some(before) = previous.filter(|p| p.total > 0) {
        out.push_str(&comparison_sentence(stats, before));
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

/// 来信3件,来访50批116人次: the direct submissions by channel. Visit batches and persons are
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
        .join(",")
}

/// 全年受理的信访事项除正在调查中的N件还未到答复期限外,其他都已答复,回复率100%(已答复a件,应答复b件)。
fn rates_sentence(stats: &Statistics) -> String {
    let mut out = String::new();
    let when = period_words(&stats.period);
    if let Some(reply) = stats.rates.get("回复率").filter(|r| r.value.is_some()) {
        // Accepted matters not yet answered and not yet due (办结率's base less 回复率's).
        let pending = stats
            .rates
            .get("办结率")
            .map(|r| r.denominator.saturating_sub(reply.denominator))
            .unwrap_or(0);
        out.push_str(&format!("{when}受理的信访事项"));
        if pending > 0 {
            out.push_str(&format!("除正在调查中的{pending}件还未到答复期限外,"));
        }
        let overdue = reply.denominator - reply.numerator.min(reply.denominator);
        if overdue == 0 {
            out.push_str("其他都已答复,");
        } else {
            out.push_str(&format!("超期未答复{overdue}件,"));
        }
        out.push_str(&format!(
            "回复率{}(已答复{}件,应答复{}件)。",
            percent(reply.value.unwrap_or(0.0)),
            reply.numerator,
            reply.denominator
        ));
    }
    let others: Vec<String> = stats
        .rates
        .iter()
        .filter(|(name, _)| name.as_str() != "回复率")
        .filter_map(|(name, r)| {
            r.value.map(|v| format!("{name}{}({}/{})", percent(v), r.numerator, r.denominator))
        })
        .collect();
    if !others.is_empty() {
        out.push_str(&others.join(","));
        out.push('。');
    }
    out
}

/// 减少6件次(下降75%) / 增加2件次 / 持平: a figure's change in the paragraph's words.
fn moved(f: &Figure) -> String {
    let ratio = |r: Option<f64>| {
        r.map(|r| format!("({}{})", if r < 0.0 { "下降" } else { "上升" }, percent(r.abs())))
    };
    match f.change {
        Some(c) if c > 0 => format!("增加{c}件次{}", ratio(f.change_ratio).unwrap_or_default()),
        Some(c) if c < 0 => format!("减少{}件次{}", -c, ratio(f.change_ratio).unwrap_or_default()),
        _ => "持平".to_owned(),
    }
}

/// 与上年同期相比,信访总量120件次,减少17件次(下降12.4%);集体访……;办结率提高3.2个百分点……。
fn comparison_sentence(stats: &Statistics, before: &Statistics) -> String {
    let tables = ReportTables::new(stats, Some(before));
    let mut parts: Vec<String> = Vec::new();
    for (section, label) in [
        ("总量", "信访总量"),
        ("重点信访", "越级访"),
        ("重点信访", "重复访"),
        ("重点信访", "集体访"),
    ] {
        if let Some(f) = tables.figure(section, label) {
            parts.push(format!("{label}{}件次,{}", f.current, moved(f)));
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
        parts.push(format!("{name}{},{moved}", percent(now)));
    }
    format!("与上年同期相比,{}。", parts.join(";"))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use ledger_domain::fixtures::seed_2017;
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

    #[test]
    fn the_seed_year_gives_the_seed_paragraph() {
        let text = summary_paragraph(&stats(Period::year(2017).unwrap(), None), None);
        for expected in [
            "全年共受理各类信访137件(涉土132件,涉矿3件,其它2件)。",
            "信访件按来源分为省、市信访局交办28件,县级部门交办15件,12336违法举报和网络舆情36件,市国土局交办5件,本局信访接收53件次(来信3件,来访50批116人次)。",
            "其中反映非法转让土地5件,举报违法占地建设107件,咨询及要求办证15件,涉采矿权信访3件,纠纷调处类6件,其它问题1件。",
            "其他都已答复,回复率100%",
        ] {
            assert!(text.contains(expected), "missing 「{expected}」 in\n{text}");
        }
        assert!(!text.contains("其他来源"), "{text}");
        assert!(!text.contains("与上年同期相比"), "{text}");
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
                let (head, rest) = text.split_once(")。").unwrap();
                let total: u64 = head
                    .split("各类信访")
                    .nth(1)
                    .and_then(|t| t.split('件').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap();
                assert_eq!(total, s.total);
                let domain_sum: u64 = numbers_before_jian(head.split_once('(').unwrap().1);
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
                    '(' => depth += 1,
                    ')' => {
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
        let mut s = stats(Period::year(2017).unwrap(), None);
        *s.by_source.get_mut("本局接收").unwrap() -= 2;
        *s.by_source.get_mut("12345热线").unwrap() += 1;
        *s.by_source.get_mut("领导批示").unwrap() += 1;
        s.by_source_channel.get_mut("本局接收").unwrap()["来访"] -= 2;
        let text = summary_paragraph(&s, None);
        assert!(text.contains("其他来源2件"), "{text}");
        assert!(text.contains("本局信访接收51件次(来信3件,来访48件)"), "{text}");
        assert!(text.contains("全部来访共50批116人次"), "{text}");
    }

    #[test]
    fn a_month_a_township_and_an_empty_period() {
        let march =
            summary_paragraph(&stats(Period::month(2017, 3).unwrap(), Some("黄桥镇")), None);
        assert!(march.starts_with("黄桥镇3月份共受理各类信访"), "{march}");
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
        let mut before = stats(Period::year(2017).unwrap(), None);
        before.flags.collective = 8;
        before.flags.skip_level = 6;
        before.flags.repeat = 10;
        let now = stats(Period::year(2017).unwrap(), None);
        let text = summary_paragraph(&now, Some(&before));
        assert!(text.contains("与上年同期相比,信访总量137件次,持平"), "{text}");
        assert!(text.contains("越级访0件次,减少6件次(下降100%)"), "{text}");
        assert!(text.contains("集体访0件次,减少8件次(下降100%)"), "{text}");
        assert!(text.contains("办结率"), "{text}");
    }
}
