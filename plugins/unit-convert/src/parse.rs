//! Reading a conversion out of English phrasing.
//!
//! The text is split into numbers and lowercase words (`°`, `/`, `$`, `€`,
//! `£`, `¥` count as words; other punctuation separates), unit spellings are
//! matched longest first (`fl oz` before `oz`, `km / h` before `km`), plural
//! forms are reduced (`miles`, `inches`, `lbs`), and then:
//!
//! - the request needs exactly one number (`5`, `-40`, `3.5`, `1,200.50`,
//!   `2.5e-3`, or `a` / `an` / `one` right before a unit: "how many grams in
//!   a pound") and exactly two units;
//! - the unit right after the number (`5 miles`, `72 °F`, `-40 degrees F`) is
//!   the one converted from, or, for money, the one right before it (`$120`,
//!   `USD 120`); the other unit is the one converted to, wherever it stands
//!   ("how many ounces is 250 grams", "250 g in oz", "120 USD to EUR");
//! - `in` is the inch only where a unit is expected — after a number
//!   (`12 in to cm`), after `to` / `into` / `as` / `in` (`30 cm to in`) or
//!   after `how many` — and only if the phrase needs another unit; otherwise
//!   it is the preposition ("250 g in oz");
//! - other words are ignored, but when a unit is missing every word that is
//!   neither a unit nor a common filler word is named in the error.

use pluginkit::PluginError;

use crate::convert::Amount;
use crate::units::{self, Kind, MAX_ALIAS_WORDS, Unit};

/// The longest text accepted (in characters): a conversion is a phrase.
pub const MAX_TEXT_CHARS: usize = 1000;

/// A conversion request read from text, before the unit pair is chosen.
#[derive(Debug)]
pub struct Query {
    /// The quantity.
    pub amount: Amount,
    /// Candidates for the unit converted from, preferred first.
    pub from: Vec<&'static Unit>,
    /// Candidates for the unit converted to, preferred first.
    pub to: Vec<&'static Unit>,
}

/// One token of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A decimal literal, thousands separators removed (`-1200.5`).
    Number(String),
    /// A lowercase word or one of the symbol words.
    Word(String),
}

impl Token {
    fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) => Some(w),
            Token::Number(_) => None,
        }
    }

    fn is_word(&self, words: &[&str]) -> bool {
        self.word().is_some_and(|w| words.contains(&w))
    }
}

/// Words for "degrees", skipped between a number and a temperature unit.
const DEGREE_WORDS: &[&str] = &["°", "degree", "degrees", "deg", "degs"];

/// Words that may stand for the number 1 right before a unit.
const ONE_WORDS: &[&str] = &["a", "an", "one"];

/// Words before an `in` that make it the inch.
const BEFORE_INCH: &[&str] = &["to", "into", "as", "in", "many"];

/// Common words of conversion requests, never reported as not understood.
const FILLER: &[&str] = &[
    "a",
    "about",
    "amount",
    "an",
    "and",
    "answer",
    "approx",
    "approximately",
    "are",
    "as",
    "at",
    "be",
    "calculate",
    "can",
    "change",
    "compute",
    "conversion",
    "convert",
    "converted",
    "could",
    "currency",
    "data",
    "distance",
    "do",
    "does",
    "equal",
    "equals",
    "equivalent",
    "exactly",
    "express",
    "far",
    "fast",
    "find",
    "for",
    "from",
    "get",
    "give",
    "go",
    "have",
    "heavy",
    "hey",
    "hi",
    "how",
    "i",
    "i'd",
    "if",
    "in",
    "into",
    "is",
    "it",
    "it's",
    "know",
    "length",
    "let's",
    "like",
    "long",
    "make",
    "makes",
    "many",
    "mass",
    "me",
    "minus",
    "money",
    "much",
    "my",
    "need",
    "negative",
    "now",
    "number",
    "of",
    "ok",
    "one",
    "or",
    "out",
    "per",
    "please",
    "pls",
    "price",
    "quick",
    "rate",
    "roughly",
    "show",
    "size",
    "so",
    "speed",
    "temperature",
    "tell",
    "than",
    "that",
    "that's",
    "the",
    "then",
    "there",
    "this",
    "time",
    "to",
    "today",
    "turn",
    "unit",
    "units",
    "us",
    "value",
    "volume",
    "want",
    "was",
    "we",
    "weigh",
    "weighs",
    "weight",
    "what",
    "what's",
    "whats",
    "will",
    "with",
    "worth",
    "would",
    "you",
    "/",
];

