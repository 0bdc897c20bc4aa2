//! String commands (the `string` group): GET, SET and its variants, counters,
//! ranges, APPEND and LCS.
//!
//! Every reply, error text and the order of the checks follow Redis 7.2's
//! `t_string.c`: for example SET validates its expire time before looking at
//! the key, while GETEX looks the key up first and only then validates it.

pub(crate) mod longdouble;

use bytes::Bytes;
use resp::Reply;
use storage::value::{HeapStr, EMBSTR_LIMIT, INLINE_STR};
use storage::{Locked, StrValue, Value};

use crate::command;
use crate::ctx::Ctx;
use crate::error::{self, err, CmdResult, NOT_FLOAT, OVERFLOW, STRING_TOO_LONG, SYNTAX, WRONGTYPE};
use crate::notify::class;
use crate::parse;

use longdouble::LongDouble;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Unwraps a handler step, returning its error reply from the handler.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

/// The string value at `key` for reading (Redis's lookupKeyRead: counts a hit
/// or a miss), copied out cheaply: heap strings are shared by reference count.
fn read_string(ctx: &mut Ctx, key: &[u8]) -> CmdResult<Option<Bytes>> {
    let db = ctx.db();
    match ctx.ks.get_read(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Some(s.to_bytes())),
            #[allow(unreachable_patterns)]
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// The string value at `key` for writing (Redis's lookupKeyWrite: no hit or
/// miss counted), or WRONGTYPE when the key holds another type.
fn write_string<'a>(
    ks: &'a mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> CmdResult<Option<&'a mut StrValue>> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Str(s) => Ok(Some(s)),
            #[allow(unreachable_patterns)]
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// A string as Redis's `createStringObject` builds it: never `int`-encoded
/// (INCRBYFLOAT's result is `embstr` even when it reads "3").
fn plain_string(b: &[u8]) -> StrValue {
    if b.len() <= INLINE_STR {
        let mut data = [0u8; INLINE_STR];
        data[..b.len()].copy_from_slice(b);
        StrValue::Inline {
            len: b.len() as u8,
            data,
        }
    } else {
        StrValue::Heap(HeapStr::new(b, b.len() > EMBSTR_LIMIT))
    }
}

/// The configured `proto-max-bulk-len`: the largest string a command may build.
fn max_string(ctx: &Ctx) -> u64 {
    ctx.server.config.read(|v| v.proto_max_bulk_len)
}

/// Redis's checkStringLength: `size + append` must neither overflow nor pass
/// `max`.
fn check_length(max: u64, size: i64, append: usize) -> CmdResult<()> {
    match size.checked_add(append as i64) {
        Some(total) if total as u64 <= max => Ok(()),
        _ => Err(err(STRING_TOO_LONG)),
    }
}

// ---------------------------------------------------------------------------
// Extended SET / GETEX options
// ---------------------------------------------------------------------------

const OPT_NX: u32 = 1;
const OPT_XX: u32 = 1 << 1;
const OPT_EX: u32 = 1 << 2;
const OPT_PX: u32 = 1 << 3;
const OPT_KEEPTTL: u32 = 1 << 4;
const OPT_GET: u32 = 1 << 5;
const OPT_EXAT: u32 = 1 << 6;
const OPT_PXAT: u32 = 1 << 7;
const OPT_PERSIST: u32 = 1 << 8;

const ANY_EXPIRE: u32 = OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT;

/// Parsed SET/GETEX options: flags and the argument index of the expire time.
#[derive(Default)]
struct ExtOpts {
    flags: u32,
    expire: Option<usize>,
}

impl ExtOpts {
    fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
}

/// Parses SET's (`for_set`) or GETEX's options with Redis's rules: each
/// option is refused when a conflicting one came before it, repeats of the
/// same option are allowed (the last expire wins), and a time option needs
/// a following argument; anything else is a syntax error.
fn parse_ext_opts(args: &[Bytes], start: usize, for_set: bool) -> CmdResult<ExtOpts> {
    let mut o = ExtOpts::default();
    let mut j = start;
    while j < args.len() {
        let a = &args[j][..];
        let has_next = j + 1 < args.len();
        let f = o.flags;
        let (flag, takes_time) = if parse::eq(a, "nx") && f & OPT_XX == 0 && for_set {
            (OPT_NX, false)
        } else if parse::eq(a, "xx") && f & OPT_NX == 0 && for_set {
            (OPT_XX, false)
        } else if parse::eq(a, "get") && for_set {
            (OPT_GET, false)
        } else if parse::eq(a, "keepttl") && f & (OPT_PERSIST | ANY_EXPIRE) == 0 && for_set {
            (OPT_KEEPTTL, false)
        } else if parse::eq(a, "persist") && !for_set && f & (OPT_KEEPTTL | ANY_EXPIRE) == 0 {
            (OPT_PERSIST, false)
        } else if let Some(flag) = [
            ("ex", OPT_EX),
            ("px", OPT_PX),
            ("exat", OPT_EXAT),
            ("pxat", OPT_PXAT),
        ]
        .iter()
        .find(|(name, _)| parse::eq(a, name))
        .map(|&(_, flag)| flag)
        .filter(|&flag| f & (OPT_KEEPTTL | OPT_PERSIST | (ANY_EXPIRE & !flag)) == 0 && has_next)
        {
            (flag, true)
        } else {
            return Err(err(SYNTAX));
        };
        o.flags |= flag;
        if takes_time {
            o.expire = Some(j + 1);
            j += 1;
        }
        j += 1;
    }
    Ok(o)
}

/// Turns an expire argument into an absolute Unix time in ms, as Redis's
/// getExpireMillisecondsOrReply: the number must be positive, and neither the
/// conversion from seconds nor adding the current time may overflow.
fn expire_deadline(ctx: &Ctx, arg: &[u8], flags: u32) -> CmdResult<i64> {
    let invalid = || error::invalid_expire(&ctx.entry.full_name);
    let n = parse::int(arg)?;
    let seconds = flags & (OPT_EX | OPT_EXAT) != 0;
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        return Err(invalid());
    }
    let ms = if seconds { n * 1000 } else { n };
    let at = if flags & (OPT_EX | OPT_PX) != 0 {
        ms.checked_add(ctx.now()).ok_or_else(invalid)?
    } else {
        ms
    };
    if at <= 0 {
        return Err(invalid());
    }
    Ok(at)
}

