//! `ntmm replay`: a scenario as one self-contained HTML page that steps through it statement by
//! statement — the source with the current statement highlighted, the picture of the machine
//! after it, its `--trace` explanations (and `why` of a failed call), the page lists and
//! counters (`show memory`), and controls (first, previous, next, last, a slider, the arrow
//! keys, a link `#step-N` per statement). Boxes and edges that changed since the previous step
//! are drawn in red.
//!
//! How it is built: the scenario runs once, statement by statement, in the JSON protocol with
//! `--trace` on (docs/JSON.md), so each step carries exactly the trace lines and typed events
//! `ntmm run --trace` prints for that statement; after each statement the machine is
//! snapshotted as a [`Picture`](crate::draw::Picture) laid out in Rust
//! ([`Layout`](crate::draw::svg::Layout)) and as `show memory`'s
//! text. The page embeds that data as JSON, not one SVG per step: each distinct node id, box
//! content, placed box `[id, content, x, y]`, edge route `[from, to, points]` and `show memory`
//! text is stored once, and a step lists the indexes of its boxes and routes, which a few lines
//! of script join into the SVG (a box or edge unchanged from one step to the next costs a
//! number). Nothing is loaded
//! from anywhere: no network, no external script, style or font.

use crate::draw::svg::{self, Layout};
use crate::draw::Picture;
use crate::runner::{Options, Runner};
use crate::show::{self, ShowTarget};
use crate::{ast::StmtKind, ParseError};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One statement's step.
#[derive(Clone, Debug)]
pub struct Step {
    /// The statement's first line.
    pub line: usize,
    /// The statement's text.
    pub statement: String,
    /// The process it ran in, shown as `A> ` before it (for statements that run in a process
    /// and have no `NAME>` prefix, as the transcript shows them).
    pub process: Option<String>,
    /// What it printed after `=>` (empty: nothing).
    pub result: String,
    /// Whether its expectation held (`None`: not an expectation).
    pub pass: Option<bool>,
    /// The `why` of the call that failed in it.
    pub why: Option<String>,
    /// Its `--trace` lines, in order.
    pub trace: Vec<String>,
    /// Its typed events ([`crate::event_json`]), one per trace line.
    pub events: Vec<Value>,
    /// The machine after it (`None` before the machine starts).
    pub picture: Option<Picture>,
    /// `show memory` after it: the page lists, commit and working sets.
    pub memory: String,
}

/// A scenario run step by step.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The scenario's name (its file).
    pub name: String,
    /// Its source text.
    pub source: String,
    /// One step per statement run.
    pub steps: Vec<Step>,
}

impl Replay {
    /// Runs `source` (named `name`) statement by statement on a fresh machine, keeping each
    /// step; a source that does not parse is the parse error.
    pub fn record(name: &str, source: &str, options: &Options) -> Result<Replay, ParseError> {
        let script = crate::parser::parse(source)?;
        let options = Options {
            json: true,
            trace: true,
            narrate: false,
            ..options.clone()
        };
        let mut runner = Runner::new(name, &options);
        let mut steps = Vec::new();
        for stmt in &script.statements {
            let (_, failed_before) = runner.counts();
            runner.exec(stmt);
            let mut step = Step {
                line: stmt.line,
                statement: stmt.text.clone(),
                process: None,
                result: String::new(),
                pass: None,
                why: None,
                trace: Vec::new(),
                events: Vec::new(),
                picture: None,
                memory: String::new(),
            };
            for l in runner.take_output().lines() {
                let Ok(v) = serde_json::from_str::<Value>(l) else {
                    continue;
                };
                if let Some(t) = v.get("trace").and_then(Value::as_str) {
                    step.trace.push(t.to_string());
                    step.events
                        .push(v.get("event").cloned().unwrap_or(Value::Null));
                } else if v.get("statement").is_some() {
                    // As the transcript shows it: the process for statements that run in one,
                    // unless a `NAME>` prefix already says it.
                    let in_process = matches!(
                        stmt.kind,
                        StmtKind::Assign { .. }
                            | StmtKind::Eval(_)
                            | StmtKind::Expect(_)
                            | StmtKind::Show(_)
                    );
                    step.process = v["process"]
                        .as_str()
                        .filter(|_| in_process && stmt.process.is_none())
                        .map(str::to_string);
                    step.result = v["result"].as_str().unwrap_or("").to_string();
                    step.pass = v["pass"].as_bool();
                    step.why = v["why"].as_str().map(str::to_string);
                }
            }
            if let Some(sys) = runner.system_if_started() {
                let names = runner.process_names();
                step.picture = Some(sys.executive().vmm().inspect(|m| Picture::of(m, &names)));
                step.memory = show::render(sys, &ShowTarget::Memory, &names).unwrap_or_default();
            }
            steps.push(step);
            // As `run`: a refused `machine` line ends the file.
            let (_, failed) = runner.counts();
            if matches!(stmt.kind, StmtKind::Machine(_)) && failed > failed_before {
                break;
            }
        }
        Ok(Replay {
            name: name.to_string(),
            source: source.to_string(),
            steps,
        })
    }

