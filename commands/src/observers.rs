//! What happens after a command, while it still holds its locks: expired
//! keys become events, and modified keys and events reach whoever observes
//! them (WATCH, client-side caching, keyspace notifications).

use storage::{KeyEvent, Locked};

use crate::notify::class;
use crate::state::Server;

/// Turns the keys lazy expiry deleted so far into what Redis raises when it
/// deletes a stale key on lookup (deleteExpiredKeyAndPropagate): a touched
/// key for WATCH and tracking, and the `expired` event. Called before any
/// other record is added, so that `expired` comes first, as in Redis, where
/// the lookup that finds the stale key runs before the command's writes.
pub(crate) fn flush_expired(server: &Server, ks: &mut Locked<'_>) {
    if ks.expired.is_empty() {
        return;
    }
    let expired = std::mem::take(&mut ks.expired);
    crate::propagate::expired_keys(server, &expired);
    let observe = server.observers_active();
    let notify = server.notify_flags() & class::EXPIRED != 0;
    for (db, key) in expired {
        if observe {
            ks.touched.push((db, key.clone()));
        }
        if notify {
            ks.events.push(KeyEvent {
                class: class::EXPIRED,
                event: "expired",
                db,
                key,
            });
        }
    }
}

/// Processes the records a command left in its locked view.
pub(crate) fn after_command(server: &Server, ks: &mut Locked<'_>) {
    // Keys found stale after the command's last event (or by a command that
    // raised none, such as a read).
    flush_expired(server, ks);
    crate::pubsub::publish_events(server, &ks.events);
    crate::tracking::invalidate_touched(server, &ks.touched);
    // WATCH: watchers of every modified key become dirty.
    crate::multi::touch_watched(server, ks);
    // Observers (WATCH, tracking, notifications) take their records here as
    // they are added; whatever is left is dropped so it cannot pile up.
    ks.touched.clear();
    ks.events.clear();
}
