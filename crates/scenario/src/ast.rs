//! The syntax tree of a scenario (SCENARIO.md).

/// A parsed scenario: its statements in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The statements.
    pub statements: Vec<Stmt>,
}

/// One statement, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    /// 1-based line of the statement's first line.
    pub line: usize,
    /// The statement's source text (joined lines, comment removed, trimmed).
    pub text: String,
    /// `NAME> STATEMENT`: run in that process without changing the current one.
    pub process: Option<String>,
    /// What it does.
    pub kind: StmtKind,
}

/// What a statement does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StmtKind {
    /// `process NAME [from PARENT [inherit]] [session N] [user]`.
    Process {
        /// The new process.
        name: String,
        /// Its parent.
        parent: Option<String>,
        /// Whether it inherits the parent's inheritable handles.
        inherit: bool,
        /// `session N` (`None`: the parent's session, or session 1).
        session: Option<u32>,
        /// `user`: a standard user's token, without `SeCreateGlobalPrivilege`.
        user: bool,
        /// `image "NAME"`: the executable mapped at creation.
        image: Option<String>,
    },
    /// `use NAME`.
    Use(String),
    /// `exit NAME`.
    Exit(String),
    /// `machine key=value …`.
    Machine(Vec<(String, String)>),
    /// `file "NAME" = VALUE` or `file "NAME" size N`.
    File {
        /// The path.
        name: String,
        /// The contents.
        init: FileInit,
    },
    /// `image "NAME" base N section "NAME" FLAGS ("DATA" | size N) …`: writes a PE32+ image.
    Image {
        /// The path.
        name: String,
        /// `ImageBase`.
        base: Expr,
        /// The PE sections, in order.
        sections: Vec<ImageSection>,
    },
    /// `trim NAME` (`None`: `trim all`).
    Trim(Option<String>),
    /// `flush-modified`.
    FlushModified,
    /// `crash`: a power loss; the scenario goes on on a new machine over what was durable.
    Crash,
    /// `fail read|write ("NAME" page N | pagefile) [always]`: an injected I/O fault.
    Fail {
        /// A read or a write.
        kind: ntmm_api::IoKind,
        /// Where.
        target: FaultTarget,
        /// `always`: every such I/O fails until `heal`; else the next one only.
        always: bool,
    },
    /// `heal`: clears every injected fault.
    Heal,
    /// `show …`.
    Show(Show),
    /// `expect …`.
    Expect(Expectation),
    /// `name = EXPR`.
    Assign {
        /// The variable.
        var: String,
        /// The value.
        expr: Expr,
    },
    /// A call or memory access whose result is discarded.
    Eval(Expr),
}

/// One `section` of an `image` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSection {
    /// The section name.
    pub name: String,
    /// Its characteristics: some of `r`, `w`, `x`, `s`.
    pub flags: String,
    /// Its raw data.
    pub data: Option<Expr>,
    /// `size N`: its virtual size.
    pub size: Option<Expr>,
}

/// Where a `fail` directive injects its fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// `"NAME" page N`: one page of a file of the volume.
    File {
        /// The file.
        name: String,
        /// The page index (offset / 4096).
        page: Expr,
    },
    /// `pagefile`: any page of the pagefile.
    Pagefile,
}

/// How a `file` directive fills the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileInit {
    /// `= VALUE`.
    Contents(Expr),
    /// `size N`: zero-filled.
    Size(Expr),
}

/// `show` forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Show {
    /// `show pte ADDR`.
    Pte(Expr),
    /// `show pfn N`.
    Pfn(Expr),
    /// `show vad PROCESS`.
    Vad(String),
    /// `show section HANDLE`.
    Section(Expr),
    /// `show memory`.
    Memory,
}

/// `==`, `!=`, or an ordered comparison (unsigned, 64-bit, of integers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// `expect` forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// `expect E1 == E2` (a call on the left compares its return value), with an optional
    /// `, ERROR` comparing the process's last error after the call.
    Compare {
        /// The left side.
        lhs: Expr,
        /// The comparison.
        op: CmpOp,
        /// The right side.
        rhs: Expr,
        /// The expected last error.
        error: Option<Expr>,
    },
    /// `expect ACCESS raises STATUS_NAME`.
    Raises {
        /// The memory access.
        access: Expr,
        /// The exception status.
        status: Expr,
    },
    /// `expect disk "NAME" [offset X len Y] == V`.
    Disk {
        /// The file.
        name: String,
        /// Offset.
        offset: Option<Expr>,
        /// Length.
        len: Option<Expr>,
        /// The comparison.
        op: CmpOp,
        /// The expected bytes.
        value: Expr,
    },
}

/// Binary operators, loosest first: `|`, `^`, `&`, `<<`/`>>`, `+`/`-`, `*`/`/`/`%`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `|`.
    Or,
    /// `^`.
    Xor,
    /// `&`.
    And,
    /// `<<` (the count taken modulo 64, as x64's shift instructions take it).
    Shl,
    /// `>>` (logical; the count taken modulo 64).
    Shr,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (unsigned; by zero a statement error).
    Div,
    /// `%` (unsigned; by zero a statement error).
    Rem,
}

/// An expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// An integer literal or constant.
    Int(u64),
    /// A string literal: its bytes (the UTF-8 of its characters; `\xHH` is the byte HH).
    Str(Vec<u8>),
    /// A byte-string literal.
    Bytes(Vec<u8>),
    /// `INHERITABLE`: a `SECURITY_ATTRIBUTES` with `bInheritHandle = TRUE`.
    Inheritable,
    /// A variable or process name.
    Name(String),
    /// `record.field`.
    Field(String, String),
    /// A function call or memory access.
    Call(Call),
    /// Unary minus.
    Neg(Box<Expr>),
    /// `~`: bitwise complement.
    Not(Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// A call: a Win32 function or a memory access (`read`, `write32`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The canonical function name (an `A`/`W` suffix removed).
    pub name: String,
    /// The arguments.
    pub args: Vec<Arg>,
}

/// A call argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A value.
    Value(Expr),
    /// `&name`: an out-parameter stored in a variable, or an in-out parameter whose value
    /// goes in (0 when the variable is unset) and whose output is stored back.
    Out(String),
}
