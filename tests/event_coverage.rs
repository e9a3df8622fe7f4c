//! Every variant of the typed event stream (`VmmEvent`, `SectionEvent`, `ApiEvent`) is produced
//! by some example or by one of the small scenarios below. The full list of kinds comes from
//! the enums themselves (`strum::EnumIter` on their discriminants), so a new variant that
//! nothing emits fails this test.
#![allow(clippy::tests_outside_test_module)]

use ntmm::api::{ApiEventKind, Event};
use ntmm::scenario::{Options, Runner};
use ntmm::section::SectionEventKind;
use ntmm::vmm::{VmmConfig, VmmEventKind, WriterPolicy};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use strum::IntoEnumIterator;

/// A kind of any layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Vmm(VmmEventKind),
    Section(SectionEventKind),
    Api(ApiEventKind),
}

fn kind(e: &Event) -> Kind {
    match e {
        Event::Vmm(e) => Kind::Vmm(e.kind()),
        Event::Section(e) => Kind::Section(e.kind()),
        Event::Api(e) => Kind::Api(e.kind()),
    }
}

/// Runs a scenario and adds the kinds of the events it produced to `seen`; the scenario must
/// pass.
fn run(name: &str, source: &str, options: &Options, seen: &Arc<Mutex<BTreeSet<Kind>>>) {
    let script = ntmm::scenario::parse(source).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let mut r = Runner::new(name, options);
    let into = Arc::clone(seen);
    r.subscribe(Arc::new(move |e: &Event| {
        into.lock().unwrap().insert(kind(e));
    }));
    r.run_script(&script);
    r.finish();
    let report = r.report();
    assert_eq!(report.failed, 0, "{name} failed:\n{}", report.output);
}

/// Events the examples do not produce, each in a few lines.
const SCENARIOS: &[(&str, &str)] = &[
    (
        // §6.2 point 4: a new section on a file whose control area is parked revives it.
        "revive-a-parked-control-area",
        r#"file "r.bin" size 0x1000
process A
A> hf = CreateFile("r.bin", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
A> hm = CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0, NULL)
A> p = MapViewOfFile(hm, FILE_MAP_WRITE, 0, 0, 0)
A> write(p, "x")
A> expect UnmapViewOfFile(p) == TRUE
A> expect CloseHandle(hm) == TRUE
A> hm2 = CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0, NULL)
"#,
    ),
    (
        // A duplicated handle, on a small machine with the eager writer.
        "duplicate-a-handle",
        r#"process A
A> h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x2000, "Dup")
A> DuplicateHandle(A, h, A, &d, 0, FALSE, DUPLICATE_SAME_ACCESS)
A> p = MapViewOfFile(d, FILE_MAP_WRITE, 0, 0, 0)
A> write(p, "x")
A> expect CloseHandle(h) == TRUE
A> expect CloseHandle(d) == TRUE
"#,
    ),
];

#[test]
fn every_event_variant_is_produced_by_an_example_or_a_scenario() {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut examples: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ntm"))
        .collect();
    examples.sort();
    let small = Options {
        machine: VmmConfig {
            frames: 64,
            working_set_max: 8,
            writer: WriterPolicy::Eager,
            ..VmmConfig::default()
        },
        ..Options::default()
    };
    for path in &examples {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.display().to_string();
        run(&name, &source, &Options::default(), &seen);
    }
    for (name, source) in SCENARIOS {
        run(name, source, &small, &seen);
    }
    let seen = seen.lock().unwrap();
    let all = VmmEventKind::iter()
        .map(Kind::Vmm)
        .chain(SectionEventKind::iter().map(Kind::Section))
        .chain(ApiEventKind::iter().map(Kind::Api));
    let missing: Vec<Kind> = all.filter(|k| !seen.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "event kinds no example or scenario produces: {missing:?}"
    );
}
