//! What a simulated link does to the bytes it carries ([`LinkProfile`]), and the textual link
//! spec the benchmark takes on its command line (`"rtt=300ms,rate=64kbit,cut-every=20KiB"`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Seed of the reset dice when a profile does not choose one.
pub const DEFAULT_SEED: u64 = 0x5EED_1ED6_E700_0001;

/// The faults a [`FaultProxy`](super::FaultProxy) applies to every connection it relays.
///
/// `LinkProfile::default()` is a clean link: bytes pass unchanged, as fast as they come. Every
/// limit applies to each connection on its own and again to every new connection, while the
/// profile is in force; a profile swapped in with
/// [`set_profile`](super::FaultProxy::set_profile) also takes effect on connections already
/// open.
///
/// The textual form is parsed by [`FromStr`] and written back by [`Display`](fmt::Display):
///
/// | item            | meaning                                                      |
/// |-----------------|--------------------------------------------------------------|
/// | `rtt=300ms`     | round trip time; half of it becomes [`latency`](Self::latency) (units `ns`, `us`, `ms`, `s`) |
/// | `latency=150ms` | one-way latency                                              |
/// | `rate=64kbit`   | [`rate`](Self::rate) (units `bit`, `kbit`, `mbit`, `gbit`; decimal) |
/// | `cut-up=N`      | [`cut_up`](Self::cut_up) (sizes `B`, `KiB`, `MiB`, `GiB`, or bare bytes) |
/// | `cut-down=N`    | [`cut_down`](Self::cut_down)                                 |
/// | `cut-every=N`   | [`cut_every`](Self::cut_every)                               |
/// | `reset=0.01`    | [`reset_chunk`](Self::reset_chunk)                           |
/// | `reset-conn=0.1`| [`reset_connection`](Self::reset_connection)                 |
/// | `seed=42`       | [`seed`](Self::seed)                                         |
/// | `blackhole`     | [`blackhole`](Self::blackhole)                               |
/// | `clean`         | nothing; the empty spec is a clean link too                  |
///
/// ```
/// use std::time::Duration;
/// use ledger_tests::LinkProfile;
///
/// let link: LinkProfile = "rtt=300ms,rate=64kbit,cut-every=20KiB".parse()?;
/// assert_eq!(link.latency, Duration::from_millis(150));
/// assert_eq!(link.rate, Some(64_000));
/// assert_eq!(link.cut_every, Some(20 * 1024));
/// assert_eq!(link.to_string(), "rtt=300ms,rate=64kbit,cut-every=20KiB");
/// # Ok::<(), ledger_tests::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LinkProfile {
    /// One-way latency, added to every chunk in each direction: a request and its response
    /// together pay it twice.
    pub latency: Duration,
    /// Bandwidth cap in bits per second, per direction, shared by all connections through the
    /// proxy (the proxy is one link). `None` (or `Some(0)`) is no cap.
    pub rate: Option<u64>,
    /// Cut a connection once it has carried this many bytes from the client to the upstream;
    /// the upstream receives exactly this many.
    pub cut_up: Option<u64>,
    /// Cut a connection once it has carried this many bytes from the upstream to the client;
    /// the client receives exactly this many.
    pub cut_down: Option<u64>,
    /// Cut a connection once it has carried this many bytes in both directions together: a
    /// link that never carries more than this on one connection.
    pub cut_every: Option<u64>,
    /// Probability, per chunk relayed, that the connection is reset instead (0 to 1).
    pub reset_chunk: f64,
    /// Probability, per accepted connection, that it is reset at once, before anything is
    /// relayed (0 to 1).
    pub reset_connection: f64,
    /// Seed of the reset dice. The dice of connection *n* depend only on the seed and *n*, so a
    /// run with the same seed and the same traffic resets the same connections.
    pub seed: u64,
    /// Accept connections but forward nothing in either direction: new connections are held
    /// without reaching the upstream, open ones stall. Bytes held are delivered once the black
    /// hole is lifted, as after a real outage shorter than the peers' patience.
    pub blackhole: bool,
}

