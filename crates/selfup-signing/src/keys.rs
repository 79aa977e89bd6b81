//! Ed25519 keys in minisign's format: a public key is one base64 line of
//! `"Ed" ‖ key id[8] ‖ key[32]` (a `.pub` file puts an untrusted comment
//! line before it); a secret key file is an untrusted comment and one
//! base64 line, encrypted with a password (scrypt) or not.
//!
//! Unencrypted secret keys (`minisign -G -W`, or [`generate_keypair`]
//! with no password) load without a password; a password given for one is
//! not needed and is ignored, and [`SecretKey::was_encrypted`] says so, so
//! a command line can warn. Encrypted keys need their password: this module
//! never prompts (the `minisign` crate would, given no password).

use std::fmt;
use std::path::{Path, PathBuf};

use ct_codecs::{Base64, Decoder};

/// Bytes of a decoded public key: algorithm, key id, key.
const PUBLIC_KEY_BYTES: usize = 2 + 8 + 32;
/// Bytes of a decoded secret key: algorithms, KDF salt and limits, key id,
/// key (seed ‖ public key), checksum.
const SECRET_KEY_BYTES: usize = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;
/// The only signature algorithm of keys: Ed25519.
const KEY_ALGORITHM: &[u8; 2] = b"Ed";
/// KDF of an unencrypted secret key.
const KDF_NONE: [u8; 2] = [0, 0];
/// KDF of an encrypted secret key: scrypt.
const KDF_SCRYPT: &[u8; 2] = b"Sc";
/// Prefix of the comment line of every minisign key and signature file.
const COMMENT_PREFIX: &str = "untrusted comment:";
/// Largest key file read, in bytes (real ones are under 400).
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

/// A minisign key id: 8 bytes, shown as minisign shows it (uppercase hex of
/// the little-endian number without leading zeros, e.g. `3DC2DE58810C413C`,
/// or `19C6E27D8D82F6B` for one whose top nibble is zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // minisign's `%" PRIX64 "`: no zero padding.
        write!(f, "{:X}", u64::from_le_bytes(self.0))
    }
}

impl KeyId {
    /// The key id of minisign's raw bytes (the `keynum` of its types).
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(KeyId)
    }
}

/// Why a key was refused or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read the key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The text is not a minisign key of the expected kind.
    #[error(
        "this is not a minisign {kind} ({detail}); give the file written by `minisign -G` or `selfup keygen`{hint}"
    )]
    NotAKey {
        /// `public key` or `secret key`.
        kind: &'static str,
        /// What is wrong with it.
        detail: String,
        /// Extra advice, starting with `; ` or empty.
        hint: &'static str,
    },
    /// The key is not an Ed25519 key.
    #[error(
        "the {kind} uses the signature algorithm {found:?}; selfup supports minisign's Ed25519 keys (\"Ed\") only"
    )]
    UnsupportedAlgorithm {
        /// `public key` or `secret key`.
        kind: &'static str,
        /// The algorithm bytes found (lossy).
        found: String,
    },
    /// The secret key is encrypted with a key derivation we do not know.
    #[error(
        "the secret key is encrypted with an unsupported key derivation {found:?}; minisign keys use scrypt (\"Sc\") or none"
    )]
    UnsupportedKdf {
        /// The KDF bytes found (lossy).
        found: String,
    },
    /// An encrypted secret key was loaded without a password.
    #[error(
        "the secret key is encrypted; give its password (or use a key made without one, e.g. `minisign -G -W`)"
    )]
    PasswordRequired,
    /// The password does not decrypt the secret key.
    #[error("wrong password for the secret key; try again with the password it was created with")]
    WrongPassword,
    /// An empty password was given to encrypt a new key.
    #[error("the password is empty; give a password, or none at all for an unencrypted key")]
    EmptyPassword,
    /// The secret key does not produce signatures its own public half accepts.
    #[error(
        "the secret key {key_id} is corrupted: {detail}; restore it from a backup or generate a new key pair"
    )]
    Corrupted {
        /// The key's id.
        key_id: KeyId,
        /// What failed.
        detail: String,
    },
    /// Generating or encrypting a key failed (no randomness, KDF error).
    #[error("cannot generate a key pair: {0}")]
    Generate(String),
}

/// A trusted public key: verifies signatures made by its secret key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    inner: minisign::PublicKey,
    key_id: KeyId,
}

