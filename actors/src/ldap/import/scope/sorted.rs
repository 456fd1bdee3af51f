//! The scope file's mechanics: 32-byte records appended unsorted while an import runs,
//! then sorted in runs of bounded size and merged (with the previous file, for a delta)
//! into one sorted file that is searched in place.

use crate::platform::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::{Key, IN_SCOPE, LEFT, RUN};

type Record = [u8; 32];

fn split(r: &Record) -> (Key, Key) {
    let (mut g, mut m) = ([0u8; 16], [0u8; 16]);
    g.copy_from_slice(&r[..16]);
    m.copy_from_slice(&r[16..]);
    (g, m)
}

fn join(g: &Key, m: &Key) -> Record {
    let mut r = [0u8; 32];
    r[..16].copy_from_slice(g);
    r[16..].copy_from_slice(m);
    r
}

fn create_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Appends whole 32-byte records, synced. A tail that is not a whole record is what a
/// crash or a full disk left of an earlier append: it is cut off first, or every record
/// after it would be read shifted (a resumed import appends to the same file).
pub fn append(path: &Path, records: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    let mut f = OpenOptions::new().create(true).truncate(false).read(true).write(true).mode(0o600).open(path)?;
    let len = f.metadata()?.len();
    let whole = len - len % 32;
    if whole != len {
        tracing::warn!(file = %path.display(), torn = len - whole, "import record file: a torn record at its end was cut off");
        f.set_len(whole)?;
    }
    io::Seek::seek(&mut f, io::SeekFrom::Start(whole))?;
    f.write_all(records)?;
    f.sync_data()
}

/// Reads records one by one.
struct Reader(BufReader<File>);

impl Reader {
    fn open(path: &Path) -> io::Result<Reader> {
        Ok(Reader(BufReader::with_capacity(64 * 1024, File::open(path)?)))
    }

    fn next(&mut self) -> io::Result<Option<Record>> {
        let mut r = [0u8; 32];
        match self.0.read_exact(&mut r) {
            Ok(()) => Ok(Some(r)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// See `ScopeStore::build`. `records` may be absent (an import that delivered nothing).
pub fn build(records: &Path, old: Option<&Path>, target: &Path) -> io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    create_dir(dir)?;
    // 1. sorted runs of the job's records; the members it touched, for a delta.
    let mut runs: Vec<PathBuf> = Vec::new();
    let mut touched: Vec<Key> = Vec::new();
    if records.exists() {
        let mut input = Reader::open(records)?;
        loop {
            let mut run: Vec<Record> = Vec::with_capacity(RUN);
            while run.len() < RUN {
                match input.next()? {
                    Some(r) => run.push(r),
                    None => break,
                }
            }
            if run.is_empty() {
                break;
            }
            run.sort_unstable();
            run.dedup();
            if old.is_some() {
                touched.extend(run.iter().map(|r| split(r).1));
            }
            let path = records.with_extension(format!("run{}", runs.len()));
            let mut w =
                BufWriter::new(OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&path)?);
            for r in &run {
                w.write_all(r)?;
            }
            w.flush()?;
            runs.push(path);
        }
    }
    touched.sort_unstable();
    touched.dedup();
    // 2. merge: the runs, and the old file without the touched members.
    let mut sources: Vec<Reader> = runs.iter().map(|p| Reader::open(p)).collect::<io::Result<_>>()?;
    let old_index = match old {
        Some(p) => {
            sources.push(Reader::open(p)?);
            Some(sources.len() - 1)
        }
        None => None,
    };
    let keep = |i: usize, r: &Record| Some(i) != old_index || touched.binary_search(&split(r).1).is_err();
    let mut heap = BinaryHeap::new();
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some(r) = next_kept(s, i, &keep)? {
            heap.push(Reverse((r, i)));
        }
    }
    // Named after the job's records: two imports of one scope and token never share it.
    let tmp = dir.join(format!("{}.tmp", records.file_name().and_then(|n| n.to_str()).unwrap_or("build")));
    let file = OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&tmp)?;
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let mut last: Option<Record> = None;
    while let Some(Reverse((r, i))) = heap.pop() {
        if last != Some(r) && split(&r).0 != LEFT {
            out.write_all(&r)?;
            last = Some(r);
        }
        if let Some(n) = next_kept(&mut sources[i], i, &keep)? {
            heap.push(Reverse((n, i)));
        }
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(&tmp, target)?;
    crate::platform::sync_dir(dir)?;
    for p in runs {
        let _ = fs::remove_file(p);
    }
    Ok(())
}

fn next_kept(s: &mut Reader, i: usize, keep: &impl Fn(usize, &Record) -> bool) -> io::Result<Option<Record>> {
    while let Some(r) = s.next()? {
        if keep(i, &r) {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// A finished scope file, searched in place (binary search over its records).
pub struct ScopeFile {
    file: File,
    len: u64,
}

impl ScopeFile {
    pub fn open(path: &Path) -> io::Result<Option<ScopeFile>> {
        match File::open(path) {
            Ok(file) => {
                let len = file.metadata()?.len() / 32;
                Ok(Some(ScopeFile { file, len }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn at(&self, i: u64) -> io::Result<Record> {
        let mut r = [0u8; 32];
        self.file.read_exact_at(&mut r, i * 32)?;
        Ok(r)
    }

    /// The index of the first record not below `key`.
    fn lower_bound(&self, key: &Record) -> io::Result<u64> {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.at(mid)? < *key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Whether `member` was in scope.
    pub fn contains(&self, member: &Key) -> io::Result<bool> {
        let key = join(&IN_SCOPE, member);
        let i = self.lower_bound(&key)?;
        Ok(i < self.len && self.at(i)? == key)
    }

    /// The members in scope that were in the group of key `group`.
    pub fn members_of(&self, group: &Key) -> io::Result<Vec<Key>> {
        let mut i = self.lower_bound(&join(group, &[0; 16]))?;
        let mut out = Vec::new();
        while i < self.len {
            let (g, m) = split(&self.at(i)?);
            if g != *group {
                break;
            }
            out.push(m);
            i += 1;
        }
        Ok(out)
    }
}
