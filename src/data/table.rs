//! The columnar, typed table that every analysis reads.
//!
//! A column's *semantic* type ([`ColumnType`]) is what the user sees and overrides; its
//! *storage* ([`ColumnData`]) is what the bytes are: numbers as `i64`/`f64` with a validity
//! bitmap, timestamps as `i64` UTC milliseconds, low-cardinality strings as codes into a
//! dictionary (one, two or four bytes a row, [`Codes`]), high-cardinality strings in one arena
//! with offsets.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use rustc_hash::FxHashMap;

use super::time::format_display_ms;

/// What a column means, as inferred at load or chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColumnType {
    Integer,
    Float,
    Boolean,
    Timestamp,
    Category,
    Identifier,
    Text,
}

impl ColumnType {
    pub const ALL: [ColumnType; 7] = [
        Self::Integer, Self::Float, Self::Boolean, Self::Timestamp, Self::Category,
        Self::Identifier, Self::Text,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::Timestamp => "timestamp",
            Self::Category => "category",
            Self::Identifier => "identifier",
            Self::Text => "text",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.label() == label)
    }
}

/// One bit per row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

impl Bitmap {
    /// Makes room for `bits` bits in all, exactly (no doubling), when it can be had: room is
    /// a plan, and a plan past what memory can hold is dropped, not a panic.
    pub fn reserve_total(&mut self, bits: usize) {
        let words = bits.div_ceil(64);
        let _ = self.words.try_reserve_exact(words.saturating_sub(self.words.len()));
    }

    /// Bits there is room for.
    pub fn capacity_bits(&self) -> usize {
        self.words.capacity() * 64
    }

    /// Bytes the bits take, and bytes held for them.
    pub fn used_and_reserved_bytes(&self) -> (usize, usize) {
        (self.words.len() * 8, self.words.capacity() * 8)
    }

    pub fn push(&mut self, bit: bool) {
        let (word, offset) = (self.len / 64, self.len % 64);
        if word == self.words.len() {
            self.words.push(0);
        }
        if bit {
            if let Some(w) = self.words.get_mut(word) {
                *w |= 1 << offset;
            }
        }
        self.len += 1;
    }

    /// Appends `n` set bits, a word at a time.
    pub fn push_ones(&mut self, n: usize) {
        let end = self.len + n;
        self.words.resize(end.div_ceil(64), 0);
        let mut at = self.len;
        while at < end {
            let offset = at % 64;
            let take = (64 - offset).min(end - at);
            let mask = if take == 64 { u64::MAX } else { ((1u64 << take) - 1) << offset };
            if let Some(word) = self.words.get_mut(at / 64) {
                *word |= mask;
            }
            at += take;
        }
        self.len = end;
    }

    /// The words holding the bits (those past the length are zero).
    pub fn words(&self) -> &[u64] {
        self.words.get(..self.len.div_ceil(64)).unwrap_or_default()
    }

    /// Bits from their words ([`Bitmap::words`]); `None` when the words do not hold `len` bits.
    pub fn from_words(mut words: Vec<u64>, len: usize) -> Option<Self> {
        if words.len() != len.div_ceil(64) {
            return None;
        }
        if let Some(last) = words.last_mut() {
            if !len.is_multiple_of(64) {
                *last &= (1u64 << (len % 64)) - 1;
            }
        }
        Some(Self { words, len })
    }

    /// No bits, with the room kept.
    pub fn clear(&mut self) {
        self.words.clear();
        self.len = 0;
    }

    /// Appends the bits of `other` after these.
    pub fn append(&mut self, other: &Bitmap) {
        let shift = self.len % 64;
        let other_words = other.words.get(..other.len.div_ceil(64)).unwrap_or_default();
        if shift == 0 {
            self.words.truncate(self.len / 64);
            self.words.extend_from_slice(other_words);
        } else {
            self.words.truncate(self.len.div_ceil(64));
            for &word in other_words {
                if let Some(last) = self.words.last_mut() {
                    *last |= word << shift;
                }
                self.words.push(word >> (64 - shift));
            }
        }
        self.len += other.len;
        // Bits past the end stay zero: `push` only sets bits, and equal bitmaps compare equal.
        self.words.truncate(self.len.div_ceil(64));
        if let Some(last) = self.words.last_mut() {
            let used = self.len % 64;
            if used != 0 {
                *last &= (1u64 << used) - 1;
            }
        }
    }

