//! Set commands (the `set` group): SADD, SREM, SMEMBERS, SINTER, SUNION,
//! SDIFF and their STORE forms, SINTERCARD, SPOP, SRANDMEMBER, SMOVE, SSCAN.
//!
//! Each command follows Redis 7.2's `t_set.c`: the order of its checks (so a
//! request with several faults gets Redis's error), its reply shapes (SMEMBERS,
//! SINTER, SUNION, SDIFF and SPOP with a count reply with RESP3 sets;
//! SRANDMEMBER with a count with an array), and the encoding a result gets
//! (a STORE result is built member by member the way Redis builds it, so
//! OBJECT ENCODING agrees). Empty sets are never kept: the command that
//! empties a set deletes its key.

use bytes::Bytes;
use resp::Reply;
use storage::glob::glob_match;
use storage::set::Set;
use storage::{LimitValues, Value};

use crate::command;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, NOT_INTEGER, OUT_OF_RANGE_POSITIVE, SYNTAX, WRONGTYPE};
use crate::notify::class;
use crate::parse;

/// Unwraps a handler step, returning its error reply from the handler.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

/// SRANDMEMBER with a negative count may repeat members, so its reply can be
/// far larger than the set. Redis streams such a reply until the client's
/// output buffer limit closes the connection; Ferrum builds replies in
/// memory, so it refuses counts beyond this many members instead.
const MAX_RANDOM_REPLY: u64 = 1 << 24;

fn limits(ctx: &Ctx) -> LimitValues {
    ctx.server.store.limits.get()
}

/// The set at `key` for reading (a keyspace hit or miss is counted), or
/// WRONGTYPE.
fn read_set<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut Set>> {
    let db = ctx.db();
    match ctx.ks.get_read_mut(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// The set at `key` for writing, or WRONGTYPE.
fn write_set<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut Set>> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

fn bulks(members: Vec<Bytes>) -> Vec<Reply> {
    members.into_iter().map(Reply::Bulk).collect()
}

fn set_reply(s: &Set) -> Reply {
    Reply::Set(bulks(s.to_vec()))
}

// ---------------------------------------------------------------------------
// SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS

command!(
    SADD,
    "Adds members to a set, creating it if needed, and counts the ones that were new.",
    sadd
);

/// SADD key member [member ...]
///
/// A new set's encoding is chosen from the first member and the number of
/// members given, and an existing compact set that many members would
/// overflow becomes a hashtable first, as in Redis, even if some of them
/// are already members.
fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let lim = limits(ctx);
    let db = ctx.db();
    let members = &args[2..];
    let mut added = 0u64;
    match tri!(write_set(ctx, &args[1])) {
        Some(s) => {
            s.maybe_convert(members.len(), &lim);
            for m in members {
                added += u64::from(s.add(m, &lim));
            }
        }
        None => {
            let mut s = Set::create(&members[0], members.len(), &lim);
            for m in members {
                added += u64::from(s.add(m, &lim));
            }
            ctx.ks.set(db, &args[1], Value::Set(Box::new(s)), false);
            ctx.created(db, &args[1]);
        }
    }
    if added > 0 {
        ctx.signal(class::SET, "sadd", &args[1]);
    }
    ctx.dirty(added);
    Reply::Integer(added as i64)
}

command!(
    SREM,
    "Removes members from a set and counts the ones that were there; deletes the set once empty.",
    srem
);

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let Some(s) = tri!(write_set(ctx, &args[1])) else {
        return Reply::Integer(0);
    };
    let mut removed = 0u64;
    let mut emptied = false;
    for m in &args[2..] {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if removed > 0 {
        ctx.signal(class::SET, "srem", &args[1]);
    }
    if emptied {
        ctx.ks.remove(db, &args[1]);
        ctx.notify(class::GENERIC, "del", db, &args[1]);
    }
    ctx.dirty(removed);
    Reply::Integer(removed as i64)
}

command!(SCARD, "Counts the members of a set.", scard);

/// SCARD key
fn scard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let n = tri!(read_set(ctx, &args[1])).map_or(0, |s| s.len());
    Reply::Integer(n as i64)
}

