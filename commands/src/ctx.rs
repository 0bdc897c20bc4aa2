//! The context a handler runs in.

use storage::Locked;

use crate::client::Client;
use crate::registry::Entry;
use crate::state::Server;

/// Everything a command may use: the server's shared state, the calling
/// client, and the shards the dispatcher locked for it. No sockets.
pub struct Ctx<'a> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    pub ks: Locked<'a>,
    pub entry: &'a Entry,
}

impl Ctx<'_> {
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
        self.server
            .stats
            .dirty
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}
