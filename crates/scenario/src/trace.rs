//! `--trace`: every fault and transition explained in one human line.
//!
//! The runner subscribes a [`TraceSink`](crate::trace::TraceSink) to the system's typed event stream
//! ([`ntmm_api::Event`]); after each statement the events it produced are rendered as
//! sentences ([`explain`](crate::trace::explain)), with address-space ids replaced by process names. Nothing here reads
//! a log message or `Debug` text: a sentence is made from the event's typed fields, so an event
//! cannot silently fall out of the trace. `RUST_LOG` additionally prints the raw events
//! (tracing-subscriber's `EnvFilter`) on standard error; the layers send every event to
//! `tracing` themselves.

use crate::draw::pages;
use ntmm_api::section::SectionEvent;
use ntmm_api::{ApiEvent, Event, NtStatus, ObjectRef};
use ntmm_vmm::{
    FaultKind, MoveReason, OriginalPte, PageLocation, ProtoPte, Pte, StoreOp, Subscriber, VmmEvent,
    Writer,
};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// Installs a global subscriber that prints the raw tracing events selected by `RUST_LOG` on
/// standard error.
pub fn init_raw_logging() -> Result<(), tracing::subscriber::SetGlobalDefaultError> {
    let filter = tracing_subscriber::EnvFilter::from_default_env();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .without_time()
            .with_filter(filter),
    );
    tracing::subscriber::set_global_default(subscriber)
}

/// Collects the failed calls of a statement ([`ApiEvent::CallFailed`]), for the `status` and
/// `why` of its JSON object.
#[derive(Debug, Clone, Default)]
pub struct FailureSink {
    failures: Arc<Mutex<Vec<ApiEvent>>>,
}

impl FailureSink {
    /// The subscriber to give [`ntmm_api::System::subscribe`].
    pub fn subscriber(&self) -> Subscriber<Event> {
        let failures = Arc::clone(&self.failures);
        Arc::new(move |e: &Event| {
            if let Event::Api(
                a @ (ApiEvent::CallFailed { .. } | ApiEvent::NativeCallFailed { .. }),
            ) = e
            {
                failures.lock().push(a.clone());
            }
        })
    }

    /// The last call that failed since the last take: its NTSTATUS (if it had one), its
    /// Win32 error (0 for a native call, which sets none) and its `why` sentence.
    pub fn take(&self) -> Option<(Option<NtStatus>, u32, String)> {
        let all = std::mem::take(&mut *self.failures.lock());
        all.into_iter().last().and_then(|a| match a {
            ApiEvent::CallFailed {
                status,
                win32_error,
                rule,
                ..
            } => Some((
                status,
                win32_error,
                why_words(status, win32_error, rule.as_deref()),
            )),
            ApiEvent::NativeCallFailed { status, rule, .. } => {
                Some((Some(status), 0, native_why_words(status, rule.as_deref())))
            }
            _ => None,
        })
    }
}

/// Collects the events that `--trace` explains, between two drains.
#[derive(Debug, Clone, Default)]
pub struct TraceSink {
    events: Arc<Mutex<Vec<Event>>>,
    /// Every process name seen, by address-space id.
    names: Arc<Mutex<BTreeMap<u32, String>>>,
    /// `--trace-all`: every event, the machine's bookkeeping too ([`explain_all`]).
    all: bool,
}

impl TraceSink {
    /// A sink that tells every event ([`explain_all`], `--trace-all`) when `all`, else the
    /// events `--trace` tells ([`explain`]).
    pub fn with_detail(all: bool) -> Self {
        TraceSink {
            all,
            ..TraceSink::default()
        }
    }

    /// The sentence of `e` at this sink's level of detail.
    fn sentence(&self, e: &Event, names: &BTreeMap<u32, String>) -> Option<String> {
        if self.all {
            explain_all(e, names)
        } else {
            explain(e, names)
        }
    }

    /// The subscriber to give [`ntmm_api::System::subscribe`]: it keeps the events that have
    /// a sentence (the others are not kept).
    pub fn subscriber(&self) -> Subscriber<Event> {
        let events = Arc::clone(&self.events);
        let none = BTreeMap::new();
        let sink = self.clone();
        Arc::new(move |e: &Event| {
            if sink.sentence(e, &none).is_some() {
                events.lock().push(e.clone());
            }
        })
    }

    /// The explanations of the events recorded since the last drain; `names` gives the process
    /// name of an address-space id.
    pub fn drain(&self, names: &BTreeMap<u32, String>) -> Vec<String> {
        self.drain_events(names)
            .into_iter()
            .map(|(line, _)| line)
            .collect()
    }

