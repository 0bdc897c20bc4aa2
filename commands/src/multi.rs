//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, as Redis 7.2 runs them.
//!
//! Inside MULTI the dispatcher ([`crate::dispatch::dispatch`]) queues every
//! command that passed its checks and answers `+QUEUED` ([`queue`]); a
//! command rejected while queueing (unknown, wrong arity, NOAUTH, `no_multi`)
//! replies its error and flags the transaction, so EXEC answers EXECABORT
//! ([`rejected`]). MULTI, EXEC, DISCARD, WATCH, QUIT and RESET are never
//! queued: they run at once, as in Redis.
//!
//! EXEC locks the union of the shards every queued command needs, plus the
//! shards of the watched keys, once, and runs every command on that one view:
//! no other client can observe a partial transaction. A queued command that
//! changes the database (SELECT) or spans databases (MOVE, COPY ... DB,
//! SWAPDB, FLUSHALL) makes EXEC hold every shard of every database.
//!
//! WATCH registers `(db, key) → watchers` in [`Watches`]. Every command that
//! changes a key reports it (`Ctx::modified`); while anyone watches, the
//! dispatcher's after-command step ([`touch_watched`]) marks the watchers of
//! each reported key dirty, while the writer still holds the key's shard. EXEC
//! holds the watched keys' shards while it checks the flag, so a write is
//! either seen or ordered after the whole transaction. Redis 7's expiry rules
//! apply: a key already stale when watched is no change when expiry deletes
//! it, while a key that goes stale after WATCH fails EXEC even if nobody
//! touched it ([`Watches`] keeps the per-key `expired` mark for this).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use dashmap::DashMap;
use parking_lot::Mutex;
use resp::Reply;
use smallvec::SmallVec;
use storage::{Key, Locked, Slot};

use crate::client::{flag, Client, ClientInfo};
use crate::command;
use crate::ctx::Ctx;
use crate::dispatch::{self, Need};
use crate::meta::flags;
use crate::registry::{Entry, Locking};
use crate::state::Server;

/// Per-client transaction state: present between MULTI and EXEC/DISCARD.
#[derive(Debug, Default)]
pub struct MultiState {
    /// The queued commands, resolved, with their arguments.
    pub queue: Vec<Queued>,
    /// A command was rejected while queueing (Redis's CLIENT_DIRTY_EXEC):
    /// EXEC answers EXECABORT.
    pub aborted: bool,
}

/// One queued command.
#[derive(Debug)]
pub struct Queued {
    pub entry: &'static Entry,
    pub args: Vec<Bytes>,
}

/// One client's watch: the keys it watches and the shared "a watched key
/// changed" flag writers set (Redis's CLIENT_DIRTY_CAS).
#[derive(Debug)]
pub struct Watcher {
    pub id: u64,
    info: Arc<ClientInfo>,
    dirty: AtomicBool,
    keys: Mutex<Vec<(usize, Key)>>,
}

impl Watcher {
    fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
        self.info.set_flag(flag::DIRTY_CAS, true);
    }

    /// True once a watched key changed.
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }
}

#[derive(Debug)]
struct WatchEntry {
    watcher: Arc<Watcher>,
    /// The key was already stale when watched: its deletion by expiry is not
    /// a change (Redis's watchedKey.expired).
    expired: bool,
}

/// Every watched key and every watching client. Lock order: a shard's mutex
/// before these maps' internal locks, never the other way round.
#[derive(Debug, Default)]
pub struct Watches {
    keys: DashMap<(usize, Key), Vec<WatchEntry>>,
    clients: DashMap<u64, Arc<Watcher>>,
}

impl Watches {
    /// Number of clients watching keys.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// Number of distinct watched keys (INFO `watching_clients`' companion,
    /// `total_watched_keys`).
    pub fn keys(&self) -> usize {
        self.keys.len()
    }
}

impl Client {
    /// True between MULTI and EXEC/DISCARD.
    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }
}

// ---------------------------------------------------------------------------
// Dispatcher hooks

/// A command was rejected before it could run or be queued. Inside MULTI the
/// transaction is flagged so that EXEC fails; a rejected EXEC itself discards
/// the transaction and answers EXECABORT with the reason, as Redis's
/// execCommandAbort does.
pub(crate) fn rejected(
    server: &Server,
    client: &mut Client,
    args: &[Bytes],
    reply: Reply,
) -> Reply {
    if args[0].eq_ignore_ascii_case(b"exec") {
        discard(server, client);
        let mut text = b"EXECABORT Transaction discarded because of: ".to_vec();
        if let Reply::Error(t) = &reply {
            let t = t.as_bytes();
            text.extend_from_slice(t.strip_prefix(b"ERR ").unwrap_or(t));
        }
        return Reply::error(text);
    }
    if let Some(m) = client.multi.as_mut() {
        m.aborted = true;
    }
    reply
}

