//! The generic keyspace commands end to end: every option, reply and error,
//! checked byte for byte against what Redis 7.2 sends.

mod common;

use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{start, start_with, Conn};
use resp::Frame;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn int(c: &mut Conn, args: &[&str]) -> i64 {
    match c.cmd(args) {
        Frame::Integer(n) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

fn bulk_strings(f: Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                other => panic!("expected a bulk string, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

fn sorted_keys(c: &mut Conn, pattern: &str) -> Vec<String> {
    let mut k = bulk_strings(c.cmd(&["KEYS", pattern]));
    k.sort();
    k
}

/// One SCAN step: the next cursor and the keys.
fn scan_step(c: &mut Conn, args: &[&str]) -> (String, Vec<String>) {
    match c.cmd(args) {
        Frame::Array(mut parts) => {
            assert_eq!(parts.len(), 2);
            let keys = bulk_strings(parts.pop().unwrap());
            let Frame::Bulk(cursor) = parts.pop().unwrap() else {
                panic!("cursor is not a bulk string");
            };
            (String::from_utf8(cursor.to_vec()).unwrap(), keys)
        }
        other => panic!("expected a SCAN reply, got {other:?}"),
    }
}

/// A full SCAN with extra options; every key reported, in order.
fn scan_all(c: &mut Conn, opts: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    let mut steps = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(opts);
        let (next, keys) = scan_step(c, &args);
        all.extend(keys);
        steps += 1;
        assert!(steps < 10_000, "SCAN did not finish");
        if next == "0" {
            return (all, steps);
        }
        cursor = next;
    }
}

fn resp3(c: &mut Conn) {
    assert!(matches!(c.cmd(&["HELLO", "3"]), Frame::Map(_)));
}

// ---------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TOUCH

#[test]
fn del_and_unlink_count_keys_that_existed() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    for k in ["a", "b", "c", "d"] {
        assert_eq!(c.raw(&["SET", k, "1"]), "+OK\r\n");
    }
    // A repeated key is deleted once.
    assert_eq!(c.raw(&["DEL", "a", "b", "a", "nokey"]), ":2\r\n");
    assert_eq!(c.raw(&["DEL", "a"]), ":0\r\n");
    assert_eq!(c.raw(&["UNLINK", "c", "d", "c"]), ":2\r\n");
    assert_eq!(c.raw(&["UNLINK", "c"]), ":0\r\n");
    assert_eq!(c.raw(&["GET", "b"]), "$-1\r\n");
    assert_eq!(
        c.raw(&["DEL"]),
        "-ERR wrong number of arguments for 'del' command\r\n"
    );
    assert_eq!(
        c.raw(&["UNLINK"]),
        "-ERR wrong number of arguments for 'unlink' command\r\n"
    );
}

#[test]
fn exists_and_touch_count_repeats() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "a", "1"]);
    c.raw(&["SET", "b", "1"]);
    assert_eq!(c.raw(&["EXISTS", "a", "a", "b", "nokey"]), ":3\r\n");
    assert_eq!(c.raw(&["EXISTS", "nokey"]), ":0\r\n");
    assert_eq!(c.raw(&["TOUCH", "a", "a", "nokey"]), ":2\r\n");
    assert_eq!(c.raw(&["TOUCH", "nokey"]), ":0\r\n");
    assert_eq!(
        c.raw(&["EXISTS"]),
        "-ERR wrong number of arguments for 'exists' command\r\n"
    );
    assert_eq!(
        c.raw(&["TOUCH"]),
        "-ERR wrong number of arguments for 'touch' command\r\n"
    );
}

#[test]
fn inspection_keeps_idle_time_and_touch_resets_it() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    sleep(Duration::from_millis(2_100));
    // None of these is an access that resets the idle clock.
    for cmd in [
        &["EXISTS", "k"][..],
        &["TYPE", "k"],
        &["TTL", "k"],
        &["PTTL", "k"],
        &["EXPIRETIME", "k"],
        &["OBJECT", "ENCODING", "k"],
        &["OBJECT", "REFCOUNT", "k"],
        &["SCAN", "0", "TYPE", "string"],
    ] {
        c.cmd(cmd);
    }
    let idle = int(&mut c, &["OBJECT", "IDLETIME", "k"]);
    assert!((2..=3).contains(&idle), "idle {idle}");
    assert_eq!(c.raw(&["TOUCH", "k"]), ":1\r\n");
    assert!(int(&mut c, &["OBJECT", "IDLETIME", "k"]) <= 1);
}

#[test]
fn keyspace_hits_and_misses_follow_redis() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    let before = srv.server.store.stats();
    // Reads count (EXISTS, TYPE, TTL, TOUCH, OBJECT); writes do not (DEL, EXPIRE).
    c.raw(&["EXISTS", "k", "nokey"]);
    c.raw(&["TYPE", "k"]);
    c.raw(&["TTL", "nokey"]);
    c.raw(&["TOUCH", "k"]);
    c.raw(&["OBJECT", "ENCODING", "k"]);
    c.raw(&["EXPIRE", "k", "100"]);
    c.raw(&["DEL", "nokey"]);
    let after = srv.server.store.stats();
    assert_eq!(after.hits - before.hits, 4);
    assert_eq!(after.misses - before.misses, 2);
}

// ---------------------------------------------------------------------------
// EXPIRE family