    pub fn get(&self, idx: usize) -> bool {
        idx < self.len && self.words.get(idx / 64).is_some_and(|w| w >> (idx % 64) & 1 == 1)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// Code of a missing value in a dictionary-encoded column.
pub const MISSING_CODE: u32 = u32::MAX;

/// The dictionary codes of a column's rows, as narrow as its dictionary allows: one byte a row
/// while it has at most 255 values, two up to 65,535, four beyond. The largest number of each
/// width stands for a missing cell, read as [`MISSING_CODE`]. Most category columns have a few
/// values, and one byte a row instead of four is most of their memory (the 1 M-row demo's eight
/// category columns: 8 MB instead of 32).
///
/// Codes widen as the dictionary grows past a width ([`Codes::push`]) and never narrow (a
/// builder cleared for the next part keeps its width), so equality compares codes, not widths.
#[derive(Debug, Clone)]
pub enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Self {
        Self::U8(Vec::new())
    }
}

impl PartialEq for Codes {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl From<Vec<u32>> for Codes {
    fn from(codes: Vec<u32>) -> Self {
        codes.into_iter().collect()
    }
}

impl FromIterator<u32> for Codes {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        let mut codes = Self::default();
        codes.extend(iter);
        codes
    }
}

impl Extend<u32> for Codes {
    fn extend<I: IntoIterator<Item = u32>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        for code in iter {
            self.push(code);
        }
    }
}

impl Codes {
    pub fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::U16(v) => v.len(),
            Self::U32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Missing cells: a loop per width (the compiler makes it wide), not [`Codes::iter`]'s match
    /// per code.
    pub fn count_missing(&self) -> usize {
        match self {
            Self::U8(codes) => codes.iter().filter(|&&c| c == u8::MAX).count(),
            Self::U16(codes) => codes.iter().filter(|&&c| c == u16::MAX).count(),
            Self::U32(codes) => codes.iter().filter(|&&c| c == MISSING_CODE).count(),
        }
    }

    /// Bytes held, room included.
    pub fn heap_bytes(&self) -> usize {
        self.capacity() * self.width()
    }

    /// Bytes a code takes at the present width.
    pub fn width(&self) -> usize {
        match self {
            Self::U8(_) => 1,
            Self::U16(_) => 2,
            Self::U32(_) => 4,
        }
    }

    /// Rows there is room for without growing.
    pub fn capacity(&self) -> usize {
        match self {
            Self::U8(v) => v.capacity(),
            Self::U16(v) => v.capacity(),
            Self::U32(v) => v.capacity(),
        }
    }

    /// Room for `additional` more rows, at the present width, when it can be had (a plan past
    /// what memory can hold is dropped: the rows then come one by one, or the memory guard
    /// stops them).
    pub fn reserve(&mut self, additional: usize) {
        let _ = match self {
            Self::U8(v) => v.try_reserve(additional),
            Self::U16(v) => v.try_reserve(additional),
            Self::U32(v) => v.try_reserve(additional),
        };
    }

    /// Room for exactly `additional` more rows, at the present width, when it can be had.
    pub fn reserve_exact(&mut self, additional: usize) {
        let _ = match self {
            Self::U8(v) => v.try_reserve_exact(additional),
            Self::U16(v) => v.try_reserve_exact(additional),
            Self::U32(v) => v.try_reserve_exact(additional),
        };
    }

    /// Removes every row; the width and the room stay.
    pub fn clear(&mut self) {
        match self {
            Self::U8(v) => v.clear(),
            Self::U16(v) => v.clear(),
            Self::U32(v) => v.clear(),
        }
    }

    /// The code of `row` ([`MISSING_CODE`] for a missing cell), `None` past the end.
    #[inline]
    pub fn get(&self, row: usize) -> Option<u32> {
        match self {
            Self::U8(v) => v.get(row).map(|&c| wide_u8(c)),
            Self::U16(v) => v.get(row).map(|&c| wide_u16(c)),
            Self::U32(v) => v.get(row).copied(),
        }
    }

    /// Appends a code ([`MISSING_CODE`] for a missing cell), widening every code first when this
    /// one does not fit the present width.
    #[inline]
    pub fn push(&mut self, code: u32) {
        match self {
            // `MISSING_CODE as u8` is `u8::MAX`, the narrow missing code; likewise for u16.
            Self::U8(v) if code < u32::from(u8::MAX) || code == MISSING_CODE => v.push(code as u8),
            Self::U16(v) if code < u32::from(u16::MAX) || code == MISSING_CODE => v.push(code as u16),
            Self::U32(v) => v.push(code),
            _ => {
                self.widen(code);
                self.push(code);
            }
        }
    }

    /// Rewrites every code at the narrowest width that holds `code` too.
    #[cold]
    fn widen(&mut self, code: u32) {
        // The planned room, at the new width, when it can be had (else the codes' own length).
        let room = self.capacity();
        *self = if code < u32::from(u16::MAX) && !matches!(self, Self::U16(_)) {
            let mut wide = Vec::new();
            if wide.try_reserve_exact(room).is_err() {
                wide.reserve_exact(self.len());
            }
            wide.extend(self.iter().map(|c| if c == MISSING_CODE { u16::MAX } else { c as u16 }));
            Self::U16(wide)
        } else {
            let mut wide = Vec::new();
            if wide.try_reserve_exact(room).is_err() {
                wide.reserve_exact(self.len());
            }
            wide.extend(self.iter());
            Self::U32(wide)
        };
    }

