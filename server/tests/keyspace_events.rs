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

/// t_list.c: one `lpush`/`rpush` per push whatever the element count (the X
/// forms too), `new` before it when the list is created, `del` after the
/// command's own event when a list is emptied, and nothing when nothing
/// changed. Checked against Redis 7.
#[test]
fn list_commands() {
    check(&[
        ("LPUSH l a b", "new(l) lpush(l)"),
        ("LPUSH l c", "lpush(l)"),
        ("RPUSH l d", "rpush(l)"),
        ("LPUSHX l e", "lpush(l)"),
        ("RPUSHX l f", "rpush(l)"),
        ("LPUSHX nosuch a", ""),
        ("RPUSHX nosuch a", ""),
        ("LINSERT l BEFORE a x", "linsert(l)"),
        ("LINSERT l BEFORE nosuch x", ""),
        ("LINSERT nosuch BEFORE a x", ""),
        ("LSET l 0 y", "lset(l)"),
        ("LSET l 100 y", ""),
        ("LREM l 1 y", "lrem(l)"),
        ("LREM l 1 nosuch", ""),
        ("LTRIM l 0 100", "ltrim(l)"),
        ("LTRIM l 0 1", "ltrim(l)"),
        ("LTRIM nosuch 0 1", ""),
        ("LPOP l", "lpop(l)"),
        ("RPOP l 0", ""),
        ("RPOP l 5", "rpop(l) del(l)"),
        ("LPOP l", ""),
        ("RPUSH l a b c", "new(l) rpush(l)"),
        ("LPOP l 2", "lpop(l)"),
        ("RPOP l", "rpop(l) del(l)"),
        ("RPUSH l a a b", "new(l) rpush(l)"),
        ("LREM l 0 a", "lrem(l)"),
        ("LREM l 0 b", "lrem(l) del(l)"),
        ("RPUSH o a", "new(o) rpush(o)"),
        ("LTRIM o 1 0", "ltrim(o) del(o)"),
    ]);
}

/// LMOVE and RPOPLPUSH raise the destination's push events before the
/// source's pop events (Redis's lmoveGenericCommand); LMPOP and the
/// blocking forms that can serve at once raise what LPOP/RPOP raise.
#[test]
fn list_moves_and_multi_pops() {
    check(&[
        ("RPUSH s a b", "new(s) rpush(s)"),
        ("LMOVE s d LEFT RIGHT", "new(d) rpush(d) lpop(s)"),
        ("LMOVE s d RIGHT LEFT", "lpush(d) rpop(s) del(s)"),
        ("LMOVE s d RIGHT LEFT", ""),
        ("RPOPLPUSH d d", "lpush(d) rpop(d)"),
        ("RPOPLPUSH d e", "new(e) lpush(e) rpop(d)"),
        ("RPUSH m x", "new(m) rpush(m)"),
        ("LMOVE m m LEFT RIGHT", "rpush(m) lpop(m)"),
        ("LMPOP 2 nosuch m LEFT COUNT 5", "lpop(m) del(m)"),
        ("LMPOP 1 m LEFT", ""),
        ("RPUSH m x y", "new(m) rpush(m)"),
        ("BLPOP m 1", "lpop(m)"),
        ("BRPOP m 1", "rpop(m) del(m)"),
        ("RPUSH m x y", "new(m) rpush(m)"),
        ("BLMPOP 1 1 m RIGHT COUNT 5", "rpop(m) del(m)"),
        ("RPUSH m x", "new(m) rpush(m)"),
        ("BLMOVE m n LEFT LEFT 1", "new(n) lpush(n) lpop(m) del(m)"),
        ("BRPOPLPUSH n o 1", "new(o) lpush(o) rpop(n) del(n)"),
    ]);
}