    /// [`TraceSink::drain`] with each event's typed form
    /// ([`event_json`](crate::event_json::event_json)) beside its sentence.
    pub fn drain_events(&self, names: &BTreeMap<u32, String>) -> Vec<(String, serde_json::Value)> {
        let events = std::mem::take(&mut *self.events.lock());
        // A process keeps its name after it exits (its handles and exit are told after the
        // scenario forgot it).
        let mut known = self.names.lock();
        known.extend(names.iter().map(|(k, v)| (*k, v.clone())));
        events
            .iter()
            .filter_map(|e| {
                self.sentence(e, &known)
                    .map(|line| (line, crate::event_json::event_json(e, &known)))
            })
            .collect()
    }
}

/// A process PTE in words.
fn pte_words(pte: &Pte) -> String {
    match pte {
        Pte::Zero => "empty".into(),
        Pte::Valid(h) if h.copy_on_write => "valid, copy-on-write".into(),
        Pte::Valid(_) => "valid".into(),
        Pte::Prototype { .. } => "prototype pointer".into(),
        Pte::PrototypeLookup { protection } => format!("prototype, lookup needed ({protection:?})"),
        Pte::Transition { protection, .. } => format!("transition ({protection:?})"),
        Pte::Pagefile { protection, .. } => format!("in the pagefile ({protection:?})"),
        Pte::DemandZero { protection } => format!("demand-zero ({protection:?})"),
    }
}

/// Why an access raised its exception: the access, the PTE's state, the rule.
fn exception_words(
    e: &ntmm_vmm::Exception,
    pte: &Pte,
    cause: Option<ntmm_vmm::ViolationCause>,
) -> String {
    use ntmm_vmm::ExceptionKind;
    let access = match e.access {
        ntmm_vmm::Access::Read => "a read",
        ntmm_vmm::Access::Write => "a write",
    };
    let state = match pte {
        Pte::Valid(h) if !h.write && !h.copy_on_write => "valid, read-only".to_string(),
        other => pte_words(other),
    };
    match e.kind {
        ExceptionKind::AccessViolation => {
            use ntmm_vmm::ViolationCause;
            match cause {
                Some(ViolationCause::NoVad) => format!(
                    "{access} at {}: no VAD covers the address, so nothing is allocated or \
                     mapped there (§3.0, §3.8)",
                    e.address
                ),
                Some(ViolationCause::NotCommitted) => format!(
                    "{access} at {}: the page is reserved, not committed (PTE {state}; a view's \
                     prototype PTE is zero until the page is committed) (§2.4, §3.8)",
                    e.address
                ),
                Some(ViolationCause::NoAccess) => format!(
                    "{access} at {}: the region's protection is PAGE_NOACCESS (PTE {state}) (§3.8)",
                    e.address
                ),
                Some(ViolationCause::Protection) | None => format!(
                    "{access} at {} found the PTE {state}, whose protection does not allow it \
                     (§3.8)",
                    e.address
                ),
            }
        }
        ExceptionKind::InPageError(io) => format!(
            "{access} at {} needed the page from its backing store (PTE {state}), and the \
                 read failed with {io} (§3.4)",
            e.address
        ),
        ExceptionKind::GuardPage => format!(
            "{access} at {} touched a guard page (PTE {state}); the guard is now removed (F53)",
            e.address
        ),
    }
}

/// A prototype PTE in words.
fn proto_words(proto: &ProtoPte) -> &'static str {
    match proto {
        ProtoPte::Zero => "not committed",
        ProtoPte::DemandZero { .. } => "demand-zero",
        ProtoPte::Valid { .. } => "valid (the page is already mapped)",
        ProtoPte::Transition { .. } => "in transition (frame on a page list)",
        ProtoPte::Pagefile { .. } => "in the pagefile",
        ProtoPte::Subsection { .. } => "in the file",
    }
}

/// A page list in words: `taken` when a frame comes off it, else when a frame goes to it.
fn list_words(list: PageLocation, taken: bool) -> String {
    match list {
        PageLocation::Zeroed => "the zeroed list".into(),
        PageLocation::Free => "the free list".into(),
        PageLocation::Standby if taken => "the standby list (repurposed)".into(),
        PageLocation::Standby => "the standby list (clean, cached)".into(),
        PageLocation::Modified if !taken => {
            "the modified list (must be written before reuse)".into()
        }
        PageLocation::Modified => "the modified list".into(),
        PageLocation::ModifiedNoWrite => "the modified-no-write list".into(),
        other => format!("{other:?}"),
    }
}

