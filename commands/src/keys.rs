//! Generic keyspace commands (the `generic` group): DEL, EXISTS, EXPIRE, SCAN, ...
//!
//! These work on any value type: they look at keys, deadlines and the
//! value's type and encoding names, never inside a value. Each follows Redis
//! 7.2's order of checks, so that a request with several faults gets the same
//! error Redis would give.

use bytes::Bytes;
use resp::Reply;
use smallvec::{smallvec, SmallVec};
use storage::glob::glob_match;
use storage::keyspace::lru_idle_secs;
use storage::value::parse_canonical_i64;
use storage::{Key, StrValue};

use crate::ctx::Ctx;
use crate::error::{self, err, CmdResult, DB_OUT_OF_RANGE, NO_SUCH_KEY, SYNTAX};
use crate::notify::class;
use crate::parse;
use crate::registry::Locking;
use crate::{command, container};

const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const INVALID_CURSOR: &str = "ERR invalid cursor";
const NOT_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// Redis shares one object for the integers 0..10000 and reports the
/// largest `int` as its reference count.
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// A database index as Redis's getIntFromObjectOrReply reads it: a canonical
/// integer that must also fit an `int`, with a dedicated error when it does not.
fn db_index(arg: &[u8]) -> CmdResult<i64> {
    let n = parse::int(arg)?;
    if i32::try_from(n).is_err() {
        return Err(Reply::error(format!(
            "ERR value is out of range, value must between {} and {}",
            i32::MIN,
            i32::MAX
        )));
    }
    Ok(n)
}

/// Checks a parsed index against the number of databases.
fn db_in_range(n: i64, databases: usize) -> CmdResult<usize> {
    if n < 0 || n as u64 >= databases as u64 {
        return Err(err(DB_OUT_OF_RANGE));
    }
    Ok(n as usize)
}

// ---------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TOUCH

command!(DEL, "Deletes keys and counts those that existed.", del);
command!(
    UNLINK,
    "Deletes keys like DEL; Ferrum frees the values at once in both cases.",
    del
);

/// DEL key [key ...] / UNLINK key [key ...]
///
/// A repeated key is counted once: the second deletion finds nothing.
fn del(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let mut n = 0u64;
    for key in &args[1..] {
        if ctx.ks.remove(db, key).is_some() {
            ctx.signal(class::GENERIC, "del", key);
            n += 1;
        }
    }
    ctx.dirty(n);
    Reply::Integer(n as i64)
}

command!(
    EXISTS,
    "Counts how many of the named keys exist, repeats included.",
    exists
);

/// EXISTS key [key ...]
///
/// A key named twice counts twice, as in Redis. Reading a key's existence
/// does not refresh its access time.
fn exists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.ks.get_read_notouch(db, k).is_some())
        .count();
    Reply::Integer(n as i64)
}

command!(
    TOUCH,
    "Marks keys as just used and counts those that exist.",
    touch
);

/// TOUCH key [key ...]
///
/// Unlike EXISTS, this is a full read: it refreshes the access time that
/// OBJECT IDLETIME and eviction see.
fn touch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.ks.get_read(db, k).is_some())
        .count();
    Reply::Integer(n as i64)
}

// ---------------------------------------------------------------------------
// EXPIRE family

command!(
    EXPIRE,
    "Gives a key a time to live in seconds, optionally only under conditions on its current one.",
    expire
);
command!(
    PEXPIRE,
    "Gives a key a time to live in milliseconds, optionally only under conditions on its current one.",
    pexpire
);
command!(
    EXPIREAT,
    "Makes a key expire at a Unix time in seconds, optionally only under conditions on its current deadline.",
    expireat
);
command!(
    PEXPIREAT,
    "Makes a key expire at a Unix time in milliseconds, optionally only under conditions on its current deadline.",
    pexpireat
);

/// EXPIRE key seconds [NX | XX | GT | LT]
fn expire(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, true, true, "expire")
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, true, false, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, false, true, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, false, false, "pexpireat")
}

