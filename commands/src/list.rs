//! List commands (the `list` group): pushes and pops at both ends, indexed
//! access, ranges, LPOS, LREM, LINSERT, moves between lists, and the
//! blocking forms BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP.
//!
//! Every reply, error text and the order of the checks follow Redis 7.2's
//! `t_list.c`: for example LRANGE validates its indexes before looking at the
//! key, while LINDEX looks the key up first (a missing key answers nil even
//! for a malformed index).
//!
//! The blocking commands share the pop and move logic with their plain forms.
//! When nothing can be served they ask the dispatcher to park the client
//! ([`Ctx::block_on`]); the dispatcher runs the same handler again when a
//! watched key is written, so a handler is correct however often it runs.
//! Inside MULTI or a script ([`Ctx::may_block`] false) they answer the
//! timeout reply at once, as Redis does.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use resp::Reply;
use storage::list::{End, List};
use storage::{Locked, Value};

use crate::command;
use crate::ctx::Ctx;
use crate::error::{
    err, CmdResult, NOT_INTEGER, NO_SUCH_KEY, OUT_OF_RANGE_POSITIVE, SYNTAX, WRONGTYPE,
};
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

const INDEX_RANGE: &str = "ERR index out of range";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// The `list-max-listpack-size` in force (read on every write, as Redis does).
fn fill(ctx: &Ctx) -> i64 {
    ctx.server
        .store
        .limits
        .list_max_listpack_size
        .load(Ordering::Relaxed)
}

/// The list at `key` for writing (no hit or miss counted, blocked clients
/// told the key may have changed), or WRONGTYPE for another type.
fn write_list<'a>(
    ks: &'a mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> CmdResult<Option<&'a mut List>> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// The list at `key` for reading (counts a keyspace hit or miss).
