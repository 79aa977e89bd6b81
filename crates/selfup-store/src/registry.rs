//! The plugin registry: installed versions, their files, the capability
//! index, and which version is active for each capability.
//!
//! Rules: several versions of a plugin may be installed; exactly one
//! provider is active per capability. Installing activates a version for
//! the capabilities nobody serves yet, and for all of its capabilities
//! only when asked. Removing the active provider of a capability that
//! another installed plugin could serve is refused: activation is always
//! an explicit act, never a side effect of removal.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use selfup_core::manifest::PluginManifest;
use semver::Version;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Store, StoreError, audit};

/// One file of an installed plugin, stored as an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PluginFile {
    /// Package-relative path.
    pub path: String,
    /// SHA-256 of the content (the artifact's name).
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
}

/// What the registry knows of one installed plugin version.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct InstalledPlugin {
    /// The manifest it was installed with.
    pub manifest: PluginManifest,
    /// Artifact hash of the entry point.
    pub entry_hash: String,
    /// Every file of the package.
    pub files: Vec<PluginFile>,
    /// When it was installed (ms since the Unix epoch).
    pub installed_at_ms: i64,
    /// Registry status (`installed`).
    pub status: String,
    /// The capabilities this version is the active provider of.
    pub active_for: Vec<String>,
}

/// A plugin version about to be registered; its files are already stored.
#[derive(Debug, Clone, Copy)]
pub struct NewPlugin<'a> {
    /// Its validated manifest.
    pub manifest: &'a PluginManifest,
    /// Artifact hash of its entry point.
    pub entry_hash: &'a str,
    /// All of its files.
    pub files: &'a [PluginFile],
}

/// The active provider of one capability, as the router needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The capability.
    pub capability: String,
    /// The plugin serving it.
    pub manifest: Arc<PluginManifest>,
    /// Artifact hash of that plugin's entry point.
    pub entry_hash: String,
}

/// A capability with its active provider and every installed provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapabilityInfo {
    /// The capability name.
    pub capability: String,
    /// `name@version` of the active provider, if any.
    pub active: Option<String>,
    /// `name@version` of every installed provider.
    pub providers: Vec<String>,
}

