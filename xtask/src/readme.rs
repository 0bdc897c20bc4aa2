//! `cargo xtask commands`: the supported commands, grouped as Redis groups
//! them, with each command's summary from the registry, written into
//! README.md between `<!-- commands:start -->` and `<!-- commands:end -->`.

use std::fmt::Write as _;

use anyhow::{Context, Result};

const START: &str = "<!-- commands:start -->";
const END: &str = "<!-- commands:end -->";

/// Redis's groups in the order the list shows them, with their titles.
const GROUPS: &[(&str, &str)] = &[
    ("string", "Strings"),
    ("generic", "Keys (generic)"),
    ("connection", "Connection"),
    ("server", "Server"),
    ("list", "Lists"),
    ("hash", "Hashes"),
    ("set", "Sets"),
    ("sorted_set", "Sorted sets"),
    ("stream", "Streams"),
    ("bitmap", "Bitmaps"),
    ("hyperloglog", "HyperLogLog"),
    ("geo", "Geospatial"),
    ("pubsub", "Pub/Sub"),
    ("transactions", "Transactions"),
    ("scripting", "Scripting and functions"),
    ("cluster", "Cluster"),
    ("sentinel", "Sentinel"),
];

/// The Markdown list of every registered command.
pub fn render() -> String {
    let reg = commands::init();
    // (group, name, summary), subcommands as "CONFIG GET".
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for e in reg.entries() {
        if e.subcommands.is_empty() {
            rows.push((
                e.spec().group.to_string(),
                e.spec().name.to_uppercase(),
                e.cmd.summary.to_string(),
            ));
        }
        for s in &e.subcommands {
            rows.push((
                s.spec().group.to_string(),
                format!(
                    "{} {}",
                    e.spec().name.to_uppercase(),
                    s.spec().name.to_uppercase()
                ),
                s.cmd.summary.to_string(),
            ));
        }
    }
    let mut order: Vec<String> = GROUPS.iter().map(|(g, _)| g.to_string()).collect();
    for (g, _, _) in &rows {
        if !order.contains(g) {
            order.push(g.clone());
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Ferrum supports {} commands and subcommands (this list is written by `cargo xtask commands`).",
        rows.len()
    );
    for g in &order {
        let mut in_group: Vec<&(String, String, String)> =
            rows.iter().filter(|r| &r.0 == g).collect();
        if in_group.is_empty() {
            continue;
        }
        in_group.sort_by(|a, b| a.1.cmp(&b.1));
        let title = GROUPS
            .iter()
            .find(|(n, _)| n == g)
            .map_or(g.as_str(), |(_, t)| t);
        let _ = writeln!(out, "\n#### {title} ({})\n", in_group.len());
        out.push_str("| Command | Summary |\n|---|---|\n");
        for (_, name, summary) in in_group {
            let _ = writeln!(out, "| `{name}` | {} |", summary.replace('|', "\\|"));
        }
    }
    out
}

/// Replaces the text between the markers; `None` when they are missing.
pub fn splice(readme: &str, list: &str) -> Option<String> {
    let s = readme.find(START)?;
    let e = readme[s..].find(END)? + s;
    Some(format!(
        "{}{START}\n{list}{END}{}",
        &readme[..s],
        &readme[e + END.len()..]
    ))
}

/// Writes the list into README.md (or checks that it is current).
pub fn run(check: bool) -> Result<bool> {
    let path = crate::workspace_root().join("README.md");
    let list = render();
    let readme = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let Some(new) = readme.as_deref().and_then(|r| splice(r, &list)) else {
        println!("{list}");
        println!(
            "note: README.md has no `{START}` ... `{END}` markers; the list above was not written"
        );
        return Ok(!check);
    };
    if readme.as_deref() == Some(new.as_str()) {
        println!("README.md: the command list is up to date");
        return Ok(true);
    }
    if check {
        println!("README.md: the command list is out of date: run `cargo xtask commands`");
        return Ok(false);
    }
    std::fs::write(&path, new).with_context(|| format!("writing {}", path.display()))?;
    println!("README.md: command list written");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_between_markers() {
        let r = "intro\n<!-- commands:start -->\nold\n<!-- commands:end -->\noutro\n";
        assert_eq!(
            splice(r, "new\n").unwrap(),
            "intro\n<!-- commands:start -->\nnew\n<!-- commands:end -->\noutro\n"
        );
        assert!(splice("no markers", "x").is_none());
        let list = render();
        assert!(list.contains("`GET`"), "{list}");
    }
}
