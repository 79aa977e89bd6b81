//! The languages the scanner reads, and what each tree-sitter node kind
//! means to it: a token to keep, an identifier or literal to abstract, a
//! comment to drop, a function, or a statement block.
//!
//! Node kinds are interned by *name* into one vocabulary shared by every
//! grammar, so the same construct in JavaScript and TypeScript (whose
//! grammars number their kinds differently) gives the same token, and a
//! function copied from a `.js` file into a `.ts` file is a clone.

use std::path::Path;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// A source language the scanner parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// `.py`, `.pyi`
    Python,
    /// `.rs`
    Rust,
    /// `.js`, `.mjs`, `.cjs`, `.jsx`
    JavaScript,
    /// `.ts`, `.mts`, `.cts`
    TypeScript,
    /// `.tsx`
    Tsx,
}

impl Lang {
    /// Every language, in table order.
    pub const ALL: [Lang; 5] = [
        Lang::Python,
        Lang::Rust,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
    ];

    /// The language of a file, from its extension.
    pub fn of_path(path: &Path) -> Option<Lang> {
        let ext = path.extension()?.to_str()?;
        Some(match ext {
            "py" | "pyi" => Lang::Python,
            "rs" => Lang::Rust,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            _ => return None,
        })
    }

    /// The lower-case name (`"python"`).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Rust => "rust",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
        }
    }

    /// The family whose code can share one abstraction (JavaScript and
    /// TypeScript are one family).
    pub fn family(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Rust => "rust",
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => "javascript",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        }
    }
}

/// What a node kind means to the scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeClass {
    /// A comment: no token, not descended.
    Comment,
    /// A name: one abstracted identifier token.
    Ident,
    /// A string, number or regex: one abstracted literal token, not descended.
    Literal,
    /// A function or method with a body: a fragment.
    Function,
    /// A statement block (its named children are statements).
    Block,
    /// Anything else: descended, or a token of its own kind if a leaf.
    Other,
}

/// The token that stands for every identifier after normalisation.
pub const SYM_IDENT: u16 = 1;
/// The token that stands for every literal after normalisation.
pub const SYM_LITERAL: u16 = 2;

/// One grammar's tables, indexed by tree-sitter kind id.
pub struct LangTable {
    /// The tree-sitter grammar.
    pub grammar: tree_sitter::Language,
    /// What each kind is.
    pub class: Vec<NodeClass>,
    /// The shared vocabulary symbol of each kind (for leaves).
    pub symbol: Vec<u16>,
    /// The field id of `name` (functions' names), if the grammar has it.
    pub name_field: Option<std::num::NonZeroU16>,
}

/// The tables of every language and the shared vocabulary.
pub struct Tables {
    langs: Vec<LangTable>,
    names: Vec<String>,
}

impl Tables {
    /// The table of one language.
    pub fn lang(&self, lang: Lang) -> &LangTable {
        &self.langs[lang.index()]
    }

    /// The name of a vocabulary symbol (`"identifier"`, `"("`), stable
    /// across grammar versions, for stable pattern ids.
    pub fn symbol_name(&self, symbol: u16) -> &str {
        self.names
            .get(usize::from(symbol))
            .map_or("?", String::as_str)
    }
}

/// The tables, built once.
pub fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(build)
}

const COMMENTS: &[&str] = &[
    "comment",
    "line_comment",
    "block_comment",
    "html_comment",
    "hash_bang_line",
    "shebang",
];

const IDENTS: &[&str] = &[
    "identifier",
    "property_identifier",
    "shorthand_property_identifier",
    "shorthand_property_identifier_pattern",
    "private_property_identifier",
    "statement_identifier",
    "type_identifier",
    "field_identifier",
    "shorthand_field_identifier",
];

const LITERALS: &[&str] = &[
    "string",
    "template_string",
    "number",
    "regex",
    "integer",
    "float",
    "concatenated_string",
    "string_literal",
    "raw_string_literal",
    "char_literal",
    "integer_literal",
    "float_literal",
];

