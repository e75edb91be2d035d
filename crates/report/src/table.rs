//! The statistics of a period as a plain-text Chinese table, for terminals and logs.

use std::fmt::Write;

use ledger_domain::Statistics;

fn percent(value: Option<f64>) -> String {
    value.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".to_owned())
}

/// Renders `stats` as a readable table: totals, every breakdown, visits, flags and the rates
/// with their numerators and denominators.
pub fn render_text(stats: &Statistics) -> String {
    let mut out = String::new();
    let scope = stats.township.as_deref().unwrap_or("全县");
    let _ = writeln!(
        out,
        "信访统计（{}，{} 至 {}，截至 {}）",
        scope, stats.period.from, stats.period.to, stats.as_of
    );
    let _ = writeln!(out, "信访总量  {} 件次（{} 件事项）", stats.total, stats.cases);
    let section = |out: &mut String, title: &str, rows: &indexmap::IndexMap<String, u64>| {
        let _ = writeln!(out, "\n{title}");
        for (label, n) in rows.iter().filter(|(_, n)| **n > 0) {
            let _ = writeln!(out, "  {label:<14}{n:>6}");
        }
    };
    section(&mut out, "按来源", &stats.by_source);
    section(&mut out, "按信访形式", &stats.by_channel);
    section(&mut out, "按涉及领域", &stats.by_domain);
    section(&mut out, "按问题类别", &stats.by_category);
    let _ = writeln!(out, "\n来访  {} 批 {} 人次", stats.visits.batches, stats.visits.persons);
    let _ = writeln!(
        out,
        "集体访 {}  越级访 {}  重复访 {}",
        stats.flags.collective, stats.flags.skip_level, stats.flags.repeat
    );
    let _ = writeln!(out, "\n指标              比率      分子/分母");
    for (name, rate) in &stats.rates {
        let _ = writeln!(
            out,
            "  {name:<10}{:>9}   {}/{}",
            percent(rate.value),
            rate.numerator,
            rate.denominator
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use ledger_domain::fixtures::seed_2017;
    use ledger_domain::stats::{Period, StatsQuery, statistics};
    use ledger_domain::workflow::replay;
    use ledger_domain::{CaseFacts, PolicyTable, WorkCalendar};

    use super::*;

    #[test]
    fn the_seed_year_reads_as_a_table() {
        let (p, c) = (PolicyTable::default(), WorkCalendar::china());
        let facts: Vec<_> =
            seed_2017().iter().map(|k| CaseFacts::project(k, &replay(&k.events), &p, &c)).collect();
        let query = StatsQuery {
            period: Period::year(2017).unwrap(),
            township: None,
            as_of: "2017-12-31".parse().unwrap(),
            settled_window_days: 90,
        };
        let text = render_text(&statistics(&facts, &query));
        assert!(text.contains("信访总量  137 件次"), "{text}");
        assert!(text.contains("来访  50 批 116 人次"), "{text}");
        assert!(text.contains("违法占地建设"));
        assert!(text.contains("回复率"));
        assert!(text.contains("100.0%"));
        assert!(!text.contains("传真"), "zero rows are left out");
    }
}
