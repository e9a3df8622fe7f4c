//! The picture a teacher projects, checked geometrically on the SVG it emits: no edge passes
//! behind a box other than its own two (and the segment boxes holding them), every text fits
//! its box, the picture is at most 1280 px wide, every segment box is joined to something,
//! a large machine is folded with counts, and the text tree says which processes map a segment.

use ntmm_scenario::draw::svg::{CHAR_W, PAD, WIDTH};
use ntmm_scenario::draw::Picture;
use ntmm_scenario::{parse, Options, Runner};
use std::path::Path;

/// Runs a scenario; the picture of its machine as it ends (before shutdown).
fn picture_of(source: &str) -> Picture {
    let script = parse(source).expect("parses");
    let mut r = Runner::new("t", &Options::default());
    r.run_script(&script);
    let names = r.process_names();
    r.system_if_started()
        .expect("a machine")
        .executive()
        .vmm()
        .inspect(|m| Picture::of(m, &names))
}

#[derive(Debug, Clone)]
struct Box_ {
    id: String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Box_ {
    fn contains(&self, o: &Box_) -> bool {
        self.id != o.id
            && o.x >= self.x
            && o.y >= self.y
            && o.x + o.w <= self.x + self.w
            && o.y + o.h <= self.y + self.h
    }
    /// Whether the segment (a, b) enters the box's interior (Liang–Barsky clipping against the
    /// box shrunk by half a pixel, so touching a border is not entering).
    fn crossed_by(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        let (x0, y0, x1, y1) = (
            self.x + 0.5,
            self.y + 0.5,
            self.x + self.w - 0.5,
            self.y + self.h - 0.5,
        );
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, a.0 - x0),
            (dx, x1 - a.0),
            (-dy, a.1 - y0),
            (dy, y1 - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return false;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        t0 < t1
    }
}

/// Every defect of the picture's geometry, as sentences (empty: none).
fn defects(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let root = doc.root_element();
    let mut bad = Vec::new();
    let width: f64 = root.attribute("width").unwrap().parse().unwrap();
    if width > f64::from(WIDTH) {
        bad.push(format!("the picture is {width} px wide"));
    }
    let mut boxes = Vec::new();
    for g in root
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("n"))
    {
        let id = g.attribute("data-id").unwrap().to_string();
        let t = g.attribute("transform").unwrap();
        let (x, y) = t
            .trim_start_matches("translate(")
            .trim_end_matches(')')
            .split_once(',')
            .unwrap();
        let rect = g.children().find(|c| c.has_tag_name("rect")).unwrap();
        let b = Box_ {
            id: id.clone(),
            x: x.parse().unwrap(),
            y: y.parse().unwrap(),
            w: rect.attribute("width").unwrap().parse().unwrap(),
            h: rect.attribute("height").unwrap().parse().unwrap(),
        };
        if b.x + b.w > width {
            bad.push(format!("{id} reaches past the right edge"));
        }
        let title = g.children().find(|c| c.has_tag_name("title"));
        if title.and_then(|t| t.text()).is_none_or(str::is_empty) {
            bad.push(format!("{id} has no tooltip with its whole text"));
        }
        for text in g.children().filter(|c| c.has_tag_name("text")) {
            let tx: f64 = text.attribute("x").unwrap().parse().unwrap();
            let s = text.text().unwrap_or("");
            let right = tx + s.chars().count() as f64 * CHAR_W;
            if right > b.w - f64::from(PAD) + 0.01 {
                bad.push(format!("{id}: {s:?} overflows its {} px box", b.w));
            }
        }
        boxes.push(b);
    }
    let find = |id: &str| boxes.iter().find(|b| b.id == id).cloned();
    let mut joined = std::collections::BTreeSet::new();
    for e in root
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("class") == Some("e"))
    {
        let (from, to) = (
            e.attribute("data-from").unwrap(),
            e.attribute("data-to").unwrap(),
        );
        joined.insert(from.to_string());
        joined.insert(to.to_string());
        let (Some(a), Some(b)) = (find(from), find(to)) else {
            bad.push(format!("edge {from} → {to} joins a box not drawn"));
            continue;
        };
        let pts: Vec<(f64, f64)> = e
            .attribute("points")
            .unwrap()
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        let (first, last) = (pts[0], pts[pts.len() - 1]);
        if first.0 != a.x + a.w || first.1 < a.y || first.1 > a.y + a.h {
            bad.push(format!(
                "edge {from} → {to} does not start on {from}'s side"
            ));
        }
        if last.0 != b.x || last.1 < b.y || last.1 > b.y + b.h {
            bad.push(format!("edge {from} → {to} does not end on {to}'s side"));
        }
        for other in &boxes {
            if other.id == a.id || other.id == b.id || other.contains(&a) || other.contains(&b) {
                continue;
            }
            if pts.windows(2).any(|w| other.crossed_by(w[0], w[1])) {
                bad.push(format!("edge {from} → {to} passes behind {}", other.id));
            }
        }
    }
    for b in &boxes {
        let is_segment = b.id.starts_with("seg#") && !b.id.contains('_');
        let holds = boxes.iter().any(|o| b.contains(o));
        if is_segment && !holds && !joined.contains(&b.id) && !svg.contains("mapped by no process")
        {
            bad.push(format!("segment {} is joined to nothing", b.id));
        }
    }
    bad
}

