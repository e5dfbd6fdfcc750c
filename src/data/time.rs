//! Calendar arithmetic and timestamp parsing/formatting, all in UTC milliseconds.
//!
//! Parsing is on the ingest hot path (every cell of a candidate timestamp column), so the
//! accepted formats are matched by hand on bytes rather than through a format-string engine.
//! Accepted: ISO 8601 date or date-time (`T` or space separator, optional fraction, optional
//! `Z` / `±HH:MM` / `±HHMM` zone — values without a zone are taken as UTC), `MM/DD/YYYY`
//! with an optional ` HH:MM[:SS]` time, and epoch seconds / milliseconds in plausible ranges
//! (see [`epoch_to_ms`]).

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;
/// Milliseconds in one hour.
pub const HOUR_MS: i64 = 3_600_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Formats UTC milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (with `.mmm` when not whole seconds).
pub fn format_iso_ms(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, frac) = (rem / HOUR_MS, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    if frac == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}Z")
    }
}

/// Formats UTC milliseconds for display: `YYYY-MM-DD HH:MM:SS` (with `.mmm` when not whole
/// seconds). Reads back through [`parse_timestamp_text`].
pub fn format_display_ms(ms: i64) -> String {
    format_iso_ms(ms).replacen('T', " ", 1).trim_end_matches('Z').to_string()
}