/// The NX/XX/GT/LT conditions of the EXPIRE family.
#[derive(Default)]
struct ExpireCond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Reads the conditions. Redis checks them before the time argument, so
/// `EXPIRE k abc bogus` reports the option, not the number; an unknown
/// option is reported before incompatible ones.
fn expire_conditions(opts: &[Bytes]) -> CmdResult<ExpireCond> {
    let mut c = ExpireCond::default();
    for o in opts {
        if parse::eq(o, "nx") {
            c.nx = true;
        } else if parse::eq(o, "xx") {
            c.xx = true;
        } else if parse::eq(o, "gt") {
            c.gt = true;
        } else if parse::eq(o, "lt") {
            c.lt = true;
        } else {
            return Err(parse::echo_error(&[
                b"ERR Unsupported option ",
                parse::c_str(o),
            ]));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(err(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if c.gt && c.lt {
        return Err(err(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(c)
}

/// The shared body of the four commands. `relative` adds the command time,
/// `seconds` scales by 1000; either step overflowing is Redis's "invalid
/// expire time" error rather than a wrapped deadline.
fn expire_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    relative: bool,
    seconds: bool,
    name: &str,
) -> Reply {
    let cond = match expire_conditions(&args[3..]) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut when = match parse::int(&args[2]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return error::invalid_expire(name);
        }
        when *= 1000;
    }
    let now = ctx.now();
    let base = if relative { now } else { 0 };
    if when > i64::MAX - base {
        return error::invalid_expire(name);
    }
    when += base;

    let db = ctx.db();
    let key = &args[1];
    if !ctx.ks.contains(db, key) {
        return Reply::Integer(0);
    }
    // None stands for "no deadline", which GT treats as infinitely far and
    // LT as never beaten.
    let current = ctx.ks.expire_at(db, key);
    let refused = (cond.nx && current.is_some())
        || (cond.xx && current.is_none())
        || (cond.gt && current.is_none_or(|c| when <= c))
        || (cond.lt && current.is_some_and(|c| when >= c));
    if refused {
        return Reply::Integer(0);
    }
    if when <= now {
        // A deadline that has already passed deletes the key now, as Redis
        // does, instead of leaving a key that no read can ever see.
        ctx.ks.remove(db, key);
        ctx.signal(class::GENERIC, "del", key);
    } else {
        ctx.ks.set_expire(db, key, when);
        ctx.signal(class::GENERIC, "expire", key);
    }
    ctx.dirty(1);
    Reply::Integer(1)
}

// ---------------------------------------------------------------------------
// TTL family, PERSIST

command!(
    TTL,
    "Returns a key's remaining time to live in seconds, or -1 without one, -2 without the key.",
    ttl
);
command!(
    PTTL,
    "Returns a key's remaining time to live in milliseconds, or -1 without one, -2 without the key.",
    pttl
);
command!(
    EXPIRETIME,
    "Returns the Unix time in seconds at which a key expires, or -1 without one, -2 without the key.",
    expiretime
);
command!(
    PEXPIRETIME,
    "Returns the Unix time in milliseconds at which a key expires, or -1 without one, -2 without the key.",
    pexpiretime
);

/// TTL key
fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, args, false, false)
}

/// PTTL key
fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, args, true, false)
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, args, false, true)
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, args, true, true)
}

/// Seconds are rounded to the nearest, as Redis's `(ms + 500) / 1000`; the
/// sum is taken in 128 bits so a deadline near `i64::MAX` does not wrap.
fn ttl_generic(ctx: &mut Ctx, args: &[Bytes], ms: bool, absolute: bool) -> Reply {
    let db = ctx.db();
    let key = &args[1];
    if ctx.ks.get_read_notouch(db, key).is_none() {
        return Reply::Integer(-2);
    }
    let Some(at) = ctx.ks.expire_at(db, key) else {
        return Reply::Integer(-1);
    };
    let t = if absolute { at } else { at - ctx.now() }.max(0);
    if ms {
        Reply::Integer(t)
    } else {
        Reply::Integer(((t as i128 + 500) / 1000) as i64)
    }
}

