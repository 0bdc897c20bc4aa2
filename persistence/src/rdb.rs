//! Redis's RDB snapshot format, version 11 (Redis 7.2).
//!
//! A file is `REDIS0011`, auxiliary fields, then per database a `SELECTDB` and
//! a `RESIZEDB` opcode followed by its keys, each optionally preceded by
//! `EXPIRETIME_MS`, `IDLE` or `FREQ`, then `EOF` and a little-endian CRC-64
//! of everything before it (zero when written with `rdbchecksum no`, which
//! the reader, as Redis's, takes as "not checked"). A key is a type byte, the
//! key as a string and the value in the type's encoding:
//!
//! | type | value |
//! |---|---|
//! | 0 string | string (integer, LZF-compressed or raw) |
//! | 18 quicklist 2 | node count, then per node a container (1 plain, 2 packed) and a string (element or listpack) |
//! | 4 hash / 16 hash listpack | count and field/value strings / a listpack of alternating fields and values |
//! | 2 set / 11 intset / 20 set listpack | count and members / an intset blob / a listpack |
//! | 5 zset 2 / 17 zset listpack | count, member strings and binary doubles / a listpack of alternating members and scores |
//!
//! The reader also takes what Redis 2.x to 7.0 wrote: plain lists (1), zsets
//! with text scores (3), zipmap hashes (9), ziplist lists, zsets and hashes
//! (10, 12, 13) and quicklists of ziplists (14). Streams, modules and
//! functions are refused with a clear error.
//!
//! A DUMP payload is one value in the same encoding (type byte first),
//! followed by the RDB version (2 bytes, little-endian) and the CRC-64 of
//! everything before it.

use std::io::{self, Read, Write};

use storage::hash::Hash;
use storage::list::List;
use storage::set::Set;
use storage::value::parse_canonical_i64;
use storage::zset::ZSet;
use storage::{LimitValues, Store, Value};

use crate::crc::crc64;
use crate::encodings::{
    intset_encode, intset_members, listpack_items, ziplist_items, zipmap_pairs, Item,
    ListpackBuilder,
};
use crate::lzf;

/// The format version this writer produces by default (Redis 7.2).
pub const RDB_VERSION: u16 = 11;
/// The oldest format version the reader accepts.
pub const MIN_RDB_VERSION: u16 = 1;

// Opcodes.
const OP_FUNCTION2: u8 = 0xF6;
const OP_FUNCTION_PRE_GA: u8 = 0xF5;
const OP_MODULE_AUX: u8 = 0xF7;
const OP_IDLE: u8 = 0xF8;
const OP_FREQ: u8 = 0xF9;
const OP_AUX: u8 = 0xFA;
const OP_RESIZEDB: u8 = 0xFB;
const OP_EXPIRETIME_MS: u8 = 0xFC;
const OP_EXPIRETIME: u8 = 0xFD;
const OP_SELECTDB: u8 = 0xFE;
const OP_EOF: u8 = 0xFF;

// Value types.
const T_STRING: u8 = 0;
const T_LIST: u8 = 1;
const T_SET: u8 = 2;
const T_ZSET: u8 = 3;
const T_HASH: u8 = 4;
const T_ZSET_2: u8 = 5;
const T_MODULE_PRE_GA: u8 = 6;
const T_MODULE_2: u8 = 7;
const T_HASH_ZIPMAP: u8 = 9;
const T_LIST_ZIPLIST: u8 = 10;
const T_SET_INTSET: u8 = 11;
const T_ZSET_ZIPLIST: u8 = 12;
const T_HASH_ZIPLIST: u8 = 13;
const T_LIST_QUICKLIST: u8 = 14;
const T_STREAM_LISTPACKS: u8 = 15;
const T_HASH_LISTPACK: u8 = 16;
const T_ZSET_LISTPACK: u8 = 17;
const T_LIST_QUICKLIST_2: u8 = 18;
const T_STREAM_LISTPACKS_2: u8 = 19;
const T_SET_LISTPACK: u8 = 20;
const T_STREAM_LISTPACKS_3: u8 = 21;

// Special string encodings (length byte `11xxxxxx`).
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

// Quicklist 2 node containers.
const QL_PLAIN: u64 = 1;
const QL_PACKED: u64 = 2;