#[test]
fn expire_family_sets_deadlines() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    assert_eq!(c.raw(&["EXPIRE", "k", "100"]), ":1\r\n");
    let t = int(&mut c, &["PTTL", "k"]);
    assert!((99_000..=100_000).contains(&t), "{t}");
    assert_eq!(c.raw(&["PEXPIRE", "k", "50000"]), ":1\r\n");
    let t = int(&mut c, &["PTTL", "k"]);
    assert!((49_000..=50_000).contains(&t), "{t}");
    assert_eq!(c.raw(&["EXPIREAT", "k", "4102444800"]), ":1\r\n");
    assert_eq!(c.raw(&["EXPIRETIME", "k"]), ":4102444800\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "k"]), ":4102444800000\r\n");
    assert_eq!(c.raw(&["PEXPIREAT", "k", "4102444800123"]), ":1\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "k"]), ":4102444800123\r\n");
    // A missing key cannot be given a deadline.
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(c.raw(&[cmd, "nokey", "100"]), ":0\r\n", "{cmd}");
    }
    assert_eq!(c.raw(&["EXISTS", "nokey"]), ":0\r\n");
    // Options are case-insensitive.
    assert_eq!(c.raw(&["expire", "k", "100", "xx"]), ":1\r\n");
}

#[test]
fn expire_conditions_nx_xx_gt_lt() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    // No deadline yet: XX and GT refuse, NX and LT accept.
    assert_eq!(c.raw(&["EXPIRE", "k", "100", "XX"]), ":0\r\n");
    assert_eq!(c.raw(&["EXPIRE", "k", "100", "GT"]), ":0\r\n");
    assert_eq!(c.raw(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.raw(&["EXPIRE", "k", "100", "NX"]), ":1\r\n");
    assert_eq!(c.raw(&["EXPIRE", "k", "200", "NX"]), ":0\r\n");
    assert_eq!(c.raw(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.raw(&["EXPIRE", "k", "200", "XX"]), ":1\r\n");
    assert_eq!(c.raw(&["TTL", "k"]), ":200\r\n");
    // GT only lengthens, LT only shortens; equal is neither.
    assert_eq!(c.raw(&["EXPIRE", "k", "150", "GT"]), ":0\r\n");
    assert_eq!(c.raw(&["EXPIREAT", "k", "4102444800", "GT"]), ":1\r\n");
    assert_eq!(c.raw(&["EXPIREAT", "k", "4102444800", "GT"]), ":0\r\n");
    assert_eq!(c.raw(&["EXPIREAT", "k", "4102444800", "LT"]), ":0\r\n");
    assert_eq!(c.raw(&["EXPIREAT", "k", "4102444900", "LT"]), ":0\r\n");
    assert_eq!(c.raw(&["PEXPIREAT", "k", "4102444799999", "LT"]), ":1\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "k"]), ":4102444799999\r\n");
    assert_eq!(c.raw(&["EXPIRE", "k", "300", "XX", "GT"]), ":0\r\n");
    assert_eq!(c.raw(&["EXPIRE", "k", "300", "XX", "LT"]), ":1\r\n");
    assert_eq!(c.raw(&["TTL", "k"]), ":300\r\n");
    // LT on a key without a deadline accepts: no deadline is infinitely far.
    c.raw(&["PERSIST", "k"]);
    assert_eq!(c.raw(&["EXPIRE", "k", "50", "LT"]), ":1\r\n");
    assert_eq!(c.raw(&["TTL", "k"]), ":50\r\n");
    // Repeating an option is allowed.
    assert_eq!(c.raw(&["EXPIRE", "k", "60", "XX", "XX"]), ":1\r\n");
}

#[test]
fn expire_option_errors() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    let nx_err = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
    let gtlt_err = "-ERR GT and LT options at the same time are not compatible\r\n";
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(c.raw(&[cmd, "k", "100", "NX", "XX"]), nx_err);
        assert_eq!(c.raw(&[cmd, "k", "100", "gt", "nx"]), nx_err);
        assert_eq!(c.raw(&[cmd, "k", "100", "NX", "LT"]), nx_err);
        assert_eq!(c.raw(&[cmd, "k", "100", "GT", "LT"]), gtlt_err);
        assert_eq!(c.raw(&[cmd, "k", "100", "XX", "GT", "LT"]), gtlt_err);
        // Incompatibility errors win even on a missing key.
        assert_eq!(c.raw(&[cmd, "nokey", "100", "NX", "XX"]), nx_err);
        assert_eq!(
            c.raw(&[cmd, "k", "100", "FOO"]),
            "-ERR Unsupported option FOO\r\n"
        );
        // The first unknown option is named, before any incompatibility.
        assert_eq!(
            c.raw(&[cmd, "k", "100", "NX", "XX", "bar", "baz"]),
            "-ERR Unsupported option bar\r\n"
        );
        // Options are read before the time.
        assert_eq!(
            c.raw(&[cmd, "k", "abc", "foo"]),
            "-ERR Unsupported option foo\r\n"
        );
        assert_eq!(
            c.raw(&[cmd, "k", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        for bad in ["1.5", " 1", "01", "+1", "", "99999999999999999999"] {
            assert_eq!(
                c.raw(&[cmd, "k", bad]),
                "-ERR value is not an integer or out of range\r\n",
                "{cmd} {bad:?}"
            );
        }
    }
    assert_eq!(c.raw(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(
        c.raw(&["EXPIRE", "k"]),
        "-ERR wrong number of arguments for 'expire' command\r\n"
    );
}

#[test]
fn expire_time_overflow_is_an_error() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    let max = "9223372036854775807";
    let min = "-9223372036854775808";
    assert_eq!(
        c.raw(&["EXPIRE", "k", max]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        c.raw(&["EXPIRE", "k", min]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        c.raw(&["PEXPIRE", "k", max]),
        "-ERR invalid expire time in 'pexpire' command\r\n"
    );
    assert_eq!(
        c.raw(&["EXPIREAT", "k", max]),
        "-ERR invalid expire time in 'expireat' command\r\n"
    );
    // Seconds that just fit once scaled, plus now, overflow.
    assert_eq!(
        c.raw(&["EXPIRE", "k", "9223372036854775"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    // An absolute deadline in milliseconds has nothing added: the maximum fits.
    assert_eq!(c.raw(&["PEXPIREAT", "k", max]), ":1\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "k"]), format!(":{max}\r\n"));
    // Rounded to seconds without wrapping around.
    assert_eq!(c.raw(&["EXPIRETIME", "k"]), ":9223372036854776\r\n");
    assert_eq!(c.raw(&["EXPIREAT", "k", "9223372036854775"]), ":1\r\n");
    assert_eq!(c.raw(&["EXPIRETIME", "k"]), ":9223372036854775\r\n");
    // Overflow is checked on a missing key too.
    assert_eq!(
        c.raw(&["PEXPIRE", "nokey", max]),
        "-ERR invalid expire time in 'pexpire' command\r\n"
    );
}

#[test]
fn a_deadline_in_the_past_deletes_the_key() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let past_s = (now_ms() / 1000 - 10).to_string();
    let past_ms = (now_ms() - 10_000).to_string();
    let cases: [&[&str]; 7] = [
        &["EXPIRE", "k", "0"],
        &["EXPIRE", "k", "-5"],
        &["PEXPIRE", "k", "-1"],
        &["EXPIREAT", "k", &past_s],
        &["PEXPIREAT", "k", &past_ms],
        &["PEXPIREAT", "k", "1"],
        &["EXPIREAT", "k", "-9223372036854775"],
    ];
    for cmd in cases {
        assert_eq!(c.raw(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(c.raw(cmd), ":1\r\n", "{cmd:?}");
        assert_eq!(c.raw(&["EXISTS", "k"]), ":0\r\n", "{cmd:?}");
        assert_eq!(c.raw(&["TTL", "k"]), ":-2\r\n");
    }
    // A condition that refuses leaves the key alone even with a past time.
    c.raw(&["SET", "k", "v"]);
    assert_eq!(c.raw(&["EXPIRE", "k", "-1", "XX"]), ":0\r\n");
    assert_eq!(c.raw(&["EXISTS", "k"]), ":1\r\n");
    assert_eq!(c.raw(&["EXPIRE", "k", "-1", "LT"]), ":1\r\n");
    assert_eq!(c.raw(&["EXISTS", "k"]), ":0\r\n");
}

// ---------------------------------------------------------------------------
// TTL family, PERSIST

#[test]
fn ttl_family_replies() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(c.raw(&[cmd, "nokey"]), ":-2\r\n", "{cmd}");
    }
    c.raw(&["SET", "k", "v"]);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(c.raw(&[cmd, "k"]), ":-1\r\n", "{cmd}");
    }
    // Seconds are rounded to the nearest: 10.6 s left reads as 11, 10.4 as 10.
    c.raw(&["PEXPIRE", "k", "10600"]);
    assert_eq!(c.raw(&["TTL", "k"]), ":11\r\n");
    c.raw(&["PEXPIRE", "k", "10400"]);
    assert_eq!(c.raw(&["TTL", "k"]), ":10\r\n");
    let pttl = int(&mut c, &["PTTL", "k"]);
    assert!((9_000..=10_400).contains(&pttl), "{pttl}");
    c.raw(&["PEXPIREAT", "k", "4102444800499"]);
    assert_eq!(c.raw(&["EXPIRETIME", "k"]), ":4102444800\r\n");
    c.raw(&["PEXPIREAT", "k", "4102444800500"]);
    assert_eq!(c.raw(&["EXPIRETIME", "k"]), ":4102444801\r\n");
    for cmd in [
        "TTL",
        "PTTL",
        "EXPIRETIME",
        "PEXPIRETIME",
        "PERSIST",
        "TYPE",
    ] {
        assert_eq!(
            c.raw(&[cmd, "k", "extra"]),
            format!(
                "-ERR wrong number of arguments for '{}' command\r\n",
                cmd.to_lowercase()
            )
        );
    }
}

#[test]
fn persist_removes_the_deadline() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["PERSIST", "nokey"]), ":0\r\n");
    c.raw(&["SET", "k", "v"]);
    assert_eq!(c.raw(&["PERSIST", "k"]), ":0\r\n");
    c.raw(&["EXPIRE", "k", "100"]);
    assert_eq!(c.raw(&["PERSIST", "k"]), ":1\r\n");
    assert_eq!(c.raw(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.raw(&["PERSIST", "k"]), ":0\r\n");
    // SET without KEEPTTL also clears it.
    c.raw(&["EXPIRE", "k", "100"]);
    c.raw(&["SET", "k", "w"]);
    assert_eq!(c.raw(&["TTL", "k"]), ":-1\r\n");
}

#[test]
fn expired_keys_are_gone_for_every_command() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    for k in ["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"] {
        c.raw(&["SET", k, "v"]);
        assert_eq!(c.raw(&["PEXPIRE", k, "30"]), ":1\r\n");
    }
    c.raw(&["SET", "live", "v"]);
    c.raw(&["SET", "dst", "x"]);
    sleep(Duration::from_millis(80));
    assert_eq!(c.raw(&["GET", "e1"]), "$-1\r\n");
    assert_eq!(c.raw(&["EXISTS", "e2", "live"]), ":1\r\n");
    assert_eq!(c.raw(&["TTL", "e3"]), ":-2\r\n");
    assert_eq!(c.raw(&["PTTL", "e3"]), ":-2\r\n");
    assert_eq!(c.raw(&["TYPE", "e4"]), "+none\r\n");
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "e4"]), "$-1\r\n");
    assert_eq!(c.raw(&["RENAME", "e5", "x"]), "-ERR no such key\r\n");
    assert_eq!(c.raw(&["COPY", "e6", "x"]), ":0\r\n");
    assert_eq!(c.raw(&["MOVE", "e7", "1"]), ":0\r\n");
    assert_eq!(c.raw(&["PERSIST", "e8"]), ":0\r\n");
    assert_eq!(c.raw(&["DEL", "e8", "live"]), ":1\r\n");
    assert_eq!(sorted_keys(&mut c, "*"), vec!["dst"]);
    let (all, _) = scan_all(&mut c, &[]);
    assert_eq!(all, vec!["dst"]);
    assert_eq!(c.raw(&["RANDOMKEY"]), "$3\r\ndst\r\n");
    // An expired key is no obstacle for RENAMENX or COPY.
    c.raw(&["SET", "src", "v"]);
    c.raw(&["SET", "gone", "old"]);
    c.raw(&["PEXPIRE", "gone", "20"]);
    sleep(Duration::from_millis(50));
    assert_eq!(c.raw(&["RENAMENX", "src", "gone"]), ":1\r\n");
    assert_eq!(c.raw(&["GET", "gone"]), "$1\r\nv\r\n");
    c.raw(&["SET", "gone2", "old"]);
    c.raw(&["PEXPIRE", "gone2", "20"]);
    sleep(Duration::from_millis(50));
    assert_eq!(c.raw(&["COPY", "gone", "gone2"]), ":1\r\n");
    assert_eq!(c.raw(&["TTL", "gone2"]), ":-1\r\n");
}

#[test]
fn active_expiry_removes_keys_nobody_reads() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    for i in 0..50 {
        c.raw(&["SET", &format!("k{i}"), "v"]);
        c.raw(&["PEXPIRE", &format!("k{i}"), "10"]);
    }
    c.raw(&["SET", "keep", "v"]);
    // DBSIZE-like count through the store: nothing is read, only the
    // background cycle (10 times a second) can delete.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (keys, _) = srv.server.store.approx_len(0);
        if keys == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{keys} keys left after 5 s"
        );
        sleep(Duration::from_millis(50));
    }
    assert_eq!(c.raw(&["EXISTS", "keep"]), ":1\r\n");
}

