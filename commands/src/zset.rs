//! Sorted set commands (the `sorted_set` group): ZADD and its flags, scores,
//! ranks, the unified ZRANGE with its legacy forms, removals by range, the
//! set operations (ZUNION/ZINTER/ZDIFF and their STORE forms, ZINTERCARD),
//! pops (ZPOPMIN/ZPOPMAX/ZMPOP) and their blocking forms, ZRANDMEMBER and
//! ZSCAN.
//!
//! Replies, error texts and the order of the checks follow Redis 7.2's
//! `t_zset.c`: for example the set operations look their inputs up (and
//! report WRONGTYPE) before they parse WEIGHTS and AGGREGATE, while ZRANGE
//! parses every option before it looks at the key. Scores are
//! `Reply::Double` (bulk strings in RESP2); WITHSCORES replies are arrays of
//! `[member, score]` pairs in RESP3 and flat arrays in RESP2.

use std::collections::HashMap;

use bytes::Bytes;
use rand::Rng;
use resp::{Protocol, Reply};
use storage::zset::{LexBound, LexRange, ScoreRange, ZSet};
use storage::{LimitValues, Value};

use crate::command;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, NOT_FLOAT, OUT_OF_RANGE_POSITIVE, SYNTAX, WRONGTYPE};
use crate::notify::class;
use crate::parse;

const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const MINMAX_NOT_FLOAT: &str = "ERR min or max is not a float";
const MINMAX_NOT_LEX: &str = "ERR min or max not valid string range item";
const XX_NX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_PAIR: &str = "ERR INCR option supports a single increment-element pair";
const LIMIT_RANK: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const WITHSCORES_LEX: &str = "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
const NUMKEYS: &str = "ERR numkeys should be greater than 0";
const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
const INVALID_CURSOR: &str = "ERR invalid cursor";
const OUT_OF_RANGE: &str = "ERR value is out of range";

/// Unwraps a handler step, returning its error reply from the handler.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

// ---------------------------------------------------------------------------
// Number parsing as Redis does it (C's strtod, see `parse::strtod`)
// ---------------------------------------------------------------------------

/// A double as Redis's `string2d` reads it (`getDoubleFromObject`: ZADD and
/// ZINCRBY scores, WEIGHTS): strtod must consume the whole argument (so a NUL
/// byte anywhere fails), no leading space, no overflow to infinity or
/// underflow to zero (a subnormal is kept), no NaN.
fn parse_double(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b[0].is_ascii_whitespace() || b[0] == 0x0b || b.contains(&0) {
        return None;
    }
    match parse::strtod(b) {
        Some((v, erange)) if !v.is_nan() && !(erange && (v.is_infinite() || v == 0.0)) => Some(v),
        _ => None,
    }
}

fn score_arg(b: &[u8]) -> CmdResult<f64> {
    parse_double(b).ok_or_else(|| err(NOT_FLOAT))
}

/// One end of a score range: `(` makes it exclusive; strtod reads the rest
/// as a C string (so an empty text, or one starting with a NUL byte, is 0,
/// the text ends at a NUL, and overflow saturates to infinity).
fn score_bound(b: &[u8]) -> Option<(f64, bool)> {
    let (ex, t) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    match parse::strtod(t) {
        Some((v, _)) if !v.is_nan() => Some((v, ex)),
        _ => None,
    }
}

fn score_range(min: &[u8], max: &[u8]) -> CmdResult<ScoreRange> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        }),
        _ => Err(err(MINMAX_NOT_FLOAT)),
    }
}

/// One end of a lex range: `+` and `-` are compared as C strings (`+\0x` is
/// `+`), the member after `(` or `[` is taken whole.
fn lex_bound(b: &[u8]) -> Option<LexBound> {
    match b.first()? {
        b'+' if parse::c_str(b).len() == 1 => Some(LexBound::Max),
        b'-' if parse::c_str(b).len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Value {
            member: b[1..].to_vec(),
            exclusive: true,
        }),
        b'[' => Some(LexBound::Value {
            member: b[1..].to_vec(),
            exclusive: false,
        }),
        _ => None,
    }
}

fn lex_range(min: &[u8], max: &[u8]) -> CmdResult<LexRange> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(err(MINMAX_NOT_LEX)),
    }
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

fn limits(ctx: &Ctx) -> LimitValues {
    ctx.server.store.limits.get()
}

fn resp3(ctx: &Ctx) -> bool {
    ctx.client.protocol == Protocol::Resp3
}

/// The sorted set at `key` for reading (counts a hit or a miss).
fn read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut ZSet>> {
    let db = ctx.db();
    match ctx.ks.get_read_mut(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// The sorted set at `key` for writing.
fn write<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut ZSet>> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(err(WRONGTYPE)),
        },
    }
}

/// Deletes `key` if its sorted set became empty; tells whether it did.
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty = matches!(write(ctx, key), Ok(Some(z)) if z.is_empty());
    if empty {
        let db = ctx.db();
        ctx.ks.remove(db, key);
    }
    empty
}

/// What Redis raises after members were removed from the sorted set at
/// `key` (ZREM, the ZREMRANGEBY* forms, the pops): `event`, then `del` when
/// the set was emptied and deleted, and the key modified.
fn removed_events(ctx: &mut Ctx, key: &[u8], event: &'static str, deleted: bool) {
    let db = ctx.db();
    ctx.notify(class::ZSET, event, db, key);
    if deleted {
        ctx.notify(class::GENERIC, "del", db, key);
    }
    ctx.modified(db, key);
}

