//! The Python scanner. Names are resolved through the file's imports and
//! simple assignments (`import subprocess as sp`, `from os import system`,
//! `f = os.system`, `getattr(os, "system")`, `__import__("os")`), then:
//!
//! - a call to `eval`, `exec`, `compile`, `__import__` or `execfile` is
//!   DANGEROUS_FUNCTION, Critical;
//! - a call to a name in `security.forbidden_imports` is FORBIDDEN_IMPORT,
//!   Critical; importing or binding such a name is FORBIDDEN_IMPORT, High
//!   (`import os` alone is nothing);
//! - a call that starts a program (`subprocess.*`, `os.popen`, `os.exec*`,
//!   `os.spawn*`, …) is PROCESS_SPAWN, Critical; importing one is High;
//! - passing one of those names as a value (an argument, a return value, a
//!   collection element) counts as a call.
//!
//! Strings and comments are never names, so they never match.

use tree_sitter::{Node, Tree};

use super::deadline::{Deadline, TimedOut};
use super::names::{Aliases, MAX_CANDIDATES, forbidden_match, member};
use super::report::{Finding, Rule, Severity};
use super::source::{at, text, walk};

/// Built-ins that run code built at run time.
const DANGEROUS: [&str; 5] = ["eval", "exec", "compile", "__import__", "execfile"];

/// Calls that start another program.
const PROCESS: [&str; 33] = [
    "os.system",
    "os.popen",
    "os.execl",
    "os.execle",
    "os.execlp",
    "os.execlpe",
    "os.execv",
    "os.execve",
    "os.execvp",
    "os.execvpe",
    "os.spawnl",
    "os.spawnle",
    "os.spawnlp",
    "os.spawnlpe",
    "os.spawnv",
    "os.spawnve",
    "os.spawnvp",
    "os.spawnvpe",
    "os.posix_spawn",
    "os.posix_spawnp",
    "os.startfile",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "pty.spawn",
    "commands.getoutput",
    "commands.getstatusoutput",
    "asyncio.create_subprocess_exec",
    "asyncio.create_subprocess_shell",
];

/// Longest attribute chain followed when resolving a name.
const MAX_DEPTH: usize = 32;

/// What a resolved name is.
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

    fn why(&self, name: &str) -> String {
        match self {
            Self::Dangerous => format!("{name} runs code built at run time"),
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

/// The first candidate that is flagged, with what it is.
fn classify_any<'f>(candidates: &[String], forbidden: &'f [String]) -> Option<(String, Hit<'f>)> {
    let rank = |hit: &Hit<'_>| match hit {
        Hit::Dangerous => 0,
        Hit::Forbidden(_) => 1,
        Hit::Process => 2,
    };
    candidates
        .iter()
        .filter_map(|c| classify(c, forbidden).map(|hit| (c.clone(), hit)))
        .min_by_key(|(_, hit)| rank(hit))
}

fn classify<'f>(name: &str, forbidden: &'f [String]) -> Option<Hit<'f>> {
    if DANGEROUS.contains(&name) {
        Some(Hit::Dangerous)
    } else if let Some(entry) = forbidden_match(name, forbidden) {
        Some(Hit::Forbidden(entry))
    } else if PROCESS.contains(&name) {
        Some(Hit::Process)
    } else {
        None
    }
}

/// `builtins.eval` is `eval`.
fn normalise(name: String) -> String {
    for prefix in ["builtins.", "__builtins__."] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    name
}

struct Py<'a> {
    file: &'a str,
    src: &'a [u8],
    forbidden: &'a [String],
    aliases: Aliases,
    findings: Vec<Finding>,
}

/// Scans one parsed Python file.
pub(crate) fn scan(
    file: &str,
    src: &[u8],
    tree: &Tree,
    forbidden: &[String],
    deadline: &Deadline,
) -> Result<Vec<Finding>, TimedOut> {
    let mut py = Py {
        file,
        src,
        forbidden,
        aliases: Aliases::default(),
        findings: Vec::new(),
    };
    walk(tree, deadline, |node| match node.kind() {
        "import_statement" => py.import(node),
        "import_from_statement" => py.import_from(node),
        "assignment" => py.assignment(node),
        _ => {}
    })?;
    walk(tree, deadline, |node| py.use_site(node))?;
    Ok(py.findings)
}