// ---------------------------------------------------------------------------
// TYPE, KEYS, RANDOMKEY

#[test]
fn type_is_a_status_reply() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "s", "hello"]);
    c.raw(&["SET", "n", "12"]);
    assert_eq!(c.raw(&["TYPE", "s"]), "+string\r\n");
    assert_eq!(c.raw(&["TYPE", "n"]), "+string\r\n");
    assert_eq!(c.raw(&["TYPE", "nokey"]), "+none\r\n");
    resp3(&mut c);
    assert_eq!(c.raw(&["TYPE", "s"]), "+string\r\n");
    assert_eq!(c.raw(&["TYPE", "nokey"]), "+none\r\n");
}

#[test]
fn keys_matches_glob_patterns() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["KEYS", "*"]), "*0\r\n");
    for k in [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "other", "",
    ] {
        c.raw(&["SET", k, "1"]);
    }
    assert_eq!(
        sorted_keys(&mut c, "*"),
        vec!["", "h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "other"]
    );
    assert_eq!(
        sorted_keys(&mut c, "h?llo"),
        vec!["h*llo", "hallo", "hello", "hxllo"]
    );
    assert_eq!(
        sorted_keys(&mut c, "h*llo"),
        vec!["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(sorted_keys(&mut c, "h[ae]llo"), vec!["hallo", "hello"]);
    assert_eq!(
        sorted_keys(&mut c, "h[^e]llo"),
        vec!["h*llo", "hallo", "hxllo"]
    );
    assert_eq!(sorted_keys(&mut c, "h[a-b]llo"), vec!["hallo"]);
    assert_eq!(c.raw(&["KEYS", "h\\*llo"]), "*1\r\n$5\r\nh*llo\r\n");
    assert_eq!(c.raw(&["KEYS", "HELLO"]), "*0\r\n");
    // Only the exact pattern `*` lists the empty key, as in Redis.
    assert!(!sorted_keys(&mut c, "**").contains(&String::new()));
    // Only the selected database is listed.
    c.raw(&["SELECT", "1"]);
    assert_eq!(c.raw(&["KEYS", "*"]), "*0\r\n");
    assert_eq!(
        c.raw(&["KEYS"]),
        "-ERR wrong number of arguments for 'keys' command\r\n"
    );
}

#[test]
fn randomkey_returns_a_live_key_or_null() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["RANDOMKEY"]), "$-1\r\n");
    c.raw(&["SET", "only", "1"]);
    assert_eq!(c.raw(&["RANDOMKEY"]), "$4\r\nonly\r\n");
    for k in ["a", "b", "c"] {
        c.raw(&["SET", k, "1"]);
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        match c.cmd(&["RANDOMKEY"]) {
            Frame::Bulk(b) => {
                seen.insert(b.to_vec());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen.len(), 4, "every key is picked eventually");
    assert_eq!(
        c.raw(&["RANDOMKEY", "x"]),
        "-ERR wrong number of arguments for 'randomkey' command\r\n"
    );
    c.raw(&["SELECT", "3"]);
    resp3(&mut c);
    assert_eq!(c.raw(&["RANDOMKEY"]), "_\r\n");
}

// ---------------------------------------------------------------------------
// SCAN

#[test]
fn scan_cursor_parsing_follows_strtoul() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    for ok in [
        "0",
        "",
        "+0",
        "-0",
        "00",
        "18446744073709551615",
        "-1",
        "+12",
    ] {
        assert!(
            matches!(c.cmd(&["SCAN", ok]), Frame::Array(_)),
            "cursor {ok:?}"
        );
    }
    for bad in [
        " 1",
        "1 ",
        "+",
        "-",
        "1x",
        "0x1",
        "1.0",
        "18446744073709551616",
        "-18446744073709551616",
    ] {
        assert_eq!(
            c.raw(&["SCAN", bad]),
            "-ERR invalid cursor\r\n",
            "cursor {bad:?}"
        );
    }
    // The cursor is checked before the options.
    assert_eq!(c.raw(&["SCAN", "x", "bogus"]), "-ERR invalid cursor\r\n");
    assert_eq!(
        c.raw(&["SCAN"]),
        "-ERR wrong number of arguments for 'scan' command\r\n"
    );
}

