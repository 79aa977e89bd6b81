//! The per-instance state wasmtime hands back to the host: the WASI
//! context, the memory limiter, and the current call's deadline.

use std::time::Instant;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Most table elements an instance may have (function tables of large
/// Rust components hold a few thousand).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Caps the total linear memory of all memories in one instance.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap_bytes: usize,
    /// Bytes of linear memory now (memory never shrinks, so also the peak).
    pub(crate) total_bytes: usize,
    /// Set when a growth was refused because of the cap.
    pub(crate) denied: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(cap_bytes: usize) -> Self {
        Self {
            cap_bytes,
            total_bytes: 0,
            denied: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow_by = desired.saturating_sub(current);
        let after = self.total_bytes.saturating_add(grow_by);
        if after > self.cap_bytes {
            self.denied = true;
            return Ok(false);
        }
        self.total_bytes = after;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Everything a store of one plugin instance holds.
pub(crate) struct InstanceState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: MemoryLimiter,
    /// When the running call must stop.
    pub(crate) deadline: Instant,
    /// Set by the epoch callback when it stopped a call at its deadline.
    pub(crate) timed_out: bool,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_growth_is_capped_across_memories() {
        let mut l = MemoryLimiter::new(10 * 65_536);
        assert!(l.memory_growing(0, 4 * 65_536, None).expect("ok"));
        assert!(
            l.memory_growing(0, 4 * 65_536, None)
                .expect("second memory")
        );
        assert_eq!(l.total_bytes, 8 * 65_536);
        assert!(
            !l.memory_growing(4 * 65_536, 7 * 65_536, None)
                .expect("refused")
        );
        assert!(l.denied);
        assert_eq!(l.total_bytes, 8 * 65_536, "a refused growth does not count");
        assert!(
            l.memory_growing(4 * 65_536, 6 * 65_536, None)
                .expect("fits")
        );
    }
}