    /// Every row's code in order, as [`Codes::get`] reads it.
    pub fn iter(&self) -> CodesIter<'_> {
        self.range(0..self.len()).unwrap_or(CodesIter::U32([].iter()))
    }

    /// The codes of `rows`, `None` when the range is not within the column.
    pub fn range(&self, rows: std::ops::Range<usize>) -> Option<CodesIter<'_>> {
        Some(match self {
            Self::U8(v) => CodesIter::U8(v.get(rows)?.iter()),
            Self::U16(v) => CodesIter::U16(v.get(rows)?.iter()),
            Self::U32(v) => CodesIter::U32(v.get(rows)?.iter()),
        })
    }
}

/// A one-byte code as [`Codes::get`] reads it (`u8::MAX` is a missing cell).
#[inline]
fn wide_u8(code: u8) -> u32 {
    if code == u8::MAX { MISSING_CODE } else { u32::from(code) }
}

/// A two-byte code as [`Codes::get`] reads it (`u16::MAX` is a missing cell).
#[inline]
fn wide_u16(code: u16) -> u32 {
    if code == u16::MAX { MISSING_CODE } else { u32::from(code) }
}

/// The codes of [`Codes::iter`] and [`Codes::range`].
#[derive(Debug, Clone)]
pub enum CodesIter<'a> {
    U8(std::slice::Iter<'a, u8>),
    U16(std::slice::Iter<'a, u16>),
    U32(std::slice::Iter<'a, u32>),
}

impl Iterator for CodesIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            Self::U8(it) => it.next().map(|&c| wide_u8(c)),
            Self::U16(it) => it.next().map(|&c| wide_u16(c)),
            Self::U32(it) => it.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Self::U8(it) => it.len(),
            Self::U16(it) => it.len(),
            Self::U32(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for CodesIter<'_> {}

/// Strings of one column, stored either as dictionary codes or in one arena.
#[derive(Debug, Clone, PartialEq)]
pub enum Strings {
    Dict { codes: Codes, dict: Vec<Box<str>> },
    Arena { bytes: String, ends: Vec<usize>, valid: Bitmap },
}

impl Strings {
    pub fn get(&self, row: usize) -> Option<&str> {
        match self {
            Self::Dict { codes, dict } => {
                let code = codes.get(row)?;
                dict.get(code as usize).map(|s| &**s)
            }
            Self::Arena { bytes, ends, valid } => {
                if !valid.get(row) {
                    return None;
                }
                let start = if row == 0 { 0 } else { *ends.get(row - 1)? };
                bytes.get(start..*ends.get(row)?)
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Dict { codes, .. } => codes.len(),
            Self::Arena { ends, .. } => ends.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The values of a column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Int { values: Vec<i64>, valid: Bitmap },
    Float { values: Vec<f64>, valid: Bitmap },
    Bool { values: Bitmap, valid: Bitmap },
    /// UTC milliseconds.
    Timestamp { ms: Vec<i64>, valid: Bitmap },
    Str(Strings),
}

/// One cell, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Missing,
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(i64),
    Str(&'a str),
}

impl Value<'_> {
    /// Text shown to the user for this value (`""` for missing).
    pub fn display(&self) -> String {
        match *self {
            Value::Missing => String::new(),
            Value::Int(v) => v.to_string(),
            Value::Float(v) => format_float(v),
            Value::Bool(v) => v.to_string(),
            Value::Timestamp(ms) => format_display_ms(ms),
            Value::Str(s) => s.to_string(),
        }
    }
}

/// Shortest text that reads back as the same `f64` (zero is "0" whatever its sign: a "-0" in an
/// export is noise, and would read back as the integer 0).
pub fn format_float(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    // Rust's Display for f64 prints the shortest round-tripping form.
    format!("{value}")
}

/// A number for a message: as [`format_float`] up to 15 digits, in scientific notation past
/// that ("1e308", not 309 digits).
pub fn format_float_brief(value: f64) -> String {
    if value.abs() < 1e15 { format_float(value) } else { format!("{value:e}") }
}

/// A value that did not fit the column's type at load, kept so the column can be re-typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    pub row: usize,
    pub text: String,
}

/// A named, typed column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
    pub data: ColumnData,
    /// Values that did not fit `kind` and were stored as missing.
    pub mismatches: Vec<Mismatch>,
    /// Numbers written as `inf`, `-inf` or `NaN` (stored as missing).
    pub non_finite: usize,
}

impl Column {
    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Int { values, .. } => values.len(),
            ColumnData::Float { values, .. } => values.len(),
            ColumnData::Bool { values, .. } => values.len(),
            ColumnData::Timestamp { ms, .. } => ms.len(),
            ColumnData::Str(strings) => strings.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn value(&self, row: usize) -> Value<'_> {
        match &self.data {
            ColumnData::Int { values, valid } => match values.get(row) {
                Some(v) if valid.get(row) => Value::Int(*v),
                _ => Value::Missing,
            },
            ColumnData::Float { values, valid } => match values.get(row) {
                Some(v) if valid.get(row) => Value::Float(*v),
                _ => Value::Missing,
            },
            ColumnData::Bool { values, valid } if valid.get(row) => Value::Bool(values.get(row)),
            ColumnData::Bool { .. } => Value::Missing,
            ColumnData::Timestamp { ms, valid } => match ms.get(row) {
                Some(v) if valid.get(row) => Value::Timestamp(*v),
                _ => Value::Missing,
            },
            ColumnData::Str(strings) => strings.get(row).map_or(Value::Missing, Value::Str),
        }
    }

    /// The cell as a number: integers, floats, booleans as 0 / 1; `None` for missing cells
    /// and other types (non-finite numbers are stored as missing).
    pub fn numeric(&self, row: usize) -> Option<f64> {
        match self.value(row) {
            Value::Int(v) => Some(v as f64),
            Value::Float(v) => Some(v),
            Value::Bool(v) => Some(f64::from(u8::from(v))),
            _ => None,
        }
    }

    /// Number of non-missing values.
    pub fn count_valid(&self) -> usize {
        match &self.data {
            ColumnData::Int { valid, .. }
            | ColumnData::Float { valid, .. }
            | ColumnData::Bool { valid, .. }
            | ColumnData::Timestamp { valid, .. } => valid.count_ones(),
            ColumnData::Str(Strings::Dict { codes, .. }) => codes.len() - codes.count_missing(),
            ColumnData::Str(Strings::Arena { valid, .. }) => valid.count_ones(),
        }
    }

    /// Number of distinct non-missing values (exact).
    pub fn count_distinct(&self) -> usize {
        let mut count = DistinctCount::new(self);
        count.advance(usize::MAX);
        count.count()
    }

    /// The `limit` most frequent values of `rows` (by displayed text; ties by text), how many
    /// distinct values there are and how many occur more than once. Dictionary columns count
    /// codes; arena strings are borrowed, not copied per row.
    pub fn value_counts(&self, rows: &[u32], limit: usize) -> ValueCounts {
        match &self.data {
            ColumnData::Str(Strings::Dict { codes, dict }) => {
                let mut per_code = vec![0usize; dict.len()];
                for &row in rows {
                    if let Some(n) = codes.get(row as usize).filter(|&c| c != MISSING_CODE).and_then(|c| per_code.get_mut(c as usize)) {
                        *n += 1;
                    }
                }
                let counts: Vec<(&str, usize)> = dict.iter().zip(per_code).filter(|(_, n)| *n > 0).map(|(t, n)| (&**t, n)).collect();
                summarise_counts(counts, limit)
            }
            ColumnData::Str(strings @ Strings::Arena { .. }) => {
                count_texts(rows.iter().filter_map(|&row| strings.get(row as usize)), rows.len(), limit)
            }
            // Numbers, times and booleans are counted by their bits, and only the values that
            // may be among the top are written as text (counting by text allocated a string per
            // distinct value; on the 49 M-row demo the profile went from 246 s to 213 s, and the
            // run's peak memory did not change).
            _ => {
                let mut map: FxHashMap<u64, usize> = FxHashMap::default();
                for &row in rows {
                    let key = match self.value(row as usize) {
                        Value::Int(v) | Value::Timestamp(v) => v as u64,
                        // 0 and -0 are shown alike, so they count as one value.
                        Value::Float(v) => float_key(v),
                        Value::Bool(b) => u64::from(b),
                        Value::Missing | Value::Str(_) => continue,
                    };
                    *map.entry(key).or_default() += 1;
                }
                let text = |&key: &u64| {
                    Cow::Owned(match &self.data {
                        ColumnData::Int { .. } => (key as i64).to_string(),
                        ColumnData::Timestamp { .. } => Value::Timestamp(key as i64).display(),
                        ColumnData::Float { .. } => format_float(float_of_key(key)),
                        _ => Value::Bool(key == 1).display(),
                    })
                };
                summarise_map(|| map.iter().map(|(k, &n)| (k, n)), limit, text)
            }
        }
    }

    /// Approximate heap memory held by the column, in bytes.
    pub fn heap_bytes(&self) -> usize {
        let data = match &self.data {
            ColumnData::Int { values, valid } | ColumnData::Timestamp { ms: values, valid } => {
                values.capacity() * 8 + valid.heap_bytes()
            }
            ColumnData::Float { values, valid } => values.capacity() * 8 + valid.heap_bytes(),
            ColumnData::Bool { values, valid } => values.heap_bytes() + valid.heap_bytes(),
            ColumnData::Str(Strings::Dict { codes, dict }) => {
                codes.heap_bytes() + dict.iter().map(|s| s.len() + std::mem::size_of::<Box<str>>()).sum::<usize>()
            }
            ColumnData::Str(Strings::Arena { bytes, ends, valid }) => {
                bytes.capacity() + ends.capacity() * std::mem::size_of::<usize>() + valid.heap_bytes()
            }
        };
        data + self.mismatches.iter().map(|m| m.text.len() + 32).sum::<usize>()
    }
}

/// A float as a hash-map key: its bits, bytes swapped. A whole number's low bits are all 0, and
/// FxHash keeps low bits low: hashbrown then gave every such key one tag (a count column took
/// 56 ms a million values, 12 with the bytes swapped). −0 and 0 are one key (one value, as
/// they compare and display). [`float_of_key`] reads it back.
pub fn float_key(v: f64) -> u64 {
    (v + 0.0).to_bits().swap_bytes()
}

/// The float of a [`float_key`].
pub fn float_of_key(key: u64) -> f64 {
    f64::from_bits(key.swap_bytes())
}

/// A text with its hash, computed once: a map of these is keyed by the hash alone
/// ([`PassHash`]) and compares texts only when two hashes are equal.
struct Hashed<'a> {
    hash: u64,
    text: &'a str,
}

impl std::hash::Hash for Hashed<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for Hashed<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.text == other.text
    }
}

