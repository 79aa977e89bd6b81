//! Hostile packages: each is refused with a clear message, nothing is
//! written outside the staging directory, and the store and the artifact
//! directory stay byte-for-byte as they were.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::{TestHome, expect_file, plugins_dir, scrub};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// One zip entry, described freely enough to lie.
struct Entry {
    name: Vec<u8>,
    data: Vec<u8>,
    /// The uncompressed size to declare (default: the data's length).
    declared: Option<u32>,
    /// Unix mode bits for the external attributes (e.g. a symlink).
    mode: Option<u32>,
    /// Point this entry's central record at another entry's local header.
    alias_of: Option<usize>,
}

fn entry(name: &[u8], data: &[u8]) -> Entry {
    Entry {
        name: name.to_vec(),
        data: data.to_vec(),
        declared: None,
        mode: None,
        alias_of: None,
    }
}

/// Writes a stored (uncompressed) zip by hand, so that names, sizes, modes
/// and offsets can be anything.
fn craft_zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u32);
        if e.alias_of.is_some() {
            continue;
        }
        let crc = crc32fast::hash(&e.data);
        let size = e.declared.unwrap_or(e.data.len() as u32);
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(20u16.to_le_bytes());
        out.extend([0u8; 2]); // flags
        out.extend([0u8; 2]); // stored
        out.extend([0u8; 4]); // time, date
        out.extend(crc.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend((e.name.len() as u16).to_le_bytes());
        out.extend([0u8; 2]);
        out.extend(&e.name);
        out.extend(&e.data);
    }
    let cd_start = out.len() as u32;
    for (i, e) in entries.iter().enumerate() {
        let source = e.alias_of.map_or(e, |j| &entries[j]);
        let crc = crc32fast::hash(&source.data);
        let size = source.declared.unwrap_or(source.data.len() as u32);
        out.extend(0x0201_4b50u32.to_le_bytes());
        out.extend(((3u16 << 8) | 20).to_le_bytes()); // made by unix
        out.extend(20u16.to_le_bytes());
        out.extend([0u8; 2]);
        out.extend([0u8; 2]);
        out.extend([0u8; 4]);
        out.extend(crc.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend((e.name.len() as u16).to_le_bytes());
        out.extend([0u8; 6]); // extra, comment, disk
        out.extend([0u8; 2]); // internal attributes
        out.extend((e.mode.unwrap_or(0o100644) << 16).to_le_bytes());
        out.extend(offsets[e.alias_of.unwrap_or(i)].to_le_bytes());
        out.extend(&e.name);
    }
    let cd_size = out.len() as u32 - cd_start;
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_start.to_le_bytes());
    out.extend([0u8; 2]);
    out
}

fn manifest(name: &str) -> Vec<u8> {
    serde_json::json!({
        "name": name, "version": "1.0.0", "entry_point": "plugin.wasm",
        "provided_capabilities": ["x.y"],
    })
    .to_string()
    .into_bytes()
}

fn wasm() -> Vec<u8> {
    std::fs::read(plugins_dir().join("test-echo-1.0.0/plugin.wasm")).expect("wasm")
}

/// Every file under the home that belongs to the store or the artifacts,
/// with its SHA-256; the database checkpointed first so its file holds
/// everything committed.
fn state(home: &Path) -> BTreeMap<String, String> {
    let conn = Connection::open(home.join("selfup.db")).expect("db");
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .expect("checkpoint");
    drop(conn);
    let mut out = BTreeMap::new();
    let mut stack = vec![home.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(home)
                .expect("prefix")
                .display()
                .to_string();
            if rel.starts_with("cache") || rel.ends_with("-shm") || rel.ends_with("-wal") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    rel,
                    hex::encode(Sha256::digest(std::fs::read(&path).expect("read"))),
                );
            }
        }
    }
    out
}

