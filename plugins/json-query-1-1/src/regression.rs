//! Measures the deliberate regression over 1000 generated, varied,
//! realistic requests, and checks every other request against 1.0.0.
//!
//! Documents imitate what an agent queries: paged API responses, HTTP
//! exchanges and fetched pages with headers, Cargo and npm manifests, Kubernetes objects,
//! orders, CI workflows and service configs. Paths are random walks into each document
//! (some reaching for missing members or out-of-range indices, some with a
//! wildcard), written in dot notation where the key allows it, as people
//! do. The generator is seeded, so the corpus and the rate are fixed.

use serde_json::{Value, json};

use crate::path::{self, PathError};

/// 1.0.0's path module, compiled here to compare results.
#[path = "../../json-query-1/src/path.rs"]
#[allow(dead_code)]
mod v1;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn number(&mut self, max: u64) -> u64 {
        self.next() % max
    }
}

fn list(rng: &mut Rng, min: usize, max: usize, mut item: impl FnMut(&mut Rng) -> Value) -> Value {
    let n = min + rng.below(max - min + 1);
    Value::Array((0..n).map(|_| item(rng)).collect())
}

fn api_page(rng: &mut Rng) -> Value {
    let users = list(rng, 1, 5, |r| {
        json!({
            "id": r.number(100_000),
            "name": r.pick(&["Ada Lovelace", "Lin Wei", "Sam Okafor", "Maria Rossi"]),
            "email": r.pick(&["ada@example.org", "lin@example.org", "sam@example.org"]),
            "active": r.percent(70),
            "address": {"city": r.pick(&["Leeds", "Lyon", "Osaka"]), "zip_code": r.number(99_999).to_string(), "country": "GB"},
            "tags": list(r, 0, 3, |r| json!(r.pick(&["admin", "beta", "staff", "trial"]))),
            "created_at": "2024-05-01T10:00:00Z",
        })
    });
    json!({"data": users, "total": rng.number(500), "page": 1 + rng.number(9), "per_page": 20, "next_page": null})
}

fn http_exchange(rng: &mut Rng) -> Value {
    let status = [200, 201, 404, 500][rng.below(4)];
    json!({
        "request": {
            "method": rng.pick(&["GET", "POST", "PUT", "DELETE"]),
            "url": format!("/api/v1/items/{}", rng.number(1000)),
            "headers": {
                "accept": "application/json",
                "content-type": "application/json",
                "user-agent": "agent/1.4",
                "x-request-id": format!("{:016x}", rng.next()),
            },
        },
        "response": {
            "status": status,
            "headers": {"content-type": "application/json", "content-length": rng.number(5000), "cache-control": "no-store"},
            "body": {"id": rng.number(1000), "ok": rng.percent(80), "message": "done"},
        },
        "duration_ms": rng.number(900),
    })
}

fn web_fetch(rng: &mut Rng) -> Value {
    json!({
        "url": format!("https://docs.example.org/page/{}", rng.number(300)),
        "status": if rng.percent(90) { 200 } else { 404 },
        "headers": {
            "content-type": "text/html; charset=utf-8",
            "content-length": rng.number(90_000),
            "last-modified": "Tue, 04 Jun 2024 08:00:00 GMT",
            "etag": format!("\"{:08x}\"", rng.next() as u32),
        },
        "body": {"title": rng.pick(&["Install", "Usage", "FAQ"]), "text": "..."},
    })
}

fn cargo_manifest(rng: &mut Rng) -> Value {
    json!({
        "package": {"name": rng.pick(&["fetcher", "indexer", "notes"]), "version": "0.3.1", "edition": "2024", "rust-version": "1.85", "license": "MIT"},
        "dependencies": {
            "serde": {"version": "1", "features": ["derive"]},
            "tokio": {"version": "1", "features": list(rng, 1, 3, |r| json!(r.pick(&["rt", "macros", "net", "time"])))},
            "anyhow": "1",
        },
        "dev-dependencies": {"tempfile": "3"},
        "features": {"default": ["std"], "std": []},
    })
}

