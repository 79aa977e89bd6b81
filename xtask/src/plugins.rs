//! `cargo xtask plugins`: build the example plugins as WASI preview 2
//! components and pack each as `target/plugins/<name>-<version>.zip` (and
//! the same two files unpacked in `target/plugins/<name>-<version>/`).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The compilation target of the plugins.
const TARGET: &str = "wasm32-wasip2";

/// Build every plugin crate under `<repo_root>/plugins` and pack it; returns
/// the paths of the zip packages.
pub fn build_and_pack(repo_root: &Path) -> Result<Vec<PathBuf>> {
    let plugins_dir = repo_root.join("plugins");
    let crates = plugin_crates(&plugins_dir)?;
    ensure_target()?;
    let target_dir = repo_root.join("target").join("wasm-plugins");
    build(&plugins_dir, &target_dir)?;
    let built_dir = target_dir.join(TARGET).join("release");
    let out_dir = repo_root.join("target").join("plugins");
    fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    let mut packed: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut zips = Vec::new();
    for crate_dir in &crates {
        let plugin = Plugin::read(crate_dir, &built_dir)?;
        let id = format!("{}-{}", plugin.name, plugin.version);
        if let Some(other) = packed.insert(id.clone(), crate_dir.clone()) {
            bail!(
                "plugin {id} is defined twice: by {} and {}",
                other.display(),
                crate_dir.display()
            );
        }
        let zip_path = plugin.pack_zip(&out_dir, &id)?;
        plugin.pack_dir(&out_dir, &id)?;
        let size = fs::metadata(&zip_path)?.len();
        let shown = zip_path.strip_prefix(repo_root).unwrap_or(&zip_path);
        println!("{:<44} {:>7.1} KiB", shown.display(), size as f64 / 1024.0);
        zips.push(zip_path);
    }
    Ok(zips)
}

/// The plugin crate directories: those under `plugins_dir` with a
/// `manifest.json`, sorted.
fn plugin_crates(plugins_dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(plugins_dir)
        .with_context(|| format!("reading the plugins directory {}", plugins_dir.display()))?;
    let mut crates = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.join("manifest.json").is_file() {
            crates.push(path);
        }
    }
    crates.sort();
    ensure!(
        !crates.is_empty(),
        "no plugin crates (directories with a manifest.json) in {}",
        plugins_dir.display()
    );
    Ok(crates)
}

/// Add the rustup target if it is not installed.
fn ensure_target() -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running `rustup target list --installed` (is rustup installed?)")?;
    ensure!(
        output.status.success(),
        "`rustup target list --installed` failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    if String::from_utf8_lossy(&output.stdout)
        .lines()
        .any(|line| line.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("adding the rustup target {TARGET}");
    run(Command::new("rustup").args(["target", "add", TARGET]))
}

/// `cargo build --release --target wasm32-wasip2` of the plugins workspace
/// into its own target directory.
fn build(plugins_dir: &Path, target_dir: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(plugins_dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir))
}

/// Run a command, failing with its command line if it fails.
fn run(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("starting {shown}"))?;
    ensure!(status.success(), "{shown} failed with {status}");
    Ok(())
}

/// One built plugin, ready to pack.
struct Plugin {
    name: String,
    version: String,
    entry_point: String,
    manifest: Vec<u8>,
    component: Vec<u8>,
}

impl Plugin {
    /// Read the manifest of the crate in `crate_dir` and its component,
    /// built into `built_dir`.
    fn read(crate_dir: &Path, built_dir: &Path) -> Result<Self> {
        let crate_name = crate_dir
            .file_name()
            .and_then(OsStr::to_str)
            .with_context(|| {
                format!(
                    "plugin crate directory {} has no UTF-8 name",
                    crate_dir.display()
                )
            })?;
        let manifest_path = crate_dir.join("manifest.json");
        let manifest = fs::read(&manifest_path).with_context(|| {
            format!(
                "plugin crate {crate_name}: reading {}",
                manifest_path.display()
            )
        })?;
        let value: Value = serde_json::from_slice(&manifest).with_context(|| {
            format!(
                "plugin crate {crate_name}: {} is not valid JSON",
                manifest_path.display()
            )
        })?;
        let field = |key: &str| -> Result<String> {
            let text = value.get(key).and_then(Value::as_str).with_context(|| {
                format!("plugin crate {crate_name}: manifest.json has no string field `{key}`")
            })?;
            ensure!(
                is_plain_name(text),
                "plugin crate {crate_name}: manifest field `{key}` = {text:?} must be a plain file-name-safe string"
            );
            Ok(text.to_owned())
        };
        let (name, version, entry_point) =
            (field("name")?, field("version")?, field("entry_point")?);
        ensure!(
            entry_point != "manifest.json",
            "plugin {name} {version}: entry_point must not be manifest.json"
        );
        let wasm_path = built_dir.join(format!("{}.wasm", crate_name.replace('-', "_")));
        let component = fs::read(&wasm_path).with_context(|| {
            format!(
                "plugin {name} {version} (crate {crate_name}): the built component {} is missing",
                wasm_path.display()
            )
        })?;
        Ok(Self {
            name,
            version,
            entry_point,
            manifest,
            component,
        })
    }

