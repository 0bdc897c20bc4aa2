//! Configuration: the options Ferrum has, their defaults, redis.conf parsing,
//! and CONFIG GET/SET access through one table so that all three agree.

use parking_lot::RwLock;

/// Every option's current value.
#[derive(Clone, Debug)]
pub struct Values {
    pub bind: Vec<String>,
    pub port: u16,
    pub databases: usize,
    pub requirepass: Option<String>,
    pub maxclients: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub tcp_backlog: u64,
    pub protected_mode: bool,
    pub hz: u64,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub dir: String,
    pub dbfilename: String,
    pub save: String,
    /// `rdbcompression`: LZF for long strings in RDB files and DUMP payloads.
    pub rdbcompression: bool,
    /// `rdbchecksum`: a CRC-64 at the end of RDB files (else 8 zero bytes).
    pub rdbchecksum: bool,
    pub appendonly: bool,
    /// `appendfsync`: always, everysec or no.
    pub appendfsync: String,
    /// `appenddirname`: the AOF directory, inside `dir`.
    pub appenddirname: String,
    /// `appendfilename`: the AOF files' base name.
    pub appendfilename: String,
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    pub auto_aof_rewrite_percentage: u64,
    pub auto_aof_rewrite_min_size: u64,
    pub loglevel: String,
    pub logfile: String,
    pub pidfile: String,
    pub daemonize: bool,
    /// Ferrum's own: shards per database, as a power of two.
    pub shard_bits: u32,
    /// Ferrum's own: worker threads (0 = one per core).
    pub threads: usize,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: usize,
    /// `notify-keyspace-events` as class bits (see `crate::notify::class`).
    pub notify_keyspace_events: u32,
    /// `client-output-buffer-limit`: (hard, soft, soft seconds) for the
    /// normal, replica and pubsub classes.
    pub client_output_buffer_limit: [crate::pubsub::BufferLimit; 3],
}

impl Values {
    /// The `save` points: after `seconds` seconds with at least `changes`
    /// changes since the last save, an automatic BGSAVE is due.
    pub fn save_points(&self) -> Vec<(u64, u64)> {
        crate::persistence::parse_save_points(&self.save).unwrap_or_default()
    }

    /// What `rdbcompression` and `rdbchecksum` ask of an RDB file.
    pub fn rdb_save_options(&self) -> persistence::rdb::SaveOptions {
        persistence::rdb::SaveOptions {
            compression: self.rdbcompression,
            checksum: self.rdbchecksum,
        }
    }

    /// The collection encoding thresholds, as the store keeps them.
    pub fn limits(&self) -> storage::LimitValues {
        storage::LimitValues {
            hash_max_listpack_entries: self.hash_max_listpack_entries,
            hash_max_listpack_value: self.hash_max_listpack_value,
            set_max_intset_entries: self.set_max_intset_entries,
            set_max_listpack_entries: self.set_max_listpack_entries,
            set_max_listpack_value: self.set_max_listpack_value,
            zset_max_listpack_entries: self.zset_max_listpack_entries,
            zset_max_listpack_value: self.zset_max_listpack_value,
            list_max_listpack_size: self.list_max_listpack_size,
            list_compress_depth: self.list_compress_depth,
        }
    }
}

impl Default for Values {
    fn default() -> Self {
        Values {
            bind: vec!["127.0.0.1".into()],
            port: 6379,
            databases: 16,
            requirepass: None,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            protected_mode: true,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            dir: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| ".".into()),
            dbfilename: "dump.rdb".into(),
            save: String::new(),
            rdbcompression: true,
            rdbchecksum: true,
            appendonly: false,
            appendfsync: "everysec".into(),
            appenddirname: "appendonlydir".into(),
            appendfilename: "appendonly.aof".into(),
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            loglevel: "notice".into(),
            logfile: String::new(),
            pidfile: String::new(),
            daemonize: false,
            shard_bits: 8,
            threads: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            notify_keyspace_events: 0,
            client_output_buffer_limit: [
                (0, 0, 0),
                (256 << 20, 64 << 20, 60),
                (32 << 20, 8 << 20, 60),
            ],
        }
    }
}

/// How an option may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Only in redis.conf or on the command line.
    Immutable,
    /// Also with CONFIG SET.
    Mutable,
}

type Getter = fn(&Values) -> String;
type Setter = fn(&mut Values, &[String]) -> Result<(), String>;

/// One configuration option.
pub struct Opt {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub mutability: Mutability,
    pub get: Getter,
    /// Receives the option's arguments (one for most options; several for
    /// `save` and `bind` in redis.conf).
    pub set: Setter,
}

