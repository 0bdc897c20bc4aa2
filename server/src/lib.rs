//! The Ferrum server: listeners, connections, background jobs.
//!
//! One tokio task per connection reads as much as the socket has, parses
//! every complete request in the buffer, runs them in order through the
//! command dispatcher (which locks only the shards each command needs), appends
//! every reply to one output buffer and writes it once per batch.

pub mod aof;
pub mod conf;
mod connection;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use commands::state::{MemoryStats, Server};
use tokio::net::TcpListener;

pub use connection::handle_connection;

/// The allocator: jemalloc, for its low fragmentation and its statistics.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Reads the allocator's figures for INFO memory.
pub fn memory_stats() -> MemoryStats {
    #[cfg(not(target_env = "msvc"))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        let _ = epoch::advance();
        MemoryStats {
            allocated: stats::allocated::read().unwrap_or(0) as u64,
            resident: stats::resident::read().unwrap_or(0) as u64,
            active: stats::active::read().unwrap_or(0) as u64,
            peak_allocated: 0,
        }
    }
    #[cfg(target_env = "msvc")]
    MemoryStats::default()
}

/// Binds every configured address on the configured port.
pub async fn bind(server: &Server) -> Result<Vec<TcpListener>> {
    let (addrs, port, backlog) = server
        .config
        .read(|v| (v.bind.clone(), v.port, v.tcp_backlog as u32));
    let mut listeners = Vec::new();
    for a in addrs {
        let a = a.trim_start_matches('-');
        let ip: std::net::IpAddr = match a {
            "*" => "0.0.0.0".parse()?,
            "::*" => "::".parse()?,
            other => other
                .parse()
                .with_context(|| format!("invalid bind address '{other}'"))?,
        };
        let addr = SocketAddr::new(ip, port);
        let sock = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        sock.set_reuseaddr(true)?;
        sock.set_nodelay(true)?;
        sock.bind(addr)
            .with_context(|| format!("could not bind {addr}"))?;
        listeners.push(sock.listen(backlog.max(1))?);
    }
    if let Some(l) = listeners.first() {
        server.tcp_port.store(
            l.local_addr()?.port() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
    Ok(listeners)
}

/// Serves until shutdown is requested (SHUTDOWN, SIGTERM, SIGINT).
pub async fn serve(server: Arc<Server>, listeners: Vec<TcpListener>) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for l in listeners {
        let s = server.clone();
        tasks.spawn(accept_loop(s, l));
    }
    tasks.spawn(active_expire_loop(server.clone()));
    tasks.spawn(bgsave_loop(server.clone()));
    server.shutdown.wait().await;
    tasks.abort_all();
    // Let connections see the shutdown and close.
    for c in server.clients.iter() {
        c.kill();
    }
    Ok(())
}

async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let s = server.clone();
        let id = server.next_client_id();
        tokio::spawn(async move {
            if let Err(e) = handle_connection(s, stream, peer, id).await {
                tracing::debug!("connection {peer} ended: {e}");
            }
        });
    }
}

/// Redis's serverCron share of active expiry: `hz` times a second, spend at
/// most a quarter of the period deleting stale keys.
async fn active_expire_loop(server: Arc<Server>) {
    loop {
        let hz = server.config.read(|v| v.hz.max(1));
        let period = Duration::from_millis(1000 / hz);
        tokio::time::sleep(period).await;
        let s = server.clone();
        let n = tokio::task::spawn_blocking(move || {
            let server = s.clone();
            s.store
                .active_expire_cycle(period / 4, &mut |db, key, epoch| {
                    commands::propagate::active_expired(&server, db, key.as_bytes(), epoch);
                    commands::multi::key_expired(&server, db, key.as_bytes());
                    commands::pubsub::key_expired(&server, db, key.as_bytes())
                })
        })
        .await
        .unwrap_or(0);
        if n > 0 {
            server
                .stats
                .expired_keys_active
                .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Redis's serverCron share of snapshots: `hz` times a second, and at once
/// when BGSAVE asks, start a requested, scheduled or due background save
/// (`commands::bgsave::cron`; the save runs on its own thread).
async fn bgsave_loop(server: Arc<Server>) {
    loop {
        let hz = server.config.read(|v| v.hz.max(1));
        let period = Duration::from_millis(1000 / hz);
        tokio::select! {
            _ = server.bgsave.wake.notified() => {}
            _ = tokio::time::sleep(period) => {}
        }
        commands::bgsave::cron(&server);
        let s = &server.stats;
        s.instant.sample(
            storage::clock::system_now_ms(),
            s.total_commands_processed.get(),
            s.total_net_input_bytes.get(),
            s.total_net_output_bytes.get(),
        );
    }
}

/// A server running on its own runtime in a background thread; for tests
/// and embedding. Dropping it shuts the server down.
pub struct Running {
    pub addr: SocketAddr,
    pub server: Arc<Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts a server with `values` (port 0 picks a free port).
    pub fn start(values: commands::config::Values) -> Result<Running> {
        commands::init();
        let threads = if values.threads == 0 {
            2
        } else {
            values.threads
        };
        let server = Arc::new(Server::new(values, None, storage::Clock::system()));
        let aof_state = aof::AofState::start(&server)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?;
        let listeners = rt.block_on(bind(&server))?;
        let addr = listeners[0].local_addr()?;
        let s = server.clone();
        let thread = std::thread::spawn(move || {
            rt.spawn(aof_state.auto_rewrite_loop(s.clone()));
            let _ = rt.block_on(serve(s, listeners));
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        Ok(Running {
            addr,
            server,
            thread: Some(thread),
        })
    }

    /// Requests shutdown and waits for the server to stop.
    pub fn stop(mut self) {
        self.shutdown_and_join();
    }

    fn shutdown_and_join(&mut self) {
        self.server.shutdown.request();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown_and_join();
    }
}
