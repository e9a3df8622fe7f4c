//! Where the repl's lines come from: on a terminal, a line editor with history (rustyline);
//! otherwise — a pipe, a file, a test, and always in JSON mode — the plain bounded reader of
//! `line.rs`, so that a program driving the repl sees exactly the protocol and nothing of an
//! editor.

use crate::line::{self, Input, MAX_LINE};
use std::io::{IsTerminal, StdinLock};

/// How many lines the editor's history keeps (in memory only: nothing is written to disk).
const HISTORY: usize = 1000;

/// The source of the repl's input lines.
pub enum Lines {
    /// Bounded byte lines from standard input; the repl prints its own prompt.
    Plain(StdinLock<'static>),
    /// The line editor: it prints the prompt, edits the line, and keeps the history.
    Editor(Box<rustyline::DefaultEditor>),
}

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lines::Plain(_) => "Lines::Plain",
            Lines::Editor(_) => "Lines::Editor",
        })
    }
}

impl Lines {
    /// The line editor when standard input and output are both a terminal and the session is
    /// not the JSON protocol (and the terminal can have one); the plain reader otherwise.
    pub fn new(json: bool) -> Lines {
        if !json && std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            if let Ok(e) = editor() {
                return Lines::Editor(Box::new(e));
            }
        }
        Lines::Plain(std::io::stdin().lock())
    }

    /// Whether the line editor prints the prompt (the caller prints it otherwise).
    pub fn prompts(&self) -> bool {
        matches!(self, Lines::Editor(_))
    }

    /// The next line; with the editor, after showing `prompt`. A line the editor returns is
    /// put in its history (a blank one is not).
    pub fn read(&mut self, prompt: &str) -> std::io::Result<Input> {
        match self {
            Lines::Plain(input) => line::read_line(input, MAX_LINE),
            Lines::Editor(e) => edited(e.readline(prompt), |l| {
                // A line already in the history, or refused by it, is not an error.
                let _ = e.add_history_entry(l);
            }),
        }
    }
}

/// An editor with an in-memory history that skips repeated and blank lines.
fn editor() -> rustyline::Result<rustyline::DefaultEditor> {
    let config = rustyline::Config::builder()
        .max_history_size(HISTORY)?
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .auto_add_history(false)
        .build();
    rustyline::DefaultEditor::with_config(config)
}

/// What the editor's answer means for the repl: a line (as bytes, bounded like the plain
/// reader's), the end of input (Ctrl-D), a cancelled line (Ctrl-C), or an error.
fn edited(r: rustyline::Result<String>, mut remember: impl FnMut(&str)) -> std::io::Result<Input> {
    use rustyline::error::ReadlineError;
    match r {
        Ok(l) if l.len() > MAX_LINE => Ok(Input::TooLong),
        Ok(l) => {
            if !l.trim().is_empty() {
                remember(&l);
            }
            Ok(Input::Line(l.into_bytes()))
        }
        Err(ReadlineError::Eof) => Ok(Input::End),
        Err(ReadlineError::Interrupted) => Ok(Input::Cancelled),
        Err(ReadlineError::Io(e)) => Err(e),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustyline::error::ReadlineError;

    fn answer(r: rustyline::Result<String>) -> (String, Vec<String>) {
        let mut history = Vec::new();
        let input = edited(r, |l| history.push(l.to_string()));
        (format!("{input:?}"), history)
    }

    #[test]
    fn test_edited_lines_are_bounded_and_remembered_unless_blank() {
        assert_eq!(
            answer(Ok("x + 1".into())),
            (
                format!("{:?}", Ok::<_, ()>(Input::Line(b"x + 1".to_vec()))),
                vec!["x + 1".into()]
            )
        );
        assert_eq!(answer(Ok("   ".into())).1, Vec::<String>::new());
        let (long, history) = answer(Ok("x".repeat(MAX_LINE + 1)));
        assert_eq!((long.as_str(), history.len()), ("Ok(TooLong)", 0));
        assert_eq!(answer(Err(ReadlineError::Eof)).0, "Ok(End)");
        assert_eq!(answer(Err(ReadlineError::Interrupted)).0, "Ok(Cancelled)");
        assert!(answer(Err(ReadlineError::Io(
            std::io::ErrorKind::BrokenPipe.into()
        )))
        .0
        .starts_with("Err("));
    }

    #[test]
    fn test_the_editor_keeps_its_history_in_memory() {
        // Building the editor touches no terminal and no file.
        let mut e = editor().unwrap();
        assert!(e.add_history_entry("x = 1").unwrap());
        assert!(
            !e.add_history_entry("x = 1").unwrap(),
            "a repeat is skipped"
        );
        assert_eq!(rustyline::history::History::len(e.history()), 1);
    }
}
