//! Column builders: append cells as text, get a typed [`Column`].
//!
//! A builder is made for an inferred (or user-chosen) type. Cells that do not fit become
//! missing and are kept as [`Mismatch`]es, so the column can later be re-typed
//! ([`retype_column`]) without re-reading the file. An integer builder promotes itself to
//! float on the first fractional value; a string builder switches from dictionary codes to
//! one arena when the number of distinct values passes [`DICT_LIMIT`].

use rustc_hash::FxHashMap;

use super::infer::{classify_strings, is_integer_literal, is_missing, parse_bool_word, parse_float, parse_int, FloatCell, Inferred, StringStats};
use super::table::{Bitmap, Codes, Column, ColumnData, ColumnType, Mismatch, Strings, Value, MISSING_CODE};
use super::time::{epoch_to_ms, parse_timestamp_text};
use super::wire::{Reader, Writer};

/// Distinct values above which a string column is stored in an arena instead of a dictionary.
pub const DICT_LIMIT: usize = 1 << 16;

/// Heap memory of a column (or a table) under construction, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildMemory {
    /// Bytes taken by what grows with every row (values, codes, arena text, bitmaps, cells that
    /// did not fit).
    pub per_row_used: u64,
    /// Bytes held for them (capacity).
    pub per_row_reserved: u64,
    /// Dictionaries and their hash maps: they grow with distinct values, not with rows.
    pub fixed: u64,
    /// The largest single buffer (bytes used): a buffer that grows is copied, so for a moment
    /// it is held twice.
    pub largest_buffer: u64,
}

impl BuildMemory {
    /// Bytes held in all.
    pub fn held(&self) -> u64 {
        self.per_row_reserved + self.fixed
    }

    pub fn add(&mut self, other: BuildMemory) {
        self.per_row_used += other.per_row_used;
        self.per_row_reserved += other.per_row_reserved;
        self.fixed += other.fixed;
        self.largest_buffer = self.largest_buffer.max(other.largest_buffer);
    }
}

/// Share of mismatched cells above which an inferred (not user-chosen) type is abandoned
/// for strings: the sample was not representative.
const ABANDON_SHARE: f64 = 0.05;

/// A dictionary's codes by text. A text of at most 15 bytes (most categories: a country, a
/// reason, a platform) is its own key, packed into a `u128` ([`short_key`]): a lookup compares
/// two words in the table instead of following a pointer to the text and comparing bytes, the
/// cache miss that made the lookup the costliest part of reading a category cell.
///
/// A tall column's short keys are first looked up in a small direct-mapped cache (one slot per
/// key's [`cache_slot`], the key compared whole): a category column of a few dozen values then
/// finds its code in one load and compare, without the hash table's hashing and probing.
#[derive(Debug, Default)]
struct DictIndex {
    short: FxHashMap<u128, u32>,
    long: FxHashMap<Box<str>, u32>,
    /// Made after [`CACHE_AFTER`] lookups, so that a wide file's short columns do not each
    /// hold one, and only while the dictionary has fewer texts than it has slots (a column of
    /// ids would only evict its slots).
    cache: Option<Box<[(u128, u32); CACHE_SLOTS]>>,
    lookups: u32,
}

/// Slots of [`DictIndex`]'s cache: 4 KiB. A few dozen values seldom share one.
const CACHE_SLOTS: usize = 128;
/// Short-key lookups before [`DictIndex`] makes its cache.
const CACHE_AFTER: u32 = 1024;
/// An empty cache slot's key: its length byte (0xff) is no [`short_key`]'s.
const NO_KEY: u128 = u128::MAX;

/// The cache slot of a short key: its two words folded, then the top bits of a Fibonacci hash.
fn cache_slot(key: u128) -> usize {
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - CACHE_SLOTS.trailing_zeros())) as usize
}

impl DictIndex {
    fn get(&mut self, text: &str) -> Option<u32> {
        self.get_keyed(short_key(text.as_bytes()), text)
    }

    /// The code of `text`, whose [`short_key`] is `key`. Inlined up to a cache hit (the call
    /// cost as much as the hit).
    #[inline]
    fn get_keyed(&mut self, key: Option<u128>, text: &str) -> Option<u32> {
        if let (Some(key), Some(cache)) = (key, &self.cache) {
            if let Some(&(cached, code)) = cache.get(cache_slot(key)) {
                if cached == key {
                    return Some(code);
                }
            }
        }
        self.get_uncached(key, text)
    }

    /// [`DictIndex::get_keyed`] past the cache: the hash tables; the cache made or filled.
    #[inline(never)]
    fn get_uncached(&mut self, key: Option<u128>, text: &str) -> Option<u32> {
        let Some(key) = key else { return self.long.get(text).copied() };
        let Some(cache) = &mut self.cache else {
            self.lookups = self.lookups.saturating_add(1);
            if self.lookups >= CACHE_AFTER && self.short.len() < CACHE_SLOTS {
                self.cache = Some(Box::new([(NO_KEY, 0); CACHE_SLOTS]));
            }
            return self.short.get(&key).copied();
        };
        let Some(slot) = cache.get_mut(cache_slot(key)) else { return self.short.get(&key).copied() };
        let code = self.short.get(&key).copied()?;
        *slot = (key, code);
        Some(code)
    }

    /// Sets the code of `text`; returns the one it had.
    fn insert(&mut self, text: &str, code: u32) -> Option<u32> {
        self.insert_keyed(short_key(text.as_bytes()), text, code)
    }

    /// [`DictIndex::insert`] of `text`, whose [`short_key`] is `key`.
    fn insert_keyed(&mut self, key: Option<u128>, text: &str, code: u32) -> Option<u32> {
        match key {
            Some(key) => {
                if let Some(slot) = self.cache.as_mut().and_then(|cache| cache.get_mut(cache_slot(key))) {
                    *slot = (key, code);
                }
                self.short.insert(key, code)
            }
            None => self.long.insert(text.into(), code),
        }
    }

    fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
        if let Some(cache) = &mut self.cache {
            cache.fill((NO_KEY, 0));
        }
    }

    /// Bytes of the two hash tables (hashbrown keeps up to 1/8 of its buckets free, and a
    /// control byte each); the long texts' boxes are counted with the dictionary's.
    fn table_bytes(&self) -> usize {
        let short = self.short.capacity() * 8 / 7 * (std::mem::size_of::<(u128, u32)>() + 1);
        let long = self.long.capacity() * 8 / 7 * (std::mem::size_of::<(Box<str>, u32)>() + 1);
        let cache = if self.cache.is_some() { std::mem::size_of::<[(u128, u32); CACHE_SLOTS]>() } else { 0 };
        short + long + cache
    }
}

