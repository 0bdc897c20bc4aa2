//! The append-only file, in Redis 7's multi-part layout.
//!
//! `<dir>/<appenddirname>/` holds a base file (`<appendfilename>.<seq>.base.aof`
//! or `.base.rdb`), incremental files (`<appendfilename>.<seq>.incr.aof`) and
//! the manifest `<appendfilename>.manifest` naming them, one line each:
//! `file <name> seq <n> type b|h|i`. Loading replays the base and then every
//! incremental file in manifest order.
//!
//! Writes: [`Aof::append`] encodes records into an in-memory buffer (called
//! by writers with their shard locks held, so the buffer order is the write
//! order) and returns a ticket (the byte count appended so far). A writer
//! thread writes the buffer to the current incremental file, and fsyncs it
//! after each write (`appendfsync always`), once a second (`everysec`) or
//! never (`no`); it publishes how far it has written and synced. A connection
//! waits for its ticket before replying, without holding any lock: written
//! for `everysec`/`no` (a killed process loses nothing the OS has), synced
//! for `always` (nothing acknowledged is lost even by a power cut). A failed
//! write keeps the data in the buffer, is retried, and makes the server
//! refuse writes with Redis's MISCONF error until it succeeds.
//!
//! This module knows files and bytes; it does not depend on the command
//! layer. The server crate glues it to the propagation stream and to the
//! dispatcher (loading replays commands through it with a fake client).

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    /// Parses `always|everysec|no`.
    pub fn parse(s: &str) -> Option<Fsync> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(Fsync::Always),
            "everysec" => Some(Fsync::EverySec),
            "no" => Some(Fsync::No),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }
}

/// What kind of file a manifest line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Base,
    History,
    Incr,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Base => 'b',
            Kind::History => 'h',
            Kind::Incr => 'i',
        }
    }
}

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub name: String,
    pub seq: u64,
    pub kind: Kind,
}

/// The manifest: which files make up the AOF, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<FileInfo>,
    pub incrs: Vec<FileInfo>,
    pub history: Vec<FileInfo>,
}

impl Manifest {
    /// Parses Redis's manifest syntax: `key value` pairs per line, with
    /// `file`, `seq` and `type` required; `#` lines are comments.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if !words.len().is_multiple_of(2) {
                return Err(format!("Invalid AOF manifest file format (line {})", n + 1));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for kv in words.chunks(2) {
                match kv[0] {
                    "file" => name = Some(kv[1].to_string()),
                    "seq" => seq = kv[1].parse::<u64>().ok(),
                    "type" => {
                        kind = match kv[1] {
                            "b" => Some(Kind::Base),
                            "h" => Some(Kind::History),
                            "i" => Some(Kind::Incr),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!("Invalid AOF manifest file format (line {})", n + 1));
            };
            if name.contains('/') {
                return Err(format!("Invalid AOF file name in manifest: {name}"));
            }
            let info = FileInfo { name, seq, kind };
            match kind {
                Kind::Base => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base = Some(info)
                }
                Kind::History => m.history.push(info),
                Kind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= info.seq) {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incrs.push(info)
                }
            }
        }
        Ok(m)
    }

    /// The manifest text: base first, then history, then incremental files.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let all = self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incrs.iter());
        for f in all {
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                f.name,
                f.seq,
                f.kind.letter()
            ));
        }
        out
    }
}

/// Where the AOF lives and how it is written.
#[derive(Debug, Clone)]
pub struct Config {
    /// `dir`/`appenddirname`.
    pub dir: PathBuf,
    /// `appendfilename` (default `appendonly.aof`).
    pub basename: String,
    pub fsync: Fsync,
    /// `aof-load-truncated`.
    pub load_truncated: bool,
}

impl Config {
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.basename))
    }
}

