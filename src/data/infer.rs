//! Cell parsing and column type inference.
//!
//! Inference looks at a sample of a column's non-missing cells and picks the narrowest type
//! that at least [`FIT_SHARE`] of them parse as, so a few stray values do not turn a numeric
//! column into text: those values become missing and are reported as mismatches. String
//! columns are split into category / identifier / text once the whole column is known
//! ([`classify_strings`]), since cardinality is only meaningful over all rows.

use super::table::ColumnType;
use super::time::{epoch_to_ms, parse_timestamp_text};

/// Share of sampled non-missing values that must parse for a type to be chosen.
pub const FIT_SHARE: f64 = 0.95;

/// Markers read as a missing value (matched exactly, after trimming spaces).
pub const MISSING_MARKERS: [&str; 9] = ["", "NA", "N/A", "n/a", "null", "NULL", "None", "-", "NaN"];

pub fn is_missing(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Hot path: no marker is longer than 4 bytes, so a longer cell without surrounding
    // spaces is present.
    let padded = bytes.first().is_some_and(u8::is_ascii_whitespace) || bytes.last().is_some_and(u8::is_ascii_whitespace);
    if bytes.len() > 4 && !padded {
        return false;
    }
    if padded {
        return MISSING_MARKERS.contains(&text.trim());
    }
    // Short cells (most of a file's): every marker starts with one of these bytes.
    match bytes.first() {
        None => true,
        Some(b'N' | b'n' | b'-') => MISSING_MARKERS.contains(&text),
        Some(_) => false,
    }
}

/// `text` without surrounding whitespace, skipping the (char-aware) trim when there is none.
fn trim_fast(text: &str) -> &str {
    let bytes = text.as_bytes();
    let padded = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_whitespace() || *b >= 0x80);
    if padded(bytes.first()) || padded(bytes.last()) {
        text.trim()
    } else {
        text
    }
}

/// Parses a decimal integer (optional sign, ASCII digits, no separators).
pub fn parse_int(text: &str) -> Option<i64> {
    let trimmed = trim_fast(text).as_bytes();
    let (negative, digits) = match trimmed.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, trimmed),
    };
    if digits.is_empty() {
        return None;
    }
    // Up to 18 digits cannot overflow (10^18 < 2^63): plain arithmetic, which is one
    // instruction where checked multiplication is, in the worker's wasm, a call to a 128-bit
    // multiply for every digit (the costliest part of reading an integer cell there).
    if digits.len() <= 18 {
        let mut value: i64 = 0;
        for &b in digits {
            let digit = i64::from(b.wrapping_sub(b'0'));
            if digit > 9 {
                return None;
            }
            value = value * 10 + digit;
        }
        return Some(if negative { -value } else { value });
    }
    // Accumulate negatively so i64::MIN parses; overflow is "not an integer".
    let mut value: i64 = 0;
    for &b in digits {
        let digit = i64::from(b.wrapping_sub(b'0'));
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(digit)?;
    }
    if negative { Some(value) } else { value.checked_neg() }
}

/// A parsed floating-point cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FloatCell {
    Value(f64),
    /// `NaN`, `inf`, `-inf`: read as missing in a numeric column.
    NonFinite,
}

/// Parses a float: decimal or scientific notation, and `1,234.5`-style thousands
/// separators (groups of three after a comma). Words like `infinity` are non-finite.
pub fn parse_float(text: &str) -> Option<FloatCell> {
    let trimmed = trim_fast(text);
    let first = trimmed.bytes().next()?;
    // Rust's parser also accepts "inf"/"nan" spelled out: only let them through as NonFinite.
    let after_sign = if matches!(first, b'+' | b'-') { trimmed.as_bytes().get(1).copied() } else { Some(first) };
    if after_sign.is_some_and(|b| b.is_ascii_alphabetic()) {
        let word = trimmed.trim_start_matches(['+', '-']);
        let non_finite = ["inf", "infinity", "nan"].iter().any(|w| word.eq_ignore_ascii_case(w));
        return non_finite.then_some(FloatCell::NonFinite);
    }
    if let Some(value) = short_decimal(trimmed.as_bytes()) {
        return Some(FloatCell::Value(value));
    }
    if let Ok(value) = trimmed.parse::<f64>() {
        return Some(if value.is_finite() { FloatCell::Value(value) } else { FloatCell::NonFinite });
    }
    if trimmed.contains(',') && has_thousands_groups(trimmed) {
        let plain: String = trimmed.chars().filter(|&c| c != ',').collect();
        return plain.parse::<f64>().ok().filter(|v| v.is_finite()).map(FloatCell::Value);
    }
    None
}

