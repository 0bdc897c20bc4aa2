//! Command help built from the server's `COMMAND DOCS`: the argument hints
//! shown while typing, `help <command>`, and tab completion of command names.
//!
//! The hint follows `redis-cli` 7.2: the words typed so far are matched
//! against the command's argument tree (tokens, optional arguments in any
//! order, one-of choices, blocks, repeated arguments, integer and double
//! types), and the hint shows only what is still to be typed. A word that
//! cannot be matched stops hinting.

use resp::Frame;

use crate::split::{is_space, split_args};

/// The type of a documented argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArgKind {
    #[default]
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

impl ArgKind {
    fn parse(s: &str) -> ArgKind {
        match s {
            "integer" => ArgKind::Integer,
            "double" => ArgKind::Double,
            "key" => ArgKind::Key,
            "pattern" => ArgKind::Pattern,
            "unix-time" => ArgKind::UnixTime,
            "pure-token" => ArgKind::PureToken,
            "oneof" => ArgKind::OneOf,
            "block" => ArgKind::Block,
            _ => ArgKind::String,
        }
    }
}

/// One node of a command's argument tree, as `COMMAND DOCS` describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArgSpec {
    pub name: String,
    pub display: Option<String>,
    pub token: Option<String>,
    pub kind: ArgKind,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    pub args: Vec<ArgSpec>,
}

/// Builders for argument trees written by hand (tests).
#[cfg(test)]
impl ArgSpec {
    /// A leaf argument of the given type.
    pub fn new(name: &str, kind: ArgKind) -> ArgSpec {
        ArgSpec {
            name: name.to_owned(),
            kind,
            ..ArgSpec::default()
        }
    }

    /// A `pure-token` argument.
    pub fn token(token: &str) -> ArgSpec {
        ArgSpec {
            name: token.to_lowercase(),
            token: Some(token.to_owned()),
            kind: ArgKind::PureToken,
            ..ArgSpec::default()
        }
    }

    /// A `oneof` or `block` of sub-arguments.
    pub fn group(name: &str, kind: ArgKind, args: Vec<ArgSpec>) -> ArgSpec {
        ArgSpec {
            name: name.to_owned(),
            kind,
            args,
            ..ArgSpec::default()
        }
    }

    pub fn with_token(mut self, token: &str) -> ArgSpec {
        self.token = Some(token.to_owned());
        self
    }

    pub fn optional(mut self) -> ArgSpec {
        self.optional = true;
        self
    }

    pub fn multiple(mut self) -> ArgSpec {
        self.multiple = true;
        self
    }

    pub fn multiple_token(mut self) -> ArgSpec {
        self.multiple_token = true;
        self
    }
}

impl ArgSpec {
    fn label(&self) -> &str {
        self.display.as_deref().unwrap_or(&self.name)
    }

