//! Figures from samples: median and percentiles in milliseconds, and a process's resident memory
//! (peak and current) and CPU time from `/proc`.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Milliseconds, rounded to the microsecond so the JSON stays readable.
pub fn ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

/// Rounds to three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs `f` and returns its result and its wall time in milliseconds.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, ms(start.elapsed()))
}

/// The summary of timed samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// The median.
    pub median_ms: f64,
    /// The 90th percentile (nearest rank).
    pub p90_ms: f64,
    /// The fastest sample.
    pub min_ms: f64,
    /// The slowest sample.
    pub max_ms: f64,
    /// How many samples.
    pub samples: usize,
}

impl Timing {
    /// Summarises samples in milliseconds (all zero when there are none).
    pub fn of(samples: &[f64]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Self { median_ms: 0.0, p90_ms: 0.0, min_ms: 0.0, max_ms: 0.0, samples: 0 };
        }
        let median =
            if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        Self {
            median_ms: round3(median),
            p90_ms: round3(nearest_rank(&sorted, 90)),
            min_ms: round3(sorted[0]),
            max_ms: round3(sorted[n - 1]),
            samples: n,
        }
    }
}

/// The `percent`th percentile of `sorted` (ascending) by nearest rank; 0 when empty.
pub fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    let rank = (n * percent.min(100)).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Resident memory of a process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Peak resident set (VmHWM), MiB.
    pub peak_resident_mib: f64,
    /// Resident set now (VmRSS), MiB.
    pub resident_mib: f64,
}

/// Reads this process's resident memory from `/proc/self/status`.
pub fn memory() -> std::io::Result<Memory> {
    memory_of("self")
}

/// Reads the resident memory of process `pid` (a number, or `self`) from `/proc/PID/status`.
pub fn memory_of(pid: &str) -> std::io::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| round3(kb / 1024.0))
    };
    Ok(Memory { peak_resident_mib: field("VmHWM:"), resident_mib: field("VmRSS:") })
}

/// CPU time of this process so far (user + system, every thread, living or ended), seconds,
/// from `/proc/self/stat` (in ticks of `USER_HZ`, 100 on Linux).
pub fn cpu_seconds() -> std::io::Result<f64> {
    cpu_seconds_of("self")
}

/// CPU time of process `pid` (a number, or `self`) so far, seconds, from `/proc/PID/stat`.
pub fn cpu_seconds_of(pid: &str) -> std::io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Ok((ticks(11) + ticks(12)) as f64 / 100.0)
}

/// The machine's CPU time so far, busy and idle (every core, seconds), from `/proc/stat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MachineCpu {
    /// Time the cores ran anything (user, nice, system, irq, softirq, steal).
    pub busy: f64,
    /// Time the cores were idle or waiting for IO.
    pub idle: f64,
}

impl MachineCpu {
    /// Reads `/proc/stat`'s first line.
    pub fn now() -> std::io::Result<Self> {
        Ok(Self::parse(&std::fs::read_to_string("/proc/stat")?))
    }

    fn parse(stat: &str) -> Self {
        let ticks: Vec<u64> = stat
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("cpu "))
            .map(|l| l.split_whitespace().filter_map(|f| f.parse().ok()).collect())
            .unwrap_or_default();
        let at = |i: usize| ticks.get(i).copied().unwrap_or(0) as f64 / 100.0;
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        Self { busy: at(0) + at(1) + at(2) + at(5) + at(6) + at(7), idle: at(3) + at(4) }
    }

    /// The share of the machine (0 to 1) that was busy since `before`.
    pub fn busy_since(&self, before: &Self) -> f64 {
        let busy = self.busy - before.busy;
        let total = busy + self.idle - before.idle;
        if total > 0.0 { round3(busy / total) } else { 0.0 }
    }
}

/// CPU time so far of every process whose command is `name` (for example the `postgres`
/// server and its backends), seconds; processes that ended are not counted.
pub fn cpu_seconds_named(name: &str) -> std::io::Result<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let pid = entry.file_name();
        let Some(pid) = pid.to_str().filter(|p| p.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == name {
            // A process that ended between the listing and the read counts nothing.
            total += cpu_seconds_of(pid).unwrap_or(0.0);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90() {
        let t = Timing::of(&[5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(t.median_ms, 5.5);
        assert_eq!(t.p90_ms, 9.0);
        assert_eq!((t.min_ms, t.max_ms, t.samples), (1.0, 10.0, 10));
        assert_eq!(Timing::of(&[2.0]).p90_ms, 2.0);
        assert_eq!(Timing::of(&[]).samples, 0);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((nearest_rank(&hundred, 50), nearest_rank(&hundred, 99)), (50.0, 99.0));
        assert_eq!(nearest_rank(&[], 99), 0.0);
        let m = memory().unwrap();
        assert!(m.peak_resident_mib >= m.resident_mib && m.resident_mib > 0.0);
    }

    #[test]
    fn machine_cpu_from_proc_stat() {
        let before = MachineCpu::parse("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n");
        let after = MachineCpu::parse("cpu  250 0 100 850 50 0 0 0 0 0\n");
        assert_eq!((before.busy, before.idle), (1.5, 8.5));
        assert_eq!(after.busy_since(&before), 0.8);
        assert_eq!(MachineCpu::parse("garbage").busy_since(&MachineCpu::parse("")), 0.0);
        let me = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert!(cpu_seconds_named(me.trim_end()).unwrap() >= 0.0);
        assert!(MachineCpu::now().unwrap().busy > 0.0);
    }
}