    /// The package's files: the manifest and the entry point.
    fn files(&self) -> [(&str, &[u8]); 2] {
        [
            ("manifest.json", &self.manifest),
            (&self.entry_point, &self.component),
        ]
    }

    /// Write `<out_dir>/<id>.zip` (via a temporary file and a rename).
    fn pack_zip(&self, out_dir: &Path, id: &str) -> Result<PathBuf> {
        let path = out_dir.join(format!("{id}.zip"));
        let temp = out_dir.join(format!(".{id}.zip.tmp"));
        let write = || -> Result<()> {
            let file = fs::File::create(&temp)?;
            let mut zip = ZipWriter::new(file);
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .last_modified_time(DateTime::default())
                .unix_permissions(0o644);
            for (name, bytes) in self.files() {
                zip.start_file(name, options)?;
                zip.write_all(bytes)?;
            }
            zip.finish()?.sync_all()?;
            Ok(())
        };
        write()
            .and_then(|()| fs::rename(&temp, &path).map_err(Into::into))
            .with_context(|| format!("plugin {id}: writing {}", path.display()))
            .inspect_err(|_| {
                let _ = fs::remove_file(&temp);
            })?;
        Ok(path)
    }

    /// Write the directory `<out_dir>/<id>/` (built aside, then renamed
    /// over the old one).
    fn pack_dir(&self, out_dir: &Path, id: &str) -> Result<PathBuf> {
        let path = out_dir.join(id);
        let temp = out_dir.join(format!(".{id}.tmp"));
        let write = || -> Result<()> {
            if temp.exists() {
                fs::remove_dir_all(&temp)?;
            }
            fs::create_dir(&temp)?;
            for (name, bytes) in self.files() {
                fs::write(temp.join(name), bytes)?;
            }
            if path.exists() {
                fs::remove_dir_all(&path)?;
            }
            fs::rename(&temp, &path)?;
            Ok(())
        };
        write().with_context(|| format!("plugin {id}: writing {}", path.display()))?;
        Ok(path)
    }
}

/// Whether `text` is safe as (part of) a file name: non-empty, not a dot
/// path, only ASCII letters, digits, `.`, `_`, `-` and `+`.
fn is_plain_name(text: &str) -> bool {
    !text.is_empty()
        && text != "."
        && text != ".."
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn packs_manifest_and_entry_point() {
        let root = scratch("pack");
        let crate_dir = root.join("my-plugin-1");
        let built = root.join("built");
        fs::create_dir_all(&crate_dir).unwrap();
        fs::create_dir_all(&built).unwrap();
        let manifest = r#"{"name": "my-plugin", "version": "1.2.0", "entry_point": "plugin.wasm"}"#;
        fs::write(crate_dir.join("manifest.json"), manifest).unwrap();
        fs::write(built.join("my_plugin_1.wasm"), b"\0asm fake").unwrap();

        let plugin = Plugin::read(&crate_dir, &built).unwrap();
        let zip_path = plugin.pack_zip(&root, "my-plugin-1.2.0").unwrap();
        let dir = plugin.pack_dir(&root, "my-plugin-1.2.0").unwrap();

        let mut archive = zip::ZipArchive::new(fs::File::open(&zip_path).unwrap()).unwrap();
        let mut names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["manifest.json", "plugin.wasm"]);
        let mut wasm = Vec::new();
        let mut entry = archive.by_name("plugin.wasm").unwrap();
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
        entry.read_to_end(&mut wasm).unwrap();
        assert_eq!(wasm, b"\0asm fake");
        assert_eq!(
            fs::read_to_string(dir.join("manifest.json")).unwrap(),
            manifest
        );
        assert_eq!(fs::read(dir.join("plugin.wasm")).unwrap(), b"\0asm fake");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn missing_component_names_the_plugin() {
        let root = scratch("missing");
        let crate_dir = root.join("ghost");
        fs::create_dir_all(&crate_dir).unwrap();
        let manifest = r#"{"name": "ghost", "version": "0.1.0", "entry_point": "plugin.wasm"}"#;
        fs::write(crate_dir.join("manifest.json"), manifest).unwrap();
        let err = Plugin::read(&crate_dir, &root).err().unwrap();
        let message = format!("{err:#}");
        assert!(message.contains("plugin ghost 0.1.0"), "{message}");
        assert!(message.contains("is missing"), "{message}");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn rejects_unsafe_names() {
        assert!(is_plain_name("json-query"));
        assert!(is_plain_name("1.1.0+build.5"));
        assert!(!is_plain_name("../evil"));
        assert!(!is_plain_name(".."));
        assert!(!is_plain_name("a/b"));
        assert!(!is_plain_name(""));
    }
}
