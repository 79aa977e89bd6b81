//! Price formatting in the native extension.

pub fn format_price(amount: f64, currency: &str) -> String {
    let rounded = (amount * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    format!("{currency} {whole}.{cents}")
}
