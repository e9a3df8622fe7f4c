//! The system's one typed event stream: the object manager's events
//! ([`ApiEvent`](crate::event::ApiEvent)) and, forwarded into the same stream in emission order,
//! the section layer's ([`SectionEvent`](ntmm_section::SectionEvent)) and the machine's
//! ([`VmmEvent`](ntmm_vmm::VmmEvent)). [`System::subscribe`](crate::System::subscribe) adds a subscriber;
//! the system owns the list (a power loss carries it over to the restarted machine).
//!
//! Delivery is synchronous, on the emitting thread, while the emitting layer's lock is held: a
//! subscriber must only record the event, never call into the system (see
//! [`ntmm_vmm::event`]). Each kind of [`ApiEvent`] is emitted from one place: handles and names
//! from the object manager's table operations (object.rs), processes from
//! `create_process`/`exit_process`, failures from the one Win32 error path (`System::win32`).

use crate::access::ObjectType;
use crate::object::{Handle, ObjectId};
use ntmm_section::SectionEvent;
use ntmm_vmm::{AsId, NtStatus, Traced, VmmEvent};

/// What an object is, for a reader: the identity the other layers' events use (a section's
/// `section#N`, a process's id, a file's name), so a handle's trace names the same object
/// as the section's creation does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectRef {
    /// A process object: the process.
    Process(AsId),
    /// A file object: the file's name on the volume.
    File(String),
    /// A section object: the section layer's section.
    Section(ntmm_section::SectionId),
    /// An event object (the object manager's id).
    Event(ObjectId),
}

/// One event of the object manager and the Win32 layer.
#[derive(Clone, Debug, PartialEq, Eq, strum::EnumDiscriminants)]
#[strum_discriminants(
    name(ApiEventKind),
    derive(strum::EnumIter, Hash, PartialOrd, Ord),
    doc = "The kinds of [`ApiEvent`], one per variant (`ApiEventKind::iter()` lists them all)."
)]
pub enum ApiEvent {
    /// A process was created.
    ProcessCreated {
        /// The new process.
        pid: AsId,
        /// Its parent, if any.
        parent: Option<AsId>,
        /// Whether it inherited its parent's inheritable handles.
        inherit: bool,
    },
    /// A process exited: its views unmapped, its handles closed.
    ProcessExited {
        /// The process.
        pid: AsId,
    },
    /// A handle was added to a process's table (a create, an open, a duplicate, an
    /// inheritance).
    HandleOpened {
        /// The process whose table holds it.
        pid: AsId,
        /// The handle.
        handle: Handle,
        /// The object.
        object: ObjectId,
        /// The object's type.
        object_type: ObjectType,
        /// What the object is.
        target: ObjectRef,
        /// The access it grants.
        granted_access: u32,
        /// Whether child processes inherit it.
        inherit: bool,
    },
    /// A handle was closed.
    HandleClosed {
        /// The process whose table held it.
        pid: AsId,
        /// The handle.
        handle: Handle,
        /// The object.
        object: ObjectId,
        /// What the object is.
        target: ObjectRef,
        /// Whether it was the object's last handle.
        last_handle: bool,
        /// Whether it held the object's last pointer (the object is deleted).
        last_pointer: bool,
    },
    /// A handle was duplicated (`DuplicateHandle`, `NtDuplicateObject`); the new handle's
    /// [`ApiEvent::HandleOpened`] precedes it.
    HandleDuplicated {
        /// The calling process.
        pid: AsId,
        /// The source process.
        source_process: AsId,
        /// The source handle (`INVALID`: the source process itself).
        source: Handle,
        /// The target process.
        target_process: AsId,
        /// The new handle.
        handle: Handle,
    },
    /// A name was inserted in the object directory.
    NameInserted {
        /// The directory path.
        name: String,
        /// The object.
        object: ObjectId,
        /// What the object is.
        target: ObjectRef,
    },
    /// A create found its name taken (`ObInsertObject`, §6.5): the object it had just built is
    /// dropped, and with `OBJ_OPENIF` (kernel32's creates) the existing object is opened
    /// instead (`STATUS_OBJECT_NAME_EXISTS`, `ERROR_ALREADY_EXISTS`, F31); without it, or when
    /// the existing object is of another type, the create fails.
    NameExists {
        /// The creating process.
        pid: AsId,
        /// The directory path.
        name: String,
        /// The object that holds the name.
        object: ObjectId,
        /// What that object is.
        target: ObjectRef,
        /// Whether the existing object is opened (`OBJ_OPENIF` and the same type).
        opened: bool,
    },
    /// A name left the object directory (with the object's last handle, §6.5).
    NameRemoved {
        /// The directory path.
        name: String,
        /// The object.
        object: ObjectId,
        /// What the object is.
        target: ObjectRef,
    },
    /// `ReadFile` or `WriteFile` moved bytes through the file's cache: the pages of its data
    /// control area, which its views share (§8, F108).
    FileIo {
        /// The calling process.
        pid: AsId,
        /// The file's name on the volume.
        file: String,
        /// `WriteFile` (else `ReadFile`).
        write: bool,
        /// The file offset of the first byte.
        offset: u64,
        /// How many bytes moved.
        bytes: u64,
        /// Through a `FILE_FLAG_WRITE_THROUGH` handle: durable on return.
        write_through: bool,
    },
    /// A Win32 call failed: the last error it set, the NTSTATUS behind it, and the rule that
    /// failed as far as the failing layer names it.
    CallFailed {
        /// The calling process.
        pid: AsId,
        /// The NTSTATUS of the failure (`None` for a failure the Win32 layer decides alone,
        /// with no native call behind it).
        status: Option<NtStatus>,
        /// The Win32 error set as the last error.
        win32_error: u32,
        /// The rule that failed, in one sentence with its reference (`F<n>` in the facts,
        /// `§<n>` in the internals), as the failing check states it (`None` when only the
        /// status is known).
        rule: Option<String>,
    },
    /// A native call (`Nt…`) called by the program itself failed: the NTSTATUS it returned
    /// and the rule that failed. It sets no last error (native calls do not). A native call
    /// made by a Win32 function on the program's behalf emits nothing of its own: its status
    /// and rule reach the Win32 function's [`ApiEvent::CallFailed`].
    NativeCallFailed {
        /// The calling process.
        pid: AsId,
        /// The NTSTATUS returned (an error or a warning: its severity bits are set).
        status: NtStatus,
        /// The rule that failed, in one sentence with its reference (`None` when only the
        /// status is known).
        rule: Option<String>,
    },
}