#[test]
fn scan_option_errors() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let syntax = "-ERR syntax error\r\n";
    assert_eq!(c.raw(&["SCAN", "0", "COUNT", "0"]), syntax);
    assert_eq!(c.raw(&["SCAN", "0", "COUNT", "-1"]), syntax);
    assert_eq!(
        c.raw(&["SCAN", "0", "COUNT", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(c.raw(&["SCAN", "0", "COUNT"]), syntax);
    assert_eq!(c.raw(&["SCAN", "0", "MATCH"]), syntax);
    assert_eq!(c.raw(&["SCAN", "0", "TYPE"]), syntax);
    assert_eq!(c.raw(&["SCAN", "0", "foo", "bar"]), syntax);
    assert_eq!(c.raw(&["SCAN", "0", "MATCH", "*", "COUNT"]), syntax);
    // Errors come in argument order.
    assert_eq!(
        c.raw(&["SCAN", "0", "COUNT", "x", "bogus"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(c.raw(&["SCAN", "0", "bogus", "COUNT", "x"]), syntax);
}

#[test]
fn scan_replies_and_filters() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["SCAN", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    c.raw(&["SET", "only", "v"]);
    assert_eq!(
        c.raw(&["SCAN", "0"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n"
    );
    c.raw(&["DEL", "only"]);
    for i in 0..500 {
        c.raw(&["SET", &format!("key:{i}"), "v"]);
    }
    for i in 0..20 {
        c.raw(&["SET", &format!("other:{i}"), "v"]);
    }
    // A full iteration returns every key exactly once on a quiet database.
    let (mut all, steps) = scan_all(&mut c, &[]);
    assert_eq!(all.len(), 520);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 520);
    assert!(steps > 10, "COUNT 10 takes many steps ({steps})");
    // COUNT bounds the batch size.
    let (_, keys) = scan_step(&mut c, &["SCAN", "0", "COUNT", "5"]);
    assert!(keys.len() <= 6, "{}", keys.len());
    let (big, steps) = scan_all(&mut c, &["COUNT", "100000"]);
    assert_eq!((big.len(), steps), (520, 1));
    // MATCH filters after the walk.
    let (mut other, _) = scan_all(&mut c, &["MATCH", "other:*", "count", "50"]);
    other.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("other:{i}")).collect();
    want.sort();
    assert_eq!(other, want);
    let (star, _) = scan_all(&mut c, &["match", "*", "COUNT", "1000"]);
    assert_eq!(star.len(), 520);
    // TYPE compares without regard to case; an unknown type matches nothing.
    let (strings, _) = scan_all(&mut c, &["TYPE", "STRING", "COUNT", "1000"]);
    assert_eq!(strings.len(), 520);
    let (lists, _) = scan_all(&mut c, &["TYPE", "list", "COUNT", "1000"]);
    assert!(lists.is_empty());
    let (none, _) = scan_all(&mut c, &["TYPE", "nosuchtype"]);
    assert!(none.is_empty());
    // The last of repeated options wins.
    let (k1, _) = scan_all(
        &mut c,
        &[
            "MATCH", "key:*", "MATCH", "key:1", "COUNT", "1", "COUNT", "1000",
        ],
    );
    assert_eq!(k1, vec!["key:1"]);
    // Another database is scanned on its own.
    c.raw(&["SELECT", "5"]);
    assert_eq!(c.raw(&["SCAN", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    // RESP3 replies the same array shape.
    resp3(&mut c);
    c.raw(&["SET", "r3", "v"]);
    assert_eq!(c.raw(&["SCAN", "0"]), "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nr3\r\n");
}

#[test]
fn scan_returns_stable_keys_while_others_change() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut w = Conn::connect(srv.addr);
    for i in 0..400 {
        c.raw(&["SET", &format!("stable:{i}"), "v"]);
        c.raw(&["SET", &format!("temp:{i}"), "v"]);
    }
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    let mut step = 0;
    loop {
        let (next, keys) = scan_step(&mut c, &["SCAN", &cursor, "COUNT", "7"]);
        seen.extend(keys);
        step += 1;
        assert!(step < 5_000);
        if next == "0" {
            break;
        }
        cursor = next;
        // Another client removes and adds keys between steps.
        w.raw(&["DEL", &format!("temp:{step}")]);
        for j in 0..5 {
            w.raw(&["SET", &format!("new:{step}:{j}"), "v"]);
        }
    }
    for i in 0..400 {
        assert!(seen.contains(&format!("stable:{i}")), "stable:{i} missed");
    }
}

// ---------------------------------------------------------------------------
// RENAME, RENAMENX

#[test]
fn rename_moves_value_and_deadline() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["RENAME", "nokey", "x"]), "-ERR no such key\r\n");
    assert_eq!(c.raw(&["RENAME", "nokey", "nokey"]), "-ERR no such key\r\n");
    assert_eq!(c.raw(&["RENAMENX", "nokey", "x"]), "-ERR no such key\r\n");
    assert_eq!(
        c.raw(&["RENAMENX", "nokey", "nokey"]),
        "-ERR no such key\r\n"
    );
    c.raw(&["SET", "a", "1"]);
    c.raw(&["PEXPIREAT", "a", "4102444800000"]);
    assert_eq!(c.raw(&["RENAME", "a", "b"]), "+OK\r\n");
    assert_eq!(c.raw(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(c.raw(&["GET", "b"]), "$1\r\n1\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "b"]), ":4102444800000\r\n");
    // To itself: nothing changes; RENAMENX says the name is taken.
    assert_eq!(c.raw(&["RENAME", "b", "b"]), "+OK\r\n");
    assert_eq!(c.raw(&["RENAMENX", "b", "b"]), ":0\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "b"]), ":4102444800000\r\n");
    // Over an existing key with a deadline: the value and deadline of the
    // source replace both.
    c.raw(&["SET", "c", "2"]);
    c.raw(&["EXPIRE", "c", "100"]);
    c.raw(&["SET", "d", "3"]);
    assert_eq!(c.raw(&["RENAME", "d", "c"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "c"]), "$1\r\n3\r\n");
    assert_eq!(c.raw(&["TTL", "c"]), ":-1\r\n");
    // RENAMENX refuses an existing destination and leaves both alone.
    assert_eq!(c.raw(&["RENAMENX", "b", "c"]), ":0\r\n");
    assert_eq!(c.raw(&["GET", "b"]), "$1\r\n1\r\n");
    assert_eq!(c.raw(&["GET", "c"]), "$1\r\n3\r\n");
    assert_eq!(c.raw(&["RENAMENX", "b", "e"]), ":1\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "e"]), ":4102444800000\r\n");
    assert_eq!(c.raw(&["EXISTS", "b"]), ":0\r\n");
    // Keys that are integers keep their encoding.
    c.raw(&["SET", "n", "12345"]);
    c.raw(&["RENAME", "n", "m"]);
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "m"]), "$3\r\nint\r\n");
    assert_eq!(
        c.raw(&["RENAME", "a"]),
        "-ERR wrong number of arguments for 'rename' command\r\n"
    );
    assert_eq!(
        c.raw(&["RENAMENX", "a", "b", "c"]),
        "-ERR wrong number of arguments for 'renamenx' command\r\n"
    );
}

// ---------------------------------------------------------------------------
// MOVE

#[test]
fn move_errors() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "a", "1"]);
    assert_eq!(
        c.raw(&["MOVE", "a", "0"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(
        c.raw(&["MOVE", "nokey", "0"]),
        "-ERR source and destination objects are the same\r\n"
    );
    for bad in ["16", "-1", "99", "2147483647", "-2147483648"] {
        assert_eq!(
            c.raw(&["MOVE", "a", bad]),
            "-ERR DB index is out of range\r\n",
            "{bad}"
        );
    }
    for bad in ["x", "01", "1.0", " 1", ""] {
        assert_eq!(
            c.raw(&["MOVE", "a", bad]),
            "-ERR value is not an integer or out of range\r\n",
            "{bad:?}"
        );
    }
    assert_eq!(
        c.raw(&["MOVE", "a", "2147483648"]),
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
    );
    assert_eq!(
        c.raw(&["MOVE", "a"]),
        "-ERR wrong number of arguments for 'move' command\r\n"
    );
    // None of that harmed the connection or the key.
    assert_eq!(c.raw(&["GET", "a"]), "$1\r\n1\r\n");
}

#[test]
fn move_transfers_value_and_deadline() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["MOVE", "nokey", "1"]), ":0\r\n");
    c.raw(&["SET", "k", "v"]);
    c.raw(&["PEXPIREAT", "k", "4102444800000"]);
    assert_eq!(c.raw(&["MOVE", "k", "1"]), ":1\r\n");
    assert_eq!(c.raw(&["EXISTS", "k"]), ":0\r\n");
    c.raw(&["SELECT", "1"]);
    assert_eq!(c.raw(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "k"]), ":4102444800000\r\n");
    // A key of that name in the target blocks the move.
    c.raw(&["SELECT", "0"]);
    c.raw(&["SET", "k", "other"]);
    assert_eq!(c.raw(&["MOVE", "k", "1"]), ":0\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$5\r\nother\r\n");
    c.raw(&["SELECT", "1"]);
    assert_eq!(c.raw(&["GET", "k"]), "$1\r\nv\r\n");
    // And back, from a non-zero database.
    c.raw(&["SET", "p", "persistent"]);
    assert_eq!(c.raw(&["MOVE", "p", "15"]), ":1\r\n");
    c.raw(&["SELECT", "15"]);
    assert_eq!(c.raw(&["TTL", "p"]), ":-1\r\n");
}

#[test]
fn move_respects_the_configured_number_of_databases() {
    let srv = start_with(|v| v.databases = 2);
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "k", "v"]);
    assert_eq!(
        c.raw(&["MOVE", "k", "2"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.raw(&["COPY", "k", "k", "DB", "2"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(c.raw(&["MOVE", "k", "1"]), ":1\r\n");
    assert_eq!(c.raw(&["PING"]), "+PONG\r\n");
}

// ---------------------------------------------------------------------------
// COPY

#[test]
fn copy_errors() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "a", "1"]);
    let same = "-ERR source and destination objects are the same\r\n";
    assert_eq!(c.raw(&["COPY", "a", "a"]), same);
    assert_eq!(c.raw(&["COPY", "a", "a", "DB", "0"]), same);
    assert_eq!(c.raw(&["COPY", "a", "a", "REPLACE"]), same);
    assert_eq!(c.raw(&["COPY", "nokey", "nokey"]), same);
    let syntax = "-ERR syntax error\r\n";
    assert_eq!(c.raw(&["COPY", "a", "b", "DB"]), syntax);
    assert_eq!(c.raw(&["COPY", "a", "b", "foo"]), syntax);
    assert_eq!(c.raw(&["COPY", "a", "b", "REPLACE", "foo"]), syntax);
    assert_eq!(
        c.raw(&["COPY", "a", "b", "DB", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        c.raw(&["COPY", "a", "b", "DB", "4294967296"]),
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
    );
    for bad in ["16", "-1", "2147483647"] {
        assert_eq!(
            c.raw(&["COPY", "a", "b", "DB", bad]),
            "-ERR DB index is out of range\r\n"
        );
    }
    // Options are checked in order: the first fault is the one reported.
    assert_eq!(
        c.raw(&["COPY", "a", "b", "DB", "1", "DB", "99"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.raw(&["COPY", "a", "b", "DB", "99", "foo"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(c.raw(&["COPY", "a", "b", "foo", "DB", "99"]), syntax);
    assert_eq!(
        c.raw(&["COPY", "a"]),
        "-ERR wrong number of arguments for 'copy' command\r\n"
    );
    assert_eq!(c.raw(&["EXISTS", "b"]), ":0\r\n");
}

#[test]
fn copy_within_and_across_databases() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["COPY", "nokey", "x"]), ":0\r\n");
    c.raw(&["SET", "a", "hello"]);
    c.raw(&["PEXPIREAT", "a", "4102444800000"]);
    assert_eq!(c.raw(&["COPY", "a", "b"]), ":1\r\n");
    assert_eq!(c.raw(&["GET", "b"]), "$5\r\nhello\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "b"]), ":4102444800000\r\n");
    assert_eq!(c.raw(&["GET", "a"]), "$5\r\nhello\r\n");
    // The copy is independent of the source.
    c.raw(&["SET", "a", "changed"]);
    assert_eq!(c.raw(&["GET", "b"]), "$5\r\nhello\r\n");
    // An existing destination needs REPLACE, which also drops its deadline
    // for the source's (none here).
    assert_eq!(c.raw(&["COPY", "a", "b"]), ":0\r\n");
    assert_eq!(c.raw(&["GET", "b"]), "$5\r\nhello\r\n");
    assert_eq!(c.raw(&["COPY", "a", "b", "replace"]), ":1\r\n");
    assert_eq!(c.raw(&["GET", "b"]), "$7\r\nchanged\r\n");
    assert_eq!(c.raw(&["TTL", "b"]), ":-1\r\n");
    // Across databases, even under the same name.
    c.raw(&["PEXPIREAT", "a", "4102444800000"]);
    assert_eq!(c.raw(&["COPY", "a", "a", "DB", "3"]), ":1\r\n");
    assert_eq!(c.raw(&["COPY", "a", "a", "db", "3"]), ":0\r\n");
    assert_eq!(c.raw(&["COPY", "a", "a", "REPLACE", "DB", "3"]), ":1\r\n");
    assert_eq!(c.raw(&["COPY", "b", "z", "DB", "3", "REPLACE"]), ":1\r\n");
    // The last DB option wins.
    assert_eq!(c.raw(&["COPY", "b", "y", "DB", "5", "DB", "4"]), ":1\r\n");
    c.raw(&["SELECT", "3"]);
    assert_eq!(c.raw(&["GET", "a"]), "$7\r\nchanged\r\n");
    assert_eq!(c.raw(&["PEXPIRETIME", "a"]), ":4102444800000\r\n");
    assert_eq!(c.raw(&["GET", "z"]), "$7\r\nchanged\r\n");
    assert_eq!(c.raw(&["TTL", "z"]), ":-1\r\n");
    // DB naming the selected database is the same database.
    assert_eq!(c.raw(&["COPY", "a", "a2", "DB", "3"]), ":1\r\n");
    assert_eq!(c.raw(&["EXISTS", "a2"]), ":1\r\n");
    c.raw(&["SELECT", "4"]);
    assert_eq!(c.raw(&["GET", "y"]), "$7\r\nchanged\r\n");
    c.raw(&["SELECT", "5"]);
    assert_eq!(c.raw(&["EXISTS", "y"]), ":0\r\n");
}

#[test]
fn copy_keeps_string_encodings() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let long = "x".repeat(60);
    c.raw(&["SET", "i", "123"]);
    c.raw(&["SET", "e", "short string"]);
    c.raw(&["SET", "r", &long]);
    for (src, enc) in [("i", "int"), ("e", "embstr"), ("r", "raw")] {
        let dst = format!("{src}-copy");
        assert_eq!(c.raw(&["COPY", src, &dst]), ":1\r\n");
        assert_eq!(
            c.raw(&["OBJECT", "ENCODING", &dst]),
            format!("${}\r\n{enc}\r\n", enc.len())
        );
    }
    assert_eq!(c.raw(&["GET", "r-copy"]), format!("$60\r\n{long}\r\n"));
}

// ---------------------------------------------------------------------------
// OBJECT

#[test]
fn object_subcommands() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["SET", "n", "100"]);
    c.raw(&["SET", "big", "10000"]);
    c.raw(&["SET", "neg", "-1"]);
    c.raw(&["SET", "s", "hello"]);
    c.raw(&["SET", "r", &"y".repeat(45)]);
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "s"]), "$6\r\nembstr\r\n");
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "r"]), "$3\r\nraw\r\n");
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "nokey"]), "$-1\r\n");
    // Redis's shared small integers report the largest int as refcount.
    assert_eq!(c.raw(&["OBJECT", "REFCOUNT", "n"]), ":2147483647\r\n");
    assert_eq!(c.raw(&["OBJECT", "REFCOUNT", "big"]), ":1\r\n");
    assert_eq!(c.raw(&["OBJECT", "REFCOUNT", "neg"]), ":1\r\n");
    assert_eq!(c.raw(&["OBJECT", "REFCOUNT", "s"]), ":1\r\n");
    assert_eq!(c.raw(&["OBJECT", "REFCOUNT", "nokey"]), "$-1\r\n");
    // Seconds on a clock that may tick between SET and this read.
    assert!(int(&mut c, &["OBJECT", "IDLETIME", "s"]) <= 1);
    assert_eq!(c.raw(&["OBJECT", "IDLETIME", "nokey"]), "$-1\r\n");
    // Without an LFU policy there is no frequency; a missing key is still null.
    assert_eq!(
        c.raw(&["OBJECT", "FREQ", "s"]),
        "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
         Please note that when switching between policies at runtime LRU and LFU data \
         will take some time to adjust.\r\n"
    );
    assert_eq!(c.raw(&["OBJECT", "FREQ", "nokey"]), "$-1\r\n");
    // Subcommand names are case-insensitive.
    assert_eq!(c.raw(&["object", "encoding", "n"]), "$3\r\nint\r\n");
}

