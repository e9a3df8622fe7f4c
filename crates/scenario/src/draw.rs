//! Pictures of the live structure: processes → VADs → PTEs → prototype PTEs → frames →
//! pagefile slots and file pages (the shape of the article's Figure 4), as SVG, Graphviz DOT
//! and a plain-text tree.

use crate::naming;
use ntmm_vmm::{
    AsId, Machine, OriginalPte, PageLocation, ProtoPte, ProtoRef, Pte, SegmentKind, VadKind,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Columns of the picture, left to right.
const COLUMNS: [&str; 6] = [
    "processes",
    "regions (VADs)",
    "PTEs",
    "prototype PTEs",
    "frames",
    "backing store",
];

/// The most nodes drawn per column (the rest are counted in a final node).
const MAX_PER_COLUMN: usize = 120;

/// A node of the picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// A stable identifier (also the DOT node name).
    pub id: String,
    /// The text shown.
    pub label: String,
    /// The column.
    pub column: usize,
}

/// The picture's graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Picture {
    /// Nodes in drawing order.
    pub nodes: Vec<Node>,
    /// Edges (from id, to id).
    pub edges: Vec<(String, String)>,
}

impl Picture {
    fn add(
        &mut self,
        seen: &mut BTreeSet<String>,
        id: String,
        label: String,
        column: usize,
    ) -> String {
        if seen.insert(id.clone()) {
            self.nodes.push(Node {
                id: id.clone(),
                label,
                column,
            });
        }
        id
    }