command!(
    PERSIST,
    "Removes a key's deadline so that it no longer expires.",
    persist
);

/// PERSIST key
fn persist(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    if ctx.ks.persist(db, &args[1]) {
        ctx.signal(class::GENERIC, "persist", &args[1]);
        ctx.dirty(1);
        Reply::Integer(1)
    } else {
        Reply::Integer(0)
    }
}

// ---------------------------------------------------------------------------
// TYPE, KEYS, RANDOMKEY, SCAN

command!(
    TYPE,
    "Names the type of the value at a key, or `none` when there is no key.",
    type_cmd
);

/// TYPE key
///
/// A status reply, not a bulk string, as in Redis.
fn type_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let name = ctx
        .ks
        .get_read_notouch(db, &args[1])
        .map_or("none", |e| e.value.type_name());
    Reply::simple(name)
}

command!(
    KEYS,
    "Lists every key that matches a glob pattern; walks the whole database.",
    keys,
    Locking::Db
);

/// KEYS pattern
///
/// Keys whose deadline passed are left out but not deleted, as in Redis.
fn keys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let pattern = &args[1][..];
    let all = pattern == b"*";
    let mut out = Vec::new();
    ctx.ks.for_each_key(db, |k| {
        if all || glob_match(pattern, k, false) {
            out.push(Reply::bulk_copy(k));
        }
    });
    Reply::Array(out)
}

command!(
    RANDOMKEY,
    "Returns a key picked at random from the database, or null when it is empty.",
    randomkey,
    Locking::Db
);

/// RANDOMKEY
fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let db = ctx.db();
    match ctx.ks.random_key(db) {
        Some(k) => Reply::bulk_copy(&k),
        None => Reply::Null,
    }
}

