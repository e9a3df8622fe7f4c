//! Narration ([`Options::narrate`](crate::Options::narrate)): a scenario's own-line comments
//! told as the story of its run, in text mode.
//!
//! The convention (docs/SCENARIO.md, "Narration"):
//! - a comment on a line of its own (its first non-blank character is `#`, and it is not a line
//!   of a statement continued with `\`) is narrative; the narrative lines between two
//!   statements are printed, as one block, just before the second one runs;
//! - `## Title` is a section heading, printed underlined;
//! - `# text` is prose: the `# ` is removed and the rest printed as written (the author wraps
//!   it), so a lesson reads on the terminal as it reads in the file;
//! - `#` alone, or a blank line between narrative lines, separates paragraphs;
//! - a comment after a statement on the same line is not narrative: it is a note for the
//!   file's reader, and the transcript shows the statement without it;
//! - narrative after the last statement is printed when the file has run.
//!
//! Narration also folds the transcript lines of each statement at [`WIDTH`](crate::narrative::WIDTH) columns (at
//! spaces outside string literals, the rest indented under the text), so that the run reads on
//! an 80-column terminal.

use std::fmt::Write as _;

/// The column at which a narrated transcript folds its lines.
pub const WIDTH: usize = 80;

/// One piece of narrative.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// `## Title`.
    Heading(String),
    /// A line of prose.
    Text(String),
    /// A paragraph break.
    Break,
}

/// The narrative of a scenario file: its blocks by the line of the statement they precede.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Narrative {
    /// (line of the statement that follows, the block), in file order.
    blocks: Vec<(usize, Vec<Piece>)>,
    /// Narrative after the last statement.
    tail: Vec<Piece>,
    /// Blocks already told.
    next: usize,
    /// Whether anything has been told (the first block needs no blank line before it).
    told: bool,
}

impl Narrative {
    /// The narrative of `source`, found by the same line rules as the parser (a statement
    /// continued with `\` takes the lines after it, comment lines included).
    pub fn of(source: &str) -> Narrative {
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let lines: Vec<&str> = source.lines().collect();
        let mut n = Narrative::default();
        let mut pending: Vec<Piece> = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i].trim();
            if let Some(comment) = line.strip_prefix('#') {
                pending.push(match comment.strip_prefix('#') {
                    Some(title) => Piece::Heading(title.trim().to_string()),
                    None if comment.trim().is_empty() => Piece::Break,
                    None => Piece::Text(
                        comment
                            .strip_prefix(' ')
                            .unwrap_or(comment)
                            .trim_end()
                            .to_string(),
                    ),
                });
                i += 1;
                continue;
            }
            if line.is_empty() {
                if !pending.is_empty() {
                    pending.push(Piece::Break);
                }
                i += 1;
                continue;
            }
            // A statement: its continuation lines are its own.
            let first = i + 1;
            while crate::lexer::strip_comment(lines[i])
                .trim_end()
                .ends_with('\\')
                && i + 1 < lines.len()
            {
                i += 1;
            }
            i += 1;
            if !pending.is_empty() {
                n.blocks.push((first, std::mem::take(&mut pending)));
            }
        }
        n.tail = pending;
        n
    }

    /// The narrative to print before the statement of line `line` (and any skipped before it),
    /// rendered; empty if there is none.
    pub fn before(&mut self, line: usize) -> String {
        let mut s = String::new();
        while let Some((at, pieces)) = self.blocks.get(self.next) {
            if *at > line {
                break;
            }
            self.next += 1;
            render(&mut s, pieces, !self.told);
            self.told = true;
        }
        // The statement's own lines follow: a later block is set apart from them.
        self.told = true;
        s
    }

    /// The narrative after the last statement, rendered (once).
    pub fn rest(&mut self) -> String {
        let mut s = String::new();
        self.next = self.blocks.len();
        render(&mut s, &std::mem::take(&mut self.tail), !self.told);
        self.told = true;
        // Nothing of this file follows: no blank line after it.
        if s.ends_with("\n\n") {
            s.pop();
        }
        s
    }
}

