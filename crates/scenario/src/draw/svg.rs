//! The SVG layout of a [`Picture`]: six columns (process → VAD → PTE → prototype PTE → frame →
//! backing store) in 1280 pixels, a title, a legend of the colours, and edges that never pass
//! behind a box.
//!
//! How it is laid out (hand-written rather than Graphviz: the columns are fixed by the model, so
//! a layered layout needs no general graph layout crate, and the result must be deterministic
//! and testable geometrically):
//! * each box is two lines of 11 px monospace text; a line longer than the box holds
//!   ([`CHAR_W`] per character, a conservative width for DejaVu Sans Mono, Liberation Mono,
//!   Menlo and Consolas) is cut with `…`, and the whole text is the box's `<title>` (a tooltip);
//! * prototype PTEs sit inside their segment's box (the segment *is* their table);
//! * PTEs are stacked in the tree's order; regions and processes stand level with their first
//!   PTE; prototype PTEs, frames and store pages stand level with the average of the boxes
//!   that point at them, in that order (few crossings, mostly horizontal edges);
//! * an edge between neighbouring columns is a straight segment inside the gap between them;
//!   an edge that skips a column (a private PTE to its frame, a PTE or prototype PTE to its
//!   pagefile slot) crosses each skipped column horizontally at a height where that column has
//!   no box (its own lane when several cross), so it never runs behind a box;
//! * a column holds at most [`MAX_PER_COLUMN`] boxes: the rest are folded into one box that
//!   says how many, and edges to them end at that box.

use super::{xml, Node, Picture, COLUMNS};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The picture's width in pixels (a projector's).
pub const WIDTH: i32 = 1280;
/// Left and right margin.
pub const MARGIN: i32 = 16;
/// A column's width (a box's).
pub const BOX_W: i32 = 172;
/// The gap between two columns, where edges run.
pub const GAP_X: i32 = 40;
/// A box's height (two lines).
pub const BOX_H: i32 = 30;
/// The vertical gap between two boxes of a column.
pub const GAP_Y: i32 = 12;
/// The assumed advance of one character of the 11 px monospace font: 0.61 em (the usual
/// monospace fonts advance 0.60–0.602 em).
pub const CHAR_W: f64 = 6.71;
/// The assumed advance of one character of the 16 px title.
pub const TITLE_CHAR_W: f64 = 9.76;
/// Text padding inside a box.
pub const PAD: i32 = 5;
/// How far a segment's prototype PTEs sit inside its box.
pub const INSET: i32 = 6;
/// The height of a segment box's two header lines.
pub const HEADER_H: i32 = 45;
/// The most boxes drawn in a column (prototype PTEs for the prototype PTE column); the rest
/// are folded and counted.
pub const MAX_PER_COLUMN: usize = 40;
/// Where the column headings stand.
const HEADINGS_Y: i32 = 138;
/// Where the first box stands.
pub const GRAPH_TOP: i32 = 150;

/// The colour classes: class, fill, and what the legend says.
pub const LEGEND: [(&str, &str, &str); 16] = [
    ("process", "#cfe0ff", "process"),
    ("private", "#e4f1d6", "private region"),
    ("view", "#d3edf1", "view of a section"),
    ("segment", "#f4effb", "segment (its proto PTEs)"),
    ("valid", "#a9e2a1", "valid"),
    ("transition", "#ffe28f", "transition"),
    ("prototype", "#dccaf7", "→ prototype PTE"),
    ("pagefile", "#c6d0f3", "in the pagefile"),
    ("demand-zero", "#ffffff", "demand-zero/empty"),
    ("file", "#edd9bc", "in the file"),
    ("active", "#6fcf7f", "active (mapped)"),
    ("standby", "#9fd3ff", "standby list"),
    ("modified", "#ffaf7a", "modified list"),
    ("io", "#ffe28f", "in I/O"),
    ("free", "#e4e4e4", "free/zeroed"),
    ("folded", "#f2f2f2", "folded (counted)"),
];

