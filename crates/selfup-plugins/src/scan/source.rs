//! What the source scanners share: recognising a file's language, parsing
//! it with tree-sitter under the deadline, walking the tree without
//! recursion, and turning node positions into findings.

use std::borrow::Cow;
use std::ops::ControlFlow;

use tree_sitter::{Node, ParseOptions, Parser, Tree};

use super::deadline::{Deadline, TimedOut};
use super::report::{Finding, Rule, Severity};

/// A source language the scanner parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// `.py`
    Python,
    /// `.js`, `.mjs`, `.cjs`, `.jsx`
    JavaScript,
    /// `.ts`, `.mts`, `.cts`
    TypeScript,
    /// `.tsx`
    Tsx,
    /// `.sh`, `.bash`
    Shell,
}

impl Lang {
    /// The language of a file, from its extension, or for a file without
    /// one from its `#!` line.
    pub(crate) fn detect(path: &str, head: &[u8]) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("py") => Some(Self::Python),
            Some("js" | "mjs" | "cjs" | "jsx") => Some(Self::JavaScript),
            Some("ts" | "mts" | "cts") => Some(Self::TypeScript),
            Some("tsx") => Some(Self::Tsx),
            Some("sh" | "bash") => Some(Self::Shell),
            Some(_) => None,
            None => Self::from_shebang(head),
        }
    }

    fn from_shebang(head: &[u8]) -> Option<Self> {
        let line = head.strip_prefix(b"#!")?;
        let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
        let line = String::from_utf8_lossy(line);
        let mut words = line.split_whitespace();
        let mut program = words.next()?.rsplit('/').next()?;
        if program == "env" {
            program = words.find(|w| !w.starts_with('-'))?;
        }
        let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        match program {
            "python" => Some(Self::Python),
            "node" | "nodejs" => Some(Self::JavaScript),
            "sh" | "bash" | "dash" | "ash" | "ksh" | "zsh" => Some(Self::Shell),
            _ => None,
        }
    }

    /// The name used in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Python => "Python",
            Self::JavaScript => "JavaScript",
            Self::TypeScript | Self::Tsx => "TypeScript",
            Self::Shell => "shell",
        }
    }

    fn grammar(self) -> tree_sitter::Language {
        match self {
            Self::Python => tree_sitter_python::LANGUAGE.into(),
            Self::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Self::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Self::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Self::Shell => tree_sitter_bash::LANGUAGE.into(),
        }
    }
}

/// Why a source file could not be scanned at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParseFailure {
    /// The deadline passed while parsing.
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
    /// tree-sitter refused the grammar or gave no tree.
    #[error("{0}")]
    Parser(String),
}

