//! Exact rational arithmetic for conversions.
//!
//! Every physical conversion factor is an exact decimal or fraction (1 in is
//! 0.0254 m by definition), and so is a number the caller writes, so a
//! conversion is a product of rationals. Computing it exactly and rounding
//! once, at the end, gives the `f64` nearest the true result: `5 mi` is
//! `8.04672 km`, not `8.046719999999999`. The numerator and denominator are
//! `i128`; an operation that would overflow returns `None` and the caller
//! falls back to `f64` arithmetic (only for extreme magnitudes such as
//! `1e300`).

/// A rational number `num / den` in lowest terms with `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    /// Zero.
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };
    /// One.
    pub const ONE: Ratio = Ratio { num: 1, den: 1 };

    /// `num / den` reduced; `None` if `den` is zero or the sign flip
    /// overflows.
    pub fn new(num: i128, den: i128) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        let (mut num, mut den) = (num / g, den / g);
        if den < 0 {
            num = num.checked_neg()?;
            den = den.checked_neg()?;
        }
        Some(Self { num, den })
    }

    /// A decimal literal — an optional sign, digits with an optional `.`
    /// and an optional exponent (`-3.5`, `.5`, `1e3`, `2.5E-4`) — as its
    /// significand and decimal exponent: `(-35, -1)` for `-3.5`. `None` if
    /// the text is not such a literal or has more digits than fit.
    pub fn parse_scientific(text: &str) -> Option<(Self, i32)> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i32>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let mut num: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            if !b.is_ascii_digit() {
                return None;
            }
            num = num.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        if negative {
            num = -num;
        }
        let scale = exponent.checked_sub(i32::try_from(frac_part.len()).ok()?)?;
        Some((Self::new(num, 1)?, scale))
    }

    /// The exact value of a decimal literal (see
    /// [`Ratio::parse_scientific`]); `None` if it does not fit.
    pub fn parse_decimal(text: &str) -> Option<Self> {
        let (significand, scale) = Self::parse_scientific(text)?;
        significand.checked_mul_pow10(scale)
    }

    /// `self × 10^exponent`, `None` on overflow.
    pub fn checked_mul_pow10(self, exponent: i32) -> Option<Self> {
        let power = Self::new(10i128.checked_pow(exponent.unsigned_abs())?, 1)?;
        if exponent >= 0 {
            self.checked_mul(power)
        } else {
            self.checked_div(power)
        }
    }

    /// A fraction of two decimal literals, `"5/9"` or `"1/0.86"`, or a
    /// single decimal literal.
    pub fn parse_fraction(text: &str) -> Option<Self> {
        match text.split_once('/') {
            Some((a, b)) => Self::parse_decimal(a)?.checked_div(Self::parse_decimal(b)?),
            None => Self::parse_decimal(text),
        }
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let g = gcd(self.den, other.den);
        let lcm = (self.den / g).checked_mul(other.den)?;
        let a = self.num.checked_mul(lcm / self.den)?;
        let b = other.num.checked_mul(lcm / other.den)?;
        Self::new(a.checked_add(b)?, lcm)
    }

    /// `self - other`, `None` on overflow.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.checked_add(Self {
            num: other.num.checked_neg()?,
            den: other.den,
        })
    }

    /// `self × other`, `None` on overflow.
    pub fn checked_mul(self, other: Self) -> Option<Self> {
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        let num = (self.num / g1).checked_mul(other.num / g2)?;
        let den = (self.den / g2).checked_mul(other.den / g1)?;
        Self::new(num, den)
    }

    /// `self ÷ other`, `None` on overflow or division by zero.
    pub fn checked_div(self, other: Self) -> Option<Self> {
        if other.num == 0 {
            return None;
        }
        self.checked_mul(Self::new(other.den, other.num)?)
    }

    /// Whether the value is below zero.
    pub fn is_negative(self) -> bool {
        self.num < 0
    }

    /// An approximation, for the `f64` fallback path.
    pub fn approx(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The `f64` nearest the exact value.
    pub fn to_f64(self) -> f64 {
        self.to_f64_pow10(0)
    }

    /// The `f64` nearest `self × 10^exponent`, for magnitudes whose power
    /// of ten does not fit an `i128` (`1.609344 × 10³⁰⁰`).
    ///
    /// The quotient is written out as a decimal of up to 40 significant
    /// digits (plus a final `1` standing for any non-zero remainder) and
    /// rounded once by the standard library's correctly rounded parser. A
    /// terminating result is therefore rounded exactly; a non-terminating
    /// one could only be misrounded if it lay within 10⁻⁴⁰ (relative) of a
    /// midpoint between two `f64`s.
    pub fn to_f64_pow10(self, exponent: i32) -> f64 {
        let den = self.den.unsigned_abs();
        let mut rem = self.num.unsigned_abs();
        let int = rem / den;
        rem %= den;
        let mut text = String::with_capacity(64);
        if self.num < 0 {
            text.push('-');
        }
        let int = int.to_string();
        let mut significant = if int == "0" { 0 } else { int.len() };
        text.push_str(&int);
        text.push('.');
        let mut fraction_digits = 0;
        while rem != 0 && significant < 40 && fraction_digits < 400 {
            let Some(scaled) = rem.checked_mul(10) else {
                return self.approx() * 10f64.powi(exponent);
            };
            let digit = scaled / den;
            rem = scaled % den;
            text.push(char::from(b'0' + digit as u8));
            fraction_digits += 1;
            if significant > 0 || digit != 0 {
                significant += 1;
            }
        }
        if rem != 0 {
            text.push('1');
        }
        text.push('e');
        text.push_str(&exponent.to_string());
        text.parse()
            .unwrap_or_else(|_| self.approx() * 10f64.powi(exponent))
    }
}

