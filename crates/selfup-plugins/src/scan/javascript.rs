//! The JavaScript and TypeScript scanner. Names are resolved through
//! `require`, `import` (static and dynamic) and simple bindings
//! (`const cp = require("child_process")`, `const { exec } = …`,
//! `import { exec as run } from "node:child_process"`), then:
//!
//! - `eval(…)`, `Function(…)`/`new Function(…)` and `vm.runIn*Context`,
//!   `vm.compileFunction`, `new vm.Script` are DANGEROUS_FUNCTION, Critical;
//! - a call to a name in `security.forbidden_imports` is FORBIDDEN_IMPORT,
//!   Critical; importing or binding one is High;
//! - `child_process.exec`/`execSync`/`execFile`/`execFileSync`/`spawn`/
//!   `spawnSync`/`fork` called is PROCESS_SPAWN, Critical; imported or bound
//!   is High (requiring `child_process` alone is nothing);
//! - passing one of those as a value (an argument, a return value, an array
//!   or object element) counts as a call.

use tree_sitter::{Node, Tree};

use super::deadline::{Deadline, TimedOut};
use super::names::{Aliases, MAX_CANDIDATES, forbidden_match, member};
use super::report::{Finding, Rule, Severity};
use super::source::{at, text, walk};

/// Names that compile or run code from a string.
const DANGEROUS: [&str; 6] = [
    "eval",
    "Function",
    "vm.runInNewContext",
    "vm.runInThisContext",
    "vm.runInContext",
    "vm.compileFunction",
];

/// Constructors that compile code from a string (with `new`).
const DANGEROUS_NEW: [&str; 2] = ["Function", "vm.Script"];

/// Calls that start another program.
const PROCESS: [&str; 7] = [
    "child_process.exec",
    "child_process.execSync",
    "child_process.execFile",
    "child_process.execFileSync",
    "child_process.spawn",
    "child_process.spawnSync",
    "child_process.fork",
];

/// Longest member chain followed when resolving a name.
const MAX_DEPTH: usize = 32;

enum Hit<'f> {
    Dangerous,
    Forbidden(&'f str),
    Process,
}

impl Hit<'_> {
    fn rule(&self) -> Rule {
        match self {
            Self::Dangerous => Rule::DangerousFunction,
            Self::Forbidden(_) => Rule::ForbiddenImport,
            Self::Process => Rule::ProcessSpawn,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Dangerous => 0,
            Self::Forbidden(_) => 1,
            Self::Process => 2,
        }
    }

    fn why(&self, name: &str) -> String {
        match self {
            Self::Dangerous => format!("{name} compiles and runs code from a string"),
            Self::Forbidden(entry) if *entry == name => {
                format!("{name} is listed in security.forbidden_imports")
            }
            Self::Forbidden(entry) => {
                format!("{name} is in {entry}, which security.forbidden_imports lists")
            }
            Self::Process => {
                format!("{name} starts another program, outside the plugin's sandbox")
            }
        }
    }
}

fn classify<'f>(name: &str, forbidden: &'f [String], constructed: bool) -> Option<Hit<'f>> {
    let dangerous = if constructed {
        DANGEROUS_NEW.contains(&name)
    } else {
        DANGEROUS.contains(&name)
    };
    if dangerous {
        Some(Hit::Dangerous)
    } else if let Some(entry) = forbidden_match(name, forbidden) {
        Some(Hit::Forbidden(entry))
    } else if PROCESS.contains(&name) {
        Some(Hit::Process)
    } else {
        None
    }
}

fn classify_any<'f>(
    candidates: &[String],
    forbidden: &'f [String],
    constructed: bool,
) -> Option<(String, Hit<'f>)> {
    candidates
        .iter()
        .filter_map(|c| classify(c, forbidden, constructed).map(|hit| (c.clone(), hit)))
        .min_by_key(|(_, hit)| hit.rank())
}

/// `node:child_process` is `child_process`; `globalThis.eval` is `eval`.
fn normalise(name: String) -> String {
    let name = name.strip_prefix("node:").unwrap_or(&name);
    for global in ["globalThis.", "window.", "global.", "self."] {
        if let Some(rest) = name.strip_prefix(global) {
            return rest.to_owned();
        }
    }
    name.to_owned()
}