fn fault_words(kind: FaultKind) -> &'static str {
    match kind {
        FaultKind::DemandZero => "demand-zero fault",
        FaultKind::Share => "share fault",
        FaultKind::Transition => "soft fault",
        FaultKind::CopyOnWrite => "copy-on-write fault",
        FaultKind::HardFile | FaultKind::HardPagefile => "hard fault",
    }
}

/// Where a hard fault read its page from, after the address (`None` for the other faults).
fn fault_source(kind: FaultKind) -> Option<&'static str> {
    match kind {
        FaultKind::HardFile => Some("the page is read from the file"),
        FaultKind::HardPagefile => Some("the page is read from the pagefile"),
        _ => None,
    }
}

fn original_words(original: OriginalPte) -> &'static str {
    match original {
        OriginalPte::DemandZero { .. } => "no data: it is demand-zero, as never written out",
        OriginalPte::Pagefile { .. } => "its pagefile slot, where the page's data is",
        OriginalPte::Subsection { .. } => "the file, from which the next touch reads the page",
    }
}

/// The sentence of one event, or `None` for an event `--trace` does not explain (frame moves
/// other than those told, page I/O, …).
pub fn explain(e: &Event, names: &BTreeMap<u32, String>) -> Option<String> {
    match e {
        Event::Vmm(v) => explain_vmm(v, names),
        Event::Section(s) => explain_section(s, names),
        Event::Api(a) => explain_api(a, names),
    }
}

/// The sentence of any event (`--trace-all`): [`explain`]'s, else the sentence of the
/// machine's and the section layer's bookkeeping that `--trace` leaves out (address spaces and
/// segments made and deleted, every frame move, every page I/O, writers that found nothing).
pub fn explain_all(e: &Event, names: &BTreeMap<u32, String>) -> Option<String> {
    explain(e, names).or_else(|| match e {
        Event::Vmm(v) => detail_vmm(v, names),
        Event::Section(s) => detail_section(s, names),
        Event::Api(_) => None,
    })
}

/// A page location in words, for a frame move.
fn location_words(l: PageLocation) -> &'static str {
    match l {
        PageLocation::Zeroed => "the zeroed list",
        PageLocation::Free => "the free list",
        PageLocation::Standby => "the standby list",
        PageLocation::Modified => "the modified list",
        PageLocation::ModifiedNoWrite => "the modified-no-write list",
        PageLocation::Active => "active (mapped by a valid PTE)",
        PageLocation::Transition => {
            "in transition (no valid PTE maps it, but it is still referenced)"
        }
    }
}

/// A segment in a sentence (`seg#1`).
fn segment_words(segment: ntmm_vmm::SegmentId) -> String {
    format!("{segment:?}")
}

/// Why a writer ran (§4.6).
fn trigger_words(t: ntmm_vmm::WriterTrigger) -> &'static str {
    match t {
        ntmm_vmm::WriterTrigger::LowMemory => {
            "free frames ran low: modified pages are written so their frames can be reused, §4.6"
        }
        ntmm_vmm::WriterTrigger::Eager => "the eager writer writes file pages after every step",
        ntmm_vmm::WriterTrigger::Requested => "run on request: flush-modified",
    }
}

/// A backing-store operation in words.
fn op_words(op: StoreOp) -> &'static str {
    match op {
        StoreOp::Read => "read",
        StoreOp::Write => "write",
        StoreOp::Flush => "flush",
        StoreOp::Resize => "size change",
        StoreOp::Crash => "power loss",
    }
}

/// Why a frame moved, with the NT routine that moves it (§4.2).
fn reason_words(r: MoveReason) -> &'static str {
    match r {
        MoveReason::Taken => "taken for a new page (MiRemoveZeroPage / MiRemoveAnyPage)",
        MoveReason::TransitionFault => "a soft fault took it back (MiResolveTransitionFault, §3.3)",
        MoveReason::LastShare => "the last valid PTE mapping it went (MiDecrementShareCount)",
        MoveReason::LastReference => {
            "its last reference went (MiDecrementReferenceCount): it is in no working set"
        }
        MoveReason::WriteStarted => "a page write started (the writers or a flush, §4.6)",
        MoveReason::WriteCompleted => "its page write finished (MiWriteComplete)",
        MoveReason::WritingDisabled => {
            "its segment's modified writing is disabled, so the mapped page writer leaves it (§4.2)"
        }
        MoveReason::WritingEnabled => "its segment's modified writing was enabled again",
        MoveReason::Freed => "no PTE refers to its page any more (MiInsertPageInFreeList)",
    }
}

