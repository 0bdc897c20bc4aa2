//! Pub/Sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBE forms,
//! PUBLISH, SPUBLISH and the PUBSUB container; the delivery path keyspace
//! notifications and client-side caching invalidations share.
//!
//! Every connection attaches a [`Subscriber`] when it starts: an unbounded
//! queue of [`Reply`] values that the connection task drains alongside its
//! socket reads (and while parked by a blocking command) and writes in
//! order. PUBLISH only appends to queues, so it never waits for a slow
//! subscriber and holds no lock across an await. What a subscriber has
//! queued and not yet written is counted in bytes; past
//! `client-output-buffer-limit` (hard, or soft for longer than its seconds)
//! the subscriber is disconnected and its queue dropped, as Redis does, so
//! a reader that never reads cannot grow the server without bound.
//!
//! Subscription confirmations travel through the same queue, pushed before
//! the channel is registered, so a message on a new channel can never
//! overtake its confirmation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use parking_lot::{Mutex, RwLock};
use resp::{Protocol, Reply};
use storage::glob::glob_match;
use tokio::sync::mpsc;

use crate::client::{flag, Client, ClientInfo, ClientType};
use crate::ctx::Ctx;
use crate::notify::class;
use crate::registry::{Entry, Locking};
use crate::state::Server;
use crate::{command, container};

/// The receiving end of a connection's push queue.
pub type PushRx = mpsc::UnboundedReceiver<Reply>;

/// A connection as the delivery path sees it.
#[derive(Debug)]
pub struct Subscriber {
    pub info: Arc<ClientInfo>,
    tx: mpsc::UnboundedSender<Reply>,
    /// Bytes queued and not yet written to the socket (Redis's output buffer).
    pending: AtomicUsize,
    /// When the pending bytes first passed the soft limit (Unix ms), or 0.
    soft_since: AtomicI64,
    subs: Mutex<Subs>,
}

/// What one connection is subscribed to, in subscription order.
#[derive(Debug, Default)]
struct Subs {
    channels: Vec<Bytes>,
    patterns: Vec<Bytes>,
    shard: Vec<Bytes>,
}

/// Which of the three subscription spaces a command works on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn sub_name(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    fn unsub_name(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

impl Subs {
    fn list(&mut self, kind: Kind) -> &mut Vec<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count Redis reports: channels and patterns together, shard
    /// channels on their own.
    fn count(&self, kind: Kind) -> i64 {
        match kind {
            Kind::Shard => self.shard.len() as i64,
            _ => (self.channels.len() + self.patterns.len()) as i64,
        }
    }
}

/// Approximate bytes a push takes once encoded, for output buffer limits.
fn reply_size(r: &Reply) -> usize {
    match r {
        Reply::Bulk(b) => b.len() + 16,
        Reply::Array(v) | Reply::Push(v) | Reply::Set(v) => {
            8 + v.iter().map(reply_size).sum::<usize>()
        }
        _ => 16,
    }
}

/// Output buffer limits of one client class: hard bytes, soft bytes, soft seconds.
pub type BufferLimit = (u64, u64, u64);