/// t_zset.c: `zadd` (`zincr` for INCR and ZINCRBY) only when a member was
/// added or its score changed; ranges and pops raise one event per command,
/// then `del` when the set empties; the STORE forms raise `new` and their
/// event, or `del` when an empty result deletes the destination.
#[test]
fn zset_commands() {
    check(&[
        ("ZADD z 1 a 2 b", "new(z) zadd(z)"),
        ("ZADD z 1 a", ""),
        ("ZADD z 3 a", "zadd(z)"),
        ("ZADD z CH 4 a", "zadd(z)"),
        ("ZADD z XX 1 nosuch", ""),
        ("ZADD z NX 1 a", ""),
        ("ZADD zz XX 1 a", ""),
        ("ZADD z INCR 1 a", "zincr(z)"),
        ("ZADD z INCR 0 a", ""),
        ("ZINCRBY z 1 b", "zincr(z)"),
        ("ZINCRBY z 0 b", ""),
        ("ZINCRBY z2 1 b", "new(z2) zincr(z2)"),
        ("ZREM z nosuch", ""),
        ("ZREM z a", "zrem(z)"),
        ("ZREM z2 b", "zrem(z2) del(z2)"),
        ("ZADD z 1 a 2 c 3 d", "zadd(z)"),
        ("ZREMRANGEBYSCORE z 100 200", ""),
        ("ZREMRANGEBYSCORE z 1 1", "zremrangebyscore(z)"),
        ("ZREMRANGEBYRANK z 0 0", "zremrangebyrank(z)"),
        ("ZREMRANGEBYLEX z [a [z", "zremrangebylex(z) del(z)"),
        ("ZADD z 1 a 2 b 3 c 4 d", "new(z) zadd(z)"),
        ("ZPOPMIN z", "zpopmin(z)"),
        ("ZPOPMAX z", "zpopmax(z)"),
        ("ZPOPMIN z 0", ""),
        ("ZPOPMIN nosuch", ""),
        ("ZPOPMAX z 10", "zpopmax(z) del(z)"),
        ("ZADD z 1 a 2 b 3 c 4 d", "new(z) zadd(z)"),
        ("ZMPOP 1 z MIN COUNT 2", "zpopmin(z)"),
        ("BZPOPMIN z 1", "zpopmin(z)"),
        ("BZPOPMAX z 1", "zpopmax(z) del(z)"),
        ("ZADD z 1 a 2 b", "new(z) zadd(z)"),
        ("BZMPOP 1 1 z MAX COUNT 5", "zpopmax(z) del(z)"),
        ("ZADD z 1 a 2 b", "new(z) zadd(z)"),
        ("ZADD y 2 b 3 c", "new(y) zadd(y)"),
        ("ZUNIONSTORE u 2 z y", "new(u) zunionstore(u)"),
        ("ZUNIONSTORE u 2 z y", "zunionstore(u)"),
        ("ZINTERSTORE u 2 z y", "zinterstore(u)"),
        ("ZINTERSTORE u 2 z nosuch", "del(u)"),
        ("ZINTERSTORE u 2 z nosuch", ""),
        ("ZDIFFSTORE u 2 z y", "new(u) zdiffstore(u)"),
        ("ZDIFFSTORE u 2 z z", "del(u)"),
        ("ZRANGESTORE r z 0 -1", "new(r) zrangestore(r)"),
        ("ZRANGESTORE r z 0 -1", "zrangestore(r)"),
        ("ZRANGESTORE r z 5 6", "del(r)"),
        ("ZRANGESTORE r nosuch 0 -1", ""),
        ("ZRANGESTORE r z 0 0", "new(r) zrangestore(r)"),
        ("ZRANGE z 0 -1", ""),
    ]);
}

/// A blocked client served by another client's push raises its events after
/// the pusher's, in the order the command raises them when it serves at once
/// (Redis 7.2 runs the blocked command again).
#[test]
fn served_blocked_clients_raise_their_command_events() {
    let srv = common::start();
    let mut c = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    c.raw(&["CONFIG", "SET", "notify-keyspace-events", "EAn"]);
    s.cmd(&["PSUBSCRIBE", "__keyevent@*__:*"]);
    b.send_raw(&Conn::encode(&[
        b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"0",
    ]));
    // Wait until the client is parked.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while c.raw(&["INFO", "clients"]).contains("blocked_clients:0") {
        assert!(std::time::Instant::now() < deadline, "client never blocked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    c.cmd(&["LPUSH", "src", "a"]);
    assert_eq!(b.read_frame(), Frame::Bulk(bytes::Bytes::from_static(b"a")));
    b.send_raw(&Conn::encode(&[b"BZPOPMIN", b"z", b"0"]));
    while c.raw(&["INFO", "clients"]).contains("blocked_clients:0") {
        assert!(std::time::Instant::now() < deadline, "client never blocked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    c.cmd(&["ZADD", "z", "1", "m"]);
    assert!(matches!(b.read_frame(), Frame::Array(_)));
    let got: Vec<String> = (0..10).map(|_| event(&mut s)).collect();
    assert_eq!(
        got.join(" "),
        "new(src) lpush(src) new(dst) rpush(dst) lpop(src) del(src) \
         new(z) zadd(z) zpopmin(z) del(z)"
    );
}

/// A key that lazy expiry deletes while a command looks it up raises
/// `expired` before the command's own events, as in Redis (`expired new
/// set`, not `new set expired`). A slow active-expiry cycle (hz 1) leaves
/// the stale keys to the lookups.
#[test]
fn lazily_expired_keys_raise_expired_before_the_command_events() {
    let srv = common::start_with(|v| v.hz = 1);
    let mut c = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    c.raw(&["CONFIG", "SET", "notify-keyspace-events", "EAn"]);
    s.cmd(&["PSUBSCRIBE", "__keyevent@*__:*"]);
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["SET", "k", "v", "PX", "1"],
            "SET k v2",
            "expired(k) new(k) set(k)",
        ),
        (
            &["RPUSH", "l", "a"],
            "LPUSH l x",
            "expired(l) new(l) lpush(l)",
        ),
        (
            &["ZADD", "z", "1", "a"],
            "ZADD z 2 b",
            "expired(z) new(z) zadd(z)",
        ),
        (
            &["HSET", "h", "f", "v"],
            "HSET h f v",
            "expired(h) new(h) hset(h)",
        ),
    ];
    for (setup, cmd, expected) in cases {
        c.cmd(setup);
        if setup[0] != "SET" {
            c.cmd(&["PEXPIRE", setup[1], "1"]);
        }
        // Drain the setup's events (`new`, the write, `expire`).
        for _ in 0..3 {
            event(&mut s);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        c.cmd(&words(cmd));
        let got: Vec<String> = (0..3).map(|_| event(&mut s)).collect();
        assert_eq!(got.join(" "), *expected, "events of `{cmd}`");
    }
}