fn read_list<'a>(ks: &'a mut Locked<'_>, db: usize, key: &[u8]) -> CmdResult<Option<&'a List>> {
    match ks.get_read(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::List(l) => Ok(Some(&**l)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// Redis's getRangeLongFromObjectOrReply: an integer within `[min, max]`;
/// `msg` replaces both the parse and the range error when given.
fn range_long(arg: &[u8], min: i64, max: i64, msg: Option<&'static str>) -> CmdResult<i64> {
    let n = parse::int_or(arg, msg.unwrap_or(NOT_INTEGER))?;
    if n < min || n > max {
        return Err(match msg {
            Some(m) => err(m),
            None => Reply::error(format!(
                "ERR value is out of range, value must between {min} and {max}"
            )),
        });
    }
    Ok(n)
}

/// LEFT or RIGHT, case-insensitively; a syntax error otherwise.
fn position(arg: &[u8]) -> CmdResult<End> {
    if parse::eq(arg, "left") {
        Ok(End::Head)
    } else if parse::eq(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(err(SYNTAX))
    }
}

/// A blocking timeout as a deadline (see [`parse::blocking_timeout`]).
fn timeout_deadline(ctx: &Ctx, arg: &[u8]) -> CmdResult<Option<i64>> {
    parse::blocking_timeout(arg, ctx.now())
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The keyspace event of a pop from `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// What Redis raises after elements were removed from the list at `key`
/// (its listElementsRemoved and the LTRIM/LREM equivalents): `event`, then
/// `del` when the list was emptied (and deleted), and the key modified.
fn removed_events(ctx: &mut Ctx, key: &[u8], event: &'static str, deleted: bool) {
    let db = ctx.db();
    ctx.notify(class::LIST, event, db, key);
    if deleted {
        ctx.notify(class::GENERIC, "del", db, key);
    }
    ctx.modified(db, key);
}

/// The elements of `items` as bulk replies.
fn bulks(items: Vec<Bytes>) -> Reply {
    Reply::Array(items.into_iter().map(Reply::Bulk).collect())
}

/// Resolves Redis's inclusive `start`/`stop` (negative from the tail)
/// against `len`: the first index and the number of elements, if any.
fn range_of(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 {
        llen.saturating_add(start)
    } else {
        start
    };
    let mut stop = if stop < 0 {
        llen.saturating_add(stop)
    } else {
        stop
    };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= llen {
        return None;
    }
    if stop >= llen {
        stop = llen - 1;
    }
    Some((start as usize, (stop - start + 1) as usize))
}

/// Pops up to `count` elements from one end of the list at `key`, in pop
/// order (LPOP, RPOP, LMPOP and the blocking pops all come here). Deletes
/// the key when it empties, and otherwise lets the list become compact
/// again. None when there is no list.
fn pop_from(ctx: &mut Ctx, key: &[u8], end: End, count: usize) -> CmdResult<Option<Vec<Bytes>>> {
    let db = ctx.db();
    let fill = fill(ctx);
    let Some(l) = write_list(&mut ctx.ks, db, key)? else {
        return Ok(None);
    };
    if l.is_empty() {
        return Ok(None);
    }
    let n = count.min(l.len());
    let items: Vec<Bytes> = match end {
        End::Head => l.iter().take(n).map(|e| e.to_bytes()).collect(),
        End::Tail => l.iter_rev().take(n).map(|e| e.to_bytes()).collect(),
    };
    let start = match end {
        End::Head => 0,
        End::Tail => l.len() - n,
    };
    l.delete_range(start, n);
    let empty = l.is_empty();
    if !empty {
        l.shrunk(fill);
    }
    if empty {
        ctx.ks.remove(db, key);
    }
    removed_events(ctx, key, pop_event(end), empty);
    ctx.dirty(n as u64);
    Ok(Some(items))
}

/// Pushes `items` in order at one end of the list at `key`, creating it,
/// and returns the new length (LPUSH, RPUSH, and the push half of moves).
/// Raises `new` when it creates the key, then `lpush`/`rpush` (one event
/// however many elements), as Redis's pushGenericCommand and
/// lmoveHandlePush do.
fn push_to(ctx: &mut Ctx, key: &[u8], end: End, items: &[&[u8]]) -> CmdResult<usize> {
    let db = ctx.db();
    let fill = fill(ctx);
    let bytes: usize = items.iter().map(|i| i.len()).sum();
    let len = if let Some(l) = write_list(&mut ctx.ks, db, key)? {
        l.will_grow(bytes, items.len(), fill);
        for it in items {
            l.push(end, it);
        }
        l.len()
    } else {
        let mut l = List::new();
        l.will_grow(bytes, items.len(), fill);
        for it in items {
            l.push(end, it);
        }
        let len = l.len();
        ctx.ks.set(db, key, Value::List(Box::new(l)), false);
        ctx.created(db, key);
        len
    };
    ctx.signal(class::LIST, push_event(end), key);
    Ok(len)
}

/// Moves one element from `from` of `src` to `to` of `dst` (LMOVE,
/// RPOPLPUSH and their blocking forms). None when `src` has no list; the
/// destination's type is only checked when there is something to move.
/// As in Redis's lmoveGenericCommand, the push's events (`new`, `lpush` /
/// `rpush` on the destination) come before the pop's (`lpop` / `rpop`,
/// then `del` when the source empties).
fn move_one(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult<Option<Bytes>> {
    let db = ctx.db();
    let fill = fill(ctx);
    match write_list(&mut ctx.ks, db, src)? {
        Some(l) if !l.is_empty() => {}
        _ => return Ok(None),
    }
    write_list(&mut ctx.ks, db, dst)?;
    let l = write_list(&mut ctx.ks, db, src)?.expect("source checked above");
    let v = l.pop(from).expect("source is not empty");
    let emptied = if src == dst {
        l.will_grow(v.len(), 1, fill);
        l.push(to, &v);
        l.shrunk(fill);
        ctx.signal(class::LIST, push_event(to), dst);
        false
    } else {
        let empty = l.is_empty();
        if empty {
            ctx.ks.remove(db, src);
        } else {
            l.shrunk(fill);
        }
        push_to(ctx, dst, to, &[&v])?;
        empty
    };
    removed_events(ctx, src, pop_event(from), emptied);
    ctx.dirty(1);
    Ok(Some(v))
}

// ---------------------------------------------------------------------------
// Pushes
// ---------------------------------------------------------------------------

/// LPUSH/RPUSH/LPUSHX/RPUSHX: `only_existing` is the X forms, which answer
/// 0 and create nothing when the key is missing.
fn push_generic(ctx: &mut Ctx, args: &[Bytes], end: End, only_existing: bool) -> Reply {
    let key = &args[1];
    let db = ctx.db();
    if tri!(write_list(&mut ctx.ks, db, key)).is_none() && only_existing {
        return Reply::Integer(0);
    }
    let items: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let len = tri!(push_to(ctx, key, end, &items));
    ctx.dirty(items.len() as u64);
    Reply::Integer(len as i64)
}

/// `LPUSH key element [element ...]`: adds elements at the head, each in
/// turn (so they end up in reverse order); creates the list.
fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Head, false)
}

/// `RPUSH key element [element ...]`: adds elements at the tail.
fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Tail, false)
}

/// `LPUSHX key element [element ...]`: LPUSH only onto an existing list.
fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Head, true)
}

/// `RPUSHX key element [element ...]`: RPUSH only onto an existing list.
fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Tail, true)
}

command!(
    LPUSH,
    "Prepends elements to a list, creating it when missing.",
    lpush
);
command!(
    RPUSH,
    "Appends elements to a list, creating it when missing.",
    rpush
);
command!(
    LPUSHX,
    "Prepends elements to a list only when the list already exists.",
    lpushx
);
command!(
    RPUSHX,
    "Appends elements to a list only when the list already exists.",
    rpushx
);

/// `LINSERT key BEFORE|AFTER pivot element`: inserts next to the first
/// occurrence of `pivot`. Answers the new length, -1 when there is no
/// pivot, 0 when there is no list.
fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let after = if parse::eq(&args[2], "after") {
        true
    } else if parse::eq(&args[2], "before") {
        false
    } else {
        return err(SYNTAX);
    };
    let db = ctx.db();
    let fill = fill(ctx);
    let Some(l) = tri!(write_list(&mut ctx.ks, db, &args[1])) else {
        return Reply::Integer(0);
    };
    // As in Redis, the list is made ready for the element before the pivot
    // is searched for, so it may change encoding even when nothing is added.
    l.will_grow(args[4].len(), 1, fill);
    if !l.insert(&args[3], &args[4], after) {
        return Reply::Integer(-1);
    }
    let len = l.len();
    ctx.signal(class::LIST, "linsert", &args[1]);
    ctx.dirty(1);
    Reply::Integer(len as i64)
}

command!(
    LINSERT,
    "Inserts an element before or after the first occurrence of a pivot element.",
    linsert
);

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/// `LLEN key`: the number of elements (0 for a missing key).
fn llen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    match tri!(read_list(&mut ctx.ks, db, &args[1])) {
        None => Reply::Integer(0),
        Some(l) => Reply::Integer(l.len() as i64),
    }
}

/// `LINDEX key index`: the element at an index (negative counts from the
/// tail), nil when out of range.
fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let Some(l) = tri!(read_list(&mut ctx.ks, db, &args[1])) else {
        return Reply::Null;
    };
    let index = tri!(parse::int(&args[2]));
    match l.get(index) {
        Some(v) => Reply::Bulk(v),
        None => Reply::Null,
    }
}

/// `LRANGE key start stop`: the elements between two inclusive indexes.
fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = tri!(parse::int(&args[2]));
    let stop = tri!(parse::int(&args[3]));
    let db = ctx.db();
    let Some(l) = tri!(read_list(&mut ctx.ks, db, &args[1])) else {
        return Reply::Array(Vec::new());
    };
    match range_of(start, stop, l.len()) {
        None => Reply::Array(Vec::new()),
        Some((first, n)) => parse::packed_bulks(l.iter_from(first).take(n), |buf, e| match e {
            storage::list::Elem::Str(s) => buf.extend_from_slice(s),
            storage::list::Elem::Int(i) => {
                buf.extend_from_slice(itoa::Buffer::new().format(i).as_bytes())
            }
        }),
    }
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`: the
/// index of matching elements. RANK picks the n-th match (negative: search
/// from the tail), COUNT asks for up to that many matches as an array (0 =
/// all), MAXLEN bounds the number of elements compared.
fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let elem = &args[2];
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = &args[j];
        if parse::eq(opt, "rank") && more {
            j += 1;
            rank = tri!(range_long(&args[j], -i64::MAX, i64::MAX, None));
            if rank == 0 {
                return err(RANK_ZERO);
            }
        } else if parse::eq(opt, "count") && more {
            j += 1;
            count = Some(tri!(range_long(
                &args[j],
                0,
                i64::MAX,
                Some("ERR COUNT can't be negative")
            )));
        } else if parse::eq(opt, "maxlen") && more {
            j += 1;
            maxlen = tri!(range_long(
                &args[j],
                0,
                i64::MAX,
                Some("ERR MAXLEN can't be negative")
            ));
        } else {
            return err(SYNTAX);
        }
        j += 1;
    }
    let from_tail = rank < 0;
    let rank = rank.unsigned_abs();
    let db = ctx.db();
    let Some(l) = tri!(read_list(&mut ctx.ks, db, &args[1])) else {
        return if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Null
        };
    };
    let len = l.len();
    let scan = if maxlen == 0 {
        len
    } else {
        len.min(maxlen as usize)
    };
    let want = match count {
        Some(0) => u64::MAX,
        Some(c) => c as u64,
        None => 1,
    };
    let mut found = Vec::new();
    let mut matches: u64 = 0;
    let mut visit = |i: usize, eq: bool| -> bool {
        if eq {
            matches += 1;
            if matches >= rank {
                let index = if from_tail { len - 1 - i } else { i };
                found.push(Reply::Integer(index as i64));
                return found.len() as u64 >= want;
            }
        }
        false
    };
    if from_tail {
        for (i, e) in l.iter_rev().take(scan).enumerate() {
            if visit(i, e.eq_bytes(elem)) {
                break;
            }
        }
    } else {
        for (i, e) in l.iter().take(scan).enumerate() {
            if visit(i, e.eq_bytes(elem)) {
                break;
            }
        }
    }
    match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Null),
    }
}