    /// Builds the picture of a machine; processes are named from `names`.
    pub fn of(m: &Machine, names: &BTreeMap<AsId, String>) -> Picture {
        let mut p = Picture::default();
        let mut seen = BTreeSet::new();
        let frame_node =
            |p: &mut Picture, seen: &mut BTreeSet<String>, pfn: ntmm_vmm::Pfn| -> String {
                let e = m.pfn_database().get(pfn);
                let label = match e {
                    Some(e) => format!(
                        "{} {:?} share {}{}",
                        naming::frame(pfn),
                        e.location(),
                        e.share_count(),
                        if e.modified() { " modified" } else { "" }
                    ),
                    None => naming::frame(pfn),
                };
                p.add(seen, format!("pfn{}", pfn.raw()), label, 4)
            };
        let proto_node = |p: &mut Picture,
                          seen: &mut BTreeSet<String>,
                          r: ProtoRef,
                          e: Option<ProtoPte>|
         -> String {
            let label = match e {
                Some(e) => format!("{} {}", naming::proto(r), short_proto(&e)),
                None => format!("{} untouched", naming::proto(r)),
            };
            p.add(seen, format!("{}_{}", r.segment, r.index), label, 3)
        };
        for id in m.address_space_ids() {
            let Some(space) = m.address_space(id) else {
                continue;
            };
            let name = naming::process(names, id);
            let pnode = p.add(
                &mut seen,
                format!("proc{}", id.raw()),
                format!("process {name}"),
                0,
            );
            for vad in space.vads().iter() {
                let kind = match vad.kind {
                    VadKind::Private { .. } => "private".to_string(),
                    VadKind::Mapped { segment, .. } => format!("view of {segment}"),
                };
                let vnode = p.add(
                    &mut seen,
                    format!("vad{}_{:x}", id.raw(), vad.start.raw()),
                    format!(
                        "{:#x} +{} {kind} {:?}",
                        vad.start.base().raw(),
                        pages(vad.pages()),
                        vad.protection
                    ),
                    1,
                );
                p.edges.push((pnode.clone(), vnode.clone()));
                for (vpn, pte) in space.page_table().non_zero(vad.range()) {
                    let tnode = p.add(
                        &mut seen,
                        format!("pte{}_{:x}", id.raw(), vpn.raw()),
                        format!("{:#x} {}", vpn.base().raw(), short_pte(&pte)),
                        2,
                    );
                    p.edges.push((vnode.clone(), tnode.clone()));
                    let proto = match (vad.kind, pte) {
                        (_, Pte::Prototype { proto, .. }) => Some(proto),
                        (VadKind::Mapped { .. }, Pte::PrototypeLookup { .. }) => vad.proto_at(vpn),
                        (VadKind::Mapped { .. }, Pte::Valid(h))
                            if m.pfn_database()
                                .get(h.pfn)
                                .is_some_and(|e| e.is_prototype()) =>
                        {
                            vad.proto_at(vpn)
                        }
                        _ => None,
                    };
                    if let Some(r) = proto {
                        let e = m
                            .segment_entries(r.segment)
                            .into_iter()
                            .find(|(i, _)| *i == r.index)
                            .map(|(_, e)| e);
                        let n = proto_node(&mut p, &mut seen, r, e);
                        p.edges.push((tnode.clone(), n));
                    } else if let Some(pfn) = pte.pfn() {
                        let n = frame_node(&mut p, &mut seen, pfn);
                        p.edges.push((tnode.clone(), n));
                    } else if let Pte::Pagefile { slot, .. } = pte {
                        let n = p.add(
                            &mut seen,
                            format!("slot{}", slot.raw()),
                            naming::slot(slot),
                            5,
                        );
                        p.edges.push((tnode.clone(), n));
                    }
                }
            }
        }
        for seg in m.segment_ids() {
            let info = m.segment_state(seg);
            for (index, e) in m.segment_entries(seg) {
                let r = ProtoRef {
                    segment: seg,
                    index,
                };
                let n = proto_node(&mut p, &mut seen, r, Some(e));
                match e {
                    ProtoPte::Valid { pfn } | ProtoPte::Transition { pfn, .. } => {
                        let f = frame_node(&mut p, &mut seen, pfn);
                        p.edges.push((n, f));
                    }
                    ProtoPte::Pagefile { slot, .. } => {
                        let s = p.add(
                            &mut seen,
                            format!("slot{}", slot.raw()),
                            naming::slot(slot),
                            5,
                        );
                        p.edges.push((n, s));
                    }
                    _ => {}
                }
            }
            if let Some(info) = info {
                let label = match info.kind {
                    SegmentKind::Pagefile => {
                        format!("{seg}: pagefile-backed, {}", pages(info.pages.raw()))
                    }
                    SegmentKind::File { store } => {
                        format!("{seg}: file {store}, {}", pages(info.pages.raw()))
                    }
                    SegmentKind::Image { store } => {
                        format!("{seg}: image of {store}, {}", pages(info.pages.raw()))
                    }
                };
                p.add(&mut seen, format!("{seg}"), label, 3);
            }
        }
        let db = m.pfn_database();
        for i in 0..db.len() {
            let pfn = ntmm_vmm::Pfn::new(i as u32);
            let Some(e) = db.get(pfn) else { continue };
            if matches!(e.location(), PageLocation::Zeroed | PageLocation::Free) {
                continue;
            }
            let f = frame_node(&mut p, &mut seen, pfn);
            match (e.original(), e.pte()) {
                (OriginalPte::Pagefile { slot, .. }, _) => {
                    let s = p.add(
                        &mut seen,
                        format!("slot{}", slot.raw()),
                        naming::slot(slot),
                        5,
                    );
                    p.edges.push((f, s));
                }
                (OriginalPte::Subsection { .. }, Some(ntmm_vmm::PteRef::Proto(r))) => {
                    if let Some(SegmentKind::File { store }) =
                        m.segment_state(r.segment).map(|s| s.kind)
                    {
                        let s = p.add(
                            &mut seen,
                            format!("{store}_{}", r.index),
                            format!("{store} page {:#x}", r.index),
                            5,
                        );
                        p.edges.push((f, s));
                    }
                }
                _ => {}
            }
        }
        p.edges.sort();
        p.edges.dedup();
        p
    }

