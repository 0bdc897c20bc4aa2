//! Redis's error texts, spelled exactly as Redis spells them.

use resp::Reply;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const SYNTAX: &str = "ERR syntax error";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const DB_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const OUT_OF_RANGE_POSITIVE: &str = "ERR value is out of range, must be positive";

/// A reply for an error text known at compile time.
pub fn err(text: &'static str) -> Reply {
    Reply::error(text)
}

/// `ERR wrong number of arguments for '<cmd>' command`.
pub fn wrong_args(cmd: &str) -> Reply {
    Reply::error(format!("ERR wrong number of arguments for '{cmd}' command"))
}

/// `ERR invalid expire time in '<cmd>' command`.
pub fn invalid_expire(cmd: &str) -> Reply {
    Reply::error(format!("ERR invalid expire time in '{cmd}' command"))
}

/// The result of a handler step that may end the command with an error reply.
pub type CmdResult<T = Reply> = Result<T, Reply>;
