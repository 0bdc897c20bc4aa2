//! The string command group end to end, checked against exact reply bytes.
//!
//! The expected bytes were taken from a real redis-server. To re-check them,
//! run the suite against one (it is flushed first):
//!
//! ```text
//! FERRUM_TESTS_AGAINST=127.0.0.1:6379 cargo test -p ferrum-server --test string -- --test-threads=1
//! ```

mod common;

use std::time::Duration;

use common::*;

const NIL: &str = "$-1\r\n";
const OK: &str = "+OK\r\n";
const EMPTY: &str = "$0\r\n\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const OVERFLOW: &str = "-ERR increment or decrement would overflow\r\n";
const TOO_BIG: &str = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";

// ---------------------------------------------------------------------------
// GET / SET
// ---------------------------------------------------------------------------

#[test]
fn get_and_set_round_trip() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("GET k", NIL),
            ("SET k hello", OK),
            ("GET k", "$5\r\nhello\r\n"),
            ("SET k world", OK),
            ("GET k", "$5\r\nworld\r\n"),
            // Integers are stored compactly but read back as their text.
            ("SET n 123", OK),
            ("GET n", "$3\r\n123\r\n"),
            ("SET n -9223372036854775808", OK),
            ("GET n", "$20\r\n-9223372036854775808\r\n"),
            ("SET n 9223372036854775807", OK),
            ("GET n", "$19\r\n9223372036854775807\r\n"),
            // Non-canonical numbers keep their exact text.
            ("SET n 007", OK),
            ("GET n", "$3\r\n007\r\n"),
            ("SET n -0", OK),
            ("GET n", "$2\r\n-0\r\n"),
            ("SET n 9223372036854775808", OK),
            ("GET n", "$19\r\n9223372036854775808\r\n"),
            ("get k", "$5\r\nworld\r\n"),
        ],
    );
    assert_eq!(bin(&mut c, &[b"SET", b"e", b""]), b"+OK\r\n");
    assert_eq!(bin(&mut c, &[b"GET", b"e"]), b"$0\r\n\r\n");
    let binary: &[u8] = b"a\x00b\r\nc\xff";
    assert_eq!(bin(&mut c, &[b"SET", b"b\x00in", binary]), b"+OK\r\n");
    assert_eq!(
        bin(&mut c, &[b"GET", b"b\x00in"]),
        b"$7\r\na\x00b\r\nc\xff\r\n"
    );
    // Around the sizes where the storage changes form.
    for n in [14, 15, 22, 23, 44, 45, 100, 1 << 20] {
        let v = vec![b'x'; n];
        assert_eq!(bin(&mut c, &[b"SET", b"big", &v]), b"+OK\r\n");
        let mut want = format!("${n}\r\n").into_bytes();
        want.extend_from_slice(&v);
        want.extend_from_slice(b"\r\n");
        assert_eq!(bin(&mut c, &[b"GET", b"big"]), want, "{n} bytes");
    }
    check(
        &mut c,
        &[
            (
                "GET",
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                "GET a b",
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                "SET k",
                "-ERR wrong number of arguments for 'set' command\r\n",
            ),
        ],
    );
}

#[test]
fn set_nx_xx_and_get() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SET k v XX", NIL),
            ("EXISTS k", ":0\r\n"),
            ("SET k v NX", OK),
            ("SET k w NX", NIL),
            ("GET k", "$1\r\nv\r\n"),
            ("SET k w XX", OK),
            ("GET k", "$1\r\nw\r\n"),
            // GET replies with the old value whether or not the write happens.
            ("SET k x GET", "$1\r\nw\r\n"),
            ("SET new v GET", NIL),
            ("GET new", "$1\r\nv\r\n"),
            ("SET k y NX GET", "$1\r\nx\r\n"),
            ("GET k", "$1\r\nx\r\n"),
            ("SET k2 v NX GET", NIL),
            ("GET k2", "$1\r\nv\r\n"),
            ("SET k3 v XX GET", NIL),
            ("EXISTS k3", ":0\r\n"),
            ("SET k z XX GET", "$1\r\nx\r\n"),
            ("SET k z GET GET", "$1\r\nz\r\n"),
            ("SET n 42", OK),
            ("SET n 43 GET", "$2\r\n42\r\n"),
            // Repeating a flag is allowed; options are case-insensitive.
            ("SET k v NX NX", NIL),
            ("SET k v xx Xx", OK),
            ("set k v nx", NIL),
        ],
    );
}

#[test]
fn set_option_syntax_errors() {
    let (_t, mut c) = client();
    for line in [
        "SET k v NX XX",
        "SET k v XX NX",
        "SET k v EX 10 PX 100",
        "SET k v PX 100 EX 10",
        "SET k v EX 10 EXAT 10",
        "SET k v PXAT 10 PX 10",
        "SET k v EXAT 10 PXAT 10",
        "SET k v KEEPTTL EX 1",
        "SET k v EX 1 KEEPTTL",
        "SET k v KEEPTTL PXAT 1",
        "SET k v EX",
        "SET k v PX",
        "SET k v EXAT",
        "SET k v PXAT",
        "SET k v NX EX",
        "SET k v PERSIST",
        "SET k v foo",
        "SET k v NXX",
        "SET k v EX10",
        "SET k v GETT",
    ] {
        assert_eq!(r(&mut c, line), SYNTAX, "{line}");
    }
    assert_eq!(r(&mut c, "EXISTS k"), ":0\r\n");
    check(
        &mut c,
        &[
            ("SET k v KEEPTTL KEEPTTL", OK),
            ("SET k v EX 10 EX 20", OK),
            ("TTL k", ":20\r\n"),
            ("SET k v Px 5000 pX 90000", OK),
            ("TTL k", ":90\r\n"),
            ("SET k v exat 4102444800 EXAT 4102444801", OK),
            ("EXPIRETIME k", ":4102444801\r\n"),
        ],
    );
}