impl Default for LinkProfile {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            rate: None,
            cut_up: None,
            cut_down: None,
            cut_every: None,
            reset_chunk: 0.0,
            reset_connection: 0.0,
            seed: DEFAULT_SEED,
            blackhole: false,
        }
    }
}

impl LinkProfile {
    /// A clean link: no latency, no cap, no faults.
    #[must_use]
    pub fn clean() -> Self {
        Self::default()
    }

    /// A link that accepts connections and never answers.
    #[must_use]
    pub fn black_hole() -> Self {
        Self { blackhole: true, ..Self::default() }
    }

    /// With this one-way latency.
    #[must_use]
    pub fn with_latency(mut self, one_way: Duration) -> Self {
        self.latency = one_way;
        self
    }

    /// With this round trip time (half of it each way).
    #[must_use]
    pub fn with_rtt(mut self, rtt: Duration) -> Self {
        self.latency = rtt / 2;
        self
    }

    /// With a bandwidth cap in bits per second per direction.
    #[must_use]
    pub fn with_rate(mut self, bits_per_second: u64) -> Self {
        self.rate = Some(bits_per_second);
        self
    }

    /// Cutting each connection after `bytes` client-to-upstream bytes.
    #[must_use]
    pub fn with_cut_up(mut self, bytes: u64) -> Self {
        self.cut_up = Some(bytes);
        self
    }

    /// Cutting each connection after `bytes` upstream-to-client bytes.
    #[must_use]
    pub fn with_cut_down(mut self, bytes: u64) -> Self {
        self.cut_down = Some(bytes);
        self
    }

    /// Cutting each connection after `bytes` bytes in both directions together.
    #[must_use]
    pub fn with_cut_every(mut self, bytes: u64) -> Self {
        self.cut_every = Some(bytes);
        self
    }

    /// Resetting a connection with this probability per chunk relayed.
    #[must_use]
    pub fn with_reset_chunk(mut self, probability: f64) -> Self {
        self.reset_chunk = probability;
        self
    }

    /// Resetting a new connection at once with this probability.
    #[must_use]
    pub fn with_reset_connection(mut self, probability: f64) -> Self {
        self.reset_connection = probability;
        self
    }

    /// With this seed for the reset dice.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Turning the black hole on or off.
    #[must_use]
    pub fn with_blackhole(mut self, on: bool) -> Self {
        self.blackhole = on;
        self
    }

    /// The bandwidth cap, if there is one.
    pub(crate) fn bits_per_second(&self) -> Option<u64> {
        self.rate.filter(|bits| *bits > 0)
    }
}

/// Why a textual link spec could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A setting the spec language does not have.
    #[error(
        "unknown link setting `{0}` (expected rtt, latency, rate, cut-up, cut-down, cut-every, \
         reset, reset-conn, seed, blackhole or clean)"
    )]
    UnknownKey(String),
    /// A setting that needs a value was given none.
    #[error("link setting `{key}` needs a value, e.g. `{key}={example}`")]
    MissingValue {
        /// The setting.
        key: &'static str,
        /// A valid value, for the message.
        example: &'static str,
    },
    /// A flag was given a value.
    #[error("link setting `{0}` takes no value")]
    UnexpectedValue(&'static str),
    /// The same setting twice (`rtt` and `latency` are the same setting).
    #[error("link setting `{0}` is given more than once")]
    Duplicate(&'static str),
    /// A value that does not parse or is out of range.
    #[error("invalid value `{value}` for `{key}`: expected {expected}")]
    InvalidValue {
        /// The setting.
        key: &'static str,
        /// The value as written.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
}

const DURATION_EXPECTED: &str = "a whole number with a unit ns, us, ms or s, at most 1 hour";
const RATE_EXPECTED: &str = "a positive whole number with a unit bit, kbit, mbit or gbit";
const SIZE_EXPECTED: &str = "a whole number of bytes, optionally with a unit B, KiB, MiB or GiB";
const PROBABILITY_EXPECTED: &str = "a probability between 0 and 1";
const SEED_EXPECTED: &str = "a whole number";

/// Longest latency the spec accepts; longer ones are a typo, not a link.
const MAX_SPEC_DURATION: Duration = Duration::from_secs(3600);

impl FromStr for LinkProfile {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let mut link = Self::default();
        let mut seen: Vec<&'static str> = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let (key, value) = match item.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (item, None),
            };
            let setting = Setting::from_key(key)?;
            let canonical = setting.canonical();
            if canonical != "clean" {
                if seen.contains(&canonical) {
                    return Err(SpecError::Duplicate(canonical));
                }
                seen.push(canonical);
            }
            setting.apply(&mut link, value)?;
        }
        Ok(link)
    }
}

