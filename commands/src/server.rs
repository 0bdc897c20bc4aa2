//! Server commands: CONFIG, INFO, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME,
//! SHUTDOWN.
//!
//! Everything here answers as Redis 7.2 does: the same error texts, the same
//! INFO field names and section layout (clients and monitoring tools parse
//! them), the same CONFIG SET atomicity. Figures Ferrum has no machinery for
//! yet (replication, persistence, Lua) are reported with the values an idle
//! Redis without that feature reports.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use resp::Reply;

use crate::config::{self, Mutability, Opt, Values, OPTIONS};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, SYNTAX};
use crate::parse::{eq, text};
use crate::registry::Locking;
use crate::state::Server;
use crate::{command, container};

/// The Redis version Ferrum reports, for clients that gate features on it.
pub const REDIS_VERSION: &str = "7.2.4";

/// Redis's HELP reply: a header naming the command as the client typed it,
/// the subcommand lines, and the HELP entry itself, as status lines.
pub(crate) fn help_reply(cmd: &[u8], lines: &[&str]) -> Reply {
    let name = String::from_utf8_lossy(cmd).to_ascii_uppercase();
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Reply::Simple(
        format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    ));
    out.extend(lines.iter().map(|l| Reply::Simple(l.to_string().into())));
    out.push(Reply::simple("HELP"));
    out.push(Reply::simple("    Prints this help."));
    Reply::Array(out)
}

// ---------------------------------------------------------------------------
// DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME

command!(
    DBSIZE,
    "Counts the keys of the selected database.",
    dbsize,
    Locking::Db
);

/// DBSIZE
///
/// Counts keys whose deadline passed but that nothing has removed yet, as
/// Redis does: the count is the size of the tables, not a scan.
fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let db = ctx.db();
    Reply::Integer(ctx.ks.db_len(db) as i64)
}

/// The optional ASYNC|SYNC argument of FLUSHDB and FLUSHALL. Ferrum frees
/// memory as it clears either way, so both modes behave the same; anything
/// else is Redis's syntax error.
fn flush_mode(args: &[Bytes]) -> CmdResult<()> {
    match args {
        [_] => Ok(()),
        [_, mode] if eq(mode, "sync") || eq(mode, "async") => Ok(()),
        _ => Err(err(SYNTAX)),
    }
}

command!(
    FLUSHDB,
    "Deletes every key of the selected database.",
    flushdb,
    Locking::Db
);

/// FLUSHDB [ASYNC|SYNC]
fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if let Err(e) = flush_mode(args) {
        return e;
    }
    let db = ctx.db();
    crate::multi::touch_db(ctx.server, &ctx.ks, db, None);
    let removed = ctx.ks.clear_db(db);
    ctx.dirty(removed as u64);
    crate::tracking::flushed(ctx.server);
    Reply::ok()
}

command!(
    FLUSHALL,
    "Deletes every key of every database.",
    flushall,
    Locking::AllDbs
);

/// FLUSHALL [ASYNC|SYNC]
///
/// Counts one change more than the keys removed, as Redis does, so that even
/// an empty server records that a flush happened.
fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if let Err(e) = flush_mode(args) {
        return e;
    }
    let mut removed = 0;
    for db in 0..ctx.server.store.databases() {
        crate::multi::touch_db(ctx.server, &ctx.ks, db, None);
        removed += ctx.ks.clear_db(db);
    }
    ctx.dirty(removed as u64 + 1);
    crate::tracking::flushed(ctx.server);
    Reply::ok()
}

command!(
    SWAPDB,
    "Exchanges the contents of two databases.",
    swapdb,
    Locking::AllDbs
);

/// A database index as SWAPDB reads it: an integer in C `int` range, else
/// the given error text.
fn db_index(arg: &[u8], msg: &'static str) -> CmdResult<i64> {
    match storage::value::parse_canonical_i64(arg) {
        Some(n) if i32::try_from(n).is_ok() => Ok(n),
        _ => Err(err(msg)),
    }
}

/// SWAPDB index1 index2
fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let a = match db_index(&args[1], "ERR invalid first DB index") {
        Ok(n) => n,
        Err(e) => return e,
    };
    let b = match db_index(&args[2], "ERR invalid second DB index") {
        Ok(n) => n,
        Err(e) => return e,
    };
    let n = ctx.server.store.databases() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return err(crate::error::DB_OUT_OF_RANGE);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        crate::multi::touch_db(ctx.server, &ctx.ks, a, Some(b));
        crate::multi::touch_db(ctx.server, &ctx.ks, b, Some(a));
    }
    ctx.ks.swap_dbs(a, b);
    ctx.dirty(1);
    Reply::ok()
}

command!(
    TIME,
    "Returns the server's clock as seconds and microseconds.",
    time,
    Locking::None
);

/// TIME
fn time(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let us = storage::clock::system_now_us();
    Reply::Array(vec![
        Reply::bulk_int(us.div_euclid(1_000_000)),
        Reply::bulk_int(us.rem_euclid(1_000_000)),
    ])
}