#[test]
fn set_expire_errors() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            (
                "SET k v EX 0",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                "SET k v EX -1",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                "SET k v PX 0",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                "SET k v EXAT 0",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                "SET k v PXAT -5",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            ("SET k v EX abc", NOT_INT),
            ("SET k v EX 1.5", NOT_INT),
            ("SET k v EX 01", NOT_INT),
            ("SET k v EX +1", NOT_INT),
            ("SET k v EX 9223372036854775808", NOT_INT),
            // Seconds that overflow when turned into milliseconds...
            (
                "SET k v EX 9223372036854776",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                "SET k v EXAT 9223372036854776",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            // ...or when the current time is added.
            (
                "SET k v EX 9223372036854775",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                "SET k v PX 9223372036854775807",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            // The time is checked before NX/XX and before GET.
            (
                "SET k v NX EX 0",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            ("SET k v GET EX abc", NOT_INT),
            ("EXISTS k", ":0\r\n"),
            // Absolute times that fit are accepted, however far away.
            ("SET k v EXAT 9223372036854775", OK),
            ("EXPIRETIME k", ":9223372036854775\r\n"),
            ("SET k v PXAT 9223372036854775807", OK),
            ("PEXPIRETIME k", ":9223372036854775807\r\n"),
        ],
    );
}

#[test]
fn set_expiry_and_keepttl() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SET k v EX 100", OK),
            ("TTL k", ":100\r\n"),
            ("SET k v PX 100000", OK),
            ("TTL k", ":100\r\n"),
            ("SET k v EXAT 4102444800", OK),
            ("EXPIRETIME k", ":4102444800\r\n"),
            ("SET k v PXAT 4102444800123", OK),
            ("PEXPIRETIME k", ":4102444800123\r\n"),
            ("SET k w KEEPTTL", OK),
            ("PEXPIRETIME k", ":4102444800123\r\n"),
            ("SET k w XX KEEPTTL GET", "$1\r\nw\r\n"),
            ("PEXPIRETIME k", ":4102444800123\r\n"),
            ("SET k v NX EX 5", NIL),
            ("PEXPIRETIME k", ":4102444800123\r\n"),
            // A plain SET makes the key persistent.
            ("SET k v", OK),
            ("TTL k", ":-1\r\n"),
            ("SET k v EX 100 GET", "$1\r\nv\r\n"),
            ("TTL k", ":100\r\n"),
            ("SET k v GET", "$1\r\nv\r\n"),
            ("TTL k", ":-1\r\n"),
            ("SET gone v PX 30", OK),
            // An absolute time already past: stored, then gone on access.
            ("SET past v PXAT 1", OK),
            ("GET past", NIL),
            ("EXISTS past", ":0\r\n"),
        ],
    );
    std::thread::sleep(Duration::from_millis(60));
    check(
        &mut c,
        &[
            ("GET gone", NIL),
            ("SET gone v XX", NIL),
            ("SET gone v NX GET", NIL),
            ("GET gone", "$1\r\nv\r\n"),
        ],
    );
}

#[test]
fn setnx_setex_psetex() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SETNX k v", ":1\r\n"),
            ("SETNX k w", ":0\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("SETEX k 100 w", OK),
            ("GET k", "$1\r\nw\r\n"),
            ("TTL k", ":100\r\n"),
            ("SETNX k x", ":0\r\n"),
            ("TTL k", ":100\r\n"),
            ("PSETEX k 100000 x", OK),
            ("TTL k", ":100\r\n"),
            ("GET k", "$1\r\nx\r\n"),
            (
                "SETEX k 0 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "SETEX k -1 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            ("SETEX k abc v", NOT_INT),
            (
                "SETEX k 9223372036854776 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "SETEX k 9223372036854775 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "PSETEX k 0 v",
                "-ERR invalid expire time in 'psetex' command\r\n",
            ),
            (
                "PSETEX k 9223372036854775807 v",
                "-ERR invalid expire time in 'psetex' command\r\n",
            ),
            ("PSETEX k 1.5 v", NOT_INT),
            ("GET k", "$1\r\nx\r\n"),
            (
                "SETEX k 10",
                "-ERR wrong number of arguments for 'setex' command\r\n",
            ),
            (
                "SETNX k",
                "-ERR wrong number of arguments for 'setnx' command\r\n",
            ),
            (
                "PSETEX k 10 v extra",
                "-ERR wrong number of arguments for 'psetex' command\r\n",
            ),
            ("PSETEX short 20 v", OK),
        ],
    );
    std::thread::sleep(Duration::from_millis(50));
    check(
        &mut c,
        &[
            ("GET short", NIL),
            ("SETNX short v", ":1\r\n"),
            ("TTL short", ":-1\r\n"),
        ],
    );
}