/// Inside MULTI: queues `entry` and answers `+QUEUED`, or refuses a
/// `no_multi` command. None for the commands that run at once even inside
/// MULTI (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET).
pub(crate) fn queue(
    server: &Server,
    client: &mut Client,
    entry: &'static Entry,
    args: &[Bytes],
) -> Option<Reply> {
    let m = client.multi.as_mut()?;
    if matches!(
        entry.full_name.as_str(),
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    ) {
        return None;
    }
    *client.info.last_cmd.lock() = entry.full_name.as_str();
    if entry.has(flags::NO_MULTI) {
        m.aborted = true;
        entry.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
        server
            .stats
            .total_error_replies
            .fetch_add(1, Ordering::Relaxed);
        server.stats.count_error_code("ERR");
        return Some(Reply::error("ERR Command not allowed inside a transaction"));
    }
    // A transaction that will fail anyway keeps nothing (Redis does the
    // same, so CLIENT LIST's `multi=` stops growing).
    let dirty = client.watcher.as_ref().is_some_and(|w| w.is_dirty());
    if !m.aborted && !dirty {
        let mem: usize = args.iter().map(|a| a.len() + 16).sum::<usize>() + 40;
        m.queue.push(Queued {
            entry,
            args: args.to_vec(),
        });
        client
            .info
            .multi
            .store(m.queue.len() as i64, Ordering::Relaxed);
        client
            .info
            .multi_mem
            .fetch_add(mem as u64, Ordering::Relaxed);
    }
    Some(Reply::simple("QUEUED"))
}

/// Ends the transaction (if any) and forgets the watched keys: DISCARD,
/// EXEC's end, RESET, a rejected EXEC.
pub(crate) fn discard(server: &Server, client: &mut Client) {
    client.multi = None;
    client.info.set_flag(flag::MULTI, false);
    client.info.multi.store(-1, Ordering::Relaxed);
    client.info.multi_mem.store(0, Ordering::Relaxed);
    unwatch_all(server, client);
}

/// Forgets every key `client` watches and clears its dirty flag.
pub(crate) fn unwatch_all(server: &Server, client: &mut Client) {
    client.info.set_flag(flag::DIRTY_CAS, false);
    if let Some(w) = client.watcher.take() {
        forget(server, &w);
    }
}

/// Cleans up after a connection that ended: its watched keys are forgotten.
/// The connection calls this however it ends.
pub fn client_gone(server: &Server, client_id: u64) {
    if let Some(w) = server.watches.clients.get(&client_id).map(|w| w.clone()) {
        forget(server, &w);
    }
}

fn forget(server: &Server, w: &Arc<Watcher>) {
    if server.watches.clients.remove(&w.id).is_none() {
        return;
    }
    let keys = std::mem::take(&mut *w.keys.lock());
    for (db, key) in keys {
        let k = (db, key);
        if let Some(mut list) = server.watches.keys.get_mut(&k) {
            list.retain(|e| !Arc::ptr_eq(&e.watcher, w));
        }
        server.watches.keys.remove_if(&k, |_, list| list.is_empty());
    }
    server.observers.fetch_sub(1, Ordering::Relaxed);
}

/// Marks dirty the watchers of every key the command reported modified.
/// Called by the after-command step while the keys' shards are still held.
pub(crate) fn touch_watched(server: &Server, ks: &Locked<'_>) {
    // `touched` is only filled while someone observes; checking it first
    // keeps the common case to one length test (DashMap::is_empty would
    // visit every shard of the map).
    if ks.touched.is_empty() || server.watches.keys.is_empty() {
        return;
    }
    for (db, key) in &ks.touched {
        let Some(mut list) = server.watches.keys.get_mut(&(*db, key.clone())) else {
            continue;
        };
        for e in list.iter_mut() {
            if e.expired {
                match ks.key_state(*db, key) {
                    // The stale key is gone: logically no change.
                    None => {
                        e.expired = false;
                        continue;
                    }
                    Some(true) => continue,
                    Some(false) => {}
                }
            }
            e.watcher.mark_dirty();
        }
    }
}

/// Active expiry deleted `key` from `db` (called with its shard still
/// locked): watchers that saw it live become dirty; those that watched it
/// already stale see no change, as after a lazy deletion.
pub fn key_expired(server: &Server, db: usize, key: &[u8]) {
    if server.watches.keys.is_empty() {
        return;
    }
    if let Some(mut list) = server.watches.keys.get_mut(&(db, Key::new(key))) {
        for e in list.iter_mut() {
            if e.expired {
                e.expired = false;
            } else {
                e.watcher.mark_dirty();
            }
        }
    }
}