// ---------------------------------------------------------------------------
// SHUTDOWN

command!(
    SHUTDOWN,
    "Stops the server, optionally saving first.",
    shutdown,
    Locking::Own
);

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
///
/// Saves the dataset first with SAVE, or without NOSAVE when `save` points
/// are configured, as Redis does. A failed save keeps the server running
/// and replies with an error, unless FORCE says to stop anyway. With no
/// replicas to wait for, a shutdown is never "in progress", so ABORT always
/// finds none.
/// On success the client gets no reply: the connection just closes.
fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // `flagged`: any option other than ABORT, which may not be combined.
    let (mut nosave, mut save, mut force, mut abort, mut flagged) =
        (false, false, false, false, false);
    for a in &args[1..] {
        if eq(a, "nosave") {
            nosave = true;
            flagged = true;
        } else if eq(a, "save") {
            save = true;
            flagged = true;
        } else if eq(a, "now") {
            flagged = true;
        } else if eq(a, "force") {
            force = true;
            flagged = true;
        } else if eq(a, "abort") {
            abort = true;
        } else {
            return err(SYNTAX);
        }
    }
    if (abort && flagged) || (nosave && save) {
        return err(SYNTAX);
    }
    if abort {
        return err("ERR No shutdown in progress.");
    }
    let save_points = ctx.server.config.read(|v| !v.save_points().is_empty());
    if save || (save_points && !nosave) {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        if let Err(e) = crate::persistence::save_now(ctx.server) {
            if !force {
                tracing::warn!("Error trying to save the DB, can't exit: {e}");
                return err("ERR Errors trying to SHUTDOWN. Check logs.");
            }
            tracing::warn!("Error trying to save the DB ({e}); exiting anyway (FORCE)");
        }
    }
    tracing::warn!("User requested shutdown...");
    ctx.server.shutdown.request();
    ctx.client.skip_next_reply = true;
    ctx.client.close_after_reply = true;
    Reply::ok()
}

// ---------------------------------------------------------------------------
// CONFIG

container!(CONFIG, "Reads and changes the server's configuration.");

command!(
    CONFIG_HELP,
    "Describes the CONFIG subcommands.",
    config_help,
    Locking::None
);

/// CONFIG HELP
fn config_help(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    help_reply(
        &args[0],
        &[
            "GET <pattern>",
            "    Returns the options whose names match the glob-style <pattern>, with",
            "    their values. Several patterns may be given.",
            "SET <directive> <value> [<directive> <value> ...]",
            "    Changes options; either all of them change or none does.",
            "RESETSTAT",
            "    Clears the statistics INFO reports.",
            "REWRITE",
            "    Writes the running configuration back to the configuration file.",
        ],
    )
}

command!(
    CONFIG_GET,
    "Returns the values of the options matching one or more patterns.",
    config_get,
    Locking::None
);

