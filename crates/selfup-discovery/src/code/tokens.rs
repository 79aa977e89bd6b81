//! The normaliser: one walk over a file's syntax tree that turns it into a
//! token stream and records its fragments.
//!
//! Every leaf becomes one token except comments (dropped) and literals
//! (strings, numbers, regexes: one token each, never descended). A token has
//! a *normalised* symbol — identifiers become `<identifier>`, literals
//! `<literal>`, everything else its node kind — and an *exact* value (a hash
//! of its text for identifiers and literals). Equal normalised sequences are
//! renamed clones (type 2); equal exact sequences too are exact clones
//! (type 1).
//!
//! Fragments: every function or method (with its token range, lines, name,
//! and the number of statements in its body), and every statement block
//! inside a function with its statements, each hashed both ways. The walk
//! uses one tree cursor and a few reusable stacks: no allocation per node.

use tree_sitter::{Node, Tree};

use super::hash;
use super::lang::{Lang, NodeClass, SYM_IDENT, SYM_LITERAL, tables};

/// A function or method.
#[derive(Debug, Clone)]
pub struct Function {
    /// Token range `[start, end)` in the file's stream.
    pub tokens: (u32, u32),
    /// First and last line (1-based).
    pub lines: (u32, u32),
    /// Hash of the normalised tokens.
    pub norm_hash: u64,
    /// Hash of the exact tokens.
    pub exact_hash: u64,
    /// Byte range of its name, if it has one.
    pub name: Option<(u32, u32)>,
    /// Statements in its body, nested ones included (0 for an expression
    /// body).
    pub body_statements: u32,
    /// Whether its body is two or more statements of one shape
    /// (`self.a = a; self.b = b; …`).
    pub repetitive_body: bool,
    /// Whether it contains a syntax error (never reported).
    pub has_error: bool,
}

impl Function {
    /// Its size in tokens.
    pub fn len(&self) -> u32 {
        self.tokens.1 - self.tokens.0
    }

