//! Statistics (`reference/domain.md` §4) as pure functions over case facts and a period.
//!
//! [`Statistics`] is the one result type every other crate uses: the hub's `/v1/stats`, the
//! office's `ledger report`, the report renderer. Its JSON shape:
//!
//! ```text
//! { period: {from, to}, township, as_of, total, cases,
//!   by_source, by_channel, by_domain, by_category      (keyed by Chinese label, every known label),
//!   by_source_channel: { 本局接收: { 来信: 3, 来访: 50 } },
//!   visits: {batches, persons}, flags: {collective, skip_level, repeat},
//!   rates: { 及时受理率: {numerator, denominator, value, pending, unknown}, ... } }
//! ```
//!
//! Counts are of submissions (件次) received in the period, as the seed counts its 137; a repeat
//! visit is a new submission. Rates judge the matters (事项) first received in the period, as of
//! `as_of`. Voided cases are excluded from everything. Where no official formula exists the one
//! used is written beside the rate (`reference/domain.md` §4 marks them [I]).

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::facts::{CaseFacts, Notice, SubmissionFacts};
use crate::terms::{Category, Channel, Sector, Source};

/// A period of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Period {
    /// A calendar year.
    pub fn year(year: i32) -> Option<Self> {
        Some(Self {
            from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            to: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    /// A calendar month.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        let from = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        Some(Self { from, to: next.pred_opt()? })
    }

    /// The same period one year earlier (for year-over-year change).
    pub fn previous_year(&self) -> Option<Self> {
        use chrono::Datelike;
        let shift = |d: NaiveDate| {
            NaiveDate::from_ymd_opt(d.year() - 1, d.month(), d.day())
                .or_else(|| NaiveDate::from_ymd_opt(d.year() - 1, d.month(), d.day() - 1))
        };
        Some(Self { from: shift(self.from)?, to: shift(self.to)? })
    }

    /// Whether `date` lies in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// 批次 and 人次 of visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Visits {
    /// 批次: visit batches.
    pub batches: u64,
    /// 人次: person-visits.
    pub persons: u64,
}

/// Flagged submissions, whatever their channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Flags {
    /// 集体访/联名信.
    pub collective: u64,
    /// 越级访.
    pub skip_level: u64,
    /// 重复访.
    pub repeat: u64,
    /// 重大紧急.
    #[serde(default)]
    pub urgent: u64,
    /// 扬言.
    #[serde(default)]
    pub threat: u64,
    /// 涉法涉诉.
    #[serde(default)]
    pub litigation: u64,
}

/// A rate with what it is made of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rate {
    /// 分子.
    pub numerator: u64,
    /// 分母.
    pub denominator: u64,
    /// numerator ÷ denominator, rounded to four places; `null` when there is nothing to judge.
    pub value: Option<f64>,
    /// 待判定: in scope but not yet judgeable as of `as_of` (still within its time limit or
    /// observation window); in neither numerator nor denominator.
    #[serde(default)]
    pub pending: u64,
    /// 无法判定: in scope but with no record to judge by (imported history without a notice
    /// date); in neither numerator nor denominator.
    #[serde(default)]
    pub unknown: u64,
}

impl Rate {
    /// A rate of `numerator` over `denominator`, with nothing pending or unknown.
    pub fn of(numerator: u64, denominator: u64) -> Self {
        let value = (denominator > 0).then(|| {
            let v = numerator as f64 / denominator as f64;
            (v * 10_000.0).round() / 10_000.0
        });
        Self { numerator, denominator, value, pending: 0, unknown: 0 }
    }
}

/// A rate while it is counted.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    numerator: u64,
    denominator: u64,
    pending: u64,
    unknown: u64,
}

impl Tally {
    /// One case judged, counting in the numerator when `hit`.
    fn judge(&mut self, hit: bool) {
        self.denominator += 1;
        self.numerator += u64::from(hit);
    }

    fn rate(self) -> Rate {
        Rate {
            pending: self.pending,
            unknown: self.unknown,
            ..Rate::of(self.numerator, self.denominator)
        }
    }
}

