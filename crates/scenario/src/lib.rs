//! # ntmm-scenario — the scenario language
//!
//! Parser and runner of the language of `SCENARIO.md` (copied into the project as
//! `docs/SCENARIO.md`), usable as a library: embedders run scenarios programmatically with
//! [`run_source`] or drive a [`Runner`] statement by statement. Also here: `--trace`
//! explanations ([`trace`]), inspection ([`show`]) and pictures ([`draw`]).
#![forbid(unsafe_code)]

/// The syntax tree.
pub mod ast;
/// Calls bound to the Win32 facade.
mod calls;
/// Pictures (SVG, DOT, text).
pub mod draw;
/// Parse errors.
pub mod error;
/// Operators and comparisons (SCENARIO.md "Expressions (reach)").
pub mod expr;
/// Tokens.
pub mod lexer;
// Input size limits, the host-memory budget, value abbreviation (documented inside).
pub mod limits;
/// Native calls bound to the `nt_*` functions.
pub mod native;
/// The parser.
pub mod parser;
/// Processes as handles and calls on another process, bound to the Win32 facade.
mod process_calls;
/// The runner.
pub mod runner;
/// `show` forms.
pub mod show;
/// `--trace` explanations.
pub mod trace;
/// Values.
pub mod value;

pub use error::ParseError;
pub use parser::parse;
pub use runner::{run_source, summary, FileReport, Options, Runner};
