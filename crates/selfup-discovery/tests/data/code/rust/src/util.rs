//! Small helpers: too small to be worth reporting when copied.

pub fn get_id(item: &impl HasId) -> u64 {
    item.id()
}

fn default_retries() -> u32 {
    let n = 3;
    n
}