/// A text of at most 15 bytes as one integer, distinct for distinct texts: its bytes in the low
/// 15 bytes (little-endian, zeros after) and its length in the top byte. `None` for longer text.
fn short_key(bytes: &[u8]) -> Option<u128> {
    let n = bytes.len();
    let word = |at: usize| bytes.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_le_bytes);
    let half = |at: usize| bytes.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_le_bytes).map(u64::from);
    let byte = |at: usize| bytes.get(at).map_or(0, |&b| u64::from(b) << (8 * at));
    let (low, high) = match n {
        16.. => return None,
        // The last 8 bytes, shifted down past the ones the first word already holds.
        8.. => (word(0)?, word(n - 8)?.checked_shr(8 * (16 - n) as u32).unwrap_or(0)),
        // Two 4-byte halves that overlap: a byte read twice lands in its own place both times.
        4.. => (half(0)? | half(n - 4)? << (8 * (n - 4)), 0),
        // The first, middle and last bytes are every byte of a text of 1 to 3.
        1.. => (byte(0) | byte(n / 2) | byte(n - 1), 0),
        0 => (0, 0),
    };
    Some(u128::from(low) | u128::from(high) << 64 | (n as u128) << 120)
}

/// Whether the text whose [`short_key`] is `key` holds a space: a word-wide test for a zero byte
/// in `key ^ spaces`, exact for "any" (the length byte, at most 15, is never a space's 0x20).
fn short_key_has_space(key: u128) -> bool {
    const ONES: u128 = u128::MAX / 0xff;
    let x = key ^ (ONES * u128::from(b' '));
    x.wrapping_sub(ONES) & !x & (ONES << 7) != 0
}

#[derive(Debug)]
struct StrBuilder {
    map: DictIndex,
    dict: Vec<Box<str>>,
    codes: Codes,
    /// Set once the dictionary grew past [`DICT_LIMIT`].
    arena: Option<(String, Vec<usize>, Bitmap)>,
    stats: StringStats,
}

impl StrBuilder {
    fn new() -> Self {
        Self { map: DictIndex::default(), dict: Vec::new(), codes: Codes::default(), arena: None, stats: StringStats::default() }
    }

    fn push_missing(&mut self) {
        match &mut self.arena {
            Some((bytes, ends, valid)) => {
                ends.push(bytes.len());
                valid.push(false);
            }
            None => self.codes.push(MISSING_CODE),
        }
    }

    fn push(&mut self, text: &str) {
        self.stats.non_missing += 1;
        self.stats.total_len += text.len();
        // A short text is tested in its key (the one the dictionary looks up); a longer one is
        // searched a vector at a time (memchr, whose call costs more than a short text's test).
        let key = short_key(text.as_bytes());
        let spaced = match key {
            Some(key) => short_key_has_space(key),
            None => memchr::memchr(b' ', text.as_bytes()).is_some(),
        };
        self.stats.with_space += usize::from(spaced);
        if let Some((bytes, ends, valid)) = &mut self.arena {
            bytes.push_str(text);
            ends.push(bytes.len());
            valid.push(true);
            return;
        }
        let code = match self.map.get_keyed(key, text) {
            Some(code) => code,
            None => {
                let code = self.dict.len() as u32;
                self.map.insert_keyed(key, text, code);
                self.dict.push(text.into());
                code
            }
        };
        self.codes.push(code);
        if self.dict.len() > DICT_LIMIT {
            self.switch_to_arena();
        }
    }

    fn switch_to_arena(&mut self) {
        // Room for the rows the codes had room for, at the mean length seen so far.
        let mean_len = self.stats.total_len / self.stats.non_missing.max(1);
        // (Room is a plan: one past what memory can hold is dropped, not a panic.)
        let mut bytes = String::new();
        let _ = bytes.try_reserve_exact(mean_len.saturating_mul(self.codes.capacity()));
        let mut ends = Vec::new();
        let _ = ends.try_reserve_exact(self.codes.capacity());
        let mut valid = Bitmap::default();
        for code in self.codes.iter() {
            let text = self.dict.get(code as usize);
            if let Some(text) = text {
                bytes.push_str(text);
            }
            ends.push(bytes.len());
            valid.push(text.is_some());
        }
        self.arena = Some((bytes, ends, valid));
        self.map = DictIndex::default();
        self.dict = Vec::new();
        self.codes = Codes::default();
    }

    /// Moves the cells of `other` (built from a later part of the same file) after these,
    /// leaving `other` empty with its room kept: the dictionary keeps first-seen order, and
    /// passes to an arena at the same total as if every cell had been pushed here.
    fn append(&mut self, other: &mut StrBuilder) {
        self.add_stats(std::mem::take(&mut other.stats));
        if other.arena.is_some() && self.arena.is_none() {
            self.switch_to_arena();
        }
        if let (Some((bytes, ends, valid)), Some((other_bytes, other_ends, other_valid))) = (&mut self.arena, &mut other.arena) {
            let offset = bytes.len();
            bytes.push_str(other_bytes);
            ends.extend(other_ends.iter().map(|end| end + offset));
            valid.append(other_valid);
            other_bytes.clear();
            other_ends.clear();
            other_valid.clear();
        } else if other.arena.is_none() {
            self.append_coded(&mut other.dict, &other.codes);
        }
        other.codes.clear();
        other.dict.clear();
        other.map.clear();
    }

    /// Adds a later part's counts to these (the distinct values are counted at the end).
    fn add_stats(&mut self, more: StringStats) {
        self.stats.non_missing += more.non_missing;
        self.stats.total_len += more.total_len;
        self.stats.with_space += more.with_space;
    }

    /// Puts cells written as `codes` into `dict` (a later part's dictionary, emptied) after
    /// these.
    fn append_coded<T: AsRef<str> + Into<Box<str>>>(&mut self, dict: &mut Vec<T>, codes: &Codes) {
        match &mut self.arena {
            Some((bytes, ends, valid)) => {
                for code in codes.iter() {
                    let text = dict.get(code as usize);
                    if let Some(text) = text {
                        bytes.push_str(text.as_ref());
                    }
                    ends.push(bytes.len());
                    valid.push(text.is_some());
                }
                dict.clear();
            }
            None => {
                let remap: Vec<u32> = dict
                    .drain(..)
                    .map(|text| match self.map.get(text.as_ref()) {
                        Some(code) => code,
                        None => {
                            let code = self.dict.len() as u32;
                            self.map.insert(text.as_ref(), code);
                            self.dict.push(text.into());
                            code
                        }
                    })
                    .collect();
                self.codes.extend(codes.iter().map(|code| remap.get(code as usize).copied().unwrap_or(MISSING_CODE)));
                if self.dict.len() > DICT_LIMIT {
                    self.switch_to_arena();
                }
            }
        }
    }

    /// Puts text cells another worker parsed after these, as [`StrBuilder::append`] does a
    /// fork's: the arena's text and ends copied once, from the answer's bytes.
    fn append_sent(&mut self, stats: StringStats, text: SentText<'_>) {
        self.add_stats(stats);
        match text {
            SentText::Arena { bytes: more, ends: more_ends, valid: more_valid } => {
                if self.arena.is_none() {
                    self.switch_to_arena();
                }
                if let Some((bytes, ends, valid)) = &mut self.arena {
                    let offset = bytes.len();
                    bytes.push_str(more);
                    ends.extend(more_ends.chunks_exact(8).map(|end| offset + u64::from_le_bytes(word(end)) as usize));
                    valid.append(&more_valid);
                }
            }
            SentText::Dict { mut dict, codes } => self.append_coded(&mut dict, &codes),
        }
    }