/// Writes `m` as the manifest atomically: a temporary file, fsynced, renamed
/// over the old one, and the directory fsynced.
pub fn write_manifest(cfg: &Config, m: &Manifest) -> io::Result<()> {
    let tmp = cfg.dir.join(format!("temp-{}.manifest", cfg.basename));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(m.render().as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, cfg.manifest_path())?;
    sync_dir(&cfg.dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

// ---------------------------------------------------------------------------
// RESP encoding and parsing

/// Appends `args` as a RESP multibulk command.
pub fn encode_command(out: &mut Vec<u8>, args: &[Bytes]) {
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        out.push(b'$');
        out.extend_from_slice(itoa::Buffer::new().format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// How reading a file of commands ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    /// Every byte belonged to a complete command.
    Complete,
    /// The file ends inside a command (or inside a MULTI without EXEC): the
    /// prefix up to `valid` bytes is whole.
    Truncated { valid: u64 },
    /// Not AOF syntax at byte `offset`.
    Corrupt { offset: u64 },
}

/// Parses one multibulk command at `pos`: Ok(Some((args, end))) for a whole
/// one, Ok(None) for a truncated one, Err(()) for bad syntax.
#[allow(clippy::result_unit_err)]
pub fn parse_command(data: &[u8], pos: usize) -> Result<Option<(Vec<Bytes>, usize)>, ()> {
    fn line(data: &[u8], pos: usize, tag: u8) -> Result<Option<(i64, usize)>, ()> {
        if pos >= data.len() {
            return Ok(None);
        }
        if data[pos] != tag {
            return Err(());
        }
        let Some(nl) = data[pos..].iter().position(|&c| c == b'\n') else {
            return if data.len() - pos > 32 {
                Err(())
            } else {
                Ok(None)
            };
        };
        let end = pos + nl;
        if end == pos + 1 || data[end - 1] != b'\r' {
            return Err(());
        }
        let n = std::str::from_utf8(&data[pos + 1..end - 1])
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or(())?;
        Ok(Some((n, end + 1)))
    }
    let Some((argc, mut p)) = line(data, pos, b'*')? else {
        return Ok(None);
    };
    if argc < 1 {
        return Err(());
    }
    let mut args = Vec::with_capacity(argc as usize);
    for _ in 0..argc {
        let Some((len, q)) = line(data, p, b'$')? else {
            return Ok(None);
        };
        if len < 0 {
            return Err(());
        }
        let len = len as usize;
        if q + len + 2 > data.len() {
            return Ok(None);
        }
        if &data[q + len..q + len + 2] != b"\r\n" {
            return Err(());
        }
        args.push(Bytes::copy_from_slice(&data[q..q + len]));
        p = q + len + 2;
    }
    Ok(Some((args, p)))
}

/// Replays every command of `data` through `run`. A transaction cut off by
/// the end of the file counts as truncated at its MULTI.
pub fn read_commands(
    data: &[u8],
    run: &mut dyn FnMut(Vec<Bytes>) -> Result<(), String>,
) -> Result<ReadEnd, String> {
    let mut pos = 0;
    let mut multi_at: Option<usize> = None;
    loop {
        if pos == data.len() {
            return Ok(match multi_at {
                Some(m) => ReadEnd::Truncated { valid: m as u64 },
                None => ReadEnd::Complete,
            });
        }
        match parse_command(data, pos) {
            Err(()) => return Ok(ReadEnd::Corrupt { offset: pos as u64 }),
            Ok(None) => {
                return Ok(ReadEnd::Truncated {
                    valid: multi_at.unwrap_or(pos) as u64,
                })
            }
            Ok(Some((args, end))) => {
                if args[0].eq_ignore_ascii_case(b"multi") {
                    multi_at = Some(pos);
                } else if args[0].eq_ignore_ascii_case(b"exec") {
                    multi_at = None;
                }
                run(args)?;
                pos = end;
            }
        }
    }
}

/// What loading found.
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    /// Bytes of the base file.
    pub base_size: u64,
    /// Bytes of all files.
    pub total_size: u64,
    /// The manifest, or None when the directory had no AOF yet.
    pub manifest: Option<Manifest>,
}

/// Loads the AOF in `cfg.dir`: the base (an RDB preamble goes to `rdb`,
/// which may refuse it), then the incremental files, every command through
/// `run`. A truncated last file is cut back to its last complete command when
/// `aof-load-truncated` is yes; anything else wrong is an error naming the
/// file and offset.
pub fn load(
    cfg: &Config,
    rdb: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    run: &mut dyn FnMut(Vec<Bytes>) -> Result<(), String>,
) -> Result<Loaded, String> {
    let mpath = cfg.manifest_path();
    let text = match fs::read_to_string(&mpath) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(e) => {
            return Err(format!(
                "Can't open the AOF manifest {}: {e}",
                mpath.display()
            ))
        }
    };
    let m = Manifest::parse(&text)?;
    let mut loaded = Loaded::default();
    let files: Vec<&FileInfo> = m.base.iter().chain(m.incrs.iter()).collect();
    let last = files.len().saturating_sub(1);
    for (i, f) in files.iter().enumerate() {
        let path = cfg.dir.join(&f.name);
        let data = match fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound && f.kind == Kind::Incr => {
                // Redis tolerates a listed incremental file that was never
                // written to (created lazily): only when empty.
                return Err(format!("The AOF file {} doesn't exist", f.name));
            }
            Err(e) => return Err(format!("Can't open the append-only file {}: {e}", f.name)),
        };
        loaded.total_size += data.len() as u64;
        if f.kind == Kind::Base {
            loaded.base_size = data.len() as u64;
        }
        if data.is_empty() {
            continue;
        }
        if data.starts_with(b"REDIS") {
            rdb(&data).map_err(|e| format!("Error reading the RDB base file {}: {e}", f.name))?;
            continue;
        }
        match read_commands(&data, run)? {
            ReadEnd::Complete => {}
            ReadEnd::Corrupt { offset } => {
                return Err(format!(
                    "Bad file format reading the append only file {} at offset {offset}: make a \
                     backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
                    f.name
                ))
            }
            ReadEnd::Truncated { valid } => {
                if i != last || !cfg.load_truncated {
                    return Err(format!(
                        "Unexpected end of file reading the append only file {} at offset {valid}. \
                         You can: 1) Make a backup of your AOF file, then use ./redis-check-aof \
                         --fix <filename.manifest>. 2) Alternatively you can set the \
                         'aof-load-truncated' configuration option to yes and restart the server.",
                        f.name
                    ));
                }
                tracing::warn!(
                    "!!! Warning: short read while loading the AOF file {}!!!",
                    f.name
                );
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| format!("Can't open {} to truncate it: {e}", f.name))?;
                file.set_len(valid)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| format!("Error truncating the AOF file {}: {e}", f.name))?;
                tracing::warn!(
                    "AOF {} loaded anyway because aof-load-truncated is enabled; truncated to \
                     offset {valid} (the last complete command)",
                    f.name
                );
                loaded.total_size -= data.len() as u64 - valid;
            }
        }
    }
    loaded.manifest = Some(m);
    Ok(loaded)
}

