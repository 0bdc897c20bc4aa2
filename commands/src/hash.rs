//! Hash commands (the `hash` group).
//!
//! Replies, error texts and the order of checks follow Redis 7.2's
//! `t_hash.c`: for example HINCRBY parses its increment before it looks at
//! the key, and HSCAN reports a bad cursor before a missing key or a wrong
//! type, and those before bad options. The value type and its `listpack` /
//! `hashtable` encodings live in `storage::hash`.

use bytes::Bytes;
use rand::Rng;
use resp::{Protocol, Reply};
use storage::hash::Hash;
use storage::{Locked, Value};

use crate::command;
use crate::ctx::Ctx;
use crate::error::{self, err, CmdResult, NOT_FLOAT, OVERFLOW, SYNTAX, WRONGTYPE};
use crate::notify::class;
use crate::parse;
use crate::string::longdouble::LongDouble;

/// Unwraps a handler step, returning its error reply from the handler.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

/// The hash at `key` for reading (counts a keyspace hit or miss), or
/// WRONGTYPE when the key holds another type.
fn read_hash<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a Hash>> {
    let db = ctx.db();
    match ctx.ks.get_read(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// The hash at `key` for writing, or None when the key does not exist.
fn write_hash<'a>(
    ks: &'a mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> CmdResult<Option<&'a mut Hash>> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// The hash at `key` for writing, created empty when missing (Redis's
/// hashTypeLookupWriteOrCreate). Callers make sure it does not stay empty.
/// The flag says whether the key was created (callers raise `new`).
fn write_or_create<'a>(
    ks: &'a mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> CmdResult<(&'a mut Hash, bool)> {
    let created = write_hash(ks, db, key)?.is_none();
    if created {
        ks.set(db, key, Value::Hash(Box::new(Hash::new())), false);
    }
    Ok((
        write_hash(ks, db, key)?.expect("hash just created"),
        created,
    ))
}

fn is_resp3(ctx: &Ctx) -> bool {
    ctx.client.protocol == Protocol::Resp3
}

// ---------------------------------------------------------------------------
// HSET, HMSET, HSETNX

command!(
    HSET,
    "Sets one or more fields of a hash, creating it if needed; returns how many fields were new.",
    hset
);
command!(
    HMSET,
    "Sets one or more fields of a hash (the older form of HSET, replying OK).",
    hmset
);
command!(
    HSETNX,
    "Sets a field of a hash only when the field does not exist yet.",
    hsetnx
);

/// HSET key field value [field value ...]
fn hset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match hset_generic(ctx, args) {
        Ok(created) => Reply::Integer(created),
        Err(e) => e,
    }
}

/// HMSET key field value [field value ...]
fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match hset_generic(ctx, args) {
        Ok(_) => Reply::ok(),
        Err(e) => e,
    }
}

/// Sets the pairs, converting the encoding up front as Redis does when a
/// write brings many pairs or a long string. Returns the number of new fields.
fn hset_generic(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult<i64> {
    if args.len() % 2 == 1 {
        return Err(error::wrong_args(&ctx.entry.full_name));
    }
    let db = ctx.db();
    let limits = ctx.server.store.limits.get();
    let (h, new_key) = write_or_create(&mut ctx.ks, db, &args[1])?;
    let pairs: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    h.prepare_write(&pairs, &limits);
    let mut created = 0;
    for p in pairs.chunks_exact(2) {
        if h.set(p[0], p[1], &limits) {
            created += 1;
        }
    }
    if new_key {
        ctx.created(db, &args[1]);
    }
    ctx.signal(class::HASH, "hset", &args[1]);
    ctx.dirty(((args.len() - 2) / 2) as u64);
    Ok(created)
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let limits = ctx.server.store.limits.get();
    let (h, new_key) = tri!(write_or_create(&mut ctx.ks, db, &args[1]));
    if h.contains(&args[2]) {
        return Reply::Integer(0);
    }
    h.prepare_write(&[&args[2], &args[3]], &limits);
    h.set(&args[2], &args[3], &limits);
    if new_key {
        ctx.created(db, &args[1]);
    }
    ctx.signal(class::HASH, "hset", &args[1]);
    ctx.dirty(1);
    Reply::Integer(1)
}

// ---------------------------------------------------------------------------
// HGET, HMGET, HEXISTS, HSTRLEN, HLEN

command!(HGET, "Returns the value of a field of a hash.", hget);
command!(
    HMGET,
    "Returns the values of several fields of a hash, null for each missing one.",
    hmget
);
command!(HEXISTS, "Tells whether a field exists in a hash.", hexists);
command!(
    HSTRLEN,
    "Returns the length of the value of a field of a hash.",
    hstrlen
);
command!(HLEN, "Returns the number of fields of a hash.", hlen);

/// HGET key field
fn hget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(read_hash(ctx, &args[1])).and_then(|h| h.get(&args[2])) {
        Some(v) => Reply::bulk_copy(v),
        None => Reply::Null,
    }
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(read_hash(ctx, &args[1]));
    Reply::Array(
        args[2..]
            .iter()
            .map(|f| match h.and_then(|h| h.get(f)) {
                Some(v) => Reply::bulk_copy(v),
                None => Reply::Null,
            })
            .collect(),
    )
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(read_hash(ctx, &args[1]));
    Reply::Integer(h.is_some_and(|h| h.contains(&args[2])) as i64)
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(read_hash(ctx, &args[1]));
    Reply::Integer(
        h.and_then(|h| h.get(&args[2]))
            .map_or(0, |v| v.len() as i64),
    )
}

