//! End-to-end: the `selfup` binary driven as a user would, without the gateway.

mod common;

use common::{TestHome, expect_file, package, plugins_dir, scrub};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn install_list_call_activate_remove() {
    let home = TestHome::new();
    // One package as a zip, one as a directory.
    let zip = package("text-summarize-1.0.0", true);
    let dir = package("text-stats-1.0.0", false);
    let out = home.ok(&["plugin", "install", zip.to_str().expect("utf-8")]);
    assert_eq!(
        out,
        "installed text-summarize@1.0.0\n  active for: text.summarize\n"
    );
    home.ok(&["plugin", "install", dir.to_str().expect("utf-8")]);
    let v2 = package("text-summarize-2.0.0", true);
    let out = home.ok(&["plugin", "install", v2.to_str().expect("utf-8")]);
    assert!(out.contains("not active for: text.summarize"), "{out}");
    expect_file("plugin-list.txt", &home.ok(&["plugin", "list"]));

    let listed: serde_json::Value =
        serde_json::from_str(&home.ok(&["plugin", "list", "--json"])).expect("json");
    let rows = listed.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["name"], "text-stats");
    assert_eq!(rows[1]["version"], "1.0.0");
    assert_eq!(rows[1]["active"], true);
    assert_eq!(rows[2]["active"], false);

    let text = "Selfup runs plugins. It measures every call. It upgrades them safely. The end.";
    let input = serde_json::json!({ "text": text, "max_sentences": 2 }).to_string();
    let out = home.ok(&["plugin", "call", "text.summarize", "--input", &input]);
    let output: serde_json::Value = serde_json::from_str(&out).expect("output json");
    assert_eq!(
        output["method"], "lead",
        "1.0.0 serves until 2.0.0 is activated"
    );
    assert_eq!(output["sentences"].as_array().expect("sentences").len(), 2);

    let out = home.ok(&["plugin", "activate", "text-summarize@2.0.0"]);
    assert_eq!(
        out,
        "text-summarize@2.0.0 is now active for: text.summarize\n"
    );
    let out = home.ok(&[
        "plugin",
        "call",
        "text.summarize",
        "--input",
        &input,
        "--subject",
        "alice",
    ]);
    let output: serde_json::Value = serde_json::from_str(&out).expect("output json");
    assert_eq!(output["method"], "tf");

    let stats = home.ok(&[
        "plugin",
        "call",
        "text.stats",
        "--input",
        r#"{"text":"one two three."}"#,
    ]);
    assert!(stats.contains(r#""words":3"#), "{stats}");

    let summary: serde_json::Value =
        serde_json::from_str(&home.ok(&["telemetry", "summary", "--json"])).expect("summary");
    let calls: Vec<(String, u64)> = summary
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                format!(
                    "{}@{}",
                    r["plugin"].as_str().unwrap_or(""),
                    r["version"].as_str().unwrap_or("")
                ),
                r["calls"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            ("text-stats@1.0.0".into(), 1),
            ("text-summarize@1.0.0".into(), 1),
            ("text-summarize@2.0.0".into(), 1)
        ]
    );

    let out = home.run(&["plugin", "remove", "text-summarize@2.0.0"]);
    assert_eq!(out.status.code(), Some(1));
    expect_file("remove-active-refused.txt", &stderr(&out));
    home.ok(&["plugin", "remove", "text-summarize@1.0.0"]);
    assert_eq!(
        home.ok(&["plugin", "remove", "text-summarize"]),
        "removed text-summarize@2.0.0\n"
    );
    let out = home.run(&["plugin", "call", "text.summarize", "--input", "{}"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).starts_with(
            "error: unknown_capability: no installed plugin provides \"text.summarize\""
        ),
        "{}",
        stderr(&out)
    );
    home.ok(&["plugin", "health"]);
}