    fn finish(self) -> (Strings, StringStats) {
        let mut stats = self.stats;
        match self.arena {
            Some((bytes, ends, valid)) => {
                // Exact distinct counts are not kept past the dictionary limit; the lower
                // bound is all that classification needs.
                stats.distinct = DICT_LIMIT + 1;
                (Strings::Arena { bytes, ends, valid }, stats)
            }
            None => {
                stats.distinct = self.dict.len();
                (Strings::Dict { codes: self.codes, dict: self.dict }, stats)
            }
        }
    }
}

#[derive(Debug)]
enum Storage {
    Int { values: Vec<i64>, valid: Bitmap },
    Float { values: Vec<f64>, valid: Bitmap },
    Bool { values: Bitmap, valid: Bitmap },
    Timestamp { ms: Vec<i64>, valid: Bitmap },
    Str(StrBuilder),
}

/// Builds one column from text cells.
#[derive(Debug)]
pub struct ColumnBuilder {
    storage: Storage,
    /// The type the user chose, if any: it is kept even when many cells do not fit.
    forced: Option<ColumnType>,
    /// Integer columns may become float on a fractional value, unless forced.
    may_promote: bool,
    mismatches: Vec<Mismatch>,
    rows: usize,
    non_finite: usize,
    /// Keeps its type when many cells do not fit (a batch of a streamed file, whose type was
    /// inferred once for the whole file).
    keep_type: bool,
    /// Reads the usual markers ("NA", "null", "-"…) as missing; without, only an empty cell is
    /// (text a reader wrote from a typed file, whose missing values it knows: a Parquet string
    /// "NA", Namibia's country code, is text).
    markers: bool,
}

impl ColumnBuilder {
    /// A builder for an inferred type.
    pub fn for_inferred(inferred: Inferred) -> Self {
        let storage = match inferred {
            Inferred::Integer => Storage::Int { values: Vec::new(), valid: Bitmap::default() },
            Inferred::Float => Storage::Float { values: Vec::new(), valid: Bitmap::default() },
            Inferred::Boolean { .. } => Storage::Bool { values: Bitmap::default(), valid: Bitmap::default() },
            Inferred::Timestamp(_) => Storage::Timestamp { ms: Vec::new(), valid: Bitmap::default() },
            Inferred::Strings => Storage::Str(StrBuilder::new()),
        };
        Self { storage, forced: None, may_promote: true, mismatches: Vec::new(), rows: 0, non_finite: 0, keep_type: false, markers: true }
    }

    /// Makes room for the `rows` cells (and `text_bytes` of arena text) a column is expected
    /// to hold in all: a buffer with less room steps up, exactly, to the expectation plus
    /// `headroom` (a share), so a column whose final size is estimated grows in a few exact
    /// steps instead of by doubling, and a large load never holds twice its size. Room that
    /// cannot be had (an estimate from a gzip bomb's first bytes can pass what a 32-bit address
    /// space holds) is not taken: the cells then come one by one, and the memory guard stops
    /// them.
    pub fn plan_capacity(&mut self, rows: usize, text_bytes: usize, headroom: f64) {
        let with_headroom = |n: usize| (n as f64 * (1.0 + headroom)) as usize;
        let ensure_vec = |len: usize, capacity: usize, expected: usize| (capacity < expected).then(|| with_headroom(expected).saturating_sub(len));
        fn ensure<T>(values: &mut Vec<T>, additional: Option<usize>) {
            if let Some(additional) = additional {
                let _ = values.try_reserve_exact(additional);
            }
        }
        let bits = |bitmap: &mut Bitmap| {
            if bitmap.capacity_bits() < rows {
                bitmap.reserve_total(with_headroom(rows));
            }
        };
        match &mut self.storage {
            Storage::Int { values, valid } | Storage::Timestamp { ms: values, valid } => {
                ensure(values, ensure_vec(values.len(), values.capacity(), rows));
                bits(valid);
            }
            Storage::Float { values, valid } => {
                ensure(values, ensure_vec(values.len(), values.capacity(), rows));
                bits(valid);
            }
            Storage::Bool { values, valid } => {
                bits(values);
                bits(valid);
            }
            Storage::Str(strings) => match &mut strings.arena {
                Some((bytes, ends, valid)) => {
                    if let Some(additional) = ensure_vec(bytes.len(), bytes.capacity(), text_bytes) {
                        let _ = bytes.try_reserve_exact(additional);
                    }
                    ensure(ends, ensure_vec(ends.len(), ends.capacity(), rows));
                    bits(valid);
                }
                None => {
                    let codes = &mut strings.codes;
                    if let Some(additional) = ensure_vec(codes.len(), codes.capacity(), rows) {
                        codes.reserve_exact(additional);
                    }
                }
            },
        }
    }

    /// Cells pushed so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes of arena text held so far (0 for other storage).
    pub fn arena_text_bytes(&self) -> usize {
        match &self.storage {
            Storage::Str(StrBuilder { arena: Some((bytes, ..)), .. }) => bytes.len(),
            _ => 0,
        }
    }

    /// What the column holds in memory so far (see [`BuildMemory`]).
    pub fn memory(&self) -> BuildMemory {
        let mut memory = BuildMemory::default();
        let mut buffer = |used: usize, reserved: usize| {
            memory.per_row_used += used as u64;
            memory.per_row_reserved += reserved as u64;
            memory.largest_buffer = memory.largest_buffer.max(used as u64);
        };
        fn vec_bytes<T>(values: &Vec<T>) -> (usize, usize) {
            let size = std::mem::size_of::<T>();
            (values.len() * size, values.capacity() * size)
        }
        match &self.storage {
            Storage::Int { values, valid } | Storage::Timestamp { ms: values, valid } => {
                let (used, reserved) = vec_bytes(values);
                buffer(used, reserved);
                let (used, reserved) = valid.used_and_reserved_bytes();
                buffer(used, reserved);
            }
            Storage::Float { values, valid } => {
                let (used, reserved) = vec_bytes(values);
                buffer(used, reserved);
                let (used, reserved) = valid.used_and_reserved_bytes();
                buffer(used, reserved);
            }
            Storage::Bool { values, valid } => {
                for bits in [values, valid] {
                    let (used, reserved) = bits.used_and_reserved_bytes();
                    buffer(used, reserved);
                }
            }
            Storage::Str(strings) => match &strings.arena {
                Some((bytes, ends, valid)) => {
                    buffer(bytes.len(), bytes.capacity());
                    let (used, reserved) = vec_bytes(ends);
                    buffer(used, reserved);
                    let (used, reserved) = valid.used_and_reserved_bytes();
                    buffer(used, reserved);
                }
                None => {
                    let codes = &strings.codes;
                    buffer(codes.len() * codes.width(), codes.heap_bytes());
                    // Each distinct value: its text and box in the dictionary, a key and code
                    // in the index (a long text boxed there again).
                    let text: usize = strings.dict.iter().map(|s| s.len()).sum();
                    let boxes = strings.dict.capacity() * std::mem::size_of::<Box<str>>();
                    memory.fixed += (2 * text + boxes + strings.map.table_bytes()) as u64;
                }
            },
        }
        // Cells that did not fit keep their text: they come with rows, like values.
        let mismatched: usize = self.mismatches.iter().map(|m| m.text.len() + std::mem::size_of::<Mismatch>()).sum();
        memory.per_row_used += mismatched as u64;
        memory.per_row_reserved += mismatched as u64;
        memory
    }

