//! End-to-end: the dashboard in headless Chromium (Debian's package),
//! driven over the Chrome DevTools Protocol. `selfup run` serves a home
//! with example plugins and a catalog; a workload keeps calling; one
//! upgrade is approved over the API and rolls out, the other waits for a
//! human. The page must show the live rollout with its gates and charts,
//! and approving the waiting upgrade with the page's own button and dialog
//! (token and reason typed in) must change its state in the store.
//!
//! Screenshots go to `target/dashboard-screenshots/`; with
//! `SELFUP_UPDATE_SCREENSHOTS=1` also to `docs/dashboard-*.png`.

#![cfg(unix)]

#[path = "dashboard/cdp.rs"]
mod cdp;
mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{TestHome, plugins_dir};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

const CONFIG: &str = r#"
  cycle:
    interval_minutes: 1
  decision:
    engine: rule_based
    auto_approve_threshold: 0.5
    require_human_approval_above_risk: 0.1
  ab_testing:
    min_sample_size: 20
  rollout:
    evaluation_interval_ms: 200
    stages:
      - name: shadow
        traffic_percentage: 0
        duration_hours: 0.001
      - name: canary
        traffic_percentage: 50
        duration_hours: 2
      - name: full
        traffic_percentage: 100
        duration_hours: 2
  gateway:
    router_refresh_ms: 100
  catalog:
    directory: catalog
"#;

