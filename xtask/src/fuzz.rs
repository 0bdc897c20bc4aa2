//! `cargo xtask fuzz-diff`: a differential fuzzer. It generates random but
//! mostly valid command sequences from each registered command's argument
//! grammar (the registry's `Spec::args`, as COMMAND DOCS reports them), runs
//! each sequence on a real Redis and on Ferrum in lock step, and on the first
//! difference shrinks the sequence to a minimal reproduction, printed as a
//! scenario file ready for tests/compat/.
//!
//! Keys come from a tiny set, so commands collide on the same keys and types
//! clash; values and numbers come from small pools with the edges (0,
//! negatives, the i64 bounds, floats, `inf`, empty and binary strings).
//! Everything is drawn from a PRNG seeded per sequence from `--seed`, so a
//! run is deterministic for a given seed and set of registered commands.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use commands::meta::{argf, Arg, ArgType};
use commands::registry::Entry;
use resp::Frame;

use crate::compare::{same, Outcome};
use crate::conn::Conn;
use crate::scenario::{Check, Level};
use crate::servers::{self, Kind, ServerProc};
use crate::text::command_line;

#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub count: usize,
    pub groups: Vec<String>,
    /// Commands per sequence.
    pub length: usize,
    /// Go on after a difference, collecting distinct ones.
    pub keep_going: bool,
    /// Only these commands (lowercase names, `container|sub` allowed).
    pub only: Vec<String>,
    /// Never these commands.
    pub exclude: Vec<String>,
    pub release: bool,
    pub ferrum: Option<PathBuf>,
    /// Print every command with Redis's reply.
    pub verbose: bool,
    /// Speak RESP3 (HELLO 3 at the start of every sequence).
    pub resp3: bool,
}

/// Commands never generated: their replies are not deterministic, they
/// block, they change the server or the connection in ways a comparison
/// cannot follow, or they talk to other servers.
const EXCLUDED: &[&str] = &[
    "randomkey",
    "time",
    "info",
    "client",
    "config",
    "shutdown",
    "debug",
    "monitor",
    "sync",
    "psync",
    "replconf",
    "replicaof",
    "slaveof",
    "bgsave",
    "save",
    "bgrewriteaof",
    "wait",
    "waitaof",
    "failover",
    "lastsave",
    "migrate",
    "memory",
    "latency",
    "slowlog",
    "hello",
    "auth",
    "quit",
    "reset",
    "command",
    "lolwut",
    "acl",
    "module",
    "cluster",
    "readonly",
    "readwrite",
    "asking",
    "restore-asking",
    "sentinel",
    "role",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "function",
    "script",
    "hrandfield",
    "srandmember",
    "spop",
    "zrandmember",
];

/// Commands from other groups mixed in now and then (when registered), so
/// that keys exist and types clash whatever the chosen groups.
const MAKERS: &[&str] = &[
    "set", "setex", "psetex", "append", "lpush", "rpush", "sadd", "hset", "zadd", "pfadd",
];

/// The normalisation rules of the comparison, shown at the start of a run.
const RULES: &[&str] = &[
    "KEYS, SMEMBERS, SINTER, SUNION, SDIFF, HKEYS, HVALS: compared as multisets; HGETALL as a multiset of field/value pairs",
    "SCAN, HSCAN, SSCAN, ZSCAN: elements compared as multisets (HSCAN, ZSCAN: of pairs; ZSCAN scores by value, as a listpack stores them in 7.0's %.17g or 7.2's shortest form) when the iteration starts at 0 and both cursors come back 0; otherwise only the form of the reply (cursors are hash-table details)",
    "LPOS ... RANK -9223372036854775808: Ferrum's (as 7.2's) out-of-range error accepted where 7.0 answers",
    "ZRANK, ZREVRANK: no WITHSCORE (nor any 4th argument) against Redis before 7.2",
    "SORT, SORT_RO: when the order is undefined (BY a pattern with `*`, whose weight keys are missing, so all equal; BY a constant on a set without STORE), compared as a multiset, or by length with LIMIT; STORE is dropped from generated SORTs whose BY has a `*`",
    "EXPIRE, PEXPIRE with GT or LT: 0 and 1 both accepted (a relative time given twice may or may not land on the same millisecond)",
    "TTL, EXPIRETIME: within 1; PTTL, PEXPIRETIME: within 100 (the servers run a few microseconds apart)",
    "OBJECT IDLETIME: reply type only (in Redis, values that are shared integers report the idle time of the shared object, i.e. about the server's uptime)",
    "OBJECT ENCODING of a set or a list: Redis 7.0's hashtable or quicklist accepted where Ferrum (as 7.2) says listpack",
    "Z* and GEO* commands: numbers in replies compared by value (Redis 7.0 writes doubles with %.17g, e.g. 0.10000000000000001; 7.2 and Ferrum write the shortest form, 0.1)",
    "DUMP: reply type only (the payload embeds the RDB version: 10 in Redis 7.0, 11 in 7.2)",
    "never generated: blocking and random commands (HRANDFIELD, SRANDMEMBER, SPOP, ZRANDMEMBER), HELP subcommands, and the commands listed in EXCLUDED (non-deterministic or server-changing)",
];