    fn visible(&self) -> (Vec<&Node>, BTreeMap<usize, usize>) {
        let mut per = BTreeMap::new();
        let mut out = Vec::new();
        let mut hidden: BTreeMap<usize, usize> = BTreeMap::new();
        for n in &self.nodes {
            let c = per.entry(n.column).or_insert(0usize);
            if *c < MAX_PER_COLUMN {
                out.push(n);
            } else {
                *hidden.entry(n.column).or_default() += 1;
            }
            *c += 1;
        }
        (out, hidden)
    }

    /// The picture as a Graphviz DOT graph.
    pub fn dot(&self) -> String {
        let mut s = String::from("digraph ntmm {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n");
        for (c, title) in COLUMNS.iter().enumerate() {
            let _ = writeln!(s, "  subgraph cluster_{c} {{ label=\"{title}\";");
            for n in self.nodes.iter().filter(|n| n.column == c) {
                let _ = writeln!(
                    s,
                    "    \"{}\" [label=\"{}\"];",
                    n.id,
                    n.label.replace('"', "'")
                );
            }
            s.push_str("  }\n");
        }
        for (a, b) in &self.edges {
            let _ = writeln!(s, "  \"{a}\" -> \"{b}\";");
        }
        s.push_str("}\n");
        s
    }

    /// The picture as a standalone SVG document.
    pub fn svg(&self) -> String {
        const W: usize = 250;
        const H: usize = 22;
        const GAP: usize = 60;
        const TOP: usize = 40;
        let (nodes, hidden) = self.visible();
        let mut pos: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut rows = [0usize; 6];
        for n in &nodes {
            let x = 10 + n.column * (W + GAP);
            let y = TOP + rows[n.column] * (H + 6);
            rows[n.column] += 1;
            pos.insert(&n.id, (x, y));
        }
        let height = TOP + (rows.iter().max().copied().unwrap_or(0) + 2) * (H + 6);
        let width = 10 + COLUMNS.len() * (W + GAP);
        let mut s = String::new();
        let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">"#
        );
        let _ = writeln!(
            s,
            r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
        );
        for (c, title) in COLUMNS.iter().enumerate() {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="20" font-weight="bold">{}</text>"#,
                10 + c * (W + GAP),
                xml(title)
            );
        }
        for (a, b) in &self.edges {
            if let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(a.as_str()), pos.get(b.as_str())) {
                let _ = writeln!(
                    s,
                    r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888" stroke-width="1"/>"##,
                    x1 + W,
                    y1 + H / 2,
                    x2,
                    y2 + H / 2
                );
            }
        }
        for n in &nodes {
            let (x, y) = pos[n.id.as_str()];
            let fill = [
                "#dde8ff", "#e8f0d8", "#fff2cc", "#fde0dc", "#e4dcf5", "#eeeeee",
            ][n.column];
            let _ = writeln!(
                s,
                r##"<g id="{}"><rect x="{x}" y="{y}" width="{W}" height="{H}" rx="3" fill="{fill}" stroke="#555"/><text x="{}" y="{}">{}</text></g>"##,
                xml(&n.id),
                x + 4,
                y + 15,
                xml(&n.label)
            );
        }
        for (c, count) in hidden {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}">… {count} more</text>"#,
                10 + c * (W + GAP),
                height - 10
            );
        }
        s.push_str("</svg>\n");
        s
    }

    /// The picture as an indented tree for the terminal.
    pub fn text(&self) -> String {
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in &self.edges {
            children.entry(a.as_str()).or_default().push(b.as_str());
        }
        let label: BTreeMap<&str, &str> = self
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.label.as_str()))
            .collect();
        let mut s = String::new();
        fn walk<'a>(
            s: &mut String,
            id: &'a str,
            depth: usize,
            children: &BTreeMap<&'a str, Vec<&'a str>>,
            label: &BTreeMap<&'a str, &'a str>,
        ) {
            let _ = writeln!(
                s,
                "{}{}",
                "  ".repeat(depth),
                label.get(id).copied().unwrap_or(id)
            );
            if depth < 6 {
                for c in children.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                    walk(s, c, depth + 1, children, label);
                }
            }
        }
        for n in self.nodes.iter().filter(|n| n.column == 0) {
            walk(&mut s, &n.id, 0, &children, &label);
        }
        // Column 3 holds the segments (ids without `_`) and their prototype PTEs; a prototype
        // PTE no process PTE points at is drawn here, under its own heading.
        let (segments, cached): (Vec<&Node>, Vec<&Node>) = self
            .nodes
            .iter()
            .filter(|n| n.column == 3 && !self.edges.iter().any(|(_, b)| *b == n.id))
            .partition(|n| !n.id.contains('_'));
        for (title, nodes) in [
            ("segments:\n", segments),
            ("prototype PTEs no process maps:\n", cached),
        ] {
            if !nodes.is_empty() {
                s.push_str(title);
                for n in nodes {
                    walk(&mut s, &n.id, 1, &children, &label);
                }
            }
        }
        s
    }
}

