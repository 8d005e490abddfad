//! Java number text: `BigDecimal`, `Double.toString` and the `parseXxx` functions.

use crate::format::java::{BigDec, double_to_string, parse_double, parse_int, parse_long};

fn dec(text: &str) -> BigDec {
    BigDec::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn big_decimal_parses_like_java() {
    assert_eq!(dec("1.10").to_plain_string(), "1.10");
    assert_eq!(dec(".12").to_plain_string(), "0.12");
    assert_eq!(dec("12.").to_plain_string(), "12");
    assert_eq!(dec("+007").to_plain_string(), "7");
    assert_eq!(dec("-0.00").to_plain_string(), "0.00");
    assert_eq!(dec("1E+1").to_plain_string(), "10");
    assert_eq!(dec("1.5e-3").to_plain_string(), "0.0015");
    for bad in [
        "",
        "-",
        ".",
        "1..2",
        "1e",
        "1e+",
        "abc",
        " 1",
        "1 ",
        "1,5",
        "0x10",
        "1e99999999999",
    ] {
        assert!(BigDec::parse(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn big_decimal_to_string_uses_scientific_notation_like_java() {
    assert_eq!(dec("10.0000").to_java_string(), "10.0000");
    assert_eq!(dec("0.000001").to_java_string(), "0.000001");
    assert_eq!(dec("0.00000001").to_java_string(), "1E-8");
    assert_eq!(dec("0.00000000").to_java_string(), "0E-8");
    assert_eq!(dec("-1.5e-9").to_java_string(), "-1.5E-9");
    assert_eq!(dec("1e2").to_java_string(), "1E+2");
    assert_eq!(dec("1.5e3").to_java_string(), "1.5E+3");
    assert_eq!(dec("123").to_java_string(), "123");
    assert_eq!(
        BigDec::from_unscaled(-1234500, 4).to_java_string(),
        "-123.4500"
    );
    assert_eq!(BigDec::from_unscaled(5, 0).to_java_string(), "5");
}

#[test]
fn ensure_fit_pads_and_rejects_rounding_and_overflow() {
    // delimited.json "read written decimals": DECIMAL(33, 16).
    assert_eq!(dec(".12").ensure_fit(33, 16), Ok(1_200_000_000_000_000));
    assert_eq!(
        dec("12345678987654321.2345678987654321").ensure_fit(33, 16),
        Ok(123_456_789_876_543_212_345_678_987_654_321)
    );
    assert_eq!(dec("1.1").ensure_fit(4, 3), Ok(1100));
    // Trailing zeros beyond the scale are dropped, as setScale(UNNECESSARY) allows.
    assert_eq!(dec("1.100").ensure_fit(4, 1), Ok(11));
    assert_eq!(dec("1E+1").ensure_fit(3, 1), Ok(100));
    assert_eq!(dec("-0.5").ensure_fit(1, 1), Ok(-5));
    assert_eq!(
        dec("1.12").ensure_fit(4, 1),
        Err(
            "Cannot fit decimal '1.12' into DECIMAL(4, 1) without rounding. (Requires 3,2)"
                .to_string()
        )
    );
    assert_eq!(
        dec("100").ensure_fit(4, 2),
        Err(
            "Numeric field overflow: A field with precision 4 and scale 2 must round to an \
             absolute value less than 10^2. Got 100"
                .to_string()
        )
    );
    assert!(dec("99.99").ensure_fit(4, 2).is_ok());
    assert!(dec("1").ensure_fit(2, 2).is_err());
    assert_eq!(dec("0.000").ensure_fit(2, 2), Ok(0));
    assert_eq!(dec("0e999999999").ensure_fit(2, 2), Ok(0));
    // Huge exponents are reported without writing out every digit.
    assert_eq!(
        dec("1e999999999").ensure_fit(4, 2),
        Err(
            "Numeric field overflow: A field with precision 4 and scale 2 must round to an \
             absolute value less than 10^2. Got 1E+999999999"
                .to_string()
        )
    );
    assert_eq!(
        dec("1e-999999999").ensure_fit(4, 2),
        Err(
            "Cannot fit decimal '1E-999999999' into DECIMAL(4, 2) without rounding. \
             (Requires 1,999999999)"
                .to_string()
        )
    );
}

#[test]
fn integral_part_wraps_like_java_long_value() {
    assert_eq!(dec("41.456").wrapping_i64(), 41);
    assert_eq!(dec("-41.9").wrapping_i64(), -41);
    assert_eq!(dec("0.9").wrapping_i64(), 0);
    assert_eq!(dec("1e3").wrapping_i64(), 1000);
    assert_eq!(dec("9223372036854775808").wrapping_i64(), i64::MIN);
    assert_eq!(dec("18446744073709551617").wrapping_i64(), 1);
    assert_eq!(dec("1e100").wrapping_i64(), 0);
    // (int) of a long keeps the low 32 bits.
    assert_eq!(dec("4294967297").wrapping_i64() as i32, 1);
}

#[test]
fn doubles_print_like_java() {
    let cases = [
        (1.0, "1.0"),
        (62.0, "62.0"),
        (10.1, "10.1"),
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (1.0e10, "1.0E10"),
        (1.0e7, "1.0E7"),
        (9_999_999.0, "9999999.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1.2345e-5, "1.2345E-5"),
        (123.456, "123.456"),
        (9876.54321, "9876.54321"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
        (f64::MAX, "1.7976931348623157E308"),
        (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
        (-1.5e300, "-1.5E300"),
        // One digit round-trips, but Java picks the closer two-digit decimal.
        (4.9e-324, "4.9E-324"),
        (-4.9e-324, "-4.9E-324"),
        (1.0e23, "1.0E23"),
        (2.0e-5, "2.0E-5"),
        (100.0, "100.0"),
    ];
    for (value, expected) in cases {
        assert_eq!(double_to_string(value), expected, "{value:e}");
    }
}

#[test]
fn parse_int_and_long_are_strict() {
    assert_eq!(parse_int("41"), Ok(41));
    assert_eq!(parse_int("+41"), Ok(41));
    assert_eq!(parse_int("-2147483648"), Ok(i32::MIN));
    assert_eq!(
        parse_int("2147483648"),
        Err("For input string: \"2147483648\"".to_string())
    );
    assert_eq!(parse_long("10000000000"), Ok(10_000_000_000));
    for bad in ["", "+", "1!", " 1", "1 ", "1.0", "1e3", "0x1"] {
        assert!(parse_int(bad).is_err(), "{bad:?}");
        assert!(parse_long(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn parse_double_accepts_what_java_accepts() {
    assert_eq!(parse_double("42.000"), Ok(42.0));
    assert_eq!(parse_double(" 1.5 "), Ok(1.5));
    assert_eq!(parse_double("1e3"), Ok(1000.0));
    assert_eq!(parse_double("2d"), Ok(2.0));
    assert_eq!(parse_double("-.5f"), Ok(-0.5));
    assert_eq!(parse_double("5."), Ok(5.0));
    assert_eq!(parse_double("-Infinity"), Ok(f64::NEG_INFINITY));
    assert!(parse_double("NaN").is_ok_and(f64::is_nan));
    for bad in [
        "", "inf", "nan", "infinity", "1e", "e3", ".", "1.2.3", "abc", "1_000",
    ] {
        assert!(parse_double(bad).is_err(), "{bad:?}");
    }
}
