//! String commands.

use bytes::Bytes;
use resp::Reply;
use storage::Value;

use crate::command;
use crate::ctx::Ctx;
use crate::error::{err, WRONGTYPE};

command!(GET, "Returns the string stored at a key.", get);

/// GET key
fn get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    match ctx.ks.get_read(db, &args[1]) {
        None => Reply::Null,
        Some(e) => match &e.value {
            Value::Str(s) => Reply::Bulk(s.to_bytes()),
            #[allow(unreachable_patterns)]
            _ => err(WRONGTYPE),
        },
    }
}

command!(
    SET,
    "Stores a string at a key, with optional conditions and expiry.",
    set
);

/// SET key value
fn set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.db();
    ctx.ks.set(
        db,
        &args[1],
        Value::Str(storage::StrValue::from_owned(args[2].clone())),
        false,
    );
    ctx.dirty(1);
    Reply::ok()
}