#[cfg(test)]
mod tests {
    use super::Ratio;

    fn r(text: &str) -> Ratio {
        Ratio::parse_fraction(text).unwrap()
    }

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(r("0.0254"), Ratio::new(127, 5000).unwrap());
        assert_eq!(r("-3.5"), Ratio::new(-7, 2).unwrap());
        assert_eq!(r(".5"), Ratio::new(1, 2).unwrap());
        assert_eq!(r("1e3"), Ratio::new(1000, 1).unwrap());
        assert_eq!(r("2.5E-4"), Ratio::new(1, 4000).unwrap());
        assert_eq!(r("5/9"), Ratio::new(5, 9).unwrap());
        assert_eq!(r("1/0.86"), Ratio::new(50, 43).unwrap());
        for bad in ["", "-", ".", "e3", "1.2.3", "1e", "abc", "1/0", "1e99"] {
            assert!(Ratio::parse_fraction(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(r("0.1").checked_add(r("0.2")).unwrap(), r("0.3"));
        assert_eq!(r("1609.344").checked_div(r("1000")).unwrap(), r("1.609344"));
        assert_eq!(r("2/3").checked_mul(r("3/4")).unwrap(), r("1/2"));
        assert_eq!(r("1").checked_sub(r("1.5")).unwrap(), r("-0.5"));
        assert!(r("1").checked_div(Ratio::ZERO).is_none());
        let huge = Ratio::new(i128::MAX, 1).unwrap();
        assert!(huge.checked_mul(r("2")).is_none());
        assert!(huge.checked_add(huge).is_none());
    }

    #[test]
    fn rounds_once_to_nearest() {
        // 5 mi in km: a float product gives 8.046719999999999.
        assert_eq!(r("5").checked_mul(r("1.609344")).unwrap().to_f64(), 8.04672);
        assert_eq!(r("0.1").checked_add(r("0.2")).unwrap().to_f64(), 0.3);
        assert_eq!(r("1/3").to_f64(), 1.0 / 3.0);
        assert_eq!(r("-2/3").to_f64(), -2.0 / 3.0);
        assert_eq!(r("1e-30").to_f64(), 1e-30);
        assert_eq!(
            r("123456789012345678901234567890").to_f64(),
            1.2345678901234568e29
        );
        assert_eq!(Ratio::ZERO.to_f64(), 0.0);
        assert_eq!(r("1.609344").to_f64_pow10(300), 1.609344e300);
        assert_eq!(r("-1/3").to_f64_pow10(-300), -3.3333333333333334e-301);
        assert_eq!(r("1").to_f64_pow10(400), f64::INFINITY);
        assert_eq!(r("1").to_f64_pow10(-400), 0.0);
        assert_eq!(Ratio::parse_scientific("-3.5e300"), Some((r("-35"), 299)));
    }
}