const FUNCTIONS: &[&str] = &[
    "function_definition",
    "function_declaration",
    "function_expression",
    "generator_function_declaration",
    "generator_function",
    "arrow_function",
    "method_definition",
    "function_item",
    "closure_expression",
];

const BLOCKS: &[&str] = &["block", "statement_block"];

fn build() -> Tables {
    let mut names: Vec<String> = vec!["<none>".into(), "<identifier>".into(), "<literal>".into()];
    let mut interned: FxHashMap<(String, bool), u16> = FxHashMap::default();
    let mut langs = Vec::with_capacity(Lang::ALL.len());
    for lang in Lang::ALL {
        let grammar = lang.grammar();
        let count = grammar.node_kind_count();
        let mut class = Vec::with_capacity(count);
        let mut symbol = Vec::with_capacity(count);
        for id in 0..count {
            let id = u16::try_from(id).unwrap_or(u16::MAX);
            let name = grammar.node_kind_for_id(id).unwrap_or("");
            let named = grammar.node_kind_is_named(id);
            let c = if !named {
                NodeClass::Other
            } else if COMMENTS.contains(&name) {
                NodeClass::Comment
            } else if IDENTS.contains(&name) {
                NodeClass::Ident
            } else if LITERALS.contains(&name) {
                NodeClass::Literal
            } else if FUNCTIONS.contains(&name) {
                NodeClass::Function
            } else if BLOCKS.contains(&name) {
                NodeClass::Block
            } else {
                NodeClass::Other
            };
            // Python's string delimiters and JavaScript's template pieces
            // are inside literals, which are never descended.
            let key = (name.to_owned(), named);
            let next = u16::try_from(names.len()).unwrap_or(u16::MAX);
            let sym = *interned.entry(key).or_insert_with(|| {
                names.push(if named {
                    name.to_owned()
                } else {
                    format!("'{name}'")
                });
                next
            });
            class.push(c);
            symbol.push(match c {
                NodeClass::Ident => SYM_IDENT,
                NodeClass::Literal => SYM_LITERAL,
                _ => sym,
            });
        }
        let name_field = grammar.field_id_for_name("name");
        langs.push(LangTable {
            grammar,
            class,
            symbol,
            name_field,
        });
    }
    Tables { langs, names }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_map_to_languages() {
        assert_eq!(Lang::of_path(Path::new("a/b.py")), Some(Lang::Python));
        assert_eq!(Lang::of_path(Path::new("x.tsx")), Some(Lang::Tsx));
        assert_eq!(Lang::of_path(Path::new("x.mjs")), Some(Lang::JavaScript));
        assert_eq!(Lang::of_path(Path::new("lib.rs")), Some(Lang::Rust));
        assert_eq!(Lang::of_path(Path::new("README.md")), None);
        assert_eq!(Lang::of_path(Path::new("Makefile")), None);
    }

    #[test]
    fn javascript_and_typescript_share_the_vocabulary() {
        let t = tables();
        let js = t.lang(Lang::JavaScript);
        let ts = t.lang(Lang::TypeScript);
        let kind = |table: &LangTable, name: &str| table.grammar.id_for_node_kind(name, false);
        let (a, b) = (kind(js, "return"), kind(ts, "return"));
        assert_ne!(a, 0);
        assert_eq!(js.symbol[usize::from(a)], ts.symbol[usize::from(b)]);
        assert_eq!(t.symbol_name(js.symbol[usize::from(a)]), "'return'");
    }

    #[test]
    fn identifiers_and_literals_are_abstracted() {
        let t = tables();
        let py = t.lang(Lang::Python);
        let id = py.grammar.id_for_node_kind("identifier", true);
        let s = py.grammar.id_for_node_kind("string", true);
        assert_eq!(py.symbol[usize::from(id)], SYM_IDENT);
        assert_eq!(py.symbol[usize::from(s)], SYM_LITERAL);
        assert_eq!(py.class[usize::from(s)], NodeClass::Literal);
    }
}