impl Eq for Hashed<'_> {}

/// The hasher of a map of [`Hashed`]: the hash it was given.
#[derive(Default)]
struct PassHash(u64);

impl std::hash::Hasher for PassHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is called (by `Hashed`); anything else is still hashed, not lost.
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

type CountMap<'a> = std::collections::HashMap<Hashed<'a>, usize, std::hash::BuildHasherDefault<PassHash>>;

/// Values a part of [`count_texts`] aims at: its map then fits in a core's cache.
const TEXTS_PER_PART: usize = 4096;

/// The value counts of texts, counted in parts that each hold the texts of one range of hashes.
///
/// One map of a million distinct texts is larger than the caches, and each text counted in it
/// is a miss or two. The texts are first set apart by their hash (a pass in order; 24 bytes a
/// text) and each part is then counted in a map of a few thousand (the identifier columns of the
/// 1 M-row demo were counted 2× faster) and summarised before the next: a text is in one part
/// only, so the counts add up and the top values are among the parts' top values. `expected` is
/// how many texts there are, at most.
fn count_texts<'a>(texts: impl Iterator<Item = &'a str>, expected: usize, limit: usize) -> ValueCounts {
    use std::hash::BuildHasher;
    let hasher = rustc_hash::FxBuildHasher;
    let parts = (expected / TEXTS_PER_PART).next_power_of_two().clamp(1, 1024);
    // Bits 40 to 49 choose the part: not the low bits the maps place a value by, nor the top
    // seven they tag it with, so a part's values are spread alike in its map.
    let part_of = |hash: u64| (hash >> 40) as usize & (parts - 1);
    let mut split: Vec<Vec<Hashed<'a>>> = (0..parts).map(|_| Vec::with_capacity(expected / parts + expected / parts / 8 + 16)).collect();
    for text in texts {
        let hash = hasher.hash_one(text);
        if let Some(part) = split.get_mut(part_of(hash)) {
            part.push(Hashed { hash, text });
        }
    }
    let mut map = CountMap::with_capacity_and_hasher(split.iter().map(Vec::len).max().unwrap_or(0), Default::default());
    let (mut distinct, mut repeated, mut tops) = (0, 0, Vec::new());
    for part in split {
        map.clear();
        for key in part {
            *map.entry(key).or_default() += 1;
        }
        let counts = summarise_map(|| map.iter().map(|(k, &n)| (k, n)), limit, |k| Cow::Borrowed(k.text));
        distinct += counts.distinct;
        repeated += counts.repeated;
        tops.extend(counts.top);
    }
    summarise_counts(tops, limit).with_totals(distinct, repeated)
}

