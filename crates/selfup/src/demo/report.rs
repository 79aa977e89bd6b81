//! The demo's HTML report: the timeline, each experiment's charts and the
//! final state, drawn by the dashboard's own code from data embedded in
//! one self-contained file.

use std::path::{Path, PathBuf};

use selfup_gateway::dashboard::overview::overview;
use selfup_gateway::dashboard::report::report_html;
use selfup_gateway::dashboard::series::series;
use selfup_loop::Orchestrator;
use selfup_loop::experiment::ExperimentReport;
use selfup_loop::orchestrator::Change;
use selfup_store::Store;

/// Buckets of the latency and error series over the whole run.
const SERIES_BUCKETS: u32 = 120;

/// What the report shows, gathered while the demo runs.
pub struct ReportInput<'a> {
    /// The store of the demo's home.
    pub store: &'a Store,
    /// The loop (for the gap analysis).
    pub orchestrator: &'a Orchestrator,
    /// When the run started and ended, on the virtual clock.
    pub started_ms: i64,
    /// When it ended.
    pub ended_ms: i64,
    /// What the loop did, in order.
    pub timeline: &'a [Change],
    /// Every upgrade's experiment.
    pub experiments: &'a [ExperimentReport],
    /// One line about the run (days, traffic, engine).
    pub subtitle: String,
}

/// Where the report goes: `--report PATH`, else `report.html` in a kept
/// home, else the system's temporary directory (the home is removed).
pub fn report_path(report: Option<&Path>, keep_home: Option<&Path>) -> PathBuf {
    match (report, keep_home) {
        (Some(path), _) => path.to_owned(),
        (None, Some(home)) => home.join("report.html"),
        (None, None) => std::env::temp_dir().join("selfup-demo-report.html"),
    }
}

/// Writes the report to `path`.
pub async fn write(input: ReportInput<'_>, path: &Path) -> anyhow::Result<()> {
    let mut state = overview(input.store, input.ended_ms)?;
    // The whole run, not only its last day.
    state.telemetry = input.store.telemetry_summary(0)?;
    let calls = series(
        input.store,
        input.started_ms,
        input.ended_ms + 1,
        SERIES_BUCKETS,
    )?;
    let gaps = match input.orchestrator.load_catalog().await {
        Ok(catalog) => crate::dashboard::gaps(input.orchestrator, &catalog).ok(),
        Err(_) => None,
    };
    let data = serde_json::json!({
        "title": "selfup demo report",
        "subtitle": input.subtitle,
        "started_ms": input.started_ms,
        "timeline": input.timeline,
        "experiments": input.experiments,
        "overview": state,
        "series": calls,
        "gaps": gaps,
    });
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, report_html("selfup demo report", &data))?;
    Ok(())
}
