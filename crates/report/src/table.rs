//! The statistics of a period as tables: every figure of `ledger report` beside the same
//! period a year earlier, with the change, and every rate with its numerator and denominator.
//! [`ReportTables`] is what the text table, the statistics workbook and the desktop's 统计
//! screen all show, so the three never disagree.

use std::fmt::Write;

use chrono::NaiveDate;
use indexmap::IndexMap;
use ledger_domain::text::display_width;
use ledger_domain::work::WorkTotals;
use ledger_domain::{Period, Rate, Statistics};
use serde::Serialize;

/// One counted figure, this period and the same period a year earlier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// What is counted (本局接收, 来访人次 ...).
    pub label: String,
    /// The unit it is counted in (件次, 批, 人次).
    pub unit: String,
    /// This period.
    pub current: u64,
    /// The same period a year earlier, when compared.
    pub previous: Option<u64>,
    /// current − previous.
    pub change: Option<i64>,
    /// (current − previous) ÷ previous, rounded to four places; `None` when there was nothing
    /// the year before to compare with.
    pub change_ratio: Option<f64>,
}

impl Figure {
    fn new(label: &str, unit: &str, current: u64, previous: Option<u64>) -> Self {
        let change = previous.map(|p| signed(current) - signed(p));
        let change_ratio =
            previous.filter(|p| *p > 0).zip(change).map(|(p, c)| round4(c as f64 / p as f64));
        Self {
            label: label.to_owned(),
            unit: unit.to_owned(),
            current,
            previous,
            change,
            change_ratio,
        }
    }
}

/// A group of figures under one heading (按来源, 按问题类别 ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// The heading.
    pub title: String,
    /// The figures, in report order; rows that are zero in both periods are left out, except
    /// in sections where a zero is itself news (总量, 来访, 重点信访).
    pub figures: Vec<Figure>,
}

/// One rate, this period and a year earlier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateFigure {
    /// The rate's name (回复率 ...).
    pub name: String,
    /// This period, with numerator and denominator.
    pub current: Rate,
    /// The same period a year earlier.
    pub previous: Option<Rate>,
    /// The change in percentage points, when both periods had something to judge.
    pub change_points: Option<f64>,
}

/// The statistics tables of a period, county-wide or for one township.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportTables {
    /// 全县, or the township's name.
    pub scope: String,
    /// The period counted.
    pub period: Period,
    /// The period compared with, if any.
    pub previous_period: Option<Period>,
    /// 上年无数据: the period compared with has no petitions at all, so there is no change to
    /// state; every figure's and rate's `previous` is then `None`.
    pub previous_empty: bool,
    /// The day rates are judged as of.
    pub as_of: NaiveDate,
    /// The counted figures, by section.
    pub sections: Vec<Section>,
    /// The rates, in the order the annual report names them.
    pub rates: Vec<RateFigure>,
    /// 宣传与咨询: the period's consultations and outreach from the work records (county-wide
    /// tables only; work records belong to offices, not townships).
    pub work: Option<WorkTotals>,
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// The labels of `current` in order, then any only `previous` has.
fn union_labels<'a>(
    current: &'a IndexMap<String, u64>,
    previous: Option<&'a IndexMap<String, u64>>,
) -> Vec<&'a str> {
    let mut labels: Vec<&str> = current.keys().map(String::as_str).collect();
    for label in previous.into_iter().flat_map(|p| p.keys()) {
        if !labels.contains(&label.as_str()) {
            labels.push(label);
        }
    }
    labels
}

fn breakdown(
    title: &str,
    unit: &str,
    current: &IndexMap<String, u64>,
    previous: Option<&IndexMap<String, u64>>,
) -> Section {
    let figures = union_labels(current, previous)
        .into_iter()
        .map(|label| {
            let now = current.get(label).copied().unwrap_or(0);
            let before = previous.map(|p| p.get(label).copied().unwrap_or(0));
            Figure::new(label, unit, now, before)
        })
        .filter(|f| f.current > 0 || f.previous.is_some_and(|p| p > 0))
        .collect();
    Section { title: title.to_owned(), figures }
}

