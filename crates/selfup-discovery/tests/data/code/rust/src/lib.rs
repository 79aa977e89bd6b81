//! A small shop: orders, invoices, reports and stock.

pub mod helpers;
pub mod inventory;
pub mod invoices;
pub mod orders;
pub mod reports;
pub mod util;

pub struct Line {
    pub price: f64,
    pub quantity: u32,
}
