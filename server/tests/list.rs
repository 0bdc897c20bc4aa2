//! The list command group end to end, checked against exact reply bytes.
//!
//! The expected bytes were taken from a real redis-server. To re-check them,
//! run the suite against one (it is flushed first):
//!
//! ```text
//! FERRUM_TESTS_AGAINST=127.0.0.1:6379 cargo test -p ferrum-server --test list -- --test-threads=1
//! ```
//!
//! Tests of behaviour new in Redis 7.2 (listpack-encoded lists, the 7.2
//! timeout and LPOS RANK rules) skip themselves against another server,
//! since the reference Redis at hand may be 7.0.

mod common;

use std::time::{Duration, Instant};

use common::*;

const NIL: &str = "$-1\r\n";
const NIL_ARR: &str = "*-1\r\n";
const EMPTY: &str = "*0\r\n";
const OK: &str = "+OK\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const POSITIVE: &str = "-ERR value is out of range, must be positive\r\n";
const NOT_FLOAT: &str = "-ERR timeout is not a float or out of range\r\n";
const NEGATIVE: &str = "-ERR timeout is negative\r\n";

#[test]
fn push_and_length() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("LPUSH l a b c", ":3\r\n"),
            ("RPUSH l d e", ":5\r\n"),
            ("LLEN l", ":5\r\n"),
            ("LLEN missing", ":0\r\n"),
            ("LPUSHX missing a", ":0\r\n"),
            ("RPUSHX missing a b", ":0\r\n"),
            ("EXISTS missing", ":0\r\n"),
            ("LPUSHX l x y", ":7\r\n"),
            ("RPUSHX l z", ":8\r\n"),
            (
                "LPUSH l",
                "-ERR wrong number of arguments for 'lpush' command\r\n",
            ),
            (
                "RPUSHX l",
                "-ERR wrong number of arguments for 'rpushx' command\r\n",
            ),
        ],
    );
    assert_eq!(
        r(&mut c, "LRANGE l 0 -1"),
        arr(&["y", "x", "c", "b", "a", "d", "e", "z"])
    );
}

#[test]
fn values_round_trip() {
    let (_t, mut c) = client();
    let vals = [
        "0",
        "-1",
        "127",
        "128",
        "-4096",
        "4096",
        "32767",
        "-32768",
        "8388607",
        "8388608",
        "2147483648",
        "-9223372036854775808",
        "9223372036854775807",
        "9223372036854775808",
        "007",
        "+1",
        "-0",
        "1.5",
        "",
    ];
    let mut cmd = vec!["RPUSH", "v"];
    cmd.extend(vals.iter());
    assert_eq!(c.raw(&cmd), format!(":{}\r\n", vals.len()));
    assert_eq!(r(&mut c, "LRANGE v 0 -1"), arr(&vals));
    let long = "x".repeat(70_000);
    let mid = "y".repeat(5_000);
    assert_eq!(c.raw(&["RPUSH", "b", &long, &mid, "a\0b"]), ":3\r\n");
    assert_eq!(r(&mut c, "LINDEX b 0"), arr(&[&long])[4..]);
    assert_eq!(r(&mut c, "LINDEX b 1"), arr(&[&mid])[4..]);
    assert_eq!(r(&mut c, "LINDEX b -1"), "$3\r\na\0b\r\n");
}

#[test]
fn pops() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("RPUSH l a b c d e f", ":6\r\n"),
            ("LPOP l", "$1\r\na\r\n"),
            ("RPOP l", "$1\r\nf\r\n"),
            ("LPOP l 2", &arr(&["b", "c"])),
            ("RPOP l 1", &arr(&["e"])),
            ("LPOP l 0", EMPTY),
            ("RPOP l 0", EMPTY),
            ("RPOP l 100", &arr(&["d"])),
            ("EXISTS l", ":0\r\n"),
            ("LPOP l", NIL),
            ("RPOP l", NIL),
            ("LPOP l 1", NIL_ARR),
            ("RPOP l 0", NIL_ARR),
            ("LPOP l -1", POSITIVE),
            ("LPOP l abc", POSITIVE),
            ("RPOP l 1.5", POSITIVE),
            (
                "LPOP l 1 2",
                "-ERR wrong number of arguments for 'lpop' command\r\n",
            ),
            ("RPUSH n 1 2 3", ":3\r\n"),
            ("RPOP n 2", &arr(&["3", "2"])),
            ("SET s x", OK),
            ("LPOP s", WRONGTYPE),
            ("RPOP s 2", WRONGTYPE),
            ("LPOP s -1", POSITIVE),
        ],
    );
}

