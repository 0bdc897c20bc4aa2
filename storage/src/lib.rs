//! Ferrum's keyspace: databases split into locked shards, values in compact
//! encodings, and expiry (lazy on access, active in the background).

pub mod clock;
pub mod glob;
pub mod hash;
mod heapstr;
pub mod key;
pub mod keyspace;
pub mod limits;
pub mod list;
pub mod set;
pub mod snapshot;
pub mod value;
pub mod zset;

pub use clock::Clock;
pub use key::Key;
pub use keyspace::{Entry, KeyEvent, Locked, Slot, Store};
pub use limits::{LimitValues, Limits};
pub use snapshot::{SnapEntry, SnapshotBusy, SnapshotReport, SnapshotSink};
pub use value::{StrValue, Value};