/// Signs a zip package in place with the development key.
fn sign(path: &Path) {
    let key = selfup_plugins::signing::SecretKey::from_file(&common::dev_key("dev.key"), None)
        .expect("dev key");
    selfup_plugins::signing::sign_zip(path, path, &key).expect("sign");
}

fn write_zip(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn deflated_zip(dir: &Path, name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let path = dir.join(name);
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
    for (n, data) in files {
        w.start_file(*n, zip::write::SimpleFileOptions::default())
            .expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish");
    path
}

#[test]
fn every_hostile_package_is_refused_and_nothing_changes() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let work = tempfile::tempdir().expect("work");
    let w = work.path();
    let good = |extra: Vec<Entry>| {
        let mut entries = vec![
            entry(b"manifest.json", &manifest("hostile")),
            entry(b"plugin.wasm", &wasm()),
        ];
        entries.extend(extra);
        craft_zip(&entries)
    };

    let mut cases: Vec<(&str, PathBuf)> = Vec::new();
    for (case, name) in [
        ("dotdot", &b"../escape"[..]),
        ("dotdot-nested", b"a/../../x"),
        ("absolute-unix", b"/etc/x"),
        ("absolute-windows", b"C:\\x"),
        ("nul-byte", b"a\0b"),
        ("reserved-con", b"CON"),
        ("reserved-aux", b"dir/aux.txt"),
    ] {
        cases.push((
            case,
            write_zip(w, &format!("{case}.zip"), &good(vec![entry(name, b"evil")])),
        ));
    }
    let mut link = entry(b"link", b"/etc/passwd");
    link.mode = Some(0o120777);
    cases.push((
        "symlink-entry",
        write_zip(w, "symlink.zip", &good(vec![link])),
    ));
    let mut hardlink = entry(b"hard", b"/etc/shadow");
    hardlink.mode = Some(0o100644 | 0o120000);
    cases.push((
        "linked-mode-entry",
        write_zip(w, "hardlink.zip", &good(vec![hardlink])),
    ));
    cases.push((
        "duplicate-names",
        write_zip(
            w,
            "dup.zip",
            &good(vec![entry(b"data.txt", b"1"), entry(b"data.txt", b"2")]),
        ),
    ));
    let mut huge = entry(b"big.bin", b"small");
    huge.declared = Some(300 * 1024 * 1024);
    cases.push((
        "declared-size-over-cap",
        write_zip(w, "declared.zip", &good(vec![huge])),
    ));
    cases.push((
        "compression-ratio",
        deflated_zip(
            w,
            "ratio.zip",
            &[
                ("manifest.json", manifest("hostile")),
                ("plugin.wasm", wasm()),
                ("zeros.bin", vec![0u8; 10_000_000]),
            ],
        ),
    ));
    let mut liar = entry(b"liar.bin", &[7u8; 1000]);
    liar.declared = Some(10);
    cases.push((
        "inflates-past-declared",
        write_zip(w, "liar.zip", &good(vec![liar])),
    ));
    let mut big_manifest =
        serde_json::from_slice::<serde_json::Value>(&manifest("hostile")).expect("json");
    big_manifest["description"] = serde_json::Value::String("x".repeat(70_000));
    cases.push((
        "manifest-over-64k",
        write_zip(
            w,
            "bigmanifest.zip",
            &craft_zip(&[
                entry(b"manifest.json", big_manifest.to_string().as_bytes()),
                entry(b"plugin.wasm", &wasm()),
            ]),
        ),
    ));
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    cases.push((
        "manifest-nested-too-deep",
        write_zip(
            w,
            "deep.zip",
            &craft_zip(&[
                entry(b"manifest.json", deep.as_bytes()),
                entry(b"plugin.wasm", &wasm()),
            ]),
        ),
    ));
    let mut prefixed = b"MZ\x90\x00 not part of the archive".to_vec();
    prefixed.extend(good(Vec::new()));
    cases.push(("bytes-prepended", write_zip(w, "prefixed.zip", &prefixed)));
    let mut alias = entry(b"second.bin", b"");
    alias.alias_of = Some(2);
    cases.push((
        "shared-compressed-data",
        write_zip(
            w,
            "overlap.zip",
            &good(vec![entry(b"first.bin", b"shared bytes"), alias]),
        ),
    ));
    let whole = good(Vec::new());
    cases.push((
        "truncated",
        write_zip(w, "truncated.zip", &whole[..whole.len() / 2]),
    ));
    // Signed with the trusted key, so the code itself is what is refused.
    let not_wasm = write_zip(
        w,
        "notwasm.zip",
        &craft_zip(&[
            entry(b"manifest.json", &manifest("hostile")),
            entry(b"plugin.wasm", b"\0asm but not really"),
        ]),
    );
    sign(&not_wasm);
    cases.push(("not-wasm", not_wasm));
    // The same, unsigned: refused before anything else is looked at.
    cases.push((
        "unsigned",
        write_zip(
            w,
            "unsigned.zip",
            &craft_zip(&[
                entry(b"manifest.json", &manifest("hostile")),
                entry(b"plugin.wasm", &wasm()),
            ]),
        ),
    ));
    // A directory package whose manifest is a symbolic link (Unix only:
    // Windows lets only administrators make one, and Wine 8 reports success
    // and makes none), and one with a hard link.
    #[cfg(unix)]
    {
        let linked = w.join("linked-manifest");
        std::fs::create_dir(&linked).expect("dir");
        std::fs::write(w.join("outside.json"), manifest("hostile")).expect("outside");
        std::os::unix::fs::symlink(w.join("outside.json"), linked.join("manifest.json"))
            .expect("symlink");
        std::fs::write(linked.join("plugin.wasm"), wasm()).expect("wasm");
        cases.push(("symlinked-manifest", linked));
    }
    let hard = w.join("hard-linked");
    std::fs::create_dir(&hard).expect("dir");
    std::fs::write(hard.join("manifest.json"), manifest("hostile")).expect("manifest");
    std::fs::write(w.join("secret.txt"), b"secret").expect("secret");
    std::fs::hard_link(w.join("secret.txt"), hard.join("plugin.wasm")).expect("hard link");
    cases.push(("hard-linked-file", hard));

    let before = state(home.path());
    let outside_before: Vec<_> = std::fs::read_dir(home.path().parent().expect("parent"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    for (case, path) in &cases {
        let out = home.run(&["plugin", "install", path.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{case}: {stderr}");
        expect_file(&format!("hostile/{case}.txt"), &scrub(&stderr, w));
        assert_eq!(
            state(home.path()),
            before,
            "{case}: the store or the artifacts changed"
        );
        let staging = home.path().join("staging");
        assert!(
            std::fs::read_dir(&staging)
                .map(|mut d| d.next().is_none())
                .unwrap_or(true),
            "{case}: staging left behind"
        );
        let written_outside = w.join("escape").exists()
            || Path::new("/etc/x").exists()
            || (cfg!(windows) && Path::new("C:\\x").exists());
        assert!(!written_outside, "{case}: wrote outside");
    }
    let outside_after: Vec<_> = std::fs::read_dir(home.path().parent().expect("parent"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        outside_before, outside_after,
        "nothing was written beside the home"
    );
    assert_eq!(
        home.ok(&["plugin", "list", "--json"])
            .matches("\"name\"")
            .count(),
        1
    );
}

#[test]
fn code_that_takes_too_long_to_compile_is_refused() {
    let home = TestHome::new();
    home.config("  host:\n    max_compile_seconds: 0.001\n");
    home.ok(&["plugin", "list"]);
    let before = state(home.path());
    let out = home.run(&[
        "plugin",
        "install",
        plugins_dir()
            .join("text-summarize-2.0.0.zip")
            .to_str()
            .expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    expect_file(
        "hostile/compile-time-cap.txt",
        &String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(state(home.path()), before);
}