// ---------------------------------------------------------------------------
// The writer

/// How far the writer has got, in bytes appended since start.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Written to the file (in the OS's hands).
    pub written: u64,
    /// Written and fsynced.
    pub synced: u64,
    /// Set while the last write failed: the error text (strerror).
    pub error: Option<String>,
}

struct Segment {
    file: Arc<File>,
    buf: Vec<u8>,
    /// Ticket (total bytes appended) at the end of `buf`.
    end: u64,
}

struct State {
    segments: VecDeque<Segment>,
    current: Arc<File>,
    /// Database the current incremental file last SELECTed.
    selected: Option<usize>,
    /// Total bytes appended since start: the last ticket.
    appended: u64,
    /// Size of the current incremental file including buffered bytes.
    incr_size: u64,
    /// While a rewrite's snapshot runs: the incremental file it replaces,
    /// which still takes the writes ordered before its cut.
    before_cut: Option<BeforeCut>,
    stop: bool,
}

/// The incremental file of writes ordered before a rewrite's cut.
struct BeforeCut {
    /// Snapshot epoch of the cut: writes from older views go here.
    epoch: u64,
    file: Arc<File>,
    selected: Option<usize>,
}

/// An open AOF: the manifest, the current incremental file and the writer.
pub struct Aof {
    pub cfg: Config,
    state: Mutex<State>,
    wake: Condvar,
    progress: tokio::sync::watch::Sender<Progress>,
    manifest: Mutex<Manifest>,
    /// Bytes in the base and closed incremental files (INFO aof_*_size).
    pub base_size: Mutex<u64>,
    pub older_size: Mutex<u64>,
}