/// FLUSHDB, FLUSHALL and SWAPDB: touches the watched keys of database
/// `emptied` whose content is about to be dropped, or replaced by that of
/// `replaced_with` (SWAPDB). Call before the change, holding both databases.
/// As Redis 7's touchAllWatchedKeysInDb: only keys that exist on either side
/// count, a stale key's removal is no change, and a missing key replaced by a
/// stale one becomes "watched while stale".
pub(crate) fn touch_db(
    server: &Server,
    ks: &Locked<'_>,
    emptied: usize,
    replaced_with: Option<usize>,
) {
    if server.watches.keys.is_empty() {
        return;
    }
    for mut item in server.watches.keys.iter_mut() {
        let (db, key) = item.key().clone();
        if db != emptied {
            continue;
        }
        let here = ks.key_state(emptied, &key);
        let there = replaced_with.and_then(|r| ks.key_state(r, &key));
        if here.is_none() && there.is_none() {
            continue;
        }
        for e in item.value_mut().iter_mut() {
            if e.expired {
                match there {
                    None => {
                        e.expired = false;
                        continue;
                    }
                    Some(true) => continue,
                    Some(false) => {}
                }
            } else if here.is_none() && there == Some(true) {
                e.expired = true;
                continue;
            }
            e.watcher.mark_dirty();
        }
    }
}

// ---------------------------------------------------------------------------
// Commands

command!(
    MULTI,
    "Starts a transaction: later commands are queued until EXEC.",
    multi,
    Locking::None
);

/// MULTI
fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.client.in_multi() {
        return Reply::error("ERR MULTI calls can not be nested");
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.client.info.set_flag(flag::MULTI, true);
    ctx.client.info.multi.store(0, Ordering::Relaxed);
    ctx.client.info.multi_mem.store(0, Ordering::Relaxed);
    Reply::ok()
}

command!(
    DISCARD,
    "Drops the queued commands of a transaction and forgets watched keys.",
    discard_cmd,
    Locking::None
);

/// DISCARD
fn discard_cmd(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if !ctx.client.in_multi() {
        return Reply::error("ERR DISCARD without MULTI");
    }
    discard(ctx.server, ctx.client);
    Reply::ok()
}

command!(
    WATCH,
    "Makes the next EXEC fail if any of the keys changes before it.",
    watch
);

/// WATCH key [key ...]
///
/// Runs holding the keys' shards, so a concurrent write is either before the
/// registration (and irrelevant) or after it (and seen).
fn watch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.client.in_multi() {
        return Reply::error("ERR WATCH inside MULTI is not allowed");
    }
    let server = ctx.server;
    let w = match &ctx.client.watcher {
        Some(w) => {
            // No point in watching more once the transaction must fail.
            if w.is_dirty() {
                return Reply::ok();
            }
            w.clone()
        }
        None => {
            let w = Arc::new(Watcher {
                id: ctx.client.id,
                info: ctx.client.info.clone(),
                dirty: AtomicBool::new(false),
                keys: Mutex::new(Vec::new()),
            });
            // Counted before any key is registered, under the keys' shard
            // locks, so writers of these keys record their changes.
            server.observers.fetch_add(1, Ordering::Relaxed);
            server.watches.clients.insert(w.id, w.clone());
            ctx.client.watcher = Some(w.clone());
            w
        }
    };
    let db = ctx.db();
    for key in &args[1..] {
        let mut mine = w.keys.lock();
        if mine
            .iter()
            .any(|(d, k)| *d == db && k.as_bytes() == &key[..])
        {
            continue;
        }
        mine.push((db, Key::new(key)));
        drop(mine);
        let expired = ctx.ks.key_state(db, key) == Some(true);
        server
            .watches
            .keys
            .entry((db, Key::new(key)))
            .or_default()
            .push(WatchEntry {
                watcher: w.clone(),
                expired,
            });
    }
    Reply::ok()
}

command!(
    UNWATCH,
    "Forgets every watched key.",
    unwatch,
    Locking::None
);

/// UNWATCH
fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    unwatch_all(ctx.server, ctx.client);
    Reply::ok()
}

command!(
    EXEC,
    "Runs the queued commands of a transaction atomically.",
    exec,
    Locking::None
);

