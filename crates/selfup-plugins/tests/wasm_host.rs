//! The wasm host against the real example plugins (built by
//! `cargo xtask plugins`, which `cargo xtask test` runs first).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use selfup_core::call::ErrorKind;
use selfup_core::manifest::PluginManifest;
use selfup_plugins::RunningPlugin;
use selfup_plugins::package::{UnpackLimits, stage};
use selfup_plugins::wasm::{HostConfig, LoadSpec, WasmHost, WasmPlugin};
use sha2::{Digest, Sha256};

fn packages_dir() -> PathBuf {
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

struct Loaded {
    plugin: Arc<WasmPlugin>,
    _dir: tempfile::TempDir,
}

fn load_with(host: &WasmHost, package: &str, edit: impl FnOnce(&mut PluginManifest)) -> Loaded {
    let dir = tempfile::tempdir().expect("tempdir");
    let staged = stage(
        &packages_dir().join(format!("{package}.zip")),
        &dir.path().join("staging"),
        &UnpackLimits::default(),
    )
    .expect("stage");
    let entry = staged.entry_point().expect("entry").staged_at.clone();
    let kept = dir.path().join("plugin.wasm");
    std::fs::copy(&entry, &kept).expect("copy");
    let hash = hex::encode(Sha256::digest(std::fs::read(&kept).expect("read")));
    let mut manifest = staged.manifest.clone();
    edit(&mut manifest);
    let plugin = host
        .load(LoadSpec {
            manifest: Arc::new(manifest),
            component_hash: hash,
            component_path: kept,
            data_dir: dir.path().join("data"),
        })
        .expect("load");
    Loaded { plugin, _dir: dir }
}

fn load(host: &WasmHost, package: &str) -> Loaded {
    load_with(host, package, |_| {})
}

fn host() -> WasmHost {
    WasmHost::new(HostConfig::default()).expect("host")
}

#[tokio::test]
async fn instances_are_reused_across_calls() {
    let host = host();
    let echo = load(&host, "test-echo-1.0.0");
    for i in 0..20 {
        let input = format!("{{\"i\":{i}}}");
        let r = echo.plugin.call("test.echo", &input).await;
        assert_eq!(r.output.expect("echo"), input);
        assert!(r.cost.peak_memory_bytes > 0);
    }
    let stats = echo.plugin.stats();
    assert_eq!(
        (stats.calls, stats.instances_created, stats.instances_live),
        (20, 1, 1)
    );
    let health = echo.plugin.health().await;
    assert!(health.healthy, "{health:?}");
    assert_eq!(health.details["calls_served"], 20);
    echo.plugin.shutdown().await;
    assert_eq!(echo.plugin.stats().instances_live, 0);
}

#[tokio::test]
async fn a_spinning_call_times_out_while_other_plugins_keep_serving() {
    let host = host();
    let spin = load(&host, "test-spin-1.0.0");
    let echo = load(&host, "test-echo-1.0.0");
    let started = Instant::now();
    let spinning = spin.plugin.call("test.spin", r#"{"spin":true}"#);
    let meanwhile = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = Instant::now();
        let r = echo.plugin.call("test.echo", "{}").await;
        (r, t.elapsed())
    };
    let (spun, (echoed, echo_time)) = tokio::join!(spinning, meanwhile);
    let err = spun.output.expect_err("spins");
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.message.contains("limit of 1s"), "{err}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(990) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(spun.cost.cpu_us > 500_000, "cpu {}", spun.cost.cpu_us);
    echoed.output.expect("echo served during the spin");
    assert!(
        echo_time < Duration::from_millis(500),
        "echo waited {echo_time:?}"
    );
    let ok = spin.plugin.call("test.spin", r#"{"spin":false}"#).await;
    assert_eq!(ok.output.expect("fresh instance"), r#"{"ok":true}"#);
    let stats = spin.plugin.stats();
    assert_eq!((stats.instances_lost, stats.instances_created), (1, 2));
}

#[tokio::test]
async fn unbounded_allocation_is_resource_exhausted() {
    let host = host();
    let alloc = load(&host, "test-alloc-1.0.0");
    let r = alloc.plugin.call("test.alloc", r#"{"alloc":true}"#).await;
    let err = r.output.expect_err("exhausts");
    assert_eq!(err.kind, ErrorKind::ResourceExhausted, "{err}");
    assert!(err.message.contains("32 MiB"), "{err}");
    assert!(
        r.cost.peak_memory_bytes <= 32 << 20,
        "{}",
        r.cost.peak_memory_bytes
    );
    let ok = alloc.plugin.call("test.alloc", r#"{"alloc":false}"#).await;
    ok.output.expect("a fresh instance serves");
}

#[tokio::test]
async fn a_trap_loses_only_that_instance() {
    let host = host();
    let trap = load(&host, "test-trap-1.0.0");
    let first = trap.plugin.call("test.trap", r#"{"trap":false}"#).await;
    assert!(first.output.expect("ok").contains(r#""calls":1"#));
    let r = trap.plugin.call("test.trap", r#"{"trap":true}"#).await;
    let err = r.output.expect_err("traps");
    assert_eq!(err.kind, ErrorKind::PluginError);
    assert!(err.message.contains("trapped"), "{err}");
    assert!(err.message.contains("unreachable"), "{err}");
    let after = trap.plugin.call("test.trap", r#"{"trap":false}"#).await;
    assert!(
        after.output.expect("ok").contains(r#""calls":1"#),
        "a fresh instance counts from 1"
    );
}

#[tokio::test]
async fn only_allowed_paths_exist_for_the_guest() {
    let host = host();
    let secret = tempfile::tempdir().expect("secret");
    std::fs::write(secret.path().join("secret.txt"), "top secret").expect("write");
    let denied = load(&host, "test-files-1.0.0");
    let input = serde_json::json!({ "path": as_the_guest_sees(&secret.path().join("secret.txt")) })
        .to_string();
    let err = denied
        .plugin
        .call("test.read-file", &input)
        .await
        .output
        .expect_err("denied");
    assert_eq!(err.kind, ErrorKind::PluginError);
    assert!(err.message.contains("No such file"), "{err}");
    let err = denied
        .plugin
        .call("test.read-file", r#"{"path":"/etc/passwd"}"#)
        .await
        .output
        .expect_err("denied");
    assert!(err.message.contains("No such file"), "{err}");

    let allowed_dir = secret.path().to_string_lossy().into_owned();
    let allowed = load_with(&host, "test-files-1.0.0", |m| {
        m.security_profile.allowed_file_paths = vec![allowed_dir.clone()];
    });
    let out = allowed
        .plugin
        .call("test.read-file", &input)
        .await
        .output
        .expect("allowed");
    assert!(out.contains("top secret"), "{out}");
}

#[tokio::test]
async fn bad_requests_are_invalid_input() {
    let host = host();
    let stats = load(&host, "text-stats-1.0.0");
    let err = stats
        .plugin
        .call("text.stats", r#"{"txt":"x"}"#)
        .await
        .output
        .expect_err("bad");
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("text"), "{err}");
    let err = stats
        .plugin
        .call("text.stats", "not json")
        .await
        .output
        .expect_err("bad");
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_share_a_bounded_pool() {
    let host = host();
    let stats = Arc::new(load(&host, "text-stats-1.0.0"));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let stats = stats.clone();
        tasks.push(tokio::spawn(async move {
            let input = serde_json::json!({ "text": format!("Call number {i}. Two sentences.") })
                .to_string();
            stats.plugin.call("text.stats", &input).await
        }));
    }
    for task in tasks {
        let out = task.await.expect("join").output.expect("ok");
        assert!(out.contains(r#""sentences":2"#), "{out}");
    }
    let s = stats.plugin.stats();
    assert_eq!(s.calls, 64);
    assert!(s.instances_created <= 4, "{s:?}");
}

#[test]
fn non_components_are_refused_clearly() {
    let host = host();
    let err = host.check_component(b"not wasm").expect_err("garbage");
    assert!(
        err.to_string()
            .contains("not a valid WebAssembly component"),
        "{err}"
    );
    // A core module is valid wasm but not a component.
    let core_module = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    let err = host.check_component(&core_module).expect_err("core module");
    assert!(
        err.to_string()
            .contains("not a valid WebAssembly component"),
        "{err}"
    );
    let echo = std::fs::read(packages_dir().join("test-echo-1.0.0/plugin.wasm")).expect("echo");
    host.check_component(&echo).expect("a real plugin passes");
}

/// How a WASI guest names the host path `path`: with `/` separators (on
/// Windows `C:\x\y` is `C:/x/y`; elsewhere the path itself).
fn as_the_guest_sees(path: &std::path::Path) -> String {
    let shown = path.to_string_lossy();
    if cfg!(windows) {
        shown.replace('\\', "/")
    } else {
        shown.into_owned()
    }
}
