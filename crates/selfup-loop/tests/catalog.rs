//! The catalog: a directory of packages, and an HTTP index served on
//! loopback whose packages are downloaded only when needed and refused
//! unless their SHA-256 matches.

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use selfup_loop::catalog::{Catalog, INDEX_COMMENT, IndexTrust, PackageLocation, fetch};
use selfup_plugins::signing::{PublicKey, SecretKey, sign_bytes};
use sha2::{Digest, Sha256};

fn plugins_dir() -> PathBuf {
    std::env::var_os("SELFUP_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins"))
}

#[test]
fn a_directory_lists_its_packages_and_skips_broken_ones_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        plugins_dir().join("text-summarize-2.0.0.zip"),
        dir.path().join("a.zip"),
    )
    .expect("copy");
    std::fs::copy(
        plugins_dir().join("json-query-1.1.0.zip"),
        dir.path().join("b.zip"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("broken.zip"), b"not a zip").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"ignored").expect("write");
    let catalog = Catalog::from_directory(dir.path()).expect("catalog");
    let ids: Vec<String> = catalog.entries.iter().map(|e| e.manifest.id()).collect();
    assert_eq!(ids, ["json-query@1.1.0", "text-summarize@2.0.0"]);
    assert_eq!(catalog.problems.len(), 1);
    assert!(
        catalog.problems[0].contains("broken.zip")
            && catalog.problems[0].contains("not a valid zip"),
        "{:?}",
        catalog.problems
    );
    assert_eq!(catalog.providers_of("json.query").len(), 1);
    assert!(
        catalog
            .newest_above("json-query", &semver::Version::new(1, 0, 0))
            .is_some()
    );
    assert!(
        catalog
            .newest_above("json-query", &semver::Version::new(1, 1, 0))
            .is_none()
    );
}

const NOW_MS: i64 = 1_790_000_000_000;

fn dev_key(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../keys")
        .join(file)
}

fn trust(require_signature: bool) -> IndexTrust {
    IndexTrust {
        require_signature,
        keys: vec![PublicKey::from_file(&dev_key("dev.pub")).expect("dev.pub")],
        now_ms: NOW_MS,
    }
}

/// Serves `index` (and its signature, if any) and the packages on loopback.
async fn serve_index(
    index: Vec<u8>,
    signature: Option<Vec<u8>>,
    package: Vec<u8>,
) -> (String, tokio::task::JoinHandle<()>) {
    let mut app = Router::new()
        .route("/index.json", get(move || async move { index }))
        .route(
            "/packages/unit-convert-1.0.0.zip",
            get(move || async move { package }),
        )
        .route(
            "/packages/tampered.zip",
            get(|| async { b"tampered bytes".to_vec() }),
        );
    if let Some(signature) = signature {
        app = app.route("/index.json.minisig", get(move || async move { signature }));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, server)
}

fn index_document(sha: &str, manifest: &serde_json::Value, expires_at: i64) -> Vec<u8> {
    serde_json::json!({
        "expires_at": expires_at,
        "packages": [
            {"url": "packages/unit-convert-1.0.0.zip", "sha256": sha, "manifest": manifest},
            {"url": "packages/tampered.zip", "sha256": "0".repeat(64), "manifest": {"name": "tampered", "version": "1.0.0", "entry_point": "plugin.wasm", "provided_capabilities": ["x.y"]}},
            {"url": "packages/bad.zip", "sha256": "nope", "manifest": manifest},
        ]
    })
    .to_string()
    .into_bytes()
}

fn sign(bytes: &[u8]) -> Vec<u8> {
    let key = SecretKey::from_file(&dev_key("dev.key"), None).expect("dev.key");
    sign_bytes(bytes, &key, INDEX_COMMENT).expect("sign")
}

