//! The machine's typed event stream: what every fault, frame move, trim, writer run and page
//! I/O did, delivered to subscribers and to `tracing`.
//!
//! Each kind of event is emitted from one place — a fault from `record_fault` (fault.rs), a
//! frame move from the named transitions of the PFN database (pfn.rs), a trim from `trim_page`,
//! a page I/O from the paging-I/O paths of fault.rs and writer.rs — so an event cannot be lost
//! by rewording a message, and a consumer (`ntmm run --trace`, the JSON protocol, a replay)
//! reads typed fields, never text. Every event also goes to `tracing` as structured fields
//! (one helper per layer, [`Traced`](crate::event::Traced)), for `RUST_LOG` users.
//!
//! Delivery is synchronous, in emission order, on the emitting thread, while the machine lock
//! is held: a subscriber must only record the event (clone it, push it somewhere) and must not
//! call back into the machine or subscribe from inside a delivery. The resident-access fast path
//! (a TLB hit or a valid PTE) emits nothing.

use crate::addr::{Pfn, ProtoIndex, Va};
use crate::error::Exception;
use crate::fault::FaultOutcome;
use crate::id::{AsId, SegmentId, StoreId};
use crate::pfn::PageLocation;
use crate::protection::Protection;
use crate::pte::{OriginalPte, Pte, PteRef};
use crate::segment::SegmentKind;
use crate::status::NtStatus;
use crate::store::StoreOp;
use parking_lot::RwLock;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A subscriber: called with every event of its layer, in order (see the module doc for what
/// it may do).
pub type Subscriber<E> = Arc<dyn Fn(&E) + Send + Sync>;

/// The subscribers of one layer's events. Clones share one list, so every part of a layer that
/// emits (the machine, its PFN database, a fault-injecting store) delivers to the same
/// subscribers.
pub struct Subscribers<E> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    /// Set once the first subscriber is added: until then delivering is one atomic load.
    any: AtomicBool,
    list: RwLock<Vec<Subscriber<E>>>,
}

impl<E> Clone for Subscribers<E> {
    fn clone(&self) -> Self {
        Subscribers {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<E> Default for Subscribers<E> {
    fn default() -> Self {
        Subscribers {
            inner: Arc::new(Inner {
                any: AtomicBool::new(false),
                list: RwLock::new(Vec::new()),
            }),
        }
    }
}

impl<E> fmt::Debug for Subscribers<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subscribers({})", self.inner.list.read().len())
    }
}

/// An event that also goes to `tracing`: each layer's event enum turns itself into one
/// `tracing` event with structured fields (the one helper per layer).
pub trait Traced {
    /// Sends the event to `tracing`.
    fn trace(&self);
}

impl<E: Traced> Subscribers<E> {
    /// Emits `event`: to `tracing` first, then to every subscriber. The one way every layer
    /// emits. With no subscriber and `tracing` off (no `RUST_LOG`), it costs two atomic loads
    /// and the event is not even built (the call is inlined into its caller).
    #[inline]
    pub fn emit(&self, event: E) {
        let traced = tracing::level_enabled!(tracing::Level::TRACE);
        if !traced && self.is_empty() {
            return;
        }
        event.trace();
        self.deliver(&event);
    }
}

impl<E> Subscribers<E> {
    /// Adds a subscriber; it receives every event emitted from now on.
    pub fn subscribe(&self, subscriber: Subscriber<E>) {
        self.inner.list.write().push(subscriber);
        self.inner.any.store(true, Ordering::Release);
    }
    /// Whether nobody subscribes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        !self.inner.any.load(Ordering::Acquire)
    }
    /// The subscribers, in subscription order (to carry them over to a restarted machine).
    pub fn all(&self) -> Vec<Subscriber<E>> {
        self.inner.list.read().clone()
    }
    /// Delivers `event` to every subscriber, in subscription order.
    pub fn deliver(&self, event: &E) {
        if self.is_empty() {
            return;
        }
        for s in self.inner.list.read().iter() {
            s(event);
        }
    }
}

