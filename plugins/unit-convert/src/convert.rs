//! Choosing the unit pair and converting a quantity, exactly when it fits.

use pluginkit::PluginError;

use crate::exact::Ratio;
use crate::units::{self, Kind, Unit};

/// A quantity as the caller wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    /// The literal's significand and decimal exponent (`3.5e300` is
    /// `(35, 299)`), `None` if the significand has too many digits.
    pub scientific: Option<(Ratio, i32)>,
    /// The nearest `f64`, always finite.
    pub approx: f64,
}

impl Amount {
    /// Parse a decimal literal (`5`, `-3.5`, `2.5e-4`); `None` if it is not
    /// one or is not finite as an `f64`.
    pub fn parse(text: &str) -> Option<Self> {
        let approx: f64 = text.parse().ok()?;
        if !approx.is_finite() {
            return None;
        }
        // `f64::from_str` accepts `inf`, `nan`, ...: require a literal.
        let literal = text
            .trim_start_matches(['-', '+'])
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
        if !literal {
            return None;
        }
        Some(Self {
            scientific: Ratio::parse_scientific(text),
            approx,
        })
    }

    /// The exact value, `None` if it does not fit a [`Ratio`].
    pub fn exact(&self) -> Option<Ratio> {
        let (significand, exponent) = self.scientific?;
        significand.checked_mul_pow10(exponent)
    }
}

