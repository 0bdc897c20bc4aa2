//! The set command group end to end, checked against exact reply bytes.
//!
//! The expected bytes were taken from a real redis-server. To re-check them,
//! run the suite against one (it is flushed first):
//!
//! ```text
//! FERRUM_TESTS_AGAINST=127.0.0.1:6379 cargo test -p ferrum-server --test set -- --test-threads=1
//! ```
//!
//! Sets are unordered, so replies listing members are compared after
//! sorting them (`sorted`); everything else is compared byte for byte.
//! Checks of the `listpack` set encoding, new in Redis 7.2, are skipped
//! when the external server is older.

mod common;

use std::collections::HashSet;

use common::*;
use resp::Frame;

/// True when the server under test has Redis 7.2's set encodings.
fn has_listpack_sets(c: &mut Conn) -> bool {
    let info = r(c, "INFO server");
    if !info.contains("redis_version:") {
        return true;
    }
    let v = info
        .split("redis_version:")
        .nth(1)
        .and_then(|s| s.split("\r\n").next())
        .unwrap_or("");
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (7, 2)
}

/// The members of an aggregate reply, sorted, and the aggregate's type
/// marker (`*` or `~`).
fn members(f: &Frame) -> (char, Vec<String>) {
    let (kind, items) = match f {
        Frame::Array(v) => ('*', v),
        Frame::Set(v) => ('~', v),
        other => panic!("not an aggregate: {other:?}"),
    };
    let mut out: Vec<String> = items
        .iter()
        .map(|i| match i {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    (kind, out)
}

/// Sends a command whose reply lists members; returns them sorted.
fn sorted(c: &mut Conn, line: &str) -> Vec<String> {
    members(&c.cmd(&words(line))).1
}

fn strs(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const POSITIVE: &str = "-ERR value is out of range, must be positive\r\n";

#[test]
fn sadd_srem_scard_sismember() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SADD s a b c a", ":3\r\n"),
            ("SADD s c d", ":1\r\n"),
            ("SCARD s", ":4\r\n"),
            ("SCARD missing", ":0\r\n"),
            ("SISMEMBER s a", ":1\r\n"),
            ("SISMEMBER s z", ":0\r\n"),
            ("SISMEMBER missing a", ":0\r\n"),
            ("SMISMEMBER s a z d", "*3\r\n:1\r\n:0\r\n:1\r\n"),
            ("SMISMEMBER missing a b", "*2\r\n:0\r\n:0\r\n"),
            ("SREM s a z", ":1\r\n"),
            ("SREM missing a", ":0\r\n"),
            ("SREM s b c d x", ":3\r\n"),
            ("EXISTS s", ":0\r\n"),
            ("SET str x", "+OK\r\n"),
            ("SADD str a", WRONGTYPE),
            ("SREM str a", WRONGTYPE),
            ("SCARD str", WRONGTYPE),
            ("SISMEMBER str a", WRONGTYPE),
            ("SMISMEMBER str a", WRONGTYPE),
            ("SMEMBERS str", WRONGTYPE),
            (
                "SADD",
                "-ERR wrong number of arguments for 'sadd' command\r\n",
            ),
            (
                "SADD s",
                "-ERR wrong number of arguments for 'sadd' command\r\n",
            ),
            (
                "SREM s",
                "-ERR wrong number of arguments for 'srem' command\r\n",
            ),
            (
                "SMISMEMBER s",
                "-ERR wrong number of arguments for 'smismember' command\r\n",
            ),
            (
                "SISMEMBER s a b",
                "-ERR wrong number of arguments for 'sismember' command\r\n",
            ),
            ("SMEMBERS missing", "*0\r\n"),
        ],
    );
    // Binary-safe members, the empty one included.
    c.cmd_bin(&[b"SADD", b"bin", b"", b"a\x00b", b"\xff"]);
    assert_eq!(
        c.raw(&["SCARD", "bin"]),
        ":3\r\n",
        "empty and binary members count"
    );
    assert_eq!(c.raw(&["SISMEMBER", "bin", ""]), ":1\r\n");
    // SADD keeps an existing TTL; the key is a set.
    check(
        &mut c,
        &[
            ("SADD t 1", ":1\r\n"),
            ("EXPIRE t 100", ":1\r\n"),
            ("SADD t 2", ":1\r\n"),
            ("TTL t", ":100\r\n"),
            ("TYPE t", "+set\r\n"),
        ],
    );
}

