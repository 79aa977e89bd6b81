//! Signature files and key files never panic the parser, and nothing but the
//! genuine signature and trusted comment verifies: a mutated `.minisig`
//! either fails or differs from the real one only in its untrusted comment
//! or line endings.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use selfup_signing::{PublicKey, SecretKey, generate_keypair, sign_bytes, verify_bytes};

const DATA: &[u8] = b"{\"plugins\":[]}";
const COMMENT: &str = "selfup-catalog-index";

struct Fixture {
    public: PublicKey,
    genuine: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (secret, public) = generate_keypair(None).expect("a key pair generates");
        let secret = SecretKey::parse(&secret, None).expect("a fresh secret key parses");
        let public = PublicKey::parse(&public).expect("a fresh public key parses");
        let genuine = sign_bytes(DATA, &secret, COMMENT).expect("signing works");
        Fixture { public, genuine }
    })
}

/// The signature and trusted-comment lines, which are what the key vouches for.
fn signed_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .skip(1)
        .take(3)
        .map(|line| line.trim_end().to_owned())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let trusted = std::slice::from_ref(&fixture.public);
    if verify_bytes(DATA, Some(data), trusted, COMMENT, "fuzz").is_ok() {
        assert_eq!(signed_lines(data), signed_lines(&fixture.genuine));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PublicKey::parse(text);
        let _ = SecretKey::parse(text, None);
    }
});
