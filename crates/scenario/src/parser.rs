//! The parser: logical lines → statements (SCENARIO.md "Lines", "Calls", "Expectations",
//! "Machine set-up"). A file that does not parse is rejected whole, with the line and column of
//! the first error.

use crate::ast::*;
use crate::error::ParseError;
use crate::lexer::{lex, strip_comment, Tok, Token};

/// The `image` directive.
mod image;

/// The functions a scenario may call, with their argument counts (SCENARIO.md "Functions").
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("CreateFile", 7),
    ("ReadFile", 5),
    ("WriteFile", 5),
    ("SetFilePointer", 4),
    ("SetEndOfFile", 1),
    ("GetFileSize", 2),
    ("FlushFileBuffers", 1),
    ("DeleteFile", 1),
    ("CloseHandle", 1),
    ("DuplicateHandle", 7),
    ("CreateFileMapping", 6),
    ("OpenFileMapping", 3),
    ("MapViewOfFile", 5),
    ("MapViewOfFileEx", 6),
    ("UnmapViewOfFile", 1),
    ("FlushViewOfFile", 2),
    ("VirtualAlloc", 4),
    ("VirtualFree", 3),
    ("VirtualProtect", 4),
    ("VirtualQuery", 2),
    ("GetSystemInfo", 1),
    ("GetTempPath", 2),
    ("GetTempFileName", 4),
    ("CreateEvent", 4),
    ("OpenEvent", 3),
    // Images (crate::loader via calls.rs).
    ("LoadLibrary", 1),
    ("FreeLibrary", 1),
    ("GetLastError", 0),
    ("SetLastError", 1),
    // Processes as handles; calls on another process (crate::process_calls).
    ("GetCurrentProcess", 0),
    ("OpenProcess", 3),
    ("VirtualAllocEx", 5),
    ("VirtualFreeEx", 4),
    ("VirtualProtectEx", 5),
    ("VirtualQueryEx", 3),
    ("ReadProcessMemory", 5),
    ("WriteProcessMemory", 5),
    ("MapViewOfFile2", 7),
    ("UnmapViewOfFile2", 3),
    ("UnmapViewOfFileEx", 2),
    // Placeholders (crate::native::placeholders::PLACEHOLDER_CALLS).
    ("VirtualAlloc2", 7),
    ("MapViewOfFile3", 9),
    ("MapViewOfFileFromApp", 4),
    // Resource counters (crate::counter_calls).
    ("GetProcessMemoryInfo", 2),
    ("QueryWorkingSetEx", 3),
    ("GetPerformanceInfo", 1),
    ("EmptyWorkingSet", 1),
    ("SetProcessWorkingSetSize", 3),
    ("NtmmFaultCounters", 2),
    ("NtmmPageLists", 1),
    ("NtmmIoCounters", 1),
    ("read", 2),
    ("read8", 1),
    ("read16", 1),
    ("read32", 1),
    ("read64", 1),
    ("write", 2),
    ("write8", 2),
    ("write16", 2),
    ("write32", 2),
    ("write64", 2),
];

/// The canonical name of a function (an `A`/`W` suffix removed) and its arity.
pub fn function(name: &str) -> Option<(&'static str, usize)> {
    // Native calls (crate::native) have no A/W forms.
    if let Some(&f) = crate::native::NATIVE_FUNCTIONS
        .iter()
        .find(|(f, _)| *f == name)
    {
        return Some(f);
    }
    let find = |n: &str| FUNCTIONS.iter().find(|(f, _)| *f == n).copied();
    find(name).or_else(|| {
        let base = name.strip_suffix('A').or_else(|| name.strip_suffix('W'))?;
        find(base).filter(|(f, _)| f.starts_with(char::is_uppercase))
    })
}

/// Whether a call is a memory access (it raises exceptions rather than setting last error).
pub fn is_memory_access(name: &str) -> bool {
    name.starts_with("read") || name.starts_with("write")
}

/// Machine keys (SCENARIO.md `machine`).
pub const MACHINE_KEYS: &[&str] = &["frames", "pagefile", "workingset", "writer", "budget"];

