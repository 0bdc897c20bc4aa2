//! RDB persistence end to end: SAVE, LASTSAVE, INFO persistence, loading
//! at start-up (in process and through the binary), SHUTDOWN saving, the
//! `save` option, DUMP and RESTORE with Redis 7.2's replies.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{info_field, start_with, temp_dir, Conn};
use resp::Frame;

fn populate(c: &mut Conn) {
    for cmd in [
        "SET s hello",
        "SET n 42",
        "RPUSH l a b c",
        "HSET h f v g w",
        "SADD si 1 2 3",
        "SADD ss a b",
        "ZADD z 1 a 2.5 b",
        "SET v x EX 1000",
        "SELECT 2",
        "SET other db2",
        "SELECT 0",
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        assert!(!matches!(c.cmd(&args), Frame::Error(_)), "{cmd}");
    }
}

fn check_contents(c: &mut Conn) {
    assert_eq!(c.raw(&["GET", "s"]), "$5\r\nhello\r\n");
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
    assert_eq!(
        c.raw(&["LRANGE", "l", "0", "-1"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(c.raw(&["HGET", "h", "g"]), "$1\r\nw\r\n");
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "si"]), "$6\r\nintset\r\n");
    assert_eq!(c.raw(&["SCARD", "ss"]), ":2\r\n");
    assert_eq!(c.raw(&["ZSCORE", "z", "b"]), "$3\r\n2.5\r\n");
    let Frame::Integer(ttl) = c.cmd(&["TTL", "v"]) else {
        panic!("TTL")
    };
    assert!((990..=1000).contains(&ttl), "{ttl}");
    c.cmd(&["SELECT", "2"]);
    assert_eq!(c.raw(&["GET", "other"]), "$3\r\ndb2\r\n");
    c.cmd(&["SELECT", "0"]);
}

#[test]
fn save_then_load_in_a_new_server() {
    let dir = temp_dir("save");
    let d = dir.display().to_string();
    let srv = start_with(|v| v.dir = d.clone());
    let mut c = Conn::connect(srv.addr);
    populate(&mut c);
    assert_ne!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "0"
    );
    let Frame::Integer(before) = c.cmd(&["LASTSAVE"]) else {
        panic!("LASTSAVE")
    };
    assert_eq!(c.raw(&["SAVE"]), "+OK\r\n");
    assert!(dir.join("dump.rdb").exists());
    assert!(!dir
        .join(format!("temp-{}.rdb", std::process::id()))
        .exists());
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "0"
    );
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    assert_eq!(info_field(&mut c, "persistence", "rdb_saves"), "1");
    let Frame::Integer(after) = c.cmd(&["LASTSAVE"]) else {
        panic!("LASTSAVE")
    };
    assert!(after >= before);
    let file = std::fs::read(dir.join("dump.rdb")).unwrap();
    assert_eq!(&file[..9], b"REDIS0011");

    let d = dir.display().to_string();
    let srv2 = start_with(|v| v.dir = d.clone());
    let stats = commands::persistence::load_on_start(&srv2.server)
        .unwrap()
        .expect("file found");
    assert_eq!(stats.keys, 9);
    let mut c2 = Conn::connect(srv2.addr);
    check_contents(&mut c2);
    assert_eq!(
        info_field(&mut c2, "persistence", "rdb_last_load_keys_loaded"),
        "9"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_into_a_missing_directory_fails() {
    let srv = start_with(|v| v.dir = "/nonexistent/ferrum-test-dir".into());
    let mut c = Conn::connect(srv.addr);
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.raw(&["SAVE"]), "-ERR\r\n");
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "err"
    );
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "1"
    );
}

