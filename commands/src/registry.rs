//! The command registry: every command registers itself in [`COMMANDS`] from
//! its family's file; [`registry`] sorts and links them once at start-up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;
use resp::Reply;
use smallvec::SmallVec;

use crate::ctx::Ctx;
use crate::meta::{acl, flags, ks, BeginSearch, FindKeys, KeySpec, Spec};

/// A command handler: pure with respect to the network, so MULTI, scripts,
/// AOF replay and replication can all run it.
pub type Handler = fn(&mut Ctx<'_, '_>, &[Bytes]) -> Reply;

/// Key positions within a request (indexes into the arguments).
pub type KeyPositions = SmallVec<[usize; 4]>;

/// Finds the `(db, key argument index)` pairs of a command whose keys span
/// databases, given the arguments and the client's selected database.
pub type CustomKeys = fn(&[Bytes], usize) -> SmallVec<[(usize, usize); 4]>;

/// What a command must hold before its handler runs.
#[derive(Clone, Copy, Debug)]
pub enum Locking {
    /// The shards of the keys its key specs name, in the selected database.
    Keys,
    /// Every shard of the selected database (KEYS, SCAN, DBSIZE, FLUSHDB, ...).
    Db,
    /// Every shard of every database (FLUSHALL, SWAPDB).
    AllDbs,
    /// Nothing: the command does not touch the keyspace.
    None,
    /// Nothing from the dispatcher, but the handler locks shards itself,
    /// possibly all of them (INFO's and CONFIG RESETSTAT's sums over every
    /// shard, CONFIG SET appendonly attaching the AOF, CLIENT UNBLOCK's
    /// cancel path, SHUTDOWN's save). Such a command must not be run by a
    /// caller that holds shard locks: EXEC runs it after releasing its own.
    Own,
    /// Command-specific: returns `(db, key argument index)` pairs, for
    /// commands whose keys live in more than one database (MOVE, COPY ... DB).
    Custom(CustomKeys),
}

/// One registered command or subcommand.
#[derive(Debug)]
pub struct Command {
    pub spec: &'static Spec,
    /// What the command does, in Ferrum's own words (COMMAND DOCS summary).
    pub summary: &'static str,
    /// None for containers (CONFIG, CLIENT, ...) whose subcommands do the work.
    pub handler: Option<Handler>,
    pub locking: Locking,
}

// linkme gathers the entries through a link section, which the `unsafe_code`
// lint reports. It is sound: each entry is a plain immutable `static` of type
// `Command`, and linkme checks the element type of every entry at compile
// time, so the section holds nothing but well-formed `Command` values.
#[allow(unsafe_code)]
#[linkme::distributed_slice]
pub static COMMANDS: [Command];

/// Registers a command. `command!(GET, "summary", handler)` locks the keys of
/// the spec; a fourth argument chooses another [`Locking`].
#[macro_export]
macro_rules! command {
    ($spec:ident, $summary:expr, $handler:expr) => {
        $crate::command!($spec, $summary, $handler, $crate::registry::Locking::Keys);
    };
    ($spec:ident, $summary:expr, $handler:expr, $locking:expr) => {
        const _: () = {
            // Sound for the reason given at `COMMANDS`.
            #[allow(unsafe_code)]
            #[linkme::distributed_slice($crate::registry::COMMANDS)]
            #[linkme(crate = linkme)]
            static ENTRY: $crate::registry::Command = $crate::registry::Command {
                spec: &$crate::spec::$spec,
                summary: $summary,
                handler: Some($handler),
                locking: $locking,
            };
        };
    };
}

/// Registers a container command (one whose work is done by subcommands).
///
/// `container!(COMMAND, "summary", handler)` also gives the container a
/// handler of its own, which runs when it is called without a subcommand
/// (plain `COMMAND`, as in Redis); with arguments, the first one still picks
/// the subcommand.
#[macro_export]
macro_rules! container {
    ($spec:ident, $summary:expr, $handler:expr) => {
        const _: () = {
            // Sound for the reason given at `COMMANDS`.
            #[allow(unsafe_code)]
            #[linkme::distributed_slice($crate::registry::COMMANDS)]
            #[linkme(crate = linkme)]
            static ENTRY: $crate::registry::Command = $crate::registry::Command {
                spec: &$crate::spec::$spec,
                summary: $summary,
                handler: Some($handler),
                locking: $crate::registry::Locking::None,
            };
        };
    };
    ($spec:ident, $summary:expr) => {
        const _: () = {
            // Sound for the reason given at `COMMANDS`.
            #[allow(unsafe_code)]
            #[linkme::distributed_slice($crate::registry::COMMANDS)]
            #[linkme(crate = linkme)]
            static ENTRY: $crate::registry::Command = $crate::registry::Command {
                spec: &$crate::spec::$spec,
                summary: $summary,
                handler: None,
                locking: $crate::registry::Locking::None,
            };
        };
    };
}