/// Why a frame moved ([`VmmEvent::FrameMoved`]): the NT operation behind each named transition
/// of the PFN database (nt_internals §4.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum MoveReason {
    /// Taken for a new page (`MiRemoveZeroPage`/`MiRemoveAnyPage`); off the standby list it is
    /// repurposed ([`VmmEvent::FrameRepurposed`] follows).
    Taken,
    /// A transition fault took it back (`MiResolveTransitionFault`, §3.3).
    TransitionFault,
    /// The last valid PTE mapping it went (`MiDecrementShareCount`).
    LastShare,
    /// Its last reference went (`MiDecrementReferenceCount`): it left every working set, for
    /// the standby list (clean) or the modified list (dirty).
    LastReference,
    /// A page write started (`MiGatherPagefilePages`, `MiGatherMappedPages`, a flush).
    WriteStarted,
    /// The page write finished and its reference went (`MiWriteComplete`): the frame is clean
    /// on the standby list, or modified again (re-dirtied, or the write failed).
    WriteCompleted,
    /// The mapped page writer found its segment's modified writing disabled (§4.2).
    WritingDisabled,
    /// Its segment's modified writing was enabled again: back to the modified list.
    WritingEnabled,
    /// Its PTE is gone (`MiInsertPageInFreeList`).
    Freed,
}

/// What an access violation found (§3.8, [`VmmEvent::Exception`]): the rule it broke.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ViolationCause {
    /// No VAD covers the address: nothing is allocated or mapped there (`MiCheckVirtualAddress`).
    NoVad,
    /// The VAD covers it but the page is not committed: reserved private memory, or a
    /// `SEC_RESERVE` section page whose prototype PTE is zero (§2.4).
    NotCommitted,
    /// The region's protection allows no access (`PAGE_NOACCESS`).
    NoAccess,
    /// The page's protection does not allow this access (a store to a read-only page, §3.8).
    Protection,
}

/// What happened to a placeholder ([`VmmEvent::Placeholder`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum PlaceholderChange {
    /// Reserved (`VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER)`).
    Reserved,
    /// Split off a larger placeholder (`VirtualFree(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)`):
    /// the event names the new placeholder the caller asked for.
    Split,
    /// Made of adjacent placeholders (`VirtualFree(MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS)`).
    Coalesced,
    /// Replaced by a view or private memory of its size (`MEM_REPLACE_PLACEHOLDER`).
    Replaced,
    /// A view in it was unmapped with `MEM_PRESERVE_PLACEHOLDER`: a placeholder again.
    Restored,
}

/// Which writer ran ([`VmmEvent::WriterRan`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Writer {
    /// `MiModifiedPageWriter`: pagefile-destined pages.
    ModifiedPageWriter,
    /// `MiMappedPageWriter`: file pages.
    MappedPageWriter,
}

/// What made a writer run ([`VmmEvent::WriterRan`], §4.6).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum WriterTrigger {
    /// Available frames ran low: the writers turn modified pages into standby pages before
    /// any working set is trimmed (`MiEnsureAvailablePageOrWait` wakes them).
    LowMemory,
    /// The eager policy: the mapped page writer runs after every operation (a scenario's
    /// `machine writer=eager`).
    Eager,
    /// Asked for: a caller of the machine ([`crate::Vmm::run_writers`]; a scenario's
    /// `flush-modified` directive).
    Requested,
}

/// Where a page I/O went ([`VmmEvent::StoreIo`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum IoTarget {
    /// The pagefile, at a slot.
    Pagefile,
    /// A file's store.
    File(StoreId),
}