    /// The data the page embeds (see the module's documentation).
    pub fn data(&self) -> Value {
        let mut ids: Interner = Interner::default();
        let mut bodies: Interner = Interner::default();
        let mut memories: Interner = Interner::default();
        // A box (id, content, x, y) and a route (from, to, points) as JSON text, stored once.
        let mut boxes: Interner = Interner::default();
        let mut routes: Interner = Interner::default();
        let mut steps = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let layout = s.picture.as_ref().map(Layout::of).unwrap_or_default();
            let title = Layout::title(&format!(
                "{} — step {} of {}, after line {}: {}",
                self.name,
                i + 1,
                self.steps.len(),
                s.line,
                s.statement
            ));
            let nodes: Vec<usize> = layout
                .nodes
                .iter()
                .map(|b| {
                    let placed = json!([ids.get(&b.id), bodies.get(&b.body), b.x, b.y]);
                    boxes.get(&placed.to_string())
                })
                .collect();
            let edges: Vec<usize> = layout
                .edges
                .iter()
                .map(|e| {
                    let route = json!([ids.get(&e.from), ids.get(&e.to), e.points_attr()]);
                    routes.get(&route.to_string())
                })
                .collect();
            steps.push(json!({
                "line": s.line,
                "statement": s.statement,
                "process": s.process,
                "result": s.result,
                "pass": s.pass,
                "why": s.why,
                "trace": s.trace,
                "title": title,
                "height": if s.picture.is_some() { layout.height } else { 0 },
                "nodes": nodes,
                "edges": edges,
                "memory": memories.get(&s.memory),
            }));
        }
        json!({
            "name": self.name,
            "source": self.source.lines().collect::<Vec<_>>(),
            "common": Layout::common(),
            "width": svg::WIDTH,
            "ids": ids.all,
            "bodies": bodies.all,
            "memories": memories.all,
            "boxes": boxes.all.iter().map(|b| serde_json::from_str(b).unwrap_or(Value::Null)).collect::<Vec<Value>>(),
            "routes": routes.all.iter().map(|r| serde_json::from_str(r).unwrap_or(Value::Null)).collect::<Vec<Value>>(),
            "steps": steps,
        })
    }

    /// The page: one self-contained HTML document.
    pub fn html(&self) -> String {
        // `</` would end the script element and `<!` could start a comment in it: JSON writes
        // them `<\/` and `<\u0021` (both only occur inside strings).
        let data = self
            .data()
            .to_string()
            .replace("</", "<\\/")
            .replace("<!", "<\\u0021");
        let (head, tail) = PAGE.split_once("{{DATA}}").unwrap_or((PAGE, ""));
        let mut page = head.replace("{{TITLE}}", &crate::draw::xml(&self.name));
        page.push_str(&data);
        page.push_str(tail);
        page
    }
}

/// Strings stored once, named by their index.
#[derive(Default)]
struct Interner {
    all: Vec<String>,
    index: BTreeMap<String, usize>,
}

impl Interner {
    fn get(&mut self, s: &str) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        self.all.push(s.to_string());
        self.index.insert(s.to_string(), self.all.len() - 1);
        self.all.len() - 1
    }
}

/// The page around the data: inline style and script only.
const PAGE: &str = include_str!("replay.html");
