//! An OpenAI-compatible server on loopback for `cargo xtask demo --llm`:
//! prints its base URL on the first line of stdout, then answers until it
//! is killed. Decisions approve with a confidence and reasoning drawn from
//! the request (what a careful reviewer would say of the example plugins);
//! capability specifications describe the capability the requests name.
//!
//! `cargo run -p selfup-llm --features fake --example fake_server`

use std::io::Write;

use selfup_llm::fake::FakeServer;
use serde_json::{Value, json};

fn user_message(body: &Value) -> String {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| m["content"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(&format!("\"{key}\": \""))? + key.len() + 5;
    let rest = &text[at..];
    Some(&rest[..rest.find('"')?])
}

fn answer(body: &Value) -> Value {
    let text = user_message(body);
    let schema = body["response_format"]["json_schema"]["name"]
        .as_str()
        .unwrap_or_default();
    if schema == "capability_specification" {
        let facts: Value = text
            .find('{')
            .zip(text.rfind('}'))
            .and_then(|(a, b)| serde_json::from_str(&text[a..=b]).ok())
            .unwrap_or(Value::Null);
        let terms: Vec<&str> = facts["terms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .take(2)
            .collect();
        let derived = match terms.as_slice() {
            [a, b, ..] => format!("{a}.{b}"),
            [a] => format!("agent.{a}"),
            [] => "agent.request".to_owned(),
        };
        let name = facts["capability_named"]
            .as_str()
            .map_or(derived, str::to_owned);
        let name = name.as_str();
        return json!({
            "name": name,
            "description": format!("Serves the requests the agent could not: {name}."),
            "input_schema_json": "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}",
            "output_schema_json": "{\"type\":\"object\",\"properties\":{\"result\":{\"type\":\"string\"}}}",
            "dependencies": [],
            "approach": "A pure function over its input; no network, no files.",
            "testing": ["the examples of the unmet requests as golden tests"],
            "security_considerations": ["bound the input size"]
        });
    }
    let package = field(&text, "package").unwrap_or("the candidate");
    let failing = text.contains("\"error_rate\"") && !text.contains("\"error_rate\": 0.0");
    json!({
        "decision": "approve",
        "confidence": 0.9,
        "reasoning": format!(
            "{package} keeps the incumbent's permissions and limits{}; staged rollout with automatic rollback bounds the risk.",
            if failing { ", and the incumbent has been failing" } else { "" }
        ),
        "risk_assessment": {
            "technical": "low", "security": "low", "performance": "medium", "operational": "low"
        },
        "recommendations": ["watch p95 latency and the error rate at the canary stage"]
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let server = FakeServer::start().await?;
    server.set_producer(answer);
    println!("{}", server.base_url());
    std::io::stdout().flush()?;
    std::future::pending::<()>().await;
    Ok(())
}
