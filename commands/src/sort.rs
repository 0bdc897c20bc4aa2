//! SORT and SORT_RO.
//!
//! Sorts the elements of a list, set or sorted set, numerically (each
//! element read as a double, as C's `strtod` reads it) or, with ALPHA,
//! lexicographically; optionally by the values of other keys (BY pattern,
//! `*` replaced by the element, `->field` reading a hash field), returning
//! other keys' values (GET pattern, `#` for the element itself), a LIMIT
//! window, and for SORT a STORE destination that receives the result as a
//! list. The order of checks and the tie-breaking follow Redis 7.2's
//! `sort.c`.
//!
//! Locking: BY and GET patterns name keys that are not in the command's key
//! specs, so both commands run with [`Locking::Db`], holding every shard of
//! the selected database: every pattern lookup (and STORE) is then covered,
//! and the command is atomic, as it is in Redis.

use std::cmp::Ordering;

use bytes::Bytes;
use resp::Reply;
use storage::limits::LimitValues;
use storage::zset::ZSet;
use storage::{Locked, Value};

use crate::command;
use crate::ctx::Ctx;
use crate::error::{err, SYNTAX, WRONGTYPE};
use crate::notify::class;
use crate::parse;
use crate::registry::Locking;

command!(
    SORT,
    "Sorts the elements of a list, set or sorted set, optionally by or with other keys' values, and returns or stores the result.",
    sort,
    Locking::Db
);
command!(
    SORT_RO,
    "Sorts the elements of a list, set or sorted set like SORT, without the STORE option.",
    sort_ro,
    Locking::Db
);

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
/// [ASC | DESC] [ALPHA] [STORE destination]
fn sort(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA]
fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, true)
}

/// One element being sorted: the element, and what it sorts by.
struct Item {
    obj: Bytes,
    score: f64,
    /// The BY value for ALPHA sorting by pattern (None: the key is missing).
    cmp: Option<Bytes>,
}

/// The options, as parsed.
struct Opts<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    sortby: Option<&'a [u8]>,
    dontsort: bool,
    store: Option<&'a Bytes>,
    gets: Vec<&'a [u8]>,
}

fn parse_opts(args: &[Bytes], readonly: bool) -> Result<Opts<'_>, Reply> {
    let mut o = Opts {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        sortby: None,
        dontsort: false,
        store: None,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j][..];
        if parse::eq(a, "asc") {
            o.desc = false;
        } else if parse::eq(a, "desc") {
            o.desc = true;
        } else if parse::eq(a, "alpha") {
            o.alpha = true;
        } else if parse::eq(a, "limit") && left >= 2 {
            o.limit_start = parse::int(&args[j + 1])?;
            o.limit_count = parse::int(&args[j + 2])?;
            j += 2;
        } else if !readonly && parse::eq(a, "store") && left >= 1 {
            o.store = Some(&args[j + 1]);
            j += 1;
        } else if parse::eq(a, "by") && left >= 1 {
            let p = &args[j + 1][..];
            o.sortby = Some(p);
            // A pattern without `*` names no per-element key: don't sort.
            o.dontsort = !parse::c_str(p).contains(&b'*');
            j += 1;
        } else if parse::eq(a, "get") && left >= 1 {
            o.gets.push(&args[j + 1]);
            j += 1;
        } else {
            return Err(err(SYNTAX));
        }
        j += 1;
    }
    Ok(o)
}

/// What the sorted key holds.
enum Source {
    List(Vec<Bytes>),
    Set(Vec<Bytes>),
    /// Members in score order.
    ZSet(Vec<Bytes>),
}