/// Per-command counters for INFO commandstats.
#[derive(Debug, Default)]
pub struct CommandStats {
    /// Bumped by every call on every thread: striped (crate::counter).
    pub calls: crate::counter::Counter,
    pub usec: crate::counter::Counter,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
}

impl CommandStats {
    pub fn reset(&self) {
        self.calls.reset();
        self.usec.reset();
        self.rejected_calls.store(0, Ordering::Relaxed);
        self.failed_calls.store(0, Ordering::Relaxed);
    }
}

/// A command as the registry knows it: its registration plus what is
/// derived from it once.
#[derive(Debug)]
pub struct Entry {
    pub cmd: &'static Command,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: String,
    /// The spec's flags plus derived ones (`movablekeys`).
    pub flags: u64,
    /// Declared ACL categories plus the implicit ones Redis derives.
    pub acl: u64,
    /// Legacy (first, last, step) key range for COMMAND INFO.
    pub legacy: (i64, i64, i64),
    pub subcommands: Vec<Entry>,
    pub stats: CommandStats,
    /// The argument index of the command's only key when its key specs say
    /// just that (GET, SET, INCR, LPUSH's key ...): the lock path's fast
    /// case, which skips the general key-spec walk.
    pub single_key: Option<usize>,
}

impl Entry {
    pub fn spec(&self) -> &'static Spec {
        self.cmd.spec
    }

    pub fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    /// Checks Redis's arity convention for `argc` arguments.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.cmd.spec.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }

    /// The subcommand named by `name`, case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&Entry> {
        self.subcommands
            .iter()
            .find(|e| e.cmd.spec.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Positions of the keys in `args`, from the key specs, as Redis's
    /// getKeysUsingKeySpecs finds them. Lenient: a malformed request yields
    /// the keys that can be found, and the handler reports the error.
    pub fn key_positions(&self, args: &[Bytes]) -> KeyPositions {
        if let Some(i) = self.single_key {
            let mut out = KeyPositions::new();
            if i < args.len() {
                out.push(i);
            }
            return out;
        }
        walk_key_specs(self.cmd.spec.key_specs, args, false)
            .unwrap_or_default()
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }
}

/// The arguments do not hold the keys the key specs describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Invalid arguments specified for command")]
pub struct InvalidKeyArgs;

/// Key positions within a request with each key's key-spec flags.
pub type KeysWithFlags = SmallVec<[(usize, u32); 4]>;

/// Finds the keys of a request from its key specs, as Redis's
/// getKeysUsingKeySpecs does, with each key's flags.
///
/// Two modes, one walk: `strict` is COMMAND GETKEYS — a spec that cannot be
/// followed (unknown, out of range, a bad key count) or that admits it is
/// incomplete fails the whole search, and the caller falls back to parsing
/// the command. Lenient is for locking: specs that cannot be followed are
/// skipped and bounds are clamped, so a malformed request still yields the
/// keys that can be found (a superset of what the handler may touch) and the
/// handler reports the error.
pub fn walk_key_specs(
    specs: &[KeySpec],
    args: &[Bytes],
    strict: bool,
) -> Result<KeysWithFlags, InvalidKeyArgs> {
    let argc = args.len() as i64;
    let mut out = KeysWithFlags::new();
    for spec in specs {
        if spec.flags & ks::NOT_KEY != 0 {
            continue;
        }
        let first = match spec.begin {
            BeginSearch::Index(pos) => pos as i64,
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => {
                // Searched from `start_from` towards the end (or, when
                // negative, towards the start), not reaching the last
                // candidate, which could not be followed by a key.
                let from = start_from as i64;
                let (start, end) = if from > 0 {
                    (from, argc - 1)
                } else {
                    (argc + from, 0)
                };
                let dir = if start <= end { 1 } else { -1 };
                let mut found = None;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = Some(i + 1);
                        break;
                    }
                    i += dir;
                }
                match found {
                    Some(f) => f,
                    None => continue,
                }
            }
            BeginSearch::Unknown if strict => return Err(InvalidKeyArgs),
            BeginSearch::Unknown => continue,
        };
        let (first, last, step) = match spec.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let lastkey = lastkey as i64;
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit <= 1 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit as i64 + lastkey)
                };
                (first, last, (step as i64).max(1))
            }
            FindKeys::Keynum {
                keynum_idx,
                first_key,
                step,
            } => {
                let idx = first + keynum_idx as i64;
                let count = (idx >= 0 && idx < argc)
                    .then(|| storage::value::parse_canonical_i64(&args[idx as usize]))
                    .flatten()
                    .filter(|n| *n >= 0);
                let Some(n) = count else {
                    if strict {
                        return Err(InvalidKeyArgs);
                    }
                    continue;
                };
                let step = (step as i64).max(1);
                let f = first + first_key as i64;
                // Redis counts `n` arguments from the first key; locking
                // takes `n` keys `step` apart, which covers it.
                let span = if strict { n } else { n.saturating_mul(step) };
                (f, f.saturating_add(span).saturating_sub(1), step)
            }
            FindKeys::Unknown if strict => return Err(InvalidKeyArgs),
            FindKeys::Unknown => continue,
        };
        if strict && (last >= argc || last < first || first >= argc) {
            return Err(InvalidKeyArgs);
        }
        let mut i = first;
        while i <= last && i < argc {
            if i >= 1 {
                out.push((i as usize, spec.flags));
            }
            i += step;
        }
        if strict && spec.flags & ks::INCOMPLETE != 0 {
            return Err(InvalidKeyArgs);
        }
    }
    Ok(out)
}