/// SplitMix64: small, fast, and stable across versions, unlike library
/// generators whose streams may change.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `pct`/100.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A command the fuzzer can generate.
#[derive(Debug, Clone)]
struct Cmd {
    /// `["OBJECT", "ENCODING"]` or `["GET"]`.
    name: Vec<String>,
    /// Lowercase full name: `object|encoding`.
    full: String,
    args: &'static [Arg],
    /// Every token of the grammar, for mutations.
    tokens: Vec<&'static str>,
}

fn collect_tokens(args: &'static [Arg], out: &mut Vec<&'static str>) {
    for a in args {
        if let Some(t) = a.token {
            out.push(t);
        }
        collect_tokens(a.args, out);
    }
}

/// "7.0.15" → (7, 0, 15).
fn version(v: &str) -> (u32, u32, u32) {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

fn too_new(since: Option<&str>, redis: (u32, u32, u32)) -> bool {
    since.is_some_and(|s| version(s) > redis)
}

fn is_excluded(full: &str, container: &str, opts: &Options) -> bool {
    EXCLUDED.contains(&container)
        || EXCLUDED.contains(&full)
        || full.ends_with("|help")
        || opts.exclude.iter().any(|x| x == full || x == container)
}

/// The commands to fuzz: registered, in the chosen groups, known to the
/// Redis under comparison, and deterministic enough.
fn choose(opts: &Options, redis: (u32, u32, u32)) -> (Vec<Cmd>, Vec<Cmd>) {
    let reg = commands::init();
    let mut chosen = Vec::new();
    let mut makers = Vec::new();
    let add = |e: &Entry, container: Option<&Entry>, out: &mut Vec<Cmd>| {
        let spec = e.spec();
        let (name, full, top) = match container {
            Some(c) => (
                vec![c.spec().name.to_uppercase(), spec.name.to_uppercase()],
                format!("{}|{}", c.spec().name, spec.name),
                c.spec().name,
            ),
            None => (
                vec![spec.name.to_uppercase()],
                spec.name.to_string(),
                spec.name,
            ),
        };
        if e.cmd.handler.is_none()
            || is_excluded(&full, top, opts)
            || e.has(commands::meta::flags::BLOCKING)
            || too_new(Some(spec.since), redis)
        {
            return;
        }
        if !opts.only.is_empty() && !opts.only.iter().any(|o| *o == full || *o == top) {
            return;
        }
        let mut tokens = Vec::new();
        collect_tokens(spec.args, &mut tokens);
        out.push(Cmd {
            name,
            full,
            args: spec.args,
            tokens,
        });
    };
    for e in reg.entries() {
        let in_group = |g: &str| opts.groups.iter().any(|x| x == g || x == "all");
        if e.subcommands.is_empty() {
            if in_group(e.spec().group) {
                add(e, None, &mut chosen);
            } else if MAKERS.contains(&e.spec().name) {
                add(e, None, &mut makers);
            }
        }
        for s in &e.subcommands {
            if in_group(s.spec().group) {
                add(s, Some(e), &mut chosen);
            }
        }
    }
    (chosen, makers)
}

struct Gen<'a> {
    rng: Rng,
    redis: (u32, u32, u32),
    cmds: &'a [Cmd],
    makers: &'a [Cmd],
}

const KEYS: &[&str] = &["a", "b", "c"];

const VALUES: &[&[u8]] = &[
    b"",
    b"0",
    b"1",
    b"-1",
    b"42",
    b"3.14",
    b"-0.5",
    b"1e3",
    b"inf",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"9223372036854775808",
    b"abc",
    b"hello world",
    b"\x00\x01\xff",
    b"a",
    b"00",
    b"+5",
    b" 7",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

const INT_EDGES: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "abc",
    "1.5",
    "",
    "+1",
    " 1",
    "0x10",
    "-0",
    "007",
];

/// No denormals such as 5e-324: Redis's strtod leaves errno at ERANGE for
/// them, and a later SORT misreads that as a bad number.
const DOUBLES: &[&str] = &[
    "0",
    "1",
    "1.5",
    "-2.5",
    "0.1",
    "1e3",
    "3",
    "-1",
    "10.5",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "abc",
    "1e308",
    "-1e308",
    "",
    "1.7976931348623157e308",
    "0x10",
    "1.",
];

