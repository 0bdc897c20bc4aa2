//! Per-connection state. [`Client`] is owned by the connection task;
//! [`ClientInfo`] is the part other connections may read or act on (CLIENT
//! LIST, CLIENT KILL), so it is shared and made of atomics and small locks.

use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use resp::Protocol;

/// What the rest of the server can see of a connection.
#[derive(Debug)]
pub struct ClientInfo {
    pub id: u64,
    /// Peer address, `ip:port` (or a unix socket path).
    pub addr: String,
    /// Local address the client connected to.
    pub laddr: String,
    pub fd: i64,
    pub created_ms: i64,
    pub last_interaction_ms: AtomicI64,
    pub name: Mutex<Option<Bytes>>,
    pub lib_name: Mutex<Option<Bytes>>,
    pub lib_ver: Mutex<Option<Bytes>>,
    pub db: AtomicUsize,
    /// 2 or 3.
    pub resp: AtomicU8,
    /// Full name of the last command run (`client|list`).
    pub last_cmd: Mutex<&'static str>,
    /// Set by CLIENT KILL; the connection closes when it sees it.
    pub killed: AtomicBool,
    /// Wakes the connection task so a kill takes effect without waiting for input.
    pub kill_notify: tokio::sync::Notify,
    pub qbuf: AtomicUsize,
    pub obl: AtomicUsize,
    pub tot_net_in: AtomicU64,
    pub tot_net_out: AtomicU64,
    pub tot_cmds: AtomicU64,
    /// Redis's `flags=` letters that depend on state other code sets
    /// (for example `x` inside MULTI); kept as a small string.
    /// Prefer [`ClientInfo::set_flag`]: [`ClientInfo::flags_string`] merges
    /// the letters found here with the [`flag`] bits.
    pub flags: Mutex<String>,
    /// [`flag`] bits: the state CLIENT LIST shows as `flags=` letters.
    pub flag_bits: AtomicU32,
    /// Free room in the query buffer (CLIENT LIST `qbuf-free`).
    pub qbuf_free: AtomicUsize,
    /// Capacity of the reply buffer (CLIENT LIST `rbs`).
    pub rbs: AtomicUsize,
    /// Largest batch of replies written at once (CLIENT LIST `rbp`).
    pub rbp: AtomicUsize,
    /// Pub/sub subscriptions: channels, patterns, shard channels
    /// (CLIENT LIST `sub`, `psub`, `ssub`).
    pub sub: AtomicU64,
    pub psub: AtomicU64,
    pub ssub: AtomicU64,
    /// Commands queued inside MULTI, or -1 outside a transaction
    /// (CLIENT LIST `multi`), and the bytes of their arguments (`multi-mem`).
    pub multi: AtomicI64,
    pub multi_mem: AtomicU64,
    /// Client id that tracking invalidations go to, or -1 (CLIENT LIST `redir`).
    pub redir: AtomicI64,
}

/// Bits of [`ClientInfo::flag_bits`], each shown as one letter of CLIENT
/// LIST's `flags=` field (in the order of [`flag::LETTERS`]).
pub mod flag {
    /// A replica connection (`S`).
    pub const REPLICA: u32 = 1 << 0;
    /// A MONITOR connection (`O`, shown in place of `S`).
    pub const MONITOR: u32 = 1 << 1;
    /// The connection to our master (`M`).
    pub const MASTER: u32 = 1 << 2;
    /// Subscribed to pub/sub channels or patterns (`P`).
    pub const PUBSUB: u32 = 1 << 3;
    /// Inside MULTI (`x`).
    pub const MULTI: u32 = 1 << 4;
    /// Blocked in a blocking command (`b`).
    pub const BLOCKED: u32 = 1 << 5;
    /// Client-side caching tracking on (`t`).
    pub const TRACKING: u32 = 1 << 6;
    /// Tracking redirection target is gone (`R`).
    pub const TRACKING_BROKEN_REDIR: u32 = 1 << 7;
    /// Tracking in broadcast mode (`B`).
    pub const TRACKING_BCAST: u32 = 1 << 8;
    /// A WATCHed key changed (`d`).
    pub const DIRTY_CAS: u32 = 1 << 9;
    /// Closes once its reply is written (`c`).
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 10;
    /// Unblocked, not yet served (`u`).
    pub const UNBLOCKED: u32 = 1 << 11;
    /// Being closed asynchronously (`A`).
    pub const CLOSE_ASAP: u32 = 1 << 12;
    /// Connected through a unix socket (`U`).
    pub const UNIX_SOCKET: u32 = 1 << 13;
    /// Cluster READONLY mode (`r`).
    pub const READONLY: u32 = 1 << 14;
    /// CLIENT NO-EVICT ON (`e`).
    pub const NO_EVICT: u32 = 1 << 15;
    /// CLIENT NO-TOUCH ON (`T`).
    pub const NO_TOUCH: u32 = 1 << 16;

