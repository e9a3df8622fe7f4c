//! `show` forms: the structures laid out as WinDbg's `!pte`, `!pfn`, `!ca`, `!vad` and
//! `!memusage` lay them out on real Windows (named fields, hexadecimal without `0x` where WinDbg
//! prints it so, the PTE flag string `---DA--UW-V`). Where WinDbg prints a kernel address, ntmm
//! prints the object's identity instead ([`crate::naming`]: `ca#1`, `seg#1[0x3]`, `A!0x10000`):
//! ntmm has no kernel addresses and invents none. The format is for people and is not part of
//! the language contract.

use crate::naming;
use ntmm_api::{Handle, System};
use ntmm_vmm::{
    codec, AsId, Machine, OriginalPte, PageLocation, Pfn, Protection, ProtoPte, ProtoRef, Pte,
    PteRef, SegmentId, Va, VadKind, PAGE_SIZE, USER_END, USER_MIN,
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
    let text = match target {
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
    }?;
    // Columns padded for alignment leave no trailing blanks.
    Ok(text
        .lines()
        .map(|l| l.trim_end().to_string() + "\n")
        .collect())
}

/// A protection code as WinDbg's `!pte` names it: `4 - ReadWrite`, `14 - ReadWrite|Guard`
/// (nt_internals §2.1).
pub fn protect_words(p: Protection) -> String {
    const NAMES: [&str; 8] = [
        "NoAccess",
        "ReadOnly",
        "Execute",
        "ExecuteRead",
        "ReadWrite",
        "WriteCopy",
        "ExecuteReadWrite",
        "ExecuteWriteCopy",
    ];
    let b = p.bits();
    let name = match b {
        0x10 => "Decommitted".to_string(),
        0x18 => "NoAccess".to_string(),
        _ => {
            let mut n = NAMES[(b & 7) as usize].to_string();
            match b & 0x18 {
                0x18 => n.push_str("|WriteCombine"),
                0x10 => n.push_str("|Guard"),
                0x08 => n.push_str("|NoCache"),
                _ => {}
            }
            n
        }
    };
    format!("{b:x} - {name}")
}

/// The status letters of a valid PTE as WinDbg's `!pte` prints them on x64, one column per
/// bit: C(opy-on-write) G(lobal) L(arge) D(irty) A(ccessed) N(o cache) T(write-through)
/// U(ser)/K(ernel) W(rite)/R(ead-only) E(xecutable) V(alid), a dash for a clear bit.
pub fn pte_flags(bits: u64) -> String {
    let bit = |n: u32, set: char, clear: char| if bits & (1 << n) != 0 { set } else { clear };
    [
        bit(9, 'C', '-'),
        bit(8, 'G', '-'),
        bit(7, 'L', '-'),
        bit(6, 'D', '-'),
        bit(5, 'A', '-'),
        bit(4, 'N', '-'),
        bit(3, 'T', '-'),
        bit(2, 'U', 'K'),
        bit(1, 'W', 'R'),
        bit(63, '-', 'E'),
        bit(0, 'V', '-'),
    ]
    .iter()
    .collect()
}

/// `contains …` and the decoded lines of one PTE in `!pte`'s words.
fn pte_lines(s: &mut String, bits: Option<u64>, decoded: Decoded) {
    match bits {
        Some(b) => {
            let _ = writeln!(s, "contains {b:016X}");
        }
        None => {
            let _ = writeln!(s, "contains (not encodable in the amd64 layout)");
        }
    }
    match decoded {
        Decoded::Valid(pfn) => {
            let _ = writeln!(s, "pfn {:<10x}{}", pfn.raw(), pte_flags(bits.unwrap_or(1)));
        }
        Decoded::ValidProto(pfn) => {
            let _ = writeln!(
                s,
                "pfn {:<10x}valid (protection: the frame's restore pte)",
                pfn.raw()
            );
        }
        Decoded::Zero => {
            let _ = writeln!(s, "not valid (zero: never touched, the VAD decides)");
        }
        Decoded::Invalid(lines) => {
            let _ = writeln!(s, "not valid");
            for l in lines {
                let _ = writeln!(s, " {l}");
            }
        }
    }
}