command!(LLEN, "Returns how many elements a list holds.", llen);
command!(LINDEX, "Returns the element at an index of a list.", lindex);
command!(
    LRANGE,
    "Returns the elements of a list between two indexes.",
    lrange
);
command!(
    LPOS,
    "Finds the indexes of elements equal to a value in a list.",
    lpos
);

// ---------------------------------------------------------------------------
// In-place changes
// ---------------------------------------------------------------------------

/// `LSET key index element`: replaces the element at an index.
fn lset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    let fill = fill(ctx);
    let Some(l) = tri!(write_list(&mut ctx.ks, db, &args[1])) else {
        return err(NO_SUCH_KEY);
    };
    let index = tri!(parse::int(&args[2]));
    l.will_grow(args[3].len(), 1, fill);
    if !l.set(index, &args[3]) {
        return err(INDEX_RANGE);
    }
    l.shrunk(fill);
    ctx.signal(class::LIST, "lset", &args[1]);
    ctx.dirty(1);
    Reply::ok()
}

/// `LTRIM key start stop`: keeps only the elements between two inclusive
/// indexes; an empty range deletes the list.
fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = tri!(parse::int(&args[2]));
    let stop = tri!(parse::int(&args[3]));
    let db = ctx.db();
    let fill = fill(ctx);
    let Some(l) = tri!(write_list(&mut ctx.ks, db, &args[1])) else {
        return Reply::ok();
    };
    let len = l.len();
    let (ltrim, rtrim) = match range_of(start, stop, len) {
        None => (len, 0),
        Some((first, n)) => (first, len - first - n),
    };
    l.delete_range(len - rtrim, rtrim);
    l.delete_range(0, ltrim);
    let empty = l.is_empty();
    if empty {
        ctx.ks.remove(db, &args[1]);
    } else {
        l.shrunk(fill);
    }
    // Redis raises `ltrim` even when nothing was cut.
    removed_events(ctx, &args[1], "ltrim", empty);
    ctx.dirty((ltrim + rtrim) as u64);
    Reply::ok()
}

