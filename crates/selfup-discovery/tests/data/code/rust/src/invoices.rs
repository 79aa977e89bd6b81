//! Invoices: amounts due and the billing address.

use std::collections::HashMap;

use crate::util::get_id;

pub fn normalize_address(address: &str) -> HashMap<&'static str, String> {
    let parts: Vec<String> = address.split(',').map(|p| p.trim().to_string()).collect();
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let street = parts.first().cloned().unwrap_or_default();
    let city = parts.get(1).map(|c| c.to_uppercase()).unwrap_or_default();
    HashMap::from([("street", street), ("city", city), ("country", "US".to_string())])
}

pub fn invoice_amount(invoice: &Invoice) -> f64 {
    let mut amount = 0.0;
    for item in &invoice.items {
        amount += item.cost * f64::from(item.count);
    }
    let rebate = if amount > 250.0 { amount * 0.1 } else { 0.0 };
    (amount - rebate).max(0.0)
}

pub fn median_price(items: &[Item]) -> f64 {
    let mut prices: Vec<f64> = items.iter().filter(|i| i.active).map(|i| i.price).collect();
    if prices.is_empty() {
        return 0.0;
    }
    prices.sort_by(|a, b| a.total_cmp(b));
    let middle = prices.len() / 2;
    if prices.len() % 2 == 1 {
        return prices[middle];
    }
    (prices[middle - 1] + prices[middle]) / 2.0
}

pub fn invoice_number(invoice: &Invoice) -> Option<String> {
    if invoice.items.is_empty() {
        return None;
    }
    Some(format!("INV-{:06}", get_id(invoice)))
}
