//! The replay page's data checked against the run's own events: each step has exactly the
//! statement and trace lines `ntmm run --json --trace` prints for it, and the picture of each
//! step agrees with the faults the trace told (the PTE valid, the frame active). The page is
//! self-contained, and a 200-statement scenario's page stays under 1 MiB.

use ntmm_scenario::replay::Replay;
use ntmm_scenario::{run_source, Options};
use serde_json::Value;
use std::path::Path;

/// The statements of a run as `--json --trace` prints them: (line, statement, trace lines,
/// events).
fn run_steps(name: &str, source: &str) -> Vec<(u64, String, Vec<String>, Vec<Value>)> {
    let out = run_source(
        name,
        source,
        &Options {
            json: true,
            trace: true,
            ..Options::default()
        },
    )
    .output;
    let mut steps: Vec<(u64, String, Vec<String>, Vec<Value>)> = Vec::new();
    for l in out.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        if let Some(t) = v.get("trace") {
            let last = steps.last_mut().expect("a trace line after a statement");
            last.2.push(t.as_str().unwrap().to_string());
            last.3.push(v["event"].clone());
        } else if v.get("statement").is_some() {
            steps.push((
                v["line"].as_u64().unwrap(),
                v["statement"].as_str().unwrap().to_string(),
                vec![],
                vec![],
            ));
        }
    }
    steps
}

/// Every fault of a step that no later event of the same step undoes: (process, va, frame).
pub fn settled_faults(events: &[Value]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e["kind"] != "FaultResolved" {
            continue;
        }
        let (va, pfn) = (e["va"].as_str().unwrap(), e["pfn"].as_str().unwrap());
        let later = events[i + 1..].iter().any(|x| {
            x.get("va").and_then(Value::as_str) == Some(va)
                || x.get("pfn").and_then(Value::as_str) == Some(pfn)
                || x["kind"] == "ProcessExited"
        });
        if !later {
            // The PTE is named by its page's address.
            let page = u64::from_str_radix(va.trim_start_matches("0x"), 16).unwrap() & !0xFFF;
            out.push((
                e["process"].as_str().unwrap().to_string(),
                format!("{page:#x}"),
                pfn.to_string(),
            ));
        }
    }
    out
}

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(name),
    )
    .unwrap()
}

#[test]
fn each_step_carries_what_the_trace_says_and_its_picture_agrees() {
    for name in [
        "12_memory_pressure.ntm",
        "00_demo_tour.ntm",
        "07_copy_on_write.ntm",
    ] {
        let source = example(name);
        let replay = Replay::record(name, &source, &Options::default()).unwrap();
        let expected = run_steps(name, &source);
        assert_eq!(
            replay.steps.len(),
            expected.len(),
            "{name}: one step a statement"
        );
        let mut checked = 0;
        for (i, (step, (line, stmt, trace, events))) in
            replay.steps.iter().zip(&expected).enumerate()
        {
            assert_eq!(step.line as u64, *line, "{name} step {}", i + 1);
            assert_eq!(&step.statement, stmt, "{name} step {}", i + 1);
            assert_eq!(&step.trace, trace, "{name} step {}: the trace", i + 1);
            assert_eq!(&step.events, events, "{name} step {}: the events", i + 1);
            let pic = step.picture.as_ref();
            for (process, va, pfn) in settled_faults(events) {
                let pic = pic.expect("a machine after a fault");
                let pte = pic
                    .nodes
                    .iter()
                    .find(|n| n.head == format!("{process}!{va}"))
                    .unwrap_or_else(|| panic!("{name} step {}: no PTE {process}!{va}", i + 1));
                assert!(
                    pte.state.starts_with("valid"),
                    "{name} step {}: {process}!{va} is {} after its fault",
                    i + 1,
                    pte.state
                );
                let frame = pic
                    .nodes
                    .iter()
                    .find(|n| n.head == format!("frame {pfn}"))
                    .unwrap_or_else(|| panic!("{name} step {}: no frame {pfn}", i + 1));
                assert!(frame.state.starts_with("active"), "{name}: {}", frame.state);
                // The PTE leads to that frame, directly or through its prototype PTE.
                let to = |a: &str| -> Vec<String> {
                    pic.edges
                        .iter()
                        .filter(|(x, _)| x == a)
                        .map(|(_, b)| b.clone())
                        .collect()
                };
                let reach: Vec<String> = to(&pte.id)
                    .into_iter()
                    .flat_map(|b| {
                        let mut v = to(&b);
                        v.push(b);
                        v
                    })
                    .collect();
                assert!(
                    reach.contains(&frame.id),
                    "{name} step {}: {process}!{va} does not lead to frame {pfn}",
                    i + 1
                );
                checked += 1;
            }
        }
        assert!(checked > 1, "{name}: the faults were checked ({checked})");
    }
}

#[test]
fn the_page_is_self_contained_and_embeds_every_step() {
    let source = example("12_memory_pressure.ntm");
    let replay = Replay::record("12", &source, &Options::default()).unwrap();
    let html = replay.html();
    for bad in [
        "http://",
        "https://",
        " src=",
        "<link",
        "@import",
        "@font-face",
    ] {
        assert!(!html.contains(bad), "the page contains {bad:?}");
    }
    // The data parses and holds every step, the statement's line and trace.
    let start = html.find("id=\"data\">").unwrap() + 10;
    let end = start + html[start..].find("</script>").unwrap();
    let data: Value = serde_json::from_str(&html[start..end]).unwrap();
    let steps = data["steps"].as_array().unwrap();
    assert_eq!(steps.len(), replay.steps.len());
    for (s, d) in replay.steps.iter().zip(steps) {
        assert_eq!(d["line"], s.line as u64);
        assert_eq!(d["trace"], serde_json::json!(s.trace));
    }
    // A scenario that writes `</script>` cannot end the data early.
    let tricky = Replay::record(
        "t",
        "process A\nx = \"</script><!--\"\n",
        &Options::default(),
    )
    .unwrap()
    .html();
    assert_eq!(
        tricky.matches("</script>").count(),
        2,
        "the data and the code"
    );
}

/// The 200-statement scenario of the size bound: private pages and a shared view written in
/// turn, trimmed every 25 statements (80 pages touched, so the columns fold).
pub fn scenario_200() -> String {
    let mut lines = vec![
        "machine frames=64 pagefile=256 workingset=16".to_string(),
        "process A".into(),
        "p = VirtualAlloc(NULL, 0x40000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)".into(),
        "h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, \"Local\\\\S\")".into(),
        "v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)".into(),
    ];
    while lines.len() < 200 {
        let k = lines.len();
        lines.push(if k % 25 == 0 {
            "trim A".into()
        } else if k % 3 == 0 {
            format!("write8(v + {:#x}, {})", (k % 16) * 0x1000, k % 256)
        } else {
            format!("write8(p + {:#x}, {})", (k % 64) * 0x1000, k % 256)
        });
    }
    lines.join("\n") + "\n"
}

#[test]
fn a_200_statement_scenario_page_stays_under_1_mib() {
    let replay = Replay::record("s200", &scenario_200(), &Options::default()).unwrap();
    assert_eq!(replay.steps.len(), 200);
    assert!(replay.steps.iter().all(|s| s.pass != Some(false)));
    let size = replay.html().len();
    assert!(size < 1 << 20, "the page is {size} bytes");
}
