//! The units: their kinds, exact definitions and accepted spellings.
//!
//! Each unit is defined by how many of its kind's base unit one of it is
//! (`factor`), plus an `offset` for the affine temperature scales:
//! `base = (value + offset) × factor`. Every physical factor is exact and
//! derived from SI definitions:
//!
//! | kind | base | definitions |
//! | --- | --- | --- |
//! | length | m | 1 in = 0.0254 m, 1 ft = 12 in, 1 yd = 3 ft, 1 mi = 1760 yd = 1609.344 m, 1 nmi = 1852 m |
//! | mass | kg | 1 lb = 0.45359237 kg, 1 oz = 1/16 lb, 1 st = 14 lb, 1 t = 1000 kg |
//! | volume | L | **US customary**: 1 gal = 231 in³ = 3.785411784 L, qt = gal/4, pt = qt/2, cup = pt/2, fl oz = cup/8, tbsp = fl oz/2, tsp = tbsp/3 |
//! | temperature | K | °C = K − 273.15, °F = °C × 9/5 + 32 (affine, not a factor) |
//! | time | s | min = 60 s, h = 60 min, d = 24 h, wk = 7 d |
//! | data | B | KB, MB, GB, TB decimal (10³ⁿ B); KiB, MiB, GiB, TiB binary (2¹⁰ⁿ B) |
//! | speed | m/s | km/h = 1000/3600 m/s, mph = 1 mi/h = 0.44704 m/s, kn = 1 nmi/h = 1852/3600 m/s |
//! | currency | USD | the static table [`RATES_AS_OF`]: 1 USD = 0.86 EUR = 0.76 GBP = 152 JPY = 0.80 CHF = 1.40 CAD = 1.53 AUD |
//!
//! The currency rates are a fixed illustrative table built into the plugin,
//! not market data; responses say so.
//!
//! Spellings ([`Unit::aliases`]) are lowercase, one space between words
//! (`/`, `$`, `€`, `£` and `¥` are words of their own): symbols, names
//! (British and American spelling) and common abbreviations. Plurals are
//! handled by the parser, so aliases are singular (irregular plurals such as
//! `feet` are listed). A spelling may belong to two units of different
//! kinds — `pound` (lb or GBP), `ounce` (oz or fl oz) — and the other unit
//! of the conversion decides.

/// What a unit measures; only units of the same kind convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Base: metre.
    Length,
    /// Base: kilogram.
    Mass,
    /// Base: litre.
    Volume,
    /// Base: kelvin.
    Temperature,
    /// Base: second.
    Time,
    /// Base: byte.
    Data,
    /// Base: metre per second.
    Speed,
    /// Base: US dollar.
    Currency,
}

impl Kind {
    /// Every kind, in the order of the unit table.
    pub const ALL: [Kind; 8] = [
        Kind::Length,
        Kind::Mass,
        Kind::Volume,
        Kind::Temperature,
        Kind::Time,
        Kind::Data,
        Kind::Speed,
        Kind::Currency,
    ];

    /// The name used in responses (`unit_kind`) and messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Length => "length",
            Kind::Mass => "mass",
            Kind::Volume => "volume",
            Kind::Temperature => "temperature",
            Kind::Time => "time",
            Kind::Data => "data",
            Kind::Speed => "speed",
            Kind::Currency => "currency",
        }
    }
}

/// One unit.
#[derive(Debug, PartialEq, Eq)]
pub struct Unit {
    /// The canonical symbol, used in responses (`from`, `to`, `text`).
    pub symbol: &'static str,
    /// The unit's name, for lists of accepted units.
    pub name: &'static str,
    /// What it measures.
    pub kind: Kind,
    /// How many base units one unit is: an exact decimal or fraction.
    pub factor: &'static str,
    /// Added before scaling (temperatures only): an exact decimal.
    pub offset: &'static str,
    /// Accepted spellings: lowercase, singular, words separated by one space.
    pub aliases: &'static [&'static str],
}

impl Unit {
    /// A US customary volume unit (not mL or L).
    pub fn is_us_customary_volume(&self) -> bool {
        self.kind == Kind::Volume && !matches!(self.symbol, "mL" | "L")
    }
}

/// The date of the static currency table.
pub const RATES_AS_OF: &str = "2026-11-01";

/// Says in every currency response that the rates are not live.
pub const RATES_NOTE: &str = "currency rates are static: a fixed table built into the plugin as of 2026-11-01 \
(1 USD = 0.86 EUR = 0.76 GBP = 152 JPY = 0.80 CHF = 1.40 CAD = 1.53 AUD), not live market data";