/// Pick the first pair of candidates of the same kind (candidates come in
/// preference order, e.g. `pound` is lb then GBP). Mismatched kinds are
/// `invalid-input` naming both units and kinds.
pub fn resolve(
    from: &[&'static Unit],
    to: &[&'static Unit],
) -> Result<(&'static Unit, &'static Unit), PluginError> {
    for &a in from {
        if let Some(&b) = to.iter().find(|b| b.kind == a.kind) {
            return Ok((a, b));
        }
    }
    let (a, b) = (from[0], to[0]);
    Err(PluginError::invalid_input(format!(
        "cannot convert {} ({}) to {} ({}): only units of the same kind convert; {}; {}",
        a.kind.name(),
        a.symbol,
        b.kind.name(),
        b.symbol,
        units::list(a.kind),
        units::list(b.kind),
    )))
}

fn definition(unit: &Unit) -> (Ratio, Ratio) {
    // The table is checked by the units tests: every entry parses.
    let factor = Ratio::parse_fraction(unit.factor).unwrap_or(Ratio::ONE);
    let offset = Ratio::parse_decimal(unit.offset).unwrap_or(Ratio::ZERO);
    (factor, offset)
}

/// `amount` in `from`, expressed in `to` (same kind), as the `f64`
/// nearest the exact result: a scale conversion is `significand × (factor
/// ratio) × 10^exponent`, computed exactly and rounded once at any
/// magnitude; an affine (temperature) conversion is computed exactly when
/// the numbers fit. Only if they do not (a 30-digit significand, a
/// temperature of 1e300) is it computed in `f64`. A temperature below
/// absolute zero, or a result too large for an `f64`, is `invalid-input`.
pub fn convert(amount: &Amount, from: &Unit, to: &Unit) -> Result<f64, PluginError> {
    let (from_factor, from_offset) = definition(from);
    let (to_factor, to_offset) = definition(to);
    let ratio = from_factor.checked_div(to_factor);
    let scale = from_offset == Ratio::ZERO && to_offset == Ratio::ZERO;
    let exact = if scale {
        // Factors are positive: the sign is the amount's.
        amount.scientific.and_then(|(significand, exponent)| {
            let out = significand.checked_mul(ratio?)?;
            Some((significand.is_negative(), out.to_f64_pow10(exponent)))
        })
    } else {
        amount.exact().and_then(|v| {
            let base = v.checked_add(from_offset)?.checked_mul(from_factor)?;
            let out = base.checked_div(to_factor)?.checked_sub(to_offset)?;
            Some((base.is_negative(), out.to_f64()))
        })
    };
    let (below_zero, value) = exact.unwrap_or_else(|| {
        let ratio = ratio.map_or_else(|| from_factor.approx() / to_factor.approx(), Ratio::to_f64);
        let shifted = amount.approx + from_offset.approx();
        (shifted < 0.0, shifted * ratio - to_offset.approx())
    });
    if from.kind == Kind::Temperature && below_zero {
        return Err(PluginError::invalid_input(format!(
            "{} {} is below absolute zero (0 K = -273.15 °C = -459.67 °F)",
            crate::format::plain(amount.approx),
            from.symbol
        )));
    }
    if !value.is_finite() {
        return Err(PluginError::invalid_input(format!(
            "{} {} in {} is too large to represent",
            crate::format::plain(amount.approx),
            from.symbol,
            to.symbol
        )));
    }
    // No negative zero in responses.
    Ok(if value == 0.0 { 0.0 } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;

    fn unit(symbol: &str) -> &'static Unit {
        units::UNITS.iter().find(|u| u.symbol == symbol).unwrap()
    }

    fn conv(value: &str, from: &str, to: &str) -> f64 {
        convert(&Amount::parse(value).unwrap(), unit(from), unit(to)).unwrap()
    }

    /// Each row: value, from, to, the exact result as a decimal literal
    /// (or fraction); the conversion must give the `f64` nearest to it.
    const TABLE: &[(&str, &str, &str, &str)] = &[
        // length
        ("5", "mi", "km", "8.04672"),
        ("1", "in", "cm", "2.54"),
        ("1", "ft", "m", "0.3048"),
        ("100", "yd", "m", "91.44"),
        ("1", "nmi", "m", "1852"),
        ("1", "nmi", "mi", "1852/1609.344"),
        ("1", "km", "mi", "1000/1609.344"),
        ("10", "mm", "in", "10/25.4"),
        ("6", "ft", "cm", "182.88"),
        ("1", "mi", "ft", "5280"),
        ("1", "m", "mm", "1000"),
        // mass
        ("250", "g", "oz", "250/28.349523125"),
        ("3.5", "kg", "lb", "3.5/0.45359237"),
        ("1", "lb", "g", "453.59237"),
        ("1", "lb", "oz", "16"),
        ("1", "st", "lb", "14"),
        ("1", "st", "kg", "6.35029318"),
        ("2.5", "t", "kg", "2500"),
        ("500", "mg", "g", "0.5"),
        ("1", "oz", "g", "28.349523125"),
        // volume (US customary)
        ("1", "gal", "L", "3.785411784"),
        ("1", "gal", "qt", "4"),
        ("1", "cup", "fl oz", "8"),
        ("1", "cup", "mL", "236.5882365"),
        ("1", "tbsp", "tsp", "3"),
        ("1", "fl oz", "mL", "29.5735295625"),
        ("1", "L", "fl oz", "1/0.0295735295625"),
        ("2", "pt", "cup", "4"),
        ("1", "tsp", "mL", "4.92892159375"),
        // temperature (affine)
        ("72", "°F", "°C", "200/9"),
        ("100", "°C", "°F", "212"),
        ("-40", "°F", "°C", "-40"),
        ("-40", "°C", "°F", "-40"),
        ("0", "K", "°C", "-273.15"),
        ("0", "K", "°F", "-459.67"),
        ("300", "K", "°F", "80.33"),
        ("37", "°C", "K", "310.15"),
        ("98.6", "°F", "°C", "37"),
        ("32", "°F", "K", "273.15"),
        // time
        ("90", "min", "h", "1.5"),
        ("1", "wk", "s", "604800"),
        ("3", "d", "h", "72"),
        ("1", "h", "s", "3600"),
        ("1", "s", "wk", "1/604800"),
        // data
        ("1", "GiB", "MB", "1073.741824"),
        ("1", "GB", "MiB", "1000000000/1048576"),
        ("1", "TB", "GB", "1000"),
        ("1", "TiB", "B", "1099511627776"),
        ("1536", "KiB", "MiB", "1.5"),
        ("1", "KB", "B", "1000"),
        // speed
        ("60", "mph", "km/h", "96.56064"),
        ("100", "km/h", "m/s", "250/9"),
        ("1", "kn", "km/h", "1.852"),
        ("10", "m/s", "km/h", "36"),
        ("1", "mph", "m/s", "0.44704"),
        ("1", "kn", "mph", "1852/1609.344"),
        // currency (static table)
        ("120", "USD", "EUR", "103.2"),
        ("100", "EUR", "USD", "100/0.86"),
        ("100", "GBP", "JPY", "100/0.76*152"),
        ("10", "CHF", "CAD", "14/0.8"),
        ("1", "AUD", "USD", "1/1.53"),
        ("1", "USD", "JPY", "152"),
    ];

    fn exact(text: &str) -> f64 {
        // "a/b*c" = a / b × c
        let (fraction, times) = text.split_once('*').unwrap_or((text, "1"));
        Ratio::parse_fraction(fraction)
            .unwrap()
            .checked_mul(Ratio::parse_decimal(times).unwrap())
            .unwrap()
            .to_f64()
    }

    #[test]
    fn conversion_table_is_exact() {
        for &(value, from, to, expected) in TABLE {
            let got = conv(value, from, to);
            assert_eq!(got, exact(expected), "{value} {from} -> {to}");
        }
        // Spot checks against literal values.
        assert_eq!(conv("5", "mi", "km"), 8.04672);
        assert_eq!(conv("72", "°F", "°C"), 22.22222222222222);
        assert_eq!(conv("0.1", "m", "mm"), 100.0);
        assert_eq!(conv("250", "g", "oz"), 8.818490487395103);
    }

    #[test]
    fn every_unit_round_trips_through_its_base() {
        for a in units::UNITS {
            for b in units::UNITS.iter().filter(|b| b.kind == a.kind) {
                let there = convert(&Amount::parse("7.25").unwrap(), a, b).unwrap();
                let amount = Amount::parse(&there.to_string()).unwrap();
                let back = convert(&amount, b, a).unwrap();
                assert!(
                    (back - 7.25).abs() < 1e-9,
                    "{} -> {}: {back}",
                    a.symbol,
                    b.symbol
                );
            }
        }
    }

    #[test]
    fn extreme_values_fall_back_to_floats() {
        assert_eq!(conv("1e300", "mi", "km"), 1.609344e300);
        assert_eq!(conv("-1e-300", "km", "m"), -1e-297);
        assert_eq!(conv("3e-320", "km", "mm"), 3e-314);
        assert_eq!(
            conv("123456789012345678901234567890123456789", "m", "km"),
            1.2345678901234568e35
        );
        let got = conv("1e300", "°F", "K");
        assert!((got / (1e300 / 1.8) - 1.0).abs() < 1e-15, "{got}");
        assert_eq!(conv("0", "mi", "km"), 0.0);
        assert!(conv("-0", "m", "km").is_sign_positive());
        let err = convert(&Amount::parse("1e308").unwrap(), unit("TiB"), unit("B")).unwrap_err();
        assert!(err.message.contains("too large"), "{}", err.message);
    }

    #[test]
    fn below_absolute_zero_is_refused() {
        for (value, from) in [("-300", "°C"), ("-460", "°F"), ("-1", "K")] {
            let err = convert(&Amount::parse(value).unwrap(), unit(from), unit("K")).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput);
            assert!(
                err.message.contains("below absolute zero"),
                "{}",
                err.message
            );
        }
        assert_eq!(conv("-273.15", "°C", "K"), 0.0);
    }

    #[test]
    fn amounts_must_be_finite_literals() {
        for bad in ["inf", "NaN", "1e400", "", "five", "0x10", "--1"] {
            assert!(Amount::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Amount::parse("1e-400").unwrap().approx, 0.0);
        assert!(Amount::parse("1e300").unwrap().exact().is_none());
        assert_eq!(
            Amount::parse("2.5").unwrap().exact(),
            Ratio::parse_decimal("2.5")
        );
    }

    #[test]
    fn kinds_must_match() {
        let (a, b) = resolve(&[unit("lb"), unit("GBP")], &[unit("USD")]).unwrap();
        assert_eq!((a.symbol, b.symbol), ("GBP", "USD"));
        let (a, b) = resolve(&[unit("lb"), unit("GBP")], &[unit("kg")]).unwrap();
        assert_eq!((a.symbol, b.symbol), ("lb", "kg"));
        let err = resolve(&[unit("kg")], &[unit("km")]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(
            err.message
                .starts_with("cannot convert mass (kg) to length (km)"),
            "{}",
            err.message
        );
        assert!(err.message.contains("accepted mass units"));
        assert!(err.message.contains("accepted length units"));
    }
}