command!(
    SISMEMBER,
    "Tells whether a value is a member of a set.",
    sismember
);

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let found = tri!(read_set(ctx, &args[1])).is_some_and(|s| s.contains(&args[2]));
    Reply::Integer(i64::from(found))
}

command!(
    SMISMEMBER,
    "Tells, for each of several values, whether it is a member of a set.",
    smismember
);

/// SMISMEMBER key member [member ...]
///
/// A missing key is an empty set: every answer is 0.
fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let s = tri!(read_set(ctx, &args[1]));
    Reply::Array(
        args[2..]
            .iter()
            .map(|m| Reply::Integer(i64::from(s.as_ref().is_some_and(|s| s.contains(m)))))
            .collect(),
    )
}

command!(SMEMBERS, "Returns every member of a set.", smembers);

/// SMEMBERS key
fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(read_set(ctx, &args[1])) {
        Some(s) => set_reply(s),
        None => Reply::Set(Vec::new()),
    }
}

// ---------------------------------------------------------------------------
// SINTER, SINTERSTORE, SINTERCARD

command!(
    SINTER,
    "Returns the members common to every given set.",
    sinter
);
command!(
    SINTERSTORE,
    "Stores the members common to every given set under a key and counts them.",
    sinterstore
);
command!(
    SINTERCARD,
    "Counts the members common to every given set, optionally stopping at a limit.",
    sintercard
);

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    inter_generic(ctx, &args[1..], None, None)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    inter_generic(ctx, &args[2..], Some(&args[1]), None)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
///
/// LIMIT 0 means no limit. Errors come in Redis's order: numkeys, then
/// the options, then the keys' types.
fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let numkeys = match parse::int(&args[1]) {
        Ok(n) if n >= 1 => n as u64,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    if numkeys > (args.len() - 2) as u64 {
        return err("ERR Number of keys can't be greater than number of args");
    }
    let numkeys = numkeys as usize;
    let mut limit = 0u64;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if parse::eq(&args[i], "limit") && i + 1 < args.len() {
            limit = match parse::int(&args[i + 1]) {
                Ok(n) if n >= 0 => n as u64,
                _ => return err("ERR LIMIT can't be negative"),
            };
            i += 2;
        } else {
            return err(SYNTAX);
        }
    }
    inter_generic(ctx, &args[2..2 + numkeys], None, Some(limit))
}

/// Looks up every key as a set (missing keys are `None`), or WRONGTYPE for
/// the first key of another type. Every key is checked even when an earlier
/// one is missing, as Redis does.
fn lookup_sets<'a>(ctx: &'a mut Ctx, keys: &[Bytes]) -> CmdResult<Vec<Option<&'a Set>>> {
    let db = ctx.db();
    let names: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    let entries = ctx.ks.read_entries(db, &names);
    let mut sets = Vec::with_capacity(entries.len());
    for e in entries {
        match e.map(|e| &e.value) {
            None => sets.push(None),
            Some(Value::Set(s)) => sets.push(Some(&**s)),
            Some(_) => return Err(err(WRONGTYPE)),
        }
    }
    Ok(sets)
}

/// Stores `result` at `dst` (replacing whatever was there and its time to
/// live) or, when it is empty, deletes `dst`; replies with its cardinality.
/// `event` is the command's keyspace event (`sinterstore`, ...); an empty
/// result that deletes `dst` raises `del` instead.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set, event: &'static str) -> Reply {
    let db = ctx.db();
    let n = result.len();
    if n > 0 {
        if ctx
            .ks
            .set(db, dst, Value::Set(Box::new(result)), false)
            .is_none()
        {
            ctx.created(db, dst);
        }
        ctx.signal(class::SET, event, dst);
        ctx.dirty(1);
    } else if ctx.ks.remove(db, dst).is_some() {
        ctx.signal(class::GENERIC, "del", dst);
        ctx.dirty(1);
    }
    Reply::Integer(n as i64)
}

