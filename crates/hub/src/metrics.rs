//! The hub's metrics, served as Prometheus text at `GET /metrics` (to this machine only: a
//! scraper runs beside the hub, or behind a reverse proxy that county IT controls).
//!
//! Counted as they happen: requests and bytes by route and status, changes accepted, changes
//! refused by rule, and the time of every sync exchange (a histogram). Read at each scrape:
//! changes waiting on each office's devices (as they last reported) and the database pool.
//! [`render`] is a pure function of those values, so the format is tested without a server.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ledger_protocol::Refused;

use crate::store::PoolStats;

/// Upper bounds of the sync latency buckets, seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// What the hub counts while it runs.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    bytes: Mutex<BTreeMap<(String, Direction), u64>>,
    accepted: AtomicU64,
    refused: Mutex<BTreeMap<String, u64>>,
    latency: Histogram,
}

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    In,
    Out,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }
}

/// A fixed-bucket histogram (Prometheus' cumulative form is made at render).
#[derive(Debug, Default)]
struct Histogram {
    /// One count per bucket of [`LATENCY_BUCKETS`], and one past the last.
    counts: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// What a scrape reads at the moment it is made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Gauges {
    /// Changes waiting on the devices of each office, as they last reported (revoked devices
    /// left out).
    pub pending: Vec<(String, u64)>,
    /// The database pool, where the store has one.
    pub pool: Option<PoolStats>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// One request answered on `route` (its pattern, never the raw path) with `status`.
    pub fn record_request(&self, route: &str, status: u16, bytes_in: u64, bytes_out: u64) {
        *lock(&self.requests).entry((route.to_owned(), status)).or_default() += 1;
        let mut bytes = lock(&self.bytes);
        *bytes.entry((route.to_owned(), Direction::In)).or_default() += bytes_in;
        *bytes.entry((route.to_owned(), Direction::Out)).or_default() += bytes_out;
    }

    /// What one sync exchange's batch came to.
    pub fn record_changes(&self, accepted: usize, refused: &[Refused]) {
        self.accepted.fetch_add(accepted as u64, Ordering::Relaxed);
        let mut by_rule = lock(&self.refused);
        for r in refused {
            *by_rule.entry(r.rule.clone()).or_default() += 1;
        }
    }

