//! `cargo xtask bench [--quick] [--out FILE]`: Ferrum against Redis on this
//! machine — throughput (redis-benchmark), server CPU time per request,
//! resident memory per key, latency percentiles under a fixed load, and a
//! two-core scaling run — with a summary of Ferrum/Redis ratios.
//!
//! Servers run on core 1 and clients on core 0 (with `taskset`), and the two
//! servers are measured in alternation, round after round, taking the
//! median, so that drift on a shared machine falls on both alike. See
//! docs/PERFORMANCE.md.

#[path = "bench_load.rs"]
mod load;
#[path = "bench_proc.rs"]
mod procs;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use resp::request::encode_command;

use load::{error_text, Client};
use procs::{check_interrupt, Cpus, Kind, Launcher, Server};

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The roughly one-minute version.
    pub quick: bool,
    /// Where the Markdown summary goes (the CSV goes next to it).
    pub out: Option<PathBuf>,
    /// Rounds of the alternating measurements (overrides the default).
    pub rounds: Option<usize>,
    /// A ferrum-server binary to use instead of building one.
    pub ferrum: Option<PathBuf>,
}

/// Sizes of everything, full or quick.
#[derive(Debug, Clone)]
struct Plan {
    rounds: usize,
    /// redis-benchmark -n at pipeline 1 and 16.
    tp_n: [usize; 2],
    cpu_rounds: usize,
    /// Requests per CPU-time reading at pipeline 1 and 16.
    cpu_n: [usize; 2],
    mem_keys: usize,
    mem_settle: Duration,
    lat_rounds: usize,
    lat_rate: f64,
    lat_secs: u64,
    scale_rounds: usize,
    scale_n: usize,
    /// Limit on any one redis-benchmark run.
    run_limit: Duration,
}

impl Plan {
    fn new(o: &Options) -> Plan {
        let mut p = if o.quick {
            Plan {
                rounds: 1,
                tp_n: [20_000, 100_000],
                cpu_rounds: 1,
                cpu_n: [50_000, 500_000],
                mem_keys: 100_000,
                mem_settle: Duration::from_secs(1),
                lat_rounds: 1,
                lat_rate: 10_000.0,
                lat_secs: 3,
                scale_rounds: 1,
                scale_n: 1_000_000,
                run_limit: Duration::from_secs(60),
            }
        } else {
            Plan {
                rounds: 5,
                tp_n: [200_000, 2_000_000],
                cpu_rounds: 3,
                cpu_n: [300_000, 3_000_000],
                mem_keys: 1_000_000,
                mem_settle: Duration::from_secs(3),
                lat_rounds: 3,
                lat_rate: 10_000.0,
                lat_secs: 10,
                scale_rounds: 3,
                scale_n: 5_000_000,
                run_limit: Duration::from_secs(300),
            }
        };
        if let Some(r) = o.rounds {
            p.rounds = r.max(1);
            p.cpu_rounds = r.max(1);
            p.lat_rounds = r.max(1);
            p.scale_rounds = r.max(1);
        }
        p
    }
}

const CLIENTS: &str = "50";
const KEYSPACE: &str = "100000";
const PIPELINES: [usize; 2] = [1, 16];
const SIZES: [usize; 2] = [3, 1024];

/// A redis-benchmark test: its -t name, its CSV title, a probe command that
/// fails on a server without the command, and a divisor of -n for the tests
/// that do much more work per request.
struct Test {
    name: &'static str,
    probe: &'static [&'static str],
    divisor: usize,
}

const TESTS: &[Test] = &[
    Test {
        name: "SET",
        probe: &["SET", "bench:probe", "v"],
        divisor: 1,
    },
    Test {
        name: "GET",
        probe: &["GET", "bench:probe"],
        divisor: 1,
    },
    Test {
        name: "INCR",
        probe: &["INCR", "bench:probe:n"],
        divisor: 1,
    },
    Test {
        name: "LPUSH",
        probe: &["LPUSH", "bench:probe:l", "v"],
        divisor: 1,
    },
    Test {
        name: "LPOP",
        probe: &["LPOP", "bench:probe:l"],
        divisor: 1,
    },
    Test {
        name: "SADD",
        probe: &["SADD", "bench:probe:s", "v"],
        divisor: 1,
    },
    Test {
        name: "HSET",
        probe: &["HSET", "bench:probe:h", "f", "v"],
        divisor: 1,
    },
    Test {
        name: "ZADD",
        probe: &["ZADD", "bench:probe:z", "1", "m"],
        divisor: 1,
    },
    Test {
        name: "LRANGE_100",
        probe: &["LRANGE", "bench:probe:l", "0", "99"],
        divisor: 20,
    },
    Test {
        name: "MSET",
        probe: &["MSET", "bench:probe:a", "1", "bench:probe:b", "2"],
        divisor: 5,
    },
];

