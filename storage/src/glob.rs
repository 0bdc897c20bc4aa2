//! Glob-style pattern matching with Redis's exact rules (KEYS, SCAN MATCH,
//! PSUBSCRIBE, CONFIG GET): `*`, `?`, `[...]` classes with `^` negation and
//! `a-z` ranges, and `\` escapes.

/// True when `string` matches `pattern`, exactly as Redis's `stringmatchlen`.
///
/// Note that, as in Redis, the pattern `*` does not match the empty string
/// here; KEYS and SCAN treat a lone `*` as "everything" before matching, and
/// so should their callers (it is also the fast path).
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    matches(pattern, string, nocase, &mut skip_longer, 0)
}

/// Reads byte `i` of the pattern, or 0 past its end: Redis's patterns are
/// NUL-terminated and its matcher relies on that when it peeks ahead.
fn at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn matches(p: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    // Deeply nested stars would make the matcher exponential; Redis gives up.
    if nesting > 1000 {
        return false;
    }
    let (mut pi, mut si) = (0usize, 0usize);
    while pi < p.len() && si < s.len() {
        match p[pi] {
            b'*' => {
                while pi + 1 < p.len() && p[pi + 1] == b'*' {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return true;
                }
                while si < s.len() {
                    if matches(&p[pi + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                // The rest of the pattern cannot match any suffix: no longer
                // string can do better, so the callers stop trying.
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                pi += 1;
                let not = at(p, pi) == b'^';
                if not {
                    pi += 1;
                }
                let mut matched = false;
                loop {
                    let remaining = p.len().saturating_sub(pi);
                    if at(p, pi) == b'\\' && remaining >= 2 {
                        pi += 1;
                        if eq(p[pi], s[si], nocase) {
                            matched = true;
                        }
                    } else if at(p, pi) == b']' {
                        break;
                    } else if remaining == 0 {
                        // Unterminated class: step back so the outer advance
                        // lands exactly on the end of the pattern.
                        pi -= 1;
                        break;
                    } else if remaining >= 3 && p[pi + 1] == b'-' {
                        let (mut start, mut end) = (p[pi], p[pi + 2]);
                        let mut c = s[si];
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = start.to_ascii_lowercase();
                            end = end.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        pi += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(p[pi], s[si], nocase) {
                        matched = true;
                    }
                    pi += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            c => {
                let c = if c == b'\\' && p.len() - pi >= 2 {
                    pi += 1;
                    p[pi]
                } else {
                    c
                };
                if !eq(c, s[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
        if si == s.len() {
            while at(p, pi) == b'*' {
                pi += 1;
            }
            break;
        }
    }
    pi >= p.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        // Redis's matcher needs at least one character to enter its loop.
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("a**", "a"));
        assert!(m("[\\]]", "]"));
    }

    #[test]
    fn unterminated_class_matches_like_redis() {
        // "[a" behaves like a class containing 'a' that ends with the pattern.
        assert!(m("[a", "a"));
        assert!(!m("[a", "b"));
        assert!(!m("x[", "x"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HE*", b"hello", true));
        assert!(glob_match(b"[A-C]x", b"bx", true));
    }

    #[test]
    fn pathological_pattern_terminates() {
        let p = "a*".repeat(30) + "b";
        let s = "a".repeat(60);
        assert!(!m(&p, &s));
    }
}
