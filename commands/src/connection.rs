//! Connection commands: PING, ECHO, SELECT, QUIT, RESET, HELLO, AUTH and the
//! CLIENT container. They change the calling connection's state ([`Client`]
//! and its shared [`ClientInfo`]) and never touch the keyspace, so none of
//! them locks a shard.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use resp::{Protocol, Reply};

use crate::client::{Client, ClientInfo, ClientType};
use crate::ctx::Ctx;
use crate::error::{self, err, DB_OUT_OF_RANGE, SYNTAX};
use crate::parse;
use crate::registry::Locking;
use crate::state::Server;
use crate::{command, container};

/// The Redis version Ferrum answers as (HELLO's `version`).
const REDIS_VERSION: &str = "7.2.4";

/// The only user until ACLs arrive: Redis's `default` user, whose password is
/// `requirepass` (no password at all when it is unset).
const DEFAULT_USER: &[u8] = b"default";

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

/// An argument as C's `%s` prints it into CLIENT LIST's text: up to the
/// first NUL byte (lossy for binary; the fields it prints are checked to be
/// printable when set).
fn c_text(arg: &[u8]) -> String {
    String::from_utf8_lossy(parse::c_str(arg)).into_owned()
}

// ---------------------------------------------------------------------------
// PING, ECHO

command!(
    PING,
    "Answers PONG, or echoes its argument; checks that the connection is alive.",
    ping,
    Locking::None
);

/// PING [message]
///
/// A RESP2 connection in the subscribed context gets Redis's array form,
/// `pong` and the message (empty without one), which reads like a message.
fn ping(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() <= 2 && crate::pubsub::in_subscribed_context(ctx.client) {
        return Reply::Array(vec![
            Reply::bulk(Bytes::from_static(b"pong")),
            Reply::Bulk(args.get(1).cloned().unwrap_or_default()),
        ]);
    }
    match args.len() {
        1 => Reply::simple("PONG"),
        2 => Reply::Bulk(args[1].clone()),
        _ => error::wrong_args("ping"),
    }
}

command!(ECHO, "Returns its argument unchanged.", echo, Locking::None);

/// ECHO message
fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Reply::Bulk(args[1].clone())
}

// ---------------------------------------------------------------------------
// SELECT, QUIT, RESET

command!(
    SELECT,
    "Switches the connection to another numbered database.",
    select,
    Locking::None
);

/// SELECT index
///
/// The index is read as a C `int` first (Redis's range error beyond it),
/// then checked against `databases`.
fn select(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let n = match parse::int(&args[1]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Reply::error(format!(
            "ERR value is out of range, value must between {} and {}",
            i32::MIN,
            i32::MAX
        ));
    }
    if n < 0 || n as usize >= ctx.server.store.databases() {
        return err(DB_OUT_OF_RANGE);
    }
    ctx.client.select(n as usize);
    Reply::ok()
}

command!(
    QUIT,
    "Answers OK and closes the connection once the reply is written.",
    quit,
    Locking::None
);

/// QUIT — any arguments are ignored, as in Redis.
fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.client.close_after_reply = true;
    Reply::ok()
}

command!(
    RESET,
    "Returns the connection to the state of a fresh one and answers RESET.",
    reset,
    Locking::None
);

/// RESET
fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if matches!(
        ctx.client.info.client_type(),
        ClientType::Replica | ClientType::Master
    ) {
        return Reply::error("ERR can only reset normal client connections");
    }
    clear_connection_state(ctx.server, ctx.client);
    Reply::simple("RESET")
}

/// Everything RESET undoes, in Redis's order. Connection state added later
/// (MONITOR, tracking, MULTI/WATCH, pub/sub subscriptions, READONLY, ASKING)
/// is cleared here too, at the step its comment names.
pub(crate) fn clear_connection_state(server: &Server, client: &mut Client) {
    // 1. Leave MONITOR mode (with MONITOR).
    // 2. Turn client-side caching off (with CLIENT TRACKING).
    crate::tracking::disable(server, client.id);
    // 3. Database 0 and RESP2.
    client.select(0);
    client.set_protocol(Protocol::Resp2);
    // 4. Back to the default user: authenticated only when it needs no password.
    client.authenticated = server.config.read(|v| v.requirepass.is_none());
    // 5. Discard MULTI and forget WATCHed keys.
    crate::multi::discard(server, client);
    // 6. Unsubscribe from channels, shard channels and patterns (with pub/sub).
    crate::pubsub::reset_client(server, client);
    // 7. No name. LIB-NAME and LIB-VER stay: they describe the library on the
    //    other end, which RESET does not change.
    client.set_name(None);
    // 8. Replies on again, and the per-connection switches off.
    client.reply_off = false;
    client.reply_skip = false;
    client.skip_next_reply = false;
    client.set_no_evict(false);
    client.set_no_touch(false);
}

