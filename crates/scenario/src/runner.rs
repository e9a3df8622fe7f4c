//! The runner: executes a parsed scenario against a fresh emulated machine and produces the
//! transcript (SCENARIO.md "Output and exit status").

use crate::ast::*;
use crate::limits::{self, READ_LIMIT};
use crate::trace::TraceSink;
use crate::value::Value;
use ntmm_api::{error_name, AsId, Handle, NtStatus, System, SystemConfig, Volume};
use ntmm_vmm::{Exception, VmmConfig};
use std::collections::BTreeMap;
use std::fmt::Write as _;

mod durability;
mod images;
mod io_faults;
mod show_form;

/// How to run scenarios.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The machine (a `machine` directive overrides it per file).
    pub machine: VmmConfig,
    /// The volume.
    pub volume: Volume,
    /// Print one JSON object per statement instead of the transcript.
    pub json: bool,
    /// Explain every fault and transition in one line each.
    pub trace: bool,
    /// With `trace`: tell every event, the machine's bookkeeping too (`--trace-all`,
    /// [`crate::trace::explain_all`]).
    pub trace_all: bool,
    /// The host-memory budget in bytes (`None`: [`crate::limits::DEFAULT_BUDGET`]); a
    /// `machine budget=N` line overrides it per file.
    pub budget: Option<u64>,
    /// Echo byte values whole instead of as their length and a prefix.
    pub full_values: bool,
    /// Tell the file's own-line comments as narrative before the statements they precede,
    /// and fold the transcript at [`crate::narrative::WIDTH`] columns (text mode only; see
    /// [`crate::narrative`]).
    pub narrate: bool,
}

/// The result of running one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Expectations that held.
    pub passed: u64,
    /// Expectations that failed, plus statements that failed outside an expectation (and 1 for
    /// a file that does not parse).
    pub failed: u64,
    /// The transcript (or JSON lines).
    pub output: String,
}

pub use crate::error::StmtError;

/// What evaluating a call or access produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The value (a Win32 return value, or bytes/an integer for a load).
    pub value: Value,
    /// The process's last error after a Win32 call.
    pub last_error: Option<u32>,
    /// The exception a memory access raised.
    pub exception: Option<Exception>,
    /// Whether the value is an NTSTATUS (a native call's result), which never changes the last
    /// error.
    pub native: bool,
    /// Whether the call set the last error (to a new value or the same one); a success that
    /// leaves it alone shows it as "last error unchanged".
    pub last_error_set: bool,
}

impl Outcome {
    pub(crate) fn value(value: Value) -> Self {
        Outcome {
            value,
            last_error: None,
            exception: None,
            native: false,
            last_error_set: false,
        }
    }
    pub(crate) fn exception(e: Exception) -> Self {
        Outcome {
            value: Value::Unit,
            last_error: None,
            exception: Some(e),
            native: false,
            last_error_set: false,
        }
    }
    /// A Win32 function's return value with the caller's last error after it.
    pub(crate) fn win32(ret: u64, last_error: u32) -> Self {
        Outcome {
            last_error: Some(last_error),
            last_error_set: true,
            ..Outcome::value(Value::Int(ret))
        }
    }
    /// A native call's NTSTATUS, with the caller's last error (which it left unchanged).
    pub(crate) fn native(status: u64, last_error: u32) -> Self {
        Outcome {
            native: true,
            last_error_set: false,
            ..Outcome::win32(status, last_error)
        }
    }
}

fn status_name(code: u64) -> String {
    NtStatus::new(code as u32)
        .name()
        .map_or_else(|| format!("{code:#x}"), str::to_string)
}