/// What an intersection produced.
enum Inter {
    Count(u64),
    Members(Vec<Bytes>),
    Stored(Set),
}

/// The intersection, as Redis computes it: walk the smallest set and keep
/// the members every other set has. A STORE result starts as an intset when
/// the smallest set is one and as a listpack otherwise, grows through the
/// usual conversions, and becomes an intset at the end if every member is
/// an integer and few enough.
fn inter_generic(ctx: &mut Ctx, keys: &[Bytes], dst: Option<&Bytes>, card: Option<u64>) -> Reply {
    let lim = limits(ctx);
    let outcome = {
        let mut sets = tri!(lookup_sets(ctx, keys));
        if sets.iter().any(Option::is_none) {
            None
        } else {
            let mut sets: Vec<&Set> = sets.drain(..).map(|s| s.expect("checked")).collect();
            sets.sort_by_key(|s| s.len());
            let first = sets[0];
            let others: Vec<&Set> = sets[1..]
                .iter()
                .copied()
                .filter(|s| !std::ptr::eq(*s, first))
                .collect();
            let in_all = |m: &[u8]| others.iter().all(|s| s.contains(m));
            Some(if let Some(limit) = card {
                let mut n = 0u64;
                for m in first.members() {
                    if in_all(&m) {
                        n += 1;
                        if limit != 0 && n >= limit {
                            break;
                        }
                    }
                }
                Inter::Count(n)
            } else if dst.is_none() {
                let mut out = Vec::new();
                first.for_each(|m| {
                    if in_all(m) {
                        out.push(Bytes::copy_from_slice(m));
                    }
                });
                Inter::Members(out)
            } else {
                let mut result = if first.encoding() == "intset" {
                    Set::new_intset()
                } else {
                    Set::new_listpack()
                };
                first.for_each(|m| {
                    if in_all(m) {
                        result.add(m, &lim);
                    }
                });
                result.maybe_convert_to_intset(&lim);
                Inter::Stored(result)
            })
        }
    };
    match (outcome, dst) {
        (Some(Inter::Count(n)), _) => Reply::Integer(n as i64),
        (Some(Inter::Members(m)), _) => Reply::Set(bulks(m)),
        (Some(Inter::Stored(s)), Some(d)) => store_result(ctx, d, s, "sinterstore"),
        (Some(Inter::Stored(_)), None) => unreachable!("stored only with a destination"),
        // A missing key is an empty set: so is the intersection.
        (None, Some(d)) => store_result(ctx, d, Set::new_intset(), "sinterstore"),
        (None, None) if card.is_some() => Reply::Integer(0),
        (None, None) => Reply::Set(Vec::new()),
    }
}

// ---------------------------------------------------------------------------
// SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE

command!(SUNION, "Returns the members of all the given sets.", sunion);
command!(
    SUNIONSTORE,
    "Stores the members of all the given sets under a key and counts them.",
    sunionstore
);
command!(
    SDIFF,
    "Returns the members of the first set that no other given set has.",
    sdiff
);
command!(
    SDIFFSTORE,
    "Stores the members of the first set that no other given set has under a key and counts them.",
    sdiffstore
);

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    union_diff(ctx, &args[1..], None, false)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    union_diff(ctx, &args[2..], Some(&args[1]), false)
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    union_diff(ctx, &args[1..], None, true)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    union_diff(ctx, &args[2..], Some(&args[1]), true)
}

