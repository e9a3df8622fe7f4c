//! Fault dispatch and one resolver per PTE state (nt_internals §3).
//!
//! `Machine::translate` is the emulated MMU: a valid PTE that permits the access gives the
//! frame at once (setting the accessed and dirty bits as x86 hardware does); anything else
//! enters the dispatcher, which decodes the PTE in NT's order (§2.6) and calls the resolver for
//! its state. Access checks are made against the known protection *before* any page is brought
//! in (§3.8). Resolvers never choose a page list: they only attach frames and increment counts.

use crate::addr::{Pfn, Va, Vpn, PAGE_BYTES};
use crate::error::{Exception, ExceptionKind, Result, VmmError};
use crate::frames::TakenFrame;
use crate::id::AsId;
use crate::machine::Machine;
use crate::protection::{Access, Protection};
use crate::pte::{HardwarePte, OriginalPte, ProtoPte, ProtoRef, Pte, PteRef};
use crate::segment::SegmentKind;
use crate::store::StoreError;
use crate::vad::VadKind;

/// Rounds of fault resolution one access may take before it is abandoned. A store to an
/// untouched copy-on-write page takes three (first touch, copy, retry); more only happen when
/// memory pressure trims the page again in between.
const MAX_FAULT_ROUNDS: usize = 16;

/// How a fault was resolved (the informational statuses of §3.9).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum FaultKind {
    /// A zeroed frame was attached (`STATUS_PAGE_FAULT_DEMAND_ZERO`).
    DemandZero,
    /// The prototype PTE was already valid: the frame was shared.
    Share,
    /// The frame came back from the standby or modified list (`..._TRANSITION`).
    Transition,
    /// A private copy was made (`..._COPY_ON_WRITE`).
    CopyOnWrite,
    /// The page was read from its file.
    HardFile,
    /// The page was read from the pagefile (`..._PAGING_FILE`).
    HardPagefile,
}

/// Why a prototype PTE could not be made resident.
#[derive(Debug)]
pub(crate) enum ProtoFailure {
    /// The prototype PTE is not committed.
    NotCommitted,
    /// The page read failed.
    Io(StoreError),
    /// Another machine error.
    Other(VmmError),
}

impl From<VmmError> for ProtoFailure {
    fn from(e: VmmError) -> Self {
        ProtoFailure::Other(e)
    }
}

/// Where a hard fault reads its page from.
#[derive(Clone, Copy, Debug)]
enum PageSource {
    Pagefile(crate::addr::Slot),
    File {
        store: crate::id::StoreId,
        page: u64,
    },
}

enum Step {
    CopyOnWrite,
    Violation,
    Fault,
}

impl Machine {
    /// Translates `va` for `access`, resolving faults, and returns the frame. The PTE is valid,
    /// accessed, and (for a store) dirty when this returns.
    pub(crate) fn translate(&mut self, asid: AsId, va: Va, access: Access) -> Result<Pfn> {
        let store = access == Access::Write;
        if let Some(pfn) = self.space(asid)?.page_table.tlb_lookup(va.vpn(), store) {
            return Ok(pfn);
        }
        self.resolve(asid, va, access)
    }

