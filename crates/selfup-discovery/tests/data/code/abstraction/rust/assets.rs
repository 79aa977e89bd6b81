//! Runs the asset pipeline.
pub fn build_assets(dir: &std::path::Path) -> bool {
    std::process::Command::new("npm")
        .arg("run")
        .arg("build")
        .current_dir(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
