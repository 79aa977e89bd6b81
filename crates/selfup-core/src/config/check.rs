//! The rules a well-typed configuration must still follow: ranges, stage order, unique
//! names, keys required by other keys. Pure: takes a [`Config`], returns problems by path.
//!
//! Choices made here (also in the messages):
//! - counts are at least 1, except `logging.backup_count` (0 keeps no rotated files);
//!   to stop upgrades, set `cycle.enabled: false` rather than a count of 0;
//! - rollout traffic rises strictly from stage to stage, except that any number of 0%
//!   (shadow) stages may open the rollout; the last stage carries 100;
//! - a stage has at most one gate per metric; a channel lists each event once.

use std::collections::HashMap;
use std::fmt::Display;

use super::error::{Bound, ConfigErrorKind};
use super::model::*;
use super::path::KeyPath;

/// One broken rule, at the path of the value that breaks it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// The value at fault (list indices count the items of the `Config`).
    pub(crate) path: KeyPath,
    /// What is wrong.
    pub(crate) kind: ConfigErrorKind,
    /// For a rule between several values (stage order, unique names, ...): the list or
    /// section holding all of them. If the file had a value there that could not be read,
    /// the rule is not about what the user wrote and is left out.
    pub(crate) relates: Option<KeyPath>,
}

/// Every broken rule of `config`, in no particular order.
pub(crate) fn check(config: &Config) -> Vec<Problem> {
    let mut c = Checker::default();
    let top = KeyPath::root();
    check_loop(
        &mut c,
        &top.key("self_upgrading_loop"),
        &config.self_upgrading_loop,
    );
    check_windows(&mut c, &top.key("windows"), &config.windows);
    c.problems
}