impl Gen<'_> {
    fn sequence(&mut self, len: usize) -> Vec<Vec<Vec<u8>>> {
        (0..len).map(|_| self.command()).collect()
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let cmd = if !self.makers.is_empty() && self.rng.chance(10) {
            self.rng.pick(self.makers).clone()
        } else {
            self.rng.pick(self.cmds).clone()
        };
        let mut out: Vec<Vec<u8>> = cmd
            .name
            .iter()
            .map(|n| {
                if self.rng.chance(10) {
                    n.to_lowercase().into_bytes()
                } else {
                    n.clone().into_bytes()
                }
            })
            .collect();
        let fixed = out.len();
        for a in cmd.args {
            self.arg(a, &mut out, &cmd, false);
        }
        if self.rng.chance(4) {
            self.mutate(&mut out, fixed, &cmd);
        }
        sanitize(&cmd.full, &mut out);
        if (cmd.full == "zrank" || cmd.full == "zrevrank") && self.redis < (7, 2, 0) {
            // ZRANK/ZREVRANK key member WITHSCORE is new in 7.2 (its spec
            // gives the argument no `since`): 7.0 refuses any 4th argument
            // by arity, where 7.2 reads it.
            out.truncate(3);
        }
        out
    }

    fn mutate(&mut self, out: &mut Vec<Vec<u8>>, fixed: usize, cmd: &Cmd) {
        match self.rng.below(4) {
            0 if out.len() > fixed => {
                let i = fixed + self.rng.below(out.len() - fixed);
                out.remove(i);
            }
            1 if out.len() > fixed => {
                let i = fixed + self.rng.below(out.len() - fixed);
                let dup = out[i].clone();
                out.insert(i, dup);
            }
            2 if !cmd.tokens.is_empty() => {
                let t = self.rng.pick(&cmd.tokens).as_bytes().to_vec();
                let i = fixed + self.rng.below(out.len() - fixed + 1);
                out.insert(i, t);
            }
            _ => {
                let v = self.rng.pick(VALUES).to_vec();
                if out.len() > fixed {
                    let i = fixed + self.rng.below(out.len() - fixed);
                    out[i] = v;
                } else {
                    out.push(v);
                }
            }
        }
    }

    fn arg(&mut self, a: &Arg, out: &mut Vec<Vec<u8>>, cmd: &Cmd, forced: bool) {
        if too_new(a.since, self.redis) {
            return;
        }
        if a.flags & argf::OPTIONAL != 0 && !forced && self.rng.chance(55) {
            return;
        }
        let reps = if a.flags & argf::MULTIPLE != 0 {
            1 + self.rng.below(3)
        } else {
            1
        };
        for r in 0..reps {
            if let Some(t) = a.token {
                if r == 0 || a.flags & argf::MULTIPLE_TOKEN != 0 {
                    out.push(if self.rng.chance(10) {
                        t.to_lowercase().into_bytes()
                    } else {
                        t.as_bytes().to_vec()
                    });
                }
            }
            match a.kind {
                ArgType::PureToken => {}
                ArgType::OneOf => {
                    let choices: Vec<&Arg> = a
                        .args
                        .iter()
                        .filter(|c| !too_new(c.since, self.redis))
                        .collect();
                    if !choices.is_empty() {
                        let c = *self.rng.pick(&choices);
                        self.arg(c, out, cmd, true);
                    }
                }
                ArgType::Block => {
                    for c in a.args {
                        self.arg(c, out, cmd, false);
                    }
                }
                ArgType::Key => out.push(self.rng.pick(KEYS).as_bytes().to_vec()),
                ArgType::Pattern => out.push(self.pattern(a.name)),
                ArgType::Integer => out.push(self.integer(a.name, &cmd.full)),
                ArgType::UnixTime => out.push(self.unix_time(a.name)),
                ArgType::Double => out.push(self.double()),
                ArgType::String => out.push(self.string(a.name)),
            }
        }
    }

    fn pattern(&mut self, name: &str) -> Vec<u8> {
        let pool: &[&str] = match name {
            "by-pattern" => &["nosort", "w_*", "*", "a", "w_*->f"],
            "get-pattern" => &["#", "w_*", "*", "a", "w_*->f"],
            _ => &[
                "*", "a*", "?", "[ab]", "[^a]*", "\\*", "nomatch", "*a*", "[a-", "",
            ],
        };
        self.rng.pick(pool).as_bytes().to_vec()
    }

    fn pick_or_edge(&mut self, pool: &[&str], edge_pct: u64) -> Vec<u8> {
        if self.rng.chance(edge_pct) {
            self.rng.pick(INT_EDGES).as_bytes().to_vec()
        } else {
            self.rng.pick(pool).as_bytes().to_vec()
        }
    }

    fn integer(&mut self, name: &str, cmd: &str) -> Vec<u8> {
        match name {
            // Relative times: expired at once or far away, never a few ms,
            // which would make the outcome depend on timing.
            "seconds" | "ttl" => {
                self.pick_or_edge(&["-1", "0", "100", "10000", "1", "2147483648"], 15)
            }
            "milliseconds" => {
                self.pick_or_edge(&["-1", "0", "100000", "10000000", "9223372036854775"], 15)
            }
            // Never an offset that makes a 512 MB string.
            "offset" if cmd == "setrange" => {
                self.pick_or_edge(&["0", "1", "3", "10", "100", "-1", "536870912", "1000"], 10)
            }
            "start" | "end" | "offset" => {
                self.pick_or_edge(&["0", "1", "2", "3", "-1", "-2", "-100", "100", "5"], 10)
            }
            "count" => self.pick_or_edge(&["1", "2", "3", "10", "100", "0", "-1"], 10),
            "cursor" => {
                if self.rng.chance(90) {
                    b"0".to_vec()
                } else {
                    // Not "18446744073709551616": Redis's strtoul leaves
                    // errno at ERANGE, which a later SORT misreads.
                    self.rng.pick(&["abc", "-1", ""][..]).as_bytes().to_vec()
                }
            }
            "db" | "destination-db" | "index" | "index1" | "index2" => {
                self.pick_or_edge(&["0", "1", "1", "2", "15", "16", "-1"], 10)
            }
            "len" | "min-match-len" => self.pick_or_edge(&["0", "1", "2", "5", "-1"], 10),
            "frequency" => self.pick_or_edge(&["0", "1", "255", "256", "-1"], 10),
            _ => self.pick_or_edge(&["0", "1", "2", "3", "-1", "10", "100", "-100"], 20),
        }
    }

    fn unix_time(&mut self, name: &str) -> Vec<u8> {
        let pool: &[&str] = if name.contains("milli") {
            &["0", "1", "1000000000000", "4102444800000", "-1"]
        } else {
            &["0", "1", "1000000000", "4102444800", "-1"]
        };
        self.pick_or_edge(pool, 15)
    }

    fn double(&mut self) -> Vec<u8> {
        self.rng.pick(DOUBLES).as_bytes().to_vec()
    }

    fn string(&mut self, name: &str) -> Vec<u8> {
        match name {
            "type" => self
                .rng
                .pick(&["string", "list", "hash", "set", "zset", "none", "foo"][..])
                .as_bytes()
                .to_vec(),
            "serialized-value" => self
                .rng
                .pick(&[&b"\x00\x03bar\x0a\x00"[..], b"", b"garbage"][..])
                .to_vec(),
            _ => self.rng.pick(VALUES).to_vec(),
        }
    }
}

