//! From a parsed request to a reply: lookup, checks, locking, execution.

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use resp::Reply;
use smallvec::SmallVec;
use storage::Slot;

use crate::blocking::{self, Parked};
use crate::client::Client;
use crate::ctx::Ctx;
use crate::error::{self, NOAUTH};
use crate::meta::flags;
use crate::parse;
use crate::registry::{Entry, Locking};
use crate::state::Server;

/// Redis's text for an unknown command: the name and the first arguments,
/// each cut so the whole list stays near 128 characters.
/// (C's `%.*s`: each stops at its first NUL byte; other bytes go out raw.)
pub fn unknown_command(args: &[Bytes]) -> Reply {
    let mut list = Vec::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push(b'\'');
        list.extend_from_slice(parse::c_str_max(a, room));
        list.extend_from_slice(b"' ");
    }
    parse::echo_error(&[
        b"ERR unknown command '",
        parse::c_str_max(&args[0], 128),
        b"', with args beginning with: ",
        &list,
    ])
}

/// Finds the entry that will run `args`: the command, or its subcommand.
/// Errors are the replies Redis gives.
pub fn resolve(server: &Server, args: &[Bytes]) -> Result<&'static Entry, Reply> {
    let registry: &'static crate::registry::Registry = server.registry;
    let Some(entry) = registry.get(&args[0]) else {
        return Err(unknown_command(args));
    };
    // A container with a handler of its own (COMMAND) runs it when called
    // alone; with an argument, the subcommand is looked up as for any other.
    if entry.cmd.handler.is_none() || (args.len() >= 2 && !entry.subcommands.is_empty()) {
        // A container: the subcommand does the work.
        if args.len() < 2 {
            return Err(error::wrong_args(&entry.full_name));
        }
        let Some(sub) = entry.subcommand(&args[1]) else {
            return Err(parse::echo_error(&[
                b"ERR unknown subcommand '",
                parse::c_str_max(&args[1], 128),
                b"'. Try ",
                entry.cmd.spec.name.to_ascii_uppercase().as_bytes(),
                b" HELP.",
            ]));
        };
        if !sub.arity_ok(args.len()) {
            return Err(error::wrong_args(&sub.full_name));
        }
        return Ok(sub);
    }
    if !entry.arity_ok(args.len()) {
        return Err(error::wrong_args(&entry.full_name));
    }
    Ok(entry)
}

/// Runs one request for `client` and returns its reply.
pub fn dispatch(server: &Server, client: &mut Client, args: &[Bytes]) -> Outcome {
    debug_assert!(!args.is_empty());
    let entry = match resolve(server, args) {
        Ok(e) => e,
        Err(reply) => {
            server
                .stats
                .total_error_replies
                .fetch_add(1, Ordering::Relaxed);
            server.stats.count_error(&reply);
            return Outcome::Reply(crate::multi::rejected(server, client, args, reply));
        }
    };
    if !client.authenticated && !entry.has(flags::NO_AUTH) {
        entry.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
        server
            .stats
            .total_error_replies
            .fetch_add(1, Ordering::Relaxed);
        server.stats.count_error_code("NOAUTH");
        return Outcome::Reply(crate::multi::rejected(
            server,
            client,
            args,
            error::err(NOAUTH),
        ));
    }
    // The RESP2 subscribed context refuses most commands before anything
    // is queued, as in Redis's processCommand: a refusal inside MULTI flags
    // the transaction (EXEC then aborts), and a refused EXEC discards it.
    if let Some(reply) = crate::pubsub::deny_in_subscribed_context(client, entry) {
        entry.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
        server
            .stats
            .total_error_replies
            .fetch_add(1, Ordering::Relaxed);
        server.stats.count_error(&reply);
        return Outcome::Reply(crate::multi::rejected(server, client, args, reply));
    }
    // Writes are refused while the AOF cannot be written (MISCONF).
    if let Some(reply) = crate::propagate::refuse_write(server, entry) {
        server.stats.count_error(&reply);
        return Outcome::Reply(crate::multi::rejected(server, client, args, reply));
    }
    // Inside MULTI, commands are queued (or refused) instead of run.
    if client.multi.is_some() {
        if let Some(reply) = crate::multi::queue(server, client, entry, args) {
            return Outcome::Reply(reply);
        }
    }
    execute(server, client, entry, args)
}

