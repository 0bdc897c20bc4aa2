//! Connection commands: PING, ECHO, SELECT, QUIT, ...

use bytes::Bytes;
use resp::Reply;

use crate::ctx::Ctx;
use crate::registry::Locking;
use crate::{command, error};

command!(
    PING,
    "Answers PONG, or echoes its argument; checks that the connection is alive.",
    ping,
    Locking::None
);

/// PING [message]
fn ping(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        1 => Reply::simple("PONG"),
        2 => Reply::Bulk(args[1].clone()),
        _ => error::wrong_args("ping"),
    }
}

command!(ECHO, "Returns its argument unchanged.", echo, Locking::None);

/// ECHO message
fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Reply::Bulk(args[1].clone())
}
