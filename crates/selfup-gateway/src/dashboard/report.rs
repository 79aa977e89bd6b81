//! The dashboard as a static report: one self-contained HTML file with the
//! page's stylesheet and script inlined and the data embedded as JSON.

use super::{DASHBOARD_CSS, DASHBOARD_JS};

/// An HTML document titled `title` that renders `data` (the report's
/// shape: `title`, `subtitle`, `timeline`, `experiments`, `overview`,
/// `series`; see `renderReport` in `dashboard.js`) with no network at all.
pub fn report_html(title: &str, data: &serde_json::Value) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{css}\n</style>\n</head>\n\
         <body class=\"report\">\n<main id=\"app\" aria-live=\"polite\"></main>\n\
         <script type=\"application/json\" id=\"report-data\">{data}</script>\n\
         <script>\n{js}\n</script>\n</body>\n</html>\n",
        title = escape_text(title),
        css = DASHBOARD_CSS,
        data = embed_json(data),
        js = DASHBOARD_JS.replace("</script", "<\\/script"),
    )
}

/// `data` as JSON that cannot end the `<script>` element it sits in.
fn embed_json(data: &serde_json::Value) -> String {
    data.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_cannot_close_the_script() {
        let html = report_html(
            "a <b>",
            &serde_json::json!({"text": "</script><script>alert(1)</script>"}),
        );
        assert!(html.contains("<title>a &lt;b&gt;</title>"));
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the two real ends"
        );
        assert!(html.contains("\\u003c/script\\u003e"));
        for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
            assert!(!html.contains(fetch), "no network: {fetch}");
        }
    }
}
