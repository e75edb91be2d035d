//! The working-day calendar: statutory holidays and the State Council's adjusted working
//! weekends (调休), as data.
//!
//! A working day is a Monday to Friday that is not a statutory holiday, or a Saturday or Sunday
//! the State Council made a working day. The embedded table (`data/cn-workdays.txt`, generated
//! once from the PyPI package `chinesecalendar` and cross-checked with `holidays`) covers
//! 2017 to 2026; asking about a date beyond it is an error, never a guess.

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
            let mut parts = line.split_whitespace();
            let date = parts.next().and_then(|s| s.parse::<NaiveDate>().ok()).ok_or_else(bad)?;
            let kind = parts.next().ok_or_else(bad)?;
            let name = parts.next().unwrap_or_default().to_owned();
            let mark = match kind {
                "holiday" => DayMark::Holiday(name),
                "workday" => DayMark::Workday(name),
                _ => return Err(bad()),
            };
            marks.insert(date, mark);
        }
        let (from, to) = coverage
            .ok_or(CalendarError::Malformed {
                line: 0, text: "缺少 # coverage 行".to_owned()
            })?;
        Ok(Self { from, to, marks })
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

    /// How the table marks `date`, if it is an exception to the Monday-to-Friday rule.
    pub fn mark(&self, date: NaiveDate) -> Option<&DayMark> {
        self.marks.get(&date)
    }

    /// A period of `days` calendar days starting the day after `start` (民法典 §201: the start
    /// day is not counted); a last day that is not a working day moves to the next working day
    /// (§203).
    pub fn add_days(&self, start: NaiveDate, days: u32) -> Result<NaiveDate, CalendarError> {
        let last = start + chrono::Days::new(u64::from(days));
        self.next_working_day_from(last)
    }

    /// A period of `days` working days after `start` (the 5 working days to object to a
    /// misdirected referral): the start day is not counted.
    pub fn add_working_days(
        &self,
        start: NaiveDate,
        days: u32,
    ) -> Result<NaiveDate, CalendarError> {
        let mut date = start;
        let mut left = days;
        while left > 0 {
            date = date.succ_opt().ok_or(CalendarError::OutOfCoverage {
                date,
                from: self.from,
                to: self.to,
            })?;
            if self.is_working_day(date)? {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// `date` itself if it is a working day, else the next working day.
    pub fn next_working_day_from(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut day = date;
        while !self.is_working_day(day)? {
            day = day.succ_opt().ok_or(CalendarError::OutOfCoverage {
                date: day,
                from: self.from,
                to: self.to,
            })?;
        }
        Ok(day)
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
        // A period whose last day runs past the table is an error, not a guess.
        assert!(cal.add_days(d("2026-12-20"), 15).is_err());
    }

    #[test]
    fn last_day_on_a_sunday_moves_to_monday() {
        let cal = WorkCalendar::china();
        // 2024-03-02 + 15 days = Sunday 2024-03-17 -> Monday 2024-03-18.
        assert_eq!(cal.add_days(d("2024-03-02"), 15).unwrap(), d("2024-03-18"));
    }

    #[test]
    fn last_day_in_spring_festival_moves_past_the_holiday() {
        let cal = WorkCalendar::china();
        // 2024-01-29 + 15 days = 2024-02-13 (Spring Festival) -> 2024-02-18, an adjusted Sunday.
        assert_eq!(cal.add_days(d("2024-01-29"), 15).unwrap(), d("2024-02-18"));
    }

    #[test]
    fn last_day_on_an_adjusted_working_saturday_stays() {
        let cal = WorkCalendar::china();
        // 2023-09-22 + 15 days = Saturday 2023-10-07, a working day that year.
        assert_eq!(cal.add_days(d("2023-09-22"), 15).unwrap(), d("2023-10-07"));
    }

    #[test]
    fn working_days_skip_weekends_and_holidays_and_count_adjusted_days() {
        let cal = WorkCalendar::china();
        // Thursday 2024-03-07 + 5 working days: Fri 8, Mon 11, Tue 12, Wed 13, Thu 14.
        assert_eq!(cal.add_working_days(d("2024-03-07"), 5).unwrap(), d("2024-03-14"));
        // Friday 2024-02-02 + 5: Sun 4 (adjusted), Mon 5, Tue 6, Wed 7, Thu 8.
        assert_eq!(cal.add_working_days(d("2024-02-02"), 5).unwrap(), d("2024-02-08"));
        // Thursday 2024-02-08 + 5: Fri 9, then the festival to Sat 17, Sun 18 (adjusted),
        // Mon 19, Tue 20, Wed 21.
        assert_eq!(cal.add_working_days(d("2024-02-08"), 5).unwrap(), d("2024-02-21"));
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(WorkCalendar::parse("2024-01-01 holiday 元旦").is_err());
        let bad = "# coverage 2024-01-01 2024-12-31\n2024-01-01 party 元旦\n";
        assert!(matches!(WorkCalendar::parse(bad), Err(CalendarError::Malformed { line: 2, .. })));
    }
}
