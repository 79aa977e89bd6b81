//! Sales reports.

use std::collections::HashMap;

pub fn summarize_sales(rows: &[Row]) -> Summary {
    let mut totals: HashMap<String, f64> = HashMap::new();
    for row in rows {
        let key = row.region.clone();
        *totals.entry(key).or_insert(0.0) += row.amount;
    }
    let mut ordered: Vec<(String, f64)> = totals.into_iter().collect();
    ordered.sort_by(|a, b| b.1.total_cmp(&a.1));
    let best = ordered.first().map(|(k, _)| k.clone());
    Summary { totals: ordered, best, count: rows.len() }
}

pub fn monthly_report(records: Vec<Record>, month: u32) -> Report {
    let header = format!("Report for {month}");
    println!("{header}");
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
    let by_month: Vec<Record> = cleaned.into_iter().filter(|r| r.month == month).collect();
    let total = by_month.iter().map(|r| r.value).sum();
    Report { title: header, rows: by_month, total }
}