/// Split `text` into numbers and lowercase words.
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let signed = matches!(c, '-' | '+' | '\u{2212}')
            && (at(i + 1).is_ascii_digit() || (at(i + 1) == '.' && at(i + 2).is_ascii_digit()))
            && (i == 0 || !at(i - 1).is_alphanumeric());
        if c.is_ascii_digit() || (c == '.' && at(i + 1).is_ascii_digit()) || signed {
            let mut number = String::new();
            if signed {
                if c != '+' {
                    number.push('-');
                }
                i += 1;
            }
            let (mut point, mut exponent) = (false, false);
            while i < chars.len() {
                let c = chars[i];
                let thousands = c == ','
                    && !point
                    && !exponent
                    && number.bytes().any(|b| b.is_ascii_digit())
                    && (1..=3).all(|k| at(i + k).is_ascii_digit())
                    && !at(i + 4).is_ascii_digit();
                if c.is_ascii_digit() {
                    number.push(c);
                } else if thousands {
                    // 1,200: skip the separator.
                } else if c == '.' && !point && !exponent && at(i + 1).is_ascii_digit() {
                    point = true;
                    number.push(c);
                } else if c == 'e'
                    && !exponent
                    && (at(i + 1).is_ascii_digit()
                        || (matches!(at(i + 1), '-' | '+') && at(i + 2).is_ascii_digit()))
                {
                    exponent = true;
                    number.push(c);
                    number.push(at(i + 1));
                    i += 1;
                } else {
                    break;
                }
                i += 1;
            }
            tokens.push(Token::Number(number));
        } else if c.is_alphabetic() {
            let mut word = String::new();
            while i < chars.len() {
                let c = chars[i];
                if c.is_alphabetic() {
                    word.push(c);
                } else if matches!(c, '\'' | '\u{2019}') && at(i + 1).is_alphabetic() {
                    word.push('\'');
                } else {
                    break;
                }
                i += 1;
            }
            // us$, c$, a$, au$, ca$
            if at(i) == '$' {
                word.push('$');
                i += 1;
            }
            tokens.push(Token::Word(word));
        } else {
            match c {
                '$' | '€' | '£' | '¥' | '/' | '°' => tokens.push(Token::Word(c.to_string())),
                'º' => tokens.push(Token::Word("°".to_owned())),
                '℃' | '℉' => {
                    tokens.push(Token::Word("°".to_owned()));
                    tokens.push(Token::Word(if c == '℃' { "c" } else { "f" }.to_owned()));
                }
                _ => {} // other punctuation separates
            }
            i += 1;
        }
    }
    tokens
}

/// The singular of a unit word: `inches` → `inch`, `miles` → `mile`,
/// `lbs` → `lb`; `celsius`, `ms` and `gas` are left alone.
fn singular(word: &str) -> &str {
    if ["ches", "shes", "xes", "sses"]
        .iter()
        .any(|s| word.ends_with(s))
    {
        return &word[..word.len() - 2];
    }
    if word.len() >= 3
        && word.ends_with('s')
        && !["ss", "us", "is"].iter().any(|s| word.ends_with(s))
    {
        return &word[..word.len() - 1];
    }
    word
}