/// Why an RDB file or DUMP payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RdbError {
    #[error("I/O error: {0}")]
    Io(io::Error),
    #[error("unexpected end of file: the RDB file is truncated")]
    Truncated,
    #[error("not an RDB file (wrong signature)")]
    BadMagic,
    #[error("can't handle RDB format version {0}")]
    Version(u16),
    #[error("wrong RDB checksum: expected {expected:#018x}, computed {computed:#018x}")]
    Checksum { expected: u64, computed: u64 },
    #[error("unsupported value type {0} ({1})")]
    Unsupported(u8, &'static str),
    #[error("corrupt RDB: {0}")]
    Corrupt(String),
    #[error("database index {0} out of range (this server has {1} databases)")]
    DbRange(usize, usize),
    #[error("DUMP payload version or checksum are wrong")]
    BadPayload,
}

impl From<io::Error> for RdbError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            RdbError::Truncated
        } else {
            RdbError::Io(e)
        }
    }
}

fn corrupt(what: impl Into<String>) -> RdbError {
    RdbError::Corrupt(what.into())
}

// ---------------------------------------------------------------------------
// Encoding

/// Appends an RDB length: 6 bits, 14 bits, or a marker and 32 or 64 bits
/// big-endian.
fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a string as Redis would: as an 8, 16 or 32-bit integer when it is
/// one in canonical form, else LZF-compressed when that saves space, else raw.
fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = parse_canonical_i64(s) {
            if put_int(out, v) {
                return;
            }
        }
    }
    put_blob(out, s, compress);
}

/// Appends an integer in the string integer encodings; false if it needs
/// more than 32 bits.
fn put_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[0xC0 | ENC_INT8, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xC0 | ENC_INT16);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xC0 | ENC_INT32);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends bytes that are never an integer (listpacks, intsets), compressed
/// when long and compressible.
fn put_blob(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if compress && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xC0 | ENC_LZF);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A score as text in a listpack: an integer when it is one, else the
/// shortest text that reads back to the same double (`inf`, `-inf` included).
fn push_score(lp: &mut ListpackBuilder, s: f64) {
    // As Redis's zzlInsertAt: the score spelled by d2string, which the
    // listpack then stores as an integer when it reads as one.
    let mut buf = [0u8; 40];
    lp.push(resp::double::format_double(s, &mut buf));
}

/// Largest listpack node a list of fill `fill` holds, in bytes and entries
/// (Redis's `list-max-listpack-size`: negative selects 4..64 KB, positive an
/// entry count under an 8 KB safety limit).
fn node_limits(fill: i64) -> (usize, usize) {
    match fill {
        f if f < 0 => {
            let idx = ((-f) as usize - 1).min(4);
            ([4096, 8192, 16384, 32768, 65536][idx], usize::MAX)
        }
        0 => (8192, 1),
        f => (8192, f as usize),
    }
}

/// Options of the value encoder.
#[derive(Debug, Clone, Copy)]
struct EncodeOpts {
    version: u16,
    compress: bool,
    list_fill: i64,
}

/// Appends `value`'s encoding and returns its type byte.
fn encode_value(out: &mut Vec<u8>, value: &Value, o: EncodeOpts) -> u8 {
    match value {
        Value::Str(s) => {
            match s {
                storage::StrValue::Int(n) if put_int(out, *n) => {}
                _ => s.with_bytes(|b| put_string(out, b, o.compress)),
            }
            T_STRING
        }
        Value::List(l) => {
            let (max_bytes, max_count) = node_limits(o.list_fill);
            let mut nodes: Vec<Vec<u8>> = Vec::new();
            let mut cur = ListpackBuilder::default();
            for e in l.iter() {
                e.with_bytes(|b| {
                    if cur.count() > 0
                        && (cur.count() >= max_count || cur.size() + b.len() + 11 > max_bytes)
                    {
                        nodes.push(std::mem::take(&mut cur).finish());
                    }
                    cur.push(b);
                });
            }
            if cur.count() > 0 {
                nodes.push(cur.finish());
            }
            put_len(out, nodes.len() as u64);
            for n in &nodes {
                put_len(out, QL_PACKED);
                put_blob(out, n, o.compress);
            }
            T_LIST_QUICKLIST_2
        }
        Value::Hash(h) => {
            if h.encoding() == "listpack" {
                let mut lp = ListpackBuilder::default();
                for (f, v) in h.iter() {
                    lp.push(f);
                    lp.push(v);
                }
                put_blob(out, &lp.finish(), o.compress);
                T_HASH_LISTPACK
            } else {
                put_len(out, h.len() as u64);
                for (f, v) in h.iter() {
                    put_string(out, f, o.compress);
                    put_string(out, v, o.compress);
                }
                T_HASH
            }
        }
        Value::Set(s) => match s.encoding() {
            "intset" => {
                let mut ints = Vec::with_capacity(s.len());
                s.for_each(|m| ints.push(parse_canonical_i64(m).unwrap_or_default()));
                ints.sort_unstable();
                put_blob(out, &intset_encode(&ints), o.compress);
                T_SET_INTSET
            }
            "listpack" if o.version >= 11 => {
                let mut lp = ListpackBuilder::default();
                s.for_each(|m| lp.push(m));
                put_blob(out, &lp.finish(), o.compress);
                T_SET_LISTPACK
            }
            _ => {
                put_len(out, s.len() as u64);
                s.for_each(|m| put_string(out, m, o.compress));
                T_SET
            }
        },
        Value::ZSet(z) => {
            if z.encoding() == "listpack" {
                let mut lp = ListpackBuilder::default();
                for (m, sc) in z.iter() {
                    lp.push(m);
                    push_score(&mut lp, sc);
                }
                put_blob(out, &lp.finish(), o.compress);
                T_ZSET_LISTPACK
            } else {
                // Highest score first, as Redis writes them: the loader then
                // inserts each member at the head of its skiplist.
                let all: Vec<(&[u8], f64)> = z.iter().collect();
                put_len(out, all.len() as u64);
                for (m, sc) in all.into_iter().rev() {
                    put_string(out, m, o.compress);
                    out.extend_from_slice(&sc.to_le_bytes());
                }
                T_ZSET_2
            }
        }
    }
}