/// The registry: every command, sorted, with subcommands under containers.
#[derive(Debug)]
pub struct Registry {
    entries: Vec<Entry>,
    /// By lowercase name; foldhash rather than SipHash: this lookup runs
    /// for every request, on names from the client.
    by_name: hashbrown::HashMap<&'static [u8], usize, hashbrown::DefaultHashBuilder>,
}

/// Registration problems found while building the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("command '{0}' is registered twice")]
    Duplicate(String),
    #[error("subcommand '{0}' has no registered container")]
    Orphan(String),
}

impl Registry {
    /// Builds the registry from [`COMMANDS`].
    pub fn build() -> Result<Registry, RegistryError> {
        Self::from_commands(COMMANDS.iter())
    }

    pub fn from_commands<'a>(
        cmds: impl Iterator<Item = &'static Command> + 'a,
    ) -> Result<Registry, RegistryError> {
        let mut top: Vec<Entry> = Vec::new();
        let mut subs: Vec<Entry> = Vec::new();
        for cmd in cmds {
            let entry = derive(cmd);
            if cmd.spec.container.is_some() {
                subs.push(entry);
            } else {
                top.push(entry);
            }
        }
        top.sort_by(|a, b| a.full_name.cmp(&b.full_name));
        for w in top.windows(2) {
            if w[0].full_name == w[1].full_name {
                return Err(RegistryError::Duplicate(w[0].full_name.clone()));
            }
        }
        subs.sort_by(|a, b| a.full_name.cmp(&b.full_name));
        for w in subs.windows(2) {
            if w[0].full_name == w[1].full_name {
                return Err(RegistryError::Duplicate(w[0].full_name.clone()));
            }
        }
        for sub in subs {
            let container = sub.cmd.spec.container.expect("subcommand");
            let Some(parent) = top.iter_mut().find(|e| e.cmd.spec.name == container) else {
                return Err(RegistryError::Orphan(sub.full_name));
            };
            parent.subcommands.push(sub);
        }
        let by_name = top
            .iter()
            .enumerate()
            .map(|(i, e)| (e.cmd.spec.name.as_bytes(), i))
            .collect();
        Ok(Registry {
            entries: top,
            by_name,
        })
    }

    /// Looks a command up by name, case-insensitively, without allocating
    /// for names of ordinary length.
    pub fn get(&self, name: &[u8]) -> Option<&Entry> {
        let mut buf = [0u8; 32];
        if name.len() <= buf.len() {
            let lower = &mut buf[..name.len()];
            lower.copy_from_slice(name);
            lower.make_ascii_lowercase();
            self.by_name.get(&*lower).map(|&i| &self.entries[i])
        } else {
            None
        }
    }

    /// Looks up `name` or `container|sub` forms (as COMMAND INFO accepts).
    pub fn get_full(&self, name: &[u8]) -> Option<&Entry> {
        match name.iter().position(|&c| c == b'|') {
            Some(i) => self.get(&name[..i])?.subcommand(&name[i + 1..]),
            None => self.get(name),
        }
    }

    /// Top-level commands in name order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every command and subcommand, containers before their subcommands.
    pub fn all(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .flat_map(|e| std::iter::once(e).chain(e.subcommands.iter()))
    }
}

