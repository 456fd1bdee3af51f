//! Log requests and log streams the admin asked for (PROTOCOL.md §2.7): which connector
//! each is for, whether its upload arrived, and the file on disk that holds it. The
//! files live under `<data dir>/uploads/<id>.zip` and `<data dir>/streams/<id>.jsonl`;
//! ids are generated here, so they are safe as file names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::ApiError;

/// One `upload_logs` request.
#[derive(Debug, Clone)]
pub struct LogRequest {
    pub id: String,
    pub connector_id: String,
    pub received: bool,
    pub size: u64,
    pub path: PathBuf,
}

/// One `stream_logs` request.
#[derive(Debug, Clone)]
pub struct LogStream {
    pub id: String,
    pub connector_id: String,
    pub lines: u64,
    pub path: PathBuf,
}

/// All log requests and streams, in the order they were made.
#[derive(Debug)]
pub struct Logs {
    dir: PathBuf,
    requests: Vec<LogRequest>,
    streams: Vec<LogStream>,
    request_index: HashMap<String, usize>,
    stream_index: HashMap<String, usize>,
}

/// Fail with 409 when the request or stream is for another connector.
fn check_owner(kind: &str, id: &str, owner: &str, caller: &str) -> Result<(), ApiError> {
    if owner == caller {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!("{kind} {id} is for another connector")))
    }
}

impl Logs {
    pub fn new(data_dir: &Path) -> Self {
        Logs {
            dir: data_dir.to_path_buf(),
            requests: Vec::new(),
            streams: Vec::new(),
            request_index: HashMap::new(),
            stream_index: HashMap::new(),
        }
    }

    pub fn add_request(&mut self, id: String, connector_id: String) {
        let path = self.dir.join("uploads").join(format!("{id}.zip"));
        self.request_index.insert(id.clone(), self.requests.len());
        self.requests.push(LogRequest { id, connector_id, received: false, size: 0, path });
    }

    pub fn add_stream(&mut self, id: String, connector_id: String) {
        let path = self.dir.join("streams").join(format!("{id}.jsonl"));
        self.stream_index.insert(id.clone(), self.streams.len());
        self.streams.push(LogStream { id, connector_id, lines: 0, path });
    }

    pub fn request(&self, id: &str) -> Option<&LogRequest> {
        self.request_index.get(id).and_then(|&i| self.requests.get(i))
    }

    pub fn stream(&self, id: &str) -> Option<&LogStream> {
        self.stream_index.get(id).and_then(|&i| self.streams.get(i))
    }

    /// Where `caller`'s upload for request `id` goes: 404 unknown, 409 someone else's.
    pub fn upload_target(&self, id: &str, caller: &str) -> Result<PathBuf, ApiError> {
        let req = self.request(id).ok_or_else(|| ApiError::NotFound(format!("log request {id} not found")))?;
        check_owner("log request", id, &req.connector_id, caller)?;
        Ok(req.path.clone())
    }

    /// Where `caller`'s lines for stream `id` go: 404 unknown, 409 someone else's.
    pub fn stream_target(&self, id: &str, caller: &str) -> Result<PathBuf, ApiError> {
        let stream = self.stream(id).ok_or_else(|| ApiError::NotFound(format!("log stream {id} not found")))?;
        check_owner("log stream", id, &stream.connector_id, caller)?;
        Ok(stream.path.clone())
    }

    /// The upload for `id` is on disk with `size` bytes.
    pub fn mark_received(&mut self, id: &str, size: u64) {
        if let Some(req) = self.request_index.get(id).and_then(|&i| self.requests.get_mut(i)) {
            req.received = true;
            req.size = size;
        }
    }

    /// `lines` more lines of stream `id` are on disk.
    pub fn add_lines(&mut self, id: &str, lines: u64) {
        if let Some(stream) = self.stream_index.get(id).and_then(|&i| self.streams.get_mut(i)) {
            stream.lines += lines;
        }
    }

    pub fn upload_received(&self, id: &str) -> bool {
        self.request(id).is_some_and(|r| r.received)
    }

    pub fn requests(&self) -> &[LogRequest] {
        &self.requests
    }

    pub fn streams(&self) -> &[LogStream] {
        &self.streams
    }
}