command!(
    SCAN,
    "Walks the keyspace a batch at a time from a cursor, with optional pattern, batch size and type filters.",
    scan,
    Locking::Db
);

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor is a position in the key-hash space (see `Locked::scan`), so
/// a key present for the whole iteration is returned however the shards'
/// tables grow or shrink in between. COUNT bounds the keys visited, before
/// MATCH and TYPE filter them, so a batch may come back empty while the
/// cursor is not yet 0.
fn scan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse::scan_cursor(&args[1]) else {
        return err(INVALID_CURSOR);
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let has_value = args.len() - i >= 2;
        if parse::eq(&args[i], "count") && has_value {
            count = match parse::int(&args[i + 1]) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if count < 1 {
                return err(SYNTAX);
            }
        } else if parse::eq(&args[i], "match") && has_value {
            let p = &args[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else if parse::eq(&args[i], "type") && has_value {
            type_name = Some(&args[i + 1][..]);
        } else {
            return err(SYNTAX);
        }
        i += 2;
    }

    let db = ctx.db();
    let mut found: Vec<Key> = Vec::new();
    // Stale keys come too: as in Redis, each key that passes MATCH is looked
    // up, which deletes it if it is past its deadline. TYPE sees such a key
    // as `none` (so `TYPE none` returns it, deleted); without TYPE it is
    // dropped.
    let next = ctx.ks.scan_with_stale(db, cursor, count as usize, |k| {
        if pattern.is_none_or(|p| glob_match(p, k, false)) {
            found.push(k.clone());
        }
    });
    found.retain(|k| match type_name {
        Some(t) => {
            let actual = ctx
                .ks
                .get_read_notouch(db, k)
                .map_or("none", |e| e.value.type_name());
            actual.as_bytes().eq_ignore_ascii_case(t)
        }
        None => ctx.ks.contains(db, k),
    });
    let mut buf = itoa::Buffer::new();
    let cursor_text = Bytes::copy_from_slice(buf.format(next).as_bytes());
    Reply::Array(vec![
        Reply::Bulk(cursor_text),
        Reply::Array(found.iter().map(|k| Reply::bulk_copy(k)).collect()),
    ])
}

// ---------------------------------------------------------------------------
// RENAME, RENAMENX, MOVE, COPY

command!(
    RENAME,
    "Gives a key a new name, replacing any key already called that; keeps the deadline.",
    rename
);
command!(
    RENAMENX,
    "Gives a key a new name only if no key is called that yet; keeps the deadline.",
    renamenx
);

/// RENAME key newkey
fn rename(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rename_generic(ctx, args, false)
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rename_generic(ctx, args, true)
}

/// Renaming a key to itself still requires the key to exist, then changes
/// nothing (RENAMENX reports 0 since the name is taken, by itself).
fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Reply {
    let db = ctx.db();
    let (src, dst) = (&args[1], &args[2]);
    if !ctx.ks.contains(db, src) {
        return err(NO_SUCH_KEY);
    }
    let done = if nx { Reply::Integer(1) } else { Reply::ok() };
    if src == dst {
        return if nx { Reply::Integer(0) } else { done };
    }
    if nx && ctx.ks.contains(db, dst) {
        return Reply::Integer(0);
    }
    let deadline = ctx.ks.expire_at(db, src);
    let entry = ctx.ks.remove(db, src).expect("source checked above");
    ctx.ks.set_with_expire(db, dst, entry.value, deadline);
    // Redis adds the destination anew (`new`), then reports both names.
    ctx.created(db, dst);
    ctx.modified(db, src);
    ctx.modified(db, dst);
    ctx.notify(class::GENERIC, "rename_from", db, src);
    ctx.notify(class::GENERIC, "rename_to", db, dst);
    ctx.dirty(1);
    done
}

command!(
    MOVE,
    "Moves a key to another database unless a key of that name exists there.",
    move_cmd,
    Locking::Custom(move_locks)
);

/// The key in the selected database and, when the index parses, in the
/// target one.
fn move_locks(args: &[Bytes], db: usize) -> SmallVec<[(usize, usize); 4]> {
    let mut out = smallvec![(db, 1)];
    if let Some(n) = parse_canonical_i64(&args[2]).filter(|n| (0..=i32::MAX as i64).contains(n)) {
        out.push((n as usize, 1));
    }
    out
}

/// MOVE key db
fn move_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let target = match db_index(&args[2]).and_then(|n| db_in_range(n, ctx.server.store.databases()))
    {
        Ok(t) => t,
        Err(e) => return e,
    };
    if target == db {
        return err(SAME_OBJECT);
    }
    let key = &args[1];
    if !ctx.ks.contains(db, key) {
        return Reply::Integer(0);
    }
    if ctx.ks.contains(target, key) {
        return Reply::Integer(0);
    }
    let deadline = ctx.ks.expire_at(db, key);
    let entry = ctx.ks.remove(db, key).expect("source checked above");
    ctx.ks.set_with_expire(target, key, entry.value, deadline);
    ctx.created(target, key);
    ctx.modified(db, key);
    ctx.modified(target, key);
    ctx.notify(class::GENERIC, "move_from", db, key);
    ctx.notify(class::GENERIC, "move_to", target, key);
    ctx.dirty(1);
    Reply::Integer(1)
}

command!(
    COPY,
    "Copies a key's value and deadline to another key, possibly in another database.",
    copy,
    Locking::Custom(copy_locks)
);

/// COPY's options: the target database (None for the selected one) and
/// REPLACE. Errors come in argument order, as Redis reports them; with
/// `databases` at `usize::MAX` only the form of an index is checked.
fn copy_options(args: &[Bytes], databases: usize) -> CmdResult<(Option<usize>, bool)> {
    let mut target = None;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        if parse::eq(&args[j], "replace") {
            replace = true;
            j += 1;
        } else if parse::eq(&args[j], "db") && j + 1 < args.len() {
            target = Some(db_in_range(db_index(&args[j + 1])?, databases)?);
            j += 2;
        } else {
            return Err(err(SYNTAX));
        }
    }
    Ok((target, replace))
}

/// Source and destination in the selected database, plus the destination in
/// the target database when the options parse.
fn copy_locks(args: &[Bytes], db: usize) -> SmallVec<[(usize, usize); 4]> {
    let mut out = smallvec![(db, 1), (db, 2)];
    if let Ok((Some(t), _)) = copy_options(args, usize::MAX) {
        if t != db {
            out.push((t, 2));
        }
    }
    out
}

