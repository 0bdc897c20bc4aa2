//! `cargo xtask compat`: runs the scenarios of tests/compat against a real
//! Redis and Ferrum, compares the raw replies, checks (or, with `--record`,
//! writes) the recorded replies; without Redis, checks Ferrum against the
//! recorded replies only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::compare::{same, Outcome};
use crate::conn::Conn;
use crate::record::{self, Record};
use crate::scenario::{self, Action, Scenario, Step};
use crate::servers::{self, Kind, ServerProc};

/// Whether to compare against a live Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// When redis-server is on PATH.
    Auto,
    /// Fail if redis-server is missing.
    Require,
    /// Recorded replies only.
    Never,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub record: bool,
    pub live: Live,
    /// Only scenario files whose name contains this.
    pub filter: Option<String>,
    pub release: bool,
    pub verbose: bool,
    /// An already built ferrum-server (skips the build).
    pub ferrum: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    /// Differences listed in known-differences.txt.
    pub skipped: usize,
}

impl Summary {
    pub fn line(&self) -> String {
        let mut s = format!("compat: {} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }
}

pub fn compat_dir() -> PathBuf {
    crate::workspace_root().join("tests/compat")
}

/// Every scenario file: tests/compat/<family>/*.txt, sorted.
pub fn scenario_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let Ok(families) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for fam in families {
        let fam = fam?.path();
        if !fam.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&fam)? {
            let f = f?.path();
            if f.extension().is_some_and(|e| e == "txt") {
                let rel = f
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((f, rel));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// tests/compat/known-differences.txt: `file:line reason` entries.
#[derive(Debug, Default)]
pub struct Known {
    entries: BTreeMap<(String, usize), String>,
    used: BTreeSet<(String, usize)>,
}

impl Known {
    pub fn load(path: &Path) -> Result<Known> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Known::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("{}:{}", path.display(), i + 1);
            let (loc, reason) = line
                .split_once(char::is_whitespace)
                .with_context(|| format!("{}: expected 'file:line reason'", at()))?;
            let reason = reason.trim();
            let (file, l) = loc
                .rsplit_once(':')
                .with_context(|| format!("{}: expected 'file:line reason'", at()))?;
            let l: usize = l
                .parse()
                .with_context(|| format!("{}: bad line number", at()))?;
            if reason.is_empty() {
                bail!("{}: every known difference needs a reason", at());
            }
            entries.insert((file.to_string(), l), reason.to_string());
        }
        Ok(Known {
            entries,
            used: BTreeSet::new(),
        })
    }

    fn reason(&mut self, file: &str, line: usize) -> Option<&str> {
        let key = (file.to_string(), line);
        let r = self.entries.get(&key)?;
        self.used.insert(key);
        Some(r)
    }
}

/// The connections of one server: one per scenario client.
struct Target {
    addr: std::net::SocketAddr,
    clients: Vec<Option<Conn>>,
}

impl Target {
    fn conn(&mut self, i: usize) -> Result<&mut Conn> {
        if self.clients.len() <= i {
            self.clients.resize_with(i + 1, || None);
        }
        let slot = &mut self.clients[i];
        if slot.as_ref().is_none_or(Conn::is_closed) {
            *slot = Some(Conn::connect(self.addr)?);
        }
        Ok(slot.as_mut().expect("just set"))
    }
}

const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one step on every target; returns one outcome per target for
/// reply-producing steps.
fn exec(step: &Step, targets: &mut [Target]) -> Result<Option<Vec<Outcome>>> {
    match &step.action {
        Action::Sleep(ms) => {
            std::thread::sleep(Duration::from_millis(*ms));
            Ok(None)
        }
        Action::Reconnect => {
            for t in targets.iter_mut() {
                t.conn(step.client)?.reconnect()?;
            }
            Ok(None)
        }
        Action::Command { args, wait } => {
            for t in targets.iter_mut() {
                t.conn(step.client)?.send_command(args);
            }
            if !*wait {
                return Ok(None);
            }
            Ok(Some(read_all(targets, step.client, |c| {
                let o = Outcome::read_one(c, REPLY_TIMEOUT);
                if o.no_reply {
                    // The reply may still come and would be read as the
                    // next one: start over on a new connection.
                    let _ = c.reconnect();
                }
                o
            })?))
        }
        Action::Proto(p) => {
            let args = vec![b"HELLO".to_vec(), p.to_string().into_bytes()];
            for t in targets.iter_mut() {
                t.conn(step.client)?.send_command(&args);
            }
            Ok(Some(read_all(targets, step.client, |c| {
                Outcome::read_one(c, REPLY_TIMEOUT)
            })?))
        }
        Action::Recv { timeout_ms } => {
            let wait = Duration::from_millis(*timeout_ms);
            Ok(Some(read_all(targets, step.client, |c| {
                Outcome::read_one(c, wait)
            })?))
        }
        Action::Raw(bytes) => {
            for t in targets.iter_mut() {
                t.conn(step.client)?.send(bytes);
            }
            Ok(Some(read_all(targets, step.client, collect_raw)?))
        }
    }
}

/// How long a raw step waits for a first reply, and then for more.
const RAW_FIRST: Duration = Duration::from_millis(500);
const RAW_QUIET: Duration = Duration::from_millis(100);

/// Everything a raw request brings back: replies until the server closes the
/// connection or stays quiet.
fn collect_raw(c: &mut Conn) -> Outcome {
    let mut o = Outcome::default();
    let mut wait = RAW_FIRST;
    while o.push(c.read(wait)) {
        wait = RAW_QUIET;
    }
    if o.frames.is_empty() && !o.closed {
        o.no_reply = true;
    }
    o
}

/// Reads from every target's connection at once (the waits overlap).
fn read_all(
    targets: &mut [Target],
    client: usize,
    read: impl Fn(&mut Conn) -> Outcome + Sync,
) -> Result<Vec<Outcome>> {
    let mut conns = Vec::new();
    for t in targets.iter_mut() {
        // Make sure the connection exists before borrowing them all.
        t.conn(client)?;
    }
    for t in targets.iter_mut() {
        conns.push(t.clients[client].as_mut().expect("opened above"));
    }
    let read = &read;
    Ok(std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|c| s.spawn(move || read(c)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("reader thread"))
            .collect()
    }))
}

