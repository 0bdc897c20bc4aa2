//! Keyspace event classes and the hooks commands call when they change keys.
//!
//! Every command that modifies a key calls [`Ctx::modified`] (Redis's
//! signalModifiedKey: WATCH and client-side caching react to it) and
//! [`Ctx::notify`] with the event Redis raises (Redis's notifyKeyspaceEvent).
//! Both only record, and only when someone listens; `observers` acts on the
//! records while the command still holds its locks, so the order of events
//! matches the order of writes. Keys that lazy expiry deleted before a
//! record is added become their `expired` event (and touched key) first, as
//! Redis raises `expired` during the lookup that precedes the write.

use storage::{Key, KeyEvent};

use crate::ctx::Ctx;

/// Event classes, as the letters of `notify-keyspace-events`.
pub mod class {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key misses.
    pub const KEY_MISS: u32 = 1 << 11;
    /// `d`: module events.
    pub const MODULE: u32 = 1 << 12;
    /// `n`: new keys.
    pub const NEW: u32 = 1 << 13;
    /// `A`: alias for "g$lshzxetd".
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

impl Ctx<'_, '_> {
    /// Reports that `key` in `db` was modified (Redis's signalModifiedKey).
    /// Call it once per key a command actually changes, deletions included.
    pub fn modified(&mut self, db: usize, key: &[u8]) {
        crate::observers::flush_expired(self.server, &mut self.ks);
        crate::propagate::changed(self.server, 1);
        if self.server.observers_active() {
            self.ks.touched.push((db, Key::new(key)));
        }
    }

    /// Raises keyspace event `event` of class `class` for `key` in `db`
    /// (Redis's notifyKeyspaceEvent), with Redis's event names.
    pub fn notify(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        crate::observers::flush_expired(self.server, &mut self.ks);
        if self.server.notify_flags() & class != 0 {
            self.ks.events.push(KeyEvent {
                class,
                event,
                db,
                key: Key::new(key),
            });
        }
    }
}

impl Ctx<'_, '_> {
    /// What most write commands raise for a key of the selected database:
    /// [`Ctx::modified`] and then [`Ctx::notify`] with `class` and `event`.
    pub fn signal(&mut self, class: u32, event: &'static str, key: &[u8]) {
        let db = self.db();
        self.modified(db, key);
        self.notify(class, event, db, key);
    }

    /// The `new` event (class `n`): Redis raises it whenever a key is added
    /// to a database (dbAdd), before the command's own event. Commands call
    /// it when `Locked::set` returns None, or when they create a collection.
    pub fn created(&mut self, db: usize, key: &[u8]) {
        self.notify(class::NEW, "new", db, key);
    }
}
