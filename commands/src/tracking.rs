//! Client-side caching: CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO,
//! and the invalidation messages they ask for.
//!
//! A tracking connection (default mode) has the keys its read-only commands
//! read remembered in a server-wide table, key → client ids; the dispatcher
//! calls [`after_handler`] while the command still holds its shard locks,
//! so no write can slip between the read and the remembering. When a key is
//! modified (`ks.touched`, recorded while `server.observers > 0`), the
//! observers step calls [`invalidate_keys`]: the key leaves the table and
//! each client that read it gets an `invalidate` push (RESP3), or a
//! `message` on `__redis__:invalidate` at its REDIRECT target when that
//! connection is subscribed (RESP2). BCAST clients instead register key
//! prefixes and hear about every modified key under them. FLUSHDB and
//! FLUSHALL invalidate everything with a null key list.

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use parking_lot::RwLock;
use resp::Reply;

use crate::client::{flag, Client, ClientInfo};
use crate::command;
use crate::ctx::Ctx;
use crate::error::{err, SYNTAX};
use crate::meta::flags;
use crate::parse;
use crate::registry::{Entry, Locking};
use crate::state::Server;

thread_local! {
    /// The client whose command is being finished on this thread, for NOLOOP.
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// One tracking connection's mode.
#[derive(Debug)]
struct TrackState {
    id: u64,
    info: Arc<ClientInfo>,
    /// Client id invalidations go to; 0 for this connection itself.
    redirect: u64,
    bcast: bool,
    optin: bool,
    optout: bool,
    noloop: bool,
    prefixes: Vec<Bytes>,
    /// CLIENT CACHING YES/NO given for the next command.
    caching: AtomicBool,
    broken: AtomicBool,
}

/// The server-wide tracking tables.
#[derive(Debug, Default)]
pub struct Tracking {
    clients: DashMap<u64, Arc<TrackState>>,
    /// Key name (in any database, as Redis) → clients that may cache it.
    keys: DashMap<Bytes, HashSet<u64>>,
    /// BCAST prefix → clients registered for it.
    prefixes: RwLock<BTreeMap<Bytes, HashSet<u64>>>,
}

impl Tracking {
    /// INFO: tracking clients, tracked keys, tracked (key, client) items, prefixes.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let items = self.keys.iter().map(|e| e.value().len()).sum();
        (
            self.clients.len(),
            self.keys.len(),
            items,
            self.prefixes.read().len(),
        )
    }
}

/// Turns tracking off for a connection (CLIENT TRACKING OFF, RESET,
/// disconnect). Keys it read stay in the table until they change, as in
/// Redis; they are then simply skipped.
pub fn disable(server: &Server, id: u64) {
    let Some((_, st)) = server.tracking.clients.remove(&id) else {
        return;
    };
    server.observers.fetch_sub(1, Ordering::Relaxed);
    if st.bcast {
        let mut p = server.tracking.prefixes.write();
        for pre in &st.prefixes {
            if let Some(set) = p.get_mut(pre) {
                set.remove(&id);
                if set.is_empty() {
                    p.remove(pre);
                }
            }
        }
    }
    st.info.set_flag(
        flag::TRACKING | flag::TRACKING_BCAST | flag::TRACKING_BROKEN_REDIR,
        false,
    );
    st.info.redir.store(-1, Ordering::Relaxed);
}

/// Called by the dispatcher after each handler, with the locks still held:
/// remembers the keys a tracking client's read-only command read (unless
/// OPTIN/OPTOUT and CLIENT CACHING say otherwise) and notes the client for
/// NOLOOP.
pub(crate) fn after_handler(server: &Server, client: &Client, entry: &Entry, args: &[Bytes]) {
    CURRENT.with(|c| c.set(client.id));
    if !client.info.has_flag(flag::TRACKING) {
        return;
    }
    let Some(st) = server.tracking.clients.get(&client.id).map(|s| s.clone()) else {
        return;
    };
    // CLIENT CACHING applies to the next command; CLIENT commands keep it.
    if entry.full_name.starts_with("client|") {
        return;
    }
    let caching = st.caching.swap(false, Ordering::Relaxed);
    if st.bcast || !entry.has(flags::READONLY) {
        return;
    }
    if (st.optin && !caching) || (st.optout && caching) {
        return;
    }
    for i in entry.key_positions(args) {
        server
            .tracking
            .keys
            .entry(args[i].clone())
            .or_default()
            .insert(client.id);
    }
}