/// Added to responses that involve a US customary volume unit.
pub const US_CUSTOMARY_NOTE: &str = "volume units tsp, tbsp, fl oz, cup, pt, qt and gal are US customary \
(1 gal = 231 in³ = 3.785411784 L; 1 cup = 8 US fl oz = 236.5882365 mL), not imperial";

const fn unit(
    symbol: &'static str,
    name: &'static str,
    kind: Kind,
    factor: &'static str,
    aliases: &'static [&'static str],
) -> Unit {
    Unit {
        symbol,
        name,
        kind,
        factor,
        offset: "0",
        aliases,
    }
}

/// Every unit, grouped by kind in [`Kind::ALL`] order. Within a shared
/// spelling the earlier unit is preferred (`pound` is lb before GBP).
pub static UNITS: &[Unit] = &[
    // Length, base m.
    unit(
        "mm",
        "millimetre",
        Kind::Length,
        "0.001",
        &["mm", "millimetre", "millimeter"],
    ),
    unit(
        "cm",
        "centimetre",
        Kind::Length,
        "0.01",
        &["cm", "centimetre", "centimeter"],
    ),
    unit("m", "metre", Kind::Length, "1", &["m", "metre", "meter"]),
    unit(
        "km",
        "kilometre",
        Kind::Length,
        "1000",
        &["km", "kilometre", "kilometer", "klick"],
    ),
    unit("in", "inch", Kind::Length, "0.0254", &["in", "inch"]),
    unit(
        "ft",
        "foot",
        Kind::Length,
        "0.3048",
        &["ft", "foot", "feet"],
    ),
    unit("yd", "yard", Kind::Length, "0.9144", &["yd", "yard"]),
    unit(
        "mi",
        "mile",
        Kind::Length,
        "1609.344",
        &["mi", "mile", "statute mile"],
    ),
    unit(
        "nmi",
        "nautical mile",
        Kind::Length,
        "1852",
        &["nmi", "nautical mile"],
    ),
    // Mass, base kg.
    unit(
        "mg",
        "milligram",
        Kind::Mass,
        "0.000001",
        &["mg", "milligram", "milligramme"],
    ),
    unit("g", "gram", Kind::Mass, "0.001", &["g", "gram", "gramme"]),
    unit(
        "kg",
        "kilogram",
        Kind::Mass,
        "1",
        &["kg", "kilogram", "kilogramme", "kilo"],
    ),
    unit(
        "t",
        "tonne",
        Kind::Mass,
        "1000",
        &["t", "tonne", "metric ton", "metric tonne"],
    ),
    unit(
        "oz",
        "ounce",
        Kind::Mass,
        "0.028349523125",
        &["oz", "ounce"],
    ),
    unit("lb", "pound", Kind::Mass, "0.45359237", &["lb", "pound"]),
    unit("st", "stone", Kind::Mass, "6.35029318", &["st", "stone"]),
    // Volume, base L; all but mL and L are US customary.
    unit(
        "mL",
        "millilitre",
        Kind::Volume,
        "0.001",
        &["ml", "millilitre", "milliliter", "cc"],
    ),
    unit(
        "L",
        "litre",
        Kind::Volume,
        "1",
        &["l", "litre", "liter", "ltr"],
    ),
    unit(
        "tsp",
        "US teaspoon",
        Kind::Volume,
        "0.00492892159375",
        &["tsp", "teaspoon", "us teaspoon"],
    ),
    unit(
        "tbsp",
        "US tablespoon",
        Kind::Volume,
        "0.01478676478125",
        &["tbsp", "tbs", "tablespoon", "us tablespoon"],
    ),
    unit(
        "fl oz",
        "US fluid ounce",
        Kind::Volume,
        "0.0295735295625",
        &[
            "fl oz",
            "floz",
            "fluid ounce",
            "us fl oz",
            "us fluid ounce",
            "oz",
            "ounce",
        ],
    ),
    unit(
        "cup",
        "US cup",
        Kind::Volume,
        "0.2365882365",
        &["cup", "us cup"],
    ),
    unit(
        "pt",
        "US pint",
        Kind::Volume,
        "0.473176473",
        &["pt", "pint", "us pint"],
    ),
    unit(
        "qt",
        "US quart",
        Kind::Volume,
        "0.946352946",
        &["qt", "quart", "us quart"],
    ),
    unit(
        "gal",
        "US gallon",
        Kind::Volume,
        "3.785411784",
        &["gal", "gallon", "us gal", "us gallon"],
    ),
    // Temperature, base K: base = (value + offset) × factor.
    Unit {
        symbol: "°C",
        name: "degree Celsius",
        kind: Kind::Temperature,
        factor: "1",
        offset: "273.15",
        aliases: &["c", "celsius", "centigrade", "degc"],
    },
    Unit {
        symbol: "°F",
        name: "degree Fahrenheit",
        kind: Kind::Temperature,
        factor: "5/9",
        offset: "459.67",
        aliases: &["f", "fahrenheit", "degf"],
    },
    unit("K", "kelvin", Kind::Temperature, "1", &["k", "kelvin"]),
    // Time, base s.
    unit("s", "second", Kind::Time, "1", &["s", "sec", "second"]),
    unit("min", "minute", Kind::Time, "60", &["min", "minute"]),
    unit("h", "hour", Kind::Time, "3600", &["h", "hr", "hour"]),
    unit("d", "day", Kind::Time, "86400", &["d", "day"]),
    unit("wk", "week", Kind::Time, "604800", &["wk", "week"]),
    // Data, base byte.
    unit("B", "byte", Kind::Data, "1", &["b", "byte"]),
    unit("KB", "kilobyte", Kind::Data, "1000", &["kb", "kilobyte"]),
    unit("MB", "megabyte", Kind::Data, "1000000", &["mb", "megabyte"]),
    unit(
        "GB",
        "gigabyte",
        Kind::Data,
        "1000000000",
        &["gb", "gigabyte"],
    ),
    unit(
        "TB",
        "terabyte",
        Kind::Data,
        "1000000000000",
        &["tb", "terabyte"],
    ),
    unit("KiB", "kibibyte", Kind::Data, "1024", &["kib", "kibibyte"]),
    unit(
        "MiB",
        "mebibyte",
        Kind::Data,
        "1048576",
        &["mib", "mebibyte"],
    ),
    unit(
        "GiB",
        "gibibyte",
        Kind::Data,
        "1073741824",
        &["gib", "gibibyte"],
    ),
    unit(
        "TiB",
        "tebibyte",
        Kind::Data,
        "1099511627776",
        &["tib", "tebibyte"],
    ),
    // Speed, base m/s.
    unit(
        "m/s",
        "metre per second",
        Kind::Speed,
        "1",
        &[
            "m / s",
            "m / sec",
            "mps",
            "metre per second",
            "meter per second",
        ],
    ),
    unit(
        "km/h",
        "kilometre per hour",
        Kind::Speed,
        "1000/3600",
        &[
            "km / h",
            "km / hr",
            "kph",
            "kmh",
            "kmph",
            "km per hour",
            "kilometre per hour",
            "kilometer per hour",
            "kilometre an hour",
            "kilometer an hour",
        ],
    ),
    unit(
        "mph",
        "mile per hour",
        Kind::Speed,
        "0.44704",
        &["mph", "mi / h", "mi / hr", "mile per hour", "mile an hour"],
    ),
    unit(
        "kn",
        "knot",
        Kind::Speed,
        "1852/3600",
        &["kn", "kt", "knot"],
    ),
    // Currency, base USD: factor = 1 / (units per USD), the static table.
    unit(
        "USD",
        "US dollar",
        Kind::Currency,
        "1",
        &["usd", "dollar", "us dollar", "$", "us$", "buck"],
    ),
    unit(
        "EUR",
        "euro",
        Kind::Currency,
        "1/0.86",
        &["eur", "euro", "€"],
    ),
    unit(
        "GBP",
        "pound sterling",
        Kind::Currency,
        "1/0.76",
        &[
            "gbp",
            "pound",
            "pound sterling",
            "sterling",
            "british pound",
            "£",
            "quid",
        ],
    ),
    unit(
        "JPY",
        "Japanese yen",
        Kind::Currency,
        "1/152",
        &["jpy", "yen", "japanese yen", "¥"],
    ),
    unit(
        "CHF",
        "Swiss franc",
        Kind::Currency,
        "1/0.80",
        &["chf", "swiss franc", "franc"],
    ),
    unit(
        "CAD",
        "Canadian dollar",
        Kind::Currency,
        "1/1.40",
        &["cad", "canadian dollar", "c$", "ca$"],
    ),
    unit(
        "AUD",
        "Australian dollar",
        Kind::Currency,
        "1/1.53",
        &["aud", "australian dollar", "a$", "au$"],
    ),
];