/// Parses `src`, giving up when the deadline passes.
pub(crate) fn parse(lang: Lang, src: &[u8], deadline: &Deadline) -> Result<Tree, ParseFailure> {
    if u32::try_from(src.len()).is_err() {
        return Err(ParseFailure::Parser("the file is larger than 4 GiB".into()));
    }
    let mut parser = Parser::new();
    parser
        .set_language(&lang.grammar())
        .map_err(|e| ParseFailure::Parser(format!("the {} grammar: {e}", lang.name())))?;
    let mut timed_out = false;
    let mut progress = |_: &tree_sitter::ParseState| {
        if deadline.check().is_err() {
            timed_out = true;
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let options = ParseOptions::new().progress_callback(&mut progress);
    let mut read = |offset: usize, _: tree_sitter::Point| src.get(offset..).unwrap_or(&[]);
    let tree = parser.parse_with_options(&mut read, None, Some(options));
    if timed_out {
        return Err(TimedOut.into());
    }
    tree.ok_or_else(|| ParseFailure::Parser("the parser gave no tree".into()))
}

/// Calls `visit` on every node of the tree, in document order, checking
/// the deadline every few thousand nodes. Iterative: deep input cannot
/// overflow the stack.
pub(crate) fn walk<'t>(
    tree: &'t Tree,
    deadline: &Deadline,
    mut visit: impl FnMut(Node<'t>),
) -> Result<(), TimedOut> {
    let mut cursor = tree.walk();
    let mut seen: u32 = 0;
    loop {
        visit(cursor.node());
        seen = seen.wrapping_add(1);
        if seen.is_multiple_of(4096) {
            deadline.check()?;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Ok(());
            }
        }
    }
}

/// The source text of a node (lossy for invalid UTF-8).
pub(crate) fn text<'s>(node: Node<'_>, src: &'s [u8]) -> Cow<'s, str> {
    String::from_utf8_lossy(src.get(node.byte_range()).unwrap_or(&[]))
}

/// The first syntax error of a tree, as a Medium parse-error finding.
pub(crate) fn syntax_error(
    tree: &Tree,
    lang: Lang,
    file: &str,
    src: &[u8],
    deadline: &Deadline,
) -> Result<Option<Finding>, TimedOut> {
    if !tree.root_node().has_error() {
        return Ok(None);
    }
    let mut first: Option<Node<'_>> = None;
    walk(tree, deadline, |node| {
        if first.is_none() && (node.is_error() || node.is_missing()) {
            first = Some(node);
        }
    })?;
    let node = first.unwrap_or_else(|| tree.root_node());
    let what = if node.is_missing() {
        format!("missing {:?}", node.kind())
    } else {
        let snippet: String = text(node, src).chars().take(40).collect();
        format!("unexpected {snippet:?}")
    };
    Ok(Some(at(
        file,
        node,
        Rule::ParseError,
        Severity::Medium,
        format!(
            "does not parse as {} ({what}); the rest of the file was still scanned",
            lang.name()
        ),
    )))
}

/// A finding at a node's start (1-based line and byte column).
pub(crate) fn at(
    file: &str,
    node: Node<'_>,
    rule: Rule,
    severity: Severity,
    message: String,
) -> Finding {
    let p = node.start_position();
    Finding {
        file: file.to_owned(),
        line: u32::try_from(p.row).map_or(u32::MAX, |r| r.saturating_add(1)),
        column: u32::try_from(p.column).map_or(u32::MAX, |c| c.saturating_add(1)),
        rule,
        severity,
        message,
    }
}

/// Parses and scans a snippet for the language scanners' unit tests:
/// (line, rule, severity) of each finding, sorted.
#[cfg(test)]
pub(crate) fn scan_snippet(
    lang: Lang,
    src: &str,
    scan: impl FnOnce(&Tree, &[String], &Deadline) -> Result<Vec<Finding>, TimedOut>,
) -> Vec<(u32, Rule, Severity)> {
    let deadline = Deadline::start(std::time::Duration::from_secs(60));
    let tree = parse(lang, src.as_bytes(), &deadline).expect("parses");
    let forbidden: Vec<String> = ["os.system", "subprocess.call", "eval", "exec"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut found: Vec<(u32, Rule, Severity)> = scan(&tree, &forbidden, &deadline)
        .expect("in time")
        .into_iter()
        .map(|f| (f.line, f.rule, f.severity))
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_from_extension_and_shebang() {
        assert_eq!(Lang::detect("a/b.py", b""), Some(Lang::Python));
        assert_eq!(Lang::detect("x.cjs", b""), Some(Lang::JavaScript));
        assert_eq!(Lang::detect("x.ts", b""), Some(Lang::TypeScript));
        assert_eq!(Lang::detect("x.bash", b""), Some(Lang::Shell));
        assert_eq!(Lang::detect("x.wasm", b""), None);
        assert_eq!(Lang::detect("x.txt", b"#!/bin/sh\n"), None);
        assert_eq!(Lang::detect("bin/run", b"#!/bin/sh\n"), Some(Lang::Shell));
        assert_eq!(
            Lang::detect("run", b"#!/usr/bin/env python3\n"),
            Some(Lang::Python)
        );
        assert_eq!(
            Lang::detect("run", b"#!/usr/bin/env -S node\n"),
            Some(Lang::JavaScript)
        );
        assert_eq!(Lang::detect("README", b"hello"), None);
    }
}