    /// Stores strings in one arena from the start: for columns whose sample shows mostly
    /// distinct values (identifiers, free text), where a dictionary would only be overhead.
    pub fn prefer_arena(&mut self) {
        if let Storage::Str(strings) = &mut self.storage {
            if strings.arena.is_none() {
                strings.switch_to_arena();
            }
        }
    }

    /// Only an empty cell is missing (see the field).
    pub fn without_markers(mut self) -> Self {
        self.markers = false;
        self
    }

    /// An empty builder of the same type and storage, that keeps its type: the next batch of a
    /// streamed file. This one keeps its type too (a batch's column is never re-typed alone).
    pub fn next_batch(&mut self) -> Self {
        self.keep_type = true;
        self.fork()
    }

    /// An empty builder of the same type and storage, for a later part of the same file parsed
    /// on its own: [`ColumnBuilder::append`] then puts its cells after these, as if each had been
    /// pushed here.
    pub fn fork(&self) -> Self {
        Self { storage: empty_like(&self.storage), mismatches: Vec::new(), rows: 0, non_finite: 0, ..*self }
    }

    /// Moves the cells of `other`, a [`ColumnBuilder::fork`] of this builder (or of one it was
    /// forked from) fed with the cells that follow, after these, and leaves `other` empty with
    /// its room kept (for the next part). The result equals pushing every cell here: an integer
    /// column that became float in either part is float, and so are the integers before the
    /// first fraction (read as `f64`, as promotion does).
    pub fn append(&mut self, other: &mut ColumnBuilder) {
        let offset = self.rows;
        let added = other.rows;
        self.rows += other.rows;
        self.non_finite += other.non_finite;
        self.mismatches.extend(other.mismatches.drain(..).map(|m| Mismatch { row: m.row + offset, text: m.text }));
        other.rows = 0;
        other.non_finite = 0;
        if matches!(other.storage, Storage::Float { .. }) {
            self.promote_to_float();
        }
        fn take<T: Copy>(values: &mut Vec<T>, more: &mut Vec<T>, valid: &mut Bitmap, more_valid: &mut Bitmap) {
            values.extend_from_slice(more);
            valid.append(more_valid);
            more.clear();
            more_valid.clear();
        }
        match (&mut self.storage, &mut other.storage) {
            (Storage::Int { values, valid }, Storage::Int { values: more, valid: more_valid })
            | (Storage::Timestamp { ms: values, valid }, Storage::Timestamp { ms: more, valid: more_valid }) => {
                take(values, more, valid, more_valid);
            }
            (Storage::Float { values, valid }, Storage::Float { values: more, valid: more_valid }) => {
                take(values, more, valid, more_valid);
            }
            (Storage::Float { values, valid }, Storage::Int { values: more, valid: more_valid }) => {
                values.extend(more.iter().map(|&v| v as f64));
                valid.append(more_valid);
                more.clear();
                more_valid.clear();
            }
            (Storage::Bool { values, valid }, Storage::Bool { values: more, valid: more_valid }) => {
                values.append(more);
                valid.append(more_valid);
                more.clear();
                more_valid.clear();
            }
            (Storage::Str(strings), Storage::Str(more)) => strings.append(more),
            // Forks share their storage, and only integers change theirs (to float, above).
            // (Were it ever otherwise, the cells would read as missing rather than misalign.)
            (_, other) => {
                debug_assert!(false, "appending {other:?} to another storage");
                *other = empty_like(other);
                for _ in 0..added {
                    self.push_missing();
                }
            }
        }
    }

    /// Makes this builder (a fork's, whose cells were merged or dropped) an empty fork of
    /// `main` again, keeping its room where the storage is still the same: a fork that became
    /// float or an arena on cells that were dropped must not make `main` one.
    pub fn restart_like(&mut self, main: &ColumnBuilder) {
        self.clear();
        let same = match (&self.storage, &main.storage) {
            (Storage::Str(fork), Storage::Str(main)) => fork.arena.is_some() == main.arena.is_some(),
            (fork, main) => std::mem::discriminant(fork) == std::mem::discriminant(main),
        };
        if !same {
            self.storage = empty_like(&main.storage);
        }
    }

    /// No cells, with the room kept.
    fn clear(&mut self) {
        self.rows = 0;
        self.non_finite = 0;
        self.mismatches.clear();
        match &mut self.storage {
            Storage::Int { values, valid } | Storage::Timestamp { ms: values, valid } => {
                values.clear();
                valid.clear();
            }
            Storage::Float { values, valid } => {
                values.clear();
                valid.clear();
            }
            Storage::Bool { values, valid } => {
                values.clear();
                valid.clear();
            }
            Storage::Str(strings) => {
                strings.stats = StringStats::default();
                strings.codes.clear();
                strings.dict.clear();
                strings.map.clear();
                if let Some((bytes, ends, valid)) = &mut strings.arena {
                    bytes.clear();
                    ends.clear();
                    valid.clear();
                }
            }
        }
    }

    /// A builder for a type the user chose.
    pub fn for_type(kind: ColumnType) -> Self {
        let inferred = match kind {
            ColumnType::Integer => Inferred::Integer,
            ColumnType::Float => Inferred::Float,
            ColumnType::Boolean => Inferred::Boolean { words: true },
            ColumnType::Timestamp => Inferred::Timestamp(super::infer::TimestampFormat::Text),
            ColumnType::Category | ColumnType::Identifier | ColumnType::Text => Inferred::Strings,
        };
        Self { forced: Some(kind), may_promote: false, ..Self::for_inferred(inferred) }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends cells in order, as [`ColumnBuilder::push`] would one by one. The column's type is
    /// matched once for a run of cells rather than once per cell, and a run of one column's
    /// cells keeps that column's buffers and dictionary in the cache: the loader pushes a batch
    /// of lines a column at a time. A cell off the common path (a marker, a mismatch, an
    /// integer column's first fraction) goes through [`ColumnBuilder::push`].
    pub fn push_cells<'a>(&mut self, cells: impl Iterator<Item = &'a str>) {
        let mut cells = cells;
        while let Some(text) = self.push_common(&mut cells) {
            self.push(text);
        }
    }