/// The rates, in the order the annual report names them.
pub const RATE_NAMES: [&str; 8] = [
    "及时受理率",
    "按期办结率",
    "回复率",
    "办结率",
    "参评率",
    "满意率",
    "停访息诉率",
    "重复信访率",
];

/// The statistics of a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Statistics {
    /// The period counted.
    pub period: Period,
    /// The township counted, or `None` for the whole county.
    pub township: Option<String>,
    /// The day rates are judged as of (deadlines not yet reached are not held against anyone).
    pub as_of: NaiveDate,
    /// 信访总量: submissions received in the period.
    pub total: u64,
    /// 事项: distinct matters first received in the period.
    pub cases: u64,
    /// By 信访来源.
    pub by_source: IndexMap<String, u64>,
    /// By 信访形式.
    pub by_channel: IndexMap<String, u64>,
    /// By 涉及领域.
    pub by_domain: IndexMap<String, u64>,
    /// By 问题类别.
    pub by_category: IndexMap<String, u64>,
    /// By source, then channel (nonzero only): the seed's 本局接收53件次(来信3件,来访50批).
    pub by_source_channel: IndexMap<String, IndexMap<String, u64>>,
    /// Visits.
    pub visits: Visits,
    /// Flags.
    pub flags: Flags,
    /// The rates, keyed by their Chinese names ([`RATE_NAMES`]).
    pub rates: IndexMap<String, Rate>,
}

impl Statistics {
    /// Whether nothing was received in the period: a year-over-year comparison against it says
    /// 上年无数据, never 增加137件次.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// What to count.
#[derive(Debug, Clone)]
pub struct StatsQuery<'a> {
    /// The period.
    pub period: Period,
    /// One township, or the county.
    pub township: Option<&'a str>,
    /// Judge deadlines as of this day (usually the earlier of the period's end and today).
    pub as_of: NaiveDate,
    /// 停访息诉 observation window in days after closing; a closed matter is judged only once
    /// its window has run by `as_of`.
    pub settled_window_days: u32,
}

fn zeroed<T>(known: &[T], label: impl Fn(&T) -> String) -> IndexMap<String, u64> {
    known.iter().map(|v| (label(v), 0)).collect()
}

/// Computes the statistics of `cases` for `query`. Voided cases count nowhere.
pub fn statistics(cases: &[CaseFacts], query: &StatsQuery<'_>) -> Statistics {
    let mut by_source = zeroed(Source::KNOWN, |v| v.label().to_owned());
    let mut by_channel = zeroed(Channel::KNOWN, |v| v.label().to_owned());
    let mut by_domain = zeroed(Sector::KNOWN, |v| v.label().to_owned());
    let mut by_category = zeroed(Category::KNOWN, |v| v.label().to_owned());
    let mut by_source_channel: IndexMap<String, IndexMap<String, u64>> = IndexMap::new();
    let mut visits = Visits::default();
    let mut flags = Flags::default();
    let mut total = 0u64;

    let counted: Vec<&CaseFacts> = cases
        .iter()
        .filter(|c| !c.voided())
        .filter(|c| query.township.is_none() || c.township.as_deref() == query.township)
        .collect();

    for case in &counted {
        for s in case.submissions.iter().filter(|s| query.period.contains(s.received)) {
            total += 1;
            *by_source.entry(s.source.label().to_owned()).or_default() += 1;
            *by_channel.entry(s.channel.label().to_owned()).or_default() += 1;
            *by_domain.entry(case.sector.label().to_owned()).or_default() += 1;
            *by_category.entry(case.category.label().to_owned()).or_default() += 1;
            *by_source_channel
                .entry(s.source.label().to_owned())
                .or_default()
                .entry(s.channel.label().to_owned())
                .or_default() += 1;
            if s.channel == Channel::Visit {
                visits.batches += u64::from(s.batches.max(1));
                visits.persons += u64::from(s.persons);
            }
            flags.collective += u64::from(s.collective);
            flags.skip_level += u64::from(s.skip_level);
            flags.repeat += u64::from(s.repeat);
            flags.urgent += u64::from(s.urgent);
            flags.threat += u64::from(s.threat);
            flags.litigation += u64::from(s.litigation);
        }
    }
    // Keep by_source_channel in the canonical source order, channels likewise.
    by_source_channel.sort_by(|a, _, b, _| source_rank(a).cmp(&source_rank(b)));
    for channels in by_source_channel.values_mut() {
        channels.sort_by(|a, _, b, _| channel_rank(a).cmp(&channel_rank(b)));
    }

    let matters: Vec<&CaseFacts> = counted
        .iter()
        .copied()
        .filter(|c| c.received.is_some_and(|r| query.period.contains(r)))
        .collect();
    let rates = rates(&matters, &counted, query, total, flags.repeat);

    Statistics {
        period: query.period,
        township: query.township.map(str::to_owned),
        as_of: query.as_of,
        total,
        cases: matters.len() as u64,
        by_source,
        by_channel,
        by_domain,
        by_category,
        by_source_channel,
        visits,
        flags,
        rates,
    }
}

