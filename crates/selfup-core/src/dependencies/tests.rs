use std::time::{Duration, Instant};

use super::*;

/// A valid manifest `name@version` with dependencies, required and provided
/// capabilities (a plugin provides `cap.<name>` when none are given).
fn manifest(
    id: &str,
    dependencies: &[(&str, &str)],
    requires: &[&str],
    provides: &[&str],
) -> PluginManifest {
    let (name, version) = id.split_once('@').expect("name@version");
    let provides: Vec<String> = if provides.is_empty() {
        vec![format!("cap.{name}")]
    } else {
        provides.iter().map(|s| s.to_string()).collect()
    };
    let dependencies: serde_json::Map<String, serde_json::Value> = dependencies
        .iter()
        .map(|(n, r)| (n.to_string(), serde_json::Value::from(*r)))
        .collect();
    let json = serde_json::json!({
        "name": name,
        "version": version,
        "entry_point": "plugin.wasm",
        "dependencies": dependencies,
        "required_capabilities": requires,
        "provided_capabilities": provides,
    });
    PluginManifest::from_json(json.to_string().as_bytes()).expect("valid manifest")
}

/// A plain plugin without requirements.
fn plain(id: &str) -> PluginManifest {
    manifest(id, &[], &[], &[])
}

/// Installed and active for everything it provides.
fn live(m: PluginManifest) -> AvailablePlugin {
    let active = m.provided_capabilities.clone();
    AvailablePlugin::installed(m, active)
}

/// Installed, active for nothing.
fn idle(m: PluginManifest) -> AvailablePlugin {
    AvailablePlugin::installed(m, Vec::new())
}

fn catalog(m: PluginManifest) -> AvailablePlugin {
    AvailablePlugin::catalog(m)
}

fn universe(plugins: Vec<AvailablePlugin>) -> Universe {
    plugins.into_iter().collect()
}

fn name(s: &str) -> PluginName {
    PluginName::new(s).expect("plugin name")
}

fn cap(s: &str) -> CapabilityName {
    CapabilityName::new(s).expect("capability name")
}

fn v(s: &str) -> Version {
    Version::parse(s).expect("version")
}

fn plan(plugins: Vec<AvailablePlugin>, candidate: PluginManifest) -> Plan {
    match resolve(&universe(plugins), &candidate) {
        Ok(plan) => plan,
        Err(e) => panic!("expected a plan, got: {e}"),
    }
}

fn error(plugins: Vec<AvailablePlugin>, candidate: PluginManifest) -> ResolveError {
    match resolve(&universe(plugins), &candidate) {
        Ok(plan) => panic!("expected an error, got a plan:\n{plan}"),
        Err(e) => e,
    }
}

/// `name version` of every step, in order.
fn ids(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| format!("{} {}", s.name, s.version))
        .collect()
}

#[test]
fn a_new_version_without_dependencies_replaces_the_live_one() {
    let plan = plan(
        vec![live(plain("text-summarize@1.0.0"))],
        plain("text-summarize@2.0.0"),
    );
    assert_eq!(
        plan.steps,
        vec![PlanStep {
            name: name("text-summarize"),
            version: v("2.0.0"),
            install: true,
            replaces: vec![v("1.0.0")],
            reason: StepReason::Candidate,
        }]
    );
    assert_eq!(
        plan.to_string(),
        "1. install text-summarize 2.0.0, replacing 1.0.0 (the upgrade)"
    );
}

#[test]
fn a_plugin_new_to_the_machine_is_installed_and_replaces_nothing() {
    let plan = plan(Vec::new(), plain("lang-detect@1.0.0"));
    assert_eq!(ids(&plan), ["lang-detect 1.0.0"]);
    assert!(plan.steps[0].install);
    assert!(plan.steps[0].replaces.is_empty());
}

#[test]
fn an_installed_candidate_version_is_activated_not_installed() {
    let plan = plan(
        vec![
            live(plain("text-summarize@1.0.0")),
            idle(plain("text-summarize@2.0.0")),
        ],
        plain("text-summarize@2.0.0"),
    );
    assert_eq!(
        plan.to_string(),
        "1. activate text-summarize 2.0.0, replacing 1.0.0 (the upgrade)"
    );
}