/// The legend's rows: a heading and the classes it shows.
const LEGEND_ROWS: [(&str, &[&str]); 3] = [
    (
        "objects:",
        &["process", "private", "view", "segment", "folded"],
    ),
    (
        "PTE / prototype PTE / store:",
        &[
            "valid",
            "transition",
            "prototype",
            "pagefile",
            "demand-zero",
            "file",
        ],
    ),
    (
        "frames, by page list:",
        &["active", "standby", "modified", "io", "free"],
    ),
];

/// The fill of a class.
pub fn fill(class: &str) -> &'static str {
    LEGEND
        .iter()
        .find(|(c, _, _)| *c == class)
        .map_or("#ffffff", |(_, f, _)| f)
}

/// The x of column `c`'s boxes.
pub fn column_x(c: usize) -> i32 {
    MARGIN + c as i32 * (BOX_W + GAP_X)
}

/// How many characters fit a line of a box `w` pixels wide.
pub fn fits(w: i32) -> usize {
    (f64::from(w - 2 * PAD) / CHAR_W).floor() as usize
}

/// `text` cut to `n` characters, the last being `…` when it is cut.
pub fn cut(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(n.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// A box placed on the picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The node's id.
    pub id: String,
    /// The column.
    pub column: usize,
    /// Left.
    pub x: i32,
    /// Top.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
    /// The box's SVG content, relative to its top left corner (rectangle, text, tooltip).
    pub body: String,
    /// The segment box holding it, if any.
    pub container: Option<String>,
    /// Whether it holds other boxes (a segment).
    pub holds: bool,
}

/// An edge's route: a polyline from the right side of its source box to the left side of
/// its target box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The source node's id.
    pub from: String,
    /// The target node's id.
    pub to: String,
    /// The polyline's points.
    pub points: Vec<(i32, i32)>,
}

impl Route {
    /// The `points` attribute.
    pub fn points_attr(&self) -> String {
        let mut s = String::new();
        for (i, (x, y)) in self.points.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            let _ = write!(s, "{x},{y}");
        }
        s
    }
}

/// A picture laid out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The height in pixels.
    pub height: i32,
    /// The boxes, segment boxes first (they hold prototype PTE boxes).
    pub nodes: Vec<Placed>,
    /// The edges.
    pub edges: Vec<Route>,
    /// Per column, how many boxes are folded.
    pub folded: BTreeMap<usize, usize>,
}

/// What the folded boxes of a column are called.
const NOUNS: [&str; 6] = [
    "processes",
    "regions",
    "PTEs",
    "prototype PTEs",
    "frames",
    "store pages",
];

fn body(w: i32, h: i32, class: &str, head: &str, state: &str, label: &str) -> String {
    let n = fits(w);
    let (stroke, dash, weight) = match class {
        "segment" => ("#7a5fb0", "", " font-weight=\"bold\""),
        "folded" => ("#777", " stroke-dasharray=\"4 3\"", ""),
        _ => ("#444", "", ""),
    };
    let mut s = format!(
        r#"<title>{}</title><rect width="{w}" height="{h}" rx="3" fill="{}" stroke="{stroke}"{dash}/><text x="{PAD}" y="12"{weight}>{}</text>"#,
        xml(label),
        fill(class),
        xml(&cut(head, n))
    );
    for (i, line) in state.lines().enumerate() {
        let _ = write!(
            s,
            r##"<text x="{PAD}" y="{}" fill="#333">{}</text>"##,
            25 + 13 * i,
            xml(&cut(line, n))
        );
    }
    s
}

