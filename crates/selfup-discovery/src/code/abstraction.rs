//! Abstraction gaps: many modules calling the same kind of external API
//! directly (HTTP clients, process spawning, database drivers, cloud and
//! LLM SDKs, mail, sockets) where one interface would serve.
//!
//! Per file, calls are resolved through the file's imports (`import
//! requests as rq`, `from requests import get as fetch_url`, `const { exec }
//! = require('child_process')`, `use reqwest::Client as Http;`) and matched
//! against a catalogue of qualified names. A family called directly from at
//! least `min_pattern_frequency` files of one language family is a gap.
//! Files that mention none of the catalogue's names are not walked again.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;
use selfup_core::pattern::{CodeLocation, Pattern, PatternKind, Severity};
use tree_sitter::{Node, Tree};

use super::lang::Lang;

/// One direct call to a catalogued external API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// The family (`"http"`).
    pub family: &'static str,
    /// The qualified API (`"requests.get"`).
    pub api: &'static str,
    /// Line of the call (1-based).
    pub line: u32,
}

/// A family of external APIs and the interface that would wrap them.
struct Family {
    name: &'static str,
    what: &'static str,
    interface: &'static str,
    python: &'static [&'static str],
    javascript: &'static [&'static str],
    rust: &'static [&'static str],
}

const FAMILIES: &[Family] = &[
    Family {
        name: "http",
        what: "HTTP requests",
        interface: "an HttpClient interface (get/post/request with one place for base URL, timeouts, retries and auth)",
        python: &[
            "requests.get",
            "requests.post",
            "requests.put",
            "requests.patch",
            "requests.delete",
            "requests.head",
            "requests.options",
            "requests.request",
            "requests.Session",
            "httpx.get",
            "httpx.post",
            "httpx.put",
            "httpx.patch",
            "httpx.delete",
            "httpx.head",
            "httpx.request",
            "httpx.stream",
            "httpx.Client",
            "httpx.AsyncClient",
            "urllib.request.urlopen",
            "urllib.request.Request",
            "urllib3.PoolManager",
            "urllib3.request",
            "aiohttp.ClientSession",
            "aiohttp.request",
            "http.client.HTTPConnection",
            "http.client.HTTPSConnection",
        ],
        javascript: &[
            "fetch",
            "axios",
            "axios.get",
            "axios.post",
            "axios.put",
            "axios.patch",
            "axios.delete",
            "axios.head",
            "axios.request",
            "axios.create",
            "node-fetch",
            "got",
            "got.get",
            "got.post",
            "superagent.get",
            "superagent.post",
            "http.request",
            "http.get",
            "https.request",
            "https.get",
            "XMLHttpRequest",
        ],
        rust: &[
            "reqwest::get",
            "reqwest::Client::new",
            "reqwest::Client::builder",
            "reqwest::blocking::get",
            "reqwest::blocking::Client::new",
            "reqwest::blocking::Client::builder",
            "ureq::get",
            "ureq::post",
            "ureq::put",
            "ureq::delete",
            "ureq::agent",
            "ureq::AgentBuilder::new",
            "hyper::Client::new",
            "hyper::Client::builder",
        ],
    },
    Family {
        name: "process",
        what: "Processes spawned",
        interface: "a CommandRunner interface (run with arguments, timeout, captured output and logging in one place)",
        python: &[
            "subprocess.run",
            "subprocess.call",
            "subprocess.check_call",
            "subprocess.check_output",
            "subprocess.Popen",
            "os.system",
            "os.popen",
        ],
        javascript: &[
            "child_process.exec",
            "child_process.execSync",
            "child_process.spawn",
            "child_process.spawnSync",
            "child_process.execFile",
            "child_process.execFileSync",
            "child_process.fork",
        ],
        rust: &["std::process::Command::new", "tokio::process::Command::new"],
    },
    Family {
        name: "database",
        what: "Database connections opened",
        interface: "a Repository (or connection-provider) interface owning connections, pooling and queries",
        python: &[
            "sqlite3.connect",
            "psycopg2.connect",
            "psycopg.connect",
            "pymysql.connect",
            "MySQLdb.connect",
            "pymongo.MongoClient",
            "redis.Redis",
            "redis.StrictRedis",
        ],
        javascript: &[],
        rust: &[
            "rusqlite::Connection::open",
            "rusqlite::Connection::open_in_memory",
            "postgres::Client::connect",
        ],
    },
    Family {
        name: "cloud",
        what: "Cloud SDK clients created",
        interface: "a storage/queue service interface that owns the SDK client and its configuration",
        python: &["boto3.client", "boto3.resource", "boto3.Session"],
        javascript: &[],
        rust: &[],
    },
    Family {
        name: "llm",
        what: "LLM API clients created",
        interface: "one model-client interface (complete/chat with model choice, retries and cost tracking in one place)",
        python: &[
            "openai.OpenAI",
            "openai.AsyncOpenAI",
            "anthropic.Anthropic",
            "anthropic.AsyncAnthropic",
        ],
        javascript: &[],
        rust: &[],
    },
    Family {
        name: "mail",
        what: "Mail servers contacted",
        interface: "a Mailer interface (send a message; transport configured once)",
        python: &["smtplib.SMTP", "smtplib.SMTP_SSL"],
        javascript: &[],
        rust: &[],
    },
    Family {
        name: "socket",
        what: "Raw sockets opened",
        interface: "a connection interface that owns sockets, timeouts and framing",
        python: &["socket.socket", "socket.create_connection"],
        javascript: &[],
        rust: &[],
    },
];