fn source_rank(label: &str) -> usize {
    Source::KNOWN.iter().position(|s| s.label() == label).unwrap_or(usize::MAX)
}

fn channel_rank(label: &str) -> usize {
    Channel::KNOWN.iter().position(|s| s.label() == label).unwrap_or(usize::MAX)
}

fn on_or_before(day: Option<NaiveDate>, as_of: NaiveDate) -> Option<NaiveDate> {
    day.filter(|d| *d <= as_of)
}

fn rates(
    matters: &[&CaseFacts],
    counted: &[&CaseFacts],
    query: &StatsQuery<'_>,
    total: u64,
    repeats: u64,
) -> IndexMap<String, Rate> {
    let as_of = query.as_of;
    let mut timely = Tally::default();
    let (mut on_time, mut replied) = (Tally::default(), Tally::default());
    let mut concluded = Tally::default();
    let (mut rated, mut satisfied) = (Tally::default(), Tally::default());
    let mut settled = Tally::default();
    for c in matters {
        timely_acceptance(c, as_of, &mut timely);
        // 按期办结率 via 按期答复率: 按期答复 ÷ (按期答复 + 超期答复 + 超期未答复); 回复率: any
        // reply over the same base ("除正在调查中的": matters still within their period and
        // unanswered are pending).
        if let (Some(_), Some(due)) = (on_or_before(c.accepted_on, as_of), c.handle_due) {
            match on_or_before(c.first_reply_on, as_of) {
                Some(r) => {
                    on_time.judge(r <= due);
                    replied.judge(true);
                }
                None if as_of > due => {
                    on_time.judge(false);
                    replied.judge(false);
                }
                None => {
                    on_time.pending += 1;
                    replied.pending += 1;
                }
            }
        }
        closure(c, as_of, &mut concluded);
        // 参评率: 已评价 ÷ (已评价 + 超期未评价); 满意率: (满意 + 基本满意) ÷ 已评价.
        if on_or_before(c.first_reply_on, as_of).is_some() && !c.statutory {
            match (&c.evaluation, on_or_before(c.evaluated_on, as_of)) {
                (Some(result), Some(_)) => {
                    rated.judge(true);
                    satisfied.judge(result.counts_as_satisfied());
                }
                _ if c.rating_due.is_some_and(|d| as_of > d) => rated.judge(false),
                _ => rated.pending += 1,
            }
        }
    }
    // 停访息诉率: judged over every counted case closed in the period, since a matter received
    // last year and closed this year belongs to this year's work.
    for c in counted {
        let Some(closed_on) = on_or_before(c.closed_on, as_of) else { continue };
        if query.period.contains(closed_on) {
            settled_after_closing(c, closed_on, query, &mut settled);
        }
    }

    let mut out = IndexMap::new();
    let values = [
        timely.rate(),
        on_time.rate(),
        replied.rate(),
        concluded.rate(),
        rated.rate(),
        satisfied.rate(),
        settled.rate(),
        // 重复信访率: 重复件次 ÷ 总件次.
        Rate::of(repeats, total),
    ];
    for (name, rate) in RATE_NAMES.iter().zip(values) {
        out.insert((*name).to_owned(), rate);
    }
    out
}