    /// Pushes cells of `cells` while each takes its type's common path; returns the first that
    /// does not, not pushed.
    fn push_common<'a>(&mut self, cells: &mut impl Iterator<Item = &'a str>) -> Option<&'a str> {
        let markers = self.markers;
        // No missing marker reads as an integer, a finite number or a timestamp (the test's
        // cells hold every marker), so a cell that does is present.
        match &mut self.storage {
            Storage::Int { values, valid } => return push_parsed(values, valid, &mut self.rows, cells, parse_int),
            Storage::Float { values, valid } => {
                let finite = |text: &str| match parse_float(text) {
                    Some(FloatCell::Value(v)) => Some(v),
                    _ => None,
                };
                return push_parsed(values, valid, &mut self.rows, cells, finite);
            }
            Storage::Timestamp { ms, valid } => return push_parsed(ms, valid, &mut self.rows, cells, parse_timestamp_text),
            Storage::Str(strings) => {
                for text in cells {
                    if if markers { is_missing(text) } else { text.is_empty() } {
                        strings.push_missing();
                    } else {
                        strings.push(text);
                    }
                    self.rows += 1;
                }
            }
            Storage::Bool { .. } => return cells.next(),
        }
        None
    }

    /// Appends one cell.
    pub fn push(&mut self, text: &str) {
        let row = self.rows;
        self.rows += 1;
        if if self.markers { is_missing(text) } else { text.is_empty() } {
            self.push_missing();
            return;
        }
        let mut promoted = None;
        let fits = match &mut self.storage {
            Storage::Int { values, valid } => match parse_int(text) {
                Some(v) => {
                    values.push(v);
                    valid.push(true);
                    true
                }
                // A whole number past 64 bits does not fit (as a float it would lose its last
                // digits): it is kept as a mismatch, and many of them make the column text.
                None if is_integer_literal(text) => false,
                None => match parse_float(text) {
                    Some(FloatCell::Value(v)) if self.may_promote => {
                        promoted = Some(v);
                        true
                    }
                    Some(FloatCell::NonFinite) => {
                        values.push(0);
                        valid.push(false);
                        self.non_finite += 1;
                        true
                    }
                    _ => false,
                },
            },
            Storage::Float { values, valid } => match parse_float(text) {
                Some(cell) => {
                    let value = match cell {
                        FloatCell::Value(v) => Some(v),
                        FloatCell::NonFinite => {
                            self.non_finite += 1;
                            None
                        }
                    };
                    // Missing cells hold 0.0: the validity bitmap says they are missing, and
                    // a NaN placeholder would make equal columns compare unequal.
                    values.push(value.unwrap_or(0.0));
                    valid.push(value.is_some());
                    true
                }
                None => false,
            },
            Storage::Bool { values, valid } => {
                let parsed = parse_bool_word(text).or_else(|| match parse_int(text) {
                    Some(0) => Some(false),
                    Some(1) => Some(true),
                    _ => None,
                });
                if let Some(v) = parsed {
                    values.push(v);
                    valid.push(true);
                }
                parsed.is_some()
            }
            Storage::Timestamp { ms, valid } => {
                let parsed = parse_timestamp_text(text).or_else(|| parse_int(text).and_then(epoch_to_ms));
                if let Some(v) = parsed {
                    ms.push(v);
                    valid.push(true);
                }
                parsed.is_some()
            }
            Storage::Str(strings) => {
                strings.push(text);
                true
            }
        };
        if let Some(value) = promoted {
            self.promote_to_float();
            if let Storage::Float { values, valid } = &mut self.storage {
                values.push(value);
                valid.push(true);
            }
        }
        if !fits {
            // `rows` was already counted: undo so push_missing lines up.
            self.rows -= 1;
            self.push_missing();
            self.rows += 1;
            self.mismatches.push(Mismatch { row, text: text.to_string() });
        }
    }

    fn push_missing(&mut self) {
        match &mut self.storage {
            Storage::Int { values, valid } => {
                values.push(0);
                valid.push(false);
            }
            Storage::Float { values, valid } => {
                values.push(0.0);
                valid.push(false);
            }
            Storage::Bool { values, valid } => {
                values.push(false);
                valid.push(false);
            }
            Storage::Timestamp { ms, valid } => {
                ms.push(0);
                valid.push(false);
            }
            Storage::Str(strings) => strings.push_missing(),
        }
    }

    fn promote_to_float(&mut self) {
        if let Storage::Int { values, valid } = &mut self.storage {
            let floats = values.iter().map(|&v| v as f64).collect();
            self.storage = Storage::Float { values: floats, valid: std::mem::take(valid) };
        }
    }

    /// The finished column. An inferred type that too many cells did not fit falls back to
    /// strings (with every original text kept).
    pub fn finish(self, name: &str) -> Column {
        let cells = self.rows.max(1) as f64;
        let abandon = self.forced.is_none()
            && !self.keep_type
            && !matches!(self.storage, Storage::Str(_))
            && self.mismatches.len() as f64 / cells > ABANDON_SHARE;
        let column = self.finish_as_is(name);
        if abandon {
            let mut strings = retype_column(&column, ColumnType::Text);
            strings.kind = match &strings.data {
                ColumnData::Str(s) => classify_strings(name, string_stats(s)),
                _ => ColumnType::Text,
            };
            return strings;
        }
        column
    }

    fn finish_as_is(self, name: &str) -> Column {
        let (kind, data) = match self.storage {
            Storage::Int { values, valid } => (ColumnType::Integer, ColumnData::Int { values, valid }),
            Storage::Float { values, valid } => (ColumnType::Float, ColumnData::Float { values, valid }),
            Storage::Bool { values, valid } => (ColumnType::Boolean, ColumnData::Bool { values, valid }),
            Storage::Timestamp { ms, valid } => (ColumnType::Timestamp, ColumnData::Timestamp { ms, valid }),
            Storage::Str(strings) => {
                let (strings, stats) = strings.finish();
                (classify_strings(name, stats), ColumnData::Str(strings))
            }
        };
        Column {
            name: name.to_string(),
            kind: self.forced.unwrap_or(kind),
            data,
            mismatches: self.mismatches,
            non_finite: self.non_finite,
        }
    }
}

/// Pushes the values `parse` reads from `cells` into `values`, each valid, until a cell it does
/// not read, which is returned (not pushed). The validity bits of the run are set at once.
fn push_parsed<'a, T>(values: &mut Vec<T>, valid: &mut Bitmap, rows: &mut usize, cells: &mut impl Iterator<Item = &'a str>, parse: impl Fn(&str) -> Option<T>) -> Option<&'a str> {
    let before = values.len();
    let mut stopped = None;
    for text in cells {
        match parse(text) {
            Some(value) => values.push(value),
            None => {
                stopped = Some(text);
                break;
            }
        }
    }
    let pushed = values.len() - before;
    valid.push_ones(pushed);
    *rows += pushed;
    stopped
}

/// The wire tags of [`ColumnType`] (a user's forced type), in [`ColumnType::ALL`]'s order.
fn type_tag(t: Option<ColumnType>) -> u8 {
    t.and_then(|t| ColumnType::ALL.iter().position(|&a| a == t)).map_or(0, |k| k as u8 + 1)
}