/// The options of a save that Redis's configuration controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveOptions {
    /// `rdbcompression`: long strings (and listpacks, intsets) are
    /// LZF-compressed when that saves space.
    pub compression: bool,
    /// `rdbchecksum`: the file ends with the CRC-64 of its contents; off, it
    /// ends with 8 zero bytes, which loaders (Redis's and ours) take as "not
    /// checked".
    pub checksum: bool,
}

impl Default for SaveOptions {
    /// Redis's defaults: both on.
    fn default() -> Self {
        SaveOptions {
            compression: true,
            checksum: true,
        }
    }
}

/// Writes an RDB file.
///
/// Usage: `new`, `write_header`, then per non-empty database `select_db` and
/// its keys with `write_entry`, then `finish`, which appends EOF and the
/// checksum and returns the inner writer (flushed, not synced).
#[derive(Debug)]
pub struct Writer<W: Write> {
    w: W,
    crc: u64,
    /// Whether the CRC-64 is computed and written by `finish` (else 0 is
    /// written). Off for fragments: the writer that appends them checksums
    /// them.
    checksum: bool,
    opts: EncodeOpts,
    buf: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// A writer of format version 11 (Redis 7.2), LZF compression on.
    pub fn new(w: W) -> Writer<W> {
        Writer::with_version(w, RDB_VERSION)
    }

    /// A writer of an older format version, for older Redis servers: version
    /// 10 (Redis 7.0) writes listpack sets as plain sets. Versions below 10
    /// would need ziplists and are not produced; they are clamped to 10.
    pub fn with_version(w: W, version: u16) -> Writer<W> {
        Writer {
            w,
            crc: 0,
            checksum: true,
            opts: EncodeOpts {
                version: version.clamp(10, RDB_VERSION),
                compress: true,
                list_fill: -2,
            },
            buf: Vec::new(),
        }
    }

    /// `rdbcompression`: whether long strings are LZF-compressed.
    pub fn set_compression(&mut self, on: bool) {
        self.opts.compress = on;
    }

    /// `rdbchecksum`: whether [`Writer::finish`] writes the CRC-64 of the
    /// file, or 8 zero bytes as Redis does with `rdbchecksum no` (the CRC is
    /// then not computed at all). Set it before writing anything.
    pub fn set_checksum(&mut self, on: bool) {
        self.checksum = on;
    }

    /// Both `rdbcompression` and `rdbchecksum`.
    pub fn set_options(&mut self, o: SaveOptions) {
        self.set_compression(o.compression);
        self.set_checksum(o.checksum);
    }

    /// `list-max-listpack-size`: how list nodes are cut in the file.
    pub fn set_list_fill(&mut self, fill: i64) {
        self.opts.list_fill = fill;
    }

    /// A writer of records only, for another writer's
    /// [`Writer::write_raw`]: no header, no checksum of its own.
    pub fn fragment(w: W) -> Writer<W> {
        let mut f = Writer::new(w);
        f.checksum = false;
        f
    }