// ---------------------------------------------------------------------------
// AUTH, HELLO

/// Compares a password attempt with the configured one in time that depends
/// only on the attempt's length, so the reply time reveals nothing about how
/// much of the secret (or its length) was guessed right.
fn password_matches(secret: &[u8], attempt: &[u8]) -> bool {
    if secret.is_empty() {
        return attempt.is_empty();
    }
    let mut diff = secret.len() ^ attempt.len();
    for (i, &c) in attempt.iter().enumerate() {
        diff |= (c ^ secret[i % secret.len()]) as usize;
    }
    std::hint::black_box(diff) == 0
}

/// Checks `username`/`password` as Redis checks them against its user table;
/// on success the connection becomes authenticated. A failure leaves the
/// connection's state as it was.
fn authenticate(ctx: &mut Ctx, username: &[u8], password: &[u8]) -> bool {
    let ok = username == DEFAULT_USER
        && ctx.server.config.read(|v| match &v.requirepass {
            // The default user without a password accepts any.
            None => true,
            Some(p) => password_matches(p.as_bytes(), password),
        });
    if ok {
        ctx.client.authenticated = true;
    }
    ok
}

command!(
    AUTH,
    "Authenticates the connection with a password, optionally naming the user.",
    auth,
    Locking::None
);

/// AUTH [username] password
///
/// The one-argument form names the default user and, as in Redis, is an
/// error when that user has no password: the caller's configuration is
/// probably not what they think.
fn auth(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return err(SYNTAX);
    }
    let (username, password): (&[u8], &[u8]) = if args.len() == 2 {
        if ctx.server.config.read(|v| v.requirepass.is_none()) {
            return err(
                "ERR AUTH <password> called without any password configured for the default \
                 user. Are you sure your configuration is correct?",
            );
        }
        (DEFAULT_USER, &args[1])
    } else {
        (&args[1], &args[2])
    };
    if authenticate(ctx, username, password) {
        Reply::ok()
    } else {
        err(WRONGPASS)
    }
}

command!(
    HELLO,
    "Negotiates the protocol version, optionally authenticating and naming the \
     connection, and describes the server.",
    hello,
    Locking::None
);

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
///
/// Checks run in Redis's order: the version, the options, the credentials,
/// then whether the connection is authenticated at all; the name and the
/// protocol change only once everything passed, so the reply comes in the
/// new protocol.
fn hello(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut version = None;
    if args.len() >= 2 {
        let v = match parse::int_or(
            &args[1],
            "ERR Protocol version is not an integer or out of range",
        ) {
            Ok(v) => v,
            Err(e) => return e,
        };
        if !(2..=3).contains(&v) {
            return err("NOPROTO unsupported protocol version");
        }
        version = Some(v);
    }
    let mut credentials = None;
    let mut name = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if parse::eq(&args[i], "AUTH") && more >= 2 {
            credentials = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if parse::eq(&args[i], "SETNAME") && more >= 1 {
            name = Some(&args[i + 1]);
            i += 2;
        } else {
            return parse::echo_error(&[
                b"ERR Syntax error in HELLO option '",
                parse::c_str(&args[i]),
                b"'",
            ]);
        }
    }
    if let Some((user, pass)) = credentials {
        if !authenticate(ctx, user, pass) {
            return err(WRONGPASS);
        }
    }
    if !ctx.client.authenticated {
        return err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        );
    }
    if let Some(n) = name {
        if let Err(e) = set_client_name(ctx.client, n) {
            return e;
        }
    }
    match version {
        Some(3) => ctx.client.set_protocol(Protocol::Resp3),
        Some(_) => ctx.client.set_protocol(Protocol::Resp2),
        None => {}
    }
    let proto = if ctx.client.protocol == Protocol::Resp3 {
        3
    } else {
        2
    };
    let field = |s: &'static str| Reply::bulk(Bytes::from_static(s.as_bytes()));
    Reply::Map(vec![
        (field("server"), field("redis")),
        (field("version"), field(REDIS_VERSION)),
        (field("proto"), Reply::Integer(proto)),
        (field("id"), Reply::Integer(ctx.client.id as i64)),
        (field("mode"), field("standalone")),
        (field("role"), field("master")),
        (field("modules"), Reply::Array(Vec::new())),
    ])
}

