//! End-to-end basics: the registry is linked into the binary, requests in
//! both forms work, and pipelining answers everything in order.

mod common;

use common::{start, Conn};

#[test]
fn registry_is_linked_and_not_empty() {
    let reg = commands::init();
    assert!(
        reg.entries().len() >= 4,
        "linkme entries were dropped by the linker"
    );
    assert!(reg.get(b"GET").is_some());
    assert!(reg.get(b"get").is_some());
}

#[test]
fn ping_and_unknown_command() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["PING"]), "+PONG\r\n");
    assert_eq!(c.raw(&["ping", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(
        c.raw(&["nosuch", "a", "b"]),
        "-ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        c.raw(&["get"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
}

#[test]
fn inline_commands_work() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.send_raw(b"PING\r\n");
    assert_eq!(c.read_raw(), b"+PONG\r\n");
    c.send_raw(b"ECHO \"a b\"\n");
    assert_eq!(c.read_raw(), b"$3\r\na b\r\n");
}

#[test]
fn pipeline_of_ten_thousand_requests() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut batch = Vec::new();
    for i in 0..10_000 {
        let v = i.to_string();
        batch.extend_from_slice(&Conn::encode(&[b"SET", b"k", v.as_bytes()]));
        batch.extend_from_slice(&Conn::encode(&[b"GET", b"k"]));
    }
    c.send_raw(&batch);
    for i in 0..10_000 {
        assert_eq!(c.read_raw(), b"+OK\r\n");
        let v = i.to_string();
        assert_eq!(
            c.read_raw(),
            format!("${}\r\n{v}\r\n", v.len()).into_bytes()
        );
    }
}

#[test]
fn protocol_error_closes_connection() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.send_raw(b"*1\r\n+PING\r\n");
    assert_eq!(
        c.read_raw(),
        b"-ERR Protocol error: expected '$', got '+'\r\n"
    );
    assert!(c.is_closed());
}
