//! `test-alloc` 1.0.0 (tests only): capability `test.alloc` with request
//! `{"alloc": true}` allocates memory without end (1 MiB chunks, each
//! written to, all kept alive), so the host's memory limit must stop it;
//! `{"alloc": false}` returns `{"ok": true}`.

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(Alloc);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"alloc": bool}"#;

/// Size of each allocated chunk.
const CHUNK: usize = 1 << 20;

/// The allocating plugin.
pub struct Alloc;

impl Plugin for Alloc {
    const CAPABILITIES: &'static [&'static str] = &["test.alloc"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        if request.bool(
            "alloc",
            "true to allocate without end, false to answer at once",
        )? {
            allocate_forever();
        }
        Ok(r#"{"ok":true}"#.to_owned())
    }
}

/// Keep allocating touched 1 MiB chunks until the allocator fails, which
/// aborts the instance (a trap).
fn allocate_forever() -> ! {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        // `vec![1; n]` writes every byte, so the pages are really used.
        let chunk = vec![1u8; CHUNK];
        kept.push(std::hint::black_box(chunk));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmless_mode_and_bad_input() {
        assert_eq!(
            Alloc::execute("test.alloc", r#"{"alloc": false}"#).unwrap(),
            r#"{"ok":true}"#
        );
        assert!(Alloc::execute("test.alloc", r#"{"alloc": 1}"#).is_err());
    }
}