impl Subscriber {
    /// Queues `reply` unless the connection is gone or over its output
    /// buffer limit, in which case it is disconnected instead.
    fn deliver(&self, reply: Reply, limits: &[BufferLimit; 3], now_ms: i64) {
        if self.info.is_killed() {
            return;
        }
        let size = reply_size(&reply);
        let pending = self.pending.fetch_add(size, Ordering::AcqRel) + size;
        let (hard, soft, secs) = match self.info.client_type() {
            ClientType::PubSub => limits[2],
            ClientType::Replica => limits[1],
            _ => limits[0],
        };
        let mut over = hard > 0 && pending as u64 > hard;
        if soft > 0 && pending as u64 > soft {
            let since = self.soft_since.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since.store(now_ms, Ordering::Relaxed);
            } else if now_ms - since > secs as i64 * 1000 {
                over = true;
            }
        } else {
            self.soft_since.store(0, Ordering::Relaxed);
        }
        if over {
            tracing::warn!(
                "client id={} addr={} scheduled to be closed for overcoming of output buffer limits",
                self.info.id,
                self.info.addr
            );
            self.info.kill();
            return;
        }
        let _ = self.tx.send(reply);
    }

    /// Queues a reply for this connection itself, outside any limit.
    fn push_own(&self, reply: Reply) {
        self.pending.fetch_add(reply_size(&reply), Ordering::AcqRel);
        let _ = self.tx.send(reply);
    }

    /// Encodes what is queued into `out`, up to about `max` bytes; returns
    /// the bytes drained, to pass to [`Subscriber::written`] once sent.
    pub fn drain(
        &self,
        rx: &mut PushRx,
        proto: Protocol,
        out: &mut bytes::BytesMut,
        max: usize,
    ) -> usize {
        // Called around every command: most connections never have pushes,
        // and the counter is raised before a push enters the queue.
        if self.pending.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let mut n = 0;
        while n < max {
            match rx.try_recv() {
                Ok(r) => {
                    n += reply_size(&r);
                    r.encode(proto, out);
                }
                Err(_) => break,
            }
        }
        n
    }

    /// Encodes one received push (from `rx.recv()`) into `out`.
    pub fn encode_one(&self, r: Reply, proto: Protocol, out: &mut bytes::BytesMut) -> usize {
        let n = reply_size(&r);
        r.encode(proto, out);
        n
    }

    /// Records that `n` drained bytes have been written to the socket.
    pub fn written(&self, n: usize) {
        if n == 0 {
            return;
        }
        let _ = self
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(p.saturating_sub(n))
            });
    }

    fn update_counts(&self, subs: &Subs) {
        let info = &self.info;
        info.sub
            .store(subs.channels.len() as u64, Ordering::Relaxed);
        info.psub
            .store(subs.patterns.len() as u64, Ordering::Relaxed);
        info.ssub.store(subs.shard.len() as u64, Ordering::Relaxed);
        let any = !(subs.channels.is_empty() && subs.patterns.is_empty() && subs.shard.is_empty());
        info.set_flag(flag::PUBSUB, any);
    }
}

type Members = HashMap<u64, Arc<Subscriber>>;

/// The server-wide subscription registry.
#[derive(Debug, Default)]
pub struct PubSub {
    clients: DashMap<u64, Arc<Subscriber>>,
    channels: DashMap<Bytes, Members>,
    shard: DashMap<Bytes, Members>,
    /// Patterns are matched against every published channel, so they sit
    /// in one map read under a shared lock.
    patterns: RwLock<HashMap<Bytes, Members>>,
}

impl PubSub {
    /// The connection with this id, if it is attached.
    pub fn subscriber(&self, id: u64) -> Option<Arc<Subscriber>> {
        self.clients.get(&id).map(|s| s.clone())
    }

    /// INFO's `pubsub_channels`, `pubsub_patterns`, `pubsubshard_channels`.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.channels.len(),
            self.patterns.read().len(),
            self.shard.len(),
        )
    }

    fn map(&self, kind: Kind) -> &DashMap<Bytes, Members> {
        match kind {
            Kind::Shard => &self.shard,
            _ => &self.channels,
        }
    }

    fn add(&self, kind: Kind, name: &Bytes, sub: &Arc<Subscriber>) {
        let id = sub.info.id;
        if kind == Kind::Pattern {
            self.patterns
                .write()
                .entry(name.clone())
                .or_default()
                .insert(id, sub.clone());
        } else {
            self.map(kind)
                .entry(name.clone())
                .or_default()
                .insert(id, sub.clone());
        }
    }

    fn remove(&self, kind: Kind, name: &Bytes, id: u64) {
        if kind == Kind::Pattern {
            let mut p = self.patterns.write();
            if let Some(m) = p.get_mut(name) {
                m.remove(&id);
                if m.is_empty() {
                    p.remove(name);
                }
            }
        } else {
            let map = self.map(kind);
            if let Some(mut m) = map.get_mut(name) {
                m.remove(&id);
            }
            map.remove_if(name, |_, m| m.is_empty());
        }
    }
}