/// EXEC
///
/// Replies with the array of the queued commands' replies (an error in one
/// does not stop the others), a null array when a watched key changed, or
/// EXECABORT when a command was rejected while queueing.
fn exec(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let server = ctx.server;
    let Some(state) = ctx.client.multi.take() else {
        return Reply::error("ERR EXEC without MULTI");
    };
    *ctx.client.info.last_cmd.lock() = "exec";
    if state.aborted {
        discard(server, ctx.client);
        return Reply::error("EXECABORT Transaction discarded because of previous errors.");
    }
    let watched: Vec<(usize, Key)> = ctx
        .client
        .watcher
        .as_ref()
        .map(|w| w.keys.lock().clone())
        .unwrap_or_default();
    let mut ks = lock_union(server, ctx.client.db, &state.queue, &watched);
    let held = !ks_is_empty(server, &state.queue, &watched);
    if let Some(w) = ctx.client.watcher.clone() {
        // A key that went stale since WATCH counts as changed (Redis 7).
        if !w.is_dirty() {
            for (db, key) in &watched {
                let watched_stale = server
                    .watches
                    .keys
                    .get(&(*db, key.clone()))
                    .and_then(|l| {
                        l.iter()
                            .find(|e| Arc::ptr_eq(&e.watcher, &w))
                            .map(|e| e.expired)
                    })
                    .unwrap_or(false);
                if !watched_stale && ks.key_state(*db, key) == Some(true) {
                    w.mark_dirty();
                    break;
                }
            }
        }
        if w.is_dirty() {
            drop(ks);
            discard(server, ctx.client);
            return Reply::NullArray;
        }
    }
    // Unwatch before running, so the transaction's own writes cost nothing.
    unwatch_all(server, ctx.client);
    let old_no_block = ctx.client.no_block;
    ctx.client.no_block = true;
    let mut replies: Vec<Option<Reply>> = Vec::with_capacity(state.queue.len());
    let mut deferred = Vec::new();
    for (i, q) in state.queue.iter().enumerate() {
        // Commands that lock shards inside their handlers (`Locking::Own`)
        // would deadlock on the shards EXEC holds: they run after EXEC
        // releases them, their replies kept in place. They read and write
        // no keys, so the transaction's keyspace effects stay atomic; they
        // see the statistics as they are after it.
        if held && matches!(q.entry.cmd.locking, Locking::Own) {
            deferred.push(i);
            replies.push(None);
            continue;
        }
        let (reply, view) = run_one(server, ctx.client, q, ks);
        ks = view;
        replies.push(Some(reply));
    }
    // Keys the transaction made ready serve their blocked clients before
    // anyone else can see them, as after any single write.
    crate::observers::after_command(server, &mut ks);
    crate::blocking::serve_ready(server, &mut ks);
    // The transaction's writes reach the stream as one MULTI ... EXEC.
    crate::propagate::flush(server, true, ks.epoch());
    drop(ks);
    for i in deferred {
        let q = &state.queue[i];
        let none = server.store.lock_none();
        let (reply, _) = run_one(server, ctx.client, q, none);
        replies[i] = Some(reply);
    }
    ctx.client.no_block = old_no_block;
    // The transaction is over (the queued commands may have changed state,
    // but never started another one: MULTI is not queued).
    discard(server, ctx.client);
    Reply::Array(
        replies
            .into_iter()
            .map(|r| r.unwrap_or(Reply::Null))
            .collect(),
    )
}

/// Runs one queued command on the transaction's view, keeping its statistics
/// as the dispatcher would.
fn run_one<'s>(
    server: &Server,
    client: &mut Client,
    q: &Queued,
    ks: Locked<'s>,
) -> (Reply, Locked<'s>) {
    let start = Instant::now();
    let (reply, _block, ks) = dispatch::run_on(server, client, q.entry, &q.args, ks);
    dispatch::count(server, q.entry, start, &reply);
    (reply, ks)
}

/// True when the transaction needs no shard at all.
fn ks_is_empty(server: &Server, queue: &[Queued], watched: &[(usize, Key)]) -> bool {
    watched.is_empty()
        && queue.iter().all(|q| {
            matches!(dispatch::need(server, 0, q.entry, &q.args), Need::Nothing)
                && q.entry.full_name != "select"
        })
}

/// Locks everything the queued commands and the watched keys need, in one
/// ascending pass.
fn lock_union<'s>(
    server: &'s Server,
    db: usize,
    queue: &[Queued],
    watched: &[(usize, Key)],
) -> Locked<'s> {
    let store = &server.store;
    let mut whole: SmallVec<[usize; 4]> = SmallVec::new();
    let mut slots: SmallVec<[Slot; 4]> = watched.iter().map(|(d, k)| store.slot(*d, k)).collect();
    for q in queue {
        // SELECT moves later commands to another database; spanning commands
        // name databases of their own: hold everything.
        if q.entry.full_name == "select" || matches!(q.entry.cmd.locking, Locking::Custom(_)) {
            return store.lock_all();
        }
        match dispatch::need(server, db, q.entry, &q.args) {
            Need::Slots(s) => slots.extend(s),
            Need::Db(d) => whole.push(d),
            Need::All => return store.lock_all(),
            Need::Nothing => {}
        }
    }
    whole.sort_unstable();
    whole.dedup();
    for d in whole {
        slots.retain(|(sd, _)| *sd as usize != d);
        for sh in 0..store.shards_per_db() {
            slots.push((d as u32, sh as u32));
        }
    }
    if slots.is_empty() {
        store.lock_none()
    } else {
        store.lock(slots)
    }
}
