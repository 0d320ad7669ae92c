//! Bounds-checked reads of fixed-width integers and plain `#[repr(C)]` records from byte
//! buffers: BPF map keys and values, `bpf_*_info` buffers, netlink messages, ELF and BTF
//! sections. The one byte reader of the crate; a leaf (it imports nothing of the crate).
//!
//! * `ne_*`, `le_*`, `be_*` read native-, little- and big-endian integers at a byte offset and
//!   give 0 when the buffer is too short, so a decoder that checked the record's size first
//!   reads its fields without a panic path.
//! * [`array`] gives `None` instead, for readers that must tell a short buffer apart.
//! * [`read`] copies a whole record (a [`Plain`] type, such as the `#[repr(C)]` structs the
//!   BPF skeletons generate from the C headers) out of a buffer of at least its size.

/// The `N` bytes at `off`, or None when the buffer ends before them.
pub fn array<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)?.try_into().ok()
}

macro_rules! readers {
    ($($name:ident: $t:ty = $from:ident;)*) => {$(
        #[doc = concat!("`", stringify!($t), "` (`", stringify!($from), "`) at `off`; 0 when the buffer is too short.")]
        pub fn $name(b: &[u8], off: usize) -> $t {
            array(b, off).map(<$t>::$from).unwrap_or(0)
        }
    )*};
}

readers! {
    ne_u16: u16 = from_ne_bytes;
    ne_u32: u32 = from_ne_bytes;
    ne_u64: u64 = from_ne_bytes;
    le_u16: u16 = from_le_bytes;
    le_u32: u32 = from_le_bytes;
    le_u64: u64 = from_le_bytes;
    be_u16: u16 = from_be_bytes;
}

/// The byte at `off`; 0 when the buffer is too short.
pub fn u8_at(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

/// Types for which every bit pattern of their size is a valid value.
///
/// # Safety
///
/// Implement only for `#[repr(C)]` types whose fields are integers, arrays of them, or structs
/// and unions of such fields (no `bool`, `char`, enums, references or niches): [`read`] makes
/// a value of the type from arbitrary bytes.
pub unsafe trait Plain: Copy {}

// SAFETY: integers accept every bit pattern.
unsafe impl Plain for u8 {}
// SAFETY: as above.
unsafe impl Plain for u16 {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: as above.
unsafe impl Plain for u64 {}
// SAFETY: as above.
unsafe impl Plain for i32 {}
// SAFETY: as above.
unsafe impl Plain for i64 {}
// SAFETY: an array of plain values is plain.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

/// A `T` copied from the start of `b`, or None when `b` is shorter than `T`. Bytes after the
/// record (table padding, a longer value) are ignored.
pub fn read<T: Plain>(b: &[u8]) -> Option<T> {
    if b.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: `b` holds at least size_of::<T>() readable bytes (checked above);
    // `read_unaligned` has no alignment requirement; `T: Plain` makes any bytes a valid `T`.
    Some(unsafe { std::ptr::read_unaligned(b.as_ptr().cast::<T>()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_each_byte_order_and_short_buffers_read_zero() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(le_u16(&b, 1), 0x0302);
        assert_eq!(be_u16(&b, 1), 0x0203);
        assert_eq!(le_u32(&b, 0), 0x0403_0201);
        assert_eq!(le_u64(&b, 1), 0x0908_0706_0504_0302);
        assert_eq!(ne_u32(&b, 0), u32::from_ne_bytes([1, 2, 3, 4]));
        assert_eq!(ne_u64(&b, 1), u64::from_ne_bytes([2, 3, 4, 5, 6, 7, 8, 9]));
        assert_eq!(ne_u16(&b, 7), u16::from_ne_bytes([8, 9]));
        assert_eq!(u8_at(&b, 8), 9);
        // one byte short, past the end, and an offset that would overflow
        assert_eq!(ne_u16(&b, 8), 0);
        assert_eq!(le_u64(&b, 2), 0);
        assert_eq!(ne_u32(&b, 100), 0);
        assert_eq!(u8_at(&b, 9), 0);
        assert_eq!(array::<4>(&b, usize::MAX - 1), None);
        assert_eq!(array::<2>(&b, 7), Some([8, 9]));
        assert_eq!(array::<0>(&b, 9), Some([]));
    }

    #[test]
    fn records_need_their_whole_size() {
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[repr(C)]
        struct Rec {
            a: u32,
            b: u16,
            c: [u8; 2],
            d: u64,
        }
        // SAFETY: repr(C), integer fields only.
        unsafe impl Plain for Rec {}
        let mut buf = vec![0xaau8]; // read at an odd address too
        buf.extend_from_slice(&7u32.to_ne_bytes());
        buf.extend_from_slice(&9u16.to_ne_bytes());
        buf.extend_from_slice(&[1, 2]);
        buf.extend_from_slice(&u64::MAX.to_ne_bytes());
        buf.push(0xff); // trailing bytes are ignored
        let want = Rec {
            a: 7,
            b: 9,
            c: [1, 2],
            d: u64::MAX,
        };
        assert_eq!(read::<Rec>(&buf[1..]), Some(want));
        assert_eq!(read::<Rec>(&buf[1..buf.len() - 2]), None);
        assert_eq!(read::<[u16; 2]>(&[1, 0, 2, 0]).map(|a| a.len()), Some(2));
    }
}