    fn emit(&mut self) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64(self.crc, &self.buf);
        }
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// The signature and the auxiliary fields (see [`default_aux`]).
    pub fn write_header(&mut self, aux: &[(&str, Vec<u8>)]) -> io::Result<()> {
        self.buf
            .extend_from_slice(format!("REDIS{:04}", self.opts.version).as_bytes());
        for (k, v) in aux {
            self.buf.push(OP_AUX);
            put_string(&mut self.buf, k.as_bytes(), false);
            put_string(&mut self.buf, v, false);
        }
        self.emit()
    }

    /// Starts database `db`, announcing its key and volatile key counts
    /// (a hint for the loader's table sizes).
    pub fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        self.buf.push(OP_SELECTDB);
        put_len(&mut self.buf, db as u64);
        self.buf.push(OP_RESIZEDB);
        put_len(&mut self.buf, keys);
        put_len(&mut self.buf, expires);
        self.emit()
    }

    /// Switches to database `db` without a size hint (a loader reads many
    /// such records for one database as one).
    pub fn select_db_only(&mut self, db: usize) -> io::Result<()> {
        self.buf.push(OP_SELECTDB);
        put_len(&mut self.buf, db as u64);
        self.emit()
    }

    /// One key, with its deadline in Unix milliseconds.
    pub fn write_entry(
        &mut self,
        key: &[u8],
        value: &Value,
        expire_ms: Option<i64>,
    ) -> io::Result<()> {
        self.write_entry_with_meta(key, value, expire_ms, None, None)
    }

    /// One key with eviction metadata too: idle seconds (LRU policies) or the
    /// LFU counter, as Redis writes them when its policy uses them.
    pub fn write_entry_with_meta(
        &mut self,
        key: &[u8],
        value: &Value,
        expire_ms: Option<i64>,
        idle_secs: Option<u64>,
        freq: Option<u8>,
    ) -> io::Result<()> {
        if let Some(at) = expire_ms {
            self.buf.push(OP_EXPIRETIME_MS);
            self.buf.extend_from_slice(&at.to_le_bytes());
        }
        if let Some(idle) = idle_secs {
            self.buf.push(OP_IDLE);
            put_len(&mut self.buf, idle);
        }
        if let Some(f) = freq {
            self.buf.extend_from_slice(&[OP_FREQ, f]);
        }
        let type_at = self.buf.len();
        self.buf.push(0);
        put_string(&mut self.buf, key, self.opts.compress);
        let ty = encode_value(&mut self.buf, value, self.opts);
        self.buf[type_at] = ty;
        self.emit()
    }

    /// Appends records encoded elsewhere (by a [`Writer::into_fragment`]
    /// writer) as they are, counting them in the checksum: BGSAVE encodes
    /// each shard into its own buffer, in whichever thread captures it, and
    /// appends the buffers to the file in turn.
    pub fn write_raw(&mut self, records: &[u8]) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64(self.crc, records);
        }
        self.w.write_all(records)
    }

    /// Returns the inner writer without EOF or checksum: the records written
    /// so far are a fragment for another writer's [`Writer::write_raw`].
    pub fn into_fragment(self) -> W {
        self.w
    }

    /// Appends EOF and the checksum (zero with the checksum off), flushes,
    /// and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.push(OP_EOF);
        self.emit()?;
        let crc = if self.checksum { self.crc } else { 0 };
        self.w.write_all(&crc.to_le_bytes())?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// The auxiliary fields Redis 7.2 writes: server version, pointer size,
/// creation time (Unix seconds), memory in use, and whether this is an AOF
/// preamble.
pub fn default_aux(used_mem: u64, aof_base: bool) -> Vec<(&'static str, Vec<u8>)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    vec![
        ("redis-ver", b"7.2.0".to_vec()),
        ("redis-bits", b"64".to_vec()),
        ("ctime", now.to_string().into_bytes()),
        ("used-mem", used_mem.to_string().into_bytes()),
        (
            "aof-base",
            if aof_base {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            },
        ),
    ]
}

/// Writes every live key of the locked view `locked` (which must hold every
/// shard of every database) as a complete RDB file: what SAVE does, with
/// `rdbcompression` and `rdbchecksum` from `opts`. Returns the inner writer
/// and the number of keys written.
pub fn write_store<W: Write>(
    w: W,
    locked: &mut storage::Locked<'_>,
    aux: &[(&str, Vec<u8>)],
    opts: SaveOptions,
) -> io::Result<(W, u64)> {
    let limits = locked.store().limits.get();
    let mut wr = Writer::new(w);
    wr.set_options(opts);
    wr.set_list_fill(limits.list_max_listpack_size);
    wr.write_header(aux)?;
    let mut total = 0;
    for db in 0..locked.store().databases() {
        let mut keys = 0u64;
        let mut expires = 0u64;
        locked.for_each_entry(db, |_, exp| {
            keys += 1;
            expires += u64::from(exp.is_some());
        });
        if keys == 0 {
            continue;
        }
        wr.select_db(db, keys, expires)?;
        let mut result = Ok(());
        locked.for_each_entry(db, |e, exp| {
            if result.is_ok() {
                result = wr.write_entry(e.key.as_bytes(), &e.value, exp);
            }
        });
        result?;
        total += keys;
    }
    Ok((wr.finish()?, total))
}

