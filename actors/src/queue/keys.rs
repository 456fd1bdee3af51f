//! Key layout of the queue tree (see the table in `mod.rs`).

pub const FORMAT: &[u8] = b"m/format";
pub const FORMAT_VERSION: &[u8] = b"1";
pub const CONNECTOR_ID: &[u8] = b"m/connector_id";
pub const JOBS: &[u8] = b"j/";
pub const OUTBOX: &[u8] = b"o/";
pub const RETENTION: &[u8] = b"r/";
/// Records an open could not read, each under `q/` + its original key.
pub const QUARANTINE: &[u8] = b"q/";
/// Written and flushed to find out whether the storage works again after a failed write.
pub const PROBE: &[u8] = b"m/probe";

pub fn job(id: &str) -> Vec<u8> {
    [JOBS, id.as_bytes()].concat()
}

pub fn outbox(position: u64) -> Vec<u8> {
    [OUTBOX, &position.to_be_bytes()].concat()
}

pub fn outbox_position(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(OUTBOX.len()..)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// All batches of a job share this prefix; the NUL keeps `j-1` from matching `j-10`.
pub fn batches_of(id: &str) -> Vec<u8> {
    [b"b/", id.as_bytes(), b"\0"].concat()
}

pub fn batch(id: &str, seq: u64) -> Vec<u8> {
    [batches_of(id).as_slice(), &seq.to_be_bytes()].concat()
}

pub fn steps_of(id: &str) -> Vec<u8> {
    [b"s/", id.as_bytes(), b"\0"].concat()
}

pub fn step(id: &str, step: &str) -> Vec<u8> {
    [steps_of(id).as_slice(), step.as_bytes()].concat()
}

pub fn retention(finished_ms: u64, id: &str) -> Vec<u8> {
    [RETENTION, &finished_ms.to_be_bytes(), b"/", id.as_bytes()].concat()
}

/// (finished ms, job id) of a retention key.
pub fn parse_retention(key: &[u8]) -> Option<(u64, String)> {
    let rest = key.get(RETENTION.len()..)?;
    let ms: [u8; 8] = rest.get(..8)?.try_into().ok()?;
    let id = String::from_utf8(rest.get(9..)?.to_vec()).ok()?;
    Some((u64::from_be_bytes(ms), id))
}

/// Digests of the identities (guid or DN) of the records in each stored import batch:
/// one value per batch (thousands of small keys would make sled's memory grow with the
/// directory's size).
pub fn seen_of(id: &str) -> Vec<u8> {
    [b"d/", id.as_bytes(), b"\0"].concat()
}

pub fn seen(id: &str, seq: u64) -> Vec<u8> {
    [seen_of(id).as_slice(), &seq.to_be_bytes()].concat()
}

/// The record count of the last full import of a scope (`progress.rs`): `t/{scope id}`.
pub fn scope_total(scope: &str) -> Vec<u8> {
    [b"t/", scope.as_bytes()].concat()
}
