//! The catalog: a directory of packages, and an HTTP index served on
//! loopback whose packages are downloaded only when needed and refused
//! unless their SHA-256 matches.

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use selfup_loop::catalog::{Catalog, PackageLocation, fetch};
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

#[tokio::test]
async fn an_http_index_is_read_and_its_packages_fetched_and_checked() {
    let package = std::fs::read(plugins_dir().join("unit-convert-1.0.0.zip")).expect("package");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(plugins_dir().join("unit-convert-1.0.0/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let sha = hex::encode(Sha256::digest(&package));
    let index = serde_json::json!({
        "packages": [
            {"url": "packages/unit-convert-1.0.0.zip", "sha256": sha, "manifest": manifest},
            {"url": "packages/tampered.zip", "sha256": "0".repeat(64), "manifest": {"name": "tampered", "version": "1.0.0", "entry_point": "plugin.wasm", "provided_capabilities": ["x.y"]}},
            {"url": "packages/bad.zip", "sha256": "nope", "manifest": manifest},
        ]
    });
    let served = package.clone();
    let app = Router::new()
        .route("/index.json", get(move || async move { axum::Json(index) }))
        .route(
            "/packages/unit-convert-1.0.0.zip",
            get(move || async move { served }),
        )
        .route(
            "/packages/tampered.zip",
            get(|| async { b"tampered bytes".to_vec() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let catalog = Catalog::from_index(&format!("{base}/index.json"), &client)
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

    let err = Catalog::from_index(&format!("{base}/missing.json"), &client)
        .await
        .expect_err("404");
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    server.abort();
}
