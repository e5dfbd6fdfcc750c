//! Numbers and words as people read them: thousands separators, byte sizes, percentages,
//! compact axis labels. The bottom of the crate: every layer may use it, it uses none.

/// Thousands-separated integer: "100,000".
pub fn format_count(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (idx, ch) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Events (a count, or a sum of row weights) as people read them: "1,234" for a whole number,
/// "1,234.5" otherwise.
pub fn format_events(events: f64) -> String {
    if !events.is_finite() {
        return "—".into();
    }
    let sign = if events < 0.0 { "-" } else { "" };
    let magnitude = events.abs();
    let tenths = (magnitude * 10.0).round() as u64;
    if tenths.is_multiple_of(10) {
        format!("{sign}{}", format_count(tenths / 10))
    } else {
        format!("{sign}{}.{}", format_count(tenths / 10), tenths % 10)
    }
}

/// Human-readable byte size: "12.3 MB".
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 {
        format!("{bytes} B")
    } else if value >= 99.95 {
        // Three figures: "854 KB", not "854.0 KB".
        format!("{value:.0} {name}")
    } else {
        format!("{value:.1} {name}")
    }
}

/// A share as a percentage with one decimal: "12.5 %"; a share too small to show as 0.1 %
/// reads "< 0.1 %" (not "0.0 %"); an undefined share "—".
pub fn format_percent(share: f64) -> String {
    if !share.is_finite() {
        return "—".into();
    }
    let percent = share * 100.0;
    if percent > 0.0 && percent < 0.1 {
        "< 0.1 %".into()
    } else if percent.abs() < 0.05 {
        // −0 (an empty sum of floats) or a tiny negative share: no "−0.0 %".
        "0.0 %".into()
    } else {
        format!("{percent:.1} %")
    }
}

/// A share as a whole percentage: "42 %", "-7 %"; a share that rounds to nothing reads "0 %"
/// whatever its sign (not "-0 %"); an undefined share "—".
pub fn format_whole_percent(share: f64) -> String {
    if !share.is_finite() {
        return "—".into();
    }
    match format!("{:.0}", share * 100.0) {
        zero if zero == "-0" => "0 %".into(),
        text => format!("{text} %"),
    }
}

/// A share with the digits a small rate needs: "12.3 %", "3.41 %", "0.412 %", "0.0042 %"
/// (an estimate and its interval read alike).
pub fn format_rate(share: f64) -> String {
    if !share.is_finite() {
        return "—".into();
    }
    let percent = share * 100.0;
    let magnitude = percent.abs();
    if magnitude == 0.0 {
        "0 %".into()
    } else if magnitude >= 10.0 {
        format!("{percent:.1} %")
    } else if magnitude >= 1.0 {
        format!("{percent:.2} %")
    } else if magnitude >= 0.1 {
        format!("{percent:.3} %")
    } else {
        let digits = (1.0 - magnitude.log10().floor()).clamp(0.0, 12.0) as usize;
        format!("{percent:.digits$} %")
    }
}

/// A statistic (a mean, a spread, a quantile) with the digits it needs: a whole number reads
/// "1,234"; otherwise one decimal from 100 ("1,005.3"), two from 1 ("44.12"), three below
/// ("0.412"); scientific notation from a billion, or below 0.001. Never "-0".
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    match value_decimals(value.abs()) {
        Some(decimals) => format_fixed(value, decimals),
        None => format!("{value:.3e}"),
    }
}

/// Two ends of a range (quartiles, an interval) with the same digits, those the larger end
/// needs in [`format_value`]: "0.80 – 2.70", not "0.800 – 2.70"; "1 – 3" when both are whole.
pub fn format_value_range(low: f64, high: f64) -> String {
    let larger = low.abs().max(high.abs());
    let whole = low == low.trunc() && high == high.trunc();
    match value_decimals(larger) {
        Some(_) if whole => format!("{} – {}", format_fixed(low, 0), format_fixed(high, 0)),
        Some(decimals) if low.is_finite() && high.is_finite() => format!("{} – {}", format_fixed(low, decimals.max(1)), format_fixed(high, decimals.max(1))),
        _ => format!("{} – {}", format_value(low), format_value(high)),
    }
}

/// The decimals [`format_value`] gives a magnitude; `None` for scientific notation.
fn value_decimals(magnitude: f64) -> Option<i32> {
    if magnitude >= 1e9 || (magnitude > 0.0 && magnitude < 1e-3) || !magnitude.is_finite() {
        return None;
    }
    Some(match magnitude {
        m if m == m.trunc() => 0,
        m if m >= 100.0 => 1,
        m if m >= 1.0 => 2,
        _ => 3,
    })
}

/// `value` with `decimals` digits after the point and thousands separators; never "-0".
fn format_fixed(value: f64, decimals: i32) -> String {
    let scale = 10f64.powi(decimals);
    let scaled = (value.abs() * scale).round() as u64;
    let whole = format_count(scaled / scale as u64);
    let text = if decimals == 0 { whole } else { format!("{whole}.{:0width$}", scaled % scale as u64, width = decimals as usize) };
    if value < 0.0 && scaled > 0 { format!("-{text}") } else { text }
}