/// Makes a generated command safe to run: FLUSHALL/FLUSHDB ASYNC becomes
/// SYNC (lazy freeing is not observable, but stays out of the way); SORT
/// with weights from missing keys stores nothing (see [`RULES`]).
fn sanitize(full: &str, args: &mut Vec<Vec<u8>>) {
    if (full == "sort" || full == "sort_ro") && sort_shape(args).by_star {
        // The stored order would be undefined, and later commands would
        // read it.
        if let Some(i) = args.iter().position(|a| a.eq_ignore_ascii_case(b"store")) {
            args.drain(i..(i + 2).min(args.len()));
        }
    }
    if full == "flushall" || full == "flushdb" {
        for a in args.iter_mut().skip(1) {
            if a.eq_ignore_ascii_case(b"async") {
                *a = b"SYNC".to_vec();
            }
        }
    }
}

/// How the reply of a command is compared (see [`RULES`]); this is also
/// the directive a reproduction carries into its scenario file.
fn check_for(args: &[Vec<u8>]) -> Check {
    let name = |i: usize| {
        args.get(i)
            .map(|a| String::from_utf8_lossy(a).to_lowercase())
            .unwrap_or_default()
    };
    let approx = |t: f64| Check {
        approx: Some(t),
        ..Check::default()
    };
    let unordered = Check {
        unordered: true,
        ..Check::default()
    };
    match name(0).as_str() {
        "keys" | "scan" | "hkeys" | "hvals" | "hgetall" | "hscan" | "smembers" | "sinter"
        | "sunion" | "sdiff" | "sscan" => unordered,
        "ttl" | "expiretime" => approx(1.0),
        "pttl" | "pexpiretime" => approx(100.0),
        // Shared integer objects are as old as the server: only the type.
        "object" if name(1) == "idletime" => Check {
            level: Level::Type,
            ..Check::default()
        },
        "dump" => Check {
            level: Level::Type,
            ..Check::default()
        },
        _ => Check::default(),
    }
}

/// What the runner knew before sending a command (from Redis).
#[derive(Debug, Default, Clone)]
struct Before {
    /// TYPE of the first key, for commands whose reply order depends on it.
    key_type: Option<Vec<u8>>,
}

/// Whether `args` needs [`Before::key_type`].
fn wants_type(args: &[Vec<u8>]) -> bool {
    let n = args
        .first()
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default();
    args.len() > 1 && (n == b"sort" || n == b"sort_ro")
        || args.len() > 2 && n == b"object" && args[1].eq_ignore_ascii_case(b"encoding")
}

fn first_frame(o: &Outcome) -> Option<&Frame> {
    match o.frames.as_slice() {
        [f] => Some(&f.frame),
        _ => None,
    }
}

/// The reply with the elements of flat field/value arrays grouped in pairs,
/// sorted: hash replies whose order is the hash table's.
fn pairs_sorted(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Array(v) if v.len() % 2 == 0 => {
            let mut pairs: Vec<Vec<u8>> = v
                .chunks(2)
                .map(|c| Frame::Array(c.to_vec()).to_vec())
                .collect();
            pairs.sort();
            pairs.concat()
        }
        other => crate::compare::canonical(other).to_vec(),
    }
}

/// The SORT options that decide whether its order is defined.
struct SortShape {
    by_star: bool,
    by_plain: bool,
    limit: bool,
    store: bool,
}

