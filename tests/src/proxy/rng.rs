//! The reset dice: one seeded stream per connection and direction (Xoshiro256++ from `rand`), so
//! that a run can be repeated exactly.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt as _, SeedableRng as _};

/// Which dice of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    /// Rolled once when the connection is accepted.
    Connection = 1,
    /// Rolled per chunk from the client to the upstream.
    Up = 2,
    /// Rolled per chunk from the upstream to the client.
    Down = 3,
}

/// The dice of one stream.
#[derive(Debug, Clone)]
pub(crate) struct Dice(Xoshiro256PlusPlus);

impl Dice {
    /// The dice of one stream of connection `connection` under `seed`: independent of how
    /// connections interleave in time.
    pub(crate) fn new(seed: u64, connection: u64, stream: Stream) -> Self {
        // One number per (seed, connection, stream); `seed_from_u64` spreads it over the whole
        // state (a state filled with the three words as they are would give every connection
        // the same first roll).
        let key = seed.rotate_left(32)
            ^ connection.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (stream as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        Self(Xoshiro256PlusPlus::seed_from_u64(key))
    }

    /// True with probability `p`; never for `p <= 0` or NaN, always for `p >= 1`. Consumes a
    /// roll only when the outcome is in doubt, so a profile without resets leaves the dice as
    /// they were.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        if p.is_nan() || p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.0.random_bool(p)
    }
}
