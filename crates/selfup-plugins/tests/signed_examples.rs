//! The example packages built by `cargo xtask plugins` (which `cargo xtask
//! test` runs first) are signed with the development key: every zip and
//! directory verifies against `keys/dev.pub`, and against no other key.

use std::path::{Path, PathBuf};

use selfup_plugins::signing::{PublicKey, SignatureError, VerifyPackageError, verify_dir_or_zip};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn packages_dir() -> PathBuf {
    let dir = std::env::var_os("SELFUP_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/plugins"));
    assert!(
        dir.join("test-echo-1.0.0.zip").is_file(),
        "the example plugins are not built in {}; run `cargo xtask plugins` (cargo xtask test does it)",
        dir.display()
    );
    dir
}

/// Every package in `dir`: `.zip` files and directories with a manifest.
fn packages(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the packages directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip") || p.join("manifest.json").is_file())
        .collect();
    found.sort();
    found
}

#[test]
fn every_example_package_is_signed_by_the_development_key() {
    let dev = PublicKey::from_file(&repo_root().join("keys/dev.pub")).expect("keys/dev.pub");
    let all = packages(&packages_dir());
    assert!(all.len() >= 2, "no packages found");
    for package in &all {
        let verified = verify_dir_or_zip(package, std::slice::from_ref(&dev))
            .unwrap_or_else(|e| panic!("{}: {e}", package.display()));
        assert_eq!(verified.key_id, dev.key_id());
        assert!(verified.files >= 1, "{}", package.display());
    }
}

#[test]
fn no_other_key_is_accepted_for_the_examples() {
    let (_, other) = selfup_plugins::signing::generate_keypair(None).expect("pair");
    let other = PublicKey::parse(&other).expect("public");
    let package = packages_dir().join("test-echo-1.0.0.zip");
    match verify_dir_or_zip(&package, &[other]) {
        Err(VerifyPackageError::Signature(SignatureError::UntrustedKey { key_id, .. })) => {
            assert_eq!(key_id.to_string(), "8E826EC5058A718D");
        }
        other => panic!("expected an untrusted key, got {other:?}"),
    }
}