/// What a command must hold before its handler runs, from its [`Locking`].
#[derive(Debug)]
pub(crate) enum Need {
    /// These shards (possibly in several databases).
    Slots(SmallVec<[Slot; 4]>),
    /// Every shard of one database.
    Db(usize),
    /// Every shard of every database.
    All,
    /// No shard.
    Nothing,
}

/// Works out what `entry` run with `args` in database `db` needs locked.
pub(crate) fn need(server: &Server, db: usize, entry: &Entry, args: &[Bytes]) -> Need {
    match entry.cmd.locking {
        Locking::Keys => Need::Slots(
            entry
                .key_positions(args)
                .iter()
                .map(|&i| server.store.slot(db, &args[i]))
                .collect(),
        ),
        Locking::Db => Need::Db(db),
        Locking::AllDbs => Need::All,
        Locking::None | Locking::Own => Need::Nothing,
        Locking::Custom(f) => {
            // A custom locker parses a database index from the arguments but
            // cannot know how many databases exist: a pair naming one that
            // does not is dropped here, and the handler replies with the
            // range error before it touches any key.
            let dbs = server.store.databases();
            Need::Slots(
                f(args, db)
                    .into_iter()
                    .filter(|&(d, _)| d < dbs)
                    .map(|(d, i)| server.store.slot(d, &args[i]))
                    .collect(),
            )
        }
    }
}

/// Takes the locks `need` names, in the global ascending order.
pub(crate) fn lock(server: &Server, need: Need) -> storage::Locked<'_> {
    match need {
        Need::Slots(slots) => server.store.lock(slots),
        Need::Db(db) => server.store.lock_dbs(&[db]),
        Need::All => server.store.lock_all(),
        Need::Nothing => server.store.lock_none(),
    }
}

/// Runs `entry`'s handler on a view the caller already holds, without taking
/// any lock: the single-command path and EXEC (which runs every queued
/// command on one view) share it. Returns the reply, the handler's block
/// request if it asked to block, and the view.
pub(crate) fn run_on<'s>(
    server: &Server,
    client: &mut Client,
    entry: &'static Entry,
    args: &[Bytes],
    ks: storage::Locked<'s>,
) -> (Reply, Option<crate::ctx::BlockRequest>, storage::Locked<'s>) {
    let handler = entry.cmd.handler.expect("resolved entries have handlers");
    let mut ctx = Ctx {
        server,
        client,
        ks,
        entry,
        block: None,
    };
    let db = ctx.client.db;
    crate::propagate::begin(server);
    let reply = handler(&mut ctx, args);
    crate::propagate::after_handler(server, db, entry, args, &reply, &mut ctx.ks);
    let block = ctx.block.take();
    (reply, block, ctx.ks)
}

/// Keeps the statistics of one command run (calls, time, errors).
pub(crate) fn count(server: &Server, entry: &Entry, start: Instant, reply: &Reply) {
    let usec = start.elapsed().as_micros() as u64;
    entry.stats.calls.add(1);
    entry.stats.usec.add(usec);
    if reply.is_error() {
        entry.stats.failed_calls.fetch_add(1, Ordering::Relaxed);
        server
            .stats
            .total_error_replies
            .fetch_add(1, Ordering::Relaxed);
        server.stats.count_error(reply);
    }
    server.stats.total_commands_processed.add(1);
}

