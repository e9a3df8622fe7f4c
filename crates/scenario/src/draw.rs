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

pub mod svg;

/// A node of the picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// A stable identifier (also the DOT node name).
    pub id: String,
    /// The whole text, on one line (the text tree, DOT, and the SVG's `<title>` tooltip).
    pub label: String,
    /// The column.
    pub column: usize,
    /// The first line of the SVG box: the object's name ([`crate::naming`]).
    pub head: String,
    /// The second line of the SVG box: its state.
    pub state: String,
    /// The colour class of the box (one of the legend's, see [`svg::LEGEND`]).
    pub class: &'static str,
    /// The node whose box holds this one (a prototype PTE's segment).
    pub container: Option<String>,
}

/// The picture's graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Picture {
    /// Nodes in drawing order.
    pub nodes: Vec<Node>,
    /// Edges (from id, to id).
    pub edges: Vec<(String, String)>,
}

/// What a node is, for [`Picture::add`].
struct Spec {
    id: String,
    column: usize,
    head: String,
    state: String,
    class: &'static str,
    container: Option<String>,
}

impl Spec {
    fn new(id: String, column: usize, head: String, state: String, class: &'static str) -> Spec {
        Spec {
            id,
            column,
            head,
            state,
            class,
            container: None,
        }
    }
}

impl Picture {
    /// Adds a node once; its id.
    fn add(&mut self, seen: &mut BTreeSet<String>, spec: Spec) -> String {
        self.add_labelled(seen, spec, None)
    }

    /// [`Picture::add`] with a one-line label other than `head state`.
    fn add_labelled(
        &mut self,
        seen: &mut BTreeSet<String>,
        spec: Spec,
        label: Option<String>,
    ) -> String {
        if seen.insert(spec.id.clone()) {
            let label = label.unwrap_or_else(|| {
                if spec.state.is_empty() {
                    spec.head.clone()
                } else {
                    format!("{} {}", spec.head, spec.state)
                }
            });
            self.nodes.push(Node {
                id: spec.id.clone(),
                label,
                column: spec.column,
                head: spec.head,
                state: spec.state,
                class: spec.class,
                container: spec.container,
            });
        }
        spec.id
    }