impl ReportTables {
    /// The tables of `current`, compared with `previous` (usually the same period a year
    /// earlier) when given.
    pub fn new(current: &Statistics, previous: Option<&Statistics>) -> Self {
        let previous_empty = previous.is_some_and(Statistics::is_empty);
        // Against a year with no data every change would read as growth from nothing.
        let p = previous.filter(|s| !s.is_empty());
        let totals = Section {
            title: "总量".to_owned(),
            figures: vec![
                Figure::new("信访总量", "件次", current.total, p.map(|s| s.total)),
                Figure::new("信访事项", "件", current.cases, p.map(|s| s.cases)),
            ],
        };
        let visits = Section {
            title: "来访".to_owned(),
            figures: vec![
                Figure::new("来访批次", "批", current.visits.batches, p.map(|s| s.visits.batches)),
                Figure::new(
                    "来访人次",
                    "人次",
                    current.visits.persons,
                    p.map(|s| s.visits.persons),
                ),
            ],
        };
        let flags = Section {
            title: "重点信访".to_owned(),
            figures: vec![
                Figure::new(
                    "集体访",
                    "件次",
                    current.flags.collective,
                    p.map(|s| s.flags.collective),
                ),
                Figure::new(
                    "越级访",
                    "件次",
                    current.flags.skip_level,
                    p.map(|s| s.flags.skip_level),
                ),
                Figure::new("重复访", "件次", current.flags.repeat, p.map(|s| s.flags.repeat)),
            ],
        };
        let sections = vec![
            totals,
            breakdown("按来源", "件次", &current.by_source, p.map(|s| &s.by_source)),
            breakdown("按信访形式", "件次", &current.by_channel, p.map(|s| &s.by_channel)),
            breakdown("按涉及领域", "件次", &current.by_domain, p.map(|s| &s.by_domain)),
            breakdown("按问题类别", "件次", &current.by_category, p.map(|s| &s.by_category)),
            visits,
            flags,
        ];
        let rates = current
            .rates
            .iter()
            .map(|(name, rate)| {
                let before = p.and_then(|s| s.rates.get(name)).copied();
                let change_points = rate
                    .value
                    .zip(before.and_then(|b| b.value))
                    .map(|(now, then)| round4((now - then) * 100.0));
                RateFigure { name: name.clone(), current: *rate, previous: before, change_points }
            })
            .collect();
        Self {
            scope: current.township.clone().unwrap_or_else(|| "全县".to_owned()),
            period: current.period,
            previous_period: previous.map(|s| s.period),
            previous_empty,
            as_of: current.as_of,
            sections,
            rates,
            work: None,
        }
    }

    /// The tables with the period's work records added up.
    #[must_use]
    pub fn with_work(mut self, totals: WorkTotals) -> Self {
        self.work = Some(totals);
        self
    }

    /// The figure of a section by label, for callers that pick single figures.
    pub fn figure(&self, section: &str, label: &str) -> Option<&Figure> {
        self.sections
            .iter()
            .find(|s| s.title == section)
            .and_then(|s| s.figures.iter().find(|f| f.label == label))
    }