fn check_loop(c: &mut Checker, p: &KeyPath, l: &LoopConfig) {
    c.non_empty(&p.key("name"), &l.name, "give the installation a name");

    let cycle = p.key("cycle");
    let cy = &l.cycle;
    c.count(
        &cycle.key("interval_minutes"),
        cy.interval_minutes,
        1,
        "minutes between two cycles",
    );
    c.count(
        &cycle.key("max_concurrent_upgrades"),
        cy.max_concurrent_upgrades,
        1,
        "upgrades rolling out at once; to stop upgrades set cycle.enabled: false",
    );
    c.count(
        &cycle.key("max_upgrades_per_day"),
        cy.max_upgrades_per_day,
        1,
        "upgrades started per day; to stop upgrades set cycle.enabled: false",
    );

    let pr = p.key("discovery").key("pattern_recognition");
    let prc = &l.discovery.pattern_recognition;
    c.count(
        &pr.key("min_pattern_frequency"),
        prc.min_pattern_frequency,
        1,
        "occurrences before something counts as a pattern",
    );
    c.no_empty_items(
        &pr.key("code_paths"),
        &prc.code_paths,
        "each entry names a directory",
    );
    c.no_empty_items(
        &pr.key("exclude_patterns"),
        &prc.exclude_patterns,
        "each entry is a glob pattern",
    );
    c.range(
        &pr.key("similarity_threshold"),
        prc.similarity_threshold,
        Bound::Between(0.5, 1.0),
        "a similarity; 1 finds only exact and renamed clones",
    );
    c.count(
        &pr.key("min_clone_tokens"),
        prc.min_clone_tokens,
        5,
        "tokens in the smallest fragment reported as a clone",
    );
    let ga = p.key("discovery").key("gap_analysis");
    c.range(
        &ga.key("request_similarity"),
        l.discovery.gap_analysis.request_similarity,
        Bound::AboveAndAtMost(0.0, 1.0),
        "a cosine similarity; 1 groups only requests with the same terms",
    );
    let ra = p.key("discovery").key("runtime_analysis");
    let rac = &l.discovery.runtime_analysis;
    c.count(
        &ra.key("baseline_window_hours"),
        rac.baseline_window_hours,
        1,
        "hours of baseline behaviour",
    );
    c.count(
        &ra.key("recent_window_hours"),
        rac.recent_window_hours,
        1,
        "hours of recent behaviour compared with the baseline",
    );
    c.range(
        &ra.key("significance"),
        rac.significance,
        Bound::StrictlyBetween(0.0, 0.5),
        "a one-sided significance level, such as 0.01",
    );
    c.count(
        &ra.key("min_calls"),
        rac.min_calls,
        2,
        "calls per window and version before anything is judged",
    );
    c.count(
        &ra.key("sequence_gap_seconds"),
        rac.sequence_gap_seconds,
        1,
        "seconds between two calls of one subject that still count as a sequence",
    );
    for (key, value) in [
        ("min_latency_increase_ms", rac.min_latency_increase_ms),
        ("min_cpu_increase_ms", rac.min_cpu_increase_ms),
        ("min_memory_increase_mb", rac.min_memory_increase_mb),
    ] {
        c.range(
            &ra.key(key),
            value,
            Bound::AtLeast(0.0),
            "a floor below which a change does not matter; 0 for none",
        );
    }

    let d = p.key("decision");
    let dc = &l.decision;
    c.range(
        &d.key("auto_approve_threshold"),
        dc.auto_approve_threshold,
        Bound::Between(0.0, 1.0),
        "a confidence; 1 approves nothing without a human",
    );
    c.range(
        &d.key("require_human_approval_above_risk"),
        dc.require_human_approval_above_risk,
        Bound::Between(0.0, 1.0),
        "a risk score",
    );
    let llm = d.key("llm");
    c.non_empty(
        &llm.key("model"),
        &dc.llm.model,
        "name the model sent to the API",
    );
    c.range(
        &llm.key("temperature"),
        dc.llm.temperature,
        Bound::Between(0.0, 2.0),
        "the LLM's sampling temperature",
    );
    if !is_http_url(&dc.llm.base_url) {
        c.rule(
            &llm.key("base_url"),
            format!("{:?}", dc.llm.base_url),
            "not an http:// or https:// URL",
            "the API's base URL, e.g. https://api.openai.com/v1 or http://localhost:11434/v1",
        );
    }
    c.range(
        &llm.key("max_tokens"),
        f64::from(dc.llm.max_tokens),
        Bound::AtLeast(1.0),
        "most tokens of one answer",
    );
    c.range(
        &llm.key("timeout_seconds"),
        dc.llm.timeout_seconds,
        Bound::AboveAndAtMost(0.0, 3600.0),
        "seconds one request may take",
    );
    c.range(
        &llm.key("max_retries"),
        f64::from(dc.llm.max_retries),
        Bound::Between(0.0, 10.0),
        "retries after a retryable failure",
    );
    for (key, value) in [
        ("daily_cost_budget_usd", dc.llm.daily_cost_budget_usd),
        (
            "input_cost_per_million_tokens",
            dc.llm.input_cost_per_million_tokens,
        ),
        (
            "output_cost_per_million_tokens",
            dc.llm.output_cost_per_million_tokens,
        ),
    ] {
        c.range(
            &llm.key(key),
            value,
            Bound::AtLeast(0.0),
            "US dollars; 0 for no limit or no price",
        );
    }
    c.range(
        &d.key("approval_expiry_hours"),
        f64::from(dc.approval_expiry_hours),
        Bound::AtLeast(1.0),
        "hours a proposal waits for a human before it is deferred",
    );

    let ab = p.key("ab_testing");
    let abc = &l.ab_testing;
    c.range(
        &ab.key("default_significance_level"),
        abc.default_significance_level,
        Bound::AboveAndAtMost(0.0, 0.5),
        "the false-positive rate alpha of an A/B test",
    );
    c.range(
        &ab.key("default_power"),
        abc.default_power,
        Bound::StrictlyBetween(0.0, 1.0),
        "the chance that an A/B test detects a real effect",
    );
    c.count(
        &ab.key("max_experiment_duration_days"),
        abc.max_experiment_duration_days,
        1,
        "days an experiment may run",
    );
    c.count(
        &ab.key("min_sample_size"),
        abc.min_sample_size,
        2,
        "calls per arm before a verdict",
    );

    check_rollout(c, &p.key("rollout"), &l.rollout);

    let perf = p.key("performance");
    let pc = &l.performance;
    c.range(
        &perf.key("max_latency_regression_percent"),
        pc.max_latency_regression_percent,
        Bound::Between(0.0, 100.0),
        "a percentage of the old latency",
    );
    c.range(
        &perf.key("max_error_rate_regression_multiplier"),
        pc.max_error_rate_regression_multiplier,
        Bound::AtLeast(1.0),
        "new error rate / old error rate; 1 allows no regression",
    );
    c.range(
        &perf.key("max_memory_increase_percent"),
        pc.max_memory_increase_percent,
        Bound::Between(0.0, 100.0),
        "a percentage of the old memory use",
    );
    c.range(
        &perf.key("max_cpu_increase_percent"),
        pc.max_cpu_increase_percent,
        Bound::Between(0.0, 100.0),
        "a percentage of the old CPU use",
    );
    c.range(
        &perf.key("min_latency_regression_ms"),
        pc.min_latency_regression_ms,
        Bound::AtLeast(0.0),
        "milliseconds the median latency must rise by to count as a regression",
    );
    c.range(
        &perf.key("min_cpu_regression_ms"),
        pc.min_cpu_regression_ms,
        Bound::AtLeast(0.0),
        "milliseconds the median busy CPU time must rise by to count as a regression",
    );
    c.count(
        &perf.key("replay_samples"),
        pc.replay_samples,
        1,
        "recorded inputs replayed per validation",
    );
    c.count(
        &perf.key("replay_rounds"),
        pc.replay_rounds,
        1,
        "times each input is replayed on each side",
    );

    let rb = p.key("rollback");
    let rbc = &l.rollback;
    c.count(
        &rb.key("snapshot_retention_days"),
        rbc.snapshot_retention_days,
        1,
        "days a snapshot is kept; a rollback needs its snapshot",
    );
    let strategies = rb.key("rollback_strategies");
    if rbc.rollback_strategies.is_empty() {
        c.rule_across(
            &strategies,
            &strategies,
            "[]",
            "no rollback strategy",
            "list at least one of: full, partial, compensating",
        );
    }
    c.unique(
        &strategies,
        &rbc.rollback_strategies,
        snake,
        "each strategy once",
    );

    let sec = p.key("security");
    c.count(
        &sec.key("max_scan_time_seconds"),
        l.security.max_scan_time_seconds,
        1,
        "seconds a static scan may take",
    );
    c.no_empty_items(
        &sec.key("forbidden_imports"),
        &l.security.forbidden_imports,
        "each entry names an import or a call",
    );
    for (i, key) in l.security.trusted_keys.iter().enumerate() {
        let looks_right = key.len() == 56
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
        if !looks_right {
            c.rule(
                &sec.key("trusted_keys").index(i),
                format!("{key:?}"),
                "it is not a minisign public key",
                "the base64 line of a .pub file written by `selfup keygen` or `minisign -G` (56 characters, starting RW)",
            );
        }
    }

    let log = p.key("logging");
    c.non_empty(&log.key("file"), &l.logging.file, "name the log file");
    c.count(
        &log.key("max_size_mb"),
        l.logging.max_size_mb,
        1,
        "megabytes before the log rotates",
    );

    check_notifications(c, &p.key("notifications"), &l.notifications);

    let gw = p.key("gateway");
    c.count(
        &gw.key("router_refresh_ms"),
        l.gateway.router_refresh_ms,
        1,
        "milliseconds between two reloads of the routing table",
    );
    if l.gateway.rate_limit_per_second > 0
        && l.gateway.rate_limit_burst < l.gateway.rate_limit_per_second
    {
        c.rule(
            &gw.key("rate_limit_burst"),
            l.gateway.rate_limit_burst.to_string(),
            format!(
                "it is below rate_limit_per_second {}",
                l.gateway.rate_limit_per_second
            ),
            "a burst of at least one second's worth of requests",
        );
    }

    for (i, name) in l.gateway.mcp_allowed_hosts.iter().enumerate() {
        if name.trim().is_empty() || name.contains(['/', ' ', '@']) {
            c.rule(
                &gw.key("mcp_allowed_hosts").index(i),
                format!("{name:?}"),
                format!("{name:?} is not a host name"),
                "give a host name or address, optionally with :port (no scheme or path), e.g. \"selfup.internal:8787\"",
            );
        }
    }

    let host = p.key("host");
    c.count(
        &host.key("max_instances_per_plugin"),
        l.host.max_instances_per_plugin,
        1,
        "instances of one plugin kept at once",
    );
    c.count(
        &host.key("epoch_tick_ms"),
        l.host.epoch_tick_ms,
        1,
        "milliseconds between two epoch ticks",
    );
    c.range(
        &host.key("max_compile_seconds"),
        l.host.max_compile_seconds,
        Bound::GreaterThan(0.0),
        "seconds a plugin's code may take to compile at install",
    );

    let tel = p.key("telemetry");
    let t = &l.telemetry;
    c.count(
        &tel.key("queue_capacity"),
        t.queue_capacity,
        1,
        "records the queue holds",
    );
    c.count(
        &tel.key("max_batch"),
        t.max_batch,
        1,
        "records written in one transaction",
    );
    c.range(
        &tel.key("input_sample_rate"),
        t.input_sample_rate,
        Bound::Between(0.0, 1.0),
        "the share of calls whose input is kept for replay",
    );
    c.count(
        &tel.key("input_samples_per_capability"),
        t.input_samples_per_capability,
        1,
        "inputs kept per capability",
    );
    let cat = p.key("catalog");
    let url = &l.catalog.index_url;
    if !url.is_empty() && !url.starts_with("http://") && !url.starts_with("https://") {
        c.rule(
            &cat.key("index_url"),
            format!("{:?}", l.catalog.index_url),
            "it is not an http:// or https:// URL",
            "the address of a catalog index, or empty for none",
        );
    }
    if t.queue_capacity >= 1 && t.max_batch > t.queue_capacity {
        c.rule_across(
            &tel,
            &tel.key("max_batch"),
            t.max_batch,
            format!(
                "{} is larger than queue_capacity {}",
                t.max_batch, t.queue_capacity
            ),
            "a batch cannot hold more records than the queue",
        );
    }
}