#[test]
fn smembers_replies() {
    let (_t, mut c) = client();
    r(&mut c, "SADD s c a b 1");
    assert_eq!(sorted(&mut c, "SMEMBERS s"), strs(&["1", "a", "b", "c"]));
    // RESP3: a set, and `~0` for a missing key.
    assert!(r(&mut c, "HELLO 3").starts_with('%'));
    let f = c.cmd(&["SMEMBERS", "s"]);
    assert_eq!(members(&f).0, '~');
    check(&mut c, &[("SMEMBERS missing", "~0\r\n")]);
    r(&mut c, "SADD i 3 1 2");
    // An intset lists in ascending order.
    check(
        &mut c,
        &[("SMEMBERS i", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")],
    );
}

#[test]
fn inter_union_diff() {
    let (_t, mut c) = client();
    r(&mut c, "SADD a 1 2 3 4 x");
    r(&mut c, "SADD b 2 3 5 x y");
    r(&mut c, "SADD c 3 x z");
    r(&mut c, "SET str v");
    assert_eq!(sorted(&mut c, "SINTER a b"), strs(&["2", "3", "x"]));
    assert_eq!(sorted(&mut c, "SINTER a b c"), strs(&["3", "x"]));
    assert_eq!(
        sorted(&mut c, "SINTER a a"),
        strs(&["1", "2", "3", "4", "x"])
    );
    assert_eq!(sorted(&mut c, "SINTER a missing"), strs(&[]));
    assert_eq!(
        sorted(&mut c, "SUNION a b c missing"),
        strs(&["1", "2", "3", "4", "5", "x", "y", "z"])
    );
    assert_eq!(sorted(&mut c, "SDIFF a b"), strs(&["1", "4"]));
    assert_eq!(sorted(&mut c, "SDIFF a b c"), strs(&["1", "4"]));
    assert_eq!(
        sorted(&mut c, "SDIFF a missing"),
        strs(&["1", "2", "3", "4", "x"])
    );
    assert_eq!(sorted(&mut c, "SDIFF missing a"), strs(&[]));
    assert_eq!(sorted(&mut c, "SDIFF a a"), strs(&[]));
    assert_eq!(sorted(&mut c, "SDIFF a c a"), strs(&[]));
    check(
        &mut c,
        &[
            ("SINTER a str", WRONGTYPE),
            // Every key's type is checked, even after a missing one.
            ("SINTER missing str", WRONGTYPE),
            ("SUNION a str", WRONGTYPE),
            ("SDIFF missing str", WRONGTYPE),
            ("SINTERSTORE d a str", WRONGTYPE),
            ("SINTER missing", "*0\r\n"),
            ("SUNION missing", "*0\r\n"),
            ("SDIFF missing", "*0\r\n"),
            ("SINTERSTORE d a b", ":3\r\n"),
            ("SUNIONSTORE u a b", ":7\r\n"),
            ("SDIFFSTORE f a b", ":2\r\n"),
            ("SCARD d", ":3\r\n"),
            ("SCARD u", ":7\r\n"),
            ("SCARD f", ":2\r\n"),
            // STORE replaces any value and its TTL.
            ("EXPIRE d 100", ":1\r\n"),
            ("SINTERSTORE d a c", ":2\r\n"),
            ("TTL d", ":-1\r\n"),
            ("SUNIONSTORE str a", ":5\r\n"),
            ("TYPE str", "+set\r\n"),
            // Empty results delete the destination.
            ("SINTERSTORE d a missing", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("SDIFFSTORE f a a", ":0\r\n"),
            ("EXISTS f", ":0\r\n"),
            ("SUNIONSTORE u missing", ":0\r\n"),
            ("EXISTS u", ":0\r\n"),
            ("SET v x", "+OK\r\n"),
            ("SINTERSTORE v missing a", ":0\r\n"),
            ("EXISTS v", ":0\r\n"),
            // The destination may be a source.
            ("SUNIONSTORE a a c", ":6\r\n"),
            ("SINTERSTORE a a b", ":3\r\n"),
        ],
    );
    assert_eq!(sorted(&mut c, "SMEMBERS a"), strs(&["2", "3", "x"]));
    assert!(r(&mut c, "HELLO 3").starts_with('%'));
    check(
        &mut c,
        &[
            ("SINTER a missing", "~0\r\n"),
            ("SUNION missing", "~0\r\n"),
            ("SDIFF missing a", "~0\r\n"),
        ],
    );
    assert_eq!(members(&c.cmd(&["SUNION", "a", "b"])).0, '~');
    assert_eq!(members(&c.cmd(&["SDIFF", "b", "a"])).0, '~');
    assert_eq!(members(&c.cmd(&["SINTER", "a", "b"])).0, '~');
}

#[test]
fn sdiff_of_large_sets() {
    // Exercises both difference strategies.
    let (_t, mut c) = client();
    let mut big = vec!["SADD", "big"];
    let names: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    big.extend(names.iter().map(String::as_str));
    c.cmd(&big);
    r(&mut c, "SADD s1 m1 m2");
    r(&mut c, "SADD s2 m3");
    check(
        &mut c,
        &[
            ("SDIFFSTORE d big s1 s2", ":297\r\n"),
            ("SISMEMBER d m1", ":0\r\n"),
            ("SISMEMBER d m4", ":1\r\n"),
            ("SDIFFSTORE d s1 big", ":0\r\n"),
            ("SDIFFSTORE d big big", ":0\r\n"),
        ],
    );
}

#[test]
fn sintercard() {
    let (_t, mut c) = client();
    r(&mut c, "SADD a 1 2 3 4 5 x");
    r(&mut c, "SADD b 2 3 4 5 x y");
    r(&mut c, "SET str v");
    check(
        &mut c,
        &[
            ("SINTERCARD 2 a b", ":5\r\n"),
            ("SINTERCARD 1 a", ":6\r\n"),
            ("SINTERCARD 2 a b LIMIT 0", ":5\r\n"),
            ("SINTERCARD 2 a b LIMIT 3", ":3\r\n"),
            ("SINTERCARD 2 a b limit 10", ":5\r\n"),
            ("SINTERCARD 2 a b LIMIT 1 LIMIT 2", ":2\r\n"),
            ("SINTERCARD 2 a missing", ":0\r\n"),
            ("SINTERCARD 2 a str", WRONGTYPE),
            ("SINTERCARD 2 missing str", WRONGTYPE),
            (
                "SINTERCARD 0 a",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "SINTERCARD -1 a",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "SINTERCARD x a",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "SINTERCARD 3 a b",
                "-ERR Number of keys can't be greater than number of args\r\n",
            ),
            (
                "SINTERCARD 2 a b LIMIT -1",
                "-ERR LIMIT can't be negative\r\n",
            ),
            (
                "SINTERCARD 2 a b LIMIT x",
                "-ERR LIMIT can't be negative\r\n",
            ),
            ("SINTERCARD 2 a b LIMIT", SYNTAX),
            ("SINTERCARD 2 a b FOO 1", SYNTAX),
            ("SINTERCARD 1 a b", SYNTAX),
            (
                "SINTERCARD 1",
                "-ERR wrong number of arguments for 'sintercard' command\r\n",
            ),
        ],
    );
}

#[test]
fn smove() {
    let (_t, mut c) = client();
    r(&mut c, "SADD src a b 1");
    r(&mut c, "SADD dst c");
    r(&mut c, "SET str v");
    check(
        &mut c,
        &[
            ("SMOVE src dst a", ":1\r\n"),
            ("SISMEMBER src a", ":0\r\n"),
            ("SISMEMBER dst a", ":1\r\n"),
            ("SMOVE src dst nope", ":0\r\n"),
            ("SMOVE missing dst a", ":0\r\n"),
            // A missing source answers before the destination's type.
            ("SMOVE missing str a", ":0\r\n"),
            ("SMOVE src str b", WRONGTYPE),
            ("SMOVE str src b", WRONGTYPE),
            ("SMOVE src src b", ":1\r\n"),
            ("SMOVE src src zz", ":0\r\n"),
            // Already in the destination: still moved out of the source.
            ("SADD dst b", ":1\r\n"),
            ("SMOVE src dst b", ":1\r\n"),
            ("SCARD dst", ":3\r\n"),
            // The source is deleted when emptied; a new destination is made.
            ("SMOVE src new 1", ":1\r\n"),
            ("EXISTS src", ":0\r\n"),
            ("SMEMBERS new", "*1\r\n$1\r\n1\r\n"),
            ("OBJECT ENCODING new", "$6\r\nintset\r\n"),
        ],
    );
}

#[test]
fn spop() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SPOP missing", "$-1\r\n"),
            ("SPOP missing 3", "*0\r\n"),
            ("SPOP missing 0", "*0\r\n"),
            ("SPOP missing -1", POSITIVE),
            ("SPOP missing x", POSITIVE),
            ("SPOP missing 1 2", SYNTAX),
            ("SET str v", "+OK\r\n"),
            ("SPOP str", WRONGTYPE),
            ("SPOP str 1", WRONGTYPE),
            ("SPOP str 0", WRONGTYPE),
            ("SPOP str -1", POSITIVE),
            ("SADD s a", ":1\r\n"),
            ("SPOP s", "$1\r\na\r\n"),
            ("EXISTS s", ":0\r\n"),
            ("SADD s a b c", ":3\r\n"),
            ("SPOP s 0", "*0\r\n"),
            ("SCARD s", ":3\r\n"),
        ],
    );
    assert_eq!(sorted(&mut c, "SPOP s 3"), strs(&["a", "b", "c"]));
    assert_eq!(r(&mut c, "EXISTS s"), ":0\r\n");
    r(&mut c, "SADD s a b c");
    assert_eq!(sorted(&mut c, "SPOP s 100"), strs(&["a", "b", "c"]));
    assert_eq!(r(&mut c, "EXISTS s"), ":0\r\n");

    // Popped members are distinct and leave the set, for every encoding
    // and both strategies (few popped, most popped).
    for prefix in ["", "m", "long-member-name-"] {
        for (size, count) in [(20usize, 2usize), (20, 19), (300, 10), (300, 290), (600, 5)] {
            r(&mut c, "DEL p");
            let names: Vec<String> = (0..size).map(|i| format!("{prefix}{i}")).collect();
            let mut cmd = vec!["SADD", "p"];
            cmd.extend(names.iter().map(String::as_str));
            c.cmd(&cmd);
            let popped = sorted(&mut c, &format!("SPOP p {count}"));
            assert_eq!(popped.len(), count);
            let uniq: HashSet<&String> = popped.iter().collect();
            assert_eq!(uniq.len(), count);
            let left = sorted(&mut c, "SMEMBERS p");
            assert_eq!(left.len(), size - count);
            assert!(left.iter().all(|m| !uniq.contains(m)));
            let mut all = left.clone();
            all.extend(popped);
            all.sort();
            let mut want = names.clone();
            want.sort();
            assert_eq!(all, want);
        }
    }

    assert!(r(&mut c, "HELLO 3").starts_with('%'));
    r(&mut c, "SADD r a b c d e f g h i j");
    check(
        &mut c,
        &[
            ("SPOP missing", "_\r\n"),
            ("SPOP missing 2", "~0\r\n"),
            ("SPOP r 0", "~0\r\n"),
        ],
    );
    assert_eq!(members(&c.cmd(&["SPOP", "r", "1"])).0, '~');
    assert_eq!(members(&c.cmd(&["SPOP", "r", "8"])).0, '~');
    assert_eq!(members(&c.cmd(&["SPOP", "r", "5"])).0, '~');
}