/// A PTE decoded as `!pte` explains it.
enum Decoded {
    Valid(Pfn),
    /// A valid prototype PTE: ntmm's codec keeps only the frame in it; the page's protection is
    /// the frame's `OriginalPte` (nt_internals §2.5), so no flag string is printed.
    ValidProto(Pfn),
    Zero,
    Invalid(Vec<String>),
}

fn decode_process(pte: &Pte) -> Decoded {
    match *pte {
        Pte::Zero => Decoded::Zero,
        Pte::Valid(h) => Decoded::Valid(h.pfn),
        Pte::Prototype { proto, read_only } => Decoded::Invalid(vec![
            format!("Proto: {}", naming::proto(proto)),
            if read_only {
                "ReadOnly".into()
            } else {
                "Protect: the prototype PTE's".into()
            },
        ]),
        Pte::PrototypeLookup { protection } => Decoded::Invalid(vec![
            "Proto: VAD".into(),
            format!("Protect: {}", protect_words(protection)),
        ]),
        Pte::Transition { pfn, protection } => Decoded::Invalid(vec![
            format!("Transition: {:x}", pfn.raw()),
            format!("Protect: {}", protect_words(protection)),
        ]),
        Pte::Pagefile { slot, protection } => Decoded::Invalid(vec![
            "PageFile: 0".into(),
            format!("Offset: {:x}", slot.raw()),
            format!("Protect: {}", protect_words(protection)),
        ]),
        Pte::DemandZero { protection } => Decoded::Invalid(vec![
            "DemandZero".into(),
            format!("Protect: {}", protect_words(protection)),
        ]),
    }
}

fn decode_proto(p: &ProtoPte, seg: SegmentId) -> Decoded {
    match *p {
        ProtoPte::Zero => Decoded::Invalid(vec!["not committed (SEC_RESERVE)".into()]),
        ProtoPte::Valid { pfn } => Decoded::ValidProto(pfn),
        ProtoPte::DemandZero { protection } => Decoded::Invalid(vec![
            "DemandZero".into(),
            format!("Protect: {}", protect_words(protection)),
        ]),
        ProtoPte::Transition { pfn, protection } => Decoded::Invalid(vec![
            format!("Transition: {:x}", pfn.raw()),
            format!("Protect: {}", protect_words(protection)),
        ]),
        ProtoPte::Pagefile { slot, protection } => Decoded::Invalid(vec![
            "PageFile: 0".into(),
            format!("Offset: {:x}", slot.raw()),
            format!("Protect: {}", protect_words(protection)),
        ]),
        ProtoPte::Subsection { protection } => Decoded::Invalid(vec![
            format!("Subsection: {seg} subsection 1"),
            format!("Protect: {}", protect_words(protection)),
        ]),
    }
}

/// The prototype PTE at `r`: its stored value, or `None` where the segment's template applies.
fn proto_entry(m: &Machine, r: ProtoRef) -> Option<ProtoPte> {
    m.segment_entries(r.segment)
        .into_iter()
        .find(|(i, _)| *i == r.index)
        .map(|(_, e)| e)
}