/// `1 page`, `2 pages`.
pub(crate) fn pages(n: u64) -> String {
    count(n, "page")
}

/// `n` and the noun, in the singular for one: `1 file page`, `0 file pages`.
pub(crate) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn short_pte(p: &Pte) -> String {
    match p {
        Pte::Zero => "empty".into(),
        Pte::Valid(h) => format!(
            "valid{}{}{}",
            if h.write { " write" } else { " read-only" },
            if h.dirty { " dirty" } else { "" },
            if h.copy_on_write { " cow" } else { "" }
        ),
        Pte::Prototype { .. } => "prototype pointer".into(),
        Pte::PrototypeLookup { protection } => format!("prototype lookup {protection:?}"),
        Pte::Transition { .. } => "transition".into(),
        Pte::Pagefile { .. } => "pagefile".into(),
        Pte::DemandZero { protection } => format!("demand-zero {protection:?}"),
    }
}

fn short_proto(p: &ProtoPte) -> String {
    match p {
        ProtoPte::Zero => "not committed".into(),
        ProtoPte::DemandZero { .. } => "demand-zero".into(),
        ProtoPte::Valid { .. } => "valid".into(),
        ProtoPte::Transition { .. } => "transition".into(),
        ProtoPte::Pagefile { .. } => "pagefile".into(),
        ProtoPte::Subsection { .. } => "in the file".into(),
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, label: &str, column: usize) -> Node {
        Node {
            id: id.into(),
            label: label.into(),
            column,
        }
    }

    #[test]
    fn test_the_tree_lists_segments_apart_from_prototype_ptes_no_process_maps() {
        let p = Picture {
            nodes: vec![
                node("proc1", "process A", 0),
                node("vad1_10", "0x10000 +1 page view of seg#1 MM_READWRITE", 1),
                node("pte1_10", "0x10000 prototype pointer", 2),
                node("seg#1_0", "seg#1[0x0] valid", 3),
                node("seg#1_1", "seg#1[0x1] transition", 3),
                node("seg#1", "seg#1: pagefile-backed, 2 pages", 3),
            ],
            edges: vec![
                ("proc1".into(), "vad1_10".into()),
                ("vad1_10".into(), "pte1_10".into()),
                ("pte1_10".into(), "seg#1_0".into()),
            ],
        };
        let text = p.text();
        assert!(
            text.ends_with(
                "segments:\n  seg#1: pagefile-backed, 2 pages\n\
                 prototype PTEs no process maps:\n  seg#1[0x1] transition\n"
            ),
            "{text}"
        );
        assert_eq!(pages(1), "1 page");
        assert_eq!(pages(2), "2 pages");
    }
}