#[test]
fn call_failures_exit_3_with_the_error_kind() {
    let home = TestHome::new();
    home.install("test-spin-1.0.0");
    home.install("test-alloc-1.0.0");
    home.install("text-stats-1.0.0");
    let cases = [
        ("test.spin", r#"{"spin":true}"#, "error: timeout: "),
        (
            "test.alloc",
            r#"{"alloc":true}"#,
            "error: resource_exhausted: ",
        ),
        ("text.stats", r#"{"wrong":1}"#, "error: invalid_input: "),
        ("nope.nothing", "{}", "error: unknown_capability: "),
    ];
    for (capability, input, prefix) in cases {
        let out = home.run(&["plugin", "call", capability, "--input", input]);
        assert_eq!(out.status.code(), Some(3), "{capability}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(prefix),
            "{capability}: {}",
            stderr(&out)
        );
    }
    let out = home.run(&["plugin", "call", "text.stats", "--input", "{not json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--input is not valid JSON"),
        "{}",
        stderr(&out)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&home.ok(&["telemetry", "summary", "--json"])).expect("summary");
    let errors: u64 = summary
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["errors"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(errors, 4, "every failed call is recorded: {summary}");
}

/// A listing of everything in the home except the wasmtime cache, with sizes.
fn snapshot(home: &std::path::Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![home.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let rel = path
                .strip_prefix(home)
                .expect("prefix")
                .display()
                .to_string();
            if rel.starts_with("cache") || rel.ends_with("-shm") || rel.ends_with("-wal") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((rel, std::fs::metadata(&path).expect("meta").len()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn failed_installs_change_nothing() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let before_list = home.ok(&["plugin", "list", "--json"]);
    let before = snapshot(home.path());
    let work = tempfile::tempdir().expect("work");

    // A manifest with a bad field.
    let bad = work.path().join("bad");
    std::fs::create_dir(&bad).expect("mkdir");
    std::fs::copy(
        plugins_dir().join("text-stats-1.0.0/plugin.wasm"),
        bad.join("plugin.wasm"),
    )
    .expect("copy");
    std::fs::write(
        bad.join("manifest.json"),
        r#"{"name":"bad-plugin","version":"1.0","entry_point":"plugin.wasm","provided_capabilities":["x.y"]}"#,
    )
    .expect("manifest");
    // Code that is not a component.
    let garbage = work.path().join("garbage");
    std::fs::create_dir(&garbage).expect("mkdir");
    std::fs::write(garbage.join("plugin.wasm"), b"definitely not wasm").expect("wasm");
    std::fs::write(
        garbage.join("manifest.json"),
        r#"{"name":"garbage","version":"1.0.0","entry_point":"plugin.wasm","provided_capabilities":["x.y"]}"#,
    )
    .expect("manifest");
    // Signed with the trusted key, so that the code itself is what is refused.
    let key = selfup_plugins::signing::SecretKey::from_file(&common::dev_key("dev.key"), None)
        .expect("dev key");
    selfup_plugins::signing::sign_package(&garbage, &key).expect("sign");
    let missing = work.path().join("nowhere.zip");
    let installed_again = plugins_dir().join("text-stats-1.0.0.zip");

    let cases = [
        (bad, "bad-manifest.txt"),
        (garbage, "not-a-component.txt"),
        (missing, "missing-package.txt"),
        (installed_again, "already-installed.txt"),
    ];
    for (path, expectation) in cases {
        let out = home.run(&["plugin", "install", path.to_str().expect("utf-8")]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{expectation}: {}",
            stderr(&out)
        );
        let message = scrub(&scrub(&stderr(&out), work.path()), &plugins_dir());
        expect_file(expectation, &message);
        assert_eq!(
            snapshot(home.path()),
            before,
            "{expectation}: the home changed"
        );
    }
    assert_eq!(home.ok(&["plugin", "list", "--json"]), before_list);
}

#[test]
fn config_check_catches_errors_with_file_line_and_column() {
    let home = TestHome::new();
    let work = tempfile::tempdir().expect("work");
    let good = work.path().join("good.yaml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/default.yaml"),
        &good,
    )
    .expect("copy");
    let out = home.ok(&["config", "check", good.to_str().expect("utf-8")]);
    assert!(out.ends_with("good.yaml: valid\n"), "{out}");

    let bad = work.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "self_upgrading_loop:\n  cycle:\n    interval_minuts: 5\n  rollout:\n    stages:\n      - name: canary\n        traffic_percentage: 150\n        duration_hours: 1\n  decision:\n    auto_approve_threshold: 1.5\n",
    )
    .expect("write");
    let out = home.run(&["config", "check", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    expect_file(
        "config-check-errors.txt",
        &scrub(&stderr(&out), work.path()),
    );

    // Every command refuses to run on an invalid configuration.
    let out = home.run(&["--config", bad.to_str().expect("utf-8"), "plugin", "list"]);
    assert_eq!(out.status.code(), Some(2));

    let shown = home.ok(&["config", "show"]);
    assert!(shown.contains("interval_minutes: 60"), "{shown}");
    let shown_file = work.path().join("shown.yaml");
    std::fs::write(&shown_file, &shown).expect("write");
    home.ok(&["config", "check", shown_file.to_str().expect("utf-8")]);
}

#[test]
fn the_stats_calculator_reproduces_published_values() {
    let home = TestHome::new();
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_str(&home.ok(args)).expect("json output")
    };
    // Within half a unit of the published value's last digit.
    let close = |v: &serde_json::Value, published: &str| {
        let got = v.as_f64().expect("number");
        let expected: f64 = published.parse().expect("number");
        let decimals = published.split('.').nth(1).map_or(0, str::len) as i32;
        assert!(
            (got - expected).abs() <= 0.5 * 10f64.powi(-decimals),
            "{got} vs {published}"
        );
    };
    let z = json(&["stats", "ztest", "--a", "5/83", "--b", "12/99", "--json"]);
    close(&z["statistic"], "-1.4078304");
    close(&z["p_value"], "0.1591813");
    let srm = json(&[
        "stats",
        "srm",
        "--counts",
        "1000,1200",
        "--weights",
        "0.5,0.5",
        "--json",
    ]);
    close(&srm["p_value"], "0.000020079");
    let hash = json(&[
        "stats",
        "hash",
        "--seed",
        "seed",
        "--subject",
        "a",
        "--json",
    ]);
    close(&hash["bucket"], "0.0505");

    let work = tempfile::tempdir().expect("work");
    let (a, b) = (work.path().join("a.txt"), work.path().join("b.txt"));
    std::fs::write(&a, "1\n2\n2\n3\n3\n3\n4\n").expect("a");
    std::fs::write(&b, "3\n4\n4\n5\n5\n6\n6\n").expect("b");
    let mw = json(&[
        "stats",
        "mannwhitney",
        "--a",
        a.to_str().expect("utf-8"),
        "--b",
        b.to_str().expect("utf-8"),
        "--json",
    ]);
    close(&mw["statistic"], "3.5");
    close(&mw["p_value"], "0.0075909");

    let out = home.run(&["stats", "welch", "--a", "10,1", "--b", "10,1,1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--a: cannot read \"10,1\"; expected n,mean,sd"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn keygen_sign_verify_scan_and_install_with_an_own_key() {
    let home = TestHome::new();
    let work = tempfile::tempdir().expect("work");
    let keys = work.path().join("keys");
    let out = home.ok(&[
        "keygen",
        "--out",
        keys.to_str().expect("utf-8"),
        "--name",
        "publisher",
    ]);
    assert!(out.contains("add to security.trusted_keys"), "{out}");
    let public = std::fs::read_to_string(keys.join("publisher.pub")).expect("pub");
    let line = public
        .lines()
        .find(|l| l.starts_with("RW"))
        .expect("key line")
        .to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("publisher.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is private");
    }
    let again = home.run(&[
        "keygen",
        "--out",
        keys.to_str().expect("utf-8"),
        "--name",
        "publisher",
    ]);
    assert_eq!(again.status.code(), Some(2), "keys are never overwritten");

    // An unsigned copy of an example, signed with the new key.
    let package = work.path().join("text-stats");
    std::fs::create_dir(&package).expect("dir");
    let src = plugins_dir().join("text-stats-1.0.0");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(src.join("manifest.json")).expect("manifest"))
            .expect("json");
    manifest.as_object_mut().expect("object").remove("files");
    std::fs::write(package.join("manifest.json"), manifest.to_string()).expect("write");
    std::fs::copy(src.join("plugin.wasm"), package.join("plugin.wasm")).expect("wasm");

    let out = home.run(&["plugin", "install", package.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is unsigned"), "{}", stderr(&out));

    let key = keys.join("publisher.key");
    let out = home.ok(&[
        "plugin",
        "sign",
        package.to_str().expect("utf-8"),
        "--key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(
        out.starts_with("signed text-stats@1.0.0 (1 file) with key"),
        "{out}"
    );
    let out = home.run(&["plugin", "verify", package.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "not trusted yet");
    assert!(
        stderr(&out).contains("which is not trusted"),
        "{}",
        stderr(&out)
    );
    let pub_path = keys.join("publisher.pub");
    let out = home.ok(&[
        "plugin",
        "verify",
        package.to_str().expect("utf-8"),
        "--key",
        pub_path.to_str().expect("utf-8"),
    ]);
    assert!(
        out.starts_with("verified text-stats@1.0.0: signed by key"),
        "{out}"
    );

    let out = home.ok(&["plugin", "scan", package.to_str().expect("utf-8")]);
    assert!(
        out.ends_with("0 findings, nothing blocks an install\n"),
        "{out}"
    );
    let bad = work.path().join("bad");
    std::fs::create_dir(&bad).expect("dir");
    std::fs::write(bad.join("setup.py"), "import os\nos.system('ls')\n").expect("py");
    let out = home.run(&["plugin", "scan", bad.to_str().expect("utf-8"), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["findings"][0]["rule"], "forbidden_import",
        "{report}"
    );
    assert_eq!(report["findings"][0]["line"], 2);

    std::fs::write(
        home.path().join("config.yaml"),
        format!("self_upgrading_loop:\n  security:\n    trusted_keys: [\"{line}\"]\n"),
    )
    .expect("config");
    home.ok(&["plugin", "install", package.to_str().expect("utf-8")]);
    // Tampering after signing is caught.
    let tampered = work.path().join("tampered");
    std::fs::create_dir(&tampered).expect("dir");
    for f in ["manifest.json", "manifest.json.minisig", "plugin.wasm"] {
        std::fs::copy(package.join(f), tampered.join(f)).expect("copy");
    }
    let mut wasm = std::fs::read(tampered.join("plugin.wasm")).expect("wasm");
    let last = wasm.len() - 1;
    wasm[last] ^= 1;
    std::fs::write(tampered.join("plugin.wasm"), wasm).expect("write");
    let out = home.run(&["plugin", "install", tampered.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("plugin.wasm was changed after signing"),
        "{}",
        stderr(&out)
    );
}

/// Serves the files of `dir` over HTTP/1.0 on loopback (one thread, enough for a test).
fn serve_dir(dir: std::path::PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_owned();
            let mut writer = &stream;
            match std::fs::read(dir.join(&path)) {
                Ok(body) => {
                    let _ = write!(
                        writer,
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = writer.write_all(&body);
                }
                Err(_) => {
                    let _ = write!(
                        writer,
                        "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                    );
                }
            }
        }
    });
    url
}

#[test]
fn a_published_index_is_signed_expiring_and_read_over_http() {
    let home = TestHome::new();
    let work = tempfile::tempdir().expect("work");
    let published = work.path().join("published");
    std::fs::create_dir(&published).expect("dir");
    for id in ["unit-convert-1.0.0", "text-summarize-2.0.0"] {
        std::fs::copy(
            plugins_dir().join(format!("{id}.zip")),
            published.join(format!("{id}.zip")),
        )
        .expect("copy");
    }
    let key = common::dev_key("dev.key");
    let out = home.ok(&[
        "catalog",
        "publish",
        published.to_str().expect("utf-8"),
        "--key",
        key.to_str().expect("utf-8"),
        "--expires-in-days",
        "2",
    ]);
    assert!(out.contains("(2 packages, expires in 2 days)"), "{out}");
    let url = serve_dir(published.clone());
    home.config(&format!(
        "  catalog:\n    directory: \"\"\n    index_url: \"{url}/index.json\"\n"
    ));
    let listed = home.ok(&["catalog", "list"]);
    assert!(
        listed.contains("unit-convert    1.0.0")
            && listed.contains(&format!("{url}/unit-convert-1.0.0.zip")),
        "{listed}"
    );

    // An index tampered with after publishing is refused.
    let mut index = std::fs::read(published.join("index.json")).expect("index");
    index.extend(b"\n");
    std::fs::write(published.join("index.json"), index).expect("tamper");
    let out = home.run(&["catalog", "list"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("was changed after signing"),
        "{}",
        stderr(&out)
    );
}

/// `selfup … | head`: a reader that has gone ends selfup quietly with the
/// status a shell shows for SIGPIPE (141), not with a panic.
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_quietly() {
    let home = TestHome::new();
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = home
        .command(&["config", "show"])
        .stdout(writer)
        .output()
        .expect("run selfup");
    assert_eq!(out.status.code(), Some(141), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "nothing on stderr");
}