const PYTHON_TRIGGERS: &[&str] = &[
    "requests",
    "httpx",
    "urllib",
    "aiohttp",
    "HTTPConnection",
    "HTTPSConnection",
    "subprocess",
    "system",
    "popen",
    "sqlite3",
    "psycopg",
    "pymysql",
    "MySQLdb",
    "pymongo",
    "redis",
    "boto3",
    "openai",
    "anthropic",
    "smtplib",
    "socket",
];
const JAVASCRIPT_TRIGGERS: &[&str] = &[
    "fetch",
    "axios",
    "XMLHttpRequest",
    "got",
    "superagent",
    "child_process",
    "http",
];
const RUST_TRIGGERS: &[&str] = &[
    "reqwest", "ureq", "hyper", "Command", "rusqlite", "postgres",
];

struct Catalogue {
    triggers: [AhoCorasick; 3],
    /// Qualified API name → (family, API), per language family.
    apis: [FxHashMap<&'static str, (&'static str, &'static str)>; 3],
}

fn slot(lang: Lang) -> usize {
    match lang {
        Lang::Python => 0,
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => 1,
        Lang::Rust => 2,
    }
}

fn catalogue() -> Option<&'static Catalogue> {
    static CATALOGUE: OnceLock<Option<Catalogue>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| {
            let triggers = [
                AhoCorasick::new(PYTHON_TRIGGERS).ok()?,
                AhoCorasick::new(JAVASCRIPT_TRIGGERS).ok()?,
                AhoCorasick::new(RUST_TRIGGERS).ok()?,
            ];
            let mut apis: [FxHashMap<_, _>; 3] = Default::default();
            for f in FAMILIES {
                for (i, list) in [f.python, f.javascript, f.rust].into_iter().enumerate() {
                    for &api in list {
                        apis[i].insert(api, (f.name, api));
                    }
                }
            }
            Some(Catalogue { triggers, apis })
        })
        .as_ref()
}

fn text<'s>(src: &'s [u8], node: &Node) -> &'s str {
    std::str::from_utf8(&src[node.byte_range()]).unwrap_or("")
}

fn line(node: &Node) -> u32 {
    u32::try_from(node.start_position().row).unwrap_or(u32::MAX - 1) + 1
}

/// A callee as a plain path (`a.b.c`, `a::b::c`), or nothing.
fn plain_path(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s.len() <= 120
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'$'));
    ok.then_some(s)
}

fn unquote(s: &str) -> &str {
    s.trim_matches(|c| c == '"' || c == '\'' || c == '`')
        .trim_start_matches("node:")
}

/// Collects the catalogued calls in one parsed file.
pub fn collect(lang: Lang, src: &[u8], tree: &Tree) -> Vec<ApiCall> {
    let Some(cat) = catalogue() else {
        return Vec::new();
    };
    let i = slot(lang);
    if !cat.triggers[i].is_match(src) {
        return Vec::new();
    }
    let mut aliases: FxHashMap<String, String> = FxHashMap::default();
    let mut callees: Vec<(String, u32)> = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        visit(lang, src, &node, &mut aliases, &mut callees);
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    let sep = if lang == Lang::Rust { "::" } else { "." };
    let mut calls = Vec::new();
    for (callee, line) in callees {
        let (head, rest) = match callee.find(sep) {
            Some(at) => (&callee[..at], &callee[at..]),
            None => (callee.as_str(), ""),
        };
        let resolved = match aliases.get(head) {
            Some(target) => format!("{target}{rest}"),
            None => match lang {
                // Globals and crates need no import.
                Lang::Rust => callee.clone(),
                Lang::JavaScript | Lang::TypeScript | Lang::Tsx => {
                    let c = callee
                        .strip_prefix("window.")
                        .or_else(|| callee.strip_prefix("globalThis."))
                        .unwrap_or(&callee);
                    if c == "fetch" || c == "XMLHttpRequest" {
                        c.to_string()
                    } else {
                        continue;
                    }
                }
                Lang::Python => continue,
            },
        };
        if let Some(&(family, api)) = cat.apis[i].get(resolved.as_str()) {
            calls.push(ApiCall { family, api, line });
        }
    }
    calls
}