#[test]
fn shutdown_saves_with_save_points_and_not_with_nosave() {
    for (args, points, saved) in [
        (&["SHUTDOWN"][..], "3600 1", true),
        (&["SHUTDOWN"][..], "", false),
        (&["SHUTDOWN", "NOSAVE"][..], "3600 1", false),
        (&["SHUTDOWN", "SAVE"][..], "", true),
    ] {
        let dir = temp_dir("shutdown");
        let d = dir.display().to_string();
        let srv = start_with(|v| v.dir = d.clone());
        let mut c = Conn::connect(srv.addr);
        assert_eq!(c.raw(&["CONFIG", "SET", "save", points]), "+OK\r\n");
        c.cmd(&["SET", "k", "v"]);
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        c.send_raw(&Conn::encode(&a));
        assert!(c.is_closed());
        assert_eq!(dir.join("dump.rdb").exists(), saved, "{args:?} {points:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn save_option_takes_pairs() {
    let srv = start_with(|_| {});
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "SET", "save", "3600  1 300 100"]),
        "+OK\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$14\r\n3600 1 300 100\r\n"
    );
    assert_eq!(
        srv.server.config.read(|v| v.save_points()),
        vec![(3600, 1), (300, 100)]
    );
    assert_eq!(
        c.raw(&["CONFIG", "SET", "save", "3600"]),
        "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"
    );
    assert_eq!(c.raw(&["CONFIG", "SET", "save", ""]), "+OK\r\n");
    assert!(srv.server.config.read(|v| v.save_points()).is_empty());
}

fn bulk(f: Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("not a bulk: {other:?}"),
    }
}

#[test]
fn dump_and_restore() {
    let srv = start_with(|_| {});
    let mut c = Conn::connect(srv.addr);
    c.cmd(&["SET", "s", "hello"]);
    let p = bulk(c.cmd(&["DUMP", "s"]));
    // Redis 7.2's exact payload for "hello".
    assert_eq!(&p[..9], b"\x00\x05hello\x0b\x00");
    assert_eq!(c.raw(&["DUMP", "nokey"]), "$-1\r\n");
    let restore = |c: &mut Conn, extra: &[&[u8]]| {
        let mut a: Vec<&[u8]> = vec![b"RESTORE"];
        a.extend_from_slice(extra);
        c.send_raw(&Conn::encode(&a));
        String::from_utf8_lossy(&c.read_raw()).into_owned()
    };
    assert_eq!(
        restore(&mut c, &[b"s", b"0", &p]),
        "-BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(
        restore(&mut c, &[b"t", b"-1", &p]),
        "-ERR Invalid TTL value, must be >= 0\r\n"
    );
    assert_eq!(
        restore(&mut c, &[b"t", b"x", &p]),
        "-ERR value is not an integer or out of range\r\n"
    );
    let mut bad = p.clone();
    bad[3] ^= 1;
    assert_eq!(
        restore(&mut c, &[b"t", b"0", &bad]),
        "-ERR DUMP payload version or checksum are wrong\r\n"
    );
    assert_eq!(
        restore(&mut c, &[b"t", b"0", &p, b"BOGUS"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        restore(&mut c, &[b"t", b"0", &p, b"IDLETIME", b"-1"]),
        "-ERR Invalid IDLETIME value, must be >= 0\r\n"
    );
    assert_eq!(
        restore(&mut c, &[b"t", b"0", &p, b"FREQ", b"256"]),
        "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
    );
    // A payload whose checksum is right but whose body is not a value.
    let mut body = vec![0u8, 0x3f, b'x', 11, 0];
    let crc = persistence::crc::crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        restore(&mut c, &[b"t", b"0", &body]),
        "-ERR Bad data format\r\n"
    );
    assert_eq!(restore(&mut c, &[b"t", b"0", &p]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "t"]), "$5\r\nhello\r\n");
    assert_eq!(c.raw(&["TTL", "t"]), ":-1\r\n");
    // REPLACE with a relative TTL and an idle time.
    c.cmd(&["SET", "u", "old"]);
    assert_eq!(
        restore(
            &mut c,
            &[b"u", b"100000", &p, b"REPLACE", b"IDLETIME", b"1000"]
        ),
        "+OK\r\n"
    );
    // Read the idle time first: GET refreshes it.
    let Frame::Integer(idle) = c.cmd(&["OBJECT", "IDLETIME", "u"]) else {
        panic!("IDLETIME")
    };
    assert!((999..=1001).contains(&idle), "{idle}");
    assert_eq!(c.raw(&["GET", "u"]), "$5\r\nhello\r\n");
    let Frame::Integer(pttl) = c.cmd(&["PTTL", "u"]) else {
        panic!("PTTL")
    };
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    // ABSTTL in the past: the replaced key is deleted and nothing stored.
    assert_eq!(
        restore(&mut c, &[b"u", b"1000", &p, b"REPLACE", b"ABSTTL"]),
        "+OK\r\n"
    );
    assert_eq!(c.raw(&["EXISTS", "u"]), ":0\r\n");
    // ABSTTL in the future.
    assert_eq!(
        restore(&mut c, &[b"w", b"4102444800000", &p, b"ABSTTL"]),
        "+OK\r\n"
    );
    assert_eq!(c.raw(&["PEXPIRETIME", "w"]), ":4102444800000\r\n");
    // Every type crosses DUMP/RESTORE unchanged.
    populate(&mut c);
    for (k, read) in [
        ("l", &["LRANGE", "l", "0", "-1"][..]),
        ("h", &["HGETALL", "h"][..]),
        ("si", &["SMEMBERS", "si"][..]),
        ("z", &["ZRANGE", "z", "0", "-1", "WITHSCORES"][..]),
    ] {
        let payload = bulk(c.cmd(&["DUMP", k]));
        let copy = format!("{k}-copy");
        assert_eq!(
            restore(&mut c, &[copy.as_bytes(), b"0", &payload]),
            "+OK\r\n"
        );
        let orig = c.raw(read);
        let mut r2 = read.to_vec();
        r2[1] = &copy;
        assert_eq!(c.raw(&r2), orig, "{k}");
    }
}