fn check_rollout(c: &mut Checker, p: &KeyPath, r: &RolloutConfig) {
    c.count(
        &p.key("evaluation_interval_ms"),
        r.evaluation_interval_ms,
        1,
        "milliseconds between two evaluations of the gates",
    );
    let stages = p.key("stages");
    if r.stages.is_empty() {
        c.rule_across(
            &stages,
            &stages,
            "[]",
            "no stages",
            "a rollout needs at least one stage, and the last carries 100",
        );
        return;
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut all_in_range = true;
    for (i, stage) in r.stages.iter().enumerate() {
        let sp = stages.index(i);
        if stage.name.trim().is_empty() {
            c.rule(
                &sp.key("name"),
                format!("{:?}", stage.name),
                "the stage name is empty",
                "each stage needs a unique, non-empty name",
            );
        } else if let Some(first) = names.get(stage.name.as_str()) {
            c.rule_across(
                &stages,
                &sp.key("name"),
                format!("{:?}", stage.name),
                format!("{:?} is also the name of stages[{first}]", stage.name),
                "stage names must be unique",
            );
        } else {
            names.insert(&stage.name, i);
        }
        all_in_range &= c.range(
            &sp.key("traffic_percentage"),
            stage.traffic_percentage,
            Bound::Between(0.0, 100.0),
            "a percentage of live traffic",
        );
        c.range(
            &sp.key("duration_hours"),
            stage.duration_hours,
            Bound::GreaterThan(0.0),
            "hours the stage lasts",
        );
        check_gates(c, &sp.key("gates"), &stage.gates);
    }
    if !all_in_range {
        return;
    }
    let mut last_reported = false;
    for (i, pair) in r.stages.windows(2).enumerate() {
        let (before, now) = (pair[0].traffic_percentage, pair[1].traffic_percentage);
        let shadow = before == 0.0 && now == 0.0;
        if now <= before && !shadow {
            c.rule_across(
                &stages,
                &stages.index(i + 1).key("traffic_percentage"),
                now,
                format!("{now} is not above the {before} of the stage before"),
                "traffic must rise from stage to stage; only 0% (shadow) stages at the start \
                 may repeat",
            );
            last_reported = i + 2 == r.stages.len();
        }
    }
    let last = r.stages.len() - 1;
    let traffic = r.stages[last].traffic_percentage;
    if traffic != 100.0 && !last_reported {
        c.rule_across(
            &stages,
            &stages.index(last).key("traffic_percentage"),
            traffic,
            format!("the last stage carries {traffic}"),
            "the last stage must carry 100 (all traffic on the new version)",
        );
    }
}

fn check_gates(c: &mut Checker, p: &KeyPath, gates: &[Gate]) {
    for (i, gate) in gates.iter().enumerate() {
        let (bound, meaning) = match gate.metric {
            GateMetric::ErrorRate => (
                Bound::Between(0.0, 1.0),
                "the largest error rate, a fraction of calls",
            ),
            GateMetric::LatencyP99 | GateMetric::LatencyP95 | GateMetric::LatencyP50 => (
                Bound::GreaterThan(0.0),
                "the largest latency, in milliseconds",
            ),
        };
        c.range(&p.index(i).key("threshold"), gate.threshold, bound, meaning);
    }
    let metrics: Vec<GateMetric> = gates.iter().map(|g| g.metric).collect();
    c.unique_at(
        p,
        "metric",
        &metrics,
        snake,
        "a stage has one gate per metric",
    );
}

fn check_notifications(c: &mut Checker, p: &KeyPath, n: &NotificationsConfig) {
    c.range(
        &p.key("max_attempts"),
        f64::from(n.max_attempts),
        Bound::Between(1.0, 100.0),
        "attempts per delivery",
    );
    c.range(
        &p.key("timeout_seconds"),
        n.timeout_seconds,
        Bound::AboveAndAtMost(0.0, 600.0),
        "seconds one delivery attempt may take",
    );
    let channels = p.key("channels");
    for (i, channel) in n.channels.iter().enumerate() {
        let cp = channels.index(i);
        match (channel.kind, &channel.url) {
            (ChannelKind::Webhook, None) => c.push(
                &cp,
                ConfigErrorKind::MissingKey {
                    key: "url".to_owned(),
                    needed_by: "a webhook channel needs a url starting with http:// or https://"
                        .to_owned(),
                },
            ),
            (ChannelKind::Webhook, Some(url)) if !is_http_url(url) => c.rule(
                &cp.key("url"),
                format!("{url:?}"),
                format!("{url:?} is not an http:// or https:// URL"),
                "a webhook url starts with http:// or https:// and names a host",
            ),
            (ChannelKind::Email, Some(url)) => c.rule(
                &cp.key("url"),
                format!("{url:?}"),
                "an email channel has no url",
                "remove the url, or make the channel type: webhook",
            ),
            _ => {}
        }
        let email_only = [
            ("smtp", channel.smtp.is_some()),
            ("from", channel.from.is_some()),
            ("to", !channel.to.is_empty()),
        ];
        for (key, present) in email_only {
            if present && channel.kind == ChannelKind::Webhook {
                c.rule(
                    &cp.key(key),
                    key,
                    format!("a webhook channel has no {key}"),
                    "remove it, or make the channel type: email",
                );
            }
        }
        if channel.secret_env.is_some() && channel.kind == ChannelKind::Email {
            c.rule(
                &cp.key("secret_env"),
                "secret_env",
                "an email channel has no secret_env",
                "remove it, or make the channel type: webhook",
            );
        }
        for (j, address) in channel.to.iter().chain(channel.from.iter()).enumerate() {
            if !is_mail_address(address) {
                let key = if j < channel.to.len() {
                    cp.key("to").index(j)
                } else {
                    cp.key("from")
                };
                c.rule(
                    &key,
                    format!("{address:?}"),
                    format!("{address:?} is not an email address"),
                    "an address like ops@example.com",
                );
            }
        }
        let events = cp.key("on_events");
        if channel.on_events.is_empty() {
            c.rule_across(
                &events,
                &events,
                "[]",
                "the channel listens to no event",
                "list at least one of: upgrade_approved, upgrade_deployed, upgrade_rolled_back, \
                 upgrade_failed, approval_requested",
            );
        }
        c.unique(&events, &channel.on_events, snake, "each event once");
    }
}

fn is_mail_address(address: &str) -> bool {
    let address = address
        .rsplit_once('<')
        .map_or(address, |(_, rest)| rest.trim_end_matches('>'));
    address.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty()
            && !host.is_empty()
            && !address.contains(char::is_whitespace)
            && !host.contains('@')
    })
}

fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !host.contains(char::is_whitespace)
    })
}

fn check_windows(c: &mut Checker, p: &KeyPath, w: &WindowsConfig) {
    let svc = p.key("service");
    let name = &w.service.name;
    if name.is_empty() || name.contains(['/', '\\']) || name.chars().count() > 256 {
        c.rule(
            &svc.key("name"),
            format!("{name:?}"),
            format!("{name:?} cannot be a Windows service name"),
            "a service name is 1 to 256 characters without / or \\",
        );
    }
    c.non_empty(
        &svc.key("display_name"),
        &w.service.display_name,
        "the services console shows this name",
    );
    let paths = p.key("paths");
    let wp = &w.paths;
    for (key, value) in [
        ("base", &wp.base),
        ("plugins", &wp.plugins),
        ("registry", &wp.registry),
        ("snapshots", &wp.snapshots),
        ("logs", &wp.logs),
    ] {
        c.non_empty(&paths.key(key), value, "name a directory");
    }
}

/// How a fixed word is written in the file.
fn snake<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Collects problems.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(&mut self, path: &KeyPath, kind: ConfigErrorKind) {
        self.problems.push(Problem {
            path: path.clone(),
            kind,
            relates: None,
        });
    }

    /// Like [`Checker::rule`], for a rule between the values inside `relates`.
    fn rule_across(
        &mut self,
        relates: &KeyPath,
        path: &KeyPath,
        value: impl Display,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) {
        self.problems.push(Problem {
            path: path.clone(),
            kind: ConfigErrorKind::Rule {
                value: value.to_string(),
                message: message.into(),
                allowed: allowed.into(),
            },
            relates: Some(relates.clone()),
        });
    }

    fn rule(
        &mut self,
        path: &KeyPath,
        value: impl Display,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) {
        self.push(
            path,
            ConfigErrorKind::Rule {
                value: value.to_string(),
                message: message.into(),
                allowed: allowed.into(),
            },
        );
    }

    /// Reports `value` if it lies outside `bound`; returns whether it lies inside.
    fn range(&mut self, path: &KeyPath, value: f64, bound: Bound, meaning: &str) -> bool {
        let inside = bound.contains(value);
        if !inside {
            self.push(
                path,
                ConfigErrorKind::OutOfRange {
                    value: value.to_string(),
                    bound,
                    meaning: meaning.to_owned(),
                },
            );
        }
        inside
    }

    fn count(&mut self, path: &KeyPath, value: impl Into<u64>, min: u64, meaning: &str) {
        let value = value.into();
        if value < min {
            self.push(
                path,
                ConfigErrorKind::OutOfRange {
                    value: value.to_string(),
                    bound: Bound::AtLeast(min as f64),
                    meaning: meaning.to_owned(),
                },
            );
        }
    }

    fn non_empty(&mut self, path: &KeyPath, value: &str, why: &str) {
        if value.trim().is_empty() {
            self.rule(path, format!("{value:?}"), "the value is empty", why);
        }
    }

    fn no_empty_items(&mut self, path: &KeyPath, items: &[String], why: &str) {
        for (i, item) in items.iter().enumerate() {
            self.non_empty(&path.index(i), item, why);
        }
    }

    /// Reports every item of the list at `path` equal to an earlier one.
    fn unique<T: PartialEq>(
        &mut self,
        path: &KeyPath,
        items: &[T],
        show: impl Fn(&T) -> String,
        rule: &str,
    ) {
        for (i, item) in items.iter().enumerate() {
            if let Some(first) = items[..i].iter().position(|x| x == item) {
                let shown = show(item);
                self.rule_across(
                    path,
                    &path.index(i),
                    &shown,
                    format!(
                        "{shown} is listed twice (first at {}[{first}])",
                        path.last_key().unwrap_or_default()
                    ),
                    rule,
                );
            }
        }
    }

    /// Like [`Checker::unique`], for a key of the items of the list at `path`.
    fn unique_at<T: PartialEq>(
        &mut self,
        path: &KeyPath,
        key: &str,
        items: &[T],
        show: impl Fn(&T) -> String,
        rule: &str,
    ) {
        for (i, item) in items.iter().enumerate() {
            if let Some(first) = items[..i].iter().position(|x| x == item) {
                let shown = show(item);
                self.rule_across(
                    path,
                    &path.index(i).key(key),
                    &shown,
                    format!(
                        "{shown} is already the {key} of {}[{first}]",
                        path.last_key().unwrap_or_default()
                    ),
                    rule,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(config: &Config) -> Vec<String> {
        check(config)
            .iter()
            .map(|p| format!("{}: {}", p.path, p.kind))
            .collect()
    }

    #[test]
    fn the_default_is_valid() {
        assert_eq!(problems(&Config::default()), Vec::<String>::new());
    }

    fn with_traffic(traffic: &[f64]) -> Config {
        let mut config = Config::default();
        config.self_upgrading_loop.rollout.stages = traffic
            .iter()
            .enumerate()
            .map(|(i, t)| Stage {
                name: format!("s{i}"),
                traffic_percentage: *t,
                duration_hours: 1.0,
                gates: Vec::new(),
            })
            .collect();
        config
    }

    #[test]
    fn stage_traffic_rises_to_100() {
        for good in [&[100.0][..], &[0.0, 0.0, 5.0, 100.0], &[10.0, 50.0, 100.0]] {
            assert_eq!(
                problems(&with_traffic(good)),
                Vec::<String>::new(),
                "{good:?}"
            );
        }
        assert_eq!(
            problems(&with_traffic(&[0.0, 5.0, 5.0, 100.0])),
            [
                "self_upgrading_loop.rollout.stages[2].traffic_percentage: 5 is not above the 5 of \
              the stage before: traffic must rise from stage to stage; only 0% (shadow) stages \
              at the start may repeat"
            ]
        );
        assert_eq!(
            problems(&with_traffic(&[0.0, 50.0, 0.0, 100.0])).len(),
            1,
            "a shadow stage after live traffic"
        );
        assert_eq!(
            problems(&with_traffic(&[0.0, 5.0, 25.0])),
            [
                "self_upgrading_loop.rollout.stages[2].traffic_percentage: the last stage carries \
              25: the last stage must carry 100 (all traffic on the new version)"
            ]
        );
        assert_eq!(
            problems(&with_traffic(&[0.0, 100.0, 50.0])).len(),
            1,
            "the order error covers the last stage"
        );
    }

    #[test]
    fn webhook_urls() {
        assert!(is_http_url("https://api.example.com/x"));
        assert!(is_http_url("http://10.0.0.1:8080"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("ftp://example.com"));
        assert!(!is_http_url("example.com"));
    }

    #[test]
    fn fixed_words_are_shown_as_written() {
        assert_eq!(
            snake(&NotificationEvent::UpgradeRolledBack),
            "upgrade_rolled_back"
        );
        assert_eq!(snake(&LogLevel::Warning), "WARNING");
    }
}
