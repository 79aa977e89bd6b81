//! The command line and environment of a process plugin.
//!
//! No shell and no argument parsing: the entry point is a package-relative
//! path. A file whose extension the host has an interpreter for (`.py` →
//! `python3`, `.js`/`.mjs`/`.cjs` → `node`, found on the host's `PATH`
//! when it starts) runs as `<interpreter> <entry point>`, except a Python
//! package's `__main__.py` (`mcp_server_time/__main__.py`, as a wheel
//! unpacks), which runs as `python3 -m mcp_server_time` from the package
//! directory — how Python runs a package, with the package directory first
//! on the module path so the package imports itself. Any other file is
//! executed itself and must be executable code inside the package. The
//! environment is scrubbed: `PATH`, `HOME` (the plugin's private data
//! directory), `TMPDIR` (a directory inside it) and `LANG`, nothing else.
//!
//! On Windows the interpreters are `python.exe` (else `python3.exe`) and
//! `node.exe` from `PATH`, skipping the Microsoft Store's `WindowsApps`
//! stubs; only `.exe` files count (a `.bat`/`.cmd` needs a shell). The
//! environment is what a Windows program needs to run: `SystemRoot` and
//! `windir`, `PATH` (the interpreter's directory, `System32` and the
//! Windows directory), `USERPROFILE` and `HOME` (the data directory),
//! `TEMP` and `TMP` (inside it), nothing else.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::ProcessError;

/// `PATH` as the plugin process sees it.
pub const PLUGIN_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `LANG` as the plugin process sees it.
pub const PLUGIN_LANG: &str = "C.UTF-8";

/// Interpreters by file extension (without the dot).
pub type Interpreters = BTreeMap<String, PathBuf>;

/// The Python interpreters looked for on `PATH`, in order.
const PYTHON_NAMES: &[&str] = if cfg!(windows) {
    // python3.exe is usually only the Store's stub on Windows.
    &["python", "python3"]
} else {
    &["python3"]
};

/// The interpreters found on this process's `PATH`: `python3` for `py`,
/// `node` for `js`, `mjs` and `cjs`.
pub fn default_interpreters() -> Interpreters {
    let mut map = Interpreters::new();
    if let Some(python) = PYTHON_NAMES.iter().find_map(|name| find_on_path(name)) {
        map.insert("py".into(), python);
    }
    if let Some(node) = find_on_path("node") {
        for ext in ["js", "mjs", "cjs"] {
            map.insert(ext.into(), node.clone());
        }
    }
    map
}

/// The first executable file called `name` in the directories of `PATH`
/// (on Windows `name.exe`, unless `name` has an extension; never in a
/// `WindowsApps` directory, whose `python.exe` opens the Store).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let file = if cfg!(windows) && Path::new(name).extension().is_none() {
        format!("{name}.exe")
    } else {
        name.to_owned()
    };
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .filter(|dir| !(cfg!(windows) && dir.ends_with("WindowsApps")))
        .map(|dir| dir.join(&file))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("exe") || e.eq_ignore_ascii_case("com"))
    }
}

/// What to execute: the program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The program (absolute).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The interpreter's installation prefixes (the parent of its `bin`
    /// directory, as named and with symbolic links resolved: a virtual
    /// environment and the installation it links to), which the sandbox
    /// lets it read; empty for a program inside the package.
    pub interpreter_prefixes: Vec<PathBuf>,
}