/// One event of the machine. Together they carry what changed, step by step: every fault with
/// the PTEs before and after, every frame move between lists, every trim, writer run and page
/// I/O.
#[derive(Clone, Debug, PartialEq, Eq, strum::EnumDiscriminants)]
#[strum_discriminants(
    name(VmmEventKind),
    derive(strum::EnumIter, Hash, PartialOrd, Ord),
    doc = "The kinds of [`VmmEvent`], one per variant (`VmmEventKind::iter()` lists them all)."
)]
pub enum VmmEvent {
    /// An address space was created (a process).
    AddressSpaceCreated {
        /// The address space.
        asid: AsId,
    },
    /// An address space was deleted, all its regions first (§6.4).
    AddressSpaceDeleted {
        /// The address space.
        asid: AsId,
    },
    /// A placeholder was reserved, split, coalesced, replaced or restored.
    Placeholder {
        /// The address space.
        asid: AsId,
        /// The placeholder's base.
        base: Va,
        /// Its pages.
        pages: u64,
        /// What happened.
        change: PlaceholderChange,
    },
    /// Private memory was reserved, and perhaps committed (`NtAllocateVirtualMemory`).
    PrivateAllocated {
        /// The address space.
        asid: AsId,
        /// The region's base.
        base: Va,
        /// Its pages.
        pages: u64,
        /// Its protection.
        protection: Protection,
        /// Whether it was committed at once.
        committed: bool,
    },
    /// Pages of a segment were mapped (`MiMapViewOfSection`).
    SegmentMapped {
        /// The address space.
        asid: AsId,
        /// The segment.
        segment: SegmentId,
        /// The first prototype PTE mapped.
        first_index: ProtoIndex,
        /// The pages mapped.
        pages: u64,
        /// The view's protection.
        protection: Protection,
        /// The view's base.
        base: Va,
    },
    /// A region (a view or private memory) was deleted (`MiRemoveMappedView`, release).
    RegionDeleted {
        /// The address space.
        asid: AsId,
        /// The region's base.
        base: Va,
        /// Its pages.
        pages: u64,
    },
    /// A segment was created (`MiCreatePagingFileMap`, `MiCreateDataFileMap`).
    SegmentCreated {
        /// The segment.
        segment: SegmentId,
        /// Pagefile- or file-backed.
        kind: SegmentKind,
        /// Its pages.
        pages: u64,
        /// Its prototype PTEs' protection.
        protection: Protection,
        /// Reserved only (`SEC_RESERVE`): its prototype PTEs are not committed.
        reserve: bool,
    },
    /// A segment was deleted.
    SegmentDeleted {
        /// The segment.
        segment: SegmentId,
    },
    /// A fault was resolved (`record_fault`, the one place a fault is counted).
    FaultResolved {
        /// The faulting address space.
        asid: AsId,
        /// The faulting address.
        va: Va,
        /// What the resolver did: kind, frame, list, PTEs and prototype PTEs before and after.
        outcome: FaultOutcome,
    },
    /// An access raised an exception (§3.8, §3.9).
    Exception {
        /// The faulting address space.
        asid: AsId,
        /// The exception: kind, address, access.
        exception: Exception,
        /// The process PTE when it was raised.
        pte: Pte,
        /// For an access violation, what the fault found (`None` for the other exceptions).
        cause: Option<ViolationCause>,
    },
    /// The protection of committed pages changed (`NtProtectVirtualMemory`, §7.5); a valid page
    /// made no-access or guard left the working set first ([`VmmEvent::PageTrimmed`]).
    ProtectionChanged {
        /// The address space.
        asid: AsId,
        /// The first page's address.
        base: Va,
        /// The pages changed.
        pages: u64,
        /// The first page's protection before.
        old: Protection,
        /// The protection now.
        new: Protection,
    },
    /// Prototype PTEs of a `SEC_RESERVE` pagefile segment were committed through a view
    /// (`VirtualAlloc(MEM_COMMIT)`, §1.9): zero before, demand-zero now, each charged once.
    SegmentCommitted {
        /// The segment.
        segment: SegmentId,
        /// The first prototype PTE of the range asked for.
        first: ProtoIndex,
        /// The pages of the range asked for.
        pages: u64,
        /// The prototype PTEs newly committed (and charged) in it.
        committed: u64,
    },
    /// A frame changed location (a named transition of the PFN database).
    FrameMoved {
        /// The frame.
        pfn: Pfn,
        /// Where it was.
        from: PageLocation,
        /// Where it is.
        to: PageLocation,
        /// Why.
        reason: MoveReason,
    },
    /// A standby frame was repurposed: its PTE got its original PTE back
    /// (`MiRestoreTransitionPte`, §4.7).
    FrameRepurposed {
        /// The frame.
        pfn: Pfn,
        /// The PTE that named it.
        pte: Option<PteRef>,
        /// The PTE restored there.
        original: OriginalPte,
    },
    /// A page left a working set (`MiFreeWsle`, trimming or replacement, §4.5).
    PageTrimmed {
        /// The address space.
        asid: AsId,
        /// The page's address.
        va: Va,
        /// The frame.
        pfn: Pfn,
        /// The valid PTE it had.
        pte_before: Pte,
        /// The PTE it has now (transition, or a prototype form).
        pte_after: Pte,
    },
    /// A writer ran (§4.6).
    WriterRan {
        /// Which.
        writer: Writer,
        /// What made it run.
        trigger: WriterTrigger,
        /// Pages written.
        pages_written: u64,
        /// Page writes that failed (the pages stay modified).
        failed: u64,
    },
    /// A page was read or written by paging I/O (a hard fault, a writer, a flush).
    StoreIo {
        /// The pagefile or a file.
        target: IoTarget,
        /// Read or write.
        op: StoreOp,
        /// The slot (pagefile) or page (file).
        page: u64,
        /// The status of a failed I/O; `None` if it succeeded.
        failed: Option<NtStatus>,
    },
    /// A fault-injecting store failed an operation on purpose (`fail read`, `fail write`).
    FailureInjected {
        /// What the store is (`file "data.bin"`, `the pagefile`).
        store: String,
        /// The operation.
        op: StoreOp,
        /// The page (0 for size changes and flushes).
        page: u64,
        /// The status it failed with.
        status: NtStatus,
    },
    /// A range of a file segment was flushed (`MiFlushSectionInternal`).
    SegmentFlushed {
        /// The segment.
        segment: SegmentId,
        /// The first page of the range.
        first: ProtoIndex,
        /// The pages of the range.
        count: u64,
        /// The modified pages written.
        written: u64,
    },
}