impl Py<'_> {
    fn text(&self, node: Node<'_>) -> String {
        text(node, self.src).into_owned()
    }

    fn report(&mut self, node: Node<'_>, hit: &Hit<'_>, severity: Severity, message: String) {
        self.findings
            .push(at(self.file, node, hit.rule(), severity, message));
    }

    /// `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`.
    fn import(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (dotted, bound) = match name.kind() {
                "aliased_import" => {
                    let Some(dotted) = name.child_by_field_name("name") else {
                        continue;
                    };
                    let alias = name.child_by_field_name("alias").map(|a| self.text(a));
                    let dotted = self.text(dotted);
                    (dotted.clone(), alias.map(|a| (a, dotted)))
                }
                _ => {
                    let dotted = self.text(name);
                    let first = dotted.split('.').next().unwrap_or_default().to_owned();
                    (dotted, Some((first.clone(), first)))
                }
            };
            if let Some((local, target)) = bound {
                self.aliases.bind(&local, &target);
            }
            let qualified = normalise(dotted);
            if let Some(entry) = forbidden_match(&qualified, self.forbidden) {
                let hit = Hit::Forbidden(entry);
                let message = format!("imports {qualified}: {}", hit.why(&qualified));
                self.report(name, &hit, Severity::High, message);
            }
        }
    }

    /// `from m import n [as a]` binds `a` (or `n`) to `m.n`.
    fn import_from(&mut self, node: Node<'_>) {
        let Some(module) = node.child_by_field_name("module_name") else {
            return;
        };
        if module.kind() != "dotted_name" {
            return; // a relative import names the plugin's own code
        }
        let module_name = self.text(module);
        let mut cursor = node.walk();
        let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (imported, local) = match name.kind() {
                "aliased_import" => {
                    let Some(dotted) = name.child_by_field_name("name") else {
                        continue;
                    };
                    let imported = self.text(dotted);
                    let local = name
                        .child_by_field_name("alias")
                        .map_or_else(|| imported.clone(), |a| self.text(a));
                    (imported, local)
                }
                _ => {
                    let imported = self.text(name);
                    (imported.clone(), imported)
                }
            };
            let qualified = normalise(format!("{module_name}.{imported}"));
            self.aliases.bind(&local, &qualified);
            if let Some(hit) = classify(&qualified, self.forbidden) {
                let message = format!("imports {qualified}: {}", hit.why(&qualified));
                self.report(name, &hit, Severity::High, message);
            }
        }
        let mut cursor = node.walk();
        let star = node
            .named_children(&mut cursor)
            .find(|c| c.kind() == "wildcard_import");
        if let Some(star) = star {
            self.import_star(star, &module_name);
        }
    }

    /// `from os import *` brings every flagged member of `os` in scope.
    fn import_star(&mut self, star: Node<'_>, module: &str) {
        let prefix = format!("{module}.");
        let mut members: Vec<String> = self
            .forbidden
            .iter()
            .map(String::as_str)
            .chain(PROCESS)
            .filter_map(|name| name.strip_prefix(&prefix))
            .filter(|member| !member.contains('.'))
            .map(str::to_owned)
            .collect();
        members.sort();
        members.dedup();
        let module_hit = forbidden_match(module, self.forbidden).map(Hit::Forbidden);
        let mut worst: Option<Hit<'_>> = module_hit;
        for member in &members {
            let qualified = normalise(format!("{module}.{member}"));
            self.aliases.bind(member, &qualified);
            let hit = classify(&qualified, self.forbidden);
            if matches!(worst, None | Some(Hit::Process)) && hit.is_some() {
                worst = hit;
            }
        }
        if let Some(hit) = worst {
            let names = if members.is_empty() {
                module.to_owned()
            } else {
                members
                    .iter()
                    .map(|m| format!("{module}.{m}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let message = format!(
                "from {module} import * brings in {names}: {}",
                hit.why(names.split(", ").next().unwrap_or(module))
            );
            self.report(star, &hit, Severity::High, message);
        }
    }

    /// `f = os.system` binds `f`; binding a flagged name is High.
    fn assignment(&mut self, node: Node<'_>) {
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        if left.kind() != "identifier" {
            return;
        }
        let local = self.text(left);
        let candidates = self.resolve(right, 0);
        if let Some((qualified, hit)) = classify_any(&candidates, self.forbidden) {
            let message = format!("binds {qualified} to {local}: {}", hit.why(&qualified));
            self.report(right, &hit, Severity::High, message);
        }
        for candidate in &candidates {
            self.aliases.bind(&local, candidate);
        }
    }

    /// Calls, and flagged names passed on as values.
    fn use_site(&mut self, node: Node<'_>) {
        if node.kind() == "exec_statement" {
            // Python 2's `exec "code"`, which the grammar still knows.
            let hit = Hit::Dangerous;
            let message = format!("exec statement: {}", hit.why("exec"));
            self.report(node, &hit, Severity::Critical, message);
        } else if node.kind() == "call" {
            let Some(function) = node.child_by_field_name("function") else {
                return;
            };
            let candidates = self.resolve(function, 0);
            if let Some((qualified, hit)) = classify_any(&candidates, self.forbidden) {
                let written = self.text(function);
                let call = if written == qualified {
                    format!("calls {qualified}")
                } else {
                    format!("calls {qualified} (written {written})")
                };
                let message = format!("{call}: {}", hit.why(&qualified));
                self.report(node, &hit, Severity::Critical, message);
            }
        } else if matches!(node.kind(), "identifier" | "attribute") && is_value_position(node) {
            let candidates = self.resolve(node, 0);
            if let Some((qualified, hit)) = classify_any(&candidates, self.forbidden) {
                let message = format!(
                    "passes {qualified} on as a value, to be called elsewhere: {}",
                    hit.why(&qualified)
                );
                self.report(node, &hit, Severity::Critical, message);
            }
        }
    }

    /// The dotted names an expression may stand for, through the aliases.
    fn resolve(&self, node: Node<'_>, depth: usize) -> Vec<String> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let names = match node.kind() {
            "identifier" => self.aliases.lookup(&self.text(node)),
            "attribute" => match (
                node.child_by_field_name("object"),
                node.child_by_field_name("attribute"),
            ) {
                (Some(object), Some(attribute)) => {
                    member(self.resolve(object, depth + 1), &self.text(attribute))
                }
                _ => Vec::new(),
            },
            "parenthesized_expression" => node
                .named_child(0)
                .map(|inner| self.resolve(inner, depth + 1))
                .unwrap_or_default(),
            "call" => self.resolve_call(node, depth),
            _ => Vec::new(),
        };
        names.into_iter().map(normalise).collect()
    }

    /// `getattr(os, "system")`, `__import__("os")`, `importlib.import_module("os")`.
    fn resolve_call(&self, node: Node<'_>, depth: usize) -> Vec<String> {
        let (Some(function), Some(arguments)) = (
            node.child_by_field_name("function"),
            node.child_by_field_name("arguments"),
        ) else {
            return Vec::new();
        };
        let mut cursor = arguments.walk();
        let args: Vec<Node<'_>> = arguments.named_children(&mut cursor).collect();
        let mut out = Vec::new();
        for function in self.resolve(function, depth + 1) {
            match function.as_str() {
                "getattr" => {
                    if let (Some(&object), Some(attribute)) = (
                        args.first(),
                        args.get(1).and_then(|a| string_literal(*a, self.src)),
                    ) {
                        out.extend(member(self.resolve(object, depth + 1), &attribute));
                    }
                }
                "__import__" | "importlib.import_module" => {
                    out.extend(args.first().and_then(|a| string_literal(*a, self.src)));
                }
                _ => {}
            }
        }
        out.truncate(MAX_CANDIDATES);
        out
    }
}

