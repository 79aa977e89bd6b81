//! Helpers for end-to-end tests: run the built `selfup` binary as a user
//! would, against a fresh home, and talk to `selfup serve` over HTTP.

#![allow(dead_code)]

pub mod python;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The example packages built by `cargo xtask plugins`.
pub fn plugins_dir() -> PathBuf {
    let dir = std::env::var_os("SELFUP_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins"));
    assert!(
        dir.join("test-echo-1.0.0.zip").is_file(),
        "the example plugins are not built in {}; run `cargo xtask plugins` (cargo xtask test does it)",
        dir.display()
    );
    dir
}

/// A package path: `name-version.zip`, or the unpacked directory.
pub fn package(id: &str, zipped: bool) -> PathBuf {
    let base = plugins_dir().join(id);
    if zipped {
        plugins_dir().join(format!("{id}.zip"))
    } else {
        base
    }
}

/// A fresh selfup home for one test.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

/// The repository's development key pair (the example plugins are signed with it).
pub fn dev_key(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../keys")
        .join(file)
}

/// The development public key, as `security.trusted_keys` takes it.
pub fn dev_public_key() -> String {
    std::fs::read_to_string(dev_key("dev.pub"))
        .expect("keys/dev.pub")
        .lines()
        .find(|l| l.starts_with("RW"))
        .expect("a key line")
        .to_owned()
}

impl TestHome {
    /// A fresh home whose configuration trusts the development key.
    pub fn new() -> Self {
        let home = Self {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        home.config("");
        home
    }

    /// Writes `<home>/config.yaml`: the development key trusted, plus
    /// `extra`, YAML under `self_upgrading_loop` indented by two spaces.
    pub fn config(&self, extra: &str) {
        let text = format!(
            "self_upgrading_loop:\n  security:\n    trusted_keys: [\"{}\"]\n{extra}",
            dev_public_key()
        );
        std::fs::write(self.path().join("config.yaml"), text).expect("config.yaml");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `selfup --home <home> args…`
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_selfup"));
        command
            .arg("--home")
            .arg(self.path())
            .args(args)
            .env_remove("SELFUP_LOG");
        command
    }

    /// Runs selfup and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run selfup")
    }

    /// Runs selfup, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "selfup {args:?} failed with {}:\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates an API token and returns it.
    pub fn token(&self) -> String {
        self.ok(&["token", "create"]).trim().to_owned()
    }

    /// Installs a built example package (zip).
    pub fn install(&self, id: &str) {
        let path = plugins_dir().join(format!("{id}.zip"));
        self.ok(&["plugin", "install", path.to_str().expect("utf-8")]);
    }

    /// Starts `selfup serve` on an ephemeral loopback port.
    pub fn serve(&self) -> Gateway {
        self.serve_with(|_| {})
    }

    /// Starts `selfup serve` on an ephemeral loopback port, its command
    /// changed by `configure` first (e.g. its environment).
    pub fn serve_with(&self, configure: impl FnOnce(&mut Command)) -> Gateway {
        let mut command = self.command(&["serve", "--bind", "127.0.0.1:0"]);
        configure(&mut command);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn selfup serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("a line").expect("read");
        let url = first
            .strip_prefix("selfup gateway listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Gateway {
            child: Some(child),
            url,
            client: reqwest::Client::new(),
            token: None,
        }
    }
}

/// A running `selfup serve`, stopped with SIGTERM when dropped.
pub struct Gateway {
    child: Option<Child>,
    pub url: String,
    pub client: reqwest::Client,
    /// Sent as `Authorization: Bearer` when set.
    pub token: Option<String>,
}

impl Gateway {
    /// POSTs a call; returns status and JSON body.
    pub async fn call(
        &self,
        capability: &str,
        subject: &str,
        input: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.post(
            &format!("/v1/capabilities/{capability}/call"),
            serde_json::json!({ "subject": subject, "input": input }),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let mut request = self.client.post(format!("{}{path}", self.url)).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    pub async fn get(&self, path: &str) -> serde_json::Value {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("json")
    }

    /// Stops the gateway with SIGTERM and waits; its telemetry is flushed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        assert!(status.success(), "selfup serve exited with {status}");
                        return;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = child.kill();
                        panic!("selfup serve did not stop within 20s of SIGTERM");
                    }
                }
            }
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Compares `actual` with `tests/data/cli/<name>`; with `UPDATE_EXPECT=1`
/// rewrites the file instead.
pub fn expect_file(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cli")
        .join(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, actual).expect("update expectation");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with UPDATE_EXPECT=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "output differs from {} (UPDATE_EXPECT=1 updates it)",
        path.display()
    );
}

/// Replaces a home path in output so snapshots are stable.
pub fn scrub(text: &str, home: &Path) -> String {
    text.replace(&home.display().to_string(), "<HOME>")
}
