//! `selfup keygen`, `selfup plugin sign|verify|scan`.

use std::path::{Path, PathBuf};

use selfup_plugins::scan::{ScanPolicy, scan_path};
use selfup_plugins::signing::{
    PublicKey, SecretKey, generate_keypair, sign_package, sign_zip, verify_dir_or_zip,
};

use crate::cli::KeygenArgs;
use crate::commands::private_file::write_new_private;
use crate::context::Context;
use crate::exit::Exit;

fn password(var: Option<&str>) -> anyhow::Result<Option<String>> {
    match var {
        None => Ok(None),
        Some(var) => std::env::var(var).map(Some).map_err(|_| {
            Exit::new(2, format!("--password-env names {var}, which is not set")).into()
        }),
    }
}

/// Writes a new key pair.
pub fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    let pass = password(args.password_env.as_deref())?;
    let (secret, public) =
        generate_keypair(pass.as_deref()).map_err(|e| Exit::new(1, e.to_string()))?;
    std::fs::create_dir_all(&args.out)?;
    let (key_path, pub_path) = (
        args.out.join(format!("{}.key", args.name)),
        args.out.join(format!("{}.pub", args.name)),
    );
    for path in [&key_path, &pub_path] {
        if path.exists() {
            return Err(Exit::new(
                2,
                format!(
                    "{} exists; choose another --name or --out (keys are never overwritten)",
                    path.display()
                ),
            )
            .into());
        }
    }
    write_new_private(&key_path, secret.as_bytes())?;
    std::fs::write(&pub_path, public.as_bytes())?;
    let key = PublicKey::parse(&public).map_err(|e| Exit::new(1, e.to_string()))?;
    println!(
        "secret key: {}{}",
        key_path.display(),
        if pass.is_none() {
            " (unencrypted: keep it safe)"
        } else {
            ""
        }
    );
    println!(
        "public key: {} (key id {})",
        pub_path.display(),
        key.key_id()
    );
    println!(
        "to trust it, add to security.trusted_keys:\n  - \"{}\"",
        key.to_base64()
    );
    Ok(())
}

/// Signs a package.
pub fn sign(
    package: &Path,
    key: &Path,
    password_env: Option<&str>,
    out: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let pass = password(password_env)?;
    let secret = SecretKey::from_file(key, pass.as_deref())
        .map_err(|e| Exit::new(2, format!("{}: {e}", key.display())))?;
    let signed = if package.is_dir() {
        if out.is_some() {
            return Err(Exit::new(
                2,
                "--out is for zip packages; a directory is signed in place",
            )
            .into());
        }
        sign_package(package, &secret)
    } else {
        sign_zip(package, out.map_or(package, PathBuf::as_path), &secret)
    }
    .map_err(|e| Exit::new(2, e.to_string()))?;
    println!(
        "signed {} ({}) with key {}{}",
        signed.package,
        crate::format::count(signed.files, "file"),
        signed.key_id,
        out.map_or(String::new(), |o| format!(" → {}", o.display()))
    );
    Ok(())
}

/// Verifies a package against the trusted keys.
pub fn verify(ctx: &Context, package: &Path, extra_keys: &[PathBuf]) -> anyhow::Result<()> {
    let mut trusted = Vec::new();
    for key in &ctx.config.self_upgrading_loop.security.trusted_keys {
        trusted.push(
            PublicKey::parse(key)
                .map_err(|e| Exit::new(2, format!("security.trusted_keys: {e}")))?,
        );
    }
    for path in extra_keys {
        trusted.push(
            PublicKey::from_file(path)
                .map_err(|e| Exit::new(2, format!("{}: {e}", path.display())))?,
        );
    }
    let verified = verify_dir_or_zip(package, &trusted).map_err(|e| Exit::new(1, e.to_string()))?;
    println!(
        "verified {}: signed by key {}, {} checked",
        verified.package,
        verified.key_id,
        crate::format::count(verified.files, "file")
    );
    Ok(())
}

/// Scans a package or directory.
pub fn scan(ctx: &Context, path: &Path, json: bool) -> anyhow::Result<()> {
    let policy = ScanPolicy::from_config(&ctx.config.self_upgrading_loop.security);
    let report = scan_path(path, &policy).map_err(|e| Exit::new(2, e.to_string()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for finding in &report.findings {
            println!("{finding}");
        }
        println!(
            "{} scanned in {:.1} ms: {}, {}",
            crate::format::count(report.files_scanned, "file"),
            report.elapsed.as_secs_f64() * 1000.0,
            crate::format::count(report.findings.len(), "finding"),
            if report.passed {
                "nothing blocks an install"
            } else {
                "CRITICAL findings block an install"
            }
        );
    }
    if report.passed {
        Ok(())
    } else {
        Err(Exit::new(1, "the scan found CRITICAL problems").into())
    }
}

/// Writes a signed, expiring index of the zip packages in `dir`.
pub fn publish_index(
    dir: &Path,
    key: &Path,
    password_env: Option<&str>,
    expires_in_days: u32,
) -> anyhow::Result<()> {
    use selfup_core::clock::Clock;
    let pass = password(password_env)?;
    let secret = SecretKey::from_file(key, pass.as_deref())
        .map_err(|e| Exit::new(2, format!("{}: {e}", key.display())))?;
    let catalog = selfup_loop::catalog::Catalog::from_directory(dir)
        .map_err(|e| Exit::new(2, e.to_string()))?;
    let mut packages = Vec::new();
    for entry in &catalog.entries {
        let selfup_loop::catalog::PackageLocation::Path { path } = &entry.location else {
            continue;
        };
        if path.is_dir() {
            eprintln!(
                "skipped {} (a directory; the index serves .zip packages)",
                path.display()
            );
            continue;
        }
        let bytes = std::fs::read(path)?;
        let url = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        packages.push(serde_json::json!({
            "url": url,
            "sha256": selfup_plugins::signing::sha256_hex(&bytes),
            "manifest": entry.manifest,
        }));
    }
    for problem in &catalog.problems {
        eprintln!("skipped: {problem}");
    }
    let expires_at = selfup_store::system_clock::SystemClock.now_ms() / 1000
        + i64::from(expires_in_days) * 86_400;
    let index = serde_json::to_vec_pretty(
        &serde_json::json!({ "expires_at": expires_at, "packages": packages }),
    )?;
    let signature =
        selfup_plugins::signing::sign_bytes(&index, &secret, selfup_loop::catalog::INDEX_COMMENT)
            .map_err(|e| Exit::new(1, e.to_string()))?;
    // Each file replaces the old one whole (a reader never sees half a
    // file); a reader between the two renames sees a signature mismatch
    // and tries again on its next cycle.
    replace_file(&dir.join("index.json"), &index)?;
    replace_file(&dir.join("index.json.minisig"), &signature)?;
    println!(
        "wrote {} ({}, expires in {expires_in_days} days) and its signature by key {}",
        dir.join("index.json").display(),
        crate::format::count(packages.len(), "package"),
        secret.key_id()
    );
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn replace_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