// ---------------------------------------------------------------------------
// GET and friends
// ---------------------------------------------------------------------------

command!(GET, "Returns the string stored at a key.", get);

/// GET key
fn get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(read_string(ctx, &args[1])) {
        Some(b) => Reply::Bulk(b),
        None => Reply::Null,
    }
}

command!(
    GETDEL,
    "Returns the string stored at a key and deletes the key.",
    getdel
);

/// GETDEL key
fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(v) = tri!(read_string(ctx, &args[1])) else {
        return Reply::Null;
    };
    let db = ctx.db();
    if ctx.ks.remove(db, &args[1]).is_some() {
        ctx.signal(class::GENERIC, "del", &args[1]);
        ctx.dirty(1);
    }
    Reply::Bulk(v)
}

command!(
    GETEX,
    "Returns the string stored at a key and optionally changes or removes its expiry.",
    getex
);

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]
///
/// Unlike SET, the key is looked up before the expire time is validated, so
/// a missing key answers nil even with an invalid time. An absolute time that
/// has already passed deletes the key at once, as Redis does, rather than
/// leaving a stale key behind.
fn getex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = tri!(parse_ext_opts(args, 2, false));
    let Some(v) = tri!(read_string(ctx, &args[1])) else {
        return Reply::Null;
    };
    let db = ctx.db();
    let key = &args[1];
    if let Some(i) = opts.expire {
        let at = tri!(expire_deadline(ctx, &args[i], opts.flags));
        if opts.has(OPT_EXAT | OPT_PXAT) && at <= ctx.now() {
            ctx.ks.remove(db, key);
            ctx.signal(class::GENERIC, "del", key);
        } else {
            ctx.ks.set_expire(db, key, at);
            ctx.signal(class::GENERIC, "expire", key);
        }
        ctx.dirty(1);
    } else if opts.has(OPT_PERSIST) && ctx.ks.persist(db, key) {
        ctx.signal(class::GENERIC, "persist", key);
        ctx.dirty(1);
    }
    Reply::Bulk(v)
}

command!(
    GETSET,
    "Stores a string at a key and returns the previous string, clearing any expiry.",
    getset
);

/// GETSET key value
fn getset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let old = tri!(read_string(ctx, &args[1]));
    let db = ctx.db();
    let prev = ctx.ks.set(
        db,
        &args[1],
        Value::Str(StrValue::from_bytes(&args[2])),
        false,
    );
    if prev.is_none() {
        ctx.created(db, &args[1]);
    }
    ctx.signal(class::STRING, "set", &args[1]);
    ctx.dirty(1);
    old.map_or(Reply::Null, Reply::Bulk)
}

command!(
    MGET,
    "Returns the strings stored at several keys, nil for missing or non-string ones.",
    mget
);

/// MGET key [key ...]
///
/// A key of another type is not an error here: it reads as nil.
fn mget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let items = args[1..]
        .iter()
        .map(|k| match ctx.ks.get_read(db, k) {
            Some(e) => match &e.value {
                Value::Str(s) => Reply::Bulk(s.to_bytes()),
                #[allow(unreachable_patterns)]
                _ => Reply::Null,
            },
            None => Reply::Null,
        })
        .collect();
    Reply::Array(items)
}

command!(
    STRLEN,
    "Returns the length in bytes of the string stored at a key.",
    strlen
);

/// STRLEN key
fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    match ctx.ks.get_read(db, &args[1]) {
        None => Reply::Integer(0),
        Some(e) => match &e.value {
            Value::Str(s) => Reply::Integer(s.len() as i64),
            #[allow(unreachable_patterns)]
            _ => err(WRONGTYPE),
        },
    }
}