/// Registers a new connection's push queue; the connection keeps the
/// receiver and the returned handle until it ends, then calls [`detach`].
pub fn attach(server: &Server, info: &Arc<ClientInfo>) -> (Arc<Subscriber>, PushRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sub = Arc::new(Subscriber {
        info: info.clone(),
        tx,
        pending: AtomicUsize::new(0),
        soft_since: AtomicI64::new(0),
        subs: Mutex::new(Subs::default()),
    });
    server.pubsub.clients.insert(info.id, sub.clone());
    (sub, rx)
}

/// Forgets a connection that ended: every subscription and its tracking state.
pub fn detach(server: &Server, id: u64) {
    if let Some(sub) = server.pubsub.subscriber(id) {
        unsubscribe_all(server, &sub);
    }
    server.pubsub.clients.remove(&id);
    crate::tracking::disable(server, id);
}

/// RESET and disconnect: drops every subscription of `sub` silently.
fn unsubscribe_all(server: &Server, sub: &Arc<Subscriber>) {
    let mut subs = sub.subs.lock();
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in std::mem::take(subs.list(kind)) {
            server.pubsub.remove(kind, &name, sub.info.id);
        }
    }
    sub.update_counts(&subs);
}

/// RESET's pub/sub step: leaves every channel, pattern and shard channel.
pub(crate) fn reset_client(server: &Server, client: &Client) {
    if let Some(sub) = server.pubsub.subscriber(client.id) {
        unsubscribe_all(server, &sub);
    }
}

fn limits(server: &Server) -> [BufferLimit; 3] {
    server.config.read(|v| v.client_output_buffer_limit)
}

/// Publishes `message` on `channel` to its subscribers and to every
/// matching pattern; returns how many received it, as PUBLISH replies.
pub fn publish(server: &Server, channel: &Bytes, message: &Bytes) -> i64 {
    let ps = &server.pubsub;
    let lim = limits(server);
    let now = storage::clock::system_now_ms();
    let mut n = 0;
    if let Some(m) = ps.channels.get(channel) {
        for s in m.values() {
            s.deliver(
                Reply::Push(vec![
                    Reply::bulk(Bytes::from_static(b"message")),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]),
                &lim,
                now,
            );
            n += 1;
        }
    }
    let patterns = ps.patterns.read();
    for (pat, m) in patterns.iter() {
        if !glob_match(pat, channel, false) {
            continue;
        }
        for s in m.values() {
            s.deliver(
                Reply::Push(vec![
                    Reply::bulk(Bytes::from_static(b"pmessage")),
                    Reply::Bulk(pat.clone()),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]),
                &lim,
                now,
            );
            n += 1;
        }
    }
    n
}

/// Publishes on a shard channel (SPUBLISH): no patterns.
pub fn spublish(server: &Server, channel: &Bytes, message: &Bytes) -> i64 {
    let lim = limits(server);
    let now = storage::clock::system_now_ms();
    let mut n = 0;
    if let Some(m) = server.pubsub.shard.get(channel) {
        for s in m.values() {
            s.deliver(
                Reply::Push(vec![
                    Reply::bulk(Bytes::from_static(b"smessage")),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]),
                &lim,
                now,
            );
            n += 1;
        }
    }
    n
}

/// Sends a push to one connection (tracking invalidations), within its
/// output buffer limit. False when the connection is not attached.
pub fn push_to(server: &Server, id: u64, reply: Reply) -> bool {
    match server.pubsub.subscriber(id) {
        Some(s) => {
            s.deliver(reply, &limits(server), storage::clock::system_now_ms());
            true
        }
        None => false,
    }
}

/// Publishes recorded keyspace events: `__keyspace@<db>__:<key>` with the
/// event name when `K` is on, `__keyevent@<db>__:<event>` with the key when
/// `E` is on (Redis's notifyKeyspaceEvent).
pub fn publish_events(server: &Server, events: &[storage::KeyEvent]) {
    if events.is_empty() {
        return;
    }
    let flags = server.notify_flags();
    for ev in events {
        publish_event(server, flags, ev.class, ev.event, ev.db, ev.key.as_bytes());
    }
}