fn detail_vmm(e: &VmmEvent, names: &BTreeMap<u32, String>) -> Option<String> {
    let who = |asid: &ntmm_vmm::AsId| crate::naming::process_raw(names, *asid);
    Some(match e {
        VmmEvent::AddressSpaceCreated { asid } => format!(
            "address space of {} created: no VAD, no valid PTE yet",
            who(asid)
        ),
        VmmEvent::AddressSpaceDeleted { asid } => format!(
            "address space of {} deleted, its regions first (§6.4)",
            who(asid)
        ),
        VmmEvent::PrivateAllocated {
            asid,
            base,
            pages: n,
            protection,
            committed,
        } => format!(
            "{}: private region at {base} ({}, {protection:?}) {}",
            who(asid),
            pages(*n),
            if *committed {
                "reserved and committed: each page is demand-zero until first touched"
            } else {
                "reserved only"
            }
        ),
        VmmEvent::SegmentMapped {
            asid,
            segment,
            first_index,
            pages: n,
            protection,
            base,
        } => format!(
            "{}: the VAD at {base} ({}, {protection:?}) refers to {segment:?} from prototype PTE \
             {}; its PTEs are filled in on first touch (§3.1)",
            who(asid),
            pages(*n),
            crate::naming::proto(ntmm_vmm::ProtoRef {
                segment: *segment,
                index: *first_index
            })
        ),
        VmmEvent::RegionDeleted {
            asid,
            base,
            pages: n,
        } => format!(
            "{}: region at {base} ({}) deleted with its VAD and PTEs",
            who(asid),
            pages(*n)
        ),
        VmmEvent::SegmentCreated {
            segment,
            kind,
            pages: n,
            protection,
            reserve,
        } => format!(
            "{segment:?} created: {} prototype PTE{} (template {protection:?}), {}{}",
            n,
            if *n == 1 { "" } else { "s" },
            match kind {
                ntmm_vmm::SegmentKind::Pagefile => "pagefile-backed".to_string(),
                ntmm_vmm::SegmentKind::File { store } => format!("backed by {store:?}"),
                ntmm_vmm::SegmentKind::Image { store } => {
                    format!("an image backed by {store:?} (written pages go to the pagefile)")
                }
            },
            if *reserve {
                ", reserved only (SEC_RESERVE: not committed)"
            } else {
                ""
            }
        ),
        VmmEvent::SegmentDeleted { segment } => {
            format!("{segment:?} deleted with its prototype PTEs")
        }
        // A frame just taken is not mapped yet: its page is zeroed, copied or read in first
        // (§3.4, §3.6); the fault or the cached I/O that follows tells where it went.
        VmmEvent::FrameMoved {
            pfn,
            from,
            reason: MoveReason::Taken,
            ..
        } => format!(
            "{}: {} → in use: {}; it is filled before anything maps it",
            crate::naming::frame(*pfn),
            location_words(*from),
            reason_words(MoveReason::Taken)
        ),
        VmmEvent::FrameMoved {
            pfn,
            from,
            to,
            reason,
        } => format!(
            "{}: {} → {}: {}",
            crate::naming::frame(*pfn),
            location_words(*from),
            location_words(*to),
            reason_words(*reason)
        ),
        VmmEvent::WriterRan {
            writer,
            trigger,
            failed,
            ..
        } => format!(
            "{} ran ({}): nothing written{}",
            match writer {
                Writer::ModifiedPageWriter => "modified page writer",
                Writer::MappedPageWriter => "mapped page writer",
            },
            trigger_words(*trigger),
            if *failed == 0 {
                String::new()
            } else {
                format!(" ({failed} page writes failed; those pages stay modified)")
            }
        ),
        VmmEvent::StoreIo {
            target,
            op,
            page,
            failed,
        } => {
            let op = op_words(*op);
            let at = match target {
                ntmm_vmm::IoTarget::Pagefile => format!("pagefile slot {page:#x}"),
                ntmm_vmm::IoTarget::File(store) => format!("page {page:#x} of {store:?}"),
            };
            match failed {
                None => format!("paging I/O: {op} of {at}"),
                Some(s) => format!("paging I/O: {op} of {at} failed with {s:?}"),
            }
        }
        VmmEvent::SegmentCommitted {
            segment,
            first,
            pages: n,
            ..
        } => format!(
            "{}: the {} from prototype PTE {} were committed already: nothing is charged",
            segment_words(*segment),
            pages(*n),
            crate::naming::proto(ntmm_vmm::ProtoRef {
                segment: *segment,
                index: *first
            })
        ),
        VmmEvent::SegmentFlushed {
            segment,
            first,
            count,
            ..
        } => format!(
            "flush of {segment:?} from prototype PTE {first} ({}): no modified page, nothing \
             written",
            pages(*count)
        ),
        // Told by `explain` (every case above is one it leaves out); an event neither tells
        // fails tests/event_coverage.rs.
        _ => return None,
    })
}