// ---------------------------------------------------------------------------
// GETEX / GETDEL / GETSET
// ---------------------------------------------------------------------------

#[test]
fn getex_options() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("GETEX missing", NIL),
            ("SET k v", OK),
            ("GETEX k", "$1\r\nv\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETEX k EX 100", "$1\r\nv\r\n"),
            ("TTL k", ":100\r\n"),
            ("GETEX k", "$1\r\nv\r\n"),
            ("TTL k", ":100\r\n"),
            ("GETEX k PX 200000", "$1\r\nv\r\n"),
            ("TTL k", ":200\r\n"),
            ("GETEX k EXAT 4102444800", "$1\r\nv\r\n"),
            ("EXPIRETIME k", ":4102444800\r\n"),
            ("GETEX k PXAT 4102444800123", "$1\r\nv\r\n"),
            ("PEXPIRETIME k", ":4102444800123\r\n"),
            ("GETEX k PERSIST", "$1\r\nv\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETEX k persist PERSIST", "$1\r\nv\r\n"),
            ("GETEX k ex 10 EX 20", "$1\r\nv\r\n"),
            ("TTL k", ":20\r\n"),
            // An absolute time already past deletes the key.
            ("GETEX k EXAT 1", "$1\r\nv\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SET k v", OK),
            ("GETEX k PXAT 1", "$1\r\nv\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SET n 12", OK),
            ("GETEX n EX 50", "$2\r\n12\r\n"),
        ],
    );
}

#[test]
fn getex_errors() {
    let (_t, mut c) = client();
    for line in [
        "GETEX k EX 1 PX 2",
        "GETEX k EX 1 PERSIST",
        "GETEX k PERSIST EX 1",
        "GETEX k PERSIST PXAT 1",
        "GETEX k EXAT 1 PXAT 1",
        "GETEX k KEEPTTL",
        "GETEX k NX",
        "GETEX k XX",
        "GETEX k GET",
        "GETEX k EX",
        "GETEX k foo",
    ] {
        assert_eq!(r(&mut c, line), SYNTAX, "{line} (missing key)");
    }
    // A missing key answers nil before the time is even looked at.
    check(
        &mut c,
        &[
            ("GETEX k EX -1", NIL),
            ("GETEX k EX abc", NIL),
            ("SET k v", OK),
            (
                "GETEX k EX 0",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k EX -1",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k PX 0",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k EXAT 0",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k PXAT -1",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            ("GETEX k EX abc", NOT_INT),
            (
                "GETEX k EX 9223372036854775",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k EX 9223372036854776",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                "GETEX k PX 9223372036854775807",
                "-ERR invalid expire time in 'getex' command\r\n",
            ),
            ("GETEX k EX 1 PX 2", SYNTAX),
            ("TTL k", ":-1\r\n"),
            (
                "GETEX",
                "-ERR wrong number of arguments for 'getex' command\r\n",
            ),
        ],
    );
}

#[test]
fn getdel_and_getset() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("GETDEL k", NIL),
            ("SET k v", OK),
            ("GETDEL k", "$1\r\nv\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("GETDEL k", NIL),
            ("SET n 99", OK),
            ("GETDEL n", "$2\r\n99\r\n"),
            ("GETSET k a", NIL),
            ("GET k", "$1\r\na\r\n"),
            ("GETSET k b", "$1\r\na\r\n"),
            ("GET k", "$1\r\nb\r\n"),
            ("SET k c EX 100", OK),
            ("GETSET k d", "$1\r\nc\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETSET k 12", "$1\r\nd\r\n"),
            ("OBJECT ENCODING k", "$3\r\nint\r\n"),
            (
                "GETDEL k v",
                "-ERR wrong number of arguments for 'getdel' command\r\n",
            ),
            (
                "GETSET k",
                "-ERR wrong number of arguments for 'getset' command\r\n",
            ),
        ],
    );
}

// ---------------------------------------------------------------------------
// MGET / MSET / MSETNX
// ---------------------------------------------------------------------------

#[test]
fn mget_mset_msetnx() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("MGET a", "*1\r\n$-1\r\n"),
            ("MSET a 1 b 2 c 3", OK),
            (
                "MGET a b c d",
                "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n",
            ),
            ("MGET a a", "*2\r\n$1\r\n1\r\n$1\r\n1\r\n"),
            ("MSET a x a y", OK),
            ("GET a", "$1\r\ny\r\n"),
            (
                "MSET a",
                "-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                "MSET a 1 b",
                "-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                "MSETNX a 1 b",
                "-ERR wrong number of arguments for 'msetnx' command\r\n",
            ),
            (
                "MGET",
                "-ERR wrong number of arguments for 'mget' command\r\n",
            ),
            // One existing key stops MSETNX from writing anything.
            ("MSETNX d 4 a 5", ":0\r\n"),
            ("MGET d a", "*2\r\n$-1\r\n$1\r\ny\r\n"),
            ("MSETNX d 4 e 5", ":1\r\n"),
            ("MGET d e", "*2\r\n$1\r\n4\r\n$1\r\n5\r\n"),
            ("MSETNX f 1 f 2", ":1\r\n"),
            ("GET f", "$1\r\n2\r\n"),
            // MSET clears any time to live.
            ("SET t v EX 100", OK),
            ("MSET t w", OK),
            ("TTL t", ":-1\r\n"),
        ],
    );
    let binary: &[u8] = b"\x00\r\n";
    assert_eq!(
        bin(&mut c, &[b"MSET", b"x\x00", binary, b"y", b""]),
        b"+OK\r\n"
    );
    assert_eq!(
        bin(&mut c, &[b"MGET", b"x\x00", b"y"]),
        b"*2\r\n$3\r\n\x00\r\n\r\n$0\r\n\r\n"
    );
}

