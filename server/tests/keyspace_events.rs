//! The events write commands raise (Redis's notifyKeyspaceEvent calls in
//! t_string.c, db.c, expire.c, t_hash.c, t_set.c, sort.c), checked against
//! the sequences Redis 7 publishes: names, classes, order, and the `new`
//! event for created keys.

mod common;

use common::{words, Conn};
use resp::Frame;

/// Reads one `pmessage` and returns `event(key)`.
fn event(s: &mut Conn) -> String {
    let Frame::Array(items) = s.read_frame() else {
        panic!("not an array");
    };
    let text = |f: &Frame| match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("unexpected {other:?}"),
    };
    let channel = text(&items[2]);
    let key = text(&items[3]);
    let name = channel.split_once(':').expect("keyevent channel").1;
    let db = channel
        .trim_start_matches("__keyevent@")
        .split("__")
        .next()
        .unwrap()
        .to_string();
    if db == "0" {
        format!("{name}({key})")
    } else {
        format!("{name}@{db}({key})")
    }
}

/// Runs each command and checks the events it raised, in order; a marker
/// write after each proves nothing else was published.
fn check(cases: &[(&str, &str)]) {
    let srv = common::start();
    let mut c = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "SET", "notify-keyspace-events", "EAn"]),
        "+OK\r\n"
    );
    s.cmd(&["PSUBSCRIBE", "__keyevent@*__:*"]);
    for (cmd, expected) in cases {
        c.cmd(&words(cmd));
        c.cmd(&["INCR", "marker"]);
        let mut got = Vec::new();
        loop {
            let e = event(&mut s);
            if e.ends_with("(marker)") {
                if e == "incrby(marker)" {
                    break;
                }
                continue;
            }
            got.push(e);
        }
        assert_eq!(got.join(" "), *expected, "events of `{cmd}`");
    }
}

#[test]
fn string_commands() {
    check(&[
        ("SET k v", "new(k) set(k)"),
        ("SET k v2", "set(k)"),
        ("SET k v EX 100", "set(k) expire(k)"),
        ("SET k v NX", ""),
        ("SET k v GET", "set(k)"),
        ("SETNX k v", ""),
        ("SETNX k2 v", "new(k2) set(k2)"),
        ("SETEX k3 10 v", "new(k3) set(k3) expire(k3)"),
        ("PSETEX k3 10000 v", "set(k3) expire(k3)"),
        ("MSET a 1 b 2", "new(a) set(a) new(b) set(b)"),
        ("MSETNX a 1 d 2", ""),
        ("MSETNX c 1 d 2", "new(c) set(c) new(d) set(d)"),
        ("APPEND a x", "append(a)"),
        ("APPEND e x", "new(e) append(e)"),
        ("SETRANGE f 2 x", "new(f) setrange(f)"),
        ("INCR n", "new(n) incrby(n)"),
        ("INCRBY n 3", "incrby(n)"),
        ("DECR n", "incrby(n)"),
        ("DECRBY n 2", "incrby(n)"),
        ("INCRBYFLOAT n 1.5", "incrbyfloat(n)"),
        ("INCR k", ""),
        ("GETSET n x", "set(n)"),
        ("GETDEL n", "del(n)"),
        ("GETDEL n", ""),
        ("SET g 1", "new(g) set(g)"),
        ("GETEX g", ""),
        ("GETEX g EX 100", "expire(g)"),
        ("GETEX g PERSIST", "persist(g)"),
        ("GETEX g PXAT 1", "del(g)"),
    ]);
}

#[test]
fn generic_commands() {
    check(&[
        (
            "MSET a 1 b 2 h 1",
            "new(a) set(a) new(b) set(b) new(h) set(h)",
        ),
        ("DEL a b nosuch", "del(a) del(b)"),
        ("UNLINK h", "del(h)"),
        ("SET h 1", "new(h) set(h)"),
        ("EXPIRE h 100", "expire(h)"),
        ("EXPIRE h 100 NX", ""),
        ("PEXPIRE h 100000", "expire(h)"),
        ("PERSIST h", "persist(h)"),
        ("PERSIST h", ""),
        ("EXPIREAT h 1", "del(h)"),
        ("EXPIRE nosuch 10", ""),
        ("SET a 1", "new(a) set(a)"),
        ("RENAME a a", ""),
        ("RENAME a z", "new(z) rename_from(a) rename_to(z)"),
        ("SET y 1", "new(y) set(y)"),
        ("RENAME z y", "new(y) rename_from(z) rename_to(y)"),
        ("RENAMENX y w", "new(w) rename_from(y) rename_to(w)"),
        ("MOVE w 1", "new@1(w) move_from(w) move_to@1(w)"),
        ("SET cc 1", "new(cc) set(cc)"),
        ("COPY cc cd", "new(cd) copy_to(cd)"),
        ("COPY cc cd", ""),
        ("COPY cc cd REPLACE", "new(cd) copy_to(cd)"),
        ("COPY cc cd DB 2", "new@2(cd) copy_to@2(cd)"),
        ("SADD l 3 1 2", "new(l) sadd(l)"),
        ("SORT l STORE out", "new(out) sortstore(out)"),
        ("SORT l STORE out", "sortstore(out)"),
        ("SORT nosuch STORE out", "del(out)"),
        ("SORT nosuch STORE out", ""),
    ]);
}

