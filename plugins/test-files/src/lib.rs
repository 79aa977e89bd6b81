//! `test-files` 1.0.0 (tests only): capability `test.read-file` with
//! request `{"path": string}` reads that file with
//! `std::fs::read_to_string` and returns `{"content": string}`. Any I/O
//! error (including a path the sandbox does not grant) is an `internal`
//! error naming the path and the OS error. The manifest allows no paths;
//! tests install a variant that allows one.

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(Files);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"path": string}"#;

/// The file-reading plugin.
pub struct Files;

impl Plugin for Files {
    const CAPABILITIES: &'static [&'static str] = &["test.read-file"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        let path = request.str("path", "the file to read")?;
        let content = std::fs::read_to_string(path)
            .map_err(|e| PluginError::internal(format!("could not read {path:?}: {e}")))?;
        Ok(serde_json::json!({ "content": content }).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;

    #[test]
    fn reads_and_reports_errors() {
        let path = std::env::temp_dir().join(format!("test-files-{}.txt", std::process::id()));
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
}
