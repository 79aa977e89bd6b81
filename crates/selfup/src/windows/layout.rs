//! Where the Windows service keeps its data: `windows.paths`, with
//! `{base}` standing for the data directory (`windows.paths.base`, or the
//! home given with `--home`). The data directory is the service's selfup
//! home.

use std::path::{Path, PathBuf};

use selfup_core::config::WindowsPaths;

/// The service's directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLayout {
    /// The data directory: the service's selfup home.
    pub base: PathBuf,
    /// `windows.paths.plugins`.
    pub plugins: PathBuf,
    /// `windows.paths.registry`.
    pub registry: PathBuf,
    /// `windows.paths.snapshots`.
    pub snapshots: PathBuf,
    /// `windows.paths.logs`.
    pub logs: PathBuf,
}

impl DataLayout {
    /// The layout `paths` describes, with `base` (when given) in place of
    /// `paths.base`.
    pub fn from_config(paths: &WindowsPaths, base: Option<&Path>) -> Self {
        let base = base.map_or_else(|| paths.base.clone(), |b| b.display().to_string());
        let resolve = |path: &str| PathBuf::from(path.replace("{base}", &base));
        Self {
            plugins: resolve(&paths.plugins),
            registry: resolve(&paths.registry),
            snapshots: resolve(&paths.snapshots),
            logs: resolve(&paths.logs),
            base: PathBuf::from(base),
        }
    }

    /// Every directory with its configuration name, the base first.
    pub fn directories(&self) -> [(&'static str, &Path); 5] {
        [
            ("base", &self.base),
            ("plugins", &self.plugins),
            ("registry", &self.registry),
            ("snapshots", &self.snapshots),
            ("logs", &self.logs),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_layout_is_under_program_data() {
        let layout = DataLayout::from_config(&WindowsPaths::default(), None);
        assert_eq!(
            layout.base,
            PathBuf::from(r"C:\ProgramData\OpenClaw\SelfUpgradingLoop")
        );
        assert_eq!(
            layout.logs,
            PathBuf::from(r"C:\ProgramData\OpenClaw\SelfUpgradingLoop\logs")
        );
        let names: Vec<_> = layout.directories().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["base", "plugins", "registry", "snapshots", "logs"]);
    }

    #[test]
    fn a_given_home_takes_the_place_of_base_and_absolute_paths_stay() {
        let paths = WindowsPaths {
            snapshots: r"E:\snapshots".into(),
            ..WindowsPaths::default()
        };
        let layout = DataLayout::from_config(&paths, Some(Path::new(r"D:\selfup")));
        assert_eq!(layout.base, PathBuf::from(r"D:\selfup"));
        assert_eq!(layout.plugins, PathBuf::from(r"D:\selfup\plugins"));
        assert_eq!(layout.registry, PathBuf::from(r"D:\selfup\registry"));
        assert_eq!(layout.snapshots, PathBuf::from(r"E:\snapshots"));
    }
}