// ---------------------------------------------------------------------------
// Decoding

/// A reader that keeps the running checksum.
struct Src<R> {
    r: R,
    crc: u64,
}

impl<R: Read> Src<R> {
    fn exact<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        self.crc = crc64(self.crc, &b);
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.exact::<1>()?[0])
    }

    /// `n` bytes, without trusting `n` for the allocation (a corrupt length
    /// must end in an error, not an out-of-memory abort).
    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, RdbError> {
        let mut v = Vec::with_capacity(n.min(1 << 20) as usize);
        let got = (&mut self.r).take(n).read_to_end(&mut v)?;
        if (got as u64) < n {
            return Err(RdbError::Truncated);
        }
        self.crc = crc64(self.crc, &v);
        Ok(v)
    }

    /// A length, or for strings a special encoding (`Err(kind)` side).
    fn len_or_enc(&mut self) -> Result<Result<u64, u8>, RdbError> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Ok(u64::from(b & 0x3f)),
            1 => Ok((u64::from(b & 0x3f) << 8) | u64::from(self.u8()?)),
            2 => match b {
                0x80 => Ok(u64::from(u32::from_be_bytes(self.exact()?))),
                0x81 => Ok(u64::from_be_bytes(self.exact()?)),
                _ => return Err(corrupt(format!("unknown length encoding {b:#04x}"))),
            },
            _ => Err(b & 0x3f),
        })
    }

    fn len(&mut self) -> Result<u64, RdbError> {
        self.len_or_enc()?
            .map_err(|_| corrupt("string encoding where a length was expected"))
    }

    /// A count of elements, bounded so that a corrupt count fails on the
    /// data rather than on a giant allocation.
    fn count(&mut self) -> Result<usize, RdbError> {
        let n = self.len()?;
        usize::try_from(n).map_err(|_| corrupt("element count too large"))
    }

    fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_enc()? {
            Ok(n) => self.bytes(n),
            Err(ENC_INT8) => Ok((self.exact::<1>()?[0] as i8).to_string().into_bytes()),
            Err(ENC_INT16) => Ok(i16::from_le_bytes(self.exact()?).to_string().into_bytes()),
            Err(ENC_INT32) => Ok(i32::from_le_bytes(self.exact()?).to_string().into_bytes()),
            Err(ENC_LZF) => {
                let clen = self.len()?;
                let len = self.len()?;
                if len > 1 << 40 {
                    return Err(corrupt("LZF string too long"));
                }
                let c = self.bytes(clen)?;
                lzf::decompress(&c, len as usize).map_err(corrupt)
            }
            Err(e) => Err(corrupt(format!("unknown string encoding {e}"))),
        }
    }

    /// A score in the old text form: length byte (253 NaN, 254 +inf,
    /// 255 -inf) and ASCII.
    fn text_double(&mut self) -> Result<f64, RdbError> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let b = self.bytes(u64::from(n))?;
                parse_score(&b)
            }
        }
    }

    fn binary_double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.exact()?))
    }
}

fn parse_score(b: &[u8]) -> Result<f64, RdbError> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or_else(|| corrupt("invalid score"))
}

fn item_score(i: Item) -> Result<f64, RdbError> {
    match i {
        Item::Int(n) => Ok(n as f64),
        Item::Str(s) => parse_score(&s),
    }
}

fn blob_err(e: &'static str) -> RdbError {
    corrupt(e)
}

fn build_list(items: Vec<Vec<u8>>, limits: &LimitValues) -> Option<Value> {
    if items.is_empty() {
        return None;
    }
    Some(Value::List(Box::new(List::from_items(
        &items,
        limits.list_max_listpack_size,
    ))))
}

fn build_hash(
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    limits: &LimitValues,
) -> Result<Option<Value>, RdbError> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut h = Hash::new();
    if pairs.len() > limits.hash_max_listpack_entries {
        h.convert_to_table();
    }
    for (f, v) in &pairs {
        if !h.set(f, v, limits) {
            return Err(corrupt("duplicate hash field"));
        }
    }
    Ok(Some(Value::Hash(Box::new(h))))
}

