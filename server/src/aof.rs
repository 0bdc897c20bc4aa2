//! Glue between the propagation stream (`commands::propagate`) and the
//! append-only file (`persistence::aof`): loading at start-up through the
//! dispatcher, the sink writers feed, BGREWRITEAOF without fork, automatic
//! rewrites, CONFIG SET appendonly and the INFO persistence fields.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use commands::bgsave::{write_snapshot_file, SnapshotFormat};
use commands::propagate::{AofControl, Record, Sink, WaitFuture};
use commands::state::Server;
use commands::{Client, ClientInfo};
use parking_lot::Mutex;
use persistence::aof::{self, Aof, Fsync};

/// The AOF as the stream sees it.
struct AofSink(Arc<Aof>);

impl Sink for AofSink {
    fn feed(&self, epoch: u64, records: &[Record]) -> u64 {
        self.0
            .append(epoch, records.iter().map(|r| (r.db, &r.args[..])))
    }

    fn wait(&self, ticket: u64) -> WaitFuture<'_> {
        Box::pin(self.0.wait(ticket))
    }

    fn last_ticket(&self) -> u64 {
        self.0.last_ticket()
    }

    fn write_error(&self) -> Option<String> {
        self.0.progress().error
    }
}

struct Open {
    aof: Arc<Aof>,
    sink: Arc<dyn Sink>,
}

/// The server's AOF state: open or not, and the rewrite bookkeeping.
#[derive(Default)]
pub struct AofState {
    open: Mutex<Option<Open>>,
    rewriting: AtomicBool,
    rewrites: AtomicU64,
    last_rewrite_ok: AtomicBool,
    last_rewrite_secs: AtomicI64,
}

fn config(server: &Server) -> aof::Config {
    server.config.read(|v| aof::Config {
        dir: std::path::Path::new(&v.dir).join(&v.appenddirname),
        basename: v.appendfilename.clone(),
        fsync: Fsync::parse(&v.appendfsync).unwrap_or(Fsync::EverySec),
        load_truncated: v.aof_load_truncated,
    })
}