#[test]
fn index_range_set_trim() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("RPUSH l a b c d e", ":5\r\n"),
            ("LRANGE l 1 2", &arr(&["b", "c"])),
            ("LRANGE l -2 -1", &arr(&["d", "e"])),
            ("LRANGE l -100 100", &arr(&["a", "b", "c", "d", "e"])),
            ("LRANGE l 3 1", EMPTY),
            ("LRANGE l 5 10", EMPTY),
            ("LRANGE l 0 -6", EMPTY),
            (
                "LRANGE l -9223372036854775808 9223372036854775807",
                &arr(&["a", "b", "c", "d", "e"]),
            ),
            ("LRANGE l a 1", NOT_INT),
            ("LRANGE missing a 1", NOT_INT),
            ("LRANGE missing 0 -1", EMPTY),
            ("LINDEX l 0", "$1\r\na\r\n"),
            ("LINDEX l -1", "$1\r\ne\r\n"),
            ("LINDEX l 5", NIL),
            ("LINDEX l -6", NIL),
            ("LINDEX l abc", NOT_INT),
            ("LINDEX missing abc", NIL),
            ("LSET l 0 A", OK),
            ("LSET l -1 E", OK),
            ("LSET l 5 x", "-ERR index out of range\r\n"),
            ("LSET l abc x", NOT_INT),
            ("LSET missing abc x", "-ERR no such key\r\n"),
            ("LRANGE l 0 -1", &arr(&["A", "b", "c", "d", "E"])),
            ("LTRIM l 1 -2", OK),
            ("LRANGE l 0 -1", &arr(&["b", "c", "d"])),
            ("LTRIM l a 0", NOT_INT),
            ("LTRIM missing a 0", NOT_INT),
            ("LTRIM missing 0 1", OK),
            ("EXISTS missing", ":0\r\n"),
            ("LTRIM l 1 0", OK),
            ("EXISTS l", ":0\r\n"),
            ("SET s x", OK),
            ("LRANGE s 0 -1", WRONGTYPE),
            ("LINDEX s 0", WRONGTYPE),
            ("LSET s 0 x", WRONGTYPE),
            ("LTRIM s 0 1", WRONGTYPE),
            ("LLEN s", WRONGTYPE),
        ],
    );
}

#[test]
fn lpos_options_and_errors() {
    let (t, mut c) = client();
    check(
        &mut c,
        &[
            ("RPUSH l a b c 1 2 3 c c", ":8\r\n"),
            ("LPOS l c", ":2\r\n"),
            ("LPOS l x", NIL),
            ("LPOS l c RANK 2", ":6\r\n"),
            ("LPOS l c RANK 4", NIL),
            ("LPOS l c RANK -1", ":7\r\n"),
            ("LPOS l c RANK -3", ":2\r\n"),
            ("LPOS l c COUNT 0", "*3\r\n:2\r\n:6\r\n:7\r\n"),
            ("LPOS l c COUNT 2", "*2\r\n:2\r\n:6\r\n"),
            ("LPOS l c RANK -1 COUNT 2", "*2\r\n:7\r\n:6\r\n"),
            ("LPOS l x COUNT 0", EMPTY),
            ("LPOS l c MAXLEN 2", NIL),
            ("LPOS l c COUNT 0 MAXLEN 7", "*2\r\n:2\r\n:6\r\n"),
            ("LPOS l c RANK -2 MAXLEN 1", NIL),
            ("LPOS l 1", ":3\r\n"),
            (
                "LPOS l c RANK 0",
                "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
            ),
            ("LPOS l c RANK abc", NOT_INT),
            ("LPOS l c COUNT -1", "-ERR COUNT can't be negative\r\n"),
            ("LPOS l c COUNT abc", "-ERR COUNT can't be negative\r\n"),
            ("LPOS l c MAXLEN -1", "-ERR MAXLEN can't be negative\r\n"),
            ("LPOS l c RANK", SYNTAX),
            ("LPOS l c FOO 1", SYNTAX),
            ("LPOS missing a", NIL),
            ("LPOS missing a COUNT 1", EMPTY),
            ("SET s x", OK),
            ("LPOS s a", WRONGTYPE),
        ],
    );
    if t.is_ferrum() {
        // Redis 7.2 bounds RANK so that negating it cannot overflow.
        assert_eq!(
            r(&mut c, "LPOS l c RANK -9223372036854775808"),
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
        );
        assert_eq!(r(&mut c, "LPOS l c RANK -9223372036854775807"), NIL);
    }
}

