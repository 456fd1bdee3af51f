//! Sealing of payload secrets at rest: ChaCha20-Poly1305 with a random 96-bit nonce per
//! seal and the job id as associated data (a sealed blob cannot be moved to another job).
//!
//! The 32-byte key lives in `connector.key` in the storage path, created on first start
//! with mode 0600. Losing the key loses the secrets of queued jobs, nothing else: such
//! jobs fail with `internal` naming the cause.

use crate::platform::OpenOptionsExt;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde_json::{Map, Value};

use crate::ad::attributes::is_secret_attribute;
use crate::protocol::payload::SECRET_FIELDS;

pub const KEY_FILE: &str = "connector.key";
const NONCE_LEN: usize = 12;
/// Payload fields that are `{attribute: [values]}` maps (`ad.create_user`, `ad.update_user`).
const ATTRIBUTE_MAPS: [&str; 4] = ["attributes", "replace", "add", "delete"];
/// Whether a payload field's name says it holds a secret (`password`, `pwd`, `secret`,
/// in any case or spelling around them).
fn sounds_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k != "must_change_password" && ["passw", "pwd", "secret"].iter().any(|s| k.contains(s))
}

/// Sealed attribute values are kept under `@<field>` (no payload field starts with `@`).
const ATTRIBUTE_MAP_PREFIX: &str = "@";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot read or create the sealing key {path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
    #[error("the sealing key {path} is not 32 bytes: it was damaged or replaced")]
    KeyLength { path: PathBuf },
    #[error("sealed secrets of job {job_id} do not open with this storage path's key")]
    Open { job_id: String },
}

pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// Loads the key from `dir`, creating it (0600) on first use.
    pub fn open(dir: &Path) -> Result<Sealer, SealError> {
        let path = dir.join(KEY_FILE);
        let err = |source| SealError::KeyFile { path: path.clone(), source };
        let key = match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut file) => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                file.write_all(&key).and_then(|_| file.sync_all()).map_err(err)?;
                key.to_vec()
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let mut file = fs::File::open(&path).map_err(err)?;
                if crate::platform::readable_by_others(&file.metadata().map_err(err)?) {
                    tracing::warn!(path = %path.display(), "sealing key was readable by others; setting mode 0600");
                    crate::platform::owner_only(&path).map_err(err)?;
                }
                let mut key = Vec::new();
                file.read_to_end(&mut key).map_err(err)?;
                key
            }
            Err(e) => return Err(err(e)),
        };
        if key.len() != 32 {
            return Err(SealError::KeyLength { path });
        }
        Ok(Sealer { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)) })
    }

    /// Moves the secret fields out of `payload` and seals them; `None` when there are none.
    /// Secret fields are the password fields, and the values of password-like attributes
    /// (`userPassword`, `unicodePwd`, their OIDs, …) inside the attribute maps: such a job
    /// is refused when it runs, but its value must not sit in the queue file meanwhile.
    pub fn seal_secrets(&self, job_id: &str, payload: &mut Map<String, Value>) -> Option<Vec<u8>> {
        let mut secrets = Map::new();
        for field in SECRET_FIELDS {
            if let Some(v) = payload.remove(field) {
                secrets.insert(field.to_owned(), v);
            }
        }
        // Any other field that sounds like a secret (a portal's typo of `password`, say).
        let named: Vec<String> = payload.keys().filter(|k| sounds_secret(k)).cloned().collect();
        for key in named {
            if let Some(v) = payload.remove(&key) {
                secrets.insert(key, v);
            }
        }
        for field in ATTRIBUTE_MAPS {
            // A map of the wrong JSON type is refused when the job runs; until then it is
            // sealed whole, since it may hold a password in any shape.
            if payload.get(field).is_some_and(|v| !v.is_object()) {
                if let Some(v) = payload.remove(field) {
                    secrets.insert(field.to_owned(), v);
                }
                continue;
            }
            let Some(Value::Object(map)) = payload.get_mut(field) else { continue };
            let names: Vec<String> = map.keys().filter(|k| is_secret_attribute(k)).cloned().collect();
            let moved: Map<String, Value> = names.into_iter().filter_map(|k| map.remove(&k).map(|v| (k, v))).collect();
            if !moved.is_empty() {
                secrets.insert(format!("{ATTRIBUTE_MAP_PREFIX}{field}"), Value::Object(moved));
            }
        }
        if secrets.is_empty() {
            return None;
        }
        let plain = Value::Object(secrets).to_string();
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: job_id.as_bytes() })
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Some(out)
    }

    /// Puts the sealed secrets back into `payload`, in memory only.
    pub fn unseal_into(&self, job_id: &str, sealed: &[u8], payload: &mut Map<String, Value>) -> Result<(), SealError> {
        let fail = || SealError::Open { job_id: job_id.to_owned() };
        if sealed.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: job_id.as_bytes() })
            .map_err(|_| fail())?;
        let secrets: Map<String, Value> = serde_json::from_slice(&plain).map_err(|_| fail())?;
        for (key, value) in secrets {
            match (key.strip_prefix(ATTRIBUTE_MAP_PREFIX), value) {
                (Some(field), Value::Object(moved)) => {
                    let map = payload.entry(field.to_owned()).or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(map) = map {
                        map.extend(moved);
                    }
                }
                (_, value) => {
                    payload.insert(key, value);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
