//! What the simulated agent does in one virtual hour: summaries, JSON
//! queries, text statistics, unit conversions (or, while nobody serves
//! them, reports of requests it could not serve).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

/// Concurrent agent sessions.
pub const SESSIONS: usize = 8;

/// What the agent does this hour.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// The virtual hour (seeds the generator).
    pub hour: u32,
    /// Whether it also reads request ids from documents (the kind of query
    /// that exposes json-query 1.1.0's regression).
    pub request_ids: bool,
    /// Whether `unit.convert` is served (else the agent reports the request as unmet).
    pub unit_convert_served: bool,
}

/// Outcomes of the hour.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Calls answered.
    pub answered: usize,
    /// Calls that failed.
    pub failed: usize,
    /// Unmet requests reported.
    pub unmet: usize,
}

impl Tally {
    /// Adds another hour's tally.
    pub fn add(&mut self, other: Tally) {
        self.answered += other.answered;
        self.failed += other.failed;
        self.unmet += other.unmet;
    }
}

/// Drives `calls` requests through the gateway at `base`.
pub async fn drive_hour(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    calls: usize,
    phase: Phase,
) -> anyhow::Result<Tally> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut sessions = Vec::new();
    for session in 0..SESSIONS {
        let (client, next, base, token) = (
            client.clone(),
            next.clone(),
            base.to_owned(),
            token.to_owned(),
        );
        sessions.push(tokio::spawn(async move {
            let mut rng = Rng::new(u64::from(phase.hour) * 131 + session as u64);
            let mut tally = Tally::default();
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let request = next_request(&mut rng, phase);
                let response = client
                    .post(format!("{base}{}", request.path))
                    .bearer_auth(&token)
                    .json(&request.body)
                    .send()
                    .await?;
                match (request.unmet, response.status().is_success()) {
                    (true, true) => tally.unmet += 1,
                    (false, true) => tally.answered += 1,
                    (_, false) => tally.failed += 1,
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut total = Tally::default();
    for session in sessions {
        total.add(session.await??);
    }
    Ok(total)
}

/// A small deterministic generator (xorshift64*), so every demo run
/// drives the same workload.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

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

const CONVERSIONS: [&str; 5] = [
    "convert 5 miles to km",
    "how many ounces is 250 grams",
    "72 °F to celsius",
    "120 USD in EUR",
    "3.5 kg to lb",
];

const OTHER_UNMET: [(&str, &str); 2] = [
    ("translate", "Translate this paragraph into French"),
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

fn document(rng: &mut Rng, request_ids: bool) -> (Value, &'static str) {
    let id = rng.below(10_000);
    let doc = json!({
        "order": {
            "id": id,
            "customer": {"name": format!("customer-{}", rng.below(300)), "tier": *rng.pick(&["free", "pro", "team"])},
            "items": (0..1 + rng.below(4)).map(|i| json!({"sku": format!("SKU-{i}"), "qty": 1 + rng.below(5)})).collect::<Vec<_>>(),
            "headers": {"content-type": "application/json", "x-request-id": format!("req-{id}")},
        }
    });
    let mut paths = vec![
        "$.order.id",
        "$.order.customer.name",
        "$.order.customer.tier",
        "$.order.items[0].sku",
        "$.order.items[-1].qty",
        "$.order.headers[\"content-type\"]",
    ];
    if request_ids {
        paths.push("$.order.headers.x-request-id");
    }
    let path = *rng.pick(&paths);
    (doc, path)
}

/// The next request of the workload.
pub fn next_request(rng: &mut Rng, phase: Phase) -> Request {
    let subject = format!("user-{}", rng.below(300));
    let roll = rng.below(100);
    let call = |capability: &str, input: Value| Request {
        path: format!("/v1/capabilities/{capability}/call"),
        body: json!({ "subject": subject, "input": input }),
        unmet: false,
    };
    match roll {
        0..=39 => call(
            "text.summarize",
            json!({ "text": text(rng), "max_sentences": 2 }),
        ),
        40..=74 => {
            let (document, path) = document(rng, phase.request_ids);
            call("json.query", json!({ "document": document, "path": path }))
        }
        75..=86 => call("text.stats", json!({ "text": text(rng) })),
        87..=96 => {
            let text = *rng.pick(&CONVERSIONS);
            if phase.unit_convert_served {
                call("unit.convert", json!({ "text": text }))
            } else {
                Request {
                    path: "/v1/events".into(),
                    body: json!({ "type": "unmet_request", "intent": "unit.convert", "text": text, "subject": subject }),
                    unmet: true,
                }
            }
        }
        _ => {
            let (intent, text) = *rng.pick(&OTHER_UNMET);
            Request {
                path: "/v1/events".into(),
                body: json!({ "type": "unmet_request", "intent": intent, "text": text, "subject": subject }),
                unmet: true,
            }
        }
    }
}
