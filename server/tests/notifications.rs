//! Keyspace notifications: the `notify-keyspace-events` option and the
//! delivery of events to `__keyspace@<db>__:<key>` and
//! `__keyevent@<db>__:<event>` subscribers, in RESP2 and RESP3.

mod common;

use std::thread;
use std::time::Duration;

use common::{start, Conn};

fn read(c: &mut Conn) -> String {
    String::from_utf8_lossy(&c.read_raw()).into_owned()
}

#[test]
fn option_letters_are_validated_and_normalised() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let get = |c: &mut Conn| c.raw(&["CONFIG", "GET", "notify-keyspace-events"]);
    assert_eq!(
        get(&mut c),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$0\r\n\r\n"
    );
    for (set, shown) in [
        ("KEA", "AKE"),
        ("Kx", "xK"),
        ("gmn", "gnm"),
        ("An", "A"),
        ("dtzn", "ztdn"),
    ] {
        assert_eq!(
            c.raw(&["CONFIG", "SET", "notify-keyspace-events", set]),
            "+OK\r\n"
        );
        assert_eq!(
            get(&mut c),
            format!(
                "*2\r\n$22\r\nnotify-keyspace-events\r\n${}\r\n{shown}\r\n",
                shown.len()
            )
        );
    }
    assert_eq!(
        c.raw(&["CONFIG", "SET", "notify-keyspace-events", "KQ"]),
        "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - \
         Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n"
    );
    assert_eq!(
        get(&mut c),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$4\r\nztdn\r\n"
    );
}

#[test]
fn expired_keys_raise_keyspace_and_keyevent_messages() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "SET", "notify-keyspace-events", "KEx"]),
        "+OK\r\n"
    );
    s.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    assert_eq!(c.raw(&["SET", "k", "v", "PX", "30"]), "+OK\r\n");
    thread::sleep(Duration::from_millis(60));
    // Lazy or active expiry, whichever comes first, raises it once.
    assert_eq!(c.raw(&["GET", "k"]), "$-1\r\n");
    assert_eq!(
        read(&mut s),
        "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$7\r\nexpired\r\n"
    );
    assert_eq!(
        read(&mut s),
        "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$22\r\n__keyevent@0__:expired\r\n$1\r\nk\r\n"
    );
}

#[test]
fn active_expiry_raises_events_without_any_access() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    s.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.raw(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]),
        "+OK\r\n"
    );
    assert_eq!(
        read_sub(&mut s, "__keyevent@3__:expired"),
        ">3\r\n$9\r\nsubscribe\r\n$22\r\n__keyevent@3__:expired\r\n:1\r\n"
    );
    c.cmd(&["SELECT", "3"]);
    assert_eq!(c.raw(&["SET", "gone", "v", "PX", "10"]), "+OK\r\n");
    // No command touches the key: only active expiry can raise the event.
    assert_eq!(
        read(&mut s),
        ">3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@3__:expired\r\n$4\r\ngone\r\n"
    );
}

fn read_sub(s: &mut Conn, channel: &str) -> String {
    s.send_raw(&Conn::encode(&[b"SUBSCRIBE", channel.as_bytes()]));
    read(s)
}

#[test]
fn disabled_classes_publish_nothing() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    // Keyspace messages only: no keyevent channel hears anything.
    assert_eq!(
        c.raw(&["CONFIG", "SET", "notify-keyspace-events", "Kx"]),
        "+OK\r\n"
    );
    read_sub(&mut s, "__keyevent@0__:expired");
    read_sub(&mut s, "__keyspace@0__:a");
    c.cmd(&["SET", "a", "1", "PX", "10"]);
    thread::sleep(Duration::from_millis(40));
    c.cmd(&["GET", "a"]);
    assert_eq!(
        read(&mut s),
        "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:a\r\n$7\r\nexpired\r\n"
    );
    // Turned off: nothing more.
    assert_eq!(
        c.raw(&["CONFIG", "SET", "notify-keyspace-events", ""]),
        "+OK\r\n"
    );
    c.cmd(&["SET", "a", "1", "PX", "10"]);
    thread::sleep(Duration::from_millis(40));
    c.cmd(&["GET", "a"]);
    assert_eq!(c.raw(&["PUBLISH", "__keyspace@0__:a", "marker"]), ":1\r\n");
    assert_eq!(
        read(&mut s),
        "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:a\r\n$6\r\nmarker\r\n"
    );
}

/// Needs the commands to raise their events (`ctx.notify`): SET raises
/// `set` in the string class.
#[test]
fn commands_raise_their_events() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut s = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CONFIG", "SET", "notify-keyspace-events", "KA"]),
        "+OK\r\n"
    );
    read_sub(&mut s, "__keyspace@0__:foo");
    c.cmd(&["SET", "foo", "bar"]);
    c.cmd(&["DEL", "foo"]);
    assert_eq!(
        read(&mut s),
        "*3\r\n$7\r\nmessage\r\n$18\r\n__keyspace@0__:foo\r\n$3\r\nset\r\n"
    );
    assert_eq!(
        read(&mut s),
        "*3\r\n$7\r\nmessage\r\n$18\r\n__keyspace@0__:foo\r\n$3\r\ndel\r\n"
    );
}