/// The most frequent values (ties by text), with how many distinct values there are and how
/// many occur more than once.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueCounts {
    pub top: Vec<(String, usize)>,
    pub distinct: usize,
    pub repeated: usize,
}

/// [`summarise_counts`] of a map's counts, writing as text only the values that can be among
/// the `limit` largest: those above the `limit`-th largest count, and the smallest texts of
/// those at it (kept `limit` at a time). Texts borrowed from the column are compared without a
/// copy: a column of unique identifiers has every value at the threshold.
fn summarise_map<'a, 'k, K: 'k, I: Iterator<Item = (&'k K, usize)>>(counts: impl Fn() -> I, limit: usize, text: impl Fn(&K) -> Cow<'a, str>) -> ValueCounts {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let (mut distinct, mut repeated) = (0, 0);
    for (_, n) in counts() {
        distinct += 1;
        repeated += usize::from(n > 1);
    }
    if limit == 0 {
        return ValueCounts { top: Vec::new(), distinct, repeated };
    }
    let mut largest: BinaryHeap<Reverse<usize>> = BinaryHeap::with_capacity(limit + 1);
    for (_, n) in counts() {
        largest.push(Reverse(n));
        if largest.len() > limit {
            largest.pop();
        }
    }
    let threshold = largest.peek().map_or(0, |r| r.0);
    let mut top: Vec<(String, usize)> = counts().filter(|&(_, n)| n > threshold).map(|(k, n)| (text(k).into_owned(), n)).collect();
    let room = limit.saturating_sub(top.len());
    // The `room` smallest texts among the values at the threshold: a max-heap of that many.
    let mut at: BinaryHeap<Cow<'a, str>> = BinaryHeap::with_capacity(room + 1);
    for (key, _) in counts().filter(|&(_, n)| n == threshold) {
        let written = text(key);
        if at.len() < room {
            at.push(written);
        } else if at.peek().is_some_and(|largest| written < *largest) {
            at.pop();
            at.push(written);
        }
    }
    top.extend(at.into_iter().map(|t| (t.into_owned(), threshold)));
    summarise_counts(top, limit).with_totals(distinct, repeated)
}