/// Members (and scores) as Redis replies them: members only; flat
/// `member, score, ...` in RESP2; `[member, score]` pairs in RESP3.
fn scored_reply(resp3: bool, items: Vec<(Bytes, f64)>, withscores: bool) -> Reply {
    if !withscores {
        return Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect());
    }
    if resp3 {
        Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        )
    } else {
        let mut out = Vec::with_capacity(items.len() * 2);
        for (m, s) in items {
            out.push(Reply::Bulk(m));
            out.push(Reply::Double(s));
        }
        Reply::Array(out)
    }
}

fn collect_ranks(z: &ZSet, start: usize, end: usize, rev: bool) -> Vec<(Bytes, f64)> {
    let mut out = Vec::new();
    z.for_ranks(start, end, rev, |m, s| {
        out.push((Bytes::copy_from_slice(m), s))
    });
    out
}

/// Stores `items` (distinct members) at `dst`, replacing whatever was there
/// (no deadline kept), or deletes `dst` when there is nothing to store.
/// Replies the number stored. `event` is the command's keyspace event
/// (`zunionstore`, `zrangestore`, ...), raised after `new` when `dst` is
/// created; deleting `dst` raises `del` instead.
fn store_result(ctx: &mut Ctx, dst: &[u8], items: &[(Bytes, f64)], event: &'static str) -> Reply {
    let db = ctx.db();
    if items.is_empty() {
        if ctx.ks.remove(db, dst).is_some() {
            ctx.signal(class::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return Reply::Integer(0);
    }
    let l = limits(ctx);
    let z = ZSet::from_members(items.iter().map(|(m, s)| (&m[..], *s)), &l);
    if ctx
        .ks
        .set(db, dst, Value::ZSet(Box::new(z)), false)
        .is_none()
    {
        ctx.created(db, dst);
    }
    ctx.signal(class::ZSET, event, dst);
    ctx.dirty(1);
    Reply::Integer(items.len() as i64)
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY
// ---------------------------------------------------------------------------

command!(
    ZADD,
    "Adds members with scores to a sorted set or updates their scores, with conditions (NX/XX/GT/LT), a changed count (CH) or an increment (INCR).",
    zadd
);
command!(
    ZINCRBY,
    "Adds an increment to a member's score, adding the member if needed; replies the new score.",
    zincrby
);

#[derive(Clone, Copy, Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

enum AddOutcome {
    Added,
    Updated,
    Unchanged,
    /// Skipped by NX/XX/GT/LT.
    Nop,
}

/// Redis's zsetAdd for one member: returns what happened and the score the
/// member ends with (for INCR).
fn zadd_one(
    z: &mut ZSet,
    member: &[u8],
    score: f64,
    f: AddFlags,
    l: &LimitValues,
) -> CmdResult<(AddOutcome, f64)> {
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return Ok((AddOutcome::Nop, cur));
            }
            let new = if f.incr {
                let n = cur + score;
                if n.is_nan() {
                    return Err(err(NAN_SCORE));
                }
                n
            } else {
                score
            };
            if (f.lt && new >= cur) || (f.gt && new <= cur) {
                return Ok((AddOutcome::Nop, cur));
            }
            if new != cur {
                z.insert(member, new, l);
                Ok((AddOutcome::Updated, new))
            } else {
                Ok((AddOutcome::Unchanged, cur))
            }
        }
        None => {
            if f.xx {
                return Ok((AddOutcome::Nop, 0.0));
            }
            z.insert(member, score, l);
            Ok((AddOutcome::Added, score))
        }
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
///
/// Every score is parsed before the key is looked at, so a bad score leaves
/// the set untouched. A new key gets the encoding the number of pairs and
/// the longest member call for, as Redis's zsetTypeCreate chooses.
fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let mut f = AddFlags::default();
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if parse::eq_c(a, "nx") {
            f.nx = true;
        } else if parse::eq_c(a, "xx") {
            f.xx = true;
        } else if parse::eq_c(a, "gt") {
            f.gt = true;
        } else if parse::eq_c(a, "lt") {
            f.lt = true;
        } else if parse::eq_c(a, "ch") {
            ch = true;
        } else if parse::eq_c(a, "incr") {
            f.incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return err(SYNTAX);
    }
    if f.nx && f.xx {
        return err(XX_NX);
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return err(GT_LT_NX);
    }
    if f.incr && rest.len() > 2 {
        return err(INCR_PAIR);
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks(2) {
        pairs.push((tri!(score_arg(&p[0])), &p[1]));
    }
    let l = limits(ctx);
    let db = ctx.db();
    let exists = tri!(write(ctx, key)).is_some();
    if !exists {
        if f.xx {
            return if f.incr {
                Reply::Null
            } else {
                Reply::Integer(0)
            };
        }
        let max_len = pairs.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
        let z = ZSet::with_hint(pairs.len(), max_len, &l);
        ctx.ks.set(db, key, Value::ZSet(Box::new(z)), false);
        ctx.created(db, key);
    }
    let z = tri!(write(ctx, key)).expect("present");
    let (mut added, mut updated) = (0i64, 0i64);
    let mut last = None;
    for (score, member) in pairs {
        let (outcome, s) = tri!(zadd_one(z, member, score, f, &l));
        match outcome {
            AddOutcome::Added => added += 1,
            AddOutcome::Updated => updated += 1,
            AddOutcome::Unchanged => {}
            AddOutcome::Nop => continue,
        }
        last = Some(s);
    }
    if added + updated > 0 {
        let event = if f.incr { "zincr" } else { "zadd" };
        ctx.signal(class::ZSET, event, key);
    }
    ctx.dirty((added + updated) as u64);
    if f.incr {
        last.map_or(Reply::Null, Reply::Double)
    } else {
        Reply::Integer(if ch { added + updated } else { added })
    }
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, member) = (&args[1], &args[3]);
    let incr = tri!(score_arg(&args[2]));
    let l = limits(ctx);
    let db = ctx.db();
    if tri!(write(ctx, key)).is_none() {
        let z = ZSet::with_hint(1, member.len(), &l);
        ctx.ks.set(db, key, Value::ZSet(Box::new(z)), false);
        ctx.created(db, key);
    }
    let z = tri!(write(ctx, key)).expect("present");
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    let (outcome, s) = tri!(zadd_one(z, member, incr, f, &l));
    // As for ZADD INCR: an increment that leaves the score as it was
    // changes nothing and raises nothing.
    if matches!(outcome, AddOutcome::Added | AddOutcome::Updated) {
        ctx.signal(class::ZSET, "zincr", key);
        ctx.dirty(1);
    }
    Reply::Double(s)
}

// ---------------------------------------------------------------------------
// ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT
// ---------------------------------------------------------------------------

command!(ZCARD, "Counts the members of a sorted set.", zcard);
command!(ZSCORE, "Replies a member's score, or null.", zscore);
command!(
    ZMSCORE,
    "Replies the scores of several members, null for those missing.",
    zmscore
);
command!(
    ZRANK,
    "Replies a member's position from the lowest score, optionally with its score.",
    zrank
);
command!(
    ZREVRANK,
    "Replies a member's position from the highest score, optionally with its score.",
    zrevrank
);
command!(
    ZCOUNT,
    "Counts the members whose score lies within a range.",
    zcount
);
command!(
    ZLEXCOUNT,
    "Counts the members within a lexicographic range (for sets of equal scores).",
    zlexcount
);

/// ZCARD key
fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let n = tri!(read(ctx, &args[1])).map_or(0, |z| z.len());
    Reply::Integer(n as i64)
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(read(ctx, &args[1])).and_then(|z| z.score(&args[2])) {
        Some(s) => Reply::Double(s),
        None => Reply::Null,
    }
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let z = tri!(read(ctx, &args[1]));
    let out = args[2..]
        .iter()
        .map(|m| match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => Reply::Double(s),
            None => Reply::Null,
        })
        .collect();
    Reply::Array(out)
}