/// How to run `entry_point` of the package unpacked in `package_dir`.
pub fn launch(
    entry_point: &str,
    package_dir: &Path,
    interpreters: &Interpreters,
) -> Result<Launch, ProcessError> {
    // Component by component, so that Windows paths get `\` separators.
    let script = entry_point
        .split('/')
        .fold(package_dir.to_path_buf(), |path, part| path.join(part));
    let extension = Path::new(entry_point)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    if let Some(interpreter) = interpreters.get(extension) {
        let prefix = |p: &Path| p.parent().and_then(Path::parent).map(Path::to_path_buf);
        let mut prefixes: Vec<PathBuf> = prefix(interpreter).into_iter().collect();
        if let Some(real) = interpreter.canonicalize().ok().as_deref().and_then(prefix)
            && !prefixes.contains(&real)
        {
            prefixes.push(real);
        }
        let args = match python_module(entry_point) {
            // `-m` puts the working directory (the package directory, where
            // the process starts) first on sys.path.
            Some(module) => vec![OsString::from("-m"), OsString::from(module)],
            None => vec![script.into_os_string()],
        };
        return Ok(Launch {
            program: interpreter.clone(),
            args,
            interpreter_prefixes: prefixes,
        });
    }
    if ["py", "js", "mjs", "cjs"].contains(&extension) {
        return Err(ProcessError::NoInterpreter {
            entry_point: entry_point.to_owned(),
            extension: extension.to_owned(),
            allowed: interpreters.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    }
    Ok(Launch {
        program: script,
        args: Vec::new(),
        interpreter_prefixes: Vec::new(),
    })
}

/// The dotted module name of a package's `__main__.py` entry point
/// (`a/b/__main__.py` → `a.b`), if every directory is a Python identifier.
fn python_module(entry_point: &str) -> Option<String> {
    let package = entry_point.strip_suffix("/__main__.py")?;
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    package
        .split('/')
        .all(identifier)
        .then(|| package.replace('/', "."))
}

/// The whole environment of the plugin process started by `launch`.
#[cfg(not(windows))]
pub fn environment(data_dir: &Path, launch: &Launch) -> Vec<(&'static str, OsString)> {
    let _ = launch;
    vec![
        ("PATH", PLUGIN_PATH.into()),
        ("HOME", data_dir.as_os_str().to_owned()),
        ("TMPDIR", data_dir.join("tmp").into_os_string()),
        ("LANG", PLUGIN_LANG.into()),
    ]
}

/// The whole environment of the plugin process started by `launch`.
#[cfg(windows)]
pub fn environment(data_dir: &Path, launch: &Launch) -> Vec<(&'static str, OsString)> {
    let system_root = std::env::var_os("SystemRoot")
        .filter(|root| Path::new(root).is_absolute())
        .unwrap_or_else(|| OsString::from(r"C:\Windows"));
    let root = PathBuf::from(&system_root);
    let mut path: Vec<PathBuf> = Vec::new();
    if !launch.interpreter_prefixes.is_empty()
        && let Some(dir) = launch.program.parent()
    {
        path.push(dir.to_path_buf());
    }
    path.push(root.join("System32"));
    path.push(root);
    let path = std::env::join_paths(path).unwrap_or_else(|_| system_root.clone());
    let tmp = data_dir.join("tmp").into_os_string();
    vec![
        ("SystemRoot", system_root.clone()),
        ("windir", system_root),
        ("PATH", path),
        ("USERPROFILE", data_dir.as_os_str().to_owned()),
        ("HOME", data_dir.as_os_str().to_owned()),
        ("TEMP", tmp.clone()),
        ("TMP", tmp),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn scripts_run_under_their_interpreter_and_binaries_directly() {
        let interpreters =
            Interpreters::from([("py".into(), PathBuf::from("/opt/py/bin/python3"))]);
        let pkg = Path::new("/pkg");
        let py = launch("srv/server.py", pkg, &interpreters).expect("py");
        assert_eq!(py.program, PathBuf::from("/opt/py/bin/python3"));
        assert_eq!(py.args, vec![OsString::from("/pkg/srv/server.py")]);
        assert_eq!(py.interpreter_prefixes, vec![PathBuf::from("/opt/py")]);
        let bin = launch("bin/server", pkg, &interpreters).expect("bin");
        assert_eq!(bin.program, PathBuf::from("/pkg/bin/server"));
        assert!(bin.args.is_empty());
        let module = launch("mcp_server_time/__main__.py", pkg, &interpreters).expect("module");
        assert_eq!(module.program, PathBuf::from("/opt/py/bin/python3"));
        assert_eq!(module.args, ["-m", "mcp_server_time"].map(OsString::from));
        let nested = launch("src/my_pkg/__main__.py", pkg, &interpreters).expect("nested");
        assert_eq!(nested.args, ["-m", "src.my_pkg"].map(OsString::from));
        let not_a_module = launch("my-server/__main__.py", pkg, &interpreters).expect("script");
        assert_eq!(
            not_a_module.args,
            [OsString::from("/pkg/my-server/__main__.py")]
        );
        let top = launch("__main__.py", pkg, &interpreters).expect("top-level script");
        assert_eq!(top.args, [OsString::from("/pkg/__main__.py")]);
        let err = launch("server.js", pkg, &interpreters).expect_err("no node");
        assert!(matches!(err, ProcessError::NoInterpreter { .. }), "{err}");
    }

    #[test]
    #[cfg(not(windows))]
    fn the_environment_is_only_path_home_tmpdir_and_lang() {
        let launch = launch("bin/server", Path::new("/pkg"), &Interpreters::new()).expect("bin");
        let env = environment(Path::new("/data/p"), &launch);
        let names: Vec<_> = env.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["PATH", "HOME", "TMPDIR", "LANG"]);
    }

    #[test]
    #[cfg(windows)]
    fn the_environment_is_what_windows_needs_and_nothing_else() {
        let interpreters = Interpreters::from([("py".into(), PathBuf::from(r"C:\Py\python.exe"))]);
        let py = launch("srv/server.py", Path::new(r"C:\pkg"), &interpreters).expect("py");
        assert_eq!(py.args, [OsString::from(r"C:\pkg\srv\server.py")]);
        let data = Path::new(r"C:\data\p");
        let env = environment(data, &py);
        let names: Vec<_> = env.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "SystemRoot",
                "windir",
                "PATH",
                "USERPROFILE",
                "HOME",
                "TEMP",
                "TMP"
            ]
        );
        let path = &env[2].1;
        let dirs: Vec<PathBuf> = std::env::split_paths(path).collect();
        assert_eq!(dirs[0], PathBuf::from(r"C:\Py"), "{path:?}");
        assert!(dirs[1].ends_with("System32"), "{path:?}");
        assert_eq!(env[5].1, data.join("tmp").into_os_string());
        let exe = launch("bin/server.exe", Path::new(r"C:\pkg"), &interpreters).expect("exe");
        assert_eq!(exe.program, PathBuf::from(r"C:\pkg\bin\server.exe"));
        let env = environment(data, &exe);
        assert!(!std::env::split_paths(&env[2].1).any(|d| d.starts_with(r"C:\pkg")));
    }
}
