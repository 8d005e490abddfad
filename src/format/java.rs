//! How ksqlDB's JVM writes and reads numbers as text, reproduced exactly: `BigDecimal`
//! (`new BigDecimal(String)`, `toString`, `toPlainString`, ksqlDB's `DecimalUtil.ensureFit`),
//! `Double.toString`, `Integer.parseInt`, `Long.parseLong` and `Double.parseDouble`, plus the
//! truncating integer conversions of Jackson number nodes (`intValue()`, `asLong()`).

/// An exact decimal as Java's `BigDecimal` holds it: sign, unscaled digits and scale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct BigDec {
    negative: bool,
    /// ASCII digits of the unscaled value without leading zeros ("0" for zero).
    digits: String,
    scale: i64,
}

impl BigDec {
    /// `new BigDecimal(text)`: optional sign, digits with at most one '.', optional exponent.
    pub(super) fn parse(text: &str) -> Result<BigDec, String> {
        let invalid = || format!("Invalid decimal value: '{text}'");
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return Err(invalid());
        }
        let exponent: i64 = match exponent {
            None => 0,
            Some(e) => {
                let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
                if unsigned.is_empty() || !all_digits(unsigned) {
                    return Err(invalid());
                }
                e.parse::<i32>().map_err(|_| invalid())?.into()
            }
        };
        let scale = frac_part.len() as i64 - exponent;
        if i32::try_from(scale).is_err() {
            return Err(invalid());
        }
        Ok(BigDec::new(
            negative,
            format!("{int_part}{frac_part}"),
            scale,
        ))
    }

    /// The decimal `unscaled × 10^-scale` (Brook's `Value::Decimal`).
    pub(super) fn from_unscaled(unscaled: i128, scale: i8) -> BigDec {
        BigDec::new(
            unscaled < 0,
            unscaled.unsigned_abs().to_string(),
            scale.into(),
        )
    }

    fn new(negative: bool, digits: String, scale: i64) -> BigDec {
        let trimmed = digits.trim_start_matches('0');
        let digits = if trimmed.is_empty() { "0" } else { trimmed };
        let negative = negative && digits != "0";
        BigDec {
            negative,
            digits: digits.to_string(),
            scale,
        }
    }

    fn is_zero(&self) -> bool {
        self.digits == "0"
    }

    fn sign(&self) -> &'static str {
        if self.negative { "-" } else { "" }
    }

    /// `BigDecimal.toPlainString()`: never an exponent.
    pub(super) fn to_plain_string(&self) -> String {
        let digits = &self.digits;
        let body = if self.scale <= 0 {
            let zeros = if self.is_zero() {
                0
            } else {
                (-self.scale) as usize
            };
            format!("{digits}{}", "0".repeat(zeros))
        } else {
            let scale = self.scale as usize;
            if digits.len() > scale {
                let (int, frac) = digits.split_at(digits.len() - scale);
                format!("{int}.{frac}")
            } else {
                format!("0.{}{digits}", "0".repeat(scale - digits.len()))
            }
        };
        format!("{}{body}", self.sign())
    }

    /// The plain form for an error message, or the scientific one if that would be huge.
    fn for_message(&self) -> String {
        let plain_len = if self.scale <= 0 {
            self.digits.len() as i64 - self.scale
        } else {
            self.scale.max(self.digits.len() as i64) + 2
        };
        if plain_len > 1000 {
            self.to_java_string()
        } else {
            self.to_plain_string()
        }
    }

    /// `BigDecimal.toString()`: plain unless the scale is negative or the adjusted exponent is
    /// below -6, then scientific (`1E-8`, `1.5E+3`).
    pub(super) fn to_java_string(&self) -> String {
        let adjusted = self.digits.len() as i64 - 1 - self.scale;
        if self.scale >= 0 && adjusted >= -6 {
            return self.to_plain_string();
        }
        let (first, rest) = self.digits.split_at(1);
        let point = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if adjusted >= 0 { "+" } else { "" };
        format!("{}{first}{point}E{exp_sign}{adjusted}", self.sign())
    }

    /// ksqlDB's `DecimalUtil.ensureFit`: the value must be below 10^(precision - scale) and
    /// take the column's scale without rounding; returns the unscaled value at that scale.
    pub(super) fn ensure_fit(&self, precision: u8, scale: i8) -> Result<i128, String> {
        if self.is_zero() {
            return Ok(0);
        }
        let int_digits = i64::from(precision) - i64::from(scale);
        let leading_exponent = self.digits.len() as i64 - 1 - self.scale;
        if leading_exponent >= int_digits {
            return Err(format!(
                "Numeric field overflow: A field with precision {precision} and scale {scale} \
                 must round to an absolute value less than 10^{int_digits}. Got {}",
                self.for_message()
            ));
        }
        let target = i64::from(scale);
        let digits = if self.scale > target {
            let drop = (self.scale - target) as usize;
            let keep = self.digits.len().saturating_sub(drop);
            if self.digits[keep..].bytes().any(|b| b != b'0') {
                return Err(format!(
                    "Cannot fit decimal '{}' into DECIMAL({precision}, {scale}) without rounding. \
                     (Requires {},{})",
                    self.for_message(),
                    self.digits.len(),
                    self.scale
                ));
            }
            self.digits[..keep].to_string()
        } else {
            format!(
                "{}{}",
                self.digits,
                "0".repeat((target - self.scale) as usize)
            )
        };
        let magnitude: i128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| format!("Decimal out of range: {digits}"))?
        };
        Ok(if self.negative { -magnitude } else { magnitude })
    }

    /// The integral part, truncated toward zero, modulo 2^64: Java's `BigDecimal.longValue()`
    /// (and, cast to 32 bits, `intValue()`), which keep only the low-order bits.
    pub(super) fn wrapping_i64(&self) -> i64 {
        let integral: &str = if self.scale > 0 {
            let cut = self.digits.len().saturating_sub(self.scale as usize);
            &self.digits[..cut]
        } else {
            &self.digits
        };
        let mut acc: u64 = 0;
        for b in integral.bytes() {
            acc = acc.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        }
        // 10^64 is a multiple of 2^64, so more trailing zeros than that leave zero behind.
        let zeros = if self.scale < 0 {
            (-self.scale).min(64)
        } else {
            0
        };
        for _ in 0..zeros {
            acc = acc.wrapping_mul(10);
        }
        let value = acc as i64;
        if self.negative {
            value.wrapping_neg()
        } else {
            value
        }
    }
}