fn detail_section(e: &SectionEvent, names: &BTreeMap<u32, String>) -> Option<String> {
    let who = |asid: &ntmm_vmm::AsId| crate::naming::process_raw(names, *asid);
    Some(match e {
        SectionEvent::Flushed {
            asid,
            base,
            pages: n,
            control_area,
            durable,
        } => format!(
            "{}: flush of {base} ({}) on {control_area:?}{}",
            who(asid),
            pages(*n),
            if *durable {
                ": durable (the file is write-through)"
            } else {
                ": written to the file, not yet durable"
            }
        ),
        _ => return None,
    })
}

/// An object by the identity the other layers' sentences use.
fn object_words(target: &ObjectRef, names: &BTreeMap<u32, String>) -> String {
    match target {
        ObjectRef::Process(p) => format!(
            "process {}",
            names
                .get(&p.raw())
                .cloned()
                .unwrap_or_else(|| p.raw().to_string())
        ),
        ObjectRef::File(name) => format!("file {name}"),
        ObjectRef::Section(id) => format!("section object {id:?}"),
        ObjectRef::Event(id) => format!("event object #{id}"),
    }
}

/// The `why:` sentence of a failed call: the NTSTATUS, the Win32 error it became, the rule.
pub fn why_words(status: Option<NtStatus>, win32_error: u32, rule: Option<&str>) -> String {
    let error =
        ntmm_api::error_name(win32_error).map_or_else(|| win32_error.to_string(), str::to_string);
    let mut s = match status {
        Some(st) => format!(
            "{} → {error}",
            st.name()
                .map_or_else(|| format!("{:#x}", st.raw()), str::to_string)
        ),
        None => format!("{error} (decided by the Win32 layer, no NTSTATUS)"),
    };
    if let Some(rule) = rule {
        s.push_str(": ");
        s.push_str(rule);
    }
    s
}

/// The `why:` sentence of a failed native call: the NTSTATUS it returned (no last error is
/// set) and the rule.
pub fn native_why_words(status: NtStatus, rule: Option<&str>) -> String {
    let mut s = status
        .name()
        .map_or_else(|| format!("{:#010x}", status.raw()), str::to_string);
    s.push_str(" (returned; a native call sets no last error)");
    if let Some(rule) = rule {
        s.push_str(": ");
        s.push_str(rule);
    }
    s
}

