//! Orders: validation, totals and the shipping label.

use std::collections::HashMap;

use crate::util::get_id;

pub fn normalize_address(address: &str) -> HashMap<&'static str, String> {
    let parts: Vec<String> = address.split(',').map(|p| p.trim().to_string()).collect();
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let street = parts.first().cloned().unwrap_or_default();
    let city = parts.get(1).map(|c| c.to_uppercase()).unwrap_or_default();
    HashMap::from([("street", street), ("city", city), ("country", "US".to_string())])
}

pub fn order_total(order: &Order) -> f64 {
    let mut subtotal = 0.0;
    for line in &order.lines {
        subtotal += line.price * f64::from(line.quantity);
    }
    let discount = if subtotal > 100.0 { subtotal * 0.05 } else { 0.0 };
    (subtotal - discount).max(0.0)
}

pub fn average_price(items: &[Item]) -> f64 {
    let prices: Vec<f64> = items.iter().filter(|i| i.active).map(|i| i.price).collect();
    if prices.is_empty() {
        return 0.0;
    }
    prices.iter().sum::<f64>() / prices.len() as f64
}

pub fn shipping_label(order: &Order) -> Result<String, String> {
    if order.lines.is_empty() {
        return Err(format!("empty order {}", get_id(order)));
    }
    let address = normalize_address(&order.address);
    Ok(format!("{}\n{}\n{}", address["street"], address["city"], address["country"]))
}
