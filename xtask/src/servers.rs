//! Starting the servers under comparison: a real `redis-server` from PATH and
//! `ferrum-server` built from this workspace, each on a free loopback port
//! with persistence off, each in its own scratch directory.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use resp::Frame;

use crate::conn::Conn;

/// Which implementation a server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Redis,
    Ferrum,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Redis => "Redis",
            Kind::Ferrum => "Ferrum",
        }
    }
}

/// A running server process, stopped when dropped.
#[derive(Debug)]
pub struct ServerProc {
    pub kind: Kind,
    pub addr: SocketAddr,
    program: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
    /// Whether FLUSHALL works; if not, resets restart the process.
    flushall_ok: bool,
}

impl ServerProc {
    /// Starts `program` (redis-server or ferrum-server) on a free port.
    pub fn start(kind: Kind, program: &Path) -> Result<ServerProc> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "ferrum-xtask-{}-{}-{n}",
            std::process::id(),
            kind.name().to_lowercase()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut s = ServerProc {
            kind,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            program: program.to_path_buf(),
            dir,
            child: None,
            flushall_ok: true,
        };
        s.spawn()?;
        Ok(s)
    }

    fn spawn(&mut self) -> Result<()> {
        let mut last_err = None;
        // A free port can be taken between probing and binding: retry.
        for _ in 0..5 {
            let port = free_port()?;
            self.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let log = self.dir.join("server.log");
            let out = std::fs::File::create(&log)?;
            let mut cmd = Command::new(&self.program);
            cmd.current_dir(&self.dir)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out);
            if self.kind == Kind::Redis {
                cmd.args(["--daemonize", "no", "--protected-mode", "no"])
                    .args(["--dir", &self.dir.to_string_lossy()])
                    .args(["--logfile", ""]);
            }
            let child = cmd
                .spawn()
                .with_context(|| format!("starting {}", self.program.display()))?;
            self.child = Some(child);
            match self.wait_ready() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    self.stop();
                    let log =
                        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                    last_err = Some(e.context(format!(
                        "{} did not start on port {port}; its log:\n{}",
                        self.kind.name(),
                        tail(&log, 20)
                    )));
                }
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("exited with {status}");
                }
            }
            if let Ok(mut c) = Conn::connect(self.addr) {
                if let Ok(Frame::Simple(s)) = c.call(&["PING"]) {
                    if &s[..] == b"PONG" {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("not answering PING after 20s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Restarts the process (on a new port).
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.spawn()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Brings the server back to a clean state: FLUSHALL, or a restart when
    /// the server lacks FLUSHALL or died.
    pub fn reset(&mut self) -> Result<()> {
        if !self.alive() {
            eprintln!("note: {} had exited; restarting it", self.kind.name());
            return self.restart();
        }
        if self.flushall_ok {
            let ok = Conn::connect(self.addr)
                .and_then(|mut c| c.call(&["FLUSHALL"]))
                .map(|f| matches!(&f, Frame::Simple(s) if &s[..] == b"OK"));
            match ok {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    eprintln!(
                        "note: FLUSHALL fails on {}; restarting it between runs instead",
                        self.kind.name()
                    );
                    self.flushall_ok = false;
                }
                Err(_) => {}
            }
        }
        self.restart()
    }

    /// The server's last log lines (for reports about crashes).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(
            &std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default(),
            lines,
        )
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// `redis-server` on PATH, if any.
pub fn find_redis() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDIS_SERVER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
}

/// The version `redis-server --version` reports (`7.0.15`).
pub fn redis_version(program: &Path) -> Result<String> {
    let out = Command::new(program).arg("--version").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .map(str::to_string)
        .with_context(|| format!("no version in {text:?}"))
}

/// Builds `ferrum-server` and returns the path of the binary. Debug by
/// default: `cargo test --workspace` has built it already (the server's
/// integration tests need it), so this costs nothing, and the comparison
/// is bound by round trips, not by the server's speed.
pub fn build_ferrum(release: bool) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate::workspace_root())
        .args([
            "build",
            "-p",
            "ferrum-server",
            "--bin",
            "ferrum-server",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped());
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().context("running cargo build")?;
    if !out.status.success() {
        bail!("cargo build -p ferrum-server failed");
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["reason"] == "compiler-artifact" && v["target"]["name"] == "ferrum-server" {
            if let Some(exe) = v["executable"].as_str() {
                return Ok(PathBuf::from(exe));
            }
        }
    }
    bail!("cargo build did not report the ferrum-server executable")
}