/// `LREM key count element`: removes elements equal to `element`: the first
/// `count` (count > 0), the last `-count` (count < 0), or all (0).
fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let count = tri!(parse::int(&args[2]));
    let db = ctx.db();
    let fill = fill(ctx);
    let Some(l) = tri!(write_list(&mut ctx.ks, db, &args[1])) else {
        return Reply::Integer(0);
    };
    let removed = l.remove(count, &args[3]);
    let empty = l.is_empty();
    if empty {
        ctx.ks.remove(db, &args[1]);
    } else if removed > 0 {
        l.shrunk(fill);
    }
    if removed > 0 {
        removed_events(ctx, &args[1], "lrem", empty);
    }
    ctx.dirty(removed as u64);
    Reply::Integer(removed as i64)
}

command!(LSET, "Replaces the element at an index of a list.", lset);
command!(
    LTRIM,
    "Cuts a list down to the elements between two indexes.",
    ltrim
);
command!(LREM, "Removes elements equal to a value from a list.", lrem);

// ---------------------------------------------------------------------------
// Pops and moves
// ---------------------------------------------------------------------------

/// LPOP/RPOP: without a count, one element as a bulk string (nil when
/// missing); with one, up to that many as an array (a null array when
/// missing, an empty one for a count of 0).
fn pop_generic(ctx: &mut Ctx, args: &[Bytes], end: End) -> Reply {
    if args.len() > 3 {
        return crate::error::wrong_args(&ctx.entry.full_name);
    }
    let count = if args.len() == 3 {
        Some(tri!(range_long(
            &args[2],
            0,
            i64::MAX,
            Some(OUT_OF_RANGE_POSITIVE)
        )))
    } else {
        None
    };
    let db = ctx.db();
    let key = &args[1];
    if tri!(write_list(&mut ctx.ks, db, key)).is_none() {
        return if count.is_some() {
            Reply::NullArray
        } else {
            Reply::Null
        };
    }
    match count {
        Some(0) => Reply::Array(Vec::new()),
        Some(n) => match tri!(pop_from(ctx, key, end, n as usize)) {
            Some(items) => bulks(items),
            None => Reply::NullArray,
        },
        None => match tri!(pop_from(ctx, key, end, 1)) {
            Some(mut items) => Reply::Bulk(items.remove(0)),
            None => Reply::Null,
        },
    }
}