/// Union or difference, built as Redis builds it: the result starts as an
/// empty intset and members are added (and, for the second difference
/// algorithm, removed) in the order Redis visits them, so a stored result
/// gets the encoding Redis would give it. The difference picks between
/// "test each member of the first set against the others" and "copy the
/// first set, then remove the others' members" by Redis's cost estimate,
/// since the second can pass through a larger encoding.
fn union_diff(ctx: &mut Ctx, keys: &[Bytes], dst: Option<&Bytes>, diff: bool) -> Reply {
    let lim = limits(ctx);
    let result = {
        let sets = tri!(lookup_sets(ctx, keys));
        let mut result = Set::new_intset();
        if !diff {
            for s in sets.iter().flatten() {
                s.for_each(|m| {
                    result.add(m, &lim);
                });
            }
        } else if let Some(first) = sets[0] {
            // The same key named again: everything is subtracted.
            let same = keys[1..].iter().any(|k| k == &keys[0]);
            if !same {
                let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
                let n0 = first.len() as u64;
                let one_work = n0 * (1 + others.len() as u64) / 2;
                let two_work = n0 + others.iter().map(|s| s.len() as u64).sum::<u64>();
                if one_work <= two_work {
                    first.for_each(|m| {
                        if !others.iter().any(|s| s.contains(m)) {
                            result.add(m, &lim);
                        }
                    });
                } else {
                    first.for_each(|m| {
                        result.add(m, &lim);
                    });
                    for s in &others {
                        if result.is_empty() {
                            break;
                        }
                        s.for_each(|m| {
                            result.remove(m);
                        });
                    }
                }
            }
        }
        result
    };
    match dst {
        Some(d) => {
            let event = if diff { "sdiffstore" } else { "sunionstore" };
            store_result(ctx, d, result, event)
        }
        None => set_reply(&result),
    }
}

// ---------------------------------------------------------------------------
// SMOVE

command!(
    SMOVE,
    "Moves a member from one set to another, atomically.",
    smove
);

/// SMOVE source destination member
///
/// A missing source answers 0 before the destination's type is checked, as
/// in Redis. Moving within one set only tells whether the member is there.
fn smove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let (src, dst, m) = (&args[1], &args[2], &args[3]);
    if tri!(write_set(ctx, src)).is_none() {
        return Reply::Integer(0);
    }
    let dst_exists = tri!(write_set(ctx, dst)).is_some();
    if src == dst {
        let found = tri!(write_set(ctx, src)).is_some_and(|s| s.contains(m));
        return Reply::Integer(i64::from(found));
    }
    let s = tri!(write_set(ctx, src)).expect("source exists");
    if !s.remove(m) {
        return Reply::Integer(0);
    }
    let emptied = s.is_empty();
    ctx.notify(class::SET, "srem", db, src);
    if emptied {
        ctx.ks.remove(db, src);
        ctx.notify(class::GENERIC, "del", db, src);
    }
    ctx.modified(db, src);
    ctx.dirty(1);
    let lim = limits(ctx);
    if dst_exists {
        let d = tri!(write_set(ctx, dst)).expect("destination exists");
        if d.add(m, &lim) {
            ctx.signal(class::SET, "sadd", dst);
            ctx.dirty(1);
        }
    } else {
        let mut d = Set::create(m, 1, &lim);
        d.add(m, &lim);
        ctx.ks.set(db, dst, Value::Set(Box::new(d)), false);
        ctx.created(db, dst);
        ctx.signal(class::SET, "sadd", dst);
        ctx.dirty(1);
    }
    Reply::Integer(1)
}

// ---------------------------------------------------------------------------
// SPOP, SRANDMEMBER

command!(
    SPOP,
    "Removes and returns one or more random members of a set; deletes the set once empty.",
    spop
);