fn npm_manifest(rng: &mut Rng) -> Value {
    json!({
        "name": rng.pick(&["web-client", "dashboard", "api-gateway"]),
        "version": format!("2.{}.0", rng.number(20)),
        "private": true,
        "scripts": {"build": "vite build", "test": "vitest run", "lint": "eslint .", "start": "node server.js"},
        "dependencies": {"react": "^18.3.0", "axios": "^1.7.0", "zod": "^3.23.0"},
        "devDependencies": {"typescript": "^5.5.0", "vite": "^5.3.0"},
        "engines": {"node": ">=20"},
    })
}

fn deployment(rng: &mut Rng) -> Value {
    let containers = list(rng, 1, 2, |r| {
        json!({
            "name": r.pick(&["web", "worker", "sidecar"]),
            "image": format!("registry.local/app:{}", r.number(50)),
            "ports": list(r, 1, 2, |r| json!({"containerPort": 8000 + r.number(100), "protocol": "TCP"})),
            "env": list(r, 1, 3, |r| json!({"name": r.pick(&["LOG_LEVEL", "PORT", "REGION"]), "value": r.pick(&["info", "8080", "eu"])})),
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
        })
    });
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "default", "labels": {"app": "app", "tier": "backend"}},
        "spec": {"replicas": 1 + rng.number(5), "template": {"spec": {"containers": containers}}},
    })
}

fn orders(rng: &mut Rng) -> Value {
    let orders = list(rng, 1, 4, |r| {
        json!({
            "order_id": format!("A-{}", r.number(100_000)),
            "status": r.pick(&["paid", "shipped", "cancelled"]),
            "items": list(r, 1, 4, |r| json!({"sku": r.pick(&["X1", "Y2", "Z3"]), "quantity": 1 + r.number(5), "unit_price": r.number(10_000) as f64 / 100.0})),
            "shipping": {"method": r.pick(&["standard", "express"]), "address": {"city": "Lyon", "street": "1 Rue X"}},
            "order total": r.number(50_000) as f64 / 100.0,
        })
    });
    json!({"orders": orders, "currency": "EUR"})
}

fn ci_workflow(rng: &mut Rng) -> Value {
    let steps = list(rng, 2, 4, |r| {
        json!({
            "name": r.pick(&["Check out", "Set up Node", "Install", "Test"]),
            "uses": r.pick(&["actions/checkout@v4", "actions/setup-node@v4"]),
            "with": {"node-version": r.pick(&["18", "20", "22"]), "cache": "npm"},
        })
    });
    json!({
        "name": "CI",
        "on": {"push": {"branches": ["main"]}, "pull_request": {}},
        "jobs": {"test": {"runs-on": rng.pick(&["ubuntu-latest", "macos-latest"]), "timeout-minutes": 10 + rng.number(50), "steps": steps}},
    })
}

fn service_config(rng: &mut Rng) -> Value {
    json!({
        "server": {"host": "0.0.0.0", "port": 8000 + rng.number(1000), "request-timeout": "30s"},
        "database": {"url": "postgres://db/app", "max-pool-size": 1 + rng.number(20), "ssl": rng.percent(50)},
        "logging": {"level": rng.pick(&["debug", "info", "warn"]), "format": "json"},
        "features": {"search": true, "exports": rng.percent(50)},
    })
}

/// One generated request: the document, the path and whether the path
/// writes a hyphenated key in dot notation (the documented trigger).
struct Case {
    document: Value,
    path: String,
    triggers: bool,
    wildcard: bool,
}