#[test]
fn dependencies_satisfied_by_installed_versions_install_nothing_more() {
    let plan = plan(
        vec![
            live(plain("text-summarize@1.0.0")),
            live(plain("text-stats@1.2.0")),
            catalog(plain("text-stats@1.3.0")),
            // Installed but live for nothing: still preferred to the catalog.
            idle(plain("json-query@1.0.0")),
            catalog(plain("json-query@1.5.0")),
        ],
        manifest(
            "text-summarize@2.0.0",
            &[("text-stats", "^1.0"), ("json-query", "^1")],
            &[],
            &[],
        ),
    );
    assert_eq!(ids(&plan), ["text-summarize 2.0.0"]);
}

#[test]
fn a_dependency_missing_on_the_machine_is_installed_at_the_highest_match() {
    let plan = plan(
        vec![
            catalog(plain("text-stats@1.0.0")),
            catalog(plain("text-stats@1.4.0")),
            catalog(plain("text-stats@2.0.0")),
        ],
        manifest("text-summarize@2.0.0", &[("text-stats", "^1")], &[], &[]),
    );
    assert_eq!(ids(&plan), ["text-stats 1.4.0", "text-summarize 2.0.0"]);
    assert_eq!(
        plan.steps[0].reason,
        StepReason::Dependency {
            of: name("text-summarize"),
            version: v("2.0.0"),
            requirement: VersionReq::parse("^1").expect("req"),
        }
    );
    assert_eq!(
        plan.to_string(),
        "1. install text-stats 1.4.0 (text-summarize 2.0.0 needs ^1)\n\
         2. install text-summarize 2.0.0 (the upgrade)"
    );
}

#[test]
fn an_installed_dependency_too_old_for_the_candidate_is_replaced() {
    let plan = plan(
        vec![
            live(plain("text-summarize@1.0.0")),
            live(plain("text-stats@1.2.0")),
            catalog(plain("text-stats@2.0.0")),
            catalog(plain("text-stats@2.1.0")),
        ],
        manifest("text-summarize@2.0.0", &[("text-stats", "^2.0")], &[], &[]),
    );
    assert_eq!(
        plan.to_string(),
        "1. install text-stats 2.1.0, replacing 1.2.0 (text-summarize 2.0.0 needs ^2.0)\n\
         2. install text-summarize 2.0.0, replacing 1.0.0 (the upgrade)"
    );
}

#[test]
fn an_installed_plugin_the_candidate_may_need_moves_along_when_it_must() {
    let plan = plan(
        vec![
            live(manifest("n@1.0.0", &[("m", "^1")], &[], &[])),
            live(plain("m@1.0.0")),
            catalog(plain("m@2.0.0")),
            catalog(manifest("n@2.0.0", &[("m", "^2")], &[], &[])),
            // x 2.0.0 could bring n in; x 2.1.0, the one chosen, does not.
            catalog(manifest("x@2.0.0", &[("n", "^1")], &[], &[])),
            catalog(plain("x@2.1.0")),
        ],
        manifest("a@1.0.0", &[("x", "^2"), ("m", "^2")], &[], &[]),
    );
    assert_eq!(
        plan.to_string(),
        "1. install m 2.0.0, replacing 1.0.0 (a 1.0.0 needs ^2)\n\
         2. install n 2.0.0, replacing 1.0.0 (to stay compatible)\n\
         3. install x 2.1.0 (a 1.0.0 needs ^2)\n\
         4. install a 1.0.0 (the upgrade)"
    );
}

#[test]
fn pre_releases_match_only_requirements_that_name_them() {
    let plugins = vec![
        catalog(plain("text-stats@1.0.0")),
        catalog(plain("text-stats@1.1.0-beta.1")),
    ];
    let stable = plan(
        plugins.clone(),
        manifest("text-summarize@2.0.0", &[("text-stats", "^1.0")], &[], &[]),
    );
    assert_eq!(ids(&stable), ["text-stats 1.0.0", "text-summarize 2.0.0"]);
    let beta = plan(
        plugins,
        manifest(
            "text-summarize@2.0.0",
            &[("text-stats", "^1.1.0-beta.1")],
            &[],
            &[],
        ),
    );
    assert_eq!(
        ids(&beta),
        ["text-stats 1.1.0-beta.1", "text-summarize 2.0.0"]
    );
}

#[test]
fn transitive_dependencies_come_before_their_dependents() {
    let plan = plan(
        vec![
            catalog(manifest("b@1.0.0", &[("c", "^1")], &[], &[])),
            catalog(manifest("c@1.0.0", &[("d", "^1")], &[], &[])),
            catalog(plain("d@1.0.0")),
            catalog(plain("d@1.1.0")),
        ],
        manifest("a@2.0.0", &[("b", "^1")], &[], &[]),
    );
    assert_eq!(ids(&plan), ["d 1.1.0", "c 1.0.0", "b 1.0.0", "a 2.0.0"]);
}