/// Which way a figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
}

impl Better {
    fn text(self) -> &'static str {
        match self {
            Better::Higher => "higher is better",
            Better::Lower => "lower is better",
        }
    }
}

/// One figure, with every round's value for each server.
#[derive(Debug, Clone)]
struct Row {
    metric: String,
    redis: Vec<f64>,
    ferrum: Vec<f64>,
}

impl Row {
    fn new(metric: impl Into<String>) -> Row {
        Row {
            metric: metric.into(),
            redis: Vec::new(),
            ferrum: Vec::new(),
        }
    }

    fn push(&mut self, kind: Kind, v: f64) {
        match kind {
            Kind::Redis => self.redis.push(v),
            Kind::Ferrum => self.ferrum.push(v),
        }
    }

    fn ratio(&self) -> Option<f64> {
        let (r, f) = (median(&self.redis)?, median(&self.ferrum)?);
        (r > 0.0).then_some(f / r)
    }
}

/// A table of the report.
#[derive(Debug)]
struct Section {
    key: &'static str,
    title: String,
    unit: &'static str,
    better: Better,
    /// Decimal places of the values.
    decimals: usize,
    about: String,
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Section {
    fn new(key: &'static str, title: &str, unit: &'static str, better: Better) -> Section {
        Section {
            key,
            title: title.into(),
            unit,
            better,
            decimals: 0,
            about: String::new(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn row(&mut self, metric: &str) -> &mut Row {
        if let Some(i) = self.rows.iter().position(|r| r.metric == metric) {
            return &mut self.rows[i];
        }
        self.rows.push(Row::new(metric));
        self.rows.last_mut().expect("just pushed")
    }

    fn note(&mut self, n: String) {
        println!("  note: {n}");
        self.notes.push(n);
    }

    /// Geometric mean of the rows' ratios.
    fn geomean(&self) -> Option<(f64, usize)> {
        let r: Vec<f64> = self.rows.iter().filter_map(Row::ratio).collect();
        if r.is_empty() {
            return None;
        }
        let g = (r.iter().map(|x| x.ln()).sum::<f64>() / r.len() as f64).exp();
        Some((g, r.len()))
    }
}

fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// What every measurement needs.
struct Ctx {
    launcher: Launcher,
    plan: Plan,
    ferrum: PathBuf,
    redis: Option<PathBuf>,
    benchmark: PathBuf,
    scratch: PathBuf,
}

impl Ctx {
    /// The servers under comparison, in the order for `round` (alternating
    /// which goes first, so that a trend falls on both alike).
    fn kinds(&self, round: usize) -> Vec<Kind> {
        match (&self.redis, round % 2) {
            (None, _) => vec![Kind::Ferrum],
            (Some(_), 0) => vec![Kind::Redis, Kind::Ferrum],
            (Some(_), _) => vec![Kind::Ferrum, Kind::Redis],
        }
    }

    fn start(&self, kind: Kind, cpus: Cpus, threads: usize) -> Result<Server> {
        let program = match kind {
            Kind::Redis => self.redis.as_ref().context("no redis-server")?,
            Kind::Ferrum => &self.ferrum,
        };
        Server::start(&self.launcher, kind, program, cpus, threads)
    }

    /// Runs redis-benchmark against `server` and returns the CSV's rows as
    /// (title, requests per second).
    fn redis_benchmark(
        &self,
        server: &Server,
        cpus: Cpus,
        args: &[String],
    ) -> Result<Vec<(String, f64)>> {
        let mut cmd = self.launcher.command(&self.benchmark, cpus);
        cmd.args(["-h", "127.0.0.1", "-p", &server.addr.port().to_string()])
            .args(args)
            .arg("--csv");
        let out = self.launcher.run_bounded(
            cmd,
            self.plan.run_limit,
            &self.scratch.join("redis-benchmark.out"),
        )?;
        if let Some(l) = out.lines().find(|l| l.contains("Error from server")) {
            bail!("{}", l.trim());
        }
        Ok(parse_csv(&out))
    }
}

/// redis-benchmark's `--csv` rows as (test title, requests per second).
fn parse_csv(out: &str) -> Vec<(String, f64)> {
    out.lines()
        .filter_map(|l| {
            let mut f = l.split(',').map(|x| x.trim().trim_matches('"'));
            let title = f.next()?.to_string();
            let rps: f64 = f.next()?.parse().ok()?;
            Some((title, rps))
        })
        .collect()
}

/// The requests per second of test `name` in parsed CSV rows.
fn rps_of(rows: &[(String, f64)], name: &str) -> Option<f64> {
    rows.iter()
        .find(|(t, _)| {
            // "LRANGE_100 (first 100 elements)", but not the set-up row
            // "LPUSH (needed to benchmark LRANGE)".
            t == name || (t.starts_with(&format!("{name} (")) && !t.contains("needed to"))
        })
        .map(|r| r.1)
}

pub fn run(o: &Options) -> Result<bool> {
    let started = Instant::now();
    procs::install_interrupt_handler();
    let plan = Plan::new(o);
    let root = crate::workspace_root();
    let out_md = o
        .out
        .clone()
        .unwrap_or_else(|| root.join("target/bench/summary.md"));
    let out_csv = out_md.with_extension("csv");
    let Some(benchmark) = procs::find_redis_benchmark() else {
        bail!("redis-benchmark is not on PATH (Debian/Ubuntu: apt-get install redis-tools)");
    };
    let ferrum = match &o.ferrum {
        Some(p) if p.is_file() => p.clone(),
        Some(p) => bail!("no ferrum-server at {}", p.display()),
        None => {
            println!("==> cargo build --release -p ferrum-server");
            crate::servers::build_ferrum(true)?
        }
    };
    check_interrupt()?;
    let redis = crate::servers::find_redis();
    let redis_version = match &redis {
        Some(r) => crate::servers::redis_version(r).unwrap_or_else(|_| "?".into()),
        None => {
            println!(
                "note: redis-server is not on PATH: measuring Ferrum alone, without ratios \
                 (Debian/Ubuntu: apt-get install redis-server)"
            );
            String::new()
        }
    };
    // Pin after building, so that the build had every core.
    let launcher = Launcher::new();
    let scratch = root.join("target/bench/tmp");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let ctx = Ctx {
        launcher,
        plan,
        ferrum,
        redis,
        benchmark,
        scratch,
    };
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let mut sections = Vec::new();
    type Measure = fn(&Ctx) -> Result<Section>;
    let steps: [(&str, Measure); 5] = [
        ("throughput", throughput),
        ("CPU time per request", cpu_time),
        ("latency", latency),
        ("memory per key", memory),
        ("scaling", scaling),
    ];
    for (name, f) in steps {
        println!("==> {name}");
        let t = Instant::now();
        match f(&ctx) {
            Ok(s) => sections.push(s),
            Err(e) => {
                check_interrupt()?;
                println!("  {name} failed: {e:#}");
                let mut s = Section::new("failed", name, "", Better::Lower);
                s.notes.push(format!("{name} could not be measured: {e:#}"));
                sections.push(s);
            }
        }
        println!("  ({:.0}s)", t.elapsed().as_secs_f64());
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let env = Env {
        command: command_line(o),
        ncpus: ctx.launcher.ncpus,
        redis_version,
        pinned: ctx.launcher.taskset,
        load_before,
        load_after,
        elapsed: started.elapsed(),
        plan: ctx.plan.clone(),
        ferrum: ctx.ferrum.clone(),
    };
    let md = markdown(&env, &sections, ctx.redis.is_some());
    let csv = csv(&sections);
    if let Some(dir) = out_md.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out_md, &md).with_context(|| format!("writing {}", out_md.display()))?;
    std::fs::write(&out_csv, &csv).with_context(|| format!("writing {}", out_csv.display()))?;
    let _ = std::fs::remove_dir_all(&ctx.scratch);
    println!("\n{md}");
    println!("wrote {} and {}", out_md.display(), out_csv.display());
    Ok(true)
}

fn command_line(o: &Options) -> String {
    let mut c = String::from("cargo xtask bench");
    if o.quick {
        c.push_str(" --quick");
    }
    if let Some(r) = o.rounds {
        let _ = write!(c, " --rounds {r}");
    }
    if let Some(p) = &o.out {
        let _ = write!(c, " --out {}", p.display());
    }
    if let Some(p) = &o.ferrum {
        let _ = write!(c, " --ferrum {}", p.display());
    }
    c
}

/// Which tests both servers have; writes a note for the others.
fn probe(servers: &[Server], section: &mut Section) -> Result<Vec<&'static Test>> {
    let mut ok = Vec::new();
    'tests: for t in TESTS {
        for s in servers {
            let f = Client::connect(s.addr)?.call(t.probe)?;
            if let Some(e) = error_text(&f) {
                section.note(format!(
                    "{} skipped: {} answers `{}` with: {e}",
                    t.name,
                    s.kind.name(),
                    t.probe.join(" ")
                ));
                continue 'tests;
            }
        }
        ok.push(t);
    }
    for s in servers {
        s.flushall()?;
    }
    Ok(ok)
}

/// Starts one server of each kind, pinned to the server core.
fn pinned_pair(ctx: &Ctx) -> Result<Vec<Server>> {
    ctx.kinds(0)
        .into_iter()
        .map(|k| ctx.start(k, Cpus::Server, 1))
        .collect()
}

fn find(servers: &mut [Server], kind: Kind) -> &mut Server {
    servers
        .iter_mut()
        .find(|s| s.kind == kind)
        .expect("one server of each kind")
}

fn throughput(ctx: &Ctx) -> Result<Section> {
    let p = &ctx.plan;
    let mut sec = Section::new("throughput", "Throughput", "requests/s", Better::Higher);
    sec.about = format!(
        "redis-benchmark, {CLIENTS} clients, random keys over {KEYSPACE} (-r), \
         -n {} at -P 1 and {} at -P 16 (LRANGE_100 1/20 and MSET 1/5 of that); \
         median of {} round(s), the servers alternating test by test.",
        p.tp_n[0], p.tp_n[1], p.rounds
    );
    let mut servers = pinned_pair(ctx)?;
    let tests = probe(&servers, &mut sec)?;
    for round in 0..p.rounds {
        for (pi, &pipe) in PIPELINES.iter().enumerate() {
            for &size in &SIZES {
                print!("  round {}/{}: -P {pipe} -d {size}:", round + 1, p.rounds);
                for s in &servers {
                    s.flushall()?;
                }
                for t in &tests {
                    let metric = format!("{} -P {pipe} -d {size}", t.name);
                    print!(" {}", t.name);
                    std::io::Write::flush(&mut std::io::stdout()).ok();
                    for kind in ctx.kinds(round) {
                        let s = find(&mut servers, kind);
                        let n = (p.tp_n[pi] / t.divisor).max(1000);
                        let args = [
                            "-c",
                            CLIENTS,
                            "-r",
                            KEYSPACE,
                            "-n",
                            &n.to_string(),
                            "-P",
                            &pipe.to_string(),
                            "-d",
                            &size.to_string(),
                            "-t",
                            &t.name.to_lowercase(),
                        ]
                        .map(String::from);
                        match ctx.redis_benchmark(s, Cpus::Client, &args) {
                            Ok(rows) => match rps_of(&rows, t.name) {
                                Some(v) => sec.row(&metric).push(kind, v),
                                None => sec.note(format!(
                                    "{metric} on {}: no CSV row for the test",
                                    kind.name()
                                )),
                            },
                            Err(e) => {
                                check_interrupt()?;
                                s.check_alive()?;
                                sec.note(format!("{metric} on {}: {e:#}", kind.name()));
                            }
                        }
                    }
                }
                println!();
            }
        }
    }
    Ok(sec)
}

fn cpu_time(ctx: &Ctx) -> Result<Section> {
    let p = &ctx.plan;
    let mut sec = Section::new(
        "cpu",
        "Server CPU time per request",
        "µs/request",
        Better::Lower,
    );
    sec.decimals = 3;
    sec.about = format!(
        "utime+stime of the server process (/proc/<pid>/stat) across a fixed number of \
         requests from redis-benchmark ({CLIENTS} clients, -r {KEYSPACE}, -d 3): \
         {} at -P 1, {} at -P 16; median of {} round(s).",
        p.cpu_n[0], p.cpu_n[1], p.cpu_rounds
    );
    let mut servers = pinned_pair(ctx)?;
    let tests: Vec<&Test> = probe(&servers, &mut sec)?
        .into_iter()
        .filter(|t| t.name == "SET" || t.name == "GET")
        .collect();
    for round in 0..p.cpu_rounds {
        print!("  round {}/{}:", round + 1, p.cpu_rounds);
        for s in &servers {
            s.flushall()?;
        }
        for (pi, &pipe) in PIPELINES.iter().enumerate().rev() {
            for t in &tests {
                let metric = format!("{} -P {pipe}", t.name);
                print!(" {metric}");
                std::io::Write::flush(&mut std::io::stdout()).ok();
                for kind in ctx.kinds(round) {
                    let s = find(&mut servers, kind);
                    let n = p.cpu_n[pi];
                    let args = [
                        "-c",
                        CLIENTS,
                        "-r",
                        KEYSPACE,
                        "-n",
                        &n.to_string(),
                        "-P",
                        &pipe.to_string(),
                        "-d",
                        "3",
                        "-t",
                        &t.name.to_lowercase(),
                    ]
                    .map(String::from);
                    let before = s.cpu_seconds()?;
                    match ctx.redis_benchmark(s, Cpus::Client, &args) {
                        Ok(_) => {
                            let after = s.cpu_seconds()?;
                            sec.row(&metric)
                                .push(kind, (after - before) * 1e6 / n as f64);
                        }
                        Err(e) => {
                            check_interrupt()?;
                            s.check_alive()?;
                            sec.note(format!("{metric} on {}: {e:#}", kind.name()));
                        }
                    }
                }
            }
        }
        println!();
    }
    Ok(sec)
}

fn latency(ctx: &Ctx) -> Result<Section> {
    let p = &ctx.plan;
    let conns = 10;
    let keys = 10_000;
    let mut sec = Section::new("latency", "Latency under a fixed load", "µs", Better::Lower);
    sec.decimals = 1;
    sec.about = format!(
        "{conns} connections from the runner itself, each sending GET or SET (alternately, \
         3-byte values over {keys} keys) one at a time, {} requests/s in all, for {}s; \
         each round trip timed from write to full reply; percentiles (nearest rank) \
         over every sample of a round, median of {} round(s).",
        p.lat_rate, p.lat_secs, p.lat_rounds
    );
    let mut servers = pinned_pair(ctx)?;
    for s in &servers {
        s.flushall()?;
        load::load(s.addr, keys, 1000, Duration::from_secs(60), |i, out| {
            encode_command(&["SET", &format!("lat:{i}"), "abc"], out)
        })?;
    }
    for round in 0..p.lat_rounds {
        for kind in ctx.kinds(round) {
            let s = find(&mut servers, kind);
            let mut l = load::fixed_rate(
                s.addr,
                conns,
                p.lat_rate,
                Duration::from_secs(p.lat_secs),
                keys,
            )?;
            s.check_alive()?;
            l.samples.sort_by(f64::total_cmp);
            let n = l.samples.len();
            let [p50, p99, p999] = [50.0, 99.0, 99.9].map(|q| load::percentile(&l.samples, q));
            println!(
                "  round {}/{} {}: {n} requests, p50 {p50:.0}µs p99 {p99:.0}µs p99.9 {p999:.0}µs{}",
                round + 1,
                p.lat_rounds,
                kind.name(),
                if l.late > 0 {
                    format!(" ({} sent late)", l.late)
                } else {
                    String::new()
                }
            );
            sec.row("p50").push(kind, p50);
            sec.row("p99").push(kind, p99);
            sec.row("p99.9").push(kind, p999);
            if l.late * 100 > n {
                sec.note(format!(
                    "round {} {}: {} of {n} requests were sent late (the client fell behind)",
                    round + 1,
                    kind.name(),
                    l.late
                ));
            }
        }
    }
    Ok(sec)
}

/// Writes command `i` of a workload.
type MakeCommand = Box<dyn Fn(usize, &mut Vec<u8>) + Sync>;

/// A memory workload: how many commands, how to write command `i`, what a
/// unit is and how to count them at the end.
struct Workload {
    name: String,
    commands: usize,
    batch: usize,
    units: usize,
    count: &'static [&'static str],
    make: MakeCommand,
}

fn workloads(keys: usize) -> Vec<Workload> {
    let k = human(keys);
    let per_push = 100;
    vec![
        Workload {
            name: format!("{k} strings, 3-byte values (bytes/key)"),
            commands: keys,
            batch: 1000,
            units: keys,
            count: &["DBSIZE"],
            make: Box::new(|i, out| encode_command(&["SET", &format!("key:{i:012}"), "xxx"], out)),
        },
        Workload {
            name: format!("{k} strings, 1 KB values (bytes/key)"),
            commands: keys,
            batch: 100,
            units: keys,
            count: &["DBSIZE"],
            make: Box::new(|i, out| {
                let v = [b'x'; 1024];
                encode_command(
                    &[&b"SET"[..], format!("key:{i:012}").as_bytes(), &v[..]],
                    out,
                )
            }),
        },
        Workload {
            name: format!("{k} hashes of 10 small fields (bytes/key)"),
            commands: keys,
            batch: 500,
            units: keys,
            count: &["DBSIZE"],
            make: Box::new(|i, out| {
                let mut a = vec!["HSET".to_string(), format!("hash:{i:012}")];
                for j in 0..10 {
                    a.push(format!("field{j}"));
                    a.push(format!("v{}", (i + j) % 1000));
                }
                encode_command(&a, out)
            }),
        },
        Workload {
            name: format!("{k} sets of 10 small integers (bytes/key)"),
            commands: keys,
            batch: 500,
            units: keys,
            count: &["DBSIZE"],
            make: Box::new(|i, out| {
                let mut a = vec!["SADD".to_string(), format!("set:{i:012}")];
                for j in 0..10 {
                    a.push(((i * 7 + j * 101) % 10_000).to_string());
                }
                encode_command(&a, out)
            }),
        },
        Workload {
            name: format!("one list of {k} elements (bytes/element)"),
            commands: keys.div_ceil(per_push),
            batch: 50,
            units: keys,
            count: &["LLEN", "list"],
            make: Box::new(move |i, out| {
                let mut a = vec!["RPUSH".to_string(), "list".to_string()];
                for j in i * per_push..(i + 1) * per_push {
                    a.push(format!("item:{j}"));
                }
                encode_command(&a, out)
            }),
        },
    ]
}

fn human(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

const EMPTY: &str = "VmRSS of a fresh server (MiB)";

fn memory(ctx: &Ctx) -> Result<Section> {
    let p = &ctx.plan;
    let mut sec = Section::new("memory", "Resident memory per key", "bytes", Better::Lower);
    sec.decimals = 1;
    sec.about = format!(
        "VmRSS (/proc/<pid>/status) after loading, minus VmRSS of the same server \
         before (read 0.5s after start-up), the second read after {}s of settling, \
         divided by DBSIZE (LLEN for the list); each workload in a fresh server, \
         loaded over one streaming pipelined connection.",
        p.mem_settle.as_secs()
    );
    let kinds = ctx.kinds(0);
    for w in workloads(p.mem_keys) {
        print!("  {}:", w.name);
        std::io::Write::flush(&mut std::io::stdout()).ok();
        for &kind in &kinds {
            let mut s = ctx.start(kind, Cpus::Server, 1)?;
            procs::sleep(Duration::from_millis(500))?;
            let before = s.rss_bytes()?;
            sec.row(EMPTY).push(kind, before as f64 / 1024.0 / 1024.0);
            let t = Instant::now();
            let limit = Duration::from_secs(600);
            if let Err(e) = load::load(s.addr, w.commands, w.batch, limit, &w.make) {
                check_interrupt()?;
                s.check_alive()?;
                sec.note(format!("{}: skipped on {}: {e:#}", w.name, kind.name()));
                continue;
            }
            let loaded = t.elapsed();
            procs::sleep(p.mem_settle)?;
            let after = s.rss_bytes()?;
            let n = Client::connect(s.addr)?.int(w.count)?;
            if n as usize != w.units {
                sec.note(format!(
                    "{}: {} counts {n} instead of {}",
                    w.name,
                    kind.name(),
                    w.units
                ));
            }
            let per = (after as f64 - before as f64) / n.max(1) as f64;
            print!(
                " {} {per:.1} (loaded in {:.1}s)",
                kind.name(),
                loaded.as_secs_f64()
            );
            std::io::Write::flush(&mut std::io::stdout()).ok();
            sec.row(&w.name).push(kind, per);
        }
        println!();
    }
    // The empty-server row goes last; keep one reading per server kind.
    if let Some(i) = sec.rows.iter().position(|r| r.metric == EMPTY) {
        let r = sec.rows.remove(i);
        sec.rows.push(r);
    }
    Ok(sec)
}

fn scaling(ctx: &Ctx) -> Result<Section> {
    let p = &ctx.plan;
    let mut sec = Section::new(
        "scaling",
        "Scaling: both cores, unpinned",
        "requests/s",
        Better::Higher,
    );
    sec.about = format!(
        "Every process unpinned on all {} cores: Redis against Ferrum with \
         --ferrum-threads 1 and 2; redis-benchmark (one thread) as a separate \
         process, {CLIENTS} clients, -P 16, -d 3, -r {KEYSPACE}, -n {}; \
         median of {} round(s). On a two-core machine the client competes with \
         the server for the cores, so this bounds rather than measures scaling.",
        ctx.launcher.ncpus, p.scale_n, p.scale_rounds
    );
    let mut redis = match ctx.redis {
        Some(_) => Some(ctx.start(Kind::Redis, Cpus::All, 1)?),
        None => None,
    };
    let f1 = ctx.start(Kind::Ferrum, Cpus::All, 1)?;
    let f2 = ctx.start(Kind::Ferrum, Cpus::All, 2)?;
    for round in 0..p.scale_rounds {
        print!("  round {}/{}:", round + 1, p.scale_rounds);
        let mut order: Vec<(Option<usize>, &Server)> = vec![(Some(1), &f1), (Some(2), &f2)];
        if let Some(r) = redis.as_ref() {
            order.insert(0, (None, r));
        }
        if round % 2 == 1 {
            order.reverse();
        }
        for s in order.iter().map(|o| o.1) {
            s.flushall()?;
        }
        for test in ["SET", "GET"] {
            for &(threads, s) in &order {
                let args = [
                    "-c",
                    CLIENTS,
                    "-r",
                    KEYSPACE,
                    "-n",
                    &p.scale_n.to_string(),
                    "-P",
                    "16",
                    "-d",
                    "3",
                    "-t",
                    &test.to_lowercase(),
                ]
                .map(String::from);
                let who = match threads {
                    None => "Redis".to_string(),
                    Some(t) => format!("Ferrum×{t}"),
                };
                print!(" {test} {who}");
                std::io::Write::flush(&mut std::io::stdout()).ok();
                let v = match ctx.redis_benchmark(s, Cpus::All, &args) {
                    Ok(rows) => rps_of(&rows, test),
                    Err(e) => {
                        check_interrupt()?;
                        sec.note(format!("{test} on {who}: {e:#}"));
                        None
                    }
                };
                let Some(v) = v else { continue };
                match threads {
                    None => {
                        for t in [1, 2] {
                            sec.row(&scale_metric(test, t)).push(Kind::Redis, v);
                        }
                    }
                    Some(t) => sec.row(&scale_metric(test, t)).push(Kind::Ferrum, v),
                }
            }
        }
        println!();
    }
    if let Some(r) = redis.as_mut() {
        r.check_alive()?;
    }
    Ok(sec)
}

fn scale_metric(test: &str, threads: usize) -> String {
    format!("{test} -P 16, Ferrum --ferrum-threads {threads}")
}

struct Env {
    command: String,
    ncpus: usize,
    redis_version: String,
    pinned: bool,
    load_before: String,
    load_after: String,
    elapsed: Duration,
    plan: Plan,
    ferrum: PathBuf,
}

fn fmt_num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "n/a".into(),
    }
}