impl ApiEvent {
    /// The event's kind.
    pub fn kind(&self) -> ApiEventKind {
        ApiEventKind::from(self)
    }
}

impl Traced for ApiEvent {
    fn trace(&self) {
        use tracing::debug;
        match self {
            ApiEvent::ProcessCreated {
                pid,
                parent,
                inherit,
            } => debug!(?pid, ?parent, inherit, "process created"),
            ApiEvent::ProcessExited { pid } => debug!(?pid, "process exited"),
            ApiEvent::HandleOpened {
                pid,
                handle,
                object,
                object_type,
                granted_access,
                inherit,
                ..
            } => debug!(
                ?pid,
                ?handle,
                object,
                ?object_type,
                granted_access,
                inherit,
                "handle opened"
            ),
            ApiEvent::HandleClosed {
                pid,
                handle,
                object,
                last_handle,
                last_pointer,
                ..
            } => debug!(
                ?pid,
                ?handle,
                object,
                last_handle,
                last_pointer,
                "handle closed"
            ),
            ApiEvent::HandleDuplicated {
                pid,
                source_process,
                source,
                target_process,
                handle,
            } => debug!(
                ?pid,
                ?source_process,
                ?source,
                ?target_process,
                ?handle,
                "handle duplicated"
            ),
            ApiEvent::NameInserted { name, object, .. } => debug!(%name, object, "name inserted"),
            ApiEvent::NameRemoved { name, object, .. } => debug!(%name, object, "name removed"),
            ApiEvent::NameExists {
                pid,
                name,
                object,
                opened,
                ..
            } => debug!(?pid, %name, object, opened, "name exists"),
            ApiEvent::FileIo {
                pid,
                file,
                write,
                offset,
                bytes,
                write_through,
            } => debug!(
                ?pid,
                %file,
                write,
                offset,
                bytes,
                write_through,
                "file I/O through the cache"
            ),
            ApiEvent::CallFailed {
                pid,
                status,
                win32_error,
                rule,
            } => debug!(?pid, ?status, win32_error, ?rule, "call failed"),
            ApiEvent::NativeCallFailed { pid, status, rule } => {
                debug!(?pid, ?status, ?rule, "native call failed")
            }
        }
    }
}

/// An event of any layer, in the one stream a [`System`](crate::System) delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The machine's.
    Vmm(VmmEvent),
    /// The section layer's.
    Section(SectionEvent),
    /// The object manager's and the Win32 layer's.
    Api(ApiEvent),
}

impl Traced for Event {
    fn trace(&self) {
        match self {
            Event::Vmm(e) => e.trace(),
            Event::Section(e) => e.trace(),
            Event::Api(e) => e.trace(),
        }
    }
}

/// The system's subscribers.
pub(crate) type Events = ntmm_vmm::Subscribers<Event>;

/// The system's subscribers, and whether the lower layers' events are forwarded to them yet:
/// the forwarders are registered with the first subscriber, so a system nobody observes pays
/// nothing for the machine's events.
#[derive(Debug, Default)]
pub(crate) struct SystemEvents {
    pub(crate) list: Events,
    forwarding: std::sync::OnceLock<()>,
}

/// Emits an object-manager event into the system's stream.
pub(crate) fn emit(events: &Events, event: ApiEvent) {
    events.emit(Event::Api(event));
}

