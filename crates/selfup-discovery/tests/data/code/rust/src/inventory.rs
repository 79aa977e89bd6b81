//! Stock levels and restocking.

use std::collections::HashMap;

pub fn summarize_stock(rows: &[Row]) -> Summary {
    let mut totals: HashMap<String, f64> = HashMap::new();
    for row in rows {
        if row.discontinued {
            continue;
        }
        let key = row.warehouse.clone();
        *totals.entry(key).or_insert(0.0) += row.units;
    }
    let mut ordered: Vec<(String, f64)> = totals.into_iter().collect();
    ordered.sort_by(|a, b| b.1.total_cmp(&a.1));
    let best = ordered.first().map(|(k, _)| k.clone());
    Summary { totals: ordered, best, count: rows.len() }
}

pub fn restock_plan(records: Vec<Record>, threshold: u32) -> Vec<(String, u32)> {
    let mut cleaned = Vec::new();
    for mut rec in records {
        if rec.deleted {
            continue;
        }
        rec.name = rec.name.trim().to_lowercase();
        cleaned.push(rec);
    }
    cleaned.sort_by(|a, b| a.name.cmp(&b.name));
    cleaned.dedup_by(|a, b| a.name == b.name);
    let mut orders = Vec::new();
    for r in cleaned.iter().filter(|r| r.stock < threshold) {
        orders.push((r.sku.clone(), threshold * 2 - r.stock));
    }
    orders
}