/// 及时受理率 = 及时受理 ÷ (及时受理 + 超期受理 + 超期未受理), judged by the written notice of
/// the decision (受理告知书 / 不予受理告知书 / 转送告知书), not by the decision itself.
///
/// - 及时受理 (numerator and denominator): notified on or before the 受理告知期限.
/// - 超期受理 (denominator): notified after it.
/// - 超期未受理 (denominator): no notice by `as_of`, and the 期限 has passed.
/// - 待判定 (pending): no notice yet and the 期限 not reached.
/// - 无法判定 (unknown): the decision is imported history without a recorded notice.
///
/// Where no notice is possible (anonymous) the decision's date counts, as it does for facts
/// projected before notices were.
fn timely_acceptance(c: &CaseFacts, as_of: NaiveDate, tally: &mut Tally) {
    let Some(due) = c.decide_due else { return };
    let notified = match c.notice {
        Notice::Unprojected | Notice::NotPossible => c.decided_on,
        Notice::Issued(day) => Some(day),
        Notice::Missing => None,
        // A decision after `as_of` had certainly not been notified by then.
        Notice::Unknown if on_or_before(c.decided_on, as_of).is_some() => {
            tally.unknown += 1;
            return;
        }
        Notice::Unknown => None,
    };
    match on_or_before(notified, as_of) {
        Some(day) => tally.judge(day <= due),
        None if as_of > due => tally.judge(false),
        None => tally.pending += 1,
    }
}

/// 办结率 = 已办结 ÷ 应办结, over the matters first received in the period, as of `as_of`.
///
/// - 已办结 (numerator): closed (办结, or 终结 for any closing reason) on or before `as_of`.
/// - 应办结 (denominator): the matters that should have been concluded by `as_of`: every
///   closed one, every one in handling (受理 or 交办) whose 办理期限 (as extended) has passed,
///   and every one still undecided after its 受理告知期限.
/// - 待判定 (pending): in handling within its 办理期限, or undecided within its 受理告知期限.
/// - Matters decided as 不予受理 or 转送 are not this bureau's to conclude and count nowhere,
///   closed or not.
fn closure(c: &CaseFacts, as_of: NaiveDate, tally: &mut Tally) {
    let overdue = |due: Option<NaiveDate>| due.is_some_and(|d| as_of > d);
    let decided = on_or_before(c.decided_on, as_of).is_some();
    let accepted = on_or_before(c.accepted_on, as_of).is_some();
    if decided && !accepted {
        return;
    }
    if on_or_before(c.closed_on, as_of).is_some() {
        tally.judge(true);
    } else if overdue(if accepted { c.handle_due } else { c.decide_due }) {
        tally.judge(false);
    } else {
        tally.pending += 1;
    }
}

/// 停访息诉率 = 息诉 ÷ 已办结, over the matters closed in the period whose observation window
/// (`settled_window_days` after closing) has run out by `as_of`.
///
/// - 息诉 (numerator): no new submission on the matter in the window.
/// - 已办结 (denominator): every such matter.
/// - 待判定 (pending): closed in the period, window still running at `as_of`: a petitioner
///   who has not come back yet may still come back.
fn settled_after_closing(
    c: &CaseFacts,
    closed_on: NaiveDate,
    query: &StatsQuery<'_>,
    tally: &mut Tally,
) {
    let window_end = closed_on + chrono::Days::new(u64::from(query.settled_window_days));
    if window_end > query.as_of {
        tally.pending += 1;
        return;
    }
    let again = c
        .submissions
        .iter()
        .any(|s: &SubmissionFacts| s.received > closed_on && s.received <= window_end);
    tally.judge(!again);
}

#[cfg(test)]
mod tests;
