//! The working-day calendar: statutory holidays and the State Council's adjusted working
//! weekends (调休), as data.
//!
//! A working day is a Monday to Friday that is not a statutory holiday, or a Saturday or Sunday
//! the State Council made a working day. The embedded table (`data/cn-workdays.txt`, generated
//! once from the PyPI package `chinesecalendar` and cross-checked with `holidays`) covers
//! 2017 to 2026. [`WorkCalendar::is_working_day`] refuses a date beyond it; the period
//! arithmetic that deadlines use goes on with the Monday-to-Friday rule there and marks its
//! answer [`Reckoned::estimated`], so a case received in December still gets a 办理期限 that
//! runs into next year, flagged 预计 until the State Council's schedule is added to the table.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};

/// Why the calendar cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The date lies outside the years the holiday table covers.
    #[error("节假日表只覆盖 {from} 至 {to}，无法判断 {date} 是否为工作日；请更新节假日表")]
    OutOfCoverage {
        /// The date asked about.
        date: NaiveDate,
        /// First covered day.
        from: NaiveDate,
        /// Last covered day.
        to: NaiveDate,
    },
    /// Date arithmetic ran past the last date the calendar can represent.
    #[error("日期 {date} 之后已无法推算")]
    Overflow {
        /// The last date reached.
        date: NaiveDate,
    },
    /// A year's table would leave a year between the table's end and it uncovered.
    #[error("节假日表目前覆盖到 {to}，请先录入 {next} 年的节假日安排，再录入 {year} 年的")]
    Gap {
        /// The year given.
        year: i32,
        /// The next year the table needs.
        next: i32,
        /// Last covered day.
        to: NaiveDate,
    },
    /// The table itself is malformed.
    #[error("节假日表第{line}行格式有误: {text}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
}

/// How the table marks a date that differs from the Monday-to-Friday rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayMark {
    /// 法定节假日: a weekday off, with the holiday's name.
    Holiday(String),
    /// 调休上班: a weekend working day, with the holiday it makes up for.
    Workday(String),
}

/// A date the calendar reckoned, and whether it had to judge any day beyond its table by the
/// Monday-to-Friday rule alone (预计: to be checked once the holiday table is updated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reckoned {
    /// The date.
    pub date: NaiveDate,
    /// Some day on the way lay beyond the table.
    pub estimated: bool,
}

/// One `DATE holiday|workday NAME` line (the name is one word, possibly empty).
fn mark_line(line: &str) -> Option<(NaiveDate, DayMark)> {
    let mut parts = line.split_whitespace();
    let date = parts.next()?.parse::<NaiveDate>().ok()?;
    let kind = parts.next()?;
    let name = parts.next().unwrap_or_default().to_owned();
    if parts.next().is_some() {
        return None;
    }
    match kind {
        "holiday" => Some((date, DayMark::Holiday(name))),
        "workday" => Some((date, DayMark::Workday(name))),
        _ => None,
    }
}

/// A working-day calendar with a known coverage.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    from: NaiveDate,
    to: NaiveDate,
    marks: HashMap<NaiveDate, DayMark>,
}

const CHINA_TABLE: &str = include_str!("../data/cn-workdays.txt");

impl WorkCalendar {
    /// The mainland China calendar embedded in this build (2017 to 2026).
    pub fn china() -> Self {
        // The embedded table is checked by the tests below, so parsing it cannot fail at run time
        // in a build that passed them; fall back to an empty coverage rather than panic.
        Self::parse(CHINA_TABLE).unwrap_or_else(|_| Self {
            from: NaiveDate::MAX,
            to: NaiveDate::MIN,
            marks: HashMap::new(),
        })
    }

