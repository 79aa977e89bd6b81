//! `cargo xtask plugins`: build the example plugins as WASI preview 2
//! components, sign each with the development key `keys/dev.key` and pack
//! it as `target/plugins/<name>-<version>.zip` (and the same three files —
//! `manifest.json` with its `files` list, `manifest.json.minisig` and the
//! component — unpacked in `target/plugins/<name>-<version>/`).
//!
//! Each manifest is signed once and the same bytes go into both forms;
//! every signature is checked against `keys/dev.pub` before it is written,
//! so a key pair that does not match fails here, not in the demo.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use selfup_signing::{
    MANIFEST_FILE, PublicKey, SIGNATURE_FILE, SecretKey, check_files, sha256_hex, sign_manifest,
    verify_signature, write_zip,
};
use serde_json::Value;

/// The compilation target of the plugins.
const TARGET: &str = "wasm32-wasip2";

/// The development key pair, relative to the repository root (for
/// development and tests only; see keys/README.md).
const DEV_SECRET_KEY: &str = "keys/dev.key";
const DEV_PUBLIC_KEY: &str = "keys/dev.pub";

/// Build every plugin crate under `<repo_root>/plugins`, sign it with the
/// development key and pack it; returns the paths of the zip packages.
pub fn build_and_pack(repo_root: &Path) -> Result<Vec<PathBuf>> {
    let plugins_dir = repo_root.join("plugins");
    let crates = plugin_crates(&plugins_dir)?;
    let keys = DevKeys::load(repo_root)?;
    ensure_target()?;
    let target_dir = repo_root.join("target").join("wasm-plugins");
    build(&plugins_dir, &target_dir)?;
    let built_dir = target_dir.join(TARGET).join("release");
    let out_dir = repo_root.join("target").join("plugins");
    fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    let mut packed: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut zips = Vec::new();
    for crate_dir in &crates {
        let mut plugin = Plugin::read(crate_dir, &built_dir)?;
        plugin.sign(&keys)?;
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
    println!(
        "signed with the development key {DEV_SECRET_KEY} (key id {}; development and tests only)",
        keys.secret.key_id()
    );
    Ok(zips)
}

/// The development key pair the example packages are signed with.
struct DevKeys {
    secret: SecretKey,
    public: PublicKey,
}

impl DevKeys {
    /// Load `keys/dev.key` (unencrypted) and `keys/dev.pub`, which must match.
    fn load(repo_root: &Path) -> Result<Self> {
        let secret = SecretKey::from_file(&repo_root.join(DEV_SECRET_KEY), None)
            .with_context(|| format!("loading the development secret key {DEV_SECRET_KEY}"))?;
        let public = PublicKey::from_file(&repo_root.join(DEV_PUBLIC_KEY))
            .with_context(|| format!("loading the development public key {DEV_PUBLIC_KEY}"))?;
        ensure!(
            secret.public_key() == &public,
            "{DEV_SECRET_KEY} (key id {}) and {DEV_PUBLIC_KEY} (key id {}) are not one key pair; restore both from git",
            secret.key_id(),
            public.key_id()
        );
        Ok(Self { secret, public })
    }
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
    /// `manifest.json.minisig`, once signed.
    signature: Option<Vec<u8>>,
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
            entry_point != MANIFEST_FILE && entry_point != SIGNATURE_FILE,
            "plugin {name} {version}: entry_point must not be {MANIFEST_FILE} or {SIGNATURE_FILE}"
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
            signature: None,
        })
    }

    /// Rewrite the manifest with its `files` list and sign it with the
    /// development key; the signature is checked with the public key.
    fn sign(&mut self, keys: &DevKeys) -> Result<()> {
        let what = || format!("plugin {} {}: signing", self.name, self.version);
        let files = BTreeMap::from([(self.entry_point.clone(), sha256_hex(&self.component))]);
        let signed =
            sign_manifest(&self.manifest, files.clone(), &keys.secret).with_context(what)?;
        let verified = verify_signature(
            &signed.manifest_json,
            Some(&signed.signature),
            std::slice::from_ref(&keys.public),
        )
        .and_then(|manifest| check_files(&manifest, &files))
        .with_context(what)?;
        ensure!(
            verified.package == format!("{}@{}", self.name, self.version),
            "plugin {} {}: signed as {}",
            self.name,
            self.version,
            verified.package
        );
        self.manifest = signed.manifest_json;
        self.signature = Some(signed.signature);
        Ok(())
    }

    /// The package's files in packing order: the manifest, its signature
    /// (once signed) and the entry point.
    fn files(&self) -> Vec<(&str, &[u8])> {
        let mut files = vec![(MANIFEST_FILE, self.manifest.as_slice())];
        if let Some(signature) = &self.signature {
            files.push((SIGNATURE_FILE, signature));
        }
        files.push((&self.entry_point, &self.component));
        files
    }

    /// Write `<out_dir>/<id>.zip` (via a temporary file and a rename).
    fn pack_zip(&self, out_dir: &Path, id: &str) -> Result<PathBuf> {
        let path = out_dir.join(format!("{id}.zip"));
        write_zip(&path, &self.files())
            .with_context(|| format!("plugin {id}: writing {}", path.display()))?;
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

    /// A fresh development key pair in `<dir>/keys/`.
    fn dev_keys(dir: &Path) -> DevKeys {
        let (secret, public) = selfup_signing::generate_keypair(None).unwrap();
        fs::create_dir_all(dir.join("keys")).unwrap();
        fs::write(dir.join(DEV_SECRET_KEY), secret).unwrap();
        fs::write(dir.join(DEV_PUBLIC_KEY), public).unwrap();
        DevKeys::load(dir).unwrap()
    }

    #[test]
    fn packs_a_signed_manifest_its_signature_and_the_entry_point() {
        let root = scratch("pack");
        let crate_dir = root.join("my-plugin-1");
        let built = root.join("built");
        fs::create_dir_all(&crate_dir).unwrap();
        fs::create_dir_all(&built).unwrap();
        let manifest = r#"{"name": "my-plugin", "version": "1.2.0", "entry_point": "plugin.wasm", "provided_capabilities": ["my.cap"]}"#;
        fs::write(crate_dir.join("manifest.json"), manifest).unwrap();
        fs::write(built.join("my_plugin_1.wasm"), b"\0asm fake").unwrap();

        let keys = dev_keys(&root);
        let mut plugin = Plugin::read(&crate_dir, &built).unwrap();
        plugin.sign(&keys).unwrap();
        let zip_path = plugin.pack_zip(&root, "my-plugin-1.2.0").unwrap();
        let dir = plugin.pack_dir(&root, "my-plugin-1.2.0").unwrap();

        let mut archive = zip::ZipArchive::new(fs::File::open(&zip_path).unwrap()).unwrap();
        let names: Vec<String> = archive
            .file_names_raw()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert_eq!(names, [MANIFEST_FILE, SIGNATURE_FILE, "plugin.wasm"]);
        let mut wasm = Vec::new();
        let mut entry = archive.by_name("plugin.wasm").unwrap();
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
        entry.read_to_end(&mut wasm).unwrap();
        assert_eq!(wasm, b"\0asm fake");
        drop(entry);

        // The same signed manifest and signature in both forms.
        let mut zipped_manifest = Vec::new();
        archive
            .by_name(MANIFEST_FILE)
            .unwrap()
            .read_to_end(&mut zipped_manifest)
            .unwrap();
        let manifest_json = fs::read(dir.join(MANIFEST_FILE)).unwrap();
        assert_eq!(zipped_manifest, manifest_json);
        let signature = fs::read(dir.join(SIGNATURE_FILE)).unwrap();
        let signed = verify_signature(
            &manifest_json,
            Some(&signature),
            std::slice::from_ref(&keys.public),
        )
        .unwrap();
        assert_eq!(
            signed.manifest.files["plugin.wasm"],
            sha256_hex(b"\0asm fake")
        );
        assert_eq!(signed.trusted_comment, "selfup-package my-plugin@1.2.0");
        assert_eq!(fs::read(dir.join("plugin.wasm")).unwrap(), b"\0asm fake");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_mismatched_development_key_pair_is_refused() {
        let root = scratch("mismatch");
        dev_keys(&root);
        let (_, other) = selfup_signing::generate_keypair(None).unwrap();
        fs::write(root.join(DEV_PUBLIC_KEY), other).unwrap();
        let err = DevKeys::load(&root).err().unwrap();
        assert!(
            format!("{err:#}").contains("are not one key pair"),
            "{err:#}"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn the_committed_development_keys_match() {
        let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        DevKeys::load(repo_root).unwrap();
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
