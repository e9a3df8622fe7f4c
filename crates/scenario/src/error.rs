//! The language's errors: a scenario that does not parse, a statement that cannot be
//! carried out.

/// A scenario that does not parse: where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {col}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

/// A statement that could not be carried out (not a Windows failure: those are results).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StmtError(pub String);