fn markdown(env: &Env, sections: &[Section], with_redis: bool) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# Ferrum vs Redis: benchmark summary\n");
    let _ = writeln!(m, "- command: `{}`", env.command);
    let _ = writeln!(
        m,
        "- when: {}",
        shell_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    let rev = shell_line("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = !shell_line("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    let _ = writeln!(
        m,
        "- Ferrum: {} at commit {rev}{}",
        env.ferrum.display(),
        if dirty {
            " plus uncommitted changes"
        } else {
            ""
        }
    );
    if with_redis {
        let _ = writeln!(m, "- Redis: redis-server {}", env.redis_version);
    } else {
        let _ = writeln!(m, "- Redis: not on PATH; Ferrum measured alone, no ratios");
    }
    let _ = writeln!(m, "- machine: {} × {}", env.ncpus, cpu_model());
    let _ = writeln!(
        m,
        "- pinning: {}",
        if env.pinned {
            "servers on core 1, clients on core 0 (taskset); the scaling run unpinned"
        } else {
            "none (taskset absent or a single core): figures are noisier"
        }
    );
    let _ = writeln!(
        m,
        "- load average before / after: {} / {}",
        env.load_before
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        env.load_after
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(
        m,
        "- took {:.0}s; rounds: throughput {}, CPU {}, latency {}, scaling {}\n",
        env.elapsed.as_secs_f64(),
        env.plan.rounds,
        env.plan.cpu_rounds,
        env.plan.lat_rounds,
        env.plan.scale_rounds
    );
    if with_redis {
        let _ = writeln!(m, "## Summary\n");
        let _ = writeln!(
            m,
            "Geometric mean of the Ferrum/Redis ratios of each table below.\n"
        );
        let _ = writeln!(m, "| Figure | Ferrum/Redis | Better | Rows |");
        let _ = writeln!(m, "| --- | ---: | --- | ---: |");
        for s in sections.iter().filter(|s| s.key != "failed") {
            if let Some((g, n)) = s.geomean() {
                let _ = writeln!(m, "| {} | {g:.2} | {} | {n} |", s.title, s.better.text());
            }
        }
        let _ = writeln!(m);
    }
    for s in sections {
        let _ = writeln!(m, "## {}\n", s.title);
        if !s.about.is_empty() {
            let _ = writeln!(m, "{}\n", s.about);
        }
        if !s.rows.is_empty() {
            let _ = writeln!(
                m,
                "| {} ({}) | Redis | Ferrum | Ferrum/Redis | Better |",
                if s.key == "latency" {
                    "Percentile"
                } else {
                    "Test"
                },
                s.unit
            );
            let _ = writeln!(m, "| --- | ---: | ---: | ---: | --- |");
            for r in &s.rows {
                let _ = writeln!(
                    m,
                    "| {} | {} | {} | {} | {} |",
                    r.metric,
                    fmt_num(median(&r.redis), s.decimals),
                    fmt_num(median(&r.ferrum), s.decimals),
                    fmt_num(r.ratio(), 2),
                    s.better.text()
                );
            }
            let _ = writeln!(m);
        }
        for n in &s.notes {
            let _ = writeln!(m, "- {n}");
        }
        if !s.notes.is_empty() {
            let _ = writeln!(m);
        }
    }
    m
}

fn csv(sections: &[Section]) -> String {
    let mut c = String::from(
        "section,metric,unit,redis_median,ferrum_median,ferrum_over_redis,better,redis_rounds,ferrum_rounds\n",
    );
    let join = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(";")
    };
    for s in sections {
        for r in &s.rows {
            let _ = writeln!(
                c,
                "{},\"{}\",{},{},{},{},{},{},{}",
                s.key,
                r.metric.replace('"', "'"),
                s.unit,
                median(&r.redis).map_or(String::new(), |v| format!("{v:.3}")),
                median(&r.ferrum).map_or(String::new(), |v| format!("{v:.3}")),
                r.ratio().map_or(String::new(), |v| format!("{v:.4}")),
                match s.better {
                    Better::Higher => "higher",
                    Better::Lower => "lower",
                },
                join(&r.redis),
                join(&r.ferrum)
            );
        }
    }
    c
}

/// The first line a read-only command prints, or "?".
fn shell_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(crate::workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows() {
        let out = "\"test\",\"rps\",\"avg_latency_ms\"\n\"SET\",\"41666.67\",\"0.779\"\n\
                   \"LPUSH (needed to benchmark LRANGE)\",\"49382.71\",\"0.6\"\n\
                   \"LRANGE_100 (first 100 elements)\",\"32948.93\",\"0.9\"\n\
                   \"MSET (10 keys)\",\"31545.74\",\"1.3\"\n";
        let rows = parse_csv(out);
        assert_eq!(rps_of(&rows, "SET"), Some(41666.67));
        assert_eq!(rps_of(&rows, "LRANGE_100"), Some(32948.93));
        assert_eq!(rps_of(&rows, "MSET"), Some(31545.74));
        assert_eq!(rps_of(&rows, "LPUSH"), None);
        assert_eq!(rps_of(&rows, "GET"), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratios() {
        let mut s = Section::new("t", "T", "x", Better::Higher);
        s.row("a").push(Kind::Redis, 100.0);
        s.row("a").push(Kind::Ferrum, 50.0);
        s.row("b").push(Kind::Redis, 100.0);
        s.row("b").push(Kind::Ferrum, 200.0);
        assert_eq!(s.rows[0].ratio(), Some(0.5));
        let (g, n) = s.geomean().unwrap();
        assert!((g - 1.0).abs() < 1e-9);
        assert_eq!(n, 2);
    }
}