#[tokio::test]
async fn a_signed_fresh_index_is_read_and_its_packages_fetched_and_checked() {
    let package = std::fs::read(plugins_dir().join("unit-convert-1.0.0.zip")).expect("package");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(plugins_dir().join("unit-convert-1.0.0/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let sha = hex::encode(Sha256::digest(&package));
    let index = index_document(&sha, &manifest, NOW_MS / 1000 + 86_400);
    let (base, server) = serve_index(index.clone(), Some(sign(&index)), package.clone()).await;

    let client = reqwest::Client::new();
    let catalog = Catalog::from_index(&format!("{base}/index.json"), &client, &trust(true))
        .await
        .expect("index");
    let ids: Vec<String> = catalog.entries.iter().map(|e| e.manifest.id()).collect();
    assert_eq!(ids, ["tampered@1.0.0", "unit-convert@1.0.0"]);
    assert_eq!(catalog.problems.len(), 1, "{:?}", catalog.problems);
    assert!(
        catalog.problems[0].contains("is not a hex SHA-256"),
        "{:?}",
        catalog.problems
    );

    let downloads = tempfile::tempdir().expect("downloads");
    let good = catalog
        .entries
        .iter()
        .find(|e| e.manifest.name.as_str() == "unit-convert")
        .expect("entry");
    let PackageLocation::Url { url, .. } = &good.location else {
        panic!("a url location");
    };
    assert_eq!(
        url,
        &format!("{base}/packages/unit-convert-1.0.0.zip"),
        "relative urls resolve against the index"
    );
    let path = fetch(&good.location, downloads.path(), &client)
        .await
        .expect("fetch");
    assert_eq!(std::fs::read(&path).expect("read"), package);

    let bad = catalog
        .entries
        .iter()
        .find(|e| e.manifest.name.as_str() == "tampered")
        .expect("entry");
    let err = fetch(&bad.location, downloads.path(), &client)
        .await
        .expect_err("hash mismatch");
    assert!(err.to_string().contains("but the index says"), "{err}");
    assert_eq!(
        std::fs::read_dir(downloads.path()).expect("dir").count(),
        1,
        "the tampered package was not kept"
    );

    let err = Catalog::from_index(&format!("{base}/missing.json"), &client, &trust(true))
        .await
        .expect_err("404");
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    server.abort();
}

#[tokio::test]
async fn stale_unsigned_tampered_and_untrusted_indexes_are_refused() {
    let package = std::fs::read(plugins_dir().join("unit-convert-1.0.0.zip")).expect("package");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(plugins_dir().join("unit-convert-1.0.0/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let sha = hex::encode(Sha256::digest(&package));
    let client = reqwest::Client::new();

    // Expired an hour ago: the freeze attack.
    let stale = index_document(&sha, &manifest, NOW_MS / 1000 - 3600);
    let (base, server) = serve_index(stale.clone(), Some(sign(&stale)), package.clone()).await;
    let err = Catalog::from_index(&format!("{base}/index.json"), &client, &trust(true))
        .await
        .expect_err("stale");
    assert!(err.to_string().contains("expired 1.0 hours ago"), "{err}");
    server.abort();

    // Unsigned while signatures are required; accepted when they are not.
    let fresh = index_document(&sha, &manifest, NOW_MS / 1000 + 3600);
    let (base, server) = serve_index(fresh.clone(), None, package.clone()).await;
    let err = Catalog::from_index(&format!("{base}/index.json"), &client, &trust(true))
        .await
        .expect_err("unsigned");
    assert!(err.to_string().contains("is unsigned"), "{err}");
    Catalog::from_index(&format!("{base}/index.json"), &client, &trust(false))
        .await
        .expect("signatures not required");
    server.abort();

    // Changed after signing.
    let mut tampered = fresh.clone();
    let signature = sign(&fresh);
    tampered.extend(b" ");
    let (base, server) = serve_index(tampered, Some(signature), package.clone()).await;
    let err = Catalog::from_index(&format!("{base}/index.json"), &client, &trust(false))
        .await
        .expect_err("tampered");
    assert!(
        err.to_string().contains("was changed after signing"),
        "{err}"
    );
    server.abort();

    // Signed by a key nobody trusts.
    let (other_secret, _) = selfup_plugins::signing::generate_keypair(None).expect("keypair");
    let other = SecretKey::parse(&other_secret, None).expect("secret");
    let signature = sign_bytes(&fresh, &other, INDEX_COMMENT).expect("sign");
    let (base, server) = serve_index(fresh, Some(signature), package).await;
    let err = Catalog::from_index(&format!("{base}/index.json"), &client, &trust(true))
        .await
        .expect_err("untrusted");
    assert!(err.to_string().contains("which is not trusted"), "{err}");
    server.abort();
}