command!(
    GETRANGE,
    "Returns the part of a string between two byte offsets.",
    getrange
);
command!(
    SUBSTR,
    "Returns the part of a string between two byte offsets (older name of GETRANGE).",
    getrange
);

/// GETRANGE key start end (also SUBSTR)
///
/// Offsets count from the end when negative and are clamped to the string;
/// both negative with start after end gives an empty string rather than the
/// first byte, as Redis 7 does.
fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = tri!(parse::int(&args[2]));
    let end = tri!(parse::int(&args[3]));
    let Some(s) = tri!(read_string(ctx, &args[1])) else {
        return Reply::Bulk(Bytes::new());
    };
    Reply::Bulk(range_of(s, start, end))
}

/// The bytes of `s` between `start` and `end` inclusive, with GETRANGE's rules.
fn range_of(s: Bytes, start: i64, end: i64) -> Bytes {
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Bytes::new();
    }
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { (len + end).max(0) } else { end };
    let end = end.min(len - 1);
    if start > end || len == 0 {
        return Bytes::new();
    }
    s.slice(start as usize..=end as usize)
}

// ---------------------------------------------------------------------------
// SET and friends
// ---------------------------------------------------------------------------

command!(
    SET,
    "Stores a string at a key, with optional conditions, expiry and old-value reply.",
    set
);

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
/// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
///
/// The checks run in Redis's order: options, then the expire time, then (with
/// GET) the old value's type, then the NX/XX condition; with GET the reply is
/// the old value whether or not the condition let the write happen.
fn set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = tri!(parse_ext_opts(args, 3, true));
    let deadline = match opts.expire {
        Some(i) => Some(tri!(expire_deadline(ctx, &args[i], opts.flags))),
        None => None,
    };
    let old = if opts.has(OPT_GET) {
        Some(tri!(read_string(ctx, &args[1])))
    } else {
        None
    };
    let db = ctx.db();
    // Without NX/XX the lookup is left to `Locked::set`, which expires a
    // stale previous value first just the same (Redis's lookupKeyWrite).
    let blocked = if opts.has(OPT_NX) || opts.has(OPT_XX) {
        let found = ctx.ks.get(db, &args[1]).is_some();
        (opts.has(OPT_NX) && found) || (opts.has(OPT_XX) && !found)
    } else {
        false
    };
    if !blocked {
        let value = Value::Str(StrValue::from_bytes(&args[2]));
        let keep_ttl = opts.has(OPT_KEEPTTL) || deadline.is_some();
        if ctx.ks.set(db, &args[1], value, keep_ttl).is_none() {
            ctx.created(db, &args[1]);
        }
        if let Some(at) = deadline {
            ctx.ks.set_expire(db, &args[1], at);
        }
        ctx.signal(class::STRING, "set", &args[1]);
        if deadline.is_some() {
            ctx.notify(class::GENERIC, "expire", db, &args[1]);
        }
        ctx.dirty(1);
    }
    match old {
        Some(old) => old.map_or(Reply::Null, Reply::Bulk),
        None if blocked => Reply::Null,
        None => Reply::ok(),
    }
}

command!(
    SETNX,
    "Stores a string at a key only if the key does not exist.",
    setnx
);

/// SETNX key value
fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    if ctx.ks.get(db, &args[1]).is_some() {
        return Reply::Integer(0);
    }
    ctx.ks.set(
        db,
        &args[1],
        Value::Str(StrValue::from_bytes(&args[2])),
        false,
    );
    ctx.created(db, &args[1]);
    ctx.signal(class::STRING, "set", &args[1]);
    ctx.dirty(1);
    Reply::Integer(1)
}

command!(
    SETEX,
    "Stores a string at a key with a time to live in seconds.",
    setex
);

/// SETEX key seconds value
fn setex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    set_with_ttl(ctx, args, OPT_EX)
}

command!(
    PSETEX,
    "Stores a string at a key with a time to live in milliseconds.",
    psetex
);

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    set_with_ttl(ctx, args, OPT_PX)
}

fn set_with_ttl(ctx: &mut Ctx, args: &[Bytes], unit: u32) -> Reply {
    let at = tri!(expire_deadline(ctx, &args[2], unit));
    let db = ctx.db();
    let prev = ctx.ks.set_with_expire(
        db,
        &args[1],
        Value::Str(StrValue::from_bytes(&args[3])),
        Some(at),
    );
    if prev.is_none() {
        ctx.created(db, &args[1]);
    }
    ctx.signal(class::STRING, "set", &args[1]);
    ctx.notify(class::GENERIC, "expire", db, &args[1]);
    ctx.dirty(1);
    Reply::ok()
}

command!(
    MSET,
    "Stores strings at several keys at once, atomically.",
    mset
);

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    mset_generic(ctx, args, false)
}

command!(
    MSETNX,
    "Stores strings at several keys at once, only if none of them exists.",
    msetnx
);

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    mset_generic(ctx, args, true)
}

