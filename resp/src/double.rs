//! Double formatting exactly as Redis 7.2 spells doubles in replies.
//!
//! Redis 7.2 formats every double it sends (RESP3 `,` frames, and the bulk
//! strings that stand in for them in RESP2: `ZSCORE`, `INCRBYFLOAT`, ...) with
//! `d2string()`:
//!
//! - `nan`, `inf` and `-inf` are spelled explicitly;
//! - zero is `0` or `-0` depending on its sign bit;
//! - an integral value within ±2^62 is printed as a plain integer (`3`, not
//!   `3.0`, and `1000000000000000000`, not `1e+18`);
//! - everything else goes through `fpconv_dtoa`, a Grisu2 implementation.
//!
//! Grisu2 is *not* guaranteed to find the shortest representation (it does in
//! about 99.9% of cases) and when several shortest candidates exist it may pick
//! a different one than Ryu or `std`'s formatter, so Rust's `{}` cannot be used
//! to produce byte-identical replies. This module therefore re-implements the
//! same Grisu2 variant (same cached powers, same digit generation and rounding
//! loop, same exponent layout) so that Ferrum's replies match Redis byte for
//! byte, e.g. `1e+20`, `1e-07` is written `1e-7`, `0.0001`, `1.5e+300`.

/// The longest string [`format_double`] can produce: 25 bytes, as in
/// `-123456789012345670000000` (17 digits and up to 7 zeros); the 40-byte
/// buffer leaves ample room.
const MAX_LEN: usize = 25;

/// Writes `d` the way Redis 7.2's `d2string()` does into `buf` and returns the
/// written prefix. The output is ASCII and always parses back to the same `f64`
/// (except for NaN, which is always spelled `nan`).
pub fn format_double(d: f64, buf: &mut [u8; 40]) -> &[u8] {
    let n = write_double(d, buf);
    &buf[..n]
}

/// [`format_double`] into a new `String`, convenient outside hot paths.
pub fn double_to_string(d: f64) -> String {
    let mut buf = [0u8; 40];
    let s = format_double(d, &mut buf);
    // The formatter only ever writes ASCII digits, signs, '.', 'e' and letters.
    String::from_utf8_lossy(s).into_owned()
}

fn write_double(d: f64, buf: &mut [u8; 40]) -> usize {
    if d.is_nan() {
        return put(buf, b"nan");
    }
    if d.is_infinite() {
        return put(buf, if d < 0.0 { b"-inf" } else { b"inf" });
    }
    if d == 0.0 {
        // Signed zero is preserved: Redis checks `1.0/value < 0`.
        return put(buf, if d.is_sign_negative() { b"-0" } else { b"0" });
    }
    if let Some(i) = exact_small_integer(d) {
        let mut tmp = [0u8; 20];
        let s = crate::reply::fmt_i64(i, &mut tmp);
        return put(buf, s);
    }
    grisu::dtoa(d, buf)
}

/// Redis's `double2ll()`: the integer fast path applies to values in
/// `[-(LLONG_MAX/2), LLONG_MAX/2]` (both bounds round to ±2^62 as doubles)
/// that have no fractional part.
fn exact_small_integer(d: f64) -> Option<i64> {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if !(-LIMIT..=LIMIT).contains(&d) {
        return None;
    }
    // In range, so the conversion truncates toward zero without saturating.
    let i = d as i64;
    (i as f64 == d).then_some(i)
}

fn put(buf: &mut [u8; 40], s: &[u8]) -> usize {
    buf[..s.len()].copy_from_slice(s);
    s.len()
}

/// Grisu2 digit generation and the `%g`-like layout used by `fpconv_dtoa`.
mod grisu {
    use super::MAX_LEN;

    const FRAC_MASK: u64 = 0x000F_FFFF_FFFF_FFFF;
    const EXP_MASK: u64 = 0x7FF0_0000_0000_0000;
    const HIDDEN_BIT: u64 = 0x0010_0000_0000_0000;
    const EXP_BIAS: i32 = 1023 + 52;