/// `selfup run`, killed when dropped.
struct Service {
    child: Child,
    url: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(home: &TestHome) -> Service {
    let mut child = home
        .command(&["run", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn selfup run");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("read");
    let url = first
        .strip_prefix("selfup gateway listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    std::thread::spawn(move || for _ in lines {});
    Service { child, url }
}

async fn get(url: &str) -> Value {
    let response = reqwest::get(url).await.expect("GET");
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.json().await.expect("json")
}

/// Upgrades by plugin name, from the API.
async fn upgrade_of(base: &str, plugin: &str) -> Option<Value> {
    get(&format!("{base}/v1/upgrades"))
        .await
        .as_array()
        .expect("a list")
        .iter()
        .find(|u| u["plugin"] == plugin)
        .cloned()
}

async fn wait_state(base: &str, plugin: &str, wanted: &str, stage: Option<u64>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(u) = upgrade_of(base, plugin).await
            && u["state"]["state"] == wanted
            && (stage.is_none() || u["state"]["stage"].as_u64() == stage)
        {
            return u;
        }
        assert!(
            Instant::now() < deadline,
            "{plugin} never reached {wanted} {stage:?}: {:?}",
            upgrade_of(base, plugin).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn screenshot_paths(name: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths = vec![root.join("target/dashboard-screenshots").join(name)];
    if std::env::var_os("SELFUP_UPDATE_SCREENSHOTS").is_some() {
        paths.push(root.join("docs").join(name));
    }
    paths
}

fn shoot(browser: &mut cdp::Browser, name: &str, full_page: bool, max_height: u32) {
    for path in screenshot_paths(name) {
        browser.screenshot(&path, full_page, max_height);
    }
}

fn state_in_store(home: &Path, id: i64) -> (String, Vec<(String, String, String)>) {
    let db = Connection::open_with_flags(home.join("selfup.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open db");
    let state: String = db
        .query_row("SELECT state FROM upgrades WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("upgrade row");
    let mut stmt = db
        .prepare(
            "SELECT to_state, actor, detail FROM upgrade_events WHERE upgrade_id = ?1 ORDER BY id",
        )
        .expect("events");
    let events = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    (state, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_live_rollout_and_approves_in_the_browser() {
    let chromium = cdp::chromium().expect(
        "Chromium is not installed: apt-get install --no-install-recommends chromium (or set SELFUP_CHROMIUM)",
    );
    let home = TestHome::new();
    home.install("text-summarize-1.0.0");
    home.install("json-query-1.0.0");
    std::fs::create_dir_all(home.path().join("catalog")).expect("catalog");
    for package in ["text-summarize-2.0.0", "json-query-1.1.0"] {
        std::fs::copy(
            plugins_dir().join(format!("{package}.zip")),
            home.path().join(format!("catalog/{package}.zip")),
        )
        .expect("copy");
    }
    home.config(CONFIG.trim_start_matches('\n'));
    let token = home.token();
    let service = start(&home);
    let base = service.url.clone();

    // The agent: summaries and JSON queries from many subjects, all along.
    let stop = Arc::new(AtomicBool::new(false));
    let agent = {
        let (stop, base) = (stop.clone(), base.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client");
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let (capability, input) = if i.is_multiple_of(2) {
                    (
                        "text.summarize",
                        json!({"text": "One thing. Another thing. A third thing.", "max_sentences": 1}),
                    )
                } else {
                    (
                        "json.query",
                        json!({"document": {"a": {"b": [1, 2, 3]}}, "path": "$.a.b"}),
                    )
                };
                let _ = client
                    .post(format!("{base}/v1/capabilities/{capability}/call"))
                    .json(&json!({"subject": format!("user-{}", i % 400), "input": input}))
                    .send()
                    .await;
                tokio::time::sleep(Duration::from_millis(8)).await;
            }
        })
    };

    // Both candidates wait for a human; text-summarize is approved over the
    // API and rolls out to its canary stage, json-query keeps waiting.
    wait_state(&base, "text-summarize", "awaiting_approval", None).await;
    let waiting = wait_state(&base, "json-query", "awaiting_approval", None).await;
    let waiting_id = waiting["id"].as_i64().expect("id");
    let summarize = upgrade_of(&base, "text-summarize").await.expect("upgrade");
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/upgrades/{}/approve", summarize["id"]))
        .bearer_auth(&token)
        .json(&json!({"reason": "approved for the browser test"}))
        .send()
        .await
        .expect("approve");
    assert_eq!(response.status().as_u16(), 200);
    wait_state(&base, "text-summarize", "rolling_out", Some(1)).await;
    // Some canary traffic for the charts and gates.
    tokio::time::sleep(Duration::from_secs(12)).await;

    // The browser work is blocking; it runs beside the agent.
    let url = format!("{base}/");
    let page_home = home.path().to_owned();
    let token_for_page = token.clone();
    let exceptions = tokio::task::spawn_blocking(move || {
        let mut browser = cdp::Browser::launch(&chromium);
        browser.navigate(&url);
        // The live rollout, its stage track, its gates and the charts.
        let long = Duration::from_secs(60);
        browser.wait_for(
            "document.querySelector('article[data-rollout=\"text.summarize\"] ol.stages li.current')",
            long,
        );
        browser.wait_for(
            "document.querySelector('article[data-rollout=\"text.summarize\"] table[data-table=\"gates\"] tbody tr')",
            long,
        );
        browser.wait_for(
            "document.querySelector('#slot-latency svg path.series')",
            long,
        );
        let current = browser.eval(
            "document.querySelector('article[data-rollout=\"text.summarize\"] ol.stages li.current .name').textContent",
        );
        assert_eq!(current, json!("canary"));
        let shown = browser.eval("document.getElementById('app').innerText");
        let shown = shown.as_str().unwrap_or_default();
        for text in [
            "text-summarize 1.0.0 → 2.0.0",
            "json-query 1.0.0 → 1.1.0",
            "Live split: the candidate serves 50% of subjects",
            "Audit trail",
            "Capabilities",
        ] {
            assert!(shown.contains(text), "the page lacks {text:?}:\n{shown}");
        }
        shoot(&mut browser, "dashboard-overview.png", true, 2400);
        browser.eval("document.getElementById('experiments').scrollIntoView()");
        browser.wait_for(
            "document.querySelector('#experiments table[data-table=\"arms\"]')",
            long,
        );
        shoot(&mut browser, "dashboard-experiment.png", false, 0);
        // The last five minutes, cut into five-second buckets.
        browser.eval(
            "(() => { const s = document.getElementById('window-select'); s.value = String(5 / 60);
               s.dispatchEvent(new Event('change')); })()",
        );
        browser.wait_for(
            "document.getElementById('window-select').value === String(5 / 60) && document.querySelectorAll('#slot-latency svg circle').length > 8",
            long,
        );
        browser.eval("document.getElementById('latency').scrollIntoView()");
        shoot(&mut browser, "dashboard-latency.png", false, 0);

        // Approve the waiting upgrade with the page's button and dialog.
        let button = format!("button[data-action=\"approve\"][data-upgrade=\"{waiting_id}\"]");
        browser.wait_for(&format!("document.querySelector('{button}')"), long);
        browser.click(&button);
        browser.wait_for("document.getElementById('decide').open", long);
        browser.type_into("#decide-token", &token_for_page);
        browser.type_into("#decide-reason", "looks safe; approved from the dashboard");
        shoot(&mut browser, "dashboard-approve.png", false, 0);
        browser.click("#decide-submit");
        browser.wait_for("!document.getElementById('decide').open", long);
        // The store changed, and the page shows it.
        let deadline = Instant::now() + Duration::from_secs(30);
        let (state, events) = loop {
            let (state, events) = state_in_store(&page_home, waiting_id);
            if state != "awaiting_approval" {
                break (state, events);
            }
            assert!(Instant::now() < deadline, "the approval never reached the store");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_ne!(state, "rejected");
        let approval = events
            .iter()
            .find(|(to, _, _)| to == "approved")
            .unwrap_or_else(|| panic!("no approval event: {events:?}"));
        assert!(approval.1.contains("dashboard"), "actor {}", approval.1);
        assert!(
            approval.2.contains("approved from the dashboard"),
            "detail {}",
            approval.2
        );
        browser.wait_for(
            &format!("!document.querySelector('#pending tr[data-upgrade-id=\"{waiting_id}\"]')"),
            long,
        );
        assert_eq!(
            browser.eval("sessionStorage.getItem('selfup.token')"),
            json!(token_for_page),
            "the token is kept for the tab"
        );
        let mut problems = browser.exceptions.clone();
        problems.extend(browser.console_errors.clone());
        problems
    })
    .await
    .expect("the browser task");
    stop.store(true, Ordering::Relaxed);
    let _ = agent.await;
    drop(service);
    assert!(
        exceptions.is_empty(),
        "the page reported errors: {exceptions:?}"
    );
}