/// Sends invalidations for keys that were modified. `current` is the
/// client that modified them (NOLOOP spares it).
pub fn invalidate_keys<'k>(
    server: &Server,
    keys: impl Iterator<Item = &'k [u8]>,
    current: Option<u64>,
) {
    let t = &server.tracking;
    if t.clients.is_empty() {
        return;
    }
    let prefixes = t.prefixes.read();
    // BCAST: one message per (client, prefix) with every key under it.
    let mut grouped: Vec<((u64, Bytes), Vec<Bytes>)> = Vec::new();
    for key in keys {
        if let Some((_, ids)) = t.keys.remove(key) {
            for id in ids {
                let Some(st) = t.clients.get(&id).map(|s| s.clone()) else {
                    continue;
                };
                if st.bcast || (st.noloop && Some(id) == current) {
                    continue;
                }
                send(server, &st, Some(vec![Bytes::copy_from_slice(key)]));
            }
        }
        for (pre, ids) in prefixes.iter() {
            if !key.starts_with(pre) {
                continue;
            }
            for &id in ids {
                if Some(id) == current && t.clients.get(&id).is_some_and(|s| s.noloop) {
                    continue;
                }
                let k = (id, pre.clone());
                let key = Bytes::copy_from_slice(key);
                match grouped.iter_mut().find(|(g, _)| *g == k) {
                    Some((_, v)) => v.push(key),
                    None => grouped.push((k, vec![key])),
                }
            }
        }
    }
    drop(prefixes);
    for ((id, _), keys) in grouped {
        if let Some(st) = t.clients.get(&id).map(|s| s.clone()) {
            send(server, &st, Some(keys));
        }
    }
}

/// The observers step: invalidates what the command modified.
pub(crate) fn invalidate_touched(server: &Server, touched: &[(usize, storage::Key)]) {
    if touched.is_empty() || server.tracking.clients.is_empty() {
        return;
    }
    let current = CURRENT.with(|c| c.get());
    invalidate_keys(
        server,
        touched.iter().map(|(_, k)| k.as_bytes()),
        (current != 0).then_some(current),
    );
}

/// FLUSHDB, FLUSHALL: every tracking client drops its whole cache.
pub fn flushed(server: &Server) {
    let t = &server.tracking;
    if t.clients.is_empty() {
        return;
    }
    t.keys.clear();
    let all: Vec<Arc<TrackState>> = t.clients.iter().map(|e| e.value().clone()).collect();
    for st in all {
        send(server, &st, None);
    }
}

/// Delivers one invalidation (None: everything) where `st` wants it.
fn send(server: &Server, st: &TrackState, keys: Option<Vec<Bytes>>) {
    let payload = match keys {
        Some(k) => Reply::Array(k.into_iter().map(Reply::Bulk).collect()),
        None => Reply::Null,
    };
    let invalidate = || Reply::bulk(Bytes::from_static(b"invalidate"));
    if st.redirect != 0 {
        let Some(target) = server.pubsub.subscriber(st.redirect) else {
            st.broken.store(true, Ordering::Relaxed);
            st.info.set_flag(flag::TRACKING_BROKEN_REDIR, true);
            if st.info.resp.load(Ordering::Relaxed) == 3 {
                crate::pubsub::push_to(
                    server,
                    st.id,
                    Reply::Push(vec![
                        Reply::bulk(Bytes::from_static(b"tracking-redir-broken")),
                        Reply::Integer(st.redirect as i64),
                    ]),
                );
            }
            return;
        };
        if target.info.resp.load(Ordering::Relaxed) == 3 {
            crate::pubsub::push_to(
                server,
                st.redirect,
                Reply::Push(vec![invalidate(), payload]),
            );
        } else if target.info.has_flag(flag::PUBSUB) {
            crate::pubsub::push_to(
                server,
                st.redirect,
                Reply::Push(vec![
                    Reply::bulk(Bytes::from_static(b"message")),
                    Reply::bulk(Bytes::from_static(b"__redis__:invalidate")),
                    payload,
                ]),
            );
        }
    } else if st.info.resp.load(Ordering::Relaxed) == 3 {
        crate::pubsub::push_to(server, st.id, Reply::Push(vec![invalidate(), payload]));
    }
}

