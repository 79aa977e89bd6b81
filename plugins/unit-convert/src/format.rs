//! Numbers in the human-readable `text` of a response.

use crate::units::{Kind, Unit};

/// Magnitudes written positionally; others in `e` notation.
fn positional(exponent: i32) -> bool {
    (-6..15).contains(&exponent)
}

/// A number as the caller gave it: shortest round-trip digits, `e`
/// notation only for very large or small magnitudes (`5`, `3.5`, `1e300`).
pub fn plain(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    let exponent = x.abs().log10().floor() as i32;
    if positional(exponent) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// `x` rounded to `digits` significant digits, trailing zeros dropped
/// (`8.04672`, `22.2222`, `1609.34`, `1.5e-9`).
pub fn significant(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    // `{:.N e}` rounds correctly and tells the exponent after rounding.
    let sci = format!("{:.*e}", digits.saturating_sub(1), x);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let figures: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if !positional(exponent) {
        out.push_str(&figures[..1]);
        let rest = figures[1..].trim_end_matches('0');
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push_str(&format!("e{exponent}"));
        return out;
    }
    if exponent < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exponent - 1) as usize));
        out.push_str(figures.trim_end_matches('0'));
        return out;
    }
    let point = exponent as usize + 1;
    if figures.len() <= point {
        out.push_str(&figures);
        out.push_str(&"0".repeat(point - figures.len()));
    } else {
        out.push_str(&figures[..point]);
        let fraction = figures[point..].trim_end_matches('0');
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
    }
    out
}

/// A converted value for `text`: money to the cent (whole yen) when at
/// least one cent, everything else to 6 significant digits.
pub fn result(x: f64, unit: &Unit) -> String {
    if unit.kind == Kind::Currency {
        let decimals = if unit.symbol == "JPY" { 0 } else { 2 };
        let smallest = if decimals == 0 { 1.0 } else { 0.01 };
        if x.abs() >= smallest && x.abs() < 1e15 {
            return format!("{x:.decimals$}");
        }
    }
    significant(x, 6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::UNITS;

    fn unit(symbol: &str) -> &'static Unit {
        UNITS.iter().find(|u| u.symbol == symbol).unwrap()
    }

    #[test]
    fn six_significant_digits() {
        let cases = [
            (8.04672, "8.04672"),
            (22.22222222222222, "22.2222"),
            (8.818490487395103, "8.81849"),
            (1609.344, "1609.34"),
            (5280.0, "5280"),
            (1234567.0, "1234570"),
            (0.5, "0.5"),
            (0.000123456789, "0.000123457"),
            (1.5e-9, "1.5e-9"),
            (9.999996, "10"),
            (999999.7, "1000000"),
            (-40.0, "-40"),
            (-273.15, "-273.15"),
            (1.609344e300, "1.60934e300"),
            (0.0, "0"),
        ];
        for (x, want) in cases {
            assert_eq!(significant(x, 6), want, "{x}");
        }
    }

    #[test]
    fn inputs_as_given() {
        assert_eq!(plain(5.0), "5");
        assert_eq!(plain(3.5), "3.5");
        assert_eq!(plain(-0.25), "-0.25");
        assert_eq!(plain(1e300), "1e300");
        assert_eq!(plain(2.5e-9), "2.5e-9");
        assert_eq!(plain(0.0), "0");
    }

    #[test]
    fn money_to_the_cent() {
        assert_eq!(result(103.2, unit("EUR")), "103.20");
        assert_eq!(result(116.27906976744185, unit("USD")), "116.28");
        assert_eq!(result(18240.0, unit("JPY")), "18240");
        assert_eq!(result(0.004, unit("USD")), "0.004");
        assert_eq!(result(8.04672, unit("km")), "8.04672");
    }
}
