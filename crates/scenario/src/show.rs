//! `show` forms: the structures as WinDbg's `!pte`, `!pfn`, `!ca`, `!vad` and `!memusage` show
//! them on real Windows. The format is for people and is not part of the language contract.

use ntmm_api::{Handle, System};
use ntmm_vmm::{
    codec, AsId, Machine, Pfn, Pte, PteRef, Va, VadKind, PAGE_SIZE, USER_END, USER_MIN,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A `show` form with its operands evaluated: what to render, and in which process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShowTarget {
    /// `show pte ADDR`: the PTE of `va` in process `pid` (`!pte`).
    Pte {
        /// The process.
        pid: AsId,
        /// The address.
        va: Va,
    },
    /// `show pfn N`: a frame's PFN entry (`!pfn`).
    Pfn(Pfn),
    /// `show vad P`: the VAD tree and a `VirtualQuery` walk of process `pid` named `name`.
    Vad {
        /// The process.
        pid: AsId,
        /// Its scenario name.
        name: String,
    },
    /// `show section H`: the section behind handle `handle` of process `pid`, its control
    /// area and segment (`!ca`).
    Section {
        /// The process holding the handle.
        pid: AsId,
        /// The section handle.
        handle: Handle,
    },
    /// `show memory`: the page lists, commit and every process's working set (`!memusage`).
    Memory,
}

/// Renders a `show` form over the system; `names` names the processes. The error says why
/// nothing could be shown.
pub fn render(
    sys: &System,
    target: &ShowTarget,
    names: &BTreeMap<AsId, String>,
) -> Result<String, String> {
    match target {
        ShowTarget::Pte { pid, va } => Ok(sys
            .executive()
            .vmm()
            .inspect(|m| pte_text(m, *pid, *va, names))),
        ShowTarget::Pfn(pfn) => sys
            .executive()
            .vmm()
            .inspect(|m| pfn_text(m, *pfn, names))
            .ok_or_else(|| format!("no frame {pfn}")),
        ShowTarget::Vad { pid, name } => Ok(vad_text(sys, *pid, name)),
        ShowTarget::Section { pid, handle } => section_text(sys, *pid, *handle),
        ShowTarget::Memory => Ok(memory_text(sys, names)),
    }
}

/// `!ca` of the section behind a handle.
fn section_text(sys: &System, pid: AsId, h: Handle) -> Result<String, String> {
    let id = sys
        .section_id(pid, h)
        .map_err(|e| format!("not a section handle: {e}"))?;
    let info = sys.nt_query_section(pid, h).ok();
    let ex = sys.executive();
    let ca = ex.control_areas().into_iter().find(|c| {
        ex.section_control_area(id)
            .map(|x| x.id == c.id)
            .unwrap_or(false)
    });
    let Some(ca) = ca else {
        return Err("the section's control area is gone".into());
    };
    let seg = ex
        .vmm()
        .segment_info(ca.segment)
        .map_err(|e| e.to_string())?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "section {:?}  control area {:?}  segment {}",
        id, ca.id, ca.segment
    );
    if let Some(i) = info {
        let _ = writeln!(
            s,
            "  SizeOfSection {:#x}  Attributes {:#x}",
            i.size, i.attributes
        );
    }
    let _ = writeln!(s, "  NumberOfSectionReferences {}  NumberOfMappedViews {}  NumberOfUserReferences {}  NumberOfPfnReferences {}", ca.section_references, ca.mapped_views, ca.user_references, ca.pfn_references);
    let _ = writeln!(
        s,
        "  backing: {}",
        match ca.stream {
            Some(f) => format!("data file {f:?}"),
            None => "pagefile".into(),
        }
    );
    let _ = writeln!(
        s,
        "  segment: {} prototype PTEs, {} pages of commit, {} KiB of prototype PTE chunks{}",
        seg.pages.raw(),
        seg.committed.raw(),
        seg.chunk_bytes / 1024,
        if seg.parked {
            ", on the unused-segment list"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "  subsection 0: prototype PTEs 0..{:#x}, file offset 0..{:#x}",
        seg.pages.raw(),
        seg.pages.raw() * PAGE_SIZE
    );
    ex.vmm().inspect(|m| {
        for (i, p) in m.segment_entries(ca.segment).into_iter().take(64) {
            let bits = codec::encode_proto(&p, ca.segment)
                .map_or_else(|_| "-".into(), |b| format!("{b:#018x}"));
            let _ = writeln!(s, "    [{i:#x}] {bits}  {p:?}");
        }
    });
    Ok(s)
}

fn pid_name(names: &BTreeMap<AsId, String>, id: AsId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

fn pte_text(m: &Machine, pid: AsId, va: Va, names: &BTreeMap<AsId, String>) -> String {
    let mut s = String::new();
    let Some(space) = m.address_space(pid) else {
        return "no such process".into();
    };
    let pte = space.page_table().get(va.vpn());
    let bits = codec::encode(&pte).map_or_else(|_| "-".into(), |b| format!("{b:#018x}"));
    let _ = writeln!(
        s,
        "VA {}  ({}, page {:#x})",
        va,
        pid_name(names, pid),
        va.vpn().raw()
    );
    let _ = writeln!(s, "  PTE        {bits}  {pte:?}");
    if let Some(ws) = space.working_set().get(va.vpn()) {
        let _ = writeln!(s, "  working set: protection {:?}", ws.protection);
    }
    let proto = match pte {
        Pte::Prototype { proto, .. } => Some(proto),
        Pte::Valid(h) => match m.pfn_database().get(h.pfn).and_then(|e| e.pte()) {
            Some(PteRef::Proto(p)) => Some(p),
            _ => None,
        },
        _ => space
            .vads()
            .find(va.vpn())
            .and_then(|v| v.proto_at(va.vpn())),
    };
    if let Some(p) = proto {
        let entry = m
            .segment_entries(p.segment)
            .into_iter()
            .find(|(i, _)| *i == p.index)
            .map(|(_, e)| e);
        let text = entry.map_or_else(
            || "(template value: untouched)".to_string(),
            |e| {
                let bits = codec::encode_proto(&e, p.segment)
                    .map_or_else(|_| "-".into(), |b| format!("{b:#018x}"));
                format!("{bits}  {e:?}")
            },
        );
        let _ = writeln!(s, "  prototype  {}[{:#x}]  {text}", p.segment, p.index);
    }
    if let Some(pfn) = pte.pfn().or_else(|| {
        proto.and_then(|p| {
            m.segment_entries(p.segment)
                .into_iter()
                .find(|(i, _)| *i == p.index)
                .and_then(|(_, e)| e.pfn())
        })
    }) {
        if let Some(t) = pfn_text(m, pfn, names) {
            s.push_str(&t);
        }
    }
    s
}

fn pfn_text(m: &Machine, pfn: Pfn, names: &BTreeMap<AsId, String>) -> Option<String> {
    let e = m.pfn_database().get(pfn)?;
    let pte = match e.pte() {
        Some(PteRef::Process { space, vpn }) => {
            format!("{} VA {}", pid_name(names, space), vpn.base())
        }
        Some(PteRef::Proto(p)) => format!("prototype {}[{:#x}]", p.segment, p.index),
        None => "none".into(),
    };
    Some(format!(
        "  PFN {pfn}: {:?}  share {}  reference {}  modified {}  PteAddress {pte}  OriginalPte {:?}\n",
        e.location(),
        e.share_count(),
        e.reference_count(),
        e.modified() as u8,
        e.original()
    ))
}

fn vad_text(sys: &ntmm_api::System, pid: AsId, name: &str) -> String {
    let mut s = String::new();
    let vmm = sys.executive().vmm();
    let _ = writeln!(s, "{name}: regions (VADs)");
    if let Ok(vads) = vmm.regions(pid) {
        for v in vads {
            let kind = match v.kind {
                VadKind::Private { committed } => {
                    format!("private{}", if committed { ", committed" } else { "" })
                }
                VadKind::Mapped {
                    segment,
                    first_index,
                } => format!("view of {segment} from page {first_index:#x}"),
            };
            let _ = writeln!(
                s,
                "  {:#014x}-{:#014x}  {:>6} pages  {:?}  commit {}  {kind}",
                v.start.base().raw(),
                v.end.base().raw() - 1,
                v.pages(),
                v.protection,
                v.commit_charge.raw()
            );
        }
    }
    let _ = writeln!(s, "{name}: address space, region by region (VirtualQuery)");
    let mut va = USER_MIN;
    let mut rows = 0;
    while va < USER_END && rows < 256 {
        let Ok(m) = sys.virtual_query(pid, Va::new(va)) else {
            break;
        };
        let state = match m.state {
            0x1000 => "MEM_COMMIT ",
            0x2000 => "MEM_RESERVE",
            _ => "MEM_FREE   ",
        };
        let kind = match m.kind {
            0x20000 => "MEM_PRIVATE",
            0x40000 => "MEM_MAPPED",
            _ => "",
        };
        let _ = writeln!(s, "  {:#014x} {:#014x}  {state}  Protect {:#05x}  AllocationBase {:#x}  AllocationProtect {:#x}  {kind}", m.base_address, m.region_size, m.protect, m.allocation_base, m.allocation_protect);
        va = m.base_address.saturating_add(m.region_size.max(PAGE_SIZE));
        rows += 1;
    }
    s
}

fn memory_text(sys: &ntmm_api::System, names: &BTreeMap<AsId, String>) -> String {
    let vmm = sys.executive().vmm();
    let c = vmm.list_counts();
    let commit = vmm.commit();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "page lists: zeroed {}  free {}  standby {}  modified {}  modified-no-write {}  in use {}",
        c.zeroed, c.free, c.standby, c.modified, c.modified_no_write, c.in_use
    );
    let _ = writeln!(
        s,
        "commit: {} of {} pages charged (peak {}); pagefile slots in use {}",
        commit.charged().raw(),
        commit.limit().raw(),
        commit.peak().raw(),
        vmm.pagefile_used()
    );
    let mc = vmm.machine_counters();
    let _ = writeln!(s, "I/O: file reads {}  pagefile reads {}  file writes {}  pagefile writes {}  errors {}  trims {}  repurposed {}", mc.file_reads, mc.pagefile_reads, mc.file_writes, mc.pagefile_writes, mc.io_errors, mc.trims, mc.repurposed);
    for (id, name) in names {
        let ws = vmm.working_set(*id).map(|w| w.len()).unwrap_or(0);
        if let Ok(f) = vmm.fault_counters(*id) {
            let _ = writeln!(s, "{name}: working set {}; faults: demand-zero {}  share {}  soft {}  copy-on-write {}  hard (file) {}  hard (pagefile) {}  access violations {}  guard {}  in-page errors {}", crate::draw::pages(ws as u64), f.demand_zero, f.share, f.transition, f.copy_on_write, f.hard_file, f.hard_pagefile, f.access_violation, f.guard_page, f.in_page_error);
        }
    }
    for ca in sys.executive().control_areas() {
        let _ = writeln!(
            s,
            "control area {:?}: {}  sections {}  views {}  user {}  pfn {}{}",
            ca.id,
            ca.stream
                .map_or("pagefile-backed".to_string(), |f| format!("file {f:?}")),
            ca.section_references,
            ca.mapped_views,
            ca.user_references,
            ca.pfn_references,
            if ca.parked {
                "  (unused-segment list)"
            } else {
                ""
            }
        );
    }
    s
}