    /// The tables as readable text: every figure, its year-over-year change when compared, and
    /// every rate with its numerator and denominator.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let compared = self.previous_period.is_some();
        let _ = write!(
            out,
            "信访统计（{}，{} 至 {}，截至 {}",
            self.scope, self.period.from, self.period.to, self.as_of
        );
        if let Some(prev) = self.previous_period {
            let _ = write!(out, "；上年同期 {} 至 {}", prev.from, prev.to);
        }
        let _ = writeln!(out, "）");
        if let (Some(total), Some(cases)) =
            (self.figure("总量", "信访总量"), self.figure("总量", "信访事项"))
        {
            let _ = write!(out, "信访总量  {} 件次（{} 件事项）", total.current, cases.current);
            if self.previous_empty {
                let _ = write!(out, "，{NO_DATA}");
            } else if compared {
                let _ = write!(out, "，比上年同期{}", change_words(total));
            }
            let _ = writeln!(out);
        }
        if let (Some(batches), Some(persons)) =
            (self.figure("来访", "来访批次"), self.figure("来访", "来访人次"))
        {
            let _ = writeln!(out, "来访  {} 批 {} 人次", batches.current, persons.current);
        }
        for section in &self.sections {
            if section.title == "总量" {
                continue;
            }
            let _ = writeln!(out, "\n{}", section.title);
            if compared {
                let _ = writeln!(
                    out,
                    "  {}{}{}{}{}",
                    pad_right("项目", 14),
                    pad_left("本期", 6),
                    pad_left("上年同期", 10),
                    pad_left("增减", CHANGE_WIDTH),
                    pad_left("增减幅度", CHANGE_WIDTH)
                );
            }
            for f in &section.figures {
                let _ = write!(
                    out,
                    "  {}{}",
                    pad_right(&f.label, 14),
                    pad_left(&f.current.to_string(), 6)
                );
                if let Some(before) = f.previous {
                    let _ = write!(
                        out,
                        "{}{}{}",
                        pad_left(&before.to_string(), 10),
                        pad_left(&signed_text(f.change.unwrap_or(0)), CHANGE_WIDTH),
                        pad_left(&ratio_text(f.change_ratio), CHANGE_WIDTH)
                    );
                } else if self.previous_empty {
                    let _ = write!(
                        out,
                        "{}{}{}",
                        pad_left("—", 10),
                        pad_left(NO_DATA, CHANGE_WIDTH),
                        pad_left(NO_DATA, CHANGE_WIDTH)
                    );
                }
                let _ = writeln!(out);
            }
        }
        let _ = writeln!(out, "\n  {}{}   分子/分母", pad_right("指标", 12), pad_left("比率", 8));
        for r in &self.rates {
            let _ = write!(
                out,
                "  {}{}   {}/{}",
                pad_right(&r.name, 12),
                pad_left(&percent(r.current.value), 8),
                r.current.numerator,
                r.current.denominator
            );
            let aside = set_aside(&r.current);
            if !aside.is_empty() {
                let _ = write!(out, "（{aside}）");
            }
            if self.previous_empty {
                let _ = write!(out, "   {NO_DATA}");
            } else if let Some(before) = r.previous {
                let _ = write!(
                    out,
                    "   上年 {}（{}/{}）",
                    percent(before.value),
                    before.numerator,
                    before.denominator
                );
                if let Some(points) = r.change_points {
                    let _ = write!(out, "，{}", points_text(points));
                }
            }
            let _ = writeln!(out);
        }
        if let Some(w) = &self.work {
            let _ = writeln!(out, "\n宣传与咨询");
            for (label, n) in [
                ("政策咨询解答（次）", w.consults),
                ("宣传与培训活动（次）", w.outreach_events),
                ("发放宣传单（张）", w.leaflets),
                ("张贴标语（条）", w.slogans),
                ("召开群众会（次）", w.mass_meetings),
                ("召开座谈会（次）", w.forums),
                ("举办培训（期）", w.trainings),
                ("参加人数", w.attendees),
                ("领导接待日（次）", w.reception_days),
                ("接待来访（批）", w.reception_visits),
                ("其中当场解决（批）", w.reception_on_spot),
                ("领导包案包片（件）", w.leader_cases),
                ("其中已化解（件）", w.leader_settled),
            ] {
                let _ = writeln!(out, "  {}{}", pad_right(label, 20), pad_left(&n.to_string(), 8));
            }
            let _ = writeln!(out, "\n排查与值班");
            for (label, n) in [
                ("报送矛盾纠纷排查表（份）", w.screening_lists),
                ("排查矛盾纠纷（件）", w.disputes),
                ("其中高风险（件）", w.disputes_high_risk),
                ("其中已化解（件）", w.disputes_settled),
                ("信访值班（人次）", w.duties),
            ] {
                let _ = writeln!(out, "  {}{}", pad_right(label, 20), pad_left(&n.to_string(), 8));
            }
        }
        out
    }
}