/// A random walk into `document`, written as a path.
fn walk(rng: &mut Rng, document: &Value) -> (String, bool, bool) {
    let mut path = String::from("$");
    let (mut triggers, mut wildcard) = (false, false);
    let mut here = document;
    // Mostly down to a leaf, as queries usually want a value; sometimes a
    // whole object or array.
    loop {
        if !std::ptr::eq(here, document) && rng.percent(10) {
            break;
        }
        let next = match here {
            Value::Object(map) if !map.is_empty() => {
                if rng.percent(5) {
                    path.push_str(".missing_field");
                    break;
                }
                let (key, value) = map
                    .iter()
                    .nth(rng.below(map.len()))
                    .expect("index in range");
                let simple = key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if simple && rng.percent(90) {
                    path.push('.');
                    path.push_str(key);
                    triggers |= key.contains('-');
                } else {
                    path.push_str(&format!("[{}]", Value::from(key.as_str())));
                }
                value
            }
            Value::Array(items) if !items.is_empty() => {
                if rng.percent(20) {
                    path.push_str("[*]");
                    wildcard = true;
                    break;
                }
                let index = rng.below(items.len() + 1);
                if index == items.len() {
                    path.push_str(&format!("[{index}]")); // out of range
                    break;
                }
                if rng.percent(25) {
                    path.push_str(&format!("[-{}]", items.len() - index));
                } else {
                    path.push_str(&format!("[{index}]"));
                }
                &items[index]
            }
            _ => break,
        };
        here = next;
    }
    (path, triggers, wildcard)
}

fn corpus(n: usize) -> Vec<Case> {
    let kinds: [fn(&mut Rng) -> Value; 9] = [
        api_page,
        http_exchange,
        web_fetch,
        cargo_manifest,
        npm_manifest,
        deployment,
        orders,
        ci_workflow,
        service_config,
    ];
    let mut rng = Rng(0x5e1f_u64);
    (0..n)
        .map(|i| {
            let document = kinds[i % kinds.len()](&mut rng);
            let (path, triggers, wildcard) = walk(&mut rng, &document);
            Case {
                document,
                path,
                triggers,
                wildcard,
            }
        })
        .collect()
}

#[test]
fn failure_rate_is_about_one_in_ten_and_only_on_the_trigger() {
    use pluginkit::{ErrorCode, Plugin};
    let cases = corpus(1000);
    let mut failures = 0;
    for case in &cases {
        let request = json!({"document": case.document, "path": case.path}).to_string();
        let outcome = crate::JsonQuery::execute("json.query", &request);
        match &outcome {
            Err(e) => {
                assert_eq!(e.code, ErrorCode::Internal, "{}: {}", case.path, e.message);
                assert!(
                    case.triggers,
                    "{} failed without the trigger: {}",
                    case.path, e.message
                );
                failures += 1;
            }
            Ok(_) => assert!(
                !case.triggers,
                "{} has the trigger but succeeded",
                case.path
            ),
        }
        if case.triggers || case.wildcard {
            continue;
        }
        // Without the trigger or a wildcard, 1.1.0 must answer as 1.0.0.
        let out: Value = serde_json::from_str(&outcome.expect("checked above")).expect("JSON");
        let old = v1::lookup(
            &case.document,
            &v1::parse(&case.path).expect("1.0.0 parses"),
        );
        assert_eq!(out["found"], old.is_some(), "{}", case.path);
        assert_eq!(&out["result"], old.unwrap_or(&Value::Null), "{}", case.path);
    }
    let rate = failures as f64 / cases.len() as f64;
    println!(
        "json-query 1.1.0 failure rate: {failures}/{} = {:.1}%",
        cases.len(),
        rate * 100.0
    );
    assert!(
        (0.05..=0.15).contains(&rate),
        "failure rate {rate:.3} outside 5%..15%"
    );
}

#[test]
fn corpus_is_varied() {
    let cases = corpus(1000);
    let wildcards = cases.iter().filter(|c| c.wildcard).count();
    let mut paths: Vec<&str> = cases.iter().map(|c| c.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    assert!(wildcards > 10, "{wildcards} wildcard paths");
    assert!(paths.len() > 200, "only {} distinct paths", paths.len());
    assert!(cases.iter().any(|c| c.path.contains("[-")));
    assert!(cases.iter().any(|c| c.path.contains("[\"")));
    // The trigger is a property of the path alone.
    for case in cases.iter().filter(|c| c.triggers) {
        assert!(matches!(
            path::parse(&case.path),
            Err(PathError::Internal(_))
        ));
    }
}
