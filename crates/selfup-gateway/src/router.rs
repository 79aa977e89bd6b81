//! The router: which loaded plugin version serves each capability. The
//! table is swapped atomically, so calls never wait for a reload.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use selfup_plugins::RunningPlugin;
use selfup_store::{Store, StoreError};

use crate::loader::PluginLoader;

/// Where calls for one capability go.
#[derive(Clone)]
pub struct RouteTarget {
    /// The serving plugin's name.
    pub plugin: Arc<str>,
    /// Its version.
    pub version: Arc<str>,
    /// The running plugin, or why it could not be loaded.
    pub runner: Result<Arc<dyn RunningPlugin>, Arc<str>>,
}

/// A snapshot of the routing.
#[derive(Default)]
pub struct RoutingTable {
    routes: HashMap<String, RouteTarget>,
    generation: Option<i64>,
}

impl RoutingTable {
    /// The target of `capability`, if any plugin serves it.
    pub fn get(&self, capability: &str) -> Option<&RouteTarget> {
        self.routes.get(capability)
    }

    /// The capabilities routed, sorted.
    pub fn capabilities(&self) -> Vec<&str> {
        let mut caps: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        caps.sort_unstable();
        caps
    }
}

/// Routes capabilities to loaded plugins, reloading from the store when
/// the registry generation moves.
pub struct Router {
    loader: PluginLoader,
    table: ArcSwap<RoutingTable>,
    /// Loaded plugins by `name@version#hash`, reused across reloads.
    loaded: Mutex<HashMap<String, Arc<dyn RunningPlugin>>>,
}

impl Router {
    /// An empty router; call [`Router::refresh`] to load the routing.
    pub fn new(loader: PluginLoader) -> Self {
        Self {
            loader,
            table: ArcSwap::from_pointee(RoutingTable::default()),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The current routing table.
    pub fn table(&self) -> Arc<RoutingTable> {
        self.table.load_full()
    }

    /// The target of `capability` now.
    pub fn route(&self, capability: &str) -> Option<RouteTarget> {
        self.table.load().get(capability).cloned()
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
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let mut kept: HashMap<String, Arc<dyn RunningPlugin>> = HashMap::new();
        let mut table = HashMap::new();
        for route in &routes {
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
            table.insert(
                route.capability.clone(),
                RouteTarget {
                    plugin: Arc::from(route.manifest.name.as_str()),
                    version: Arc::from(route.manifest.version.to_string()),
                    runner,
                },
            );
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

    /// Every loaded plugin by `name@version`, for health checks.
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