/// What a year-over-year cell says when the year before has no petitions.
pub const NO_DATA: &str = "上年无数据";

/// Terminal columns of the 增减 and 增减幅度 cells: wide enough for [`NO_DATA`].
const CHANGE_WIDTH: usize = 12;

/// 待判定 9 件，无法判定 137 件: what a rate set aside, or nothing.
fn set_aside(rate: &Rate) -> String {
    let mut parts = Vec::new();
    if rate.pending > 0 {
        parts.push(format!("待判定 {} 件", rate.pending));
    }
    if rate.unknown > 0 {
        parts.push(format!("无法判定 {} 件", rate.unknown));
    }
    parts.join("，")
}

/// `text` followed by spaces up to `width` terminal columns.
fn pad_right(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(display_width(text))))
}

fn pad_left(text: &str, width: usize) -> String {
    format!("{}{text}", " ".repeat(width.saturating_sub(display_width(text))))
}

/// A rate as a percentage with one decimal, or — when there was nothing to judge.
pub(crate) fn percent(value: Option<f64>) -> String {
    value.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".to_owned())
}

fn signed_text(n: i64) -> String {
    if n > 0 { format!("+{n}") } else { n.to_string() }
}

fn ratio_text(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r > 0.0 => format!("+{:.1}%", r * 100.0),
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".to_owned(),
    }
}

/// 增加 12 件次（+9.6%） / 减少 5 件次（-62.5%） / 持平.
fn change_words(f: &Figure) -> String {
    match f.change {
        Some(c) if c > 0 => format!("增加 {c} {}（{}）", f.unit, ratio_text(f.change_ratio)),
        Some(c) if c < 0 => format!("减少 {} {}（{}）", -c, f.unit, ratio_text(f.change_ratio)),
        Some(_) => "持平".to_owned(),
        None => "—".to_owned(),
    }
}

/// +3.2 个百分点.
fn points_text(points: f64) -> String {
    if points > 0.0 {
        format!("提高 {points:.1} 个百分点")
    } else if points < 0.0 {
        format!("下降 {:.1} 个百分点", -points)
    } else {
        "持平".to_owned()
    }
}

/// Renders `stats` as a readable table: totals, every breakdown, visits, flags and the rates
/// with their numerators and denominators (no comparison; see [`ReportTables`] for one).
pub fn render_text(stats: &Statistics) -> String {
    ReportTables::new(stats, None).to_text()
}

#[cfg(test)]
mod tests {
    use ledger_domain::fixtures::seed_2017;
    use ledger_domain::stats::{Period, StatsQuery, statistics};
    use ledger_domain::workflow::replay;
    use ledger_domain::{CaseFacts, PolicyTable, WorkCalendar};

    use super::*;

    fn seed_stats(year: i32) -> Statistics {
        let (p, c) = (PolicyTable::default(), WorkCalendar::china());
        let facts: Vec<_> =
            seed_2017().iter().map(|k| CaseFacts::project(k, &replay(&k.events), &p, &c)).collect();
        let query = StatsQuery {
            period: Period::year(year).unwrap(),
            township: None,
            as_of: NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
            settled_window_days: 90,
        };
        statistics(&facts, &query)
    }

    #[test]
    fn the_seed_year_reads_as_a_table() {
        let text = render_text(&seed_stats(2017));
        assert!(text.contains("信访总量  137 件次"), "{text}");
        assert!(text.contains("来访  50 批 116 人次"), "{text}");
        assert!(text.contains("违法占地建设"));
        assert!(text.contains("回复率"));
        assert!(text.contains("100.0%"));
        assert!(!text.contains("传真"), "zero rows are left out");
        assert!(!text.contains("上年"), "no comparison asked for");
    }