/// Runs scenarios; one `Runner` per file (a fresh machine each).
#[derive(Debug)]
pub struct Runner {
    file: String,
    options: Options,
    sys: Option<System>,
    machine: VmmConfig,
    pub(crate) procs: BTreeMap<String, AsId>,
    current: Option<String>,
    pub(crate) vars: BTreeMap<String, Value>,
    process_handles: BTreeMap<(AsId, AsId), Handle>,
    passed: u64,
    failed: u64,
    out: String,
    trace: Option<TraceSink>,
    /// The failed calls of the current statement (its JSON `status` and `why`).
    failures: crate::trace::FailureSink,
    /// Subscribers given to the system when it starts ([`Runner::subscribe`]).
    subscribers: ntmm_vmm::Subscribers<ntmm_api::Event>,
    /// The host-memory budget (`crate::limits`), what the variables hold, and whether the run
    /// has stopped (budget exceeded).
    budget: u64,
    value_bytes: u64,
    stopped: bool,
    /// The narrative told between statements (`Options::narrate`, text mode).
    narrative: Option<crate::narrative::Narrative>,
}

impl Runner {
    /// A runner for a file called `file`.
    pub fn new(file: &str, options: &Options) -> Self {
        Runner {
            file: file.to_string(),
            machine: options.machine,
            options: options.clone(),
            sys: None,
            procs: BTreeMap::new(),
            current: None,
            vars: BTreeMap::new(),
            process_handles: BTreeMap::new(),
            passed: 0,
            failed: 0,
            out: String::new(),
            trace: (options.trace || options.trace_all)
                .then(|| TraceSink::with_detail(options.trace_all)),
            failures: Default::default(),
            subscribers: Default::default(),
            budget: options.budget.unwrap_or(crate::limits::DEFAULT_BUDGET),
            value_bytes: 0,
            stopped: false,
            narrative: None,
        }
    }

    /// The system, created on first use with the machine configuration.
    pub(crate) fn system(&mut self) -> Result<&System, StmtError> {
        if self.sys.is_none() {
            // The limit broken, by name (System::new would say only ERROR_INVALID_PARAMETER).
            self.machine
                .validate()
                .map_err(|e| StmtError(format!("cannot start the machine: {e}")))?;
            let sys = System::new(SystemConfig {
                vmm: self.machine,
                volume: self.options.volume.clone(),
            })
            .map_err(|e| StmtError(format!("cannot start the machine: {e}")))?;
            if let Some(t) = &self.trace {
                sys.subscribe(t.subscriber());
            }
            sys.subscribe(self.failures.subscriber());
            for s in self.subscribers.all() {
                sys.subscribe(s);
            }
            self.sys = Some(sys);
        }
        Ok(self.sys.as_ref().expect("just created"))
    }

    /// Subscribes to the event stream of the system the scenario runs on
    /// ([`ntmm_api::System::subscribe`]), from its start (call before the first statement).
    pub fn subscribe(&mut self, subscriber: ntmm_vmm::Subscriber<ntmm_api::Event>) {
        self.subscribers.subscribe(subscriber);
    }

    /// The system, if the scenario has started one.
    pub fn system_if_started(&self) -> Option<&System> {
        self.sys.as_ref()
    }

    /// Process names by id.
    pub fn process_names(&self) -> BTreeMap<AsId, String> {
        self.procs.iter().map(|(n, id)| (*id, n.clone())).collect()
    }

    pub(crate) fn current_pid(&self) -> Result<AsId, StmtError> {
        let name = self
            .current
            .as_ref()
            .ok_or_else(|| StmtError("a call before any `process` line".into()))?;
        self.procs
            .get(name)
            .copied()
            .ok_or_else(|| StmtError(format!("process {name} has exited")))
    }

    fn pid_of(&self, name: &str) -> Result<AsId, StmtError> {
        self.procs
            .get(name)
            .copied()
            .ok_or_else(|| StmtError(format!("no process named {name}")))
    }

