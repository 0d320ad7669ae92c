// Shared by the fuzz targets: split one input into (layout, key, value).
use dpscope::bpf::cilium::layout::Layout;

pub fn split(data: &[u8]) -> Option<(Layout, &[u8], &[u8])> {
    let (&sel, rest) = data.split_first()?;
    let (&klen, rest) = rest.split_first()?;
    let klen = usize::from(klen).min(rest.len());
    let (k, v) = rest.split_at(klen);
    Some((Layout::ALL[usize::from(sel) % Layout::ALL.len()], k, v))
}
