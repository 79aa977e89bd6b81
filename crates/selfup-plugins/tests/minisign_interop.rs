//! Interoperability with the `minisign` command-line tool (Debian's
//! package), both ways: what it signs, selfup verifies; what selfup signs,
//! it verifies. Keys go both ways too, encrypted and not.
//!
//! This test needs `minisign` on the PATH (`apt-get install -y minisign`)
//! and fails, never skips, without it.
// Unix-only: the tool is Debian's Linux binary, which a Windows build (run
// under Wine) cannot start; the signature bytes are the same on every system.
#![cfg(unix)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use selfup_plugins::signing::{
    MANIFEST_FILE, PublicKey, SIGNATURE_FILE, SecretKey, SignatureError, VerifyPackageError,
    generate_keypair, sign_package, verify_dir_or_zip,
};

const MANIFEST: &str = r#"{"name":"unit-convert","version":"1.0.0","entry_point":"plugin.wasm","provided_capabilities":["units.convert"]}"#;
const COMMENT: &str = "selfup-package unit-convert@1.0.0";

/// Runs `minisign` with `args` in `dir`, feeding `stdin` (passwords).
fn minisign(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new("minisign")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run the `minisign` command-line tool ({e}); this interoperability test needs it: install it with `apt-get install -y minisign` (CI installs it)"
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("minisign output")
}

fn ok(output: Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{what} failed: {text}");
    text
}

/// A package directory whose manifest already lists its files (signed by
/// a throwaway key, then the signature removed).
fn package(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join(MANIFEST_FILE), MANIFEST).expect("manifest");
    std::fs::write(dir.join("plugin.wasm"), b"\0asm\x01\0\0\0").expect("wasm");
    let (secret, _) = generate_keypair(None).expect("pair");
    let secret = SecretKey::parse(&secret, None).expect("secret");
    sign_package(&dir, &secret).expect("list the files");
    std::fs::remove_file(dir.join(SIGNATURE_FILE)).expect("unsign");
    dir
}

fn signature_error(path: &Path, trusted: &[PublicKey]) -> SignatureError {
    match verify_dir_or_zip(path, trusted).expect_err("refused") {
        VerifyPackageError::Signature(e) => e,
        other => panic!("not a signature error: {other}"),
    }
}

#[test]
fn the_minisign_tool_is_installed() {
    let output = Command::new("minisign").arg("-v").output().unwrap_or_else(|e| {
        panic!(
            "the `minisign` command-line tool is missing ({e}): install it with `apt-get install -y minisign` (CI installs it); the interoperability tests need it and do not skip"
        )
    });
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with("minisign "),
        "unexpected `minisign -v` output: {output:?}"
    );
}

#[test]
fn selfup_verifies_what_the_minisign_tool_signs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    ok(
        minisign(root, &["-G", "-W", "-p", "cli.pub", "-s", "cli.key"], ""),
        "minisign -G -W",
    );
    let public = PublicKey::from_file(&root.join("cli.pub")).expect("the CLI's public key");
    let pub_text = std::fs::read_to_string(root.join("cli.pub")).expect("pub");
    assert_eq!(
        pub_text.lines().next(),
        Some(format!("untrusted comment: minisign public key {}", public.key_id()).as_str()),
        "key ids are printed as minisign prints them"
    );
    let from_line = PublicKey::parse(pub_text.lines().nth(1).expect("line")).expect("base64 line");
    assert_eq!(from_line, public);

    let dir = package(root, "cli-signed");
    let key = root.join("cli.key");
    let key = key.to_str().expect("utf-8");
    ok(
        minisign(
            &dir,
            &["-S", "-s", key, "-m", MANIFEST_FILE, "-t", COMMENT],
            "",
        ),
        "minisign -S",
    );
    let verified = verify_dir_or_zip(&dir, std::slice::from_ref(&public)).expect("verified");
    assert_eq!(verified.key_id, public.key_id());
    assert_eq!(verified.trusted_comment, COMMENT);

    // The CLI's unencrypted secret key (zero checksum) signs with selfup too.
    let secret = SecretKey::from_file(&root.join("cli.key"), None).expect("the CLI's secret key");
    assert_eq!(secret.key_id(), public.key_id());
    assert!(!secret.was_encrypted());
    sign_package(&dir, &secret).expect("signed with the CLI's key");
    verify_dir_or_zip(&dir, std::slice::from_ref(&public)).expect("verified");

    // A comment for another package, and a legacy signature, are refused.
    ok(
        minisign(
            &dir,
            &[
                "-S",
                "-s",
                key,
                "-m",
                MANIFEST_FILE,
                "-t",
                "selfup-package other@1.0.0",
            ],
            "",
        ),
        "minisign -S -t other",
    );
    let err = signature_error(&dir, std::slice::from_ref(&public));
    assert!(matches!(err, SignatureError::WrongPackage { .. }), "{err}");
    ok(
        minisign(
            &dir,
            &["-S", "-l", "-s", key, "-m", MANIFEST_FILE, "-t", COMMENT],
            "",
        ),
        "minisign -S -l",
    );
    let err = signature_error(&dir, std::slice::from_ref(&public));
    assert!(matches!(err, SignatureError::Legacy { .. }), "{err}");
    assert!(
        err.to_string().contains("legacy minisign signature"),
        "{err}"
    );
}