    /// Evaluates an expression.
    pub(crate) fn eval(&mut self, e: &Expr) -> Result<Value, StmtError> {
        Ok(match e {
            Expr::Int(v) => Value::Int(*v),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Bytes(b) => Value::Bytes(b.clone()),
            Expr::Inheritable => Value::Inheritable,
            Expr::Name(n) => {
                if let Some(v) = self.vars.get(n) {
                    v.clone()
                } else if let Some(&target) = self.procs.get(n) {
                    // A process name stands for a handle to that process (in the caller), with
                    // PROCESS_ALL_ACCESS. The handle it used last is reused only while it is
                    // still that: once a scenario closed it (CloseHandle(B), NtClose,
                    // DUPLICATE_CLOSE_SOURCE) its value may name another object, even another
                    // process, so the name opens a fresh handle instead (docs/SCENARIO.md).
                    let me = self.current_pid()?;
                    let cached = self.process_handles.get(&(me, target)).copied();
                    let sys = self.system()?;
                    if let Some(h) = cached.filter(|h| {
                        sys.process_of_handle(me, *h) == Ok(target)
                            && sys.handle_access(me, *h) == Ok(ntmm_api::PROCESS_ALL_ACCESS)
                    }) {
                        Value::Int(h.0)
                    } else {
                        let h = self
                            .system()?
                            .open_process(me, target)
                            .map_err(|e| StmtError(format!("cannot open process {n}: {e}")))?;
                        self.process_handles.insert((me, target), h);
                        Value::Int(h.0)
                    }
                } else {
                    return Err(StmtError(format!("unknown variable {n}")));
                }
            }
            Expr::Field(rec, field) => match self.vars.get(rec) {
                Some(Value::Record(fields)) => fields
                    .iter()
                    .find(|(k, _)| k == field)
                    .map(|(_, v)| Value::Int(*v))
                    .ok_or_else(|| StmtError(format!("{rec} has no field {field}")))?,
                Some(other) => return Err(StmtError(format!("{rec} is {other}, not a record"))),
                None => return Err(StmtError(format!("unknown variable {rec}"))),
            },
            Expr::Call(c) => {
                let o = self.call(c)?;
                if let Some(x) = o.exception {
                    return Err(StmtError(format!(
                        "{} raised {} at {}",
                        c.name,
                        x.code(),
                        x.address
                    )));
                }
                o.value
            }
            Expr::Neg(inner) => match self.eval(inner)? {
                Value::Int(v) => Value::Int(v.wrapping_neg()),
                other => return Err(StmtError(format!("cannot negate {other}"))),
            },
            Expr::Not(inner) => match self.eval(inner)? {
                Value::Int(v) => Value::Int(!v),
                other => return Err(StmtError(format!("cannot complement {other}"))),
            },
            Expr::Binary(op, a, b) => {
                let (x, y) = (self.eval(a)?, self.eval(b)?);
                let (Value::Int(x), Value::Int(y)) = (&x, &y) else {
                    return Err(StmtError(format!(
                        "arithmetic needs integers, not {x} and {y}"
                    )));
                };
                Value::Int(crate::expr::binary(*op, *x, *y)?)
            }
        })
    }

    fn error_text(code: u32) -> String {
        error_name(code).map_or_else(|| code.to_string(), str::to_string)
    }