impl std::fmt::Debug for Opt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opt").field("name", &self.name).finish()
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn parse_bool(v: &[String]) -> Result<bool, String> {
    match one(v)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn one(v: &[String]) -> Result<&str, String> {
    match v {
        [x] => Ok(x.as_str()),
        _ => Err("wrong number of arguments".into()),
    }
}

/// Parses a number with Redis's memory units (1k = 1000, 1kb = 1024, ...).
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let lower = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1_000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suf, m)| lower.strip_suffix(suf).map(|n| (n.to_string(), *m)))
    .unwrap_or((lower.clone(), 1));
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| "argument must be a memory value".to_string())
}

/// True when `s` is digits with an optional unit, i.e. [`parse_memory`]
/// refuses it only because it overflows.
fn is_memory_syntax(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let num = ["gb", "mb", "kb", "g", "m", "k", "b"]
        .iter()
        .find_map(|suf| lower.strip_suffix(suf))
        .unwrap_or(&lower);
    !num.is_empty() && num.bytes().all(|c| c.is_ascii_digit())
}

fn parse_num(v: &[String], min: u64, max: u64) -> Result<u64, String> {
    // Read as a signed integer first, as Redis does, so that a negative
    // value is reported as out of range rather than as unparsable.
    let n: i64 = storage::value::parse_canonical_i64(one(v)?.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if n < 0 || (n as u64) < min || (n as u64) > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n as u64)
}

macro_rules! num_opt {
    ($name:expr, $field:ident, $min:expr, $max:expr, $mutability:expr) => {
        Opt {
            name: $name,
            alias: None,
            mutability: $mutability,
            get: |v| v.$field.to_string(),
            set: |v, a| {
                v.$field = parse_num(a, $min, $max)? as _;
                Ok(())
            },
        }
    };
}

/// A size threshold that accepts memory units, with an optional old name.
macro_rules! mem_alias_opt {
    ($name:expr, $alias:expr, $field:ident) => {
        Opt {
            name: $name,
            alias: if $alias.is_empty() {
                None
            } else {
                Some($alias)
            },
            mutability: Mutability::Mutable,
            get: |v| v.$field.to_string(),
            set: |v, a| {
                let n = parse_memory(one(a)?)?;
                if n > i64::MAX as u64 {
                    return Err("argument must be a memory value".into());
                }
                v.$field = n as usize;
                Ok(())
            },
        }
    };
}

macro_rules! mem_opt {
    ($name:expr, $field:ident, $min:expr) => {
        Opt {
            name: $name,
            alias: None,
            mutability: Mutability::Mutable,
            get: |v| v.$field.to_string(),
            set: |v, a| {
                // Redis's bounds are `$min..=LONG_MAX`; a well-formed value
                // too large even for u64 is out of range too, not malformed.
                let s = one(a)?;
                let n = match parse_memory(s) {
                    Ok(n) => n,
                    Err(_) if is_memory_syntax(s) => u64::MAX,
                    Err(e) => return Err(e),
                };
                if n < $min || n > i64::MAX as u64 {
                    return Err(format!(
                        "argument must be between {} and {} inclusive",
                        $min,
                        i64::MAX
                    ));
                }
                v.$field = n;
                Ok(())
            },
        }
    };
}