/// Whether a name is used as a value that leaves the expression: an
/// argument, a return value, a collection element, a lambda's body.
fn is_value_position(node: Node<'_>) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    match parent.kind() {
        "argument_list" | "return_statement" | "list" | "tuple" | "set" | "expression_list" => true,
        "keyword_argument" | "pair" => parent.child_by_field_name("value") == Some(node),
        "lambda" => parent.child_by_field_name("body") == Some(node),
        _ => false,
    }
}

/// The value of a plain string literal (no interpolation).
fn string_literal(node: Node<'_>, src: &[u8]) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let mut cursor = node.walk();
    let mut value = String::new();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "string_content" => value.push_str(&text(child, src)),
            "string_start" | "string_end" => {}
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

    fn check(src: &str) -> Vec<(u32, Rule, Severity)> {
        scan_snippet(Lang::Python, src, |tree, forbidden, deadline| {
            scan("t.py", src.as_bytes(), tree, forbidden, deadline)
        })
    }

    #[test]
    fn star_import_brings_forbidden_names_in() {
        assert_eq!(
            check("from os import *\nsystem('ls')\n"),
            [(1, ForbiddenImport, High), (2, ForbiddenImport, Critical)]
        );
    }

    #[test]
    fn rebinding_a_name_does_not_hide_its_import() {
        let src = "import os as o\ndef f():\n    o = 5\no.system('ls')\n";
        assert_eq!(check(src), [(4, ForbiddenImport, Critical)]);
    }

    #[test]
    fn dangerous_builtin_through_an_alias() {
        assert_eq!(
            check("f = eval\nf('1')\n"),
            [
                (1, DangerousFunction, High),
                (2, DangerousFunction, Critical)
            ]
        );
        assert_eq!(
            check("from builtins import exec as run\nrun('x = 1')\n"),
            [
                (1, DangerousFunction, High),
                (2, DangerousFunction, Critical)
            ]
        );
    }

    #[test]
    fn dynamic_imports_with_literal_names_resolve() {
        assert_eq!(
            check("__import__('os').system('ls')\n"),
            [
                (1, ForbiddenImport, Critical),
                (1, DangerousFunction, Critical)
            ]
        );
        assert_eq!(
            check("import importlib\nimportlib.import_module('subprocess').call(['ls'])\n"),
            [(2, ForbiddenImport, Critical)]
        );
    }

    #[test]
    fn look_alikes_are_not_findings() {
        let src = "import re\nimport os\nre.compile('x')\nx.system('ls')\nfoo(eval=True)\n\
                   print('os.system', os.path.sep)\n# eval('1')\nos.systemd()\n";
        assert_eq!(check(src), []);
    }

    #[test]
    fn python2_exec_statement_is_dangerous() {
        assert_eq!(
            check("exec \"import os\"\n"),
            [(1, DangerousFunction, Critical)]
        );
    }

    #[test]
    fn relative_imports_are_the_plugins_own_code() {
        assert_eq!(check("from . import system\nsystem()\n"), []);
    }
}
