//! Blocking commands across clients: service order, timeouts, unblocking,
//! disconnects, and exactly-once delivery under concurrent pushers and poppers.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{info_field, start, Conn};
use resp::Frame;

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// Waits until the server reports `n` blocked clients, so that tests do not
/// depend on thread scheduling.
fn wait_blocked(c: &mut Conn, n: usize) {
    let start = Instant::now();
    while info_field(c, "clients", "blocked_clients") != n.to_string() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "clients never blocked"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn timeout_replies_null_array_after_the_deadline() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let t = Instant::now();
    assert_eq!(c.raw(&["BLPOP", "nokey", "0.2"]), "*-1\r\n");
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(190),
        "returned after {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "returned after {waited:?}");
    // A client that really waited gets a null array, even from BLMOVE (its
    // non-blocking form inside MULTI answers a null bulk instead).
    assert_eq!(
        c.raw(&["BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.05"]),
        "*-1\r\n"
    );
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.raw(&["BLPOP", "nokey", "0.05"]), "_\r\n");
}

/// A timeout too small for a double (it underflows to 0) is still a positive
/// timeout, as Redis reads it as a long double: 1 ms, not "wait forever".
#[test]
fn underflowing_timeouts_time_out() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let t = Instant::now();
    assert_eq!(c.raw(&["BLPOP", "nokey", "1e-400"]), "*-1\r\n");
    assert_eq!(c.raw(&["BZPOPMIN", "nokey", "1e-400"]), "*-1\r\n");
    assert!(t.elapsed() < Duration::from_secs(3));
    // A real zero still means forever: it is still blocked after a while.
    let mut b = Conn::connect(srv.addr);
    b.send_raw(&Conn::encode(&[b"BLPOP", b"nokey", b"0e-400"]));
    wait_blocked(&mut c, 1);
    c.cmd(&["RPUSH", "nokey", "x"]);
    assert_eq!(b.read_frame(), Frame::Array(vec![bulk("nokey"), bulk("x")]));
}

#[test]
fn push_serves_a_blocked_client() {
    let srv = start();
    let mut waiter = Conn::connect(srv.addr);
    let mut pusher = Conn::connect(srv.addr);
    waiter.send_raw(&Conn::encode(&[b"BLPOP", b"q1", b"q2", b"0"]));
    wait_blocked(&mut pusher, 1);
    assert_eq!(pusher.raw(&["RPUSH", "q2", "hello"]), ":1\r\n");
    assert_eq!(
        waiter.read_frame(),
        Frame::Array(vec![bulk("q2"), bulk("hello")])
    );
    // The element went to the blocked client, not back into the list.
    assert_eq!(pusher.raw(&["EXISTS", "q2"]), ":0\r\n");
    wait_blocked(&mut pusher, 0);
}

#[test]
fn clients_are_served_first_come_first_served() {
    let srv = start();
    let mut pusher = Conn::connect(srv.addr);
    let mut waiters: Vec<Conn> = Vec::new();
    for i in 0..3 {
        let mut w = Conn::connect(srv.addr);
        w.send_raw(&Conn::encode(&[b"BLPOP", b"fifo", b"0"]));
        wait_blocked(&mut pusher, i + 1);
        waiters.push(w);
    }
    // One push of three elements: the list is c b a; pops from the left go
    // to the waiters in the order they blocked.
    assert_eq!(pusher.raw(&["LPUSH", "fifo", "a", "b", "c"]), ":3\r\n");
    for (w, want) in waiters.iter_mut().zip(["c", "b", "a"]) {
        assert_eq!(w.read_frame(), Frame::Array(vec![bulk("fifo"), bulk(want)]));
    }
}

#[test]
fn blmove_chain_feeds_the_next_waiter() {
    let srv = start();
    let mut mover = Conn::connect(srv.addr);
    let mut popper = Conn::connect(srv.addr);
    let mut pusher = Conn::connect(srv.addr);
    mover.send_raw(&Conn::encode(&[
        b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"0",
    ]));
    wait_blocked(&mut pusher, 1);
    popper.send_raw(&Conn::encode(&[b"BLPOP", b"dst", b"0"]));
    wait_blocked(&mut pusher, 2);
    pusher.cmd(&["RPUSH", "src", "x"]);
    assert_eq!(mover.read_frame(), bulk("x"));
    assert_eq!(
        popper.read_frame(),
        Frame::Array(vec![bulk("dst"), bulk("x")])
    );
    assert_eq!(pusher.raw(&["EXISTS", "src", "dst"]), ":0\r\n");
}