struct Js<'a> {
    file: &'a str,
    src: &'a [u8],
    forbidden: &'a [String],
    aliases: Aliases,
    findings: Vec<Finding>,
}

/// Scans one parsed JavaScript or TypeScript file.
pub(crate) fn scan(
    file: &str,
    src: &[u8],
    tree: &Tree,
    forbidden: &[String],
    deadline: &Deadline,
) -> Result<Vec<Finding>, TimedOut> {
    let mut js = Js {
        file,
        src,
        forbidden,
        aliases: Aliases::default(),
        findings: Vec::new(),
    };
    walk(tree, deadline, |node| match node.kind() {
        "import_statement" => js.import(node),
        "variable_declarator" => {
            if let (Some(name), Some(value)) = (
                node.child_by_field_name("name"),
                node.child_by_field_name("value"),
            ) {
                js.bind_pattern(name, value);
            }
        }
        "assignment_expression" => {
            if let (Some(left), Some(right)) = (
                node.child_by_field_name("left"),
                node.child_by_field_name("right"),
            ) {
                js.bind_pattern(left, right);
            }
        }
        _ => {}
    })?;
    walk(tree, deadline, |node| js.use_site(node))?;
    Ok(js.findings)
}

impl Js<'_> {
    fn text(&self, node: Node<'_>) -> String {
        text(node, self.src).into_owned()
    }

    fn report(&mut self, node: Node<'_>, hit: &Hit<'_>, severity: Severity, message: String) {
        self.findings
            .push(at(self.file, node, hit.rule(), severity, message));
    }

    /// Binds `local` to every candidate; binding a flagged name is High.
    fn bind(&mut self, local: Node<'_>, candidates: &[String], at_node: Node<'_>) {
        let name = self.text(local);
        if let Some((qualified, hit)) = classify_any(candidates, self.forbidden, false) {
            let message = format!("binds {qualified} to {name}: {}", hit.why(&qualified));
            self.report(at_node, &hit, Severity::High, message);
        }
        for candidate in candidates {
            self.aliases.bind(&name, candidate);
        }
    }

    /// `import x from "m"`, `import * as x from "m"`, `import { a as b } from "m"`,
    /// and TypeScript's `import x = require("m")`.
    fn import(&mut self, node: Node<'_>) {
        let source = node
            .child_by_field_name("source")
            .and_then(|s| string_literal(s, self.src))
            .map(normalise);
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "import_clause" => {
                    if let Some(module) = &source {
                        self.import_clause(child, module);
                    }
                }
                "import_require_clause" => self.import_require(child),
                _ => {}
            }
        }
    }

    /// TypeScript's `import x = require("m")`.
    fn import_require(&mut self, clause: Node<'_>) {
        let Some(module) = clause
            .child_by_field_name("source")
            .and_then(|s| string_literal(s, self.src))
            .map(normalise)
        else {
            return;
        };
        let mut cursor = clause.walk();
        let local = clause
            .named_children(&mut cursor)
            .find(|c| c.kind() == "identifier");
        if let Some(local) = local {
            self.bind(local, &[module], clause);
        }
    }

    fn import_clause(&mut self, clause: Node<'_>, module: &str) {
        let mut cursor = clause.walk();
        let parts: Vec<Node<'_>> = clause.named_children(&mut cursor).collect();
        for part in parts {
            match part.kind() {
                // A default or namespace import is the module itself.
                "identifier" => self.bind(part, &[module.to_owned()], part),
                "namespace_import" => {
                    if let Some(local) = part.named_child(0) {
                        self.bind(local, &[module.to_owned()], part);
                    }
                }
                "named_imports" => {
                    let mut cursor = part.walk();
                    let specifiers: Vec<Node<'_>> = part.named_children(&mut cursor).collect();
                    for specifier in specifiers {
                        let Some(name) = specifier.child_by_field_name("name") else {
                            continue;
                        };
                        let imported =
                            string_literal(name, self.src).unwrap_or_else(|| self.text(name));
                        let local = specifier.child_by_field_name("alias").unwrap_or(name);
                        let qualified = normalise(format!("{module}.{imported}"));
                        self.bind(local, &[qualified], specifier);
                    }
                }
                _ => {}
            }
        }
    }

    /// `x = value`, `{ a, b: c } = value`.
    fn bind_pattern(&mut self, pattern: Node<'_>, value: Node<'_>) {
        match pattern.kind() {
            "identifier" => {
                let candidates = self.resolve(value, 0);
                if !candidates.is_empty() {
                    self.bind(pattern, &candidates, value);
                }
            }
            "object_pattern" => {
                let base = self.resolve(value, 0);
                if base.is_empty() {
                    return;
                }
                let mut cursor = pattern.walk();
                let properties: Vec<Node<'_>> = pattern.named_children(&mut cursor).collect();
                for property in properties {
                    let (key, local) = match property.kind() {
                        "shorthand_property_identifier_pattern" => (property, property),
                        "object_assignment_pattern" => match property.child_by_field_name("left") {
                            Some(left) => (left, left),
                            None => continue,
                        },
                        "pair_pattern" => match (
                            property.child_by_field_name("key"),
                            property.child_by_field_name("value"),
                        ) {
                            (Some(key), Some(value)) if value.kind() == "identifier" => {
                                (key, value)
                            }
                            _ => continue,
                        },
                        _ => continue,
                    };
                    let key = string_literal(key, self.src).unwrap_or_else(|| self.text(key));
                    let candidates = member(base.clone(), &key);
                    let candidates: Vec<String> = candidates.into_iter().map(normalise).collect();
                    self.bind(local, &candidates, property);
                }
            }
            _ => {}
        }
    }

    /// Calls, `new`, and flagged names passed on as values.
    fn use_site(&mut self, node: Node<'_>) {
        match node.kind() {
            "call_expression" | "new_expression" => {
                let constructed = node.kind() == "new_expression";
                let field = if constructed {
                    "constructor"
                } else {
                    "function"
                };
                let Some(callee) = node.child_by_field_name(field) else {
                    return;
                };
                let candidates = self.resolve(callee, 0);
                if let Some((qualified, hit)) =
                    classify_any(&candidates, self.forbidden, constructed)
                {
                    let written = self.text(callee);
                    let verb = if constructed { "constructs" } else { "calls" };
                    let call = if written == qualified {
                        format!("{verb} {qualified}")
                    } else {
                        format!("{verb} {qualified} (written {written})")
                    };
                    let message = format!("{call}: {}", hit.why(&qualified));
                    self.report(node, &hit, Severity::Critical, message);
                }
            }
            "identifier" | "member_expression" | "subscript_expression"
                if is_value_position(node) =>
            {
                let candidates = self.resolve(node, 0);
                if let Some((qualified, hit)) = classify_any(&candidates, self.forbidden, false) {
                    let message = format!(
                        "passes {qualified} on as a value, to be called elsewhere: {}",
                        hit.why(&qualified)
                    );
                    self.report(node, &hit, Severity::Critical, message);
                }
            }
            _ => {}
        }
    }

    /// The dotted names an expression may stand for.
    fn resolve(&self, node: Node<'_>, depth: usize) -> Vec<String> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let names = match node.kind() {
            "identifier" => self.aliases.lookup(&self.text(node)),
            "member_expression" => match (
                node.child_by_field_name("object"),
                node.child_by_field_name("property"),
            ) {
                (Some(object), Some(property)) => {
                    member(self.resolve(object, depth + 1), &self.text(property))
                }
                _ => Vec::new(),
            },
            "subscript_expression" => match (
                node.child_by_field_name("object"),
                node.child_by_field_name("index")
                    .and_then(|i| string_literal(i, self.src)),
            ) {
                (Some(object), Some(index)) => member(self.resolve(object, depth + 1), &index),
                _ => Vec::new(),
            },
            // `(0, eval)(…)` is an indirect eval.
            "parenthesized_expression" | "sequence_expression" => {
                let last = u32::try_from(node.named_child_count())
                    .ok()
                    .and_then(|count| count.checked_sub(1));
                match last.and_then(|last| node.named_child(last)) {
                    Some(last) => self.resolve(last, depth + 1),
                    None => Vec::new(),
                }
            }
            "await_expression"
            | "non_null_expression"
            | "as_expression"
            | "satisfies_expression" => node
                .named_child(0)
                .map(|inner| self.resolve(inner, depth + 1))
                .unwrap_or_default(),
            "call_expression" => self.resolve_require(node, depth),
            _ => Vec::new(),
        };
        names.into_iter().map(normalise).collect()
    }

    /// `require("m")` and `import("m")` stand for the module `m`.
    fn resolve_require(&self, node: Node<'_>, depth: usize) -> Vec<String> {
        let (Some(function), Some(arguments)) = (
            node.child_by_field_name("function"),
            node.child_by_field_name("arguments"),
        ) else {
            return Vec::new();
        };
        let Some(module) = arguments
            .named_child(0)
            .and_then(|a| string_literal(a, self.src))
        else {
            return Vec::new();
        };
        let is_loader = function.kind() == "import"
            || self
                .resolve(function, depth + 1)
                .iter()
                .any(|f| f == "require" || f == "module.require");
        if is_loader {
            let mut out = vec![normalise(module)];
            out.truncate(MAX_CANDIDATES);
            out
        } else {
            Vec::new()
        }
    }
}