/// Renders a block: a blank line before it (but at the very start), headings underlined,
/// paragraph breaks collapsed, and a blank line after it.
fn render(s: &mut String, pieces: &[Piece], first: bool) {
    let start = pieces.iter().position(|p| *p != Piece::Break);
    let end = pieces.iter().rposition(|p| *p != Piece::Break);
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    if !first {
        s.push('\n');
    }
    let mut previous: Option<&Piece> = None;
    for p in &pieces[start..=end] {
        match p {
            Piece::Break if previous == Some(&Piece::Break) => continue,
            Piece::Break => s.push('\n'),
            Piece::Heading(t) => {
                if matches!(previous, Some(Piece::Text(_))) {
                    s.push('\n');
                }
                let _ = writeln!(s, "{t}\n{}", "=".repeat(t.chars().count()));
            }
            Piece::Text(t) => {
                let _ = writeln!(s, "{t}");
            }
        }
        previous = Some(p);
    }
    s.push('\n');
}

/// Folds each line of `text` longer than `width` columns at spaces outside string literals
/// (`"…"`, `hex"…"`); the folded parts are indented four columns past where the line's text
/// starts (after its indentation and, for a statement's line, its line number). A line with
/// no such space is left whole.
pub fn fold(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        fold_line(&mut out, body, width);
        out.push_str(newline);
    }
    out
}

fn fold_line(out: &mut String, line: &str, width: usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width {
        out.push_str(line);
        return;
    }
    // Where the text starts: after the indentation and a statement's line number.
    let lead = chars.iter().take_while(|c| **c == ' ').count();
    let digits = chars[lead..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let text_at = if digits > 0 && chars.get(lead + digits) == Some(&' ') {
        lead + digits + 1
    } else {
        lead
    };
    let indent = text_at + 4;
    // The spaces a line may fold at: outside string literals, past the text's start.
    let mut breaks = Vec::new();
    let (mut in_str, mut escaped) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == ' ' && i > text_at {
            breaks.push(i);
        }
    }
    let mut start = 0;
    let mut room = width;
    loop {
        let rest = chars.len() - start;
        if rest <= room {
            break;
        }
        // The last break that keeps this part within its room, else the first one after it.
        let within = breaks
            .iter()
            .copied()
            .rfind(|&b| b > start && b - start <= room);
        let Some(b) = within.or_else(|| breaks.iter().copied().find(|&b| b > start)) else {
            break;
        };
        out.extend(&chars[start..b]);
        // No trailing blanks where a run of spaces was folded.
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent));
        // Skip the space (and any that follow it).
        start = b;
        while chars.get(start) == Some(&' ') {
            start += 1;
        }
        room = width.saturating_sub(indent).max(1);
    }
    out.extend(&chars[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_own_line_comments_precede_their_statement_and_trailing_ones_are_not_told() {
        let src =
            "## The tour\n# A small machine.\n#\n# Second paragraph.\nprocess A   # a note\n\n\
                   # about x\nx = 1 + \\\n# inside the statement\n  2\n# the end\n";
        let mut n = Narrative::of(src);
        assert_eq!(
            n.before(5),
            "The tour\n========\nA small machine.\n\nSecond paragraph.\n\n"
        );
        assert_eq!(n.before(5), "", "told once");
        assert_eq!(n.before(8), "\nabout x\n\n");
        assert_eq!(n.rest(), "\nthe end\n");
        assert_eq!(n.rest(), "");
    }

    #[test]
    fn test_a_skipped_statement_does_not_lose_its_narrative() {
        let mut n = Narrative::of("# one\nprocess A\n# two\nprocess B\n# three\nprocess C\n");
        assert_eq!(n.before(6), "one\n\n\ntwo\n\n\nthree\n\n");
        assert_eq!(Narrative::of("process A\nprocess B\n").before(2), "");
    }

    #[test]
    fn test_a_heading_after_prose_is_set_apart() {
        let mut n = Narrative::of("# intro\n## Part 1\n# text\nprocess A\n");
        assert_eq!(n.before(4), "intro\n\nPart 1\n======\ntext\n\n");
    }

    #[test]
    fn test_long_lines_fold_at_spaces_outside_strings_under_their_text() {
        let line = "  29 Writer> h = CreateFile(\"a b c d\", GENERIC_READ, 0, NULL) => 4\n";
        assert_eq!(
            fold(line, 40),
            "  29 Writer> h = CreateFile(\"a b c d\",\n         GENERIC_READ, 0, NULL) => 4\n"
        );
        let trace = "       frame 0x1 left every working set → the standby list\n";
        assert_eq!(
            fold(trace, 40),
            "       frame 0x1 left every working set\n           → the standby list\n"
        );
        // Short lines, and lines with nowhere to fold, are left whole.
        assert_eq!(fold("short\n", 40), "short\n");
        let word = "x".repeat(50);
        assert_eq!(fold(&word, 40), word);
    }
}
