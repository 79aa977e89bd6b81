//! `test-files` 1.0.0 (tests only): two capabilities.
//!
//! - `test.read-file` with request `{"path": string}` reads that file with
//!   `std::fs::read_to_string` and returns `{"content": string}`.
//! - `test.write-file` with request `{"path": string, "content": string}`
//!   writes `content` to that file (creating or truncating it) with
//!   `std::fs::write` and returns `{"written": n}`, the bytes written.
//!   Other fields are ignored (a compensating call carries `upgrade_id`
//!   and `reason`).
//!
//! Any I/O error (including a path the sandbox does not grant) is an
//! `internal` error naming the path and the OS error. The manifest allows
//! no paths; tests install a variant that allows one.

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(Files);

/// The shape of a read request, quoted in error messages.
const READ_SHAPE: &str = r#"{"path": string}"#;

/// The shape of a write request, quoted in error messages.
const WRITE_SHAPE: &str = r#"{"path": string, "content": string}"#;

/// The file-reading and -writing plugin.
pub struct Files;

impl Plugin for Files {
    const CAPABILITIES: &'static [&'static str] = &["test.read-file", "test.write-file"];

    fn execute(capability: &str, request: &str) -> Result<String, PluginError> {
        match capability {
            "test.write-file" => write(request),
            "test.read-file" => read(request),
            other => Err(PluginError::unsupported(other, Self::CAPABILITIES)),
        }
    }
}

fn read(request: &str) -> Result<String, PluginError> {
    let request = Request::parse(request, READ_SHAPE)?;
    let path = request.str("path", "the file to read")?;
    let content = std::fs::read_to_string(path)
        .map_err(|e| PluginError::internal(format!("could not read {path:?}: {e}")))?;
    Ok(serde_json::json!({ "content": content }).to_string())
}

fn write(request: &str) -> Result<String, PluginError> {
    let request = Request::parse(request, WRITE_SHAPE)?;
    let path = request.str("path", "the file to write")?;
    let content = request.str("content", "what to write into the file")?;
    std::fs::write(path, content)
        .map_err(|e| PluginError::internal(format!("could not write {path:?}: {e}")))?;
    Ok(serde_json::json!({ "written": content.len() }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;

    fn temp_path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("test-files-{}-{name}", std::process::id()))
    }

    #[test]
    fn reads_and_reports_errors() {
        let path = temp_path("read.txt");
        std::fs::write(&path, "hello").unwrap();
        let request = serde_json::json!({"path": path}).to_string();
        let out = Files::execute("test.read-file", &request).unwrap();
        assert_eq!(out, r#"{"content":"hello"}"#);
        std::fs::remove_file(&path).unwrap();
        let err = Files::execute("test.read-file", &request).unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(
            err.message.contains(&path.display().to_string()),
            "{}",
            err.message
        );
        assert!(err.message.contains("No such file"), "{}", err.message);
    }

    #[test]
    fn writes_the_file_and_counts_the_bytes() {
        let path = temp_path("write.txt");
        let request = serde_json::json!({"path": path, "content": "undo", "upgrade_id": 7})
            .to_string();
        let out = Files::execute("test.write-file", &request).unwrap();
        assert_eq!(out, r#"{"written":4}"#);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "undo");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn write_errors_are_internal_and_name_the_path() {
        let path = temp_path("missing-dir").join("x.txt");
        let request = serde_json::json!({"path": path, "content": "x"}).to_string();
        let err = Files::execute("test.write-file", &request).unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(
            err.message.contains(&path.display().to_string()),
            "{}",
            err.message
        );
        assert!(err.message.contains("No such file"), "{}", err.message);
    }

    #[test]
    fn a_write_without_content_is_invalid_input() {
        let err = Files::execute("test.write-file", r#"{"path": "/tmp/x"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("content"), "{}", err.message);
    }
}