impl VmmEvent {
    /// The event's kind.
    pub fn kind(&self) -> VmmEventKind {
        VmmEventKind::from(self)
    }
}

impl Traced for VmmEvent {
    /// Frame moves and page I/O are at `TRACE` level, the rest at `DEBUG`; the messages are the
    /// ones `RUST_LOG` users have always seen.
    fn trace(&self) {
        use tracing::{debug, trace};
        match self {
            VmmEvent::AddressSpaceCreated { asid } => debug!(?asid, "address space created"),
            VmmEvent::AddressSpaceDeleted { asid } => debug!(?asid, "address space deleted"),
            VmmEvent::Placeholder {
                asid,
                base,
                pages,
                change,
            } => debug!(?asid, %base, pages, ?change, "placeholder"),
            VmmEvent::PrivateAllocated {
                asid,
                base,
                pages,
                protection,
                committed,
            } => debug!(?asid, %base, pages, ?protection, committed, "private region allocated"),
            VmmEvent::SegmentMapped {
                asid,
                segment,
                first_index,
                pages,
                protection,
                base,
            } => debug!(
                ?asid,
                ?segment,
                %first_index,
                pages,
                ?protection,
                %base,
                "segment mapped"
            ),
            VmmEvent::RegionDeleted { asid, base, pages } => {
                debug!(?asid, %base, pages, "region deleted")
            }
            VmmEvent::SegmentCreated {
                segment,
                kind,
                pages,
                protection,
                reserve,
            } => debug!(
                ?segment,
                ?kind,
                pages,
                ?protection,
                reserve,
                "segment created"
            ),
            VmmEvent::SegmentDeleted { segment } => debug!(?segment, "segment deleted"),
            VmmEvent::FaultResolved { asid, va, outcome } => debug!(
                ?asid,
                %va,
                kind = ?outcome.kind,
                pfn = outcome.pfn.raw(),
                from = ?outcome.from_list,
                pte_before = ?outcome.pte_before,
                pte_after = ?outcome.pte_after,
                proto_before = ?outcome.proto_before,
                proto_after = ?outcome.proto_after,
                "fault resolved"
            ),
            VmmEvent::SegmentCommitted {
                segment,
                first,
                pages,
                committed,
            } => tracing::debug!(?segment, ?first, pages, committed, "segment committed"),
            VmmEvent::ProtectionChanged {
                asid,
                base,
                pages,
                old,
                new,
            } => tracing::debug!(?asid, %base, pages, ?old, ?new, "protection changed"),
            VmmEvent::Exception {
                asid,
                exception,
                pte,
                ..
            } => debug!(?asid, %exception, ?pte, "exception raised"),
            VmmEvent::FrameMoved {
                pfn,
                from,
                to,
                reason,
            } => trace!(pfn = pfn.raw(), ?from, ?to, ?reason, "frame moved"),
            VmmEvent::FrameRepurposed { pfn, pte, original } => {
                debug!(pfn = pfn.raw(), ?pte, ?original, "standby frame repurposed")
            }
            VmmEvent::PageTrimmed {
                asid,
                va,
                pfn,
                pte_before,
                pte_after,
            } => debug!(
                ?asid,
                %va,
                pfn = pfn.raw(),
                ?pte_before,
                ?pte_after,
                "working-set entry trimmed"
            ),
            VmmEvent::WriterRan {
                writer,
                trigger,
                pages_written,
                failed,
            } => debug!(?writer, ?trigger, pages_written, failed, "writer ran"),
            VmmEvent::StoreIo {
                target,
                op,
                page,
                failed,
            } => trace!(?target, ?op, page, ?failed, "page I/O"),
            VmmEvent::FailureInjected {
                store,
                op,
                page,
                status,
            } => debug!(%store, ?op, page, %status, "injected store failure"),
            VmmEvent::SegmentFlushed {
                segment,
                first,
                count,
                written,
            } => debug!(?segment, %first, count, written, "segment range flushed"),
        }
    }
}

/// The machine's emitter: the subscribers of [`VmmEvent`]s.
pub(crate) type Events = Subscribers<VmmEvent>;