    fn record(
        &mut self,
        stmt: &Stmt,
        who: &str,
        result: &str,
        pass: Option<bool>,
        detail: Option<(&str, &str)>,
        outcome: Option<&Outcome>,
    ) {
        let failure = self.failures.take();
        if self.options.json {
            let exception = outcome.and_then(|o| o.exception).map(|e| {
                serde_json::json!({"code": e.code().raw(), "name": e.code().name(), "address": crate::json_value::integer(e.address.raw())})
            });
            let last_error = outcome.and_then(|o| o.last_error);
            let status_json =
                |v: u32| serde_json::json!({"value": v, "name": NtStatus::new(v).name()});
            let status = outcome
                .filter(|o| o.native)
                .and_then(|o| match o.value {
                    Value::Int(v) => Some(status_json(v as u32)),
                    _ => None,
                })
                .or_else(|| {
                    failure
                        .as_ref()
                        .and_then(|f| f.0)
                        .map(|s| status_json(s.raw()))
                });
            let why = failure.map(|f| f.2);
            let (value, bytes) = crate::json_value::typed(outcome, self.options.full_values);
            let obj = serde_json::json!({
                "file": self.file,
                "line": stmt.line,
                "statement": stmt.text,
                "process": if who.is_empty() { serde_json::Value::Null } else { serde_json::Value::from(who) },
                "result": result,
                "value": value,
                "bytes": bytes,
                "last_error": last_error,
                "last_error_name": last_error.and_then(error_name),
                "last_error_set": outcome.filter(|o| o.last_error.is_some()).map(|o| o.last_error_set),
                "exception": exception,
                "status": status,
                "why": why,
                "pass": pass,
                "expected": detail.map(|d| d.0),
                "actual": detail.map(|d| d.1),
            });
            let _ = writeln!(self.out, "{obj}");
        } else {
            // The running process is shown for statements that run in one (calls, accesses,
            // expectations); a `NAME>` prefix is already in the text.
            let in_process = matches!(
                stmt.kind,
                StmtKind::Assign { .. }
                    | StmtKind::Eval(_)
                    | StmtKind::Expect(_)
                    | StmtKind::Show(_)
            );
            let proc = if who.is_empty() || stmt.process.is_some() || !in_process {
                String::new()
            } else {
                format!("{who}> ")
            };
            if let Some(block) = result.strip_prefix('\n') {
                let _ = writeln!(self.out, "{:>4} {proc}{}", stmt.line, stmt.text);
                for l in block.lines() {
                    let _ = writeln!(self.out, "       {l}");
                }
            } else {
                let sep = if result.is_empty() { "" } else { " => " };
                let _ = writeln!(
                    self.out,
                    "{:>4} {proc}{}{sep}{result}",
                    stmt.line, stmt.text
                );
            }
            if pass == Some(false) {
                let _ = writeln!(self.out, "FAIL {}:{}: {}", self.file, stmt.line, stmt.text);
                if let Some((e, a)) = detail {
                    let _ = writeln!(self.out, "     expected: {e}");
                    let _ = writeln!(self.out, "     actual:   {a}");
                }
            }
        }
        if let Some(t) = &self.trace {
            let names = self
                .procs
                .iter()
                .map(|(n, id)| (id.raw(), n.clone()))
                .collect();
            for (line, event) in t.drain_events(&names) {
                if self.options.json {
                    let _ = writeln!(
                        self.out,
                        "{}",
                        serde_json::json!({"trace": line, "event": event})
                    );
                } else {
                    let _ = writeln!(self.out, "       {line}");
                }
            }
        }
    }

    fn describe(&self, outcome: &Outcome) -> String {
        if let Some(e) = outcome.exception {
            return format!("raises {} at {}", e.code(), e.address);
        }
        let full = self.options.full_values;
        match (&outcome.value, outcome.last_error) {
            (Value::Unit, _) => String::new(),
            (Value::Int(v), Some(le)) if outcome.native => format!(
                "{} (last error unchanged: {})",
                status_name(*v),
                Self::error_text(le)
            ),
            (v, Some(le)) if !outcome.last_error_set => format!(
                "{} (last error unchanged: {})",
                limits::show(v, full),
                Self::error_text(le)
            ),
            (v, Some(le)) => format!("{} ({})", limits::show(v, full), Self::error_text(le)),
            (v, None) => limits::show(v, full),
        }
    }

    /// Runs one statement; a failure counts and the run goes on — unless the run has exceeded
    /// its host-memory budget, after which every statement is refused.
    pub fn exec(&mut self, stmt: &Stmt) {
        if self.stopped {
            self.failed += 1;
            let msg = "error: the run has stopped: it exceeded its host-memory budget";
            self.record(stmt, "", msg, Some(false), None, None);
            return;
        }
        let saved = self.current.clone();
        let who = stmt
            .process
            .clone()
            .or_else(|| self.current.clone())
            .unwrap_or_default();
        if let Some(p) = &stmt.process {
            if !self.procs.contains_key(p) {
                self.failed += 1;
                self.record(
                    stmt,
                    &who,
                    &format!("error: no process named {p}"),
                    Some(false),
                    None,
                    None,
                );
                return;
            }
            self.current = Some(p.clone());
        }
        let r = self.exec_kind(stmt);
        if stmt.process.is_some() {
            self.current = saved;
        }
        let r = self.within_budget(stmt, r);
        match r {
            Ok(Done {
                result,
                pass,
                detail,
                outcome,
            }) => {
                match pass {
                    Some(true) => self.passed += 1,
                    Some(false) => self.failed += 1,
                    None => {}
                }
                let detail = detail.as_ref().map(|(e, a)| (e.as_str(), a.as_str()));
                self.record(stmt, &who, &result, pass, detail, outcome.as_ref());
            }
            Err(StmtError(msg)) => {
                self.failed += 1;
                self.record(
                    stmt,
                    &who,
                    &format!("error: {msg}"),
                    Some(false),
                    None,
                    None,
                );
            }
        }
    }

