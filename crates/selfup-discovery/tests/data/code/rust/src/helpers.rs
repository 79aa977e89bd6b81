//! Copies of the small helpers (below the minimum size: not reported).

pub fn get_id(item: &impl HasId) -> u64 {
    item.id()
}

fn default_retries() -> u32 {
    let n = 3;
    n
}