/// Whether a name is used as a value that leaves the expression: an
/// argument, a return value, an array or object element.
fn is_value_position(node: Node<'_>) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    match parent.kind() {
        "arguments" | "return_statement" | "array" | "spread_element" => true,
        "pair" => parent.child_by_field_name("value") == Some(node),
        "arrow_function" => parent.child_by_field_name("body") == Some(node),
        _ => false,
    }
}

/// The value of a plain string literal (or a template without `${}`).
fn string_literal(node: Node<'_>, src: &[u8]) -> Option<String> {
    if !matches!(node.kind(), "string" | "template_string") {
        return None;
    }
    let mut cursor = node.walk();
    let mut value = String::new();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "string_fragment" => value.push_str(&text(child, src)),
            _ => return None,
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::super::report::Rule::*;
    use super::super::report::Severity::*;
    use super::super::source::{Lang, scan_snippet};
    use super::*;

    fn check(lang: Lang, src: &str) -> Vec<(u32, Rule, Severity)> {
        scan_snippet(lang, src, |tree, forbidden, deadline| {
            scan("t.js", src.as_bytes(), tree, forbidden, deadline)
        })
    }

    fn js(src: &str) -> Vec<(u32, Rule, Severity)> {
        check(Lang::JavaScript, src)
    }

    #[test]
    fn subscripts_renames_and_globals() {
        assert_eq!(
            js("const cp = require('child_process');\ncp['exec']('ls');\n"),
            [(2, ProcessSpawn, Critical)]
        );
        assert_eq!(
            js("const { exec: run } = require('child_process');\nrun('ls');\n"),
            [(1, ProcessSpawn, High), (2, ProcessSpawn, Critical)]
        );
        assert_eq!(
            js("globalThis.eval('1');\n"),
            [(1, DangerousFunction, Critical)]
        );
        assert_eq!(
            js("Function('return 1')();\n"),
            [(1, DangerousFunction, Critical)]
        );
    }

    #[test]
    fn dynamic_import_and_values_passed_on() {
        let src = "const m = await import('node:child_process');\nm.spawn('ls');\n\
                   const cp = require('child_process');\nsetTimeout(cp.exec, 0);\n";
        assert_eq!(
            js(src),
            [(2, ProcessSpawn, Critical), (4, ProcessSpawn, Critical)]
        );
    }

    #[test]
    fn default_and_namespace_imports_are_the_module() {
        let src = "import cp from 'child_process';\nimport * as vm from 'node:vm';\n\
                   cp.execFileSync('ls');\nnew vm.Script('1');\n";
        assert_eq!(
            js(src),
            [
                (3, ProcessSpawn, Critical),
                (4, DangerousFunction, Critical)
            ]
        );
    }

    #[test]
    fn look_alikes_are_not_findings() {
        let src = "// eval('x'); require('child_process').exec('ls')\n\
                   const s = \"child_process.exec('ls')\";\n\
                   const re = /a/;\nre.exec(s);\nobj.eval(s);\nrequire('child_process');\n";
        assert_eq!(js(src), []);
    }

    #[test]
    fn tsx_parses_with_its_grammar() {
        let src = "const el = <div>{eval(x)}</div>;\n";
        assert_eq!(check(Lang::Tsx, src), [(1, DangerousFunction, Critical)]);
    }
}