/// The longest unit spelling starting at token `i`: its length in tokens
/// and the units it names. The bare word `in` is never matched here.
fn unit_at(tokens: &[Token], i: usize) -> Option<(usize, Vec<&'static Unit>)> {
    if tokens[i].is_word(&["in"]) {
        return None;
    }
    for len in (1..=MAX_ALIAS_WORDS).rev() {
        let Some(words) = tokens
            .get(i..i + len)
            .and_then(|ts| ts.iter().map(Token::word).collect::<Option<Vec<&str>>>())
        else {
            continue;
        };
        let phrase = words.join(" ");
        let found = units::spelled(&phrase);
        if !found.is_empty() {
            return Some((len, found));
        }
        let reduced: Vec<&str> = words.iter().map(|w| singular(w)).collect();
        let reduced = reduced.join(" ");
        if reduced != phrase {
            let found = units::spelled(&reduced);
            if !found.is_empty() {
                return Some((len, found));
            }
        }
    }
    None
}

/// A unit named by a whole string, as in the structured request's `from`
/// and `to` (`"mi"`, `"miles"`, `"°F"`, `"km/h"`, `"fl oz"`, `"in"`).
pub fn unit_named(text: &str) -> Option<Vec<&'static Unit>> {
    let tokens: Vec<Token> = tokenize(text)
        .into_iter()
        .filter(|t| !t.is_word(DEGREE_WORDS))
        .collect();
    match tokens.as_slice() {
        [] => None,
        [t] if t.is_word(&["in"]) => Some(units::spelled("in")),
        _ => unit_at(&tokens, 0)
            .filter(|(len, _)| *len == tokens.len())
            .map(|(_, found)| found),
    }
}

/// A unit found in the text.
#[derive(Debug)]
struct Mention {
    start: usize,
    end: usize,
    units: Vec<&'static Unit>,
}

impl Mention {
    fn symbols(&self) -> String {
        let symbols: Vec<&str> = self.units.iter().map(|u| u.symbol).collect();
        symbols.join(" or ")
    }
}

/// The text as quoted in messages, shortened if long.
fn quoted(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{:?}", head + "…")
    }
}

const EXAMPLE: &str = r#"e.g. "convert 5 miles to km" or "how many ounces is 250 grams""#;

