//! Server commands end to end: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME,
//! SHUTDOWN, CONFIG GET/SET/RESETSTAT/REWRITE/HELP and INFO, with Redis
//! 7.2's exact replies.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use commands::config::Values;
use commands::state::Server;
use common::{start, temp_dir, words, Conn};
use resp::Frame;

/// Command statistics live in the process-wide registry, shared by every
/// server a test process starts: the tests here run one at a time so that
/// the counts they check are their own.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn info_text(c: &mut Conn, args: &[&str]) -> String {
    let mut a = vec!["INFO"];
    a.extend_from_slice(args);
    match c.cmd(&a) {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("INFO replied {other:?}"),
    }
}

/// Parses INFO text into (section title, field, value) triples, checking
/// the layout on the way: `# Title` headers, `field:value` lines, CRLF line
/// ends, one blank line between sections.
fn parse_info(text: &str) -> Vec<(String, String, String)> {
    assert!(text.is_empty() || text.ends_with("\r\n"), "{text:?}");
    let mut out = Vec::new();
    let mut section = String::new();
    let mut prev_blank = true;
    for line in text.split("\r\n").take(text.split("\r\n").count() - 1) {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        if line.is_empty() {
            assert!(!prev_blank, "two blank lines in a row");
            prev_blank = true;
            continue;
        }
        if let Some(title) = line.strip_prefix("# ") {
            assert!(prev_blank, "section {title} not preceded by a blank line");
            section = title.to_string();
        } else {
            let (k, v) = line.split_once(':').unwrap_or_else(|| panic!("{line:?}"));
            assert!(!k.is_empty() && !section.is_empty(), "{line:?}");
            out.push((section.clone(), k.to_string(), v.to_string()));
        }
        prev_blank = false;
    }
    out
}

fn sections(text: &str) -> Vec<String> {
    text.split("\r\n")
        .filter_map(|l| l.strip_prefix("# "))
        .map(str::to_string)
        .collect()
}

fn field(text: &str, name: &str) -> Option<String> {
    parse_info(text)
        .into_iter()
        .find(|(_, k, _)| k == name)
        .map(|(_, _, v)| v)
}

fn num(text: &str, name: &str) -> i64 {
    field(text, name)
        .unwrap_or_else(|| panic!("no field {name}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not an integer"))
}