fn has_glob(p: &[u8]) -> bool {
    p.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// CONFIG GET parameter [parameter ...]
///
/// A name without glob characters is looked up directly (aliases included)
/// and answered under the name as given; a pattern matches option names and
/// aliases case-insensitively. Each option appears once however many
/// patterns match it.
fn config_get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let values = ctx.server.config.snapshot();
    let mut out: Vec<(String, &'static Opt)> = Vec::new();
    let present = |out: &Vec<(String, &'static Opt)>, name: &str| {
        out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    for pat in &args[2..] {
        if !has_glob(pat) {
            let name = text(pat);
            if present(&out, &name) {
                continue;
            }
            if let Some(opt) = config::find(&name) {
                out.push((name, opt));
            }
            continue;
        }
        for opt in OPTIONS {
            for key in std::iter::once(opt.name).chain(opt.alias) {
                if present(&out, opt.name) || present(&out, key) {
                    continue;
                }
                if storage::glob::glob_match(pat, key.as_bytes(), true) {
                    out.push((key.to_string(), opt));
                }
            }
        }
    }
    Reply::Map(
        out.into_iter()
            .map(|(name, opt)| (Reply::bulk(name), Reply::bulk((opt.get)(&values))))
            .collect(),
    )
}

command!(
    CONFIG_SET,
    "Changes one or more options at once, all or none.",
    config_set,
    Locking::Own
);

/// CONFIG SET parameter value [parameter value ...]
///
/// Every name is checked before anything changes (unknown, immutable or
/// repeated names fail the whole command, the first problem reported); the
/// values are then applied to a copy of the configuration, which replaces
/// the live one only if every value was accepted.
fn config_set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let reply = config_set_values(ctx, args);
    // `appendonly` starts or stops the AOF once the value is in place (Redis
    // rewrites the AOF when it is turned on).
    if !reply.is_error()
        && args[2..]
            .iter()
            .step_by(2)
            .any(|n| n.eq_ignore_ascii_case(b"appendonly"))
    {
        if let Some(control) = ctx.server.propagation.control() {
            let on = ctx.server.config.read(|v| v.appendonly);
            if let Err(e) = control.set_enabled(ctx.server, on) {
                ctx.server.config.write(|v| v.appendonly = !on);
                return set_failed("appendonly", &e);
            }
        }
    }
    reply
}

fn config_set_values(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() & 1 != 0 {
        return err(SYNTAX);
    }
    let pairs: Vec<(String, String)> = args[2..]
        .chunks(2)
        .map(|p| (text(&p[0]), text(&p[1])))
        .collect();
    let mut opts: Vec<&'static Opt> = Vec::with_capacity(pairs.len());
    for (i, (name, _)) in pairs.iter().enumerate() {
        let Some(opt) = config::find(name) else {
            return crate::parse::echo_error(&[
                b"ERR Unknown option or number of arguments for CONFIG SET - '",
                crate::parse::c_str(&args[2 + 2 * i]),
                b"'",
            ]);
        };
        if opt.mutability == Mutability::Immutable {
            return set_failed(name, "can't set immutable config");
        }
        if opts.iter().any(|o| std::ptr::eq(*o, opt)) {
            return set_failed(name, "duplicate parameter");
        }
        opts.push(opt);
    }
    ctx.server.config.write(|live| {
        let mut next = live.clone();
        for ((name, value), opt) in pairs.iter().zip(&opts) {
            if let Err(why) = (opt.set)(&mut next, std::slice::from_ref(value)) {
                // The `dir` setter changes the process's working directory
                // as it validates; put it back with the rest.
                if next.dir != live.dir {
                    let _ = std::env::set_current_dir(&live.dir);
                }
                return set_failed(name, &why);
            }
        }
        *live = next;
        ctx.server.store.limits.set(live.limits());
        ctx.server.notify_flags.store(
            live.notify_keyspace_events,
            std::sync::atomic::Ordering::Relaxed,
        );
        ctx.server
            .proto_max_bulk_len
            .store(live.proto_max_bulk_len, Ordering::Relaxed);
        Reply::ok()
    })
}

fn set_failed(name: &str, why: &str) -> Reply {
    Reply::error(format!(
        "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
    ))
}

command!(
    CONFIG_RESETSTAT,
    "Clears the statistics INFO reports.",
    config_resetstat,
    Locking::Own
);

/// CONFIG RESETSTAT
///
/// Clears what Redis clears: the server counters, each command's counters,
/// the error table and the keyspace hit/miss/expiry counters. The count of
/// changes since the last save is not a statistic and stays.
fn config_resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.server.stats.reset();
    for e in ctx.server.registry.all() {
        e.stats.reset();
    }
    ctx.server.store.reset_stats();
    Reply::ok()
}

command!(
    CONFIG_REWRITE,
    "Writes the running configuration back to the file the server started with.",
    config_rewrite,
    Locking::None
);

/// CONFIG REWRITE
///
/// Keeps the file as the user wrote it (comments, blank lines, order, and
/// directives Ferrum does not know, which a Redis sharing the file may
/// need) and changes only option lines: an option's first line gets its
/// current value and its other lines are dropped; an option not in the file
/// is added at the end, under a marker comment, only when it differs from
/// its default. The new file replaces the old one atomically.
fn config_rewrite(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let Some(path) = ctx.server.config.file.clone() else {
        return err("ERR The server is running without a config file");
    };
    let values = ctx.server.config.snapshot();
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return rewrite_error(&e),
    };
    let content = rewrite_config_text(&old, &values);
    match write_atomically(&path, &content) {
        Ok(()) => {
            tracing::info!("CONFIG REWRITE executed with success.");
            Reply::ok()
        }
        Err(e) => rewrite_error(&e),
    }
}

fn rewrite_error(e: &std::io::Error) -> Reply {
    Reply::error(format!("ERR Rewriting config file: {}", os_error_text(e)))
}

/// An I/O error as C's `strerror` spells it, without Rust's "(os error N)".
fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn write_atomically(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("config");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = f.set_permissions(meta.permissions());
        }
        f.write_all(content.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The comment that precedes options CONFIG REWRITE adds (Redis's marker,
/// so the two servers recognise each other's rewritten files).
const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// Options whose values are free text, written quoted as Redis writes
/// string options.
const QUOTED: &[&str] = &["requirepass", "dir", "dbfilename", "logfile", "pidfile"];

/// Options written even at their default value (the working directory, as
/// Redis always writes it).
const ALWAYS_WRITTEN: &[&str] = &["dir"];

/// A value in double quotes with C-style escapes, as Redis's `sdscatrepr`.
fn quote_repr(s: &str) -> String {
    let mut q = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\\' => q.push_str("\\\\"),
            b'"' => q.push_str("\\\""),
            b'\n' => q.push_str("\\n"),
            b'\r' => q.push_str("\\r"),
            b'\t' => q.push_str("\\t"),
            7 => q.push_str("\\a"),
            8 => q.push_str("\\b"),
            0x20..=0x7e => q.push(b as char),
            _ => {
                let _ = write!(q, "\\x{b:02x}");
            }
        }
    }
    q.push('"');
    q
}

