//! The `ntmm` command line: run scenarios, explore interactively, tour the model, draw it.

mod editor;
mod line;
#[macro_use]
mod output;
mod replay;

use clap::{Args, Parser, Subcommand, ValueEnum};
use line::MAX_LINE;
use ntmm::api::Volume;
use ntmm::scenario::lexer::strip_comment;
use ntmm::scenario::{run_source, summary, Options, Runner};
use ntmm::vmm::{limits, VmmConfig, WriterPolicy};
use std::path::PathBuf;
use std::process::ExitCode;

/// ntmm — the Windows NT section/view memory model, emulated and made visible.
#[derive(Parser, Debug)]
#[command(name = "ntmm", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    machine: MachineArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Machine options (a scenario's `machine` line overrides them).
#[derive(Args, Debug, Clone)]
struct MachineArgs {
    /// Physical frames (4 KiB pages), 4..=1048576.
    #[arg(long, global = true, default_value_t = VmmConfig::default().frames.into(), value_parser = limited(&limits::FRAMES))]
    frames: u64,
    /// Pagefile size in pages, 1..=16777216.
    #[arg(long, global = true, default_value_t = VmmConfig::default().pagefile_pages.into(), value_parser = limited(&limits::PAGEFILE))]
    pagefile: u64,
    /// Default working-set maximum in pages, 2..=1048576.
    #[arg(long, global = true, default_value_t = VmmConfig::default().working_set_max, value_parser = limited(&limits::WORKING_SET))]
    workingset: u64,
    /// Host-memory budget of a run in bytes (stores, values, transcript; default 1 GiB),
    /// 1048576..=17179869184.
    #[arg(long, global = true, value_name = "BYTES", value_parser = limited(&ntmm::scenario::limits::BUDGET))]
    budget: Option<u64>,
    /// When the mapped page writer writes file pages.
    #[arg(long, global = true, value_enum, default_value_t = Writer::Lazy)]
    writer: Writer,
    /// Keep files in this host directory instead of in memory.
    #[arg(long, global = true)]
    volume: Option<PathBuf>,
}