#[test]
fn mset_is_atomic_across_shards() {
    let t = target();
    // Writers replace 20 keys together; readers must never see a mix.
    let keys: Vec<String> = (0..20).map(|i| format!("atomic:{i}")).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2 {
        let mut c = t.conn();
        let keys = keys.clone();
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let v = format!("{w}-{n}");
                let mut args: Vec<&str> = vec!["MSET"];
                for k in &keys {
                    args.push(k);
                    args.push(&v);
                }
                assert_eq!(c.raw(&args), OK);
                n += 1;
            }
        }));
    }
    let mut c = t.conn();
    let mut mget: Vec<&str> = vec!["MGET"];
    mget.extend(keys.iter().map(String::as_str));
    for _ in 0..300 {
        match c.cmd(&mget) {
            resp::Frame::Array(items) => {
                let first = &items[0];
                assert!(items.iter().all(|x| x == first), "torn MSET: {items:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

#[test]
fn incr_decr_family() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("INCR n", ":1\r\n"),
            ("INCR n", ":2\r\n"),
            ("DECR n", ":1\r\n"),
            ("DECR n", ":0\r\n"),
            ("DECR n", ":-1\r\n"),
            ("INCRBY n 10", ":9\r\n"),
            ("INCRBY n -20", ":-11\r\n"),
            ("DECRBY n -11", ":0\r\n"),
            ("DECRBY n 5", ":-5\r\n"),
            ("INCRBY missing 5", ":5\r\n"),
            ("DECRBY missing2 5", ":-5\r\n"),
            ("GET n", "$2\r\n-5\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            // Values that are text but read as canonical integers work.
            ("SET s 41", OK),
            ("APPEND s 0", ":3\r\n"),
            ("INCR s", ":411\r\n"),
            // Bounds.
            ("SET max 9223372036854775807", OK),
            ("INCR max", OVERFLOW),
            ("INCRBY max 1", OVERFLOW),
            ("DECRBY max -1", OVERFLOW),
            ("INCRBY max 0", ":9223372036854775807\r\n"),
            ("DECR max", ":9223372036854775806\r\n"),
            ("SET min -9223372036854775808", OK),
            ("DECR min", OVERFLOW),
            ("INCRBY min -1", OVERFLOW),
            ("DECRBY min 1", OVERFLOW),
            ("DECRBY min -9223372036854775807", ":-1\r\n"),
            ("INCRBY x -9223372036854775808", ":-9223372036854775808\r\n"),
            (
                "DECRBY y -9223372036854775808",
                "-ERR decrement would overflow\r\n",
            ),
            ("DECRBY y 9223372036854775807", ":-9223372036854775807\r\n"),
            ("GET max", "$19\r\n9223372036854775806\r\n"),
        ],
    );
}

#[test]
fn incr_errors() {
    let (_t, mut c) = client();
    for v in [
        "abc",
        "1.5",
        " 1",
        "1 ",
        "+1",
        "01",
        "-0",
        "",
        "9223372036854775808",
        "-9223372036854775809",
        "10000000000000000000000",
        "1e3",
        "0x10",
    ] {
        assert_eq!(c.raw(&["SET", "v", v]), OK);
        for cmd in ["INCR v", "DECR v", "INCRBY v 1", "DECRBY v 1"] {
            assert_eq!(r(&mut c, cmd), NOT_INT, "{cmd} on {v:?}");
        }
        assert_eq!(c.raw(&["GET", "v"]), bulk(v), "unchanged");
    }
    check(
        &mut c,
        &[
            ("SET v 5", OK),
            ("INCRBY v abc", NOT_INT),
            ("INCRBY v 1.0", NOT_INT),
            ("INCRBY v 9223372036854775808", NOT_INT),
            ("DECRBY v 01", NOT_INT),
            ("INCRBY v +1", NOT_INT),
            ("INCRBY nokey x", NOT_INT),
            ("EXISTS nokey", ":0\r\n"),
            ("GET v", "$1\r\n5\r\n"),
            (
                "INCR",
                "-ERR wrong number of arguments for 'incr' command\r\n",
            ),
            (
                "INCRBY v",
                "-ERR wrong number of arguments for 'incrby' command\r\n",
            ),
            (
                "DECR a b",
                "-ERR wrong number of arguments for 'decr' command\r\n",
            ),
        ],
    );
}

#[test]
fn counters_keep_ttl() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SET k 5 EX 100", OK),
            ("INCR k", ":6\r\n"),
            ("TTL k", ":100\r\n"),
            ("DECRBY k 3", ":3\r\n"),
            ("TTL k", ":100\r\n"),
            ("INCRBYFLOAT k 1.5", "$3\r\n4.5\r\n"),
            ("TTL k", ":100\r\n"),
            ("SET gone 5 PX 30", OK),
        ],
    );
    std::thread::sleep(Duration::from_millis(60));
    check(&mut c, &[("INCR gone", ":1\r\n"), ("TTL gone", ":-1\r\n")]);
}

