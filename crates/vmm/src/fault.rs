//! Fault dispatch and one resolver per PTE state (nt_internals §3).
//!
//! `Machine::translate` is the emulated MMU: a valid PTE that permits the access gives the
//! frame at once (setting the accessed and dirty bits as x86 hardware does); anything else
//! enters the dispatcher, which decodes the PTE in NT's order (§2.6) and calls the resolver for
//! its state. Access checks are made against the known protection *before* any page is brought
//! in (§3.8). Resolvers never choose a page list: they only attach frames and increment counts.
//!
//! The resolvers, under NT's names (each is the `Machine` method whose doc comment names it):
//!
//! | NT routine | here | § |
//! |---|---|---|
//! | `MmAccessFault` + `MiDispatchFault` | `dispatch_fault` | §2.6 |
//! | `MiResolveDemandZeroFault` | `resolve_demand_zero_fault` | §3.6 |
//! | `MiResolveTransitionFault` | `resolve_transition_fault` (frame work: `reclaim_transition_frame`) | §3.3 |
//! | `MiResolvePageFileFault` | `resolve_page_file_fault` | §3.5 |
//! | `MiResolveProtoPteFault` + `MiCompleteProtoPteFault` | `resolve_proto_pte_fault` (the prototype PTE alone: `make_proto_resident`) | §3.1 |
//! | `MiCopyOnWrite` | `copy_on_write` | §3.7 |
//!
//! Every resolver returns a [`FaultOutcome`]; `record_fault` counts it and emits it
//! ([`crate::event::VmmEvent::FaultResolved`]).

use crate::addr::{Pfn, Va, Vpn, PAGE_BYTES};
use crate::error::{Exception, ExceptionKind, Result, VmmError};
use crate::event::IoTarget;
use crate::frames::TakenFrame;
use crate::id::AsId;
use crate::machine::Machine;
use crate::pfn::PageLocation;
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

/// What a resolved fault did: its kind, the frame, where the frame came from, and the process
/// and prototype PTEs before and after — enough to explain the fault and to replay it. Every
/// resolver returns one; it is what the `fault resolved` trace event carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultOutcome {
    /// How the fault was resolved.
    pub kind: FaultKind,
    /// The frame now mapped.
    pub pfn: Pfn,
    /// The page list the frame came off: for a new frame (demand-zero, hard and copy-on-write
    /// faults) the list it was taken from — `Standby` means a repurposed frame —; for a
    /// transition fault the standby or modified list it was taken back from (`None` while an
    /// I/O on it is in flight); `None` for a share fault.
    pub from_list: Option<PageLocation>,
    /// The process PTE the fault found.
    pub pte_before: Pte,
    /// The process PTE the fault left (valid).
    pub pte_after: Pte,
    /// The prototype PTE the fault found (faults through a prototype PTE only).
    pub proto_before: Option<ProtoPte>,
    /// The prototype PTE the fault left (valid; faults through a prototype PTE only).
    pub proto_after: Option<ProtoPte>,
}

impl FaultOutcome {
    /// The outcome of a fault on a private page (no prototype PTE involved).
    fn private(
        kind: FaultKind,
        pfn: Pfn,
        from_list: Option<PageLocation>,
        pte_before: Pte,
        pte_after: Pte,
    ) -> Self {
        FaultOutcome {
            kind,
            pfn,
            from_list,
            pte_before,
            pte_after,
            proto_before: None,
            proto_after: None,
        }
    }

    /// The list a newly taken frame came off (`from_list` of a fault that took a new frame;
    /// `None` for share and transition faults, which take none).
    pub fn taken_from(&self) -> Option<PageLocation> {
        match self.kind {
            FaultKind::Share | FaultKind::Transition => None,
            _ => self.from_list,
        }
    }
}

/// A prototype PTE made resident: the frame, how, and (for a transition or a new frame) the
/// list it came off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resident {
    pub pfn: Pfn,
    pub kind: FaultKind,
    pub from_list: Option<PageLocation>,
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