    fn exec_kind(&mut self, stmt: &Stmt) -> Result<Done, StmtError> {
        match &stmt.kind {
            StmtKind::Machine(pairs) => {
                if self.sys.is_some() {
                    return Err(StmtError(
                        "`machine` must come before the first process".into(),
                    ));
                }
                // Every key is checked against its limit before any is applied: a refused line
                // leaves the machine as it was.
                let (machine, budget) = limits::machine_line(self.machine, self.budget, pairs)
                    .map_err(|e| StmtError(e.to_string()))?;
                self.machine = machine;
                self.budget = budget;
                Ok(Done::quiet())
            }
            StmtKind::Process {
                name,
                parent,
                inherit,
                session,
                user,
                image,
            } => {
                if self.procs.contains_key(name) {
                    return Err(StmtError(format!("process {name} exists already")));
                }
                let parent = parent.as_ref().map(|p| self.pid_of(p)).transpose()?;
                let token = self.token_for(parent, *session, *user)?;
                let pid = self
                    .system()?
                    .create_process_with_token(parent, *inherit, token)
                    .map_err(|e| StmtError(e.to_string()))?;
                if let Some(path) = image {
                    images::map_executable(self, pid, path)?;
                }
                self.procs.insert(name.clone(), pid);
                self.current = Some(name.clone());
                Ok(Done::quiet())
            }
            StmtKind::Use(name) => {
                self.pid_of(name)?;
                self.current = Some(name.clone());
                Ok(Done::quiet())
            }
            StmtKind::Exit(name) => {
                let pid = self.pid_of(name)?;
                self.system()?
                    .exit_process(pid)
                    .map_err(|e| StmtError(e.to_string()))?;
                self.procs.remove(name);
                self.process_handles
                    .retain(|(a, b), _| *a != pid && *b != pid);
                Ok(Done::quiet())
            }
            StmtKind::File { name, init } => {
                let bytes = match init {
                    FileInit::Contents(e) => match self.eval(e)? {
                        v @ (Value::Str(_) | Value::Bytes(_)) => {
                            v.as_bytes().unwrap_or_default().to_vec()
                        }
                        other => {
                            return Err(StmtError(format!(
                                "file contents must be bytes, not {other}"
                            )))
                        }
                    },
                    FileInit::Size(e) => match self.eval(e)? {
                        // Zeros: no page of them is stored (`create_volume_file_sized`).
                        Value::Int(n) if n <= 1 << 30 => {
                            self.system()?
                                .create_volume_file_sized(name, &[], n)
                                .map_err(|e| StmtError(e.to_string()))?;
                            return Ok(Done::quiet());
                        }
                        Value::Int(n) => {
                            return Err(StmtError(format!(
                                "file size {n:#x} is larger than the 1 GiB a scenario file may have"
                            )))
                        }
                        other => return Err(StmtError(format!("bad file size {other}"))),
                    },
                };
                self.system()?
                    .create_volume_file(name, &bytes)
                    .map_err(|e| StmtError(e.to_string()))?;
                Ok(Done::quiet())
            }
            StmtKind::Image {
                name,
                base,
                sections,
            } => images::write(self, name, base, sections).map(Done::result),
            StmtKind::Trim(who) => {
                let n = match who {
                    Some(name) => {
                        let pid = self.pid_of(name)?;
                        self.system()?
                            .executive()
                            .trim(pid)
                            .map_err(|e| StmtError(e.to_string()))?
                    }
                    None => self.system()?.executive().trim_all(),
                };
                Ok(Done::result(format!("{} trimmed", crate::draw::pages(n))))
            }
            StmtKind::FlushModified => {
                let r = self.system()?.executive().run_writers();
                let mut s = format!(
                    "{}, {} written",
                    crate::draw::count(r.file_pages, "file page"),
                    crate::draw::count(r.pagefile_pages, "pagefile page")
                );
                if !r.errors.is_empty() {
                    let _ = write!(
                        s,
                        ", {} failed",
                        crate::draw::count(r.errors.len() as u64, "write")
                    );
                }
                Ok(Done::result(s))
            }
            StmtKind::Crash => self.crash(),
            StmtKind::Fail {
                kind,
                target,
                always,
            } => io_faults::fail(self, *kind, target, *always).map(Done::result),
            StmtKind::Heal => io_faults::heal(self).map(Done::result),
            StmtKind::Show(what) => {
                let text = show_form::show(self, what)?;
                Ok(Done::result(format!("\n{}", text.trim_end())))
            }
            StmtKind::Assign { var, expr } => {
                let done = self.evaluate(expr)?;
                // A statement that raised assigns nothing.
                if let Some(o) = done.outcome.as_ref().filter(|o| o.exception.is_none()) {
                    self.set_var(var.clone(), o.value.clone());
                }
                Ok(done)
            }
            StmtKind::Eval(expr) => self.evaluate(expr),
            StmtKind::Expect(e) => self.expect(e),
        }
    }