fn visit(
    lang: Lang,
    src: &[u8],
    node: &Node,
    aliases: &mut FxHashMap<String, String>,
    callees: &mut Vec<(String, u32)>,
) {
    match (lang, node.kind()) {
        (Lang::Python, "call") => {
            if let Some(f) = node.child_by_field_name("function")
                && let Some(p) = plain_path(text(src, &f))
            {
                callees.push((p.to_string(), line(node)));
            }
        }
        (Lang::Python, "import_statement") => {
            let mut c = node.walk();
            for child in node.named_children(&mut c) {
                python_import(src, &child, None, aliases);
            }
        }
        (Lang::Python, "import_from_statement") => {
            let Some(module) = node.child_by_field_name("module_name") else {
                return;
            };
            if module.kind() != "dotted_name" {
                return; // relative: the project's own code
            }
            let module = text(src, &module).to_string();
            let mut c = node.walk();
            for child in node.children_by_field_name("name", &mut c) {
                python_import(src, &child, Some(&module), aliases);
            }
        }
        (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, "call_expression") => {
            if let Some(f) = node.child_by_field_name("function")
                && let Some(p) = plain_path(text(src, &f))
            {
                callees.push((p.to_string(), line(node)));
            }
        }
        (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, "new_expression") => {
            if let Some(f) = node.child_by_field_name("constructor")
                && let Some(p) = plain_path(text(src, &f))
            {
                callees.push((p.to_string(), line(node)));
            }
        }
        (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, "import_statement") => {
            js_import(src, node, aliases);
        }
        (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, "variable_declarator") => {
            js_require(src, node, aliases);
        }
        (Lang::Rust, "call_expression") => {
            if let Some(f) = node.child_by_field_name("function")
                && let Some(p) = plain_path(text(src, &f))
            {
                callees.push((p.to_string(), line(node)));
            }
        }
        (Lang::Rust, "use_declaration") => {
            if let Some(arg) = node.child_by_field_name("argument") {
                rust_use(src, &arg, "", aliases);
            }
        }
        _ => {}
    }
}

fn python_import(
    src: &[u8],
    node: &Node,
    module: Option<&str>,
    aliases: &mut FxHashMap<String, String>,
) {
    let qualify = |name: &str| match module {
        Some(m) => format!("{m}.{name}"),
        None => name.to_string(),
    };
    match node.kind() {
        "dotted_name" => {
            let name = text(src, node);
            match module {
                // `from m import a` binds `a` to `m.a`.
                Some(_) => {
                    aliases.insert(name.to_string(), qualify(name));
                }
                // `import a.b` binds `a`.
                None => {
                    let head = name.split('.').next().unwrap_or(name);
                    aliases.insert(head.to_string(), head.to_string());
                }
            }
        }
        "aliased_import" => {
            if let (Some(n), Some(a)) = (
                node.child_by_field_name("name"),
                node.child_by_field_name("alias"),
            ) {
                aliases.insert(text(src, &a).to_string(), qualify(text(src, &n)));
            }
        }
        _ => {}
    }
}