// ---------------------------------------------------------------------------
// CLIENT

container!(
    CLIENT,
    "Inspects and controls client connections: this one and the others."
);

/// Whether a name or library attribute is printable ASCII without spaces, so
/// CLIENT LIST lines can still be split on spaces.
fn printable(b: &[u8]) -> bool {
    b.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// Sets or (with an empty name) removes the connection's name; shared by
/// CLIENT SETNAME and HELLO SETNAME.
fn set_client_name(client: &mut Client, name: &Bytes) -> Result<(), Reply> {
    if !printable(name) {
        return Err(err(BAD_NAME));
    }
    client.set_name((!name.is_empty()).then(|| name.clone()));
    Ok(())
}

command!(
    CLIENT_ID,
    "Returns the unique id of this connection.",
    client_id,
    Locking::None
);

/// CLIENT ID
fn client_id(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Integer(ctx.client.id as i64)
}

command!(
    CLIENT_SETNAME,
    "Names this connection (an empty name removes it).",
    client_setname,
    Locking::None
);

/// CLIENT SETNAME connection-name
fn client_setname(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match set_client_name(ctx.client, &args[2]) {
        Ok(()) => Reply::ok(),
        Err(e) => e,
    }
}

command!(
    CLIENT_GETNAME,
    "Returns this connection's name, or null when it has none.",
    client_getname,
    Locking::None
);

/// CLIENT GETNAME
fn client_getname(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    match ctx.client.info.name.lock().clone() {
        Some(n) => Reply::Bulk(n),
        None => Reply::Null,
    }
}

command!(
    CLIENT_SETINFO,
    "Records the name or version of the client library behind this connection.",
    client_setinfo,
    Locking::None
);

/// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>
///
/// As in Redis, the value is checked only up to a NUL byte, and an empty
/// value removes the attribute.
fn client_setinfo(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let attr = &args[2];
    let info = &ctx.client.info;
    let slot = if parse::eq(attr, "lib-name") {
        &info.lib_name
    } else if parse::eq(attr, "lib-ver") {
        &info.lib_ver
    } else {
        return parse::echo_error(&[b"ERR Unrecognized option '", parse::c_str(attr), b"'"]);
    };
    let value = &args[3];
    let checked = &value[..value.iter().position(|&c| c == 0).unwrap_or(value.len())];
    if !printable(checked) {
        return parse::echo_error(&[
            b"ERR ",
            parse::c_str(attr),
            b" cannot contain spaces, newlines or special characters.",
        ]);
    }
    *slot.lock() = (!value.is_empty()).then(|| value.clone());
    Reply::ok()
}

/// Appends one CLIENT LIST line (with its newline) for `info`. The calling
/// connection's line shows the command now running and its arguments'
/// size, as Redis's does.
fn client_line(out: &mut String, ctx: &Ctx, info: &ClientInfo, args: &[Bytes]) {
    let caller = info.id == ctx.client.id;
    let now_s = ctx.now() / 1000;
    let age = (now_s - info.created_ms / 1000).max(0);
    let idle = (now_s - info.last_interaction_ms.load(Ordering::Relaxed) / 1000).max(0);
    let name = info.name.lock().clone().unwrap_or_default();
    let lib_name = info.lib_name.lock().clone().unwrap_or_default();
    let lib_ver = info.lib_ver.lock().clone().unwrap_or_default();
    let qbuf = info.qbuf.load(Ordering::Relaxed);
    let qbuf_free = info.qbuf_free.load(Ordering::Relaxed);
    let argv_mem: usize = if caller {
        args.iter().map(|a| a.len()).sum()
    } else {
        0
    };
    let multi_mem = info.multi_mem.load(Ordering::Relaxed);
    let rbs = info.rbs.load(Ordering::Relaxed);
    let rbp = info.rbp.load(Ordering::Relaxed);
    let obl = if caller {
        info.obl.load(Ordering::Relaxed)
    } else {
        0
    };
    let tot_mem = std::mem::size_of::<Client>()
        + std::mem::size_of::<ClientInfo>()
        + qbuf
        + qbuf_free
        + argv_mem
        + multi_mem as usize
        + rbs;
    let cmd: &str = if caller {
        &ctx.entry.full_name
    } else {
        *info.last_cmd.lock()
    };
    let _ = writeln!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} \
         ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} \
         oll=0 omem=0 tot-mem={} events=r cmd={} user=default redir={} resp={} lib-name={} \
         lib-ver={}",
        info.id,
        info.addr,
        info.laddr,
        info.fd,
        c_text(&name),
        age,
        idle,
        info.flags_string(),
        info.db.load(Ordering::Relaxed),
        info.sub.load(Ordering::Relaxed),
        info.psub.load(Ordering::Relaxed),
        info.ssub.load(Ordering::Relaxed),
        info.multi.load(Ordering::Relaxed),
        qbuf,
        qbuf_free,
        argv_mem,
        multi_mem,
        rbs,
        rbp,
        obl,
        tot_mem,
        cmd,
        info.redir.load(Ordering::Relaxed),
        info.resp.load(Ordering::Relaxed),
        c_text(&lib_name),
        c_text(&lib_ver),
    );
}