/// A clap parser for a bounded option: the value checked against its limit (one table for the
/// command line, the `machine` line and `System::new`), decimal or `0x` hex.
fn limited(limit: &'static limits::Limit) -> impl Fn(&str) -> Result<u64, String> + Clone {
    move |s: &str| limit.parse(s).map_err(|e| e.to_string())
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Writer {
    /// Write a file page as soon as it reaches the modified list.
    Eager,
    /// Wait for memory pressure or `flush-modified`.
    Lazy,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenario files (.ntm), each on a fresh machine; ends with `N passed, M failed` and
    /// exits 0 only if nothing failed.
    Run {
        /// The scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per statement (the oracle protocol, see docs/JSON.md).
        #[arg(long)]
        json: bool,
        /// Explain every fault and transition in one line.
        #[arg(long)]
        trace: bool,
        /// `--trace`, and the machine's bookkeeping too: address spaces and segments made and
        /// deleted, every frame move between lists, every page I/O (docs/GLOSSARY.md).
        #[arg(long)]
        trace_all: bool,
        /// Echo byte values whole (they are shown as length and prefix past 64 bytes).
        #[arg(long)]
        full_values: bool,
        /// Tell each file's own-line comments (`## Heading`, `# prose`) before the statements
        /// they precede, and fold lines at 80 columns, as `ntmm demo` does (text mode only).
        #[arg(long)]
        narrate: bool,
    },
    /// Type scenario statements interactively (`help` for help, `quit` to leave); ends with
    /// `N passed, M failed` and exits 0 only if nothing failed.
    ///
    /// Every input line is answered. A line that is not UTF-8 text, is longer than 1 MiB or does
    /// not parse, and a statement cut by the end of input (after a `\`), are answered with a
    /// parse error, not run, and counted as failures; the session goes on.
    Repl {
        /// Explain every fault and transition in one line.
        #[arg(long)]
        trace: bool,
        /// Answer each statement with JSON objects instead of text, without prompts: the oracle
        /// protocol driven one statement at a time (docs/JSON.md).
        #[arg(long)]
        json: bool,
    },
    /// The guided tour: the classic cases, every fault explained, and a picture at the end.
    Demo {
        /// Also write the final picture as SVG.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Also write the final picture as Graphviz DOT.
        #[arg(long)]
        dot: Option<PathBuf>,
        /// Also write the tour as a step-through HTML page (as `ntmm replay`).
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Write a scenario as one self-contained HTML page that steps through it: the source, the
    /// picture after each statement, its trace, the page lists; arrows, slider, `#step-N` links.
    Replay {
        /// The scenario.
        file: PathBuf,
        /// The page to write.
        #[arg(short, long, value_name = "FILE.html")]
        output: PathBuf,
    },
    /// Run a scenario and draw the machine as it ends (SVG and DOT; a text tree on stdout).
    Draw {
        /// The scenario.
        file: PathBuf,
        /// Write the SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Write the DOT here.
        #[arg(long)]
        dot: Option<PathBuf>,
    },
    /// Print the machine options and their defaults.
    Machine,
    /// Benchmarks: each workload on ntmm and, interleaved in the same run, its host-kernel
    /// equivalent; p10, median and p90 per operation and the ratio of the medians ntmm / host.
    Bench {
        /// One JSON object per row: name, unit, ntmm, host, ratio, plus ntmm_p10/ntmm_p90,
        /// host_p10/host_p90 and ratio_of.
        #[arg(long)]
        json: bool,
        /// Fewer repetitions and smaller sizes (a smoke run).
        #[arg(long)]
        quick: bool,
        /// Only the workloads whose names start with this (e.g. `map_unmap`, `share_fault`).
        #[arg(long, value_name = "PREFIX")]
        only: Option<String>,
    },
}

/// Counts heap bytes so that `ntmm bench` can report metadata per page (stats_alloc: a thin
/// counter over the system allocator; the access paths it measures do not allocate).
#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Net heap bytes allocated so far. stats_alloc already counts a reallocation's growth in
/// `bytes_allocated` (and its shrinkage in `bytes_deallocated`); `bytes_reallocated` repeats
/// that change and must not be added again.
fn heap_bytes() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

const DEMO: &str = include_str!("../examples/00_demo_tour.ntm");

const REPL_HELP: &str = "\
Statements are those of the scenario language (docs/SCENARIO.md):
  process A / use A / exit A / A> STATEMENT
  h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, \"Local\\\\Foo\")
  p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)
  write(p, \"hello\")   x = read(p, 5)   write32(p, 7)   read32(p)
  x   p + 0x10   mbi.State   a bare expression or variable: its value
  expect read(p, 5) == \"hello\"
  file \"data.bin\" = \"contents\"   trim A   trim all   flush-modified
  crash                a power loss: only durable file data survives; new machine, no processes
  fail read \"data.bin\" page 2 [always]   fail write pagefile   heal     (I/O faults)
  image \"app.dll\" base 0x180000000 section \".text\" rx \"code\" section \".s\" rws size 0x1000
  b = LoadLibrary(\"app.dll\")   FreeLibrary(b)   process B image \"app.exe\"     (images)
  NtMapViewOfSection(h, GetCurrentProcess(), &base, 0, 0, NULL, &size, ViewShare, 0, PAGE_READWRITE)
  ReadProcessMemory(B, p, &data, 16, &n)   OpenProcess(PROCESS_VM_READ, FALSE, B)
  show pte p   show pfn 0x12   show vad A   show section h   show memory
  draw                 print the machine as a tree
  help / quit          (`# comment` may follow any line)
On a terminal: arrow keys edit the line and recall earlier ones (history is kept in memory
only), Ctrl-C drops the line being typed, Ctrl-D ends the session.";

fn options(m: &MachineArgs, json: bool, trace: bool) -> Options {
    Options {
        // The parsers bounded frames and pagefile within u32.
        machine: VmmConfig {
            frames: m.frames as u32,
            pagefile_pages: m.pagefile as u32,
            working_set_max: m.workingset,
            writer: match m.writer {
                Writer::Eager => WriterPolicy::Eager,
                Writer::Lazy => WriterPolicy::Lazy,
            },
        },
        volume: m
            .volume
            .clone()
            .map_or(Volume::Memory, Volume::HostDirectory),
        json,
        trace,
        trace_all: false,
        budget: m.budget,
        full_values: false,
        narrate: false,
    }
}

fn picture(r: &Runner) -> Option<ntmm::scenario::draw::Picture> {
    let sys = r.system_if_started()?;
    let names = r.process_names();
    Some(
        sys.executive()
            .vmm()
            .inspect(|m| ntmm::scenario::draw::Picture::of(m, &names)),
    )
}

fn write_pictures(
    p: &ntmm::scenario::draw::Picture,
    svg: &Option<PathBuf>,
    dot: &Option<PathBuf>,
) -> Result<(), String> {
    if let Some(path) = svg {
        std::fs::write(path, p.svg())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        outln!("picture written to {}", path.display());
    }
    if let Some(path) = dot {
        std::fs::write(path, p.dot())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        outln!("picture written to {}", path.display());
    }
    Ok(())
}

fn run_tour(
    name: &str,
    source: &str,
    opts: &Options,
    svg: &Option<PathBuf>,
    dot: &Option<PathBuf>,
) -> ExitCode {
    let script = match ntmm::scenario::parse(source) {
        Ok(s) => s,
        Err(e) => {
            errln!("ntmm: {name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut r = Runner::new(name, opts);
    r.narrate(source);
    r.run_script(&script);
    out!("{}", r.take_output());
    if let Some(p) = picture(&r) {
        outln!("\nThe machine at the end, as a tree: processes → regions (VADs) → PTEs →\nprototype PTEs → frames → backing store.");
        out!("{}", p.text());
        if let Err(e) = write_pictures(&p, svg, dot) {
            errln!("ntmm: {e}");
            return ExitCode::FAILURE;
        }
    }
    r.finish();
    out!("{}", r.take_output());
    let (passed, failed) = r.counts();
    outln!("{}", summary(passed, failed));
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One line of the repl's JSON mode: an object with a single `key`.
fn json_line(key: &str, value: serde_json::Value) -> String {
    serde_json::json!({ key: value }).to_string()
}

/// Answers a line the runner never saw (it is not UTF-8, too long, does not parse, or the input
/// ended inside it) as a parse error: an object in JSON mode, a message otherwise.
fn reject(json: bool, line: usize, column: usize, message: &str) {
    if json {
        outln!(
            "{}",
            serde_json::json!({"file": "repl", "line": line, "column": column,
                "parse_error": message, "pass": false})
        );
    } else {
        outln!("parse error: column {column}: {message}");
    }
}

/// The repl: statements one line at a time (`\` continues), answered as they come. Every line
/// is answered, a bad one included; the session ends at `quit` or the end of the input, with
/// `N passed, M failed` (rejected lines count as failures) and `run`'s exit status.
fn repl(opts: &Options) -> ExitCode {
    let json = opts.json;
    let mut runner = Runner::new("repl", opts);
    let mut input = editor::Lines::new(json);
    let mut pending = String::new();
    let mut line_no = 0usize;
    // Lines answered with a parse error: each is a failure.
    let mut rejected = 0u64;
    if !json {
        outln!("ntmm repl — `help` for help, `quit` to leave");
    }
    loop {
        // The prompt; in JSON mode an object that also ends the answer to the previous line, so
        // a program driving the repl reads up to it after each line it sends. The line editor
        // prints its own.
        let prompt = if pending.is_empty() {
            "ntmm> "
        } else {
            "....> "
        };
        if json {
            let mut ready = serde_json::json!({ "ready": line_no + 1 });
            if !pending.is_empty() {
                ready["continuing"] = true.into();
            }
            outln!("{ready}");
        } else if !input.prompts() {
            out!("{prompt}");
        }
        output::flush();
        let bytes = match input.read(prompt) {
            Ok(line::Input::Line(b)) => b,
            Ok(line::Input::Cancelled) => {
                pending.clear();
                continue;
            }
            Ok(line::Input::TooLong) => {
                line_no += 1;
                pending.clear();
                rejected += 1;
                reject(json, line_no, 1, &format!(
                    "the line is longer than the {} MiB a repl line may have; it was discarded and its statement not run",
                    MAX_LINE >> 20
                ));
                continue;
            }
            Ok(line::Input::End) => {
                if !json {
                    outln!();
                }
                if !pending.is_empty() {
                    rejected += 1;
                    reject(json, line_no, 1, "end of input inside a continued statement (its last line ends with `\\`); the statement is not run");
                }
                break;
            }
            Err(e) => {
                rejected += 1;
                reject(json, line_no + 1, 1, &format!("cannot read the input: {e}"));
                break;
            }
        };
        line_no += 1;
        let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
            Some(rest) if line_no == 1 => rest,
            _ => &bytes[..],
        };
        let line = match std::str::from_utf8(bytes) {
            Ok(l) => l,
            Err(e) => {
                let good = &bytes[..e.valid_up_to()];
                let column = String::from_utf8_lossy(good).chars().count() + 1;
                pending.clear();
                rejected += 1;
                reject(
                    json,
                    line_no,
                    column,
                    &format!(
                        "the line is not valid UTF-8 text (byte {:#04x}); its statement is not run",
                        bytes[e.valid_up_to()]
                    ),
                );
                continue;
            }
        };
        // A comment is no part of a statement or a repl command (`quit  # done`).
        let trimmed = strip_comment(line).trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let text = std::mem::take(&mut pending);
        match text.trim() {
            "" => continue,
            "quit" | "q" => break,
            "help" | "?" => {
                if json {
                    outln!("{}", json_line("help", REPL_HELP.into()));
                } else {
                    outln!("{REPL_HELP}");
                }
                continue;
            }
            "draw" => {
                let text = picture(&runner).map(|p| p.text());
                if json {
                    outln!("{}", json_line("draw", text.into()));
                } else {
                    match text {
                        Some(t) => out!("{t}"),
                        None => outln!("(no machine yet: start with `process A`)"),
                    }
                }
                continue;
            }
            _ => {}
        }
        match ntmm::scenario::parse(&text) {
            Ok(script) => {
                for mut s in script.statements {
                    s.line = line_no;
                    runner.exec(&s);
                }
                out!("{}", runner.take_output());
            }
            // Not a statement: a bare expression or variable is shown with its value.
            Err(e) => match ntmm::scenario::parse_expression_statement(&text, line_no) {
                Ok(s) => {
                    runner.exec(&s);
                    out!("{}", runner.take_output());
                }
                Err(_) => {
                    rejected += 1;
                    reject(json, line_no, e.col, &e.message);
                }
            },
        }
    }
    runner.finish();
    out!("{}", runner.take_output());
    let (passed, failed) = runner.counts();
    let failed = failed + rejected;
    outln!("{}", summary(passed, failed));
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let code = command();
    output::flush();
    if output::failed() {
        ExitCode::FAILURE
    } else {
        code
    }
}

/// Runs the command line's command; its exit status.
fn command() -> ExitCode {
    let cli = Cli::parse();
    if std::env::var_os("RUST_LOG").is_some() {
        // Raw tracing events (filtered by RUST_LOG) on standard error, outside traced statements.
        let _ = tracing_subscriber_init();
    }
    match cli.command.unwrap_or(Command::Demo {
        svg: None,
        dot: None,
        html: None,
    }) {
        Command::Run {
            files,
            json,
            trace,
            trace_all,
            full_values,
            narrate,
        } => {
            let opts = Options {
                full_values,
                narrate,
                trace_all,
                ..options(&cli.machine, json, trace)
            };
            let (mut passed, mut failed) = (0, 0);
            for f in &files {
                let name = f.display().to_string();
                let report = match ntmm::scenario::limits::read_source(f) {
                    Ok(src) => run_source(&name, &src, &opts),
                    Err(e) => ntmm::scenario::FileReport {
                        passed: 0,
                        failed: 1,
                        output: format!("FAIL {name}: {e}\n"),
                    },
                };
                out!("{}", report.output);
                passed += report.passed;
                failed += report.failed;
            }
            outln!("{}", summary(passed, failed));
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Repl { trace, json } => repl(&options(&cli.machine, json, trace)),
        Command::Replay { file, output } => {
            replay::command(&file, &output, &options(&cli.machine, false, true))
        }
        Command::Demo { svg, dot, html } => {
            if let Some(page) = &html {
                let opts = options(&cli.machine, false, true);
                match replay::write_page("demo", DEMO, &opts, page) {
                    Ok(steps) => outln!("{steps} steps written to {}", page.display()),
                    Err(e) => {
                        errln!("ntmm: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            run_tour(
                "demo",
                DEMO,
                &Options {
                    narrate: true,
                    ..options(&cli.machine, false, true)
                },
                &svg,
                &dot,
            )
        }
        Command::Draw { file, svg, dot } => {
            let src = match ntmm::scenario::limits::read_source(&file) {
                Ok(s) => s,
                Err(e) => {
                    errln!("ntmm: {}: {e}", file.display());
                    return ExitCode::FAILURE;
                }
            };
            run_tour(
                &file.display().to_string(),
                &src,
                &options(&cli.machine, false, false),
                &svg,
                &dot,
            )
        }
        Command::Machine => {
            let d = VmmConfig::default();
            outln!("machine keys (scenario `machine` line, or --frames/--pagefile/--workingset/--writer/--budget):");
            let defaults = [
                u64::from(d.frames),
                u64::from(d.pagefile_pages),
                d.working_set_max,
                ntmm::scenario::limits::DEFAULT_BUDGET,
            ];
            let table = limits::MACHINE_LIMITS
                .iter()
                .chain([&ntmm::scenario::limits::BUDGET]);
            for (l, v) in table.zip(defaults) {
                let key = format!("{}={v}", l.key);
                outln!("  {key:<18} {} ({}..={})", l.unit, l.min, l.max);
            }
            outln!("  writer=lazy        eager: file pages written as they reach the modified list; lazy: on pressure or flush-modified");
            ExitCode::SUCCESS
        }
        Command::Bench { json, quick, only } => match ntmm_bench::run(ntmm_bench::Settings {
            quick,
            only,
            heap_bytes: Some(heap_bytes),
        }) {
            Ok(rows) if json => {
                for r in &rows {
                    outln!("{}", r.json());
                }
                ExitCode::SUCCESS
            }
            Ok(rows) => {
                out!("{}", ntmm_bench::table(&rows));
                ExitCode::SUCCESS
            }
            Err(e) => {
                errln!("ntmm bench: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn tracing_subscriber_init() -> Result<(), ()> {
    ntmm::scenario::trace::init_raw_logging().map_err(|_| ())
}