    /// Evaluates an expression statement: its outcome, failed if it raised an exception.
    fn evaluate(&mut self, expr: &Expr) -> Result<Done, StmtError> {
        let outcome = match expr {
            Expr::Call(c) => self.call(c)?,
            other => Outcome::value(self.eval(other)?),
        };
        let result = self.describe(&outcome);
        let (pass, detail) = match &outcome.exception {
            Some(x) => (
                Some(false),
                Some((
                    "no exception".into(),
                    format!("{} at {}", x.code(), x.address),
                )),
            ),
            None => (None, None),
        };
        Ok(Done {
            result,
            pass,
            detail,
            outcome: Some(outcome),
        })
    }

    fn expect(&mut self, e: &Expectation) -> Result<Done, StmtError> {
        match e {
            Expectation::Compare {
                lhs,
                op,
                rhs,
                error,
            } => {
                let outcome = match lhs {
                    Expr::Call(c) => self.call(c)?,
                    other => Outcome::value(self.eval(other)?),
                };
                if let Some(x) = outcome.exception {
                    let want = self.eval(rhs)?;
                    return Ok(Done {
                        result: "FAILED".into(),
                        pass: Some(false),
                        detail: Some((
                            want.to_string(),
                            format!("raises {} at {}", x.code(), x.address),
                        )),
                        outcome: Some(outcome),
                    });
                }
                let want = self.eval(rhs)?;
                let mut ok = crate::expr::compare(*op, &outcome.value, &want)?;
                let (want, mut actual) =
                    limits::show_pair(&want, &outcome.value, self.options.full_values);
                let mut expected = format!("{}{want}", crate::expr::expected_prefix(*op));
                if let Some(err) = error {
                    let want_err = match self.eval(err)? {
                        Value::Int(v) => v as u32,
                        other => {
                            return Err(StmtError(format!(
                                "an error code must be an integer, not {other}"
                            )))
                        }
                    };
                    let got = outcome.last_error.unwrap_or(0);
                    ok &= got == want_err;
                    expected = format!("{expected}, last error {}", Self::error_text(want_err));
                    actual = format!("{actual}, last error {}", Self::error_text(got));
                }
                Ok(Done {
                    result: if ok { "ok".into() } else { "FAILED".into() },
                    pass: Some(ok),
                    detail: (!ok).then_some((expected, actual)),
                    outcome: Some(outcome),
                })
            }
            Expectation::Raises { access, status } => {
                let Expr::Call(c) = access else {
                    return Err(StmtError("raises needs a memory access".into()));
                };
                let want = match self.eval(status)? {
                    Value::Int(v) => v,
                    other => {
                        return Err(StmtError(format!(
                            "a status must be an integer, not {other}"
                        )))
                    }
                };
                let outcome = self.call(c)?;
                let got = outcome.exception.map(|x| u64::from(x.code().raw()));
                let ok = got == Some(want);
                let actual = match outcome.exception {
                    Some(x) => format!("{} at {}", x.code(), x.address),
                    None => format!("no exception ({})", outcome.value),
                };
                Ok(Done {
                    result: if ok {
                        format!("ok ({actual})")
                    } else {
                        "FAILED".into()
                    },
                    pass: Some(ok),
                    detail: (!ok).then(|| (status_name(want), actual)),
                    outcome: Some(outcome),
                })
            }
            Expectation::Disk {
                name,
                offset,
                len,
                op,
                value,
            } => {
                // Only the part checked is read, and at most READ_LIMIT bytes of it.
                let (o, l) = match (offset, len) {
                    (Some(o), Some(l)) => match (self.eval(o)?, self.eval(l)?) {
                        (Value::Int(o), Value::Int(l)) => (o, l),
                        _ => return Err(StmtError("offset and len must be integers".into())),
                    },
                    _ => (0, u64::MAX),
                };
                let limit = READ_LIMIT as u64;
                let bytes = self
                    .system()?
                    .read_disk_range(name, o, l.min(limit + 1))
                    .map_err(|e| StmtError(format!("disk {name:?}: {e}")))?;
                if bytes.len() as u64 > limit {
                    return Err(StmtError(format!(
                        "disk {name:?}: more than the {} MiB a scenario reads at once; check a part with offset and len",
                        READ_LIMIT >> 20
                    )));
                }
                let got = Value::Bytes(bytes);
                let want = self.eval(value)?;
                let ok = crate::expr::compare(*op, &got, &want)?;
                Ok(Done {
                    result: if ok { "ok".into() } else { "FAILED".into() },
                    pass: Some(ok),
                    detail: (!ok).then(|| limits::show_pair(&want, &got, self.options.full_values)),
                    outcome: None,
                })
            }
        }
    }