#[test]
fn srandmember() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SRANDMEMBER missing", "$-1\r\n"),
            ("SRANDMEMBER missing 5", "*0\r\n"),
            ("SRANDMEMBER missing -5", "*0\r\n"),
            ("SRANDMEMBER missing x", NOT_INT),
            (
                "SRANDMEMBER missing -9223372036854775808",
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            ),
            ("SRANDMEMBER missing 1 2", SYNTAX),
            ("SET str v", "+OK\r\n"),
            ("SRANDMEMBER str", WRONGTYPE),
            ("SRANDMEMBER str 1", WRONGTYPE),
            ("SRANDMEMBER str x", NOT_INT),
            ("SADD one a", ":1\r\n"),
            ("SRANDMEMBER one", "$1\r\na\r\n"),
            ("SRANDMEMBER one 0", "*0\r\n"),
            ("SRANDMEMBER one 1", "*1\r\n$1\r\na\r\n"),
            ("SRANDMEMBER one 5", "*1\r\n$1\r\na\r\n"),
            ("SRANDMEMBER one -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"),
            ("SCARD one", ":1\r\n"),
        ],
    );
    for prefix in ["", "m", "long-member-name-"] {
        for size in [5usize, 50, 300, 600] {
            r(&mut c, "DEL s");
            let names: Vec<String> = (0..size).map(|i| format!("{prefix}{i}")).collect();
            let mut cmd = vec!["SADD", "s"];
            cmd.extend(names.iter().map(String::as_str));
            c.cmd(&cmd);
            let all: HashSet<&String> = names.iter().collect();
            for count in [1usize, 3, size / 2, size - 1, size, size + 10] {
                let got = sorted(&mut c, &format!("SRANDMEMBER s {count}"));
                assert_eq!(got.len(), count.min(size), "{prefix} {size} {count}");
                let uniq: HashSet<&String> = got.iter().collect();
                assert_eq!(uniq.len(), got.len(), "distinct members");
                assert!(got.iter().all(|m| all.contains(m)));
            }
            // Negative counts: exactly that many, repeats expected.
            let got = sorted(&mut c, &format!("SRANDMEMBER s -{}", size * 3));
            assert_eq!(got.len(), size * 3);
            assert!(got.iter().all(|m| all.contains(m)));
            assert_eq!(r(&mut c, "SCARD s"), format!(":{size}\r\n"));
        }
    }
    // RESP3: arrays with a count (even the whole set), a null without.
    assert!(r(&mut c, "HELLO 3").starts_with('%'));
    check(
        &mut c,
        &[
            ("SRANDMEMBER missing", "_\r\n"),
            ("SRANDMEMBER missing 2", "*0\r\n"),
            ("SRANDMEMBER one 5", "*1\r\n$1\r\na\r\n"),
        ],
    );
    assert_eq!(members(&c.cmd(&["SRANDMEMBER", "s", "3"])).0, '*');
    assert_eq!(members(&c.cmd(&["SRANDMEMBER", "s", "-3"])).0, '*');
}

