//! The 1.1.0 tokenizer, rewritten from 1.0.0's character scanner to make
//! room for wildcards.
//!
//! Names are runs of letters, digits and `_`; a run of digits alone is an
//! [`Token::Int`]. `-` became a token of its own so that the parser can
//! build negative indices (`[-1]`) from `Minus Int`. This is where the
//! documented regression comes from: 1.0.0 read `-` as part of a `.key`,
//! this tokenizer splits `content-type` into `content`, `-`, `type` (see the
//! crate documentation).

use crate::path::PathError;

/// A token of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `$`, the document root.
    Dollar,
    /// `.`
    Dot,
    /// `[`
    Open,
    /// `]`
    Close,
    /// `*`
    Star,
    /// `-`
    Minus,
    /// A run of letters, digits and `_` that is not all digits.
    Name(String),
    /// A run of ASCII digits.
    Int(String),
    /// A quoted string, unescaped.
    Str(String),
}

/// A token with the character position where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexed {
    /// The token.
    pub token: Token,
    /// Its start, in characters from the beginning of the path.
    pub position: usize,
}

/// Split a path into tokens.
pub fn lex(path: &str) -> Result<Vec<Lexed>, PathError> {
    let chars: Vec<char> = path.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let position = i;
        let token = match chars[i] {
            '$' => Token::Dollar,
            '.' => Token::Dot,
            '[' => Token::Open,
            ']' => Token::Close,
            '*' => Token::Star,
            '-' => Token::Minus,
            quote @ ('"' | '\'') => {
                let (text, end) = quoted(&chars, i, quote)?;
                i = end;
                tokens.push(Lexed {
                    token: Token::Str(text),
                    position,
                });
                continue;
            }
            c if is_name_char(c) => {
                let mut end = i;
                while end < chars.len() && is_name_char(chars[end]) {
                    end += 1;
                }
                let text: String = chars[i..end].iter().collect();
                i = end;
                let token = if text.chars().all(|c| c.is_ascii_digit()) {
                    Token::Int(text)
                } else {
                    Token::Name(text)
                };
                tokens.push(Lexed { token, position });
                continue;
            }
            c => {
                return Err(PathError::syntax(
                    position,
                    format!("unexpected '{c}'; expected '.', '[', a key, an index or '*'"),
                ));
            }
        };
        tokens.push(Lexed { token, position });
        i += 1;
    }
    Ok(tokens)
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Read a quoted string starting at its opening quote; returns the
/// unescaped text and the position after the closing quote.
fn quoted(chars: &[char], start: usize, quote: char) -> Result<(String, usize), PathError> {
    let mut raw = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(PathError::syntax(
                    start,
                    format!("unterminated key: no closing {quote}"),
                ));
            }
            Some(&c) if c == quote => break,
            Some('\\') => {
                match (quote, chars.get(i + 1)) {
                    ('"', Some(&e)) => {
                        raw.push('\\');
                        raw.push(e);
                    }
                    (_, Some(&e @ ('\'' | '\\'))) => raw.push(e),
                    _ => {
                        return Err(PathError::syntax(
                            i,
                            "invalid escape: inside '...' only \\' and \\\\ are allowed".into(),
                        ));
                    }
                }
                i += 2;
            }
            Some(&c) => {
                raw.push(c);
                i += 1;
            }
        }
    }
    if quote == '"' {
        raw = serde_json::from_str(&format!("\"{raw}\""))
            .map_err(|e| PathError::syntax(start, format!("invalid key string: {e}")))?;
    }
    Ok((raw, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(path: &str) -> Vec<Token> {
        lex(path).unwrap().into_iter().map(|l| l.token).collect()
    }

    #[test]
    fn tokenizes() {
        assert_eq!(
            tokens(r#"$.a1[*]["x y"][-2].*"#),
            [
                Token::Dollar,
                Token::Dot,
                Token::Name("a1".into()),
                Token::Open,
                Token::Star,
                Token::Close,
                Token::Open,
                Token::Str("x y".into()),
                Token::Close,
                Token::Open,
                Token::Minus,
                Token::Int("2".into()),
                Token::Close,
                Token::Dot,
                Token::Star
            ]
        );
    }

    #[test]
    fn hyphenated_names_split() {
        assert_eq!(
            tokens("$.content-type"),
            [
                Token::Dollar,
                Token::Dot,
                Token::Name("content".into()),
                Token::Minus,
                Token::Name("type".into())
            ]
        );
    }
}