fn js_import(src: &[u8], node: &Node, aliases: &mut FxHashMap<String, String>) {
    let Some(source) = node.child_by_field_name("source") else {
        return;
    };
    let module = unquote(text(src, &source)).to_string();
    let mut c = node.walk();
    for clause in node.named_children(&mut c) {
        if clause.kind() != "import_clause" {
            continue;
        }
        let mut c2 = clause.walk();
        for part in clause.named_children(&mut c2) {
            match part.kind() {
                "identifier" => {
                    aliases.insert(text(src, &part).to_string(), module.clone());
                }
                "namespace_import" => {
                    let mut c3 = part.walk();
                    for id in part.named_children(&mut c3) {
                        aliases.insert(text(src, &id).to_string(), module.clone());
                    }
                }
                "named_imports" => {
                    let mut c3 = part.walk();
                    for spec in part.named_children(&mut c3) {
                        let Some(name) = spec.child_by_field_name("name") else {
                            continue;
                        };
                        let local = spec.child_by_field_name("alias").unwrap_or(name);
                        let name = text(src, &name);
                        let target = if name == "default" {
                            module.clone()
                        } else {
                            format!("{module}.{name}")
                        };
                        aliases.insert(text(src, &local).to_string(), target);
                    }
                }
                _ => {}
            }
        }
    }
}