impl Store {
    /// Registers a plugin version whose files are already in the artifact
    /// store. With `activate`, it becomes the active provider of all its
    /// capabilities; otherwise only of those nobody serves yet. Returns the
    /// capabilities it became active for.
    pub fn install_plugin(
        &self,
        new: NewPlugin<'_>,
        activate: bool,
        actor: &str,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let m = new.manifest;
        let name = m.name.as_str();
        let version = m.version.to_string();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM plugins WHERE name = ?1 AND version = ?2)",
            params![name, version],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::AlreadyInstalled {
                name: name.to_owned(),
                version,
            });
        }
        check_history(&tx, m, &content_digest(new.files), now_ms)?;
        let manifest_json = serde_json::to_string(m).map_err(|e| StoreError::Corrupt {
            table: "plugins",
            detail: format!("manifest does not serialise: {e}"),
        })?;
        tx.execute(
            "INSERT INTO plugins (name, version, manifest, entry_hash, installed_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, version, manifest_json, new.entry_hash, now_ms],
        )?;
        for file in new.files {
            tx.execute(
                "INSERT INTO plugin_files (name, version, path, hash, size) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, version, file.path, file.hash, file.size as i64],
            )?;
        }
        let mut activated = Vec::new();
        for cap in &m.provided_capabilities {
            tx.execute(
                "INSERT INTO plugin_capabilities (capability, name, version) VALUES (?1, ?2, ?3)",
                params![cap.as_str(), name, version],
            )?;
            let has_active: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM active_capabilities WHERE capability = ?1)",
                [cap.as_str()],
                |r| r.get(0),
            )?;
            if activate || !has_active {
                set_active(&tx, cap.as_str(), name, &version, now_ms)?;
                activated.push(cap.to_string());
            }
        }
        bump_generation(&tx)?;
        audit::record(
            &tx,
            now_ms,
            actor,
            "install",
            &m.id(),
            &serde_json::json!({ "entry_hash": new.entry_hash, "activated": activated }),
        )?;
        tx.commit()?;
        Ok(activated)
    }

    /// Makes `name@version` the active provider of all its capabilities.
    /// Returns the capabilities whose provider changed.
    pub fn activate_plugin(
        &self,
        name: &str,
        version: &Version,
        actor: &str,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let version = version.to_string();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let caps = provided_capabilities(&tx, name, &version)?;
        if caps.is_empty() {
            return Err(StoreError::NotInstalled {
                what: format!("{name}@{version}"),
            });
        }
        let mut changed = Vec::new();
        for cap in caps {
            let current = active_provider(&tx, &cap)?;
            if current.as_ref() != Some(&(name.to_owned(), version.clone())) {
                set_active(&tx, &cap, name, &version, now_ms)?;
                changed.push(cap);
            }
        }
        if !changed.is_empty() {
            bump_generation(&tx)?;
            audit::record(
                &tx,
                now_ms,
                actor,
                "activate",
                &format!("{name}@{version}"),
                &serde_json::json!({ "capabilities": changed }),
            )?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Removes one version of a plugin, or all of them when `version` is
    /// `None`. Returns the versions removed. The artifacts stay (snapshots
    /// may name them); retention deletes what nothing names.
    pub fn remove_plugin(
        &self,
        name: &str,
        version: Option<&Version>,
        actor: &str,
        now_ms: i64,
    ) -> Result<Vec<Version>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let installed = installed_versions(&tx, name)?;
        let doomed: Vec<Version> = match version {
            Some(v) if installed.contains(v) => vec![v.clone()],
            Some(v) => {
                return Err(StoreError::NotInstalled {
                    what: format!("{name}@{v}"),
                });
            }
            None if installed.is_empty() => {
                return Err(StoreError::NotInstalled {
                    what: name.to_owned(),
                });
            }
            None => installed,
        };
        for v in &doomed {
            let v_text = v.to_string();
            for cap in provided_capabilities(&tx, name, &v_text)? {
                if active_provider(&tx, &cap)? != Some((name.to_owned(), v_text.clone())) {
                    continue;
                }
                let others: Vec<String> = providers(&tx, &cap)?
                    .into_iter()
                    .filter(|(n, pv)| !(n == name && doomed.iter().any(|d| d.to_string() == *pv)))
                    .map(|(n, pv)| format!("{n}@{pv}"))
                    .collect();
                if !others.is_empty() {
                    return Err(StoreError::Refused(format!(
                        "{name}@{v} is the active provider of \"{cap}\", which {} could also serve; activate the one you want first (selfup plugin activate {}), then remove {name}@{v}",
                        others.join(", "),
                        others[0],
                    )));
                }
                tx.execute(
                    "DELETE FROM active_capabilities WHERE capability = ?1",
                    [&cap],
                )?;
            }
            tx.execute(
                "DELETE FROM plugins WHERE name = ?1 AND version = ?2",
                params![name, v_text],
            )?;
        }
        bump_generation(&tx)?;
        let removed: Vec<String> = doomed.iter().map(|v| v.to_string()).collect();
        audit::record(
            &tx,
            now_ms,
            actor,
            "remove",
            name,
            &serde_json::json!({ "versions": removed }),
        )?;
        tx.commit()?;
        Ok(doomed)
    }

    /// Every installed plugin version, by name then version.
    pub fn list_plugins(&self) -> Result<Vec<InstalledPlugin>, StoreError> {
        let conn = self.conn();
        load_plugins(&conn, None)
    }

    /// One installed version, if present.
    pub fn plugin(
        &self,
        name: &str,
        version: &Version,
    ) -> Result<Option<InstalledPlugin>, StoreError> {
        let conn = self.conn();
        let version = version.to_string();
        Ok(load_plugins(&conn, Some((name, &version)))?
            .into_iter()
            .next())
    }

    /// The active provider of every capability.
    pub fn routes(&self) -> Result<Vec<Route>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT a.capability, p.manifest, p.entry_hash, p.name, p.version
             FROM active_capabilities a JOIN plugins p ON p.name = a.name AND p.version = a.version
             ORDER BY a.capability",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut manifests: BTreeMap<(String, String), Arc<PluginManifest>> = BTreeMap::new();
        let mut routes = Vec::new();
        for row in rows {
            let (capability, manifest, entry_hash, name, version) = row?;
            let manifest = match manifests.get(&(name.clone(), version.clone())) {
                Some(m) => m.clone(),
                None => {
                    let m = Arc::new(parse_manifest(&manifest, &name, &version)?);
                    manifests.insert((name, version), m.clone());
                    m
                }
            };
            routes.push(Route {
                capability,
                manifest,
                entry_hash,
            });
        }
        Ok(routes)
    }

    /// Every capability with its active and installed providers.
    pub fn capabilities(&self) -> Result<Vec<CapabilityInfo>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT c.capability, c.name, c.version, a.name, a.version
             FROM plugin_capabilities c
             LEFT JOIN active_capabilities a ON a.capability = c.capability
             ORDER BY c.capability",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out: BTreeMap<String, CapabilityInfo> = BTreeMap::new();
        for row in rows {
            let (capability, name, version, a_name, a_version) = row?;
            let entry = out
                .entry(capability.clone())
                .or_insert_with(|| CapabilityInfo {
                    capability,
                    active: a_name.zip(a_version).map(|(n, v)| format!("{n}@{v}")),
                    providers: Vec::new(),
                });
            entry.providers.push(format!("{name}@{version}"));
        }
        Ok(out.into_values().collect())
    }

    /// A counter that rises with every registry change; the router reloads
    /// when it moves.
    pub fn registry_generation(&self) -> Result<i64, StoreError> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT value FROM meta WHERE key = 'registry_generation'",
            [],
            |r| r.get(0),
        )?)
    }
}