/// `LPOP key [count]`: removes and returns elements from the head.
fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, End::Head)
}

/// `RPOP key [count]`: removes and returns elements from the tail.
fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, End::Tail)
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: pops from one end of
/// `source` and pushes onto one end of `destination`, atomically.
fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let from = tri!(position(&args[3]));
    let to = tri!(position(&args[4]));
    match tri!(move_one(ctx, &args[1], &args[2], from, to)) {
        Some(v) => Reply::Bulk(v),
        None => Reply::Null,
    }
}

/// `RPOPLPUSH source destination`: LMOVE source destination RIGHT LEFT.
fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(move_one(ctx, &args[1], &args[2], End::Tail, End::Head)) {
        Some(v) => Reply::Bulk(v),
        None => Reply::Null,
    }
}

/// The arguments of LMPOP and BLMPOP from `numkeys_idx` on: the keys, the
/// end to pop from and the count (1 unless COUNT is given, once).
fn parse_mpop(args: &[Bytes], numkeys_idx: usize) -> CmdResult<(&[Bytes], End, usize)> {
    let numkeys = range_long(
        &args[numkeys_idx],
        1,
        i64::MAX,
        Some("ERR numkeys should be greater than 0"),
    )?;
    let where_idx = (numkeys_idx as u64)
        .saturating_add(numkeys as u64)
        .saturating_add(1);
    if where_idx >= args.len() as u64 {
        return Err(err(SYNTAX));
    }
    let where_idx = where_idx as usize;
    let end = position(&args[where_idx])?;
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = j + 1 < args.len();
        if count.is_none() && parse::eq(&args[j], "count") && more {
            j += 1;
            count = Some(range_long(
                &args[j],
                1,
                i64::MAX,
                Some("ERR count should be greater than 0"),
            )?);
        } else {
            return Err(err(SYNTAX));
        }
        j += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((&args[numkeys_idx + 1..where_idx], end, count))
}