/// COPY source destination [DB destination-db] [REPLACE]
///
/// The copy is independent of the source (strings share immutable bytes,
/// which is the same thing) and carries the source's deadline.
fn copy(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let (target, replace) = match copy_options(args, ctx.server.store.databases()) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let target = target.unwrap_or(db);
    let (src, dst) = (&args[1], &args[2]);
    if target == db && src == dst {
        return err(SAME_OBJECT);
    }
    let Some(e) = ctx.ks.get_read(db, src) else {
        return Reply::Integer(0);
    };
    let value = e.value.clone();
    let deadline = ctx.ks.expire_at(db, src);
    if !replace && ctx.ks.contains(target, dst) {
        return Reply::Integer(0);
    }
    ctx.ks.set_with_expire(target, dst, value, deadline);
    // With REPLACE Redis deletes the old destination and adds the copy, so
    // `new` is raised either way.
    ctx.created(target, dst);
    ctx.modified(target, dst);
    ctx.notify(class::GENERIC, "copy_to", target, dst);
    ctx.dirty(1);
    Reply::Integer(1)
}

// ---------------------------------------------------------------------------
// OBJECT

container!(
    OBJECT,
    "Inspects how a key's value is stored: encoding, idle time, references."
);

command!(
    OBJECT_ENCODING,
    "Names the internal representation of the value at a key.",
    object_encoding
);
command!(
    OBJECT_FREQ,
    "Reports a key's access-frequency counter, which exists only under an LFU eviction policy.",
    object_freq
);
command!(
    OBJECT_IDLETIME,
    "Reports how many seconds have passed since a key was last read or written.",
    object_idletime
);
command!(
    OBJECT_REFCOUNT,
    "Reports how many references the value at a key has.",
    object_refcount
);
command!(
    OBJECT_HELP,
    "Describes the OBJECT subcommands.",
    object_help,
    Locking::None
);

/// OBJECT ENCODING key
///
/// Every OBJECT subcommand reads without refreshing the access time, or
/// IDLETIME would always answer 0 after itself.
fn object_encoding(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    match ctx.ks.get_read_notouch(db, &args[2]) {
        Some(e) => Reply::bulk(Bytes::from_static(e.value.encoding().as_bytes())),
        None => Reply::Null,
    }
}

/// OBJECT FREQ key
///
/// Ferrum has no LFU eviction policy, so there is never a counter to report;
/// as in Redis, a missing key still answers null before that error.
fn object_freq(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    match ctx.ks.get_read_notouch(db, &args[2]) {
        Some(_) => err(NOT_LFU),
        None => Reply::Null,
    }
}

/// OBJECT IDLETIME key
fn object_idletime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let now = ctx.now();
    match ctx.ks.get_read_notouch(db, &args[2]) {
        Some(e) => Reply::Integer(lru_idle_secs(e.lru, now) as i64),
        None => Reply::Null,
    }
}

/// OBJECT REFCOUNT key
///
/// Values are not shared between keys in Ferrum, so the answer is 1, except
/// where Redis answers with its shared-integer marker: small non-negative
/// integers, which clients may have learned to expect.
fn object_refcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    match ctx.ks.get_read_notouch(db, &args[2]) {
        Some(e) => match e.value.as_str() {
            Some(StrValue::Int(n)) if (0..SHARED_INTEGERS).contains(n) => {
                Reply::Integer(SHARED_REFCOUNT)
            }
            _ => Reply::Integer(1),
        },
        None => Reply::Null,
    }
}

/// OBJECT HELP
fn object_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Name the internal representation of the value stored at <key>.",
        "FREQ <key>",
        "    Report the logarithmic access-frequency counter of <key> (needs an",
        "    LFU maxmemory policy).",
        "IDLETIME <key>",
        "    Report the seconds since <key> was last accessed.",
        "REFCOUNT <key>",
        "    Report the number of references to the value stored at <key>.",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(LINES.iter().map(|l| Reply::simple(l)).collect())
}