/// The digest of a package's content: every file but the signature, by
/// path and hash. Independent of how the package was zipped or signed.
pub fn content_digest(files: &[PluginFile]) -> String {
    let mut parts: Vec<(&str, &str)> = files
        .iter()
        .filter(|f| f.path != "manifest.json.minisig")
        .map(|f| (f.path.as_str(), f.hash.as_str()))
        .collect();
    parts.sort_unstable();
    let mut hasher = Sha256::new();
    for (path, hash) in parts {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(hash.as_bytes());
        hasher.update([b'\n']);
    }
    hex::encode(hasher.finalize())
}

/// Anti-rollback: no version below the highest ever installed, and a
/// version's content never changes. Records the version in the history.
fn check_history(
    tx: &Transaction<'_>,
    m: &PluginManifest,
    digest: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let name = m.name.as_str();
    let mut stmt =
        tx.prepare_cached("SELECT version, digest FROM install_history WHERE name = ?1")?;
    let rows: Vec<(String, String)> = stmt
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let floor = rows
        .iter()
        .filter_map(|(v, _)| Version::parse(v).ok())
        .max();
    if let Some(floor) = floor
        && m.version < floor
    {
        return Err(StoreError::Downgrade {
            name: name.to_owned(),
            version: m.version.to_string(),
            floor: floor.to_string(),
        });
    }
    let version = m.version.to_string();
    if let Some((_, before)) = rows.iter().find(|(v, _)| *v == version)
        && !before.is_empty()
        && before != digest
    {
        return Err(StoreError::ContentChanged {
            name: name.to_owned(),
            version,
            before: before.clone(),
            now: digest.to_owned(),
        });
    }
    tx.execute(
        "INSERT INTO install_history (name, version, digest, first_installed_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name, version) DO UPDATE SET digest = excluded.digest WHERE install_history.digest = ''",
        params![name, version, digest, now_ms],
    )?;
    Ok(())
}

pub(crate) fn set_active(
    tx: &Transaction<'_>,
    cap: &str,
    name: &str,
    version: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO active_capabilities (capability, name, version, activated_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (capability) DO UPDATE SET name = excluded.name, version = excluded.version, activated_at_ms = excluded.activated_at_ms",
        params![cap, name, version, now_ms],
    )?;
    Ok(())
}

pub(crate) fn bump_generation(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'registry_generation'",
        [],
    )?;
    Ok(())
}

fn provided_capabilities(
    conn: &Connection,
    name: &str,
    version: &str,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT capability FROM plugin_capabilities WHERE name = ?1 AND version = ?2 ORDER BY capability",
    )?;
    let rows = stmt.query_map(params![name, version], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn active_provider(conn: &Connection, cap: &str) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT name, version FROM active_capabilities WHERE capability = ?1",
            [cap],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

fn providers(conn: &Connection, cap: &str) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, version FROM plugin_capabilities WHERE capability = ?1 ORDER BY name, version",
    )?;
    let rows = stmt.query_map([cap], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn installed_versions(conn: &Connection, name: &str) -> Result<Vec<Version>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT version FROM plugins WHERE name = ?1")?;
    let rows = stmt.query_map([name], |r| r.get::<_, String>(0))?;
    let mut versions = Vec::new();
    for v in rows {
        let v = v?;
        versions.push(Version::parse(&v).map_err(|e| StoreError::Corrupt {
            table: "plugins",
            detail: format!("{name}@{v}: {e}"),
        })?);
    }
    versions.sort();
    Ok(versions)
}