/// Pops from the first of `keys` holding a list: `[key, [elements]]` with
/// `nested`, `[key, element]` without; None when all are empty.
fn pop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    end: End,
    count: usize,
    nested: bool,
) -> CmdResult<Option<Reply>> {
    for key in keys {
        if let Some(mut items) = pop_from(ctx, key, end, count)? {
            let second = if nested {
                bulks(items)
            } else {
                Reply::Bulk(items.remove(0))
            };
            return Ok(Some(Reply::Array(vec![Reply::Bulk(key.clone()), second])));
        }
    }
    Ok(None)
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`: pops up to
/// `count` elements from the first non-empty list, as `[key, [elements]]`.
fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (keys, end, count) = tri!(parse_mpop(args, 1));
    match tri!(pop_first(ctx, keys, end, count, true)) {
        Some(r) => r,
        None => Reply::NullArray,
    }
}

command!(
    LPOP,
    "Removes and returns elements from the head of a list.",
    lpop
);
command!(
    RPOP,
    "Removes and returns elements from the tail of a list.",
    rpop
);
command!(
    LMOVE,
    "Pops an element from one end of a list and pushes it onto an end of another.",
    lmove
);
command!(
    RPOPLPUSH,
    "Pops from the tail of a list and pushes onto the head of another (LMOVE RIGHT LEFT).",
    rpoplpush
);
command!(
    LMPOP,
    "Pops elements from the first non-empty list among several keys.",
    lmpop
);

// ---------------------------------------------------------------------------
// Blocking forms
// ---------------------------------------------------------------------------

/// Waits for `keys` when blocking is allowed. A client that cannot block
/// (MULTI, scripts) gets `now_reply` at once. A client that waited and
/// timed out always gets a null array: Redis 7.2 answers every list
/// timeout that way, even BLMOVE's and BRPOPLPUSH's, whose immediate
/// answer is a null bulk string.
fn wait_for(ctx: &mut Ctx, keys: Vec<Bytes>, deadline: Option<i64>, now_reply: Reply) -> Reply {
    if !ctx.may_block() {
        return now_reply;
    }
    ctx.block_on(keys, deadline, Reply::NullArray);
    Reply::NullArray
}

/// BLPOP/BRPOP: `args` are `key [key ...] timeout`.
fn blocking_pop(ctx: &mut Ctx, args: &[Bytes], end: End) -> Reply {
    let deadline = tri!(timeout_deadline(ctx, &args[args.len() - 1]));
    let keys = &args[1..args.len() - 1];
    if let Some(r) = tri!(pop_first(ctx, keys, end, 1, false)) {
        return r;
    }
    wait_for(ctx, keys.to_vec(), deadline, Reply::NullArray)
}

/// `BLPOP key [key ...] timeout`: LPOP from the first non-empty list,
/// answering `[key, element]`, or waits up to `timeout` seconds (0 =
/// forever) for one; a null array on timeout.
fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, End::Head)
}

/// `BRPOP key [key ...] timeout`: BLPOP from the tail.
fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, End::Tail)
}

/// BLMOVE/BRPOPLPUSH once the arguments are read: moves at once when the
/// source has a list, waits on the source otherwise (a null array on
/// timeout, a null bulk string at once when the client cannot block).
fn blocking_move(
    ctx: &mut Ctx,
    args: &[Bytes],
    from: End,
    to: End,
    deadline: Option<i64>,
) -> Reply {
    if let Some(v) = tri!(move_one(ctx, &args[1], &args[2], from, to)) {
        return Reply::Bulk(v);
    }
    wait_for(ctx, vec![args[1].clone()], deadline, Reply::Null)
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`: LMOVE, or
/// waits up to `timeout` seconds (0 = forever) for the source to get an
/// element.
fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let from = tri!(position(&args[3]));
    let to = tri!(position(&args[4]));
    let deadline = tri!(timeout_deadline(ctx, &args[5]));
    blocking_move(ctx, args, from, to, deadline)
}

