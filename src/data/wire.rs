//! Columns under construction as bytes: a part of a file parsed by another worker (the
//! browser's helpers, [`crate::data::load::TableLoader::with_helpers`]) comes back to the table
//! worker in this form, and the reader it starts from goes out in it.
//!
//! Little-endian, length-prefixed, numbers written as their raw bytes: a part's columns are
//! copied in and out at memory speed (a self-describing format such as MessagePack tags every
//! number, and would cost as much as parsing them). Both ends are the same build of the same
//! code, so there is no versioning; a message that does not decode is refused as a whole.

use super::table::{Bitmap, Codes};

/// Writes values in order.
#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    pub fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn usize(&mut self, value: usize) {
        self.u64(value as u64);
    }

    pub fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    pub fn bytes(&mut self, value: &[u8]) {
        self.usize(value.len());
        self.bytes.extend_from_slice(value);
    }

    pub fn str(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    /// `values`, each as its `N` little-endian bytes, written into room made for all of them
    /// at once (a push per value checks the room each time: the helpers' answers are mostly
    /// such values).
    fn values<T: Copy, const N: usize>(&mut self, values: &[T], bytes: impl Fn(T) -> [u8; N]) {
        self.usize(values.len());
        let start = self.bytes.len();
        self.bytes.resize(start + values.len() * N, 0);
        for (out, &value) in self.bytes.get_mut(start..).unwrap_or_default().chunks_exact_mut(N).zip(values) {
            out.copy_from_slice(&bytes(value));
        }
    }

    pub fn i64s(&mut self, values: &[i64]) {
        self.values(values, i64::to_le_bytes);
    }

    pub fn u64s(&mut self, values: &[u64]) {
        self.values(values, u64::to_le_bytes);
    }

    pub fn f64s(&mut self, values: &[f64]) {
        self.values(values, f64::to_le_bytes);
    }

    pub fn u32s(&mut self, values: &[u32]) {
        self.values(values, u32::to_le_bytes);
    }

    /// Dictionary codes at their width: the width in bytes, then the codes' raw bytes.
    pub fn codes(&mut self, codes: &Codes) {
        self.u8(codes.width() as u8);
        match codes {
            Codes::U8(values) => self.bytes(values),
            Codes::U16(values) => self.values(values, u16::to_le_bytes),
            Codes::U32(values) => self.u32s(values),
        }
    }

    pub fn usizes(&mut self, values: &[usize]) {
        self.values(values, |value| (value as u64).to_le_bytes());
    }

    pub fn bitmap(&mut self, bits: &Bitmap) {
        self.usize(bits.len());
        self.u64s(bits.words());
    }
}

/// Reads values in the order they were written; `None` when the bytes run out or do not make
/// the value.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Every byte was read.
    pub fn is_done(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    pub fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    pub fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.usize()?;
        self.take(n)
    }

    pub fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// A string, borrowed from the bytes read.
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    /// `n` values of 8 bytes each, as written ([`Writer::i64s`], [`Writer::f64s`],
    /// [`Writer::usizes`]), borrowed: 8 bytes each, little-endian.
    pub fn words(&mut self) -> Option<&'a [u8]> {
        self.items(8)
    }

    /// `n` items of `size` bytes each.
    fn items(&mut self, size: usize) -> Option<&'a [u8]> {
        let n = self.usize()?;
        self.take(n.checked_mul(size)?)
    }

    pub fn i64s(&mut self) -> Option<Vec<i64>> {
        Some(self.items(8)?.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default())).collect())
    }

    pub fn u64s(&mut self) -> Option<Vec<u64>> {
        Some(self.items(8)?.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default())).collect())
    }

    pub fn f64s(&mut self) -> Option<Vec<f64>> {
        Some(self.items(8)?.chunks_exact(8).map(|b| f64::from_bits(u64::from_le_bytes(b.try_into().unwrap_or_default()))).collect())
    }

    pub fn u32s(&mut self) -> Option<Vec<u32>> {
        Some(self.items(4)?.chunks_exact(4).map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default())).collect())
    }

    pub fn codes(&mut self) -> Option<Codes> {
        Some(match self.u8()? {
            1 => Codes::U8(self.bytes()?.to_vec()),
            2 => Codes::U16(self.items(2)?.chunks_exact(2).map(|b| u16::from_le_bytes(b.try_into().unwrap_or_default())).collect()),
            4 => Codes::U32(self.u32s()?),
            _ => return None,
        })
    }

    pub fn usizes(&mut self) -> Option<Vec<usize>> {
        self.u64s()?.into_iter().map(|v| usize::try_from(v).ok()).collect()
    }

    pub fn bitmap(&mut self) -> Option<Bitmap> {
        let len = self.usize()?;
        Bitmap::from_words(self.u64s()?, len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::data::table::MISSING_CODE;

    #[test]
    fn values_read_back_as_written_and_short_input_is_refused() {
        let mut bits = Bitmap::default();
        for k in 0..70 {
            bits.push(k % 3 == 0);
        }
        let mut w = Writer::default();
        w.u8(7);
        w.bool(true);
        w.str("héllo");
        w.i64s(&[-1, i64::MAX]);
        w.f64s(&[0.5, f64::NAN, -0.0]);
        w.u32s(&[u32::MAX, 0]);
        w.usizes(&[3, 9]);
        w.bitmap(&bits);
        let codes: Vec<Codes> = [3, 300, 70_000].into_iter().map(|c| Codes::from(vec![c, MISSING_CODE, 0])).collect();
        for c in &codes {
            w.codes(c);
        }
        let mut r = Reader::new(&w.bytes);
        assert_eq!(r.u8(), Some(7));
        assert_eq!(r.bool(), Some(true));
        assert_eq!(r.string().as_deref(), Some("héllo"));
        assert_eq!(r.i64s(), Some(vec![-1, i64::MAX]));
        let floats = r.f64s().unwrap();
        assert_eq!(floats[0], 0.5);
        assert!(floats[1].is_nan());
        assert!(floats[2].is_sign_negative());
        assert_eq!(r.u32s(), Some(vec![u32::MAX, 0]));
        assert_eq!(r.usizes(), Some(vec![3, 9]));
        assert_eq!(r.bitmap(), Some(bits));
        for (c, width) in codes.iter().zip([1, 2, 4]) {
            let back = r.codes().unwrap();
            assert_eq!((back.width(), back.iter().collect::<Vec<_>>()), (width, c.iter().collect::<Vec<_>>()));
        }
        assert!(r.is_done());
        for cut in 0..w.bytes.len() {
            let mut r = Reader::new(&w.bytes[..cut]);
            let whole = (|| Some((r.u8()?, r.bool()?, r.string()?, r.i64s()?, r.f64s()?, r.u32s()?, r.usizes()?, r.bitmap()?, r.codes()?, r.codes()?, r.codes()?)))();
            assert!(whole.is_none(), "{cut} bytes read as a whole message");
        }
        // A length far past the bytes is refused, not allocated.
        let mut w = Writer::default();
        w.u64(u64::MAX);
        assert_eq!(Reader::new(&w.bytes).i64s(), None);
    }
}
