//! The LLM-powered pattern analyser against an OpenAI-compatible server on
//! loopback: the latest code scan's patterns, with their code, go out; the
//! opportunities come back as patterns of the history; a made-up pattern id
//! is dropped; a failed call records nothing.

use std::sync::Arc;

use selfup_core::config::LlmConfig;
use selfup_core::pattern::{PatternKind, Severity};
use selfup_discovery::CODE_SOURCE;
use selfup_discovery::code::{NoProgress, ScanOptions, scan};
use selfup_llm::LlmClient;
use selfup_llm::fake::{Case, FakeServer};
use selfup_loop::analyser::{AnalysisError, LLM_SOURCE, analyse};
use selfup_store::{Home, Store};

const COPIED: &str = r#"
def load_orders(path, limit):
    rows = []
    with open(path) as handle:
        for line in handle:
            fields = line.strip().split(",")
            if len(fields) < 3:
                continue
            rows.append({"id": fields[0], "total": float(fields[2])})
            if len(rows) >= limit:
                break
    return rows
"#;

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    pattern_id: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).expect("code");
    std::fs::write(code.join("orders.py"), COPIED).expect("orders.py");
    std::fs::write(code.join("reports.py"), COPIED).expect("reports.py");
    let store = Arc::new(Store::open(&Home::new(dir.path().join("home"))).expect("store"));
    let report = scan(&[code], &ScanOptions::default(), &NoProgress).expect("scan");
    assert_eq!(report.patterns.len(), 1);
    store
        .record_patterns(CODE_SOURCE, 1_000, &report.summary(), &report.patterns)
        .expect("record");
    Setup {
        _dir: dir,
        store,
        pattern_id: report.patterns[0].id.clone(),
    }
}

fn client(server: &FakeServer, store: &Arc<Store>) -> LlmClient {
    let config = LlmConfig {
        base_url: server.base_url(),
        timeout_seconds: 2.0,
        max_retries: 0,
        ..LlmConfig::default()
    };
    LlmClient::with_api_key(
        &config,
        None,
        store.clone(),
        Arc::new(selfup_store::system_clock::SystemClock),
    )
    .expect("client")
}

#[tokio::test]
async fn opportunities_come_back_as_patterns_of_the_history() {
    let s = setup();
    let server = FakeServer::start().await.expect("server");
    server.push([Case::Valid(serde_json::json!({ "opportunities": [
        {
            "pattern_id": s.pattern_id, "title": "Extract load_csv_rows",
            "refactoring": "Move the loop into csv_rows(path, limit) in a shared module and call it from both files.",
            "kind": "extract_function", "benefit": "high", "effort": "low", "risk": "low"
        },
        {
            "pattern_id": "clone:made-up", "title": "x", "refactoring": "y",
            "kind": "other", "benefit": "high", "effort": "low", "risk": "low"
        }
    ]}))]);
    let client = client(&server, &s.store);
    let analysis = analyse(&s.store, &client, 5, 2_000)
        .await
        .expect("analysis");
    assert_eq!(analysis.analysed, vec![s.pattern_id.clone()]);
    assert_eq!(analysis.patterns.len(), 1, "the made-up id is dropped");
    let p = &analysis.patterns[0];
    assert_eq!(p.id, format!("llm:{}", s.pattern_id));
    assert_eq!(p.kind, PatternKind::CodeRepetition);
    assert_eq!(p.severity, Severity::High);
    assert!(
        p.description
            .starts_with("Extract load_csv_rows: Move the loop")
    );
    assert_eq!(p.locations.len(), 2);

    // What was sent: the pattern id and both copies' code.
    let received = server.received();
    let user = received[0].body["messages"][1]["content"]
        .as_str()
        .expect("user message")
        .to_owned();
    assert!(user.contains(&s.pattern_id), "{user}");
    assert_eq!(user.matches("rows.append").count(), 2, "{user}");

    let latest = s.store.latest_patterns().expect("history");
    let (_, recorded) = latest
        .iter()
        .find(|(scan, _)| scan.source == LLM_SOURCE)
        .expect("an llm scan");
    assert_eq!(recorded, &analysis.patterns);
}

#[tokio::test]
async fn a_failed_call_records_nothing_and_no_scan_is_an_error() {
    let s = setup();
    let server = FakeServer::start().await.expect("server");
    server.push([Case::Refusal]);
    let client = client(&server, &s.store);
    let err = analyse(&s.store, &client, 5, 2_000)
        .await
        .expect_err("refused");
    assert!(matches!(err, AnalysisError::Llm(_)), "{err}");
    let latest = s.store.latest_patterns().expect("history");
    assert!(latest.iter().all(|(scan, _)| scan.source != LLM_SOURCE));

    let empty_dir = tempfile::tempdir().expect("tempdir");
    let empty = Arc::new(Store::open(&Home::new(empty_dir.path())).expect("store"));
    let err = analyse(&empty, &client, 5, 2_000)
        .await
        .expect_err("no scan");
    assert!(matches!(err, AnalysisError::NoScan), "{err}");
}
