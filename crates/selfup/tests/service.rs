//! `selfup service` on Linux: the systemd unit it prints and writes runs
//! `selfup run` on the home it was given, and uninstall removes it and
//! keeps the home. (Enabling and starting need systemd as PID 1, which the
//! test machine does not have; `selfup run`'s clean stop on SIGTERM is
//! tested in crash.rs and doctor.rs.)
// Linux-only: it tests the systemd unit; Windows has its own service test.
#![cfg(target_os = "linux")]

mod common;

use common::TestHome;

#[test]
fn install_prints_and_writes_a_unit_for_this_home_and_uninstall_removes_it() {
    let home = TestHome::new();
    let printed = home.ok(&["service", "install", "--print"]);
    let exe = env!("CARGO_BIN_EXE_selfup");
    let root = home.path().display().to_string();
    assert!(
        printed.contains(&format!(
            "ExecStart={exe} --home {root} --config {root}/config.yaml run\n"
        )),
        "{printed}"
    );
    assert!(printed.contains("KillSignal=SIGTERM"), "{printed}");
    assert!(printed.contains("WantedBy=multi-user.target"), "{printed}");

    let units = tempfile::tempdir().expect("tempdir");
    let dir = units.path().to_str().expect("utf-8");
    let out = home.ok(&["service", "install", "--unit-dir", dir, "--no-enable"]);
    assert!(out.starts_with("wrote "), "{out}");
    let written = std::fs::read_to_string(units.path().join("selfup.service")).expect("unit");
    assert_eq!(written, printed);

    let out = home.ok(&["service", "uninstall", "--unit-dir", dir]);
    assert!(out.contains("the home and its data are kept"), "{out}");
    assert!(!units.path().join("selfup.service").exists());
    assert!(home.path().exists());
    let out = home.ok(&["service", "uninstall", "--unit-dir", dir]);
    assert!(out.contains("is not installed"), "{out}");
}