    /// The time one sync exchange took.
    pub fn record_sync_seconds(&self, seconds: f64) {
        let bucket =
            LATENCY_BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(LATENCY_BUCKETS.len());
        self.latency.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = (seconds.max(0.0) * 1e6) as u64;
        self.latency.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The Prometheus text of everything counted, with `gauges` read now.
    pub fn render(&self, gauges: &Gauges) -> String {
        let requests = lock(&self.requests).clone();
        let bytes = lock(&self.bytes).clone();
        let refused = lock(&self.refused).clone();
        let counts: Vec<u64> =
            self.latency.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        render(&Snapshot {
            requests,
            bytes: bytes.into_iter().map(|((r, d), n)| ((r, d.label()), n)).collect(),
            accepted: self.accepted.load(Ordering::Relaxed),
            refused,
            latency_counts: counts,
            latency_sum_micros: self.latency.sum_micros.load(Ordering::Relaxed),
            gauges: gauges.clone(),
        })
    }
}

/// The values one scrape shows.
#[derive(Debug, Default)]
struct Snapshot {
    requests: BTreeMap<(String, u16), u64>,
    bytes: BTreeMap<(String, &'static str), u64>,
    accepted: u64,
    refused: BTreeMap<String, u64>,
    latency_counts: Vec<u64>,
    latency_sum_micros: u64,
    gauges: Gauges,
}

/// A label value with `\`, `"` and newlines escaped, as the text format asks.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Appends one line (writing to a `String` cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    put!(out, "# HELP {name} {help}");
    put!(out, "# TYPE {name} {kind}");
}

fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "ledger_hub_requests_total",
        "counter",
        "HTTP requests answered, by route and status.",
    );
    for ((route, status), n) in &s.requests {
        put!(
            out,
            "ledger_hub_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
            label(route)
        );
    }
    header(
        &mut out,
        "ledger_hub_http_bytes_total",
        "counter",
        "HTTP body bytes, by route and direction.",
    );
    for ((route, direction), n) in &s.bytes {
        put!(
            out,
            "ledger_hub_http_bytes_total{{route=\"{}\",direction=\"{direction}\"}} {n}",
            label(route)
        );
    }
    header(
        &mut out,
        "ledger_hub_changes_accepted_total",
        "counter",
        "Changes accepted from offices.",
    );
    put!(out, "ledger_hub_changes_accepted_total {}", s.accepted);
    header(
        &mut out,
        "ledger_hub_changes_refused_total",
        "counter",
        "Changes refused, by the rule that refused them.",
    );
    for (rule, n) in &s.refused {
        put!(out, "ledger_hub_changes_refused_total{{rule=\"{}\"}} {n}", label(rule));
    }
    header(
        &mut out,
        "ledger_hub_pending_changes",
        "gauge",
        "Changes waiting on an office's devices, as they last reported.",
    );
    for (office, n) in &s.gauges.pending {
        put!(out, "ledger_hub_pending_changes{{office=\"{}\"}} {n}", label(office));
    }
    header(&mut out, "ledger_hub_sync_seconds", "histogram", "Time to answer one sync exchange.");
    let mut cumulative = 0;
    for (i, n) in s.latency_counts.iter().enumerate() {
        cumulative += n;
        match LATENCY_BUCKETS.get(i) {
            Some(bound) => {
                put!(out, "ledger_hub_sync_seconds_bucket{{le=\"{bound}\"}} {cumulative}")
            }
            None => {
                put!(out, "ledger_hub_sync_seconds_bucket{{le=\"+Inf\"}} {cumulative}")
            }
        }
    }
    put!(out, "ledger_hub_sync_seconds_sum {}", s.latency_sum_micros as f64 / 1e6);
    put!(out, "ledger_hub_sync_seconds_count {cumulative}");
    if let Some(pool) = &s.gauges.pool {
        header(&mut out, "ledger_hub_db_connections", "gauge", "Database connections, by state.");
        put!(out, "ledger_hub_db_connections{{state=\"open\"}} {}", pool.open);
        put!(out, "ledger_hub_db_connections{{state=\"idle\"}} {}", pool.idle);
        put!(out, "ledger_hub_db_connections{{state=\"max\"}} {}", pool.max);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_text() {
        let m = Metrics::default();
        m.record_request("/v1/sync", 200, 100, 2000);
        m.record_request("/v1/sync", 200, 50, 10);
        m.record_request("/v1/sync", 401, 0, 80);
        m.record_changes(
            3,
            &[Refused {
                hash: "h".into(),
                case_id: uuid::Uuid::nil(),
                reason: "越权".into(),
                rule: "scope".into(),
            }],
        );
        m.record_sync_seconds(0.004);
        m.record_sync_seconds(0.3);
        m.record_sync_seconds(9.0);
        let text = m.render(&Gauges {
            pending: vec![("hq".into(), 7), ("a\"b".into(), 1)],
            pool: Some(PoolStats { open: 3, idle: 2, max: 16 }),
        });
        for line in [
            "ledger_hub_requests_total{route=\"/v1/sync\",status=\"200\"} 2",
            "ledger_hub_requests_total{route=\"/v1/sync\",status=\"401\"} 1",
            "ledger_hub_http_bytes_total{route=\"/v1/sync\",direction=\"in\"} 150",
            "ledger_hub_http_bytes_total{route=\"/v1/sync\",direction=\"out\"} 2090",
            "ledger_hub_changes_accepted_total 3",
            "ledger_hub_changes_refused_total{rule=\"scope\"} 1",
            "ledger_hub_pending_changes{office=\"hq\"} 7",
            "ledger_hub_pending_changes{office=\"a\\\"b\"} 1",
            "ledger_hub_sync_seconds_bucket{le=\"0.005\"} 1",
            "ledger_hub_sync_seconds_bucket{le=\"0.25\"} 1",
            "ledger_hub_sync_seconds_bucket{le=\"0.5\"} 2",
            "ledger_hub_sync_seconds_bucket{le=\"+Inf\"} 3",
            "ledger_hub_sync_seconds_count 3",
            "ledger_hub_db_connections{state=\"open\"} 3",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("ledger_hub_sync_seconds_sum "))
            .unwrap()
            .parse()
            .unwrap();
        assert!((sum - 9.304).abs() < 1e-6, "{sum}");
    }

    #[test]
    fn a_store_without_a_pool_shows_no_pool_lines() {
        let text = Metrics::default().render(&Gauges::default());
        assert!(!text.contains("ledger_hub_db_connections"));
        assert!(text.contains("ledger_hub_sync_seconds_count 0"));
    }
}