/// Runs a scenario on the given servers (in step, interleaved); returns,
/// for each reply-producing step, one outcome per server.
fn run_scenario(
    sc: &Scenario,
    servers: &mut [&mut ServerProc],
) -> Result<Vec<(usize, Vec<Outcome>)>> {
    for s in servers.iter_mut() {
        s.reset()?;
    }
    let mut targets: Vec<Target> = servers
        .iter()
        .map(|s| Target {
            addr: s.addr,
            clients: Vec::new(),
        })
        .collect();
    let mut results = Vec::new();
    for (i, step) in sc.steps.iter().enumerate() {
        if let Some(outs) = exec(step, &mut targets)
            .with_context(|| format!("{}:{}: {}", sc.name, step.line, step.text))?
        {
            let stalled = matches!(step.action, Action::Command { .. } | Action::Proto(_))
                && outs.iter().any(|o| o.no_reply);
            results.push((i, outs));
            if stalled {
                // A server that does not answer a command may be stuck; the
                // rest of the file would only time out step after step.
                for s in servers.iter_mut() {
                    if !responsive(s.addr) {
                        let kind = s.kind.name();
                        s.restart()?;
                        bail!(
                            "{}:{}: {kind} stopped answering after `{}`; restarted it, rest of the file skipped",
                            sc.name,
                            step.line,
                            step.text
                        );
                    }
                }
            }
        }
    }
    Ok(results)
}

/// Whether a server answers PING on a new connection within a second.
fn responsive(addr: std::net::SocketAddr) -> bool {
    let Ok(mut c) = Conn::connect(addr) else {
        return false;
    };
    c.send_command(&[b"PING".to_vec()]);
    matches!(c.read(Duration::from_secs(1)), crate::conn::Read1::Frame(_))
}

