//! `selfup telemetry summary`.

use selfup_core::clock::Clock;
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::TelemetrySummary;

use crate::context::Context;
use crate::table::Table;

/// Prints calls, error rates and latency percentiles per capability version.
pub fn summary(ctx: &Context, json: bool, since_minutes: Option<u64>) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let since_ms = since_minutes.map_or(0, |m| SystemClock.now_ms() - (m as i64) * 60_000);
    let rows = store.telemetry_summary(since_ms)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render(&rows));
    }
    Ok(())
}

/// The summary as an aligned table.
pub fn render(rows: &[TelemetrySummary]) -> String {
    if rows.is_empty() {
        return "no calls recorded yet\n".to_owned();
    }
    let mut table = Table::new(&[
        "CAPABILITY",
        "PLUGIN",
        "VERSION",
        ">CALLS",
        ">ERRORS",
        ">ERROR%",
        ">P50 ms",
        ">P95 ms",
        ">P99 ms",
    ]);
    for r in rows {
        table.row(vec![
            r.capability.clone(),
            if r.plugin.is_empty() {
                "-".into()
            } else {
                r.plugin.clone()
            },
            if r.version.is_empty() {
                "-".into()
            } else {
                r.version.clone()
            },
            r.calls.to_string(),
            r.errors.to_string(),
            format!("{:.1}", r.error_rate * 100.0),
            format!("{:.3}", r.p50_ms),
            format!("{:.3}", r.p95_ms),
            format!("{:.3}", r.p99_ms),
        ]);
    }
    table.render()
}