#[test]
fn incrbyfloat_matches_redis_text() {
    let (_t, mut c) = client();
    // (initial value or "" for none, increment, stored result)
    let cases: &[(&str, &str, &str)] = &[
        ("10.50", "0.1", "10.6"),
        ("0.1", "0.2", "0.3"),
        ("", "5.0e3", "5000"),
        ("", "1e20", "100000000000000000000"),
        ("", "-1.5", "-1.5"),
        ("3", "1.5", "4.5"),
        ("1", "1.0", "2"),
        ("1", "-1", "0"),
        ("5", "-5.5", "-0.5"),
        ("", "1.2345678901234567e25", "12345678901234567000096768"),
        ("1", "5e30", "4999999999999999999917321879552"),
        ("", "0x10", "16"),
        ("", "0x1.8p1", "3"),
        ("", ".5", "0.5"),
        ("", "5.", "5"),
        ("", "+7", "7"),
        ("", "1e-17", "0.00000000000000001"),
        ("", "5e-18", "0"),
        ("", "1e-400", "0"),
        ("", "-0", "0"),
        ("", "-1e-20", "0"),
        ("", "3.0000000000000000001", "3"),
        ("9223372036854775807", "1", "9223372036854775808"),
        ("-9223372036854775808", "-1.5", "-9223372036854775810"),
        ("1.5e3", "0", "1500"),
        ("0x10", "0", "16"),
        ("", "123456789.123456789", "123456789.12345678899873747"),
    ];
    for (i, (start, by, want)) in cases.iter().enumerate() {
        let key = format!("f{i}");
        if !start.is_empty() {
            assert_eq!(c.raw(&["SET", &key, start]), OK);
        }
        assert_eq!(
            c.raw(&["INCRBYFLOAT", &key, by]),
            bulk(want),
            "{start:?} + {by}"
        );
        assert_eq!(c.raw(&["GET", &key]), bulk(want), "stored {start:?} + {by}");
    }
    // Repeated increments accumulate in extended precision.
    for want in ["0.1", "0.2", "0.3", "0.4", "0.5"] {
        assert_eq!(c.raw(&["INCRBYFLOAT", "acc", "0.1"]), bulk(want));
    }
    // Huge but finite values are written out in full.
    let v = match c.cmd(&["INCRBYFLOAT", "huge", "1e400"]) {
        resp::Frame::Bulk(v) => v,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(v.len(), 401);
    assert!(v.starts_with(b"10000000000000000000281880683947586514586453433629"));
    check(
        &mut c,
        &[
            ("INCRBYFLOAT i 3", "$1\r\n3\r\n"),
            ("OBJECT ENCODING i", "$6\r\nembstr\r\n"),
            ("INCR i", ":4\r\n"),
        ],
    );
}

#[test]
fn incrbyfloat_errors() {
    let (_t, mut c) = client();
    for by in [
        "abc", "", " 1", "1 ", "nan", "1e", "0x", "0x1p", "1e5000", "1e-5000", "1.2e4932", "--1",
        "1,5",
    ] {
        assert_eq!(c.raw(&["INCRBYFLOAT", "k", by]), NOT_FLOAT, "{by:?}");
    }
    assert_eq!(r(&mut c, "EXISTS k"), ":0\r\n");
    for by in ["inf", "-inf", "+Infinity", "INF"] {
        assert_eq!(
            c.raw(&["INCRBYFLOAT", "k", by]),
            "-ERR increment would produce NaN or Infinity\r\n",
            "{by:?}"
        );
    }
    check(
        &mut c,
        &[
            ("SET big 1.1e4932", OK),
            (
                "INCRBYFLOAT big 1.1e4932",
                "-ERR increment would produce NaN or Infinity\r\n",
            ),
            ("GET big", "$8\r\n1.1e4932\r\n"),
            ("SET s abc", OK),
            ("INCRBYFLOAT s 1", NOT_FLOAT),
            // The stored value is read first: a bad one wins over a bad increment.
            ("INCRBYFLOAT s xyz", NOT_FLOAT),
            ("SET inf inf", OK),
            (
                "INCRBYFLOAT inf 1",
                "-ERR increment would produce NaN or Infinity\r\n",
            ),
            (
                "INCRBYFLOAT inf -inf",
                "-ERR increment would produce NaN or Infinity\r\n",
            ),
            (
                "INCRBYFLOAT",
                "-ERR wrong number of arguments for 'incrbyfloat' command\r\n",
            ),
        ],
    );
    assert_eq!(c.raw(&["SET", "sp", " 1"]), OK);
    assert_eq!(c.raw(&["INCRBYFLOAT", "sp", "1"]), NOT_FLOAT);
    assert_eq!(bin(&mut c, &[b"SET", b"nul", b"1\x00"]), b"+OK\r\n");
    assert_eq!(
        String::from_utf8(bin(&mut c, &[b"INCRBYFLOAT", b"nul", b"1"])).unwrap(),
        NOT_FLOAT
    );
}

// ---------------------------------------------------------------------------
// APPEND / SETRANGE / GETRANGE / STRLEN
// ---------------------------------------------------------------------------

#[test]
fn append() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("APPEND k foo", ":3\r\n"),
            ("OBJECT ENCODING k", "$6\r\nembstr\r\n"),
            ("APPEND k bar", ":6\r\n"),
            ("GET k", "$6\r\nfoobar\r\n"),
            ("OBJECT ENCODING k", "$3\r\nraw\r\n"),
            ("APPEND n 12", ":2\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            ("APPEND n 3", ":3\r\n"),
            ("GET n", "$3\r\n123\r\n"),
            ("OBJECT ENCODING n", "$3\r\nraw\r\n"),
            ("SET t v EX 100", OK),
            ("APPEND t w", ":2\r\n"),
            ("TTL t", ":100\r\n"),
            ("SET e abc", OK),
            (
                "APPEND e",
                "-ERR wrong number of arguments for 'append' command\r\n",
            ),
        ],
    );
    assert_eq!(bin(&mut c, &[b"APPEND", b"e", b""]), b":3\r\n");
    assert_eq!(r(&mut c, "OBJECT ENCODING e"), "$3\r\nraw\r\n");
    assert_eq!(bin(&mut c, &[b"APPEND", b"empty", b""]), b":0\r\n");
    assert_eq!(r(&mut c, "EXISTS empty"), ":1\r\n");
    assert_eq!(bin(&mut c, &[b"APPEND", b"bin", b"\x00\r"]), b":2\r\n");
    assert_eq!(bin(&mut c, &[b"APPEND", b"bin", b"\n\xff"]), b":4\r\n");
    assert_eq!(bin(&mut c, &[b"GET", b"bin"]), b"$4\r\n\x00\r\n\xff\r\n");
    // Many appends build the string correctly (and stay fast).
    let chunk = "0123456789".repeat(10);
    for i in 1..=2000 {
        assert_eq!(
            c.raw(&["APPEND", "long", &chunk]),
            format!(":{}\r\n", i * 100)
        );
    }
    assert_eq!(r(&mut c, "STRLEN long"), ":200000\r\n");
    assert_eq!(
        r(&mut c, "GETRANGE long 199990 -1"),
        "$10\r\n0123456789\r\n"
    );
}