impl Layout {
    /// Lays a picture out.
    pub fn of(p: &Picture) -> Layout {
        // Which boxes are drawn: per column, the first MAX_PER_COLUMN (segments always).
        let mut shown: Vec<&Node> = Vec::new();
        let mut folded: BTreeMap<usize, usize> = BTreeMap::new();
        let mut per: BTreeMap<usize, usize> = BTreeMap::new();
        let mut visible_id: BTreeMap<&str, String> = BTreeMap::new();
        for n in &p.nodes {
            if n.class == "segment" {
                shown.push(n);
                visible_id.insert(&n.id, n.id.clone());
                continue;
            }
            let c = per.entry(n.column).or_default();
            *c += 1;
            if *c <= MAX_PER_COLUMN {
                shown.push(n);
                visible_id.insert(&n.id, n.id.clone());
            } else {
                *folded.entry(n.column).or_default() += 1;
                visible_id.insert(&n.id, format!("fold{}", n.column));
            }
        }
        let fold_nodes: Vec<Node> = folded
            .iter()
            .map(|(&c, &k)| Node {
                id: format!("fold{c}"),
                label: format!(
                    "{k} more {} not drawn (at most {MAX_PER_COLUMN} a column); the text tree lists them all",
                    NOUNS[c]
                ),
                column: c,
                head: format!("… {k} more {}", NOUNS[c]),
                state: "folded, not drawn".into(),
                class: "folded",
                container: None,
            })
            .collect();
        shown.extend(fold_nodes.iter());
        let column_of: BTreeMap<&str, usize> =
            shown.iter().map(|n| (n.id.as_str(), n.column)).collect();
        // Edges between drawn boxes (to the fold box for a folded one), once each.
        let mut edges: Vec<(String, String)> = Vec::new();
        for (a, b) in &p.edges {
            let (Some(a), Some(b)) = (visible_id.get(a.as_str()), visible_id.get(b.as_str()))
            else {
                continue;
            };
            if a != b && column_of.get(a.as_str()) < column_of.get(b.as_str()) {
                edges.push((a.clone(), b.clone()));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        edges.retain(|e| seen.insert(e.clone()));
        // A view's edge to its segment is drawn only when the segment box holds no prototype
        // PTE (its PTEs' edges into the box already join them; the text tree keeps them all).
        let holds_any = |seg: &str| shown.iter().any(|n| n.container.as_deref() == Some(seg));
        edges.retain(|(_, b)| {
            !shown
                .iter()
                .any(|n| n.id == *b && n.class == "segment" && holds_any(b))
        });
        let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in &edges {
            parents.entry(b.as_str()).or_default().push(a.as_str());
            children.entry(a.as_str()).or_default().push(b.as_str());
        }
        let in_column = |c: usize| -> Vec<&Node> {
            shown
                .iter()
                .copied()
                .filter(|n| n.column == c && (c != 3 || n.container.is_none()))
                .collect()
        };
        // Tops of the boxes placed so far.
        let mut top: BTreeMap<String, (i32, i32)> = BTreeMap::new(); // id -> (y, h)
        let center = |top: &BTreeMap<String, (i32, i32)>, id: &str| -> Option<i32> {
            top.get(id).map(|(y, h)| y + h / 2)
        };
        // PTEs: stacked.
        let mut cursor = GRAPH_TOP;
        for n in in_column(2) {
            top.insert(n.id.clone(), (cursor, BOX_H));
            cursor += BOX_H + GAP_Y;
        }
        // Regions, then processes: level with their first child.
        for c in [1usize, 0] {
            let mut cursor = GRAPH_TOP;
            for n in in_column(c) {
                let first = children
                    .get(n.id.as_str())
                    .and_then(|k| k.iter().filter_map(|k| top.get(*k).map(|t| t.0)).min());
                let y = first.unwrap_or(cursor).max(cursor);
                top.insert(n.id.clone(), (y, BOX_H));
                cursor = y + BOX_H + GAP_Y;
            }
        }
        let desired = |top: &BTreeMap<String, (i32, i32)>, id: &str| -> Option<i32> {
            let ys: Vec<i32> = parents
                .get(id)
                .map(|ps| ps.iter().filter_map(|p| center(top, p)).collect())
                .unwrap_or_default();
            (!ys.is_empty()).then(|| ys.iter().sum::<i32>() / ys.len() as i32)
        };
        // Prototype PTEs, inside their segments; segments level with what points in.
        let protos_of = |seg: &str| -> Vec<&Node> {
            shown
                .iter()
                .copied()
                .filter(|n| n.container.as_deref() == Some(seg))
                .collect()
        };
        let mut items: Vec<(Option<i32>, usize, &Node)> = in_column(3)
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let protos = protos_of(&n.id);
                let want: Vec<i32> = protos.iter().filter_map(|q| desired(&top, &q.id)).collect();
                let key = if n.class == "segment" {
                    let own = desired(&top, &n.id).map(|y| y - HEADER_H / 2);
                    let first = want.iter().min().map(|y| y - HEADER_H - BOX_H / 2);
                    match (own, first) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                } else {
                    desired(&top, &n.id).map(|y| y - BOX_H / 2)
                };
                (key, i, n)
            })
            .collect();
        items.sort_by_key(|(k, i, _)| (k.is_none(), k.unwrap_or(0), *i));
        let mut cursor = GRAPH_TOP;
        for (key, _, n) in &items {
            let y = key.unwrap_or(cursor).max(cursor);
            if n.class == "segment" {
                let protos = protos_of(&n.id);
                let mut py = y + HEADER_H;
                for q in &protos {
                    top.insert(q.id.clone(), (py, BOX_H));
                    py += BOX_H + GAP_Y;
                }
                let h = if protos.is_empty() {
                    HEADER_H
                } else {
                    py - GAP_Y + INSET - y
                };
                top.insert(n.id.clone(), (y, h));
                cursor = y + h + GAP_Y;
            } else {
                top.insert(n.id.clone(), (y, BOX_H));
                cursor = y + BOX_H + GAP_Y;
            }
        }
        // Frames, then store pages: level with what points at them, in that order.
        for c in [4usize, 5] {
            let mut items: Vec<(Option<i32>, usize, &Node)> = in_column(c)
                .into_iter()
                .enumerate()
                .map(|(i, n)| (desired(&top, &n.id).map(|y| y - BOX_H / 2), i, n))
                .collect();
            items.sort_by_key(|(k, i, n)| (n.class == "folded", k.is_none(), k.unwrap_or(0), *i));
            let mut cursor = GRAPH_TOP;
            for (key, _, n) in items {
                let y = key.unwrap_or(cursor).max(cursor);
                top.insert(n.id.clone(), (y, BOX_H));
                cursor = y + BOX_H + GAP_Y;
            }
        }
        // The boxes.
        let mut nodes: Vec<Placed> = Vec::new();
        let mut order: Vec<&Node> = shown
            .iter()
            .copied()
            .filter(|n| n.class == "segment")
            .collect();
        order.extend(shown.iter().copied().filter(|n| n.class != "segment"));
        for n in order {
            let Some(&(y, h)) = top.get(&n.id) else {
                continue;
            };
            let (x, w) = if n.container.as_ref().is_some_and(|c| top.contains_key(c)) {
                (column_x(n.column) + INSET, BOX_W - 2 * INSET)
            } else {
                (column_x(n.column), BOX_W)
            };
            nodes.push(Placed {
                id: n.id.clone(),
                column: n.column,
                x,
                y,
                w,
                h,
                body: body(w, h, n.class, &n.head, &n.state, &n.label),
                container: n.container.clone().filter(|c| top.contains_key(c)),
                holds: n.class == "segment",
            });
        }
        // Obstacles per column: the outermost boxes.
        let mut obstacles: BTreeMap<usize, Vec<(i32, i32)>> = BTreeMap::new();
        for b in nodes.iter().filter(|b| b.container.is_none()) {
            obstacles
                .entry(b.column)
                .or_default()
                .push((b.y, b.y + b.h));
        }
        let mut height = nodes.iter().map(|b| b.y + b.h).max().unwrap_or(GRAPH_TOP);
        // The routes.
        let mut lanes: BTreeMap<usize, Vec<i32>> = BTreeMap::new();
        let placed: BTreeMap<&str, &Placed> = nodes.iter().map(|b| (b.id.as_str(), b)).collect();
        let mut routes = Vec::new();
        for (a, b) in &edges {
            let (Some(pa), Some(pb)) = (placed.get(a.as_str()), placed.get(b.as_str())) else {
                continue;
            };
            let start = (pa.x + pa.w, pa.y + pa.h / 2);
            let end = (pb.x, pb.y + pb.h / 2);
            let mut points = vec![start];
            // Out of (and into) a segment box level, so the slanted part stays in the gap
            // between the columns.
            if pa.container.is_some() {
                points.push((column_x(pa.column) + BOX_W, start.1));
            }
            let mut y = start.1;
            for k in pa.column + 1..pb.column {
                let used = lanes.entry(k).or_default();
                let free = |y: i32| {
                    y >= GRAPH_TOP
                        && !obstacles
                            .get(&k)
                            .is_some_and(|o| o.iter().any(|&(t, b)| y > t - 3 && y < b + 3))
                        && !used.iter().any(|&u| (u - y).abs() < 3)
                };
                let target = y + (end.1 - y) / (pb.column - k + 1) as i32;
                let mut lane = target;
                let mut d = 0;
                while !free(lane) {
                    d += 2;
                    lane = if free(target + d) {
                        target + d
                    } else if free(target - d) {
                        target - d
                    } else {
                        continue;
                    };
                }
                used.push(lane);
                height = height.max(lane);
                points.push((column_x(k), lane));
                points.push((column_x(k) + BOX_W, lane));
                y = lane;
            }
            if pb.container.is_some() {
                points.push((column_x(pb.column), end.1));
            }
            points.push(end);
            routes.push(Route {
                from: a.clone(),
                to: b.clone(),
                points,
            });
        }
        Layout {
            height: height + 2 * MARGIN,
            nodes,
            edges: routes,
            folded,
        }
    }