#[test]
fn sscan() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("SSCAN missing 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            // A missing key answers before options are read.
            ("SSCAN missing 0 BOGUS", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("SSCAN missing x", "-ERR invalid cursor\r\n"),
            ("SET str v", "+OK\r\n"),
            ("SSCAN str 0", WRONGTYPE),
            ("SSCAN str x", "-ERR invalid cursor\r\n"),
            ("SADD i 3 1 2", ":3\r\n"),
            (
                "SSCAN i 0",
                "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
            ),
            // Compact encodings: everything at once, cursor 0, any cursor.
            (
                "SSCAN i 7 COUNT 1",
                "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
            ),
            ("SSCAN i 0 MATCH 2", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n"),
            ("SSCAN i 0 COUNT 0", SYNTAX),
            ("SSCAN i 0 COUNT -1", SYNTAX),
            ("SSCAN i 0 COUNT x", NOT_INT),
            ("SSCAN i 0 COUNT", SYNTAX),
            ("SSCAN i 0 MATCH", SYNTAX),
            ("SSCAN i 0 TYPE set", SYNTAX),
            ("SSCAN i 0 NOVALUES", SYNTAX),
            (
                "SSCAN i -1",
                "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
            ),
            ("SSCAN i 18446744073709551616", "-ERR invalid cursor\r\n"),
        ],
    );
    // A hashtable set: a full iteration returns every member.
    let names: Vec<String> = (0..1000).map(|i| format!("member:{i}")).collect();
    let mut cmd = vec!["SADD", "h"];
    cmd.extend(names.iter().map(String::as_str));
    c.cmd(&cmd);
    assert_eq!(r(&mut c, "OBJECT ENCODING h"), "$9\r\nhashtable\r\n");
    for (opts, want) in [
        ("", 1000usize),
        (" COUNT 7", 1000),
        (" MATCH member:1*", 111),
        (" MATCH *99 COUNT 50", 10),
    ] {
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let f = c.cmd(&words(&format!("SSCAN h {cursor}{opts}")));
            let Frame::Array(parts) = f else {
                panic!("scan reply")
            };
            let Frame::Bulk(next) = &parts[0] else {
                panic!("cursor")
            };
            cursor = String::from_utf8(next.to_vec()).unwrap();
            for m in members(&parts[1]).1 {
                seen.insert(m);
            }
            calls += 1;
            if cursor == "0" {
                break;
            }
            assert!(calls < 2000);
        }
        assert_eq!(seen.len(), want, "{opts}");
        assert!(calls > 1, "a hashtable is walked in steps");
    }
}