fn explain_api(e: &ApiEvent, names: &BTreeMap<u32, String>) -> Option<String> {
    let who = |asid: &ntmm_vmm::AsId| {
        names
            .get(&asid.raw())
            .cloned()
            .unwrap_or_else(|| asid.raw().to_string())
    };
    Some(match e {
        ApiEvent::ProcessCreated {
            pid,
            parent,
            inherit,
        } => match parent {
            Some(p) if *inherit => format!(
                "process {} created by {}, inheriting its inheritable handles",
                who(pid),
                who(p)
            ),
            Some(p) => format!("process {} created by {}", who(pid), who(p)),
            None => format!("process {} created", who(pid)),
        },
        ApiEvent::ProcessExited { pid } => format!(
            "process {} exited: every view and private region of it is gone and every handle closed (§6.4)",
            who(pid)
        ),
        ApiEvent::HandleOpened {
            pid,
            handle,
            object_type,
            target,
            granted_access,
            inherit,
            ..
        } => format!(
            "{}: handle {:#x} opened to {} granting {}{}",
            who(pid),
            handle.0,
            object_words(target, names),
            ntmm_api::why::access_names(*object_type, *granted_access),
            if *inherit { " (inheritable)" } else { "" }
        ),
        ApiEvent::HandleClosed {
            pid,
            handle,
            target,
            last_handle,
            last_pointer,
            ..
        } => format!(
            "{}: handle {:#x} to {} closed{}",
            who(pid),
            handle.0,
            object_words(target, names),
            match (last_handle, last_pointer) {
                (true, true) => " (its last handle and last reference: the object goes)",
                (true, false) => " (its last handle; a reference remains)",
                _ => "",
            }
        ),
        ApiEvent::HandleDuplicated {
            pid,
            source_process,
            source,
            target_process,
            handle,
        } => {
            let source = if *source == ntmm_api::Handle::INVALID {
                format!("the pseudo handle of {}", who(source_process))
            } else {
                format!("handle {:#x} of {}", source.0, who(source_process))
            };
            format!(
                "{}: duplicated {source} as handle {:#x} in {}",
                who(pid),
                handle.0,
                who(target_process)
            )
        }
        ApiEvent::NameInserted { name, target, .. } => {
            format!("name {name} inserted for {}", object_words(target, names))
        }
        ApiEvent::NameExists {
            pid,
            name,
            target,
            opened,
            ..
        } => {
            let existing = object_words(target, names);
            if *opened {
                format!(
                    "{}: name {name} is taken by {existing}: the new one just built is dropped \
                     and {existing} opened instead (OBJ_OPENIF: STATUS_OBJECT_NAME_EXISTS, \
                     ERROR_ALREADY_EXISTS) (F31, §6.5)",
                    who(pid)
                )
            } else {
                format!(
                    "{}: name {name} is taken by {existing}: the object just built is dropped, \
                     and the create fails (§6.5)",
                    who(pid)
                )
            }
        }
        ApiEvent::NameRemoved { name, target, .. } => format!(
            "name {name} removed with the last handle of {} (§6.5)",
            object_words(target, names)
        ),
        ApiEvent::FileIo {
            pid,
            file,
            write,
            offset,
            bytes,
            write_through,
        } => format!(
            "{}: {} {} at offset {offset:#x} of file {file} {} the cache (the pages its views \
             share, §8){}",
            who(pid),
            if *write {
                "WriteFile wrote"
            } else {
                "ReadFile read"
            },
            if *bytes == 1 {
                "1 byte".to_string()
            } else {
                format!("{bytes} bytes")
            },
            if *write { "into" } else { "from" },
            if *write_through {
                "; write-through: on the disk before it returns"
            } else {
                ""
            }
        ),
        ApiEvent::CallFailed {
            status,
            win32_error,
            rule,
            ..
        } => format!("why: {}", why_words(*status, *win32_error, rule.as_deref())),
        ApiEvent::NativeCallFailed { status, rule, .. } => {
            format!("why: {}", native_why_words(*status, rule.as_deref()))
        }
    })
}