/// MSET and MSETNX: the dispatcher holds every key's shard, so the check for
/// existing keys and the writes happen with no other client in between.
fn mset_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Reply {
    if args.len().is_multiple_of(2) {
        return error::wrong_args(&ctx.entry.full_name);
    }
    let db = ctx.db();
    if nx
        && args[1..]
            .chunks(2)
            .any(|kv| ctx.ks.get(db, &kv[0]).is_some())
    {
        return Reply::Integer(0);
    }
    for kv in args[1..].chunks(2) {
        let prev = ctx
            .ks
            .set(db, &kv[0], Value::Str(StrValue::from_bytes(&kv[1])), false);
        if prev.is_none() {
            ctx.created(db, &kv[0]);
        }
        ctx.signal(class::STRING, "set", &kv[0]);
    }
    ctx.dirty((args.len() as u64 - 1) / 2);
    if nx {
        Reply::Integer(1)
    } else {
        Reply::ok()
    }
}

// ---------------------------------------------------------------------------
// In-place modifications
// ---------------------------------------------------------------------------

command!(
    APPEND,
    "Appends bytes to the string at a key, creating it if needed; returns the new length.",
    append
);

/// APPEND key value
///
/// A new key takes the value as SET would store it; an existing one becomes a
/// `raw` string, as in Redis, and keeps its time to live.
fn append(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let max = max_string(ctx);
    let db = ctx.db();
    let add = &args[2];
    let len = match tri!(write_string(&mut ctx.ks, db, &args[1])) {
        None => {
            ctx.ks
                .set(db, &args[1], Value::Str(StrValue::from_bytes(add)), false);
            ctx.created(db, &args[1]);
            add.len()
        }
        Some(s) => {
            tri!(check_length(max, s.len() as i64, add.len()));
            let h = s.make_mut(add.len());
            h.extend_from_slice(add);
            h.len()
        }
    };
    ctx.signal(class::STRING, "append", &args[1]);
    ctx.dirty(1);
    Reply::Integer(len as i64)
}

command!(
    SETRANGE,
    "Overwrites part of the string at a key from an offset, zero-padding as needed.",
    setrange
);

/// SETRANGE key offset value
///
/// An empty value changes nothing (and creates no key) but still answers the
/// current length; the size limit is only checked when bytes are written.
fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let offset = tri!(parse::int(&args[2]));
    if offset < 0 {
        return err("ERR offset is out of range");
    }
    let max = max_string(ctx);
    let value = &args[3];
    let db = ctx.db();
    let len = match tri!(write_string(&mut ctx.ks, db, &args[1])) {
        None => {
            if value.is_empty() {
                return Reply::Integer(0);
            }
            tri!(check_length(max, offset, value.len()));
            let offset = offset as usize;
            let mut h = HeapStr::with_capacity(offset + value.len(), true);
            h.grow_zeroed(offset);
            h.extend_from_slice(value);
            let len = h.len();
            ctx.ks
                .set(db, &args[1], Value::Str(StrValue::Heap(h)), false);
            ctx.created(db, &args[1]);
            len
        }
        Some(s) => {
            if value.is_empty() {
                return Reply::Integer(s.len() as i64);
            }
            tri!(check_length(max, offset, value.len()));
            let (offset, end) = (offset as usize, offset as usize + value.len());
            let h = s.make_mut(end.saturating_sub(s.len()));
            h.grow_zeroed(end);
            h.as_mut_bytes()[offset..end].copy_from_slice(value);
            h.len()
        }
    };
    ctx.signal(class::STRING, "setrange", &args[1]);
    ctx.dirty(1);
    Reply::Integer(len as i64)
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

command!(
    INCR,
    "Adds one to the integer stored at a key; returns the new value.",
    incr
);

/// INCR key
fn incr(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    incr_by(ctx, &args[1], 1)
}

command!(
    DECR,
    "Subtracts one from the integer stored at a key; returns the new value.",
    decr
);

/// DECR key
fn decr(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    incr_by(ctx, &args[1], -1)
}

command!(
    INCRBY,
    "Adds an integer to the integer stored at a key; returns the new value.",
    incrby
);

/// INCRBY key increment
fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let by = tri!(parse::int(&args[2]));
    incr_by(ctx, &args[1], by)
}

command!(
    DECRBY,
    "Subtracts an integer from the integer stored at a key; returns the new value.",
    decrby
);

/// DECRBY key decrement
///
/// The most negative decrement cannot be negated, so it gets its own error,
/// as in Redis 7.
fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let by = tri!(parse::int(&args[2]));
    if by == i64::MIN {
        return err("ERR decrement would overflow");
    }
    incr_by(ctx, &args[1], -by)
}

