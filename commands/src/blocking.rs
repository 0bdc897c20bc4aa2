//! Clients parked by blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...).
//!
//! A blocking command that finds nothing to serve calls `Ctx::block_on`; the
//! dispatcher then registers a [`Waiter`] and queues its id on each key, in
//! the key's shard, while the command still holds the shard locks, so no push
//! can slip in between the check and the registration.
//!
//! Any write lookup of a key that has waiters marks it ready
//! (`Locked::ready`). Before the writing command releases its locks, the
//! dispatcher serves the ready keys' waiters first come first served by
//! re-running each waiter's own handler on the same locked view: the push and
//! the pops it unblocks are one atomic step, and nothing can steal the data
//! in between. A waiter whose command needs a shard the writer does not hold
//! (a second key elsewhere, BLMOVE's destination) is woken to retry on its
//! own instead.
//!
//! Every path that ends a wait (timeout, CLIENT UNBLOCK, disconnect) first
//! locks the shards of all the waiter's keys, so it excludes any serving in
//! progress through one of them; the reply itself travels through a oneshot
//! channel owned by the waiter and taken exactly once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use parking_lot::Mutex;
use resp::{Protocol, Reply};
use smallvec::SmallVec;
use storage::{Locked, Slot};
use tokio::sync::oneshot;

use crate::client::{Client, ClientInfo};
use crate::ctx::{BlockRequest, Ctx};
use crate::registry::Entry;
use crate::state::Server;

/// How a parked client is woken.
#[derive(Debug)]
pub enum Wake {
    /// Its command was served (or timed out, or was unblocked): send this.
    Reply(Reply),
    /// Data arrived but could not be served in place: run the command again.
    Retry,
}

/// A client waiting for keys.
#[derive(Debug)]
pub struct Waiter {
    pub id: u64,
    pub client_id: u64,
    pub db: usize,
    pub args: Vec<Bytes>,
    pub entry: &'static Entry,
    pub info: Arc<ClientInfo>,
    pub protocol: Protocol,
    pub request: BlockRequest,
    tx: Mutex<Option<oneshot::Sender<Wake>>>,
}

impl Waiter {
    /// Takes the right to answer this waiter; None if someone already has.
    fn claim(&self) -> Option<oneshot::Sender<Wake>> {
        self.tx.lock().take()
    }

    /// Gives back a claim that served nothing.
    fn unclaim(&self, tx: oneshot::Sender<Wake>) {
        *self.tx.lock() = Some(tx);
    }

    /// Answers the waiter unless it has been answered already.
    pub fn finish(&self, wake: Wake) -> bool {
        match self.claim() {
            Some(tx) => {
                let _ = tx.send(wake);
                true
            }
            None => false,
        }
    }

    fn slots(&self, server: &Server) -> SmallVec<[Slot; 4]> {
        self.request
            .keys
            .iter()
            .map(|k| server.store.slot(self.db, k))
            .collect()
    }
}

/// A parked client, as the connection holds it while it waits.
#[derive(Debug)]
pub struct Parked {
    pub waiter: Arc<Waiter>,
    pub rx: oneshot::Receiver<Wake>,
}

/// Every parked client.
#[derive(Debug, Default)]
pub struct Blocking {
    waiters: DashMap<u64, Arc<Waiter>>,
    by_client: DashMap<u64, u64>,
    next: AtomicU64,
}

impl Blocking {
    /// Number of parked clients (INFO `blocked_clients`).
    pub fn count(&self) -> usize {
        self.waiters.len()
    }

    /// The waiter of a client, if it is parked.
    pub fn of_client(&self, client_id: u64) -> Option<Arc<Waiter>> {
        let id = *self.by_client.get(&client_id)?;
        self.waiters.get(&id).map(|w| w.clone())
    }

    /// Forgets a waiter once its connection has its answer.
    pub fn forget(&self, waiter: &Waiter) {
        self.waiters.remove(&waiter.id);
        self.by_client
            .remove_if(&waiter.client_id, |_, id| *id == waiter.id);
    }

    /// Ends a wait from outside the serving path (timeout, CLIENT UNBLOCK,
    /// disconnect): locks the waiter's keys, takes it off their queues, and
    /// answers it with `wake` unless it was answered first. Must not be
    /// called while holding shard locks.
    pub fn cancel(&self, server: &Server, waiter: &Waiter, wake: Option<Wake>) -> bool {
        let mut ks = server.store.lock(waiter.slots(server));
        for k in &waiter.request.keys {
            ks.remove_waiter(waiter.db, k, waiter.id);
        }
        let answered = match wake {
            Some(w) => waiter.finish(w),
            None => waiter.claim().is_some(),
        };
        drop(ks);
        answered
    }
}