/// `!pte`: the PTE of an address (ntmm has one page-table level; the PXE, PPE and PDE columns
/// WinDbg adds are not modelled), the prototype PTE behind it, and the frame's PFN entry.
fn pte_text(m: &Machine, pid: AsId, va: Va, names: &BTreeMap<AsId, String>) -> String {
    let mut s = String::new();
    let Some(space) = m.address_space(pid) else {
        return "no such process".into();
    };
    let pte = space.page_table().get(va.vpn());
    let who = naming::process(names, pid);
    let _ = writeln!(s, "VA {:016x}", va.raw());
    let _ = writeln!(s, "PTE at {}", naming::process_pte(&who, va));
    pte_lines(&mut s, codec::encode(&pte).ok(), decode_process(&pte));
    if let Some(ws) = space.working_set().get(va.vpn()) {
        let _ = writeln!(
            s,
            "in the working set of {who}, Protect: {}",
            protect_words(ws.protection)
        );
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
    let mut pfn = pte.pfn();
    if let Some(p) = proto {
        let _ = writeln!(s, "Prototype PTE at {}", naming::proto(p));
        match proto_entry(m, p) {
            Some(e) => {
                pte_lines(
                    &mut s,
                    codec::encode_proto(&e, p.segment).ok(),
                    decode_proto(&e, p.segment),
                );
                pfn = pfn.or_else(|| e.pfn());
            }
            None => {
                let _ = writeln!(s, "contains the segment's template (never touched)");
            }
        }
    }
    if let Some(pfn) = pfn {
        if let Some(t) = pfn_text(m, pfn, names) {
            s.push_str(&t);
        }
    }
    s
}

/// The PTE a frame's `PteAddress` names.
fn pte_address(r: Option<PteRef>, names: &BTreeMap<AsId, String>) -> String {
    match r {
        Some(PteRef::Process { space, vpn }) => {
            naming::process_pte(&naming::process(names, space), vpn.base())
        }
        Some(PteRef::Proto(p)) => naming::proto(p),
        None => "none".into(),
    }
}

/// The encoded `OriginalPte` (`restore pte`), in the layout of the PTE it restores.
fn restore_pte(original: OriginalPte, r: Option<PteRef>) -> String {
    let bits = match r {
        Some(PteRef::Proto(p)) => codec::encode_proto(&original.to_proto(), p.segment),
        _ => codec::encode(&original.to_process()),
    };
    let words = match original {
        OriginalPte::DemandZero { protection } => {
            format!("DemandZero, Protect: {}", protect_words(protection))
        }
        OriginalPte::Pagefile { slot, protection } => format!(
            "PageFile: 0 Offset: {:x}, Protect: {}",
            slot.raw(),
            protect_words(protection)
        ),
        OriginalPte::Subsection { protection } => match r {
            Some(PteRef::Proto(p)) => format!(
                "Subsection: {} subsection 1, Protect: {}",
                p.segment,
                protect_words(protection)
            ),
            _ => format!("Subsection, Protect: {}", protect_words(protection)),
        },
    };
    format!(
        "{} ({words})",
        bits.map_or_else(|_| "-".repeat(16), |b| format!("{b:016X}"))
    )
}

/// `!pfn`: a frame's PFN entry. `flink`/`blink` are the neighbours on its page list; for a
/// frame in use WinDbg's second column is the share count, as here.
fn pfn_text(m: &Machine, pfn: Pfn, names: &BTreeMap<AsId, String>) -> Option<String> {
    let db = m.pfn_database();
    let e = db.get(pfn)?;
    let loc = e.location();
    let mut s = String::new();
    let _ = writeln!(s, "    PFN {:08X} at {}", pfn.raw(), naming::frame(pfn));
    let hex = |p: Option<&Pfn>| p.map_or("--------".to_string(), |p| format!("{:08X}", p.raw()));
    if loc.is_list() {
        let list = db.list(loc);
        let at = list.iter().position(|p| *p == pfn);
        let flink = at.and_then(|i| list.get(i + 1));
        let blink = at.and_then(|i| i.checked_sub(1)).and_then(|i| list.get(i));
        let _ = writeln!(
            s,
            "    flink       {}  blink / share count {}  pteaddress {}",
            hex(flink),
            hex(blink),
            pte_address(e.pte(), names)
        );
    } else {
        let _ = writeln!(
            s,
            "    flink       --------  blink / share count {:08X}  pteaddress {}",
            e.share_count(),
            pte_address(e.pte(), names)
        );
    }
    let _ = writeln!(s, "    reftotal    {:08X}  Cached", e.reference_count());
    let mut flags = Vec::new();
    if e.modified() {
        flags.push("Modified");
    }
    if e.read_in_progress() {
        flags.push("ReadInProgress");
    }
    if e.write_in_progress() {
        flags.push("WriteInProgress");
    }
    if e.deleted() {
        flags.push("PteDeleted");
    }
    let letters: String = [
        (e.modified(), 'M'),
        (e.read_in_progress(), 'R'),
        (e.write_in_progress(), 'W'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, c)| *c)
    .collect();
    let _ = writeln!(s, "    {:<16}{letters}", format!("{loc:?}"));
    let _ = writeln!(s, "    restore pte {}", restore_pte(e.original(), e.pte()));
    if !flags.is_empty() {
        let _ = writeln!(s, "    {}", flags.join(" "));
    }
    Some(s)
}

/// `!ca` of the section behind a handle: the section object, its control area, segment and
/// subsection, then the prototype PTEs that differ from the segment's template.
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
    let _ = writeln!(s, "Section object {id:?}");
    if let Some(i) = info {
        let _ = writeln!(
            s,
            "  SizeOfSection {:016x}  Attributes {:08x}",
            i.size, i.attributes
        );
    }
    let _ = writeln!(s, "  ControlArea  {:?}", ca.id);
    let _ = writeln!(s, "ControlArea  @ {:?}", ca.id);
    let _ = writeln!(s, "  Segment      {}", ca.segment);
    let _ = writeln!(
        s,
        "  Section Ref {:>8}  Pfn Ref {:>8}  Mapped Views {:>4}",
        ca.section_references, ca.pfn_references, ca.mapped_views
    );
    let _ = writeln!(s, "  User Ref    {:>8}", ca.user_references);
    let mut flags = vec![if ca.stream.is_some() {
        "File"
    } else {
        "Commit"
    }];
    if ca.image {
        flags.push("Image");
    }
    if ca.parked {
        flags.push("OnUnusedSegmentList");
    }
    if seg.no_modified_writing {
        flags.push("NoModifiedWriting");
    }
    let _ = writeln!(s, "  Flags        {}", flags.join(" "));
    match ca.stream {
        Some(f) => {
            let _ = writeln!(s, "  File Object  {f:?}");
        }
        None => {
            let _ = writeln!(s, "  Pagefile-backed section");
        }
    }
    let _ = writeln!(s, "Segment @ {}", ca.segment);
    let _ = writeln!(s, "  ControlArea       {:?}", ca.id);
    let _ = writeln!(s, "  Total Ptes        {:>8x}", seg.pages.raw());
    let _ = writeln!(s, "  Segment Size      {:>8x}", seg.pages.raw() * PAGE_SIZE);
    let _ = writeln!(s, "  Committed         {:>8x}", seg.committed.raw());
    let _ = writeln!(
        s,
        "  ProtoPte chunks   {:>8x}  (bytes of prototype PTE tables allocated)",
        seg.chunk_bytes
    );
    let _ = writeln!(s, "  Protection        {}", protect_words(seg.protection));
    if ca.image {
        // ntmm keeps one page source per prototype PTE where NT has one subsection per PE
        // section (nt_internals §1.5): the prototype PTEs below carry each page's protection.
        let _ = writeln!(
            s,
            "  Image: one page source per prototype PTE (NT: one subsection per PE section)"
        );
    }
    let _ = writeln!(s, "Subsection 1 @ {} subsection 1", ca.segment);
    let _ = writeln!(s, "  ControlArea  {:?}", ca.id);
    if ca.stream.is_some() && !ca.image {
        let _ = writeln!(
            s,
            "  Starting Sector        0  Number Of Sectors {:>8x}",
            seg.pages.raw() * PAGE_SIZE / 512
        );
    }
    let _ = writeln!(
        s,
        "  Base Pte     {}  Ptes In Subsect {:>8x}",
        naming::proto(ProtoRef {
            segment: ca.segment,
            index: ntmm_vmm::ProtoIndex::ZERO
        }),
        seg.pages.raw()
    );
    let _ = writeln!(
        s,
        "Prototype PTEs that differ from the template (at most 64):"
    );
    ex.vmm().inspect(|m| {
        for (i, p) in m.segment_entries(ca.segment).into_iter().take(64) {
            let r = ProtoRef {
                segment: ca.segment,
                index: i,
            };
            let bits = codec::encode_proto(&p, ca.segment)
                .map_or_else(|_| "-".repeat(16), |b| format!("{b:016X}"));
            let what = match decode_proto(&p, ca.segment) {
                Decoded::Valid(pfn) | Decoded::ValidProto(pfn) => format!(
                    "pfn {:<10x}valid (protection: the frame's restore pte)",
                    pfn.raw()
                ),
                Decoded::Zero => "zero".into(),
                Decoded::Invalid(lines) => lines.join(", "),
            };
            let _ = writeln!(s, "  {:<14} contains {bits}  {what}", naming::proto(r));
        }
    });
    Ok(s)
}