#[test]
fn insert_and_remove() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("RPUSH l a b c b a", ":5\r\n"),
            ("LINSERT l BEFORE b x", ":6\r\n"),
            ("LINSERT l after b y", ":7\r\n"),
            ("LRANGE l 0 -1", &arr(&["a", "x", "b", "y", "c", "b", "a"])),
            ("LINSERT l BEFORE nope x", ":-1\r\n"),
            ("LINSERT l MIDDLE a x", SYNTAX),
            ("LINSERT missing BEFORE a x", ":0\r\n"),
            ("LINSERT missing MIDDLE a x", SYNTAX),
            ("LREM l 0 nope", ":0\r\n"),
            ("LREM l 1 b", ":1\r\n"),
            ("LREM l -1 a", ":1\r\n"),
            ("LRANGE l 0 -1", &arr(&["a", "x", "y", "c", "b"])),
            ("LREM l abc a", NOT_INT),
            ("LREM missing abc a", NOT_INT),
            ("LREM missing 0 a", ":0\r\n"),
            ("RPUSH r 1 2 1 2 1", ":5\r\n"),
            ("LREM r -2 1", ":2\r\n"),
            ("LRANGE r 0 -1", &arr(&["1", "2", "2"])),
            ("LREM r 0 2", ":2\r\n"),
            ("LREM r 0 1", ":1\r\n"),
            ("EXISTS r", ":0\r\n"),
            ("SET s x", OK),
            ("LINSERT s BEFORE a b", WRONGTYPE),
            ("LINSERT s MIDDLE a b", SYNTAX),
            ("LREM s 0 a", WRONGTYPE),
        ],
    );
}

#[test]
fn moves() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("RPUSH a 1 2 3", ":3\r\n"),
            ("LMOVE a b LEFT RIGHT", "$1\r\n1\r\n"),
            ("LMOVE a b right left", "$1\r\n3\r\n"),
            ("LRANGE b 0 -1", &arr(&["3", "1"])),
            ("LMOVE a b LEFT LEFT", "$1\r\n2\r\n"),
            ("EXISTS a", ":0\r\n"),
            ("LMOVE a b LEFT LEFT", NIL),
            ("LMOVE b b LEFT RIGHT", "$1\r\n2\r\n"),
            ("LRANGE b 0 -1", &arr(&["3", "1", "2"])),
            ("RPOPLPUSH b c", "$1\r\n2\r\n"),
            ("RPOPLPUSH c c", "$1\r\n2\r\n"),
            ("LRANGE c 0 -1", &arr(&["2"])),
            ("LMOVE a b UP LEFT", SYNTAX),
            ("LMOVE a b LEFT DOWN", SYNTAX),
            ("SET s x", OK),
            ("LMOVE s c LEFT LEFT", WRONGTYPE),
            ("LMOVE c s LEFT LEFT", WRONGTYPE),
            ("LRANGE c 0 -1", &arr(&["2"])),
            ("LMOVE missing s LEFT LEFT", NIL),
            ("RPOPLPUSH c s", WRONGTYPE),
            ("RPOPLPUSH s c", WRONGTYPE),
        ],
    );
}

#[test]
fn lmpop() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("RPUSH a 1 2 3", ":3\r\n"),
            ("RPUSH b x y", ":2\r\n"),
            ("LMPOP 1 a LEFT", "*2\r\n$1\r\na\r\n*1\r\n$1\r\n1\r\n"),
            (
                "LMPOP 2 missing a RIGHT COUNT 5",
                "*2\r\n$1\r\na\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n",
            ),
            (
                "LMPOP 2 a b left count 1",
                "*2\r\n$1\r\nb\r\n*1\r\n$1\r\nx\r\n",
            ),
            ("LMPOP 1 a LEFT", NIL_ARR),
            (
                "LMPOP 0 a LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "LMPOP abc a LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            ("LMPOP 2 a LEFT", SYNTAX),
            ("LMPOP 1 a MIDDLE", SYNTAX),
            (
                "LMPOP 1 a LEFT COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            (
                "LMPOP 1 a LEFT COUNT abc",
                "-ERR count should be greater than 0\r\n",
            ),
            ("LMPOP 1 a LEFT COUNT", SYNTAX),
            ("LMPOP 1 a LEFT COUNT 1 COUNT 1", SYNTAX),
            ("SET s x", OK),
            ("LMPOP 2 s b LEFT", WRONGTYPE),
            ("LMPOP 2 b s LEFT", "*2\r\n$1\r\nb\r\n*1\r\n$1\r\ny\r\n"),
        ],
    );
}