impl ColumnBuilder {
    /// The builder as bytes ([`super::wire`]): a part parsed by another worker, or the empty
    /// fork it starts from.
    pub fn encode(&self, w: &mut Writer) {
        w.u8(type_tag(self.forced));
        w.bool(self.may_promote);
        w.bool(self.keep_type);
        w.bool(self.markers);
        w.usize(self.rows);
        w.usize(self.non_finite);
        w.usize(self.mismatches.len());
        for m in &self.mismatches {
            w.usize(m.row);
            w.str(&m.text);
        }
        match &self.storage {
            Storage::Int { values, valid } => {
                w.u8(0);
                w.i64s(values);
                w.bitmap(valid);
            }
            Storage::Float { values, valid } => {
                w.u8(1);
                w.f64s(values);
                w.bitmap(valid);
            }
            Storage::Bool { values, valid } => {
                w.u8(2);
                w.bitmap(values);
                w.bitmap(valid);
            }
            Storage::Timestamp { ms, valid } => {
                w.u8(3);
                w.i64s(ms);
                w.bitmap(valid);
            }
            Storage::Str(strings) => {
                w.u8(4);
                for n in [strings.stats.non_missing, strings.stats.distinct, strings.stats.total_len, strings.stats.with_space] {
                    w.usize(n);
                }
                match &strings.arena {
                    Some((bytes, ends, valid)) => {
                        w.u8(1);
                        w.str(bytes);
                        w.usizes(ends);
                        w.bitmap(valid);
                    }
                    None => {
                        w.u8(0);
                        w.usize(strings.dict.len());
                        for text in &strings.dict {
                            w.str(text);
                        }
                        w.codes(&strings.codes);
                    }
                }
            }
        }
    }

    /// The builder [`ColumnBuilder::encode`] wrote, from its bytes ([`SentColumn::read`]).
    pub fn from_sent(sent: SentColumn<'_>) -> Self {
        let storage = match &sent.storage {
            SentStorage::Int { timestamp: false, .. } => Storage::Int { values: Vec::new(), valid: Bitmap::default() },
            SentStorage::Int { timestamp: true, .. } => Storage::Timestamp { ms: Vec::new(), valid: Bitmap::default() },
            SentStorage::Float { .. } => Storage::Float { values: Vec::new(), valid: Bitmap::default() },
            SentStorage::Bool { .. } => Storage::Bool { values: Bitmap::default(), valid: Bitmap::default() },
            SentStorage::Str { text, .. } => {
                let mut strings = StrBuilder::new();
                if matches!(text, SentText::Arena { .. }) {
                    strings.switch_to_arena();
                }
                Storage::Str(strings)
            }
        };
        let (forced, may_promote, keep_type, markers) = sent.flags;
        let mut builder = Self { storage, forced, may_promote, mismatches: Vec::new(), rows: 0, non_finite: 0, keep_type, markers };
        builder.append_sent(sent);
        builder
    }

    /// Puts the cells of a part another worker parsed, read from its answer, after these, as
    /// [`ColumnBuilder::append`] does a fork's: its values, text and text ends are copied once,
    /// from the answer's bytes into this column. Its storage must be one a fork of this builder
    /// can have ([`SentColumn::fits`]).
    pub fn append_sent(&mut self, part: SentColumn<'_>) {
        let offset = self.rows;
        self.rows += part.rows;
        self.non_finite += part.non_finite;
        self.mismatches.extend(part.mismatches.into_iter().map(|m| Mismatch { row: m.row + offset, text: m.text }));
        if matches!(part.storage, SentStorage::Float { .. }) {
            self.promote_to_float();
        }
        fn ints(values: &[u8]) -> impl Iterator<Item = i64> + '_ {
            values.chunks_exact(8).map(|value| i64::from_le_bytes(word(value)))
        }
        match (&mut self.storage, part.storage) {
            (Storage::Int { values, valid }, SentStorage::Int { values: more, valid: more_valid, timestamp: false })
            | (Storage::Timestamp { ms: values, valid }, SentStorage::Int { values: more, valid: more_valid, timestamp: true }) => {
                values.extend(ints(more));
                valid.append(&more_valid);
            }
            (Storage::Float { values, valid }, SentStorage::Float { values: more, valid: more_valid }) => {
                values.extend(more.chunks_exact(8).map(|value| f64::from_le_bytes(word(value))));
                valid.append(&more_valid);
            }
            (Storage::Float { values, valid }, SentStorage::Int { values: more, valid: more_valid, timestamp: false }) => {
                values.extend(ints(more).map(|value| value as f64));
                valid.append(&more_valid);
            }
            (Storage::Bool { values, valid }, SentStorage::Bool { values: more, valid: more_valid }) => {
                values.append(&more);
                valid.append(&more_valid);
            }
            (Storage::Str(strings), SentStorage::Str { stats, text }) => strings.append_sent(stats, text),
            // `SentColumn::fits` said otherwise. (Were it ever so, the cells would read as
            // missing rather than misalign.)
            (_, other) => {
                debug_assert!(false, "appending a sent {other:?} to another storage");
                for _ in 0..part.rows {
                    self.push_missing();
                }
            }
        }
    }
}

/// A column of a part another worker parsed, read from [`ColumnBuilder::encode`]'s bytes
/// without copying its values, text and text ends ([`ColumnBuilder::append_sent`] copies them
/// once, into the column they join): a helper's answer, merged by the table worker.
#[derive(Debug)]
pub struct SentColumn<'a> {
    /// The forced type, whether it may promote, keeps its type, reads markers as missing.
    flags: (Option<ColumnType>, bool, bool, bool),
    rows: usize,
    non_finite: usize,
    mismatches: Vec<Mismatch>,
    storage: SentStorage<'a>,
}

