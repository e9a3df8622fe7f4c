//! # ntmm-scenario — the scenario language
//!
//! Parser and runner of the language of `SCENARIO.md` (copied into the project as
//! `docs/SCENARIO.md`), usable as a library: embedders run scenarios programmatically with
//! [`run_source`] or drive a [`Runner`] statement by statement. Also here: `--trace`
//! explanations ([`trace`]), inspection ([`show`]) and pictures ([`draw`]).
#![forbid(unsafe_code)]

// ---- The language: text to syntax tree -------------------------------------------------
/// The syntax tree.
pub mod ast;
/// Parse and statement errors.
pub mod error;
/// Tokens.
pub mod lexer;
// Input size limits, the host-memory budget, value abbreviation (documented inside: an outer
// doc comment here would resolve its links from this file).
pub mod limits;
/// The parser.
pub mod parser;

// ---- Running it ----------------------------------------------------------------------------
/// Calls bound to the Win32 facade.
mod calls;
/// Resource counters (`GetProcessMemoryInfo`, …, `NtmmIoCounters`), bound to the Win32 facade.
mod counter_calls;
/// Operators and comparisons (SCENARIO.md "Expressions (reach)").
pub mod expr;
/// Native calls bound to the `nt_*` functions.
pub mod native;
/// Processes as handles and calls on another process, bound to the Win32 facade.
mod process_calls;
/// The runner: statements, `expect`, processes, directives.
pub mod runner;
/// Values.
pub mod value;

// ---- Seeing the machine ------------------------------------------------------------------
/// Pictures (SVG, DOT, text).
pub mod draw;
/// The typed form of a traced event for `--json --trace`.
pub mod event_json;
/// A statement's value in the JSON protocol's typed fields.
pub mod json_value;
/// One naming scheme for object identities across trace, show and pictures.
pub mod naming;
/// Narration: own-line comments told as the story of a run (`--narrate`).
pub mod narrative;
/// `ntmm replay`: a scenario as a self-contained step-through HTML page.
pub mod replay;
/// `show` forms (`!pte`, `!pfn`, `!ca`, `!vad`, `!memusage`), over the system alone.
pub mod show;
/// `--trace` explanations.
pub mod trace;

pub use error::{ParseError, StmtError};
pub use parser::{parse, parse_expression_statement};
pub use runner::{run_source, summary, FileReport, Options, Runner};
