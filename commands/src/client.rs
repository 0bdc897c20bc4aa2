//! Per-connection state. [`Client`] is owned by the connection task;
//! [`ClientInfo`] is the part other connections may read or act on (CLIENT
//! LIST, CLIENT KILL), so it is shared and made of atomics and small locks.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
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
    pub flags: Mutex<String>,
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
    pub skip_next_reply: bool,
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
        }
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
