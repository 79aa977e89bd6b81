//! `unit-convert` 1.0.0: capability `unit.convert` converts a quantity
//! between units of length, mass, volume (US customary), temperature, time,
//! data, speed and currency (a static table of rates). The units and their
//! exact definitions are in [`units`].
//!
//! Requests, either structured or in English:
//!
//! - `{"value": 5, "from": "mi", "to": "km"}` (`value` a number, or a string
//!   holding one; `from` / `to` any accepted spelling: `"miles"`, `"°F"`,
//!   `"km/h"`, `"fl oz"`, `"USD"`);
//! - `{"text": "convert 5 miles to km"}`, read as described in [`parse`]:
//!   "how many ounces is 250 grams", "250 g in oz", "72 °F to celsius",
//!   "120 USD in EUR".
//!
//! Response `{"value": 8.04672, "from": "mi", "to": "km", "unit_kind":
//! "length", "text": "5 mi = 8.04672 km"}`: `value` at full precision (the
//! `f64` nearest the exact result, see [`exact`]), `from` / `to` the
//! canonical symbols, `text` rounded to 6 significant digits (money to the
//! cent). Currency responses add `"rate"` (one `from` in `to`),
//! `"rates_as_of": "2026-11-01"` and a `"note"` that the rates are static;
//! responses involving a US customary volume unit add a `"note"` saying so.
//!
//! Unknown units, missing numbers and the like are `invalid-input` naming
//! what was not understood and listing the accepted units of that kind;
//! converting between kinds (kg → km) is `invalid-input` naming both.

pub mod convert;
pub mod exact;
pub mod format;
pub mod parse;
pub mod units;

use pluginkit::{Plugin, PluginError, Request};
use serde_json::{Map, Value, json};

use convert::Amount;
use units::{Kind, Unit};

pluginkit::export_plugin!(UnitConvert);

/// The shape of a request, quoted in error messages.
const SHAPE: &str =
    r#"{"value": number, "from": unit, "to": unit} or {"text": "convert 5 miles to km"}"#;

/// The unit conversion plugin.
pub struct UnitConvert;

impl Plugin for UnitConvert {
    const CAPABILITIES: &'static [&'static str] = &["unit.convert"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        let structured = ["value", "from", "to"]
            .iter()
            .any(|field| request.value(field, "").is_ok());
        let (amount, from, to) = if structured {
            structured_query(&request)?
        } else {
            let text = request.str(
                "text",
                "a conversion in words such as \"convert 5 miles to km\"",
            )?;
            let query = parse::parse(text)?;
            let (from, to) = convert::resolve(&query.from, &query.to)?;
            (query.amount, from, to)
        };
        let value = convert::convert(&amount, from, to)?;
        Ok(Value::Object(response(&amount, value, from, to)).to_string())
    }
}

/// Read `value`, `from` and `to`, and choose the unit pair.
fn structured_query(
    request: &Request,
) -> Result<(Amount, &'static Unit, &'static Unit), PluginError> {
    const WHAT: &str = "the quantity to convert, a number such as 5 or 3.5";
    let value = request.value("value", WHAT)?;
    let literal = match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.trim().replace(',', "")),
        _ => None,
    };
    let amount = literal.as_deref().and_then(Amount::parse).ok_or_else(|| {
        PluginError::invalid_input(format!(
            "field `value` must be {WHAT}, got {value}; the request should look like {SHAPE}"
        ))
    })?;
    let from_text = request.str("from", "the unit to convert from, such as \"mi\"")?;
    let to_text = request.str("to", "the unit to convert to, such as \"km\"")?;
    match (parse::unit_named(from_text), parse::unit_named(to_text)) {
        (Some(from), Some(to)) => {
            let (from, to) = convert::resolve(&from, &to)?;
            Ok((amount, from, to))
        }
        (None, Some(known)) => Err(unknown_unit("from", from_text, &known)),
        (Some(known), None) => Err(unknown_unit("to", to_text, &known)),
        (None, None) => Err(PluginError::invalid_input(format!(
            "unknown units {from_text:?} (field `from`) and {to_text:?} (field `to`); {}",
            units::list_all()
        ))),
    }
}