fn rank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> Reply {
    let withscore = args.len() == 4;
    if withscore && !parse::eq_c(&args[3], "withscore") {
        return err(SYNTAX);
    }
    let missing = if withscore {
        Reply::NullArray
    } else {
        Reply::Null
    };
    let Some(z) = tri!(read(ctx, &args[1])) else {
        return missing;
    };
    let len = z.len();
    let Some((rank, score)) = z.rank(&args[2]) else {
        return missing;
    };
    let rank = if rev { len - 1 - rank } else { rank } as i64;
    if withscore {
        Reply::Array(vec![Reply::Integer(rank), Reply::Double(score)])
    } else {
        Reply::Integer(rank)
    }
}

/// ZRANK key member [WITHSCORE]
fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rank_generic(ctx, args, false)
}

/// ZREVRANK key member [WITHSCORE]
fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rank_generic(ctx, args, true)
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let r = tri!(score_range(&args[2], &args[3]));
    let n = tri!(read(ctx, &args[1])).map_or(0, |z| {
        let (a, b) = z.score_span(&r);
        b - a
    });
    Reply::Integer(n as i64)
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let r = tri!(lex_range(&args[2], &args[3]));
    let n = tri!(read(ctx, &args[1])).map_or(0, |z| {
        let (a, b) = z.lex_span(&r);
        b - a
    });
    Reply::Integer(n as i64)
}

// ---------------------------------------------------------------------------
// ZRANGE and its legacy forms, ZRANGESTORE
// ---------------------------------------------------------------------------

command!(
    ZRANGE,
    "Replies members by position, score (BYSCORE) or lexicographic range (BYLEX), ascending or reversed (REV), with LIMIT and WITHSCORES.",
    zrange
);
command!(
    ZRANGESTORE,
    "Stores the members a ZRANGE would reply into a destination sorted set.",
    zrangestore
);
command!(
    ZREVRANGE,
    "Replies members by position from the highest score.",
    zrevrange
);
command!(
    ZRANGEBYSCORE,
    "Replies members within a score range, lowest first.",
    zrangebyscore
);
command!(
    ZREVRANGEBYSCORE,
    "Replies members within a score range (max first), highest first.",
    zrevrangebyscore
);
command!(
    ZRANGEBYLEX,
    "Replies members within a lexicographic range, ascending.",
    zrangebylex
);
command!(
    ZREVRANGEBYLEX,
    "Replies members within a lexicographic range (max first), descending.",
    zrevrangebylex
);

#[derive(Clone, Copy, PartialEq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