// ---------------------------------------------------------------------------
// CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO

command!(
    CLIENT_TRACKING,
    "Turns server-assisted client-side caching on or off for this connection.",
    client_tracking,
    Locking::None
);

/// CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]]
///                        [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
///
/// Options are parsed first, then checked against each other and against
/// the current mode in Redis's order, with its errors.
fn client_tracking(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut redirect = 0u64;
    let (mut bcast, mut optin, mut optout, mut noloop) = (false, false, false, false);
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        let a = &args[i];
        if parse::eq(a, "redirect") && more {
            i += 1;
            if redirect != 0 {
                return err("ERR A client can only redirect to a single other client");
            }
            let id = match parse::int(&args[i]) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if id <= 0 || ctx.server.pubsub.subscriber(id as u64).is_none() {
                return err("ERR The client ID you want redirect to does not exist");
            }
            redirect = id as u64;
        } else if parse::eq(a, "bcast") {
            bcast = true;
        } else if parse::eq(a, "optin") {
            optin = true;
        } else if parse::eq(a, "optout") {
            optout = true;
        } else if parse::eq(a, "noloop") {
            noloop = true;
        } else if parse::eq(a, "prefix") && more {
            i += 1;
            prefixes.push(args[i].clone());
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    let server = ctx.server;
    let id = ctx.client.id;
    if parse::eq(&args[2], "off") {
        disable(server, id);
        return Reply::ok();
    }
    if !parse::eq(&args[2], "on") {
        return err(SYNTAX);
    }
    let old = server.tracking.clients.get(&id).map(|s| s.clone());
    if !bcast && !prefixes.is_empty() {
        return err("ERR PREFIX option requires BCAST mode to be enabled");
    }
    if let Some(o) = &old {
        if o.bcast != bcast {
            return err(
                "ERR You can't switch BCAST mode on/off before disabling tracking for this \
                 client, and then re-enabling it with a different mode.",
            );
        }
    }
    if bcast && (optin || optout) {
        return err("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if optin && optout {
        return err("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if let Some(o) = &old {
        if (optin && o.optout) || (optout && o.optin) {
            return err(
                "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this \
                 client, and then re-enabling it with a different mode.",
            );
        }
    }
    let mut all_prefixes = old.as_ref().map(|o| o.prefixes.clone()).unwrap_or_default();
    if bcast {
        for (n, p) in prefixes.iter().enumerate() {
            if let Some(e) = all_prefixes
                .iter()
                .find(|e| e.starts_with(p) || p.starts_with(e))
            {
                return parse::echo_error(&[
                    b"ERR Prefix '",
                    parse::c_str(p),
                    b"' overlaps with an existing prefix '",
                    parse::c_str(e),
                    b"'. Prefixes for a single client must not overlap.",
                ]);
            }
            if let Some(q) = prefixes[n + 1..]
                .iter()
                .find(|q| q.starts_with(p) || p.starts_with(q))
            {
                return parse::echo_error(&[
                    b"ERR Prefix '",
                    parse::c_str(p),
                    b"' overlaps with another provided prefix '",
                    parse::c_str(q),
                    b"'. Prefixes for a single client must not overlap.",
                ]);
            }
        }
        if prefixes.is_empty() && all_prefixes.is_empty() {
            prefixes.push(Bytes::new());
        }
        let mut table = server.tracking.prefixes.write();
        for p in &prefixes {
            table.entry(p.clone()).or_default().insert(id);
        }
        all_prefixes.extend(prefixes);
    }
    let info = ctx.client.info.clone();
    let st = Arc::new(TrackState {
        id,
        info: info.clone(),
        redirect,
        bcast,
        optin,
        optout,
        noloop,
        prefixes: all_prefixes,
        caching: AtomicBool::new(false),
        broken: AtomicBool::new(false),
    });
    if server.tracking.clients.insert(id, st).is_none() {
        server.observers.fetch_add(1, Ordering::Relaxed);
    }
    info.set_flag(flag::TRACKING_BROKEN_REDIR, false);
    info.set_flag(flag::TRACKING, true);
    info.set_flag(flag::TRACKING_BCAST, bcast);
    info.redir.store(redirect as i64, Ordering::Relaxed);
    Reply::ok()
}

command!(
    CLIENT_CACHING,
    "Tells an OPTIN or OPTOUT tracking connection whether to track the next command's keys.",
    client_caching,
    Locking::None
);

/// CLIENT CACHING YES|NO
fn client_caching(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(st) = ctx
        .server
        .tracking
        .clients
        .get(&ctx.client.id)
        .map(|s| s.clone())
    else {
        return err(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with \
             OPTIN or OPTOUT mode enabled",
        );
    };
    if parse::eq(&args[2], "yes") {
        if !st.optin {
            return err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
    } else if parse::eq(&args[2], "no") {
        if !st.optout {
            return err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
    } else {
        return err(SYNTAX);
    }
    st.caching.store(true, Ordering::Relaxed);
    Reply::ok()
}

command!(
    CLIENT_GETREDIR,
    "Returns the id invalidations are redirected to: 0 for none, -1 when not tracking.",
    client_getredir,
    Locking::None
);

/// CLIENT GETREDIR
fn client_getredir(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    match ctx.server.tracking.clients.get(&ctx.client.id) {
        Some(st) => Reply::Integer(st.redirect as i64),
        None => Reply::Integer(-1),
    }
}

command!(
    CLIENT_TRACKINGINFO,
    "Describes this connection's client-side caching mode.",
    client_trackinginfo,
    Locking::None
);

/// CLIENT TRACKINGINFO
fn client_trackinginfo(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let st = ctx
        .server
        .tracking
        .clients
        .get(&ctx.client.id)
        .map(|s| s.clone());
    let word = |s: &'static str| Reply::bulk(Bytes::from_static(s.as_bytes()));
    let mut fl = Vec::new();
    let (redirect, prefixes) = match &st {
        None => {
            fl.push(word("off"));
            (-1, Vec::new())
        }
        Some(st) => {
            fl.push(word("on"));
            let caching = st.caching.load(Ordering::Relaxed);
            if st.bcast {
                fl.push(word("bcast"));
            }
            if st.optin {
                fl.push(word("optin"));
                if caching {
                    fl.push(word("caching-yes"));
                }
            }
            if st.optout {
                fl.push(word("optout"));
                if caching {
                    fl.push(word("caching-no"));
                }
            }
            if st.noloop {
                fl.push(word("noloop"));
            }
            if st.broken.load(Ordering::Relaxed) {
                fl.push(word("broken_redirect"));
            }
            let mut p = st.prefixes.clone();
            p.sort();
            (st.redirect as i64, p)
        }
    };
    Reply::Map(vec![
        (word("flags"), Reply::Set(fl)),
        (word("redirect"), Reply::Integer(redirect)),
        (
            word("prefixes"),
            Reply::Array(prefixes.into_iter().map(Reply::Bulk).collect()),
        ),
    ])
}