/// The configuration-file line for an option's current value.
fn config_line(opt: &Opt, values: &Values) -> String {
    let value = (opt.get)(values);
    if QUOTED.contains(&opt.name) || (opt.name == "save" && value.is_empty()) {
        format!("{} {}", opt.name, quote_repr(&value))
    } else {
        format!("{} {}", opt.name, value)
    }
}

/// CONFIG REWRITE's transformation of the old file's text.
pub fn rewrite_config_text(old: &str, values: &Values) -> String {
    let mut lines: Vec<String> = Vec::new();
    // Canonical option name -> indexes of its lines, in file order.
    let mut option_lines: Vec<(&'static str, Vec<usize>)> = Vec::new();
    let mut has_signature = false;
    for raw in old.lines() {
        let line = raw.trim_matches(|c| matches!(c, '\r' | '\n' | '\t' | ' '));
        if line.is_empty() || line.starts_with('#') {
            if line == REWRITE_SIGNATURE {
                has_signature = true;
            }
            lines.push(line.to_string());
            continue;
        }
        let opt = config::split_args(line)
            .and_then(|w| w.into_iter().next())
            .and_then(|name| config::find(&name));
        if let Some(opt) = opt {
            let at = lines.len();
            match option_lines.iter_mut().find(|(n, _)| *n == opt.name) {
                Some((_, v)) => v.push(at),
                None => option_lines.push((opt.name, vec![at])),
            }
        }
        lines.push(line.to_string());
    }
    let defaults = Values::default();
    let mut appended: Vec<String> = Vec::new();
    for opt in OPTIONS {
        let line = config_line(opt, values);
        let differs =
            (opt.get)(values) != (opt.get)(&defaults) || ALWAYS_WRITTEN.contains(&opt.name);
        match option_lines.iter_mut().find(|(n, _)| *n == opt.name) {
            Some((_, at)) => {
                lines[at[0]] = line;
                // Later lines of the same option would override the one
                // just written when the file is read back: drop them.
                for &i in &at[1..] {
                    lines[i].clear();
                }
            }
            None if differs => appended.push(line),
            None => {}
        }
    }
    if !appended.is_empty() {
        if !has_signature {
            lines.push(REWRITE_SIGNATURE.to_string());
        }
        lines.extend(appended);
    }
    // Every run of blank lines becomes one blank line.
    let mut out = String::new();
    let mut was_empty = false;
    for l in &lines {
        if l.is_empty() {
            if was_empty {
                continue;
            }
            was_empty = true;
        } else {
            was_empty = false;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------
// INFO

command!(
    INFO,
    "Reports the server's state and statistics, by section.",
    info,
    Locking::Own
);

/// Sections INFO shows with no argument or `default`, in Redis's order.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// INFO [section [section ...]]
///
/// Section names are case-insensitive; `default` stands for the default
/// sections, `all` adds commandstats and latencystats, `everything` is `all`
/// (Ferrum has no modules to add more). Unknown sections are ignored, so a
/// request for nothing known returns an empty text.
fn info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut sections: Vec<String> = Vec::new();
    let mut all = false;
    if args.len() == 1 {
        sections.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    for a in &args[1..] {
        if eq(a, "default") {
            sections.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
        } else if eq(a, "all") || eq(a, "everything") {
            all = true;
        } else {
            sections.push(text(a).to_ascii_lowercase());
        }
    }
    let text = info_text(ctx.server, &sections, all);
    Reply::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

/// The INFO text for the chosen sections, in Redis's layout: a `# Title`
/// line, `field:value` lines, CRLF line ends, a blank line between sections.
pub fn info_text(server: &Server, sections: &[String], all: bool) -> String {
    let want = |name: &str| all || sections.iter().any(|s| s == name);
    let mut out = String::new();
    let mut count = 0;
    let mut section = |out: &mut String, title: &str| {
        if count > 0 {
            out.push_str("\r\n");
        }
        count += 1;
        out.push_str("# ");
        out.push_str(title);
        out.push_str("\r\n");
    };
    if want("server") {
        section(&mut out, "Server");
        server_section(server, &mut out);
    }
    if want("clients") {
        section(&mut out, "Clients");
        clients_section(server, &mut out);
    }
    if want("memory") {
        section(&mut out, "Memory");
        memory_section(server, &mut out);
    }
    if want("persistence") {
        section(&mut out, "Persistence");
        persistence_section(server, &mut out);
    }
    if want("stats") {
        section(&mut out, "Stats");
        stats_section(server, &mut out);
    }
    if want("replication") {
        section(&mut out, "Replication");
        replication_section(server, &mut out);
    }
    if want("cpu") {
        section(&mut out, "CPU");
        cpu_section(&mut out);
    }
    if want("module_list") || want("modules") {
        section(&mut out, "Modules");
    }
    if want("commandstats") {
        section(&mut out, "Commandstats");
        for e in server.registry.all() {
            let calls = e.stats.calls.get();
            let failed = e.stats.failed_calls.load(Ordering::Relaxed);
            let rejected = e.stats.rejected_calls.load(Ordering::Relaxed);
            if calls == 0 && failed == 0 && rejected == 0 {
                continue;
            }
            let usec = e.stats.usec.get();
            let per_call = if calls == 0 {
                0.0
            } else {
                usec as f64 / calls as f64
            };
            let _ = write!(
                out,
                "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
                safe_info_name(&e.full_name)
            );
        }
    }
    if want("errorstats") {
        section(&mut out, "Errorstats");
        for (code, n) in server.stats.errors.lock().iter() {
            let _ = write!(out, "errorstat_{}:count={n}\r\n", safe_info_name(code));
        }
    }
    if want("latencystats") {
        // Ferrum keeps no per-command latency histograms yet.
        section(&mut out, "Latencystats");
    }
    if want("cluster") {
        section(&mut out, "Cluster");
        out.push_str("cluster_enabled:0\r\n");
    }
    if want("keyspace") {
        section(&mut out, "Keyspace");
        for db in 0..server.store.databases() {
            let (keys, expires) = server.store.approx_len(db);
            if keys > 0 || expires > 0 {
                let _ = write!(out, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
            }
        }
    }
    out
}

/// Replaces the characters that would break INFO's line format, as Redis's
/// getSafeInfoString does.
fn safe_info_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '#' | ':' | '\n' | '\r') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Appends `name:value\r\n` lines.
macro_rules! fields {
    ($out:expr, $($name:literal => $value:expr),* $(,)?) => {
        $( let _ = write!($out, concat!($name, ":{}\r\n"), $value); )*
    };
}

fn server_section(server: &Server, out: &mut String) {
    let (hz, bind) = server.config.read(|v| (v.hz, v.bind.clone()));
    let port = server.tcp_port.load(Ordering::Relaxed);
    let uptime = server.uptime_secs();
    let now_us = storage::clock::system_now_us();
    let executable = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let config_file = server
        .config
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    fields!(out,
        "redis_version" => REDIS_VERSION,
        "redis_git_sha1" => "00000000",
        "redis_git_dirty" => 0,
        "redis_build_id" => build_id(),
        "redis_mode" => "standalone",
        "os" => os_string(),
        "arch_bits" => usize::BITS,
        "monotonic_clock" => "POSIX clock_gettime",
        "multiplexing_api" => if cfg!(target_os = "linux") { "epoll" } else { "kqueue" },
        "atomicvar_api" => "c11-builtin",
        "gcc_version" => "0.0.0",
        "process_id" => std::process::id(),
        "process_supervised" => "no",
        "run_id" => server.run_id,
        "tcp_port" => port,
        "server_time_usec" => now_us,
        "uptime_in_seconds" => uptime,
        "uptime_in_days" => uptime / 86_400,
        "hz" => hz,
        "configured_hz" => hz,
        "lru_clock" => storage::keyspace::lru_clock(server.store.clock.now_ms()),
        "executable" => executable,
        "config_file" => config_file,
        "io_threads_active" => 0,
    );
    let _ = write!(out, "listener0:name=tcp");
    for b in &bind {
        let _ = write!(out, ",bind={b}");
    }
    if port != 0 {
        let _ = write!(out, ",port={port}");
    }
    out.push_str("\r\n");
}

/// A stable identifier of this build (Redis's build id is a hash of its
/// build environment; Ferrum's is a hash of its version).
fn build_id() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in concat!("ferrum-", env!("CARGO_PKG_VERSION")).bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:x}")
}

/// `uname`'s system, release and machine, as Redis's `os` field.
fn os_string() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    match (
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
    ) {
        (Some(sys), Some(rel)) => format!("{sys} {rel} {}", std::env::consts::ARCH),
        _ => {
            let os = std::env::consts::OS;
            let mut name = os.to_string();
            if let Some(first) = name.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            format!("{name} {}", std::env::consts::ARCH)
        }
    }
}

fn clients_section(server: &Server, out: &mut String) {
    let maxclients = server.config.read(|v| v.maxclients);
    let mut max_in = 0;
    let mut max_out = 0;
    for c in server.clients.iter() {
        max_in = max_in.max(c.qbuf.load(Ordering::Relaxed));
        max_out = max_out.max(c.obl.load(Ordering::Relaxed));
    }
    fields!(out,
        "connected_clients" => server.clients.len(),
        "cluster_connections" => 0,
        "maxclients" => maxclients,
        "client_recent_max_input_buffer" => max_in,
        "client_recent_max_output_buffer" => max_out,
        "blocked_clients" => server.blocking.count(),
        "tracking_clients" => server.tracking.counts().0,
        "clients_in_timeout_table" => server.blocking.count(),
        "total_blocking_keys" => 0,
        "total_blocking_keys_on_nokey" => 0,
    );
}

/// Bytes as Redis's `bytesToHuman` writes them: `100B`, `1.50K`, `2.00M`...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: &[&str] = &["K", "M", "G", "T", "P"];
    let mut size: u64 = 1024;
    if n < size {
        return format!("{n}B");
    }
    for unit in UNITS {
        if n < size.saturating_mul(1024) {
            return format!("{:.2}{unit}", n as f64 / size as f64);
        }
        size = size.saturating_mul(1024);
    }
    // Past petabytes Redis falls back to plain bytes.
    format!("{n}B")
}

/// The process's resident set size, from /proc (0 where unavailable).
fn process_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Physical memory of the machine, from /proc (0 where unavailable).
fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn memory_section(server: &Server, out: &mut String) {
    let mem = (server.memory)();
    let rss = match process_rss() {
        0 => mem.resident,
        n => n,
    };
    // Without allocator figures (a server embedded without them), the
    // resident size is the best estimate of what is in use.
    let used = if mem.allocated > 0 {
        mem.allocated
    } else {
        rss
    };
    let peak = server
        .stats
        .peak_memory
        .fetch_max(used, Ordering::Relaxed)
        .max(used)
        .max(mem.peak_allocated);
    let system = total_system_memory();
    let (allocated, active, resident) = (mem.allocated, mem.active, mem.resident);
    let signed = |a: u64, b: u64| a as i64 - b as i64;
    fields!(out,
        "used_memory" => used,
        "used_memory_human" => bytes_to_human(used),
        "used_memory_rss" => rss,
        "used_memory_rss_human" => bytes_to_human(rss),
        "used_memory_peak" => peak,
        "used_memory_peak_human" => bytes_to_human(peak),
        "used_memory_peak_perc" => format!("{:.2}%", ratio(used, peak) * 100.0),
        "used_memory_overhead" => 0,
        "used_memory_startup" => 0,
        "used_memory_dataset" => used,
        "used_memory_dataset_perc" => format!("{:.2}%", if used > 0 { 100.0 } else { 0.0 }),
        "allocator_allocated" => allocated,
        "allocator_active" => active,
        "allocator_resident" => resident,
        "total_system_memory" => system,
        "total_system_memory_human" => bytes_to_human(system),
        "used_memory_lua" => 0,
        "used_memory_vm_eval" => 0,
        "used_memory_lua_human" => "0B",
        "used_memory_scripts_eval" => 0,
        "number_of_cached_scripts" => 0,
        "number_of_functions" => 0,
        "number_of_libraries" => 0,
        "used_memory_vm_functions" => 0,
        "used_memory_vm_total" => 0,
        "used_memory_vm_total_human" => "0B",
        "used_memory_functions" => 0,
        "used_memory_scripts" => 0,
        "used_memory_scripts_human" => "0B",
        "maxmemory" => 0,
        "maxmemory_human" => "0B",
        "maxmemory_policy" => "noeviction",
        "allocator_frag_ratio" => format!("{:.2}", ratio(active, allocated)),
        "allocator_frag_bytes" => active.saturating_sub(allocated),
        "allocator_rss_ratio" => format!("{:.2}", ratio(resident, active)),
        "allocator_rss_bytes" => signed(resident, active),
        "rss_overhead_ratio" => format!("{:.2}", ratio(rss, resident)),
        "rss_overhead_bytes" => signed(rss, resident),
        "mem_fragmentation_ratio" => format!("{:.2}", ratio(rss, used)),
        "mem_fragmentation_bytes" => signed(rss, used),
        "mem_not_counted_for_evict" => 0,
        "mem_replication_backlog" => 0,
        "mem_total_replication_buffers" => 0,
        "mem_clients_slaves" => 0,
        "mem_clients_normal" => 0,
        "mem_cluster_links" => 0,
        "mem_aof_buffer" => 0,
        "mem_allocator" => if allocated > 0 { "jemalloc-5.3.0" } else { "libc" },
        "active_defrag_running" => 0,
        "lazyfree_pending_objects" => 0,
        "lazyfreed_objects" => 0,
    );
}

fn persistence_section(server: &Server, out: &mut String) {
    let aof = server.config.read(|v| v.appendonly);
    let aof_fields = server
        .propagation
        .control()
        .map(|c| c.info())
        .unwrap_or_default();
    let aof_field = |name: &str, default: &str| {
        aof_fields
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| default.to_string(), |(_, v)| v.clone())
    };
    fields!(out,
        "loading" => 0,
        "async_loading" => 0,
        "current_cow_peak" => 0,
        "current_cow_size" => 0,
        "current_cow_size_age" => 0,
        "current_fork_perc" => "0.00",
        "current_save_keys_processed" => 0,
        "current_save_keys_total" => 0,
        "rdb_changes_since_last_save" => server.stats.changes_since_save(),
        "rdb_bgsave_in_progress" => u8::from(server.bgsave.in_progress()),
        "rdb_last_save_time" => server.last_save.load(Ordering::Relaxed),
        "rdb_last_bgsave_status" => if server.rdb.last_save_ok.load(Ordering::Relaxed) { "ok" } else { "err" },
        "rdb_last_bgsave_time_sec" => server.bgsave.last_secs(),
        "rdb_current_bgsave_time_sec" => server.bgsave.current_secs(storage::clock::system_now_ms()),
        "rdb_saves" => server.rdb.saves.load(Ordering::Relaxed),
        "rdb_last_cow_size" => 0,
        "rdb_last_load_keys_expired" => server.rdb.last_load_keys_expired.load(Ordering::Relaxed),
        "rdb_last_load_keys_loaded" => server.rdb.last_load_keys_loaded.load(Ordering::Relaxed),
        "aof_enabled" => u8::from(aof),
        "aof_rewrite_in_progress" => aof_field("aof_rewrite_in_progress", "0"),
        "aof_rewrite_scheduled" => aof_field("aof_rewrite_scheduled", "0"),
        "aof_last_rewrite_time_sec" => aof_field("aof_last_rewrite_time_sec", "-1"),
        "aof_current_rewrite_time_sec" => -1,
        "aof_last_bgrewrite_status" => aof_field("aof_last_bgrewrite_status", "ok"),
        "aof_rewrites" => aof_field("aof_rewrites", "0"),
        "aof_rewrites_consecutive_failures" => 0,
        "aof_last_write_status" => aof_field("aof_last_write_status", "ok"),
        "aof_last_cow_size" => 0,
        "module_fork_in_progress" => 0,
        "module_fork_last_cow_size" => 0,
    );
    // Sizes and buffers of the running AOF (Redis lists them only when on).
    for (name, value) in aof_fields.iter().filter(|(n, _)| {
        n.starts_with("aof_") && !n.starts_with("aof_last_") && !n.starts_with("aof_rewrite")
    }) {
        out.push_str(&format!("{name}:{value}\r\n"));
    }
}