    /// The seed's third paragraph: 越级访、重复访、集体访总量显著下降. A year with 8 collective,
    /// 6 skip-level and 10 repeat visits, then one with 3, 1 and 4.
    fn with_flags(mut s: Statistics, collective: u64, skip: u64, repeat: u64) -> Statistics {
        s.flags.collective = collective;
        s.flags.skip_level = skip;
        s.flags.repeat = repeat;
        s
    }

    #[test]
    fn year_over_year_shows_by_how_much_each_figure_moved() {
        let before = with_flags(seed_stats(2017), 8, 6, 10);
        let mut now = with_flags(seed_stats(2017), 3, 1, 4);
        now.period = Period::year(2018).unwrap();
        now.total = 120;
        *now.by_source.get_mut("本局接收").unwrap() -= 17;
        let reply = now.rates.get_mut("回复率").unwrap();
        *reply = Rate::of(95, 100);
        let tables = ReportTables::new(&now, Some(&before));
        let collective = tables.figure("重点信访", "集体访").unwrap();
        assert_eq!(
            (collective.current, collective.previous, collective.change),
            (3, Some(8), Some(-5))
        );
        assert_eq!(collective.change_ratio, Some(-0.625));
        let skip = tables.figure("重点信访", "越级访").unwrap();
        assert_eq!(skip.change_ratio, Some(-0.8333));
        let total = tables.figure("总量", "信访总量").unwrap();
        assert_eq!(total.change, Some(-17));
        let direct = tables.figure("按来源", "本局接收").unwrap();
        assert_eq!((direct.current, direct.previous), (36, Some(53)));
        let reply = tables.rates.iter().find(|r| r.name == "回复率").unwrap();
        assert_eq!(reply.change_points, Some(-5.0));
        let text = tables.to_text();
        assert!(text.contains("比上年同期减少 17 件次（-12.4%）"), "{text}");
        assert!(text.contains("集体访"), "{text}");
        assert!(text.contains("-62.5%"), "{text}");
        assert!(text.contains("上年 100.0%（"), "{text}");
        assert!(text.contains("95/100"), "{text}");
        assert!(text.contains("下降 5.0 个百分点"), "{text}");
    }

    #[test]
    fn a_year_with_no_data_before_says_so_and_states_no_change() {
        let tables = ReportTables::new(&seed_stats(2017), Some(&seed_stats(2016)));
        assert!(tables.previous_empty);
        assert_eq!(tables.previous_period, Period::year(2016));
        let total = tables.figure("总量", "信访总量").unwrap();
        assert_eq!((total.previous, total.change, total.change_ratio), (None, None, None));
        let reply = tables.rates.iter().find(|r| r.name == "回复率").unwrap();
        assert_eq!((reply.previous, reply.change_points), (None, None));
        let text = tables.to_text();
        assert!(text.contains("信访总量  137 件次（137 件事项），上年无数据\n"), "{text}");
        assert!(!text.contains("增加"), "{text}");
        let row = text.lines().find(|l| l.trim_start().starts_with("本局接收")).unwrap();
        assert!(row.ends_with("—  上年无数据  上年无数据"), "{row}");
        let rate = text.lines().find(|l| l.trim_start().starts_with("回复率")).unwrap();
        assert!(rate.ends_with("   上年无数据"), "{rate}");
    }

    #[test]
    fn rates_show_what_they_set_aside() {
        let text = render_text(&seed_stats(2017));
        let timely = text.lines().find(|l| l.trim_start().starts_with("及时受理率")).unwrap();
        assert!(timely.ends_with("—   0/0（无法判定 137 件）"), "{timely}");
        let reply = text.lines().find(|l| l.trim_start().starts_with("回复率")).unwrap();
        assert!(reply.ends_with("100.0%   128/128（待判定 9 件）"), "{reply}");
    }
}
