//! Pub/Sub across clients: exact RESP2 and RESP3 bytes of confirmations and
//! messages, the RESP2 subscribed context, PUBSUB introspection, RESET, and
//! the output buffer limit that disconnects a subscriber that never reads.

mod common;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use common::{start, Conn};
use resp::Frame;

/// Sends a (un)subscribe command and reads its confirmations (one per
/// channel, one when there is none), so a publish after it is seen.
fn sub(c: &mut Conn, args: &[&str]) -> Vec<String> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send_raw(&Conn::encode(&a));
    (0..(args.len() - 1).max(1))
        .map(|_| String::from_utf8_lossy(&c.read_raw()).into_owned())
        .collect()
}

fn read(c: &mut Conn) -> String {
    String::from_utf8_lossy(&c.read_raw()).into_owned()
}

#[test]
fn subscribe_publish_resp2_exact_bytes() {
    let srv = start();
    let mut s = Conn::connect(srv.addr);
    let mut p = Conn::connect(srv.addr);
    assert_eq!(
        sub(&mut s, &["SUBSCRIBE", "ch1", "ch2"]),
        [
            "*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n",
            "*3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n"
        ]
    );
    assert_eq!(
        sub(&mut s, &["PSUBSCRIBE", "c*"]),
        ["*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:3\r\n"]
    );
    assert_eq!(p.raw(&["PUBLISH", "ch1", "hello"]), ":2\r\n");
    assert_eq!(p.raw(&["PUBLISH", "other", "x"]), ":0\r\n");
    assert_eq!(
        read(&mut s),
        "*3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n"
    );
    assert_eq!(
        read(&mut s),
        "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$3\r\nch1\r\n$5\r\nhello\r\n"
    );
    assert_eq!(
        sub(&mut s, &["UNSUBSCRIBE", "ch1", "nope"]),
        [
            "*3\r\n$11\r\nunsubscribe\r\n$3\r\nch1\r\n:2\r\n",
            "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnope\r\n:2\r\n"
        ]
    );
    assert_eq!(p.raw(&["PUBLISH", "ch1", "again"]), ":1\r\n");
    assert_eq!(
        read(&mut s),
        "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$3\r\nch1\r\n$5\r\nagain\r\n"
    );
}