    /// The parts every picture shares, after the `<svg>` tag: the arrow, the legend and the
    /// column headings.
    pub fn common() -> String {
        let mut s = String::from(
            r##"<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>"##,
        );
        s.push('\n');
        let mut y = 48;
        for (heading, classes) in LEGEND_ROWS {
            let _ = write!(
                s,
                r#"<text x="{MARGIN}" y="{}" font-weight="bold">{}</text>"#,
                y + 10,
                xml(heading)
            );
            let mut x = MARGIN + (30.0 * CHAR_W).ceil() as i32;
            for class in classes {
                let words = LEGEND
                    .iter()
                    .find(|(c, _, _)| c == class)
                    .map_or("", |(_, _, w)| w);
                let dash = if *class == "folded" {
                    r#" stroke-dasharray="4 3""#
                } else {
                    ""
                };
                let _ = write!(
                    s,
                    r##"<rect x="{x}" y="{y}" width="14" height="12" rx="2" fill="{}" stroke="#444"{dash}/><text x="{}" y="{}">{}</text>"##,
                    fill(class),
                    x + 19,
                    y + 10,
                    xml(words)
                );
                x += 19 + (words.chars().count() as f64 * CHAR_W).ceil() as i32 + 18;
            }
            s.push('\n');
            y += 18;
        }
        let _ = writeln!(
            s,
            r##"<text x="{MARGIN}" y="{}" fill="#333">an arrow points from an object to what it refers to: process → region → PTE → prototype PTE or frame → backing store</text>"##,
            y + 10
        );
        for (c, title) in COLUMNS.iter().enumerate() {
            let _ = write!(
                s,
                r#"<text x="{}" y="{HEADINGS_Y}" font-weight="bold" font-size="12">{}</text>"#,
                column_x(c),
                xml(title)
            );
        }
        s.push('\n');
        s
    }

