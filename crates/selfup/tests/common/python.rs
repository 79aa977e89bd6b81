//! Python virtual environments with packages from PyPI (the official MCP
//! SDK, a published MCP server's libraries), shared by the tests that need
//! an MCP client or server nobody here wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The SDK version the tests pin.
pub const MCP_SDK_VERSION: &str = "2.3.0";

/// The virtual environment's Python, creating the environment (and
/// installing the SDK) the first time; later runs reuse it.
/// `SELFUP_TEST_PYTHON` chooses the interpreter that creates it (default
/// `python3`).
pub fn mcp_venv_python() -> PathBuf {
    let sdk = format!("mcp=={MCP_SDK_VERSION}");
    venv_python(&format!("mcp-venv-{MCP_SDK_VERSION}"), &[&sdk])
}

/// The Python of the virtual environment `name` under the target
/// directory with `requirements` (pinned `pip install` arguments)
/// installed, created the first time and reused after (so `name` should
/// carry the pins, e.g. a version). `SELFUP_TEST_PYTHON` chooses the
/// interpreter that creates it (default `python3`).
pub fn venv_python(name: &str, requirements: &[&str]) -> PathBuf {
    static VENVS: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut cached = VENVS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(python) = cached.get(name) {
        return python.clone();
    }
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    let marker = venv.join("selfup-installed");
    if !marker.is_file() {
        let _ = std::fs::remove_dir_all(&venv);
        let base = std::env::var("SELFUP_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        run_ok(Command::new(&base).args(["-m", "venv"]).arg(&venv));
        run_ok(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(requirements),
        );
        std::fs::write(&marker, requirements.join("\n")).expect("venv marker");
    }
    cached.insert(name.to_owned(), python.clone());
    python
}

/// The kernel's landlock ABI (0 without landlock), asked through Python's
/// ctypes so that the tests need no crate for it.
pub fn kernel_landlock_abi(python: &Path) -> i64 {
    let out = run_ok(Command::new(python).args([
        "-c",
        "import ctypes; l = ctypes.CDLL(None); print(max(l.syscall(444, None, 0, 1), 0))",
    ]));
    out.trim().parse().unwrap_or(0)
}

/// Runs `command`, asserts it succeeded, returns its stdout.
pub fn run_ok(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed with {}:\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