#[test]
fn blocking_commands_with_data_or_errors() {
    let (t, mut c) = client();
    check(
        &mut c,
        &[
            ("RPUSH a 1 2 3 4", ":4\r\n"),
            ("BLPOP missing a 0", &arr(&["a", "1"])),
            ("BRPOP a 1", &arr(&["a", "4"])),
            ("BLMOVE a b LEFT RIGHT 0", "$1\r\n2\r\n"),
            ("BRPOPLPUSH a b 0", "$1\r\n3\r\n"),
            ("EXISTS a", ":0\r\n"),
            (
                "BLMPOP 0 2 a b RIGHT COUNT 5",
                "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n2\r\n$1\r\n3\r\n",
            ),
            ("BLPOP a abc", NOT_FLOAT),
            ("BLPOP a -1", NEGATIVE),
            ("BLPOP a -0.5", NEGATIVE),
            ("BLPOP a nan", NOT_FLOAT),
            ("BLPOP a 1x", NOT_FLOAT),
            ("BRPOP a -inf", NEGATIVE),
            ("BLMOVE a b LEFT LEFT abc", NOT_FLOAT),
            ("BLMOVE a b UP LEFT abc", SYNTAX),
            ("BRPOPLPUSH a b -1", NEGATIVE),
            ("BLMPOP abc 1 a LEFT", NOT_FLOAT),
            (
                "BLMPOP abc 0 a LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            ("BLMPOP abc 1 a MIDDLE", SYNTAX),
            (
                "BLMPOP 0 1 a LEFT COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            ("SET s x", OK),
            ("RPUSH l 1 2", ":2\r\n"),
            ("BLPOP s l 0", WRONGTYPE),
            ("BLPOP l s 0", &arr(&["l", "1"])),
            ("BLPOP missing s 0", WRONGTYPE),
            ("BRPOPLPUSH s l 0", WRONGTYPE),
            ("BLMOVE l s LEFT LEFT 0", WRONGTYPE),
            ("BLMPOP 0 2 s l LEFT", WRONGTYPE),
        ],
    );
    if t.is_ferrum() {
        // Redis 7.2 refuses timeouts whose deadline would not fit.
        check(
            &mut c,
            &[
                ("BLPOP a inf", "-ERR timeout is out of range\r\n"),
                (
                    "BLPOP a 9223372036854775807",
                    "-ERR timeout is out of range\r\n",
                ),
            ],
        );
    }
}

#[test]
fn blocking_timeouts() {
    let (t, mut c) = client();
    let start = Instant::now();
    assert_eq!(r(&mut c, "BLPOP k 0.1"), NIL_ARR);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(90), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(r(&mut c, "BRPOP k1 k2 0.01"), NIL_ARR);
    assert_eq!(r(&mut c, "BLMPOP 0.01 2 k1 k2 LEFT"), NIL_ARR);
    // A list timeout answers a null array even for the moves.
    assert_eq!(r(&mut c, "BLMOVE k1 k2 LEFT LEFT 0.01"), NIL_ARR);
    assert_eq!(r(&mut c, "BRPOPLPUSH k1 k2 0.01"), NIL_ARR);
    if t.is_ferrum() {
        // 7.2 rounds up to whole milliseconds: 0.0001 waits 1 ms, not forever.
        assert_eq!(r(&mut c, "BLPOP k 0.0001"), NIL_ARR);
    }
    assert!(r(&mut c, "HELLO 3").starts_with('%'));
    assert_eq!(r(&mut c, "BLPOP k 0.01"), "_\r\n");
    assert_eq!(r(&mut c, "BLMOVE k1 k2 LEFT LEFT 0.01"), "_\r\n");
}

#[test]
fn blocked_client_is_served_by_a_push() {
    let t = target();
    let mut waiter = t.conn();
    let mut pusher = t.conn();
    waiter.send_raw(&Conn::encode(&[b"BLPOP", b"q", b"0"]));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(r(&mut pusher, "RPUSH q hello world"), ":2\r\n");
    assert_eq!(
        String::from_utf8_lossy(&waiter.read_raw()),
        arr(&["q", "hello"])
    );
    assert_eq!(r(&mut pusher, "LRANGE q 0 -1"), arr(&["world"]));

    waiter.send_raw(&Conn::encode(&[
        b"BLMOVE", b"src", b"dst", b"RIGHT", b"LEFT", b"5",
    ]));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(r(&mut pusher, "RPUSH src a b"), ":2\r\n");
    assert_eq!(String::from_utf8_lossy(&waiter.read_raw()), "$1\r\nb\r\n");
    assert_eq!(r(&mut pusher, "LRANGE dst 0 -1"), arr(&["b"]));
    assert_eq!(r(&mut pusher, "LRANGE src 0 -1"), arr(&["a"]));

    waiter.send_raw(&Conn::encode(&[
        b"BLMPOP", b"0", b"2", b"m1", b"m2", b"RIGHT", b"COUNT", b"5",
    ]));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(r(&mut pusher, "RPUSH m2 1 2 3"), ":3\r\n");
    assert_eq!(
        String::from_utf8_lossy(&waiter.read_raw()),
        "*2\r\n$2\r\nm2\r\n*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n"
    );
    assert_eq!(r(&mut pusher, "EXISTS m2"), ":0\r\n");
}

#[test]
fn big_lists() {
    let (_t, mut c) = client();
    let n = 50_000;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let vals: Vec<String> = chunk.iter().map(|i| format!("v{i}")).collect();
        let mut cmd: Vec<&str> = vec!["RPUSH", "big"];
        cmd.extend(vals.iter().map(|s| s.as_str()));
        let reply = c.raw(&cmd);
        assert_eq!(reply, format!(":{}\r\n", chunk[chunk.len() - 1] + 1));
    }
    check(
        &mut c,
        &[
            ("LLEN big", ":50000\r\n"),
            ("LINDEX big 0", "$2\r\nv0\r\n"),
            ("LINDEX big 25000", "$6\r\nv25000\r\n"),
            ("LINDEX big -1", "$6\r\nv49999\r\n"),
            (
                "LRANGE big 29998 30001",
                &arr(&["v29998", "v29999", "v30000", "v30001"]),
            ),
            ("LPOS big v40000", ":40000\r\n"),
            ("LPOS big v40000 RANK -1", ":40000\r\n"),
            ("LPOS big v40000 MAXLEN 40000", NIL),
            ("LSET big 30000 x", OK),
            ("LINDEX big 30000", "$1\r\nx\r\n"),
            ("LINSERT big BEFORE x y", ":50001\r\n"),
            ("LINDEX big 30000", "$1\r\ny\r\n"),
            ("LINDEX big 30001", "$1\r\nx\r\n"),
            ("LREM big 0 y", ":1\r\n"),
            ("LREM big 0 x", ":1\r\n"),
            ("LINDEX big 30000", "$6\r\nv30001\r\n"),
            ("LTRIM big 10000 -10001", OK),
            ("LLEN big", ":29999\r\n"),
            ("LINDEX big 0", "$6\r\nv10000\r\n"),
            ("LINDEX big -1", "$6\r\nv39999\r\n"),
            ("LPOP big 3", &arr(&["v10000", "v10001", "v10002"])),
            ("RPOP big 2", &arr(&["v39999", "v39998"])),
            ("LLEN big", ":29994\r\n"),
        ],
    );
}

/// OBJECT ENCODING of lists as Redis 7.2 reports it (Redis 7.0 has no
/// listpack-encoded lists, so this only runs against Ferrum).
#[test]
fn encodings_follow_redis_7_2() {
    let (t, mut c) = client();
    if !t.is_ferrum() {
        return;
    }
    let enc = |c: &mut Conn, k: &str| r(c, &format!("OBJECT ENCODING {k}"));
    const LP: &str = "$8\r\nlistpack\r\n";
    const QL: &str = "$9\r\nquicklist\r\n";
    assert_eq!(r(&mut c, "CONFIG SET list-max-listpack-size 4"), OK);
    assert_eq!(r(&mut c, "RPUSH l 1 2 3 4"), ":4\r\n");
    assert_eq!(enc(&mut c, "l"), LP);
    assert_eq!(r(&mut c, "RPUSH l 5"), ":5\r\n");
    assert_eq!(enc(&mut c, "l"), QL);
    // Back to a listpack only at half the limit, in one node.
    assert_eq!(r(&mut c, "RPOP l 2"), arr(&["5", "4"]));
    assert_eq!(enc(&mut c, "l"), QL);
    assert_eq!(r(&mut c, "RPOP l"), "$1\r\n3\r\n");
    assert_eq!(enc(&mut c, "l"), LP);
    // LINSERT converts before looking for the pivot, as in Redis.
    assert_eq!(r(&mut c, "RPUSH n a b c d"), ":4\r\n");
    assert_eq!(r(&mut c, "LINSERT n BEFORE nope x"), ":-1\r\n");
    assert_eq!(enc(&mut c, "n"), QL);
    assert_eq!(r(&mut c, "LTRIM n 0 1"), OK);
    assert_eq!(enc(&mut c, "n"), LP);
    assert_eq!(r(&mut c, "RPUSH m 1 2 3 4 5 6 7 8 9"), ":9\r\n");
    assert_eq!(r(&mut c, "LREM m 0 9"), ":1\r\n");
    assert_eq!(enc(&mut c, "m"), QL);
    assert_eq!(r(&mut c, "LTRIM m 0 1"), OK);
    assert_eq!(enc(&mut c, "m"), LP);

    // Size limits: -1 is 4 KB per node; a 5000-byte element is too big.
    assert_eq!(r(&mut c, "CONFIG SET list-max-listpack-size -1"), OK);
    let big = "z".repeat(5000);
    assert_eq!(c.raw(&["RPUSH", "b", "a"]), ":1\r\n");
    assert_eq!(enc(&mut c, "b"), LP);
    assert_eq!(c.raw(&["RPUSH", "b", &big]), ":2\r\n");
    assert_eq!(enc(&mut c, "b"), QL);
    assert_eq!(
        r(&mut c, "RPOP b"),
        format!("${}\r\n{}\r\n", big.len(), big)
    );
    assert_eq!(enc(&mut c, "b"), LP);
    assert_eq!(c.raw(&["LSET", "b", "0", &big]), OK);
    assert_eq!(enc(&mut c, "b"), QL);
    assert_eq!(c.raw(&["LSET", "b", "0", "small"]), OK);
    assert_eq!(enc(&mut c, "b"), LP);

    // The default (-2, 8 KB): 100-byte elements fill a listpack at about 80.
    assert_eq!(r(&mut c, "CONFIG SET list-max-listpack-size -2"), OK);
    let v = "v".repeat(100);
    let mut n = 0;
    while enc(&mut c, "d") != QL {
        n += 1;
        assert_eq!(c.raw(&["RPUSH", "d", &v]), format!(":{n}\r\n"));
        assert!(n <= 100);
    }
    // 79 entries of 103 bytes + 7 = 8144; the 80th would pass 8192.
    assert_eq!(n, 80);
    // Two nodes (79 + 1): the list shrinks back once one node of at most
    // 4 KB is left, i.e. 39 entries (39 * 103 + 7 = 4024).
    assert_eq!(r(&mut c, "RPOP d 40"), arr(&vec![v.as_str(); 40]));
    assert_eq!(enc(&mut c, "d"), QL);
    assert_eq!(r(&mut c, "RPOP d"), format!("$100\r\n{v}\r\n"));
    assert_eq!(enc(&mut c, "d"), LP);
    // A destination created by a move is a listpack.
    assert_eq!(r(&mut c, "LMOVE d e LEFT LEFT"), format!("$100\r\n{v}\r\n"));
    assert_eq!(enc(&mut c, "e"), LP);
}

/// A numkeys far beyond the arguments is a syntax error, not a crash (the
/// key positions the dispatcher derives from it must not overflow).
#[test]
fn mpop_huge_numkeys() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("LMPOP 9223372036854775807 a LEFT", SYNTAX),
            ("BLMPOP 0 9223372036854775807 a LEFT", SYNTAX),
            ("PING", "+PONG\r\n"),
        ],
    );
}
