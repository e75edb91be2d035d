//! The reset dice: a seeded xorshift64* generator, one stream per connection and direction, so
//! that a run can be repeated exactly.

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

/// xorshift64* (Vigna): small, fast and good enough for fault dice.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// The dice of one stream of connection `connection` under `seed`: independent of how
    /// connections interleave in time.
    pub(crate) fn new(seed: u64, connection: u64, stream: Stream) -> Self {
        let state =
            splitmix64(seed ^ splitmix64(connection.wrapping_mul(4).wrapping_add(stream as u64)));
        // xorshift never leaves the all-zero state.
        Self(if state == 0 { 0x9E37_79B9_7F4A_7C15 } else { state })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
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
        let unit = (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64;
        unit < p
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