/// HLEN key
fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(read_hash(ctx, &args[1]));
    Reply::Integer(h.map_or(0, |h| h.len() as i64))
}

// ---------------------------------------------------------------------------
// HKEYS, HVALS, HGETALL

command!(HKEYS, "Returns every field of a hash.", hkeys);
command!(HVALS, "Returns every value of a hash.", hvals);
command!(
    HGETALL,
    "Returns every field and value of a hash (a map in RESP3).",
    hgetall
);

/// HKEYS key
fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(read_hash(ctx, &args[1]));
    Reply::Array(h.map_or_else(Vec::new, |h| {
        h.iter().map(|(f, _)| Reply::bulk_copy(f)).collect()
    }))
}

/// HVALS key
fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(read_hash(ctx, &args[1]));
    Reply::Array(h.map_or_else(Vec::new, |h| {
        h.iter().map(|(_, v)| Reply::bulk_copy(v)).collect()
    }))
}

/// HGETALL key
fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(read_hash(ctx, &args[1]));
    Reply::Map(h.map_or_else(Vec::new, |h| {
        h.iter()
            .map(|(f, v)| (Reply::bulk_copy(f), Reply::bulk_copy(v)))
            .collect()
    }))
}

// ---------------------------------------------------------------------------
// HDEL

command!(
    HDEL,
    "Removes fields from a hash, deleting the key when none remain; returns how many were removed.",
    hdel
);

/// HDEL key field [field ...]
///
/// Stops at the field that empties the hash and deletes the key then, as
/// Redis does: Redis never keeps an empty collection.
fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let Some(h) = tri!(write_hash(&mut ctx.ks, db, &args[1])) else {
        return Reply::Integer(0);
    };
    let mut deleted = 0;
    let mut emptied = false;
    for f in &args[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if deleted > 0 {
        ctx.signal(class::HASH, "hdel", &args[1]);
    }
    if emptied {
        ctx.ks.remove(db, &args[1]);
        ctx.notify(class::GENERIC, "del", db, &args[1]);
    }
    ctx.dirty(deleted as u64);
    Reply::Integer(deleted)
}

// ---------------------------------------------------------------------------
// HINCRBY, HINCRBYFLOAT

command!(
    HINCRBY,
    "Adds an integer to the integer value of a field of a hash; returns the new value.",
    hincrby
);
command!(
    HINCRBYFLOAT,
    "Adds a floating point number to the value of a field of a hash; returns the new value.",
    hincrbyfloat
);

/// HINCRBY key field increment
///
/// The increment is parsed before the key is looked at; a stored value that
/// is not a canonical 64-bit integer is refused, and so is a sum that
/// would overflow.
fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let incr = tri!(parse::int(&args[3]));
    let db = ctx.db();
    let limits = ctx.server.store.limits.get();
    let (h, new_key) = tri!(write_or_create(&mut ctx.ks, db, &args[1]));
    let old = match h.get(&args[2]) {
        None => 0,
        Some(v) => match storage::value::parse_canonical_i64(v) {
            Some(n) => n,
            None => return err("ERR hash value is not an integer"),
        },
    };
    let Some(new) = old.checked_add(incr) else {
        return err(OVERFLOW);
    };
    let mut buf = itoa::Buffer::new();
    h.set(&args[2], buf.format(new).as_bytes(), &limits);
    if new_key {
        ctx.created(db, &args[1]);
    }
    ctx.signal(class::HASH, "hincrby", &args[1]);
    ctx.dirty(1);
    Reply::Integer(new)
}