impl ProtoFailure {
    /// The exception a faulting access raises for this failure (§3.9) — an access violation
    /// for a page that is not committed, an in-page error carrying the read's status for a
    /// failed read — or, for a machine error, that error (no exception).
    fn exception(self) -> std::result::Result<ExceptionKind, VmmError> {
        match self {
            ProtoFailure::NotCommitted => Ok(ExceptionKind::AccessViolation),
            ProtoFailure::Io(e) => Ok(ExceptionKind::InPageError(e.status)),
            ProtoFailure::Other(e) => Err(e),
        }
    }

    /// The same failure met by cached I/O (`ReadFile`/`WriteFile` through the prototype PTEs,
    /// `cache.rs`), which has no faulting address and so raises nothing: a page that is not
    /// committed is `NotCommitted` (at byte `offset` of the segment), a failed read is the
    /// store's error itself.
    pub(crate) fn into_io_error(self, offset: u64) -> VmmError {
        match self {
            ProtoFailure::NotCommitted => VmmError::NotCommitted(Va::new(offset)),
            ProtoFailure::Io(e) => VmmError::Store(e),
            ProtoFailure::Other(e) => e,
        }
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
    /// A page of an image: `len` bytes at `offset` of the file, zeros after them.
    Image {
        store: crate::id::StoreId,
        offset: u64,
        len: u32,
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
                Step::CopyOnWrite => {
                    self.copy_on_write(asid, vpn)?;
                }
                // §3.8: valid PTE, store, neither writable nor copy-on-write.
                Step::Violation => {
                    return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation))
                }
                Step::Fault => {
                    self.dispatch_fault(asid, va, access, pte)?;
                }
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
        let pte = self
            .spaces
            .get(&asid)
            .map_or(Pte::Zero, |s| s.page_table.get(va.vpn()));
        let cause = (kind == ExceptionKind::AccessViolation).then(|| {
            use crate::event::ViolationCause;
            let vad = self.spaces.get(&asid).and_then(|s| s.vads.find(va.vpn()));
            match (vad, pte) {
                (None, _) => ViolationCause::NoVad,
                (Some(_), Pte::Valid(_) | Pte::Transition { .. }) => ViolationCause::Protection,
                (Some(v), _) if !v.protection.is_accessible() => ViolationCause::NoAccess,
                (Some(v), _) => match v.kind {
                    crate::vad::VadKind::Private { committed: true } => ViolationCause::Protection,
                    // Reserved private pages, and a view's page whose prototype PTE is not
                    // committed (the fault reached the prototype PTE and found it zero).
                    _ => ViolationCause::NotCommitted,
                },
            }
        });
        self.events.emit(crate::event::VmmEvent::Exception {
            asid,
            exception: e,
            pte,
            cause,
        });
        VmmError::Exception(e)
    }

    /// The exception (or machine error) of a fault whose page could not be made resident.
    fn raise_failure(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        failure: ProtoFailure,
    ) -> VmmError {
        match failure.exception() {
            Ok(kind) => self.raise(asid, va, access, kind),
            Err(e) => e,
        }
    }

    /// `MmAccessFault` + `MiDispatchFault` for a non-valid PTE: decodes it and calls its
    /// resolver. `None` if the PTE was made valid meanwhile (nothing to resolve).
    fn dispatch_fault(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        found: Pte,
    ) -> Result<Option<FaultOutcome>> {
        let vpn = va.vpn();
        let pte = if self.pfn.available() >= 1 {
            found
        } else {
            self.ensure_available(1)?;
            // Making room may have trimmed or paged out this very PTE: read it again.
            self.space(asid)?.page_table.get(vpn)
        };
        let space = self.space(asid)?;
        tracing::trace!(?asid, %va, ?access, ?pte, "page fault");
        let outcome = match pte {
            Pte::Valid(_) => return Ok(None),
            Pte::Zero => {
                // MiCheckVirtualAddress: the VAD decides.
                let Some(vad) = space.vads.find_and_remember(vpn) else {
                    return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation));
                };
                match vad.kind {
                    VadKind::Private { committed: true } => {
                        self.resolve_demand_zero_fault(asid, va, access, pte, vad.protection)
                    }
                    // A placeholder is reserved and never committed (F72).
                    VadKind::Private { committed: false } | VadKind::Placeholder => {
                        Err(self.raise(asid, va, access, ExceptionKind::AccessViolation))
                    }
                    VadKind::Mapped { .. } => {
                        let protection = vad.protection;
                        if !protection.is_accessible() {
                            return Err(self.raise(
                                asid,
                                va,
                                access,
                                ExceptionKind::AccessViolation,
                            ));
                        }
                        let Some(proto) = vad.proto_at(vpn) else {
                            return Err(self.raise(
                                asid,
                                va,
                                access,
                                ExceptionKind::AccessViolation,
                            ));
                        };
                        let r =
                            self.resolve_proto_pte_fault(asid, va, access, pte, proto, protection);
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
                Some(proto) => {
                    self.resolve_proto_pte_fault(asid, va, access, pte, proto, protection)
                }
                None => Err(self.raise(asid, va, access, ExceptionKind::AccessViolation)),
            },
            Pte::Prototype { proto, read_only } => {
                let protection = if read_only {
                    Protection::READONLY
                } else {
                    self.proto_protection(proto)
                };
                self.resolve_proto_pte_fault(asid, va, access, pte, proto, protection)
            }
            Pte::Transition { pfn, protection } => {
                self.check_access(asid, va, access, protection)?;
                self.resolve_transition_fault(asid, vpn, pfn, protection)
            }
            Pte::Pagefile { slot, protection } => {
                self.check_access(asid, va, access, protection)?;
                self.resolve_page_file_fault(asid, va, access, slot, protection)
            }
            Pte::DemandZero { protection } => {
                self.resolve_demand_zero_fault(asid, va, access, pte, protection)
            }
        }?;
        Ok(Some(outcome))
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
        if !seg.holds(proto.index) {
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

    /// The valid PTE a resolver installs for `pfn` with `protection`.
    fn valid_pte(pfn: Pfn, protection: Protection, prototype: bool, dirty: bool) -> HardwarePte {
        HardwarePte {
            pfn,
            write: protection.is_writable(),
            dirty,
            accessed: true,
            copy_on_write: protection.is_copy_on_write(),
            prototype,
            no_execute: !protection.is_executable(),
        }
    }

    /// Installs a valid PTE and its working-set entry.
    fn install_valid(&mut self, asid: AsId, vpn: Vpn, pte: HardwarePte, protection: Protection) {
        if let Some(space) = self.spaces.get_mut(&asid) {
            space.page_table.set(vpn, Pte::Valid(pte));
            space.ws.insert(vpn, protection);
        }
    }

    /// Counts a resolved fault in its address space and emits it as the `fault resolved` trace
    /// event (the one place either is done).
    fn record_fault(&mut self, asid: AsId, va: Va, outcome: &FaultOutcome) {
        if let Some(space) = self.spaces.get_mut(&asid) {
            let c = &mut space.counters;
            match outcome.kind {
                FaultKind::DemandZero => c.demand_zero += 1,
                FaultKind::Share => c.share += 1,
                FaultKind::Transition => c.transition += 1,
                FaultKind::CopyOnWrite => c.copy_on_write += 1,
                FaultKind::HardFile => c.hard_file += 1,
                FaultKind::HardPagefile => c.hard_pagefile += 1,
            }
        }
        self.events.emit(crate::event::VmmEvent::FaultResolved {
            asid,
            va,
            outcome: *outcome,
        });
    }

    /// `MiResolveDemandZeroFault` for a private page (§3.6): the access is checked, then a
    /// zeroed frame is attached.
    fn resolve_demand_zero_fault(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        pte_before: Pte,
        protection: Protection,
    ) -> Result<FaultOutcome> {
        self.check_access(asid, va, access, protection)?;
        self.install_private_zero(asid, va, protection, pte_before, None)
    }

    /// Attaches a zeroed private frame, born modified, to the process PTE (the frame work of
    /// `MiResolveDemandZeroFault`; also a store to an untouched page of a copy-on-write view,
    /// whose prototype PTE `proto_before` is left alone).
    fn install_private_zero(
        &mut self,
        asid: AsId,
        va: Va,
        protection: Protection,
        pte_before: Pte,
        proto_before: Option<ProtoPte>,
    ) -> Result<FaultOutcome> {
        self.prefetch_zeroed_head(va.page_offset());
        let vpn = va.vpn();
        self.make_room(asid);
        let frame = self.take_frame(true)?;
        let from_list = Some(frame.from());
        let pfn = self.attach_frame(
            frame,
            PteRef::Process { space: asid, vpn },
            OriginalPte::DemandZero { protection },
            true,
        );
        let h = Self::valid_pte(pfn, protection, false, protection.is_writable());
        self.install_valid(asid, vpn, h, protection);
        let outcome = FaultOutcome {
            proto_before,
            ..FaultOutcome::private(
                FaultKind::DemandZero,
                pfn,
                from_list,
                pte_before,
                Pte::Valid(h),
            )
        };
        self.record_fault(asid, va, &outcome);
        Ok(outcome)
    }

    /// `MiResolveProtoPteFault` + `MiCompleteProtoPteFault` (§3.1): a fault through a prototype
    /// PTE, with the effective protection already known. The prototype PTE is made valid
    /// ([`Machine::make_proto_resident`]), then the process PTE.
    fn resolve_proto_pte_fault(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        pte_before: Pte,
        proto: ProtoRef,
        protection: Protection,
    ) -> Result<FaultOutcome> {
        self.check_access(asid, va, access, protection)?;
        // A page past the segment's end (e.g. a truncated file's) raises.
        let (backing, current) = match self.segments.get(&proto.segment) {
            Some(s) if s.holds(proto.index) => (s.kind, s.get(proto.index)),
            _ => return Err(self.raise(asid, va, access, ExceptionKind::AccessViolation)),
        };
        if matches!(current, ProtoPte::DemandZero { .. }) {
            if protection.is_copy_on_write() && access == Access::Write {
                // §3.1 step 5: a store to an untouched demand-zero page of a copy-on-write view
                // skips the shared page and makes a private demand-zero page at once.
                return self.install_private_zero(
                    asid,
                    va,
                    protection.without_copy(),
                    pte_before,
                    Some(current),
                );
            }
            // This fault will take the head of the zeroed list (MiRemoveZeroPage): start
            // bringing in the line it will store to now, while the rest of the fault runs.
            self.prefetch_zeroed_head(va.page_offset());
        }
        let resident = match self.resolve_proto(proto, backing, current) {
            Ok(r) => r,
            Err(f) => return Err(self.raise_failure(asid, va, access, f)),
        };
        let pfn = resident.pfn;
        // MiCompleteProtoPteFault: a store to a writable page marks the frame modified now.
        let dirty = access == Access::Write && protection.is_writable();
        let h = Self::valid_pte(pfn, protection, true, dirty);
        let outcome = FaultOutcome {
            kind: resident.kind,
            pfn,
            from_list: resident.from_list,
            pte_before,
            pte_after: Pte::Valid(h),
            proto_before: Some(current),
            proto_after: Some(ProtoPte::Valid { pfn }),
        };
        self.record_fault(asid, va, &outcome);
        if dirty {
            self.mark_modified(pfn);
        }
        self.make_room(asid);
        self.install_valid(asid, va.vpn(), h, protection);
        Ok(outcome)
    }

    /// `MiResolveProtoPteFault` minus the process PTE: makes the prototype PTE valid and takes
    /// one share reference on its frame for the caller.
    pub(crate) fn make_proto_resident(
        &mut self,
        proto: ProtoRef,
    ) -> std::result::Result<Resident, ProtoFailure> {
        let seg = self.segment(proto.segment)?;
        let (kind, current) = (seg.kind, seg.get(proto.index));
        self.resolve_proto(proto, kind, current)
    }

    /// [`Machine::make_proto_resident`] with the segment's kind and the prototype PTE already
    /// read: one arm per prototype PTE state.
    fn resolve_proto(
        &mut self,
        proto: ProtoRef,
        kind: SegmentKind,
        current: ProtoPte,
    ) -> std::result::Result<Resident, ProtoFailure> {
        let (source, original, kind) = match current {
            ProtoPte::Zero => return Err(ProtoFailure::NotCommitted),
            ProtoPte::Valid { pfn } => {
                self.pfn.entry_mut(pfn).share_count += 1;
                return Ok(Resident {
                    pfn,
                    kind: FaultKind::Share,
                    from_list: None,
                });
            }
            ProtoPte::Transition { pfn, .. } => {
                let from_list = self.reclaim_transition_frame(pfn);
                self.segment_mut(proto.segment)?
                    .set(proto.index, ProtoPte::Valid { pfn });
                return Ok(Resident {
                    pfn,
                    kind: FaultKind::Transition,
                    from_list,
                });
            }
            ProtoPte::DemandZero { protection } => (
                None,
                OriginalPte::DemandZero { protection },
                FaultKind::DemandZero,
            ),
            ProtoPte::Pagefile { slot, protection } => (
                Some(PageSource::Pagefile(slot)),
                OriginalPte::Pagefile { slot, protection },
                FaultKind::HardPagefile,
            ),
            ProtoPte::Subsection { protection } => {
                let source = match kind {
                    SegmentKind::File { store } => PageSource::File {
                        store,
                        page: proto.index.raw(),
                    },
                    SegmentKind::Image { store } => {
                        let Some(page) = self
                            .segment(proto.segment)?
                            .image
                            .get(proto.index.raw() as usize)
                            .copied()
                        else {
                            return Err(ProtoFailure::NotCommitted);
                        };
                        PageSource::Image {
                            store,
                            offset: page.file_offset,
                            len: page.raw_len,
                        }
                    }
                    SegmentKind::Pagefile => return Err(ProtoFailure::NotCommitted),
                };
                (
                    Some(source),
                    OriginalPte::Subsection { protection },
                    FaultKind::HardFile,
                )
            }
        };
        // A new frame: zeroed for a demand-zero page, else read in (a hard fault).
        let frame = match source {
            None => self.take_frame(true)?,
            Some(source) => self.read_page_in(source)?,
        };
        let from_list = Some(frame.from());
        let pfn = self.attach_frame(frame, PteRef::Proto(proto), original, source.is_none());
        self.proto_now_valid(proto, pfn)?;
        Ok(Resident {
            pfn,
            kind,
            from_list,
        })
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
            PageSource::Image { store, offset, len } => match self.stores.get_mut(&store) {
                Some(s) => {
                    let len = (len as usize).min(PAGE_BYTES);
                    crate::store::read_bytes(s.as_mut(), offset, &mut buf[..len]).map(|_| ())
                }
                None => {
                    self.give_back(frame);
                    return Err(ProtoFailure::Other(VmmError::UnknownStore(store)));
                }
            },
        };
        let (target, page) = match source {
            PageSource::Pagefile(slot) => (IoTarget::Pagefile, u64::from(slot.raw())),
            PageSource::File { store, page } => (IoTarget::File(store), page),
            PageSource::Image { store, offset, .. } => {
                (IoTarget::File(store), offset / crate::addr::PAGE_SIZE)
            }
        };
        self.events.emit(crate::event::VmmEvent::StoreIo {
            target,
            op: crate::store::StoreOp::Read,
            page,
            failed: read.as_ref().err().map(|e| e.status),
        });
        match read {
            Ok(()) => {
                self.memory.fill(&mut self.memory_right, frame.pfn(), &buf);
                match source {
                    PageSource::Pagefile(_) => self.counters.pagefile_reads += 1,
                    PageSource::File { .. } | PageSource::Image { .. } => {
                        self.counters.file_reads += 1
                    }
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

    /// `MiCopyOnWrite` (§3.7): a store to a valid copy-on-write PTE gets a private copy of the
    /// page. `None` if the PTE is no longer a valid copy-on-write one (trimmed while making
    /// room: the next round faults afresh).
    fn copy_on_write(&mut self, asid: AsId, vpn: Vpn) -> Result<Option<FaultOutcome>> {
        self.ensure_available(1)?;
        let space = self.space(asid)?;
        let Pte::Valid(h) = space.page_table.get(vpn) else {
            return Ok(None);
        };
        if !h.copy_on_write {
            return Ok(None);
        }
        let protection = space
            .ws
            .get(vpn)
            .map_or(Protection::WRITECOPY, |e| e.protection)
            .without_copy();
        let old = h.pfn;
        let frame = self.take_frame(false)?;
        let from_list = Some(frame.from());
        self.memory.copy(&mut self.memory_right, old, frame.pfn());
        if h.dirty {
            self.mark_modified(old);
        }
        let new = self.attach_frame(
            frame,
            PteRef::Process { space: asid, vpn },
            OriginalPte::DemandZero { protection },
            true,
        );
        let after = HardwarePte {
            pfn: new,
            write: true,
            dirty: true,
            accessed: true,
            copy_on_write: false,
            prototype: false,
            no_execute: h.no_execute,
        };
        let space = self.space_mut(asid)?;
        space.page_table.set(vpn, Pte::Valid(after));
        space.ws.set_protection(vpn, protection);
        self.decrement_share_count(old);
        let outcome = FaultOutcome::private(
            FaultKind::CopyOnWrite,
            new,
            from_list,
            Pte::Valid(h),
            Pte::Valid(after),
        );
        self.record_fault(asid, vpn.base(), &outcome);
        Ok(Some(outcome))
    }

    /// The frame work of `MiResolveTransitionFault`, for a process or a prototype PTE: the
    /// frame comes off the standby or modified list (or out of transition) and is active with
    /// one share reference. Returns the list it came off.
    fn reclaim_transition_frame(&mut self, pfn: Pfn) -> Option<PageLocation> {
        let from = self.pfn.move_to_active(pfn);
        let e = self.pfn.entry_mut(pfn);
        e.reference_count += 1;
        e.share_count = 1;
        from
    }

    /// `MiResolveTransitionFault` (§3.3): a private page back from the standby or modified list.
    fn resolve_transition_fault(
        &mut self,
        asid: AsId,
        vpn: Vpn,
        pfn: Pfn,
        protection: Protection,
    ) -> Result<FaultOutcome> {
        self.make_room(asid);
        let from_list = self.reclaim_transition_frame(pfn);
        let h = Self::valid_pte(pfn, protection, false, false);
        self.install_valid(asid, vpn, h, protection);
        let before = Pte::Transition { pfn, protection };
        let outcome =
            FaultOutcome::private(FaultKind::Transition, pfn, from_list, before, Pte::Valid(h));
        self.record_fault(asid, vpn.base(), &outcome);
        Ok(outcome)
    }

    /// `MiResolvePageFileFault` (§3.5): a private page read back from the pagefile. It stays
    /// clean and keeps its slot.
    fn resolve_page_file_fault(
        &mut self,
        asid: AsId,
        va: Va,
        access: Access,
        slot: crate::addr::Slot,
        protection: Protection,
    ) -> Result<FaultOutcome> {
        let vpn = va.vpn();
        self.make_room(asid);
        let frame = match self.read_page_in(PageSource::Pagefile(slot)) {
            Ok(f) => f,
            Err(f) => return Err(self.raise_failure(asid, va, access, f)),
        };
        let from_list = Some(frame.from());
        let pfn = self.attach_frame(
            frame,
            PteRef::Process { space: asid, vpn },
            OriginalPte::Pagefile { slot, protection },
            false,
        );
        let h = Self::valid_pte(pfn, protection, false, false);
        self.install_valid(asid, vpn, h, protection);
        let before = Pte::Pagefile { slot, protection };
        let outcome = FaultOutcome::private(
            FaultKind::HardPagefile,
            pfn,
            from_list,
            before,
            Pte::Valid(h),
        );
        self.record_fault(asid, va, &outcome);
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{PageCount, ProtoIndex};
    use crate::machine::{default_pagefile_store, VmmConfig};
    use crate::region::Placement;

    fn machine() -> (Machine, AsId, AsId) {
        let config = VmmConfig {
            frames: 16,
            ..VmmConfig::default()
        };
        let mut m = Machine::new(config, default_pagefile_store()).unwrap();
        let mut space = || {
            let id = m.new_space_id();
            let epoch = std::sync::Arc::clone(m.memory.epoch());
            let s = crate::address_space::AddressSpace::new(id, 64, epoch);
            m.spaces.insert(id, s);
            id
        };
        let (a, b) = (space(), space());
        (m, a, b)
    }

    fn fault(m: &mut Machine, asid: AsId, va: Va, access: Access) -> FaultOutcome {
        let found = m.space(asid).unwrap().page_table.get(va.vpn());
        let outcome = m.dispatch_fault(asid, va, access, found).unwrap().unwrap();
        // The outcome tells the truth about the PTE it left.
        assert_eq!(
            m.space(asid).unwrap().page_table.get(va.vpn()),
            outcome.pte_after
        );
        assert_eq!(outcome.pte_before, found);
        outcome
    }

    /// §3.6 then §3.3: a private demand-zero fault takes the zeroed list's head; trimmed (and
    /// modified), the page comes back from the modified list by a transition fault, which
    /// takes no new frame.
    #[test]
    fn test_private_fault_outcomes_name_the_list_s3_6_s3_3() {
        let (mut m, a, _) = machine();
        let va = m
            .allocate_private(
                a,
                PageCount::new(1),
                Placement::BottomUp,
                Protection::READWRITE,
                true,
            )
            .unwrap();
        let dz = fault(&mut m, a, va, Access::Write);
        assert_eq!(dz.kind, FaultKind::DemandZero);
        assert_eq!(dz.from_list, Some(PageLocation::Zeroed));
        assert_eq!(dz.taken_from(), Some(PageLocation::Zeroed));
        assert_eq!((dz.proto_before, dz.proto_after), (None, None));
        assert!(m.trim_page(a, va.vpn()));
        let soft = fault(&mut m, a, va, Access::Read);
        assert_eq!(soft.kind, FaultKind::Transition);
        assert_eq!(soft.pfn, dz.pfn);
        assert_eq!(soft.from_list, Some(PageLocation::Modified));
        assert_eq!(soft.taken_from(), None);
        m.check_invariants().unwrap();
    }

    /// §3.1: the first fault through a demand-zero prototype PTE makes it valid; a second
    /// address space shares the frame (no list).
    #[test]
    fn test_proto_fault_outcomes_carry_the_prototype_pte_s3_1() {
        let (mut m, a, b) = machine();
        let seg = m
            .create_pagefile_segment(1, Protection::READWRITE, false)
            .unwrap();
        let rw = Protection::READWRITE;
        let pa = m
            .map_segment(
                a,
                seg,
                ProtoIndex::ZERO,
                PageCount::new(1),
                Placement::BottomUp,
                rw,
            )
            .unwrap();
        let pb = m
            .map_segment(
                b,
                seg,
                ProtoIndex::ZERO,
                PageCount::new(1),
                Placement::BottomUp,
                rw,
            )
            .unwrap();
        let first = fault(&mut m, a, pa, Access::Read);
        assert_eq!(first.kind, FaultKind::DemandZero);
        assert_eq!(
            first.proto_before,
            Some(ProtoPte::DemandZero { protection: rw })
        );
        assert_eq!(first.proto_after, Some(ProtoPte::Valid { pfn: first.pfn }));
        assert_eq!(first.from_list, Some(PageLocation::Zeroed));
        let share = fault(&mut m, b, pb, Access::Read);
        assert_eq!(share.kind, FaultKind::Share);
        assert_eq!(share.pfn, first.pfn);
        assert_eq!(share.from_list, None);
        assert_eq!(share.proto_before, first.proto_after);
        m.check_invariants().unwrap();
    }
}