impl ValueCounts {
    fn with_totals(mut self, distinct: usize, repeated: usize) -> Self {
        self.distinct = distinct;
        self.repeated = repeated;
        self
    }
}

/// Keeps the `limit` largest counts (by count, then text) and summarises the rest, without
/// materialising every distinct value.
fn summarise_counts<K: AsRef<str>>(mut counts: Vec<(K, usize)>, limit: usize) -> ValueCounts {
    let distinct = counts.len();
    let repeated = counts.iter().filter(|(_, n)| *n > 1).count();
    let order = |a: &(K, usize), b: &(K, usize)| b.1.cmp(&a.1).then_with(|| a.0.as_ref().cmp(b.0.as_ref()));
    if counts.len() > limit && limit > 0 {
        counts.select_nth_unstable_by(limit - 1, order);
        counts.truncate(limit);
    }
    counts.sort_by(order);
    counts.truncate(limit);
    ValueCounts { top: counts.into_iter().map(|(k, n)| (k.as_ref().to_string(), n)).collect(), distinct, repeated }
}

/// A loaded table: columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub n_rows: usize,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn heap_bytes(&self) -> usize {
        self.columns.iter().map(Column::heap_bytes).sum()
    }

    /// Adds `column`, or replaces the column of its name; whether one was replaced.
    pub fn put_column(&mut self, column: Column) -> bool {
        match self.columns.iter_mut().find(|c| c.name == column.name) {
            Some(slot) => {
                *slot = column;
                true
            }
            None => {
                self.columns.push(column);
                false
            }
        }
    }

    /// The displayed text of each cell of `row`.
    pub fn row_text(&self, row: usize) -> Vec<String> {
        self.columns.iter().map(|c| c.value(row).display()).collect()
    }
}

/// The distinct non-missing values of a column, counted some rows at a time, so that a caller
/// that must stay responsive (the worker, on a million distinct strings) can yield between parts.
pub struct DistinctCount<'a> {
    column: &'a Column,
    next: usize,
    seen: Seen<'a>,
}

enum Seen<'a> {
    Numbers(rustc_hash::FxHashSet<u64>),
    Bools([bool; 2]),
    Codes(Vec<bool>),
    Texts(rustc_hash::FxHashSet<&'a str>),
}

impl<'a> DistinctCount<'a> {
    pub fn new(column: &'a Column) -> Self {
        let seen = match &column.data {
            ColumnData::Int { .. } | ColumnData::Timestamp { .. } | ColumnData::Float { .. } => Seen::Numbers(Default::default()),
            ColumnData::Bool { .. } => Seen::Bools([false; 2]),
            ColumnData::Str(Strings::Dict { dict, .. }) => Seen::Codes(vec![false; dict.len()]),
            ColumnData::Str(Strings::Arena { .. }) => Seen::Texts(Default::default()),
        };
        Self { column, next: 0, seen }
    }

    /// Reads up to `rows` more rows; `true` once every row is read.
    pub fn advance(&mut self, rows: usize) -> bool {
        let column: &'a Column = self.column;
        let end = self.next.saturating_add(rows).min(column.len());
        let range = self.next..end;
        self.next = end;
        match (&column.data, &mut self.seen) {
            (ColumnData::Int { values, valid } | ColumnData::Timestamp { ms: values, valid }, Seen::Numbers(set)) => {
                set.extend(range.filter(|&row| valid.get(row)).filter_map(|row| values.get(row)).map(|&v| v as u64));
            }
            (ColumnData::Float { values, valid }, Seen::Numbers(set)) => {
                set.extend(range.filter(|&row| valid.get(row)).filter_map(|row| values.get(row)).map(|&v| float_key(v)));
            }
            (ColumnData::Bool { values, valid }, Seen::Bools(seen)) => {
                for row in range.filter(|&row| valid.get(row)) {
                    seen[usize::from(values.get(row))] = true;
                }
            }
            (ColumnData::Str(Strings::Dict { codes, .. }), Seen::Codes(seen)) => {
                for code in codes.range(range).into_iter().flatten() {
                    if let Some(flag) = seen.get_mut(code as usize) {
                        *flag = true;
                    }
                }
            }
            (ColumnData::Str(strings @ Strings::Arena { .. }), Seen::Texts(set)) => set.extend(range.filter_map(|row| strings.get(row))),
            // `new` pairs each kind of data with its own set.
            _ => {}
        }
        self.next >= column.len()
    }