/// Replays the AOF in the configured directory into `server` through the
/// dispatcher, as a client that is always authenticated.
pub fn load(server: &Server, cfg: &aof::Config) -> Result<aof::Loaded> {
    let info = Arc::new(ClientInfo::new(
        u64::MAX,
        "aof-loader".into(),
        String::new(),
        -1,
        server.store.clock.now_ms(),
    ));
    let mut client = Client::new(info, true);
    client.no_block = true;
    let started = Instant::now();
    let mut commands = 0u64;
    let loaded = aof::load(
        cfg,
        &mut |data| {
            persistence::rdb::load(data, &server.store)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        &mut |args| {
            if server.registry.get(&args[0]).is_none() {
                return Err(format!(
                    "Unknown command '{}' reading the append only file",
                    String::from_utf8_lossy(&args[0])
                ));
            }
            commands += 1;
            let _ = commands::dispatch(server, &mut client, &args).into_reply();
            Ok(())
        },
    )
    .map_err(|e| anyhow!(e))?;
    if loaded.manifest.is_some() {
        tracing::info!(
            "DB loaded from append only file: {:.3} seconds ({commands} commands)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(loaded)
}

impl AofState {
    /// Start-up: installs the control and, with `appendonly yes`, loads the
    /// AOF and starts appending to it.
    pub fn start(server: &Arc<Server>) -> Result<Arc<AofState>> {
        let state = Arc::new(AofState {
            last_rewrite_ok: AtomicBool::new(true),
            last_rewrite_secs: AtomicI64::new(-1),
            ..Default::default()
        });
        server.propagation.set_control(Arc::new(Control {
            state: state.clone(),
            server: Arc::downgrade(server),
        }));
        if server.config.read(|v| v.appendonly) {
            let cfg = config(server);
            let loaded = load(server, &cfg)?;
            let aof = Aof::open(cfg, &loaded)
                .map_err(|e| anyhow!("Can't open the append-only file: {e}"))?;
            state.attach(server, aof);
        }
        Ok(state)
    }

    fn attach(&self, server: &Server, aof: Arc<Aof>) {
        let sink: Arc<dyn Sink> = Arc::new(AofSink(aof.clone()));
        server.propagation.attach(sink.clone());
        *self.open.lock() = Some(Open { aof, sink });
    }

    fn current(&self) -> Option<Arc<Aof>> {
        self.open.lock().as_ref().map(|o| o.aof.clone())
    }

    /// Writes a new base from a point-in-time snapshot of the keyspace
    /// (the one BGSAVE takes: no fork, commands keep running) while new
    /// writes go to a new incremental file, then switches the manifest. The
    /// new incremental file starts exactly at the snapshot's cut: writes
    /// ordered before it still go to the old file (see
    /// [`aof::Aof::append`]), so base plus new file is the whole history.
    /// Waits for a running BGSAVE to finish first (Redis schedules the
    /// rewrite after the child likewise).
    fn rewrite_now(&self, server: &Server, aof: &Aof) -> std::io::Result<()> {
        let started = Instant::now();
        while server.store.snapshot_in_progress() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let preamble = server.config.read(|v| v.aof_use_rdb_preamble);
        let format = || {
            if preamble {
                SnapshotFormat::Rdb(persistence::rdb::default_aux(0, true))
            } else {
                SnapshotFormat::Commands
            }
        };
        let tmp = aof.temp_base_path();
        let mut cut: Option<std::io::Result<aof::FileInfo>> = None;
        let written = loop {
            let r = write_snapshot_file(server, &tmp, format(), |epoch| {
                cut = Some(aof.start_new_incr_at(epoch));
            });
            match r {
                // A BGSAVE started in between: wait for it, then retry.
                Err(e) if e.kind() == std::io::ErrorKind::ResourceBusy => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other,
            }
        };
        aof.end_cut();
        let outcome = match (written, cut) {
            (Ok(_), Some(Ok(first_kept))) => aof.install_base(&tmp, preamble, &first_kept),
            (Err(e), _) | (_, Some(Err(e))) => Err(e),
            (Ok(_), None) => Err(std::io::Error::other("the snapshot never reached its cut")),
        };
        if outcome.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        outcome?;
        self.last_rewrite_secs
            .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
        tracing::info!("Background AOF rewrite finished successfully");
        Ok(())
    }

    fn spawn_rewrite(self: &Arc<Self>, server: Arc<Server>) -> Result<(), String> {
        let Some(aof) = self.current() else {
            return Err(
                "ERR Background append only file rewriting is not possible while appendonly is off"
                    .into(),
            );
        };
        if self.rewriting.swap(true, Ordering::AcqRel) {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        let state = self.clone();
        std::thread::spawn(move || {
            commands::bgsave::background_priority();
            let ok = state.rewrite_now(&server, &aof);
            if let Err(e) = &ok {
                tracing::warn!("Background AOF rewrite failed: {e}");
            }
            state.last_rewrite_ok.store(ok.is_ok(), Ordering::Relaxed);
            state.rewrites.fetch_add(1, Ordering::Relaxed);
            state.rewriting.store(false, Ordering::Release);
        });
        Ok(())
    }

    /// `auto-aof-rewrite-percentage` / `auto-aof-rewrite-min-size`: once a
    /// second, rewrites when the AOF grew that much over its last base.
    pub async fn auto_rewrite_loop(self: Arc<Self>, server: Arc<Server>) {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let Some(aof) = self.current() else { continue };
            let (perc, min) = server
                .config
                .read(|v| (v.auto_aof_rewrite_percentage, v.auto_aof_rewrite_min_size));
            let size = *aof.older_size.lock() + aof.incr_size();
            let base = (*aof.base_size.lock()).max(1);
            if perc > 0 && size > min && (size - base.min(size)) * 100 / base >= perc {
                tracing::info!("Starting automatic rewriting of AOF on {}% growth", perc);
                let _ = self.spawn_rewrite(server.clone());
            }
        }
    }
}

/// What the command layer calls (BGREWRITEAOF, INFO, CONFIG SET).
struct Control {
    state: Arc<AofState>,
    /// The rewrite thread needs an owned handle to the server.
    server: std::sync::Weak<Server>,
}

impl AofControl for Control {
    fn rewrite(&self, _server: &Server) -> Result<&'static str, String> {
        let Some(server) = self.server.upgrade() else {
            return Err("ERR the server is not running".into());
        };
        // A running BGSAVE holds the keyspace's snapshot: the rewrite waits
        // for it, as Redis schedules a rewrite while a child saves.
        let scheduled = server.store.snapshot_in_progress();
        self.state.spawn_rewrite(server)?;
        Ok(if scheduled {
            "Background append only file rewriting scheduled"
        } else {
            "Background append only file rewriting started"
        })
    }

    fn info(&self) -> Vec<(&'static str, String)> {
        let s = &self.state;
        let aof = s.current();
        let progress = aof.as_ref().map(|a| a.progress()).unwrap_or_default();
        let mut v = vec![
            (
                "aof_rewrite_in_progress",
                u8::from(s.rewriting.load(Ordering::Relaxed)).to_string(),
            ),
            (
                "aof_last_rewrite_time_sec",
                s.last_rewrite_secs.load(Ordering::Relaxed).to_string(),
            ),
            (
                "aof_last_bgrewrite_status",
                if s.last_rewrite_ok.load(Ordering::Relaxed) {
                    "ok"
                } else {
                    "err"
                }
                .into(),
            ),
            (
                "aof_rewrites",
                s.rewrites.load(Ordering::Relaxed).to_string(),
            ),
            (
                "aof_last_write_status",
                if progress.error.is_some() {
                    "err"
                } else {
                    "ok"
                }
                .into(),
            ),
        ];
        if let Some(a) = aof {
            let size = *a.older_size.lock() + a.incr_size();
            let buffered = a.last_ticket().saturating_sub(progress.written);
            v.extend([
                ("aof_current_size", size.to_string()),
                ("aof_base_size", a.base_size.lock().to_string()),
                ("aof_pending_rewrite", "0".into()),
                ("aof_buffer_length", buffered.to_string()),
                ("aof_pending_bio_fsync", "0".into()),
                ("aof_delayed_fsync", "0".into()),
            ]);
        }
        v
    }

    fn set_enabled(&self, server: &Server, on: bool) -> Result<(), String> {
        let s = &self.state;
        if !on {
            if let Some(o) = s.open.lock().take() {
                server.propagation.detach(&o.sink);
                o.aof.close();
            }
            return Ok(());
        }
        if s.current().is_some() {
            return Ok(());
        }
        // Turning the AOF on writes a fresh base from the dataset, as Redis
        // does; the old files the manifest named are replaced by it.
        let cfg = config(server);
        let existing = std::fs::read_to_string(cfg.manifest_path())
            .ok()
            .and_then(|t| aof::Manifest::parse(&t).ok());
        let loaded = aof::Loaded {
            manifest: existing,
            ..Default::default()
        };
        let aof = Aof::open(cfg, &loaded).map_err(|e| e.to_string())?;
        {
            // Attach while no write can run, so the base and the stream
            // meet at one point.
            let _all = server.store.lock_all();
            s.attach(server, aof.clone());
        }
        // The base is written in the background, as Redis's startAppendOnly
        // starts a rewrite and answers at once.
        let Some(owned) = self.server.upgrade() else {
            return Err("the server is not running".into());
        };
        s.spawn_rewrite(owned)
    }
}