fn sort_generic(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> Reply {
    let o = match parse_opts(args, readonly) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let db = ctx.db();
    let source = match load(&mut ctx.ks, db, &args[1]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Opts {
        mut desc,
        mut alpha,
        limit_start,
        limit_count,
        mut sortby,
        mut dontsort,
        store,
        gets,
    } = o;

    // Sorting a set without sorting would store (or, from a script,
    // replicate) its arbitrary order: Redis sorts it alphabetically then.
    if dontsort && matches!(source, Source::Set(_)) && store.is_some() {
        dontsort = false;
        alpha = true;
        sortby = None;
    }

    let elements = match &source {
        Source::List(v) | Source::Set(v) | Source::ZSet(v) => v,
    };
    let len = elements.len() as i64;
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 { len } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    // Lists and sorted sets keep their own order when not sorting; the
    // LIMIT window is then taken directly, walking backwards for DESC.
    let mut vector: Vec<Item> = Vec::new();
    let native = matches!(source, Source::List(_) | Source::ZSet(_));
    if native && dontsort {
        if end >= start {
            let (s, e) = (start as usize, end as usize);
            let n = elements.len();
            let take: Box<dyn Iterator<Item = &Bytes>> = if desc {
                Box::new(elements[n - 1 - e..=n - 1 - s].iter().rev())
            } else {
                Box::new(elements[s..=e].iter())
            };
            vector.extend(take.map(|b| Item {
                obj: b.clone(),
                score: 0.0,
                cmp: None,
            }));
            end -= start;
            start = 0;
        }
        // DESC has been applied by the walk.
        desc = false;
    } else {
        vector.extend(elements.iter().map(|b| Item {
            obj: b.clone(),
            score: 0.0,
            cmp: None,
        }));
    }

    let mut conversion_error = false;
    if !dontsort {
        for item in vector.iter_mut() {
            let byval = match sortby {
                Some(p) => match lookup_by_pattern(&mut ctx.ks, db, p, &item.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => item.obj.clone(),
            };
            if alpha {
                if sortby.is_some() {
                    item.cmp = Some(byval);
                }
            } else {
                match weight(&byval) {
                    Some(s) => item.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let bypattern = sortby.is_some();
        vector.sort_by(|a, b| {
            let c = compare(a, b, alpha, bypattern);
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }

    if conversion_error {
        return err("ERR One or more scores can't be converted into double");
    }
    let window: &[Item] = if end >= start {
        &vector[start as usize..=end as usize]
    } else {
        &[]
    };

    match store {
        None => {
            let mut out = Vec::with_capacity(window.len() * gets.len().max(1));
            for item in window {
                if gets.is_empty() {
                    out.push(Reply::Bulk(item.obj.clone()));
                }
                for g in &gets {
                    out.push(match lookup_by_pattern(&mut ctx.ks, db, g, &item.obj) {
                        Some(v) => Reply::Bulk(v),
                        None => Reply::Null,
                    });
                }
            }
            Reply::Array(out)
        }
        Some(dest) => {
            let mut out: Vec<Bytes> = Vec::with_capacity(window.len() * gets.len().max(1));
            for item in window {
                if gets.is_empty() {
                    out.push(item.obj.clone());
                }
                for g in &gets {
                    out.push(lookup_by_pattern(&mut ctx.ks, db, g, &item.obj).unwrap_or_default());
                }
            }
            let n = out.len();
            if n > 0 {
                let limits = ctx.server.store.limits.get();
                if ctx
                    .ks
                    .set(db, dest, build_list(out, &limits), false)
                    .is_none()
                {
                    ctx.created(db, dest);
                }
                ctx.signal(class::LIST, "sortstore", dest);
                ctx.dirty(n as u64);
            } else if ctx.ks.remove(db, dest).is_some() {
                ctx.signal(class::GENERIC, "del", dest);
                ctx.dirty(1);
            }
            Reply::Integer(n as i64)
        }
    }
}

/// Reads the elements of the key to sort (a missing key is an empty list).
/// A sorted set in the compact encoding is converted to a skiplist first,
/// as Redis's SORT does, so OBJECT ENCODING reports the same afterwards.
fn load(ks: &mut Locked<'_>, db: usize, key: &[u8]) -> Result<Source, Reply> {
    let Some(e) = ks.get_read_mut(db, key) else {
        return Ok(Source::List(Vec::new()));
    };
    match &mut e.value {
        Value::List(l) => Ok(Source::List(list_elements(l))),
        Value::Set(s) => Ok(Source::Set(set_elements(s))),
        Value::ZSet(z) => {
            if z.encoding() == "listpack" {
                let skip_only = LimitValues {
                    zset_max_listpack_entries: 0,
                    ..LimitValues::default()
                };
                let converted = ZSet::from_members(z.iter(), &skip_only);
                **z = converted;
            }
            Ok(Source::ZSet(
                z.iter().map(|(m, _)| Bytes::copy_from_slice(m)).collect(),
            ))
        }
        _ => Err(err(WRONGTYPE)),
    }
}

/// Orders two items as Redis's sortCompare does, before DESC is applied.
/// Numeric ties fall back to comparing the elements as bytes, so the
/// result is deterministic; ALPHA compares bytes (Redis's `strcoll` in the
/// C locale), and with a BY pattern a missing value sorts first.
fn compare(a: &Item, b: &Item, alpha: bool, bypattern: bool) -> Ordering {
    if !alpha {
        return a
            .score
            .partial_cmp(&b.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.obj.cmp(&b.obj));
    }
    if bypattern {
        match (&a.cmp, &b.cmp) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        }
    } else {
        a.obj.cmp(&b.obj)
    }
}

/// Redis's lookupKeyByPattern: `#` is the element itself; otherwise the
/// first `*` is replaced by the element, and a `->field` suffix after it
/// (with a non-empty field) reads that field of a hash. A pattern without
/// `*`, a missing key, or a key of the wrong type yields None.
fn lookup_by_pattern(
    ks: &mut Locked<'_>,
    db: usize,
    pattern: &[u8],
    subst: &Bytes,
) -> Option<Bytes> {
    let cpat = parse::c_str(pattern);
    if cpat == b"#" {
        return Some(subst.clone());
    }
    let star = cpat.iter().position(|&c| c == b'*')?;
    let after = &cpat[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&i| i + 2 < after.len());
    let field: Option<&[u8]> = arrow.map(|i| &pattern[star + 1 + i + 2..]);
    let postfix_end = match field {
        Some(f) => pattern.len() - f.len() - 2,
        None => pattern.len(),
    };
    let mut key = Vec::with_capacity(pattern.len() + subst.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(&pattern[star + 1..postfix_end]);
    let e = ks.get_read(db, &key)?;
    match (&e.value, field) {
        (Value::Hash(h), Some(f)) => h.get(f).map(Bytes::copy_from_slice),
        (Value::Str(s), None) => Some(s.to_bytes()),
        _ => None,
    }
}

/// Reads a sort weight as Redis does with C's `strtod`: the text up to the
/// first NUL must be one number (leading white space, hex floats, `inf`
/// allowed); an empty text is 0; NaN, garbage, overflow and underflow fail.
fn weight(b: &[u8]) -> Option<f64> {
    match parse::strtod(b) {
        Some((v, false)) if !v.is_nan() => Some(v),
        _ => None,
    }
}

/// The elements of a list, head to tail.
fn list_elements(l: &storage::list::List) -> Vec<Bytes> {
    l.to_vec()
}

/// The members of a set, in its iteration order.
fn set_elements(s: &storage::set::Set) -> Vec<Bytes> {
    s.to_vec()
}

/// A list value holding `items`, in the encoding their number and sizes
/// call for.
fn build_list(items: Vec<Bytes>, limits: &LimitValues) -> Value {
    Value::List(Box::new(storage::list::List::from_items(
        &items,
        limits.list_max_listpack_size,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_refuse_what_strtod_flags() {
        assert_eq!(weight(b""), Some(0.0));
        assert_eq!(weight(b"  -2"), Some(-2.0));
        assert_eq!(weight(b"5\0junk"), Some(5.0));
        for bad in [&b"nan"[..], b"abc", b"1e400", b"1e-400", b"5e-324", b"0x"] {
            assert_eq!(weight(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn numeric_ties_compare_elements() {
        let item = |o: &str, s: f64| Item {
            obj: Bytes::copy_from_slice(o.as_bytes()),
            score: s,
            cmp: None,
        };
        assert_eq!(
            compare(&item("b", 1.0), &item("a", 1.0), false, false),
            Ordering::Greater
        );
        assert_eq!(
            compare(&item("b", 0.0), &item("a", 1.0), false, false),
            Ordering::Less
        );
        assert_eq!(
            compare(&item("b", 0.0), &item("a", 1.0), true, false),
            Ordering::Greater
        );
    }
}