/// The table of every option Ferrum has.
pub static OPTIONS: &[Opt] = &[
    Opt {
        name: "bind",
        alias: None,
        mutability: Mutability::Immutable,
        get: |v| v.bind.join(" "),
        set: |v, a| {
            let list: Vec<String> = a
                .iter()
                .flat_map(|s| s.split_whitespace().map(str::to_string))
                .collect();
            if list.is_empty() {
                return Err("wrong number of arguments".into());
            }
            v.bind = list;
            Ok(())
        },
    },
    num_opt!("port", port, 0, 65535, Mutability::Immutable),
    num_opt!(
        "databases",
        databases,
        1,
        i32::MAX as u64,
        Mutability::Immutable
    ),
    Opt {
        name: "requirepass",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| v.requirepass.clone().unwrap_or_default(),
        set: |v, a| {
            let p = one(a)?;
            v.requirepass = if p.is_empty() {
                None
            } else {
                Some(p.to_string())
            };
            Ok(())
        },
    },
    num_opt!(
        "maxclients",
        maxclients,
        1,
        u32::MAX as u64,
        Mutability::Mutable
    ),
    num_opt!("timeout", timeout, 0, i32::MAX as u64, Mutability::Mutable),
    num_opt!(
        "tcp-keepalive",
        tcp_keepalive,
        0,
        i32::MAX as u64,
        Mutability::Mutable
    ),
    num_opt!(
        "tcp-backlog",
        tcp_backlog,
        0,
        i32::MAX as u64,
        Mutability::Immutable
    ),
    Opt {
        name: "protected-mode",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| yes_no(v.protected_mode),
        set: |v, a| {
            v.protected_mode = parse_bool(a)?;
            Ok(())
        },
    },
    num_opt!("hz", hz, 1, 500, Mutability::Mutable),
    mem_opt!("proto-max-bulk-len", proto_max_bulk_len, 1024 * 1024),
    mem_opt!(
        "client-query-buffer-limit",
        client_query_buffer_limit,
        1024 * 1024
    ),
    Opt {
        name: "dir",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| v.dir.clone(),
        set: |v, a| {
            let d = one(a)?;
            std::env::set_current_dir(d).map_err(|e| e.to_string())?;
            v.dir = std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| d.to_string());
            Ok(())
        },
    },
    Opt {
        name: "dbfilename",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| v.dbfilename.clone(),
        set: |v, a| {
            let f = one(a)?;
            if f.contains('/') {
                return Err("dbfilename can't be a path, just a filename".into());
            }
            v.dbfilename = f.to_string();
            Ok(())
        },
    },
    Opt {
        // Snapshots come with the persistence work; until then the only
        // schedule accepted is none at all (what `CONFIG SET save ""` asks).
        name: "save",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| v.save.clone(),
        // `<seconds> <changes>` pairs, normalized to single spaces; empty
        // disables automatic saves.
        set: |v, a| {
            let points = crate::persistence::parse_save_points(&a.join(" "))?;
            v.save = points
                .iter()
                .map(|(s, c)| format!("{s} {c}"))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(())
        },
    },
    Opt {
        name: "rdbcompression",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| yes_no(v.rdbcompression),
        set: |v, a| {
            v.rdbcompression = parse_bool(a)?;
            Ok(())
        },
    },
    Opt {
        // Immutable in Redis too (CONFIG SET fails with "can't set
        // immutable config"): only redis.conf or the command line set it.
        name: "rdbchecksum",
        alias: None,
        mutability: Mutability::Immutable,
        get: |v| yes_no(v.rdbchecksum),
        set: |v, a| {
            v.rdbchecksum = parse_bool(a)?;
            Ok(())
        },
    },
    Opt {
        name: "appendonly",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| yes_no(v.appendonly),
        // The AOF starts or stops after the value changed (CONFIG SET calls
        // the persistence layer's control; at start-up the server opens it).
        set: |v, a| {
            v.appendonly = parse_bool(a)?;
            Ok(())
        },
    },
    Opt {
        name: "appendfsync",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| v.appendfsync.clone(),
        set: |v, a| {
            let s = one(a)?.to_ascii_lowercase();
            if !["always", "everysec", "no"].contains(&s.as_str()) {
                return Err(
                    "argument(s) must be one of the following: always, everysec, no".into(),
                );
            }
            v.appendfsync = s;
            Ok(())
        },
    },
    Opt {
        name: "appenddirname",
        alias: None,
        mutability: Mutability::Immutable,
        get: |v| v.appenddirname.clone(),
        set: |v, a| {
            let s = one(a)?;
            if s.contains('/') {
                return Err("appenddirname can't be a path, just a dirname".into());
            }
            v.appenddirname = s.to_string();
            Ok(())
        },
    },
    Opt {
        name: "appendfilename",
        alias: None,
        mutability: Mutability::Immutable,
        get: |v| v.appendfilename.clone(),
        set: |v, a| {
            let s = one(a)?;
            if s.contains('/') {
                return Err("appendfilename can't be a path, just a filename".into());
            }
            v.appendfilename = s.to_string();
            Ok(())
        },
    },
    Opt {
        name: "aof-load-truncated",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| yes_no(v.aof_load_truncated),
        set: |v, a| {
            v.aof_load_truncated = parse_bool(a)?;
            Ok(())
        },
    },
    Opt {
        name: "aof-use-rdb-preamble",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| yes_no(v.aof_use_rdb_preamble),
        set: |v, a| {
            v.aof_use_rdb_preamble = parse_bool(a)?;
            Ok(())
        },
    },
    num_opt!(
        "auto-aof-rewrite-percentage",
        auto_aof_rewrite_percentage,
        0,
        i32::MAX as u64,
        Mutability::Mutable
    ),
    Opt {
        name: "auto-aof-rewrite-min-size",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| v.auto_aof_rewrite_min_size.to_string(),
        set: |v, a| {
            v.auto_aof_rewrite_min_size = parse_memory(one(a)?)?;
            Ok(())
        },
    },
    Opt {
        name: "loglevel",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| v.loglevel.clone(),
        set: |v, a| {
            let l = one(a)?.to_ascii_lowercase();
            if !["debug", "verbose", "notice", "warning", "nothing"].contains(&l.as_str()) {
                return Err("argument(s) must be one of the following: debug, verbose, notice, warning, nothing".into());
            }
            v.loglevel = l;
            Ok(())
        },
    },
    Opt {
        name: "logfile",
        alias: None,
        mutability: Mutability::Immutable,
        get: |v| v.logfile.clone(),
        set: |v, a| {
            v.logfile = one(a)?.to_string();
            Ok(())
        },
    },
    Opt {
        name: "pidfile",
        alias: None,
        mutability: Mutability::Immutable,
        get: |v| v.pidfile.clone(),
        set: |v, a| {
            v.pidfile = one(a)?.to_string();
            Ok(())
        },
    },
    Opt {
        // Ferrum runs in the foreground; a service manager daemonizes it.
        name: "daemonize",
        alias: None,
        mutability: Mutability::Immutable,
        get: |v| yes_no(v.daemonize),
        set: |v, a| {
            if parse_bool(a)? {
                return Err("daemonize is not supported; run under a service manager".into());
            }
            v.daemonize = false;
            Ok(())
        },
    },
    num_opt!(
        "ferrum-shard-bits",
        shard_bits,
        1,
        16,
        Mutability::Immutable
    ),
    num_opt!("ferrum-threads", threads, 0, 1024, Mutability::Immutable),
    mem_alias_opt!(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        hash_max_listpack_entries
    ),
    mem_alias_opt!(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        hash_max_listpack_value
    ),
    mem_alias_opt!("set-max-intset-entries", "", set_max_intset_entries),
    mem_alias_opt!("set-max-listpack-entries", "", set_max_listpack_entries),
    mem_alias_opt!("set-max-listpack-value", "", set_max_listpack_value),
    mem_alias_opt!(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        zset_max_listpack_entries
    ),
    mem_alias_opt!(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        zset_max_listpack_value
    ),
    Opt {
        name: "list-max-listpack-size",
        alias: Some("list-max-ziplist-size"),
        mutability: Mutability::Mutable,
        get: |v| v.list_max_listpack_size.to_string(),
        set: |v, a| {
            let n: i64 = one(a)?
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if !(i32::MIN as i64..=i32::MAX as i64).contains(&n) {
                return Err(format!(
                    "argument must be between {} and {} inclusive",
                    i32::MIN,
                    i32::MAX
                ));
            }
            v.list_max_listpack_size = n;
            Ok(())
        },
    },
    num_opt!(
        "list-compress-depth",
        list_compress_depth,
        0,
        i32::MAX as u64,
        Mutability::Mutable
    ),
    Opt {
        // Letters of the keyspace event classes to publish; CONFIG GET
        // shows them normalised, as Redis does.
        name: "notify-keyspace-events",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| crate::pubsub::notify_flags_string(v.notify_keyspace_events),
        set: |v, a| {
            v.notify_keyspace_events = crate::pubsub::parse_notify_flags(&a.join(""))
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            Ok(())
        },
    },
    Opt {
        // `<class> <hard> <soft> <soft seconds>` groups; only the classes
        // named change.
        name: "client-output-buffer-limit",
        alias: None,
        mutability: Mutability::Mutable,
        get: |v| crate::pubsub::buffer_limits_string(&v.client_output_buffer_limit),
        set: |v, a| {
            v.client_output_buffer_limit =
                crate::pubsub::parse_buffer_limits(v.client_output_buffer_limit, &a.join(" "))?;
            Ok(())
        },
    },
];