/// The counter step shared by INCR, DECR, INCRBY and DECRBY: a missing key
/// counts as 0, the stored text must be a canonical integer, the result must
/// fit in an i64, and the key keeps its time to live.
fn incr_by(ctx: &mut Ctx, key: &[u8], by: i64) -> Reply {
    let db = ctx.db();
    let slot = tri!(write_string(&mut ctx.ks, db, key));
    let cur = match &slot {
        None => 0,
        Some(s) => match s.as_i64() {
            Some(n) => n,
            None => return err(error::NOT_INTEGER),
        },
    };
    let Some(new) = cur.checked_add(by) else {
        return err(OVERFLOW);
    };
    match slot {
        Some(s) => *s = StrValue::Int(new),
        None => {
            ctx.ks.set(db, key, Value::Str(StrValue::Int(new)), false);
            ctx.created(db, key);
        }
    }
    ctx.signal(class::STRING, "incrby", key);
    ctx.dirty(1);
    Reply::Integer(new)
}

command!(
    INCRBYFLOAT,
    "Adds a floating point number to the number stored at a key; returns the new value.",
    incrbyfloat
);

/// INCRBYFLOAT key increment
///
/// Computed in emulated 80-bit extended precision and stored as Redis stores
/// it (see [`longdouble`]), so that the same sequence of increments leaves
/// the same text in Ferrum as in Redis on x86-64. The stored value is read
/// before the increment is parsed, matching Redis's error precedence.
fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let key = &args[1];
    let slot = tri!(write_string(&mut ctx.ks, db, key));
    let cur = match &slot {
        None => LongDouble::ZERO,
        Some(StrValue::Int(n)) => LongDouble::from_i64(*n),
        Some(s) => match s.with_bytes(LongDouble::parse) {
            Some(v) => v,
            None => return err(NOT_FLOAT),
        },
    };
    let Some(by) = LongDouble::parse(&args[2]) else {
        return err(NOT_FLOAT);
    };
    let sum = cur.add(by);
    if !sum.is_finite() {
        return err("ERR increment would produce NaN or Infinity");
    }
    let text = sum.to_human();
    let value = plain_string(text.as_bytes());
    match slot {
        Some(s) => *s = value,
        None => {
            ctx.ks.set(db, key, Value::Str(value), false);
            ctx.created(db, key);
        }
    }
    ctx.signal(class::STRING, "incrbyfloat", key);
    ctx.dirty(1);
    Reply::Bulk(Bytes::from(text))
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