impl std::fmt::Debug for Aof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aof").field("dir", &self.cfg.dir).finish()
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Aof {
    /// Opens the AOF for appending after loading: continues the manifest's
    /// last incremental file, or starts a new one (creating the directory
    /// and an empty base when there was no AOF), and starts the writer thread.
    pub fn open(cfg: Config, loaded: &Loaded) -> io::Result<Arc<Aof>> {
        fs::create_dir_all(&cfg.dir)?;
        let mut m = loaded.manifest.clone().unwrap_or_default();
        let mut changed = false;
        if m.base.is_none() && m.incrs.is_empty() {
            let name = format!("{}.1.base.aof", cfg.basename);
            File::create(cfg.dir.join(&name))?.sync_all()?;
            m.base = Some(FileInfo {
                name,
                seq: 1,
                kind: Kind::Base,
            });
            changed = true;
        }
        if m.incrs.is_empty() {
            let seq = 1;
            m.incrs.push(FileInfo {
                name: format!("{}.{seq}.incr.aof", cfg.basename),
                seq,
                kind: Kind::Incr,
            });
            changed = true;
        }
        let last = m.incrs.last().expect("one incremental file").clone();
        let path = cfg.dir.join(&last.name);
        let file = open_append(&path)?;
        let incr_size = file.metadata()?.len();
        if changed {
            file.sync_all()?;
            write_manifest(&cfg, &m)?;
        }
        let (tx, _) = tokio::sync::watch::channel(Progress::default());
        let aof = Arc::new(Aof {
            base_size: Mutex::new(loaded.base_size),
            older_size: Mutex::new(loaded.total_size.saturating_sub(incr_size)),
            cfg,
            state: Mutex::new(State {
                segments: VecDeque::new(),
                current: Arc::new(file),
                selected: None,
                appended: 0,
                incr_size,
                before_cut: None,
                stop: false,
            }),
            wake: Condvar::new(),
            progress: tx,
            manifest: Mutex::new(m),
        });
        let a = aof.clone();
        std::thread::Builder::new()
            .name("aof-writer".into())
            .spawn(move || a.writer())?;
        Ok(aof)
    }

    /// Appends commands, each with the database it applies to, as one unit
    /// (a SELECT is written first when the database changes). `epoch` is the
    /// snapshot epoch of the view that ran them ([`storage::Locked::epoch`]):
    /// while a rewrite runs, writes ordered before its cut still go to the
    /// incremental file it replaces. Returns the ticket to wait for. Cheap:
    /// only encodes into memory.
    pub fn append<'r>(
        &self,
        epoch: u64,
        records: impl IntoIterator<Item = (usize, &'r [Bytes])>,
    ) -> u64 {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let (file, selected) = match &mut st.before_cut {
            Some(b) if epoch < b.epoch => (b.file.clone(), &mut b.selected),
            _ => (st.current.clone(), &mut st.selected),
        };
        let mut buf = Vec::new();
        for (db, args) in records {
            if *selected != Some(db) {
                let d = Bytes::from(db.to_string());
                encode_command(&mut buf, &[Bytes::from_static(b"SELECT"), d]);
                *selected = Some(db);
            }
            encode_command(&mut buf, args);
        }
        st.appended += buf.len() as u64;
        if Arc::ptr_eq(&file, &st.current) {
            st.incr_size += buf.len() as u64;
        } else {
            *self.older_size.lock() += buf.len() as u64;
        }
        let end = st.appended;
        let current = file;
        match st.segments.back_mut() {
            Some(s) if Arc::ptr_eq(&s.file, &current) => {
                s.buf.extend_from_slice(&buf);
                s.end = end;
            }
            _ => st.segments.push_back(Segment {
                file: current,
                buf,
                end,
            }),
        }
        drop(guard);
        self.wake.notify_one();
        end
    }

    /// The last ticket handed out.
    pub fn last_ticket(&self) -> u64 {
        self.state.lock().appended
    }

    /// A receiver of the writer's progress.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// The writer's progress now.
    pub fn progress(&self) -> Progress {
        self.progress.borrow().clone()
    }

    /// Waits until `ticket` is written (fsynced with `always`), or fails
    /// with the write error.
    pub async fn wait(&self, ticket: u64) -> Result<(), String> {
        let mut rx = self.progress.subscribe();
        let always = self.cfg.fsync == Fsync::Always;
        let r = rx
            .wait_for(|p| {
                let done = if always { p.synced } else { p.written };
                done >= ticket || p.error.is_some()
            })
            .await
            .map_err(|_| "the AOF writer stopped".to_string())?;
        let done = if always { r.synced } else { r.written };
        if done >= ticket {
            Ok(())
        } else {
            Err(r.error.clone().unwrap_or_default())
        }
    }

    /// Size of the current incremental file, buffered bytes included.
    pub fn incr_size(&self) -> u64 {
        self.state.lock().incr_size
    }

    /// The manifest as it is now.
    pub fn manifest(&self) -> Manifest {
        self.manifest.lock().clone()
    }

    /// Stops the writer after it has written (and fsynced) what is buffered.
    pub fn close(&self) {
        self.state.lock().stop = true;
        self.wake.notify_one();
    }

    fn publish(&self, f: impl FnOnce(&mut Progress)) {
        self.progress.send_modify(f);
    }

    fn writer(&self) {
        let mut last_fsync = Instant::now();
        let mut dirty: Option<Arc<File>> = None;
        loop {
            let seg = {
                let mut st = self.state.lock();
                while st.segments.is_empty() && !st.stop {
                    let r = self.wake.wait_for(&mut st, Duration::from_millis(200));
                    if r.timed_out() {
                        break;
                    }
                }
                if st.segments.is_empty() && st.stop {
                    if let Some(f) = dirty.take() {
                        let _ = f.sync_data();
                    }
                    return;
                }
                st.segments.pop_front()
            };
            if let Some(seg) = seg {
                if let Some(d) = dirty.take_if(|d| !Arc::ptr_eq(d, &seg.file)) {
                    // Switching files (a rewrite's cut): the one left behind
                    // is synced now, not at the next second.
                    let _ = d.sync_data();
                }
                let before = seg.file.metadata().map(|m| m.len()).unwrap_or(0);
                let res = (&*seg.file).write_all(&seg.buf);
                let res = res.and_then(|_| {
                    if self.cfg.fsync == Fsync::Always {
                        seg.file.sync_data()
                    } else {
                        Ok(())
                    }
                });
                match res {
                    Ok(()) => {
                        let end = seg.end;
                        let always = self.cfg.fsync == Fsync::Always;
                        self.publish(|p| {
                            p.written = p.written.max(end);
                            if always {
                                p.synced = p.synced.max(end);
                            }
                            p.error = None;
                        });
                        if !always {
                            dirty = Some(seg.file.clone());
                        }
                    }
                    Err(e) => {
                        // Cut a partial write back, keep the data, retry.
                        let _ = seg.file.set_len(before);
                        let text = strerror(&e);
                        tracing::warn!("Error writing to the AOF file: {text}");
                        self.publish(|p| p.error = Some(text));
                        self.state.lock().segments.push_front(seg);
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                }
            }
            if self.cfg.fsync == Fsync::EverySec && last_fsync.elapsed() >= Duration::from_secs(1) {
                if let Some(f) = dirty.take() {
                    let upto = self.progress.borrow().written;
                    if f.sync_data().is_ok() {
                        self.publish(|p| p.synced = p.synced.max(upto));
                    }
                }
                last_fsync = Instant::now();
            }
        }
    }

    /// Starts a new incremental file at a rewrite's cut, snapshot epoch
    /// `epoch`: appends from views of that epoch or later go to it, older
    /// ones still to the file before it until [`Aof::end_cut`]. The manifest
    /// on disk names the new file at once, as Redis 7 does, so a crash
    /// during the rewrite loses nothing: both files replay, the older first
    /// (writes routed to either side of the cut never touch a common key
    /// out of order: a view older than the cut holds its shards from before
    /// it). Returns the new file's info.
    pub fn start_new_incr_at(&self, epoch: u64) -> io::Result<FileInfo> {
        let mut m = self.manifest.lock();
        let seq = m.incrs.last().map_or(0, |f| f.seq) + 1;
        let info = FileInfo {
            name: format!("{}.{seq}.incr.aof", self.cfg.basename),
            seq,
            kind: Kind::Incr,
        };
        let file = open_append(&self.cfg.dir.join(&info.name))?;
        let mut next = m.clone();
        next.incrs.push(info.clone());
        write_manifest(&self.cfg, &next)?;
        *m = next;
        let mut st = self.state.lock();
        let old = st.incr_size;
        *self.older_size.lock() += old;
        let previous = std::mem::replace(&mut st.current, Arc::new(file));
        let selected = st.selected.take();
        st.before_cut = Some(BeforeCut {
            epoch,
            file: previous,
            selected,
        });
        st.incr_size = 0;
        Ok(info)
    }

    /// The rewrite's snapshot is over: no view older than its cut remains,
    /// so the file before the cut takes no more writes.
    pub fn end_cut(&self) {
        self.state.lock().before_cut = None;
    }

    /// Installs a rewritten base whose content reflects everything before
    /// incremental file `first_kept`: renames `tmp` (written and synced by
    /// the caller, in this AOF's directory) to the next base name, makes the
    /// manifest name it and the incremental files from `first_kept` on, and
    /// deletes the files it replaced.
    pub fn install_base(&self, tmp: &Path, rdb: bool, first_kept: &FileInfo) -> io::Result<()> {
        let mut m = self.manifest.lock();
        let seq = m.base.as_ref().map_or(0, |b| b.seq) + 1;
        let ext = if rdb { "rdb" } else { "aof" };
        let name = format!("{}.{seq}.base.{ext}", self.cfg.basename);
        let size = fs::metadata(tmp)?.len();
        fs::rename(tmp, self.cfg.dir.join(&name))?;
        let mut next = m.clone();
        let mut dropped: Vec<FileInfo> = next.base.take().into_iter().collect();
        next.base = Some(FileInfo {
            name,
            seq,
            kind: Kind::Base,
        });
        let (old, kept): (Vec<FileInfo>, Vec<FileInfo>) =
            next.incrs.into_iter().partition(|f| f.seq < first_kept.seq);
        dropped.extend(old);
        next.incrs = kept;
        write_manifest(&self.cfg, &next)?;
        *m = next;
        for f in dropped {
            let _ = fs::remove_file(self.cfg.dir.join(&f.name));
        }
        *self.base_size.lock() = size;
        *self.older_size.lock() = size;
        Ok(())
    }

    /// Where a rewrite writes its base before [`Aof::install_base`].
    pub fn temp_base_path(&self) -> PathBuf {
        self.cfg
            .dir
            .join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()))
    }
}