fn stats_section(server: &Server, out: &mut String) {
    let s = &server.stats;
    let ld = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let ks = server.store.stats();
    fields!(out,
        "total_connections_received" => ld(&s.total_connections_received),
        "total_commands_processed" => s.total_commands_processed.get(),
        "instantaneous_ops_per_sec" => s.instant.get(crate::state::Metric::Commands) as i64,
        "total_net_input_bytes" => s.total_net_input_bytes.get(),
        "total_net_output_bytes" => s.total_net_output_bytes.get(),
        "total_net_repl_input_bytes" => 0,
        "total_net_repl_output_bytes" => 0,
        "instantaneous_input_kbps" => format!("{:.2}", s.instant.get(crate::state::Metric::NetInput) / 1024.0),
        "instantaneous_output_kbps" => format!("{:.2}", s.instant.get(crate::state::Metric::NetOutput) / 1024.0),
        "instantaneous_input_repl_kbps" => "0.00",
        "instantaneous_output_repl_kbps" => "0.00",
        "rejected_connections" => ld(&s.rejected_connections),
        "sync_full" => 0,
        "sync_partial_ok" => 0,
        "sync_partial_err" => 0,
        "expired_keys" => ks.expired,
        "expired_stale_perc" => "0.00",
        "expired_time_cap_reached_count" => 0,
        "expire_cycle_cpu_milliseconds" => 0,
        "evicted_keys" => 0,
        "evicted_clients" => 0,
        "total_eviction_exceeded_time" => 0,
        "current_eviction_exceeded_time" => 0,
        "keyspace_hits" => ks.hits,
        "keyspace_misses" => ks.misses,
        "pubsub_channels" => server.pubsub.counts().0,
        "pubsub_patterns" => server.pubsub.counts().1,
        "pubsubshard_channels" => server.pubsub.counts().2,
        "latest_fork_usec" => 0,
        "total_forks" => 0,
        "migrate_cached_sockets" => 0,
        "slave_expires_tracked_keys" => 0,
        "active_defrag_hits" => 0,
        "active_defrag_misses" => 0,
        "active_defrag_key_hits" => 0,
        "active_defrag_key_misses" => 0,
        "total_active_defrag_time" => 0,
        "current_active_defrag_time" => 0,
        "tracking_total_keys" => server.tracking.counts().1,
        "tracking_total_items" => server.tracking.counts().2,
        "tracking_total_prefixes" => server.tracking.counts().3,
        "unexpected_error_replies" => ld(&s.unexpected_error_replies),
        "total_error_replies" => ld(&s.total_error_replies),
        "dump_payload_sanitizations" => 0,
        "total_reads_processed" => 0,
        "total_writes_processed" => 0,
        "io_threaded_reads_processed" => 0,
        "io_threaded_writes_processed" => 0,
        "reply_buffer_shrinks" => 0,
        "reply_buffer_expands" => 0,
        "eventloop_cycles" => 0,
        "eventloop_duration_sum" => 0,
        "eventloop_duration_cmd_sum" => 0,
        "instantaneous_eventloop_cycles_per_sec" => 0,
        "instantaneous_eventloop_duration_usec" => 0,
        "acl_access_denied_auth" => 0,
        "acl_access_denied_cmd" => 0,
        "acl_access_denied_key" => 0,
        "acl_access_denied_channel" => 0,
        // Ferrum's own: shard-lock acquisitions by commands, and how many
        // waited for another thread (docs/PERFORMANCE.md, scaling).
        "ferrum_shard_locks" => ks.locks,
        "ferrum_shard_locks_contended" => ks.contended,
    );
}