fn publish_event(server: &Server, flags: u32, cls: u32, event: &str, db: usize, key: &[u8]) {
    if flags & cls == 0 {
        return;
    }
    if flags & class::KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        publish(
            server,
            &Bytes::from(ch),
            &Bytes::copy_from_slice(event.as_bytes()),
        );
    }
    if flags & class::KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}");
        publish(server, &Bytes::from(ch), &Bytes::copy_from_slice(key));
    }
}

/// A key active expiry deleted: raises `expired` and invalidates it for
/// client-side caching, as lazy expiry does through the command path.
pub fn key_expired(server: &Server, db: usize, key: &[u8]) {
    publish_event(
        server,
        server.notify_flags(),
        class::EXPIRED,
        "expired",
        db,
        key,
    );
    if server.observers_active() {
        crate::tracking::invalidate_keys(server, std::iter::once(key), None);
    }
}

// ---------------------------------------------------------------------------
// The RESP2 subscribed context

/// Commands a RESP2 connection may run while subscribed.
const ALLOWED_SUBSCRIBED: &[&str] = &[
    "subscribe",
    "ssubscribe",
    "sunsubscribe",
    "psubscribe",
    "unsubscribe",
    "punsubscribe",
    "ping",
    "quit",
    "reset",
];

/// True while a RESP2 connection is subscribed to anything: it may then
/// run only the pub/sub commands, PING, QUIT and RESET.
pub fn in_subscribed_context(client: &Client) -> bool {
    client.protocol == Protocol::Resp2 && client.info.has_flag(flag::PUBSUB)
}

/// Redis's refusal of `entry` in the RESP2 subscribed context, if it applies.
pub fn deny_in_subscribed_context(client: &Client, entry: &Entry) -> Option<Reply> {
    if !in_subscribed_context(client) || ALLOWED_SUBSCRIBED.contains(&entry.full_name.as_str()) {
        return None;
    }
    Some(Reply::error(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
         are allowed in this context",
        entry.full_name
    )))
}

// ---------------------------------------------------------------------------
// SUBSCRIBE and friends

fn confirmation(kind_name: &'static str, name: Option<&Bytes>, count: i64) -> Reply {
    Reply::Push(vec![
        Reply::bulk(Bytes::from_static(kind_name.as_bytes())),
        match name {
            Some(n) => Reply::Bulk(n.clone()),
            None => Reply::Null,
        },
        Reply::Integer(count),
    ])
}

/// The reply a (un)subscribe command returns itself: nothing, since its
/// confirmations went through the push queue (see [`Client::pushed_reply`]).
fn sent(ctx: &mut Ctx) -> Reply {
    ctx.client.pushed_reply = true;
    Reply::NullArray
}

fn subscribe(ctx: &mut Ctx, args: &[Bytes], kind: Kind) -> Reply {
    let Some(sub) = ctx.server.pubsub.subscriber(ctx.client.id) else {
        return Reply::error("ERR this connection cannot subscribe");
    };
    let mut subs = sub.subs.lock();
    for name in &args[1..] {
        let fresh = !subs.list(kind).contains(name);
        if fresh {
            subs.list(kind).push(name.clone());
        }
        sub.push_own(confirmation(kind.sub_name(), Some(name), subs.count(kind)));
        if fresh {
            ctx.server.pubsub.add(kind, name, &sub);
        }
    }
    sub.update_counts(&subs);
    drop(subs);
    sent(ctx)
}

fn unsubscribe(ctx: &mut Ctx, args: &[Bytes], kind: Kind) -> Reply {
    let Some(sub) = ctx.server.pubsub.subscriber(ctx.client.id) else {
        return Reply::error("ERR this connection cannot subscribe");
    };
    let mut subs = sub.subs.lock();
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        subs.list(kind).clone()
    };
    if names.is_empty() {
        sub.push_own(confirmation(kind.unsub_name(), None, subs.count(kind)));
    }
    for name in &names {
        let list = subs.list(kind);
        if let Some(i) = list.iter().position(|c| c == name) {
            list.remove(i);
            ctx.server.pubsub.remove(kind, name, ctx.client.id);
        }
        sub.push_own(confirmation(
            kind.unsub_name(),
            Some(name),
            subs.count(kind),
        ));
    }
    sub.update_counts(&subs);
    drop(subs);
    sent(ctx)
}