/// Locks what `entry` needs, runs its handler, and keeps the statistics.
/// Checks (arity, authentication) have already passed.
pub fn execute(
    server: &Server,
    client: &mut Client,
    entry: &'static Entry,
    args: &[Bytes],
) -> Outcome {
    let start = Instant::now();
    crate::propagate::discard_pending(server);
    let ks = lock(server, need(server, client.db, entry, args));
    let (reply, block, mut ks) = run_on(server, client, entry, args, ks);
    let parked = match block {
        Some(req) if client.may_block() => {
            Some(blocking::park(server, &mut ks, client, entry, args, req))
        }
        _ => None,
    };
    crate::tracking::after_handler(server, client, entry, args);
    crate::observers::after_command(server, &mut ks);
    blocking::serve_ready(server, &mut ks);
    crate::propagate::flush(server, false, ks.epoch());
    drop(ks);
    count(server, entry, start, &reply);
    *client.info.last_cmd.lock() = entry.full_name.as_str();
    match parked {
        Some(p) => Outcome::Blocked(p),
        None => Outcome::Reply(reply),
    }
}

/// What running a command produced.
#[derive(Debug)]
pub enum Outcome {
    /// The reply to send.
    Reply(Reply),
    /// The client is parked by a blocking command; the connection waits on
    /// it (see `crate::blocking`).
    Blocked(Parked),
}

impl Outcome {
    /// The reply, for callers that never block (their clients have
    /// `no_block` set, so blocking commands reply at once).
    pub fn into_reply(self) -> Reply {
        match self {
            Outcome::Reply(r) => r,
            Outcome::Blocked(p) => p.waiter.request.timeout_reply.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use resp::Protocol;
    use storage::Clock;

    use super::*;
    use crate::client::{flag, ClientInfo};
    use crate::config::Values;

    fn setup() -> (Server, Client) {
        let server = Server::new(Values::default(), None, Clock::manual(1_700_000_000_000));
        let info = Arc::new(ClientInfo::new(
            1,
            "127.0.0.1:1".into(),
            "127.0.0.1:6379".into(),
            0,
            1_700_000_000_000,
        ));
        (server, Client::new(info, true))
    }

    fn run(server: &Server, client: &mut Client, cmd: &str) -> String {
        let args: Vec<Bytes> = cmd
            .split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let reply = dispatch(server, client, &args).into_reply();
        String::from_utf8_lossy(&reply.to_vec(Protocol::Resp2)).into_owned()
    }

    /// The RESP2 subscribed-context check runs before MULTI queueing, as in
    /// Redis: the command is refused rather than queued, and the refusal
    /// flags the transaction so that EXEC aborts.
    #[test]
    fn subscribed_context_refuses_before_queueing() {
        let (server, mut client) = setup();
        assert_eq!(run(&server, &mut client, "MULTI"), "+OK\r\n");
        client.info.set_flag(flag::PUBSUB, true);
        assert_eq!(
            run(&server, &mut client, "SET k v"),
            "-ERR Can't execute 'set': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / \
             QUIT / RESET are allowed in this context\r\n"
        );
        // Allowed commands are still queued.
        assert_eq!(run(&server, &mut client, "PING"), "+QUEUED\r\n");
        client.info.set_flag(flag::PUBSUB, false);
        assert_eq!(
            run(&server, &mut client, "EXEC"),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        assert!(client.multi.is_none());
        assert_eq!(run(&server, &mut client, "EXISTS k"), ":0\r\n");
    }

    /// EXEC refused in the subscribed context discards the transaction
    /// with Redis's EXECABORT wording.
    #[test]
    fn subscribed_context_refusing_exec_discards_the_transaction() {
        let (server, mut client) = setup();
        assert_eq!(run(&server, &mut client, "MULTI"), "+OK\r\n");
        assert_eq!(run(&server, &mut client, "SET k v"), "+QUEUED\r\n");
        client.info.set_flag(flag::PUBSUB, true);
        assert_eq!(
            run(&server, &mut client, "EXEC"),
            "-EXECABORT Transaction discarded because of: Can't execute 'exec': only \
             (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this \
             context\r\n"
        );
        assert!(client.multi.is_none());
        client.info.set_flag(flag::PUBSUB, false);
        assert_eq!(run(&server, &mut client, "EXISTS k"), ":0\r\n");
    }
}