fn replication_section(server: &Server, out: &mut String) {
    fields!(out,
        "role" => "master",
        "connected_slaves" => 0,
        "master_failover_state" => "no-failover",
        "master_replid" => server.replid,
        "master_replid2" => "0000000000000000000000000000000000000000",
        "master_repl_offset" => 0,
        "second_repl_offset" => -1,
        "repl_backlog_active" => 0,
        "repl_backlog_size" => 1_048_576,
        "repl_backlog_first_byte_offset" => 0,
        "repl_backlog_histlen" => 0,
    );
}

/// User and system CPU time from a /proc `stat` file, in clock ticks:
/// (user, system, children's user, children's system).
fn proc_cpu_ticks(path: &str) -> Option<(u64, u64, u64, u64)> {
    let s = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may contain spaces: count from its end.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    // Fields 14 to 17 of stat(5): utime, stime, cutime, cstime.
    Some((n(11)?, n(12)?, n(13).unwrap_or(0), n(14).unwrap_or(0)))
}

/// Clock ticks as Redis prints a `timeval`: seconds and six decimals.
/// Linux reports /proc times in units of 1/100 s.
fn ticks(t: u64) -> String {
    format!("{}.{:06}", t / 100, (t % 100) * 10_000)
}

fn cpu_section(out: &mut String) {
    let (u, s, cu, cs) = proc_cpu_ticks("/proc/self/stat").unwrap_or_default();
    fields!(out,
        "used_cpu_sys" => ticks(s),
        "used_cpu_user" => ticks(u),
        "used_cpu_sys_children" => ticks(cs),
        "used_cpu_user_children" => ticks(cu),
    );
    // Redis's main thread runs the commands; here that is the worker
    // thread running this one.
    if let Some((tu, ts, _, _)) = proc_cpu_ticks("/proc/thread-self/stat") {
        fields!(out,
            "used_cpu_sys_main_thread" => ticks(ts),
            "used_cpu_user_main_thread" => ticks(tu),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(916_368), "894.89K");
        assert_eq!(bytes_to_human(6_541_312), "6.24M");
        assert_eq!(bytes_to_human(25_276_063_744), "23.54G");
        assert_eq!(bytes_to_human(3 << 40), "3.00T");
    }

    #[test]
    fn repr_quoting() {
        assert_eq!(quote_repr("a b"), "\"a b\"");
        assert_eq!(quote_repr(""), "\"\"");
        assert_eq!(quote_repr("x\"y\\z\n"), "\"x\\\"y\\\\z\\n\"");
        assert_eq!(quote_repr("\u{1}"), "\"\\x01\"");
    }

    #[test]
    fn rewrite_keeps_comments_and_unknown_lines() {
        let old = "# top comment\nport 7000\n\n\n# hz twice\nhz 20\nhz 30\nlazyfree-lazy-eviction no\nrequirepass old\n";
        let mut v = Values {
            port: 7000,
            hz: 15,
            timeout: 5,
            requirepass: Some("a b".into()),
            ..Values::default()
        };
        v.dir = "/data".into();
        let new = rewrite_config_text(old, &v);
        assert_eq!(
            new,
            "# top comment\nport 7000\n\n# hz twice\nhz 15\n\nlazyfree-lazy-eviction no\n\
             requirepass \"a b\"\n# Generated by CONFIG REWRITE\ntimeout 5\ndir \"/data\"\n"
        );
        // A second rewrite with nothing changed is stable.
        assert_eq!(rewrite_config_text(&new, &v), new);
    }

    #[test]
    fn rewrite_of_an_empty_file_writes_only_what_differs() {
        let v = Values {
            dir: "/x".into(),
            ..Values::default()
        };
        assert_eq!(
            rewrite_config_text("", &v),
            "# Generated by CONFIG REWRITE\ndir \"/x\"\n"
        );
    }

    #[test]
    fn cpu_ticks_format() {
        assert_eq!(ticks(0), "0.000000");
        assert_eq!(ticks(1234), "12.340000");
    }
}
