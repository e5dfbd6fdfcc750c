//! A chart as a document of its own: the chart's SVG (as drawn on screen) under a title, with a
//! footnote of where the numbers come from (data source, filter, date). Used for SVG and PNG
//! exports and the HTML report.

use super::PlotTheme;

/// Height of the title band, in pixels.
const TITLE_PX: u32 = 40;
/// Height of one footnote line.
const NOTE_PX: u32 = 16;
/// Longest footnote line, in characters (longer ones end in "…"); narrower charts fit fewer
/// (about 6 pixels a character at the footnote's size).
const NOTE_CHARS: usize = 160;

/// Text for an SVG or HTML text node or attribute.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut out: String = text.chars().take(limit.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Size of the composed document for a chart of `width` × `height` with `notes` lines.
pub fn composed_size(width: u32, height: u32, notes: usize) -> (u32, u32) {
    (width, TITLE_PX + height + 8 + NOTE_PX * notes as u32 + 8)
}

/// The chart `inner` (an `<svg>` document of `width` × `height`, as plotters writes it) under
/// `title`, above `notes`, on the theme's background.
pub fn compose_svg(inner: &str, width: u32, height: u32, title: &str, notes: &[String], theme: PlotTheme, dark: bool) -> String {
    let (w, h) = composed_size(width, height, notes.len());
    let background = if dark { "#1a1f29" } else { "#ffffff" };
    let rgb = |(r, g, b): (u8, u8, u8)| format!("rgb({r},{g},{b})");
    // Drop an XML prolog if any: the chart is nested, not a document.
    let inner = inner.trim_start();
    let inner = match inner.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, body)| body.trim_start()),
        None => inner,
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{background}\"/>\n\
         <text x=\"16\" y=\"26\" font-size=\"16\" font-weight=\"600\" fill=\"{}\">{}</text>\n\
         <g transform=\"translate(0,{TITLE_PX})\">\n{inner}\n</g>\n",
        rgb(theme.foreground),
        xml_escape(&clip(title, NOTE_CHARS)),
    );
    let limit = NOTE_CHARS.min((width.saturating_sub(32) / 6) as usize).max(40);
    for (i, note) in notes.iter().enumerate() {
        let y = TITLE_PX + height + 8 + NOTE_PX * (i as u32 + 1) - 4;
        out.push_str(&format!("<text x=\"16\" y=\"{y}\" font-size=\"11\" fill=\"{}\">{}</text>\n", rgb(theme.muted), xml_escape(&clip(note, limit))));
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(xml_escape("<img src=x onerror='a'>&\u{0}"), "&lt;img src=x onerror=&apos;a&apos;&gt;&amp;\u{fffd}");
    }

    #[test]
    fn composes_a_titled_chart_with_notes() {
        let mut inner = String::new();
        {
            let area = SVGBackend::with_string(&mut inner, (300, 200)).into_drawing_area();
            area.fill(&WHITE).unwrap_or_default();
            area.draw(&Text::new("<script>alert(1)</script>", (10, 10), ("sans-serif", 12))).unwrap_or_default();
            area.present().unwrap_or_default();
        }
        let notes = vec!["Data: demo".to_string(), "Filter: country in {<b>}".to_string(), "x".repeat(500)];
        let doc = compose_svg(&inner, 1200, 200, "Rows per day <UTC>", &notes, PlotTheme::LIGHT, false);
        assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1200\" height=\"304\""), "{doc}");
        assert!(doc.contains(">Rows per day &lt;UTC&gt;</text>"));
        assert!(doc.contains("Filter: country in {&lt;b&gt;}"));
        assert!(!doc.contains("<script>") && !doc.contains("<b>"));
        assert!(doc.contains(&format!("{}…", "x".repeat(NOTE_CHARS - 1))));
        assert_eq!(doc.matches("<svg").count(), 2);
        assert_eq!(doc.matches("</svg>").count(), 2);
        assert_eq!(composed_size(300, 200, 3), (300, 304));
        // A narrow chart clips its notes sooner.
        let narrow = compose_svg(&inner, 300, 200, "t", &notes, PlotTheme::LIGHT, false);
        assert!(narrow.contains(&format!(">{}…</text>", "x".repeat(43))), "{narrow}");
    }
}