    /// The token a `process` line asks for: `None` (the parent's, or the default) without
    /// `session` or `user`; each word overrides its part of the parent's (or default) token.
    fn token_for(
        &mut self,
        parent: Option<AsId>,
        session: Option<u32>,
        user: bool,
    ) -> Result<Option<ntmm_api::Token>, StmtError> {
        if session.is_none() && !user {
            return Ok(None);
        }
        let base = match parent {
            Some(p) => self
                .system()?
                .process_token(p)
                .map_err(|e| StmtError(e.to_string()))?,
            None => ntmm_api::Token::default(),
        };
        Ok(Some(ntmm_api::Token {
            session: session.unwrap_or(base.session),
            create_global: base.create_global && !user,
        }))
    }

    /// `crash`: a power loss (runner/durability.rs).
    fn crash(&mut self) -> Result<Done, StmtError> {
        let r = durability::crash(self);
        self.procs.clear();
        self.current = None;
        self.process_handles.clear();
        r.map(Done::result)
    }

    /// Ends the run as Windows shuts down (runner/durability.rs): every process exits and
    /// everything written reaches the volume durably. Anything that could not be written is a
    /// failure in the output. Call it once the last statement has run.
    pub fn finish(&mut self) {
        if let Some(sys) = self.sys.take() {
            durability::finish(self, sys);
        }
    }

    /// Sets a variable, keeping count of the bytes the variables hold (for the budget).
    pub(crate) fn set_var(&mut self, name: String, value: Value) {
        self.value_bytes += limits::value_bytes(&value);
        if let Some(old) = self.vars.insert(name, value) {
            self.value_bytes = self.value_bytes.saturating_sub(limits::value_bytes(&old));
        }
    }

    /// What the run holds on the host beyond its fixed machine (`crate::limits::Usage`).
    pub fn host_usage(&self) -> limits::Usage {
        limits::Usage {
            stores: self
                .sys
                .as_ref()
                .map_or(0, |s| s.executive().vmm().host_bytes()),
            values: self.value_bytes,
            transcript: self.out.len() as u64,
        }
    }