    /// Builds the picture of a machine; processes are named from `names`.
    pub fn of(m: &Machine, names: &BTreeMap<AsId, String>) -> Picture {
        let mut p = Picture::default();
        let mut seen = BTreeSet::new();
        let frame_node =
            |p: &mut Picture, seen: &mut BTreeSet<String>, pfn: ntmm_vmm::Pfn| -> String {
                let id = format!("pfn{}", pfn.raw());
                match m.pfn_database().get(pfn) {
                    Some(e) => {
                        let loc = e.location();
                        let state = match loc {
                            PageLocation::Active => format!(
                                "active, share {}{}",
                                e.share_count(),
                                if e.modified() { ", dirty" } else { "" }
                            ),
                            other => format!("{} list", list_name(other)),
                        };
                        let label = format!(
                            "{} {:?} share {}{}",
                            naming::frame(pfn),
                            loc,
                            e.share_count(),
                            if e.modified() { " modified" } else { "" }
                        );
                        p.add_labelled(
                            seen,
                            Spec::new(id, 4, naming::frame(pfn), state, frame_class(loc)),
                            Some(label),
                        )
                    }
                    None => p.add(
                        seen,
                        Spec::new(id, 4, naming::frame(pfn), String::new(), "free"),
                    ),
                }
            };
        let proto_node = |p: &mut Picture,
                          seen: &mut BTreeSet<String>,
                          r: ProtoRef,
                          e: Option<ProtoPte>|
         -> String {
            let (state, class) = match e {
                Some(e) => (short_proto(&e), proto_class(&e)),
                None => ("untouched".to_string(), "demand-zero"),
            };
            p.add(
                seen,
                Spec {
                    container: Some(format!("{}", r.segment)),
                    ..Spec::new(
                        format!("{}_{}", r.segment, r.index),
                        3,
                        naming::proto(r),
                        state,
                        class,
                    )
                },
            )
        };
        let slot_node = |p: &mut Picture, seen: &mut BTreeSet<String>, slot: ntmm_vmm::Slot| {
            p.add(
                seen,
                Spec::new(
                    format!("slot{}", slot.raw()),
                    5,
                    naming::slot(slot),
                    String::new(),
                    "pagefile",
                ),
            )
        };
        // Which processes map each segment (a view, whether or not its PTEs exist yet).
        let mut mappers: BTreeMap<ntmm_vmm::SegmentId, BTreeSet<String>> = BTreeMap::new();
        for id in m.address_space_ids() {
            let Some(space) = m.address_space(id) else {
                continue;
            };
            let name = naming::process(names, id);
            let regions = space.vads().iter().count() as u64;
            let pnode = p.add_labelled(
                &mut seen,
                Spec::new(
                    format!("proc{}", id.raw()),
                    0,
                    format!("process {name}"),
                    count(regions, "region"),
                    "process",
                ),
                Some(format!("process {name}")),
            );
            for vad in space.vads().iter() {
                let (kind, class) = match vad.kind {
                    VadKind::Private { .. } => ("private".to_string(), "private"),
                    VadKind::Placeholder => ("placeholder".to_string(), "private"),
                    VadKind::Mapped { segment, .. } => {
                        mappers.entry(segment).or_default().insert(name.clone());
                        (format!("view of {segment}"), "view")
                    }
                };
                let vnode = p.add_labelled(
                    &mut seen,
                    Spec::new(
                        format!("vad{}_{:x}", id.raw(), vad.start.raw()),
                        1,
                        format!("{:#x} +{}", vad.start.base().raw(), pages(vad.pages())),
                        format!("{kind} {}", protection_words(vad.protection)),
                        class,
                    ),
                    Some(format!(
                        "{:#x} +{} {kind} {:?}",
                        vad.start.base().raw(),
                        pages(vad.pages()),
                        vad.protection
                    )),
                );
                p.edges.push((pnode.clone(), vnode.clone()));
                if let VadKind::Mapped { segment, .. } = vad.kind {
                    // The view refers to its segment (through the control area, §1.9).
                    p.edges.push((vnode.clone(), format!("{segment}")));
                }
                for (vpn, pte) in space.page_table().non_zero(vad.range()) {
                    let tnode = p.add_labelled(
                        &mut seen,
                        Spec::new(
                            format!("pte{}_{:x}", id.raw(), vpn.raw()),
                            2,
                            naming::process_pte(&name, vpn.base()),
                            short_pte(&pte).replace("prototype lookup", "proto lookup"),
                            pte_class(&pte),
                        ),
                        Some(format!("{:#x} {}", vpn.base().raw(), short_pte(&pte))),
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
                        let n = slot_node(&mut p, &mut seen, slot);
                        p.edges.push((tnode.clone(), n));
                    }
                }
            }
        }
        for seg in m.segment_ids() {
            let info = m.segment_state(seg);
            if let Some(info) = info {
                let (what, short) = match info.kind {
                    SegmentKind::Pagefile => ("pagefile-backed".to_string(), "pagefile-backed"),
                    SegmentKind::File { store } => (format!("file {store}"), "file-backed"),
                    SegmentKind::Image { store } => (format!("image of {store}"), "image"),
                };
                let mapped = match mappers.get(&seg) {
                    Some(who) => format!(
                        "mapped by {}",
                        who.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    None => "mapped by no process".to_string(),
                };
                p.add_labelled(
                    &mut seen,
                    Spec::new(
                        format!("{seg}"),
                        3,
                        format!("{seg} {short}"),
                        format!("{}\n{mapped}", pages(info.pages.raw())),
                        "segment",
                    ),
                    Some(format!(
                        "{seg}: {what}, {}, {mapped}",
                        pages(info.pages.raw())
                    )),
                );
            }
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
                        let s = slot_node(&mut p, &mut seen, slot);
                        p.edges.push((n, s));
                    }
                    _ => {}
                }
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
                    let s = slot_node(&mut p, &mut seen, slot);
                    p.edges.push((f, s));
                }
                (OriginalPte::Subsection { .. }, Some(ntmm_vmm::PteRef::Proto(r))) => {
                    if let Some(SegmentKind::File { store } | SegmentKind::Image { store }) =
                        m.segment_state(r.segment).map(|s| s.kind)
                    {
                        let s = p.add(
                            &mut seen,
                            Spec::new(
                                format!("{store}_{}", r.index),
                                5,
                                format!("{store} page {:#x}", r.index),
                                String::new(),
                                "file",
                            ),
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

    /// The picture as a standalone SVG document, titled as the machine at the end.
    pub fn svg(&self) -> String {
        self.svg_titled("the machine at the end")
    }

    /// The picture as a standalone SVG document with a title ([`svg`] lays it out).
    pub fn svg_titled(&self, title: &str) -> String {
        svg::Layout::of(self).svg(title)
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
        // Column 3 holds the segments (ids without `_`; each says which processes map it) and
        // their prototype PTEs; a prototype PTE no process PTE points at is drawn here, under
        // its own heading (its page may still be mapped by a view whose PTE is not built yet).
        let (segments, cached): (Vec<&Node>, Vec<&Node>) = self
            .nodes
            .iter()
            .filter(|n| n.column == 3 && !self.edges.iter().any(|(_, b)| *b == n.id))
            .partition(|n| !n.id.contains('_'));
        for (title, nodes) in [
            ("segments no process maps:\n", segments),
            ("prototype PTEs no process PTE points at:\n", cached),
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
        Pte::PrototypeLookup { protection } => {
            format!("prototype lookup {}", protection_words(*protection))
        }
        Pte::Transition { .. } => "transition".into(),
        Pte::Pagefile { .. } => "pagefile".into(),
        Pte::DemandZero { protection } => format!("demand-zero {}", protection_words(*protection)),
    }
}

/// A protection in a few lowercase words: `readwrite`, `execute-read`, `readonly+guard`.
fn protection_words(p: ntmm_vmm::Protection) -> String {
    format!("{p:?}")
        .replace("MM_", "")
        .replace('|', "+")
        .replace('_', "-")
        .to_lowercase()
}

/// The colour class of a process PTE (the legend's "PTE states").
fn pte_class(p: &Pte) -> &'static str {
    match p {
        Pte::Zero | Pte::DemandZero { .. } => "demand-zero",
        Pte::Valid(_) => "valid",
        Pte::Prototype { .. } | Pte::PrototypeLookup { .. } => "prototype",
        Pte::Transition { .. } => "transition",
        Pte::Pagefile { .. } => "pagefile",
    }
}

/// The colour class of a prototype PTE.
fn proto_class(p: &ProtoPte) -> &'static str {
    match p {
        ProtoPte::Zero | ProtoPte::DemandZero { .. } => "demand-zero",
        ProtoPte::Valid { .. } => "valid",
        ProtoPte::Transition { .. } => "transition",
        ProtoPte::Pagefile { .. } => "pagefile",
        ProtoPte::Subsection { .. } => "file",
    }
}

/// The colour class of a frame: its page list.
fn frame_class(l: PageLocation) -> &'static str {
    match l {
        PageLocation::Active => "active",
        PageLocation::Standby => "standby",
        PageLocation::Modified | PageLocation::ModifiedNoWrite => "modified",
        PageLocation::Transition => "io",
        PageLocation::Zeroed | PageLocation::Free => "free",
    }
}

/// A page list by name: `standby`, `modified-no-write`.
fn list_name(l: PageLocation) -> &'static str {
    match l {
        PageLocation::Zeroed => "zeroed",
        PageLocation::Free => "free",
        PageLocation::Standby => "standby",
        PageLocation::Modified => "modified",
        PageLocation::ModifiedNoWrite => "modified-no-write",
        PageLocation::Active => "active",
        PageLocation::Transition => "in-I/O",
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

pub(crate) fn xml(s: &str) -> String {
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
            head: label.into(),
            state: String::new(),
            class: "valid",
            container: None,
        }
    }

