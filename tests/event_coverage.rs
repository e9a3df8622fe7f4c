//! Every variant of the typed event stream (`VmmEvent`, `SectionEvent`, `ApiEvent`) is produced
//! by some example or by one of the small scenarios of `tests/golden/scenarios`, and told in
//! their golden `--trace-all` transcripts. The full list of kinds comes from
//! the enums themselves (`strum::EnumIter` on their discriminants), so a new variant that
//! nothing emits fails this test.
#![allow(clippy::tests_outside_test_module)]

use ntmm::api::{ApiEventKind, Event};
use ntmm::scenario::trace::explain_all;
use ntmm::scenario::{Options, Runner};
use ntmm::section::SectionEventKind;
use ntmm::vmm::VmmEventKind;
use std::collections::{BTreeMap, BTreeSet};
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
/// pass, and every event it produced must have a `--trace-all` sentence (so it is in the
/// golden `NAME.trace-all.txt` transcript, tests/golden_trace.rs).
fn run(name: &str, source: &str, seen: &Arc<Mutex<BTreeSet<Kind>>>) {
    let script = ntmm::scenario::parse(source).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let mut r = Runner::new(name, &Options::default());
    let into = Arc::clone(seen);
    let untold = Arc::new(Mutex::new(Vec::new()));
    let untold_into = Arc::clone(&untold);
    r.subscribe(Arc::new(move |e: &Event| {
        into.lock().unwrap().insert(kind(e));
        if explain_all(e, &BTreeMap::new()).is_none() {
            untold_into.lock().unwrap().push(format!("{e:?}"));
        }
    }));
    r.run_script(&script);
    r.finish();
    let report = r.report();
    assert_eq!(report.failed, 0, "{name} failed:\n{}", report.output);
    let untold = untold.lock().unwrap();
    assert!(
        untold.is_empty(),
        "{name}: events with no sentence: {untold:?}"
    );
}

/// Every event kind is produced by the sources of the golden transcripts (the examples and
/// `tests/golden/scenarios`), and told there.
#[test]
fn every_event_variant_appears_in_a_golden_transcript() {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    for dir in ["examples", "tests/golden/scenarios"] {
        sources.extend(
            std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "ntm")),
        );
    }
    sources.sort();
    assert!(sources.len() > 2);
    for path in &sources {
        let source = std::fs::read_to_string(path).unwrap();
        run(&path.display().to_string(), &source, &seen);
    }
    let seen = seen.lock().unwrap();
    let all = VmmEventKind::iter()
        .map(Kind::Vmm)
        .chain(SectionEventKind::iter().map(Kind::Section))
        .chain(ApiEventKind::iter().map(Kind::Api));
    let missing: Vec<Kind> = all.filter(|k| !seen.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "event kinds no golden transcript's source produces: {missing:?}"
    );
}