    /// Whether it has no tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One statement of a block.
#[derive(Debug, Clone, Copy)]
pub struct Statement {
    /// Token range `[start, end)`.
    pub tokens: (u32, u32),
    /// First and last line (1-based).
    pub lines: (u32, u32),
    /// Hash of the normalised tokens.
    pub norm_hash: u64,
    /// Hash of the exact tokens.
    pub exact_hash: u64,
    /// Whether it contains a syntax error.
    pub has_error: bool,
}

/// A statement block inside a function.
#[derive(Debug, Clone, Copy)]
pub struct Block {
    /// Its statements: `[start, end)` in the file's statement list.
    pub statements: (u32, u32),
    /// The innermost function it is in.
    pub function: u32,
    /// Whether it is that function's body.
    pub is_body: bool,
    /// Token range of the whole block (braces included).
    pub tokens: (u32, u32),
    /// First and last line.
    pub lines: (u32, u32),
}

/// Everything the scanner keeps of one file.
#[derive(Debug, Default)]
pub struct FileUnits {
    /// Normalised symbol of each token.
    pub norm: Vec<u16>,
    /// Byte range of each token in the source.
    pub spans: Vec<(u32, u32)>,
    /// Functions, in source order (of their start).
    pub functions: Vec<Function>,
    /// Blocks inside functions.
    pub blocks: Vec<Block>,
    /// Statements of those blocks, each block's contiguous.
    pub statements: Vec<Statement>,
    /// Syntax errors: ERROR and MISSING nodes.
    pub errors: u32,
    /// Bytes inside ERROR nodes.
    pub error_bytes: u64,
    /// Line of the first syntax error (1-based), if any.
    pub first_error_line: Option<u32>,
}

impl FileUnits {
    /// Number of tokens.
    pub fn token_count(&self) -> usize {
        self.norm.len()
    }
}

#[derive(Clone, Copy)]
enum FrameKind {
    Function {
        index: u32,
    },
    Block {
        function: u32,
        is_body: bool,
        pending_start: u32,
    },
    Statement,
}

#[derive(Clone, Copy)]
struct Frame {
    depth: u32,
    kind: FrameKind,
    tok_start: u32,
    line_start: u32,
    /// For a function: how many statements its body block had.
    body_statements: u32,
    /// For a function: statements recorded in the file before it opened.
    statements_at_open: u32,
    /// For a function: whether they all have one shape.
    repetitive_body: bool,
}

/// Reusable buffers for [`extract`], one per worker thread.
#[derive(Default)]
pub struct Scratch {
    exact: Vec<u64>,
    frames: Vec<Frame>,
    pending: Vec<Statement>,
    open_functions: Vec<u32>,
}

fn line(node: &Node) -> u32 {
    u32::try_from(node.start_position().row).unwrap_or(u32::MAX - 1) + 1
}

fn end_line(node: &Node) -> u32 {
    let end = node.end_position();
    // A node ending at column 0 ends on the line before (a trailing newline).
    let row = if end.column == 0 && end.row > 0 {
        end.row - 1
    } else {
        end.row
    };
    u32::try_from(row).unwrap_or(u32::MAX - 1) + 1
}

fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// Walks `tree` (parsed from `src` as `lang`) once and returns its tokens
/// and fragments.
pub fn extract(lang: Lang, src: &[u8], tree: &Tree, scratch: &mut Scratch) -> FileUnits {
    let table = tables().lang(lang);
    let mut out = FileUnits {
        norm: Vec::with_capacity(src.len() / 4),
        spans: Vec::with_capacity(src.len() / 4),
        ..FileUnits::default()
    };
    let exact = &mut scratch.exact;
    exact.clear();
    let frames = &mut scratch.frames;
    frames.clear();
    let pending = &mut scratch.pending;
    pending.clear();
    // Functions being walked: their records are pushed when they open (so
    // they are numbered in source order) and filled in when they close.
    let open_functions = &mut scratch.open_functions;
    open_functions.clear();

    let mut cursor = tree.walk();
    let mut depth: u32 = 0;
    // End of the last outermost ERROR node counted.
    let mut error_end = 0usize;
    'walk: loop {
        let node = cursor.node();
        let kind = usize::from(node.kind_id());
        let class = table.class.get(kind).copied().unwrap_or(NodeClass::Other);
        let (start, end) = (node.start_byte(), node.end_byte());
        let mut descend = false;
        if node.is_error() {
            out.errors += 1;
            // Only outermost ERROR nodes count bytes: tree-sitter nests them.
            if start >= error_end {
                out.error_bytes += (end - start) as u64;
                error_end = end;
            }
            out.first_error_line.get_or_insert(line(&node));
        } else if node.is_missing() {
            out.errors += 1;
            out.first_error_line.get_or_insert(line(&node));
        }
        if start < end && class != NodeClass::Comment {
            // A named child of a block is a statement.
            if node.is_named()
                && let Some(top) = frames.last()
                && top.depth + 1 == depth
                && matches!(top.kind, FrameKind::Block { .. })
            {
                frames.push(Frame {
                    depth,
                    kind: FrameKind::Statement,
                    tok_start: to_u32(out.norm.len()),
                    line_start: line(&node),
                    body_statements: 0,
                    repetitive_body: false,
                    statements_at_open: 0,
                });
            }
            match class {
                NodeClass::Ident | NodeClass::Literal => {
                    out.norm.push(if class == NodeClass::Ident {
                        SYM_IDENT
                    } else {
                        SYM_LITERAL
                    });
                    exact.push(hash::bytes(&src[start..end]));
                    out.spans.push((to_u32(start), to_u32(end)));
                }
                NodeClass::Function => {
                    let name = table
                        .name_field
                        .and_then(|f| node.child_by_field_id(f.get()))
                        .map(|n| (to_u32(n.start_byte()), to_u32(n.end_byte())));
                    let index = to_u32(out.functions.len());
                    out.functions.push(Function {
                        tokens: (0, 0),
                        lines: (0, 0),
                        norm_hash: 0,
                        exact_hash: 0,
                        name,
                        body_statements: 0,
                        repetitive_body: false,
                        has_error: true,
                    });
                    frames.push(Frame {
                        depth,
                        kind: FrameKind::Function { index },
                        tok_start: to_u32(out.norm.len()),
                        line_start: line(&node),
                        body_statements: 0,
                        repetitive_body: false,
                        statements_at_open: to_u32(out.statements.len()),
                    });
                    open_functions.push(index);
                    descend = true;
                }
                NodeClass::Block => {
                    if let Some(&function) = open_functions.last() {
                        let is_body = frames.last().is_some_and(|f| {
                            f.depth + 1 == depth && matches!(f.kind, FrameKind::Function { .. })
                        });
                        frames.push(Frame {
                            depth,
                            kind: FrameKind::Block {
                                function,
                                is_body,
                                pending_start: to_u32(pending.len()),
                            },
                            tok_start: to_u32(out.norm.len()),
                            line_start: line(&node),
                            body_statements: 0,
                            repetitive_body: false,
                            statements_at_open: 0,
                        });
                    }
                    descend = true;
                }
                NodeClass::Other | NodeClass::Comment => {
                    if node.child_count() == 0 {
                        let sym = table.symbol.get(kind).copied().unwrap_or(0);
                        out.norm.push(sym);
                        exact.push(u64::from(sym));
                        out.spans.push((to_u32(start), to_u32(end)));
                    } else {
                        descend = true;
                    }
                }
            }
        }
        if descend && cursor.goto_first_child() {
            depth += 1;
            continue 'walk;
        }
        // Leave this node, then climb until a next sibling exists.
        let mut leaving = node;
        loop {
            close_frames(
                depth,
                &leaving,
                frames,
                pending,
                open_functions,
                exact,
                &mut out,
            );
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            depth -= 1;
            leaving = cursor.node();
        }
    }
    out
}