/// The binary loads `dump.rdb` at start-up, and refuses to start on a
/// corrupt one with a message naming the file.
#[test]
fn binary_loads_at_start_and_refuses_a_corrupt_file() {
    let dir = temp_dir("bin");
    let d = dir.display().to_string();
    let srv = start_with(|v| v.dir = d.clone());
    let mut c = Conn::connect(srv.addr);
    populate(&mut c);
    assert_eq!(c.raw(&["SAVE"]), "+OK\r\n");
    drop(c);
    drop(srv);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrum-server"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &d,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut c = connect_when_up(port);
    check_contents(&mut c);
    let _ = child.kill();
    let _ = child.wait();

    // Corrupt one byte in the middle: the checksum catches it.
    let path = dir.join("dump.rdb");
    let mut file = std::fs::read(&path).unwrap();
    let mid = file.len() / 2;
    file[mid] ^= 0x20;
    std::fs::write(&path, &file).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrum-server"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &d,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("dump.rdb"), "{log}");
    assert!(log.contains("Fatal error loading the DB"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The CRC-64 footer of an RDB file, and the CRC-64 of what precedes it.
fn crc_footer(file: &[u8]) -> (u64, u64) {
    let n = file.len();
    let stored = u64::from_le_bytes(file[n - 8..].try_into().unwrap());
    (stored, persistence::crc::crc64(0, &file[..n - 8]))
}

/// Runs BGSAVE and waits for it to finish successfully.
fn bgsave(c: &mut Conn) {
    let before = info_field(c, "persistence", "rdb_saves");
    assert_eq!(c.raw(&["BGSAVE"]), "+Background saving started\r\n");
    let start = Instant::now();
    while info_field(c, "persistence", "rdb_saves") == before {
        assert!(start.elapsed() < Duration::from_secs(20), "BGSAVE not done");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(info_field(c, "persistence", "rdb_last_bgsave_status"), "ok");
}

/// `rdbcompression` (mutable) and `rdbchecksum` (immutable, as in Redis):
/// CONFIG GET/SET with Redis 7's replies, and SAVE, BGSAVE and DUMP follow
/// them.
#[test]
fn rdbcompression_and_rdbchecksum_options() {
    let dir = temp_dir("rdbopts");
    let d = dir.display().to_string();
    let srv = start_with(|v| v.dir = d.clone());
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "GET", "rdbcompression"]),
        "*2\r\n$14\r\nrdbcompression\r\n$3\r\nyes\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "GET", "rdbchecksum"]),
        "*2\r\n$11\r\nrdbchecksum\r\n$3\r\nyes\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "SET", "rdbcompression", "maybe"]),
        "-ERR CONFIG SET failed (possibly related to argument 'rdbcompression') - argument must be 'yes' or 'no'\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "SET", "rdbchecksum", "no"]),
        "-ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable config\r\n"
    );
    let long = "abcdefgh".repeat(100);
    c.cmd(&["SET", "long", &long]);
    let path = dir.join("dump.rdb");

    // The defaults: compressed and checksummed.
    assert_eq!(c.raw(&["SAVE"]), "+OK\r\n");
    let file = std::fs::read(&path).unwrap();
    assert!(!contains(&file, long.as_bytes()));
    let (stored, computed) = crc_footer(&file);
    assert_eq!(stored, computed);
    let p = bulk(c.cmd(&["DUMP", "long"]));
    assert_eq!(p[1], 0xC3, "LZF-compressed payload");

    // Compression off: SAVE, BGSAVE and DUMP write the string as it is.
    assert_eq!(c.raw(&["CONFIG", "SET", "rdbcompression", "no"]), "+OK\r\n");
    assert_eq!(
        c.raw(&["CONFIG", "GET", "rdbcompression"]),
        "*2\r\n$14\r\nrdbcompression\r\n$2\r\nno\r\n"
    );
    assert_eq!(c.raw(&["SAVE"]), "+OK\r\n");
    let file = std::fs::read(&path).unwrap();
    assert!(contains(&file, long.as_bytes()));
    let (stored, computed) = crc_footer(&file);
    assert_eq!(stored, computed);
    std::fs::remove_file(&path).unwrap();
    bgsave(&mut c);
    let file = std::fs::read(&path).unwrap();
    assert!(contains(&file, long.as_bytes()));
    let (stored, computed) = crc_footer(&file);
    assert_eq!(stored, computed);
    let p = bulk(c.cmd(&["DUMP", "long"]));
    assert!(contains(&p, long.as_bytes()));
    // The DUMP payload keeps its CRC whatever the options.
    let n = p.len();
    let crc = u64::from_le_bytes(p[n - 8..].try_into().unwrap());
    assert_eq!(crc, persistence::crc::crc64(0, &p[..n - 8]));
    c.send_raw(&Conn::encode(&[b"RESTORE", b"copy", b"0", &p]));
    assert_eq!(c.read_raw(), b"+OK\r\n");
    assert_eq!(
        bulk(c.cmd(&["GET", "copy"])),
        long.as_bytes(),
        "restored copy"
    );

    // Back on, in any case.
    assert_eq!(
        c.raw(&["CONFIG", "SET", "rdbcompression", "YES"]),
        "+OK\r\n"
    );
    bgsave(&mut c);
    let file = std::fs::read(&path).unwrap();
    assert!(!contains(&file, long.as_bytes()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--rdbchecksum no` on the command line: SAVE and BGSAVE end the file
/// with 8 zero bytes, which loads.
#[test]
fn rdbchecksum_no_from_the_command_line() {
    let dir = temp_dir("rdbnocrc");
    let d = dir.display().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Killed when dropped, even when an assertion fails first.
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Command::new(env!("CARGO_BIN_EXE_ferrum-server"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &d,
            "--rdbchecksum",
            "no",
            "--rdbcompression",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Child)
        .unwrap();
    let mut c = connect_when_up(port);
    assert_eq!(
        c.raw(&["CONFIG", "GET", "rdbchecksum"]),
        "*2\r\n$11\r\nrdbchecksum\r\n$2\r\nno\r\n"
    );
    assert_eq!(
        c.raw(&["CONFIG", "GET", "rdbcompression"]),
        "*2\r\n$14\r\nrdbcompression\r\n$2\r\nno\r\n"
    );
    let long = "abcdefgh".repeat(100);
    c.cmd(&["SET", "long", &long]);
    populate(&mut c);
    let path = dir.join("dump.rdb");
    assert_eq!(c.raw(&["SAVE"]), "+OK\r\n");
    let saved = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bgsave(&mut c);
    drop(child);
    let bgsaved = std::fs::read(&path).unwrap();
    for file in [&saved, &bgsaved] {
        assert_eq!(file[file.len() - 8..], [0u8; 8]);
        assert!(contains(file, long.as_bytes()));
    }
    // Both files load (the zero CRC is not checked).
    for file in [saved, bgsaved] {
        std::fs::write(&path, &file).unwrap();
        let srv = start_with(|v| v.dir = d.clone());
        let stats = commands::persistence::load_on_start(&srv.server)
            .unwrap()
            .expect("file found");
        assert_eq!(stats.keys, 10);
        let mut c = Conn::connect(srv.addr);
        check_contents(&mut c);
        assert_eq!(bulk(c.cmd(&["GET", "long"])), long.as_bytes());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Connects to a server process started on `port` once it accepts.
fn connect_when_up(port: u16) -> Conn {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(s);
            return Conn::connect(format!("127.0.0.1:{port}").parse().unwrap());
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no start");
        std::thread::sleep(Duration::from_millis(50));
    }
}