command!(
    SUBSCRIBE,
    "Listens for messages published on the given channels.",
    cmd_subscribe,
    Locking::None
);

/// SUBSCRIBE channel [channel ...]
fn cmd_subscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    subscribe(ctx, args, Kind::Channel)
}

command!(
    PSUBSCRIBE,
    "Listens for messages published on channels matching the given glob patterns.",
    cmd_psubscribe,
    Locking::None
);

/// PSUBSCRIBE pattern [pattern ...]
fn cmd_psubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    subscribe(ctx, args, Kind::Pattern)
}

command!(
    SSUBSCRIBE,
    "Listens for messages published on the given shard channels.",
    cmd_ssubscribe,
    Locking::None
);

/// SSUBSCRIBE shardchannel [shardchannel ...]
fn cmd_ssubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    subscribe(ctx, args, Kind::Shard)
}

command!(
    UNSUBSCRIBE,
    "Stops listening on the given channels, or on all of them.",
    cmd_unsubscribe,
    Locking::None
);

/// UNSUBSCRIBE [channel [channel ...]]
fn cmd_unsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    unsubscribe(ctx, args, Kind::Channel)
}

command!(
    PUNSUBSCRIBE,
    "Stops listening on the given patterns, or on all of them.",
    cmd_punsubscribe,
    Locking::None
);

/// PUNSUBSCRIBE [pattern [pattern ...]]
fn cmd_punsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    unsubscribe(ctx, args, Kind::Pattern)
}

command!(
    SUNSUBSCRIBE,
    "Stops listening on the given shard channels, or on all of them.",
    cmd_sunsubscribe,
    Locking::None
);

/// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
fn cmd_sunsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    unsubscribe(ctx, args, Kind::Shard)
}

command!(
    PUBLISH,
    "Posts a message to a channel; replies with how many clients received it.",
    cmd_publish,
    Locking::None
);

/// PUBLISH channel message
fn cmd_publish(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Reply::Integer(publish(ctx.server, &args[1], &args[2]))
}

command!(
    SPUBLISH,
    "Posts a message to a shard channel; replies with how many clients received it.",
    cmd_spublish,
    Locking::None
);

/// SPUBLISH shardchannel message
fn cmd_spublish(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Reply::Integer(spublish(ctx.server, &args[1], &args[2]))
}

// ---------------------------------------------------------------------------
// PUBSUB

container!(PUBSUB, "Inspects the state of the Pub/Sub subsystem.");

fn channel_list<'a>(names: impl Iterator<Item = &'a Bytes>, pattern: Option<&Bytes>) -> Reply {
    let mut out: Vec<Bytes> = names
        .filter(|n| pattern.is_none_or(|p| glob_match(p, n, false)))
        .cloned()
        .collect();
    out.sort();
    Reply::Array(out.into_iter().map(Reply::Bulk).collect())
}

command!(
    PUBSUB_CHANNELS,
    "Lists the channels with subscribers, optionally those matching a pattern.",
    pubsub_channels,
    Locking::None
);

/// The reply of Redis's `addReplySubcommandSyntaxError`: PUBSUB CHANNELS
/// and SHARDCHANNELS take at most one pattern, but their arity (-2) lets
/// more through to the handler, which refuses them with this text (the
/// subcommand as typed, up to 128 bytes of it as a C string).
fn subcommand_syntax_error(args: &[Bytes]) -> Reply {
    crate::parse::echo_error(&[
        b"ERR unknown subcommand or wrong number of arguments for '",
        crate::parse::c_str_max(&args[1], 128),
        b"'. Try PUBSUB HELP.",
    ])
}

/// PUBSUB CHANNELS [pattern]
fn pubsub_channels(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let names: Vec<Bytes> = ctx
        .server
        .pubsub
        .channels
        .iter()
        .map(|e| e.key().clone())
        .collect();
    channel_list(names.iter(), args.get(2))
}