#[test]
fn two_requirements_that_no_version_satisfies_together_are_named() {
    let e = error(
        vec![
            live(plain("text-summarize@1.0.0")),
            live(manifest(
                "json-query@1.0.0",
                &[("text-stats", "^1.0")],
                &[],
                &[],
            )),
            live(plain("text-stats@1.2.0")),
            catalog(plain("text-stats@2.0.0")),
        ],
        manifest("text-summarize@2.0.0", &[("text-stats", "^2.0")], &[], &[]),
    );
    assert_eq!(
        e.to_string(),
        "text-summarize 2.0.0 needs text-stats ^2.0, but json-query 1.0.0 (installed) needs text-stats ^1.0, and no version satisfies both"
    );
}

#[test]
fn a_clash_deeper_in_the_dependencies_names_the_chain() {
    let e = error(
        vec![
            live(manifest("d@1.0.0", &[("c", "^1")], &[], &[])),
            live(plain("c@1.0.0")),
            catalog(plain("c@2.0.0")),
            catalog(manifest("b@2.0.0", &[("c", "^2")], &[], &[])),
            catalog(manifest("b@2.1.0", &[("c", "^2")], &[], &[])),
            catalog(manifest("b@1.0.0", &[("c", "^1")], &[], &[])),
        ],
        manifest("a@2.0.0", &[("b", "^2")], &[], &[]),
    );
    assert_eq!(
        e.to_string(),
        "b 2.0.0 and 2.1.0 (required by a 2.0.0) need c ^2, but d 1.0.0 (installed) needs c ^1, and no version satisfies both"
    );
}

#[test]
fn a_candidate_breaking_an_installed_dependent_is_refused() {
    let dependent = manifest("b@1.0.0", &[("a", "^1")], &[], &[]);
    let plugins = vec![
        live(dependent),
        live(plain("a@1.0.0")),
        // A newer dependent exists, but upgrading a does not upgrade b.
        catalog(manifest("b@2.0.0", &[("a", "^2")], &[], &[])),
    ];
    let e = error(plugins, plain("a@2.0.0"));
    assert_eq!(
        e.to_string(),
        "replacing a 1.0.0 with 2.0.0 breaks b 1.0.0 (installed), which needs a ^1"
    );
}

#[test]
fn a_candidate_dropping_a_capability_an_installed_plugin_needs_is_refused() {
    let e = error(
        vec![
            live(manifest("b@1.0.0", &[], &["text.detect"], &[])),
            live(manifest(
                "a@1.0.0",
                &[],
                &[],
                &["text.detect", "text.count"],
            )),
        ],
        manifest("a@2.0.0", &[], &[], &["text.count"]),
    );
    assert_eq!(
        e.to_string(),
        "replacing a 1.0.0 with 2.0.0 breaks b 1.0.0 (installed), which needs capability \"text.detect\" from a 1.0.0, its only provider"
    );
}

#[test]
fn a_capability_nobody_provides_is_named() {
    let e = error(
        vec![live(plain("text-summarize@1.0.0"))],
        manifest("text-summarize@2.0.0", &[], &["lang.detect"], &[]),
    );
    assert_eq!(
        e,
        ResolveError::MissingCapability {
            capability: cap("lang.detect"),
            needed_by: "text-summarize 2.0.0".to_owned(),
        }
    );
    assert_eq!(
        e.to_string(),
        "text-summarize 2.0.0 needs capability \"lang.detect\", which no installed or catalog plugin provides"
    );
}

#[test]
fn a_missing_capability_of_a_dependency_names_the_chain() {
    let e = error(
        vec![catalog(manifest("b@1.0.0", &[], &["lang.detect"], &[]))],
        manifest("a@2.0.0", &[("b", "^1")], &[], &[]),
    );
    assert_eq!(
        e.to_string(),
        "b 1.0.0 (required by a 2.0.0) needs capability \"lang.detect\", which no installed or catalog plugin provides"
    );
}

#[test]
fn a_requirement_nothing_satisfies_is_named() {
    let candidate = manifest("text-summarize@2.0.0", &[("text-stats", "^3.0")], &[], &[]);
    let e = error(vec![catalog(plain("text-stats@2.0.0"))], candidate.clone());
    assert_eq!(
        e.to_string(),
        "text-summarize 2.0.0 needs text-stats ^3.0, which no installed or catalog version satisfies"
    );
    let e = error(Vec::new(), candidate);
    assert_eq!(
        e.to_string(),
        "text-summarize 2.0.0 needs text-stats ^3.0, which is neither installed nor in the catalog"
    );
}