    /// Reads a table in the `data/cn-workdays.txt` format: a `# coverage FROM TO` line, then one
    /// `DATE holiday|workday NAME` line per exception.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let mut coverage = None;
        let mut marks = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let bad = || CalendarError::Malformed { line: n + 1, text: line.to_owned() };
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("# coverage ") {
                let mut parts = rest.split_whitespace();
                let from =
                    parts.next().and_then(|s| s.parse::<NaiveDate>().ok()).ok_or_else(bad)?;
                let to = parts.next().and_then(|s| s.parse::<NaiveDate>().ok()).ok_or_else(bad)?;
                coverage = Some((from, to));
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (date, mark) = mark_line(line).ok_or_else(bad)?;
            marks.insert(date, mark);
        }
        let (from, to) = coverage
            .ok_or(CalendarError::Malformed {
                line: 0, text: "缺少 # coverage 行".to_owned()
            })?;
        Ok(Self { from, to, marks })
    }

    /// Reads one year's schedule (the State Council's 放假安排): one `DATE holiday|workday NAME`
    /// line per exception, every date in `year`, at most 60 lines, names of at most 20 characters.
    pub fn parse_year(year: i32, text: &str) -> Result<Vec<(NaiveDate, DayMark)>, CalendarError> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let bad =
                || CalendarError::Malformed { line: n + 1, text: line.chars().take(80).collect() };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (date, mark) = mark_line(line).ok_or_else(bad)?;
            let name = match &mark {
                DayMark::Holiday(name) | DayMark::Workday(name) => name,
            };
            if date.year() != year || name.chars().count() > 20 {
                return Err(bad());
            }
            out.push((date, mark));
            if out.len() > 60 {
                return Err(bad());
            }
        }
        Ok(out)
    }

    /// This calendar with `year`'s schedule in place of what it held for that year from `from`
    /// on (a year already covered keeps its days before `from`: deadlines reckoned with them
    /// stand); a year just past the coverage extends it to that year's end, whole (its days were
    /// only estimated). A year further on is refused: the years between would be judged without
    /// their holidays.
    pub fn with_year(
        &self,
        year: i32,
        marks: &[(NaiveDate, DayMark)],
        from: NaiveDate,
    ) -> Result<Self, CalendarError> {
        let first =
            NaiveDate::from_ymd_opt(year, 1, 1).ok_or(CalendarError::Overflow { date: self.to })?;
        let last = NaiveDate::from_ymd_opt(year, 12, 31)
            .ok_or(CalendarError::Overflow { date: self.to })?;
        let mut next = self.clone();
        let mut keep_before = first;
        if self.from > self.to {
            next.from = first;
            next.to = last;
        } else if year == self.to.year() + 1 && self.to.month() == 12 && self.to.day() == 31 {
            next.to = last;
        } else if first < self.from || last > self.to {
            return Err(CalendarError::Gap { year, next: self.to.year() + 1, to: self.to });
        } else {
            keep_before = from.max(first);
        }
        next.marks.retain(|d, _| d.year() != year || *d < keep_before);
        next.marks.extend(marks.iter().filter(|(d, _)| *d >= keep_before).cloned());
        Ok(next)
    }

    /// The first and last covered day.
    pub fn coverage(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        if date < self.from || date > self.to {
            return Err(CalendarError::OutOfCoverage { date, from: self.from, to: self.to });
        }
        Ok(match self.marks.get(&date) {
            Some(DayMark::Holiday(_)) => false,
            Some(DayMark::Workday(_)) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        })
    }

    /// The table as text: coverage, then every mark in date order. Two calendars with the same
    /// description judge every date alike, so a digest of it tells whether dates reckoned with
    /// one calendar still hold under another.
    pub fn describe(&self) -> String {
        let mut marks: Vec<_> = self.marks.iter().collect();
        marks.sort_by_key(|(date, _)| **date);
        let mut out = format!("{} {}", self.from, self.to);
        for (date, mark) in marks {
            let (kind, name) = match mark {
                DayMark::Holiday(name) => ("holiday", name),
                DayMark::Workday(name) => ("workday", name),
            };
            out.push_str(&format!("\n{date} {kind} {name}"));
        }
        out
    }

    /// How the table marks `date`, if it is an exception to the Monday-to-Friday rule.
    pub fn mark(&self, date: NaiveDate) -> Option<&DayMark> {
        self.marks.get(&date)
    }

    /// Whether `date` is a working day, and whether that is a guess because the date lies beyond
    /// the table. The guess knows the weekend and the holidays fixed to a Gregorian date by
    /// 《全国年节及纪念日放假办法》 (元旦; 劳动节, two days since 2025; 国庆节), but not the lunar
    /// holidays or the State Council's yearly 调休, which only the published schedule gives.
    fn judge(&self, date: NaiveDate) -> (bool, bool) {
        if let Ok(working) = self.is_working_day(date) {
            return (working, false);
        }
        let fixed_holiday = matches!((date.month(), date.day()), (1, 1) | (5, 1) | (10, 1..=3))
            || (date.year() >= 2025 && (date.month(), date.day()) == (5, 2));
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        (!weekend && !fixed_holiday, true)
    }

    /// A period of `days` calendar days starting the day after `start` (民法典 §201: the start
    /// day is not counted); a last day that is not a working day moves to the next working day
    /// (§203).
    pub fn add_days(&self, start: NaiveDate, days: u32) -> Result<Reckoned, CalendarError> {
        let last = start
            .checked_add_days(chrono::Days::new(u64::from(days)))
            .ok_or(CalendarError::Overflow { date: start })?;
        self.next_working_day_from(last)
    }

    /// A period of `days` working days after `start` (the 5 working days to object to a
    /// misdirected referral): the start day is not counted.
    pub fn add_working_days(&self, start: NaiveDate, days: u32) -> Result<Reckoned, CalendarError> {
        let mut date = start;
        let mut left = days;
        let mut estimated = false;
        while left > 0 {
            date = date.succ_opt().ok_or(CalendarError::Overflow { date })?;
            let (working, guessed) = self.judge(date);
            estimated |= guessed;
            if working {
                left -= 1;
            }
        }
        Ok(Reckoned { date, estimated })
    }

    /// `date` itself if it is a working day, else the next working day.
    pub fn next_working_day_from(&self, date: NaiveDate) -> Result<Reckoned, CalendarError> {
        let mut day = date;
        let mut estimated = false;
        loop {
            let (working, guessed) = self.judge(day);
            estimated |= guessed;
            if working {
                return Ok(Reckoned { date: day, estimated });
            }
            day = day.succ_opt().ok_or(CalendarError::Overflow { date: day })?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn embedded_table_parses_and_covers_2017_to_2026() {
        let cal = WorkCalendar::parse(CHINA_TABLE).unwrap();
        assert_eq!(cal.coverage(), (d("2017-01-01"), d("2026-12-31")));
        assert!(cal.marks.len() > 200);
    }

    #[test]
    fn weekdays_weekends_holidays_and_adjusted_saturdays() {
        let cal = WorkCalendar::china();
        assert!(cal.is_working_day(d("2024-03-05")).unwrap()); // Tuesday
        assert!(!cal.is_working_day(d("2024-03-09")).unwrap()); // Saturday
        assert!(!cal.is_working_day(d("2024-02-12")).unwrap()); // Spring Festival Monday
        assert!(cal.is_working_day(d("2024-02-04")).unwrap()); // adjusted Sunday
        assert!(cal.is_working_day(d("2023-10-07")).unwrap()); // adjusted Saturday
        assert!(!cal.is_working_day(d("2017-10-04")).unwrap()); // National Day week
        assert_eq!(cal.mark(d("2024-02-04")), Some(&DayMark::Workday("春节".into())));
    }

    #[test]
    fn beyond_coverage_is_reported() {
        let cal = WorkCalendar::china();
        let err = cal.is_working_day(d("2027-01-04")).unwrap_err();
        assert!(matches!(err, CalendarError::OutOfCoverage { .. }));
        assert!(err.to_string().contains("2027-01-04"));
        assert!(cal.is_working_day(d("2016-12-30")).is_err());
    }

    #[test]
    fn periods_past_the_table_use_the_weekday_rule_and_say_so() {
        let cal = WorkCalendar::china();
        // 2026-12-20 + 15 days = Monday 2027-01-04, beyond the table: kept, but estimated.
        let due = cal.add_days(d("2026-12-20"), 15).unwrap();
        assert_eq!(due, Reckoned { date: d("2027-01-04"), estimated: true });
        // 2026-11-28 + 60 = Wednesday 2027-01-27.
        assert_eq!(cal.add_days(d("2026-11-28"), 60).unwrap().date, d("2027-01-27"));
        // Saturday 2027-01-09 moves to Monday 2027-01-11.
        assert_eq!(cal.add_days(d("2026-12-10"), 30).unwrap().date, d("2027-01-11"));
        // Working days across the boundary: Wed 30, Thu 31 (table), then 元旦 on Friday is
        // skipped even without a 2027 table: Mon 4, Tue 5, Wed 6.
        let due = cal.add_working_days(d("2026-12-29"), 5).unwrap();
        assert_eq!(due, Reckoned { date: d("2027-01-06"), estimated: true });
        // A last day on 国庆节 moves past the fixed three days.
        assert_eq!(cal.add_days(d("2027-09-01"), 30).unwrap().date, d("2027-10-04"));
        // Inside the table nothing is estimated.
        assert!(!cal.add_days(d("2026-11-01"), 15).unwrap().estimated);
        assert!(cal.add_days(NaiveDate::MAX, 1).is_err());
    }

    #[test]
    fn last_day_on_a_sunday_moves_to_monday() {
        let cal = WorkCalendar::china();
        // 2024-03-02 + 15 days = Sunday 2024-03-17 -> Monday 2024-03-18.
        assert_eq!(cal.add_days(d("2024-03-02"), 15).unwrap().date, d("2024-03-18"));
    }

    #[test]
    fn last_day_in_spring_festival_moves_past_the_holiday() {
        let cal = WorkCalendar::china();
        // 2024-01-29 + 15 days = 2024-02-13 (Spring Festival) -> 2024-02-18, an adjusted Sunday.
        assert_eq!(cal.add_days(d("2024-01-29"), 15).unwrap().date, d("2024-02-18"));
    }

    #[test]
    fn last_day_on_an_adjusted_working_saturday_stays() {
        let cal = WorkCalendar::china();
        // 2023-09-22 + 15 days = Saturday 2023-10-07, a working day that year.
        assert_eq!(cal.add_days(d("2023-09-22"), 15).unwrap().date, d("2023-10-07"));
    }

    #[test]
    fn working_days_skip_weekends_and_holidays_and_count_adjusted_days() {
        let cal = WorkCalendar::china();
        // Thursday 2024-03-07 + 5 working days: Fri 8, Mon 11, Tue 12, Wed 13, Thu 14.
        assert_eq!(cal.add_working_days(d("2024-03-07"), 5).unwrap().date, d("2024-03-14"));
        // Friday 2024-02-02 + 5: Sun 4 (adjusted), Mon 5, Tue 6, Wed 7, Thu 8.
        assert_eq!(cal.add_working_days(d("2024-02-02"), 5).unwrap().date, d("2024-02-08"));
        // Thursday 2024-02-08 + 5: Fri 9, then the festival to Sat 17, Sun 18 (adjusted),
        // Mon 19, Tue 20, Wed 21.
        assert_eq!(cal.add_working_days(d("2024-02-08"), 5).unwrap().date, d("2024-02-21"));
    }

    #[test]
    fn the_description_follows_the_table_not_the_hash_order() {
        let a = WorkCalendar::parse(
            "# coverage 2024-01-01 2024-12-31\n2024-01-01 holiday 元旦\n2024-02-04 workday 春节\n",
        )
        .unwrap();
        let b = WorkCalendar::parse(
            "# coverage 2024-01-01 2024-12-31\n2024-02-04 workday 春节\n2024-01-01 holiday 元旦\n",
        )
        .unwrap();
        let c = WorkCalendar::parse(
            "# coverage 2024-01-01 2025-12-31\n2024-02-04 workday 春节\n2024-01-01 holiday 元旦\n",
        )
        .unwrap();
        assert_eq!(a.describe(), b.describe());
        assert_ne!(a.describe(), c.describe());
        assert!(WorkCalendar::china().describe().starts_with("2017-01-01 2026-12-31\n"));
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(WorkCalendar::parse("2024-01-01 holiday 元旦").is_err());
        let bad = "# coverage 2024-01-01 2024-12-31\n2024-01-01 party 元旦\n";
        assert!(matches!(WorkCalendar::parse(bad), Err(CalendarError::Malformed { line: 2, .. })));
    }
}