/// The most words in any alias.
pub const MAX_ALIAS_WORDS: usize = 3;

/// The units spelled exactly `phrase` (lowercase words joined by single
/// spaces), preferred first.
pub fn spelled(phrase: &str) -> Vec<&'static Unit> {
    UNITS
        .iter()
        .filter(|u| u.aliases.contains(&phrase))
        .collect()
}

/// The units of `kind` as `symbol (name)`, comma-separated.
pub fn list(kind: Kind) -> String {
    let items: Vec<String> = UNITS
        .iter()
        .filter(|u| u.kind == kind)
        .map(|u| format!("{} ({})", u.symbol, u.name))
        .collect();
    format!("accepted {} units: {}", kind.name(), items.join(", "))
}

/// [`list`] for every kind, `; `-separated.
pub fn list_all() -> String {
    let lists: Vec<String> = Kind::ALL.iter().map(|&k| list(k)).collect();
    lists.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::Ratio;

    fn factor(symbol: &str) -> Ratio {
        let unit = UNITS.iter().find(|u| u.symbol == symbol).unwrap();
        Ratio::parse_fraction(unit.factor).unwrap()
    }

    fn r(text: &str) -> Ratio {
        Ratio::parse_fraction(text).unwrap()
    }

    #[test]
    fn every_definition_parses_and_aliases_are_normalised() {
        for unit in UNITS {
            assert!(
                Ratio::parse_fraction(unit.factor).is_some(),
                "{}",
                unit.symbol
            );
            assert!(
                Ratio::parse_decimal(unit.offset).is_some(),
                "{}",
                unit.symbol
            );
            for alias in unit.aliases {
                assert_eq!(*alias, alias.to_lowercase(), "{alias}");
                assert_eq!(alias.split(' ').count(), alias.split_whitespace().count());
                assert!(alias.split(' ').count() <= MAX_ALIAS_WORDS, "{alias}");
            }
        }
        // Symbols are unique.
        for (i, a) in UNITS.iter().enumerate() {
            assert!(UNITS[i + 1..].iter().all(|b| b.symbol != a.symbol));
        }
    }

    #[test]
    fn customary_units_follow_from_their_definitions() {
        let ft = r("12").checked_mul(factor("in")).unwrap();
        assert_eq!(factor("ft"), ft);
        assert_eq!(factor("yd"), r("3").checked_mul(ft).unwrap());
        assert_eq!(factor("mi"), r("1760").checked_mul(factor("yd")).unwrap());
        assert_eq!(factor("oz"), factor("lb").checked_div(r("16")).unwrap());
        assert_eq!(factor("st"), r("14").checked_mul(factor("lb")).unwrap());
        // 1 gal = 231 in³, with 1 L = 1 dm³ = 0.001 m³.
        let inch = factor("in");
        let cubic_inch = inch.checked_mul(inch).unwrap().checked_mul(inch).unwrap();
        let gal = r("231")
            .checked_mul(cubic_inch)
            .unwrap()
            .checked_mul(r("1000"))
            .unwrap();
        assert_eq!(factor("gal"), gal);
        assert_eq!(factor("qt"), gal.checked_div(r("4")).unwrap());
        assert_eq!(factor("pt"), gal.checked_div(r("8")).unwrap());
        assert_eq!(factor("cup"), gal.checked_div(r("16")).unwrap());
        assert_eq!(factor("fl oz"), gal.checked_div(r("128")).unwrap());
        assert_eq!(factor("tbsp"), gal.checked_div(r("256")).unwrap());
        assert_eq!(factor("tsp"), gal.checked_div(r("768")).unwrap());
        let hour = factor("h");
        assert_eq!(factor("mph"), factor("mi").checked_div(hour).unwrap());
        assert_eq!(factor("kn"), factor("nmi").checked_div(hour).unwrap());
        assert_eq!(factor("km/h"), factor("km").checked_div(hour).unwrap());
        assert_eq!(factor("wk"), r("7").checked_mul(factor("d")).unwrap());
        assert_eq!(factor("TiB"), r("1024").checked_mul(factor("GiB")).unwrap());
    }

    #[test]
    fn shared_spellings_prefer_the_physical_unit() {
        let symbols = |p: &str| spelled(p).iter().map(|u| u.symbol).collect::<Vec<_>>();
        assert_eq!(symbols("pound"), ["lb", "GBP"]);
        assert_eq!(symbols("ounce"), ["oz", "fl oz"]);
        assert_eq!(symbols("km / h"), ["km/h"]);
        assert!(symbols("smoot").is_empty());
    }

    #[test]
    fn lists_name_every_unit_of_a_kind() {
        let length = list(Kind::Length);
        assert!(length.starts_with("accepted length units: mm (millimetre)"));
        assert!(length.contains("nmi (nautical mile)"));
        assert!(!length.contains("kg"));
        assert!(list_all().contains("accepted currency units: USD (US dollar)"));
    }
}