    #[test]
    fn test_the_tree_lists_a_mapped_segment_under_its_view_and_apart_the_unmapped_ones() {
        let p = Picture {
            nodes: vec![
                node("proc1", "process A", 0),
                node("vad1_10", "0x10000 +1 page view of seg#1 MM_READWRITE", 1),
                node("pte1_10", "0x10000 prototype pointer", 2),
                node("seg#1_0", "seg#1[0x0] valid", 3),
                node("seg#1_1", "seg#1[0x1] transition", 3),
                node("seg#1", "seg#1: pagefile-backed, 2 pages, mapped by A", 3),
                node(
                    "seg#2",
                    "seg#2: pagefile-backed, 1 page, mapped by no process",
                    3,
                ),
            ],
            edges: vec![
                ("proc1".into(), "vad1_10".into()),
                ("vad1_10".into(), "pte1_10".into()),
                ("vad1_10".into(), "seg#1".into()),
                ("pte1_10".into(), "seg#1_0".into()),
            ],
        };
        let text = p.text();
        assert!(
            text.contains(
                "  0x10000 +1 page view of seg#1 MM_READWRITE\n    0x10000 prototype pointer\n      seg#1[0x0] valid\n    seg#1: pagefile-backed, 2 pages, mapped by A\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "segments no process maps:\n  seg#2: pagefile-backed, 1 page, mapped by no process\n\
                 prototype PTEs no process PTE points at:\n  seg#1[0x1] transition\n"
            ),
            "{text}"
        );
        assert_eq!(pages(1), "1 page");
        assert_eq!(pages(2), "2 pages");
    }
}
