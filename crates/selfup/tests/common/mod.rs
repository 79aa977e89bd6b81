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

    /// Writes `manifest` into the package directory `pkg` and signs it with
    /// the development key (`selfup plugin sign`).
    pub fn sign_package(&self, pkg: &Path, manifest: &serde_json::Value) {
        std::fs::write(
            pkg.join("manifest.json"),
            serde_json::to_vec_pretty(manifest).expect("manifest"),
        )
        .expect("manifest.json");
        let key = dev_key("dev.key");
        self.ok(&[
            "plugin",
            "sign",
            pkg.to_str().expect("utf-8"),
            "--key",
            key.to_str().expect("utf-8"),
        ]);
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

/// A running `selfup serve`, killed when dropped (see [`Gateway::stop`] for
/// a clean stop).
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

    /// Stops the gateway cleanly (SIGTERM on Unix, its stop event on
    /// Windows) and waits; its telemetry is flushed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Err(e) = ask_to_stop(&child) {
                let _ = child.kill();
                panic!("cannot ask selfup serve to stop: {e}");
            }
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
                        panic!("selfup serve did not stop within 20s of {STOP_SIGNAL}");
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

/// Replaces a home path in output so snapshots are stable: `<HOME>`, and on
/// Windows the `\` separators of the paths under it as `/` (the snapshots
/// are written on Linux).
pub fn scrub(text: &str, home: &Path) -> String {
    let scrubbed = text.replace(&home.display().to_string(), "<HOME>");
    if cfg!(windows) {
        slashes_after_home(&scrubbed)
    } else {
        scrubbed
    }
}

/// `<HOME>\a\b.yaml:3` → `<HOME>/a/b.yaml:3`: backslashes up to the end of
/// each path (whitespace, a quote or a colon).
fn slashes_after_home(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("<HOME>") {
        let (before, from_home) = rest.split_at(at + "<HOME>".len());
        out.push_str(before);
        let end = from_home
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ':' | '`'))
            .unwrap_or(from_home.len());
        out.push_str(&from_home[..end].replace('\\', "/"));
        rest = &from_home[end..];
    }
    out.push_str(rest);
    out
}

/// `path` as a double-quoted YAML scalar (JSON's escaping is YAML's), so a
/// Windows path's backslashes stay backslashes in a test's config.
pub fn yaml_path(path: &Path) -> String {
    serde_json::Value::String(path.display().to_string()).to_string()
}

/// How [`Gateway::stop`] asks the server to stop, for messages.
#[cfg(unix)]
const STOP_SIGNAL: &str = "SIGTERM";
#[cfg(windows)]
const STOP_SIGNAL: &str = "its stop event being set";

/// Sends the child SIGTERM (if it has already exited, the wait that
/// follows says how).
#[cfg(unix)]
fn ask_to_stop(child: &Child) -> std::io::Result<()> {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .map(|_| ())
}

/// Sets the child's stop event, `Local\selfup-stop-<pid>`, which
/// `selfup serve` creates before it announces its address (Ctrl-Break
/// would reach it only through a shared console, which Wine cannot send).
#[cfg(windows)]
fn ask_to_stop(child: &Child) -> std::io::Result<()> {
    use std::ffi::c_void;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn OpenEventW(access: u32, inherit: i32, name: *const u16) -> *mut c_void;
        fn SetEvent(event: *mut c_void) -> i32;
        fn CloseHandle(handle: *mut c_void) -> i32;
    }
    const EVENT_MODIFY_STATE: u32 = 0x0002;
    let name: Vec<u16> = format!("Local\\selfup-stop-{}", child.id())
        .encode_utf16()
        .chain(std::iter::once(0))
        .collect();
    // SAFETY: a NUL-terminated name; the handle is checked, used once and
    // closed.
    unsafe {
        let event = OpenEventW(EVENT_MODIFY_STATE, 0, name.as_ptr());
        if event.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        let set = SetEvent(event);
        let error = std::io::Error::last_os_error();
        CloseHandle(event);
        if set == 0 { Err(error) } else { Ok(()) }
    }
}

/// Calls of `capability` recorded per version in the home's telemetry,
/// once the writer has committed at least `at_least` of them (or after
/// 20 s, with what there is).
pub fn calls_per_version(
    home: &Path,
    capability: &str,
    at_least: i64,
) -> std::collections::BTreeMap<String, i64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let db = rusqlite::Connection::open(home.join("selfup.db")).expect("db");
        let mut statement = db
            .prepare(
                "SELECT t.version, COUNT(*) FROM calls c JOIN call_targets t ON t.id = c.target_id
                 WHERE t.capability = ?1 GROUP BY t.version",
            )
            .expect("query");
        let counts: std::collections::BTreeMap<String, i64> = statement
            .query_map([capability], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        if counts.values().sum::<i64>() >= at_least || Instant::now() > deadline {
            return counts;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Puts json-query 1.1.0 in a 50 % rollout against 1.0.0, as the loop
/// would have left it (the router reads the row when the gateway starts).
pub fn start_json_query_rollout(home: &TestHome) {
    start_rollout(home, 7, "json.query", "json-query", "1.0.0", "1.1.0");
}

/// Puts `plugin` `to` in a 50 % rollout of `capability` against `from`
/// (upgrade `id`, at stage 1), as the loop would have left it.
pub fn start_rollout(
    home: &TestHome,
    id: i64,
    capability: &str,
    plugin: &str,
    from: &str,
    to: &str,
) {
    let db = rusqlite::Connection::open(home.path().join("selfup.db")).expect("db");
    db.execute(
        "INSERT INTO upgrades (id, kind, capability, plugin, from_version, to_version, source, state, stage,
                               opportunity, risk, created_at_ms, updated_at_ms, state_since_ms)
         VALUES (?1, 'new_version', ?2, ?3, ?4, ?5, 'test', 'rolling_out', 1, 0.5, 0.1, 0, 0, 0)",
        rusqlite::params![id, capability, plugin, from, to],
    )
    .expect("upgrade row");
    db.execute(
        "INSERT INTO rollouts (capability, upgrade_id, incumbent_plugin, incumbent_version, candidate_plugin,
                               candidate_version, stage, traffic_percentage, seed, started_at_ms, stage_started_at_ms)
         VALUES (?2, ?1, ?3, ?4, ?3, ?5, 1, 50.0, 'seed', 0, 0)",
        rusqlite::params![id, capability, plugin, from, to],
    )
    .expect("rollout row");
}