/// Runs every scenario as the options say and prints the report.
pub fn run(opts: &Options) -> Result<Summary> {
    let dir = compat_dir();
    let started = Instant::now();
    let mut sum = Summary::default();
    let mut known = Known::load(&dir.join("known-differences.txt"))?;

    let redis_bin = if opts.live == Live::Never {
        None
    } else {
        servers::find_redis()
    };
    if redis_bin.is_none() {
        if opts.record {
            bail!("--record needs redis-server on PATH (or REDIS_SERVER=/path/to/redis-server)");
        }
        if opts.live == Live::Require {
            bail!("redis-server is not on PATH (set REDIS_SERVER=/path/to/redis-server)");
        }
        if opts.live == Live::Auto {
            println!(
                "compat: redis-server not found on PATH: skipping the live comparison with Redis; \
                 checking Ferrum against the recorded replies only"
            );
        }
    }
    let redis_version = match &redis_bin {
        Some(p) => Some(servers::redis_version(p)?),
        None => None,
    };

    let files = scenario_files(&dir)?;
    let files: Vec<_> = files
        .into_iter()
        .filter(|(_, rel)| {
            opts.filter
                .as_ref()
                .is_none_or(|f| rel.contains(f.as_str()))
        })
        .collect();
    if files.is_empty() {
        println!("compat: no scenario files under {}", dir.display());
    }

    let ferrum_bin = match &opts.ferrum {
        Some(p) => p.clone(),
        None => servers::build_ferrum(opts.release)?,
    };
    let mut ferrum = ServerProc::start(Kind::Ferrum, &ferrum_bin)?;
    let mut redis = match &redis_bin {
        Some(p) => Some(ServerProc::start(Kind::Redis, p)?),
        None => None,
    };
    match (&redis_version, &redis) {
        (Some(v), Some(r)) => println!(
            "compat: {} scenario files; Redis {v} on {}, Ferrum ({}) on {}",
            files.len(),
            r.addr,
            ferrum_bin.display(),
            ferrum.addr
        ),
        _ => println!(
            "compat: {} scenario files; Ferrum ({}) on {}, against recorded replies",
            files.len(),
            ferrum_bin.display(),
            ferrum.addr
        ),
    }

    let mut stale_versions = BTreeSet::new();
    for (path, rel) in &files {
        let sc = match scenario::load(path, rel.clone()) {
            Ok(s) => s,
            Err(e) => {
                println!("FAIL {e:#}");
                sum.failed += 1;
                continue;
            }
        };
        let rec_path = record::path_for(path);
        let rec = match record::load(&rec_path) {
            Ok(r) => r,
            Err(e) => {
                println!("FAIL {rel}: unreadable record: {e:#}");
                sum.failed += 1;
                continue;
            }
        };
        let reply_steps: Vec<&Step> = sc.steps.iter().filter(|s| s.has_reply()).collect();
        // Whether the record still matches the scenario's steps.
        let rec_fits = rec.as_ref().is_some_and(|r| {
            r.entries.len() == reply_steps.len()
                && r.entries
                    .iter()
                    .zip(&reply_steps)
                    .all(|((t, _), s)| *t == s.text)
        });
        if !opts.record {
            match &rec {
                None => {
                    println!(
                        "FAIL {rel}: no recorded replies ({}): run `cargo xtask compat --record`",
                        rec_path.file_name().unwrap_or_default().to_string_lossy()
                    );
                    sum.failed += 1;
                }
                Some(_) if !rec_fits => {
                    println!(
                        "FAIL {rel}: the recorded replies do not match the scenario's steps \
                         (edited since recording?): run `cargo xtask compat --record`"
                    );
                    sum.failed += 1;
                }
                Some(_) => {}
            }
        }

        let mut servers: Vec<&mut ServerProc> = Vec::new();
        if let Some(r) = redis.as_mut() {
            servers.push(r);
        }
        let ferrum_index = servers.len();
        servers.push(&mut ferrum);
        let t0 = Instant::now();
        let results = match run_scenario(&sc, &mut servers) {
            Ok(r) => r,
            Err(e) => {
                println!("FAIL {e:#}");
                sum.failed += 1;
                continue;
            }
        };
        let live = servers.len() == 2;
        if opts.verbose {
            println!("  {rel}: {} replies in {:?}", results.len(), t0.elapsed());
        }
        let mut file_failed = 0;
        let mut new_record = Record {
            redis_version: redis_version.clone().unwrap_or_default(),
            entries: Vec::new(),
        };
        for (k, (i, outs)) in results.iter().enumerate() {
            let step = &sc.steps[*i];
            let ferrum_out = &outs[ferrum_index];
            let recorded = rec.as_ref().filter(|_| rec_fits).map(|r| &r.entries[k].1);
            let reference = if live { Some(&outs[0]) } else { recorded };
            let Some(reference) = reference else {
                continue;
            };
            if opts.verbose {
                println!("    {}:{} {}", rel, step.line, step.text);
            }
            if live {
                new_record
                    .entries
                    .push((step.text.clone(), outs[0].clone()));
                // The recorded reply must still be what Redis says.
                if let (Some(recd), false) = (recorded, opts.record) {
                    if !same(recd, &outs[0], &step.check) {
                        let rv = rec
                            .as_ref()
                            .map(|r| r.redis_version.clone())
                            .unwrap_or_default();
                        if Some(&rv) != redis_version.as_ref() {
                            stale_versions.insert(format!("{rel} (recorded from {rv})"));
                        } else {
                            println!(
                                "STALE {rel}:{}: {}\n  recorded: {}\n  Redis:    {}\n  (re-record with `cargo xtask compat --record`)",
                                step.line,
                                step.text,
                                recd.show(),
                                outs[0].show()
                            );
                            sum.failed += 1;
                            file_failed += 1;
                        }
                    }
                }
            }
            if same(reference, ferrum_out, &step.check) {
                sum.passed += 1;
                continue;
            }
            if let Some(reason) = known.reason(rel, step.line) {
                if opts.verbose {
                    println!("known {rel}:{}: {}: {reason}", step.line, step.text);
                }
                sum.skipped += 1;
                continue;
            }
            sum.failed += 1;
            file_failed += 1;
            let refname = if live { "Redis: " } else { "record:" };
            println!(
                "FAIL {rel}:{}: {}\n  {refname} {}\n  Ferrum: {}",
                step.line,
                step.text,
                reference.show(),
                ferrum_out.show()
            );
        }
        if !ferrum.alive() {
            println!(
                "FAIL {rel}: ferrum-server exited during the scenario; its log ends with:\n{}",
                ferrum.log_tail(15)
            );
            sum.failed += 1;
            file_failed += 1;
        }
        if opts.record && live {
            let text = record::render(&new_record);
            if std::fs::read_to_string(&rec_path).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&rec_path, text)
                    .with_context(|| format!("writing {}", rec_path.display()))?;
                println!(
                    "recorded {}",
                    rec_path.strip_prefix(&dir).unwrap_or(&rec_path).display()
                );
            }
        }
        if opts.verbose || file_failed > 0 {
            println!("  {rel}: {file_failed} failed");
        }
    }
    if !stale_versions.is_empty() {
        println!(
            "note: replies of a different Redis version ({}) differ from these recordings; not counted:",
            redis_version.as_deref().unwrap_or("?")
        );
        for f in &stale_versions {
            println!("  {f}");
        }
    }
    let unused: Vec<_> = known
        .entries
        .keys()
        .filter(|k| !known.used.contains(*k))
        .filter(|(f, _)| opts.filter.as_ref().is_none_or(|x| f.contains(x.as_str())))
        .collect();
    for (f, l) in unused {
        println!("note: known difference {f}:{l} did not occur (fixed, or the line moved?)");
    }
    println!(
        "compat: finished in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scenario and record in the tree parses, and every known
    /// difference names a reply-producing line of an existing scenario.
    #[test]
    fn scenario_files_parse() {
        let dir = compat_dir();
        let files = scenario_files(&dir).unwrap();
        let mut steps = BTreeSet::new();
        for (path, rel) in &files {
            let sc = scenario::load(path, rel.clone()).unwrap();
            for s in sc.steps.iter().filter(|s| s.has_reply()) {
                steps.insert((rel.clone(), s.line));
            }
            record::load(&record::path_for(path)).unwrap();
        }
        let known = Known::load(&dir.join("known-differences.txt")).unwrap();
        for key in known.entries.keys() {
            if files.iter().any(|(_, rel)| *rel == key.0) {
                assert!(
                    steps.contains(key),
                    "known difference {}:{} is no reply line",
                    key.0,
                    key.1
                );
            }
        }
    }
}