#[test]
fn setrange() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SETRANGE k 0 Hello", ":5\r\n"),
            ("SETRANGE k 6 World", ":11\r\n"),
            ("GET k", "$11\r\nHello\x00World\r\n"),
            ("SETRANGE k 0 J", ":11\r\n"),
            ("GET k", "$11\r\nJello\x00World\r\n"),
            ("SETRANGE k 9 ld!!", ":13\r\n"),
            ("GET k", "$13\r\nJello\x00World!!\r\n"),
            ("OBJECT ENCODING k", "$3\r\nraw\r\n"),
            ("SETRANGE pad 3 ab", ":5\r\n"),
            ("GET pad", "$5\r\n\x00\x00\x00ab\r\n"),
            ("OBJECT ENCODING pad", "$3\r\nraw\r\n"),
            ("SET n 123", OK),
            ("SETRANGE n 1 9", ":3\r\n"),
            ("GET n", "$3\r\n193\r\n"),
            ("OBJECT ENCODING n", "$3\r\nraw\r\n"),
            ("SET t abc EX 100", OK),
            ("SETRANGE t 1 X", ":3\r\n"),
            ("TTL t", ":100\r\n"),
            ("SETRANGE k -1 x", "-ERR offset is out of range\r\n"),
            ("SETRANGE nokey -1 x", "-ERR offset is out of range\r\n"),
            ("SETRANGE k abc x", NOT_INT),
            ("SETRANGE k 1.5 x", NOT_INT),
            ("SETRANGE k 9223372036854775808 x", NOT_INT),
            ("SETRANGE k 536870912 x", TOO_BIG),
            ("SETRANGE k 9223372036854775807 x", TOO_BIG),
            ("SETRANGE nokey 536870912 x", TOO_BIG),
            ("EXISTS nokey", ":0\r\n"),
            (
                "SETRANGE k 1",
                "-ERR wrong number of arguments for 'setrange' command\r\n",
            ),
        ],
    );
    // An empty value writes nothing, creates nothing and skips the size check.
    for (args, want) in [
        (&[&b"SETRANGE"[..], b"nokey", b"0", b""][..], &b":0\r\n"[..]),
        (&[b"SETRANGE", b"nokey", b"536870912", b""], b":0\r\n"),
        (&[b"SETRANGE", b"k", b"1000000000000", b""], b":13\r\n"),
        (
            &[b"SETRANGE", b"k", b"-1", b""],
            b"-ERR offset is out of range\r\n",
        ),
        (&[b"SETRANGE", b"n", b"0", b""], b":3\r\n"),
    ] {
        assert_eq!(bin(&mut c, args), want, "{args:?}");
    }
    assert_eq!(r(&mut c, "EXISTS nokey"), ":0\r\n");
    assert_eq!(r(&mut c, "SET i 77"), OK);
    assert_eq!(bin(&mut c, &[b"SETRANGE", b"i", b"0", b""]), b":2\r\n");
    assert_eq!(r(&mut c, "OBJECT ENCODING i"), "$3\r\nint\r\n");
}