/// Formats UTC milliseconds as a date `YYYY-MM-DD`.
pub fn format_date_ms(ms: i64) -> String {
    let (y, mo, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{mo:02}-{d:02}")
}

/// Reads exactly `n` ASCII digits at `pos`.
fn digits(bytes: &[u8], pos: usize, n: usize) -> Option<u32> {
    let slice = bytes.get(pos..pos + n)?;
    slice.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn checked_date(year: i64, month: u32, day: u32) -> Option<i64> {
    (1..=12).contains(&month)
        .then_some(())
        .filter(|()| day >= 1 && day <= days_in_month(year, month))
        .map(|()| days_from_civil(year, month, day))
}

/// Equal time buckets covering `[min_ms, max_ms]`: days for spans up to 400 days, weeks beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    pub bucket_ms: i64,
    /// Start of the first bucket (aligned to the bucket size since the epoch).
    pub start_ms: i64,
    pub count: usize,
}

impl Buckets {
    pub fn day_or_week(min_ms: i64, max_ms: i64) -> Self {
        let bucket_ms = if (max_ms - min_ms) / DAY_MS <= 400 { DAY_MS } else { 7 * DAY_MS };
        let start_ms = min_ms.div_euclid(bucket_ms) * bucket_ms;
        let count = ((max_ms - start_ms) / bucket_ms + 1).max(0) as usize;
        Self { bucket_ms, start_ms, count }
    }

    /// Index of the bucket holding `ms`, if inside.
    pub fn index(&self, ms: i64) -> Option<usize> {
        let idx = (ms - self.start_ms).div_euclid(self.bucket_ms);
        usize::try_from(idx).ok().filter(|&i| i < self.count)
    }
}

/// Parses `HH:MM[:SS[.fff…]]` followed by an optional zone; returns ms into the day
/// (already shifted to UTC by the zone offset).
fn parse_time_and_zone(bytes: &[u8]) -> Option<i64> {
    let h = digits(bytes, 0, 2)?;
    if bytes.get(2) != Some(&b':') {
        return None;
    }
    let mi = digits(bytes, 3, 2)?;
    let mut pos = 5;
    let mut s = 0;
    let mut frac_ms = 0i64;
    if bytes.get(pos) == Some(&b':') {
        s = digits(bytes, pos + 1, 2)?;
        pos += 3;
        if matches!(bytes.get(pos), Some(b'.') | Some(b',')) {
            pos += 1;
            let start = pos;
            let mut scale = 100;
            while let Some(b) = bytes.get(pos).filter(|b| b.is_ascii_digit()) {
                frac_ms += i64::from(b - b'0') * scale;
                scale /= 10;
                pos += 1;
            }
            if pos == start {
                return None;
            }
        }
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let offset_min = parse_zone(bytes.get(pos..)?)?;
    Some(
        i64::from(h) * HOUR_MS + i64::from(mi) * 60_000 + i64::from(s) * 1000 + frac_ms
            - offset_min * 60_000,
    )
}

/// Zone suffix: empty (UTC), ` UTC`, `Z`, `±HH`, `±HH:MM`, `±HHMM`. Returns minutes east of UTC.
fn parse_zone(bytes: &[u8]) -> Option<i64> {
    match bytes {
        [] | [b'Z'] | [b'z'] | b" UTC" | b" Z" => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let h = i64::from(digits(rest, 0, 2)?);
            let m = match rest.len() {
                2 => 0,
                4 => i64::from(digits(rest, 2, 2)?),
                5 if rest.get(2) == Some(&b':') => i64::from(digits(rest, 3, 2)?),
                _ => return None,
            };
            if h > 14 || m > 59 {
                return None;
            }
            Some(if *sign == b'-' { -(h * 60 + m) } else { h * 60 + m })
        }
        _ => None,
    }
}

/// Parses a textual timestamp (ISO 8601 or `MM/DD/YYYY[ HH:MM[:SS]]`) into UTC ms.
pub fn parse_timestamp_text(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let bytes = if bytes.first().is_some_and(u8::is_ascii_whitespace) || bytes.last().is_some_and(u8::is_ascii_whitespace) {
        text.trim().as_bytes()
    } else {
        bytes
    };
    if bytes.len() < 8 {
        return None;
    }
    let (days, rest) = if bytes.get(4) == Some(&b'-') {
        let y = digits(bytes, 0, 4)?;
        let mo = digits(bytes, 5, 2)?;
        if bytes.get(7) != Some(&b'-') {
            return None;
        }
        let d = digits(bytes, 8, 2)?;
        (checked_date(i64::from(y), mo, d)?, bytes.get(10..)?)
    } else if bytes.get(2) == Some(&b'/') && bytes.get(5) == Some(&b'/') {
        let mo = digits(bytes, 0, 2)?;
        let d = digits(bytes, 3, 2)?;
        let y = digits(bytes, 6, 4)?;
        (checked_date(i64::from(y), mo, d)?, bytes.get(10..)?)
    } else {
        return None;
    };
    let ms_in_day = match rest {
        [] => 0,
        [b'T' | b't' | b' ', time @ ..] => parse_time_and_zone(time)?,
        _ => return None,
    };
    Some(days * DAY_MS + ms_in_day)
}

/// Epoch seconds between 2000-01-01 and 2100-01-01, and milliseconds in the same range,
/// count as timestamps; anything else is just a number.
pub fn epoch_to_ms(value: i64) -> Option<i64> {
    const SECS_2000: i64 = 946_684_800;
    const SECS_2100: i64 = 4_102_444_800;
    if (SECS_2000..SECS_2100).contains(&value) {
        Some(value * 1000)
    } else if (SECS_2000 * 1000..SECS_2100 * 1000).contains(&value) {
        Some(value)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn parses_iso_variants() {
        let base = days_from_civil(2026, 8, 1) * DAY_MS;
        assert_eq!(parse_timestamp_text("2026-08-01"), Some(base));
        assert_eq!(parse_timestamp_text("2026-08-01T13:45:12Z"), Some(base + 49_512_000));
        assert_eq!(parse_timestamp_text("2026-08-01 13:45:12"), Some(base + 49_512_000));
        assert_eq!(parse_timestamp_text("2026-08-01T13:45"), Some(base + 49_500_000));
        assert_eq!(parse_timestamp_text("2026-08-01T13:45:12.250Z"), Some(base + 49_512_250));
        assert_eq!(parse_timestamp_text("2026-08-01T13:45:12+02:00"), Some(base + 49_512_000 - 7_200_000));
        assert_eq!(parse_timestamp_text("2026-08-01T13:45:12-0530"), Some(base + 49_512_000 + 19_800_000));
        assert_eq!(parse_timestamp_text("08/01/2026"), Some(base));
        assert_eq!(parse_timestamp_text("08/01/2026 13:45"), Some(base + 49_500_000));
    }

    #[test]
    fn rejects_impossible_dates_and_junk() {
        for bad in ["2026-02-30", "2026-13-01", "2026-08-01T25:00", "2026-08-01X", "hello world", "12/32/2026", "2026-08-01T10:00+99"] {
            assert_eq!(parse_timestamp_text(bad), None, "{bad}");
        }
        assert!(parse_timestamp_text("2024-02-29").is_some());
        assert!(parse_timestamp_text("2023-02-29").is_none());
    }

    #[test]
    fn formats_iso() {
        let ms = days_from_civil(2026, 8, 1) * DAY_MS + 49_512_250;
        assert_eq!(format_iso_ms(ms), "2026-08-01T13:45:12.250Z");
        assert_eq!(format_iso_ms(ms - 250), "2026-08-01T13:45:12Z");
        assert_eq!(parse_timestamp_text(&format_iso_ms(ms)), Some(ms));
        assert_eq!(format_date_ms(-1), "1969-12-31");
        assert_eq!(format_display_ms(ms), "2026-08-01 13:45:12.250");
        assert_eq!(parse_timestamp_text(&format_display_ms(ms)), Some(ms));
    }

    #[test]
    fn day_and_week_buckets() {
        let b = Buckets::day_or_week(DAY_MS + 5, 3 * DAY_MS + 7);
        assert_eq!(b, Buckets { bucket_ms: DAY_MS, start_ms: DAY_MS, count: 3 });
        assert_eq!((b.index(DAY_MS), b.index(3 * DAY_MS + 7), b.index(0), b.index(4 * DAY_MS)), (Some(0), Some(2), None, None));
        assert_eq!(Buckets::day_or_week(0, 500 * DAY_MS).bucket_ms, 7 * DAY_MS);
    }

    #[test]
    fn epoch_ranges() {
        assert_eq!(epoch_to_ms(1_785_000_000), Some(1_785_000_000_000));
        assert_eq!(epoch_to_ms(1_785_000_000_000), Some(1_785_000_000_000));
        assert_eq!(epoch_to_ms(42), None);
        assert_eq!(epoch_to_ms(99_999_999_999_999), None);
    }
}