/// `BRPOPLPUSH source destination timeout`: BLMOVE ... RIGHT LEFT.
fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let deadline = tri!(timeout_deadline(ctx, &args[3]));
    blocking_move(ctx, args, End::Tail, End::Head, deadline)
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`: LMPOP,
/// or waits for one of the lists (a null array on timeout). As in Redis the
/// other arguments are checked before the timeout.
fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (keys, end, count) = tri!(parse_mpop(args, 2));
    let deadline = tri!(timeout_deadline(ctx, &args[1]));
    if let Some(r) = tri!(pop_first(ctx, keys, end, count, true)) {
        return r;
    }
    wait_for(ctx, keys.to_vec(), deadline, Reply::NullArray)
}

command!(
    BLPOP,
    "Pops from the head of the first non-empty list, waiting for one if all are empty.",
    blpop
);
command!(
    BRPOP,
    "Pops from the tail of the first non-empty list, waiting for one if all are empty.",
    brpop
);
command!(
    BLMOVE,
    "Moves an element between lists like LMOVE, waiting for the source to get one.",
    blmove
);
command!(
    BRPOPLPUSH,
    "Moves the tail of a list onto the head of another, waiting for the source to get one.",
    brpoplpush
);
command!(
    BLMPOP,
    "Pops elements from the first non-empty list among several keys, waiting if all are empty.",
    blmpop
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(range_of(0, -1, 3), Some((0, 3)));
        assert_eq!(range_of(-100, 100, 3), Some((0, 3)));
        assert_eq!(range_of(1, 1, 3), Some((1, 1)));
        assert_eq!(range_of(2, 1, 3), None);
        assert_eq!(range_of(3, 5, 3), None);
        assert_eq!(range_of(0, -4, 3), None);
        assert_eq!(range_of(i64::MIN, i64::MAX, 3), Some((0, 3)));
        assert_eq!(range_of(0, 0, 0), None);
    }

    #[test]
    fn range_long_messages() {
        assert_eq!(range_long(b"5", 1, 10, None), Ok(5));
        assert_eq!(
            range_long(b"x", 1, 10, Some("ERR custom")),
            Err(err("ERR custom"))
        );
        assert_eq!(range_long(b"x", 1, 10, None), Err(err(NOT_INTEGER)));
        assert_eq!(
            range_long(b"-9223372036854775808", -i64::MAX, i64::MAX, None),
            Err(Reply::error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
            ))
        );
    }
}