/// The process-wide registry, built on first use.
pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| Registry::build().expect("command registrations are consistent"))
}

fn derive(cmd: &'static Command) -> Entry {
    let spec = cmd.spec;
    let full_name = match spec.container {
        Some(c) => format!("{c}|{}", spec.name),
        None => spec.name.to_string(),
    };
    let (legacy, movable) = legacy_range(spec.key_specs);
    let mut fl = spec.flags;
    if movable {
        fl |= flags::MOVABLE_KEYS;
    }
    Entry {
        cmd,
        full_name,
        flags: fl,
        acl: implicit_acl(spec.flags, spec.acl),
        legacy,
        subcommands: Vec::new(),
        stats: CommandStats::default(),
        single_key: match spec.key_specs {
            [KeySpec {
                begin: BeginSearch::Index(i),
                find: FindKeys::Range { lastkey: 0, .. },
                flags,
            }] if *i > 0 && flags & ks::NOT_KEY == 0 => Some(*i as usize),
            _ => None,
        },
    }
}

/// ACL categories Redis adds from the command flags (setImplicitACLCategories).
pub fn implicit_acl(f: u64, declared: u64) -> u64 {
    let mut a = declared;
    if f & flags::WRITE != 0 {
        a |= acl::WRITE;
    }
    if f & flags::READONLY != 0 && a & acl::SCRIPTING == 0 {
        a |= acl::READ;
    }
    if f & flags::ADMIN != 0 {
        a |= acl::ADMIN | acl::DANGEROUS;
    }
    if f & flags::PUBSUB != 0 {
        a |= acl::PUBSUB;
    }
    if f & flags::FAST != 0 {
        a |= acl::FAST;
    }
    if f & flags::BLOCKING != 0 {
        a |= acl::BLOCKING;
    }
    if a & acl::FAST == 0 {
        a |= acl::SLOW;
    }
    a
}

/// The legacy (first, last, step) triple and whether keys are "movable",
/// derived from key specs as Redis's populateCommandLegacyRangeSpec does.
pub fn legacy_range(specs: &[KeySpec]) -> ((i64, i64, i64), bool) {
    if specs.is_empty() {
        return ((0, 0, 0), false);
    }
    if let [KeySpec {
        begin: BeginSearch::Index(pos),
        find: FindKeys::Range { lastkey, step, .. },
        flags: f,
    }] = specs
    {
        let last = if *lastkey >= 0 {
            *pos as i64 + *lastkey as i64
        } else {
            *lastkey as i64
        };
        return ((*pos as i64, last, *step as i64), f & ks::INCOMPLETE != 0);
    }
    let mut movable = false;
    let mut first = i32::MAX;
    let mut last: i32 = 0;
    let mut prev_last: i32 = 0;
    for s in specs {
        let (BeginSearch::Index(pos), FindKeys::Range { lastkey, step, .. }) = (s.begin, s.find)
        else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last != 0 && prev_last != pos - 1) {
            movable = true;
            continue;
        }
        if s.flags & ks::INCOMPLETE != 0 {
            movable = true;
        }
        first = first.min(pos);
        let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
        // Unsigned comparison so that a negative (relative-to-end) lastkey wins.
        last = if (abs as u32) > (last as u32) {
            abs
        } else {
            last
        };
        prev_last = last;
    }
    if first == i32::MAX {
        return ((0, 0, 0), true);
    }
    ((first as i64, last as i64, 1), movable)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The single-key fast path finds exactly what the general key-spec walk
    /// finds, for every command that has it and any argument count.
    #[test]
    fn single_key_fast_path_matches_the_key_spec_walk() {
        let mut fast = 0;
        for e in registry().all() {
            let Some(i) = e.single_key else { continue };
            fast += 1;
            for argc in 1..=6 {
                let args: Vec<Bytes> = (0..argc).map(|n| Bytes::from(format!("a{n}"))).collect();
                let walked: KeyPositions = walk_key_specs(e.cmd.spec.key_specs, &args, false)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect();
                assert_eq!(
                    e.key_positions(&args),
                    walked,
                    "{} with {argc} arguments (key at {i})",
                    e.full_name
                );
            }
        }
        assert!(fast > 50, "only {fast} commands take the fast path");
        let get = registry().get(b"GeT").unwrap();
        assert_eq!(get.single_key, Some(1));
        assert!(registry().get(b"mset").unwrap().single_key.is_none());
    }
}