/// CLIENT LIST and CLIENT INFO text: verbatim `txt` in RESP3, bulk in RESP2.
fn txt(s: String) -> Reply {
    Reply::Verbatim {
        format: *b"txt",
        text: Bytes::from(s),
    }
}

/// Every live connection, in id (creation) order. Connections already
/// killed are left out: they are gone as far as clients can tell.
fn live_clients(server: &Server) -> Vec<Arc<ClientInfo>> {
    let mut all: Vec<Arc<ClientInfo>> = server
        .clients
        .iter()
        .map(|e| e.value().clone())
        .filter(|c| !c.is_killed())
        .collect();
    all.sort_by_key(|c| c.id);
    all
}

command!(
    CLIENT_INFO,
    "Describes this connection in the CLIENT LIST format.",
    client_info,
    Locking::None
);

/// CLIENT INFO
fn client_info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut out = String::new();
    let info = ctx.client.info.clone();
    client_line(&mut out, ctx, &info, args);
    txt(out)
}

command!(
    CLIENT_LIST,
    "Describes the connections, one line each, optionally filtered by type or id.",
    client_list,
    Locking::None
);

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id [client-id ...]]
///
/// As in Redis, the two filters do not combine: `TYPE` takes exactly one
/// value, and `ID` lists the named connections in the order given.
fn client_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut out = String::new();
    if args.len() == 4 && parse::eq(&args[2], "type") {
        let Some(t) = ClientType::parse(&args[3]) else {
            return parse::echo_error(&[
                b"ERR Unknown client type '",
                parse::c_str(&args[3]),
                b"'",
            ]);
        };
        for c in live_clients(ctx.server) {
            if c.client_type() == t {
                client_line(&mut out, ctx, &c, args);
            }
        }
    } else if args.len() > 3 && parse::eq(&args[2], "id") {
        let mut ids = Vec::with_capacity(args.len() - 3);
        for a in &args[3..] {
            match parse::int_or(a, "ERR Invalid client ID") {
                Ok(id) => ids.push(id),
                Err(e) => return e,
            }
        }
        for id in ids {
            let found = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.server.clients.get(&id).map(|e| e.value().clone()))
                .filter(|c| !c.is_killed());
            if let Some(c) = found {
                client_line(&mut out, ctx, &c, args);
            }
        }
    } else if args.len() != 2 {
        return err(SYNTAX);
    } else {
        for c in live_clients(ctx.server) {
            client_line(&mut out, ctx, &c, args);
        }
    }
    txt(out)
}

/// The filters of CLIENT KILL's new form; a connection must match them all.
#[derive(Default)]
struct KillFilter {
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    id: Option<u64>,
    client_type: Option<ClientType>,
    skip_me: bool,
    max_age: Option<i64>,
}

