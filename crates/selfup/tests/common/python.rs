//! The official MCP Python SDK from PyPI in a virtual environment, shared by
//! the tests that need an MCP client or server nobody here wrote.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The SDK version the tests pin.
pub const MCP_SDK_VERSION: &str = "2.3.0";

/// The virtual environment's Python, creating the environment (and
/// installing the SDK) the first time; later runs reuse it.
/// `SELFUP_TEST_PYTHON` chooses the interpreter that creates it (default
/// `python3`).
pub fn mcp_venv_python() -> PathBuf {
    static VENV: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut cached = VENV.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(python) = cached.as_ref() {
        return python.clone();
    }
    let venv =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mcp-venv-{MCP_SDK_VERSION}"));
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
        run_ok(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("mcp=={MCP_SDK_VERSION}"),
        ]));
        std::fs::write(&marker, MCP_SDK_VERSION).expect("venv marker");
    }
    *cached = Some(python.clone());
    python
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
