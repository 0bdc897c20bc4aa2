//! Static command metadata: the facts COMMAND INFO and COMMAND DOCS report and
//! the dispatcher relies on (arity, flags, key specs, argument grammar).
//!
//! `spec.rs` holds one [`Spec`] per Redis 7.2 command, generated once by
//! `cargo xtask gen-spec` from Redis's published command metadata; a command
//! becomes visible only when a handler registers itself with one of them.

/// Command flags, as bits. Names follow Redis's `COMMAND INFO` spelling.
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const MODULE: u64 = 1 << 3;
    pub const ADMIN: u64 = 1 << 4;
    pub const PUBSUB: u64 = 1 << 5;
    pub const NOSCRIPT: u64 = 1 << 6;
    pub const BLOCKING: u64 = 1 << 7;
    pub const LOADING: u64 = 1 << 8;
    pub const STALE: u64 = 1 << 9;
    pub const SKIP_MONITOR: u64 = 1 << 10;
    pub const SKIP_SLOWLOG: u64 = 1 << 11;
    pub const ASKING: u64 = 1 << 12;
    pub const FAST: u64 = 1 << 13;
    pub const NO_AUTH: u64 = 1 << 14;
    pub const MAY_REPLICATE: u64 = 1 << 15;
    pub const SENTINEL: u64 = 1 << 16;
    pub const ONLY_SENTINEL: u64 = 1 << 17;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 18;
    pub const PROTECTED: u64 = 1 << 19;
    pub const NO_ASYNC_LOADING: u64 = 1 << 20;
    pub const NO_MULTI: u64 = 1 << 21;
    pub const MOVABLE_KEYS: u64 = 1 << 22;
    pub const ALLOW_BUSY: u64 = 1 << 23;
    pub const TOUCHES_ARBITRARY_KEYS: u64 = 1 << 24;

    /// Reply spelling of each flag, in the order Redis lists them.
    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (MODULE, "module"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories, as bits, in Redis's order.
pub mod acl {
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;

    /// Category names without the `@`, in bit order.
    pub const NAMES: &[(u64, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];

    /// Looks a category up by name, case-insensitively, with or without `@`.
    pub fn by_name(name: &str) -> Option<u64> {
        let name = name.strip_prefix('@').unwrap_or(name);
        NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(b, _)| *b)
    }
}

/// Key-spec flags, as bits.
pub mod ks {
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Documentation flags.
pub mod doc {
    pub const DEPRECATED: u8 = 1 << 0;
    pub const SYSCMD: u8 = 1 << 1;
}

/// Where the search for a key spec's keys begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After the first (or, when `start_from` is negative, last) occurrence of a
    /// keyword, searching from `start_from`.
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
    /// Keys cannot be found from the arguments alone.
    Unknown,
}

/// How the keys continue once the search has begun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative; -1 = last argument), every `step`
    /// arguments; `limit` > 1 divides the remaining arguments.
    Range {
        lastkey: i32,
        step: i32,
        limit: i32,
    },
    /// The number of keys is given by an argument.
    Keynum {
        keynum_idx: i32,
        first_key: i32,
        step: i32,
    },
    Unknown,
}

/// One key specification (see Redis's key-specs documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub begin: BeginSearch,
    pub find: FindKeys,
    pub flags: u32,
}

/// Argument types of the command grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// Argument flags.
pub mod argf {
    pub const OPTIONAL: u8 = 1 << 0;
    pub const MULTIPLE: u8 = 1 << 1;
    pub const MULTIPLE_TOKEN: u8 = 1 << 2;
}

/// One node of a command's argument grammar, as COMMAND DOCS reports it.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgType,
    pub token: Option<&'static str>,
    pub display: Option<&'static str>,
    /// Index into the command's key specs for `key` arguments, -1 otherwise.
    pub key_spec_index: i32,
    pub flags: u8,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub args: &'static [Arg],
}

/// The facts about one command or subcommand.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// Lowercase name; for a subcommand its own part only (`get` of `config|get`).
    pub name: &'static str,
    /// Lowercase container name for subcommands.
    pub container: Option<&'static str>,
    /// Redis's arity convention: N exactly N arguments (name included), -N at least N.
    pub arity: i32,
    pub flags: u64,
    /// ACL categories declared by the command itself; the registry adds the
    /// implicit ones Redis derives from the flags.
    pub acl: u64,
    pub key_specs: &'static [KeySpec],
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub doc_flags: u8,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub tips: &'static [&'static str],
    pub args: &'static [Arg],
}