/// Which compact encoding a set came in, which Redis keeps when it fits.
#[derive(Clone, Copy, PartialEq)]
enum SetSource {
    Plain,
    Intset,
    Listpack,
}

fn build_set(
    members: Vec<Vec<u8>>,
    src: SetSource,
    limits: &LimitValues,
) -> Result<Option<Value>, RdbError> {
    let Some(first) = members.first() else {
        return Ok(None);
    };
    let n = members.len();
    let mut s = match src {
        SetSource::Plain => Set::create(first, n, limits),
        SetSource::Intset if n <= limits.set_max_intset_entries => Set::new_intset(),
        SetSource::Listpack if n <= limits.set_max_listpack_entries => Set::new_listpack(),
        _ => Set::new_hashtable(n),
    };
    for m in &members {
        if !s.add(m, limits) {
            return Err(corrupt("duplicate set member"));
        }
    }
    Ok(Some(Value::Set(Box::new(s))))
}

fn build_zset(pairs: Vec<(Vec<u8>, f64)>, limits: &LimitValues) -> Result<Option<Value>, RdbError> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    for (m, s) in &pairs {
        if s.is_nan() {
            return Err(corrupt("NaN score in a sorted set"));
        }
        if !seen.insert(m.as_slice()) {
            return Err(corrupt("duplicate sorted set member"));
        }
    }
    let z = ZSet::from_members(pairs.iter().map(|(m, s)| (m.as_slice(), *s)), limits);
    Ok(Some(Value::ZSet(Box::new(z))))
}

fn pairs<T>(
    items: Vec<Item>,
    mut second: impl FnMut(Item) -> Result<T, RdbError>,
) -> Result<Vec<(Vec<u8>, T)>, RdbError> {
    if !items.len().is_multiple_of(2) {
        return Err(corrupt("odd number of elements in a pair encoding"));
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a.into_bytes(), second(b)?));
    }
    Ok(out)
}

/// Reads a value of type `ty`. `None` for an empty collection (Redis skips
/// those keys too).
fn read_value<R: Read>(
    src: &mut Src<R>,
    ty: u8,
    limits: &LimitValues,
) -> Result<Option<Value>, RdbError> {
    let bytes_items =
        |items: Vec<Item>| items.into_iter().map(Item::into_bytes).collect::<Vec<_>>();
    match ty {
        T_STRING => {
            let s = src.string()?;
            Ok(Some(Value::string(&s)))
        }
        T_LIST => {
            let n = src.count()?;
            let mut items = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                items.push(src.string()?);
            }
            Ok(build_list(items, limits))
        }
        T_LIST_ZIPLIST => {
            let blob = src.string()?;
            Ok(build_list(
                bytes_items(ziplist_items(&blob).map_err(blob_err)?),
                limits,
            ))
        }
        T_LIST_QUICKLIST | T_LIST_QUICKLIST_2 => {
            let nodes = src.count()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                if ty == T_LIST_QUICKLIST {
                    let blob = src.string()?;
                    items.extend(bytes_items(ziplist_items(&blob).map_err(blob_err)?));
                    continue;
                }
                let container = src.len()?;
                let blob = src.string()?;
                match container {
                    QL_PLAIN => items.push(blob),
                    QL_PACKED => {
                        items.extend(bytes_items(listpack_items(&blob).map_err(blob_err)?))
                    }
                    _ => return Err(corrupt("unknown quicklist node container")),
                }
            }
            Ok(build_list(items, limits))
        }
        T_SET => {
            let n = src.count()?;
            let mut members = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                members.push(src.string()?);
            }
            build_set(members, SetSource::Plain, limits)
        }
        T_SET_INTSET => {
            let blob = src.string()?;
            let members = intset_members(&blob).map_err(blob_err)?;
            let members = members
                .into_iter()
                .map(|v| v.to_string().into_bytes())
                .collect();
            build_set(members, SetSource::Intset, limits)
        }
        T_SET_LISTPACK => {
            let blob = src.string()?;
            let members = bytes_items(listpack_items(&blob).map_err(blob_err)?);
            build_set(members, SetSource::Listpack, limits)
        }
        T_ZSET | T_ZSET_2 => {
            let n = src.count()?;
            let mut out = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let m = src.string()?;
                let s = if ty == T_ZSET_2 {
                    src.binary_double()?
                } else {
                    src.text_double()?
                };
                out.push((m, s));
            }
            build_zset(out, limits)
        }
        T_ZSET_ZIPLIST | T_ZSET_LISTPACK => {
            let blob = src.string()?;
            let items = if ty == T_ZSET_ZIPLIST {
                ziplist_items(&blob)
            } else {
                listpack_items(&blob)
            }
            .map_err(blob_err)?;
            build_zset(pairs(items, item_score)?, limits)
        }
        T_HASH => {
            let n = src.count()?;
            let mut out = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let f = src.string()?;
                let v = src.string()?;
                out.push((f, v));
            }
            build_hash(out, limits)
        }
        T_HASH_ZIPMAP => {
            let blob = src.string()?;
            build_hash(zipmap_pairs(&blob).map_err(blob_err)?, limits)
        }
        T_HASH_ZIPLIST | T_HASH_LISTPACK => {
            let blob = src.string()?;
            let items = if ty == T_HASH_ZIPLIST {
                ziplist_items(&blob)
            } else {
                listpack_items(&blob)
            }
            .map_err(blob_err)?;
            build_hash(pairs(items, |i| Ok(i.into_bytes()))?, limits)
        }
        T_STREAM_LISTPACKS | T_STREAM_LISTPACKS_2 | T_STREAM_LISTPACKS_3 => {
            Err(RdbError::Unsupported(ty, "stream"))
        }
        T_MODULE_PRE_GA | T_MODULE_2 => Err(RdbError::Unsupported(ty, "module")),
        _ => Err(RdbError::Unsupported(ty, "unknown")),
    }
}

