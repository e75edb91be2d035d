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
}