command!(
    PUBSUB_SHARDCHANNELS,
    "Lists the shard channels with subscribers, optionally those matching a pattern.",
    pubsub_shardchannels,
    Locking::None
);

/// PUBSUB SHARDCHANNELS [pattern]
fn pubsub_shardchannels(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let names: Vec<Bytes> = ctx
        .server
        .pubsub
        .shard
        .iter()
        .map(|e| e.key().clone())
        .collect();
    channel_list(names.iter(), args.get(2))
}

/// `channel, count, ...` as a flat array in both protocols: Redis replies
/// NUMSUB and SHARDNUMSUB with `addReplyArrayLen`, not a map.
fn numsub(map: &DashMap<Bytes, Members>, args: &[Bytes]) -> Reply {
    Reply::Array(
        args[2..]
            .iter()
            .flat_map(|c| {
                let n = map.get(c).map_or(0, |m| m.len());
                [Reply::Bulk(c.clone()), Reply::Integer(n as i64)]
            })
            .collect(),
    )
}

command!(
    PUBSUB_NUMSUB,
    "Counts the subscribers of each given channel (patterns not included).",
    pubsub_numsub,
    Locking::None
);

/// PUBSUB NUMSUB [channel [channel ...]]
fn pubsub_numsub(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    numsub(&ctx.server.pubsub.channels, args)
}

command!(
    PUBSUB_SHARDNUMSUB,
    "Counts the subscribers of each given shard channel.",
    pubsub_shardnumsub,
    Locking::None
);

/// PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]
fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    numsub(&ctx.server.pubsub.shard, args)
}

command!(
    PUBSUB_NUMPAT,
    "Counts the patterns subscribed to by any client.",
    pubsub_numpat,
    Locking::None
);

/// PUBSUB NUMPAT
fn pubsub_numpat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Integer(ctx.server.pubsub.patterns.read().len() as i64)
}

command!(
    PUBSUB_HELP,
    "Lists the PUBSUB subcommands with a line about each.",
    pubsub_help,
    Locking::None
);

/// PUBSUB HELP
fn pubsub_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Array(
        PUBSUB_HELP_LINES
            .iter()
            .map(|&l| Reply::simple(l))
            .collect(),
    )
}

const PUBSUB_HELP_LINES: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

// ---------------------------------------------------------------------------
// Configuration helpers