/// Parks the client that ran `entry` with `args`: registers a waiter and
/// queues it on its keys. Called by the dispatcher with the keys' shards
/// still locked.
pub(crate) fn park(
    server: &Server,
    ks: &mut Locked<'_>,
    client: &Client,
    entry: &'static Entry,
    args: &[Bytes],
    request: BlockRequest,
) -> Parked {
    let b = &server.blocking;
    let id = b.next.fetch_add(1, Ordering::Relaxed) + 1;
    let (tx, rx) = oneshot::channel();
    let waiter = Arc::new(Waiter {
        id,
        client_id: client.id,
        db: client.db,
        args: args.to_vec(),
        entry,
        info: client.info.clone(),
        protocol: client.protocol,
        request,
        tx: Mutex::new(Some(tx)),
    });
    for k in &waiter.request.keys {
        ks.add_waiter(waiter.db, k, id);
    }
    b.waiters.insert(id, waiter.clone());
    b.by_client.insert(client.id, id);
    Parked { waiter, rx }
}

/// Serves the waiters of every key that became ready while `ks` was held,
/// first come first served, before the locks are released.
pub(crate) fn serve_ready(server: &Server, ks: &mut Locked<'_>) {
    // A served command can make further keys ready (BLMOVE pushes); the
    // bound only guards against a bug looping forever.
    let mut budget = 100_000usize;
    while !ks.ready.is_empty() && budget > 0 {
        let ready = std::mem::take(&mut ks.ready);
        for (db, key) in ready {
            for id in ks.waiters(db, &key) {
                budget = budget.saturating_sub(1);
                let Some(w) = server.blocking.waiters.get(&id).map(|w| w.clone()) else {
                    ks.remove_waiter(db, &key, id);
                    continue;
                };
                // As in Redis, a waiter is only served when the ready key
                // holds the type it waits for: a key overwritten with another
                // type (or deleted) leaves its waiters blocked.
                if !holds_awaited_type(ks, db, &key, w.entry) {
                    break;
                }
                match serve_one(server, ks, &w) {
                    Served::Answered => {
                        for k in &w.request.keys {
                            if ks.holds(w.db, k) {
                                ks.remove_waiter(w.db, k, w.id);
                            }
                        }
                    }
                    Served::Gone => ks.remove_waiter(db, &key, id),
                    // The key has nothing more to give: later waiters on it
                    // would find the same.
                    Served::StillWaiting => break,
                }
            }
        }
    }
}

/// True when `key` exists with the value type `entry`'s blocking command
/// pops from (lists for the list group, sorted sets for the sorted-set group).
fn holds_awaited_type(ks: &mut Locked<'_>, db: usize, key: &[u8], entry: &Entry) -> bool {
    let want = match entry.cmd.spec.group {
        "list" => "list",
        "sorted_set" => "zset",
        _ => return true,
    };
    ks.peek(db, key)
        .is_some_and(|e| e.value.type_name() == want)
}

enum Served {
    Answered,
    Gone,
    StillWaiting,
}

fn serve_one(server: &Server, ks: &mut Locked<'_>, w: &Arc<Waiter>) -> Served {
    let Some(tx) = w.claim() else {
        return Served::Gone;
    };
    let positions = w.entry.key_positions(&w.args);
    if !positions.iter().all(|&i| ks.holds(w.db, &w.args[i])) {
        let _ = tx.send(Wake::Retry);
        return Served::Answered;
    }
    let Some(handler) = w.entry.cmd.handler else {
        let _ = tx.send(Wake::Retry);
        return Served::Answered;
    };
    let mut client = Client::new(w.info.clone(), true);
    client.db = w.db;
    client.protocol = w.protocol;
    // A handler that finds nothing to serve changes nothing, but its
    // lookups mark the keys it looked at as ready again; those marks are
    // dropped so that serving does not spin on its own reads.
    let ready_before = ks.ready.len();
    let placeholder = ks.store().lock_none();
    let view = std::mem::replace(ks, placeholder);
    let mut ctx = Ctx {
        server,
        client: &mut client,
        ks: view,
        entry: w.entry,
        block: None,
    };
    crate::propagate::begin(server);
    let reply = handler(&mut ctx, &w.args);
    let still = ctx.block.is_some();
    if !still {
        crate::propagate::after_handler(server, w.db, w.entry, &w.args, &reply, &mut ctx.ks);
    }
    crate::observers::after_command(server, &mut ctx.ks);
    // The real view goes back to the caller, with any keys the served
    // command made ready (the caller's loop picks them up).
    let Ctx { ks: view, .. } = ctx;
    drop(std::mem::replace(ks, view));
    if still {
        ks.ready.truncate(ready_before);
        w.unclaim(tx);
        return Served::StillWaiting;
    }
    let _ = tx.send(Wake::Reply(reply));
    Served::Answered
}