#[test]
fn subscribed_context_allows_only_pubsub_commands_in_resp2() {
    let srv = start();
    let mut s = Conn::connect(srv.addr);
    sub(&mut s, &["SUBSCRIBE", "a"]);
    assert_eq!(s.raw(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(s.raw(&["PING", "hi"]), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    assert_eq!(
        s.raw(&["GET", "x"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
         are allowed in this context\r\n"
    );
    assert_eq!(
        s.raw(&["CLIENT", "INFO"]),
        "-ERR Can't execute 'client|info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT \
         / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        sub(&mut s, &["UNSUBSCRIBE"]),
        ["*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"]
    );
    // Nothing left: a null channel and a count of zero.
    assert_eq!(
        sub(&mut s, &["UNSUBSCRIBE"]),
        ["*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"]
    );
    assert_eq!(
        sub(&mut s, &["PUNSUBSCRIBE"]),
        ["*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"]
    );
    assert_eq!(s.raw(&["PING"]), "+PONG\r\n");
    assert_eq!(s.raw(&["GET", "x"]), "$-1\r\n");
}

#[test]
fn resp3_subscribers_get_pushes_and_may_run_any_command() {
    let srv = start();
    let mut s = Conn::connect(srv.addr);
    let mut p = Conn::connect(srv.addr);
    s.cmd(&["HELLO", "3"]);
    assert_eq!(
        sub(&mut s, &["SUBSCRIBE", "news"]),
        [">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"]
    );
    assert_eq!(s.raw(&["PING"]), "+PONG\r\n");
    assert_eq!(s.raw(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(p.raw(&["PUBLISH", "news", "hi"]), ":1\r\n");
    assert_eq!(
        read(&mut s),
        ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        sub(&mut s, &["UNSUBSCRIBE"]),
        [">3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n".replace(":1", ":0")]
    );
    assert_eq!(
        sub(&mut s, &["UNSUBSCRIBE"]),
        [">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"]
    );
}

#[test]
fn a_blocked_resp3_client_still_receives_pushes() {
    let srv = start();
    let mut s = Conn::connect(srv.addr);
    let mut p = Conn::connect(srv.addr);
    s.cmd(&["HELLO", "3"]);
    sub(&mut s, &["SUBSCRIBE", "c"]);
    s.send_raw(&Conn::encode(&[b"BLPOP", b"q", b"0"]));
    thread::sleep(Duration::from_millis(100));
    assert_eq!(p.raw(&["PUBLISH", "c", "m"]), ":1\r\n");
    assert_eq!(
        read(&mut s),
        ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"
    );
    assert_eq!(p.raw(&["RPUSH", "q", "x"]), ":1\r\n");
    assert_eq!(read(&mut s), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
}

#[test]
fn shard_channels_are_separate() {
    let srv = start();
    let mut s = Conn::connect(srv.addr);
    let mut p = Conn::connect(srv.addr);
    assert_eq!(
        sub(&mut s, &["SSUBSCRIBE", "s1", "s2"]),
        [
            "*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n",
            "*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n"
        ]
    );
    // Shard subscriptions do not count with channels and patterns.
    assert_eq!(
        sub(&mut s, &["SUBSCRIBE", "c"]),
        ["*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"]
    );
    assert_eq!(p.raw(&["PUBLISH", "s1", "x"]), ":0\r\n");
    assert_eq!(p.raw(&["SPUBLISH", "s1", "x"]), ":1\r\n");
    assert_eq!(
        read(&mut s),
        "*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        p.raw(&["PUBSUB", "SHARDCHANNELS"]),
        "*2\r\n$2\r\ns1\r\n$2\r\ns2\r\n"
    );
    assert_eq!(
        p.raw(&["PUBSUB", "SHARDNUMSUB", "s1", "zz"]),
        "*4\r\n$2\r\ns1\r\n:1\r\n$2\r\nzz\r\n:0\r\n"
    );
    assert_eq!(
        sub(&mut s, &["SUNSUBSCRIBE", "s2"]),
        ["*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:1\r\n"]
    );
}

#[test]
fn pubsub_introspection_and_client_list() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    let mut q = Conn::connect(srv.addr);
    sub(&mut a, &["SUBSCRIBE", "news.1", "news.2"]);
    sub(&mut a, &["PSUBSCRIBE", "news.*"]);
    sub(&mut b, &["SUBSCRIBE", "news.1"]);
    assert_eq!(
        q.raw(&["PUBSUB", "CHANNELS"]),
        "*2\r\n$6\r\nnews.1\r\n$6\r\nnews.2\r\n"
    );
    assert_eq!(
        q.raw(&["PUBSUB", "CHANNELS", "*2"]),
        "*1\r\n$6\r\nnews.2\r\n"
    );
    assert_eq!(
        q.raw(&["PUBSUB", "NUMSUB", "news.1", "news.2", "x"]),
        "*6\r\n$6\r\nnews.1\r\n:2\r\n$6\r\nnews.2\r\n:1\r\n$1\r\nx\r\n:0\r\n"
    );
    assert_eq!(q.raw(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    let Frame::Bulk(list) = q.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]) else {
        panic!("CLIENT LIST is a bulk string");
    };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains("flags=P db=0 sub=2 psub=1 ssub=0"), "{list}");
    assert!(list.contains("flags=P db=0 sub=1 psub=0 ssub=0"), "{list}");
    // RESET leaves every channel; a closed connection too.
    assert_eq!(a.raw(&["RESET"]), "+RESET\r\n");
    drop(b);
    let start = Instant::now();
    while q.raw(&["PUBSUB", "NUMSUB", "news.1"]) != "*2\r\n$6\r\nnews.1\r\n:0\r\n" {
        assert!(start.elapsed() < Duration::from_secs(5));
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(q.raw(&["PUBSUB", "NUMPAT"]), ":0\r\n");
    assert_eq!(q.raw(&["PUBLISH", "news.1", "x"]), ":0\r\n");
}

fn used_memory(c: &mut Conn) -> u64 {
    let Frame::Bulk(b) = c.cmd(&["INFO", "memory"]) else {
        panic!("INFO is a bulk string");
    };
    String::from_utf8_lossy(&b)
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:").map(|v| v.parse().unwrap()))
        .expect("used_memory")
}

/// A subscriber that never reads is disconnected once its pending output
/// passes the pubsub hard limit (32mb by default), so publishing 1 GB to it
/// leaves the server's memory bounded.
#[test]
fn output_buffer_limit_disconnects_a_subscriber_that_never_reads() {
    let srv = start();
    let mut s = Conn::connect(srv.addr);
    let mut p = Conn::connect(srv.addr);
    assert_eq!(
        p.raw(&["CONFIG", "GET", "client-output-buffer-limit"]),
        "*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\nnormal 0 0 0 slave 268435456 67108864 60 \
         pubsub 33554432 8388608 60\r\n"
    );
    sub(&mut s, &["SUBSCRIBE", "flood"]);
    let before = used_memory(&mut p);
    let payload = vec![b'x'; 256 * 1024];
    let one = Conn::encode(&[b"PUBLISH", b"flood", &payload]);
    let mut batch = Vec::new();
    for _ in 0..16 {
        batch.extend_from_slice(&one);
    }
    let started = Instant::now();
    let mut receivers = 0;
    let mut peak = 0;
    // 256 batches of 16 × 256 KiB = 1 GiB.
    for i in 0..256 {
        p.stream.write_all(&batch).unwrap();
        for _ in 0..16 {
            match p.read_frame() {
                Frame::Integer(n) => receivers += n,
                other => panic!("unexpected {other:?}"),
            }
        }
        if i % 32 == 0 {
            peak = peak.max(used_memory(&mut p));
        }
    }
    let elapsed = started.elapsed();
    peak = peak.max(used_memory(&mut p));
    // Only the messages before the disconnect found a receiver.
    assert!(receivers > 0 && receivers < 1024, "receivers {receivers}");
    assert!(
        peak < before + 200 * 1024 * 1024,
        "memory grew from {before} to {peak}"
    );
    assert_eq!(
        p.raw(&["PUBSUB", "NUMSUB", "flood"]),
        "*2\r\n$5\r\nflood\r\n:0\r\n"
    );
    assert!(s.is_closed(), "the subscriber was disconnected");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[test]
fn soft_limit_counts_seconds() {
    let srv = start();
    let mut p = Conn::connect(srv.addr);
    assert_eq!(
        p.raw(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 0 1mb 1"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        p.raw(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"]),
        "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - \
         Wrong number of arguments in buffer limit configuration.\r\n"
    );
    let mut s = Conn::connect(srv.addr);
    sub(&mut s, &["SUBSCRIBE", "slow"]);
    let payload = vec![b'y'; 1024 * 1024];
    let started = Instant::now();
    // Past the soft limit, but under no hard limit: the subscriber lasts
    // about a second, then goes.
    loop {
        let n = p.cmd_bin(&[b"PUBLISH", b"slow", &payload]);
        if n == Frame::Integer(0) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never disconnected"
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

/// Many publishers on their own threads, several subscribers (channel and
/// pattern): every subscriber receives every message exactly once, and each
/// publisher's messages in the order it published them.
#[test]
fn delivery_is_lossless_and_ordered_under_concurrent_publishers() {
    const PUBLISHERS: usize = 8;
    const PER: usize = 400;
    let srv = start();
    let addr = srv.addr;
    let mut subs = Vec::new();
    for i in 0..4 {
        let mut c = Conn::connect(addr);
        if i % 2 == 0 {
            c.cmd(&["SUBSCRIBE", "load"]);
        } else {
            c.cmd(&["PSUBSCRIBE", "lo*"]);
        }
        subs.push(c);
    }
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = Conn::connect(addr);
                for i in 0..PER {
                    let msg = format!("{p}:{i}");
                    let resp::Frame::Integer(n) = c.cmd(&["PUBLISH", "load", &msg]) else {
                        panic!("PUBLISH replies an integer");
                    };
                    assert_eq!(n, 4, "every subscriber was counted");
                }
            })
        })
        .collect();
    for t in publishers {
        t.join().unwrap();
    }
    for c in subs.iter_mut() {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * PER {
            let resp::Frame::Array(parts) = c.read_frame() else {
                panic!("a message is an array");
            };
            let resp::Frame::Bulk(payload) = parts.last().unwrap() else {
                panic!("the payload is a bulk string");
            };
            let text = String::from_utf8_lossy(payload).into_owned();
            let (p, i) = text.split_once(':').unwrap();
            let (p, i): (usize, usize) = (p.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[p], "publisher {p}'s messages arrive in order, once");
            next[p] += 1;
        }
        assert!(next.iter().all(|&n| n == PER));
    }
}
