//! The configuration file: its typed model, its defaults, and a checker that says
//! precisely what is wrong with a file and where.
//!
//! The layout is the specification's `config.yaml` (`self_upgrading_loop.*`, `windows.*`)
//! plus our sections `gateway`, `host` and `telemetry` under `self_upgrading_loop`. A
//! missing key or section takes its default; an empty file is the default configuration.
//!
//! [`parse`] reads the text in three steps: YAML into a tree that remembers positions
//! (`tree`), the tree into [`Config`] with every unknown key and type error collected
//! (`de`), then the rules between values (`check`). No I/O: the caller reads the file.
//!
//! What the checker accepts, beyond the types:
//! - keys: only those of each section (`Config`'s field names); close typos are named;
//! - booleans: `true`/`false` (also `True`, `TRUE`, ...); YAML 1.1's `yes`/`no`/`on`/`off`
//!   are refused, since they are easy to write by mistake;
//! - fixed words (`scan_depth`, `engine`, `logging.level`, ...): exactly as listed, case
//!   included (`logging.level` is upper case as in Python: `DEBUG`, `INFO`, `WARNING`,
//!   `ERROR`, `CRITICAL`); a near miss such as `info` is named in the message;
//! - a section or list written as `key:` with nothing after it is empty (a section then
//!   takes its defaults);
//! - numbers: see `check.rs` for each range.

mod check;
mod de;
mod defaults;
mod error;
mod model;
mod path;
mod suggest;
mod tree;

pub use error::{Bound, ConfigError, ConfigErrorKind, ConfigErrors, EmitError};
pub use model::*;

use path::KeyPath;
use tree::Pos;

/// Reads a configuration from `text`; `source_name` (usually the file path) prefixes
/// every error message.
///
/// Reports every unknown key, type error and broken rule at once. Only invalid YAML
/// stops early, with that one error.
pub fn parse(source_name: &str, text: &str) -> Result<Config, ConfigErrors> {
    let located = |pos: Pos, path: &KeyPath, kind| ConfigError {
        source_name: source_name.to_owned(),
        line: pos.line,
        column: pos.column,
        path: path.to_string(),
        kind,
    };
    let tree = match tree::parse(text) {
        Ok(tree) => tree,
        Err(e) => {
            let kind = ConfigErrorKind::Syntax { message: e.message };
            return Err(ConfigErrors::one(located(e.pos, &KeyPath::root(), kind)));
        }
    };
    let outcome = de::deserialize::<Config>(&tree);
    let mut errors: Vec<ConfigError> = outcome
        .errors
        .into_iter()
        .map(|e| located(e.pos, &e.path, e.kind))
        .collect();
    if let Some(config) = &outcome.value {
        // A value that could not be read was dropped: the key took its default, or the
        // list item was left out. Rules about it, or between it and its neighbours,
        // would be about values the user did not write; leave them out.
        for problem in check::check(config) {
            let path = tree.file_path(&problem.path, &outcome.skipped);
            let relates = problem
                .relates
                .map(|r| tree.file_path(&r, &outcome.skipped));
            let affected = outcome
                .dropped
                .iter()
                .any(|d| path.starts_with(d) || relates.as_ref().is_some_and(|r| d.starts_with(r)));
            if !affected {
                errors.push(located(tree.locate(&path), &path, problem.kind));
            }
        }
    }
    match (outcome.value, ConfigErrors::new(errors)) {
        (_, Some(errors)) => Err(errors),
        (Some(config), None) => Ok(config),
        (None, None) => Err(ConfigErrors::one(located(
            Pos::START,
            &KeyPath::root(),
            ConfigErrorKind::Custom {
                message: "the file could not be read as a configuration".to_owned(),
            },
        ))),
    }
}