/// [`SentColumn`]'s cells: numbers and text ends as written, 8 bytes each, little-endian.
#[derive(Debug)]
enum SentStorage<'a> {
    /// Integers, or timestamps in milliseconds.
    Int { values: &'a [u8], valid: Bitmap, timestamp: bool },
    Float { values: &'a [u8], valid: Bitmap },
    Bool { values: Bitmap, valid: Bitmap },
    Str { stats: StringStats, text: SentText<'a> },
}

#[derive(Debug)]
enum SentText<'a> {
    Arena { bytes: &'a str, ends: &'a [u8], valid: Bitmap },
    Dict { dict: Vec<&'a str>, codes: Codes },
}

/// An 8-byte value as written ([`super::wire`]); `chunks_exact(8)` gives only such.
fn word(bytes: &[u8]) -> [u8; 8] {
    bytes.try_into().unwrap_or_default()
}

impl<'a> SentColumn<'a> {
    /// The column written by [`ColumnBuilder::encode`]; `None` when the bytes do not make one
    /// whose parts agree (as many values as rows, codes within the dictionary, text ends in
    /// order on character boundaries).
    pub fn read(r: &mut Reader<'a>) -> Option<Self> {
        let forced = match r.u8()? {
            0 => None,
            tag => Some(*ColumnType::ALL.get(usize::from(tag) - 1)?),
        };
        let flags = (forced, r.bool()?, r.bool()?, r.bool()?);
        let (rows, non_finite) = (r.usize()?, r.usize()?);
        let n_mismatches = r.usize()?;
        let mut mismatches = Vec::new();
        for _ in 0..n_mismatches {
            mismatches.push(Mismatch { row: r.usize()?, text: r.string()? });
        }
        let sized = |valid: &Bitmap, n: usize| (valid.len() == rows && n == rows).then_some(());
        let storage = match r.u8()? {
            tag @ (0 | 3) => {
                let (values, valid) = (r.words()?, r.bitmap()?);
                sized(&valid, values.len() / 8)?;
                SentStorage::Int { values, valid, timestamp: tag == 3 }
            }
            1 => {
                let (values, valid) = (r.words()?, r.bitmap()?);
                sized(&valid, values.len() / 8)?;
                SentStorage::Float { values, valid }
            }
            2 => {
                let (values, valid) = (r.bitmap()?, r.bitmap()?);
                sized(&valid, values.len())?;
                SentStorage::Bool { values, valid }
            }
            4 => {
                let stats = StringStats { non_missing: r.usize()?, distinct: r.usize()?, total_len: r.usize()?, with_space: r.usize()? };
                let text = match r.u8()? {
                    1 => {
                        let (bytes, ends, valid) = (r.str()?, r.words()?, r.bitmap()?);
                        sized(&valid, ends.len() / 8)?;
                        let mut from = 0;
                        for end in ends.chunks_exact(8) {
                            let end = usize::try_from(u64::from_le_bytes(word(end))).ok()?;
                            if end < from || !bytes.is_char_boundary(end) {
                                return None;
                            }
                            from = end;
                        }
                        SentText::Arena { bytes, ends, valid }
                    }
                    0 => {
                        let n = r.usize()?;
                        let dict = (0..n).map(|_| r.str()).collect::<Option<Vec<_>>>()?;
                        let codes = r.codes()?;
                        if codes.len() != rows || codes.iter().any(|c| c != MISSING_CODE && c as usize >= n) {
                            return None;
                        }
                        SentText::Dict { dict, codes }
                    }
                    _ => return None,
                };
                SentStorage::Str { stats, text }
            }
            _ => return None,
        };
        Some(Self { flags, rows, non_finite, mismatches, storage })
    }

    /// Rows of the part.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether a fork of `main` could have become this column (an integer fork may be float, a
    /// float fork integer: it started from types one block old), so that
    /// [`ColumnBuilder::append_sent`] can put it after `main`'s cells.
    pub fn fits(&self, main: &ColumnBuilder) -> bool {
        matches!(
            (&main.storage, &self.storage),
            (Storage::Int { .. } | Storage::Float { .. }, SentStorage::Int { timestamp: false, .. } | SentStorage::Float { .. })
                | (Storage::Timestamp { .. }, SentStorage::Int { timestamp: true, .. })
                | (Storage::Bool { .. }, SentStorage::Bool { .. })
                | (Storage::Str(_), SentStorage::Str { .. })
        )
    }
}

/// Empty storage of the same kind (an arena if `storage` is one).
fn empty_like(storage: &Storage) -> Storage {
    match storage {
        Storage::Int { .. } => Storage::Int { values: Vec::new(), valid: Bitmap::default() },
        Storage::Float { .. } => Storage::Float { values: Vec::new(), valid: Bitmap::default() },
        Storage::Bool { .. } => Storage::Bool { values: Bitmap::default(), valid: Bitmap::default() },
        Storage::Timestamp { .. } => Storage::Timestamp { ms: Vec::new(), valid: Bitmap::default() },
        Storage::Str(strings) => {
            let mut fresh = StrBuilder::new();
            if strings.arena.is_some() {
                fresh.switch_to_arena();
            }
            Storage::Str(fresh)
        }
    }
}

fn string_stats(strings: &Strings) -> StringStats {
    let mut stats = StringStats::default();
    let mut seen = rustc_hash::FxHashSet::default();
    for text in (0..strings.len()).filter_map(|row| strings.get(row)) {
        stats.non_missing += 1;
        stats.total_len += text.len();
        stats.with_space += usize::from(text.contains(' '));
        seen.insert(text);
    }
    stats.distinct = seen.len();
    stats
}

/// The column re-read as type `to`, from its stored values plus the original text of
/// cells that did not fit before.
pub fn retype_column(column: &Column, to: ColumnType) -> Column {
    let mut builder = ColumnBuilder::for_type(to);
    let mut mismatches = column.mismatches.iter().peekable();
    for row in 0..column.len() {
        match mismatches.peek() {
            Some(m) if m.row == row => {
                builder.push(&m.text);
                mismatches.next();
            }
            _ => match column.value(row) {
                Value::Missing => builder.push(""),
                value => builder.push(&value.display()),
            },
        }
    }
    builder.finish(&column.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(inferred: Inferred, cells: &[&str]) -> Column {
        let mut builder = ColumnBuilder::for_inferred(inferred);
        for cell in cells {
            builder.push(cell);
        }
        builder.finish("col")
    }

    /// A gzip bomb's first bytes can project more rows than an address space holds: the room
    /// is not taken, and the column still builds (it panicked with "capacity overflow" in the
    /// browser's 32-bit worker).
    #[test]
    fn room_past_what_memory_holds_is_not_taken() {
        for inferred in [Inferred::Integer, Inferred::Float, Inferred::Timestamp(super::super::infer::TimestampFormat::Text), Inferred::Strings] {
            let mut builder = ColumnBuilder::for_inferred(inferred);
            builder.push("1");
            builder.plan_capacity(usize::MAX / 4, usize::MAX / 2, 0.5);
            builder.push("2");
            assert_eq!(builder.finish("col").len(), 2);
        }
        let mut strings = ColumnBuilder::for_inferred(Inferred::Strings);
        for n in 0..=DICT_LIMIT + 1 {
            strings.push(&n.to_string());
            if n == 300 {
                // Room for the codes as planned, then widened past u8 and into an arena.
                strings.plan_capacity(usize::MAX / 8, usize::MAX / 2, 0.5);
            }
        }
        assert_eq!(strings.finish("col").len(), DICT_LIMIT + 2);
    }

    /// A whole number past 64 bits in an integer column does not turn it float (losing the
    /// last digits of every such value): it is a mismatch, kept for a retype to text.
    #[test]
    fn a_whole_number_past_64_bits_is_a_mismatch_not_a_float() {
        let mut cells = vec!["7"; 40];
        cells[1] = "18446744073709551615";
        let column = build(Inferred::Integer, &cells);
        assert_eq!(column.kind, ColumnType::Integer);
        assert_eq!((column.value(0), column.value(1), column.value(2)), (Value::Int(7), Value::Missing, Value::Int(7)));
        let text = retype_column(&column, ColumnType::Text);
        assert_eq!(text.value(1).display(), "18446744073709551615");
        // Many of them: the column is text, each value its own.
        let column = build(Inferred::Integer, &["1", "9223372036854775808", "9223372036854775809"]);
        assert_eq!(column.kind, ColumnType::Category);
        assert_eq!(column.value(2).display(), "9223372036854775809");
    }

    #[test]
    fn integer_promotes_to_float() {
        let column = build(Inferred::Integer, &["1", "2", "2.5", "NA"]);
        assert_eq!(column.kind, ColumnType::Float);
        assert_eq!(column.value(0), Value::Float(1.0));
        assert_eq!(column.value(2), Value::Float(2.5));
        assert_eq!(column.value(3), Value::Missing);
    }

    #[test]
    fn mismatches_are_kept_and_counted() {
        let mut cells = vec!["1"; 40];
        cells.push("abc");
        let column = build(Inferred::Integer, &cells);
        assert_eq!(column.kind, ColumnType::Integer);
        assert_eq!(column.value(40), Value::Missing);
        assert_eq!(column.mismatches, vec![Mismatch { row: 40, text: "abc".into() }]);
        assert_eq!(column.count_valid(), 40);
    }

    #[test]
    fn too_many_mismatches_fall_back_to_strings() {
        let column = build(Inferred::Integer, &["1", "2", "x", "y"]);
        assert_eq!(column.kind, ColumnType::Category);
        assert_eq!(column.value(2), Value::Str("x"));
        assert_eq!(column.value(0), Value::Str("1"));
    }

    #[test]
    fn retype_recovers_original_text() {
        let mut cells = vec!["7"; 30];
        cells.push("2026-01-01");
        let column = build(Inferred::Integer, &cells);
        let text = retype_column(&column, ColumnType::Text);
        assert_eq!(text.kind, ColumnType::Text);
        assert_eq!(text.value(30), Value::Str("2026-01-01"));
        assert!(text.mismatches.is_empty());
        let back = retype_column(&text, ColumnType::Integer);
        assert_eq!(back.value(0), Value::Int(7));
        assert_eq!(back.mismatches.len(), 1);
    }

    #[test]
    fn strings_switch_to_arena_past_the_limit() {
        let mut builder = ColumnBuilder::for_inferred(Inferred::Strings);
        for idx in 0..(DICT_LIMIT + 10) {
            builder.push(&format!("id{idx}"));
        }
        builder.push("");
        let column = builder.finish("user_key");
        assert!(matches!(column.data, ColumnData::Str(Strings::Arena { .. })));
        assert_eq!(column.kind, ColumnType::Identifier);
        assert_eq!(column.value(5), Value::Str("id5"));
        assert_eq!(column.value(DICT_LIMIT + 10), Value::Missing);
        assert_eq!(column.count_valid(), DICT_LIMIT + 10);
    }

    #[test]
    fn booleans_and_timestamps() {
        let column = build(Inferred::Boolean { words: true }, &["yes", "no", "1", ""]);
        assert_eq!(column.value(0), Value::Bool(true));
        assert_eq!(column.value(2), Value::Bool(true));
        assert_eq!(column.value(3), Value::Missing);
        let column = build(Inferred::Timestamp(super::super::infer::TimestampFormat::Text), &["1970-01-02", "1785000000"]);
        assert_eq!(column.value(0), Value::Timestamp(86_400_000));
        assert_eq!(column.value(1), Value::Timestamp(1_785_000_000_000));
    }
}

#[cfg(test)]
mod short_key_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Two texts have the same short key exactly when they are the same text (of at most 15
        /// bytes): texts from few bytes, of lengths about the word size, where a packing error
        /// (an overlap, a shift, a length left out) would make two of them collide. And a key
        /// says it holds a space exactly when its text does (bytes next to a space's included).
        #[test]
        fn short_keys_are_distinct_for_distinct_texts(a in proptest::collection::vec(prop_oneof![Just(0u8), Just(b'a'), Just(0xff), Just(b' '), Just(0x1f), Just(0x21), Just(0xa0)], 0..18), b in proptest::collection::vec(prop_oneof![Just(0u8), Just(b'a'), Just(0xff)], 0..18)) {
            if let Some(key) = short_key(&a) {
                prop_assert_eq!(short_key_has_space(key), a.contains(&b' '));
            }
            match (short_key(&a), short_key(&b)) {
                (Some(x), Some(y)) => prop_assert_eq!(x == y, a == b),
                (x, y) => {
                    prop_assert_eq!(x.is_none(), a.len() > 15);
                    prop_assert_eq!(y.is_none(), b.len() > 15);
                }
            }
        }

        /// A dictionary whose cache is made answers what a plain map answers, through lookups,
        /// inserts that replace a code and clears: more texts than the cache has slots (so
        /// that they share slots), short and long.
        #[test]
        fn a_dictionary_with_its_cache_answers_what_a_plain_map_answers(ops in proptest::collection::vec((0..8u8, 0..200usize, any::<u32>()), 0..3000)) {
            let text = |i: usize| if i.is_multiple_of(7) { format!("a text longer than a key, {i}") } else { format!("v{i}") };
            let mut index = DictIndex::default();
            let mut plain = std::collections::HashMap::new();
            for i in 0..CACHE_AFTER as usize {
                prop_assert_eq!(index.get(&text(1 + i % 6)), None);
            }
            prop_assert!(index.cache.is_some());
            for (op, i, code) in ops {
                let text = text(i);
                match op {
                    0..=2 => prop_assert_eq!(index.insert(&text, code), plain.insert(text, code)),
                    3 if code.is_multiple_of(64) => {
                        index.clear();
                        plain.clear();
                    }
                    _ => prop_assert_eq!(index.get(&text), plain.get(&text).copied()),
                }
            }
        }

        /// Cells pushed in runs ([`ColumnBuilder::push_cells`]) build what pushing them one by
        /// one builds, for every type, with and without markers: the values, the validity, the
        /// mismatches with their rows, promotion to float and the text statistics.
        #[test]
        fn cells_pushed_in_runs_build_what_one_by_one_builds(
            kind in 0..6usize,
            markers in any::<bool>(),
            cells in proptest::collection::vec(0..POOL.len(), 0..300),
            runs in proptest::collection::vec(1..40usize, 1..12),
        ) {
            let inferred = [
                Inferred::Integer,
                Inferred::Float,
                Inferred::Boolean { words: true },
                Inferred::Timestamp(crate::data::infer::TimestampFormat::Text),
                Inferred::Timestamp(crate::data::infer::TimestampFormat::EpochSeconds),
                Inferred::Strings,
            ][kind];
            let new = || {
                let builder = ColumnBuilder::for_inferred(inferred);
                if markers { builder } else { builder.without_markers() }
            };
            let texts: Vec<&str> = cells.iter().map(|&i| POOL[i]).collect();
            let mut one_by_one = new();
            for text in &texts {
                one_by_one.push(text);
            }
            let mut in_runs = new();
            let mut rest = texts.as_slice();
            for run in runs.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (head, tail) = rest.split_at((*run).min(rest.len()));
                in_runs.push_cells(head.iter().copied());
                rest = tail;
            }
            prop_assert_eq!(format!("{in_runs:?}"), format!("{one_by_one:?}"));
            prop_assert!(in_runs.finish("c") == one_by_one.finish("c"));
        }
    }

    /// Cells of every kind a column meets: numbers, fractions, every missing marker, blanks,
    /// words, timestamps, padded and non-ASCII text.
    const POOL: [&str; 27] = [
        "1", "-3", "2.5", "1e3", "NA", "", "  ", "nan", "inf", "true", "0", "x", "a b", "2024-01-02", "2024-01-02T03:04:05Z", "-",
        "null", " 7 ", "é", "1700000000", "N/A", "yes", "n/a", "NULL", "None", "NaN", " NA ",
    ];

    #[test]
    fn a_dictionary_of_short_and_long_texts_keeps_first_seen_codes() {
        let texts = ["", "a", "a\0", "abcdefgh", "abcdefghi", "bcdefghi", "abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnopq"];
        let mut index = DictIndex::default();
        for (code, text) in texts.iter().enumerate() {
            assert_eq!(index.insert(text, code as u32), None, "{text:?} collided");
        }
        for (code, text) in texts.iter().enumerate() {
            assert_eq!(index.get(text), Some(code as u32), "{text:?}");
        }
        assert_eq!(index.get("abcdefghijklmnoq"), None);
    }
}