command!(
    LCS,
    "Finds the longest common subsequence of two strings, its length or its matching ranges.",
    lcs
);

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
///
/// The table and the walk back through it are Redis's, including which way
/// it steps on ties, so IDX reports the same ranges Redis reports. The table
/// needs 4 bytes per pair of positions; above `proto-max-bulk-len` the
/// command refuses, as Redis does, instead of risking the allocation.
fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let a = read_string(ctx, &args[1]);
    let b = read_string(ctx, &args[2]);
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
        _ => return err("ERR The specified keys must contain string values"),
    };
    let mut get_len = false;
    let mut get_idx = false;
    let mut with_match_len = false;
    let mut min_match_len: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j][..];
        let more = j + 1 < args.len();
        if parse::eq(opt, "idx") {
            get_idx = true;
        } else if parse::eq(opt, "len") {
            get_len = true;
        } else if parse::eq(opt, "withmatchlen") {
            with_match_len = true;
        } else if parse::eq(opt, "minmatchlen") && more {
            min_match_len = tri!(parse::int(&args[j + 1])).max(0);
            j += 1;
        } else {
            return err(SYNTAX);
        }
        j += 1;
    }
    if get_len && get_idx {
        return err("ERR If you want both the length and indexes, please just use IDX.");
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return err("ERR String too long for LCS");
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    let bytes = cells.checked_mul(4);
    let max = ctx.server.config.read(|v| v.proto_max_bulk_len);
    if bytes.is_some_and(|n| n > max) {
        return err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let mut table: Vec<u32> = Vec::new();
    if bytes.is_none() || table.try_reserve_exact(cells as usize).is_err() {
        return err("ERR Insufficient memory, failed allocating transient memory for LCS");
    }
    table.resize(cells as usize, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    if get_len {
        return Reply::Integer(total as i64);
    }

    // Walk back from the end, building the subsequence right to left and
    // collecting maximal runs of consecutive matches as ranges.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut matches = Vec::new();
    // `None` stands for Redis's "no range open" (arange_start == alen).
    let mut range: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            match &mut range {
                None => range = Some((i - 1, i - 1, j - 1, j - 1)),
                Some((a_start, _, b_start, _)) => {
                    if *a_start == i && *b_start == j {
                        *a_start -= 1;
                        *b_start -= 1;
                    } else {
                        emit = true;
                    }
                }
            }
            if let Some((a_start, _, b_start, _)) = range {
                if a_start == 0 || b_start == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if range.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some((a_start, a_end, b_start, b_end)) = range.take() {
                let match_len = (a_end - a_start + 1) as i64;
                if get_idx && (min_match_len == 0 || match_len >= min_match_len) {
                    let mut item = vec![
                        Reply::Array(vec![
                            Reply::Integer(a_start as i64),
                            Reply::Integer(a_end as i64),
                        ]),
                        Reply::Array(vec![
                            Reply::Integer(b_start as i64),
                            Reply::Integer(b_end as i64),
                        ]),
                    ];
                    if with_match_len {
                        item.push(Reply::Integer(match_len));
                    }
                    matches.push(Reply::Array(item));
                }
            }
        }
    }
    if get_idx {
        Reply::Map(vec![
            (
                Reply::Bulk(Bytes::from_static(b"matches")),
                Reply::Array(matches),
            ),
            (
                Reply::Bulk(Bytes::from_static(b"len")),
                Reply::Integer(total as i64),
            ),
        ])
    } else {
        Reply::Bulk(Bytes::from(result))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use resp::Protocol;
    use storage::Clock;

    use super::*;
    use crate::client::{Client, ClientInfo};
    use crate::config::Values;
    use crate::state::Server;

    /// A fixed start time so that deadlines are exact.
    const T0: i64 = 1_700_000_000_000;

    struct Harness {
        server: Server,
        client: Client,
    }

    impl Harness {
        fn new() -> Harness {
            let server = Server::new(Values::default(), None, Clock::manual(T0));
            let info = Arc::new(ClientInfo::new(
                1,
                "127.0.0.1:1".into(),
                "127.0.0.1:6379".into(),
                0,
                T0,
            ));
            Harness {
                server,
                client: Client::new(info, true),
            }
        }

        fn run_args(&mut self, args: &[&[u8]]) -> Reply {
            let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
            crate::dispatch(&self.server, &mut self.client, &args).into_reply()
        }

        fn run(&mut self, cmd: &str) -> Reply {
            let args: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
            self.run_args(&args)
        }

        /// The RESP2 wire form of the reply to `cmd`.
        fn r2(&mut self, cmd: &str) -> String {
            String::from_utf8_lossy(&self.run(cmd).to_vec(Protocol::Resp2)).into_owned()
        }

        /// The RESP3 wire form of the reply to `cmd`.
        fn r3(&mut self, cmd: &str) -> String {
            String::from_utf8_lossy(&self.run(cmd).to_vec(Protocol::Resp3)).into_owned()
        }

        fn advance(&self, ms: i64) {
            self.server.store.clock.advance(ms);
        }

        /// The key's deadline: None when missing, Some(None) when persistent.
        fn deadline(&self, key: &str) -> Option<Option<i64>> {
            let mut ks = self.server.store.lock_dbs(&[0]);
            ks.get(0, key.as_bytes())?;
            Some(ks.expire_at(0, key.as_bytes()))
        }

        fn encoding(&self, key: &str) -> &'static str {
            let mut ks = self.server.store.lock_dbs(&[0]);
            ks.peek(0, key.as_bytes())
                .expect("key exists")
                .value
                .encoding()
        }

        fn dirty(&self) -> u64 {
            self.server.stats.changes_since_save()
        }
    }

    #[test]
    fn resp3_null_and_map_replies() {
        let mut h = Harness::new();
        assert_eq!(h.r3("GET nokey"), "_\r\n");
        assert_eq!(h.r3("GETDEL nokey"), "_\r\n");
        assert_eq!(h.r3("GETEX nokey PERSIST"), "_\r\n");
        assert_eq!(h.r3("GETSET nokey v"), "_\r\n");
        assert_eq!(h.r3("SET nokey w NX"), "_\r\n");
        assert_eq!(h.r3("SET other w XX"), "_\r\n");
        assert_eq!(h.r3("SET other w GET"), "_\r\n");
        assert_eq!(
            h.r3("MGET nokey missing other"),
            "*3\r\n$1\r\nv\r\n_\r\n$1\r\nw\r\n"
        );
        assert_eq!(h.r3("INCRBYFLOAT f 1.5"), "$3\r\n1.5\r\n");
        h.run("MSET a ohmytext b mynewtext");
        assert_eq!(
            h.r3("LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN"),
            "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
             $3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            h.r2("LCS a b IDX MINMATCHLEN 4"),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
             $3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            h.r3("LCS a nokey IDX"),
            "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"
        );
    }

    #[test]
    fn expire_options_set_exact_deadlines() {
        let mut h = Harness::new();
        assert_eq!(h.r2("SET k v EX 10"), "+OK\r\n");
        assert_eq!(h.deadline("k"), Some(Some(T0 + 10_000)));
        h.run("SET k v PX 1500");
        assert_eq!(h.deadline("k"), Some(Some(T0 + 1500)));
        h.run("SET k v EXAT 1800000000");
        assert_eq!(h.deadline("k"), Some(Some(1_800_000_000_000)));
        h.run("SET k v PXAT 1800000000123");
        assert_eq!(h.deadline("k"), Some(Some(1_800_000_000_123)));
        h.run("SET k v EX 10 EX 20");
        assert_eq!(h.deadline("k"), Some(Some(T0 + 20_000)));
        h.run("SETEX k 5 v");
        assert_eq!(h.deadline("k"), Some(Some(T0 + 5000)));
        h.run("PSETEX k 7 v");
        assert_eq!(h.deadline("k"), Some(Some(T0 + 7)));
        // The largest relative time that still fits once now is added.
        let fits = format!("SET k v PX {}", i64::MAX - T0);
        assert_eq!(h.r2(&fits), "+OK\r\n");
        assert_eq!(h.deadline("k"), Some(Some(i64::MAX)));
        let over = format!("SET k v PX {}", i64::MAX - T0 + 1);
        assert_eq!(h.r2(&over), "-ERR invalid expire time in 'set' command\r\n");
        let over = format!("PSETEX k {} v", i64::MAX - T0 + 1);
        assert_eq!(
            h.r2(&over),
            "-ERR invalid expire time in 'psetex' command\r\n"
        );
        assert_eq!(
            h.r2("SET k v EX 9223372036854775"),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            h.r2("SETEX k 9223372036854775 v"),
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        assert_eq!(h.r2("SET k v EXAT 9223372036854775"), "+OK\r\n");
        assert_eq!(h.deadline("k"), Some(Some(9_223_372_036_854_775_000)));
        let over = format!("GETEX k PX {}", i64::MAX - T0 + 1);
        assert_eq!(
            h.r2(&over),
            "-ERR invalid expire time in 'getex' command\r\n"
        );
    }

    #[test]
    fn which_writes_keep_the_ttl() {
        let mut h = Harness::new();
        let at = Some(Some(T0 + 100_000));
        h.run("SET k 5 EX 100");
        h.run("INCR k");
        h.run("DECRBY k 2");
        h.run("INCRBYFLOAT k 0.5");
        h.run("APPEND k 1");
        h.run("SETRANGE k 0 9");
        h.run("SETRANGE k 0 ");
        assert_eq!(h.deadline("k"), at);
        h.run("SET k v KEEPTTL");
        assert_eq!(h.deadline("k"), at);
        h.run("SET k v XX GET KEEPTTL");
        assert_eq!(h.deadline("k"), at);
        h.run("SET k v NX");
        assert_eq!(h.deadline("k"), at, "a refused SET changes nothing");
        h.run("SET k v");
        assert_eq!(h.deadline("k"), Some(None));
        h.run("SET k v EX 100");
        h.run("GETSET k w");
        assert_eq!(h.deadline("k"), Some(None));
        h.run("SET k v EX 100");
        h.run("MSET k w");
        assert_eq!(h.deadline("k"), Some(None));
        h.run("SET k v EX 100");
        h.run("GETEX k");
        assert_eq!(h.deadline("k"), at);
        assert_eq!(h.r2("GETEX k PERSIST"), "$1\r\nv\r\n");
        assert_eq!(h.deadline("k"), Some(None));
        h.run("GETEX k PX 50");
        assert_eq!(h.deadline("k"), Some(Some(T0 + 50)));
    }

    #[test]
    fn past_deadlines() {
        let mut h = Harness::new();
        h.run("SET k v");
        // GETEX with an absolute time already reached deletes the key at once.
        let now = format!("GETEX k PXAT {T0}");
        assert_eq!(h.r2(&now), "$1\r\nv\r\n");
        assert_eq!(h.deadline("k"), None);
        h.run("SET k v");
        assert_eq!(h.r2("GETEX k EXAT 1"), "$1\r\nv\r\n");
        assert_eq!(h.deadline("k"), None);
        // SET stores the key with the deadline; it is stale one ms later.
        let set = format!("SET k v PXAT {T0}");
        assert_eq!(h.r2(&set), "+OK\r\n");
        assert_eq!(h.r2("GET k"), "$1\r\nv\r\n");
        h.advance(1);
        assert_eq!(h.r2("GET k"), "$-1\r\n");
    }

    #[test]
    fn expired_keys_count_as_missing() {
        let mut h = Harness::new();
        for k in ["a", "b", "c", "d", "e", "f", "g"] {
            h.run(&format!("SET {k} 41 PX 100"));
        }
        h.advance(101);
        assert_eq!(h.r2("GET a"), "$-1\r\n");
        assert_eq!(h.r2("INCR b"), ":1\r\n");
        assert_eq!(h.deadline("b"), Some(None));
        assert_eq!(h.r2("APPEND c x"), ":1\r\n");
        assert_eq!(h.r2("SETNX d x"), ":1\r\n");
        assert_eq!(h.r2("MSETNX e x f y"), ":1\r\n");
        assert_eq!(h.r2("SET g x XX"), "$-1\r\n");
        assert_eq!(h.r2("STRLEN g"), ":0\r\n");
        assert_eq!(h.r2("SETRANGE g 0 "), ":0\r\n");
        assert_eq!(h.r2("GETRANGE g 0 -1"), "$0\r\n\r\n");
        assert_eq!(h.r2("GETEX g PERSIST"), "$-1\r\n");
    }

    #[test]
    fn encodings_follow_redis() {
        let mut h = Harness::new();
        h.run("SET n 123");
        assert_eq!(h.encoding("n"), "int");
        h.run("INCR n");
        assert_eq!(h.encoding("n"), "int");
        h.run("APPEND n 4");
        assert_eq!(h.encoding("n"), "raw");
        assert_eq!(h.r2("GET n"), "$4\r\n1244\r\n");
        h.run("SET s abc");
        h.run("APPEND s ");
        assert_eq!(h.encoding("s"), "raw", "even an empty APPEND unshares");
        h.run("SET r 7");
        h.run("SETRANGE r 0 8");
        assert_eq!(h.encoding("r"), "raw");
        h.run("SETRANGE fresh 2 x");
        assert_eq!(h.encoding("fresh"), "raw");
        h.run("APPEND new foo");
        assert_eq!(h.encoding("new"), "embstr");
        h.run("APPEND newint 12");
        assert_eq!(h.encoding("newint"), "int");
        h.run("INCRBYFLOAT f 3");
        assert_eq!(h.encoding("f"), "embstr");
        h.run("INCRBYFLOAT big 123456789012345678");
        assert_eq!(h.encoding("big"), "embstr");
        h.run("INCRBYFLOAT huge 1e50");
        assert_eq!(h.encoding("huge"), "raw");
        h.run("INCR f");
        assert_eq!(h.encoding("f"), "int");
    }

    #[test]
    fn dirty_counts_changes_only() {
        let mut h = Harness::new();
        let mut last = h.dirty();
        let mut check = |h: &mut Harness, cmd: &str, n: u64| {
            h.run(cmd);
            let d = h.dirty();
            assert_eq!(d - last, n, "{cmd}");
            last = d;
        };
        check(&mut h, "SET k v", 1);
        check(&mut h, "SET k v NX", 0);
        check(&mut h, "SET k v EX 0", 0);
        check(&mut h, "MSET a 1 b 2 c 3", 3);
        check(&mut h, "MSETNX a 1 z 2", 0);
        check(&mut h, "MSETNX y 1 z 2", 2);
        check(&mut h, "GET k", 0);
        check(&mut h, "GETEX k", 0);
        check(&mut h, "GETEX k PERSIST", 0);
        check(&mut h, "GETEX k EX 10", 1);
        check(&mut h, "GETEX k PERSIST", 1);
        check(&mut h, "GETDEL nokey", 0);
        check(&mut h, "GETDEL k", 1);
        check(&mut h, "SETRANGE a 0 ", 0);
        check(&mut h, "SETRANGE a 0 x", 1);
        check(&mut h, "APPEND a ", 1);
        check(&mut h, "INCR b", 1);
        check(&mut h, "INCR a", 0);
        check(&mut h, "INCRBYFLOAT b 1", 1);
        check(&mut h, "SETNX b 1", 0);
        check(&mut h, "SETNX q 1", 1);
        check(&mut h, "GETSET q 2", 1);
        check(&mut h, "LCS a b", 0);
    }

    #[test]
    fn hits_and_misses_follow_read_and_write_lookups() {
        let mut h = Harness::new();
        let stats = |h: &Harness| {
            let s = h.server.store.stats();
            (s.hits, s.misses)
        };
        h.run("SET k 1");
        h.run("INCR k");
        h.run("APPEND x y");
        assert_eq!(stats(&h), (0, 0));
        h.run("GET k");
        h.run("GET nokey");
        assert_eq!(stats(&h), (1, 1));
        h.run("MGET k nokey x");
        assert_eq!(stats(&h), (3, 2));
        h.run("SET k 2 GET");
        assert_eq!(stats(&h), (4, 2));
    }

    #[test]
    fn append_reuses_its_buffer() {
        let mut h = Harness::new();
        h.run_args(&[b"SET", b"k", &[b'x'; 100]]);
        let mut moves = 0;
        let mut last = std::ptr::null();
        for _ in 0..1000 {
            h.run("APPEND k y");
            let mut ks = h.server.store.lock_dbs(&[0]);
            let e = ks.peek(0, b"k").unwrap();
            let Value::Str(StrValue::Heap(heap)) = &e.value else {
                panic!("a long string lives on the heap");
            };
            let p = heap.as_ptr();
            if p != last {
                moves += 1;
                last = p;
            }
        }
        // Growth is amortized: a handful of reallocations, not one per call.
        assert!(moves <= 12, "buffer moved {moves} times");
        assert_eq!(h.r2("STRLEN k"), ":1100\r\n");
    }

    #[test]
    fn string_limit_follows_config() {
        let mut h = Harness::new();
        h.server.config.write(|v| v.proto_max_bulk_len = 10);
        assert_eq!(h.r2("SETRANGE k 9 x"), ":10\r\n");
        assert_eq!(
            h.r2("SETRANGE k 10 x"),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(
            h.r2("APPEND k x"),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(
            h.r2("SETRANGE new 10 x"),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(h.deadline("new"), None, "nothing was created");
        // LCS refuses a table bigger than the limit: (3+1)*(3+1)*4 > 10.
        h.run("MSET a abc b abc");
        assert_eq!(
            h.r2("LCS a b"),
            "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
        );
    }
}