/// SPOP key [count]
///
/// Without a count: one member, or a null for a missing key. With a count
/// (which must not be negative): a set of distinct members, empty for a
/// missing key or a count of 0; a count at least the size takes the whole
/// set and deletes the key.
fn spop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    if args.len() > 3 {
        return err(SYNTAX);
    }
    if args.len() == 2 {
        let Some(s) = tri!(write_set(ctx, &args[1])) else {
            return Reply::Null;
        };
        let m = s.pop_random(&mut rand::thread_rng());
        let emptied = s.is_empty();
        ctx.signal(class::SET, "spop", &args[1]);
        if emptied {
            ctx.ks.remove(db, &args[1]);
            ctx.notify(class::GENERIC, "del", db, &args[1]);
        }
        ctx.dirty(1);
        return Reply::Bulk(m);
    }
    let count = match parse::int(&args[2]) {
        Ok(n) if n >= 0 => n as u64,
        _ => return err(OUT_OF_RANGE_POSITIVE),
    };
    let lim = limits(ctx);
    let Some(s) = tri!(write_set(ctx, &args[1])) else {
        return Reply::Set(Vec::new());
    };
    if count == 0 {
        return Reply::Set(Vec::new());
    }
    let size = s.len() as u64;
    if count >= size {
        let all = s.to_vec();
        ctx.ks.remove(db, &args[1]);
        ctx.signal(class::SET, "spop", &args[1]);
        ctx.notify(class::GENERIC, "del", db, &args[1]);
        ctx.dirty(size);
        return Reply::Set(bulks(all));
    }
    let popped = s.pop_many(count as usize, &mut rand::thread_rng(), &lim);
    ctx.signal(class::SET, "spop", &args[1]);
    ctx.dirty(count);
    Reply::Set(bulks(popped))
}

command!(
    SRANDMEMBER,
    "Returns random members of a set without removing them; a negative count allows repeats.",
    srandmember
);

/// SRANDMEMBER key [count]
///
/// Without a count: one member, or a null for a missing key. With a
/// positive count: up to that many distinct members. With a negative
/// count: exactly that many, repeats allowed. The count's range is
/// -(2^63-1)..2^63-1 so that it can be negated, as in Redis.
fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return err(SYNTAX);
    }
    let mut rng = rand::thread_rng();
    if args.len() == 2 {
        return match tri!(read_set(ctx, &args[1])) {
            Some(s) => Reply::Bulk(s.random_member(&mut rng)),
            None => Reply::Null,
        };
    }
    let l = match parse::int(&args[2]) {
        Ok(n) if n == i64::MIN => {
            return err(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        Ok(n) => n,
        Err(_) => return err(NOT_INTEGER),
    };
    let (count, unique) = (l.unsigned_abs(), l >= 0);
    let Some(s) = tri!(read_set(ctx, &args[1])) else {
        return Reply::Array(Vec::new());
    };
    if count == 0 {
        return Reply::Array(Vec::new());
    }
    if !unique || count == 1 {
        if count > MAX_RANDOM_REPLY {
            return err(
                "ERR count is too large: a reply with repeats is limited to 16777216 members",
            );
        }
        return Reply::Array(bulks(s.random_members(count as usize, &mut rng)));
    }
    if count >= s.len() as u64 {
        return set_to_array(s);
    }
    Reply::Array(bulks(s.distinct_random_members(count as usize, &mut rng)))
}

fn set_to_array(s: &Set) -> Reply {
    Reply::Array(bulks(s.to_vec()))
}

// ---------------------------------------------------------------------------
// SSCAN

command!(
    SSCAN,
    "Walks the members of a set a batch at a time from a cursor, with optional pattern and batch size.",
    sscan
);

/// SSCAN key cursor [MATCH pattern] [COUNT count]
///
/// Checks come in Redis's order: the cursor, then the key (a missing key
/// answers an empty scan whatever the options), then the options. An intset
/// or listpack is returned whole with cursor 0; a hashtable is walked by
/// member hash (see `Set::scan`), COUNT bounding the members visited before
/// MATCH filters them.
fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse::scan_cursor(&args[2]) else {
        return err("ERR invalid cursor");
    };
    let Some(s) = tri!(read_set(ctx, &args[1])) else {
        return Reply::Array(vec![Reply::bulk_copy(b"0"), Reply::Array(Vec::new())]);
    };
    let (count, pattern) = tri!(parse::scan_options(args, 3));
    let mut found = Vec::new();
    let next = s.scan(cursor, count, |m| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            found.push(Reply::bulk_copy(m));
        }
    });
    parse::scan_reply(next, found)
}