/// Parses `notify-keyspace-events` letters into class bits, as Redis's
/// keyspaceEventsStringToFlags; None on an unknown letter.
pub fn parse_notify_flags(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => class::ALL,
            'g' => class::GENERIC,
            '$' => class::STRING,
            'l' => class::LIST,
            's' => class::SET,
            'h' => class::HASH,
            'z' => class::ZSET,
            'x' => class::EXPIRED,
            'e' => class::EVICTED,
            'K' => class::KEYSPACE,
            'E' => class::KEYEVENT,
            't' => class::STREAM,
            'm' => class::KEY_MISS,
            'd' => class::MODULE,
            'n' => class::NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// The normalised letters CONFIG GET shows, in Redis's order (`A` stands
/// for all of `g$lshzxetd`, and then hides `n`, as Redis prints it).
pub fn notify_flags_string(f: u32) -> String {
    let mut s = String::new();
    if f & class::ALL == class::ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (class::GENERIC, 'g'),
            (class::STRING, '$'),
            (class::LIST, 'l'),
            (class::SET, 's'),
            (class::HASH, 'h'),
            (class::ZSET, 'z'),
            (class::EXPIRED, 'x'),
            (class::EVICTED, 'e'),
            (class::STREAM, 't'),
            (class::MODULE, 'd'),
            (class::NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [
        (class::KEYSPACE, 'K'),
        (class::KEYEVENT, 'E'),
        (class::KEY_MISS, 'm'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Parses `client-output-buffer-limit` (`<class> <hard> <soft> <seconds>`
/// groups; classes normal, replica/slave, pubsub) over `current`, with
/// Redis's error texts.
pub fn parse_buffer_limits(
    current: [BufferLimit; 3],
    text: &str,
) -> Result<[BufferLimit; 3], String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut out = current;
    for g in words.chunks(4) {
        let idx = match g[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "replica" | "slave" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = crate::config::parse_memory(g[1]).map_err(|_| bad())?;
        let soft = crate::config::parse_memory(g[2]).map_err(|_| bad())?;
        let secs: u64 = g[3].parse().map_err(|_| bad())?;
        out[idx] = (hard, soft, secs);
    }
    Ok(out)
}

/// CONFIG GET's form of the limits.
pub fn buffer_limits_string(l: &[BufferLimit; 3]) -> String {
    format!(
        "normal {} {} {} slave {} {} {} pubsub {} {} {}",
        l[0].0, l[0].1, l[0].2, l[1].0, l[1].1, l[1].2, l[2].0, l[2].1, l[2].2
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_letters_round_trip_as_redis_prints_them() {
        let f = parse_notify_flags("KEA").unwrap();
        assert_eq!(notify_flags_string(f), "AKE");
        assert_eq!(notify_flags_string(parse_notify_flags("Kx").unwrap()), "xK");
        assert_eq!(
            notify_flags_string(parse_notify_flags("gmn").unwrap()),
            "gnm"
        );
        assert_eq!(notify_flags_string(parse_notify_flags("An").unwrap()), "A");
        assert_eq!(
            notify_flags_string(parse_notify_flags("dtzn").unwrap()),
            "ztdn"
        );
        assert_eq!(notify_flags_string(parse_notify_flags("").unwrap()), "");
        assert!(parse_notify_flags("Q").is_none());
    }

    #[test]
    fn buffer_limits_parse_like_redis() {
        let d = [
            (0, 0, 0),
            (256 << 20, 64 << 20, 60),
            (32 << 20, 8 << 20, 60),
        ];
        assert_eq!(
            buffer_limits_string(&d),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        let l = parse_buffer_limits(d, "pubsub 1mb 1k 5").unwrap();
        assert_eq!(l[2], (1 << 20, 1000, 5));
        assert_eq!(l[1], d[1]);
        assert!(parse_buffer_limits(d, "pubsub 1 2")
            .unwrap_err()
            .contains("Wrong number"));
        assert!(parse_buffer_limits(d, "master 1 1 1")
            .unwrap_err()
            .contains("Invalid client class"));
        assert!(parse_buffer_limits(d, "pubsub 1 1 -1")
            .unwrap_err()
            .contains("hard, soft"));
    }

    #[test]
    fn output_limit_disconnects_and_stops_queueing() {
        let info = Arc::new(ClientInfo::new(7, "a".into(), "b".into(), -1, 0));
        info.set_flag(flag::PUBSUB, true);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let s = Subscriber {
            info: info.clone(),
            tx,
            pending: AtomicUsize::new(0),
            soft_since: AtomicI64::new(0),
            subs: Mutex::new(Subs::default()),
        };
        let lim = [(0, 0, 0), (0, 0, 0), (1000, 500, 1)];
        let msg = || Reply::Push(vec![Reply::bulk(vec![b'x'; 300])]);
        s.deliver(msg(), &lim, 10_000);
        s.deliver(msg(), &lim, 10_000); // over soft: the clock starts
        assert!(!info.is_killed());
        s.deliver(msg(), &lim, 11_500); // soft for more than a second
        assert!(info.is_killed());
        s.deliver(msg(), &lim, 11_500);
        let mut n = 0;
        while rx.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, 2);
        // The hard limit alone.
        let info = Arc::new(ClientInfo::new(8, "a".into(), "b".into(), -1, 0));
        info.set_flag(flag::PUBSUB, true);
        let (tx, _rx) = mpsc::unbounded_channel();
        let s = Subscriber {
            info: info.clone(),
            tx,
            pending: AtomicUsize::new(0),
            soft_since: AtomicI64::new(0),
            subs: Mutex::new(Subs::default()),
        };
        for _ in 0..4 {
            s.deliver(msg(), &lim, 0);
        }
        assert!(info.is_killed());
    }
}