#[test]
fn a_capability_from_the_catalog_is_installed_before_the_plugin_needing_it() {
    let plan = plan(
        vec![
            live(plain("text-summarize@1.0.0")),
            catalog(manifest("lang-detect@1.0.0", &[], &[], &["lang.detect"])),
            catalog(manifest("lang-detect@1.1.0", &[], &[], &["lang.detect"])),
        ],
        manifest("text-summarize@2.0.0", &[], &["lang.detect"], &[]),
    );
    assert_eq!(
        plan.to_string(),
        "1. install lang-detect 1.1.0 (provides \"lang.detect\" for text-summarize)\n\
         2. install text-summarize 2.0.0, replacing 1.0.0 (the upgrade)"
    );
    assert_eq!(
        plan.providers,
        BTreeMap::from([(cap("lang.detect"), name("lang-detect"))])
    );
}

#[test]
fn the_active_provider_of_a_capability_is_kept() {
    let plan = plan(
        vec![
            live(manifest("zz-lang@1.0.0", &[], &[], &["lang.detect"])),
            catalog(manifest("aa-lang@3.0.0", &[], &[], &["lang.detect"])),
        ],
        manifest("text-summarize@2.0.0", &[], &["lang.detect"], &[]),
    );
    assert_eq!(ids(&plan), ["text-summarize 2.0.0"]);
    assert_eq!(plan.providers[&cap("lang.detect")], name("zz-lang"));
}

#[test]
fn a_capability_provider_that_is_already_a_dependency_is_preferred() {
    let plan = plan(
        vec![
            catalog(manifest("aa-lang@1.0.0", &[], &[], &["lang.detect"])),
            catalog(manifest(
                "nlp@1.0.0",
                &[],
                &[],
                &["lang.detect", "nlp.parse"],
            )),
        ],
        manifest(
            "text-summarize@2.0.0",
            &[("nlp", "^1")],
            &["lang.detect"],
            &[],
        ),
    );
    assert_eq!(ids(&plan), ["nlp 1.0.0", "text-summarize 2.0.0"]);
}

#[test]
fn a_two_plugin_cycle_is_refused_with_its_path() {
    let e = error(
        vec![catalog(manifest("b@1.0.0", &[("a", "^2")], &[], &[]))],
        manifest("a@2.0.0", &[("b", "^1")], &[], &[]),
    );
    assert_eq!(
        e.to_string(),
        "dependency cycle a → b → a (a 2.0.0 needs b ^1, b 1.0.0 needs a ^2): plugins must not depend on each other in a circle"
    );
    let ResolveError::Cycle { path, .. } = e else {
        panic!("not a cycle");
    };
    assert_eq!(path, [name("a"), name("b"), name("a")]);
}

#[test]
fn a_three_plugin_cycle_is_refused_with_its_path() {
    let e = error(
        vec![
            catalog(manifest("b@1.0.0", &[("c", "^1")], &[], &[])),
            catalog(manifest("c@1.0.0", &[("a", "^2")], &[], &[])),
        ],
        manifest("a@2.0.0", &[("b", "^1")], &[], &[]),
    );
    assert_eq!(
        e.to_string(),
        "dependency cycle a → b → c → a (a 2.0.0 needs b ^1, b 1.0.0 needs c ^1, c 1.0.0 needs a ^2): plugins must not depend on each other in a circle"
    );
}

#[test]
fn a_cycle_away_from_the_candidate_starts_at_its_smallest_name() {
    let e = error(
        vec![
            catalog(manifest("y@1.0.0", &[("x", "^1")], &[], &[])),
            catalog(manifest("x@1.0.0", &[("y", "^1")], &[], &[])),
        ],
        manifest("a@2.0.0", &[("y", "^1")], &[], &[]),
    );
    assert_eq!(
        e.to_string(),
        "dependency cycle x → y → x (x 1.0.0 needs y ^1, y 1.0.0 needs x ^1): plugins must not depend on each other in a circle"
    );
}

#[test]
fn a_version_depending_on_itself_is_skipped() {
    // Manifest validation refuses this; a catalog may still carry it.
    let mut broken = plain("b@1.1.0");
    broken
        .dependencies
        .insert(name("b"), VersionReq::parse("^1").expect("req"));
    let plan = plan(
        vec![catalog(plain("b@1.0.0")), catalog(broken)],
        manifest("a@1.0.0", &[("b", "^1")], &[], &[]),
    );
    assert_eq!(ids(&plan), ["b 1.0.0", "a 1.0.0"]);
}

