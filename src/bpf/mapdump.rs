//! Placeholder until the mapdump module lands.
pub fn dump_page(map_id: u32, offset: u64, _limit: usize) -> crate::model::MapDump {
    crate::model::MapDump {
        map_id,
        offset,
        ..Default::default()
    }
}