/// One item of the spec language.
#[derive(Clone, Copy)]
enum Setting {
    Rtt,
    Latency,
    Rate,
    CutUp,
    CutDown,
    CutEvery,
    Reset,
    ResetConnection,
    Seed,
    Blackhole,
    Clean,
}

impl Setting {
    fn from_key(key: &str) -> Result<Self, SpecError> {
        Ok(match key {
            "rtt" => Self::Rtt,
            "latency" => Self::Latency,
            "rate" => Self::Rate,
            "cut-up" => Self::CutUp,
            "cut-down" => Self::CutDown,
            "cut-every" => Self::CutEvery,
            "reset" => Self::Reset,
            "reset-conn" => Self::ResetConnection,
            "seed" => Self::Seed,
            "blackhole" => Self::Blackhole,
            "clean" => Self::Clean,
            other => return Err(SpecError::UnknownKey(other.to_owned())),
        })
    }

    fn key(self) -> &'static str {
        match self {
            Self::Rtt => "rtt",
            Self::Latency => "latency",
            Self::Rate => "rate",
            Self::CutUp => "cut-up",
            Self::CutDown => "cut-down",
            Self::CutEvery => "cut-every",
            Self::Reset => "reset",
            Self::ResetConnection => "reset-conn",
            Self::Seed => "seed",
            Self::Blackhole => "blackhole",
            Self::Clean => "clean",
        }
    }

    /// The name duplicates are judged by: `rtt` and `latency` set the same field.
    fn canonical(self) -> &'static str {
        match self {
            Self::Latency => "rtt",
            other => other.key(),
        }
    }

    fn example(self) -> &'static str {
        match self {
            Self::Rtt => "300ms",
            Self::Latency => "150ms",
            Self::Rate => "64kbit",
            Self::CutUp | Self::CutDown | Self::CutEvery => "20KiB",
            Self::Reset | Self::ResetConnection => "0.01",
            Self::Seed => "42",
            Self::Blackhole | Self::Clean => "",
        }
    }

    fn apply(self, link: &mut LinkProfile, value: Option<&str>) -> Result<(), SpecError> {
        let key = self.key();
        if matches!(self, Self::Blackhole | Self::Clean) {
            if value.is_some() {
                return Err(SpecError::UnexpectedValue(key));
            }
            link.blackhole |= matches!(self, Self::Blackhole);
            return Ok(());
        }
        let value = value
            .filter(|value| !value.is_empty())
            .ok_or(SpecError::MissingValue { key, example: self.example() })?;
        match self {
            Self::Rtt => link.latency = parse_duration(key, value)? / 2,
            Self::Latency => link.latency = parse_duration(key, value)?,
            Self::Rate => link.rate = Some(parse_rate(key, value)?),
            Self::CutUp => link.cut_up = Some(parse_size(key, value)?),
            Self::CutDown => link.cut_down = Some(parse_size(key, value)?),
            Self::CutEvery => link.cut_every = Some(parse_size(key, value)?),
            Self::Reset => link.reset_chunk = parse_probability(key, value)?,
            Self::ResetConnection => link.reset_connection = parse_probability(key, value)?,
            Self::Seed => {
                link.seed = value.parse().map_err(|_| invalid(key, value, SEED_EXPECTED))?;
            }
            Self::Blackhole | Self::Clean => {}
        }
        Ok(())
    }
}