/// The text Redis's strerror gives for the common write errors.
fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    // Rust appends " (os error N)"; Redis prints strerror alone.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

// ---------------------------------------------------------------------------
// Rewrite: a base in AOF format

/// Appends the commands that rebuild `key` holding `value` (with its
/// deadline) to `out`.
pub fn rewrite_entry(out: &mut Vec<u8>, key: &[u8], value: &storage::Value, deadline: Option<i64>) {
    use storage::Value;
    const BATCH: usize = 64;
    let key = Bytes::copy_from_slice(key);
    let b = |s: &'static str| Bytes::from_static(s.as_bytes());
    let batched = |out: &mut Vec<u8>, cmd: &'static str, items: Vec<Bytes>, per: usize| {
        for chunk in items.chunks(BATCH * per) {
            let mut args = vec![b(cmd), key.clone()];
            args.extend_from_slice(chunk);
            encode_command(out, &args);
        }
    };
    match value {
        Value::Str(s) => encode_command(out, &[b("SET"), key.clone(), s.to_bytes()]),
        Value::List(l) => {
            let items: Vec<Bytes> = l.iter().map(|e| e.to_bytes()).collect();
            batched(out, "RPUSH", items, 1);
        }
        Value::Set(s) => {
            let items: Vec<Bytes> = s.members().collect();
            batched(out, "SADD", items, 1);
        }
        Value::Hash(h) => {
            let mut items = Vec::new();
            for (f, v) in h.iter() {
                items.push(Bytes::copy_from_slice(f));
                items.push(Bytes::copy_from_slice(v));
            }
            batched(out, "HSET", items, 2);
        }
        Value::ZSet(z) => {
            let mut items = Vec::new();
            for (m, score) in z.iter() {
                items.push(Bytes::from(format_score(score)));
                items.push(Bytes::copy_from_slice(m));
            }
            batched(out, "ZADD", items, 2);
        }
    }
    if let Some(at) = deadline {
        encode_command(out, &[b("PEXPIREAT"), key, Bytes::from(at.to_string())]);
    }
}