enum RangeSpec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Ascending ranks `[start, end]` for rank arguments after Redis's
/// adjustment of negative indexes, or None when the range is empty.
fn rank_bounds(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { start + llen } else { start };
    let mut end = if end < 0 { end + llen } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// The members selected by a range, in reply order.
fn select(z: &ZSet, spec: &RangeSpec, rev: bool, offset: i64, limit: i64) -> Vec<(Bytes, f64)> {
    let len = z.len();
    let (first, end) = match spec {
        RangeSpec::Rank(start, stop) => {
            let Some((a, b)) = rank_bounds(*start, *stop, len) else {
                return Vec::new();
            };
            // In reverse, positions count from the highest score.
            return if rev {
                collect_ranks(z, len - 1 - b, len - 1 - a, true)
            } else {
                collect_ranks(z, a, b, false)
            };
        }
        RangeSpec::Score(r) => z.score_span(r),
        RangeSpec::Lex(r) => z.lex_span(r),
    };
    let n = end - first;
    // A negative offset skips everything in Redis; a negative limit is none.
    if offset < 0 || offset as u64 >= n as u64 {
        return Vec::new();
    }
    let offset = offset as usize;
    let avail = n - offset;
    let take = if limit < 0 {
        avail
    } else {
        avail.min(limit as usize)
    };
    if take == 0 {
        return Vec::new();
    }
    if rev {
        let top = end - 1 - offset;
        collect_ranks(z, top + 1 - take, top, true)
    } else {
        let a = first + offset;
        collect_ranks(z, a, a + take - 1, false)
    }
}

/// Redis's zrangeGenericCommand: `argc_start` is the index of the source
/// key; `rtype` and `dir` are fixed by the legacy forms and chosen by
/// options in ZRANGE and ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    argc_start: usize,
    store: bool,
    mut rtype: RangeType,
    mut dir: Dir,
) -> Reply {
    let key = &args[argc_start];
    let mut minidx = argc_start + 1;
    let mut maxidx = argc_start + 2;
    let mut withscores = false;
    let mut offset = 0i64;
    let mut limit = -1i64;
    let mut j = argc_start + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && parse::eq_c(a, "withscores") {
            withscores = true;
        } else if parse::eq_c(a, "limit") && left >= 2 {
            offset = tri!(parse::int(&args[j + 1]));
            limit = tri!(parse::int(&args[j + 2]));
            j += 2;
        } else if dir == Dir::Auto && parse::eq_c(a, "rev") {
            dir = Dir::Reverse;
        } else if rtype == RangeType::Auto && parse::eq_c(a, "bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && parse::eq_c(a, "byscore") {
            rtype = RangeType::Score;
        } else {
            return err(SYNTAX);
        }
        j += 1;
    }
    if dir == Dir::Auto {
        dir = Dir::Forward;
    }
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    if limit != -1 && rtype == RangeType::Rank {
        return err(LIMIT_RANK);
    }
    if withscores && rtype == RangeType::Lex {
        return err(WITHSCORES_LEX);
    }
    let rev = dir == Dir::Reverse;
    if rev && rtype != RangeType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let spec = match rtype {
        RangeType::Score => RangeSpec::Score(tri!(score_range(&args[minidx], &args[maxidx]))),
        RangeType::Lex => RangeSpec::Lex(tri!(lex_range(&args[minidx], &args[maxidx]))),
        _ => RangeSpec::Rank(
            tri!(parse::int(&args[minidx])),
            tri!(parse::int(&args[maxidx])),
        ),
    };
    let items = match tri!(read(ctx, key)) {
        None => Vec::new(),
        Some(z) => select(z, &spec, rev, offset, limit),
    };
    if store {
        return store_result(ctx, &args[1], &items, "zrangestore");
    }
    scored_reply(resp3(ctx), items, withscores)
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, false, RangeType::Auto, Dir::Auto)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 2, true, RangeType::Auto, Dir::Auto)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, false, RangeType::Rank, Dir::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, false, RangeType::Score, Dir::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, false, RangeType::Score, Dir::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, false, RangeType::Lex, Dir::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zrange_generic(ctx, args, 1, false, RangeType::Lex, Dir::Reverse)
}

// ---------------------------------------------------------------------------
// ZREM, ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX
// ---------------------------------------------------------------------------

