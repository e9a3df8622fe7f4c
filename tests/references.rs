//! Every citation in the repository resolves to an entry of its reference, and the fact
//! catalogue names only tests that exist.
//!
//! The references are `docs/FACTS.md` (the facts observed on Windows) and
//! `docs/NT_INTERNALS.md` (the NT internals notes the code follows). The scan covers every
//! file `git ls-files` lists (or, without git, every file under the repository root outside
//! `target/` and dot-directories) that is valid UTF-8: code, comments, docs, scenarios,
//! manifests.
//!
//! The matching rule, exactly:
//!
//! * A **fact citation** is `F` followed by one to three ASCII digits, where the character
//!   before the `F` and the character after the digits are not ASCII letters, digits or `_`.
//!   So `F42`, `(F4, F5)`, `F48's` and `F54–F56` (two citations, the ends of the range) are
//!   citations, while `0xF1`, `PF12`, `F1_KEY`, `f48_rights` and `F1234` are not. A fact
//!   citation resolves when `docs/FACTS.md` has a heading whose first word is `F<n>`
//!   (`### F42`).
//! * A **section citation** is `§` followed either by a number with optional `.number` parts
//!   (`§3`, `§3.1`; a final `.` ending a sentence is not part of it) or by one ASCII capital
//!   letter not followed by a letter, digit or `_` (`§K`).
//!   * A letter section is a group of the fact catalogue (`facts §K`): it resolves when
//!     `docs/FACTS.md` has a heading whose first word is `§<letter>`.
//!   * A numbered section belongs to the fact catalogue when the nearest reference name before
//!     it on the same line is the catalogue's (any word containing `facts`, case-insensitive:
//!     `windows_facts §1`, `FACTS.md §1`, `facts §1`), to the internals notes when that name
//!     is the notes' (any word containing `internals`: `nt_internals §3.1`,
//!     `NT_INTERNALS.md §3.1`), and otherwise (`§3.1` alone) to the document it is written in
//!     if that is `docs/FACTS.md`, else to the internals notes. It resolves when that document
//!     has a heading whose first word is `§<number>`.
//!
//! In the other direction, every `path::function` or `path` named in a "Checked by:"
//! paragraph of `docs/FACTS.md` must exist (the file, and `fn function` in it), and every
//! fact entry has such a paragraph.
#![allow(clippy::tests_outside_test_module)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const FACTS: &str = "docs/FACTS.md";
const INTERNALS: &str = "docs/NT_INTERNALS.md";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's files, relative to the root: `git ls-files`, or a walk without git.
fn repository_files() -> Vec<PathBuf> {
    let root = root();
    if let Ok(out) = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
    {
        if out.status.success() && !out.stdout.is_empty() {
            return out
                .stdout
                .split(|&b| b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
                .filter(|p| root.join(p).is_file())
                .collect();
        }
    }
    let mut files = Vec::new();
    walk(&root, Path::new(""), &mut files);
    files
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(root.join(rel)) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let path = rel.join(&*name);
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(root, &path, out);
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Which reference a citation points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Doc {
    Facts,
    Internals,
}

/// The citations of a line: the document each resolves in and its key (`F42`, `§3.1`, `§K`).
/// `home` is where a numbered `§` with no reference name before it points.
fn citations(line: &str, home: Doc) -> Vec<(Doc, String)> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let before_ok = i == 0 || !is_word(chars[i - 1].1);
        if c == 'F' && before_ok {
            let mut j = i + 1;
            while j < chars.len() && chars[j].1.is_ascii_digit() {
                j += 1;
            }
            let digits = j - i - 1;
            let after_ok = j == chars.len() || !is_word(chars[j].1);
            if (1..=3).contains(&digits) && after_ok {
                let n: String = chars[i + 1..j].iter().map(|&(_, c)| c).collect();
                found.push((Doc::Facts, format!("F{}", n.trim_start_matches('0'))));
                i = j;
                continue;
            }
        } else if c == '§' {
            let mut j = i + 1;
            if j < chars.len() && chars[j].1.is_ascii_digit() {
                // number(.number)*
                loop {
                    while j < chars.len() && chars[j].1.is_ascii_digit() {
                        j += 1;
                    }
                    if j + 1 < chars.len() && chars[j].1 == '.' && chars[j + 1].1.is_ascii_digit() {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let key: String = chars[i..j].iter().map(|&(_, c)| c).collect();
                found.push((numbered_doc(&line[..at], home), key));
                i = j;
                continue;
            }
            if j < chars.len()
                && chars[j].1.is_ascii_uppercase()
                && (j + 1 == chars.len() || !is_word(chars[j + 1].1))
            {
                found.push((Doc::Facts, format!("§{}", chars[j].1)));
                j += 1;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// The document a numbered `§` belongs to: the one named nearest before it on its line, or
/// `home` if neither is named.
fn numbered_doc(before: &str, home: Doc) -> Doc {
    let lower = before.to_ascii_lowercase();
    match (lower.rfind("facts"), lower.rfind("internals")) {
        (Some(f), Some(n)) => {
            if f > n {
                Doc::Facts
            } else {
                Doc::Internals
            }
        }
        (Some(_), None) => Doc::Facts,
        (None, Some(_)) => Doc::Internals,
        (None, None) => home,
    }
}

/// The keys of a reference: the first word of every markdown heading that is a citation.
fn entries(doc: &str) -> BTreeSet<String> {
    let text = fs::read_to_string(root().join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('#')?.trim_start_matches('#');
            let word = rest.split_whitespace().next()?;
            let word = word.trim_end_matches(':');
            let cited = citations(word, Doc::Facts);
            match cited.as_slice() {
                [(_, key)] if key == word => Some(key.clone()),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn every_citation_resolves_to_an_entry() {
    let facts = entries(FACTS);
    let internals = entries(INTERNALS);
    assert!(facts.contains("F48") && facts.contains("§K") && facts.contains("§1"));
    assert!(internals.contains("§3.1") && internals.contains("§10.3"));

    let mut checked = 0usize;
    let mut missing = Vec::new();
    for file in repository_files() {
        let Ok(text) = fs::read_to_string(root().join(&file)) else {
            continue; // not text
        };
        let home = if file == Path::new(FACTS) {
            Doc::Facts
        } else {
            Doc::Internals
        };
        for (no, line) in text.lines().enumerate() {
            for (doc, key) in citations(line, home) {
                checked += 1;
                let (known, name) = match doc {
                    Doc::Facts => (&facts, FACTS),
                    Doc::Internals => (&internals, INTERNALS),
                };
                if !known.contains(&key) {
                    missing.push(format!(
                        "{}:{}: {key} has no entry in {name}",
                        file.display(),
                        no + 1
                    ));
                }
            }
        }
    }
    eprintln!("{checked} citations checked");
    assert!(
        checked > 300,
        "only {checked} citations found: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "citations without an entry (add the entry, or cite an entry that exists):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_catalogue_names_only_tests_that_exist() {
    let text = fs::read_to_string(root().join(FACTS)).unwrap();
    let mut paragraphs = Vec::new();
    let mut current: Option<String> = None;
    let mut entry: Option<String> = None;
    let mut entries_without = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("### F") {
            if let Some(e) = entry.replace(format!("F{}", rest.trim())) {
                entries_without.insert(e);
            }
        }
        if line.starts_with("## ") {
            if let Some(e) = entry.take() {
                entries_without.insert(e);
            }
        }
        if line.starts_with("Checked by:") {
            current = Some(String::new());
            entry = None;
        }
        if line.trim().is_empty() {
            if let Some(p) = current.take() {
                paragraphs.push(p);
            }
        } else if let Some(p) = current.as_mut() {
            p.push_str(line);
            p.push('\n');
        }
    }
    paragraphs.extend(current);
    if let Some(e) = entry {
        entries_without.insert(e);
    }
    assert!(
        entries_without.is_empty(),
        "fact entries without a \"Checked by:\" paragraph: {entries_without:?}"
    );

    let mut named = 0usize;
    let mut missing = Vec::new();
    for p in &paragraphs {
        for item in p.split('`').skip(1).step_by(2) {
            named += 1;
            let (path, function) = match item.split_once("::") {
                Some((path, f)) => (path, Some(f)),
                None => (item, None),
            };
            let Ok(source) = fs::read_to_string(root().join(path)) else {
                missing.push(format!("{item}: no file {path}"));
                continue;
            };
            if let Some(f) = function {
                let defined = source.match_indices(&format!("fn {f}")).any(|(at, m)| {
                    source[at + m.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| !is_word(c))
                });
                if !defined {
                    missing.push(format!("{item}: no `fn {f}` in {path}"));
                }
            }
        }
    }
    assert!(
        named > 100,
        "only {named} tests named: is the parse broken?"
    );
    assert!(
        missing.is_empty(),
        "docs/FACTS.md names tests that do not exist (update its \"Checked by\" lines):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_matching_rule() {
    let keys = |l: &str| -> Vec<String> {
        citations(l, Doc::Internals)
            .into_iter()
            .map(|(d, k)| format!("{d:?}:{k}"))
            .collect()
    };
    assert_eq!(
        keys("(F4, F5) F48's F54–F56"),
        [
            "Facts:F4",
            "Facts:F5",
            "Facts:F48",
            "Facts:F54",
            "Facts:F56"
        ]
    );
    assert!(keys("0xF1 PF12 F1_KEY f48_rights F1234 §x §Kb").is_empty());
    assert_eq!(
        keys("nt_internals §3.1, §4–§8. windows_facts §1; facts §K."),
        [
            "Internals:§3.1",
            "Internals:§4",
            "Internals:§8",
            "Facts:§1",
            "Facts:§K"
        ]
    );
    assert_eq!(
        keys("see §5.1. then FACTS.md §2"),
        ["Internals:§5.1", "Facts:§2"]
    );
    assert_eq!(
        citations("§3.5", Doc::Facts),
        [(Doc::Facts, "§3.5".to_string())]
    );
}