/// Forwards the machine's and the section layer's events into the system's stream.
fn forward(events: &Events, ex: &ntmm_section::Executive) {
    let to = events.clone();
    ex.vmm().subscribe(std::sync::Arc::new(move |e: &VmmEvent| {
        to.deliver(&Event::Vmm(e.clone()));
    }));
    let to = events.clone();
    ex.subscribe(std::sync::Arc::new(move |e: &SectionEvent| {
        to.deliver(&Event::Section(e.clone()));
    }));
}

impl crate::System {
    /// Subscribes to the system's event stream ([`Event`]: the machine's, the section layer's
    /// and the object manager's events, in the order they happen). `subscriber` is called
    /// synchronously with each while a layer's lock is held: it must only record the event,
    /// never call into the system. It stays subscribed across a power loss
    /// ([`System::crash`](crate::System::crash) carries it to the restarted machine).
    pub fn subscribe(&self, subscriber: ntmm_vmm::Subscriber<Event>) {
        self.events
            .forwarding
            .get_or_init(|| forward(&self.events.list, &self.ex));
        self.events.list.subscribe(subscriber);
    }

    /// The Win32 error path's event: the call of `pid` failed with `fail`, reported as `error`.
    pub(crate) fn call_failed(
        &self,
        pid: AsId,
        fail: &crate::system::Fail,
        error: crate::Win32Error,
    ) {
        emit(
            &self.events.list,
            ApiEvent::CallFailed {
                pid,
                status: fail.native_status(),
                win32_error: error.0,
                rule: fail.rule(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Handle, System, SystemConfig, FILE_MAP_WRITE, PAGE_READWRITE};
    use std::sync::{Arc, Mutex};

    fn recorded(sys: &System) -> Arc<Mutex<Vec<Event>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&seen);
        sys.subscribe(Arc::new(move |e: &Event| {
            into.lock().unwrap().push(e.clone())
        }));
        seen
    }

    /// The three layers' events arrive in one stream, in the order they happen: the handle
    /// after the section it names, the view's fault after the view.
    #[test]
    fn test_one_stream_in_emission_order() {
        let sys = System::new(SystemConfig::default()).unwrap();
        let seen = recorded(&sys);
        let a = sys.create_process(None, false).unwrap();
        let h = sys
            .create_file_mapping(a, Handle::INVALID, false, PAGE_READWRITE, 0, 0x1000, None)
            .unwrap();
        let p = sys.map_view_of_file(a, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
        sys.write_memory(a, p, b"x").unwrap();
        let seen = seen.lock().unwrap();
        let pos = |f: &dyn Fn(&Event) -> bool| seen.iter().position(f).expect("emitted");
        let created =
            pos(&|e| matches!(e, Event::Api(ApiEvent::ProcessCreated { pid, .. }) if *pid == a));
        let space =
            pos(&|e| matches!(e, Event::Vmm(VmmEvent::AddressSpaceCreated { asid }) if *asid == a));
        let section = pos(&|e| matches!(e, Event::Section(SectionEvent::SectionCreated { .. })));
        let handle = pos(
            &|e| matches!(e, Event::Api(ApiEvent::HandleOpened { handle, .. }) if *handle == h),
        );
        let view = pos(
            &|e| matches!(e, Event::Section(SectionEvent::ViewMapped { base, .. }) if *base == p),
        );
        let fault =
            pos(&|e| matches!(e, Event::Vmm(VmmEvent::FaultResolved { va, .. }) if *va == p));
        assert!(
            space < created,
            "the address space exists before the process is reported"
        );
        assert!(section < handle && handle < view && view < fault);
    }

    /// A failed Win32 call is an event with its status, its Win32 error and the section
    /// layer's rule; subscribers survive a power loss.
    #[test]
    fn test_call_failed_names_the_rule_and_subscribers_survive_a_crash() {
        let sys = System::new(SystemConfig::default()).unwrap();
        let seen = recorded(&sys);
        let a = sys.create_process(None, false).unwrap();
        let h = sys
            .create_file_mapping(a, Handle::INVALID, false, PAGE_READWRITE, 0, 0x1000, None)
            .unwrap();
        // F54: a view offset that is not a multiple of the allocation granularity.
        let err = sys
            .map_view_of_file(a, h, FILE_MAP_WRITE, 0, 0x1000, 0)
            .unwrap_err();
        let failed = seen
            .lock()
            .unwrap()
            .iter()
            .find_map(|e| match e {
                Event::Api(ApiEvent::CallFailed {
                    status,
                    win32_error,
                    rule,
                    ..
                }) => Some((*status, *win32_error, rule.clone())),
                _ => None,
            })
            .expect("CallFailed emitted");
        assert_eq!(failed.1, err.0);
        assert_eq!(failed.0, Some(NtStatus::STATUS_MAPPED_ALIGNMENT));
        assert!(failed.2.is_some_and(|r| !r.is_empty()));
        let (sys, _) = sys.crash().unwrap();
        seen.lock().unwrap().clear();
        sys.create_process(None, false).unwrap();
        assert!(seen
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::Vmm(VmmEvent::AddressSpaceCreated { .. }))));
    }
}