/// One key read from a file.
#[derive(Debug)]
pub struct LoadedEntry {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: Value,
    /// Deadline in Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// Seconds since last access (IDLE), when the file has it.
    pub idle_secs: Option<u64>,
    /// LFU counter (FREQ), when the file has it.
    pub freq: Option<u8>,
}

/// What a load found.
#[derive(Debug, Default, Clone)]
pub struct LoadStats {
    /// The file's format version.
    pub version: u16,
    /// Keys read from the file (including those skipped as already expired).
    pub keys: u64,
    /// Keys read that carried a deadline.
    pub expires: u64,
    /// Keys not stored because their deadline had passed.
    pub expired_skipped: u64,
    /// Collections that were empty in the file, skipped as Redis does.
    pub empty_skipped: u64,
    /// The auxiliary fields, in file order.
    pub aux: Vec<(String, Vec<u8>)>,
}

/// Reads a complete RDB file, calling `sink` for every key, and checks the
/// checksum at the end. Values are built in the encodings `limits` call for.
///
/// A sink that keeps entries must not treat them as final before this
/// returns `Ok`: a later corruption or a wrong checksum fails the whole load.
pub fn load_with(
    reader: impl Read,
    limits: &LimitValues,
    mut sink: impl FnMut(LoadedEntry) -> Result<(), RdbError>,
) -> Result<LoadStats, RdbError> {
    let mut src = Src {
        r: io::BufReader::with_capacity(1 << 16, reader),
        crc: 0,
    };
    let magic: [u8; 9] = src.exact()?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError::BadMagic);
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or(RdbError::BadMagic)?;
    if !(MIN_RDB_VERSION..=RDB_VERSION).contains(&version) {
        return Err(RdbError::Version(version));
    }
    let mut stats = LoadStats {
        version,
        ..LoadStats::default()
    };
    let mut db = 0usize;
    let mut expire: Option<i64> = None;
    let mut idle: Option<u64> = None;
    let mut freq: Option<u8> = None;
    loop {
        let op = src.u8()?;
        match op {
            OP_EXPIRETIME => {
                expire = Some(i64::from(i32::from_le_bytes(src.exact()?)) * 1000);
            }
            OP_EXPIRETIME_MS => expire = Some(i64::from_le_bytes(src.exact()?)),
            OP_FREQ => freq = Some(src.u8()?),
            OP_IDLE => idle = Some(src.len()?),
            OP_SELECTDB => {
                db =
                    usize::try_from(src.len()?).map_err(|_| corrupt("database index too large"))?;
            }
            OP_RESIZEDB => {
                src.len()?;
                src.len()?;
            }
            OP_AUX => {
                let k = src.string()?;
                let v = src.string()?;
                stats
                    .aux
                    .push((String::from_utf8_lossy(&k).into_owned(), v));
            }
            OP_MODULE_AUX => return Err(RdbError::Unsupported(op, "module auxiliary data")),
            OP_FUNCTION2 | OP_FUNCTION_PRE_GA => {
                return Err(RdbError::Unsupported(op, "functions"))
            }
            OP_EOF => break,
            ty => {
                let key = src.string()?;
                let value = read_value(&mut src, ty, limits)?;
                stats.keys += 1;
                stats.expires += u64::from(expire.is_some());
                match value {
                    Some(value) => sink(LoadedEntry {
                        db,
                        key,
                        value,
                        expire_ms: expire,
                        idle_secs: idle,
                        freq,
                    })?,
                    None => stats.empty_skipped += 1,
                }
                expire = None;
                idle = None;
                freq = None;
            }
        }
    }
    if version >= 5 {
        let computed = src.crc;
        let mut b = [0u8; 8];
        src.r.read_exact(&mut b)?;
        let expected = u64::from_le_bytes(b);
        // Redis writes 0 when `rdbchecksum` is off.
        if expected != 0 && expected != computed {
            return Err(RdbError::Checksum { expected, computed });
        }
    }
    Ok(stats)
}