command!(ZREM, "Removes members from a sorted set.", zrem);
command!(
    ZREMRANGEBYRANK,
    "Removes the members within a range of positions.",
    zremrangebyrank
);
command!(
    ZREMRANGEBYSCORE,
    "Removes the members within a score range.",
    zremrangebyscore
);
command!(
    ZREMRANGEBYLEX,
    "Removes the members within a lexicographic range.",
    zremrangebylex
);

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(z) = tri!(write(ctx, key)) else {
        return Reply::Integer(0);
    };
    let mut n = 0;
    for m in &args[2..] {
        if z.remove(m).is_some() {
            n += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if n > 0 {
        let deleted = drop_if_empty(ctx, key);
        removed_events(ctx, key, "zrem", deleted);
        ctx.dirty(n);
    }
    Reply::Integer(n as i64)
}

fn zremrange_generic(ctx: &mut Ctx, args: &[Bytes], spec: RangeSpec) -> Reply {
    let key = &args[1];
    let Some(z) = tri!(write(ctx, key)) else {
        return Reply::Integer(0);
    };
    let (a, b) = match &spec {
        RangeSpec::Rank(start, stop) => match rank_bounds(*start, *stop, z.len()) {
            Some((a, b)) => (a, b + 1),
            None => (0, 0),
        },
        RangeSpec::Score(r) => z.score_span(r),
        RangeSpec::Lex(r) => z.lex_span(r),
    };
    let n = z.remove_ranks(a, b);
    if n > 0 {
        let deleted = drop_if_empty(ctx, key);
        let event = match spec {
            RangeSpec::Rank(..) => "zremrangebyrank",
            RangeSpec::Score(_) => "zremrangebyscore",
            RangeSpec::Lex(_) => "zremrangebylex",
        };
        removed_events(ctx, key, event, deleted);
        ctx.dirty(n as u64);
    }
    Reply::Integer(n as i64)
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = tri!(parse::int(&args[2]));
    let stop = tri!(parse::int(&args[3]));
    zremrange_generic(ctx, args, RangeSpec::Rank(start, stop))
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let r = tri!(score_range(&args[2], &args[3]));
    zremrange_generic(ctx, args, RangeSpec::Score(r))
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let r = tri!(lex_range(&args[2], &args[3]));
    zremrange_generic(ctx, args, RangeSpec::Lex(r))
}

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------

command!(
    ZUNION,
    "Replies the union of sorted sets (plain sets count with score 1), with WEIGHTS and AGGREGATE.",
    zunion
);
command!(
    ZUNIONSTORE,
    "Stores the union of sorted sets (plain sets count with score 1) in a destination key.",
    zunionstore
);
command!(
    ZINTER,
    "Replies the intersection of sorted sets (plain sets count with score 1), with WEIGHTS and AGGREGATE.",
    zinter
);
command!(
    ZINTERSTORE,
    "Stores the intersection of sorted sets (plain sets count with score 1) in a destination key.",
    zinterstore
);
command!(
    ZINTERCARD,
    "Counts the members of the intersection of sorted sets, optionally stopping at a LIMIT.",
    zintercard
);
command!(
    ZDIFF,
    "Replies the members of the first sorted set that are in none of the others.",
    zdiff
);
command!(
    ZDIFFSTORE,
    "Stores the members of the first sorted set that are in none of the others.",
    zdiffstore
);

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis settles on 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input of a set operation, copied out of the keyspace.
struct Src {
    items: Vec<(Bytes, f64)>,
    weight: f64,
}

/// Redis's zunionInterDiffGenericCommand. `nk` is the index of numkeys;
/// `dst` the destination of the STORE forms.
fn setop_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    dst: Option<&Bytes>,
    nk: usize,
    op: SetOp,
    card_only: bool,
) -> Reply {
    let setnum = tri!(parse::int(&args[nk]));
    if setnum < 1 {
        return Reply::error(format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.entry.full_name
        ));
    }
    if setnum as u64 > (args.len() - nk - 1) as u64 {
        return err(SYNTAX);
    }
    let setnum = setnum as usize;
    // Inputs are read (and their types checked) before options are parsed.
    let mut srcs = Vec::with_capacity(setnum);
    for key in &args[nk + 1..nk + 1 + setnum] {
        let db = ctx.db();
        let items = match ctx.ks.get_read(db, key) {
            None => Vec::new(),
            Some(e) => match &e.value {
                Value::ZSet(z) => z
                    .iter()
                    .map(|(m, s)| (Bytes::copy_from_slice(m), s))
                    .collect(),
                Value::Set(s) => {
                    let mut v = Vec::with_capacity(s.len());
                    s.for_each(|m| v.push((Bytes::copy_from_slice(m), 1.0)));
                    v
                }
                _ => return err(WRONGTYPE),
            },
        };
        srcs.push(Src { items, weight: 1.0 });
    }
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = nk + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && parse::eq_c(a, "weights") {
            j += 1;
            for src in srcs.iter_mut() {
                src.weight = tri!(parse_double(&args[j]).ok_or_else(|| err(WEIGHT_NOT_FLOAT)));
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && parse::eq_c(a, "aggregate") {
            let v = &args[j + 1];
            how = if parse::eq_c(v, "sum") {
                Aggregate::Sum
            } else if parse::eq_c(v, "min") {
                Aggregate::Min
            } else if parse::eq_c(v, "max") {
                Aggregate::Max
            } else {
                return err(SYNTAX);
            };
            j += 2;
        } else if dst.is_none() && !card_only && parse::eq_c(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && parse::eq_c(a, "limit") {
            let n = tri!(parse::int_or(&args[j + 1], LIMIT_NEGATIVE));
            if n < 0 {
                return err(LIMIT_NEGATIVE);
            }
            limit = n as usize;
            j += 2;
        } else {
            return err(SYNTAX);
        }
    }

    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut result: Vec<(Bytes, f64)> = match op {
        SetOp::Union => {
            srcs.sort_by_key(|s| s.items.len());
            let mut acc: HashMap<Bytes, f64> = HashMap::new();
            for src in &srcs {
                for (m, s) in &src.items {
                    let v = weighted(*s, src.weight);
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, v, how),
                        None => {
                            acc.insert(m.clone(), v);
                        }
                    }
                }
            }
            acc.into_iter().collect()
        }
        SetOp::Inter => {
            srcs.sort_by_key(|s| s.items.len());
            if srcs[0].items.is_empty() {
                Vec::new()
            } else {
                let maps: Vec<HashMap<&Bytes, f64>> = srcs[1..]
                    .iter()
                    .map(|s| s.items.iter().map(|(m, v)| (m, *v)).collect())
                    .collect();
                let mut out = Vec::new();
                'outer: for (m, s) in &srcs[0].items {
                    let mut score = weighted(*s, srcs[0].weight);
                    for (k, map) in maps.iter().enumerate() {
                        match map.get(m) {
                            Some(v) => aggregate(&mut score, v * srcs[k + 1].weight, how),
                            None => continue 'outer,
                        }
                    }
                    out.push((m.clone(), score));
                    if card_only && limit > 0 && out.len() >= limit {
                        break;
                    }
                }
                out
            }
        }
        SetOp::Diff => {
            let others: Vec<HashMap<&Bytes, ()>> = srcs[1..]
                .iter()
                .map(|s| s.items.iter().map(|(m, _)| (m, ())).collect())
                .collect();
            srcs[0]
                .items
                .iter()
                .filter(|(m, _)| !others.iter().any(|o| o.contains_key(m)))
                .cloned()
                .collect()
        }
    };
    if card_only {
        return Reply::Integer(result.len() as i64);
    }
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    let event = match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    match dst {
        Some(d) => store_result(ctx, d, &result, event),
        None => scored_reply(resp3(ctx), result, withscores),
    }
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setop_generic(ctx, args, None, 1, SetOp::Union, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setop_generic(ctx, args, Some(&args[1]), 2, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setop_generic(ctx, args, None, 1, SetOp::Inter, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setop_generic(ctx, args, Some(&args[1]), 2, SetOp::Inter, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setop_generic(ctx, args, None, 1, SetOp::Inter, true)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setop_generic(ctx, args, None, 1, SetOp::Diff, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setop_generic(ctx, args, Some(&args[1]), 2, SetOp::Diff, false)
}

// ---------------------------------------------------------------------------
// Pops: ZPOPMIN, ZPOPMAX, ZMPOP and the blocking BZPOPMIN, BZPOPMAX, BZMPOP
// ---------------------------------------------------------------------------

command!(
    ZPOPMIN,
    "Removes and replies the members with the lowest scores.",
    zpopmin
);
command!(
    ZPOPMAX,
    "Removes and replies the members with the highest scores.",
    zpopmax
);
command!(
    ZMPOP,
    "Pops the lowest or highest members from the first non-empty sorted set of several.",
    zmpop
);
command!(
    BZPOPMIN,
    "Pops the lowest member from the first non-empty sorted set, waiting up to a timeout for one.",
    bzpopmin
);
command!(
    BZPOPMAX,
    "Pops the highest member from the first non-empty sorted set, waiting up to a timeout for one.",
    bzpopmax
);
command!(
    BZMPOP,
    "Pops the lowest or highest members from the first non-empty sorted set, waiting up to a timeout.",
    bzmpop
);

/// Pops up to `count` members from the low (or high, `max`) end of the set
/// at `key`, which the caller checked is a sorted set, deleting the key when
/// it empties. Shared by every pop command.
fn pop_from(ctx: &mut Ctx, key: &[u8], max: bool, count: usize) -> Vec<(Bytes, f64)> {
    let Ok(Some(z)) = write(ctx, key) else {
        return Vec::new();
    };
    let len = z.len();
    let n = count.min(len);
    if n == 0 {
        return Vec::new();
    }
    let items = if max {
        let v = collect_ranks(z, len - n, len - 1, true);
        z.remove_ranks(len - n, len);
        v
    } else {
        let v = collect_ranks(z, 0, n - 1, false);
        z.remove_ranks(0, n);
        v
    };
    let deleted = drop_if_empty(ctx, key);
    removed_events(ctx, key, if max { "zpopmax" } else { "zpopmin" }, deleted);
    ctx.dirty(n as u64);
    items
}

/// The first of `keys` that holds a sorted set (WRONGTYPE for another type
/// met before it), as Redis scans the keys of the multi-key pops.
fn first_nonempty<'k>(ctx: &mut Ctx, keys: &'k [Bytes]) -> CmdResult<Option<&'k Bytes>> {
    for k in keys {
        if let Some(z) = write(ctx, k)? {
            if !z.is_empty() {
                return Ok(Some(k));
            }
        }
    }
    Ok(None)
}

fn zpop_generic(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Reply {
    // The argument count is checked before the count is parsed.
    if args.len() > 3 {
        return err(SYNTAX);
    }
    let count = if args.len() > 2 {
        let n = tri!(parse::int_or(&args[2], OUT_OF_RANGE_POSITIVE));
        if n < 0 {
            return err(OUT_OF_RANGE_POSITIVE);
        }
        Some(n as usize)
    } else {
        None
    };
    let key = &args[1];
    if tri!(write(ctx, key)).is_none() {
        return Reply::Array(Vec::new());
    }
    if count == Some(0) {
        return Reply::Array(Vec::new());
    }
    let items = pop_from(ctx, key, max, count.unwrap_or(1));
    // A count asks for a list of pairs; without one the pair is flat.
    scored_reply(resp3(ctx) && count.is_some(), items, true)
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zpop_generic(ctx, args, false)
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zpop_generic(ctx, args, true)
}

/// The parsed tail of ZMPOP/BZMPOP: keys, MIN|MAX and COUNT.
struct MpopArgs<'a> {
    keys: &'a [Bytes],
    max: bool,
    count: usize,
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` from index `nk`.
fn mpop_args(args: &[Bytes], nk: usize) -> CmdResult<MpopArgs<'_>> {
    let numkeys = parse::int_or(&args[nk], NUMKEYS)?;
    if numkeys <= 0 {
        return Err(err(NUMKEYS));
    }
    let where_idx = nk as u64 + numkeys as u64 + 1;
    if where_idx >= args.len() as u64 {
        return Err(err(SYNTAX));
    }
    let where_idx = where_idx as usize;
    let max = if parse::eq_c(&args[where_idx], "min") {
        false
    } else if parse::eq_c(&args[where_idx], "max") {
        true
    } else {
        return Err(err(SYNTAX));
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && parse::eq_c(&args[j], "count") && j + 1 < args.len() {
            let n = parse::int_or(&args[j + 1], COUNT_POSITIVE)?;
            if n <= 0 {
                return Err(err(COUNT_POSITIVE));
            }
            count = Some(n as usize);
            j += 2;
        } else {
            return Err(err(SYNTAX));
        }
    }
    Ok(MpopArgs {
        keys: &args[nk + 1..where_idx],
        max,
        count: count.unwrap_or(1),
    })
}

/// `[key, [[member, score], ...]]`, the reply of ZMPOP and BZMPOP (nested
/// pairs in both protocols).
fn mpop_reply(key: &Bytes, items: Vec<(Bytes, f64)>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(key.clone()),
        scored_reply(true, items, true),
    ])
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let m = tri!(mpop_args(args, 1));
    match tri!(first_nonempty(ctx, m.keys)) {
        None => Reply::NullArray,
        Some(k) => {
            let items = pop_from(ctx, k, m.max, m.count);
            mpop_reply(k, items)
        }
    }
}

/// Parks the client on `keys` when it may block; otherwise (MULTI, scripts)
/// replies the timeout reply at once.
fn block(ctx: &mut Ctx, keys: &[Bytes], deadline: Option<i64>) -> Reply {
    if ctx.may_block() {
        ctx.block_on(keys.to_vec(), deadline, Reply::NullArray);
    }
    Reply::NullArray
}

fn bzpop_generic(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Reply {
    let now = ctx.now();
    let deadline = tri!(parse::blocking_timeout(&args[args.len() - 1], now));
    let keys = &args[1..args.len() - 1];
    match tri!(first_nonempty(ctx, keys)) {
        Some(k) => {
            let mut items = pop_from(ctx, k, max, 1);
            let (m, s) = items.pop().expect("a non-empty set pops a member");
            Reply::Array(vec![
                Reply::Bulk(k.clone()),
                Reply::Bulk(m),
                Reply::Double(s),
            ])
        }
        None => block(ctx, keys, deadline),
    }
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bzpop_generic(ctx, args, false)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bzpop_generic(ctx, args, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let now = ctx.now();
    let deadline = tri!(parse::blocking_timeout(&args[1], now));
    let m = tri!(mpop_args(args, 2));
    match tri!(first_nonempty(ctx, m.keys)) {
        Some(k) => {
            let items = pop_from(ctx, k, m.max, m.count);
            mpop_reply(k, items)
        }
        None => block(ctx, m.keys, deadline),
    }
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------

command!(
    ZRANDMEMBER,
    "Replies random members: distinct for a positive count, possibly repeated for a negative one.",
    zrandmember
);
command!(
    ZSCAN,
    "Walks a sorted set's members and scores a batch at a time from a cursor.",
    zscan
);

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        let Some(z) = tri!(read(ctx, &args[1])) else {
            return Reply::Null;
        };
        let i = rand::thread_rng().gen_range(0..z.len());
        let (m, _) = z.get(i).expect("rank in range");
        return Reply::bulk_copy(m);
    }
    let l = tri!(parse::int(&args[2]));
    if l == i64::MIN {
        return Reply::error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    if args.len() > 4 || (args.len() == 4 && !parse::eq_c(&args[3], "withscores")) {
        return err(SYNTAX);
    }
    let withscores = args.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return err(OUT_OF_RANGE);
    }
    let r3 = resp3(ctx);
    let Some(z) = tri!(read(ctx, &args[1])) else {
        return Reply::Array(Vec::new());
    };
    let len = z.len();
    let mut rng = rand::thread_rng();
    let pick = |i: usize| {
        let (m, s) = z.get(i).expect("rank in range");
        (Bytes::copy_from_slice(m), s)
    };
    let items: Vec<(Bytes, f64)> = if l < 0 {
        let n = l.unsigned_abs() as usize;
        (0..n).map(|_| pick(rng.gen_range(0..len))).collect()
    } else if l as usize >= len {
        // The whole set, highest first, as Redis replies it.
        collect_ranks(z, 0, len - 1, true)
    } else {
        rand::seq::index::sample(&mut rng, len, l as usize)
            .into_iter()
            .map(pick)
            .collect()
    };
    scored_reply(r3, items, withscores)
}

/// A score as ZSCAN spells it. Redis returns a listpack's entries as they
/// are stored, and a listpack stores a score as `d2string` writes it (in 7.2
/// the shortest form, as `Reply::Double`: `9223372036854776000`, `0.1`); a
/// skiplist's scores are written by `ld2string` with `%.17Lg`
/// (`9.2233720368547758e+18`, `0.10000000000000001`).
fn scan_score(s: f64, packed: bool) -> String {
    if packed {
        resp::double::double_to_string(s)
    } else {
        format_g17(s)
    }
}

/// C's `printf("%.17g")` (which `%.17Lg` on the same value matches), with
/// `inf`, `-inf` and `nan` spelled as Redis's `ld2string` does.
fn format_g17(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.into();
    }
    // 17 significant digits, correctly rounded: `d.dddddddddddddddde[-]X`.
    let sci = format!("{:.16e}", v);
    let (mant, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let trim = |s: &str| -> String {
        match s.split_once('.') {
            Some((i, f)) => {
                let f = f.trim_end_matches('0');
                if f.is_empty() {
                    i.to_string()
                } else {
                    format!("{i}.{f}")
                }
            }
            None => s.to_string(),
        }
    };
    if (-4..17).contains(&exp) {
        // Fixed notation with 17 - 1 - exp decimals, trailing zeros cut.
        let fixed = if exp >= 0 {
            let (i, f) = digits.split_at(exp as usize + 1);
            format!("{i}.{f}")
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        format!("{sign}{}", trim(&fixed))
    } else {
        let m = trim(&format!("{}.{}", &digits[..1], &digits[1..]));
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

/// A member's position in ZSCAN's cursor space: a fixed hash, so that the
/// position of a member does not depend on the others.
fn scan_hash(m: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.hash(&mut h);
    h.finish()
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
///
/// A packed (listpack) set is returned whole with cursor 0, as Redis does.
/// A larger one is walked in the order of its members' hashes: the cursor is
/// the hash to resume from, so a member present for the whole iteration is
/// returned at least once whatever is added or removed in between.
///
/// The order of the checks is Redis's: the cursor, then the key (a missing
/// one is an empty scan, whatever the options), then the options.
fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse::scan_cursor(&args[2]) else {
        return err(INVALID_CURSOR);
    };
    if tri!(read(ctx, &args[1])).is_none() {
        return Reply::Array(vec![Reply::bulk_copy(b"0"), Reply::Array(Vec::new())]);
    }
    let (count, pattern) = tri!(parse::scan_options(args, 3));
    let Some(z) = tri!(read(ctx, &args[1])) else {
        return Reply::Array(vec![Reply::bulk_copy(b"0"), Reply::Array(Vec::new())]);
    };
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let mut next = 0u64;
    let packed = z.encoding() == "listpack";
    if packed {
        found.extend(z.iter());
    } else {
        // The `count` smallest hashes at or after the cursor, and the next.
        let mut batch: Vec<(u64, &[u8], f64)> = z
            .iter()
            .filter_map(|(m, s)| {
                let h = scan_hash(m);
                (h >= cursor).then_some((h, m, s))
            })
            .collect();
        if batch.len() > count {
            batch.select_nth_unstable_by_key(count, |e| e.0);
            next = batch[count].0;
            batch.truncate(count);
            // Members sharing the boundary hash come back with the next batch.
            batch.retain(|e| e.0 < next);
        }
        batch.sort_unstable_by_key(|e| e.0);
        found.extend(batch.into_iter().map(|(_, m, s)| (m, s)));
    }
    let mut out = Vec::with_capacity(found.len() * 2);
    for (m, s) in found {
        if pattern.is_none_or(|p| storage::glob::glob_match(p, m, false)) {
            out.push(Reply::bulk_copy(m));
            out.push(Reply::Bulk(Bytes::from(scan_score(s, packed))));
        }
    }
    let mut buf = itoa::Buffer::new();
    Reply::Array(vec![
        Reply::bulk_copy(buf.format(next).as_bytes()),
        Reply::Array(out),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_redis() {
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1e400"), None);
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_double(b""), None);
        assert_eq!(score_bound(b"("), Some((0.0, true)));
        assert_eq!(score_bound(b"(1e400"), Some((f64::INFINITY, true)));
        // Score bounds are C strings; ZADD scores must be read whole.
        assert_eq!(score_bound(b"\0\x01\xff"), Some((0.0, false)));
        assert_eq!(score_bound(b"(\0\x01"), Some((0.0, true)));
        assert_eq!(score_bound(b"1\0x"), Some((1.0, false)));
        assert_eq!(score_bound(b"\x01"), None);
        assert_eq!(parse_double(b"1\0"), None);
        assert_eq!(parse_double(b"\0"), None);
        assert_eq!(parse_double(b"5e-324"), Some(5e-324));
        assert_eq!(parse_double(b"1e-400"), None);
        assert_eq!(parse_double(b"0x1p-1"), Some(0.5));
    }

    #[test]
    fn zscan_scores_like_redis() {
        assert_eq!(
            format_g17(9_223_372_036_854_775_808.0),
            "9.2233720368547758e+18"
        );
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(1.5), "1.5");
        assert_eq!(format_g17(3.0), "3");
        assert_eq!(format_g17(-0.0), "-0");
        assert_eq!(format_g17(0.0), "0");
        assert_eq!(format_g17(1e16), "10000000000000000");
        assert_eq!(format_g17(1e17), "1e+17");
        assert_eq!(format_g17(1e300), "1.0000000000000001e+300");
        assert_eq!(format_g17(-2.5e-8), "-2.4999999999999999e-08");
        assert_eq!(format_g17(0.0001), "0.0001");
        assert_eq!(format_g17(2f64.powi(-25)), "2.9802322387695312e-08");
        assert_eq!(format_g17(123456.0), "123456");
        assert_eq!(format_g17(5e-324), "4.9406564584124654e-324");
        assert_eq!(format_g17(f64::NEG_INFINITY), "-inf");
        assert_eq!(
            scan_score(9_223_372_036_854_775_808.0, true),
            "9223372036854776000"
        );
        assert_eq!(scan_score(0.1, true), "0.1");
        assert_eq!(scan_score(0.1, false), "0.10000000000000001");
    }

    #[test]
    fn rank_bounds_follow_redis() {
        assert_eq!(rank_bounds(0, -1, 3), Some((0, 2)));
        assert_eq!(rank_bounds(-100, 100, 3), Some((0, 2)));
        assert_eq!(rank_bounds(2, 1, 3), None);
        assert_eq!(rank_bounds(3, 5, 3), None);
        assert_eq!(rank_bounds(-1, -1, 3), Some((2, 2)));
    }
}