    /// The opening `<svg>` tag of a picture `height` pixels high, with its white background.
    pub fn open(height: i32) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans Mono, Liberation Mono, Menlo, Consolas, monospace" font-size="11"><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/>"#
        )
    }

    /// The title line.
    pub fn title(title: &str) -> String {
        let n = (f64::from(WIDTH - 2 * MARGIN) / TITLE_CHAR_W).floor() as usize;
        format!(
            r#"<text x="{MARGIN}" y="26" font-size="16" font-weight="bold">{}</text>"#,
            xml(&cut(&format!("ntmm — {title}"), n))
        )
    }

    /// The boxes and edges.
    pub fn graph(&self) -> String {
        let mut s = String::new();
        for b in &self.nodes {
            let _ = writeln!(
                s,
                r#"<g class="n" data-id="{}" transform="translate({},{})">{}</g>"#,
                xml(&b.id),
                b.x,
                b.y,
                b.body
            );
        }
        for e in &self.edges {
            let _ = writeln!(
                s,
                r##"<polyline class="e" data-from="{}" data-to="{}" points="{}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>"##,
                xml(&e.from),
                xml(&e.to),
                e.points_attr()
            );
        }
        s
    }

    /// The standalone SVG document.
    pub fn svg(&self, title: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n{}\n{}{}</svg>\n",
            Self::open(self.height),
            Self::title(title),
            Self::common(),
            self.graph()
        )
    }
}
