//! Rule-based sentence splitting.
//!
//! A sentence ends at `.`, `!`, `?` or `…` (possibly repeated and followed
//! by closing quotes or brackets) when whitespace or the end of the text
//! follows, and at a blank line. These do *not* end a sentence:
//!
//! * a terminator not followed by whitespace (`3.14`, `example.com`, `e.g.,`);
//! * a terminator whose next word starts with a lowercase letter
//!   (`approx. five`, `"Stop!" she said`);
//! * a period after a title or an abbreviation that is always followed by
//!   more text (`Dr.`, `Mrs.`, `e.g.`, `i.e.`, `vs.`, `Fig.`), or after a
//!   single-letter initial (`J. Smith`);
//! * a period after an abbreviation that often sits mid-sentence (`etc.`,
//!   `Inc.`, `U.S.`, `a.m.`, `No.`) unless an uppercase word follows.

/// Abbreviations after which a period never ends the sentence.
const NEVER_FINAL: &[&str] = &[
    "approx", "capt", "cf", "col", "dept", "dr", "e.g", "eg", "fig", "figs", "gen", "hon", "i.e",
    "ie", "jr", "lt", "mr", "mrs", "ms", "mt", "pp", "prof", "rev", "sgt", "sr", "st", "viz",
    "vol", "vs",
];

/// Abbreviations after which a period ends the sentence only if an
/// uppercase word follows.
const MAYBE_FINAL: &[&str] = &[
    "a.m", "al", "co", "corp", "etc", "inc", "ltd", "no", "nos", "p.m", "u.k", "u.s", "u.s.a",
];

/// Split `text` into trimmed, non-empty sentences (slices of `text`).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' && blank_line_follows(&text[i + 1..]) {
            push(&mut out, &text[start..i]);
            start = i + 1;
            continue;
        }
        if !is_terminator(c) {
            continue;
        }
        // Take the whole run of terminators and closing punctuation.
        let mut run_end = i + c.len_utf8();
        let mut terminators = 1;
        while let Some(&(j, d)) = chars.peek() {
            if is_terminator(d) {
                terminators += 1;
            } else if !is_closer(d) {
                break;
            }
            run_end = j + d.len_utf8();
            chars.next();
        }
        let rest = &text[run_end..];
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            continue;
        }
        if ends_sentence(&text[..i], c == '.' && terminators == 1, rest) {
            push(&mut out, &text[start..run_end]);
            start = run_end;
        }
    }
    push(&mut out, &text[start..]);
    out
}

fn push<'a>(out: &mut Vec<&'a str>, piece: &'a str) {
    let piece = piece.trim();
    if !piece.is_empty() {
        out.push(piece);
    }
}

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '’' | '”' | '»')
}

fn is_opener(c: char) -> bool {
    matches!(c, '"' | '\'' | '(' | '[' | '{' | '‘' | '“' | '«')
}

/// Whether the line after a newline is blank (only spaces or tabs).
fn blank_line_follows(rest: &str) -> bool {
    let line = rest.split('\n').next().unwrap_or("");
    rest.contains('\n') && line.trim().is_empty()
}

/// Decide a boundary given the text before the terminator, whether the
/// terminator is a single period, and the text after the run.
fn ends_sentence(before: &str, single_period: bool, rest: &str) -> bool {
    let next = rest.trim_start().chars().find(|&c| !is_opener(c));
    let next_lower = next.is_some_and(char::is_lowercase);
    let next_upper = next.is_some_and(char::is_uppercase);
    if next_lower {
        return false;
    }
    if !single_period || next.is_none() {
        return true;
    }
    let token = before
        .rsplit(|c: char| c.is_whitespace() || is_opener(c))
        .next()
        .unwrap_or("")
        .to_lowercase();
    let is_initial = {
        let mut cs = token.chars();
        matches!((cs.next(), cs.next()), (Some(c), None) if c.is_alphabetic())
    };
    if is_initial || NEVER_FINAL.contains(&token.as_str()) {
        return false;
    }
    if MAYBE_FINAL.contains(&token.as_str()) {
        return next_upper;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::sentences;

    #[test]
    fn basic_terminators() {
        assert_eq!(
            sentences("One. Two! Three? Four"),
            ["One.", "Two!", "Three?", "Four"]
        );
    }

    #[test]
    fn decimals_and_urls_do_not_split() {
        assert_eq!(
            sentences("Pi is about 3.14 today. See example.com for more."),
            ["Pi is about 3.14 today.", "See example.com for more."]
        );
    }

    #[test]
    fn abbreviations_and_titles() {
        assert_eq!(
            sentences(
                "Dr. Smith met Mrs. Jones. They talked, e.g. about rain. It was 9 a.m. on Monday."
            ),
            [
                "Dr. Smith met Mrs. Jones.",
                "They talked, e.g. about rain.",
                "It was 9 a.m. on Monday."
            ]
        );
        assert_eq!(
            sentences("We sold apples, pears, etc. Then we left. Call No. 5 now."),
            [
                "We sold apples, pears, etc.",
                "Then we left.",
                "Call No. 5 now."
            ]
        );
        assert_eq!(
            sentences("J. R. R. Tolkien wrote it. He was a professor."),
            ["J. R. R. Tolkien wrote it.", "He was a professor."]
        );
    }

    #[test]
    fn quotes_ellipses_and_lowercase_continuations() {
        assert_eq!(
            sentences("\"Stop!\" she said. \"Why?\" He waited... Nothing happened."),
            [
                "\"Stop!\" she said.",
                "\"Why?\"",
                "He waited...",
                "Nothing happened."
            ]
        );
        assert_eq!(
            sentences("It costs approx. five euros. Fine."),
            ["It costs approx. five euros.", "Fine."]
        );
    }

    #[test]
    fn blank_lines_end_sentences() {
        assert_eq!(
            sentences("A heading\n\nBody text.\nStill body. End"),
            ["A heading", "Body text.", "Still body.", "End"]
        );
        assert_eq!(
            sentences("A line\nwrapped here. Next."),
            ["A line\nwrapped here.", "Next."]
        );
    }

    #[test]
    fn empty_and_unicode() {
        assert!(sentences("").is_empty());
        assert!(sentences("  \n\n ").is_empty());
        assert_eq!(
            sentences("Ça va? Très bien… Merci."),
            ["Ça va?", "Très bien…", "Merci."]
        );
    }
}