impl Config {
    /// The configuration as YAML, every key written out (for `selfup config show`).
    /// [`parse`] reads it back to an equal `Config`.
    pub fn to_yaml(&self) -> Result<String, EmitError> {
        Ok(serde_saphyr::to_string(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_documents_are_the_default() {
        for text in [
            "",
            "\n",
            "# nothing\n",
            "{}",
            "self_upgrading_loop:\nwindows: {}\n",
        ] {
            assert_eq!(parse("c.yaml", text), Ok(Config::default()), "{text:?}");
        }
    }

    #[test]
    fn missing_keys_take_defaults() {
        let config = parse(
            "c.yaml",
            "self_upgrading_loop:\n  cycle:\n    interval_minutes: 5\n",
        )
        .expect("valid");
        let mut expected = Config::default();
        expected.self_upgrading_loop.cycle.interval_minutes = 5;
        assert_eq!(config, expected);
    }

    #[test]
    fn the_default_round_trips_through_yaml() {
        let yaml = Config::default().to_yaml().expect("serialisable");
        assert_eq!(parse("shown.yaml", &yaml), Ok(Config::default()), "{yaml}");
    }

    #[test]
    fn a_changed_configuration_round_trips_through_yaml() {
        let mut config = Config::default();
        let l = &mut config.self_upgrading_loop;
        l.name = "yes: a name with # and 'quotes' and \"doubles\"".into();
        l.version = semver::Version::parse("2.1.0-rc.1+build.5").expect("valid version");
        l.logging.level = LogLevel::Warning;
        l.rollout.stages[1].traffic_percentage = 2.5;
        l.gateway.bind = "[::1]:9000".parse().expect("valid address");
        l.notifications.channels.truncate(1);
        config.windows.paths.base = "{base}: C:\\x\\".into();
        config.windows.paths.base = r"D:\odd\path".into();
        let yaml = config.to_yaml().expect("serialisable");
        assert_eq!(parse("shown.yaml", &yaml), Ok(config), "{yaml}");
    }

    #[test]
    fn strings_that_look_like_other_scalars_round_trip() {
        for name in [
            "null", "~", "", "123", "0x1F", "1.5", "true", "no", "- x", "a: b", "#c",
        ] {
            let mut config = Config::default();
            config.self_upgrading_loop.logging.format = name.to_owned();
            let yaml = config.to_yaml().expect("serialisable");
            assert_eq!(parse("shown.yaml", &yaml), Ok(config), "{name:?}:\n{yaml}");
        }
    }

    #[test]
    fn errors_point_at_the_key() {
        let text = "self_upgrading_loop:\n  rollout:\n    stages:\n      - name: a\n        \
                    traffic_percentage: 150\n        duration_hours: 1\n";
        let errors = parse("config.yaml", text).expect_err("150 is too much");
        assert_eq!(
            errors.to_string(),
            "config.yaml:5:9: self_upgrading_loop.rollout.stages[0].traffic_percentage: \
             150 is outside 0–100 (a percentage of live traffic)"
        );
        let error = &errors.errors()[0];
        assert_eq!((error.line, error.column), (5, 9));
        assert_eq!(error.offending(), Some("150"));
    }

    #[test]
    fn rules_are_not_checked_where_a_value_was_dropped() {
        // The bad stage is left out; its siblings must not be blamed for the gap.
        let text = "self_upgrading_loop:\n  rollout:\n    stages:\n      \
                    - {name: a, traffic_percentage: 0, duration_hours: 1}\n      \
                    - {name: b, traffic_percentage: lots, duration_hours: 1}\n      \
                    - {name: c, traffic_percentage: 100, duration_hours: 1}\n  \
                    cycle: {interval_minutes: 0}\n";
        let errors = parse("c.yaml", text).expect_err("two problems");
        assert_eq!(
            errors.to_string(),
            "c.yaml:5:19: self_upgrading_loop.rollout.stages[1].traffic_percentage: expected a \
             number, found the string \"lots\"\n\
             c.yaml:7:11: self_upgrading_loop.cycle.interval_minutes: 0 is out of range: must \
             be at least 1 (minutes between two cycles)"
        );
    }

    #[test]
    fn items_after_a_dropped_item_are_checked_at_their_place_in_the_file() {
        let text = "self_upgrading_loop:\n  rollout:\n    stages:\n      \
                    - {name: a, traffic_percentage: x, duration_hours: 1}\n      \
                    - {name: b, traffic_percentage: 100, duration_hours: 0}\n";
        let errors = parse("c.yaml", text).expect_err("two problems");
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "self_upgrading_loop.rollout.stages[0].traffic_percentage",
                "self_upgrading_loop.rollout.stages[1].duration_hours"
            ]
        );
    }
}