    /// Each bit with its letter, in the order Redis prints them.
    pub const LETTERS: &[(u32, u8)] = &[
        (MONITOR, b'O'),
        (REPLICA, b'S'),
        (MASTER, b'M'),
        (PUBSUB, b'P'),
        (MULTI, b'x'),
        (BLOCKED, b'b'),
        (TRACKING, b't'),
        (TRACKING_BROKEN_REDIR, b'R'),
        (TRACKING_BCAST, b'B'),
        (DIRTY_CAS, b'd'),
        (CLOSE_AFTER_REPLY, b'c'),
        (UNBLOCKED, b'u'),
        (CLOSE_ASAP, b'A'),
        (UNIX_SOCKET, b'U'),
        (READONLY, b'r'),
        (NO_EVICT, b'e'),
        (NO_TOUCH, b'T'),
    ];
}

/// What kind of connection a client is, as CLIENT LIST TYPE and CLIENT KILL
/// TYPE filter them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

impl ClientType {
    /// Parses a type name as Redis does (case-insensitive; `slave` is an
    /// old name for `replica`).
    pub fn parse(name: &[u8]) -> Option<ClientType> {
        let n = name.to_ascii_lowercase();
        match n.as_slice() {
            b"normal" => Some(ClientType::Normal),
            b"slave" | b"replica" => Some(ClientType::Replica),
            b"pubsub" => Some(ClientType::PubSub),
            b"master" => Some(ClientType::Master),
            _ => None,
        }
    }
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, fd: i64, now_ms: i64) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created_ms: now_ms,
            last_interaction_ms: AtomicI64::new(now_ms),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_cmd: Mutex::new("NULL"),
            killed: AtomicBool::new(false),
            kill_notify: tokio::sync::Notify::new(),
            qbuf: AtomicUsize::new(0),
            obl: AtomicUsize::new(0),
            tot_net_in: AtomicU64::new(0),
            tot_net_out: AtomicU64::new(0),
            tot_cmds: AtomicU64::new(0),
            flags: Mutex::new(String::from("N")),
            flag_bits: AtomicU32::new(0),
            qbuf_free: AtomicUsize::new(0),
            rbs: AtomicUsize::new(0),
            rbp: AtomicUsize::new(0),
            sub: AtomicU64::new(0),
            psub: AtomicU64::new(0),
            ssub: AtomicU64::new(0),
            multi: AtomicI64::new(-1),
            multi_mem: AtomicU64::new(0),
            redir: AtomicI64::new(-1),
        }
    }

    /// Sets or clears [`flag`] bits.
    pub fn set_flag(&self, bits: u32, on: bool) {
        if on {
            self.flag_bits.fetch_or(bits, Ordering::Relaxed);
        } else {
            self.flag_bits.fetch_and(!bits, Ordering::Relaxed);
        }
    }

    /// True when any of `bits` is set.
    pub fn has_flag(&self, bits: u32) -> bool {
        self.flag_bits.load(Ordering::Relaxed) & bits != 0
    }

    /// CLIENT LIST's `flags=` field: one letter per state in Redis's order,
    /// `N` when there is none. Letters other code keeps in [`Self::flags`]
    /// are merged in.
    pub fn flags_string(&self) -> String {
        let bits = self.flag_bits.load(Ordering::Relaxed);
        let legacy = self.flags.lock().clone();
        let mut out = String::new();
        for &(bit, letter) in flag::LETTERS {
            // MONITOR shows as `O` in place of `S`.
            let shown = if bit == flag::REPLICA {
                bits & flag::REPLICA != 0 && bits & flag::MONITOR == 0
            } else {
                bits & bit != 0
            };
            if shown || legacy.as_bytes().contains(&letter) {
                out.push(letter as char);
            }
        }
        for c in legacy.chars() {
            let known = c == 'N' || flag::LETTERS.iter().any(|&(_, l)| l as char == c);
            if !known && !out.contains(c) {
                out.push(c);
            }
        }
        if out.is_empty() {
            out.push('N');
        }
        out
    }

    /// The connection's kind, from its flags.
    pub fn client_type(&self) -> ClientType {
        let bits = self.flag_bits.load(Ordering::Relaxed);
        if bits & flag::MASTER != 0 {
            ClientType::Master
        } else if bits & flag::REPLICA != 0 && bits & flag::MONITOR == 0 {
            ClientType::Replica
        } else if bits & flag::PUBSUB != 0 {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }

    /// Asks the connection to close after its current command.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
}