/// Most numbers in exports: a plain decimal (`-12.50`, `0.249`, `31`) of at most 15 digits. Its
/// digits make an integer below 2^53 and its fraction a power of ten up to 10^15, both exact as
/// `f64`, so one division is the correctly rounded value: the same bits as `str::parse` (the
/// fast path of Clinger's algorithm, which `str::parse` also takes after reading the text).
/// `None` for anything else (an exponent, more digits, a lone point), left to `str::parse`.
fn short_decimal(bytes: &[u8]) -> Option<f64> {
    const POWERS: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let (mut mantissa, mut count, mut point) = (0u64, 0usize, None);
    for (at, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
            }
            b'.' if point.is_none() => point = Some(at),
            _ => return None,
        }
    }
    let fraction = point.map_or(0, |at| digits.len() - at - 1);
    // A point needs a digit on one side ("." and "-." are not numbers); 15 digits at most.
    if count == 0 || count > 15 {
        return None;
    }
    let value = mantissa as f64 / *POWERS.get(fraction)?;
    Some(if negative { -value } else { value })
}

fn has_thousands_groups(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (integer_part, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if fraction.contains(',') {
        return false;
    }
    let mut groups = integer_part.split(',');
    let lead_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    lead_ok && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// `true/false`, `yes/no`, `t/f`, `y/n` in any case.
pub fn parse_bool_word(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "t" | "y" => Some(true),
        "false" | "no" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// How a timestamp column's cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    Text,
    EpochSeconds,
    EpochMillis,
}

/// Parses one timestamp cell in the given format to UTC ms.
pub fn parse_timestamp(text: &str, format: TimestampFormat) -> Option<i64> {
    match format {
        TimestampFormat::Text => parse_timestamp_text(text),
        TimestampFormat::EpochSeconds | TimestampFormat::EpochMillis => {
            let value = parse_int(text)?;
            let ms = epoch_to_ms(value)?;
            let is_seconds = ms != value;
            (is_seconds == (format == TimestampFormat::EpochSeconds)).then_some(ms)
        }
    }
}

fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Names like `created_at`, `event_time`, `ts`, `date`.
pub fn is_time_like_name(name: &str) -> bool {
    let words = name_words(name);
    words.iter().any(|w| matches!(w.as_str(), "time" | "date" | "ts" | "timestamp" | "at" | "datetime" | "epoch" | "day"))
        || name.to_ascii_lowercase().ends_with("time")
}

/// Names like `is_spam`, `has_photo`, `flagged`, `label`.
pub fn is_flag_like_name(name: &str) -> bool {
    let words = name_words(name);
    words.first().is_some_and(|w| matches!(w.as_str(), "is" | "has" | "was" | "did"))
        || words.iter().any(|w| matches!(w.as_str(), "flag" | "flagged" | "label" | "bool" | "actioned" | "violation" | "target"))
}

/// Names like `user_id`, `reportId`, `id`, `uuid`.
pub fn is_id_like_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words = name_words(name);
    words.last().is_some_and(|w| matches!(w.as_str(), "id" | "uuid" | "guid" | "key" | "hash"))
        || name.ends_with("Id")
        || lower == "id"
}

/// Names like `app_version`, `build`, `zip_code`, `phone`: digits that are labels, not
/// quantities (a build "41.3" is not a number between 41.2 and 41.4 to average).
pub fn is_label_like_name(name: &str) -> bool {
    name_words(name)
        .iter()
        .any(|w| matches!(w.as_str(), "version" | "ver" | "build" | "release" | "zip" | "zipcode" | "postcode" | "postal" | "phone" | "code" | "sku"))
}

/// The inferred storage type of a column, before string classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inferred {
    Integer,
    Float,
    Boolean { words: bool },
    Timestamp(TimestampFormat),
    /// Category, identifier or text: decided by [`classify_strings`] at the end.
    Strings,
}

