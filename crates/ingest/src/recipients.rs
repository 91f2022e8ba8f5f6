//! Recipients as numbers, and the fixed-memory record of which ones a campaign already has.
//!
//! A campaign's duplicate check must remember every recipient before the current row. An exact set grows with the
//! file (16 bytes a row, doubled while it resizes: ~100 MB at 3 million rows); [`SeenFilter`] is a Bloom filter of
//! fixed size instead, so memory stays flat whatever the row count. It answers "certainly new" or "maybe seen": a
//! "maybe" is exact when the same number already got a "maybe" (the validator then rejects the row at once), and
//! otherwise is settled by a second read of the file (`Validator::resolve`), which happens only when the file has
//! duplicates or, rarely, a false positive (none expected below several million rows).

use std::hash::{BuildHasherDefault, Hasher};

/// A recipient as a number: E.164 has at most 20 digits here (3 + the crate's 17), which fit in a u128 and hash in
/// a few nanoseconds, where a million `String` keys would not.
pub(crate) type Recipient = u128;

/// The number of an E.164 string (`+` and digits), if it is one.
pub(crate) fn recipient(e164: &str) -> Option<Recipient> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || digits.len() > 38 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Multiply-fold hashing for [`Recipient`] keys, a few times cheaper than SipHash. Not DoS-resistant, and need not
/// be: a file crafted to collide slows only its own campaign's ingestion, and a collision costs a probe, never a
/// wrong answer.
#[derive(Default)]
pub(crate) struct RecipientHasher(u64);

impl Hasher for RecipientHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 ^= self.0 >> 32;
    }

    fn write_u128(&mut self, n: u128) {
        let folded = (n as u64) ^ ((n >> 64) as u64).rotate_left(29);
        self.0 = (self.0 ^ folded).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 ^= self.0 >> 32;
    }
}

/// Hash maps and sets keyed by [`Recipient`].
pub(crate) type RecipientBuild = BuildHasherDefault<RecipientHasher>;

/// 2^27 bits = 16 MiB. With [`PROBES`] = 7, the chance that a new number reads "maybe seen" is below 10^-9 after a
/// million numbers and about 0.2 % after ten million.
const FILTER_BITS_LOG2: u32 = 27;
const PROBES: u64 = 7;

/// A Bloom filter of recipients: fixed memory, no false "new".
pub(crate) struct SeenFilter {
    words: Vec<u64>,
}

impl SeenFilter {
    /// An empty filter. The pages are zeroed lazily by the kernel, so a small file touches only a few of them.
    pub(crate) fn new() -> Self {
        SeenFilter {
            words: vec![0; 1 << (FILTER_BITS_LOG2 - 6)],
        }
    }

    /// Record `key`; true when it may have been recorded before, false when it certainly was not.
    pub(crate) fn insert(&mut self, key: Recipient) -> bool {
        let (h1, h2) = hashes(key);
        let mask = (1u64 << FILTER_BITS_LOG2) - 1;
        let mut seen = true;
        for i in 0..PROBES {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) & mask;
            let (word, bit) = ((bit >> 6) as usize, 1u64 << (bit & 63));
            if let Some(w) = self.words.get_mut(word) {
                seen &= *w & bit != 0;
                *w |= bit;
            }
        }
        seen
    }
}

/// Two independent 64-bit hashes (the second odd) for double hashing.
fn hashes(key: Recipient) -> (u64, u64) {
    fn mix(mut x: u64) -> u64 {
        // splitmix64's finaliser.
        x ^= x >> 30;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    let (lo, hi) = (key as u64, (key >> 64) as u64);
    let h1 = mix(lo ^ mix(hi));
    let h2 = mix(h1 ^ 0x9E37_79B9_7F4A_7C15) | 1;
    (h1, h2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_the_digits() {
        assert_eq!(recipient("+5491123456789"), Some(5_491_123_456_789));
        assert_eq!(recipient("5491123456789"), None);
        assert_eq!(recipient("+"), None);
        assert_eq!(recipient("+54 9"), None);
    }

    #[test]
    fn the_filter_never_forgets_and_rarely_imagines() {
        let mut filter = SeenFilter::new();
        let base = 5_491_100_000_000u128;
        for n in 0..200_000 {
            assert!(!filter.insert(base + n * 7), "{n} was never inserted");
        }
        for n in 0..200_000 {
            assert!(filter.insert(base + n * 7), "{n} was inserted");
        }
        // Numbers never inserted: false positives at 200k entries should be essentially nil.
        let imagined = (0..200_000).filter(|n| filter.insert(base + n * 7 + 3)).count();
        assert_eq!(imagined, 0);
    }
}
