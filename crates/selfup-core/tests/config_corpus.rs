//! Data-driven tests of the configuration checker.
//!
//! - `data/config/bad/NAME.yaml` must fail; its messages must equal `NAME.expected`.
//!   Run with `UPDATE_EXPECT=1` to rewrite the `.expected` files from the current output,
//!   then review the diff.
//! - `data/config/good/*.yaml` must parse.
//! - `config/default.yaml` at the repository root must parse to `Config::default()`.

use std::fs;
use std::path::{Path, PathBuf};

use selfup_core::config::{self, Config};

fn data_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/config")
        .join(kind)
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn bad_files_give_the_expected_messages() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let files = yaml_files(&data_dir("bad"));
    assert!(
        files.len() >= 15,
        "the corpus has only {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let name = file_name(path);
        let actual = match config::parse(&name, &read(path)) {
            Ok(_) => "(parsed without errors)\n".to_owned(),
            Err(errors) => format!("{errors}\n"),
        };
        let expected_path = path.with_extension("expected");
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if actual == expected {
            continue;
        }
        if update {
            fs::write(&expected_path, &actual)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", expected_path.display()));
            eprintln!("updated {}", expected_path.display());
        } else {
            failures.push(format!(
                "{name}\n--- expected ({})\n{expected}--- actual\n{actual}",
                file_name(&expected_path)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} file(s) differ (rerun with UPDATE_EXPECT=1 to accept the actual output):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_bad_file_fails() {
    for path in yaml_files(&data_dir("bad")) {
        assert!(
            config::parse("x.yaml", &read(&path)).is_err(),
            "{} parsed",
            path.display()
        );
    }
}

#[test]
fn good_files_parse() {
    let files = yaml_files(&data_dir("good"));
    assert!(!files.is_empty());
    for path in files {
        let name = file_name(&path);
        if let Err(errors) = config::parse(&name, &read(&path)) {
            panic!("{name} should parse:\n{errors}");
        }
    }
}

#[test]
fn good_files_round_trip_through_yaml() {
    for path in yaml_files(&data_dir("good")) {
        let name = file_name(&path);
        let config = config::parse(&name, &read(&path)).expect("good file");
        let shown = config.to_yaml().expect("serialisable");
        assert_eq!(
            config::parse("shown.yaml", &shown),
            Ok(config),
            "{name}:\n{shown}"
        );
    }
}

#[test]
fn default_yaml_is_the_default_configuration() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.yaml");
    let parsed = config::parse("config/default.yaml", &read(&path))
        .unwrap_or_else(|errors| panic!("config/default.yaml does not parse:\n{errors}"));
    assert_eq!(parsed, Config::default());
}