/// Whether at least [`FIT_SHARE`] of `sample` fits: the reading stops once too many do not
/// (a text column is not read to its end for each type it is not).
fn mostly_fits(sample: &[&str], fits: impl Fn(&str) -> bool) -> bool {
    if sample.is_empty() {
        return false;
    }
    // The share that could still fit only falls with each miss: stop when it is too low.
    let n = sample.len() as f64;
    let mut could_fit = sample.len();
    for text in sample {
        if !fits(text) {
            could_fit -= 1;
            if (could_fit as f64) / n < FIT_SHARE {
                return false;
            }
        }
    }
    true
}

/// Whole-number text: a sign, then digits only (whatever their number).
pub fn is_integer_literal(text: &str) -> bool {
    let trimmed = text.trim().as_bytes();
    let digits = match trimmed.split_first() {
        Some((b'-' | b'+', rest)) => rest,
        _ => trimmed,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Infers a column's type from a sample of its non-missing cells.
pub fn infer_column(name: &str, sample: &[&str]) -> Inferred {
    if sample.is_empty() {
        return Inferred::Strings;
    }
    let ints = mostly_fits(sample, |t| parse_int(t).is_some());
    // Whole numbers past 64 bits (an unsigned 64-bit id) are identifiers: as floats, ids that
    // differ in their last digits would read as one value.
    if !ints && mostly_fits(sample, is_integer_literal) {
        return Inferred::Strings;
    }
    // (Every integer is a float.)
    let floats = ints || mostly_fits(sample, |t| parse_float(t).is_some());
    if floats && is_label_like_name(name) {
        return Inferred::Strings;
    }
    if ints {
        let all_binary = sample.iter().all(|t| matches!(parse_int(t), Some(0 | 1)));
        if all_binary && is_flag_like_name(name) {
            return Inferred::Boolean { words: false };
        }
        if is_id_like_name(name) {
            return Inferred::Strings;
        }
        if is_time_like_name(name) {
            for format in [TimestampFormat::EpochSeconds, TimestampFormat::EpochMillis] {
                if mostly_fits(sample, |t| parse_timestamp(t, format).is_some()) {
                    return Inferred::Timestamp(format);
                }
            }
        }
        return Inferred::Integer;
    }
    if floats {
        return Inferred::Float;
    }
    if mostly_fits(sample, |t| parse_bool_word(t).is_some()) {
        return Inferred::Boolean { words: true };
    }
    if mostly_fits(sample, |t| parse_timestamp_text(t).is_some()) {
        return Inferred::Timestamp(TimestampFormat::Text);
    }
    Inferred::Strings
}

/// What a whole string column looks like.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StringStats {
    pub non_missing: usize,
    pub distinct: usize,
    pub total_len: usize,
    pub with_space: usize,
}

/// Category (few distinct values), identifier (many, short, no spaces) or free text.
pub fn classify_strings(name: &str, stats: StringStats) -> ColumnType {
    if stats.non_missing == 0 {
        return ColumnType::Category;
    }
    let avg_len = stats.total_len as f64 / stats.non_missing as f64;
    let space_share = stats.with_space as f64 / stats.non_missing as f64;
    let distinct_share = stats.distinct as f64 / stats.non_missing as f64;
    let few = stats.distinct <= 200 || (stats.distinct <= 5000 && distinct_share <= 0.05);
    if is_id_like_name(name) && stats.distinct > 50 {
        return ColumnType::Identifier;
    }
    if few && avg_len <= 64.0 {
        return ColumnType::Category;
    }
    if space_share > 0.2 || avg_len > 64.0 {
        return ColumnType::Text;
    }
    if distinct_share > 0.5 || stats.distinct > 5000 {
        return ColumnType::Identifier;
    }
    ColumnType::Category
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_markers() {
        for text in ["", " ", "NA", "N/A", "null", "NULL", "None", "-", "NaN"] {
            assert!(is_missing(text), "{text:?}");
        }
        for text in ["0", "none of it", "nan%", "--"] {
            assert!(!is_missing(text), "{text:?}");
        }
    }

    #[test]
    fn integers_as_the_standard_parser_reads_them() {
        let mut texts = vec!["0".to_string(), "-0".into(), "+0".into(), "007".into(), "-007".into()];
        let mut power: i64 = 1;
        for _ in 0..19 {
            for value in [power - 1, power, power + 1, i64::MAX - power + 1, i64::MIN + power - 1] {
                texts.push(value.to_string());
                texts.push(format!("+{value}").replace("+-", "-"));
                texts.push(format!("000{}", value.unsigned_abs()));
            }
            power = power.saturating_mul(10);
        }
        texts.extend(["9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "999999999999999999", "-999999999999999999", "1000000000000000000", "-0", "+", "12a", "1 2"].map(String::from));
        for text in &texts {
            assert_eq!(parse_int(text), text.parse::<i64>().ok(), "{text}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_int("-42"), Some(-42));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_int(" 12 "), Some(12));
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("1_000"), None);
        assert_eq!(parse_float("1e5"), Some(FloatCell::Value(100_000.0)));
        assert_eq!(parse_float("-0.5"), Some(FloatCell::Value(-0.5)));
        assert_eq!(parse_float("1,234.5"), Some(FloatCell::Value(1234.5)));
        assert_eq!(parse_float("12,34.5"), None);
        assert_eq!(parse_float("1.234,5"), None);
        assert_eq!(parse_float("inf"), Some(FloatCell::NonFinite));
        assert_eq!(parse_float("-Infinity"), Some(FloatCell::NonFinite));
        assert_eq!(parse_float("1e999"), Some(FloatCell::NonFinite));
        assert_eq!(parse_float("info"), None);
        assert_eq!(parse_float("abc"), None);
    }

    #[test]
    fn short_decimals_are_read_as_str_parse_reads_them() {
        for text in ["0", "-0", "-0.0", "5.", ".5", "+7.25", "0.1", "0.249", "31.0", "123456789012345", "0.00000000000001", "900719925474.993"] {
            let expected: f64 = text.parse().unwrap_or(f64::NAN);
            assert_eq!(short_decimal(text.as_bytes()).map(f64::to_bits), Some(expected.to_bits()), "{text}");
        }
        // Left to `str::parse`: exponents, 16 digits or more, two points, a lone point or sign.
        for text in ["1e5", "1234567890123456", "1.2.3", ".", "-.", "-", "", "1_0", "0x10"] {
            assert_eq!(short_decimal(text.as_bytes()), None, "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_short_decimal_has_the_bits_str_parse_gives(text in "[+-]?[0-9]{0,9}[.]?[0-9]{0,9}") {
            let fast = short_decimal(text.as_bytes());
            let parsed = text.parse::<f64>().ok();
            if let Some(value) = fast {
                proptest::prop_assert_eq!(Some(value.to_bits()), parsed.map(f64::to_bits), "{}", text);
            }
            let digits = text.bytes().filter(u8::is_ascii_digit).count();
            if parsed.is_some() && digits <= 15 {
                proptest::prop_assert!(fast.is_some(), "{} fell through to str::parse", text);
            }
        }

        /// The early-stopping test agrees with the share of fitting cells compared in floating
        /// point, on samples of every size about the threshold.
        #[test]
        fn mostly_fits_is_the_share_test(fit in proptest::collection::vec(proptest::bool::weighted(0.95), 0..200)) {
            let sample: Vec<&str> = fit.iter().map(|&f| if f { "y" } else { "n" }).collect();
            let share = fit.iter().filter(|&&f| f).count() as f64 / fit.len().max(1) as f64;
            proptest::prop_assert_eq!(mostly_fits(&sample, |t| t == "y"), !fit.is_empty() && share >= FIT_SHARE);
        }

        /// An integer cell is a float cell too (the inference skips the float pass when the
        /// integers fit).
        #[test]
        fn an_integer_is_a_float(text in "[ ]?[+-]?[0-9]{1,22}[ ]?") {
            if parse_int(&text).is_some() {
                proptest::prop_assert!(parse_float(&text).is_some(), "{}", text);
            }
        }
    }

    #[test]
    fn non_finite_words_in_any_case() {
        for word in ["inf", "-Inf", "+INFINITY", "NaN", "nan"] {
            assert_eq!(parse_float(word), Some(FloatCell::NonFinite), "{word}");
        }
        for word in ["in", "infinit", "nana", "n", "x1"] {
            assert_eq!(parse_float(word), None, "{word}");
        }
    }

    #[test]
    fn integer_float_bool_timestamp_strings() {
        assert_eq!(infer_column("n", &["1", "2", "-3"]), Inferred::Integer);
        assert_eq!(infer_column("x", &["1", "2.5", "1e3"]), Inferred::Float);
        assert_eq!(infer_column("ok", &["yes", "No", "YES"]), Inferred::Boolean { words: true });
        assert_eq!(infer_column("is_spam", &["0", "1", "1"]), Inferred::Boolean { words: false });
        assert_eq!(infer_column("count", &["0", "1", "1"]), Inferred::Integer);
        assert_eq!(infer_column("when", &["2026-01-01", "2026-01-02 10:00:00"]), Inferred::Timestamp(TimestampFormat::Text));
        // Whole numbers past 64 bits are ids (as floats, 2^63 − 1 and 2^63 read as one value).
        assert_eq!(infer_column("v", &["9223372036854775807", "9223372036854775808", "-1"]), Inferred::Strings);
        assert_eq!(infer_column("v", &["1e19", "2.5"]), Inferred::Float);
        assert_eq!(infer_column("created_at", &["1785000000", "1785000060"]), Inferred::Timestamp(TimestampFormat::EpochSeconds));
        assert_eq!(infer_column("event_ts", &["1785000000000"]), Inferred::Timestamp(TimestampFormat::EpochMillis));
        assert_eq!(infer_column("amount", &["1785000000"]), Inferred::Integer);
        assert_eq!(infer_column("user_id", &["17", "18"]), Inferred::Strings);
        assert_eq!(infer_column("name", &["ann", "bob"]), Inferred::Strings);
        assert_eq!(infer_column("app_version", &["31.0", "32.1"]), Inferred::Strings);
        assert_eq!(infer_column("build", &["41.2", "42.0"]), Inferred::Strings);
        assert_eq!(infer_column("client_release", &["7.1", "7.2"]), Inferred::Strings);
        assert_eq!(infer_column("zip_code", &["02139", "10001"]), Inferred::Strings);
    }

    #[test]
    fn a_few_stray_values_do_not_change_the_type() {
        let mut sample = vec!["1"; 99];
        sample.push("oops");
        assert_eq!(infer_column("n", &sample), Inferred::Integer);
        sample.extend(["x"; 10]);
        assert_eq!(infer_column("n", &sample), Inferred::Strings);
    }

    #[test]
    fn string_classes() {
        let stats = |distinct, non_missing, avg_len: usize, with_space| StringStats {
            non_missing,
            distinct,
            total_len: avg_len * non_missing,
            with_space,
        };
        assert_eq!(classify_strings("country", stats(12, 100_000, 2, 0)), ColumnType::Category);
        assert_eq!(classify_strings("report_id", stats(100_000, 100_000, 9, 0)), ColumnType::Identifier);
        assert_eq!(classify_strings("reporter", stats(60_000, 100_000, 8, 0)), ColumnType::Identifier);
        assert_eq!(classify_strings("comment", stats(90_000, 100_000, 80, 90_000)), ColumnType::Text);
        assert_eq!(classify_strings("empty", stats(0, 0, 0, 0)), ColumnType::Category);
    }
}