/// WinDbg's `!vad` protection names.
fn vad_protection(p: Protection) -> &'static str {
    const NAMES: [&str; 8] = [
        "NO_ACCESS",
        "READONLY",
        "EXECUTE",
        "EXECUTE_READ",
        "READWRITE",
        "WRITECOPY",
        "EXECUTE_READWRITE",
        "EXECUTE_WRITECOPY",
    ];
    NAMES[(p.bits() & 7) as usize]
}

/// `!vad` (the regions in address order; ntmm keeps them in an ordered map, not an AVL tree, so
/// there is no Level column), then `!address` (a `VirtualQuery` walk).
fn vad_text(sys: &ntmm_api::System, pid: AsId, name: &str) -> String {
    let mut s = String::new();
    let ex = sys.executive();
    let vmm = ex.vmm();
    let ca_of = |seg: SegmentId| {
        ex.control_areas()
            .into_iter()
            .find(|c| c.segment == seg)
            .map(|c| match c.stream {
                Some(f) if c.image => format!("{:?} {seg} Image section {f:?}", c.id),
                Some(f) => format!("{:?} {seg} File section {f:?}", c.id),
                None => format!("{:?} {seg} Pagefile section", c.id),
            })
            .unwrap_or_else(|| format!("{seg}"))
    };
    let _ = writeln!(s, "VADs of {name}");
    let _ = writeln!(
        s,
        "{:<18}{:>12}{:>12}{:>8} {:<8}{:<19}Name",
        "VAD", "Start", "End", "Commit", "Type", "Protection"
    );
    if let Ok(vads) = vmm.regions(pid) {
        for v in vads {
            let (kind, what) = match v.kind {
                VadKind::Private { .. } => ("Private", String::new()),
                // NT's placeholder VAD is private and reserved (F72).
                VadKind::Placeholder => ("Private", "Placeholder".to_string()),
                VadKind::Mapped {
                    segment,
                    first_index,
                } => (
                    "Mapped",
                    format!(
                        "{} from {}",
                        ca_of(segment),
                        naming::proto(ProtoRef {
                            segment,
                            index: first_index
                        })
                    ),
                ),
            };
            let what = if v.placeholder && v.kind != VadKind::Placeholder {
                format!("{what} (in a placeholder)")
            } else {
                what
            };
            let _ = writeln!(
                s,
                "{:<18}{:>12x}{:>12x}{:>8} {kind:<8}{:<19}{what}",
                naming::process_pte(name, v.start.base()),
                v.start.raw(),
                v.end.raw() - 1,
                v.commit_charge.raw(),
                vad_protection(v.protection),
            );
        }
    }
    let _ = writeln!(
        s,
        "Address space of {name}, region by region (VirtualQuery)"
    );
    let _ = writeln!(
        s,
        "{:<18}{:<18}{:<18}{:<12}{:<12}{:<10}AllocationBase",
        "BaseAddress", "EndAddress+1", "RegionSize", "Type", "State", "Protect"
    );
    let mut va = USER_MIN;
    let mut rows = 0;
    while va < USER_END && rows < 256 {
        let Ok(m) = sys.virtual_query(pid, Va::new(va)) else {
            break;
        };
        let state = match m.state {
            0x1000 => "MEM_COMMIT",
            0x2000 => "MEM_RESERVE",
            _ => "MEM_FREE",
        };
        let kind = match m.kind {
            0x20000 => "MEM_PRIVATE",
            0x40000 => "MEM_MAPPED",
            0x100_0000 => "MEM_IMAGE",
            _ => "",
        };
        let _ = writeln!(
            s,
            "{:016x}  {:016x}  {:016x}  {kind:<12}{state:<12}{:<10}{}",
            m.base_address,
            m.base_address.saturating_add(m.region_size),
            m.region_size,
            format!("{:x}", m.protect),
            if m.allocation_base == 0 {
                String::new()
            } else {
                format!("{:016x}", m.allocation_base)
            }
        );
        va = m.base_address.saturating_add(m.region_size.max(PAGE_SIZE));
        rows += 1;
    }
    s
}

