//! One client connection: read, parse, dispatch, write.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::BytesMut;
use commands::blocking::{Parked, Wake};
use commands::client::{Client, ClientInfo};
use commands::pubsub::{PushRx, Subscriber};
use commands::state::Server;
use commands::Outcome;
use resp::{ParserConfig, Protocol, RequestParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Output is written early once a batch's replies pass this size, so a long
/// pipeline of large replies cannot pile up in memory.
const FLUSH_AT: usize = 1 << 20;

/// Removes the client from the registry however the connection ends.
struct Registered<'a> {
    server: &'a Server,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.server.clients.remove(&self.id);
        commands::multi::client_gone(self.server, self.id);
        commands::pubsub::detach(self.server, self.id);
    }
}

/// Serves one client. `id` is assigned by the accept loop, so ids grow in
/// the order connections were accepted, as Redis promises.
pub async fn handle_connection(
    server: Arc<Server>,
    mut stream: TcpStream,
    peer: SocketAddr,
    id: u64,
) -> Result<()> {
    server
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let _ = stream.set_nodelay(true);
    let (maxclients, requirepass, timeout, qbuf_limit) = server.config.read(|v| {
        (
            v.maxclients,
            v.requirepass.is_some(),
            v.timeout,
            v.client_query_buffer_limit,
        )
    });
    if server.clients.len() as u64 >= maxclients {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return Ok(());
    }
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let fd = raw_fd(&stream);
    let info = Arc::new(ClientInfo::new(
        id,
        peer.to_string(),
        laddr,
        fd,
        server.store.clock.now_ms(),
    ));
    server.clients.insert(id, info.clone());
    let _registered = Registered {
        server: &server,
        id,
    };
    // Pushes from other connections (messages, invalidations) arrive here.
    let (subscriber, mut push_rx) = commands::pubsub::attach(&server, &info);
    let mut client = Client::new(info.clone(), !requirepass);
    let mut max_bulk = server.proto_max_bulk_len.load(Ordering::Relaxed);
    let mut parser = RequestParser::new(ParserConfig {
        max_bulk_len: usize::try_from(max_bulk).unwrap_or(usize::MAX),
        ..ParserConfig::default()
    });
    let mut inbuf = BytesMut::with_capacity(16 * 1024);
    let mut out = BytesMut::with_capacity(16 * 1024);
    info.rbs.store(out.capacity(), Ordering::Relaxed);

    loop {
        if inbuf.capacity() - inbuf.len() < 4096 {
            inbuf.reserve(16 * 1024);
        }
        let read = async {
            if timeout > 0 {
                match tokio::time::timeout(
                    Duration::from_secs(timeout),
                    stream.read_buf(&mut inbuf),
                )
                .await
                {
                    Ok(r) => r.map(Some),
                    Err(_) => Ok(None),
                }
            } else {
                stream.read_buf(&mut inbuf).await.map(Some)
            }
        };
        let n = tokio::select! {
            r = read => r?,
            _ = info.kill_notify.notified() => return Ok(()),
            push = push_rx.recv() => {
                // Pushes are written as they come, in order; the write gives
                // way to a kill (an output buffer limit closing a subscriber
                // that does not read).
                if let Some(r) = push {
                    let mut drained = subscriber.encode_one(r, client.protocol, &mut out);
                    drained += subscriber.drain(&mut push_rx, client.protocol, &mut out, FLUSH_AT);
                    tokio::select! {
                        r = write_out(&server, &info, &mut stream, &mut out) => r?,
                        _ = info.kill_notify.notified() => return Ok(()),
                    }
                    subscriber.written(drained);
                }
                continue;
            }
        };
        let Some(n) = n else {
            // Idle longer than `timeout`: Redis closes such clients silently.
            return Ok(());
        };
        if n == 0 {
            return Ok(());
        }
        if info.is_killed() {
            return Ok(());
        }
        server.stats.total_net_input_bytes.add(n as u64);
        info.last_interaction_ms
            .store(server.store.clock.now_ms(), Ordering::Relaxed);
        // CLIENT LIST shows the query buffer as read, before the batch runs.
        info.qbuf.store(inbuf.len(), Ordering::Relaxed);
        info.qbuf_free
            .store(inbuf.capacity() - inbuf.len(), Ordering::Relaxed);

        let mut close = false;
        // The AOF position this batch's replies must wait for (0: none).
        let mut ticket = 0u64;
        loop {
            // CONFIG SET proto-max-bulk-len, from any connection, applies
            // from the next request on, as in Redis.
            let limit = server.proto_max_bulk_len.load(Ordering::Relaxed);
            if limit != max_bulk {
                max_bulk = limit;
                parser.set_config(ParserConfig {
                    max_bulk_len: usize::try_from(limit).unwrap_or(usize::MAX),
                    ..parser.config().clone()
                });
            }
            match parser.parse(&mut inbuf) {
                Ok(Some(req)) => {
                    // Pushes that arrived earlier go out before this reply.
                    let drained =
                        subscriber.drain(&mut push_rx, client.protocol, &mut out, usize::MAX);
                    subscriber.written(drained);
                    // Replies of this batch not yet written (CLIENT LIST `obl`).
                    info.obl.store(out.len(), Ordering::Relaxed);
                    let outcome = commands::dispatch(&server, &mut client, &req.args);
                    // Read on this thread, before any await.
                    ticket = ticket.max(commands::propagate::take_ticket());
                    let reply = match outcome {
                        Outcome::Reply(r) => r,
                        Outcome::Blocked(parked) => {
                            // Everything answered so far goes out before the
                            // client waits.
                            if !out.is_empty() {
                                durable(&server, &mut ticket).await?;
                                write_out(&server, &info, &mut stream, &mut out).await?;
                            }
                            let pushes = (&*subscriber, &mut push_rx);
                            match wait_blocked(
                                &server,
                                &mut client,
                                &mut stream,
                                &mut inbuf,
                                parked,
                                pushes,
                            )
                            .await
                            {
                                Some(r) => {
                                    // Served by another client's write: wait
                                    // for what the stream holds now.
                                    ticket = ticket.max(server.propagation.last_ticket());
                                    r
                                }
                                None => return Ok(()),
                            }
                        }
                    };
                    info.tot_cmds.fetch_add(1, Ordering::Relaxed);
                    // CLIENT REPLY: OFF drops every reply; SKIP sends none of
                    // its own (it set `skip_next_reply`) and drops the next
                    // command's, unless that command turned replies back on.
                    let suppressed =
                        client.reply_off || client.reply_skip || client.skip_next_reply;
                    client.reply_skip = std::mem::take(&mut client.skip_next_reply);
                    // SUBSCRIBE and friends answered through the push queue.
                    let pushed = std::mem::take(&mut client.pushed_reply);
                    if !suppressed && !pushed {
                        reply.encode(client.protocol, &mut out);
                    }
                    // Confirmations, and invalidations this command caused
                    // for this very connection, follow its reply.
                    let drained =
                        subscriber.drain(&mut push_rx, client.protocol, &mut out, usize::MAX);
                    subscriber.written(drained);
                    if client.close_after_reply
                        || info.is_killed()
                        || server.shutdown.is_requested()
                    {
                        close = true;
                        break;
                    }
                    if out.len() >= FLUSH_AT {
                        durable(&server, &mut ticket).await?;
                        write_out(&server, &info, &mut stream, &mut out).await?;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("protocol error from {peer}: {}", e.log_reason());
                    e.to_reply().encode(Protocol::Resp2, &mut out);
                    close = true;
                    break;
                }
            }
        }
        if inbuf.len() as u64 > qbuf_limit || parser_pending_too_big(&inbuf, qbuf_limit) {
            tracing::warn!("closing client {peer} that reached max query buffer length");
            close = true;
        }
        info.qbuf.store(inbuf.len(), Ordering::Relaxed);
        info.qbuf_free
            .store(inbuf.capacity() - inbuf.len(), Ordering::Relaxed);
        info.obl.store(0, Ordering::Relaxed);
        if !out.is_empty() {
            durable(&server, &mut ticket).await?;
            write_out(&server, &info, &mut stream, &mut out).await?;
        }
        if close {
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
}

/// Waits until the writes behind this batch's replies are as durable as
/// `appendfsync` promises (written, or fsynced with `always`). When they
/// cannot be written the replies are not sent: the connection closes, so no
/// write is acknowledged that the AOF does not hold; later writes are refused
/// with MISCONF until the AOF can be written again.
async fn durable(server: &Server, ticket: &mut u64) -> Result<()> {
    let t = std::mem::take(ticket);
    if t == 0 {
        return Ok(());
    }
    server
        .propagation
        .wait_durable(t)
        .await
        .map_err(|e| anyhow::anyhow!("Errors writing to the AOF file: {e}"))
}

fn parser_pending_too_big(inbuf: &BytesMut, limit: u64) -> bool {
    inbuf.capacity() as u64 > limit.saturating_mul(2)
}

async fn write_out(
    server: &Server,
    info: &ClientInfo,
    stream: &mut TcpStream,
    out: &mut BytesMut,
) -> Result<()> {
    stream.write_all(out).await?;
    info.rbs.store(out.capacity(), Ordering::Relaxed);
    info.rbp.fetch_max(out.len(), Ordering::Relaxed);
    server.stats.total_net_output_bytes.add(out.len() as u64);
    info.tot_net_out
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    out.clear();
    Ok(())
}

#[cfg(unix)]
fn raw_fd(s: &TcpStream) -> i64 {
    use std::os::fd::AsRawFd;
    s.as_raw_fd() as i64
}

#[cfg(not(unix))]
fn raw_fd(_s: &TcpStream) -> i64 {
    -1
}

/// Waits for a parked client's answer: served by a writer, woken to retry,
/// timed out, unblocked, killed, or disconnected. Input that arrives
/// meanwhile is kept for after the answer, as Redis does. Returns None when
/// the connection is gone.
async fn wait_blocked(
    server: &Arc<Server>,
    client: &mut Client,
    stream: &mut TcpStream,
    inbuf: &mut BytesMut,
    mut parked: Parked,
    (subscriber, push_rx): (&Subscriber, &mut PushRx),
) -> Option<resp::Reply> {
    loop {
        let sleep = async {
            match parked.waiter.request.deadline_ms {
                Some(d) => {
                    let left = d - storage::clock::system_now_ms();
                    tokio::time::sleep(Duration::from_millis(left.max(0) as u64)).await
                }
                None => std::future::pending().await,
            }
        };
        if inbuf.capacity() - inbuf.len() < 4096 {
            inbuf.reserve(16 * 1024);
        }
        tokio::select! {
            wake = &mut parked.rx => {
                server.blocking.forget(&parked.waiter);
                match wake {
                    Ok(Wake::Reply(r)) => return Some(r),
                    Ok(Wake::Retry) | Err(_) => {
                        // Off every queue, then run the command again from
                        // the start; it may serve, or park anew.
                        server.blocking.cancel(server, &parked.waiter, None);
                        let args = parked.waiter.args.clone();
                        match commands::dispatch(server, client, &args) {
                            Outcome::Reply(r) => return Some(r),
                            Outcome::Blocked(p) => parked = p,
                        }
                    }
                }
            }
            _ = sleep => {
                let reply = parked.waiter.request.timeout_reply.clone();
                // Whichever answer wins arrives through the channel.
                server.blocking.cancel(server, &parked.waiter, Some(Wake::Reply(reply)));
            }
            _ = client.info.kill_notify.notified() => {
                server.blocking.cancel(server, &parked.waiter, None);
                server.blocking.forget(&parked.waiter);
                return None;
            }
            push = push_rx.recv() => {
                // A RESP3 client keeps receiving pushes while it waits.
                if let Some(r) = push {
                    let mut out = BytesMut::new();
                    let mut drained = subscriber.encode_one(r, client.protocol, &mut out);
                    drained += subscriber.drain(push_rx, client.protocol, &mut out, FLUSH_AT);
                    if stream.write_all(&out).await.is_err() {
                        server.blocking.cancel(server, &parked.waiter, None);
                        server.blocking.forget(&parked.waiter);
                        return None;
                    }
                    subscriber.written(drained);
                }
            }
            r = stream.read_buf(inbuf) => {
                if !matches!(r, Ok(n) if n > 0) {
                    server.blocking.cancel(server, &parked.waiter, None);
                    server.blocking.forget(&parked.waiter);
                    return None;
                }
            }
        }
    }
}