fn sort_shape(args: &[Vec<u8>]) -> SortShape {
    let mut s = SortShape {
        by_star: false,
        by_plain: false,
        limit: false,
        store: false,
    };
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"by") && i + 1 < args.len() {
            if args[i + 1].contains(&b'*') {
                s.by_star = true;
            } else {
                s.by_plain = true;
            }
            i += 1;
        } else if a.eq_ignore_ascii_case(b"limit") {
            s.limit = true;
        } else if a.eq_ignore_ascii_case(b"store") {
            s.store = true;
        }
        i += 1;
    }
    s
}

/// Whether two replies to `args` agree under the fuzzer's rules.
fn agree(args: &[Vec<u8>], before: &Before, a: &Outcome, b: &Outcome) -> bool {
    let name = args
        .first()
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default();
    let arg = |i: usize| {
        args.get(i)
            .map(|x| x.to_ascii_lowercase())
            .unwrap_or_default()
    };
    let (fa, fb) = (first_frame(a), first_frame(b));
    let both_arrays = matches!(fa, Some(Frame::Array(_))) && matches!(fb, Some(Frame::Array(_)));
    match name.as_slice() {
        b"scan" | b"hscan" | b"sscan" | b"zscan" => {
            let cursor_at = if name == b"scan" { 1 } else { 2 };
            let cursor = |f: Option<&Frame>| match f {
                Some(Frame::Array(v)) if v.len() == 2 => match &v[0] {
                    Frame::Bulk(c) => Some(c.to_vec()),
                    _ => None,
                },
                _ => None,
            };
            if let (Some(x), Some(y)) = (cursor(fa), cursor(fb)) {
                // A partial iteration, or one that starts mid-table, depends
                // on the hash table: only its form can be compared.
                if arg(cursor_at) != b"0" || x != b"0" || y != b"0" {
                    return true;
                }
                if name == b"zscan" {
                    if let (Some(Frame::Array(x)), Some(Frame::Array(y))) = (fa, fb) {
                        return same_scored_pairs(&x[1], &y[1]);
                    }
                }
                if name == b"hscan" {
                    if let (Some(Frame::Array(x)), Some(Frame::Array(y))) = (fa, fb) {
                        return pairs_sorted(&x[1]) == pairs_sorted(&y[1]);
                    }
                }
            }
        }
        // Redis 7.2 reads LPOS's RANK within -LONG_MAX..LONG_MAX, so
        // LONG_MIN is refused; 7.0 took it.
        b"lpos"
            if args
                .windows(2)
                .any(|w| w[0].eq_ignore_ascii_case(b"rank") && w[1] == b"-9223372036854775808")
                && matches!(fb, Some(Frame::Error(e)) if e.starts_with(b"ERR value is out of range, value must between")) =>
        {
            return true;
        }
        b"hgetall" => {
            if let (Some(x), Some(y)) = (fa, fb) {
                return pairs_sorted(x) == pairs_sorted(y);
            }
        }
        b"expire" | b"pexpire"
            if args[1..]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(b"gt") || a.eq_ignore_ascii_case(b"lt")) =>
        {
            let bit = |f: Option<&Frame>| matches!(f, Some(Frame::Integer(0 | 1)));
            if bit(fa) && bit(fb) {
                // The same relative time given twice compares equal or greater
                // depending on whether a millisecond passed in between.
                return true;
            }
        }
        // Redis 7.2 keeps small lists and small sets of strings as
        // listpacks; 7.0 has no such encodings for them.
        b"object"
            if arg(1) == b"encoding"
                && matches!(before.key_type.as_deref(), Some(b"set" | b"list"))
                && matches!(fa, Some(Frame::Bulk(x)) if &x[..] == b"hashtable" || &x[..] == b"quicklist")
                && matches!(fb, Some(Frame::Bulk(x)) if &x[..] == b"listpack") =>
        {
            return true;
        }
        b"sort" | b"sort_ro" if both_arrays => {
            let s = sort_shape(args);
            let from_set = before.key_type.as_deref() == Some(b"set");
            // Missing weights are all equal, and a set's own order is its
            // hash table's (unless STORE forces a sort): no defined order.
            let undefined = s.by_star
                || (s.by_plain && from_set && !s.store)
                || (alpha(args) && c_string_ties(fa));
            if undefined {
                if s.limit {
                    return matches!((fa, fb), (Some(Frame::Array(x)), Some(Frame::Array(y))) if x.len() == y.len());
                }
                let unordered = Check {
                    unordered: true,
                    ..Check::default()
                };
                return same(a, b, &unordered);
            }
        }
        // Redis 7.0 formats double replies with %.17g, 7.2 (and Ferrum)
        // with the shortest form that reads back the same.
        n if n.starts_with(b"z") || n.starts_with(b"geo") => {
            return match (fa, fb) {
                (Some(x), Some(y)) => same_doubles(x, y),
                _ => same(a, b, &check_for(args)),
            };
        }
        _ => {}
    }
    same(a, b, &check_for(args))
}

/// True when a SORT asks for ALPHA order.
fn alpha(args: &[Vec<u8>]) -> bool {
    args.iter().any(|a| a.eq_ignore_ascii_case(b"alpha"))
}