#[test]
fn wrong_type_fails_at_once() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.cmd(&["SET", "s", "v"]);
    assert_eq!(
        c.raw(&["BLPOP", "s", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

#[test]
fn a_key_overwritten_with_another_type_leaves_waiters_blocked() {
    let srv = start();
    let mut w = Conn::connect(srv.addr);
    let mut p = Conn::connect(srv.addr);
    w.send_raw(&Conn::encode(&[b"BLPOP", b"t", b"0"]));
    wait_blocked(&mut p, 1);
    assert_eq!(p.raw(&["SET", "t", "string"]), "+OK\r\n");
    // Still parked, as in Redis: nothing was served and no error was sent.
    wait_blocked(&mut p, 1);
    p.cmd(&["DEL", "t"]);
    p.cmd(&["LPUSH", "t", "v"]);
    assert_eq!(w.read_frame(), Frame::Array(vec![bulk("t"), bulk("v")]));
}

#[test]
fn client_unblock_timeout_and_error() {
    let srv = start();
    let mut w = Conn::connect(srv.addr);
    let mut ctl = Conn::connect(srv.addr);
    let Frame::Integer(id) = w.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID is an integer");
    };
    let id = id.to_string();
    w.send_raw(&Conn::encode(&[b"BLPOP", b"u", b"0"]));
    wait_blocked(&mut ctl, 1);
    assert_eq!(ctl.raw(&["CLIENT", "UNBLOCK", &id]), ":1\r\n");
    assert_eq!(w.read_raw(), b"*-1\r\n");
    assert_eq!(ctl.raw(&["CLIENT", "UNBLOCK", &id]), ":0\r\n");
    w.send_raw(&Conn::encode(&[b"BLPOP", b"u", b"0"]));
    wait_blocked(&mut ctl, 1);
    assert_eq!(ctl.raw(&["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1\r\n");
    assert_eq!(
        w.read_raw(),
        b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    assert_eq!(
        ctl.raw(&["CLIENT", "UNBLOCK", &id, "MAYBE"]),
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
}

#[test]
fn disconnected_waiter_is_cleaned_up_and_loses_nothing() {
    let srv = start();
    let mut ctl = Conn::connect(srv.addr);
    {
        let mut w = Conn::connect(srv.addr);
        w.send_raw(&Conn::encode(&[b"BLPOP", b"gone", b"0"]));
        wait_blocked(&mut ctl, 1);
    }
    wait_blocked(&mut ctl, 0);
    // Nobody is waiting any more: the element stays in the list.
    ctl.cmd(&["RPUSH", "gone", "kept"]);
    assert_eq!(ctl.raw(&["LLEN", "gone"]), ":1\r\n");
}

#[test]
fn pipelined_commands_wait_behind_a_blocked_one() {
    let srv = start();
    let mut w = Conn::connect(srv.addr);
    let mut p = Conn::connect(srv.addr);
    let mut batch = Conn::encode(&[b"BLPOP", b"pl", b"0"]);
    batch.extend_from_slice(&Conn::encode(&[b"PING"]));
    w.send_raw(&batch);
    wait_blocked(&mut p, 1);
    p.cmd(&["RPUSH", "pl", "v"]);
    assert_eq!(w.read_frame(), Frame::Array(vec![bulk("pl"), bulk("v")]));
    assert_eq!(w.read_raw(), b"+PONG\r\n");
}

/// Many pushers and poppers on several threads and keys: every element is
/// delivered exactly once, none is lost or duplicated.
#[test]
fn concurrent_pushes_and_blocking_pops_deliver_exactly_once() {
    const PUSHERS: usize = 8;
    const POPPERS: usize = 16;
    const PER_PUSHER: usize = 500;
    const KEYS: [&str; 3] = ["s1", "s2", "s3"];
    let srv = start();
    let addr = srv.addr;
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut poppers = Vec::new();
    for _ in 0..POPPERS {
        let seen = seen.clone();
        poppers.push(thread::spawn(move || {
            let mut c = Conn::connect(addr);
            loop {
                let f = c.cmd(&["BLPOP", KEYS[0], KEYS[1], KEYS[2], "1"]);
                match f {
                    Frame::Array(v) => {
                        let Frame::Bulk(b) = &v[1] else {
                            panic!("element")
                        };
                        seen.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(b).into_owned());
                    }
                    Frame::NullArray => return,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }));
    }
    let mut pushers = Vec::new();
    for p in 0..PUSHERS {
        pushers.push(thread::spawn(move || {
            let mut c = Conn::connect(addr);
            for i in 0..PER_PUSHER {
                let key = KEYS[(p + i) % KEYS.len()];
                let v = format!("{p}-{i}");
                let cmd = if i % 2 == 0 { "LPUSH" } else { "RPUSH" };
                let Frame::Integer(_) = c.cmd(&[cmd, key, &v]) else {
                    panic!("push replies an integer");
                };
            }
        }));
    }
    for t in pushers {
        t.join().unwrap();
    }
    for t in poppers {
        t.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an element was delivered twice");
    // Whatever the poppers did not take must still be in the lists.
    let mut c = Conn::connect(addr);
    let mut left = 0;
    for k in KEYS {
        let Frame::Integer(n) = c.cmd(&["LLEN", k]) else {
            panic!("LLEN")
        };
        left += n as usize;
    }
    assert_eq!(
        seen.len() + left,
        PUSHERS * PER_PUSHER,
        "an element was lost"
    );
}