impl KillFilter {
    /// Parses `<filter> <value>` pairs with Redis's error replies.
    fn parse(args: &[Bytes]) -> Result<KillFilter, Reply> {
        let mut f = KillFilter {
            skip_me: true,
            ..KillFilter::default()
        };
        let mut i = 2;
        while i < args.len() {
            let Some(value) = args.get(i + 1) else {
                return Err(err(SYNTAX));
            };
            let opt = &args[i];
            if parse::eq(opt, "id") {
                let id = parse::int_or(value, "ERR client-id should be greater than 0")?;
                if id < 1 {
                    return Err(err("ERR client-id should be greater than 0"));
                }
                f.id = Some(id as u64);
            } else if parse::eq(opt, "type") {
                let Some(t) = ClientType::parse(value) else {
                    return Err(parse::echo_error(&[
                        b"ERR Unknown client type '",
                        parse::c_str(value),
                        b"'",
                    ]));
                };
                f.client_type = Some(t);
            } else if parse::eq(opt, "addr") {
                f.addr = Some(value.clone());
            } else if parse::eq(opt, "laddr") {
                f.laddr = Some(value.clone());
            } else if parse::eq(opt, "user") {
                // Every connection belongs to the default user until ACLs
                // arrive, so naming it filters nothing out.
                if value.as_ref() != DEFAULT_USER {
                    return Err(parse::echo_error(&[
                        b"ERR No such user '",
                        parse::c_str(value),
                        b"'",
                    ]));
                }
            } else if parse::eq(opt, "skipme") {
                if parse::eq(value, "yes") {
                    f.skip_me = true;
                } else if parse::eq(value, "no") {
                    f.skip_me = false;
                } else {
                    return Err(err(SYNTAX));
                }
            } else if parse::eq(opt, "maxage") {
                let age = parse::int_or(value, "ERR maxage is not an integer or out of range")?;
                if age <= 0 {
                    return Err(err(SYNTAX));
                }
                f.max_age = Some(age);
            } else {
                return Err(err(SYNTAX));
            }
            i += 2;
        }
        Ok(f)
    }

    fn matches(&self, c: &ClientInfo, caller: u64, now_s: i64) -> bool {
        self.addr.as_ref().is_none_or(|a| a == c.addr.as_bytes())
            && self.laddr.as_ref().is_none_or(|a| a == c.laddr.as_bytes())
            && self.client_type.is_none_or(|t| c.client_type() == t)
            && self.id.is_none_or(|id| c.id == id)
            && !(self.skip_me && c.id == caller)
            && self
                .max_age
                .is_none_or(|m| now_s - c.created_ms / 1000 >= m)
    }
}

command!(
    CLIENT_KILL,
    "Closes the connections that match an address or a set of filters.",
    client_kill,
    Locking::None
);

/// CLIENT KILL ip:port
/// CLIENT KILL <ID id | TYPE type | USER name | ADDR ip:port | LADDR ip:port
///              | SKIPME yes/no | MAXAGE seconds> ...
///
/// The old form answers OK or an error and may close the caller itself; the
/// new form answers how many connections it closed and spares the caller
/// unless SKIPME no. The caller, when it matches, closes after this reply.
fn client_kill(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let old_form = args.len() == 3;
    let filter = if old_form {
        KillFilter {
            addr: Some(args[2].clone()),
            ..KillFilter::default()
        }
    } else {
        match KillFilter::parse(args) {
            Ok(f) => f,
            Err(e) => return e,
        }
    };
    let me = ctx.client.id;
    let now_s = ctx.now() / 1000;
    let mut killed = 0;
    for c in live_clients(ctx.server) {
        if !filter.matches(&c, me, now_s) {
            continue;
        }
        if c.id == me {
            ctx.client.close_after_reply = true;
        } else {
            c.kill();
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            err("ERR No such client")
        } else {
            Reply::ok()
        }
    } else {
        Reply::Integer(killed)
    }
}

/// Parses an ON|OFF argument; anything else is a syntax error.
fn on_off(arg: &[u8]) -> Result<bool, Reply> {
    if parse::eq(arg, "on") {
        Ok(true)
    } else if parse::eq(arg, "off") {
        Ok(false)
    } else {
        Err(err(SYNTAX))
    }
}

command!(
    CLIENT_REPLY,
    "Turns this connection's replies on or off, or skips the next one.",
    client_reply,
    Locking::None
);

/// CLIENT REPLY ON|OFF|SKIP
///
/// OFF and SKIP send no reply of their own: the connection drops this
/// command's reply when `reply_off` or `skip_next_reply` is set after it.
fn client_reply(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mode = &args[2];
    if parse::eq(mode, "on") {
        ctx.client.reply_off = false;
        ctx.client.reply_skip = false;
    } else if parse::eq(mode, "off") {
        ctx.client.reply_off = true;
    } else if parse::eq(mode, "skip") {
        if !ctx.client.reply_off {
            ctx.client.skip_next_reply = true;
        }
    } else {
        return err(SYNTAX);
    }
    Reply::ok()
}

command!(
    CLIENT_NO_EVICT,
    "Exempts this connection from client eviction, or makes it eligible again.",
    client_no_evict,
    Locking::None
);