/// Redis compares ALPHA elements as C strings (up to the first NUL byte), so
/// elements that differ only after a NUL tie, and its sort leaves their order
/// to its quicksort: true when the reply holds such a tie.
fn c_string_ties(reply: Option<&Frame>) -> bool {
    let Some(Frame::Array(items)) = reply else {
        return false;
    };
    let prefix = |b: &[u8]| -> Vec<u8> { b.split(|&c| c == 0).next().unwrap_or(b).to_vec() };
    let mut seen: std::collections::HashMap<Vec<u8>, Vec<u8>> = std::collections::HashMap::new();
    for it in items {
        if let Frame::Bulk(b) = it {
            if let Some(other) = seen.insert(prefix(b), b.to_vec()) {
                if other != b.to_vec() {
                    return true;
                }
            }
        }
    }
    false
}

/// Two ZSCAN batches as multisets of `[member, score]` pairs, the scores
/// compared by value: a listpack's scores are stored as `d2string` wrote
/// them, with `%.17g` in Redis 7.0 (`9.2233720368547758e+18`) and the
/// shortest form in 7.2 (`9223372036854776000`).
fn same_scored_pairs(a: &Frame, b: &Frame) -> bool {
    let pairs = |f: &Frame| -> Option<Vec<(Vec<u8>, Frame)>> {
        let Frame::Array(v) = f else { return None };
        if v.len() % 2 != 0 {
            return None;
        }
        let mut p: Vec<(Vec<u8>, Frame)> =
            v.chunks(2).map(|c| (c[0].to_vec(), c[1].clone())).collect();
        p.sort_by(|x, y| x.0.cmp(&y.0));
        Some(p)
    };
    match (pairs(a), pairs(b)) {
        (Some(x), Some(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(&y)
                    .all(|((m1, s1), (m2, s2))| m1 == m2 && same_doubles(s1, s2))
        }
        _ => pairs_sorted(a) == pairs_sorted(b),
    }
}

/// Equal, except that numbers written differently but reading back as the
/// same double are equal.
fn same_doubles(a: &Frame, b: &Frame) -> bool {
    let num = |f: &Frame| -> Option<f64> {
        let v = match f {
            Frame::Double(d) => *d,
            Frame::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok()?,
            _ => return None,
        };
        (!v.is_nan()).then_some(v)
    };
    match (a, b) {
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_doubles(p, q))
        }
        (Frame::Map(x), Frame::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same_doubles(k1, k2) && same_doubles(v1, v2))
        }
        _ if crate::compare::type_byte(a) == crate::compare::type_byte(b) => {
            match (num(a), num(b)) {
                (Some(x), Some(y)) => x == y,
                _ => a.to_vec() == b.to_vec(),
            }
        }
        _ => false,
    }
}

/// The lock-step runner: one connection to each server.
struct Pair {
    redis: ServerProc,
    ferrum: ServerProc,
    verbose: bool,
    resp3: bool,
}

/// Where a sequence first differs, with both replies.
#[derive(Debug, Clone)]
struct Diff {
    index: usize,
    redis: Outcome,
    ferrum: Outcome,
}

const TIMEOUT: Duration = Duration::from_secs(5);

impl Pair {
    /// Runs `seq` from a clean state; returns the first difference.
    fn run(&mut self, seq: &[Vec<Vec<u8>>]) -> Result<Option<Diff>> {
        self.redis.reset()?;
        self.ferrum.reset()?;
        let mut r = Conn::connect(self.redis.addr)?;
        let mut f = Conn::connect(self.ferrum.addr)?;
        if self.resp3 {
            r.call(&["HELLO", "3"])?;
            f.call(&["HELLO", "3"])?;
        }
        for (i, cmd) in seq.iter().enumerate() {
            if r.is_closed() {
                r.reconnect()?;
            }
            if f.is_closed() && f.reconnect().is_err() {
                // Ferrum is gone (crashed): that is the difference.
                return Ok(Some(Diff {
                    index: i,
                    redis: Outcome::default(),
                    ferrum: Outcome {
                        closed: true,
                        ..Outcome::default()
                    },
                }));
            }
            let mut before = Before::default();
            if wants_type(cmd) {
                let key = if cmd[0].eq_ignore_ascii_case(b"object") {
                    &cmd[2]
                } else {
                    &cmd[1]
                };
                r.send_command(&[b"TYPE".to_vec(), key.clone()]);
                if let Some(Frame::Simple(t)) = first_frame(&Outcome::read_one(&mut r, TIMEOUT)) {
                    before.key_type = Some(t.to_vec());
                }
            }
            r.send_command(cmd);
            f.send_command(cmd);
            let ro = Outcome::read_one(&mut r, TIMEOUT);
            let fo = Outcome::read_one(&mut f, TIMEOUT);
            if self.verbose {
                println!("{}  ->  {}", command_line(cmd), ro.show());
            }
            if !agree(cmd, &before, &ro, &fo) {
                return Ok(Some(Diff {
                    index: i,
                    redis: ro,
                    ferrum: fo,
                }));
            }
            if ro.no_reply {
                r.reconnect()?;
            }
            if fo.no_reply {
                f.reconnect()?;
            }
        }
        Ok(None)
    }