#[test]
fn selfup_loads_an_encrypted_key_of_the_minisign_tool() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    ok(
        minisign(
            root,
            &["-G", "-p", "enc.pub", "-s", "enc.key"],
            "s3cret\ns3cret\n",
        ),
        "minisign -G",
    );
    let text = std::fs::read_to_string(root.join("enc.key")).expect("key");
    assert!(SecretKey::needs_password(&text).expect("key text"));
    assert!(SecretKey::parse(&text, None).is_err());
    assert!(SecretKey::parse(&text, Some("wrong")).is_err());
    let secret = SecretKey::parse(&text, Some("s3cret")).expect("decrypted");
    let public = PublicKey::from_file(&root.join("enc.pub")).expect("public");
    assert_eq!(secret.key_id(), public.key_id());
    let dir = package(root, "enc-signed");
    sign_package(&dir, &secret).expect("signed");
    ok(
        minisign(
            &dir,
            &["-V", "-H", "-p", "../enc.pub", "-m", MANIFEST_FILE],
            "",
        ),
        "minisign -V with the CLI's own public key",
    );
}

#[test]
fn the_minisign_tool_verifies_what_selfup_signs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    for (name, password) in [("plain", None), ("encrypted", Some("hunter2"))] {
        let (secret_text, public_text) = generate_keypair(password).expect("pair");
        std::fs::write(root.join(format!("{name}.key")), &secret_text).expect("key");
        std::fs::write(root.join(format!("{name}.pub")), &public_text).expect("pub");
        let secret = SecretKey::parse(&secret_text, password).expect("secret");
        let dir = package(root, name);
        sign_package(&dir, &secret).expect("signed");
        let pub_path = format!("../{name}.pub");
        // -H: the CLI too insists on a prehashed signature.
        let text = ok(
            minisign(
                &dir,
                &["-V", "-H", "-p", &pub_path, "-m", MANIFEST_FILE],
                "",
            ),
            "minisign -V",
        );
        assert!(
            text.contains(&format!("Trusted comment: {COMMENT}")),
            "{text}"
        );
        let base64 = public_text.lines().nth(1).expect("line");
        ok(
            minisign(&dir, &["-V", "-P", base64, "-m", MANIFEST_FILE], ""),
            "minisign -V -P",
        );

        // The CLI signs with selfup's secret key (its password on stdin).
        let key_path = format!("../{name}.key");
        let stdin = password.map(|p| format!("{p}\n")).unwrap_or_default();
        ok(
            minisign(
                &dir,
                &["-S", "-s", &key_path, "-m", MANIFEST_FILE, "-t", COMMENT],
                &stdin,
            ),
            "minisign -S with selfup's key",
        );
        let public = PublicKey::parse(&public_text).expect("public");
        verify_dir_or_zip(&dir, &[public]).expect("verified");

        // The CLI refuses a manifest changed after signing, as selfup does.
        let manifest = dir.join(MANIFEST_FILE);
        let changed = std::fs::read_to_string(&manifest)
            .expect("manifest")
            .replace("unit-convert", "unit-convery");
        std::fs::write(&manifest, changed).expect("write");
        let output = minisign(&dir, &["-V", "-p", &pub_path, "-m", MANIFEST_FILE], "");
        assert!(
            !output.status.success(),
            "the CLI accepted a changed manifest"
        );
    }
}