/// Looks an option up by name or alias, case-insensitively.
pub fn find(name: &str) -> Option<&'static Opt> {
    OPTIONS.iter().find(|o| {
        o.name.eq_ignore_ascii_case(name) || o.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The live configuration.
#[derive(Debug, Default)]
pub struct Config {
    values: RwLock<Values>,
    /// The file the server was started with, for CONFIG REWRITE and INFO.
    pub file: Option<std::path::PathBuf>,
}

impl Config {
    pub fn new(values: Values, file: Option<std::path::PathBuf>) -> Config {
        Config {
            values: RwLock::new(values),
            file,
        }
    }

    /// A copy of the current values (cheap enough off the hot path).
    pub fn snapshot(&self) -> Values {
        self.values.read().clone()
    }

    /// Reads values under the lock; keep `f` short.
    pub fn read<R>(&self, f: impl FnOnce(&Values) -> R) -> R {
        f(&self.values.read())
    }

    /// Changes values under the lock; keep `f` short.
    pub fn write<R>(&self, f: impl FnOnce(&mut Values) -> R) -> R {
        f(&mut self.values.write())
    }
}

/// A problem in a configuration file, with its line.
#[derive(Debug, thiserror::Error)]
#[error("configuration error at line {line}: >>> '{text}': {message}")]
pub struct ConfigFileError {
    pub line: usize,
    pub text: String,
    pub message: String,
}

/// Applies redis.conf-syntax text to `values`. Options Ferrum does not have
/// are returned as warnings `(line, text)` rather than refused, so a user's
/// existing redis.conf still starts the server; a bad value for a known
/// option is an error, as in Redis.
pub fn apply_file_text(
    values: &mut Values,
    text: &str,
) -> Result<Vec<(usize, String)>, ConfigFileError> {
    let mut unknown = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_args(line).ok_or_else(|| ConfigFileError {
            line: i + 1,
            text: line.to_string(),
            message: "Unbalanced quotes in configuration line".into(),
        })?;
        let Some((name, args)) = words.split_first() else {
            continue;
        };
        match find(name) {
            Some(opt) => (opt.set)(values, args).map_err(|message| ConfigFileError {
                line: i + 1,
                text: line.to_string(),
                message,
            })?,
            None => unknown.push((i + 1, line.to_string())),
        }
    }
    Ok(unknown)
}

/// Splits a line into words as Redis's sdssplitargs does (quotes, escapes).
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && is_hex(b[i + 2])
                    && is_hex(b[i + 3])
                {
                    cur.push(hex(b[i + 2]) * 16 + hex(b[i + 3]));
                    i += 3;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    inq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    insq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() {
                    break;
                }
                match b[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        let _ = (inq, insq);
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1kb").unwrap(), 1024);
        assert_eq!(parse_memory("1k").unwrap(), 1000);
        assert_eq!(parse_memory("2GB").unwrap(), 2 << 30);
        assert!(parse_memory("x").is_err());
        assert!(is_memory_syntax("18446744073709551616"));
        assert!(is_memory_syntax("100000000000gb"));
        assert!(!is_memory_syntax("-1"));
        assert!(!is_memory_syntax("gb"));
    }

    #[test]
    fn file_text() {
        let mut v = Values::default();
        let unknown = apply_file_text(
            &mut v,
            "# comment\nport 7000\nbind 0.0.0.0 ::1\nrequirepass \"a b\"\nlazyfree-lazy-eviction no\n",
        )
        .unwrap();
        assert_eq!(v.port, 7000);
        assert_eq!(v.bind, vec!["0.0.0.0", "::1"]);
        assert_eq!(v.requirepass.as_deref(), Some("a b"));
        assert_eq!(unknown, vec![(5, "lazyfree-lazy-eviction no".to_string())]);
        let e = apply_file_text(&mut v, "port x\n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn rdb_options() {
        let mut v = Values::default();
        assert!(v.rdbcompression && v.rdbchecksum);
        assert_eq!(
            v.rdb_save_options(),
            persistence::rdb::SaveOptions::default()
        );
        apply_file_text(&mut v, "rdbcompression no\nrdbchecksum NO\n").unwrap();
        assert!(!v.rdbcompression && !v.rdbchecksum);
        let o = v.rdb_save_options();
        assert!(!o.compression && !o.checksum);
        let comp = find("rdbcompression").unwrap();
        let sum = find("RDBCHECKSUM").unwrap();
        assert_eq!((comp.get)(&v), "no");
        assert_eq!((sum.get)(&v), "no");
        assert_eq!(comp.mutability, Mutability::Mutable);
        // Redis refuses CONFIG SET rdbchecksum: "can't set immutable config".
        assert_eq!(sum.mutability, Mutability::Immutable);
        (comp.set)(&mut v, &["yes".into()]).unwrap();
        assert_eq!((comp.get)(&v), "yes");
        assert_eq!(
            (comp.set)(&mut v, &["maybe".into()]).unwrap_err(),
            "argument must be 'yes' or 'no'"
        );
        let e = apply_file_text(&mut v, "rdbchecksum 1\n").unwrap_err();
        assert_eq!(e.message, "argument must be 'yes' or 'no'");
    }

    #[test]
    fn split() {
        assert_eq!(
            split_args("a 'b c' \"d\\ne\"").unwrap(),
            vec!["a", "b c", "d\ne"]
        );
        assert!(split_args("\"abc").is_none());
        assert!(split_args("\"a\"b").is_none());
    }
}