/// CLIENT NO-EVICT ON|OFF
fn client_no_evict(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match on_off(&args[2]) {
        Ok(on) => {
            ctx.client.set_no_evict(on);
            Reply::ok()
        }
        Err(e) => e,
    }
}

command!(
    CLIENT_NO_TOUCH,
    "Stops this connection's commands from updating keys' last access time.",
    client_no_touch,
    Locking::None
);

/// CLIENT NO-TOUCH ON|OFF
fn client_no_touch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match on_off(&args[2]) {
        Ok(on) => {
            ctx.client.set_no_touch(on);
            Reply::ok()
        }
        Err(e) => e,
    }
}

command!(
    CLIENT_UNBLOCK,
    "Wakes a client parked by a blocking command, as on timeout or with an error.",
    client_unblock,
    Locking::Own
);

/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]
///
/// Replies 1 when the client was parked and is now answered, 0 otherwise.
/// TIMEOUT (the default) answers it as its timeout would; ERROR with an
/// `UNBLOCKED` error.
fn client_unblock(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let id = match crate::parse::int(&args[2]) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let as_error = match args.get(3) {
        None => false,
        Some(a) if a.eq_ignore_ascii_case(b"timeout") => false,
        Some(a) if a.eq_ignore_ascii_case(b"error") => true,
        Some(_) => {
            return Reply::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        }
    };
    let Some(w) = ctx.server.blocking.of_client(id as u64) else {
        return Reply::Integer(0);
    };
    let reply = if as_error {
        Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    } else {
        w.request.timeout_reply.clone()
    };
    let server = ctx.server;
    let done = server
        .blocking
        .cancel(server, &w, Some(crate::blocking::Wake::Reply(reply)));
    Reply::Integer(done as i64)
}

command!(
    CLIENT_HELP,
    "Lists the CLIENT subcommands with a line about each.",
    client_help,
    Locking::None
);

const CLIENT_HELP_LINES: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Reply with this connection's name, or null when it has none.",
    "ID",
    "    Reply with this connection's unique id.",
    "INFO",
    "    Reply with the CLIENT LIST line of this connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Wake a client parked by a blocking command, answering as its timeout would, or with an error.",
    "KILL <ip:port>",
    "    Close the connection coming from <ip:port>.",
    "KILL <filter> <value> [<filter> <value> ...]",
    "    Close every connection matching all the filters, and reply with their number:",
    "    * ID <client-id>",
    "      The connection with this id.",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Connections from this peer address.",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Connections made to this local address.",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Connections of this kind.",
    "    * USER <username>",
    "      Connections authenticated as this user.",
    "    * SKIPME (YES|NO)",
    "      Whether this connection is spared (YES unless told otherwise).",
    "    * MAXAGE <seconds>",
    "      Connections open for at least this many seconds.",
    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> [<client-id> ...]]",
    "    Describe the connections, one line each, or only those of a kind or ids.",
    "NO-EVICT (ON|OFF)",
    "    Exempt this connection from client eviction, or make it eligible again.",
    "NO-TOUCH (ON|OFF)",
    "    When ON, this connection's commands leave keys' last access time alone.",
    "REPLY (ON|OFF|SKIP)",
    "    Send replies, stop sending them, or drop only the next one.",
    "SETINFO <LIB-NAME|LIB-VER> <value>",
    "    Record the client library's name or version for CLIENT LIST.",
    "SETNAME <name>",
    "    Name this connection; an empty name removes it.",
    "HELP",
    "    Show this list.",
];

/// CLIENT HELP
fn client_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Array(
        CLIENT_HELP_LINES
            .iter()
            .map(|&l| Reply::simple(l))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_comparison() {
        assert!(password_matches(b"secret", b"secret"));
        assert!(!password_matches(b"secret", b"secreT"));
        assert!(!password_matches(b"secret", b"secre"));
        assert!(!password_matches(b"secret", b"secretsecret"));
        assert!(!password_matches(b"secret", b""));
        assert!(password_matches(b"", b""));
        assert!(!password_matches(b"", b"x"));
    }

    #[test]
    fn names_must_be_printable() {
        assert!(printable(b"abc-1_2:3"));
        assert!(printable(b""));
        assert!(!printable(b"a b"));
        assert!(!printable(b"a\nb"));
        assert!(!printable(b"caf\xc3\xa9"));
        assert!(!printable(b"\x7f"));
    }

    #[test]
    fn c_text_stops_at_nul() {
        assert_eq!(c_text(b"ab\0cd"), "ab");
        assert_eq!(c_text(b"abc"), "abc");
    }
}