/// HINCRBYFLOAT key field increment
///
/// Computed in emulated 80-bit extended precision and formatted as Redis
/// formats long doubles, so the stored text matches Redis's byte for byte.
fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(incr) = LongDouble::parse(&args[3]) else {
        return err(NOT_FLOAT);
    };
    if !incr.is_finite() {
        return err("ERR value is NaN or Infinity");
    }
    let db = ctx.db();
    let limits = ctx.server.store.limits.get();
    let (h, new_key) = tri!(write_or_create(&mut ctx.ks, db, &args[1]));
    let old = match h.get(&args[2]) {
        None => LongDouble::ZERO,
        Some(v) => match LongDouble::parse(v) {
            Some(n) => n,
            None => return err("ERR hash value is not a float"),
        },
    };
    let sum = old.add(incr);
    if !sum.is_finite() {
        return err("ERR increment would produce NaN or Infinity");
    }
    let text = sum.to_human();
    h.set(&args[2], text.as_bytes(), &limits);
    if new_key {
        ctx.created(db, &args[1]);
    }
    ctx.signal(class::HASH, "hincrbyfloat", &args[1]);
    ctx.dirty(1);
    Reply::bulk(text.into_bytes())
}

// ---------------------------------------------------------------------------
// HRANDFIELD

command!(
    HRANDFIELD,
    "Returns random fields of a hash: distinct ones for a positive count, possibly repeated for a negative one, optionally with values.",
    hrandfield
);

/// HRANDFIELD key [count [WITHVALUES]]
///
/// Without a count: one random field, or null. With a count: an array; in
/// RESP3, WITHVALUES gives an array of `[field, value]` pairs (Redis 7.2),
/// in RESP2 a flat array.
fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        let h = tri!(read_hash(ctx, &args[1]));
        let mut rng = rand::thread_rng();
        return match h.and_then(|h| h.random_pair(&mut rng)) {
            Some((f, _)) => Reply::bulk_copy(f),
            None => Reply::Null,
        };
    }
    let l = tri!(parse::int(&args[2]));
    if l == i64::MIN {
        return Reply::error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    let withvalues = match args.len() {
        3 => false,
        4 if parse::eq(&args[3], "withvalues") => {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return err("ERR value is out of range");
            }
            true
        }
        _ => return err(SYNTAX),
    };
    let resp3 = is_resp3(ctx);
    let Some(h) = tri!(read_hash(ctx, &args[1])) else {
        return Reply::Array(Vec::new());
    };
    let count = l.unsigned_abs() as usize;
    if count == 0 {
        return Reply::Array(Vec::new());
    }
    let emit = |out: &mut Vec<Reply>, f: &[u8], v: &[u8]| {
        if !withvalues {
            out.push(Reply::bulk_copy(f));
        } else if resp3 {
            out.push(Reply::Array(vec![Reply::bulk_copy(f), Reply::bulk_copy(v)]));
        } else {
            out.push(Reply::bulk_copy(f));
            out.push(Reply::bulk_copy(v));
        }
    };
    let mut rng = rand::thread_rng();
    let mut out = Vec::new();
    let size = h.len();
    if l < 0 {
        // Repeats allowed: index the pairs once, then draw.
        let all: Vec<(&[u8], &[u8])> = h.iter().collect();
        for _ in 0..count {
            let (f, v) = all[rng.gen_range(0..size)];
            emit(&mut out, f, v);
        }
    } else if count >= size {
        for (f, v) in h.iter() {
            emit(&mut out, f, v);
        }
    } else {
        // Distinct: choose `count` positions, reply in the hash's order.
        let picked = rand::seq::index::sample(&mut rng, size, count);
        let mut keep = vec![false; size];
        for i in picked.iter() {
            keep[i] = true;
        }
        for (i, (f, v)) in h.iter().enumerate() {
            if keep[i] {
                emit(&mut out, f, v);
            }
        }
    }
    Reply::Array(out)
}

// ---------------------------------------------------------------------------
// HSCAN

command!(
    HSCAN,
    "Iterates over the fields and values of a hash with a cursor.",
    hscan
);

/// HSCAN key cursor [MATCH pattern] [COUNT count]
///
/// A `listpack` hash is returned whole with cursor 0, as in Redis. For a
/// `hashtable` the cursor is a position in the field-hash space (see
/// `Hash::scan`). MATCH filters fields after they are visited. NOVALUES is
/// Redis 7.4 and, as in 7.2, a syntax error.
fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse::scan_cursor(&args[2]) else {
        return err("ERR invalid cursor");
    };
    let Some(h) = tri!(read_hash(ctx, &args[1])) else {
        return Reply::Array(vec![Reply::bulk_copy(b"0"), Reply::Array(Vec::new())]);
    };
    let (count, pattern) = tri!(parse::scan_options(args, 3));
    let mut items = Vec::new();
    let next = h.scan(cursor, count, |f, v| {
        if pattern.is_none_or(|p| storage::glob::glob_match(p, f, false)) {
            items.push(Reply::bulk_copy(f));
            items.push(Reply::bulk_copy(v));
        }
    });
    parse::scan_reply(next, items)
}