    /// A statement that took the run past its host-memory budget fails, drops what it
    /// assigned, and stops the run.
    fn within_budget(
        &mut self,
        stmt: &Stmt,
        r: Result<Done, StmtError>,
    ) -> Result<Done, StmtError> {
        let Some(msg) = self.host_usage().exceeds(self.budget) else {
            return r;
        };
        self.stopped = true;
        if let StmtKind::Assign { var, .. } = &stmt.kind {
            if let Some(old) = self.vars.remove(var) {
                self.value_bytes = self.value_bytes.saturating_sub(limits::value_bytes(&old));
            }
        }
        Err(StmtError(msg))
    }

    /// Tells `source`'s narrative as [`Runner::run_script`] runs its statements, if the options
    /// ask for narration in text mode (`source` is the text the script was parsed from).
    pub fn narrate(&mut self, source: &str) {
        if self.options.narrate && !self.options.json {
            self.narrative = Some(crate::narrative::Narrative::of(source));
        }
    }

    /// Runs a parsed script.
    pub fn run_script(&mut self, script: &Script) {
        self.run_script_observed(script, |_, _| {});
    }

    /// [`Runner::run_script`], calling `after` with the runner and each statement once it has
    /// run (the property tests check the machine's invariants there, after every step).
    pub fn run_script_observed(&mut self, script: &Script, mut after: impl FnMut(&Self, &Stmt)) {
        for s in &script.statements {
            let failed = self.failed;
            if let Some(n) = &mut self.narrative {
                self.out.push_str(&n.before(s.line));
            }
            let mark = self.out.len();
            self.exec(s);
            after(self, s);
            if self.narrative.is_some() {
                let told = self.out.split_off(mark);
                self.out
                    .push_str(&crate::narrative::fold(&told, crate::narrative::WIDTH));
            }
            // A file stops at a refused `machine` line (it would not run on the machine it asks
            // for) and where the budget is exceeded: one error, not one per later statement.
            let refused_machine = matches!(s.kind, StmtKind::Machine(_)) && self.failed > failed;
            if refused_machine || self.stopped {
                if !self.options.json {
                    let _ = writeln!(self.out, "     the rest of {} is not run", self.file);
                }
                return;
            }
        }
        if let Some(n) = &mut self.narrative {
            self.out.push_str(&n.rest());
        }
    }

    /// Counts so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.passed, self.failed)
    }

    /// Takes the output produced so far.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// The report of the run.
    pub fn report(mut self) -> FileReport {
        FileReport {
            passed: self.passed,
            failed: self.failed,
            output: std::mem::take(&mut self.out),
        }
    }
}

/// What a statement did.
pub(crate) struct Done {
    result: String,
    pass: Option<bool>,
    detail: Option<(String, String)>,
    outcome: Option<Outcome>,
}

impl Done {
    fn quiet() -> Self {
        Done {
            result: String::new(),
            pass: None,
            detail: None,
            outcome: None,
        }
    }
    fn result(s: String) -> Self {
        Done {
            result: s,
            pass: None,
            detail: None,
            outcome: None,
        }
    }
}

/// Parses and runs one scenario file on a fresh machine. A file that does not parse is reported
/// with its line and column and counts as one failure; nothing of it runs.
pub fn run_source(file: &str, source: &str, options: &Options) -> FileReport {
    match crate::parser::parse(source) {
        Err(e) => {
            let output = if options.json {
                format!(
                    "{}\n",
                    serde_json::json!({"file": file, "line": e.line, "column": e.col, "parse_error": e.message, "pass": false})
                )
            } else {
                format!(
                    "FAIL {file}:{}:{}: parse error: {}\n",
                    e.line, e.col, e.message
                )
            };
            FileReport {
                passed: 0,
                failed: 1,
                output,
            }
        }
        Ok(script) => {
            let mut r = Runner::new(file, options);
            r.narrate(source);
            r.run_script(&script);
            r.finish();
            r.report()
        }
    }
}

/// The closing line: `N passed, M failed`.
pub fn summary(passed: u64, failed: u64) -> String {
    format!("{passed} passed, {failed} failed")
}
