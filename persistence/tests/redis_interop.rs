//! Interoperability with a real Redis server: files and DUMP payloads
//! written by one side are read by the other with identical contents.
//!
//! These tests run only when `redis-server` is on PATH; otherwise each prints
//! why it skipped and passes. The installed Redis may be older than 7.2 (7.0
//! reads format version 10 at most), so files and payloads sent to it are
//! written in the version it announces.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use persistence::rdb;
use storage::{Clock, Store, Value};

// ---------------------------------------------------------------------------
// A minimal RESP client and a Redis process.

#[derive(Debug, Clone, PartialEq)]
enum R {
    Simple(String),
    Err(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<R>),
}

impl R {
    fn bytes(&self) -> Vec<u8> {
        match self {
            R::Bulk(Some(b)) => b.clone(),
            R::Simple(s) => s.clone().into_bytes(),
            R::Int(n) => n.to_string().into_bytes(),
            other => panic!("not a string reply: {other:?}"),
        }
    }

    fn items(&self) -> Vec<Vec<u8>> {
        match self {
            R::Array(a) => a.iter().map(R::bytes).collect(),
            other => panic!("not an array reply: {other:?}"),
        }
    }

    fn int(&self) -> i64 {
        match self {
            R::Int(n) => *n,
            other => panic!("not an integer reply: {other:?}"),
        }
    }
}

struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    fn connect(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            r: BufReader::new(s.try_clone()?),
            w: s,
        })
    }

    fn cmd(&mut self, args: &[&[u8]]) -> R {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&out).unwrap();
        self.read()
    }

    fn c(&mut self, args: &[&str]) -> R {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd(&a)
    }

    fn read(&mut self) -> R {
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let line = line.trim_end_matches("\r\n");
        let (t, rest) = line.split_at(1);
        match t {
            "+" => R::Simple(rest.into()),
            "-" => R::Err(rest.into()),
            ":" => R::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return R::Bulk(None);
                }
                let mut b = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                R::Bulk(Some(b))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                R::Array((0..n.max(0)).map(|_| self.read()).collect())
            }
            _ => panic!("unexpected reply line {line:?}"),
        }
    }
}