impl PublicKey {
    /// Parses a public key from its base64 line (`RWQ…`, 56 characters) or
    /// from the text of a `.pub` file (an untrusted comment line, then the
    /// base64 line).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let line = key_line(text, "public key")?;
        let bytes = decode(line, "public key")?;
        if bytes.len() != PUBLIC_KEY_BYTES {
            return Err(not_a_key(
                "public key",
                format!(
                    "it decodes to {} bytes, not {PUBLIC_KEY_BYTES}",
                    bytes.len()
                ),
            ));
        }
        check_algorithm(&bytes, "public key")?;
        let inner = minisign::PublicKey::from_bytes(&bytes)
            .map_err(|e| not_a_key("public key", e.to_string()))?;
        let key_id = KeyId::from_slice(inner.keynum())
            .ok_or_else(|| not_a_key("public key", "its key id is not 8 bytes".into()))?;
        Ok(Self { inner, key_id })
    }

    /// Reads a `.pub` file (or a file holding just the base64 line).
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        Self::parse(&read_key_file(path)?)
    }

    /// The key id, as minisign prints it.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The base64 line (`RWQ…`), as `minisign -P` takes it.
    pub fn to_base64(&self) -> String {
        self.inner.to_base64()
    }

    /// The text of a `.pub` file, exactly as `minisign -G` writes it.
    pub fn to_file_text(&self) -> String {
        format!(
            "{COMMENT_PREFIX} minisign public key {}\n{}\n",
            self.key_id,
            self.to_base64()
        )
    }

    /// minisign's own key type, for the signature checks.
    pub(crate) fn inner(&self) -> &minisign::PublicKey {
        &self.inner
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// A decrypted secret key, ready to sign.
#[derive(Clone)]
pub struct SecretKey {
    inner: minisign::SecretKey,
    public: PublicKey,
    encrypted: bool,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_id", &self.public.key_id)
            .field("encrypted", &self.encrypted)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Loads a secret key from the text of a minisign secret key file.
    /// An encrypted key needs `password`; an unencrypted one ignores it.
    /// The key is checked by signing and verifying a probe with its own
    /// public half, so a corrupted key is refused here, not at signing.
    pub fn parse(text: &str, password: Option<&str>) -> Result<Self, KeyError> {
        let line = key_line(text, "secret key")?;
        let bytes = decode(line, "secret key")?;
        if bytes.len() != SECRET_KEY_BYTES {
            return Err(not_a_key(
                "secret key",
                format!(
                    "it decodes to {} bytes, not {SECRET_KEY_BYTES}",
                    bytes.len()
                ),
            ));
        }
        check_algorithm(&bytes, "secret key")?;
        let kdf = [bytes[2], bytes[3]];
        let (inner, encrypted) = if kdf == KDF_NONE {
            // minisign's CLI writes unencrypted keys with a zero checksum,
            // so the probe signature below is the integrity check.
            let inner = minisign::SecretKey::from_bytes(&bytes)
                .map_err(|e| not_a_key("secret key", e.to_string()))?;
            (inner, false)
        } else if &kdf == KDF_SCRYPT {
            let password = password.ok_or(KeyError::PasswordRequired)?;
            let boxed = minisign::SecretKeyBox::from_string(&format!(
                "{COMMENT_PREFIX} selfup\n{}\n",
                line
            ))
            .map_err(|e| not_a_key("secret key", e.to_string()))?;
            let inner = minisign::SecretKey::from_box(boxed, Some(password.to_owned())).map_err(
                |e| match e.kind() {
                    minisign::ErrorKind::Verify => KeyError::WrongPassword,
                    _ => not_a_key("secret key", e.to_string()),
                },
            )?;
            (inner, true)
        } else {
            return Err(KeyError::UnsupportedKdf {
                found: String::from_utf8_lossy(&kdf).into_owned(),
            });
        };
        // The key id is encrypted with the key: read it only now.
        let key_id = KeyId::from_slice(inner.keynum())
            .ok_or_else(|| not_a_key("secret key", "its key id is not 8 bytes".into()))?;
        let public = public_of(&inner, key_id)?;
        probe(&inner, &public)?;
        Ok(Self {
            inner,
            public,
            encrypted,
        })
    }

    /// Reads and loads a secret key file (see [`SecretKey::parse`]).
    pub fn from_file(path: &Path, password: Option<&str>) -> Result<Self, KeyError> {
        Self::parse(&read_key_file(path)?, password)
    }

    /// Whether the key file text holds an encrypted key, so a caller knows
    /// whether to ask for a password before [`SecretKey::parse`].
    pub fn needs_password(text: &str) -> Result<bool, KeyError> {
        let bytes = decode(key_line(text, "secret key")?, "secret key")?;
        if bytes.len() != SECRET_KEY_BYTES {
            return Err(not_a_key(
                "secret key",
                format!(
                    "it decodes to {} bytes, not {SECRET_KEY_BYTES}",
                    bytes.len()
                ),
            ));
        }
        Ok([bytes[2], bytes[3]] != KDF_NONE)
    }

    /// The key id, as minisign prints it.
    pub fn key_id(&self) -> KeyId {
        self.public.key_id
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Whether the key file was encrypted with a password.
    pub fn was_encrypted(&self) -> bool {
        self.encrypted
    }

    /// minisign's own key type, for signing.
    pub(crate) fn inner(&self) -> &minisign::SecretKey {
        &self.inner
    }
}

/// Generates an Ed25519 key pair in minisign's format and returns the texts
/// of the secret key file and of the public key file (`.pub`). With a
/// password the secret key is encrypted as `minisign -G` does (scrypt);
/// without one it is stored unencrypted as `minisign -G -W` does.
pub fn generate_keypair(password: Option<&str>) -> Result<(String, String), KeyError> {
    let pair = match password {
        Some("") => return Err(KeyError::EmptyPassword),
        Some(password) => minisign::KeyPair::generate_encrypted_keypair(Some(password.to_owned())),
        None => minisign::KeyPair::generate_unencrypted_keypair(),
    }
    .map_err(|e| KeyError::Generate(e.to_string()))?;
    let key_id = KeyId::from_slice(pair.pk.keynum())
        .ok_or_else(|| KeyError::Generate("the key id is not 8 bytes".into()))?;
    let comment = if password.is_some() {
        format!("selfup encrypted secret key {key_id}")
    } else {
        format!("selfup secret key {key_id}, NOT encrypted: keep this file private")
    };
    let secret = pair
        .sk
        .to_box(Some(&comment))
        .map_err(|e| KeyError::Generate(e.to_string()))?
        .into_string();
    let public = PublicKey {
        inner: pair.pk,
        key_id,
    };
    Ok((secret, public.to_file_text()))
}

/// The base64 line of a key text: the line after an untrusted comment, or
/// the only non-empty line.
fn key_line<'a>(text: &'a str, kind: &'static str) -> Result<&'a str, KeyError> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines
        .next()
        .ok_or_else(|| not_a_key(kind, "it is empty".into()))?;
    let line = if first.starts_with(COMMENT_PREFIX) {
        lines
            .next()
            .ok_or_else(|| not_a_key(kind, "it has a comment line but no key line".into()))?
    } else {
        first
    };
    if lines.next().is_some() {
        return Err(not_a_key(
            kind,
            "it has more lines than a comment and a key".into(),
        ));
    }
    Ok(line)
}

fn decode(line: &str, kind: &'static str) -> Result<Vec<u8>, KeyError> {
    Base64::decode_to_vec(line, None)
        .map_err(|_| not_a_key(kind, "its key line is not base64".into()))
}

fn check_algorithm(bytes: &[u8], kind: &'static str) -> Result<(), KeyError> {
    if &bytes[..2] != KEY_ALGORITHM {
        return Err(KeyError::UnsupportedAlgorithm {
            kind,
            found: String::from_utf8_lossy(&bytes[..2]).into_owned(),
        });
    }
    Ok(())
}

fn not_a_key(kind: &'static str, detail: String) -> KeyError {
    let hint = if kind == "public key" {
        "; a public key is one base64 line starting with \"RW\", optionally after an \"untrusted comment:\" line"
    } else {
        ""
    };
    KeyError::NotAKey { kind, detail, hint }
}

fn read_key_file(path: &Path) -> Result<String, KeyError> {
    use std::io::Read;
    let read = |e| KeyError::Read {
        path: path.to_owned(),
        source: e,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut text = String::new();
    file.take(MAX_KEY_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(read)?;
    Ok(text)
}

fn public_of(secret: &minisign::SecretKey, key_id: KeyId) -> Result<PublicKey, KeyError> {
    let inner = minisign::PublicKey::from_secret_key(secret).map_err(|e| KeyError::Corrupted {
        key_id,
        detail: e.to_string(),
    })?;
    Ok(PublicKey { inner, key_id })
}

/// Signs a probe and checks it with the key's own public half: catches a
/// corrupted unencrypted key (whose checksum minisign's CLI leaves zero).
fn probe(secret: &minisign::SecretKey, public: &PublicKey) -> Result<(), KeyError> {
    minisign::sign(
        Some(public.inner()),
        secret,
        &b"selfup key check"[..],
        Some("selfup key check"),
        None,
    )
    .map(|_| ())
    .map_err(|e| KeyError::Corrupted {
        key_id: public.key_id,
        detail: format!("a probe signature does not verify with its public half ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_print_like_minisign_without_leading_zeros() {
        let id = |n: u64| KeyId(n.to_le_bytes()).to_string();
        assert_eq!(id(0x3DC2_DE58_810C_413C), "3DC2DE58810C413C");
        assert_eq!(id(0x019C_6E27_D8D8_2F6B), "19C6E27D8D82F6B");
    }

    #[test]
    fn an_unencrypted_pair_loads_without_a_password() {
        let (secret, public) = generate_keypair(None).expect("pair");
        assert!(secret.contains("NOT encrypted"), "{secret}");
        assert!(!SecretKey::needs_password(&secret).expect("text"));
        let secret = SecretKey::parse(&secret, None).expect("secret");
        assert!(!secret.was_encrypted());
        // A password given for an unencrypted key is not needed.
        SecretKey::parse(&secret_text(&secret), Some("ignored")).expect("ignored password");
        let public = PublicKey::parse(&public).expect("public");
        assert_eq!(secret.public_key(), &public);
        assert_eq!(secret.key_id(), public.key_id());
    }

    fn secret_text(secret: &SecretKey) -> String {
        secret.inner().to_box(None).expect("box").into_string()
    }

    #[test]
    fn an_encrypted_pair_needs_its_password() {
        let (secret, public) = generate_keypair(Some("correct horse")).expect("pair");
        assert!(SecretKey::needs_password(&secret).expect("text"));
        let err = SecretKey::parse(&secret, None).expect_err("no password");
        assert_eq!(
            err.to_string(),
            "the secret key is encrypted; give its password (or use a key made without one, e.g. `minisign -G -W`)"
        );
        let err = SecretKey::parse(&secret, Some("wrong")).expect_err("wrong password");
        assert_eq!(
            err.to_string(),
            "wrong password for the secret key; try again with the password it was created with"
        );
        let key = SecretKey::parse(&secret, Some("correct horse")).expect("decrypted");
        assert!(key.was_encrypted());
        assert_eq!(
            key.key_id(),
            PublicKey::parse(&public).expect("public").key_id()
        );
        assert!(matches!(
            generate_keypair(Some("")),
            Err(KeyError::EmptyPassword)
        ));
    }

    #[test]
    fn public_keys_parse_from_a_line_or_a_file_and_print_their_id() {
        let (_, text) = generate_keypair(None).expect("pair");
        let key = PublicKey::parse(&text).expect("file text");
        let line = text.lines().nth(1).expect("line");
        assert_eq!(PublicKey::parse(line).expect("line"), key);
        assert_eq!(key.to_base64(), line);
        assert!(line.starts_with("RW"), "{line}");
        assert_eq!(key.to_file_text(), text);
        let id = key.key_id().to_string();
        assert!((1..=16).contains(&id.len()), "{id}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(
            text.lines().next(),
            Some(format!("untrusted comment: minisign public key {id}").as_str())
        );
        assert_eq!(
            KeyId([0x3c, 0x41, 0x0c, 0x81, 0x58, 0xde, 0xc2, 0x3d]).to_string(),
            "3DC2DE58810C413C"
        );
    }

    #[test]
    fn garbage_keys_are_refused_with_what_to_give() {
        let cases = [
            ("", "this is not a minisign public key (it is empty)"),
            (
                "hello world",
                "this is not a minisign public key (its key line is not base64)",
            ),
            (
                "RWQ=",
                "this is not a minisign public key (it decodes to 2 bytes, not 42)",
            ),
            (
                "untrusted comment: x\n",
                "this is not a minisign public key (it has a comment line but no key line)",
            ),
        ];
        for (text, start) in cases {
            let err = PublicKey::parse(text).expect_err(text);
            assert!(err.to_string().starts_with(start), "{text:?}: {err}");
            assert!(err.to_string().contains("`minisign -G`"), "{err}");
        }
        // A secret key given where a public key belongs, and vice versa.
        let (secret, public) = generate_keypair(None).expect("pair");
        assert!(PublicKey::parse(&secret).is_err());
        assert!(SecretKey::parse(&public, None).is_err());
        // A key of another algorithm.
        let mut raw =
            Base64::decode_to_vec(public.lines().nth(1).expect("line"), None).expect("base64");
        raw[1] = b'X';
        let line = <Base64 as ct_codecs::Encoder>::encode_to_string(&raw).expect("encode");
        assert_eq!(
            PublicKey::parse(&line).expect_err("algorithm").to_string(),
            "the public key uses the signature algorithm \"EX\"; selfup supports minisign's Ed25519 keys (\"Ed\") only"
        );
    }

    #[test]
    fn a_corrupted_unencrypted_secret_key_is_refused_at_load() {
        let (secret, _) = generate_keypair(None).expect("pair");
        let line = secret.lines().nth(1).expect("line");
        let mut raw = Base64::decode_to_vec(line, None).expect("base64");
        raw[70] ^= 1; // a byte of the Ed25519 seed
        let line = <Base64 as ct_codecs::Encoder>::encode_to_string(&raw).expect("encode");
        let err = SecretKey::parse(&line, None).expect_err("corrupted");
        assert!(matches!(err, KeyError::Corrupted { .. }), "{err:?}");
        assert!(err.to_string().contains("is corrupted"), "{err}");
    }
}