#[test]
fn dbsize_and_flushes() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["DBSIZE"]), ":0\r\n");
    for k in ["a", "b", "c"] {
        assert_eq!(c.raw(&["SET", k, "v"]), "+OK\r\n");
    }
    assert_eq!(c.raw(&["DBSIZE"]), ":3\r\n");
    assert_eq!(
        c.raw(&["DBSIZE", "x"]),
        "-ERR wrong number of arguments for 'dbsize' command\r\n"
    );
    assert_eq!(c.raw(&["FLUSHDB", "x"]), "-ERR syntax error\r\n");
    assert_eq!(c.raw(&["FLUSHDB", "ASYNC", "x"]), "-ERR syntax error\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":3\r\n");
    assert_eq!(c.raw(&["FLUSHDB", "sync"]), "+OK\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":0\r\n");
    // FLUSHDB touches only the selected database, FLUSHALL all of them.
    assert_eq!(c.raw(&["SET", "a", "v"]), "+OK\r\n");
    assert_eq!(c.raw(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(c.raw(&["SET", "b", "v"]), "+OK\r\n");
    assert_eq!(c.raw(&["FLUSHDB", "ASYNC"]), "+OK\r\n");
    assert_eq!(c.raw(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":1\r\n");
    assert_eq!(c.raw(&["SELECT", "5"]), "+OK\r\n");
    assert_eq!(c.raw(&["SET", "c", "v"]), "+OK\r\n");
    assert_eq!(c.raw(&["FLUSHALL", "now"]), "-ERR syntax error\r\n");
    assert_eq!(c.raw(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":0\r\n");
    assert_eq!(c.raw(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":0\r\n");
    assert_eq!(c.raw(&["FLUSHALL", "ASYNC"]), "+OK\r\n");
}

#[test]
fn flushes_count_as_changes() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let dirty = |c: &mut Conn| {
        num(
            &info_text(c, &["persistence"]),
            "rdb_changes_since_last_save",
        )
    };
    let base = dirty(&mut c);
    c.raw(&["SET", "a", "1"]);
    c.raw(&["SET", "b", "1"]);
    assert_eq!(dirty(&mut c), base + 2);
    c.raw(&["FLUSHDB"]);
    assert_eq!(dirty(&mut c), base + 4, "one change per key removed");
    c.raw(&["FLUSHALL"]);
    assert_eq!(dirty(&mut c), base + 5, "FLUSHALL counts one more");
    c.raw(&["SWAPDB", "0", "1"]);
    assert_eq!(dirty(&mut c), base + 6);
}

#[test]
fn swapdb() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["SWAPDB", "a", "1"]),
        "-ERR invalid first DB index\r\n"
    );
    assert_eq!(
        c.raw(&["SWAPDB", "0", "b"]),
        "-ERR invalid second DB index\r\n"
    );
    assert_eq!(
        c.raw(&["SWAPDB", "99999999999", "0"]),
        "-ERR invalid first DB index\r\n"
    );
    assert_eq!(
        c.raw(&["SWAPDB", "0", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.raw(&["SWAPDB", "-1", "0"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.raw(&["SWAPDB", "0"]),
        "-ERR wrong number of arguments for 'swapdb' command\r\n"
    );
    c.raw(&["SET", "k", "in0"]);
    c.raw(&["SELECT", "1"]);
    c.raw(&["SET", "k", "in1"]);
    c.raw(&["SET", "other", "x"]);
    assert_eq!(c.raw(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$3\r\nin0\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":1\r\n");
    c.raw(&["SELECT", "0"]);
    assert_eq!(c.raw(&["GET", "k"]), "$3\r\nin1\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":2\r\n");
    assert_eq!(c.raw(&["SWAPDB", "0", "0"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$3\r\nin1\r\n");
    // Another connection sees the swap at once.
    let mut d = Conn::connect(srv.addr);
    assert_eq!(d.raw(&["GET", "other"]), "$1\r\nx\r\n");
}

#[test]
fn time_is_seconds_and_microseconds() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let Frame::Array(parts) = c.cmd(&["TIME"]) else {
        panic!("TIME is an array")
    };
    assert_eq!(parts.len(), 2);
    let n: Vec<i64> = parts
        .iter()
        .map(|p| match p {
            Frame::Bulk(b) => std::str::from_utf8(b).unwrap().parse().unwrap(),
            other => panic!("TIME element {other:?} is not a bulk string"),
        })
        .collect();
    assert!(n[0] >= before && n[0] <= before + 2, "{n:?}");
    assert!((0..1_000_000).contains(&n[1]), "{n:?}");
    assert_eq!(
        c.raw(&["TIME", "x"]),
        "-ERR wrong number of arguments for 'time' command\r\n"
    );
}

#[test]
fn shutdown_errors_then_exit() {
    let _serial = serial();
    // A `dir` that does not exist: SHUTDOWN SAVE cannot write its snapshot.
    let srv = common::start_with(|v| v.dir = "/nonexistent/ferrum-test-dir".into());
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["SHUTDOWN", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.raw(&["SHUTDOWN", "NOSAVE", "SAVE"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        c.raw(&["SHUTDOWN", "ABORT", "NOW"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        c.raw(&["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    // The snapshot cannot be written: SAVE fails and the server stays up.
    assert_eq!(
        c.raw(&["SHUTDOWN", "SAVE"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert!(!srv.server.shutdown.is_requested());
    assert_eq!(c.raw(&["PING"]), "+PONG\r\n");
    // A real shutdown sends no reply: the connection just closes.
    c.send_raw(&Conn::encode(&[b"SHUTDOWN", b"NOSAVE", b"NOW"]));
    assert!(c.is_closed());
    assert!(srv.server.shutdown.is_requested());
}

#[test]
fn shutdown_plain_and_save_force_exit() {
    let _serial = serial();
    for args in [&["SHUTDOWN"][..], &["shutdown", "save", "force"][..]] {
        // SAVE FORCE exits even though the snapshot cannot be written here.
        let srv = common::start_with(|v| v.dir = "/nonexistent/ferrum-test-dir".into());
        let mut c = Conn::connect(srv.addr);
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        c.send_raw(&Conn::encode(&a));
        assert!(c.is_closed(), "{args:?}");
        assert!(srv.server.shutdown.is_requested(), "{args:?}");
    }
}

#[test]
fn config_get() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    );
    // Exact names answer under the name as given; duplicates appear once.
    assert_eq!(
        c.raw(&["CONFIG", "GET", "HZ", "hz"]),
        "*2\r\n$2\r\nHZ\r\n$2\r\n10\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "GET", "maxclients", "timeout", "nosuch"]),
        "*4\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    // Patterns are case-insensitive and never list an option twice.
    assert_eq!(
        c.raw(&["CONFIG", "GET", "H?", "h[xyz]*", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "GET", "databa[sz]es"]),
        "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"
    );
    assert_eq!(c.raw(&["CONFIG", "GET", "zz*"]), "*0\r\n");
    assert_eq!(
        c.raw(&["CONFIG", "GET", "requirepass", "save"]),
        "*4\r\n$11\r\nrequirepass\r\n$0\r\n\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    let Frame::Array(all) = c.cmd(&["CONFIG", "GET", "*"]) else {
        panic!()
    };
    assert_eq!(all.len(), 2 * commands::config::OPTIONS.len());
    assert_eq!(
        c.raw(&["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    // RESP3: a map.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.raw(&["CONFIG", "GET", "port", "databases"]),
        "%2\r\n$4\r\nport\r\n$1\r\n0\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"
    );
}

#[test]
fn config_set() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["CONFIG", "SET", "hz", "20"]), "+OK\r\n");
    assert_eq!(
        c.raw(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "SET", "HZ", "25", "timeout", "7"]),
        "+OK\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "GET", "hz", "timeout"]),
        "*4\r\n$2\r\nhz\r\n$2\r\n25\r\n$7\r\ntimeout\r\n$1\r\n7\r\n"
    );
    let cases: &[(&str, &str)] = &[
        (
            "CONFIG SET x 1",
            "-ERR Unknown option or number of arguments for CONFIG SET - 'x'\r\n",
        ),
        (
            "CONFIG SET port 7000",
            "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n",
        ),
        (
            "CONFIG SET hz 1 HZ 2",
            "-ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter\r\n",
        ),
        (
            "CONFIG SET hz abc",
            "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer\r\n",
        ),
        (
            "CONFIG SET timeout -1",
            "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive\r\n",
        ),
        (
            "CONFIG SET hz 5 maxclients 0",
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n",
        ),
        (
            "CONFIG SET protected-mode maybe",
            "-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n",
        ),
        // The first problem is the one reported.
        (
            "CONFIG SET nosuch 1 port 1",
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
        ),
        (
            "CONFIG SET port 1 nosuch 1",
            "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n",
        ),
        ("CONFIG SET hz 1 timeout", "-ERR syntax error\r\n"),
        (
            "CONFIG SET hz",
            "-ERR wrong number of arguments for 'config|set' command\r\n",
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(c.raw(&words(cmd)), *want, "{cmd}");
    }
    // All or nothing: the accepted hz was not kept when maxclients failed.
    assert_eq!(
        c.raw(&["CONFIG", "GET", "hz", "maxclients"]),
        "*4\r\n$2\r\nhz\r\n$2\r\n25\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    assert_eq!(srv.server.config.read(|v| v.hz), 25);
    // Values with spaces and the empty string.
    assert_eq!(c.raw(&["CONFIG", "SET", "requirepass", "a b"]), "+OK\r\n");
    assert_eq!(
        c.raw(&["CONFIG", "GET", "requirepass"]),
        "*2\r\n$11\r\nrequirepass\r\n$3\r\na b\r\n"
    );
    assert_eq!(c.raw(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert_eq!(srv.server.config.read(|v| v.requirepass.clone()), None);
}

#[test]
fn config_help_and_unknown_subcommand() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let Frame::Array(lines) = c.cmd(&["config", "help"]) else {
        panic!()
    };
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| match l {
            Frame::Simple(s) => String::from_utf8(s.to_vec()).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        lines[0],
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(&lines[lines.len() - 2..], ["HELP", "    Prints this help."]);
    for sub in ["GET", "SET", "RESETSTAT", "REWRITE"] {
        assert!(lines.iter().any(|l| l.starts_with(sub)), "{sub}");
    }
    assert_eq!(
        c.raw(&["CONFIG", "foo"]),
        "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG"]),
        "-ERR wrong number of arguments for 'config' command\r\n"
    );
}

#[test]
fn config_resetstat_clears_statistics() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["CONFIG", "RESETSTAT"]);
    c.raw(&["SET", "k", "v"]);
    c.raw(&["GET", "k"]);
    c.raw(&["GET", "missing"]);
    c.raw(&["INCR", "k"]);
    c.raw(&["NOSUCHCOMMAND"]);
    let before = info_text(&mut c, &["all"]);
    assert!(num(&before, "keyspace_hits") >= 1);
    assert!(num(&before, "keyspace_misses") >= 1);
    assert!(num(&before, "total_error_replies") >= 2);
    assert!(before.contains("\r\ncmdstat_get:calls=2,"), "{before}");
    assert!(before.contains("\r\nerrorstat_ERR:count=2\r\n"), "{before}");
    let dirty = num(&before, "rdb_changes_since_last_save");
    assert_eq!(c.raw(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let after = info_text(&mut c, &["all"]);
    assert_eq!(num(&after, "keyspace_hits"), 0);
    assert_eq!(num(&after, "keyspace_misses"), 0);
    assert_eq!(num(&after, "total_error_replies"), 0);
    assert_eq!(num(&after, "total_connections_received"), 0);
    assert_eq!(
        num(&after, "rdb_changes_since_last_save"),
        dirty,
        "not a statistic"
    );
    let stats: Vec<_> = parse_info(&after)
        .into_iter()
        .filter(|(s, _, _)| s == "Commandstats" || s == "Errorstats")
        .map(|(_, k, v)| (k, v.split_once(",usec=").unwrap().0.to_string()))
        .collect();
    // RESETSTAT is counted once it has run, as in Redis; nothing else was.
    assert_eq!(
        stats,
        [(
            "cmdstat_config|resetstat".to_string(),
            "calls=1".to_string()
        )]
    );
}

#[test]
fn config_rewrite_without_file() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "REWRITE"]),
        "-ERR The server is running without a config file\r\n"
    );
}

/// A server started from a configuration file, as `ferrum-server
/// /path/redis.conf` starts one.
struct FileServer {
    server: Arc<Server>,
    addr: SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FileServer {
    fn start(path: &Path) -> FileServer {
        commands::init();
        let mut values = Values::default();
        let text = std::fs::read_to_string(path).unwrap();
        commands::config::apply_file_text(&mut values, &text).unwrap();
        values.port = 0;
        let server = Arc::new(Server::new(
            values,
            Some(path.to_path_buf()),
            storage::Clock::system(),
        ));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listeners = rt.block_on(ferrum_server::bind(&server)).unwrap();
        let addr = listeners[0].local_addr().unwrap();
        let s = server.clone();
        let thread = std::thread::spawn(move || {
            let _ = rt.block_on(ferrum_server::serve(s, listeners));
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        FileServer {
            server,
            addr,
            thread: Some(thread),
        }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.server.shutdown.request();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn config_rewrite_keeps_the_file_and_updates_options() {
    let _serial = serial();
    let dir = temp_dir("rewrite");
    let path = dir.join("redis.conf");
    std::fs::write(
        &path,
        "# Ferrum test configuration\n\
         port 0\n\
         \n\
         # twice: the second line goes\n\
         hz 20\n\
         hz 30\n\
         lazyfree-lazy-eviction no\n\
         loglevel notice\n",
    )
    .unwrap();
    let srv = FileServer::start(&path);
    // The working directory is always written, as Redis writes it.
    let dir_s = srv.server.config.read(|v| v.dir.clone());
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n30\r\n"
    );
    assert_eq!(
        c.raw(&[
            "CONFIG",
            "SET",
            "hz",
            "15",
            "maxclients",
            "500",
            "requirepass",
            "p w"
        ]),
        "+OK\r\n"
    );
    assert_eq!(c.raw(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        format!(
            "# Ferrum test configuration\n\
             port 0\n\
             \n\
             # twice: the second line goes\n\
             hz 15\n\
             \n\
             lazyfree-lazy-eviction no\n\
             loglevel notice\n\
             # Generated by CONFIG REWRITE\n\
             requirepass \"p w\"\n\
             maxclients 500\n\
             dir \"{dir_s}\"\n"
        )
    );
    // The rewritten file reads back to the running configuration.
    let mut v = Values::default();
    commands::config::apply_file_text(&mut v, &text).unwrap();
    assert_eq!((v.hz, v.maxclients), (15, 500));
    assert_eq!(v.requirepass.as_deref(), Some("p w"));
    // Rewriting again with nothing changed leaves the file as it is.
    assert_eq!(c.raw(&["CONFIG", "REWRITE"]), "+OK\r\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    drop(c);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn info_default_sections_and_layout() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let text = info_text(&mut c, &[]);
    assert_eq!(
        sections(&text),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert!(
        text.starts_with("# Server\r\nredis_version:7.2.4\r\n"),
        "{text}"
    );
    let fields = parse_info(&text);
    let map: HashMap<&str, &str> = fields
        .iter()
        .map(|(_, k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(map["redis_mode"], "standalone");
    assert_eq!(map["process_id"], std::process::id().to_string());
    assert_eq!(map["tcp_port"], srv.addr.port().to_string());
    assert_eq!(map["run_id"], srv.server.run_id);
    assert_eq!(map["run_id"].len(), 40);
    assert_eq!(map["arch_bits"], "64");
    assert_eq!(map["hz"], "10");
    assert_eq!(map["config_file"], "");
    assert_eq!(
        map["listener0"],
        format!("name=tcp,bind=127.0.0.1,port={}", srv.addr.port())
    );
    assert_eq!(map["connected_clients"], "1");
    assert_eq!(map["maxclients"], "10000");
    assert_eq!(map["loading"], "0");
    assert_eq!(map["rdb_bgsave_in_progress"], "0");
    assert_eq!(map["aof_enabled"], "0");
    assert_eq!(map["role"], "master");
    assert_eq!(map["connected_slaves"], "0");
    assert_eq!(map["master_repl_offset"], "0");
    assert_eq!(map["cluster_enabled"], "0");
    let replid = map["master_replid"];
    assert!(
        replid.len() == 40 && replid.bytes().all(|b| b.is_ascii_hexdigit()),
        "{replid}"
    );
    assert_ne!(replid, map["run_id"]);
    for name in [
        "uptime_in_seconds",
        "used_memory",
        "used_memory_rss",
        "used_memory_peak",
        "total_connections_received",
        "total_commands_processed",
        "keyspace_hits",
        "keyspace_misses",
        "expired_keys",
        "rdb_last_save_time",
        "total_error_replies",
    ] {
        assert!(map[name].parse::<u64>().is_ok(), "{name}={}", map[name]);
    }
    for name in ["used_cpu_sys", "used_cpu_user"] {
        let (s, us) = map[name].split_once('.').unwrap();
        assert!(s.parse::<u64>().is_ok() && us.len() == 6, "{name}");
    }
    assert!(map["used_memory_human"].ends_with(['B', 'K', 'M', 'G']));
    assert!(!fields.iter().any(|(s, _, _)| s == "Commandstats"));
}

#[test]
fn info_section_selection() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let server = info_text(&mut c, &["server"]);
    assert_eq!(sections(&server), ["Server"]);
    let two = info_text(&mut c, &["CLIENTS", "keyspace", "clients"]);
    assert_eq!(sections(&two), ["Clients", "Keyspace"]);
    let all = info_text(&mut c, &["all"]);
    assert_eq!(
        sections(&all),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Commandstats",
            "Errorstats",
            "Latencystats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert_eq!(
        sections(&info_text(&mut c, &["everything"])),
        sections(&all)
    );
    let dflt = info_text(&mut c, &["default", "commandstats"]);
    assert!(sections(&dflt).contains(&"Commandstats".to_string()));
    assert!(!sections(&dflt).contains(&"Latencystats".to_string()));
    assert_eq!(c.raw(&["INFO", "nosuch"]), "$0\r\n\r\n");
    // RESP3: verbatim text.
    c.cmd(&["HELLO", "3"]);
    c.send_raw(&Conn::encode(&[b"INFO", b"cluster"]));
    let raw = c.read_raw();
    let body = "# Cluster\r\ncluster_enabled:0\r\n";
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        format!("={}\r\ntxt:{body}\r\n", body.len() + 4)
    );
}

#[test]
fn info_keyspace_commandstats_errorstats() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    // Counts from the earlier tests of this process start from zero.
    assert_eq!(c.raw(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(info_text(&mut c, &["keyspace"]), "# Keyspace\r\n");
    c.raw(&["SET", "a", "1"]);
    c.raw(&["SET", "b", "1"]);
    c.raw(&["EXPIRE", "b", "100"]);
    c.raw(&["SELECT", "2"]);
    c.raw(&["SET", "c", "1"]);
    assert_eq!(
        info_text(&mut c, &["keyspace"]),
        "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n"
    );
    c.raw(&["INCR", "nonnum"]);
    c.raw(&["SET", "s", "x"]);
    c.raw(&["INCR", "s"]);
    c.raw(&["GET"]);
    let stats = info_text(&mut c, &["commandstats"]);
    let line = stats
        .split("\r\n")
        .find(|l| l.starts_with("cmdstat_incr:"))
        .unwrap();
    let rest = line.strip_prefix("cmdstat_incr:calls=2,usec=").unwrap();
    let (usec, rest) = rest.split_once(",usec_per_call=").unwrap();
    let (per_call, rest) = rest.split_once(',').unwrap();
    assert!(usec.parse::<u64>().is_ok());
    let (int_part, frac) = per_call.split_once('.').unwrap();
    assert!(
        int_part.parse::<u64>().is_ok() && frac.len() == 2,
        "{per_call}"
    );
    assert_eq!(rest, "rejected_calls=0,failed_calls=1");
    assert!(stats.contains("\r\ncmdstat_select:calls=1,"));
    assert_eq!(
        info_text(&mut c, &["errorstats"]),
        "# Errorstats\r\nerrorstat_ERR:count=2\r\n"
    );
}

/// INFO stats counts the shard locks commands take and how many of them had
/// to wait for another thread: a hot key hammered from eight threads makes
/// some wait; CONFIG RESETSTAT clears both.
#[test]
fn info_counts_shard_locks_and_contention() {
    let _serial = serial();
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let before = num(&info_text(&mut c, &["stats"]), "ferrum_shard_locks");
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    let text = info_text(&mut c, &["stats"]);
    let locks = num(&text, "ferrum_shard_locks");
    assert!(locks >= before + 100, "{before} -> {locks}");
    // Eight threads on one key, in-process (the server's store directly,
    // so that contention does not depend on socket timing).
    let store = &srv.server.store;
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20_000 {
                    let mut l = store.lock(vec![store.slot(0, b"hot")].into());
                    l.get(0, b"hot");
                }
            });
        }
    });
    let text = info_text(&mut c, &["stats"]);
    let (locks, contended) = (
        num(&text, "ferrum_shard_locks"),
        num(&text, "ferrum_shard_locks_contended"),
    );
    assert!(locks >= 160_100, "{locks}");
    assert!(
        contended > 0 && contended <= locks,
        "{contended} of {locks}"
    );
    assert_eq!(c.raw(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let text = info_text(&mut c, &["stats"]);
    assert!(num(&text, "ferrum_shard_locks_contended") == 0);
}

/// INFO's instantaneous_ops_per_sec and _kbps follow the load (sampled every
/// 100 ms, averaged over 1.6 s, as Redis does) and fall back to 0 when idle.
#[test]
fn instantaneous_metrics_follow_the_load() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let t0 = std::time::Instant::now();
    while t0.elapsed() < Duration::from_millis(1200) {
        for _ in 0..50 {
            c.cmd(&["SET", "k", "v"]);
        }
    }
    let text = info_text(&mut c, &["stats"]);
    assert!(num(&text, "instantaneous_ops_per_sec") > 0, "{text}");
    let kbps: f64 = field(&text, "instantaneous_input_kbps")
        .unwrap()
        .parse()
        .unwrap();
    assert!(kbps > 0.0, "{text}");
    std::thread::sleep(Duration::from_millis(2500));
    let text = info_text(&mut c, &["stats"]);
    // Only the INFO calls themselves run now: at most a few per second.
    assert!(num(&text, "instantaneous_ops_per_sec") < 5, "{text}");
}