/// Java's `Double.toString` (also what Jackson writes): shortest round-trip digits, plain with at
/// least one fractional digit for 10^-3 ≤ |d| < 10^7, else `d.dddE±n`.
pub(super) fn double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let mut out = Vec::new();
    write_double(&mut out, d);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`double_to_string`] of a finite double, appended to `out` without allocating.
pub(super) fn write_double(out: &mut Vec<u8>, d: f64) {
    if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    let mut digits = [0u8; 32];
    let found =
        super::short_double::digits(d, &mut digits).or_else(|| digits_by_fmt(d, &mut digits));
    let Some((len, exp)) = found else {
        return;
    };
    let digits = &digits[..len];
    if d < 0.0 {
        out.push(b'-');
    }
    if (-3..7).contains(&exp) {
        plain_digits(out, digits, exp);
    } else {
        let (first, rest) = digits.split_at(1);
        out.extend_from_slice(first);
        out.push(b'.');
        out.extend_from_slice(if rest.is_empty() { b"0" } else { rest });
        let _ = std::io::Write::write_fmt(out, format_args!("E{exp}"));
    }
}

/// The significant digits `Double.toString` writes for a finite, non-zero `d` (into `digits`:
/// how many) and the decimal exponent of the first, through `fmt`: any double.
pub(super) fn digits_by_fmt(d: f64, digits: &mut [u8; 32]) -> Option<(usize, i32)> {
    // Shortest round-trip digits, e.g. "1.2345e-7"; at most 24 bytes for an f64.
    let mut sci = StackText::default();
    if std::fmt::Write::write_fmt(&mut sci, format_args!("{:e}", d.abs())).is_err() {
        return None;
    }
    if !sci.as_bytes().contains(&b'.') {
        // One significant digit is enough to round-trip: Java (JDK 19+) then picks the one- or
        // two-digit decimal closest to the exact value (4.9E-324, not 5.0E-324).
        sci = StackText::default();
        if std::fmt::Write::write_fmt(&mut sci, format_args!("{:.1e}", d.abs())).is_err() {
            return None;
        }
    }
    let sci = sci.as_bytes();
    let e = sci.iter().position(|b| *b == b'e').unwrap_or(sci.len());
    let exp: i32 = std::str::from_utf8(sci.get(e + 1..).unwrap_or_default())
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let mut len = 0;
    for (slot, &b) in digits
        .iter_mut()
        .zip(sci[..e].iter().filter(|b| **b != b'.'))
    {
        *slot = b;
        len += 1;
    }
    // Trailing zeros (from the two-digit form) are not significant; keep at least one digit.
    while len > 1 && digits[len - 1] == b'0' {
        len -= 1;
    }
    Some((len, exp))
}

/// `digits` × 10^(exp - len + 1) in plain notation with at least one fractional digit.
fn plain_digits(out: &mut Vec<u8>, digits: &[u8], exp: i32) {
    if exp < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(digits);
        return;
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        out.extend_from_slice(b".0");
    } else {
        let (int, frac) = digits.split_at(int_len);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    }
}

/// A fixed-size text buffer for short formatted numbers.
#[derive(Default)]
struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Java's `NumberFormatException` text.
fn number_format_error(text: &str) -> String {
    format!("For input string: \"{text}\"")
}

/// `Long.parseLong`: optional sign then ASCII digits, no spaces, range-checked.
pub(super) fn parse_long(text: &str) -> Result<i64, String> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(number_format_error(text));
    }
    text.parse::<i64>().map_err(|_| number_format_error(text))
}

/// `Integer.parseInt`: as [`parse_long`] within the 32-bit range.
pub(super) fn parse_int(text: &str) -> Result<i32, String> {
    parse_long(text).and_then(|v| i32::try_from(v).map_err(|_| number_format_error(text)))
}

/// `Double.parseDouble`: surrounding whitespace trimmed; `NaN`, `Infinity`, decimal and
/// exponent forms, and an optional `d`/`f` suffix.
pub(super) fn parse_double(text: &str) -> Result<f64, String> {
    let trimmed = text.trim_matches(|c: char| c <= ' ');
    let (sign, body) = match trimmed.as_bytes().first() {
        Some(b'-') => (-1.0, &trimmed[1..]),
        Some(b'+') => (1.0, &trimmed[1..]),
        _ => (1.0, trimmed),
    };
    match body {
        "NaN" => return Ok(f64::NAN),
        "Infinity" => return Ok(sign * f64::INFINITY),
        _ => {}
    }
    let body = body.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(body);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = mantissa.bytes().filter(|b| *b == b'.').count() <= 1
        && mantissa.bytes().any(|b| b.is_ascii_digit())
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if !mantissa_ok || !exponent_ok {
        return Err(number_format_error(text));
    }
    body.parse::<f64>()
        .map(|v| sign * v)
        .map_err(|_| number_format_error(text))
}