/// `field` named an unknown unit; the other field's unit tells the kind
/// whose units are listed.
fn unknown_unit(field: &str, text: &str, other: &[&'static Unit]) -> PluginError {
    let mut kinds: Vec<Kind> = other.iter().map(|u| u.kind).collect();
    kinds.dedup();
    let lists: Vec<String> = kinds.into_iter().map(units::list).collect();
    PluginError::invalid_input(format!(
        "unknown unit {text:?} in field `{field}`; {}",
        lists.join("; ")
    ))
}

fn response(amount: &Amount, value: f64, from: &Unit, to: &Unit) -> Map<String, Value> {
    let text = format!(
        "{} {} = {} {}",
        format::plain(amount.approx),
        from.symbol,
        format::result(value, to),
        to.symbol
    );
    let mut out = Map::new();
    out.insert("value".into(), json!(value));
    out.insert("from".into(), json!(from.symbol));
    out.insert("to".into(), json!(to.symbol));
    out.insert("unit_kind".into(), json!(from.kind.name()));
    out.insert("text".into(), json!(text));
    if from.kind == Kind::Currency {
        let one = Amount::parse("1").expect("1 is a number");
        if let Ok(rate) = convert::convert(&one, from, to) {
            out.insert("rate".into(), json!(rate));
        }
        out.insert("rates_as_of".into(), json!(units::RATES_AS_OF));
        out.insert("note".into(), json!(units::RATES_NOTE));
    } else if from.is_us_customary_volume() || to.is_us_customary_volume() {
        out.insert("note".into(), json!(units::US_CUSTOMARY_NOTE));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;

    fn run(request: Value) -> Result<Value, PluginError> {
        UnitConvert::execute("unit.convert", &request.to_string())
            .map(|s| serde_json::from_str(&s).unwrap())
    }

    #[test]
    fn structured_and_text_requests_agree() {
        let want = json!({"value": 8.04672, "from": "mi", "to": "km", "unit_kind": "length",
                          "text": "5 mi = 8.04672 km"});
        assert_eq!(
            run(json!({"value": 5, "from": "mi", "to": "km"})).unwrap(),
            want
        );
        assert_eq!(run(json!({"text": "convert 5 miles to km"})).unwrap(), want);
        assert_eq!(
            run(json!({"value": "5", "from": "miles", "to": "kilometres"})).unwrap(),
            want
        );
    }

    #[test]
    fn demo_requests() {
        let out = run(json!({"text": "how many ounces is 250 grams"})).unwrap();
        assert_eq!(out["value"], 8.818490487395103);
        assert_eq!(out["text"], "250 g = 8.81849 oz");
        assert_eq!(out["unit_kind"], "mass");

        let out = run(json!({"text": "72 °F to celsius"})).unwrap();
        assert_eq!(out["text"], "72 °F = 22.2222 °C");
        assert_eq!(out["unit_kind"], "temperature");

        let out = run(json!({"text": "3.5 kg to lb"})).unwrap();
        assert_eq!(out["text"], "3.5 kg = 7.71618 lb");
    }

    #[test]
    fn currency_says_rates_are_static() {
        let out = run(json!({"text": "120 USD in EUR"})).unwrap();
        assert_eq!(out["value"], 103.2);
        assert_eq!(out["text"], "120 USD = 103.20 EUR");
        assert_eq!(out["unit_kind"], "currency");
        assert_eq!(out["rate"], 0.86);
        assert_eq!(out["rates_as_of"], "2026-11-01");
        assert!(out["note"].as_str().unwrap().contains("static"));
        let out = run(json!({"value": 1000, "from": "JPY", "to": "USD"})).unwrap();
        assert_eq!(out["text"], "1000 JPY = 6.58 USD");
    }

    #[test]
    fn customary_volume_is_noted() {
        let out = run(json!({"value": 1, "from": "gal", "to": "L"})).unwrap();
        assert_eq!(out["value"], 3.785411784);
        assert!(out["note"].as_str().unwrap().contains("US customary"));
        let out = run(json!({"value": 1, "from": "L", "to": "mL"})).unwrap();
        assert!(out.get("note").is_none());
        assert!(out.get("rates_as_of").is_none());
    }

    #[test]
    fn bad_requests_are_invalid_input() {
        let cases = [
            (json!({}), "missing field `text`"),
            (json!([]), "must be a JSON object"),
            (json!({"text": 5}), "field `text` must be a string"),
            (json!({"value": 5, "from": "mi"}), "missing field `to`"),
            (json!({"from": "mi", "to": "km"}), "missing field `value`"),
            (
                json!({"value": "five", "from": "mi", "to": "km"}),
                "field `value` must be",
            ),
            (json!({"value": null, "from": "mi", "to": "km"}), "got null"),
            (
                json!({"value": 5, "from": "smoot", "to": "km"}),
                "unknown unit \"smoot\" in field `from`; accepted length units: mm (millimetre)",
            ),
            (
                json!({"value": 5, "from": "kg", "to": "parsec"}),
                "unknown unit \"parsec\" in field `to`; accepted mass units",
            ),
            (
                json!({"value": 5, "from": "x", "to": "y"}),
                "accepted speed units",
            ),
            (
                json!({"value": 5, "from": "kg", "to": "km"}),
                "cannot convert mass (kg) to length (km)",
            ),
            (
                json!({"value": -500, "from": "C", "to": "F"}),
                "below absolute zero",
            ),
            (
                json!({"text": "convert 5 smoots to km"}),
                "did not understand \"smoots\"",
            ),
        ];
        for (request, needle) in cases {
            let err = run(request.clone()).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{request}");
            assert!(err.message.contains(needle), "{request}: {}", err.message);
        }
    }
}
