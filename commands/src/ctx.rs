//! The context a handler runs in.

use storage::Locked;

use crate::client::Client;
use crate::registry::Entry;
use crate::state::Server;

/// Everything a command may use: the server's shared state, the calling
/// client, and the shards the dispatcher locked for it. No sockets.
///
/// Two lifetimes: `'a` for what the caller lends (server, client, registry
/// entry) and `'s` for the store the locks borrow, so that a blocked client
/// can be served on a writer's locked view with a client of its own.
pub struct Ctx<'a, 's> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    pub ks: Locked<'s>,
    pub entry: &'a Entry,
    /// Set by a blocking command (BLPOP, BZPOPMIN, ...) that found nothing
    /// to serve: the dispatcher then parks the client instead of replying.
    pub block: Option<BlockRequest>,
}

/// What a blocking command waits for.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The keys whose change may let the command proceed.
    pub keys: Vec<bytes::Bytes>,
    /// Absolute deadline in Unix ms; None waits forever.
    pub deadline_ms: Option<i64>,
    /// The reply sent when the deadline passes (or on CLIENT UNBLOCK ... TIMEOUT).
    pub timeout_reply: resp::Reply,
}

impl Ctx<'_, '_> {
    /// Asks the dispatcher to park this client until one of `keys` changes
    /// or `deadline_ms` passes; the handler's own reply is then discarded.
    /// When the command cannot block (inside MULTI or a script), the
    /// handler is told so by [`Ctx::may_block`] and must reply at once.
    pub fn block_on(
        &mut self,
        keys: Vec<bytes::Bytes>,
        deadline_ms: Option<i64>,
        timeout_reply: resp::Reply,
    ) {
        self.block = Some(BlockRequest {
            keys,
            deadline_ms,
            timeout_reply,
        });
    }

    /// False when a blocking command must behave like its non-blocking form
    /// (inside MULTI/EXEC or a script), as in Redis.
    pub fn may_block(&self) -> bool {
        self.client.may_block()
    }

    /// The client's selected database.
    #[inline]
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// The time this command runs at (Unix ms), fixed for its duration.
    #[inline]
    pub fn now(&self) -> i64 {
        self.ks.now
    }

    /// Counts one change to the dataset (INFO `rdb_changes_since_last_save`).
    #[inline]
    pub fn dirty(&self, n: u64) {
        self.server.stats.dirty.add(n);
        crate::propagate::changed(self.server, n);
    }
}
