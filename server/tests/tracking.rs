//! Client-side caching: CLIENT TRACKING and its options, CACHING, GETREDIR,
//! TRACKINGINFO, and invalidation pushes (RESP3) and redirected messages
//! (RESP2 on `__redis__:invalidate`), with exact bytes.

mod common;

use std::thread;
use std::time::Duration;

use common::{start, Conn};
use resp::Frame;

fn read(c: &mut Conn) -> String {
    String::from_utf8_lossy(&c.read_raw()).into_owned()
}

fn id(c: &mut Conn) -> String {
    match c.cmd(&["CLIENT", "ID"]) {
        Frame::Integer(n) => n.to_string(),
        other => panic!("{other:?}"),
    }
}

/// Lets `key` (set with a short PX) expire and makes sure it is deleted.
fn expire(c: &mut Conn, key: &str) {
    thread::sleep(Duration::from_millis(40));
    c.cmd(&["EXISTS", key]);
}

#[test]
fn option_errors_match_redis() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let e = |c: &mut Conn, args: &str| c.raw(&common::words(args));
    assert_eq!(
        e(&mut c, "CLIENT TRACKING on REDIRECT 9999"),
        "-ERR The client ID you want redirect to does not exist\r\n"
    );
    assert_eq!(
        e(&mut c, "CLIENT TRACKING on REDIRECT abc"),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        e(&mut c, "CLIENT TRACKING on BCAST OPTIN"),
        "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"
    );
    assert_eq!(
        e(&mut c, "CLIENT TRACKING on OPTIN OPTOUT"),
        "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"
    );
    assert_eq!(
        e(&mut c, "CLIENT TRACKING on PREFIX a"),
        "-ERR PREFIX option requires BCAST mode to be enabled\r\n"
    );
    assert_eq!(e(&mut c, "CLIENT TRACKING maybe"), "-ERR syntax error\r\n");
    assert_eq!(e(&mut c, "CLIENT TRACKING on foo"), "-ERR syntax error\r\n");
    assert_eq!(
        e(&mut c, "CLIENT CACHING yes"),
        "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"
    );
    assert_eq!(e(&mut c, "CLIENT TRACKING on BCAST PREFIX ab PREFIX a"), "-ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.\r\n");
    assert_eq!(e(&mut c, "CLIENT TRACKING on BCAST PREFIX ab"), "+OK\r\n");
    assert_eq!(e(&mut c, "CLIENT TRACKING on BCAST PREFIX abc"), "-ERR Prefix 'abc' overlaps with an existing prefix 'ab'. Prefixes for a single client must not overlap.\r\n");
    assert_eq!(e(&mut c, "CLIENT TRACKING on"), "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n");
    assert_eq!(e(&mut c, "CLIENT TRACKING off"), "+OK\r\n");
    assert_eq!(e(&mut c, "CLIENT TRACKING on OPTIN"), "+OK\r\n");
    assert_eq!(e(&mut c, "CLIENT TRACKING on OPTOUT"), "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n");
    assert_eq!(
        e(&mut c, "CLIENT CACHING no"),
        "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    );
    assert_eq!(e(&mut c, "CLIENT CACHING maybe"), "-ERR syntax error\r\n");
    assert_eq!(e(&mut c, "CLIENT CACHING yes"), "+OK\r\n");
}

