//! Finding the files to scan: every source file under the roots that no
//! `.gitignore` (or `.ignore`) and no exclude pattern leaves out.
//!
//! Exclude patterns are globs (`*` crosses `/`) matched against the path
//! relative to the root it was found under and against the absolute path;
//! a directory is pruned when `dir/` matches. A pattern that matches the
//! root itself (say `*/tests/*` when the root is `pkg/tests/data`) is
//! matched only against relative paths below that root: a root given
//! explicitly is scanned.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;

use super::ScanError;
use super::lang::Lang;

/// A file to scan.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as found under its root (the root as given, joined with the
    /// relative path), which reports show.
    pub path: PathBuf,
    /// Its language.
    pub lang: Lang,
}

/// A file left out, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    /// The path as found under its root.
    pub file: String,
    /// Why it was not scanned.
    pub reason: String,
}

/// Compiled exclude patterns.
#[derive(Debug, Clone)]
pub struct Excludes {
    set: GlobSet,
    patterns: Vec<String>,
}

impl Excludes {
    /// Compiles the patterns; a malformed one is an error naming it.
    pub fn new(patterns: &[String]) -> Result<Self, ScanError> {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            let glob = Glob::new(p).map_err(|e| ScanError::BadExclude {
                pattern: p.clone(),
                reason: e.kind().to_string(),
            })?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| ScanError::BadExclude {
            pattern: patterns.join(", "),
            reason: e.to_string(),
        })?;
        Ok(Self {
            set,
            patterns: patterns.to_vec(),
        })
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

/// How exclusion applies under one root.
struct RootFilter {
    set: GlobSet,
    /// Indices of patterns matched against absolute paths too.
    absolute: Vec<bool>,
    root_abs: PathBuf,
    root: PathBuf,
}

impl RootFilter {
    fn new(excludes: &Excludes, root: &Path) -> Self {
        let root_abs = absolute(root);
        let mut absolute_ok = vec![true; excludes.patterns.len()];
        let as_dir = format!("{}/", slashes(&root_abs));
        for i in excludes.set.matches(&as_dir) {
            absolute_ok[i] = false;
        }
        Self {
            set: excludes.set.clone(),
            absolute: absolute_ok,
            root_abs,
            root: root.to_path_buf(),
        }
    }

    fn excluded(&self, path: &Path, is_dir: bool) -> bool {
        if self.set.is_empty() {
            return false;
        }
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        if rel.as_os_str().is_empty() {
            return false;
        }
        let suffix = if is_dir { "/" } else { "" };
        let rel_s = format!("{}{suffix}", slashes(rel));
        if self.set.is_match(&rel_s) {
            return true;
        }
        let abs_s = format!("{}{suffix}", slashes(&self.root_abs.join(rel)));
        self.set
            .matches(&abs_s)
            .into_iter()
            .any(|i| self.absolute[i])
    }
}

fn slashes(p: &Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

/// Lists the source files under `roots` (files given directly are taken
/// as they are; an unsupported one is skipped with its reason).
pub fn source_files(
    roots: &[PathBuf],
    excludes: &Excludes,
) -> Result<(Vec<SourceFile>, Vec<Skipped>), ScanError> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|e| ScanError::PathNotFound {
            path: root.clone(),
            reason: e.to_string(),
        })?;
        if meta.is_file() {
            match Lang::of_path(root) {
                Some(lang) => files.push(SourceFile {
                    path: root.clone(),
                    lang,
                }),
                None => skipped.push(Skipped {
                    file: root.display().to_string(),
                    reason: "not a Python, Rust, JavaScript or TypeScript file".into(),
                }),
            }
            continue;
        }
        let filter = std::sync::Arc::new(RootFilter::new(excludes, root));
        let f = filter.clone();
        let walker = WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .ignore(true)
            .parents(true)
            .require_git(false)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                !f.excluded(entry.path(), is_dir)
            })
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    skipped.push(Skipped {
                        file: error_path(&e).unwrap_or_else(|| root.display().to_string()),
                        reason: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            if let Some(lang) = Lang::of_path(entry.path()) {
                files.push(SourceFile {
                    path: entry.into_path(),
                    lang,
                });
            }
        }
    }
    Ok((files, skipped))
}

fn error_path(e: &ignore::Error) -> Option<String> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes(p: &[&str]) -> Excludes {
        Excludes::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn patterns_match_relative_and_absolute_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        let ex = excludes(&["*/tests/*", "*/__pycache__/*"]);
        let f = RootFilter::new(&ex, &root);
        assert!(f.excluded(&root.join("pkg/tests/x.py"), false));
        assert!(f.excluded(&root.join("pkg/tests"), true));
        assert!(f.excluded(&root.join("a/__pycache__"), true));
        // Relative `tests/x.py` has no leading directory, but the absolute
        // path does.
        assert!(f.excluded(&root.join("tests/x.py"), false));
        assert!(!f.excluded(&root.join("pkg/testsuite/x.py"), false));
        assert!(!f.excluded(&root.join("pkg/x.py"), false));
    }

    #[test]
    fn a_root_inside_an_excluded_directory_is_still_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("crate/tests/data");
        let f = RootFilter::new(&excludes(&["*/tests/*"]), &root);
        assert!(!f.excluded(&root.join("a.py"), false));
        assert!(f.excluded(&root.join("pkg/tests/a.py"), false));
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let err = Excludes::new(&["a/[b".to_string()]).unwrap_err();
        assert!(err.to_string().contains("a/[b"), "{err}");
    }
}
