//! The router: which loaded plugin version serves each capability, and
//! how a rollout splits or mirrors its traffic. The table is swapped
//! atomically, so calls never wait for a reload.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use selfup_core::manifest::PluginManifest;
use selfup_plugins::RunningPlugin;
use selfup_store::registry::Route;
use selfup_store::{Store, StoreError};
use tokio::sync::watch;

use crate::loader::PluginLoader;

/// A plugin version calls can go to.
#[derive(Clone)]
pub struct RouteTarget {
    /// The plugin's name.
    pub plugin: Arc<str>,
    /// Its version.
    pub version: Arc<str>,
    /// Its manifest (description, input schemas).
    pub manifest: Arc<PluginManifest>,
    /// The running plugin, or why it could not be loaded.
    pub runner: Result<Arc<dyn RunningPlugin>, Arc<str>>,
}

/// How a rollout takes part in routing.
#[derive(Clone)]
pub struct RolloutTarget {
    /// The upgrade being rolled out.
    pub upgrade_id: i64,
    /// Its current stage.
    pub stage: u32,
    /// Share of subjects the candidate serves, in [0, 1].
    pub fraction: f64,
    /// Seed of the sticky assignment hash.
    pub seed: Arc<str>,
    /// The candidate.
    pub candidate: RouteTarget,
}

/// Everything the router knows about one capability.
#[derive(Clone)]
pub struct CapabilityRoute {
    /// The active provider (the incumbent during a rollout), if any.
    pub primary: Option<RouteTarget>,
    /// The rollout in progress, if any.
    pub rollout: Option<RolloutTarget>,
}

/// A snapshot of the routing.
#[derive(Default)]
pub struct RoutingTable {
    routes: HashMap<String, CapabilityRoute>,
    generation: Option<i64>,
}

impl RoutingTable {
    /// The route of `capability`, if anything serves it.
    pub fn get(&self, capability: &str) -> Option<&CapabilityRoute> {
        self.routes.get(capability)
    }

    /// The capabilities routed, sorted.
    pub fn capabilities(&self) -> Vec<&str> {
        let mut caps: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        caps.sort_unstable();
        caps
    }

    /// The registry generation this table was built from.
    pub fn generation(&self) -> Option<i64> {
        self.generation
    }
}

/// Routes capabilities to loaded plugins, reloading from the store when
/// the registry generation moves.
pub struct Router {
    loader: PluginLoader,
    table: ArcSwap<RoutingTable>,
    /// Loaded plugins by `name@version#hash`, reused across reloads.
    loaded: Mutex<HashMap<String, Arc<dyn RunningPlugin>>>,
    /// The generation of the table in use, for those who watch for changes.
    changes: watch::Sender<Option<i64>>,
}

impl Router {
    /// An empty router; call [`Router::refresh`] to load the routing.
    pub fn new(loader: PluginLoader) -> Self {
        Self {
            loader,
            table: ArcSwap::from_pointee(RoutingTable::default()),
            loaded: Mutex::new(HashMap::new()),
            changes: watch::Sender::new(None),
        }
    }

    /// Changes of the routing table: the receiver sees the registry
    /// generation of each new table (the MCP server tells its clients that
    /// the list of tools changed).
    pub fn subscribe(&self) -> watch::Receiver<Option<i64>> {
        self.changes.subscribe()
    }

    /// The current routing table.
    pub fn table(&self) -> Arc<RoutingTable> {
        self.table.load_full()
    }

    /// Reloads the routing if the registry changed since the last load.
    /// Blocking (reads the store, may compile plugins): call it from a
    /// blocking context. Returns the plugins no longer routed, which the
    /// caller should shut down.
    pub fn refresh(&self, store: &Store) -> Result<Vec<Arc<dyn RunningPlugin>>, StoreError> {
        let generation = store.registry_generation()?;
        if self.table.load().generation == Some(generation) {
            return Ok(Vec::new());
        }
        let routes = store.routes()?;
        let rollouts = store.rollout_routes()?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let mut kept: HashMap<String, Arc<dyn RunningPlugin>> = HashMap::new();
        let mut target = |route: &Route| -> RouteTarget {
            let key = format!("{}#{}", route.manifest.id(), route.entry_hash);
            let runner = match kept.get(&key).or_else(|| loaded.get(&key)) {
                Some(runner) => Ok(runner.clone()),
                None => match self.loader.load(route) {
                    Ok(runner) => Ok(runner),
                    Err(message) => {
                        tracing::error!(capability = %route.capability, %message, "plugin not loaded");
                        Err(Arc::<str>::from(message))
                    }
                },
            };
            if let Ok(runner) = &runner {
                kept.insert(key, runner.clone());
            }
            RouteTarget {
                plugin: Arc::from(route.manifest.name.as_str()),
                version: Arc::from(route.manifest.version.to_string()),
                manifest: route.manifest.clone(),
                runner,
            }
        };
        let mut table: HashMap<String, CapabilityRoute> = HashMap::new();
        for route in &routes {
            table.insert(
                route.capability.clone(),
                CapabilityRoute {
                    primary: Some(target(route)),
                    rollout: None,
                },
            );
        }
        for r in &rollouts {
            let candidate = target(&Route {
                capability: r.rollout.capability.clone(),
                manifest: r.candidate_manifest.clone(),
                entry_hash: r.candidate_entry_hash.clone(),
            });
            let entry = table
                .entry(r.rollout.capability.clone())
                .or_insert(CapabilityRoute {
                    primary: None,
                    rollout: None,
                });
            if r.rollout.incumbent.is_none() {
                // A new capability: the candidate serves every call.
                entry.primary = None;
            }
            entry.rollout = Some(RolloutTarget {
                upgrade_id: r.rollout.upgrade_id,
                stage: r.rollout.stage as u32,
                fraction: (r.rollout.traffic_percentage / 100.0).clamp(0.0, 1.0),
                seed: Arc::from(r.rollout.seed.as_str()),
                candidate,
            });
        }
        let retired = loaded
            .drain()
            .filter(|(key, _)| !kept.contains_key(key))
            .map(|(_, runner)| runner)
            .collect();
        *loaded = kept;
        self.table.store(Arc::new(RoutingTable {
            routes: table,
            generation: Some(generation),
        }));
        self.changes.send_replace(Some(generation));
        Ok(retired)
    }

    /// Shuts down every loaded plugin.
    pub async fn shutdown(&self) {
        let runners: Vec<Arc<dyn RunningPlugin>> = {
            let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
            loaded.drain().map(|(_, r)| r).collect()
        };
        self.table.store(Arc::new(RoutingTable::default()));
        for runner in runners {
            runner.shutdown().await;
        }
    }

    /// Every loaded plugin by `name@version`, for listings and health checks.
    pub fn loaded(&self) -> Vec<(String, Arc<dyn RunningPlugin>)> {
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(String, Arc<dyn RunningPlugin>)> = loaded
            .iter()
            .map(|(key, r)| (key.split('#').next().unwrap_or(key).to_owned(), r.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