#[test]
fn hash_commands() {
    check(&[
        ("HSET h a 1 b 2", "new(h) hset(h)"),
        ("HSET h a 3", "hset(h)"),
        ("HSETNX h a 1", ""),
        ("HSETNX h c 1", "hset(h)"),
        ("HMSET h d 1", "hset(h)"),
        ("HINCRBY h n 1", "hincrby(h)"),
        ("HINCRBYFLOAT h f 1.5", "hincrbyfloat(h)"),
        ("HINCRBYFLOAT h2 f 1.5", "new(h2) hincrbyfloat(h2)"),
        ("HINCRBY h3 f 1", "new(h3) hincrby(h3)"),
        ("HSETNX h4 f 1", "new(h4) hset(h4)"),
        ("HDEL h a nosuch", "hdel(h)"),
        ("HDEL h nosuch", ""),
        ("HDEL h b c d n f", "hdel(h) del(h)"),
    ]);
}

#[test]
fn set_commands() {
    check(&[
        ("SADD s a b", "new(s) sadd(s)"),
        ("SADD s a", ""),
        ("SREM s a x", "srem(s)"),
        ("SREM s x", ""),
        ("SREM s b", "srem(s) del(s)"),
        ("SADD s a b c", "new(s) sadd(s)"),
        ("SMOVE s s2 a", "srem(s) new(s2) sadd(s2)"),
        ("SMOVE s s2 nosuch", ""),
        ("SADD t x", "new(t) sadd(t)"),
        ("SMOVE t s2 x", "srem(t) del(t) sadd(s2)"),
        ("SADD s3 b", "new(s3) sadd(s3)"),
        ("SMOVE s s3 b", "srem(s)"),
        ("SPOP s", "spop(s) del(s)"),
        ("SPOP s 0", ""),
        ("SADD s a b c d", "new(s) sadd(s)"),
        ("SPOP s", "spop(s)"),
        ("SPOP s 2", "spop(s)"),
        ("SPOP s 5", "spop(s) del(s)"),
        ("SADD u a b", "new(u) sadd(u)"),
        ("SADD v b c", "new(v) sadd(v)"),
        ("SINTERSTORE w u v", "new(w) sinterstore(w)"),
        ("SINTERSTORE w u v", "sinterstore(w)"),
        ("SINTERSTORE w u nosuch", "del(w)"),
        ("SUNIONSTORE w u v", "new(w) sunionstore(w)"),
        ("SDIFFSTORE w u u", "del(w)"),
        ("SDIFFSTORE w u u", ""),
        ("SDIFFSTORE w u v", "new(w) sdiffstore(w)"),
        ("SRANDMEMBER u", ""),
        ("SMEMBERS u", ""),
    ]);
}

#[test]
fn flushes_and_swapdb_raise_no_key_events() {
    check(&[
        ("SET a 1", "new(a) set(a)"),
        ("SWAPDB 0 1", ""),
        ("FLUSHDB", ""),
        ("FLUSHALL", ""),
    ]);
}

#[test]
fn events_inside_exec_come_in_command_order() {
    let srv = common::start();
    let mut c = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    c.raw(&["CONFIG", "SET", "notify-keyspace-events", "EAn"]);
    s.cmd(&["PSUBSCRIBE", "__keyevent@*__:*"]);
    c.raw(&["MULTI"]);
    c.raw(&["SET", "a", "1"]);
    c.raw(&["INCR", "a"]);
    c.raw(&["DEL", "a"]);
    c.raw(&["EXEC"]);
    let got: Vec<String> = (0..4).map(|_| event(&mut s)).collect();
    assert_eq!(got.join(" "), "new(a) set(a) incrby(a) del(a)");
}
