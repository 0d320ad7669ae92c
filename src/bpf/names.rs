//! bpftool's names for program and map types (libbpf's own tables, so they never drift).

use std::ffi::CStr;

/// `sched_cls`, `xdp`, ... or the number when this libbpf does not know the type.
pub fn prog_type(t: u32) -> String {
    // SAFETY: libbpf returns a pointer to a static string or NULL for unknown types.
    let p = unsafe { libbpf_sys::libbpf_bpf_prog_type_str(t) };
    static_str(p).unwrap_or_else(|| t.to_string())
}

/// `hash`, `lru_hash`, `prog_array`, ... or the number when unknown.
pub fn map_type(t: u32) -> String {
    // SAFETY: as above, a static string or NULL.
    let p = unsafe { libbpf_sys::libbpf_bpf_map_type_str(t) };
    static_str(p).unwrap_or_else(|| t.to_string())
}

fn static_str(p: *const std::os::raw::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null pointers from libbpf's type tables point to NUL-terminated static strings.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// A kernel object name: a fixed 16-byte, NUL-padded char array.
pub fn c_name(raw: &[std::os::raw::c_char]) -> String {
    let bytes: Vec<u8> = raw
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_match_bpftool() {
        assert_eq!(prog_type(3), "sched_cls");
        assert_eq!(prog_type(6), "xdp");
        assert_eq!(prog_type(5), "tracepoint");
        assert_eq!(prog_type(29), "lsm");
        assert_eq!(map_type(1), "hash");
        assert_eq!(map_type(3), "prog_array");
        assert_eq!(map_type(9), "lru_hash");
        assert_eq!(map_type(11), "lpm_trie");
        assert_eq!(map_type(27), "ringbuf");
        assert_eq!(map_type(9999), "9999");
    }

    #[test]
    fn c_names_stop_at_nul() {
        let raw: Vec<std::os::raw::c_char> = b"abc\0def"
            .iter()
            .map(|&b| b as std::os::raw::c_char)
            .collect();
        assert_eq!(c_name(&raw), "abc");
        assert_eq!(hex(&[0xde, 0xad, 0x01]), "dead01");
    }
}