fn explain_vmm(e: &VmmEvent, names: &BTreeMap<u32, String>) -> Option<String> {
    // A process by its name, else by its id (crate::naming).
    let who = |asid: &ntmm_vmm::AsId| crate::naming::process_raw(names, *asid);
    Some(match e {
        VmmEvent::Placeholder {
            asid,
            base,
            pages,
            change,
        } => {
            let what = match change {
                ntmm_vmm::PlaceholderChange::Reserved => "reserved",
                ntmm_vmm::PlaceholderChange::Split => "split off",
                ntmm_vmm::PlaceholderChange::Coalesced => "coalesced",
                ntmm_vmm::PlaceholderChange::Replaced => "replaced",
                ntmm_vmm::PlaceholderChange::Restored => "restored (the view in it unmapped)",
            };
            format!(
                "{}: placeholder at {base} ({}) {what}",
                who(asid),
                crate::draw::pages(*pages)
            )
        }
        VmmEvent::FaultResolved { asid, va, outcome } => {
            let mut s = format!(
                "{}: {} at {va}{}: PTE {}",
                who(asid),
                fault_words(outcome.kind),
                fault_source(outcome.kind).map_or(String::new(), |w| format!(" ({w})")),
                pte_words(&outcome.pte_before)
            );
            if let Some(proto) = &outcome.proto_before {
                s.push_str(", prototype PTE ");
                s.push_str(proto_words(proto));
            }
            s.push_str(&format!(" → frame {:#x}", outcome.pfn.raw()));
            if let Some(from) = outcome.taken_from() {
                s.push_str(" from ");
                s.push_str(&list_words(from, true));
            }
            s
        }
        VmmEvent::Exception {
            asid,
            exception,
            pte,
            cause,
        } => format!(
            "{}: {exception}; why: {}",
            who(asid),
            exception_words(exception, pte, *cause)
        ),
        VmmEvent::SegmentCommitted {
            segment,
            first,
            pages: n,
            committed,
        } if *committed != 0 => format!(
            "prototype PTEs from {}: {} committed (zero → demand-zero), commit charge \
             +{committed}{} (§1.9, §2.4)",
            crate::naming::proto(ntmm_vmm::ProtoRef {
                segment: *segment,
                index: *first
            }),
            pages(*committed),
            if committed == n {
                String::new()
            } else {
                format!(" ({} of the {} were committed already)", n - committed, pages(*n))
            }
        ),
        VmmEvent::ProtectionChanged {
            asid,
            base,
            pages: n,
            old,
            new,
        } if old == new => format!(
            "{}: protection of {base} ({}) set to {new:?} again (§7.5)",
            who(asid),
            pages(*n)
        ),
        VmmEvent::ProtectionChanged {
            asid,
            base,
            pages: n,
            old,
            new,
        } => format!(
            "{}: protection of {base} ({}) changed from {old:?} to {new:?}; its PTEs carry the \
             new protection (§7.5)",
            who(asid),
            pages(*n)
        ),
        VmmEvent::PageTrimmed {
            asid,
            va,
            pfn,
            pte_after,
            ..
        } => format!(
            "{}: trimmed {va} from the working set (frame {:#x}); PTE now {}",
            who(asid),
            pfn.raw(),
            pte_words(pte_after)
        ),
        VmmEvent::FrameMoved {
            pfn,
            to: to @ (PageLocation::Standby | PageLocation::Modified),
            reason: MoveReason::LastReference,
            ..
        } => format!(
            "frame {:#x}: its last reference went (no working set, view or cached I/O holds it) → {}",
            pfn.raw(),
            list_words(*to, false)
        ),
        VmmEvent::FrameMoved {
            pfn,
            from,
            reason: MoveReason::Freed,
            ..
        } => format!(
            "frame {:#x} freed: no PTE refers to its page any more → the free list{}",
            pfn.raw(),
            match from {
                PageLocation::Modified | PageLocation::ModifiedNoWrite => {
                    " (it was on the modified list: its unwritten data is discarded)"
                }
                PageLocation::Standby => " (it was on the standby list)",
                _ => "",
            }
        ),
        VmmEvent::FrameMoved {
            pfn,
            to: PageLocation::Standby,
            reason: MoveReason::WriteCompleted,
            ..
        } => format!(
            "frame {:#x} written to its backing store → {}",
            pfn.raw(),
            list_words(PageLocation::Standby, false)
        ),
        VmmEvent::FrameMoved {
            pfn,
            to: PageLocation::Modified,
            reason: MoveReason::WriteCompleted,
            ..
        } => format!(
            "frame {:#x}: its write ended with the page modified again (or failed) → {}",
            pfn.raw(),
            list_words(PageLocation::Modified, false)
        ),
        VmmEvent::FrameRepurposed { pfn, original, .. } => format!(
            "frame {:#x} repurposed (§4.7): the PTE that named it now points at {}",
            pfn.raw(),
            original_words(*original)
        ),
        VmmEvent::WriterRan {
            writer,
            trigger,
            pages_written,
            ..
        } if *pages_written != 0 => {
            let which = match writer {
                Writer::ModifiedPageWriter => "modified page writer",
                Writer::MappedPageWriter => "mapped page writer",
            };
            format!(
                "{which}: {} written ({})",
                pages(*pages_written),
                trigger_words(*trigger)
            )
        }
        VmmEvent::SegmentFlushed { written, .. } if *written != 0 => {
            format!("flush: {} written", pages(*written))
        }
        VmmEvent::FailureInjected {
            store,
            op,
            page,
            status,
        } => {
            let op = op_words(*op);
            format!("injected I/O fault: the {op} of page {page} of {store} failed with {status}")
        }
        _ => return None,
    })
}