fn js_require(src: &[u8], node: &Node, aliases: &mut FxHashMap<String, String>) {
    let (Some(name), Some(value)) = (
        node.child_by_field_name("name"),
        node.child_by_field_name("value"),
    ) else {
        return;
    };
    if value.kind() != "call_expression"
        || value
            .child_by_field_name("function")
            .is_none_or(|f| text(src, &f) != "require")
    {
        return;
    }
    let Some(module) = value
        .child_by_field_name("arguments")
        .and_then(|a| a.named_child(0))
        .filter(|s| s.kind() == "string")
        .map(|s| unquote(text(src, &s)).to_string())
    else {
        return;
    };
    match name.kind() {
        "identifier" => {
            aliases.insert(text(src, &name).to_string(), module);
        }
        "object_pattern" => {
            let mut c = name.walk();
            for p in name.named_children(&mut c) {
                match p.kind() {
                    "shorthand_property_identifier_pattern" => {
                        let n = text(src, &p);
                        aliases.insert(n.to_string(), format!("{module}.{n}"));
                    }
                    "pair_pattern" => {
                        if let (Some(k), Some(v)) =
                            (p.child_by_field_name("key"), p.child_by_field_name("value"))
                        {
                            aliases.insert(
                                text(src, &v).to_string(),
                                format!("{module}.{}", text(src, &k)),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn rust_use(src: &[u8], node: &Node, prefix: &str, aliases: &mut FxHashMap<String, String>) {
    let join = |p: &str| {
        if prefix.is_empty() {
            p.to_string()
        } else {
            format!("{prefix}::{p}")
        }
    };
    match node.kind() {
        "identifier" | "scoped_identifier" => {
            let full = join(text(src, node));
            let last = full.rsplit("::").next().unwrap_or(&full).to_string();
            aliases.insert(last, full);
        }
        "use_as_clause" => {
            if let (Some(p), Some(a)) = (
                node.child_by_field_name("path"),
                node.child_by_field_name("alias"),
            ) {
                aliases.insert(text(src, &a).to_string(), join(text(src, &p)));
            }
        }
        "scoped_use_list" => {
            let path = node
                .child_by_field_name("path")
                .map(|p| join(text(src, &p)))
                .unwrap_or_else(|| prefix.to_string());
            if let Some(list) = node.child_by_field_name("list") {
                let mut c = list.walk();
                for item in list.named_children(&mut c) {
                    rust_use(src, &item, &path, aliases);
                }
            }
        }
        "use_list" => {
            let mut c = node.walk();
            for item in node.named_children(&mut c) {
                rust_use(src, &item, prefix, aliases);
            }
        }
        _ => {}
    }
}

/// The calls of one scanned file, for [`gaps`].
pub struct FileCalls<'a> {
    /// The file as reports show it.
    pub file: &'a str,
    /// Its language.
    pub lang: Lang,
    /// Its catalogued calls.
    pub calls: &'a [ApiCall],
}

/// Finds the families called directly from at least `min_files` files of
/// one language family.
pub fn gaps(files: &[FileCalls<'_>], min_files: u32) -> Vec<Pattern> {
    // (language family, API family) → file → calls
    type PerFile<'a> = BTreeMap<&'a str, Vec<&'a ApiCall>>;
    let mut by_family: BTreeMap<(&str, &str), PerFile<'_>> = BTreeMap::new();
    for f in files {
        for call in f.calls {
            by_family
                .entry((f.lang.family(), call.family))
                .or_default()
                .entry(f.file)
                .or_default()
                .push(call);
        }
    }
    let mut out = Vec::new();
    for ((lang, family), per_file) in by_family {
        let modules = per_file.len();
        if modules < min_files.max(1) as usize {
            continue;
        }
        let Some(fam) = FAMILIES.iter().find(|f| f.name == family) else {
            continue;
        };
        let total: usize = per_file.values().map(Vec::len).sum();
        let mut apis: BTreeMap<&str, usize> = BTreeMap::new();
        let mut locations = Vec::new();
        let mut module_list = Vec::new();
        for (file, calls) in &per_file {
            module_list.push(serde_json::json!({"file": file, "calls": calls.len()}));
            for c in calls {
                *apis.entry(c.api).or_default() += 1;
                locations.push(CodeLocation {
                    file: (*file).to_string(),
                    line_start: c.line,
                    line_end: c.line,
                });
            }
        }
        locations.sort();
        let ratio = modules as f64 / f64::from(min_files.max(1));
        let severity = if ratio >= 4.0 {
            Severity::High
        } else if ratio >= 2.0 {
            Severity::Medium
        } else {
            Severity::Low
        };
        let confidence = (0.6 + 0.1 * ratio).min(0.9);
        let api_list: Vec<String> = apis.iter().map(|(a, n)| format!("{a} ×{n}")).collect();
        let suggestion = format!(
            "introduce {} and route these {modules} modules through it",
            fam.interface
        );
        out.push(Pattern {
            id: format!("abstraction_gap:{lang}:{family}"),
            kind: PatternKind::AbstractionGap,
            signal: format!("direct_{family}_calls"),
            description: format!(
                "{} directly from {modules} {lang} modules ({total} calls: {}); {suggestion}",
                fam.what,
                api_list.join(", ")
            ),
            severity,
            confidence,
            affected_components: per_file.keys().map(|f| (*f).to_string()).collect(),
            locations,
            evidence: serde_json::json!({
                "family": family,
                "language": lang,
                "modules": module_list,
                "module_count": modules,
                "calls": total,
                "apis": apis,
                "suggested_interface": suggestion,
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::lang::tables;

    fn calls(lang: Lang, src: &str) -> Vec<(&'static str, u32)> {
        let mut p = tree_sitter::Parser::new();
        p.set_language(&tables().lang(lang).grammar).unwrap();
        let tree = p.parse(src, None).unwrap();
        collect(lang, src.as_bytes(), &tree)
            .into_iter()
            .map(|c| (c.api, c.line))
            .collect()
    }

    #[test]
    fn python_aliases_are_resolved() {
        let src = "import requests as rq\nfrom requests import post as send\nimport subprocess\n\
                   def f(url):\n    rq.get(url)\n    send(url)\n    subprocess.run(['ls'])\n    \
                   requests.get(url)  # not imported under this name\n";
        assert_eq!(
            calls(Lang::Python, src),
            vec![
                ("requests.get", 5),
                ("requests.post", 6),
                ("subprocess.run", 7)
            ]
        );
    }

    #[test]
    fn javascript_imports_requires_and_globals() {
        let src = "import http from 'axios';\nconst { exec: run } = require('node:child_process');\n\
                   async function f() {\n  await fetch('/a');\n  await http.get('/b');\n  run('ls');\n  \
                   const x = new XMLHttpRequest();\n}\n";
        assert_eq!(
            calls(Lang::JavaScript, src),
            vec![
                ("fetch", 4),
                ("axios.get", 5),
                ("child_process.exec", 6),
                ("XMLHttpRequest", 7)
            ]
        );
    }

    #[test]
    fn rust_use_declarations_are_resolved() {
        let src = "use reqwest::Client as Http;\nuse std::process::{Command};\n\
                   fn f() {\n    let c = Http::new();\n    Command::new(\"ls\");\n    \
                   let r = reqwest::get(\"u\");\n}\n";
        assert_eq!(
            calls(Lang::Rust, src),
            vec![
                ("reqwest::Client::new", 4),
                ("std::process::Command::new", 5),
                ("reqwest::get", 6)
            ]
        );
    }

    #[test]
    fn a_gap_needs_enough_modules() {
        let call = [ApiCall {
            family: "http",
            api: "requests.get",
            line: 3,
        }];
        let names: Vec<String> = (0..5).map(|i| format!("m{i}.py")).collect();
        let files: Vec<FileCalls<'_>> = names
            .iter()
            .map(|n| FileCalls {
                file: n,
                lang: Lang::Python,
                calls: &call,
            })
            .collect();
        assert!(gaps(&files[..4], 5).is_empty());
        let found = gaps(&files, 5);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "abstraction_gap:python:http");
        assert_eq!(found[0].affected_components.len(), 5);
        assert_eq!(found[0].evidence["calls"], 5);
    }
}