    /// Whether `seq` differs at its last command (and nowhere before).
    fn reproduces(&mut self, seq: &[Vec<Vec<u8>>]) -> Result<bool> {
        Ok(self.run(seq)?.is_some_and(|d| d.index + 1 == seq.len()))
    }

    /// Delta debugging over every command but the last.
    fn shrink(&mut self, mut seq: Vec<Vec<Vec<u8>>>) -> Result<Vec<Vec<Vec<u8>>>> {
        let mut n = 2usize;
        while seq.len() > 1 {
            let body = seq.len() - 1;
            let chunk = body.div_ceil(n.min(body));
            let mut reduced = false;
            let mut start = 0;
            while start < body {
                let end = (start + chunk).min(body);
                let mut cand = seq[..start].to_vec();
                cand.extend_from_slice(&seq[end..]);
                if self.reproduces(&cand)? {
                    seq = cand;
                    n = n.saturating_sub(1).max(2);
                    reduced = true;
                    break;
                }
                start = end;
            }
            if !reduced {
                if chunk == 1 {
                    break;
                }
                n = (n * 2).min(body);
            }
        }
        Ok(seq)
    }
}

/// The minimal reproduction as a scenario file.
fn scenario_text(seq: &[Vec<Vec<u8>>], opts: &Options, seq_no: usize, d: &Diff) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "# Found by `cargo xtask fuzz-diff --seed {} --group {}{}` (sequence {seq_no}).\n",
        opts.seed,
        opts.groups.join(","),
        if opts.resp3 { " --resp3" } else { "" }
    ));
    s.push_str(&format!("# Redis:  {}\n", d.redis.show()));
    s.push_str(&format!("# Ferrum: {}\n", d.ferrum.show()));
    if opts.resp3 {
        s.push_str("#! proto 3\n");
    }
    for cmd in seq {
        for dir in check_for(cmd).directives() {
            s.push_str(&dir);
            s.push('\n');
        }
        s.push_str(&command_line(cmd));
        s.push('\n');
    }
    s
}

/// A difference's kind, for grouping repeats with `--keep-going`.
fn signature(cmd: &[Vec<u8>], d: &Diff) -> String {
    let class = |o: &Outcome| -> String {
        match o.frames.first().map(|f| &f.frame) {
            Some(Frame::Error(e)) => {
                let e = String::from_utf8_lossy(e);
                format!("-{}", e.split_whitespace().next().unwrap_or(""))
            }
            Some(f) => (crate::compare::type_byte(f) as char).to_string(),
            None if o.closed => "closed".into(),
            None => "none".into(),
        }
    };
    let mut name = String::from_utf8_lossy(&cmd[0]).to_lowercase();
    if name == "object" {
        if let Some(sub) = cmd.get(1) {
            name.push('|');
            name.push_str(&String::from_utf8_lossy(sub).to_lowercase());
        }
    }
    format!(
        "{name} redis:{} ferrum:{}",
        class(&d.redis),
        class(&d.ferrum)
    )
}