fn invalid(key: &'static str, value: &str, expected: &'static str) -> SpecError {
    SpecError::InvalidValue { key, value: value.to_owned(), expected }
}

/// Splits `"64kbit"` into `(64, "kbit")`.
fn number_and_unit(value: &str) -> Option<(u64, &str)> {
    let digits = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let number = value.get(..digits)?.parse().ok()?;
    Some((number, value.get(digits..)?.trim()))
}

fn parse_duration(key: &'static str, value: &str) -> Result<Duration, SpecError> {
    let error = || invalid(key, value, DURATION_EXPECTED);
    let (number, unit) = number_and_unit(value).ok_or_else(error)?;
    let duration = match unit {
        "ns" => Duration::from_nanos(number),
        "us" => Duration::from_micros(number),
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        _ => return Err(error()),
    };
    if duration > MAX_SPEC_DURATION {
        return Err(error());
    }
    Ok(duration)
}

fn parse_rate(key: &'static str, value: &str) -> Result<u64, SpecError> {
    let error = || invalid(key, value, RATE_EXPECTED);
    let (number, unit) = number_and_unit(value).ok_or_else(error)?;
    let scale = RATE_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, scale)| *scale)
        .ok_or_else(error)?;
    number.checked_mul(scale).filter(|bits| *bits > 0).ok_or_else(error)
}

fn parse_size(key: &'static str, value: &str) -> Result<u64, SpecError> {
    let error = || invalid(key, value, SIZE_EXPECTED);
    let (number, unit) = number_and_unit(value).ok_or_else(error)?;
    let scale = match unit {
        "" => 1,
        _ => SIZE_UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(error)?,
    };
    number.checked_mul(scale).ok_or_else(error)
}

fn parse_probability(key: &'static str, value: &str) -> Result<f64, SpecError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| invalid(key, value, PROBABILITY_EXPECTED))
}

/// Largest unit first, so that [`Display`](fmt::Display) picks the shortest exact form.
const RATE_UNITS: [(&str, u64); 4] =
    [("gbit", 1_000_000_000), ("mbit", 1_000_000), ("kbit", 1_000), ("bit", 1)];

const SIZE_UNITS: [(&str, u64); 4] =
    [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)];

/// `number` in the largest unit that divides it exactly.
fn with_unit(number: u64, units: &[(&str, u64)]) -> String {
    units.iter().find(|(_, scale)| number != 0 && number.is_multiple_of(*scale)).map_or_else(
        || format!("{number}{}", units.last().map_or("", |(name, _)| name)),
        |(name, scale)| format!("{}{name}", number / scale),
    )
}

fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", duration.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", duration.as_millis())
    } else if nanos.is_multiple_of(1_000) {
        format!("{}us", duration.as_micros())
    } else {
        format!("{nanos}ns")
    }
}

impl fmt::Display for LinkProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = Vec::new();
        if !self.latency.is_zero() {
            match self.latency.checked_mul(2) {
                Some(rtt) => items.push(format!("rtt={}", format_duration(rtt))),
                None => items.push(format!("latency={}", format_duration(self.latency))),
            }
        }
        if let Some(bits) = self.bits_per_second() {
            items.push(format!("rate={}", with_unit(bits, &RATE_UNITS)));
        }
        let cuts =
            [("cut-up", self.cut_up), ("cut-down", self.cut_down), ("cut-every", self.cut_every)];
        for (key, bytes) in cuts {
            if let Some(bytes) = bytes {
                items.push(format!("{key}={}", with_unit(bytes, &SIZE_UNITS)));
            }
        }
        if self.reset_chunk > 0.0 {
            items.push(format!("reset={}", self.reset_chunk));
        }
        if self.reset_connection > 0.0 {
            items.push(format!("reset-conn={}", self.reset_connection));
        }
        if self.seed != DEFAULT_SEED {
            items.push(format!("seed={}", self.seed));
        }
        if self.blackhole {
            items.push("blackhole".to_owned());
        }
        if items.is_empty() { f.write_str("clean") } else { f.write_str(&items.join(",")) }
    }
}