fn parse_manifest(json: &str, name: &str, version: &str) -> Result<PluginManifest, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        table: "plugins",
        detail: format!("manifest of {name}@{version}: {e}"),
    })
}

pub(crate) fn load_plugins(
    conn: &Connection,
    only: Option<(&str, &str)>,
) -> Result<Vec<InstalledPlugin>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT name, version, manifest, entry_hash, installed_at_ms, status FROM plugins
         WHERE (?1 IS NULL OR name = ?1) AND (?2 IS NULL OR version = ?2)",
    )?;
    let rows = stmt.query_map(params![only.map(|o| o.0), only.map(|o| o.1)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (name, version, manifest, entry_hash, installed_at_ms, status) = row?;
        let manifest = parse_manifest(&manifest, &name, &version)?;
        let mut files_stmt = conn.prepare_cached(
            "SELECT path, hash, size FROM plugin_files WHERE name = ?1 AND version = ?2 ORDER BY path",
        )?;
        let files = files_stmt
            .query_map(params![name, version], |r| {
                Ok(PluginFile {
                    path: r.get(0)?,
                    hash: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut active_stmt = conn.prepare_cached(
            "SELECT capability FROM active_capabilities WHERE name = ?1 AND version = ?2 ORDER BY capability",
        )?;
        let active_for = active_stmt
            .query_map(params![name, version], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        out.push(InstalledPlugin {
            manifest,
            entry_hash,
            files,
            installed_at_ms,
            status,
            active_for,
        });
    }
    out.sort_by(|a, b| {
        (a.manifest.name.as_str(), &a.manifest.version)
            .cmp(&(b.manifest.name.as_str(), &b.manifest.version))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Home;

    fn manifest(name: &str, version: &str, caps: &[&str]) -> PluginManifest {
        let json = serde_json::json!({
            "name": name, "version": version, "entry_point": "plugin.wasm",
            "provided_capabilities": caps,
        });
        PluginManifest::from_json(json.to_string().as_bytes()).expect("manifest")
    }

    fn install(
        store: &Store,
        m: &PluginManifest,
        activate: bool,
    ) -> Result<Vec<String>, StoreError> {
        let files = [PluginFile {
            path: "plugin.wasm".into(),
            hash: "ab".repeat(32),
            size: 1,
        }];
        store.install_plugin(
            NewPlugin {
                manifest: m,
                entry_hash: &"ab".repeat(32),
                files: &files,
            },
            activate,
            "test",
            1,
        )
    }

    fn active(store: &Store) -> Vec<(String, String)> {
        store
            .routes()
            .expect("routes")
            .into_iter()
            .map(|r| (r.capability, r.manifest.id()))
            .collect()
    }

    fn v(s: &str) -> Version {
        Version::parse(s).expect("version")
    }

    #[test]
    fn first_install_activates_newer_versions_wait_for_activate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&Home::new(dir.path())).expect("open");
        let g0 = store.registry_generation().expect("gen");
        let v1 = manifest("text-summarize", "1.0.0", &["text.summarize"]);
        assert_eq!(
            install(&store, &v1, false).expect("v1"),
            vec!["text.summarize"]
        );
        let v2 = manifest("text-summarize", "2.0.0", &["text.summarize"]);
        assert!(install(&store, &v2, false).expect("v2").is_empty());
        assert_eq!(
            active(&store),
            vec![("text.summarize".into(), "text-summarize@1.0.0".into())]
        );
        assert!(store.registry_generation().expect("gen") > g0);

        let err = install(&store, &v2, false).expect_err("twice");
        assert!(matches!(err, StoreError::AlreadyInstalled { .. }));

        store
            .activate_plugin("text-summarize", &v("2.0.0"), "test", 2)
            .expect("activate");
        assert_eq!(
            active(&store),
            vec![("text.summarize".into(), "text-summarize@2.0.0".into())]
        );
        let listed = store.list_plugins().expect("list");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].manifest.version, v("1.0.0"));
        assert!(listed[0].active_for.is_empty());
        assert_eq!(listed[1].active_for, vec!["text.summarize"]);
        assert_eq!(listed[1].files.len(), 1);

        let audit = store.audit_trail(10).expect("audit");
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["activate", "install", "install"]);
    }

    #[test]
    fn removing_the_active_provider_is_refused_while_another_could_serve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&Home::new(dir.path())).expect("open");
        install(
            &store,
            &manifest("json-query", "1.0.0", &["json.query"]),
            false,
        )
        .expect("v1");
        install(
            &store,
            &manifest("json-query", "1.1.0", &["json.query"]),
            false,
        )
        .expect("v1.1");
        let err = store
            .remove_plugin("json-query", Some(&v("1.0.0")), "test", 3)
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "json-query@1.0.0 is the active provider of \"json.query\", which json-query@1.1.0 could also serve; activate the one you want first (selfup plugin activate json-query@1.1.0), then remove json-query@1.0.0"
        );
        assert_eq!(
            store.list_plugins().expect("list").len(),
            2,
            "nothing changed"
        );
        store
            .remove_plugin("json-query", Some(&v("1.1.0")), "test", 3)
            .expect("inactive one");
        let removed = store
            .remove_plugin("json-query", None, "test", 4)
            .expect("all");
        assert_eq!(removed, vec![v("1.0.0")]);
        assert!(active(&store).is_empty());
        assert!(store.capabilities().expect("caps").is_empty());
        let err = store
            .remove_plugin("json-query", None, "test", 5)
            .expect_err("gone");
        assert_eq!(
            err.to_string(),
            "json-query is not installed; see `selfup plugin list`"
        );
    }

    #[test]
    fn downgrades_and_changed_content_are_refused_even_after_removal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&Home::new(dir.path())).expect("open");
        install(&store, &manifest("p", "2.0.0", &["x.y"]), false).expect("2.0.0");
        store.remove_plugin("p", None, "test", 2).expect("remove");
        let err = install(&store, &manifest("p", "1.0.0", &["x.y"]), false).expect_err("downgrade");
        assert!(matches!(err, StoreError::Downgrade { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("p@1.0.0 is older than p@2.0.0, which was installed before"),
            "{err}"
        );
        // The same version again: with the same content it is fine…
        install(&store, &manifest("p", "2.0.0", &["x.y"]), false).expect("same content");
        store.remove_plugin("p", None, "test", 3).expect("remove");
        // …with other content it is refused.
        let m = manifest("p", "2.0.0", &["x.y"]);
        let files = [PluginFile {
            path: "plugin.wasm".into(),
            hash: "cd".repeat(32),
            size: 1,
        }];
        let err = store
            .install_plugin(
                NewPlugin {
                    manifest: &m,
                    entry_hash: &"cd".repeat(32),
                    files: &files,
                },
                false,
                "test",
                4,
            )
            .expect_err("changed content");
        assert!(matches!(err, StoreError::ContentChanged { .. }), "{err}");
        assert!(
            store.list_plugins().expect("list").is_empty(),
            "nothing was installed"
        );
        // The signature file does not count: re-signing is not a change.
        let signed = [
            files[0].clone(),
            PluginFile {
                path: "manifest.json.minisig".into(),
                hash: "ef".repeat(32),
                size: 1,
            },
        ];
        assert_eq!(content_digest(&signed), content_digest(&files));
    }

    #[test]
    fn removing_every_version_at_once_is_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&Home::new(dir.path())).expect("open");
        install(&store, &manifest("a", "1.0.0", &["x.y"]), false).expect("1");
        install(&store, &manifest("a", "2.0.0", &["x.y", "x.z"]), false).expect("2");
        assert_eq!(
            active(&store).len(),
            2,
            "x.z had no provider, so 2.0.0 serves it"
        );
        let caps = store.capabilities().expect("caps");
        assert_eq!(caps[0].providers, vec!["a@1.0.0", "a@2.0.0"]);
        store
            .remove_plugin("a", None, "test", 2)
            .expect("remove all");
        assert!(store.list_plugins().expect("list").is_empty());
    }
}