pub fn run(opts: &Options) -> Result<bool> {
    let Some(redis_bin) = servers::find_redis() else {
        bail!("fuzz-diff needs redis-server on PATH (or REDIS_SERVER=/path/to/redis-server)");
    };
    let redis_version = servers::redis_version(&redis_bin)?;
    let (cmds, makers) = choose(opts, version(&redis_version));
    if cmds.is_empty() {
        bail!(
            "no registered command to fuzz in group(s) {} (after exclusions)",
            opts.groups.join(",")
        );
    }
    let ferrum_bin = match &opts.ferrum {
        Some(p) => p.clone(),
        None => servers::build_ferrum(opts.release)?,
    };
    let mut pair = Pair {
        redis: ServerProc::start(Kind::Redis, &redis_bin)?,
        ferrum: ServerProc::start(Kind::Ferrum, &ferrum_bin)?,
        verbose: opts.verbose,
        resp3: opts.resp3,
    };
    println!(
        "fuzz-diff: seed {}, {} commands in sequences of {}, Redis {redis_version} vs Ferrum",
        opts.seed, opts.count, opts.length
    );
    println!(
        "fuzz-diff: {} commands from group(s) {}: {}",
        cmds.len(),
        opts.groups.join(","),
        cmds.iter()
            .map(|c| c.full.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    if !makers.is_empty() {
        println!(
            "fuzz-diff: mixed in for type clashes: {}",
            makers
                .iter()
                .map(|c| c.full.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!("fuzz-diff: comparison rules:");
    for r in RULES {
        println!("  - {r}");
    }

    let started = Instant::now();
    let mut done = 0usize;
    let mut seq_no = 0usize;
    let mut found: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut next_report = 10_000;
    let mut flaky = 0usize;
    while done < opts.count {
        let len = opts.length.min(opts.count - done).max(1);
        let mut g = Gen {
            rng: Rng::new(opts.seed ^ (seq_no as u64).wrapping_mul(0xa076_1d64_78bd_642f)),
            redis: version(&redis_version),
            cmds: &cmds,
            makers: &makers,
        };
        let seq = g.sequence(len);
        let diff = pair.run(&seq)?;
        done += match &diff {
            Some(d) => d.index + 1,
            None => seq.len(),
        };
        if let Some(d) = diff {
            let prefix = seq[..=d.index].to_vec();
            let sig = signature(&prefix[d.index], &d);
            if let Some(e) = found.get_mut(&sig) {
                e.0 += 1;
            } else if pair.reproduces(&prefix)? {
                let min = pair.shrink(prefix)?;
                let d2 = pair.run(&min)?.unwrap_or(d.clone());
                let text = scenario_text(&min, opts, seq_no, &d2);
                println!(
                    "\nDIFFERENCE ({sig}) after {done} commands; minimal reproduction:\n{text}"
                );
                found.insert(sig, (1, text));
                if !opts.keep_going {
                    break;
                }
            } else {
                // Timing noise (or a race): reported, not counted as a failure.
                let text = scenario_text(&prefix, opts, seq_no, &d);
                println!(
                    "\nFLAKY ({sig}) after {done} commands: did not happen again on replay; the sequence:\n{text}"
                );
                flaky += 1;
            }
        }
        if !pair.ferrum.alive() {
            println!(
                "ferrum-server died; its log ends with:\n{}",
                pair.ferrum.log_tail(15)
            );
        }
        seq_no += 1;
        if done >= next_report {
            println!(
                "fuzz-diff: {done} commands, {} sequences, {} distinct differences, {:.0}s",
                seq_no,
                found.len(),
                started.elapsed().as_secs_f64()
            );
            next_report += 10_000;
        }
    }
    println!(
        "fuzz-diff: ran {done} commands in {seq_no} sequences (seed {}) in {:.1}s; {} distinct difference(s), {flaky} not reproducible",
        opts.seed,
        started.elapsed().as_secs_f64(),
        found.len()
    );
    for (sig, (n, _)) in &found {
        println!("  {sig}: seen {n} time(s)");
    }
    Ok(found.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        let opts = Options {
            seed: 7,
            count: 100,
            groups: vec!["string".into(), "generic".into(), "connection".into()],
            length: 20,
            keep_going: false,
            only: vec![],
            exclude: vec![],
            release: false,
            ferrum: None,
            verbose: false,
            resp3: false,
        };
        let (cmds, makers) = choose(&opts, (7, 0, 15));
        assert!(!cmds.is_empty());
        let gen = |seed| {
            let mut g = Gen {
                rng: Rng::new(seed),
                redis: (7, 0, 15),
                cmds: &cmds,
                makers: &makers,
            };
            g.sequence(50)
        };
        assert_eq!(gen(1), gen(1));
        assert_ne!(gen(1), gen(2));
        for cmd in gen(3) {
            assert!(!cmd.is_empty());
        }
    }

    #[test]
    fn versions() {
        assert!(version("7.2.0") > version("7.0.15"));
        assert!(too_new(Some("7.2.0"), (7, 0, 15)));
        assert!(!too_new(Some("6.2.0"), (7, 0, 15)));
        assert!(!too_new(None, (7, 0, 15)));
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    fn out(bytes: &[u8]) -> Outcome {
        Outcome::from_line(&crate::text::escape(bytes)).unwrap()
    }

    fn args(s: &str) -> Vec<Vec<u8>> {
        s.split(' ').map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn normalisation_rules() {
        let keys_ab = out(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        let keys_ba = out(b"*2\r\n$1\r\nb\r\n$1\r\na\r\n");
        assert!(agree(
            &args("KEYS *"),
            &Before::default(),
            &keys_ab,
            &keys_ba
        ));
        assert!(!agree(
            &args("MGET a b"),
            &Before::default(),
            &keys_ab,
            &keys_ba
        ));
        // SCAN: full iterations compare their keys; partial ones only their form.
        let full1 = out(b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n");
        let full0 = out(b"*2\r\n$1\r\n0\r\n*0\r\n");
        let partial = out(b"*2\r\n$1\r\n3\r\n*0\r\n");
        assert!(!agree(&args("SCAN 0"), &Before::default(), &full1, &full0));
        assert!(agree(&args("SCAN 0"), &Before::default(), &full1, &partial));
        assert!(agree(&args("SCAN 7"), &Before::default(), &full1, &full0));
        assert!(!agree(
            &args("SCAN x"),
            &Before::default(),
            &full1,
            &out(b"-ERR invalid cursor\r\n")
        ));
        // GT/LT on relative times: 0 and 1 both accepted.
        assert!(agree(
            &args("EXPIRE a 10 GT"),
            &Before::default(),
            &out(b":0\r\n"),
            &out(b":1\r\n")
        ));
        assert!(!agree(
            &args("EXPIRE a 10"),
            &Before::default(),
            &out(b":0\r\n"),
            &out(b":1\r\n")
        ));
        assert!(!agree(
            &args("EXPIREAT a 10 GT"),
            &Before::default(),
            &out(b":0\r\n"),
            &out(b":1\r\n")
        ));
        assert!(agree(
            &args("TTL a"),
            &Before::default(),
            &out(b":99\r\n"),
            &out(b":100\r\n")
        ));
        assert!(agree(
            &args("DUMP a"),
            &Before::default(),
            &out(b"$1\r\nx\r\n"),
            &out(b"$2\r\nxy\r\n")
        ));
    }
}
