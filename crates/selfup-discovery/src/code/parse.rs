//! One file, read and parsed: what is kept of it, or why it was skipped.
//!
//! Skipped, with the reason reported: a file that cannot be read, a binary
//! file (a NUL byte in its first 8 KiB), invalid UTF-8, a file over
//! [`MAX_FILE_BYTES`], a minified file (`*.min.js` or lines averaging over
//! 400 bytes), and a file tree-sitter cannot parse within the tolerance:
//! more than [`MAX_ERROR_SHARE`] of its bytes in ERROR nodes, or more than
//! one syntax error per 50 lines (at least 3). Below the tolerance the file
//! is scanned and only the functions and statements containing an error are
//! left out.

use std::path::Path;

use super::abstraction::{self, ApiCall};
use super::lang::{Lang, tables};
use super::tokens::{self, FileUnits, Scratch};

/// Largest file scanned (bigger ones are almost always generated).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Largest share of a file's bytes inside ERROR nodes.
pub const MAX_ERROR_SHARE: f64 = 0.05;

/// A parsed file.
#[derive(Debug)]
pub struct Parsed {
    /// Tokens and fragments.
    pub units: FileUnits,
    /// Calls to external APIs the abstraction-gap check looks for.
    pub calls: Vec<ApiCall>,
    /// Lines in the file.
    pub lines: u64,
}

/// A worker's parsers (one per language) and buffers.
#[derive(Default)]
pub struct Worker {
    parsers: [Option<tree_sitter::Parser>; 5],
    scratch: Scratch,
}

impl Worker {
    fn parser(&mut self, lang: Lang) -> Result<&mut tree_sitter::Parser, String> {
        let slot = &mut self.parsers[lang.index()];
        if slot.is_none() {
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&tables().lang(lang).grammar)
                .map_err(|e| format!("the {} grammar cannot be loaded: {e}", lang.name()))?;
            *slot = Some(parser);
        }
        slot.as_mut()
            .ok_or_else(|| format!("no {} parser", lang.name()))
    }

    /// Reads and parses one file.
    pub fn parse_file(&mut self, path: &Path, lang: Lang) -> Result<Parsed, String> {
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "larger than {} MiB ({} bytes; generated code?)",
                MAX_FILE_BYTES / (1024 * 1024),
                meta.len()
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        self.parse_bytes(&bytes, lang, name.ends_with(".min.js"))
    }

    /// Parses source bytes (`minified_name`: the file is called `*.min.js`).
    pub fn parse_bytes(
        &mut self,
        bytes: &[u8],
        lang: Lang,
        minified_name: bool,
    ) -> Result<Parsed, String> {
        let head = &bytes[..bytes.len().min(8192)];
        if head.contains(&0) {
            return Err("binary file (contains NUL bytes)".into());
        }
        if let Err(e) = std::str::from_utf8(bytes) {
            return Err(format!("not valid UTF-8 (at byte {})", e.valid_up_to()));
        }
        let lines = count_lines(bytes);
        if minified_name || (bytes.len() > 2048 && bytes.len() as u64 / lines.max(1) > 400) {
            return Err("minified (very long lines)".into());
        }
        let parser = self.parser(lang)?;
        let tree = parser
            .parse(bytes, None)
            .ok_or_else(|| "tree-sitter could not parse it".to_string())?;
        let units = tokens::extract(lang, bytes, &tree, &mut self.scratch);
        if units.errors > 0 {
            let share = (units.error_bytes as f64 / bytes.len().max(1) as f64).min(1.0);
            let allowed = (lines / 50).max(3);
            if share > MAX_ERROR_SHARE || u64::from(units.errors) > allowed {
                return Err(format!(
                    "syntax errors: {} (first at line {}, {:.0}% of the file unparsable)",
                    units.errors,
                    units.first_error_line.unwrap_or(1),
                    share * 100.0
                ));
            }
        }
        let calls = abstraction::collect(lang, bytes, &tree);
        Ok(Parsed {
            units,
            calls,
            lines,
        })
    }
}

/// Lines in a text: newlines, plus one for a last line without one.
pub fn count_lines(bytes: &[u8]) -> u64 {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_with_or_without_a_final_newline() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 1);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\nb"), 2);
    }

    #[test]
    fn binary_invalid_and_broken_files_are_refused_with_a_reason() {
        let mut w = Worker::default();
        let e = w
            .parse_bytes(b"x = 1\0\0", Lang::Python, false)
            .unwrap_err();
        assert!(e.contains("binary"), "{e}");
        let e = w
            .parse_bytes(b"x = '\xff'\n", Lang::Python, false)
            .unwrap_err();
        assert!(e.contains("UTF-8"), "{e}");
        let e = w
            .parse_bytes(b"def (((:\n  ]]] ))) {{{\n", Lang::Python, false)
            .unwrap_err();
        assert!(e.starts_with("syntax errors"), "{e}");
        let ok = w.parse_bytes(b"def f():\n    return 1\n", Lang::Python, false);
        assert!(ok.is_ok());
    }
}