struct Redis {
    child: Child,
    dir: PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have_redis(test: &str) -> bool {
    let ok = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipping {test}: redis-server is not on PATH");
    }
    ok
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ferrum-rdb-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts redis-server on a free port. Tests run in parallel, so another
/// test may take the port between our probe and Redis's bind: a server that
/// exits at once is started again on another port, and readiness is checked
/// with a raw PING that tolerates a connection dropped under it.
fn start_redis(dir: &Path) -> (Redis, Client) {
    for _attempt in 0..5 {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(dir)
            .args([
                "--dbfilename",
                "dump.rdb",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let mut redis = Redis {
            child,
            dir: dir.to_path_buf(),
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if matches!(redis.child.try_wait(), Ok(Some(_))) {
                break; // could not bind: try another port
            }
            // LOADING replies while a big file loads; wait for PONG.
            if pong(port) {
                return (
                    redis,
                    Client::connect(port).expect("connect to redis-server"),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("redis-server did not start");
}

/// Whether the server on `port` answers PING with PONG, errors as false.
fn pong(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// The RDB version the installed server writes and reads.
fn redis_rdb_version(c: &mut Client) -> u16 {
    let p = c.cmd(&[b"DUMP", b"__probe"]);
    assert_eq!(p, R::Bulk(None));
    c.c(&["SET", "__probe", "x"]);
    let d = c.c(&["DUMP", "__probe"]).bytes();
    c.c(&["DEL", "__probe"]);
    u16::from_le_bytes([d[d.len() - 10], d[d.len() - 9]])
}

// ---------------------------------------------------------------------------
// Contents in a comparable form.

/// (db, key) -> (type, has-ttl, contents in canonical order)
type Dump = Vec<(usize, Vec<u8>, String, bool, Vec<Vec<u8>>)>;

fn score_text(s: f64) -> Vec<u8> {
    if s.is_infinite() {
        return if s > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    format!("{s:?}").into_bytes()
}

fn canonical(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::Str(s) => vec![s.to_bytes().to_vec()],
        Value::List(l) => l.to_vec().into_iter().map(|b| b.to_vec()).collect(),
        Value::Hash(h) => {
            let mut p: Vec<Vec<u8>> = h.iter().map(|(f, v)| [f, b"\0", v].concat()).collect();
            p.sort();
            p
        }
        Value::Set(s) => {
            let mut m: Vec<Vec<u8>> = s.to_vec().into_iter().map(|b| b.to_vec()).collect();
            m.sort();
            m
        }
        Value::ZSet(z) => z
            .iter()
            .map(|(m, s)| [m, b"\0", &score_text(s)].concat())
            .collect(),
    }
}

fn redis_contents(c: &mut Client) -> Dump {
    let mut out = Vec::new();
    for db in 0..16usize {
        c.c(&["SELECT", &db.to_string()]);
        let keys = c.c(&["KEYS", "*"]).items();
        for k in keys {
            let t = String::from_utf8(c.cmd(&[b"TYPE", &k]).bytes()).unwrap();
            let ttl = c.cmd(&[b"PTTL", &k]).int() >= 0;
            let items: Vec<Vec<u8>> = match t.as_str() {
                "string" => vec![c.cmd(&[b"GET", &k]).bytes()],
                "list" => c.cmd(&[b"LRANGE", &k, b"0", b"-1"]).items(),
                "hash" => {
                    let flat = c.cmd(&[b"HGETALL", &k]).items();
                    let mut p: Vec<Vec<u8>> = flat
                        .chunks(2)
                        .map(|p| [&p[0][..], b"\0", &p[1][..]].concat())
                        .collect();
                    p.sort();
                    p
                }
                "set" => {
                    let mut m = c.cmd(&[b"SMEMBERS", &k]).items();
                    m.sort();
                    m
                }
                "zset" => {
                    let flat = c.cmd(&[b"ZRANGE", &k, b"0", b"-1", b"WITHSCORES"]).items();
                    flat.chunks(2)
                        .map(|p| {
                            let s: f64 = std::str::from_utf8(&p[1]).unwrap().parse().unwrap();
                            [&p[0][..], b"\0", &score_text(s)].concat()
                        })
                        .collect()
                }
                other => panic!("unexpected type {other}"),
            };
            out.push((db, k, t, ttl, items));
        }
    }
    c.c(&["SELECT", "0"]);
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

fn store_contents(st: &Store) -> Dump {
    let mut l = st.lock_all();
    let mut out = Vec::new();
    for db in 0..st.databases() {
        l.for_each_entry(db, |e, exp| {
            out.push((
                db,
                e.key.to_vec(),
                e.value.type_name().to_string(),
                exp.is_some(),
                canonical(&e.value),
            ))
        });
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

/// Every type in its small and large encodings, with expiries, in two
/// databases.
fn populate(c: &mut Client) {
    let mut cmd = |args: Vec<String>| {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        let r = c.cmd(&a);
        assert!(!matches!(r, R::Err(_)), "{args:?}: {r:?}");
    };
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    cmd(v(&["SET", "str:small", "hello"]));
    cmd(v(&["SET", "str:int", "12345"]));
    cmd(v(&["SET", "str:neg", "-9223372036854775808"]));
    cmd(v(&["SET", "str:zero-lead", "007"]));
    cmd(v(&["SET", "str:long", &"abcdefghij".repeat(50)]));
    cmd(v(&[
        "SET",
        "str:random",
        &(0..300)
            .map(|i| ((i * 7919 % 94) as u8 + 33) as char)
            .collect::<String>(),
    ]));
    cmd(v(&["SET", "str:ttl", "x", "PX", "100000000"]));
    cmd(v(&[
        "RPUSH",
        "list:small",
        "a",
        "1",
        "-300",
        "70000",
        "3000000000",
    ]));
    let mut big = v(&["RPUSH", "list:big"]);
    big.extend((0..3000).map(|i| format!("element number {i}")));
    cmd(big);
    cmd(v(&["RPUSH", "list:huge-elem", &"y".repeat(20000), "z"]));
    cmd(v(&["HSET", "hash:small", "f1", "v1", "f2", "2", "f3", ""]));
    let mut h = v(&["HSET", "hash:big"]);
    for i in 0..600 {
        h.push(format!("field{i}"));
        h.push(format!("value{i}"));
    }
    cmd(h);
    cmd(v(&["HSET", "hash:longval", "f", &"q".repeat(100)]));
    cmd(v(&[
        "SADD",
        "set:int",
        "1",
        "2",
        "-5",
        "100000",
        "5000000000",
    ]));
    let mut s = v(&["SADD", "set:bigint"]);
    s.extend((0..700).map(|i| (i * 3).to_string()));
    cmd(s);
    cmd(v(&["SADD", "set:str", "a", "b", "c"]));
    let mut s = v(&["SADD", "set:bigstr"]);
    s.extend((0..300).map(|i| format!("m{i}")));
    cmd(s);
    cmd(v(&[
        "ZADD",
        "zset:small",
        "1",
        "a",
        "2.5",
        "b",
        "-inf",
        "c",
        "+inf",
        "d",
        "0.1",
        "e",
    ]));
    let mut z = v(&["ZADD", "zset:big"]);
    for i in 0..300 {
        z.push(format!("{}", i as f64 / 7.0));
        z.push(format!("member{i}"));
    }
    cmd(z);
    cmd(v(&["ZADD", "zset:longmember", "3", &"m".repeat(100)]));
    cmd(v(&["EXPIRE", "hash:big", "100000"]));
    cmd(v(&["PEXPIREAT", "zset:small", "4102444800000"]));
    cmd(v(&["SELECT", "3"]));
    cmd(v(&["SET", "db3:key", "in db 3"]));
    cmd(v(&["RPUSH", "db3:list", "x"]));
    cmd(v(&["SELECT", "0"]));
}

fn new_store() -> Store {
    Store::new(16, 4, Clock::system())
}

// ---------------------------------------------------------------------------

#[test]
fn ferrum_loads_a_file_written_by_redis() {
    if !have_redis("ferrum_loads_a_file_written_by_redis") {
        return;
    }
    let dir = temp_dir("a");
    let (redis, mut c) = start_redis(&dir);
    populate(&mut c);
    let want = redis_contents(&mut c);
    assert_eq!(c.c(&["SAVE"]), R::Simple("OK".into()));
    let file = std::fs::read(redis.dir.join("dump.rdb")).unwrap();
    drop(redis);

    let st = new_store();
    let stats = rdb::load(&file[..], &st).unwrap();
    assert!(stats.version >= 10, "version {}", stats.version);
    assert_eq!(stats.keys as usize, want.len());
    let got = store_contents(&st);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "key {:?}", String::from_utf8_lossy(&w.1));
    }
    // The deadlines themselves made it across.
    let mut l = st.lock_all();
    assert_eq!(l.expire_at(0, b"zset:small"), Some(4_102_444_800_000));
    // Loaded keys report the encodings Redis would give them.
    let enc = |l: &mut storage::Locked<'_>, k: &[u8]| l.peek(0, k).unwrap().value.encoding();
    assert_eq!(enc(&mut l, b"list:small"), "listpack");
    assert_eq!(enc(&mut l, b"list:big"), "quicklist");
    assert_eq!(enc(&mut l, b"hash:small"), "listpack");
    assert_eq!(enc(&mut l, b"hash:big"), "hashtable");
    assert_eq!(enc(&mut l, b"set:int"), "intset");
    assert_eq!(enc(&mut l, b"set:bigint"), "hashtable");
    assert_eq!(enc(&mut l, b"zset:small"), "listpack");
    assert_eq!(enc(&mut l, b"zset:big"), "skiplist");
    assert_eq!(enc(&mut l, b"str:int"), "int");
    assert_eq!(enc(&mut l, b"str:long"), "raw");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_loads_a_file_written_by_ferrum() {
    if !have_redis("redis_loads_a_file_written_by_ferrum") {
        return;
    }
    // Fill a Ferrum store through Redis's own file (exercised above), then
    // write it with Ferrum's writer and let Redis load that.
    let src_dir = temp_dir("b-src");
    let (redis, mut c) = start_redis(&src_dir);
    populate(&mut c);
    let version = redis_rdb_version(&mut c);
    c.c(&["SAVE"]);
    let file = std::fs::read(redis.dir.join("dump.rdb")).unwrap();
    drop(redis);
    let st = new_store();
    rdb::load(&file[..], &st).unwrap();
    let want = store_contents(&st);

    let dir = temp_dir("b");
    {
        let f = std::fs::File::create(dir.join("dump.rdb")).unwrap();
        let mut l = st.lock_all();
        let mut w = rdb::Writer::with_version(std::io::BufWriter::new(f), version);
        w.write_header(&rdb::default_aux(0, false)).unwrap();
        for db in 0..st.databases() {
            let mut entries = Vec::new();
            l.for_each_entry(db, |e, exp| {
                entries.push((e.key.to_vec(), e.value.clone(), exp))
            });
            if entries.is_empty() {
                continue;
            }
            let expires = entries.iter().filter(|e| e.2.is_some()).count() as u64;
            w.select_db(db, entries.len() as u64, expires).unwrap();
            for (k, v, exp) in &entries {
                w.write_entry(k, v, *exp).unwrap();
            }
        }
        w.finish().unwrap();
    }
    let (_redis, mut c) = start_redis(&dir);
    assert_eq!(
        c.c(&["DBSIZE"]).int() as usize,
        want.iter().filter(|k| k.0 == 0).count()
    );
    let got = redis_contents(&mut c);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "key {:?}", String::from_utf8_lossy(&w.1));
    }
    assert_eq!(c.c(&["PEXPIRETIME", "zset:small"]).int(), 4_102_444_800_000);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&src_dir);
}

#[test]
fn dump_payloads_cross_in_both_directions() {
    if !have_redis("dump_payloads_cross_in_both_directions") {
        return;
    }
    let dir = temp_dir("c");
    let (_redis, mut c) = start_redis(&dir);
    populate(&mut c);
    let version = redis_rdb_version(&mut c);
    let want = redis_contents(&mut c);
    for (db, key, ty, _, items) in want.iter().filter(|k| k.0 == 0) {
        assert_eq!(*db, 0);
        // Redis -> Ferrum.
        let payload = c.cmd(&[b"DUMP", key]).bytes();
        let v = rdb::restore_payload(&payload)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(key)));
        assert_eq!(v.type_name(), ty);
        assert_eq!(&canonical(&v), items, "{}", String::from_utf8_lossy(key));
        // Ferrum -> Redis.
        let ours = rdb::dump_payload_version(&v, version);
        let mut copy = key.clone();
        copy.extend_from_slice(b":copy");
        let r = c.cmd(&[b"RESTORE", &copy, b"0", &ours]);
        assert_eq!(
            r,
            R::Simple("OK".into()),
            "{}",
            String::from_utf8_lossy(key)
        );
    }
    let after = redis_contents(&mut c);
    for (_, key, ty, _, items) in want.iter().filter(|k| k.0 == 0) {
        let mut copy = key.clone();
        copy.extend_from_slice(b":copy");
        let found = after
            .iter()
            .find(|k| k.0 == 0 && k.1 == copy)
            .unwrap_or_else(|| panic!("{} not restored", String::from_utf8_lossy(&copy)));
        assert_eq!(&found.2, ty);
        assert_eq!(&found.4, items, "{}", String::from_utf8_lossy(key));
    }
    // A corrupted payload is refused by both sides alike.
    let mut bad = c.c(&["DUMP", "str:small"]).bytes();
    bad[2] ^= 0xff;
    assert!(matches!(
        rdb::restore_payload(&bad),
        Err(rdb::RdbError::BadPayload)
    ));
    match c.cmd(&[b"RESTORE", b"bad", b"0", &bad]) {
        R::Err(e) => assert_eq!(e, "ERR DUMP payload version or checksum are wrong"),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