#[test]
fn object_errors_and_help() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["OBJECT", "foo", "k"]),
        "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
    );
    assert_eq!(
        c.raw(&["OBJECT"]),
        "-ERR wrong number of arguments for 'object' command\r\n"
    );
    assert_eq!(
        c.raw(&["OBJECT", "ENCODING"]),
        "-ERR wrong number of arguments for 'object|encoding' command\r\n"
    );
    assert_eq!(
        c.raw(&["OBJECT", "IDLETIME", "a", "b"]),
        "-ERR wrong number of arguments for 'object|idletime' command\r\n"
    );
    assert_eq!(
        c.raw(&["OBJECT", "HELP", "x"]),
        "-ERR wrong number of arguments for 'object|help' command\r\n"
    );
    let help = c.cmd(&["OBJECT", "help"]);
    let Frame::Array(lines) = help else {
        panic!("HELP is an array");
    };
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| match l {
            Frame::Simple(s) => String::from_utf8(s.to_vec()).unwrap(),
            other => panic!("help lines are status replies, got {other:?}"),
        })
        .collect();
    assert_eq!(
        lines[0],
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for sub in [
        "ENCODING <key>",
        "FREQ <key>",
        "IDLETIME <key>",
        "REFCOUNT <key>",
        "HELP",
    ] {
        assert!(lines.iter().any(|l| l == sub), "{sub} documented");
    }
    assert_eq!(lines.last().unwrap(), "    Prints this help.");
}

#[test]
fn resp3_nulls() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    resp3(&mut c);
    assert_eq!(c.raw(&["OBJECT", "ENCODING", "nokey"]), "_\r\n");
    assert_eq!(c.raw(&["OBJECT", "FREQ", "nokey"]), "_\r\n");
    assert_eq!(c.raw(&["OBJECT", "IDLETIME", "nokey"]), "_\r\n");
    assert_eq!(c.raw(&["OBJECT", "REFCOUNT", "nokey"]), "_\r\n");
    assert_eq!(c.raw(&["RANDOMKEY"]), "_\r\n");
    assert_eq!(c.raw(&["KEYS", "*"]), "*0\r\n");
    c.raw(&["SET", "k", "v"]);
    assert_eq!(c.raw(&["EXISTS", "k"]), ":1\r\n");
    assert_eq!(c.raw(&["TTL", "k"]), ":-1\r\n");
}