/// Read a conversion out of `text`.
pub fn parse(text: &str) -> Result<Query, PluginError> {
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(PluginError::invalid_input(format!(
            "field `text` is {length} characters long; a conversion request is one short phrase \
             (at most {MAX_TEXT_CHARS} characters), {EXAMPLE}"
        )));
    }
    let tokens = tokenize(text);

    // Units, and the places where `in` could be the inch.
    let mut mentions = Vec::new();
    let mut inch_spots = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].is_word(&["in"]) {
            let strong = i > 0
                && match &tokens[i - 1] {
                    Token::Number(_) => true,
                    Token::Word(w) => BEFORE_INCH.contains(&w.as_str()),
                };
            if strong {
                inch_spots.push(i);
            }
            i += 1;
        } else if let Some((len, found)) = unit_at(&tokens, i) {
            mentions.push(Mention {
                start: i,
                end: i + len,
                units: found,
            });
            i += len;
        } else {
            i += 1;
        }
    }
    let missing = 2usize.saturating_sub(mentions.len());
    for &spot in inch_spots.iter().take(missing) {
        mentions.push(Mention {
            start: spot,
            end: spot + 1,
            units: units::spelled("in"),
        });
    }
    mentions.sort_by_key(|m| m.start);

    let in_mention = |i: usize| mentions.iter().any(|m| (m.start..m.end).contains(&i));
    let after = |i: usize| {
        let mut j = i + 1;
        while tokens.get(j).is_some_and(|t| t.is_word(DEGREE_WORDS)) {
            j += 1;
        }
        j
    };

    // The number: one literal, or "a"/"an"/"one" right before a unit.
    let numbers: Vec<(usize, &str)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t {
            Token::Number(n) => Some((i, n.as_str())),
            Token::Word(_) => None,
        })
        .collect();
    if numbers.len() > 1 {
        let listed: Vec<&str> = numbers.iter().map(|(_, n)| *n).collect();
        return Err(PluginError::invalid_input(format!(
            "found several numbers ({}) in {}; convert one quantity at a time, {EXAMPLE}",
            listed.join(", "),
            quoted(text)
        )));
    }
    let article = || {
        (0..tokens.len())
            .find(|&i| tokens[i].is_word(ONE_WORDS) && mentions.iter().any(|m| m.start == after(i)))
    };
    let (position, literal) = match numbers.first() {
        Some(&(i, n)) => {
            let negated = i > 0 && tokens[i - 1].is_word(&["minus", "negative"]);
            let literal = match (negated, n.strip_prefix('-')) {
                (false, _) => n.to_owned(),
                (true, Some(positive)) => positive.to_owned(),
                (true, None) => format!("-{n}"),
            };
            (Some(i), literal)
        }
        None => (article(), "1".to_owned()),
    };

    // Words that are neither units nor fillers: the candidates for what
    // was not understood.
    let unknown: Vec<String> = tokens
        .iter()
        .enumerate()
        .filter(|&(i, t)| {
            t.word().is_some_and(|w| {
                !in_mention(i) && !FILLER.contains(&w) && !DEGREE_WORDS.contains(&w)
            })
        })
        .map(|(_, t)| format!("{:?}", t.word().unwrap_or_default()))
        .collect();
    let not_understood = if unknown.is_empty() {
        String::new()
    } else {
        format!("; did not understand {} as a unit", unknown.join(", "))
    };

    match mentions.len() {
        0 => {
            return Err(PluginError::invalid_input(format!(
                "no unit recognised in {}{not_understood}; {}",
                quoted(text),
                units::list_all()
            )));
        }
        1 => {
            let found = &mentions[0];
            let mut kinds: Vec<Kind> = found.units.iter().map(|u| u.kind).collect();
            kinds.dedup();
            let lists: Vec<String> = kinds.into_iter().map(units::list).collect();
            return Err(PluginError::invalid_input(format!(
                "only one unit ({}) recognised in {}{not_understood}; name the unit to convert from and the unit to convert to, {EXAMPLE}; {}",
                found.symbols(),
                quoted(text),
                lists.join("; ")
            )));
        }
        2 => {}
        _ => {
            let listed: Vec<String> = mentions.iter().map(Mention::symbols).collect();
            return Err(PluginError::invalid_input(format!(
                "found more than two units ({}) in {}; ask for one conversion at a time, {EXAMPLE}",
                listed.join(", "),
                quoted(text)
            )));
        }
    }

    let Some(position) = position else {
        return Err(PluginError::invalid_input(format!(
            "no number found in {}; write the quantity in digits, {EXAMPLE}",
            quoted(text)
        )));
    };
    let amount = Amount::parse(&literal).ok_or_else(|| {
        PluginError::invalid_input(format!(
            "the number {literal} in {} is out of range",
            quoted(text)
        ))
    })?;

    // Which unit is the quantity's?
    let next = after(position);
    let is_money = |m: &Mention| m.units.iter().any(|u| u.kind == Kind::Currency);
    let before = |m: &Mention, words: &[&str]| m.start > 0 && tokens[m.start - 1].is_word(words);
    let source = if let Some(i) = mentions.iter().position(|m| m.start == next) {
        i
    } else if let Some(i) = mentions
        .iter()
        .position(|m| m.end == position && is_money(m))
    {
        i
    } else if let Some(i) = mentions.iter().position(|m| before(m, &["from"])) {
        i
    } else if let Some(i) = mentions
        .iter()
        .position(|m| before(m, &["to", "into", "in", "as"]))
    {
        1 - i
    } else if tokens
        .windows(2)
        .any(|w| w[0].is_word(&["how"]) && w[1].is_word(&["many", "much"]))
    {
        1
    } else {
        0
    };
    let to = mentions.remove(1 - source);
    let from = mentions.remove(0);
    Ok(Query {
        amount,
        from: from.units,
        to: to.units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;

    fn words(text: &str) -> Vec<String> {
        tokenize(text)
            .into_iter()
            .map(|t| match t {
                Token::Number(n) => format!("#{n}"),
                Token::Word(w) => w,
            })
            .collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            words("Convert 5 Miles to KM!"),
            ["convert", "#5", "miles", "to", "km"]
        );
        assert_eq!(words("72°F→°C"), ["#72", "°", "f", "°", "c"]);
        assert_eq!(words("-40 ℃, 3.5kg"), ["#-40", "°", "c", "#3.5", "kg"]);
        assert_eq!(words("$1,200.50 in €"), ["$", "#1200.50", "in", "€"]);
        assert_eq!(words("1,5 km"), ["#1", "#5", "km"]);
        assert_eq!(words("100 km/h"), ["#100", "km", "/", "h"]);
        assert_eq!(
            words("2.5e-3 m, 1e3 mm, 5eur"),
            ["#2.5e-3", "m", "#1e3", "mm", "#5", "eur"]
        );
        assert_eq!(
            words("what's A$20 in US$"),
            ["what's", "a$", "#20", "in", "us$"]
        );
        assert_eq!(words("fl. oz. 5-3"), ["fl", "oz", "#5", "#3"]);
        assert_eq!(words(".5 l"), ["#.5", "l"]);
    }

    #[test]
    fn singulars() {
        let cases = [
            ("miles", "mile"),
            ("inches", "inch"),
            ("lbs", "lb"),
            ("kms", "km"),
            ("celsius", "celsius"),
            ("ms", "ms"),
            ("hours", "hour"),
            ("feet", "feet"),
        ];
        for (plural, one) in cases {
            assert_eq!(singular(plural), one);
        }
    }

    /// Parse and resolve: (value, from symbol, to symbol).
    fn read(text: &str) -> (f64, &'static str, &'static str) {
        let query = parse(text).unwrap_or_else(|e| panic!("{text}: {}", e.message));
        let (from, to) = crate::convert::resolve(&query.from, &query.to)
            .unwrap_or_else(|e| panic!("{text}: {}", e.message));
        (query.amount.approx, from.symbol, to.symbol)
    }

    #[test]
    fn phrasings() {
        let cases: &[(&str, f64, &str, &str)] = &[
            ("convert 5 miles to km", 5.0, "mi", "km"),
            ("how many ounces is 250 grams", 250.0, "g", "oz"),
            ("250 g in oz", 250.0, "g", "oz"),
            ("72 °F to celsius", 72.0, "°F", "°C"),
            ("3.5 kg to lb", 3.5, "kg", "lb"),
            ("120 USD in EUR", 120.0, "USD", "EUR"),
            ("Convert 5 Miles To Kilometers", 5.0, "mi", "km"),
            ("how many ounces are in 250 grams?", 250.0, "g", "oz"),
            ("what is 100 km/h in mph", 100.0, "km/h", "mph"),
            (
                "60 miles per hour to kilometres per hour",
                60.0,
                "mph",
                "km/h",
            ),
            ("-40 degrees F to C", -40.0, "°F", "°C"),
            ("minus 40 celsius in fahrenheit", -40.0, "°C", "°F"),
            ("300 kelvin to °C", 300.0, "K", "°C"),
            ("72°F in ℃", 72.0, "°F", "°C"),
            ("12 in to cm", 12.0, "in", "cm"),
            ("how many cm in 12 in", 12.0, "in", "cm"),
            ("30 cm to in", 30.0, "cm", "in"),
            ("5 ft in in", 5.0, "ft", "in"),
            ("6 feet in meters", 6.0, "ft", "m"),
            ("how many grams in a pound", 1.0, "lb", "g"),
            ("how many pounds is 70 kg", 70.0, "kg", "lb"),
            ("100 pounds in dollars", 100.0, "GBP", "USD"),
            ("£100 in yen", 100.0, "GBP", "JPY"),
            ("$1,200.50 to euros", 1200.5, "USD", "EUR"),
            ("EUR 50 to USD", 50.0, "EUR", "USD"),
            ("how many yen is 50 euros", 50.0, "EUR", "JPY"),
            ("20 A$ in swiss francs", 20.0, "AUD", "CHF"),
            ("10 canadian dollars to us dollars", 10.0, "CAD", "USD"),
            ("how many ounces in a cup", 1.0, "cup", "fl oz"),
            ("8 oz to ml", 8.0, "fl oz", "mL"),
            ("16 fl. oz. in cups", 16.0, "fl oz", "cup"),
            ("2 tablespoons to teaspoons", 2.0, "tbsp", "tsp"),
            ("1 gallon in litres", 1.0, "gal", "L"),
            ("3 US gallons to liters", 3.0, "gal", "L"),
            ("1 GiB in MB", 1.0, "GiB", "MB"),
            ("how many bytes in 2 kibibytes", 2.0, "KiB", "B"),
            ("500 megabytes to GB", 500.0, "MB", "GB"),
            ("90 min to hours", 90.0, "min", "h"),
            ("3 weeks in days", 3.0, "wk", "d"),
            ("2 hrs in secs", 2.0, "h", "s"),
            ("10 knots in km/h", 10.0, "kn", "km/h"),
            ("10 m/s to mph", 10.0, "m/s", "mph"),
            ("1 nautical mile in miles", 1.0, "nmi", "mi"),
            ("11 stone in kg", 11.0, "st", "kg"),
            ("2.5 tonnes to kg", 2.5, "t", "kg"),
            ("what's 1.5e3 mm in m", 1500.0, "mm", "m"),
            ("5 mi -> km", 5.0, "mi", "km"),
            ("convert from 5 miles to km", 5.0, "mi", "km"),
            ("please convert 10 lbs into kilos, thanks", 10.0, "lb", "kg"),
            ("what is a mile in feet", 1.0, "mi", "ft"),
        ];
        assert!(cases.len() >= 20);
        for &(text, value, from, to) in cases {
            assert_eq!(read(text), (value, from, to), "{text}");
        }
    }

    #[test]
    fn units_named_by_fields() {
        let symbol = |t: &str| unit_named(t).map(|us| us[0].symbol);
        let cases = [
            ("mi", "mi"),
            ("Miles", "mi"),
            ("°F", "°F"),
            ("deg C", "°C"),
            ("km/h", "km/h"),
            ("fl oz", "fl oz"),
            ("in", "in"),
            ("inches", "in"),
            ("US$", "USD"),
            ("€", "EUR"),
            ("KiB", "KiB"),
        ];
        for (text, want) in cases {
            assert_eq!(symbol(text), Some(want), "{text}");
        }
        for bad in ["", "smoot", "km h x", "5 km", "°"] {
            assert_eq!(symbol(bad), None, "{bad}");
        }
    }

    fn error(text: &str) -> String {
        let err = parse(text)
            .and_then(|q| crate::convert::resolve(&q.from, &q.to).map(drop))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{text}");
        err.message
    }

    #[test]
    fn errors_name_what_was_not_understood() {
        let m = error("convert 5 smoots to km");
        assert!(m.contains("only one unit (km)"), "{m}");
        assert!(m.contains(r#"did not understand "smoots""#), "{m}");
        assert!(m.contains("accepted length units: mm (millimetre)"), "{m}");
        assert!(!m.contains("accepted mass units"), "{m}");

        let m = error("convert 5 furlongs to fortnights");
        assert!(m.contains("no unit recognised"), "{m}");
        assert!(m.contains(r#""furlongs", "fortnights""#), "{m}");
        assert!(m.contains("accepted currency units"), "{m}");

        let m = error("convert miles to km");
        assert!(m.contains("no number found"), "{m}");

        let m = error("5 ft 3 in to cm");
        assert!(m.contains("several numbers (5, 3)"), "{m}");

        let m = error("how many pounds is 5");
        assert!(m.contains("only one unit (lb or GBP)"), "{m}");
        assert!(m.contains("accepted mass units") && m.contains("accepted currency units"));

        let m = error("convert 5 kg to km");
        assert!(m.contains("cannot convert mass (kg) to length (km)"), "{m}");

        let m = error("5 m to km to mi");
        assert!(m.contains("more than two units (m, km, mi)"), "{m}");

        let m = error(&"5 mi to km ".repeat(200));
        assert!(m.contains("at most 1000 characters"), "{m}");

        let m = error("");
        assert!(m.contains("no unit recognised"), "{m}");
    }
}