#[test]
fn encodings() {
    let (_t, mut c) = client();
    let lp = has_listpack_sets(&mut c);
    let enc = |c: &mut Conn, key: &str| r(c, &format!("OBJECT ENCODING {key}"));
    const INTSET: &str = "$6\r\nintset\r\n";
    const LISTPACK: &str = "$8\r\nlistpack\r\n";
    const HT: &str = "$9\r\nhashtable\r\n";
    let many = |c: &mut Conn, key: &str, prefix: &str, n: usize| {
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
        let mut cmd = vec!["SADD", key];
        cmd.extend(names.iter().map(String::as_str));
        c.cmd(&cmd);
    };

    r(&mut c, "SADD i 1 2 3");
    assert_eq!(enc(&mut c, "i"), INTSET);
    r(&mut c, "SADD i -9223372036854775808 9223372036854775807");
    assert_eq!(enc(&mut c, "i"), INTSET);
    // 512 integers are an intset, one more a hashtable.
    many(&mut c, "big", "", 512);
    assert_eq!(enc(&mut c, "big"), INTSET);
    r(&mut c, "SADD big 512");
    assert_eq!(enc(&mut c, "big"), HT);
    // Removing members never converts back.
    r(&mut c, "SPOP big 10");
    r(&mut c, "SREM big 0 1 2 3");
    assert_eq!(enc(&mut c, "big"), HT);
    // One SADD of 513 integers goes straight to a hashtable.
    many(&mut c, "big2", "", 513);
    assert_eq!(enc(&mut c, "big2"), HT);
    // Long strings are hashtables at once.
    r(&mut c, &format!("SADD long {}", "x".repeat(65)));
    assert_eq!(enc(&mut c, "long"), HT);
    many(&mut c, "strs", "m", 129);
    assert_eq!(enc(&mut c, "strs"), HT);

    if lp {
        r(&mut c, "SADD l a b");
        assert_eq!(enc(&mut c, "l"), LISTPACK);
        // A non-integer turns a small intset into a listpack...
        r(&mut c, "SADD i x");
        assert_eq!(enc(&mut c, "i"), LISTPACK);
        // ...and a large one into a hashtable.
        many(&mut c, "i2", "", 128);
        assert_eq!(enc(&mut c, "i2"), INTSET);
        r(&mut c, "SADD i2 x");
        assert_eq!(enc(&mut c, "i2"), HT);
        many(&mut c, "i3", "", 127);
        r(&mut c, "SADD i3 x");
        assert_eq!(enc(&mut c, "i3"), LISTPACK);
        r(&mut c, "SADD i3 y");
        assert_eq!(enc(&mut c, "i3"), HT);
        // Listpack limits: 128 entries, 64 bytes.
        many(&mut c, "l128", "m", 128);
        assert_eq!(enc(&mut c, "l128"), LISTPACK);
        r(&mut c, &format!("SADD l64 {}", "x".repeat(64)));
        assert_eq!(enc(&mut c, "l64"), LISTPACK);
        r(&mut c, &format!("SADD l64 {}", "y".repeat(65)));
        assert_eq!(enc(&mut c, "l64"), HT);
        // A listpack given more arguments than it may hold converts first,
        // even when they are duplicates.
        r(&mut c, "SADD dup a");
        let mut cmd = vec!["SADD", "dup"];
        cmd.extend(std::iter::repeat_n("a", 129));
        c.cmd(&cmd);
        assert_eq!(enc(&mut c, "dup"), HT);
        assert_eq!(r(&mut c, "SCARD dup"), ":1\r\n");
        // Thresholds follow CONFIG SET.
        r(&mut c, "CONFIG SET set-max-listpack-entries 2");
        r(&mut c, "SADD cfg a b");
        assert_eq!(enc(&mut c, "cfg"), LISTPACK);
        r(&mut c, "SADD cfg c");
        assert_eq!(enc(&mut c, "cfg"), HT);
        r(&mut c, "CONFIG SET set-max-listpack-entries 128");
        r(&mut c, "CONFIG SET set-max-intset-entries 3");
        r(&mut c, "SADD cfgi 1 2 3");
        assert_eq!(enc(&mut c, "cfgi"), INTSET);
        r(&mut c, "SADD cfgi 4");
        assert_eq!(enc(&mut c, "cfgi"), HT);
        r(&mut c, "CONFIG SET set-max-intset-entries 512");

        // STORE results.
        r(&mut c, "DEL a b");
        r(&mut c, "SADD a 1 2 3 x");
        r(&mut c, "SADD b 1 2 3 y");
        // The intersection is all integers: an intset.
        r(&mut c, "SINTERSTORE d a b");
        assert_eq!(enc(&mut c, "d"), INTSET);
        r(&mut c, "SADD b x");
        r(&mut c, "SINTERSTORE d a b");
        assert_eq!(enc(&mut c, "d"), LISTPACK);
        // From hashtables: a small result is compact again.
        r(&mut c, "SADD strs 1 2");
        many(&mut c, "ints600", "", 600);
        r(&mut c, "SINTERSTORE d strs ints600");
        assert_eq!(enc(&mut c, "d"), INTSET);
        r(&mut c, "SINTERSTORE d strs strs");
        assert_eq!(enc(&mut c, "d"), HT);
        r(&mut c, "SADD small m1 m2 zz");
        r(&mut c, "SINTERSTORE d strs small");
        assert_eq!(enc(&mut c, "d"), LISTPACK);
        // Unions and differences start from an intset.
        r(&mut c, "SUNIONSTORE d i2");
        assert_eq!(enc(&mut c, "d"), HT);
        r(&mut c, "SADD n1 1 2");
        r(&mut c, "SADD n2 3");
        r(&mut c, "SUNIONSTORE d n1 n2");
        assert_eq!(enc(&mut c, "d"), INTSET);
        r(&mut c, "SUNIONSTORE d n1 l");
        assert_eq!(enc(&mut c, "d"), LISTPACK);
        r(&mut c, "SDIFFSTORE d strs small");
        assert_eq!(enc(&mut c, "d"), HT);
        r(&mut c, "SDIFFSTORE d small strs");
        assert_eq!(enc(&mut c, "d"), LISTPACK);
        r(&mut c, "SDIFFSTORE d big2 big");
        assert_eq!(enc(&mut c, "d"), INTSET);
        // SPOP taking most of a hashtable rebuilds it as a listpack.
        many(&mut c, "sp", "m", 200);
        r(&mut c, "SPOP sp 190");
        assert_eq!(enc(&mut c, "sp"), LISTPACK);
        assert_eq!(r(&mut c, "SCARD sp"), ":10\r\n");
        many(&mut c, "sp2", "m", 200);
        r(&mut c, "SPOP sp2 10");
        assert_eq!(enc(&mut c, "sp2"), HT);
        // ...and an intset stays an intset.
        many(&mut c, "sp3", "", 100);
        r(&mut c, "SPOP sp3 90");
        assert_eq!(enc(&mut c, "sp3"), INTSET);
        // SMOVE creates the destination for the member it moves.
        r(&mut c, "SMOVE l newl a");
        assert_eq!(enc(&mut c, "newl"), LISTPACK);
    }
}