#[test]
fn a_requirement_already_broken_on_the_machine_does_not_block_an_upgrade() {
    let plan = plan(
        vec![
            live(manifest(
                "json-query@1.0.0",
                &[("gone", "^1")],
                &["nobody.serves"],
                &[],
            )),
            live(plain("text-summarize@1.0.0")),
        ],
        plain("text-summarize@2.0.0"),
    );
    assert_eq!(ids(&plan), ["text-summarize 2.0.0"]);
}

#[test]
fn other_conflicts_get_the_step_by_step_report() {
    let e = error(
        vec![
            live(manifest("d@1.0.0", &[("c", "^1")], &[], &[])),
            live(plain("c@1.0.0")),
            catalog(plain("c@2.0.0")),
            catalog(plain("c@3.0.0")),
            catalog(manifest("b@2.0.0", &[("c", "^2")], &[], &[])),
            catalog(manifest("b@2.1.0", &[("c", "^3")], &[], &[])),
        ],
        manifest("a@2.0.0", &[("b", "^2")], &[], &[]),
    );
    assert_eq!(
        e.to_string(),
        "Because b 2.0.0 needs c ^2 and b 2.1.0 needs c ^3, every version of b needs c 2.0.0 or 3.0.0.\n\
         And because a 2.0.0 needs b ^2 and d 1.0.0 (installed) needs c ^1, a 2.0.0 and d 1.0.0 (installed) cannot both be part of the plan.\n\
         And because the upgrade installs a 2.0.0 and d 1.0.0 (installed) stays as it is, no plan can install the upgrade."
    );
}

#[test]
fn the_plan_does_not_depend_on_the_order_of_the_universe() {
    let plugins = vec![
        catalog(manifest("left@1.0.0", &[("base", "^1")], &[], &[])),
        catalog(manifest("right@1.0.0", &[("base", "^1")], &[], &[])),
        catalog(plain("base@1.0.0")),
        catalog(manifest("mid@1.0.0", &[], &[], &["x.mid"])),
        live(plain("top@1.0.0")),
    ];
    let candidate = manifest(
        "top@2.0.0",
        &[("right", "^1"), ("left", "^1")],
        &["x.mid"],
        &[],
    );
    let forward = plan(plugins.clone(), candidate.clone());
    let backward = plan(plugins.into_iter().rev().collect(), candidate);
    assert_eq!(forward, backward);
    assert_eq!(
        ids(&forward),
        [
            "base 1.0.0",
            "left 1.0.0",
            "mid 1.0.0",
            "right 1.0.0",
            "top 2.0.0"
        ]
    );
}

/// 60 plugins with 6 versions each; plugin `i` depends on two lower ones.
fn large_universe() -> Vec<AvailablePlugin> {
    let mut plugins = Vec::new();
    for i in 0..60 {
        for minor in 0..6 {
            let deps: Vec<(String, String)> = [i / 2, i / 3]
                .into_iter()
                .filter(|&d| d < i)
                .map(|d| (format!("p{d}"), format!("^1.{}", minor / 2)))
                .collect();
            let deps: Vec<(&str, &str)> =
                deps.iter().map(|(n, r)| (n.as_str(), r.as_str())).collect();
            let m = manifest(&format!("p{i}@1.{minor}.0"), &deps, &[], &[]);
            plugins.push(if minor == 0 && i % 4 == 0 {
                live(m)
            } else {
                catalog(m)
            });
        }
    }
    plugins
}

#[test]
fn a_universe_of_hundreds_of_versions_resolves_quickly() {
    let plugins = large_universe();
    assert_eq!(plugins.len(), 360);
    let candidate = manifest(
        "app@1.0.0",
        &[("p59", "^1.4"), ("p58", "^1"), ("p41", "^1.2")],
        &[],
        &[],
    );
    let started = Instant::now();
    let plan = plan(plugins.clone(), candidate);
    let elapsed = started.elapsed();
    assert_eq!(plan.steps.last().map(|s| s.name.clone()), Some(name("app")));
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");

    // A failure over the same universe is found as quickly.
    let impossible = manifest(
        "app@1.0.0",
        &[("p59", "^1.4"), ("p1", "^1.4"), ("p0", "~1.0.0")],
        &[],
        &[],
    );
    let started = Instant::now();
    let e = error(plugins, impossible);
    let elapsed = started.elapsed();
    assert!(matches!(e, ResolveError::Conflict { .. }), "{e}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}