#[test]
fn size_limit_follows_proto_max_bulk_len() {
    let (_t, mut c) = client();
    let mb = 1024 * 1024;
    assert_eq!(r(&mut c, "CONFIG SET proto-max-bulk-len 1mb"), OK);
    let last = (mb - 1).to_string();
    let over = mb.to_string();
    check(
        &mut c,
        &[
            (&format!("SETRANGE k {last} x"), &format!(":{mb}\r\n")[..]),
            (&format!("SETRANGE k {over} x"), TOO_BIG),
            ("APPEND k x", TOO_BIG),
            (&format!("SETRANGE new {over} x"), TOO_BIG),
            ("STRLEN k", &format!(":{mb}\r\n")[..]),
            ("SETRANGE k 0 y", &format!(":{mb}\r\n")[..]),
        ],
    );
    // LCS refuses a table (4 bytes per cell) larger than the limit.
    let a = "a".repeat(600);
    assert_eq!(c.raw(&["MSET", "la", &a, "lb", &a]), OK);
    assert_eq!(
        r(&mut c, "LCS la lb LEN"),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
    assert_eq!(r(&mut c, "CONFIG SET proto-max-bulk-len 512mb"), OK);
    assert_eq!(r(&mut c, "LCS la lb LEN"), ":600\r\n");
    assert_eq!(r(&mut c, "APPEND k x"), format!(":{}\r\n", mb + 1));
}

#[test]
fn getrange_and_substr() {
    let (_t, mut c) = client();
    assert_eq!(r(&mut c, "SET s Hello"), OK);
    let cases = [
        ("0 -1", "Hello"),
        ("0 0", "H"),
        ("-1 -1", "o"),
        ("-5 -1", "Hello"),
        ("-100 -200", ""),
        ("-200 -100", "H"),
        ("-100 100", "Hello"),
        ("3 1", ""),
        ("1 3", "ell"),
        ("10 20", ""),
        ("4 100", "o"),
        ("-1 -5", ""),
        ("5 5", ""),
        ("0 -100", "H"),
        ("-3 2", "l"),
        ("9223372036854775807 9223372036854775807", ""),
        ("-9223372036854775808 -9223372036854775808", "H"),
        ("-9223372036854775808 9223372036854775807", "Hello"),
    ];
    for (range, want) in cases {
        for cmd in ["GETRANGE", "SUBSTR"] {
            let line = format!("{cmd} s {range}");
            assert_eq!(r(&mut c, &line), bulk(want), "{line}");
        }
    }
    check(
        &mut c,
        &[
            ("GETRANGE s a 1", NOT_INT),
            ("GETRANGE s 1 9223372036854775808", NOT_INT),
            ("GETRANGE nokey a 1", NOT_INT),
            ("GETRANGE nokey 0 -1", EMPTY),
            ("SUBSTR nokey 0 -1", EMPTY),
            ("SET n 12345", OK),
            ("GETRANGE n 1 2", "$2\r\n23\r\n"),
            ("SUBSTR n -2 -1", "$2\r\n45\r\n"),
            ("GETRANGE n 0 -1", "$5\r\n12345\r\n"),
            ("SET m -42", OK),
            ("GETRANGE m 0 0", "$1\r\n-\r\n"),
            (
                "GETRANGE s 0",
                "-ERR wrong number of arguments for 'getrange' command\r\n",
            ),
            (
                "SUBSTR s 0",
                "-ERR wrong number of arguments for 'substr' command\r\n",
            ),
        ],
    );
    assert_eq!(bin(&mut c, &[b"SET", b"e", b""]), b"+OK\r\n");
    check(
        &mut c,
        &[("GETRANGE e 0 -1", EMPTY), ("GETRANGE e -1 0", EMPTY)],
    );
    assert_eq!(
        bin(&mut c, &[b"SET", b"b", b"\x00\x01\r\n\xff"]),
        b"+OK\r\n"
    );
    assert_eq!(
        bin(&mut c, &[b"GETRANGE", b"b", b"1", b"-2"]),
        b"$3\r\n\x01\r\n\r\n"
    );
    // A long value, sliced without copying the rest.
    let long = "abcdefghij".repeat(1000);
    assert_eq!(c.raw(&["SET", "long", &long]), OK);
    assert_eq!(r(&mut c, "GETRANGE long 9995 -1"), "$5\r\nfghij\r\n");
    assert_eq!(r(&mut c, "GETRANGE long -10 -6"), "$5\r\nabcde\r\n");
}

#[test]
fn strlen() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("STRLEN nokey", ":0\r\n"),
            ("SET k hello", OK),
            ("STRLEN k", ":5\r\n"),
            ("SET n -9223372036854775808", OK),
            ("STRLEN n", ":20\r\n"),
            ("SET n 0", OK),
            ("STRLEN n", ":1\r\n"),
            (
                "STRLEN",
                "-ERR wrong number of arguments for 'strlen' command\r\n",
            ),
        ],
    );
    assert_eq!(bin(&mut c, &[b"SET", b"e", b""]), b"+OK\r\n");
    assert_eq!(r(&mut c, "STRLEN e"), ":0\r\n");
    assert_eq!(bin(&mut c, &[b"SET", b"b", b"\x00\xff\r\n"]), b"+OK\r\n");
    assert_eq!(r(&mut c, "STRLEN b"), ":4\r\n");
    let v = "x".repeat(100_000);
    assert_eq!(c.raw(&["SET", "big", &v]), OK);
    assert_eq!(r(&mut c, "STRLEN big"), ":100000\r\n");
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