fn explain_section(e: &SectionEvent, names: &BTreeMap<u32, String>) -> Option<String> {
    let who = |asid: &ntmm_vmm::AsId| crate::naming::process_raw(names, *asid);
    Some(match e {
        SectionEvent::ViewMapped {
            asid,
            section,
            base,
            pages,
            protection,
            ..
        } => format!(
            "{}: view of {section:?} mapped at {base} ({}, {protection:?})",
            who(asid),
            crate::draw::pages(*pages)
        ),
        SectionEvent::ViewUnmapped { asid, base, .. } => format!(
            "{}: view at {base} unmapped (dirty bits captured, nothing written)",
            who(asid)
        ),
        SectionEvent::SectionCreated {
            section,
            control_area,
            size,
            ..
        } => format!("section object {section:?} created on {control_area:?} ({size} bytes)"),
        SectionEvent::SectionDeleted {
            section,
            control_area,
            ..
        } => format!("section object {section:?} deleted (it referred to {control_area:?})"),
        SectionEvent::ControlAreaDeleted {
            control_area,
            file: false,
        } => format!("{control_area:?} pagefile-backed control area deleted"),
        SectionEvent::ControlAreaDeleted {
            control_area,
            file: true,
        } => format!("{control_area:?} file control area deleted"),
        SectionEvent::ImageControlAreaDeleted { control_area } => format!(
            "{control_area:?} image control area deleted (its file's ImageSectionObject is \
             cleared; pages it wrote to the pagefile are gone)"
        ),
        SectionEvent::ControlAreaParked { control_area } => {
            format!("{control_area:?} file control area parked on the unused-segment list")
        }
        SectionEvent::ControlAreaRevived { control_area } => {
            format!("{control_area:?} parked control area revived")
        }
        SectionEvent::ControlAreaCreated {
            control_area,
            segment,
            stream,
        } => match stream {
            None => format!("{control_area:?} created over {segment:?} (pagefile-backed)"),
            Some(f) => format!("{control_area:?} created over {segment:?} for {f:?}"),
        },
        SectionEvent::ControlAreaCounts {
            control_area,
            change,
            before,
            after,
        } => {
            use ntmm_api::section::CountChange;
            let n =
                |v: u32, one: &str, many: &str| format!("{v} {}", if v == 1 { one } else { many });
            format!(
                "{control_area:?} counts: {}, {}, {} (were {}, {}, {}): {} (§6.1)",
                n(
                    after.section_references,
                    "section reference",
                    "section references"
                ),
                n(after.mapped_views, "mapped view", "mapped views"),
                n(after.user_references, "user reference", "user references"),
                before.section_references,
                before.mapped_views,
                before.user_references,
                match change {
                    CountChange::UserSectionAdded => "a section object was created on it",
                    CountChange::UserSectionRemoved => "a section object on it was deleted",
                    CountChange::CacheSectionAdded => {
                        "the cache manager took a section reference (file I/O through the cache)"
                    }
                    CountChange::CacheSectionRemoved => "the cache manager dropped its reference",
                    CountChange::ViewMapped => "a view was mapped",
                    CountChange::ViewUnmapped => "a view was unmapped",
                }
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntmm_vmm::{AsId, FaultOutcome, Pfn, Protection, Va};

    #[test]
    fn test_fault_explanation_reads_like_a_sentence() {
        let outcome = FaultOutcome {
            kind: FaultKind::DemandZero,
            pfn: Pfn::new(31),
            from_list: Some(PageLocation::Zeroed),
            pte_before: Pte::Zero,
            pte_after: Pte::Zero,
            proto_before: Some(ProtoPte::DemandZero {
                protection: Protection::READWRITE,
            }),
            proto_after: None,
        };
        let e = Event::Vmm(VmmEvent::FaultResolved {
            asid: AsId::new(1),
            va: Va::new(0x10010),
            outcome,
        });
        let names = BTreeMap::from([(1, "A".to_string())]);
        assert_eq!(
            explain(&e, &names).unwrap(),
            "A: demand-zero fault at 0x10010: PTE empty, prototype PTE demand-zero → frame 0x1f from the zeroed list"
        );
    }

    /// Handles are told with the process names, the object as the section layer names it,
    /// and the granted access by name; a duplicate names both processes.
    #[test]
    fn test_handle_sentences_name_processes_objects_and_access() {
        use ntmm_api::{Handle, ObjectType};
        let names = BTreeMap::from([(1, "A".to_string()), (2, "B".to_string())]);
        let opened = Event::Api(ApiEvent::HandleOpened {
            pid: AsId::new(2),
            handle: Handle(0x8),
            object: 7,
            object_type: ObjectType::Process,
            target: ObjectRef::Process(AsId::new(1)),
            granted_access: ntmm_api::PROCESS_VM_READ | ntmm_api::PROCESS_VM_OPERATION,
            inherit: true,
        });
        assert_eq!(
            explain(&opened, &names).unwrap(),
            "B: handle 0x8 opened to process A granting PROCESS_VM_OPERATION|PROCESS_VM_READ \
             (inheritable)"
        );
        let duplicated = Event::Api(ApiEvent::HandleDuplicated {
            pid: AsId::new(1),
            source_process: AsId::new(1),
            source: Handle(0x4),
            target_process: AsId::new(2),
            handle: Handle(0x8),
        });
        assert_eq!(
            explain(&duplicated, &names).unwrap(),
            "A: duplicated handle 0x4 of A as handle 0x8 in B"
        );
    }
}