/// Loads a complete RDB file into `store`, replacing its contents.
///
/// The file is read and checked to the end before the store is touched, so
/// a corrupt or truncated file leaves the store as it was. Then, holding
/// every shard, the databases are emptied and filled: no client sees a half
/// loaded keyspace. Keys whose deadline has passed are skipped.
pub fn load(reader: impl Read, store: &Store) -> Result<LoadStats, RdbError> {
    let limits = store.limits.get();
    let dbs = store.databases();
    let mut entries = Vec::new();
    let mut stats = load_with(reader, &limits, |e| {
        if e.db >= dbs {
            return Err(RdbError::DbRange(e.db, dbs));
        }
        entries.push(e);
        Ok(())
    })?;
    let mut locked = store.lock_all();
    for db in 0..dbs {
        locked.clear_db(db);
    }
    let now = locked.now;
    for e in entries {
        if e.expire_ms.is_some_and(|at| at < now) {
            stats.expired_skipped += 1;
            continue;
        }
        locked.set_with_expire(e.db, &e.key, e.value, e.expire_ms);
        if let Some(idle) = e.idle_secs {
            if let Some(entry) = locked.get(e.db, &e.key) {
                let ms = now.saturating_sub(
                    i64::try_from(idle)
                        .unwrap_or(i64::MAX / 2)
                        .saturating_mul(1000),
                );
                entry.lru = storage::keyspace::lru_clock(ms);
            }
        }
    }
    Ok(stats)
}

// ---------------------------------------------------------------------------
// DUMP / RESTORE

/// The DUMP payload of `value`, in format version 11.
pub fn dump_payload(value: &Value) -> Vec<u8> {
    dump_payload_version(value, RDB_VERSION)
}

/// The DUMP payload of `value` for a server that reads format `version`
/// (10 for Redis 7.0).
pub fn dump_payload_version(value: &Value, version: u16) -> Vec<u8> {
    dump_payload_with(value, version, true)
}

/// The DUMP payload of `value` in format `version`, with long strings
/// LZF-compressed only if `compress` (`rdbcompression`, which Redis's DUMP
/// follows too). The CRC-64 footer is always written: `rdbchecksum` does not
/// apply to DUMP payloads.
pub fn dump_payload_with(value: &Value, version: u16, compress: bool) -> Vec<u8> {
    let opts = EncodeOpts {
        version: version.clamp(10, RDB_VERSION),
        compress,
        list_fill: -2,
    };
    let mut out = vec![0u8];
    out[0] = encode_value(&mut out, value, opts);
    out.extend_from_slice(&opts.version.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes a DUMP payload with Redis's default encoding thresholds.
pub fn restore_payload(data: &[u8]) -> Result<Value, RdbError> {
    restore_payload_with(data, &LimitValues::default())
}

/// Decodes a DUMP payload: checks the footer's version and checksum
/// ([`RdbError::BadPayload`]), then the value ([`RdbError::Corrupt`] and
/// friends, RESTORE's "Bad data format").
pub fn restore_payload_with(data: &[u8], limits: &LimitValues) -> Result<Value, RdbError> {
    if data.len() < 10 {
        return Err(RdbError::BadPayload);
    }
    let (body, footer) = data.split_at(data.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > RDB_VERSION {
        return Err(RdbError::BadPayload);
    }
    let expected = u64::from_le_bytes(footer.try_into().map_err(|_| RdbError::BadPayload)?);
    // Always checked, as Redis's verifyDumpPayload does (unlike an RDB
    // file, a zero footer is no exemption).
    if crc64(0, body) != expected {
        return Err(RdbError::BadPayload);
    }
    let value_bytes = &body[..body.len() - 2];
    let mut src = Src {
        r: value_bytes,
        crc: 0,
    };
    let ty = src.u8()?;
    let v = read_value(&mut src, ty, limits)?.ok_or_else(|| corrupt("empty collection"))?;
    if !src.r.is_empty() {
        return Err(corrupt("trailing bytes after the value"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