    pub fn count(&self) -> usize {
        match &self.seen {
            Seen::Numbers(set) => set.len(),
            Seen::Bools(seen) => seen.iter().filter(|&&s| s).count(),
            Seen::Codes(seen) => seen.iter().filter(|&&s| s).count(),
            Seen::Texts(set) => set.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Data tab said "distinct 2" for a column of 0 and −0, which show as one value.
    #[test]
    #[allow(clippy::expect_used)] // test code: a failing expect is a failing test
    fn zero_and_negative_zero_are_one_distinct_value() {
        let loaded = crate::data::load::load_bytes(b"v\n0.0\n-0.0\n1.5\n", crate::data::load::LoadOptions::default()).expect("loads").table;
        let column = loaded.column("v").expect("the column");
        assert_eq!(column.kind, ColumnType::Float);
        assert_eq!(column.count_distinct(), 2);
        let mut counting = DistinctCount::new(column);
        assert!(counting.advance(10));
        assert_eq!(counting.count(), 2);
    }

    #[test]
    fn ones_pushed_at_once_equal_ones_pushed_one_by_one() {
        for before in [0, 1, 37, 63, 64, 65, 127, 128, 200] {
            for n in [0, 1, 2, 26, 63, 64, 65, 128, 129, 300] {
                let bit = |i: usize| (i * 2_654_435_761) % 7 < 3;
                let (mut at_once, mut one_by_one) = (Bitmap::default(), Bitmap::default());
                for i in 0..before {
                    at_once.push(bit(i));
                    one_by_one.push(bit(i));
                }
                at_once.push_ones(n);
                (0..n).for_each(|_| one_by_one.push(true));
                at_once.push(false);
                one_by_one.push(false);
                assert_eq!(at_once, one_by_one, "{before} bits, then {n} ones");
            }
        }
    }

    #[test]
    fn bitmaps_appended_equal_the_bits_pushed_one_by_one() {
        for (a, b) in [(0, 0), (0, 5), (3, 0), (63, 2), (64, 64), (65, 130), (100, 29), (7, 200)] {
            let bit = |i: usize| (i * 2_654_435_761) % 7 < 3;
            let (mut left, mut right, mut whole) = (Bitmap::default(), Bitmap::default(), Bitmap::default());
            (0..a).for_each(|i| left.push(bit(i)));
            (a..a + b).for_each(|i| right.push(bit(i)));
            (0..a + b).for_each(|i| whole.push(bit(i)));
            left.append(&right);
            assert_eq!(left, whole, "{a} + {b}");
            right.clear();
            assert!(right.is_empty() && right.count_ones() == 0);
        }
    }

    #[test]
    fn floats_read_back_the_same_and_zero_has_no_sign() {
        assert_eq!(format_float(-0.0), "0");
        assert_eq!(format_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_float(-2.5), "-2.5");
    }

    #[test]
    fn bitmap_push_get_count() {
        let mut bitmap = Bitmap::default();
        for idx in 0..200 {
            bitmap.push(idx % 3 == 0);
        }
        assert_eq!(bitmap.len(), 200);
        assert_eq!(bitmap.count_ones(), 67);
        assert!(bitmap.get(63) && !bitmap.get(64) && bitmap.get(66));
        assert!(!bitmap.get(10_000));
    }

    /// Counted in parts of any size, every kind of column gives its number of distinct values
    /// (missing left out), as one pass does.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn distinct_counts_in_parts_equal_one_pass() {
        let mut csv = String::from("n,f,b,t,cat,text\n");
        for i in 0..1_000 {
            let missing = i % 7 == 0;
            let cell = |text: String| if missing { String::new() } else { text };
            csv += &format!("{},{},{},{},{},{}\n", cell((i % 13).to_string()), cell(format!("{}.5", i % 17)), cell((i % 2 == 0).to_string()), cell(format!("2026-01-{:02}", i % 28 + 1)), cell(format!("c{}", i % 5)), cell(format!("t{i}")));
        }
        let table = crate::data::load::load_bytes(csv.as_bytes(), Default::default()).unwrap().table;
        // Days 1, 8, 15 and 22 fall only on the missing rows (every seventh).
        let expected = [13, 17, 2, 24, 5, 1_000 - 143];
        for (column, want) in table.columns.iter().zip(expected) {
            assert_eq!(column.count_distinct(), want, "{}", column.name);
            for part in [1, 7, 999, 1_000] {
                let mut count = DistinctCount::new(column);
                let mut parts = 1;
                while !count.advance(part) {
                    parts += 1;
                }
                assert_eq!((count.count(), parts), (want, 1_000usize.div_ceil(part)), "{} in parts of {part}", column.name);
            }
        }
    }

    #[test]
    fn arena_strings_index_by_row() {
        let mut valid = Bitmap::default();
        for bit in [true, false, true] {
            valid.push(bit);
        }
        let strings = Strings::Arena { bytes: "abcd".into(), ends: vec![2, 2, 4], valid };
        assert_eq!(strings.get(0), Some("ab"));
        assert_eq!(strings.get(1), None);
        assert_eq!(strings.get(2), Some("cd"));
        assert_eq!(strings.get(3), None);
    }

    #[test]
    fn codes_widen_as_the_dictionary_grows_and_read_back_the_same() {
        let mut codes = Codes::default();
        let mut pushed = Vec::new();
        for code in [0, MISSING_CODE, 254, 255, MISSING_CODE, 65_534, 65_535, 1 << 20, MISSING_CODE, 7] {
            codes.push(code);
            pushed.push(code);
            assert_eq!(codes.iter().collect::<Vec<_>>(), pushed, "after pushing {code}");
            assert_eq!(codes.count_missing(), pushed.iter().filter(|&&c| c == MISSING_CODE).count(), "after pushing {code}");
        }
        let widths: Vec<usize> = [254, 255, 65_534, 65_535].iter().map(|&top| Codes::from(vec![0, top, MISSING_CODE]).width()).collect();
        assert_eq!(widths, [1, 2, 2, 4]);
        assert_eq!(codes.width(), 4);
        assert_eq!((codes.get(1), codes.get(3), codes.get(10)), (Some(MISSING_CODE), Some(255), None));
        assert_eq!(codes.range(2..4).map(|it| it.collect::<Vec<_>>()), Some(vec![254, 255]));
        assert!(codes.range(9..11).is_none());
        // Equal codes at different widths are equal.
        assert_eq!(Codes::U32(vec![1, MISSING_CODE]), Codes::U8(vec![1, u8::MAX]));
        assert_ne!(Codes::U32(vec![1, 255]), Codes::U8(vec![1, u8::MAX]));
    }

    #[test]
    fn top_values_by_count_then_text() {
        let strings = Strings::Dict { codes: vec![0, 1, 1, MISSING_CODE, 2, 2].into(), dict: vec!["a".into(), "b".into(), "c".into()] };
        let column = Column { name: "x".into(), kind: ColumnType::Category, data: ColumnData::Str(strings), mismatches: vec![], non_finite: 0 };
        let counts = column.value_counts(&[0, 1, 2, 3, 4, 5], 2);
        assert_eq!((counts.top, counts.distinct), (vec![("b".to_string(), 2), ("c".to_string(), 2)], 3));
    }

    #[test]
    fn top_values_keep_the_largest_counts_in_order() {
        let counts = vec![("c", 1), ("a", 5), ("b", 5), ("d", 2), ("e", 1)];
        let summary = summarise_counts(counts, 3);
        assert_eq!(summary.top, vec![("a".to_string(), 5), ("b".to_string(), 5), ("d".to_string(), 2)]);
        assert_eq!((summary.distinct, summary.repeated), (5, 3));
        assert_eq!(summarise_counts(vec![("x", 1)], 10).top, vec![("x".to_string(), 1)]);
    }

    #[test]
    fn counts_by_bits_equal_counts_by_text() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let by_text = |column: &Column, rows: &[u32], limit: usize| {
            let mut map: FxHashMap<String, usize> = FxHashMap::default();
            for &row in rows {
                let value = column.value(row as usize);
                if value != Value::Missing {
                    *map.entry(value.display()).or_default() += 1;
                }
            }
            summarise_counts(map.into_iter().collect(), limit)
        };
        for trial in 0..44 {
            // The last trials are large enough for texts to be counted in several parts.
            let (n, spread) = if trial < 40 { (rng.gen_range(0..400), rng.gen_range(1..60)) } else { (rng.gen_range(9_000..40_000), rng.gen_range(1..30_000)) };
            let mut valid = Bitmap::default();
            let mut ints = Vec::new();
            for _ in 0..n {
                valid.push(rng.gen_bool(0.9));
                ints.push(rng.gen_range(-spread..spread) as i64);
            }
            let floats: Vec<f64> = ints.iter().map(|&v| if v == 0 && rng.gen_bool(0.5) { -0.0 } else { v as f64 / 4.0 }).collect();
            let columns = [
                ColumnData::Int { values: ints.clone(), valid: valid.clone() },
                ColumnData::Float { values: floats, valid: valid.clone() },
                ColumnData::Timestamp { ms: ints.iter().map(|v| v * 3_600_000).collect(), valid: valid.clone() },
                ColumnData::Bool { values: { let mut b = Bitmap::default(); ints.iter().for_each(|v| b.push(*v > 0)); b }, valid: valid.clone() },
                ColumnData::Str(Strings::Arena {
                    bytes: ints.iter().map(|v| format!("v{v}")).collect(),
                    ends: ints.iter().scan(0, |end, v| { *end += format!("v{v}").len(); Some(*end) }).collect(),
                    valid: valid.clone(),
                }),
            ];
            let rows: Vec<u32> = (0..n as u32).filter(|r| r % 5 != 3).collect();
            for data in columns {
                let column = Column { name: "x".into(), kind: ColumnType::Integer, data, mismatches: vec![], non_finite: 0 };
                for limit in [0, 1, 3, 10, 1_000] {
                    let (ours, theirs) = (column.value_counts(&rows, limit), by_text(&column, &rows, limit));
                    assert_eq!((ours.top, ours.distinct, ours.repeated), (theirs.top, theirs.distinct, theirs.repeated), "trial {trial}, limit {limit}");
                }
            }
        }
    }

    #[test]
    fn type_labels_round_trip() {
        for kind in ColumnType::ALL {
            assert_eq!(ColumnType::from_label(kind.label()), Some(kind));
        }
    }
}
