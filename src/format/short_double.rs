//! A fast path for `Double.toString` (`java::write_double`): the digits of a double that is a
//! short decimal — `n / 10^k` exactly as f64 division rounds it, with `n < 10^15` and `k <= 3`
//! (prices, amounts, small integers) — without the general shortest-digits search.
//!
//! Why the digits of `n` are then the ones Java writes: `d` is the double nearest `n·10^-k`,
//! so that decimal round-trips; any other decimal of as many or fewer significant digits is at
//! least `10^-k` away from it, far more than half an ulp of `d` (below `n·10^-k · 2^-53`) once
//! `n < 10^15`, so none round-trips, and Java's two-digit rule for one-digit results picks the
//! same digit (the exact value is within that half ulp of it).

/// Largest scaled value taken (exclusive): 15 significant digits.
const LIMIT: f64 = 1e15;
const POWERS: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];

/// The significant digits of finite, non-zero `d` (into `digits`: how many) and the decimal
/// exponent of the first; `None` when `d` is not a short decimal (the caller then uses `fmt`).
pub(super) fn digits(d: f64, digits: &mut [u8; 32]) -> Option<(usize, i32)> {
    let abs = d.abs();
    let (k, n) = POWERS.iter().enumerate().find_map(|(k, &power)| {
        let scaled = abs * power;
        let exact = scaled < LIMIT && scaled.fract() == 0.0 && scaled / power == abs;
        exact.then_some((k as i32, scaled as u64))
    })?;
    if n == 0 {
        return None;
    }
    let mut text = [0u8; 20];
    let mut start = text.len();
    let mut rest = n;
    while rest > 0 {
        start -= 1;
        text[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let all = &text[start..];
    let exp = all.len() as i32 - 1 - k;
    let significant = all.len() - all.iter().rev().take_while(|b| **b == b'0').count();
    digits[..significant].copy_from_slice(&all[..significant]);
    Some((significant, exp))
}

#[cfg(test)]
mod tests {
    use super::digits;
    use crate::format::java::digits_by_fmt;
    use proptest::prelude::*;

    /// Where the fast path applies, it agrees with the general one.
    fn agrees(d: f64) {
        let (mut fast, mut general) = ([0u8; 32], [0u8; 32]);
        if let Some((len, exp)) = digits(d, &mut fast) {
            let (glen, gexp) = digits_by_fmt(d, &mut general).expect("digits");
            assert_eq!((&fast[..len], exp), (&general[..glen], gexp), "{d:e}");
        }
    }

    #[test]
    fn reads_short_decimals() {
        let mut buf = [0u8; 32];
        assert_eq!(digits(22.5, &mut buf), Some((3, 1)));
        assert_eq!(&buf[..3], b"225");
        assert_eq!(digits(30.0, &mut buf), Some((1, 1)));
        assert_eq!(digits(0.001, &mut buf), Some((1, -3)));
        assert_eq!(digits(1e-4, &mut buf), None);
        assert_eq!(digits(0.1 + 0.2, &mut buf), None);
        for d in [
            1.0,
            0.1,
            0.3,
            22.5,
            -7.25,
            123456.789,
            1e14,
            999999999999999.0,
            4.35,
        ] {
            agrees(d);
        }
    }

    proptest! {
        #[test]
        fn agrees_with_fmt_on_decimals(n in 1i64..2_000_000_000_000_000, k in 0u32..6) {
            agrees(n as f64 / 10f64.powi(k as i32));
        }

        #[test]
        fn agrees_with_fmt_on_any_double(bits in any::<u64>()) {
            let d = f64::from_bits(bits);
            if d.is_finite() && d != 0.0 {
                agrees(d);
            }
        }
    }
}