fn close_frames(
    depth: u32,
    node: &Node,
    frames: &mut Vec<Frame>,
    pending: &mut Vec<Statement>,
    open_functions: &mut Vec<u32>,
    exact: &[u64],
    out: &mut FileUnits,
) {
    while let Some(frame) = frames.last().copied() {
        if frame.depth != depth {
            break;
        }
        frames.pop();
        let tok_end = to_u32(out.norm.len());
        let (ts, te) = (frame.tok_start as usize, tok_end as usize);
        match frame.kind {
            FrameKind::Statement => {
                pending.push(Statement {
                    tokens: (frame.tok_start, tok_end),
                    lines: (frame.line_start, end_line(node)),
                    norm_hash: hash::symbols(&out.norm[ts..te]),
                    exact_hash: hash::values(&exact[ts..te]),
                    has_error: node.has_error(),
                });
            }
            FrameKind::Block {
                function,
                is_body,
                pending_start,
            } => {
                let first = to_u32(out.statements.len());
                let count = pending.len() - pending_start as usize;
                let own = &pending[pending_start as usize..];
                let repetitive =
                    own.len() >= 2 && own.windows(2).all(|w| w[0].norm_hash == w[1].norm_hash);
                out.statements
                    .extend(pending.drain(pending_start as usize..));
                out.blocks.push(Block {
                    statements: (first, first + to_u32(count)),
                    function,
                    is_body,
                    tokens: (frame.tok_start, tok_end),
                    lines: (frame.line_start, end_line(node)),
                });
                if is_body
                    && let Some(f) = frames.last_mut()
                    && matches!(f.kind, FrameKind::Function { .. })
                {
                    // Nested statements count: a body that is one `if`
                    // chain is as much a function as a flat one.
                    f.body_statements = to_u32(out.statements.len()) - f.statements_at_open;
                    f.repetitive_body = repetitive;
                }
            }
            FrameKind::Function { index } => {
                open_functions.pop();
                let norm_hash = hash::symbols(&out.norm[ts..te]);
                if let Some(f) = out.functions.get_mut(index as usize) {
                    f.tokens = (frame.tok_start, tok_end);
                    f.lines = (frame.line_start, end_line(node));
                    f.norm_hash = norm_hash;
                    f.exact_hash = hash::values(&exact[ts..te]);
                    f.body_statements = frame.body_statements;
                    f.repetitive_body = frame.repetitive_body;
                    f.has_error = node.has_error();
                }
            }
        }
    }
}
