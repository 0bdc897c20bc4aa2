//! Processes for `cargo xtask bench`: the servers under test (pinned to a
//! core with `taskset`), bounded runs of `redis-benchmark`, the Ctrl-C flag,
//! and the /proc readings (CPU time, resident memory).
//!
//! Every child process is owned by a guard that kills and reaps it when
//! dropped, so an error, a panic or Ctrl-C (which turns into an error at the
//! next check) never leaves a server behind. Where `setpriv` exists, children
//! are also started with a parent-death signal, which covers the case of the
//! runner itself being killed outright.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use resp::Frame;

use super::load::Client;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Turns Ctrl-C (and SIGTERM/SIGHUP) into a flag that every loop checks.
pub fn install_interrupt_handler() {
    let r = ctrlc::set_handler(|| {
        if !INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted: stopping the servers...");
        }
    });
    if let Err(e) = r {
        eprintln!("note: no Ctrl-C handler ({e}); servers are still stopped on errors");
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Fails once Ctrl-C was pressed.
pub fn check_interrupt() -> Result<()> {
    if interrupted() {
        bail!("interrupted");
    }
    Ok(())
}

/// Sleeps for `d`, waking early (with an error) on Ctrl-C.
pub fn sleep(d: Duration) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        check_interrupt()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

/// A child process that is killed and reaped when dropped.
#[derive(Debug)]
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    fn try_wait(&mut self) -> Result<Option<std::process::ExitStatus>> {
        match self.0.as_mut() {
            Some(c) => Ok(c.try_wait()?),
            None => bail!("process already reaped"),
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Which CPUs a process runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cpus {
    /// Core 1: the server under test.
    Server,
    /// Core 0: benchmark clients (the runner pins itself there, and children
    /// inherit it, so this needs no wrapper).
    Client,
    /// Every core (the scaling runs).
    All,
}

/// How children are started: with `taskset` when available, and with a
/// parent-death signal when `setpriv` is.
#[derive(Debug, Clone)]
pub struct Launcher {
    pub taskset: bool,
    setpriv: bool,
    /// CPUs of the machine (counted before the runner pinned itself).
    pub ncpus: usize,
}

impl Launcher {
    /// Finds the tools and, when pinning is possible, pins this process (all
    /// its threads, and so every later child) to core 0.
    pub fn new() -> Launcher {
        let ncpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let setpriv = on_path("setpriv");
        let mut taskset = on_path("taskset");
        if !taskset {
            println!("note: taskset is not on PATH: servers and clients run unpinned");
        } else if ncpus < 2 {
            println!("note: only {ncpus} CPU available: servers and clients run unpinned");
            taskset = false;
        } else {
            let pid = std::process::id().to_string();
            let ok = Command::new("taskset")
                .args(["-a", "-p", "-c", "0", &pid])
                .stdout(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                println!("note: `taskset -a -p -c 0` failed: servers and clients run unpinned");
                taskset = false;
            }
        }
        Launcher {
            taskset,
            setpriv,
            ncpus,
        }
    }

    /// A command running `program` on `cpus`.
    pub fn command(&self, program: &Path, cpus: Cpus) -> Command {
        let mut prefix: Vec<String> = Vec::new();
        if self.setpriv {
            prefix.extend(["setpriv", "--pdeathsig", "KILL", "--"].map(String::from));
        }
        if self.taskset {
            match cpus {
                Cpus::Server => prefix.extend(["taskset", "-c", "1"].map(String::from)),
                Cpus::Client => {}
                Cpus::All => prefix.extend([
                    "taskset".to_string(),
                    "-c".to_string(),
                    format!("0-{}", self.ncpus - 1),
                ]),
            }
        }
        match prefix.split_first() {
            None => Command::new(program),
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(program);
                c
            }
        }
    }

    /// Runs `cmd` to completion within `timeout`, its stdout and stderr going
    /// to a scratch file, and returns that output.
    pub fn run_bounded(
        &self,
        mut cmd: Command,
        timeout: Duration,
        scratch: &Path,
    ) -> Result<String> {
        let file = std::fs::File::create(scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let mut child = ChildGuard(Some(
            cmd.spawn()
                .with_context(|| format!("starting {:?}", cmd.get_program()))?,
        ));
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(st) = child.try_wait()? {
                break st;
            }
            check_interrupt()?;
            if Instant::now() > deadline {
                child.kill();
                bail!("timed out after {}s", timeout.as_secs());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let out = std::fs::read_to_string(scratch).unwrap_or_default();
        if !status.success() {
            bail!("exited with {status}: {}", last_lines(&out, 3));
        }
        Ok(out)
    }
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

/// `redis-benchmark` on PATH, if any.
pub fn find_redis_benchmark() -> Option<PathBuf> {
    let p = std::env::var_os("PATH")?;
    std::env::split_paths(&p)
        .map(|d| d.join("redis-benchmark"))
        .find(|p| p.is_file())
}

pub fn last_lines(s: &str, n: usize) -> String {
    let v: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    v[v.len().saturating_sub(n)..].join(" | ")
}

/// Which server a process is.
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

/// A running server, stopped (and its scratch directory removed) on drop.
#[derive(Debug)]
pub struct Server {
    pub kind: Kind,
    pub addr: SocketAddr,
    pub pid: u32,
    dir: PathBuf,
    child: ChildGuard,
}

impl Server {
    /// Starts `program` on a free loopback port with persistence off.
    /// `threads` is Ferrum's `--ferrum-threads`.
    pub fn start(
        launcher: &Launcher,
        kind: Kind,
        program: &Path,
        cpus: Cpus,
        threads: usize,
    ) -> Result<Server> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "ferrum-bench-{}-{}-{n}",
            std::process::id(),
            kind.name().to_lowercase()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut last_err = None;
        // A free port can be taken between probing and binding: retry.
        for _ in 0..3 {
            check_interrupt()?;
            let port = free_port()?;
            let log = std::fs::File::create(dir.join("server.log"))?;
            let mut cmd = launcher.command(program, cpus);
            cmd.current_dir(&dir)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log);
            match kind {
                Kind::Redis => {
                    cmd.args(["--daemonize", "no", "--protected-mode", "yes"])
                        .args(["--dir", &dir.to_string_lossy()])
                        .args(["--logfile", ""]);
                }
                Kind::Ferrum => {
                    cmd.args(["--ferrum-threads", &threads.to_string()]);
                }
            }
            let child = ChildGuard(Some(
                cmd.spawn()
                    .with_context(|| format!("starting {}", program.display()))?,
            ));
            let mut s = Server {
                kind,
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                pid: child.id(),
                dir: dir.clone(),
                child,
            };
            match s.wait_ready() {
                Ok(()) => return Ok(s),
                Err(e) => {
                    s.child.kill();
                    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                    last_err = Some(e.context(format!(
                        "{} did not start on port {port}: {}",
                        kind.name(),
                        last_lines(&log, 5)
                    )));
                    // Keep the directory for the next attempt: forget it here.
                    s.dir = PathBuf::new();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last_err.expect("at least one attempt"))
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            check_interrupt()?;
            if let Some(st) = self.child.try_wait()? {
                bail!("exited with {st}");
            }
            if let Ok(mut c) = Client::connect(self.addr) {
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

    /// Fails if the process has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(st) = self.child.try_wait()? {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            bail!(
                "{} exited ({st}): {}",
                self.kind.name(),
                last_lines(&log, 5)
            );
        }
        Ok(())
    }

    /// Server CPU time so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds(self.pid)
    }

    /// Resident memory, in bytes.
    pub fn rss_bytes(&self) -> Result<u64> {
        rss_bytes(self.pid)
    }

    /// FLUSHALL (both servers have it).
    pub fn flushall(&self) -> Result<()> {
        let f = Client::connect(self.addr)?.call(&["FLUSHALL"])?;
        if f.is_error() {
            bail!("{}: FLUSHALL failed: {f:?}", self.kind.name());
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// Clock ticks per second of /proc/<pid>/stat's times.
fn clk_tck() -> f64 {
    static TCK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|&t: &f64| t > 0.0)
            .unwrap_or(100.0)
    })
}

/// utime + stime of a process (all its threads, live or exited), in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let s = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &s[s.rfind(')').context("no ')' in stat")? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = f.get(11).context("short stat")?.parse()?;
    let stime: u64 = f.get(12).context("short stat")?.parse()?;
    Ok((utime + stime) as f64 / clk_tck())
}

/// VmRSS of a process, in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let s = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("bad VmRSS line")?
        .parse()?;
    Ok(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_proc() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
        assert!(rss_bytes(pid).unwrap() > 0);
    }
}