/// The deepest expression a statement may hold — nested parentheses, calls, unary minus and
/// operator chains together — so that parsing, evaluating and dropping it never exhausts the
/// stack; deeper is a parse error.
pub const MAX_EXPR_DEPTH: usize = 200;

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    line: usize,
    end_col: usize,
    /// How many parentheses, unary minuses and call argument lists the parser is inside.
    nest: usize,
}

/// An expression and the depth of its tree.
type Deep = (Expr, usize);

impl<'a> Parser<'a> {
    fn err<T>(&self, col: usize, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            line: self.line,
            col,
            message: message.into(),
        })
    }
    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end_col, |t| t.col)
    }
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }
    fn peek_at(&self, k: usize) -> Option<&'a Tok> {
        self.toks.get(self.pos + k).map(|t| &t.kind)
    }
    fn next(&mut self) -> Option<&'a Tok> {
        let t = self.toks.get(self.pos).map(|t| &t.kind);
        self.pos += 1;
        t
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect_punct(&mut self, p: &str) -> Result<(), ParseError> {
        if self.punct(p) {
            Ok(())
        } else {
            self.err(self.col(), format!("expected `{p}`"))
        }
    }
    fn ident(&mut self) -> Result<String, ParseError> {
        let col = self.col();
        match self.next() {
            Some(Tok::Ident(s)) => Ok(s.clone()),
            _ => self.err(col, "expected a name"),
        }
    }
    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s == k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// A string used as a file name: it must be text.
    fn string(&mut self) -> Result<String, ParseError> {
        let col = self.col();
        match self.next() {
            Some(Tok::Str(s)) => match String::from_utf8(s.clone()) {
                Ok(text) => Ok(text),
                Err(_) => self.err(col, "a file name must be valid UTF-8 text"),
            },
            _ => self.err(col, "expected a string"),
        }
    }
    fn end(&self) -> Result<(), ParseError> {
        if self.at_end() {
            Ok(())
        } else {
            self.err(self.col(), "unexpected text at the end of the statement")
        }
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        Ok(self.expr_deep()?.0)
    }
    fn too_deep<T>(&self, col: usize) -> Result<T, ParseError> {
        self.err(
            col,
            format!("expression nested too deeply (more than {MAX_EXPR_DEPTH} levels)"),
        )
    }
    /// Runs `f` one level deeper in the parser's recursion, refusing past the limit.
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        if self.nest >= MAX_EXPR_DEPTH {
            return self.too_deep(self.col());
        }
        self.nest += 1;
        let r = f(self);
        self.nest -= 1;
        r
    }
    /// One node over `children`, whose tree depths are given, refusing past the limit.
    fn node(&self, col: usize, e: Expr, depth: usize) -> Result<Deep, ParseError> {
        if depth > MAX_EXPR_DEPTH {
            return self.too_deep(col);
        }
        Ok((e, depth))
    }
    fn binary(
        &self,
        col: usize,
        op: BinOp,
        (l, dl): Deep,
        (r, dr): Deep,
    ) -> Result<Deep, ParseError> {
        self.node(
            col,
            Expr::Binary(op, Box::new(l), Box::new(r)),
            1 + dl.max(dr),
        )
    }
    fn expr_deep(&mut self) -> Result<Deep, ParseError> {
        self.chain(&[("|", BinOp::Or)], Self::xor)
    }
    fn xor(&mut self) -> Result<Deep, ParseError> {
        self.chain(&[("^", BinOp::Xor)], Self::and)
    }
    fn and(&mut self) -> Result<Deep, ParseError> {
        self.chain(&[("&", BinOp::And)], Self::shift)
    }
    fn shift(&mut self) -> Result<Deep, ParseError> {
        self.chain(&[("<<", BinOp::Shl), (">>", BinOp::Shr)], Self::add)
    }
    fn add(&mut self) -> Result<Deep, ParseError> {
        self.chain(&[("+", BinOp::Add), ("-", BinOp::Sub)], Self::mul)
    }
    fn mul(&mut self) -> Result<Deep, ParseError> {
        self.chain(
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
            Self::unary,
        )
    }
    /// `operand (op operand)*`, left-associative, for the operators of one precedence level.
    fn chain(
        &mut self,
        ops: &[(&str, BinOp)],
        operand: fn(&mut Self) -> Result<Deep, ParseError>,
    ) -> Result<Deep, ParseError> {
        let mut lhs = operand(self)?;
        loop {
            let col = self.col();
            let Some(&(_, op)) = ops.iter().find(|(tok, _)| self.punct(tok)) else {
                return Ok(lhs);
            };
            let rhs = operand(self)?;
            lhs = self.binary(col, op, lhs, rhs)?;
        }
    }
    fn unary(&mut self) -> Result<Deep, ParseError> {
        let col = self.col();
        if self.punct("-") {
            let (e, d) = self.nested(Self::unary)?;
            return self.node(col, Expr::Neg(Box::new(e)), d + 1);
        }
        if self.punct("~") {
            let (e, d) = self.nested(Self::unary)?;
            return self.node(col, Expr::Not(Box::new(e)), d + 1);
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Deep, ParseError> {
        let col = self.col();
        let leaf = |e| Ok((e, 1));
        match self.next() {
            Some(Tok::Int(v)) => leaf(Expr::Int(*v)),
            Some(Tok::Str(s)) => leaf(Expr::Str(s.clone())),
            Some(Tok::Bytes(b)) => leaf(Expr::Bytes(b.clone())),
            Some(Tok::Punct("(")) => {
                let e = self.nested(Self::expr_deep)?;
                self.expect_punct(")")?;
                Ok(e)
            }
            Some(Tok::Ident(name)) => {
                if self.peek() == Some(&Tok::Punct("(")) {
                    return self.nested(|p| p.call(name, col));
                }
                if self.peek() == Some(&Tok::Punct(".")) {
                    self.pos += 1;
                    let field = self.ident()?;
                    return leaf(Expr::Field(name.clone(), field));
                }
                if name == "INHERITABLE" {
                    return leaf(Expr::Inheritable);
                }
                if let Some(v) = ntmm_api::constant(name) {
                    return leaf(Expr::Int(v));
                }
                if name.starts_with(char::is_uppercase)
                    && (name.contains('_')
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                {
                    return self.err(col, format!("unknown constant {name}"));
                }
                leaf(Expr::Name(name.clone()))
            }
            _ => self.err(col, "expected a value"),
        }
    }
    fn call(&mut self, name: &str, col: usize) -> Result<Deep, ParseError> {
        let Some((canonical, arity)) = function(name) else {
            return self.err(col, format!("unknown function {name}"));
        };
        self.expect_punct("(")?;
        let mut args = Vec::new();
        let mut depth = 0;
        if !self.punct(")") {
            loop {
                if self.peek() == Some(&Tok::Punct("&"))
                    && matches!(self.peek_at(1), Some(Tok::Ident(_)))
                {
                    self.pos += 1;
                    args.push(Arg::Out(self.ident()?));
                } else {
                    let (e, d) = self.expr_deep()?;
                    depth = depth.max(d);
                    args.push(Arg::Value(e));
                }
                if self.punct(")") {
                    break;
                }
                self.expect_punct(",")?;
            }
        }
        if args.len() != arity {
            return self.err(
                col,
                format!(
                    "{canonical} takes {arity} argument{}, {} given",
                    if arity == 1 { "" } else { "s" },
                    args.len()
                ),
            );
        }
        let call = Expr::Call(Call {
            name: canonical.to_string(),
            args,
        });
        self.node(col, call, depth + 1)
    }

    fn cmp(&mut self) -> Result<CmpOp, ParseError> {
        if self.punct("==") {
            Ok(CmpOp::Eq)
        } else if self.punct("!=") {
            Ok(CmpOp::Ne)
        } else if self.punct("<=") {
            Ok(CmpOp::Le)
        } else if self.punct(">=") {
            Ok(CmpOp::Ge)
        } else if self.punct("<") {
            Ok(CmpOp::Lt)
        } else if self.punct(">") {
            Ok(CmpOp::Gt)
        } else {
            self.err(self.col(), "expected `==`, `!=`, `<`, `<=`, `>` or `>=`")
        }
    }

    fn statement(&mut self) -> Result<(Option<String>, StmtKind), ParseError> {
        let mut prefix = None;
        if let (Some(Tok::Ident(name)), Some(Tok::Punct(">"))) = (self.peek(), self.peek_at(1)) {
            prefix = Some(name.clone());
            self.pos += 2;
        }
        let col = self.col();
        let kind = match self.peek() {
            Some(Tok::Ident(k)) => match k.as_str() {
                "process" => {
                    self.pos += 1;
                    let name = self.ident()?;
                    let mut parent = None;
                    let mut inherit = false;
                    if self.keyword("from") {
                        parent = Some(self.ident()?);
                        inherit = self.keyword("inherit");
                    }
                    let session = if self.keyword("session") {
                        let sc = self.col();
                        match self.next() {
                            Some(Tok::Int(n))
                                if *n <= u64::from(ntmm_api::sessions::MAX_SESSION) =>
                            {
                                Some(*n as u32)
                            }
                            _ => {
                                return self.err(
                                    sc,
                                    format!(
                                        "expected a session number (0 to {})",
                                        ntmm_api::sessions::MAX_SESSION
                                    ),
                                )
                            }
                        }
                    } else {
                        None
                    };
                    let user = self.keyword("user");
                    let image = if self.keyword("image") {
                        Some(self.string()?)
                    } else {
                        None
                    };
                    StmtKind::Process {
                        name,
                        parent,
                        inherit,
                        session,
                        user,
                        image,
                    }
                }
                "use" => {
                    self.pos += 1;
                    StmtKind::Use(self.ident()?)
                }
                "exit" => {
                    self.pos += 1;
                    StmtKind::Exit(self.ident()?)
                }
                "machine" => {
                    self.pos += 1;
                    let mut pairs = Vec::new();
                    while !self.at_end() {
                        let kc = self.col();
                        let key = self.ident()?;
                        if !MACHINE_KEYS.contains(&key.as_str()) {
                            return self.err(kc, format!("unknown machine key {key}"));
                        }
                        self.expect_punct("=")?;
                        let vc = self.col();
                        let value = match self.next() {
                            Some(Tok::Int(v)) => v.to_string(),
                            Some(Tok::Ident(v))
                                if key == "writer" && (v == "eager" || v == "lazy") =>
                            {
                                v.clone()
                            }
                            _ => return self.err(vc, format!("bad value for {key}")),
                        };
                        pairs.push((key, value));
                    }
                    StmtKind::Machine(pairs)
                }
                "file" => {
                    self.pos += 1;
                    let name = self.string()?;
                    let init = if self.punct("=") {
                        FileInit::Contents(self.expr()?)
                    } else if self.keyword("size") {
                        FileInit::Size(self.expr()?)
                    } else {
                        return self.err(self.col(), "expected `=` or `size`");
                    };
                    StmtKind::File { name, init }
                }
                "image" if matches!(self.peek_at(1), Some(Tok::Str(_))) => {
                    self.pos += 1;
                    self.image_directive()?
                }
                "trim" => {
                    self.pos += 1;
                    let who = self.ident()?;
                    StmtKind::Trim((who != "all").then_some(who))
                }
                "flush-modified" => {
                    self.pos += 1;
                    StmtKind::FlushModified
                }
                "crash" if self.peek_at(1).is_none() => {
                    self.pos += 1;
                    StmtKind::Crash
                }
                "heal" if self.peek_at(1).is_none() => {
                    self.pos += 1;
                    StmtKind::Heal
                }
                "fail" if matches!(self.peek_at(1), Some(Tok::Ident(w)) if w == "read" || w == "write") =>
                {
                    self.pos += 1;
                    self.fail_directive()?
                }
                "show" => {
                    self.pos += 1;
                    let wc = self.col();
                    let what = self.ident()?;
                    StmtKind::Show(match what.as_str() {
                        "pte" => Show::Pte(self.expr()?),
                        "pfn" => Show::Pfn(self.expr()?),
                        "vad" => Show::Vad(self.ident()?),
                        "section" => Show::Section(self.expr()?),
                        "memory" => Show::Memory,
                        other => return self.err(wc, format!("unknown show form {other}")),
                    })
                }
                "expect" => {
                    self.pos += 1;
                    StmtKind::Expect(self.expectation()?)
                }
                _ if self.peek_at(1) == Some(&Tok::Punct("=")) => {
                    let var = self.ident()?;
                    self.pos += 1;
                    StmtKind::Assign {
                        var,
                        expr: self.expr()?,
                    }
                }
                _ if self.peek_at(1) == Some(&Tok::Punct("(")) => {
                    let e = self.expr()?;
                    StmtKind::Eval(e)
                }
                other => return self.err(col, format!("unknown directive or statement `{other}`")),
            },
            _ => return self.err(col, "expected a statement"),
        };
        self.end()?;
        if prefix.is_some()
            && matches!(
                kind,
                StmtKind::Process { .. } | StmtKind::Use(_) | StmtKind::Machine(_)
            )
        {
            return self.err(col, "this directive cannot run in another process");
        }
        Ok((prefix, kind))
    }

    /// `fail read|write ("NAME" page N | pagefile) [always]` after `fail`.
    fn fail_directive(&mut self) -> Result<StmtKind, ParseError> {
        let kind = if self.keyword("read") {
            ntmm_api::IoKind::Read
        } else {
            self.keyword("write");
            ntmm_api::IoKind::Write
        };
        let target = if self.keyword("pagefile") {
            FaultTarget::Pagefile
        } else if matches!(self.peek(), Some(Tok::Str(_))) {
            let name = self.string()?;
            if !self.keyword("page") {
                return self.err(self.col(), "expected `page`");
            }
            FaultTarget::File {
                name,
                page: self.expr()?,
            }
        } else {
            return self.err(self.col(), "expected a file name or `pagefile`");
        };
        let always = self.keyword("always");
        Ok(StmtKind::Fail {
            kind,
            target,
            always,
        })
    }

    fn expectation(&mut self) -> Result<Expectation, ParseError> {
        if self.keyword("disk") {
            let name = self.string()?;
            let (mut offset, mut len) = (None, None);
            if self.keyword("offset") {
                offset = Some(self.expr()?);
                if !self.keyword("len") {
                    return self.err(self.col(), "expected `len`");
                }
                len = Some(self.expr()?);
            }
            let op = self.cmp()?;
            let value = self.expr()?;
            return Ok(Expectation::Disk {
                name,
                offset,
                len,
                op,
                value,
            });
        }
        let lhs = self.expr()?;
        if self.keyword("raises") {
            let col = self.col();
            let status = self.expr()?;
            // A memory access, or a call that raises (a Win32 function writing through a NULL
            // pointer, as GetSystemInfo(NULL)).
            if !matches!(&lhs, Expr::Call(_)) {
                return self.err(
                    col,
                    "`raises` needs a memory access (read…/write…) or a call",
                );
            }
            return Ok(Expectation::Raises {
                access: lhs,
                status,
            });
        }
        let op = self.cmp()?;
        let rhs = self.expr()?;
        let error = if self.punct(",") {
            if !matches!(&lhs, Expr::Call(_)) {
                return self.err(self.col(), "an expected error needs a call on the left");
            }
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Expectation::Compare {
            lhs,
            op,
            rhs,
            error,
        })
    }
}

/// Parses a whole scenario (at most `limits::MAX_SOURCE_BYTES`, each logical line at most
/// `limits::MAX_LINE_BYTES`). A byte-order mark at its start is skipped.
pub fn parse(source: &str) -> Result<Script, ParseError> {
    if source.len() > crate::limits::MAX_SOURCE_BYTES {
        return Err(ParseError {
            line: 1,
            col: 1,
            message: crate::limits::SourceError::TooLarge.to_string(),
        });
    }
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut statements = Vec::new();
    let lines: Vec<&str> = source.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let first = i + 1;
        let mut text = strip_comment(lines[i]).trim_end().to_string();
        while text.ends_with('\\') {
            text.pop();
            i += 1;
            let Some(next) = lines.get(i) else {
                return Err(ParseError {
                    line: i,
                    col: lines[i - 1].trim_end().chars().count(),
                    message: "the file ends inside a continuation: this line ends with `\\` \
                              and no line follows (the statement would be cut short)"
                        .into(),
                });
            };
            text.push(' ');
            text.push_str(strip_comment(next).trim_end());
        }
        i += 1;
        let text = text.trim().to_string();
        if text.is_empty() {
            continue;
        }
        crate::limits::check_line(&text, first)?;
        let toks = lex(&text, first)?;
        let mut p = Parser {
            toks: &toks,
            pos: 0,
            line: first,
            end_col: text.chars().count() + 1,
            nest: 0,
        };
        let (process, kind) = p.statement()?;
        statements.push(Stmt {
            line: first,
            text,
            process,
            kind,
        });
    }
    Ok(Script { statements })
}

/// Parses one line as `[NAME>] EXPRESSION`: the repl's reading of a bare expression or
/// variable (`x`, `p + 0x10`, `mbi.State`), which a scenario file does not take as a
/// statement. The statement evaluates the expression and shows its value, as a call
/// statement does.
pub fn parse_expression_statement(text: &str, line: usize) -> Result<Stmt, ParseError> {
    let text = strip_comment(text).trim().to_string();
    crate::limits::check_line(&text, line)?;
    let toks = lex(&text, line)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        line,
        end_col: text.chars().count() + 1,
        nest: 0,
    };
    let mut process = None;
    if let (Some(Tok::Ident(name)), Some(Tok::Punct(">"))) = (p.peek(), p.peek_at(1)) {
        process = Some(name.clone());
        p.pos += 2;
    }
    let expr = p.expr()?;
    p.end()?;
    Ok(Stmt {
        line,
        text,
        process,
        kind: StmtKind::Eval(expr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_a_bare_expression_is_an_expression_statement_only_when_asked() {
        assert!(parse("x\n").is_err());
        let s = parse_expression_statement("B> mbi.State   # its state", 4).unwrap();
        assert_eq!((s.line, s.text.as_str()), (4, "B> mbi.State"));
        assert_eq!(s.process.as_deref(), Some("B"));
        assert_eq!(
            s.kind,
            StmtKind::Eval(Expr::Field("mbi".into(), "State".into()))
        );
        let e = parse_expression_statement("x +", 1).unwrap_err();
        assert_eq!(e.col, 4, "{e:?}");
    }

    fn one(src: &str) -> Stmt {
        parse(src).unwrap().statements.remove(0)
    }

    /// `crash` is a directive alone on its line; elsewhere the word is a name.
    #[test]
    fn test_crash_is_a_directive() {
        assert_eq!(one("crash").kind, StmtKind::Crash);
        assert!(matches!(one("crash = 1").kind, StmtKind::Assign { .. }));
    }

    #[test]
    fn test_a_file_ending_inside_a_continuation_is_an_error() {
        let e = parse("process A\nx = 1 + \\\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message.contains("ends inside a continuation"),
            "{}",
            e.message
        );
        assert!(parse("process A\nx = 1 + \\\n2\n").is_ok());
    }

    #[test]
    fn test_every_directive_parses() {
        let src = r#"
machine frames=64 pagefile=256 workingset=16 writer=eager
process A
process B from A inherit
process C from A
use A
file "data.bin" = "initial"
file "big.bin" size 0x3456
trim A
trim all
flush-modified
show pte p
show pfn 0x12
show vad A
show section h
show memory
exit B
"#;
        let s = parse(src).unwrap();
        assert_eq!(s.statements.len(), 16);
        assert_eq!(
            s.statements[2].kind,
            StmtKind::Process {
                name: "B".into(),
                parent: Some("A".into()),
                inherit: true,
                session: None,
                user: false,
                image: None,
            }
        );
        assert_eq!(s.statements[8].kind, StmtKind::Trim(None));
    }

    #[test]
    fn test_calls_out_params_and_suffixes() {
        let s = one(
            r#"h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, "Local\\Foo")"#,
        );
        let StmtKind::Assign {
            var,
            expr: Expr::Call(c),
        } = s.kind
        else {
            panic!()
        };
        assert_eq!(
            (var.as_str(), c.name.as_str(), c.args.len()),
            ("h", "CreateFileMapping", 6)
        );
        assert_eq!(c.args[5], Arg::Value(Expr::Str("Local\\Foo".into())));
        let s = one("VirtualProtect(p, 0x1000, PAGE_READONLY, &old)");
        let StmtKind::Eval(Expr::Call(c)) = s.kind else {
            panic!()
        };
        assert_eq!(c.args[3], Arg::Out("old".into()));
    }

    #[test]
    fn test_precedence_or_then_and_then_add() {
        let s = one("x = 1 | 2 & 3 + 4");
        let StmtKind::Assign { expr, .. } = s.kind else {
            panic!()
        };
        assert_eq!(
            expr,
            Expr::Binary(
                BinOp::Or,
                Box::new(Expr::Int(1)),
                Box::new(Expr::Binary(
                    BinOp::And,
                    Box::new(Expr::Int(2)),
                    Box::new(Expr::Binary(
                        BinOp::Add,
                        Box::new(Expr::Int(3)),
                        Box::new(Expr::Int(4))
                    ))
                ))
            )
        );
    }

    #[test]
    fn test_expectation_forms() {
        for src in [
            "expect CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0, NULL) == NULL, ERROR_FILE_INVALID",
            "expect MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0) != NULL",
            "expect GetLastError() == ERROR_ALREADY_EXISTS",
            "expect mbi.State == MEM_COMMIT",
            "expect read(q, 5) == \"hello\"",
            "expect write8(r, 1) raises STATUS_ACCESS_VIOLATION",
            "expect read8(p) raises STATUS_IN_PAGE_ERROR",
            "expect disk \"data.bin\" == \"abc\"",
            "expect disk \"data.bin\" offset 0x1000 len 4 == hex\"00 00 00 00\"",
        ] {
            assert!(matches!(one(src).kind, StmtKind::Expect(_)), "{src}");
        }
    }

    #[test]
    fn test_process_prefix_and_line_joining() {
        let s = parse("process A\nA> x = read32(p + \\\n  0x10)   # joined\n").unwrap();
        let st = &s.statements[1];
        assert_eq!((st.line, st.process.as_deref()), (2, Some("A")));
    }

    #[test]
    fn test_a_bom_at_the_start_is_skipped() {
        let s = parse("\u{feff}process A\n").unwrap();
        assert_eq!(s.statements[0].text, "process A");
        assert!(
            parse("process A\n\u{feff}process B\n").is_err(),
            "only at the start"
        );
    }

    #[test]
    fn test_a_file_name_must_be_text() {
        let e = parse("file \"\\xff\" = \"x\"").unwrap_err();
        assert_eq!(
            (e.col, e.message.as_str()),
            (6, "a file name must be valid UTF-8 text")
        );
        let StmtKind::File { name, .. } = one("file \"\\x41\" = \"x\"").kind else {
            panic!()
        };
        assert_eq!(name, "A");
    }

    #[test]
    fn test_parse_errors_have_line_and_column() {
        let e = parse("process A\nx = Frobnicate(1)\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 5));
        assert!(e.message.contains("unknown function"));
        let e = parse("bogus-directive here").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("machine frames=10 colour=red").unwrap_err();
        assert_eq!(e.col, 19);
        let e = parse("x = CloseHandle(1, 2)").unwrap_err();
        assert_eq!(e.message, "CloseHandle takes 1 argument, 2 given");
        let e = parse("x = MapViewOfFile(1)").unwrap_err();
        assert_eq!(e.message, "MapViewOfFile takes 5 arguments, 1 given");
        let e = parse("x = PAGE_READWRIT").unwrap_err();
        assert!(e.message.contains("unknown constant"));
        assert!(parse("expect x raises STATUS_ACCESS_VIOLATION").is_err());
        assert!(parse("A> process B").is_err());
    }
}