    /// A "do-it-yourself floating point" number: `frac * 2^exp`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) struct Fp {
        pub(super) frac: u64,
        pub(super) exp: i32,
    }

    /// Powers of ten `10^k` for `k = FIRST_POWER + i * POWER_STEP`, as 64-bit
    /// normalized significands rounded to nearest. Generated with exact rational
    /// arithmetic; these are the standard Grisu cached powers.
    pub(super) const POWERS: [Fp; 87] = {
        const RAW: [(u64, i32); 87] = [
            (0xfa8fd5a0081c0288, -1220),
            (0xbaaee17fa23ebf76, -1193),
            (0x8b16fb203055ac76, -1166),
            (0xcf42894a5dce35ea, -1140),
            (0x9a6bb0aa55653b2d, -1113),
            (0xe61acf033d1a45df, -1087),
            (0xab70fe17c79ac6ca, -1060),
            (0xff77b1fcbebcdc4f, -1034),
            (0xbe5691ef416bd60c, -1007),
            (0x8dd01fad907ffc3c, -980),
            (0xd3515c2831559a83, -954),
            (0x9d71ac8fada6c9b5, -927),
            (0xea9c227723ee8bcb, -901),
            (0xaecc49914078536d, -874),
            (0x823c12795db6ce57, -847),
            (0xc21094364dfb5637, -821),
            (0x9096ea6f3848984f, -794),
            (0xd77485cb25823ac7, -768),
            (0xa086cfcd97bf97f4, -741),
            (0xef340a98172aace5, -715),
            (0xb23867fb2a35b28e, -688),
            (0x84c8d4dfd2c63f3b, -661),
            (0xc5dd44271ad3cdba, -635),
            (0x936b9fcebb25c996, -608),
            (0xdbac6c247d62a584, -582),
            (0xa3ab66580d5fdaf6, -555),
            (0xf3e2f893dec3f126, -529),
            (0xb5b5ada8aaff80b8, -502),
            (0x87625f056c7c4a8b, -475),
            (0xc9bcff6034c13053, -449),
            (0x964e858c91ba2655, -422),
            (0xdff9772470297ebd, -396),
            (0xa6dfbd9fb8e5b88f, -369),
            (0xf8a95fcf88747d94, -343),
            (0xb94470938fa89bcf, -316),
            (0x8a08f0f8bf0f156b, -289),
            (0xcdb02555653131b6, -263),
            (0x993fe2c6d07b7fac, -236),
            (0xe45c10c42a2b3b06, -210),
            (0xaa242499697392d3, -183),
            (0xfd87b5f28300ca0e, -157),
            (0xbce5086492111aeb, -130),
            (0x8cbccc096f5088cc, -103),
            (0xd1b71758e219652c, -77),
            (0x9c40000000000000, -50),
            (0xe8d4a51000000000, -24),
            (0xad78ebc5ac620000, 3),
            (0x813f3978f8940984, 30),
            (0xc097ce7bc90715b3, 56),
            (0x8f7e32ce7bea5c70, 83),
            (0xd5d238a4abe98068, 109),
            (0x9f4f2726179a2245, 136),
            (0xed63a231d4c4fb27, 162),
            (0xb0de65388cc8ada8, 189),
            (0x83c7088e1aab65db, 216),
            (0xc45d1df942711d9a, 242),
            (0x924d692ca61be758, 269),
            (0xda01ee641a708dea, 295),
            (0xa26da3999aef774a, 322),
            (0xf209787bb47d6b85, 348),
            (0xb454e4a179dd1877, 375),
            (0x865b86925b9bc5c2, 402),
            (0xc83553c5c8965d3d, 428),
            (0x952ab45cfa97a0b3, 455),
            (0xde469fbd99a05fe3, 481),
            (0xa59bc234db398c25, 508),
            (0xf6c69a72a3989f5c, 534),
            (0xb7dcbf5354e9bece, 561),
            (0x88fcf317f22241e2, 588),
            (0xcc20ce9bd35c78a5, 614),
            (0x98165af37b2153df, 641),
            (0xe2a0b5dc971f303a, 667),
            (0xa8d9d1535ce3b396, 694),
            (0xfb9b7cd9a4a7443c, 720),
            (0xbb764c4ca7a44410, 747),
            (0x8bab8eefb6409c1a, 774),
            (0xd01fef10a657842c, 800),
            (0x9b10a4e5e9913129, 827),
            (0xe7109bfba19c0c9d, 853),
            (0xac2820d9623bf429, 880),
            (0x80444b5e7aa7cf85, 907),
            (0xbf21e44003acdd2d, 933),
            (0x8e679c2f5e44ff8f, 960),
            (0xd433179d9c8cb841, 986),
            (0x9e19db92b4e31ba9, 1013),
            (0xeb96bf6ebadf77d9, 1039),
            (0xaf87023b9bf0ee6b, 1066),
        ];
        let mut out = [Fp { frac: 0, exp: 0 }; 87];
        let mut i = 0;
        while i < RAW.len() {
            out[i] = Fp {
                frac: RAW[i].0,
                exp: RAW[i].1,
            };
            i += 1;
        }
        out
    };
    const FIRST_POWER: i32 = -348;
    const POWER_STEP: i32 = 8;
    /// Grisu2 wants the scaled upper boundary's binary exponent in this window.
    const EXP_MIN: i32 = -60;
    const EXP_MAX: i32 = -32;

    /// `10^(19-i)` for `i` in `0..20`.
    const TENS: [u64; 20] = {
        let mut t = [1u64; 20];
        let mut i = 19;
        while i > 0 {
            t[i - 1] = t[i] * 10;
            i -= 1;
        }
        t
    };

    fn build_fp(d: f64) -> Fp {
        let bits = d.to_bits();
        let frac = bits & FRAC_MASK;
        let biased = ((bits & EXP_MASK) >> 52) as i32;
        if biased != 0 {
            Fp {
                frac: frac + HIDDEN_BIT,
                exp: biased - EXP_BIAS,
            }
        } else {
            // Subnormal: no hidden bit, minimum exponent.
            Fp {
                frac,
                exp: 1 - EXP_BIAS,
            }
        }
    }

    fn normalize(fp: Fp) -> Fp {
        let mut fp = fp;
        while fp.frac & HIDDEN_BIT == 0 {
            fp.frac <<= 1;
            fp.exp -= 1;
        }
        let shift = 64 - 52 - 1;
        Fp {
            frac: fp.frac << shift,
            exp: fp.exp - shift,
        }
    }

    /// The midpoints between `fp` and its neighbours, both scaled to the same
    /// (normalized) exponent. The lower gap is half as wide when `fp` is a power
    /// of two, because the next smaller double is closer.
    fn normalized_boundaries(fp: Fp) -> (Fp, Fp) {
        let mut upper = Fp {
            frac: (fp.frac << 1) + 1,
            exp: fp.exp - 1,
        };
        while upper.frac & (HIDDEN_BIT << 1) == 0 {
            upper.frac <<= 1;
            upper.exp -= 1;
        }
        let u_shift = 64 - 52 - 2;
        upper.frac <<= u_shift;
        upper.exp -= u_shift;

        let l_shift = if fp.frac == HIDDEN_BIT { 2 } else { 1 };
        let mut lower = Fp {
            frac: (fp.frac << l_shift) - 1,
            exp: fp.exp - l_shift,
        };
        lower.frac <<= lower.exp - upper.exp;
        lower.exp = upper.exp;
        (lower, upper)
    }

    /// 64x64 -> upper 64 bits, rounded (the low half is rounded, not truncated).
    fn multiply(a: Fp, b: Fp) -> Fp {
        const LO: u64 = 0xFFFF_FFFF;
        let ah_bl = (a.frac >> 32) * (b.frac & LO);
        let al_bh = (a.frac & LO) * (b.frac >> 32);
        let al_bl = (a.frac & LO) * (b.frac & LO);
        let ah_bh = (a.frac >> 32) * (b.frac >> 32);
        let mut tmp = (ah_bl & LO) + (al_bh & LO) + (al_bl >> 32);
        tmp += 1 << 31;
        Fp {
            frac: ah_bh + (ah_bl >> 32) + (al_bh >> 32) + (tmp >> 32),
            exp: a.exp + b.exp + 64,
        }
    }

    /// Picks the cached power that brings a number with binary exponent `exp`
    /// into the `[EXP_MIN, EXP_MAX]` window; returns it and its decimal exponent.
    pub(super) fn cached_pow10(exp: i32) -> (Fp, i32) {
        const ONE_LOG_TEN: f64 = 0.301_029_995_663_981_14;
        // The estimate is truncated toward zero like the C int conversion, and
        // then corrected by walking the table.
        let approx = (f64::from(-(exp + POWERS.len() as i32)) * ONE_LOG_TEN) as i32;
        let mut idx = ((approx - FIRST_POWER) / POWER_STEP).clamp(0, POWERS.len() as i32 - 1);
        loop {
            let current = exp + POWERS[idx as usize].exp + 64;
            if current < EXP_MIN && idx + 1 < POWERS.len() as i32 {
                idx += 1;
            } else if current > EXP_MAX && idx > 0 {
                idx -= 1;
            } else {
                return (POWERS[idx as usize], FIRST_POWER + idx * POWER_STEP);
            }
        }
    }

    /// Nudges the last digit down while that moves the digit string closer to
    /// the real value and stays inside the rounding interval.
    fn round_digit(digits: &mut [u8], delta: u64, mut rem: u64, kappa: u64, frac: u64) {
        let Some(last) = digits.last_mut() else {
            return;
        };
        while rem < frac
            && delta.wrapping_sub(rem) >= kappa
            && (rem.wrapping_add(kappa) < frac
                || frac.wrapping_sub(rem) > rem.wrapping_add(kappa).wrapping_sub(frac))
        {
            *last = last.wrapping_sub(1);
            rem = rem.wrapping_add(kappa);
        }
    }

    /// Generates the digits of `upper` until the remainder fits in the interval
    /// `upper - lower`; `k` accumulates the decimal exponent of the last digit.
    fn generate_digits(w: Fp, upper: Fp, lower: Fp, digits: &mut [u8; 24], k: &mut i32) -> usize {
        let wfrac = upper.frac.wrapping_sub(w.frac);
        let mut delta = upper.frac.wrapping_sub(lower.frac);
        let shift = (-upper.exp) as u32;
        let one = 1u64 << shift;
        let mut part1 = upper.frac >> shift;
        let mut part2 = upper.frac & (one - 1);

        let mut n = 0usize;
        let mut kappa = 10;
        // Integral part: at most ten digits since part1 < 2^32.
        for &div in &TENS[10..] {
            let digit = part1 / div;
            if digit != 0 || n != 0 {
                digits[n] = b'0' + digit as u8;
                n += 1;
            }
            part1 -= digit * div;
            kappa -= 1;
            let rem = (part1 << shift).wrapping_add(part2);
            if rem <= delta {
                *k += kappa;
                round_digit(&mut digits[..n], delta, rem, div << shift, wfrac);
                return n;
            }
        }
        // Fractional part.
        let mut unit = 18usize;
        loop {
            part2 = part2.wrapping_mul(10);
            delta = delta.wrapping_mul(10);
            kappa -= 1;
            let digit = part2 >> shift;
            if digit != 0 || n != 0 {
                if n == digits.len() {
                    // Cannot happen for finite doubles; stop rather than panic.
                    return n;
                }
                digits[n] = b'0' + digit as u8;
                n += 1;
            }
            part2 &= one - 1;
            if part2 < delta {
                *k += kappa;
                let scaled = wfrac.wrapping_mul(TENS[unit]);
                round_digit(&mut digits[..n], delta, part2, one, scaled);
                return n;
            }
            unit = unit.saturating_sub(1);
        }
    }

    /// Shortest-ish digits of `d` (finite, non-zero) and the decimal exponent
    /// of the last digit: `d ≈ digits * 10^k`.
    pub(super) fn grisu2(d: f64, digits: &mut [u8; 24]) -> (usize, i32) {
        let w = build_fp(d);
        let (lower, upper) = normalized_boundaries(w);
        let w = normalize(w);
        let (cp, k) = cached_pow10(upper.exp);
        let w = multiply(w, cp);
        let mut upper = multiply(upper, cp);
        let mut lower = multiply(lower, cp);
        // Shrink the interval by one unit on each side to stay safely inside it
        // despite the rounding of the multiplications.
        lower.frac = lower.frac.wrapping_add(1);
        upper.frac = upper.frac.wrapping_sub(1);
        let mut kk = -k;
        let n = generate_digits(w, upper, lower, digits, &mut kk);
        (n, kk)
    }

    /// Lays the digits out like `fpconv_dtoa`: plain integers while the number
    /// of trailing zeros stays small, plain decimals for moderately small
    /// exponents, otherwise `d.ddde±x` with an unpadded exponent.
    fn emit(digits: &[u8], k: i32, neg: bool, out: &mut [u8]) -> usize {
        let ndigits = digits.len() as i32;
        let exp = (k + ndigits - 1).abs();

        if k >= 0 && exp < ndigits + 7 {
            let zeros = k as usize;
            out[..digits.len()].copy_from_slice(digits);
            out[digits.len()..digits.len() + zeros].fill(b'0');
            return digits.len() + zeros;
        }

        if k < 0 && (k > -7 || exp < 4) {
            let offset = ndigits - k.abs();
            if offset <= 0 {
                // 0.000ddd
                let zeros = (-offset) as usize;
                out[0] = b'0';
                out[1] = b'.';
                out[2..2 + zeros].fill(b'0');
                out[2 + zeros..2 + zeros + digits.len()].copy_from_slice(digits);
                return 2 + zeros + digits.len();
            }
            // ddd.ddd
            let offset = offset as usize;
            out[..offset].copy_from_slice(&digits[..offset]);
            out[offset] = b'.';
            out[offset + 1..=digits.len()].copy_from_slice(&digits[offset..]);
            return digits.len() + 1;
        }

        // Scientific notation; fpconv caps the mantissa at 18 characters
        // including the sign (never reached by Grisu2's at most 17 digits).
        let nd = digits.len().min(18 - usize::from(neg));
        let mut i = 0;
        out[i] = digits[0];
        i += 1;
        if nd > 1 {
            out[i] = b'.';
            i += 1;
            out[i..i + nd - 1].copy_from_slice(&digits[1..nd]);
            i += nd - 1;
        }
        out[i] = b'e';
        i += 1;
        out[i] = if k + nd as i32 - 1 < 0 { b'-' } else { b'+' };
        i += 1;
        let mut e = exp;
        let hundreds = e / 100;
        if hundreds > 0 {
            out[i] = b'0' + hundreds as u8;
            i += 1;
            e -= hundreds * 100;
        }
        if e > 9 {
            out[i] = b'0' + (e / 10) as u8;
            i += 1;
            e %= 10;
        } else if hundreds > 0 {
            out[i] = b'0';
            i += 1;
        }
        out[i] = b'0' + e as u8;
        i + 1
    }

    /// `fpconv_dtoa` for a finite, non-zero `d`.
    pub(super) fn dtoa(d: f64, buf: &mut [u8; 40]) -> usize {
        let neg = d.is_sign_negative();
        let start = usize::from(neg);
        if neg {
            buf[0] = b'-';
        }
        let mut digits = [0u8; 24];
        let (n, k) = grisu2(d, &mut digits);
        let len = start + emit(&digits[..n], k, neg, &mut buf[start..]);
        debug_assert!(len <= MAX_LEN);
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(d: f64) -> String {
        double_to_string(d)
    }

    #[test]
    fn specials() {
        assert_eq!(fmt(f64::NAN), "nan");
        assert_eq!(fmt(-f64::NAN), "nan");
        assert_eq!(fmt(f64::INFINITY), "inf");
        assert_eq!(fmt(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt(0.0), "0");
        assert_eq!(fmt(-0.0), "-0");
    }

    #[test]
    fn integers_take_the_integer_path() {
        assert_eq!(fmt(3.0), "3");
        assert_eq!(fmt(-1.0), "-1");
        assert_eq!(fmt(100.0), "100");
        assert_eq!(fmt(1e15), "1000000000000000");
        assert_eq!(fmt(1e18), "1000000000000000000");
        assert_eq!(fmt(9007199254740993.0), "9007199254740992");
        // 2^62 is the last value of the integer path ...
        assert_eq!(fmt(4611686018427387904.0), "4611686018427387904");
        assert_eq!(fmt(-4611686018427387904.0), "-4611686018427387904");
        // ... beyond it Grisu2 takes over.
        assert_eq!(fmt(4611686018427388928.0), "4611686018427389000");
        assert_eq!(fmt(1e19), "1e+19");
    }

    #[test]
    fn decimals() {
        assert_eq!(fmt(1.1), "1.1");
        assert_eq!(fmt(0.1), "0.1");
        assert_eq!(fmt(-1.5), "-1.5");
        assert_eq!(fmt(12.375), "12.375");
        assert_eq!(fmt(100.5), "100.5");
        assert_eq!(fmt(12345.678), "12345.678");
        assert_eq!(fmt(123456789.123), "123456789.123");
        assert_eq!(fmt(0.0001), "0.0001");
        assert_eq!(fmt(1e-5), "0.00001");
        assert_eq!(fmt(1e-6), "0.000001");
        assert_eq!(fmt(1.0 / 3.0), "0.3333333333333333");
    }

    #[test]
    fn exponents() {
        assert_eq!(fmt(1e-7), "1e-7");
        assert_eq!(fmt(2.5e-7), "2.5e-7");
        assert_eq!(fmt(1e20), "1e+20");
        assert_eq!(fmt(1e21), "1e+21");
        assert_eq!(fmt(1.5e300), "1.5e+300");
        assert_eq!(fmt(1e-300), "1e-300");
        assert_eq!(fmt(1e-105), "1e-105");
        assert_eq!(fmt(5e-324), "5e-324");
        assert_eq!(fmt(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(fmt(f64::MIN_POSITIVE), "2.2250738585072014e-308");
    }

    #[test]
    fn plain_large_numbers() {
        assert_eq!(fmt(123456789012345680000.0), "123456789012345680000");
        assert_eq!(fmt(1.2345678901234567e23), "123456789012345670000000");
        assert_eq!(fmt(-1.2345678901234567e23), "-123456789012345670000000");
    }

    #[test]
    fn grisu2_is_not_always_shortest() {
        // Redis prints these with more digits than the shortest round-trip
        // form (-5.28011e+20, -1.46462e+21); so must we.
        assert_eq!(
            fmt(f64::from_bits(0xc43c_9f9f_e6fa_52c8)),
            "-528011000000000030000"
        );
        assert_eq!(
            fmt(f64::from_bits(0xc453_d96b_e087_1528)),
            "-1464620000000000100000"
        );
        assert_eq!(
            fmt(f64::from_bits(0xc381_e88f_38c0_c8fd)),
            "-161304845894623136"
        );
    }

    #[test]
    fn output_round_trips() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            // xorshift: arbitrary bit patterns, including subnormals.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = f64::from_bits(x);
            if !d.is_finite() {
                continue;
            }
            let s = fmt(d);
            assert!(s.len() <= MAX_LEN, "{s}");
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), d.to_bits(), "{s}");
        }
    }

    #[test]
    fn cached_powers_cover_the_window() {
        // Every normalized exponent a double can produce finds a power.
        for exp in -1137..=960 {
            let (cp, _) = grisu::cached_pow10(exp);
            let e = exp + cp.exp + 64;
            assert!((-60..=-32).contains(&e), "exp {exp} -> {e}");
        }
        // Spot-check the table against exact integer arithmetic where 10^k
        // fits in a u128: normalize to 64 significant bits, round to nearest.
        for k in (4..=36).step_by(8) {
            let p = 10u128.pow(k);
            let bits = (128 - p.leading_zeros()) as i32;
            let (frac, exp) = if bits <= 64 {
                ((p << (64 - bits)) as u64, bits - 64)
            } else {
                let shift = bits - 64;
                let mut frac = (p >> shift) as u64;
                if (p >> (shift - 1)) & 1 == 1 {
                    frac += 1;
                }
                (frac, shift)
            };
            let idx = ((k as i32 + 348) / 8) as usize;
            assert_eq!(grisu::POWERS[idx], grisu::Fp { frac, exp }, "10^{k}");
        }
    }
}