/// The state a connection's commands read and change.
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub db: usize,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub info: Arc<ClientInfo>,
    /// QUIT: close once the reply is written.
    pub close_after_reply: bool,
    /// Replies for this command should not be sent (CLIENT REPLY OFF/SKIP).
    pub reply_off: bool,
    /// Set by CLIENT REPLY SKIP: the command that ran sends no reply, and the
    /// connection moves the flag to [`Client::reply_skip`] for the next one.
    pub skip_next_reply: bool,
    /// The reply of the command now running is dropped (the one after CLIENT
    /// REPLY SKIP). CLIENT REPLY ON and RESET clear it, so their own reply
    /// is still sent, as in Redis.
    pub reply_skip: bool,
    /// CLIENT NO-EVICT ON: exempt from client eviction.
    pub no_evict: bool,
    /// CLIENT NO-TOUCH ON: commands do not update keys' access time, except
    /// TOUCH itself.
    pub no_touch: bool,
    /// Blocking commands reply at once instead of blocking (MULTI, scripts).
    pub no_block: bool,
    /// Between MULTI and EXEC/DISCARD: the queued commands (see `crate::multi`).
    pub multi: Option<crate::multi::MultiState>,
    /// The keys this client WATCHes and their shared dirty flag, if any.
    pub watcher: Option<Arc<crate::multi::Watcher>>,
    /// Set by SUBSCRIBE and friends, whose confirmations went through the
    /// connection's push queue: the connection sends no reply of its own
    /// for the command (and clears the flag).
    pub pushed_reply: bool,
}

impl Client {
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Client {
        Client {
            id: info.id,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            info,
            close_after_reply: false,
            reply_off: false,
            skip_next_reply: false,
            no_block: false,
            multi: None,
            watcher: None,
            pushed_reply: false,
            reply_skip: false,
            no_evict: false,
            no_touch: false,
        }
    }

    /// CLIENT NO-EVICT: keeps the flag and its CLIENT LIST letter in step.
    pub fn set_no_evict(&mut self, on: bool) {
        self.no_evict = on;
        self.info.set_flag(flag::NO_EVICT, on);
    }

    /// CLIENT NO-TOUCH: keeps the flag and its CLIENT LIST letter in step.
    pub fn set_no_touch(&mut self, on: bool) {
        self.no_touch = on;
        self.info.set_flag(flag::NO_TOUCH, on);
    }

    /// Sets the connection's name; `None` removes it.
    pub fn set_name(&mut self, name: Option<Bytes>) {
        *self.info.name.lock() = name;
    }

    /// False inside MULTI/EXEC and scripts, where blocking commands reply at once.
    pub fn may_block(&self) -> bool {
        !self.no_block
    }

    /// Switches database, keeping the shared view in step.
    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Ordering::Relaxed);
    }

    /// Switches protocol, keeping the shared view in step.
    pub fn set_protocol(&mut self, p: Protocol) {
        self.protocol = p;
        self.info
            .resp
            .store(if p == Protocol::Resp3 { 3 } else { 2 }, Ordering::Relaxed);
    }
}
