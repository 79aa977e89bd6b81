//! What the simulated agent asks for: summaries of varied texts, queries
//! over JSON documents, text statistics, and now and then something no
//! plugin can do.

use serde_json::{Value, json};

use super::Rng;

/// One HTTP request of the workload.
pub struct Request {
    /// The path under the gateway.
    pub path: String,
    /// The JSON body.
    pub body: Value,
    /// Whether this reports an unmet request rather than calling.
    pub unmet: bool,
}

const SENTENCES: [&str; 16] = [
    "The quarterly report shows revenue grew by 12 percent.",
    "Most of the growth came from the new subscription tier.",
    "Customer churn fell to its lowest level in three years.",
    "The engineering team shipped the offline mode in March.",
    "Support tickets about sync errors dropped sharply after the fix.",
    "Marketing spend stayed flat while signups doubled.",
    "The board approved hiring for the data platform team.",
    "Latency of the search service improved after the cache rewrite.",
    "Two enterprise customers asked for single sign-on.",
    "The mobile app rating rose from 3.9 to 4.5 stars.",
    "Infrastructure costs rose because of the new region.",
    "The security audit found no critical issues.",
    "A pilot with three hospitals starts next month.",
    "The team plans to retire the legacy billing system.",
    "Dr. Smith will present the results at the conference.",
    "Weather delayed the hardware shipment by a week.",
];

const UNMET: [(&str, &str); 4] = [
    ("translate", "Translate this paragraph into French"),
    ("translate", "Can you translate the summary to German?"),
    ("currency.convert", "Convert 120 USD to EUR at today's rate"),
    (
        "calendar.schedule",
        "Schedule a meeting with the design team on Friday",
    ),
];

fn text(rng: &mut Rng) -> String {
    let n = 3 + rng.below(8);
    (0..n)
        .map(|_| *rng.pick(&SENTENCES))
        .collect::<Vec<_>>()
        .join(" ")
}

fn document(rng: &mut Rng) -> (Value, String) {
    let id = rng.below(10_000);
    let doc = json!({
        "order": {
            "id": id,
            "customer": {"name": format!("customer-{}", rng.below(300)), "tier": *rng.pick(&["free", "pro", "team"])},
            "items": (0..1 + rng.below(4)).map(|i| json!({"sku": format!("SKU-{i}"), "qty": 1 + rng.below(5)})).collect::<Vec<_>>(),
            "headers": {"content-type": "application/json", "x-request-id": format!("req-{id}")},
        }
    });
    let path = rng
        .pick(&[
            "$.order.id",
            "$.order.customer.name",
            "$.order.customer.tier",
            "$.order.items[0].sku",
            "$.order.items[-1].qty",
            "$.order.headers[\"content-type\"]",
            "$.order.headers.x-request-id",
        ])
        .to_string();
    (doc, path)
}

/// The next request of the workload.
pub fn next_request(rng: &mut Rng) -> Request {
    let subject = format!("user-{}", rng.below(300));
    let roll = rng.below(100);
    let call = |capability: &str, input: Value| Request {
        path: format!("/v1/capabilities/{capability}/call"),
        body: json!({ "subject": subject, "input": input }),
        unmet: false,
    };
    match roll {
        0..=44 => call(
            "text.summarize",
            json!({ "text": text(rng), "max_sentences": 2 }),
        ),
        45..=79 => {
            let (document, path) = document(rng);
            call("json.query", json!({ "document": document, "path": path }))
        }
        80..=96 => call("text.stats", json!({ "text": text(rng) })),
        _ => {
            let (intent, text) = *rng.pick(&UNMET);
            Request {
                path: "/v1/events".into(),
                body: json!({ "type": "unmet_request", "intent": intent, "text": text, "subject": subject }),
                unmet: true,
            }
        }
    }
}