#[test]
fn trackinginfo_and_getredir() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut r = Conn::connect(srv.addr);
    let rid = id(&mut r);
    assert_eq!(c.raw(&["CLIENT", "GETREDIR"]), ":-1\r\n");
    assert_eq!(
        c.raw(&["CLIENT", "TRACKINGINFO"]),
        "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    );
    assert_eq!(
        c.raw(&["CLIENT", "TRACKING", "on", "OPTIN", "REDIRECT", &rid, "NOLOOP"]),
        "+OK\r\n"
    );
    assert_eq!(c.raw(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    assert_eq!(
        c.raw(&["CLIENT", "TRACKINGINFO"]),
        format!(
            "*6\r\n$5\r\nflags\r\n*4\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$6\r\nnoloop\r\n\
             $8\r\nredirect\r\n:{rid}\r\n$8\r\nprefixes\r\n*0\r\n"
        )
    );
    assert_eq!(c.raw(&["CLIENT", "GETREDIR"]), format!(":{rid}\r\n"));
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.raw(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(
        c.raw(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a"]),
        "+OK\r\n"
    );
    assert_eq!(
        c.raw(&["CLIENT", "TRACKINGINFO"]),
        "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    let Frame::Verbatim { text: info, .. } = c.cmd(&["CLIENT", "INFO"]) else {
        panic!("CLIENT INFO is verbatim in RESP3");
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(info.contains("flags=tB "), "{info}");
    assert!(info.contains("redir=0 "), "{info}");
    assert_eq!(c.raw(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.raw(&["CLIENT", "GETREDIR"]), ":-1\r\n");
}

#[test]
fn resp3_invalidation_for_read_keys_and_flush() {
    let srv = start();
    let mut t = Conn::connect(srv.addr);
    let mut w = Conn::connect(srv.addr);
    t.cmd(&["HELLO", "3"]);
    assert_eq!(t.raw(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    w.cmd(&["SET", "k", "v", "PX", "20"]);
    w.cmd(&["SET", "unread", "v", "PX", "20"]);
    assert_eq!(t.raw(&["GET", "k"]), "$1\r\nv\r\n");
    expire(&mut w, "k");
    expire(&mut w, "unread");
    assert_eq!(read(&mut t), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    // The key left the table: a second change sends nothing, and FLUSHALL
    // invalidates everything with a null.
    assert_eq!(w.raw(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(read(&mut t), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
    assert_eq!(t.raw(&["PING"]), "+PONG\r\n");
}

#[test]
fn resp2_redirect_to_a_subscriber_of_the_invalidate_channel() {
    let srv = start();
    let mut r = Conn::connect(srv.addr);
    let mut t = Conn::connect(srv.addr);
    let mut w = Conn::connect(srv.addr);
    let rid = id(&mut r);
    r.send_raw(&Conn::encode(&[b"SUBSCRIBE", b"__redis__:invalidate"]));
    read(&mut r);
    assert_eq!(
        t.raw(&["CLIENT", "TRACKING", "on", "REDIRECT", &rid]),
        "+OK\r\n"
    );
    w.cmd(&["SET", "k", "v", "PX", "20"]);
    assert_eq!(t.raw(&["MGET", "k", "other"]), "*2\r\n$1\r\nv\r\n$-1\r\n");
    expire(&mut w, "k");
    assert_eq!(
        read(&mut r),
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
    );
    assert_eq!(w.raw(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(
        read(&mut r),
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    );
    // The redirect target goes away: the next invalidation marks it broken.
    drop(r);
    thread::sleep(Duration::from_millis(50));
    t.cmd(&["GET", "z"]);
    w.cmd(&["FLUSHALL"]);
    assert_eq!(
        t.raw(&["CLIENT", "TRACKINGINFO"]),
        format!(
            "*6\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{rid}\r\n\
             $8\r\nprefixes\r\n*0\r\n"
        )
    );
}

#[test]
fn optin_tracks_only_after_caching_yes() {
    let srv = start();
    let mut t = Conn::connect(srv.addr);
    let mut w = Conn::connect(srv.addr);
    t.cmd(&["HELLO", "3"]);
    assert_eq!(t.raw(&["CLIENT", "TRACKING", "on", "OPTIN"]), "+OK\r\n");
    w.cmd(&["MSET", "a", "1", "b", "2"]);
    w.cmd(&["PEXPIRE", "a", "20"]);
    w.cmd(&["PEXPIRE", "b", "20"]);
    t.cmd(&["GET", "a"]);
    assert_eq!(t.raw(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    t.cmd(&["GET", "b"]);
    expire(&mut w, "a");
    expire(&mut w, "b");
    assert_eq!(read(&mut t), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n");
    assert_eq!(t.raw(&["PING"]), "+PONG\r\n");
}

#[test]
fn bcast_hears_every_key_under_its_prefixes() {
    let srv = start();
    let mut t = Conn::connect(srv.addr);
    let mut w = Conn::connect(srv.addr);
    t.cmd(&["HELLO", "3"]);
    assert_eq!(
        t.raw(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:"]),
        "+OK\r\n"
    );
    w.cmd(&["SET", "user:1", "x", "PX", "20"]);
    w.cmd(&["SET", "other", "x", "PX", "20"]);
    // Once for the write, once for the expiry; nothing for `other`.
    assert_eq!(
        read(&mut t),
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nuser:1\r\n"
    );
    expire(&mut w, "user:1");
    expire(&mut w, "other");
    assert_eq!(
        read(&mut t),
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nuser:1\r\n"
    );
    assert_eq!(t.raw(&["PING"]), "+PONG\r\n");
}

/// Needs the commands to report their modifications (`ctx.modified`).
#[test]
fn writes_invalidate_and_noloop_spares_the_writer() {
    let srv = start();
    let mut t = Conn::connect(srv.addr);
    let mut w = Conn::connect(srv.addr);
    t.cmd(&["HELLO", "3"]);
    assert_eq!(t.raw(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    t.cmd(&["GET", "k"]);
    // Its own write: the reply comes first, then the invalidation.
    assert_eq!(t.raw(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(read(&mut t), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    t.cmd(&["GET", "k"]);
    w.cmd(&["SET", "k", "2"]);
    assert_eq!(read(&mut t), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    assert_eq!(t.raw(&["CLIENT", "TRACKING", "on", "NOLOOP"]), "+OK\r\n");
    t.cmd(&["GET", "k"]);
    assert_eq!(t.raw(&["SET", "k", "3"]), "+OK\r\n");
    assert_eq!(t.raw(&["PING"]), "+PONG\r\n");
}
