//! Unpacking any bytes as a zip package never panics and never writes
//! outside its staging directory.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use selfup_plugins::package::{UnpackLimits, stage};

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        1 + files_under(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join("package.zip");
    std::fs::write(&package, data).expect("write");
    let staging = dir.path().join("staging");
    let limits = UnpackLimits {
        max_total_bytes: 4 << 20,
        max_entries: 64,
        max_compression_ratio: 200,
    };
    let staged = stage(&package, &staging, &limits);
    if let Ok(staged) = &staged {
        assert!(staged.dir().starts_with(&staging));
        for file in &staged.files {
            assert!(
                file.staged_at.starts_with(staged.dir()),
                "{} escaped",
                file.staged_at.display()
            );
        }
    }
    drop(staged);
    // Only the package and the (now empty) staging directory remain.
    assert_eq!(
        files_under(dir.path()),
        2,
        "something was written outside the staging directory"
    );
});