    /// [`Machine::translate`] past a TLB miss: walks the table, resolving faults, and caches
    /// the translation.
    pub(crate) fn resolve(&mut self, asid: AsId, va: Va, access: Access) -> Result<Pfn> {
        let vpn = va.vpn();
        let store = access == Access::Write;
        for _ in 0..MAX_FAULT_ROUNDS {
            let space = self.space_mut(asid)?;
            let pte = space.page_table.get(vpn);
            let step = match pte {
                Pte::Valid(mut h) => {
                    if access == Access::Read || h.write {
                        if !h.accessed || (store && !h.dirty) {
                            // The CPU sets the accessed bit, and the dirty bit on a store.
                            h.accessed = true;
                            h.dirty |= store;
                            space.page_table.set(vpn, Pte::Valid(h));
                        }
                        let (pfn, cache_store) = (h.pfn, h.write && h.dirty);
                        space.page_table.tlb_fill(vpn, pfn, cache_store);
                        return Ok(pfn);
                    }
                    if h.copy_on_write {
                        Step::CopyOnWrite
                    } else {
                        Step::Violation
                    }
                }
                _ => Step::Fault,
            };
            match step {
                Step::CopyOnWrite => self.copy_on_write_fault(asid, vpn)?,
                // §3.8: valid PTE, store, neither writable nor copy-on-write.
                Step::Violation => {
                    return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation))
                }
                Step::Fault => self.dispatch_fault(asid, va, access, pte)?,
            }
        }
        tracing::error!(?asid, %va, "fault did not converge");
        Err(VmmError::NoFreeFrame)
    }

    /// Records and returns an exception.
    pub(crate) fn raise(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        kind: ExceptionKind,
    ) -> VmmError {
        if let Ok(space) = self.space_mut(asid) {
            match kind {
                ExceptionKind::AccessViolation => space.counters.access_violation += 1,
                ExceptionKind::InPageError(_) => space.counters.in_page_error += 1,
                ExceptionKind::GuardPage => space.counters.guard_page += 1,
            }
        }
        let e = Exception {
            kind,
            address: va,
            access,
        };
        self.note = crate::machine::FaultNote::default();
        tracing::debug!(asid = asid.raw(), va = va.raw(), exception = %e, "exception raised");
        VmmError::Exception(e)
    }

    /// `MmAccessFault` + `MiDispatchFault` for a non-valid PTE.
    fn dispatch_fault(&mut self, asid: AsId, va: Va, access: Access, found: Pte) -> Result<()> {
        self.fault_offset = va.page_offset();
        let vpn = va.vpn();
        let pte = if self.pfn.available() >= 1 {
            found
        } else {
            self.ensure_available(1)?;
            // Making room may have trimmed or paged out this very PTE: read it again.
            self.space(asid)?.page_table.get(vpn)
        };
        self.note = crate::machine::FaultNote {
            pte: Some(pte),
            ..Default::default()
        };
        let space = self.space(asid)?;
        tracing::trace!(?asid, %va, ?access, ?pte, "page fault");
        match pte {
            Pte::Valid(_) => Ok(()),
            Pte::Zero => {
                // MiCheckVirtualAddress: the VAD decides.
                let Some(vad) = space.vads.find_and_remember(vpn) else {
                    return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation));
                };
                match vad.kind {
                    VadKind::Private { committed: true } => {
                        self.private_demand_zero(asid, va, access, vad.protection)
                    }
                    VadKind::Private { committed: false } => {
                        Err(self.raise(asid, va, access, ExceptionKind::AccessViolation))
                    }
                    VadKind::Mapped {
                        segment,
                        first_index,
                    } => {
                        let protection = vad.protection;
                        if !protection.is_accessible() {
                            return Err(self.raise(
                                asid,
                                va,
                                access,
                                ExceptionKind::AccessViolation,
                            ));
                        }
                        let proto = ProtoRef {
                            segment,
                            index: first_index + (vpn.raw() - vad.start.raw()),
                        };
                        let r = self.proto_fault(asid, va, access, proto, protection);
                        // §3.1 step 3: the PTE becomes "prototype, lookup needed" with the view
                        // protection. A resolved fault overwrites that at once with the valid
                        // PTE, so it is written only when the fault fails and the PTE stays.
                        if r.is_err() {
                            let space = self.space_mut(asid)?;
                            if space.page_table.get(vpn) == Pte::Zero {
                                space
                                    .page_table
                                    .set(vpn, Pte::PrototypeLookup { protection });
                            }
                        }
                        r
                    }
                }
            }
            Pte::PrototypeLookup { protection } => match self.proto_of(asid, vpn) {
                Some(proto) => self.proto_fault(asid, va, access, proto, protection),
                None => Err(self.raise(asid, va, access, ExceptionKind::AccessViolation)),
            },
            Pte::Prototype { proto, read_only } => {
                let protection = if read_only {
                    Protection::READONLY
                } else {
                    self.proto_protection(proto)
                };
                self.proto_fault(asid, va, access, proto, protection)
            }
            Pte::Transition { pfn, protection } => {
                self.check_access(asid, va, access, protection)?;
                self.private_soft_fault(asid, vpn, pfn, protection)
            }
            Pte::Pagefile { slot, protection } => {
                self.check_access(asid, va, access, protection)?;
                self.private_pagefile_fault(asid, va, access, slot, protection)
            }
            Pte::DemandZero { protection } => {
                self.private_demand_zero(asid, va, access, protection)
            }
        }
    }

    /// The prototype PTE behind a view page, found through the VAD (`MiCheckVirtualAddress`).
    pub(crate) fn proto_of(&self, asid: AsId, vpn: Vpn) -> Option<ProtoRef> {
        self.spaces.get(&asid)?.vads.find(vpn)?.proto_at(vpn)
    }

    /// The protection a prototype PTE carries (for a valid one, its frame's original PTE).
    pub(crate) fn proto_protection(&self, proto: ProtoRef) -> Protection {
        let Some(seg) = self.segments.get(&proto.segment) else {
            return Protection::ZERO;
        };
        if proto.index >= seg.pages {
            return Protection::ZERO;
        }
        match seg.get(proto.index) {
            ProtoPte::Zero => Protection::ZERO,
            ProtoPte::Valid { pfn } => self.pfn.entry(pfn).original().protection(),
            ProtoPte::DemandZero { protection }
            | ProtoPte::Transition { protection, .. }
            | ProtoPte::Pagefile { protection, .. }
            | ProtoPte::Subsection { protection } => protection,
        }
    }

    /// `MiAccessCheck`, guard pages first: a guard page raises once and loses its guard.
    fn check_access(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        protection: Protection,
    ) -> Result<()> {
        if protection.is_guard() {
            self.set_invalid_protection(asid, va.vpn(), protection.without_guard());
            return Err(self.raise(asid, va, access, ExceptionKind::GuardPage));
        }
        if !protection.allows(access) {
            return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation));
        }
        Ok(())
    }

    /// Rewrites the protection of a non-valid PTE in place (keeping a private transition
    /// frame's original PTE in step). A zero PTE becomes the explicit form for its region.
    pub(crate) fn set_invalid_protection(&mut self, asid: AsId, vpn: Vpn, protection: Protection) {
        let Some(space) = self.spaces.get_mut(&asid) else {
            return;
        };
        let pte = space.page_table.get(vpn);
        let mapped = matches!(
            space.vads.find(vpn).map(|v| v.kind),
            Some(VadKind::Mapped { .. })
        );
        let new = match pte {
            Pte::Valid(_) => return,
            Pte::Zero | Pte::Prototype { .. } | Pte::PrototypeLookup { .. } if mapped => {
                Pte::PrototypeLookup { protection }
            }
            Pte::Zero
            | Pte::Prototype { .. }
            | Pte::PrototypeLookup { .. }
            | Pte::DemandZero { .. } => Pte::DemandZero { protection },
            Pte::Transition { pfn, .. } => {
                let e = self.pfn.entry_mut(pfn);
                e.set_original(match e.original() {
                    OriginalPte::Pagefile { slot, .. } => {
                        OriginalPte::Pagefile { slot, protection }
                    }
                    _ => OriginalPte::DemandZero { protection },
                });
                Pte::Transition { pfn, protection }
            }
            Pte::Pagefile { slot, .. } => Pte::Pagefile { slot, protection },
        };
        space.page_table.set(vpn, new);
    }

    /// Installs a valid PTE and its working-set entry.
    fn install_valid(
        &mut self,
        asid: AsId,
        vpn: Vpn,
        pfn: Pfn,
        protection: Protection,
        prototype: bool,
        dirty: bool,
    ) {
        if let Some(space) = self.spaces.get_mut(&asid) {
            space.page_table.set(
                vpn,
                Pte::Valid(HardwarePte {
                    pfn,
                    write: protection.is_writable(),
                    dirty,
                    accessed: true,
                    copy_on_write: protection.is_copy_on_write(),
                    prototype,
                    no_execute: !protection.is_executable(),
                }),
            );
            space.ws.insert(vpn, protection);
        }
    }

    fn count(&mut self, asid: AsId, kind: FaultKind, va: Va, pfn: Pfn) {
        let note = std::mem::take(&mut self.note);
        if let Some(space) = self.spaces.get_mut(&asid) {
            let c = &mut space.counters;
            match kind {
                FaultKind::DemandZero => c.demand_zero += 1,
                FaultKind::Share => c.share += 1,
                FaultKind::Transition => c.transition += 1,
                FaultKind::CopyOnWrite => c.copy_on_write += 1,
                FaultKind::HardFile => c.hard_file += 1,
                FaultKind::HardPagefile => c.hard_pagefile += 1,
            }
        }
        tracing::debug!(
            asid = asid.raw(),
            va = va.raw(),
            ?kind,
            pfn = pfn.raw(),
            pte_before = ?note.pte,
            proto_before = ?note.proto,
            from = ?note.from,
            "fault resolved"
        );
    }

    /// Demand-zero for a private page (§3.6).
    fn private_demand_zero(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        protection: Protection,
    ) -> Result<()> {
        self.check_access(asid, va, access, protection)?;
        self.install_private_zero(asid, va, protection)
    }

    /// Attaches a zeroed private frame, born modified, to the process PTE.
    fn install_private_zero(&mut self, asid: AsId, va: Va, protection: Protection) -> Result<()> {
        self.prefetch_zeroed_head();
        let vpn = va.vpn();
        self.make_room(asid);
        let frame = self.take_frame(true)?;
        let pfn = self.attach_frame(
            frame,
            PteRef::Process { space: asid, vpn },
            OriginalPte::DemandZero { protection },
            true,
        );
        self.install_valid(asid, vpn, pfn, protection, false, protection.is_writable());
        self.count(asid, FaultKind::DemandZero, va, pfn);
        Ok(())
    }

    /// A fault through a prototype PTE (§3.1), with the effective protection already known.
    fn proto_fault(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        proto: ProtoRef,
        protection: Protection,
    ) -> Result<()> {
        self.check_access(asid, va, access, protection)?;
        // A page past the segment's end (e.g. a truncated file's) raises.
        let (backing, current) = match self.segments.get(&proto.segment) {
            Some(s) if proto.index < s.pages => (s.kind, s.get(proto.index)),
            _ => return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation)),
        };
        self.note.proto = Some(current);
        if matches!(current, ProtoPte::DemandZero { .. }) {
            if protection.is_copy_on_write() && access == Access::Write {
                // §3.1 step 5: a store to an untouched demand-zero page of a copy-on-write view
                // skips the shared page and makes a private demand-zero page at once.
                return self.install_private_zero(asid, va, protection.without_copy());
            }
            // This fault will take the head of the zeroed list (MiRemoveZeroPage): start
            // bringing in the line it will store to now, while the rest of the fault runs.
            self.prefetch_zeroed_head();
        }
        let (pfn, kind) = match self.resolve_proto(proto, backing, current) {
            Ok(r) => r,
            Err(ProtoFailure::NotCommitted) => {
                return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation))
            }
            Err(ProtoFailure::Io(e)) => {
                return Err(self.raise(asid, va, access, ExceptionKind::InPageError(e.status)))
            }
            Err(ProtoFailure::Other(e)) => return Err(e),
        };
        self.count(asid, kind, va, pfn);
        // MiCompleteProtoPteFault: a store to a writable page marks the frame modified now.
        let dirty = access == Access::Write && protection.is_writable();
        if dirty {
            self.mark_modified(pfn);
        }
        self.make_room(asid);
        self.install_valid(asid, va.vpn(), pfn, protection, true, dirty);
        Ok(())
    }

    /// `MiResolveProtoPteFault` minus the process PTE: makes the prototype PTE valid and takes
    /// one share reference on its frame for the caller.
    pub(crate) fn make_proto_resident(
        &mut self,
        proto: ProtoRef,
    ) -> std::result::Result<(Pfn, FaultKind), ProtoFailure> {
        let seg = self.segment(proto.segment)?;
        let (kind, current) = (seg.kind, seg.get(proto.index));
        self.resolve_proto(proto, kind, current)
    }

    /// [`Machine::make_proto_resident`] with the segment's kind and the prototype PTE already
    /// read.
    fn resolve_proto(
        &mut self,
        proto: ProtoRef,
        kind: SegmentKind,
        current: ProtoPte,
    ) -> std::result::Result<(Pfn, FaultKind), ProtoFailure> {
        match current {
            ProtoPte::Zero => Err(ProtoFailure::NotCommitted),
            ProtoPte::Valid { pfn } => {
                self.pfn.entry_mut(pfn).share_count += 1;
                Ok((pfn, FaultKind::Share))
            }
            ProtoPte::Transition { pfn, .. } => {
                self.pfn.move_to_active(pfn);
                let e = self.pfn.entry_mut(pfn);
                e.reference_count += 1;
                e.share_count = 1;
                self.segment_mut(proto.segment)?
                    .set(proto.index, ProtoPte::Valid { pfn });
                Ok((pfn, FaultKind::Transition))
            }
            ProtoPte::DemandZero { protection } => {
                let frame = self.take_frame(true)?;
                let pfn = self.attach_frame(
                    frame,
                    PteRef::Proto(proto),
                    OriginalPte::DemandZero { protection },
                    true,
                );
                self.proto_now_valid(proto, pfn)?;
                Ok((pfn, FaultKind::DemandZero))
            }
            ProtoPte::Pagefile { slot, protection } => {
                let frame = self.read_page_in(PageSource::Pagefile(slot))?;
                let pfn = self.attach_frame(
                    frame,
                    PteRef::Proto(proto),
                    OriginalPte::Pagefile { slot, protection },
                    false,
                );
                self.proto_now_valid(proto, pfn)?;
                Ok((pfn, FaultKind::HardPagefile))
            }
            ProtoPte::Subsection { protection } => {
                let SegmentKind::File { store } = kind else {
                    return Err(ProtoFailure::NotCommitted);
                };
                let frame = self.read_page_in(PageSource::File {
                    store,
                    page: proto.index,
                })?;
                let pfn = self.attach_frame(
                    frame,
                    PteRef::Proto(proto),
                    OriginalPte::Subsection { protection },
                    false,
                );
                self.proto_now_valid(proto, pfn)?;
                Ok((pfn, FaultKind::HardFile))
            }
        }
    }

    /// Takes a frame and reads a page into it (a hard fault's paging I/O). On failure the frame
    /// goes back to the free list and nothing else has changed.
    fn read_page_in(
        &mut self,
        source: PageSource,
    ) -> std::result::Result<TakenFrame, ProtoFailure> {
        let frame = self.take_frame(false)?;
        self.pfn.entry_mut(frame.pfn()).set_read_in_progress(true);
        let mut buf = [0u8; PAGE_BYTES];
        let read = match source {
            PageSource::Pagefile(slot) => self.pagefile.read(slot, &mut buf),
            PageSource::File { store, page } => match self.stores.get_mut(&store) {
                Some(s) => s.read_page(page, &mut buf),
                None => {
                    self.give_back(frame);
                    return Err(ProtoFailure::Other(VmmError::UnknownStore(store)));
                }
            },
        };
        tracing::trace!(?source, ok = read.is_ok(), "page read");
        match read {
            Ok(()) => {
                self.memory.fill(frame.pfn(), &buf);
                match source {
                    PageSource::Pagefile(_) => self.counters.pagefile_reads += 1,
                    PageSource::File { .. } => self.counters.file_reads += 1,
                }
                Ok(frame)
            }
            Err(e) => {
                self.counters.io_errors += 1;
                self.give_back(frame);
                Err(ProtoFailure::Io(e))
            }
        }
    }

    fn proto_now_valid(&mut self, proto: ProtoRef, pfn: Pfn) -> Result<()> {
        let seg = self.segment_mut(proto.segment)?;
        seg.set(proto.index, ProtoPte::Valid { pfn });
        seg.pfn_references += 1;
        Ok(())
    }

    /// A store to a valid copy-on-write PTE (§3.7, `MiCopyOnWrite`).
    fn copy_on_write_fault(&mut self, asid: AsId, vpn: Vpn) -> Result<()> {
        self.ensure_available(1)?;
        let space = self.space(asid)?;
        let Pte::Valid(h) = space.page_table.get(vpn) else {
            return Ok(()); // trimmed while making room: the next round faults afresh
        };
        if !h.copy_on_write {
            return Ok(());
        }
        let protection = space
            .ws
            .get(vpn)
            .map_or(Protection::WRITECOPY, |e| e.protection)
            .without_copy();
        let old = h.pfn;
        self.note = crate::machine::FaultNote {
            pte: Some(Pte::Valid(h)),
            ..Default::default()
        };
        let frame = self.take_frame(false)?;
        self.memory.copy(old, frame.pfn());
        if h.dirty {
            self.mark_modified(old);
        }
        let new = self.attach_frame(
            frame,
            PteRef::Process { space: asid, vpn },
            OriginalPte::DemandZero { protection },
            true,
        );
        let space = self.space_mut(asid)?;
        space.page_table.set(
            vpn,
            Pte::Valid(HardwarePte {
                pfn: new,
                write: true,
                dirty: true,
                accessed: true,
                copy_on_write: false,
                prototype: false,
                no_execute: h.no_execute,
            }),
        );
        space.ws.set_protection(vpn, protection);
        self.decrement_share_count(old);
        self.count(asid, FaultKind::CopyOnWrite, vpn.base(), new);
        Ok(())
    }

    /// A private page back from the standby or modified list (§3.3).
    fn private_soft_fault(
        &mut self,
        asid: AsId,
        vpn: Vpn,
        pfn: Pfn,
        protection: Protection,
    ) -> Result<()> {
        self.make_room(asid);
        self.pfn.move_to_active(pfn);
        let e = self.pfn.entry_mut(pfn);
        e.reference_count += 1;
        e.share_count = 1;
        self.install_valid(asid, vpn, pfn, protection, false, false);
        self.count(asid, FaultKind::Transition, vpn.base(), pfn);
        Ok(())
    }

    /// A private page read back from the pagefile (§3.5). It stays clean and keeps its slot.
    fn private_pagefile_fault(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        slot: crate::addr::Slot,
        protection: Protection,
    ) -> Result<()> {
        let vpn = va.vpn();
        self.make_room(asid);
        let frame = match self.read_page_in(PageSource::Pagefile(slot)) {
            Ok(f) => f,
            Err(ProtoFailure::Io(e)) => {
                return Err(self.raise(asid, va, access, ExceptionKind::InPageError(e.status)))
            }
            Err(ProtoFailure::Other(e)) => return Err(e),
            Err(ProtoFailure::NotCommitted) => {
                return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation))
            }
        };
        let pfn = self.attach_frame(
            frame,
            PteRef::Process { space: asid, vpn },
            OriginalPte::Pagefile { slot, protection },
            false,
        );
        self.install_valid(asid, vpn, pfn, protection, false, false);
        self.count(asid, FaultKind::HardPagefile, va, pfn);
        Ok(())
    }
}