fn format_score(s: f64) -> String {
    if s == f64::INFINITY {
        "inf".into()
    } else if s == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        // Rust's shortest round-trip representation parses back exactly.
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn manifest_round_trips_redis_syntax() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\n\
                    file appendonly.aof.1.incr.aof seq 1 type i\n\
                    file appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.render(), text);
        assert!(Manifest::parse("file x seq 1\n").is_err());
        assert!(Manifest::parse("file a seq 2 type i\nfile b seq 1 type i\n").is_err());
    }

    #[test]
    fn reads_commands_and_reports_truncation_and_corruption() {
        let mut data = Vec::new();
        encode_command(&mut data, &args(&["SET", "a", "1"]));
        let whole = data.len();
        encode_command(&mut data, &args(&["MULTI"]));
        encode_command(&mut data, &args(&["INCR", "a"]));
        let mut seen = Vec::new();
        let end = read_commands(&data, &mut |a| {
            seen.push(a);
            Ok(())
        })
        .unwrap();
        // A MULTI without EXEC at the end is cut back to before the MULTI.
        assert_eq!(
            end,
            ReadEnd::Truncated {
                valid: whole as u64
            }
        );
        assert_eq!(seen.len(), 3);

        let mut cut = Vec::new();
        encode_command(&mut cut, &args(&["SET", "a", "1"]));
        encode_command(&mut cut, &args(&["SET", "b", "2"]));
        let n = cut.len();
        let end = read_commands(&cut[..n - 3], &mut |_| Ok(())).unwrap();
        assert_eq!(
            end,
            ReadEnd::Truncated {
                valid: whole as u64
            }
        );

        let mut bad = Vec::new();
        encode_command(&mut bad, &args(&["SET", "a", "1"]));
        bad.extend_from_slice(b"garbage\r\n");
        let end = read_commands(&bad, &mut |_| Ok(())).unwrap();
        assert_eq!(
            end,
            ReadEnd::Corrupt {
                offset: whole as u64
            }
        );
    }

    #[test]
    fn strerror_drops_the_os_error_suffix() {
        let e = io::Error::from_raw_os_error(28);
        assert_eq!(strerror(&e), "No space left on device");
    }

    #[test]
    fn writes_before_a_rewrites_cut_stay_in_the_old_file() {
        let dir = std::env::temp_dir().join(format!("ferrum-aof-cut-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let cfg = Config {
            dir: dir.clone(),
            basename: "appendonly.aof".into(),
            fsync: Fsync::Always,
            load_truncated: false,
        };
        let aof = Aof::open(cfg, &Loaded::default()).unwrap();
        let set = |k: &str| args(&["SET", k, "1"]);
        aof.append(3, [(0, &set("a")[..])]);
        let new = aof.start_new_incr_at(4).unwrap();
        assert_eq!(new.name, "appendonly.aof.2.incr.aof");
        // The manifest names the new file at once.
        let m = fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap();
        assert!(m.contains("appendonly.aof.2.incr.aof seq 2 type i"), "{m}");
        // A view older than the cut still writes to the old file (in db 1:
        // each file tracks its own SELECT); views of the cut's epoch or
        // later go to the new one.
        aof.append(3, [(1, &set("b")[..])]);
        aof.append(4, [(1, &set("c")[..])]);
        aof.append(5, [(0, &set("d")[..])]);
        aof.end_cut();
        let last = aof.append(3, [(0, &set("e")[..])]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while aof.progress().synced < last {
            assert!(Instant::now() < deadline, "the writer did not catch up");
            std::thread::sleep(Duration::from_millis(5));
        }
        aof.close();
        let read = |name: &str| {
            let data = fs::read(dir.join(name)).unwrap();
            let mut cmds = Vec::new();
            read_commands(&data, &mut |a| {
                cmds.push(
                    a.iter()
                        .map(|x| String::from_utf8_lossy(x).into_owned())
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                Ok(())
            })
            .unwrap();
            cmds
        };
        assert_eq!(
            read("appendonly.aof.1.incr.aof"),
            ["SELECT 0", "SET a 1", "SELECT 1", "SET b 1"]
        );
        assert_eq!(
            read("appendonly.aof.2.incr.aof"),
            ["SELECT 1", "SET c 1", "SELECT 0", "SET d 1", "SET e 1"]
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