/// An axis value, compactly: 1200 → "1.2k", 5000 → "5k", 0.25 → "0.25".
pub fn compact_number(value: f64) -> String {
    let magnitude = value.abs();
    // "5k" beside "10k", not "5.0k".
    let short = |scaled: f64, unit: &str| format!("{}{unit}", format!("{scaled:.1}").trim_end_matches(".0"));
    if magnitude >= 1e9 {
        short(value / 1e9, "G")
    } else if magnitude >= 1e6 {
        short(value / 1e6, "M")
    } else if magnitude >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if magnitude >= 1e3 {
        short(value / 1e3, "k")
    } else if magnitude == magnitude.trunc() {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A count and its noun, separated and agreed: "1 column", "20,000 columns".
pub fn plural(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", format_count(n), if n == 1 { "" } else { "s" })
}

/// `value` to `decimals` places, its sign always written: "+12", "−3.5" (the minus sign, U+2212,
/// as every signed figure on screen), and "0" when it rounds to zero (no "+0", no "−0").
pub fn format_signed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    let text = format!("{value:+.decimals$}");
    if text[1..].bytes().all(|b| b == b'0' || b == b'.') {
        return text[1..].to_string();
    }
    with_minus_sign(text)
}

/// `text`, the figure `value` written without a sign of its own or with a hyphen-minus, signed
/// as [`format_signed`] signs: "+" before a positive value, the minus sign (U+2212) for a
/// negative one.
pub fn with_sign(value: f64, text: String) -> String {
    if value > 0.0 { format!("+{text}") } else { with_minus_sign(text) }
}

/// `text` with a leading hyphen-minus written as the minus sign (U+2212).
pub fn with_minus_sign(text: String) -> String {
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

/// "rows per day" → "Rows per day".
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_percentages_have_no_negative_zero() {
        assert_eq!(format_whole_percent(0.423), "42 %");
        assert_eq!(format_whole_percent(-0.07), "-7 %");
        assert_eq!(format_whole_percent(-0.003), "0 %");
        assert_eq!(format_whole_percent(-0.0), "0 %");
        assert_eq!(format_whole_percent(0.0), "0 %");
        assert_eq!(format_whole_percent(-0.006), "-1 %");
        assert_eq!(format_whole_percent(f64::NAN), "—");
    }

    #[test]
    fn signed_figures_take_the_minus_sign_and_no_signed_zero() {
        assert_eq!(format_signed(12.4, 0), "+12");
        assert_eq!(format_signed(-3.46, 1), "−3.5");
        assert_eq!(format_signed(-0.3, 0), "0");
        assert_eq!(format_signed(0.04, 1), "0.0");
        assert_eq!(format_signed(-2.2, 1), "−2.2");
        assert_eq!(format_signed(f64::NAN, 1), "—");
        assert_eq!(with_minus_sign("-24 %".into()), "−24 %");
        assert_eq!(with_minus_sign("24 %".into()), "24 %");
        assert_eq!((with_sign(2.5, "2.5".into()), with_sign(-2.5, "-2.5".into()), with_sign(0.0, "0".into())), ("+2.5".into(), "−2.5".into(), "0".into()));
    }

    #[test]
    fn small_rates_keep_their_digits() {
        assert_eq!(format_rate(0.1234), "12.3 %");
        assert_eq!(format_rate(0.03412), "3.41 %");
        assert_eq!(format_rate(0.004123), "0.412 %");
        assert_eq!(format_rate(0.0000423), "0.0042 %");
        assert_eq!(format_rate(0.0), "0 %");
        assert_eq!(format_rate(f64::NAN), "—");
    }

    #[test]
    fn counts_bytes_percentages() {
        assert_eq!(format_count(100_000), "100,000");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1_234_567), "1,234,567");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(15_300_000), "15.3 MB");
        assert_eq!(format_bytes(854_000), "854 KB");
        assert_eq!(format_bytes(99_960), "100 KB");
        assert_eq!(format_bytes(1_400_000), "1.4 MB");
        assert_eq!(format_percent(0.125), "12.5 %");
        assert_eq!(format_percent(0.0009), "< 0.1 %");
        assert_eq!(format_percent(0.0), "0.0 %");
        assert_eq!(format_percent(-0.0), "0.0 %");
        assert_eq!(format_percent(f64::NAN), "—");
        assert_eq!(capitalise("rows per day"), "Rows per day");
        assert_eq!(capitalise(""), "");
        assert_eq!(format_events(1234.0), "1,234");
        assert_eq!(format_events(1234.46), "1,234.5");
        assert_eq!(format_events(0.04), "0");
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact_number(1200.0), "1.2k");
        assert_eq!(compact_number(25_000.0), "25k");
        assert_eq!(compact_number(3_400_000.0), "3.4M");
        assert_eq!(compact_number(0.25), "0.25");
        assert_eq!(compact_number(7.0), "7");
        assert_eq!(compact_number(5000.0), "5k");
        assert_eq!(compact_number(2_000_000.0), "2M");
    }

    #[test]
    fn statistics_have_the_digits_they_need() {
        assert_eq!(format_value(33_777.95), "33,778.0");
        assert_eq!(format_value(1005.326), "1,005.3");
        assert_eq!(format_value(44.122), "44.12");
        assert_eq!(format_value(0.4123), "0.412");
        assert_eq!(format_value(-2.5), "-2.50");
        assert_eq!(format_value(-0.0001), "-1.000e-4");
        assert_eq!(format_value(120_000.0), "120,000");
        assert_eq!(format_value(-7.0), "-7");
        assert_eq!(format_value(2.5e9), "2.500e9");
        assert_eq!(format_value(f64::NAN), "—");
    }

    #[test]
    fn a_range_has_one_precision() {
        assert_eq!(format_value_range(0.8, 2.7), "0.80 – 2.70");
        assert_eq!(format_value_range(1.0, 3.0), "1 – 3");
        assert_eq!(format_value_range(0.8, 3.0), "0.8 – 3.0");
        assert_eq!(format_value_range(-0.25, 0.125), "-0.250 – 0.125");
        assert_eq!(format_value_range(12.5, 1_500.25), "12.5 – 1,500.3");
        assert_eq!(format_value_range(0.0001, 0.0002), "1.000e-4 – 2.000e-4");
        assert_eq!(format_value_range(f64::NAN, 1.0), "— – 1");
    }
}