    /// Parses one element of an `arguments` list.
    fn from_frame(frame: &Frame) -> Option<ArgSpec> {
        let mut spec = ArgSpec::default();
        for (key, value) in pairs(frame)? {
            match text(key)?.as_str() {
                "name" => spec.name = text(value)?,
                "display_text" => spec.display = text(value),
                "token" => spec.token = text(value),
                "type" => spec.kind = ArgKind::parse(&text(value)?),
                "arguments" => {
                    spec.args = items(value)?
                        .iter()
                        .filter_map(ArgSpec::from_frame)
                        .collect()
                }
                "flags" => {
                    for flag in items(value)? {
                        match text(flag).as_deref() {
                            Some("optional") => spec.optional = true,
                            Some("multiple") => spec.multiple = true,
                            Some("multiple_token") => spec.multiple_token = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Some(spec)
    }
}

/// Help for one command or subcommand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandHelp {
    /// The upper-case words naming it: `["GET"]`, `["CONFIG", "SET"]`.
    pub words: Vec<String>,
    /// The words joined by a space.
    pub full: String,
    pub summary: String,
    pub since: Option<String>,
    pub group: String,
    /// The argument tree; `None` when the server gave none (then `params` is
    /// a fixed hint shown before the first argument only).
    pub args: Option<Vec<ArgSpec>>,
    /// The full argument synopsis: `key value [NX|XX] ...`.
    pub params: String,
}

#[cfg(test)]
impl CommandHelp {
    /// A help entry from an argument tree.
    pub fn new(name: &str, args: Vec<ArgSpec>) -> CommandHelp {
        let words: Vec<String> = name.split(' ').map(str::to_uppercase).collect();
        let mut help = CommandHelp {
            full: words.join(" "),
            words,
            summary: String::new(),
            since: None,
            group: "generic".to_owned(),
            args: Some(args),
            params: String::new(),
        };
        help.params = help.hint_after(&[]);
        help
    }
}

impl CommandHelp {
    /// The hint for the words typed after the command name: what remains to
    /// be typed, or an empty string when the words do not fit the syntax.
    pub fn hint_after(&self, words: &[Vec<u8>]) -> String {
        let Some(args) = &self.args else {
            return if words.is_empty() {
                self.params.clone()
            } else {
                String::new()
            };
        };
        let mut nodes: Vec<Node<'_>> = args.iter().map(Node::new).collect();
        if match_args(words, &mut nodes) != words.len() {
            return String::new();
        }
        let mut hint = String::new();
        hint_for_args(&mut hint, &mut nodes, " ");
        let trimmed = hint.trim_end_matches(' ').len();
        hint.truncate(trimmed);
        hint
    }
}

/// The help of every command the server documents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelpTable {
    /// Sorted by full name.
    pub commands: Vec<CommandHelp>,
    /// Sorted group names, without the `@`.
    pub groups: Vec<String>,
}

impl HelpTable {
    /// Builds the table from a `COMMAND DOCS` reply (a RESP3 map or a RESP2
    /// flat array of name / docs pairs). `None` for anything else, such as an
    /// error reply.
    pub fn from_command_docs(reply: &Frame) -> Option<HelpTable> {
        let mut commands = Vec::new();
        for (name, docs) in pairs(reply)? {
            let name = text(name)?;
            add_command_docs(&mut commands, &name, None, docs);
        }
        Some(HelpTable::with_commands(commands))
    }

    /// A table with the names only, from a `COMMAND` (`COMMAND INFO`) reply,
    /// for servers without `COMMAND DOCS`. As `redis-cli` does, the synopsis
    /// is made up from the arity: `key arg arg ...options...`.
    pub fn from_command_info(reply: &Frame) -> Option<HelpTable> {
        let mut commands = Vec::new();
        for entry in items(reply)? {
            let fields = items(entry)?;
            let (Some(name), Some(Frame::Integer(arity)), Some(Frame::Integer(first_key))) =
                (fields.first().and_then(text), fields.get(1), fields.get(3))
            else {
                continue;
            };
            let mut params = String::new();
            let mut nargs = arity.unsigned_abs().saturating_sub(1);
            if *first_key == 1 && nargs > 0 {
                params.push_str("key ");
                nargs -= 1;
            }
            for _ in 0..nargs {
                params.push_str("arg ");
            }
            if *arity < 0 {
                params.push_str("...options...");
            }
            let upper = name.to_uppercase();
            commands.push(CommandHelp {
                words: vec![upper.clone()],
                full: upper,
                summary: "Help not available".to_owned(),
                since: Some("Not known".to_owned()),
                group: "generic".to_owned(),
                args: None,
                params: params.trim_end().to_owned(),
            });
        }
        Some(HelpTable::with_commands(commands))
    }

    /// A table of the given entries.
    pub fn with_commands(mut commands: Vec<CommandHelp>) -> HelpTable {
        commands.sort_by(|a, b| a.full.cmp(&b.full));
        let mut groups: Vec<String> = commands.iter().map(|c| c.group.clone()).collect();
        groups.sort();
        groups.dedup();
        HelpTable { commands, groups }
    }

    /// The entry naming the longest prefix of `words`.
    pub fn find(&self, words: &[Vec<u8>]) -> Option<&CommandHelp> {
        let mut best: Option<&CommandHelp> = None;
        for entry in &self.commands {
            let n = entry.words.len();
            if n > words.len() || best.is_some_and(|b| b.words.len() >= n) {
                continue;
            }
            let matches = entry
                .words
                .iter()
                .zip(words)
                .all(|(w, typed)| w.as_bytes().eq_ignore_ascii_case(typed));
            if matches {
                best = Some(entry);
            }
        }
        best
    }

    /// The hint for a partly typed line, without the leading space that
    /// separates it from the line; `None` when there is nothing to show.
    ///
    /// The last word counts only once a blank follows it, so the hint for
    /// `SET key value EX` is the same as for `SET key value `.
    pub fn hint_for_input(&self, line: &str) -> Option<String> {
        let words = split_args(line.as_bytes())?;
        let ends_with_space = line.as_bytes().last().is_some_and(|&c| is_space(c));
        let complete = if ends_with_space {
            words.len()
        } else {
            words.len().checked_sub(1)?
        };
        let words = &words[..complete];
        let entry = self.find(words)?;
        let hint = entry.hint_after(&words[entry.words.len()..]);
        (!hint.is_empty()).then_some(hint)
    }

    /// Tab completion: every command (and, after `help `, every `@group`)
    /// whose name starts with the line, as the whole new line.
    pub fn completions(&self, line: &str) -> Vec<String> {
        let is_help = line.len() >= 5 && line.as_bytes()[..5].eq_ignore_ascii_case(b"help ");
        let start = if is_help {
            5 + line[5..].bytes().take_while(|&c| is_space(c)).count()
        } else {
            0
        };
        let (head, typed) = line.split_at(start);
        let starts = |name: &str| {
            name.len() >= typed.len()
                && name.as_bytes()[..typed.len()].eq_ignore_ascii_case(typed.as_bytes())
        };
        let mut out: Vec<String> = self
            .commands
            .iter()
            .map(|c| c.full.clone())
            .filter(|name| starts(name))
            .map(|name| format!("{head}{name}"))
            .collect();
        if is_help {
            out.extend(
                self.groups
                    .iter()
                    .map(|g| format!("@{g}"))
                    .filter(|name| starts(name))
                    .map(|name| format!("{head}{name}")),
            );
        }
        out
    }

    /// The text of `help <args...>`: every command whose name starts with
    /// the given words, or every command of `@group`.
    pub fn help_text(&self, args: &[Vec<u8>]) -> String {
        let mut out = String::new();
        if let Some(group) = args.first().and_then(|a| a.strip_prefix(b"@")) {
            for c in &self.commands {
                if c.group.as_bytes().eq_ignore_ascii_case(group) {
                    push_command_help(&mut out, c, false);
                }
            }
        } else {
            for c in &self.commands {
                if args.len() <= c.words.len()
                    && args
                        .iter()
                        .zip(&c.words)
                        .all(|(a, w)| a.eq_ignore_ascii_case(w.as_bytes()))
                {
                    push_command_help(&mut out, c, true);
                }
            }
        }
        out.push_str("\r\n");
        out
    }
}

fn push_command_help(out: &mut String, c: &CommandHelp, with_group: bool) {
    out.push_str(&format!(
        "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n",
        c.full, c.params
    ));
    out.push_str(&format!("  \x1b[33msummary:\x1b[0m {}\r\n", c.summary));
    if let Some(since) = &c.since {
        out.push_str(&format!("  \x1b[33msince:\x1b[0m {since}\r\n"));
    }
    if with_group {
        out.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\r\n", c.group));
    }
}

/// Adds the entry for `name` (and for `sub`command of it) from its docs map,
/// then its subcommands.
fn add_command_docs(out: &mut Vec<CommandHelp>, name: &str, sub: Option<&str>, docs: &Frame) {
    let mut words = vec![name.to_uppercase()];
    if let Some(sub) = sub {
        // Subcommands are named `container|sub`.
        let own = sub.rsplit('|').next().unwrap_or(sub);
        words.push(own.to_uppercase());
    }
    let mut help = CommandHelp {
        full: words.join(" "),
        words,
        summary: String::new(),
        since: None,
        group: String::new(),
        args: None,
        params: String::new(),
    };
    let mut subcommands = Vec::new();
    for (key, value) in pairs(docs).unwrap_or_default() {
        match text(key).as_deref() {
            Some("summary") => help.summary = text(value).unwrap_or_default(),
            Some("since") => help.since = text(value),
            Some("group") => help.group = text(value).unwrap_or_default(),
            Some("arguments") => {
                let args = items(value)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(ArgSpec::from_frame)
                    .collect();
                help.args = Some(args);
            }
            Some("subcommands") => subcommands = pairs(value).unwrap_or_default(),
            _ => {}
        }
    }
    if help.args.is_some() {
        help.params = help.hint_after(&[]);
    }
    out.push(help);
    for (sub_name, sub_docs) in subcommands {
        if let Some(sub_name) = text(sub_name) {
            add_command_docs(out, name, Some(&sub_name), sub_docs);
        }
    }
}

/// The elements of an aggregate.
fn items(frame: &Frame) -> Option<&[Frame]> {
    match frame {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Some(v),
        Frame::Attribute { frame, .. } => items(frame),
        _ => None,
    }
}

/// The key/value pairs of a RESP3 map, or of a RESP2 flat array.
fn pairs(frame: &Frame) -> Option<Vec<(&Frame, &Frame)>> {
    match frame {
        Frame::Map(p) => Some(p.iter().map(|(k, v)| (k, v)).collect()),
        Frame::Array(v) if v.len() % 2 == 0 => {
            Some(v.chunks(2).map(|kv| (&kv[0], &kv[1])).collect())
        }
        Frame::Attribute { frame, .. } => pairs(frame),
        _ => None,
    }
}

fn text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Frame::Verbatim { text, .. } => Some(String::from_utf8_lossy(text).into_owned()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Matching typed words against an argument tree.

/// Match state of one argument while computing a hint.
#[derive(Debug)]
struct Node<'a> {
    spec: &'a ArgSpec,
    /// How many words this argument consumed (its token included).
    matched: usize,
    matched_token: bool,
    matched_name: bool,
    /// Nothing of this argument is left to type.
    matched_all: bool,
    sub: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    fn new(spec: &'a ArgSpec) -> Node<'a> {
        Node {
            spec,
            matched: 0,
            matched_token: false,
            matched_name: false,
            matched_all: false,
            sub: spec.args.iter().map(Node::new).collect(),
        }
    }

    fn clear(&mut self) {
        self.matched = 0;
        self.matched_token = false;
        self.matched_name = false;
        self.matched_all = false;
        for s in &mut self.sub {
            s.clear();
        }
    }
}

/// What `sscanf("%lld")` accepts: optional blanks and sign, then a digit.
fn looks_integer(word: &[u8]) -> bool {
    let mut w = word;
    while let [c, rest @ ..] = w {
        if !is_space(*c) {
            break;
        }
        w = rest;
    }
    if let [b'+' | b'-', rest @ ..] = w {
        w = rest;
    }
    w.first().is_some_and(u8::is_ascii_digit)
}

/// What `sscanf("%lf")` accepts: optional blanks and sign, then a digit, a
/// `.` and a digit, or `inf` / `nan`.
fn looks_double(word: &[u8]) -> bool {
    let mut w = word;
    while let [c, rest @ ..] = w {
        if !is_space(*c) {
            break;
        }
        w = rest;
    }
    if let [b'+' | b'-', rest @ ..] = w {
        w = rest;
    }
    match w {
        [d, ..] if d.is_ascii_digit() => true,
        [b'.', d, ..] if d.is_ascii_digit() => true,
        _ => {
            w.len() >= 3
                && (w[..3].eq_ignore_ascii_case(b"inf") || w[..3].eq_ignore_ascii_case(b"nan"))
        }
    }
}

/// Matches the words against the argument itself (its token already
/// consumed); returns the words it now accounts for.
fn match_no_token(words: &[Vec<u8>], node: &mut Node<'_>) -> usize {
    match node.spec.kind {
        ArgKind::Block => {
            node.matched += match_args(words, &mut node.sub);
            // A block is complete when all its parts are.
            node.matched_all = node.sub.iter().all(|s| s.matched_all);
        }
        ArgKind::OneOf => {
            for i in 0..node.sub.len() {
                if match_arg(words, &mut node.sub[i]) != 0 {
                    node.matched += node.sub[i].matched;
                    node.matched_all = node.sub[i].matched_all;
                    break;
                }
            }
        }
        ArgKind::Integer | ArgKind::UnixTime | ArgKind::Double => {
            let ok = words.first().is_some_and(|w| {
                if node.spec.kind == ArgKind::Double {
                    looks_double(w)
                } else {
                    looks_integer(w)
                }
            });
            if ok {
                node.matched += 1;
                node.matched_name = true;
                node.matched_all = true;
            } else {
                // A word of the wrong type: no match.
                node.matched = 0;
                node.matched_name = false;
            }
        }
        _ => {
            if !words.is_empty() {
                node.matched += 1;
                node.matched_name = true;
                node.matched_all = true;
            }
        }
    }
    node.matched
}

/// Matches one occurrence of the argument, token first.
fn match_arg_once(words: &[Vec<u8>], node: &mut Node<'_>) -> usize {
    let mut words = words;
    if let Some(token) = &node.spec.token {
        let Some(first) = words.first() else {
            return 0;
        };
        if !token.as_bytes().eq_ignore_ascii_case(first) {
            return 0;
        }
        node.matched_token = true;
        node.matched = 1;
        if node.spec.kind == ArgKind::PureToken {
            node.matched_all = true;
            return 1;
        }
        if words.len() == 1 {
            return 1;
        }
        words = &words[1..];
    }
    if match_no_token(words, node) == 0 {
        return 0;
    }
    node.matched
}

/// Matches the argument, as many times as the words allow if it repeats.
fn match_arg(words: &[Vec<u8>], node: &mut Node<'_>) -> usize {
    let once = match_arg_once(words, node);
    if !node.spec.multiple {
        return once;
    }
    let mut used = once;
    while node.matched_all && used < words.len() {
        node.clear();
        let more = if node.spec.token.is_some() && !node.spec.multiple_token {
            // The token is only given before the first occurrence.
            let n = match_no_token(&words[used..], node);
            if node.matched > 0 {
                node.matched_token = true;
            }
            n
        } else {
            match_arg_once(&words[used..], node)
        };
        used += more;
    }
    // More occurrences may follow.
    node.matched_all = false;
    used
}

/// Matches the next words against one of a run of optional arguments not
/// matched yet; returns the words used and which argument took them.
fn match_one_optional(words: &[Vec<u8>], nodes: &mut [Node<'_>]) -> Option<(usize, usize)> {
    for (i, node) in nodes.iter_mut().enumerate() {
        if node.matched != 0 {
            continue;
        }
        let used = match_arg(words, node);
        if used != 0 {
            return Some((used, i));
        }
    }
    None
}

/// Matches as many words as possible against a run of optional arguments,
/// which may come in any order.
fn match_optional_args(words: &[Vec<u8>], nodes: &mut [Node<'_>]) -> usize {
    let mut next = 0;
    let mut last: Option<usize> = None;
    while next != words.len() {
        let Some((used, i)) = match_one_optional(&words[next..], nodes) else {
            break;
        };
        // Starting another optional argument completes the previous one.
        if let Some(l) = last {
            nodes[l].matched_all = true;
        }
        last = Some(i);
        next += used;
    }
    next
}

/// Matches the words against a list of arguments; returns how many words
/// fit (0 when a required argument does not).
fn match_args(words: &[Vec<u8>], nodes: &mut [Node<'_>]) -> usize {
    let mut next_word = 0;
    let mut next_arg = 0;
    while next_word != words.len() && next_arg != nodes.len() {
        let used = if nodes[next_arg].spec.optional {
            let end = nodes[next_arg..]
                .iter()
                .position(|n| !n.spec.optional)
                .map_or(nodes.len(), |p| next_arg + p);
            let used = match_optional_args(&words[next_word..], &mut nodes[next_arg..end]);
            next_arg = end;
            used
        } else {
            let used = match_arg(&words[next_word..], &mut nodes[next_arg]);
            if used == 0 {
                return 0;
            }
            next_arg += 1;
            used
        };
        next_word += used;
    }
    next_word
}

// ---------------------------------------------------------------------------
// Rendering what is left to type.

fn push_or_empty(hint: &mut String, s: &str) {
    if s.is_empty() {
        hint.push_str("\"\"");
    } else {
        hint.push_str(s);
    }
}

/// Adds `separator` if something was added since `*len`, unless `is_last`.
fn add_separator(hint: &mut String, len: &mut usize, separator: &str, is_last: bool) {
    if hint.len() > *len && !is_last {
        hint.push_str(separator);
        *len = hint.len();
    }
}

/// The hint for a list of arguments. Of a run of optional arguments, one
/// that has been started is shown first (only its missing part); the others
/// are shown unless a required argument after the run has been matched.
fn hint_for_args(hint: &mut String, nodes: &mut [Node<'_>], separator: &str) {
    let n = nodes.len();
    let mut len = hint.len();
    let mut i = 0;
    while i < n {
        if !nodes[i].spec.optional {
            hint_for_arg(hint, &mut nodes[i]);
            add_separator(hint, &mut len, separator, i == n - 1);
            i += 1;
            continue;
        }
        let mut j = i;
        let mut incomplete = None;
        while j < n && nodes[j].spec.optional {
            if nodes[j].matched != 0 && !nodes[j].matched_all {
                hint_for_arg(hint, &mut nodes[j]);
                add_separator(hint, &mut len, separator, i == n - 1);
                incomplete = Some(j);
            }
            j += 1;
        }
        if j == n || nodes[j].matched == 0 {
            while i < j {
                if incomplete != Some(i) {
                    hint_for_arg(hint, &mut nodes[i]);
                    add_separator(hint, &mut len, separator, i == n - 1);
                }
                i += 1;
            }
        }
        i = j;
    }
}

/// The repeated part of a `multiple` argument: ` [name ...]`.
fn hint_for_repetition(hint: &mut String, node: &mut Node<'_>) {
    if !node.spec.multiple {
        return;
    }
    node.clear();
    if !hint.is_empty() {
        hint.push(' ');
    }
    hint.push('[');
    if node.spec.multiple_token {
        if let Some(token) = &node.spec.token {
            push_or_empty(hint, token);
            if node.spec.kind != ArgKind::PureToken {
                hint.push(' ');
            }
        }
    }
    match node.spec.kind {
        ArgKind::OneOf => hint_for_args(hint, &mut node.sub, "|"),
        ArgKind::Block => hint_for_args(hint, &mut node.sub, " "),
        ArgKind::PureToken => {}
        _ => push_or_empty(hint, node.spec.label()),
    }
    hint.push_str(" ...]");
}

/// The hint for one argument, skipping what has been typed.
fn hint_for_arg(hint: &mut String, node: &mut Node<'_>) {
    if node.matched_all {
        return;
    }
    let bracket = node.spec.optional && node.matched == 0;
    if bracket {
        hint.push('[');
    }
    if let Some(token) = &node.spec.token {
        if !node.matched_token {
            push_or_empty(hint, token);
            if node.spec.kind != ArgKind::PureToken {
                hint.push(' ');
            }
        }
    }
    match node.spec.kind {
        ArgKind::OneOf => {
            if node.matched == 0 {
                hint_for_args(hint, &mut node.sub, "|");
            } else {
                for sub in node.sub.iter_mut().filter(|s| s.matched != 0) {
                    hint_for_arg(hint, sub);
                }
            }
        }
        ArgKind::Block => hint_for_args(hint, &mut node.sub, " "),
        ArgKind::PureToken => {}
        _ => {
            if !node.matched_name {
                push_or_empty(hint, node.spec.label());
            }
        }
    }
    hint_for_repetition(hint, node);
    if bracket {
        hint.push(']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use resp::FrameDecoder;

    /// `COMMAND DOCS` of a few commands, as a Redis 7 server sends it in
    /// RESP2.
    const DOCS_RESP2: &[u8] = include_bytes!("../tests/fixtures/command_docs_resp2.bin");

    fn table() -> HelpTable {
        let mut buf = BytesMut::from(DOCS_RESP2);
        let frame = FrameDecoder::new().decode(&mut buf).unwrap().unwrap();
        assert!(buf.is_empty());
        HelpTable::from_command_docs(&frame).unwrap()
    }

    fn hint(t: &HelpTable, input: &str) -> String {
        t.hint_for_input(input).unwrap_or_default()
    }

    #[test]
    fn synopsis_from_the_docs_tree() {
        let t = table();
        let set = t.find(&[b"set".to_vec()]).unwrap();
        assert_eq!(
            set.params,
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"
        );
        assert_eq!(set.summary, "Set the string value of a key");
        assert_eq!(set.group, "string");
        assert_eq!(set.since.as_deref(), Some("1.0.0"));
        let mget = t.find(&[b"MGET".to_vec()]).unwrap();
        assert_eq!(mget.params, "key [key ...]");
        let migrate = t.find(&[b"migrate".to_vec()]).unwrap();
        assert_eq!(
            migrate.params,
            "host port key|\"\" destination-db timeout [COPY] [REPLACE] [[AUTH password]|[AUTH2 username password]] [KEYS key [key ...]]"
        );
    }

    #[test]
    fn subcommands_get_their_own_entries() {
        let t = table();
        let e = t.find(&[b"config".to_vec(), b"get".to_vec()]).unwrap();
        assert_eq!(e.full, "CONFIG GET");
        assert_eq!(e.params, "parameter [parameter ...]");
        let container = t.find(&[b"config".to_vec()]).unwrap();
        assert_eq!(container.full, "CONFIG");
        assert!(t.groups.contains(&"string".to_owned()));
        assert!(t.groups.contains(&"server".to_owned()));
    }

    #[test]
    fn hint_needs_a_blank_after_the_command() {
        let t = table();
        assert_eq!(t.hint_for_input("SET"), None);
        assert_eq!(t.hint_for_input(""), None);
        assert_eq!(
            hint(&t, "set "),
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"
        );
        assert_eq!(t.hint_for_input("nosuchcommand "), None);
        assert_eq!(t.hint_for_input("set \"unterminated "), None);
    }

    /// The cases of redis-cli's own hint test suite.
    #[test]
    fn hint_suite() {
        let t = table();
        let cases: &[(&str, &str)] = &[
            ("GET ", "key"),
            ("GET abc ", ""),
            ("DECRBY xyz 2 ", ""),
            ("DECRBY xyz ", "decrement"),
            ("DECRBY ", "key decrement"),
            ("LPOP key ", "[count]"),
            ("LPOP key 3 ", ""),
            ("XRANGE ", "key start end [COUNT count]"),
            ("XRANGE k 4 2 ", "[COUNT count]"),
            ("XRANGE k 4 2 COU", "[COUNT count]"),
            ("XRANGE k 4 2 COUNT", "[COUNT count]"),
            ("XRANGE k 4 2 COUNT ", "count"),
            // The fixture has Redis 7.0's docs, where the GET block of
            // BITFIELD_RO is optional (7.2 made it required).
            ("BITFIELD_RO k ", "[GET encoding offset [GET encoding offset ...]]"),
            ("BITFIELD_RO k GE", "[GET encoding offset [GET encoding offset ...]]"),
            ("BITFIELD_RO k GET", "[GET encoding offset [GET encoding offset ...]]"),
            ("BITFIELD_RO k GET ", "encoding offset [GET encoding offset ...]"),
            ("BITFIELD_RO k GET xyz ", "offset [GET encoding offset ...]"),
            ("BITFIELD_RO k GET xyz 12 ", "[GET encoding offset ...]"),
            ("BITFIELD_RO k GET xyz 12 GET ", "encoding offset [GET encoding offset ...]"),
            ("BITFIELD_RO k GET enc1 12 GET enc2 ", "offset [GET encoding offset ...]"),
            ("BITFIELD_RO k GET enc1 12 GET enc2 34 ", "[GET encoding offset ...]"),
            ("CONFIG SET param ", "value [parameter value ...]"),
            ("CONFIG SET param val ", "[parameter value ...]"),
            ("CONFIG SET param val parm2 val2 ", "[parameter value ...]"),
            ("ZRANDMEMBER k ", "[count [WITHSCORES]]"),
            ("ZRANDMEMBER k 3 ", "[WITHSCORES]"),
            ("ZRANDMEMBER k 3 WI", "[WITHSCORES]"),
            ("ZRANDMEMBER k 3 WITHSCORES ", ""),
            ("ZRANDMEMBER k cnt ", ""),
            ("MGET ", "key [key ...]"),
            ("MGET k ", "[key ...]"),
            ("MGET k k ", "[key ...]"),
            ("SCAN 2 MATCH ", "pattern [COUNT count] [TYPE type]"),
            ("SCAN 2 COUNT ", "count [MATCH pattern] [TYPE type]"),
            ("BLMOVE src dst LEFT ", "LEFT|RIGHT timeout"),
            ("ZRANGE k 1 2 ", "[BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"),
            ("ZRANGE k 1 2 bylex ", "[REV] [LIMIT offset count] [WITHSCORES]"),
            ("ZRANGE k 1 2 bylex rev ", "[LIMIT offset count] [WITHSCORES]"),
            ("ZRANGE k 1 2 limit 2 4 ", "[BYSCORE|BYLEX] [REV] [WITHSCORES]"),
            ("ZRANGE k 1 2 bylex rev limit 2 4 WITHSCORES ", ""),
            ("ZRANGE k 1 2 rev ", "[BYSCORE|BYLEX] [LIMIT offset count] [WITHSCORES]"),
            ("ZRANGE k 1 2 WITHSCORES ", "[BYSCORE|BYLEX] [REV] [LIMIT offset count]"),
            (
                "SET key value ",
                "[NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
            ),
            (
                "SET key value EX",
                "[NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
            ),
            ("SET key value EX ", "seconds [NX|XX] [GET]"),
            ("SET key value EXAT ", "unix-time-seconds [NX|XX] [GET]"),
            ("SET key value PX ", "milliseconds [NX|XX] [GET]"),
            ("SET key value PXAT ", "unix-time-milliseconds [NX|XX] [GET]"),
            ("SET key value KEEPTTL ", "[NX|XX] [GET]"),
            (
                "SET key value XX ",
                "[GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
            ),
            ("SET key value FOOBAR ", ""),
            (
                "GEORADIUS key ",
                "longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]",
            ),
            (
                "GEORADIUS key 1 2 3 M ",
                "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]",
            ),
            (
                "GEORADIUS key 1 2 3 M COUNT ",
                "count [ANY] [WITHCOORD] [WITHDIST] [WITHHASH] [ASC|DESC] [STORE key] [STOREDIST key]",
            ),
            (
                "GEORADIUS key 1 2 3 M COUNT 12 ",
                "[ANY] [WITHCOORD] [WITHDIST] [WITHHASH] [ASC|DESC] [STORE key] [STOREDIST key]",
            ),
            (
                "GEORADIUS key 1 -2.345 3 M COUNT 12 ",
                "[ANY] [WITHCOORD] [WITHDIST] [WITHHASH] [ASC|DESC] [STORE key] [STOREDIST key]",
            ),
            ("GEORADIUS key 1 X ", ""),
            (
                "GEORADIUS key 1 2 3 M COUNT 12 ASC ",
                "[WITHCOORD] [WITHDIST] [WITHHASH] [STORE key] [STOREDIST key]",
            ),
            ("ZADD key ", "[NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"),
            ("ZADD key CH LT ", "[NX|XX] [INCR] score member [score member ...]"),
            ("ZADD key 0 ", "member [score member ...]"),
        ];
        let mut failures = Vec::new();
        for (input, expected) in cases {
            let got = hint(&t, input);
            if got != *expected {
                failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn hints_are_case_insensitive() {
        let t = table();
        assert_eq!(hint(&t, "set k v px "), "milliseconds [NX|XX] [GET]");
        assert_eq!(
            hint(&t, "config set "),
            "parameter value [parameter value ...]"
        );
    }

    #[test]
    fn commands_without_arguments() {
        let t = table();
        assert_eq!(t.hint_for_input("DBSIZE "), None);
        assert_eq!(hint(&t, "PING "), "[message]");
    }

    #[test]
    fn hand_built_tree() {
        // SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]
        let args = vec![
            ArgSpec::new("key", ArgKind::Key),
            ArgSpec::new("pattern", ArgKind::Pattern)
                .with_token("BY")
                .optional(),
            ArgSpec::group(
                "limit",
                ArgKind::Block,
                vec![
                    ArgSpec::new("offset", ArgKind::Integer),
                    ArgSpec::new("count", ArgKind::Integer),
                ],
            )
            .with_token("LIMIT")
            .optional(),
            ArgSpec::new("pattern", ArgKind::Pattern)
                .with_token("GET")
                .optional()
                .multiple()
                .multiple_token(),
            ArgSpec::group(
                "order",
                ArgKind::OneOf,
                vec![ArgSpec::token("ASC"), ArgSpec::token("DESC")],
            )
            .optional(),
            ArgSpec::token("ALPHA").optional(),
            ArgSpec::new("destination", ArgKind::Key)
                .with_token("STORE")
                .optional(),
        ];
        let sort = CommandHelp::new("sort", args);
        assert_eq!(
            sort.params,
            "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]"
        );
        let t = HelpTable::with_commands(vec![sort]);
        assert_eq!(
            hint(&t, "sort k alpha "),
            "[BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [STORE destination]"
        );
        assert_eq!(
            hint(&t, "sort k GET p "),
            "[GET pattern ...] [BY pattern] [LIMIT offset count] [ASC|DESC] [ALPHA] [STORE destination]"
        );
        assert_eq!(hint(&t, "sort k limit 0 "), "count [BY pattern] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]");
        assert_eq!(hint(&t, "sort k limit x "), "");
    }

    #[test]
    fn display_text_and_empty_tokens() {
        let mut arg = ArgSpec::new("unix-time-seconds", ArgKind::UnixTime);
        arg.display = Some("timestamp".to_owned());
        let empty = ArgSpec::token("");
        let c = CommandHelp::new("demo", vec![arg, empty.optional()]);
        assert_eq!(c.params, "timestamp [\"\"]");
    }

    #[test]
    fn completion_of_command_names() {
        let t = table();
        assert_eq!(t.completions("mg"), ["MGET"]);
        assert_eq!(t.completions("ZRA"), ["ZRANDMEMBER", "ZRANGE"]);
        let config = t.completions("config s");
        assert!(config.contains(&"CONFIG SET".to_owned()), "{config:?}");
        assert!(t.completions("nosuch").is_empty());
        assert_eq!(t.completions("help  mg"), ["help  MGET"]);
        assert_eq!(t.completions("help @str"), ["help @stream", "help @string"]);
        assert_eq!(t.completions("help @stri"), ["help @string"]);
    }

    #[test]
    fn help_output() {
        let t = table();
        let text = t.help_text(&[b"get".to_vec()]);
        assert!(
            text.contains("\x1b[1mGET\x1b[0m \x1b[90mkey\x1b[0m"),
            "{text:?}"
        );
        assert!(
            text.contains("summary:\x1b[0m Get the value of a key"),
            "{text:?}"
        );
        assert!(text.contains("group:\x1b[0m string"), "{text:?}");
        let group = t.help_text(&[b"@string".to_vec()]);
        assert!(group.contains("SET") && group.contains("DECRBY") && !group.contains("group:"));
        let config = t.help_text(&[b"config".to_vec()]);
        assert!(config.contains("CONFIG GET") && config.contains("CONFIG SET"));
    }

    #[test]
    fn legacy_table_from_command_info() {
        use bytes::Bytes;
        let b = |s: &'static str| Frame::Bulk(Bytes::from_static(s.as_bytes()));
        let reply = Frame::Array(vec![
            Frame::Array(vec![
                b("get"),
                Frame::Integer(2),
                Frame::Array(vec![]),
                Frame::Integer(1),
            ]),
            Frame::Array(vec![
                b("mset"),
                Frame::Integer(-3),
                Frame::Array(vec![]),
                Frame::Integer(1),
            ]),
        ]);
        let t = HelpTable::from_command_info(&reply).unwrap();
        assert_eq!(hint(&t, "get "), "key");
        assert_eq!(hint(&t, "mset "), "key arg ...options...");
        assert_eq!(t.hint_for_input("mset k "), None);
    }

    #[test]
    fn type_checks() {
        assert!(looks_integer(b"12"));
        assert!(looks_integer(b"-1x"));
        assert!(!looks_integer(b"x1"));
        assert!(!looks_integer(b"-"));
        assert!(looks_double(b"-2.345"));
        assert!(looks_double(b".5"));
        assert!(looks_double(b"inf"));
        assert!(looks_double(b"-NaN"));
        assert!(!looks_double(b"X"));
        assert!(!looks_double(b"."));
    }
}