fn examples() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ntm"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_pictures_with_no_edge_behind_a_box_and_every_label_in_its_box() {
    let all = examples();
    assert!(all.len() >= 15);
    for (name, source) in all {
        let svg = picture_of(&source).svg_titled(&name);
        let bad = defects(&svg);
        assert!(bad.is_empty(), "{name}:\n{}", bad.join("\n"));
        assert!(svg.contains(&format!("ntmm — {name}")), "{name}: a title");
        for words in [
            "PTE / prototype PTE / store:",
            "standby list",
            "modified list",
        ] {
            assert!(svg.contains(words), "{name}: the legend lacks {words}");
        }
    }
}

#[test]
fn the_checker_finds_an_edge_behind_a_box_and_a_label_too_long() {
    let good = picture_of(
        "process A\np = VirtualAlloc(NULL, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)\nwrite8(p, 1)\n",
    )
    .svg();
    assert!(defects(&good).is_empty(), "{:?}", defects(&good));
    // A straight line across the picture passes behind boxes.
    let behind = good.replace(
        "</svg>",
        r#"<polyline class="e" data-from="proc1" data-to="pfn0" points="188,165 864,165"/></svg>"#,
    );
    let found = defects(&behind);
    assert!(
        found.iter().any(|d| d.contains("passes behind")),
        "{found:?}"
    );
    let long = good.replace(
        ">process A<",
        ">process A with a name far too long for its box<",
    );
    assert!(
        defects(&long).iter().any(|d| d.contains("overflows")),
        "{:?}",
        defects(&long)
    );
}

#[test]
fn a_large_machine_is_folded_with_counts_and_stays_1280_px_wide() {
    // 100 private pages touched: 100 PTEs, 100 frames.
    let mut src = String::from(
        "machine frames=256\nprocess A\np = VirtualAlloc(NULL, 0x64000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)\n",
    );
    for i in 0..100 {
        src.push_str(&format!("write8(p + {:#x}, 1)\n", i * 0x1000));
    }
    let pic = picture_of(&src);
    let svg = pic.svg();
    assert!(defects(&svg).is_empty(), "{:?}", defects(&svg));
    assert!(
        svg.contains("… 60 more PTEs"),
        "the PTEs beyond 40 are counted"
    );
    assert!(svg.contains("… 60 more frames"), "and the frames");
    // The text tree still lists all of them.
    assert_eq!(
        pic.text()
            .lines()
            .filter(|l| l.contains("valid write"))
            .count(),
        100
    );
}

#[test]
fn the_tree_says_which_processes_map_a_segment() {
    let pic = picture_of(
        "process A\n\
         h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x2000, \"Local\\\\S\")\n\
         v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)\n\
         process B\n\
         h2 = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL)\n",
    );
    let text = pic.text();
    // A's view is mapped though no PTE exists yet: the segment stands under the view, mapped
    // by A; B's section has no view, so its segment is mapped by no process.
    assert!(
        text.contains("view of seg#1")
            && text.contains("seg#1: pagefile-backed, 2 pages, mapped by A"),
        "{text}"
    );
    assert!(
        text.contains(
            "segments no process maps:\n  seg#2: pagefile-backed, 1 page, mapped by no process"
        ),
        "{text}"
    );
    assert!(defects(&pic.svg()).is_empty());
}