#[test]
fn lcs() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("MSET a ohmytext b mynewtext", OK),
            ("LCS a b", "$6\r\nmytext\r\n"),
            ("LCS a b LEN", ":6\r\n"),
            ("lcs a b len", ":6\r\n"),
            (
                "LCS a b IDX",
                "*4\r\n$7\r\nmatches\r\n*2\r\n\
                 *2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
                 *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS a b IDX MINMATCHLEN 4",
                "*4\r\n$7\r\nmatches\r\n*1\r\n\
                 *2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
                "*4\r\n$7\r\nmatches\r\n*1\r\n\
                 *3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS a b WITHMATCHLEN IDX",
                "*4\r\n$7\r\nmatches\r\n*2\r\n\
                 *3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                 *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS a b MINMATCHLEN -5 IDX",
                "*4\r\n$7\r\nmatches\r\n*2\r\n\
                 *2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
                 *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
            ("LCS a b LEN MINMATCHLEN 3", ":6\r\n"),
            ("LCS a b WITHMATCHLEN", "$6\r\nmytext\r\n"),
            (
                "LCS a b LEN IDX",
                "-ERR If you want both the length and indexes, please just use IDX.\r\n",
            ),
            ("LCS a b MINMATCHLEN", SYNTAX),
            ("LCS a b MINMATCHLEN x", NOT_INT),
            ("LCS a b foo", SYNTAX),
            ("LCS a nokey", EMPTY),
            ("LCS nokey a LEN", ":0\r\n"),
            (
                "LCS a nokey IDX",
                "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
            ),
            (
                "LCS a",
                "-ERR wrong number of arguments for 'lcs' command\r\n",
            ),
            // Ties are broken as Redis breaks them, so the ranges match.
            ("MSET c AAABBB d ABABAB", OK),
            ("LCS c d", "$4\r\nABBB\r\n"),
            (
                "LCS c d IDX WITHMATCHLEN",
                "*4\r\n$7\r\nmatches\r\n*3\r\n\
                 *3\r\n*2\r\n:5\r\n:5\r\n*2\r\n:5\r\n:5\r\n:1\r\n\
                 *3\r\n*2\r\n:4\r\n:4\r\n*2\r\n:3\r\n:3\r\n:1\r\n\
                 *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n\
                 $3\r\nlen\r\n:4\r\n",
            ),
            ("LCS d c", "$4\r\nAAAB\r\n"),
            (
                "LCS d c IDX WITHMATCHLEN",
                "*4\r\n$7\r\nmatches\r\n*4\r\n\
                 *3\r\n*2\r\n:5\r\n:5\r\n*2\r\n:5\r\n:5\r\n:1\r\n\
                 *3\r\n*2\r\n:4\r\n:4\r\n*2\r\n:2\r\n:2\r\n:1\r\n\
                 *3\r\n*2\r\n:2\r\n:2\r\n*2\r\n:1\r\n:1\r\n:1\r\n\
                 *3\r\n*2\r\n:0\r\n:0\r\n*2\r\n:0\r\n:0\r\n:1\r\n\
                 $3\r\nlen\r\n:4\r\n",
            ),
            // Integers are compared as their text.
            ("MSET i 12345 j 2-4", OK),
            ("LCS i j", "$2\r\n24\r\n"),
        ],
    );
}

#[test]
fn lcs_on_binary_and_longer_strings() {
    let (_t, mut c) = client();
    assert_eq!(
        bin(
            &mut c,
            &[b"MSET", b"x", b"\x00a\xffb\r\n", b"y", b"a\x00\xff\r\nb"]
        ),
        b"+OK\r\n"
    );
    assert_eq!(bin(&mut c, &[b"LCS", b"x", b"y"]), b"$4\r\na\xff\r\n\r\n");
    let a = "The quick brown fox jumps over the lazy dog".repeat(20);
    let b = "Pack my box with five dozen liquor jugs".repeat(20);
    assert_eq!(c.raw(&["MSET", "a", &a, "b", &b]), OK);
    let lcs = match c.cmd(&["LCS", "a", "b"]) {
        resp::Frame::Bulk(v) => v,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        c.raw(&["LCS", "a", "b", "LEN"]),
        format!(":{}\r\n", lcs.len())
    );
    // The answer is a subsequence of both inputs.
    for s in [&a, &b] {
        let mut it = s.bytes();
        assert!(lcs.iter().all(|ch| it.any(|x| x == *ch)));
    }
}

// ---------------------------------------------------------------------------
// RESP3
// ---------------------------------------------------------------------------

#[test]
fn resp3_replies() {
    let (_t, mut c) = client();
    c.send_raw(&Conn::encode(&[b"HELLO", b"3"]));
    let _ = c.read_frame();
    check(
        &mut c,
        &[
            ("GET nokey", "_\r\n"),
            ("SET k v NX", OK),
            ("SET k v NX", "_\r\n"),
            ("SET k2 v XX GET", "_\r\n"),
            ("GETDEL nokey", "_\r\n"),
            ("GETEX nokey", "_\r\n"),
            ("GETSET nokey v", "_\r\n"),
            ("MGET k missing", "*2\r\n$1\r\nv\r\n_\r\n"),
            ("INCRBYFLOAT f 2.5", "$3\r\n2.5\r\n"),
            ("SETNX k v", ":0\r\n"),
            ("MSET a ohmytext b mynewtext", OK),
            (
                "LCS a b IDX WITHMATCHLEN MINMATCHLEN 3",
                "%2\r\n$7\r\nmatches\r\n*1\r\n\
                 *3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
        ],
    );
}