/// One `!memusage` count line: pages and kilobytes.
fn usage_line(s: &mut String, label: &str, pages: u64) {
    let _ = writeln!(
        s,
        "{label:>19}: {pages:>6} ({:>6} kb)",
        pages * PAGE_SIZE / 1024
    );
}

/// `!memusage`: the page lists and the per-control-area usage; then, in `!vm`'s words, commit
/// and the pagefile, the I/O counters, and each process's working set and faults.
fn memory_text(sys: &ntmm_api::System, names: &BTreeMap<AsId, String>) -> String {
    let ex = sys.executive();
    let vmm = ex.vmm();
    let c = vmm.list_counts();
    let (active, transition) = vmm.inspect(|m| {
        let db = m.pfn_database();
        (0..db.len()).fold((0u64, 0u64), |(a, t), i| {
            match db.get(Pfn::new(i as u32)).map(|e| e.location()) {
                Some(PageLocation::Active) => (a + 1, t),
                Some(PageLocation::Transition) => (a, t + 1),
                _ => (a, t),
            }
        })
    });
    let mut s = String::new();
    usage_line(&mut s, "Zeroed", c.zeroed);
    usage_line(&mut s, "Free", c.free);
    usage_line(&mut s, "Standby", c.standby);
    usage_line(&mut s, "Modified", c.modified);
    usage_line(&mut s, "ModifiedNoWrite", c.modified_no_write);
    usage_line(&mut s, "Active/Valid", active);
    usage_line(&mut s, "Transition", transition);
    usage_line(
        &mut s,
        "TOTAL",
        c.zeroed + c.free + c.standby + c.modified + c.modified_no_write + c.in_use,
    );
    let cas = ex.control_areas();
    if !cas.is_empty() {
        let _ = writeln!(s, "  Usage Summary (in Kb):");
        let _ = writeln!(
            s,
            "{:<8}{:>8}{:>8}{:>8}  Name",
            "Control", "Valid", "Standby", "Dirty"
        );
        for ca in cas {
            let (valid, standby, dirty) = vmm.inspect(|m| {
                let mut n = (0u64, 0u64, 0u64);
                for (_, p) in m.segment_entries(ca.segment) {
                    let loc = p
                        .pfn()
                        .and_then(|f| m.pfn_database().get(f))
                        .map(|e| e.location());
                    match loc {
                        Some(PageLocation::Active) => n.0 += 4,
                        Some(PageLocation::Standby) => n.1 += 4,
                        Some(PageLocation::Modified | PageLocation::ModifiedNoWrite) => n.2 += 4,
                        _ => {}
                    }
                }
                n
            });
            let _ = writeln!(
                s,
                "{:<8}{valid:>8}{standby:>8}{dirty:>8}  {}{}  (Section Ref {}, Mapped Views {}, User Ref {}, Pfn Ref {})",
                format!("{:?}", ca.id),
                ca.stream.map_or("Pagefile section".to_string(), |f| if ca.image {
                    format!("image_file( {f:?} )")
                } else {
                    format!("mapped_file( {f:?} )")
                }),
                if ca.parked { ", on the unused-segment list" } else { "" },
                ca.section_references,
                ca.mapped_views,
                ca.user_references,
                ca.pfn_references,
            );
        }
    }
    let commit = vmm.commit();
    let kb = |p: u64| p * PAGE_SIZE / 1024;
    let _ = writeln!(
        s,
        "{:>19}: {:>6} ({:>6} kb)",
        "Commit charge",
        commit.charged().raw(),
        kb(commit.charged().raw())
    );
    let _ = writeln!(
        s,
        "{:>19}: {:>6} ({:>6} kb)",
        "Commit peak",
        commit.peak().raw(),
        kb(commit.peak().raw())
    );
    let _ = writeln!(
        s,
        "{:>19}: {:>6} ({:>6} kb)",
        "Commit limit",
        commit.limit().raw(),
        kb(commit.limit().raw())
    );
    let _ = writeln!(
        s,
        "{:>19}: {:>6} ({:>6} kb)",
        "Pagefile in use",
        vmm.pagefile_used(),
        kb(u64::from(vmm.pagefile_used()))
    );
    let mc = vmm.machine_counters();
    let _ = writeln!(
        s,
        "{:>19}: file {}, pagefile {}",
        "Page reads", mc.file_reads, mc.pagefile_reads
    );
    let _ = writeln!(
        s,
        "{:>19}: file {}, pagefile {}",
        "Page writes", mc.file_writes, mc.pagefile_writes
    );
    let _ = writeln!(
        s,
        "{:>19}: I/O errors {}, trims {}, repurposed {}",
        "Other", mc.io_errors, mc.trims, mc.repurposed
    );
    let _ = writeln!(
        s,
        "{:<10}{:>10} {:>10}{:>6}{:>6}{:>6}{:>9}{:>9}{:>5}{:>6}{:>8}",
        "Process",
        "WorkingSet",
        "DemandZero",
        "Share",
        "Soft",
        "CoW",
        "HardFile",
        "HardPgfl",
        "AV",
        "Guard",
        "InPgErr"
    );
    for (id, name) in names {
        let ws = vmm.working_set(*id).map(|w| w.len()).unwrap_or(0);
        if let Ok(f) = vmm.fault_counters(*id) {
            let _ = writeln!(
                s,
                "{name:<10}{:>10} {:>10}{:>6}{:>6}{:>6}{:>9}{:>9}{:>5}{:>6}{:>8}",
                ws,
                f.demand_zero,
                f.share,
                f.transition,
                f.copy_on_write,
                f.hard_file,
                f.hard_pagefile,
                f.access_violation,
                f.guard_page,
                f.in_page_error
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flag string of WinDbg's x64 `!pte`: a user read-write, accessed, dirty, no-execute
    /// page is `---DA--UW-V`; a read-only executable one that was only read is `----A--UREV`.
    #[test]
    fn test_pte_flags_read_as_windbg_prints_them() {
        assert_eq!(pte_flags(0x8000_0000_0000_0067), "---DA--UW-V");
        assert_eq!(pte_flags(0x25), "----A--UREV");
        assert_eq!(pte_flags(0x8000_0000_0000_0205), "C------UR-V");
    }

    #[test]
    fn test_protections_are_named_as_windbg_names_them() {
        assert_eq!(protect_words(Protection::READWRITE), "4 - ReadWrite");
        assert_eq!(
            protect_words(Protection::from_bits(0x14).unwrap()),
            "14 - ReadWrite|Guard"
        );
    }
}
