//! The object manager: typed objects with handle and pointer counts, per-process handle tables,
//! and the named-object directory (nt_internals §6.1, §6.5).
//!
//! * Handle values are `(slot + 1) × 4`: multiples of 4, never 0. `INVALID_HANDLE_VALUE`
//!   (all ones) is the current-process pseudo handle where a process handle is expected.
//! * An object is deleted when its pointer count reaches 0; every handle holds one pointer.
//! * A name disappears when the object's handle count reaches 0, even while views of it remain
//!   (§6.5); a later create with the same name makes a new object.
//! * Names are case-sensitive. `Local\X` and an unprefixed `X` name the same object in the
//!   caller's session (`\Sessions\N\BaseNamedObjects`, or `\BaseNamedObjects` in session 0);
//!   `Global\X` lives in `\BaseNamedObjects` (crate::sessions). Only those two prefixes are
//!   understood; a further `\` in a name is `STATUS_OBJECT_PATH_NOT_FOUND`.

use crate::access::ObjectType;
use crate::event::ApiEvent;
use ntmm_section::{SectionId, StreamId};
use ntmm_vmm::{AsId, NtStatus};
use slab::Slab;
use std::collections::BTreeMap;
use std::fmt;

/// A handle value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Handle(pub u64);

impl Handle {
    /// `NULL`.
    pub const NULL: Handle = Handle(0);
    /// `INVALID_HANDLE_VALUE`, also the current-process pseudo handle.
    pub const INVALID: Handle = Handle(u64::MAX);
    /// The raw value.
    pub const fn raw(self) -> u64 {
        self.0
    }
    fn slot(self) -> Option<usize> {
        (self.0 != 0 && self.0 % 4 == 0)
            .then(|| usize::try_from(self.0 / 4 - 1).ok())
            .flatten()
    }
    fn from_slot(slot: usize) -> Handle {
        Handle((slot as u64 + 1) * 4)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h:{:#x}", self.0)
    }
}

/// An object's identity in the object manager.
pub type ObjectId = u64;

/// An open file (a file object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileObject {
    pub(crate) stream: StreamId,
    pub(crate) key: String,
    pub(crate) access: u32,
    pub(crate) share: u32,
    pub(crate) position: u64,
    /// Opened with `FILE_FLAG_WRITE_THROUGH` (`FO_WRITE_THROUGH`): writes through it, and
    /// flushes of views of sections created from it, are durable before they return.
    pub(crate) write_through: bool,
}

/// A section object as the object manager holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionObject {
    pub(crate) id: SectionId,
    pub(crate) stream: Option<StreamId>,
    pub(crate) writable: bool,
}

/// An event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventObject {
    pub(crate) manual_reset: bool,
    pub(crate) signaled: bool,
}

/// What an object is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A process.
    Process(AsId),
    /// An open file.
    File(FileObject),
    /// A section.
    Section(SectionObject),
    /// An event.
    Event(EventObject),
}

impl Body {
    /// The object type.
    pub fn kind(&self) -> ObjectType {
        match self {
            Body::Process(_) => ObjectType::Process,
            Body::File(_) => ObjectType::File,
            Body::Section(_) => ObjectType::Section,
            Body::Event(_) => ObjectType::Event,
        }
    }
}

/// An object with its header counts.
///
/// # Invariants
/// `handles` = handle-table entries naming it; `pointers` ≥ `handles` (+1 for a live process);
/// a named object is in the directory iff `handles > 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub(crate) body: Body,
    pub(crate) handles: u32,
    pub(crate) pointers: u32,
    pub(crate) name: Option<String>,
}

/// One handle-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandleEntry {
    pub(crate) object: ObjectId,
    pub(crate) access: u32,
    pub(crate) inherit: bool,
}

/// A process as the object manager sees it.
#[derive(Debug)]
pub struct ProcessState {
    pub(crate) object: ObjectId,
    pub(crate) handles: Slab<HandleEntry>,
    pub(crate) last_error: u32,
    /// How many times the last error was set (an inspection aid: Windows keeps no such count).
    pub(crate) last_error_writes: u64,
}

/// A file in the volume's directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub(crate) stream: StreamId,
    pub(crate) delete_pending: bool,
    /// The name as the scenario spelled it when the file was made or found (case kept).
    pub(crate) name: String,
    /// On a host volume, the file's components as spelled in the host directory.
    pub(crate) host: Option<crate::volume::HostName>,
}

/// The object manager's state.
#[derive(Debug, Default)]
pub struct ObjectManager {
    pub(crate) objects: BTreeMap<ObjectId, Object>,
    pub(crate) processes: BTreeMap<AsId, ProcessState>,
    pub(crate) names: BTreeMap<String, ObjectId>,
    pub(crate) files: BTreeMap<String, DirectoryEntry>,
    /// Tokens of processes created with one other than the default (crate::sessions).
    pub(crate) tokens: BTreeMap<AsId, crate::sessions::Token>,
    next_object: ObjectId,
    /// The system's event stream: the table operations below emit handle and name events.
    events: crate::event::Events,
}

/// The longest name in characters (F37: 65532 bytes of UTF-16 accepted, 65534 refused).
pub const MAX_NAME_CHARS: usize = 32766;

/// Turns a Win32 object name, as a process of session 1 gives it, into its directory path;
/// `None` for no name ([`crate::sessions::win32_object_path`] for any session).
pub fn object_path(name: Option<&str>) -> Result<Option<String>, NtStatus> {
    crate::sessions::win32_object_path(1, name)
}

impl ObjectManager {
    /// An empty object manager emitting to `events`.
    pub(crate) fn with_events(events: crate::event::Events) -> Self {
        ObjectManager {
            events,
            ..ObjectManager::default()
        }
    }

    fn emit(&self, event: ApiEvent) {
        crate::event::emit(&self.events, event);
    }

    /// `ReadFile`/`WriteFile` moved `bytes` at `offset` through file object `f`'s cache.
    pub(crate) fn file_io(&self, pid: AsId, f: &FileObject, write: bool, offset: u64, bytes: u64) {
        let file = self
            .files
            .get(&f.key)
            .map_or_else(|| f.key.clone(), |d| d.name.clone());
        self.emit(ApiEvent::FileIo {
            pid,
            file,
            write,
            offset,
            bytes,
            write_through: f.write_through,
        });
    }

    /// What object `id` is, for its events.
    fn object_ref(&self, id: ObjectId) -> crate::event::ObjectRef {
        use crate::event::ObjectRef;
        match self.objects.get(&id).map(|o| &o.body) {
            Some(Body::Process(p)) => ObjectRef::Process(*p),
            Some(Body::File(f)) => ObjectRef::File(
                self.files
                    .get(&f.key)
                    .map_or_else(|| f.key.clone(), |d| d.name.clone()),
            ),
            Some(Body::Section(s)) => ObjectRef::Section(s.id),
            Some(Body::Event(_)) | None => ObjectRef::Event(id),
        }
    }

    /// Emits a handle added to `pid`'s table.
    fn handle_opened(&self, pid: AsId, handle: Handle, e: &HandleEntry) {
        let Some(o) = self.objects.get(&e.object) else {
            return;
        };
        self.emit(ApiEvent::HandleOpened {
            pid,
            handle,
            object: e.object,
            object_type: o.body.kind(),
            target: self.object_ref(e.object),
            granted_access: e.access,
            inherit: e.inherit,
        });
    }

    /// A process was created (its state inserted): emits it, then each handle it inherited.
    pub(crate) fn process_created(&self, pid: AsId, parent: Option<AsId>, inherit: bool) {
        self.emit(ApiEvent::ProcessCreated {
            pid,
            parent,
            inherit,
        });
        if let Some(p) = self.processes.get(&pid) {
            for (slot, e) in &p.handles {
                self.handle_opened(pid, Handle::from_slot(slot), e);
            }
        }
    }

    /// A handle was duplicated (its `HandleOpened` was emitted by `insert_handle`).
    pub(crate) fn handle_duplicated(
        &self,
        pid: AsId,
        source_process: AsId,
        source: Handle,
        target_process: AsId,
        handle: Handle,
    ) {
        self.emit(ApiEvent::HandleDuplicated {
            pid,
            source_process,
            source,
            target_process,
            handle,
        });
    }

    /// The token of process `pid` (the default one unless it was created with another).
    pub(crate) fn token(&self, pid: AsId) -> crate::sessions::Token {
        self.tokens.get(&pid).copied().unwrap_or_default()
    }

    /// Adds an object with no handles and `pointers` pointer references.
    pub(crate) fn add_object(&mut self, body: Body, pointers: u32) -> ObjectId {
        self.next_object += 1;
        let id = self.next_object;
        self.objects.insert(
            id,
            Object {
                body,
                handles: 0,
                pointers,
                name: None,
            },
        );
        id
    }

    /// Tells that a create by `pid` found `path` held by `id` (`ApiEvent::NameExists`).
    pub(crate) fn name_exists(&self, pid: AsId, path: &str, id: ObjectId, opened: bool) {
        self.emit(ApiEvent::NameExists {
            pid,
            name: path.to_string(),
            object: id,
            target: self.object_ref(id),
            opened,
        });
    }

    /// Names an object (it must have no name yet and the name must be free).
    pub(crate) fn set_name(&mut self, id: ObjectId, path: String) {
        if let Some(o) = self.objects.get_mut(&id) {
            o.name = Some(path.clone());
            self.names.insert(path.clone(), id);
            self.emit(ApiEvent::NameInserted {
                name: path,
                object: id,
                target: self.object_ref(id),
            });
        }
    }

    /// Adds a handle to `object` in `pid`'s table.
    pub(crate) fn insert_handle(
        &mut self,
        pid: AsId,
        object: ObjectId,
        access: u32,
        inherit: bool,
    ) -> Result<Handle, NtStatus> {
        let p = self
            .processes
            .get_mut(&pid)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        let entry = HandleEntry {
            object,
            access,
            inherit,
        };
        let slot = p.handles.insert(entry);
        if let Some(o) = self.objects.get_mut(&object) {
            o.handles += 1;
            o.pointers += 1;
        }
        let handle = Handle::from_slot(slot);
        self.handle_opened(pid, handle, &entry);
        Ok(handle)
    }

    /// The entry of a handle.
    pub(crate) fn entry(&self, pid: AsId, h: Handle) -> Result<HandleEntry, NtStatus> {
        let p = self
            .processes
            .get(&pid)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        h.slot()
            .and_then(|s| p.handles.get(s))
            .copied()
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)
    }

    /// The entry and object of a handle that must be of type `kind`.
    pub(crate) fn typed(
        &self,
        pid: AsId,
        h: Handle,
        kind: ObjectType,
    ) -> Result<(HandleEntry, &Object), NtStatus> {
        if h == Handle::INVALID && kind != ObjectType::Process {
            return Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH); // F65
        }
        let e = self.entry(pid, h)?;
        let o = self
            .objects
            .get(&e.object)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        if o.body.kind() != kind {
            return Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH);
        }
        Ok((e, o))
    }

    /// Resolves a process handle (the pseudo handle is the caller).
    pub(crate) fn process_of(&self, pid: AsId, h: Handle) -> Result<AsId, NtStatus> {
        self.process_with_access(pid, h, 0)
    }

    /// Resolves a process handle that must grant every right in `need`, in the order NT
    /// checks (`ObReferenceObjectByHandle`, then the memory manager): a bad handle is
    /// `STATUS_INVALID_HANDLE`, another type `STATUS_OBJECT_TYPE_MISMATCH`, a missing right
    /// `STATUS_ACCESS_DENIED`, and a process that has exited — its handle stays valid —
    /// `STATUS_PROCESS_IS_TERMINATING` (its address space is gone). The current-process pseudo
    /// handle grants `PROCESS_ALL_ACCESS`.
    pub(crate) fn process_with_access(
        &self,
        pid: AsId,
        h: Handle,
        need: u32,
    ) -> Result<AsId, NtStatus> {
        if h == Handle::INVALID {
            return self
                .processes
                .contains_key(&pid)
                .then_some(pid)
                .ok_or(NtStatus::STATUS_INVALID_HANDLE);
        }
        let (e, o) = self.typed(pid, h, ObjectType::Process)?;
        if e.access & need != need {
            return Err(NtStatus::STATUS_ACCESS_DENIED);
        }
        match o.body {
            Body::Process(target) if self.processes.contains_key(&target) => Ok(target),
            Body::Process(_) => Err(NtStatus::STATUS_PROCESS_IS_TERMINATING),
            _ => Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH),
        }
    }

    /// Removes a handle; returns the object whose counts dropped, and whether its pointer
    /// count reached 0 (then the caller deletes the body) and whether its last handle went.
    pub(crate) fn remove_handle(
        &mut self,
        pid: AsId,
        h: Handle,
    ) -> Result<(ObjectId, bool, bool), NtStatus> {
        let p = self
            .processes
            .get_mut(&pid)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        let slot = h
            .slot()
            .filter(|s| p.handles.contains(*s))
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        let e = p.handles.remove(slot);
        let o = self
            .objects
            .get_mut(&e.object)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        o.handles -= 1;
        let last_handle = o.handles == 0;
        let name = if last_handle { o.name.take() } else { None };
        let target = self.object_ref(e.object);
        if let Some(name) = &name {
            self.names.remove(name);
        }
        let last_pointer = self.drop_pointer(e.object);
        // Told in NT's order: the handle closes, and with the object's last handle its name
        // leaves the directory (§6.5: the name goes with the last handle, not with the object).
        self.emit(ApiEvent::HandleClosed {
            pid,
            handle: h,
            object: e.object,
            target: target.clone(),
            last_handle,
            last_pointer,
        });
        if let Some(name) = name {
            self.emit(ApiEvent::NameRemoved {
                name,
                object: e.object,
                target,
            });
        }
        Ok((e.object, last_pointer, last_handle))
    }

    /// Drops one pointer reference; returns whether it was the last (the object is removed
    /// from the table and its body must be deleted by the caller).
    pub(crate) fn drop_pointer(&mut self, id: ObjectId) -> bool {
        let Some(o) = self.objects.get_mut(&id) else {
            return false;
        };
        o.pointers -= 1;
        o.pointers == 0
    }

    /// The live file objects (with open handles) of a stream, except `except`.
    pub(crate) fn open_files(
        &self,
        stream: StreamId,
        except: Option<ObjectId>,
    ) -> Vec<(ObjectId, FileObject)> {
        self.objects
            .iter()
            .filter(|(id, o)| Some(**id) != except && o.handles > 0)
            .filter_map(|(id, o)| match &o.body {
                Body::File(f) if f.stream == stream => Some((*id, f.clone())),
                _ => None,
            })
            .collect()
    }

    /// Checks the object manager's own rules; returns a description of the first violation.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut handles: BTreeMap<ObjectId, u32> = BTreeMap::new();
        for (pid, p) in &self.processes {
            for (slot, e) in &p.handles {
                if !self.objects.contains_key(&e.object) {
                    return Err(format!("{pid:?} slot {slot} names a deleted object"));
                }
                *handles.entry(e.object).or_default() += 1;
            }
            if !self.objects.contains_key(&p.object) {
                return Err(format!("{pid:?} has no process object"));
            }
        }
        for (id, o) in &self.objects {
            let h = handles.get(id).copied().unwrap_or(0);
            if o.handles != h {
                return Err(format!(
                    "object {id}: handle count {} but {h} handles",
                    o.handles
                ));
            }
            let live_process =
                matches!(o.body, Body::Process(p) if self.processes.contains_key(&p)) as u32;
            if o.pointers < h + live_process || o.pointers == 0 {
                return Err(format!(
                    "object {id}: pointer count {} below {h} handles + {live_process}",
                    o.pointers
                ));
            }
            match &o.name {
                Some(n) if self.names.get(n) != Some(id) => {
                    return Err(format!("object {id}: name {n} not in the directory"))
                }
                Some(_) if o.handles == 0 => {
                    return Err(format!("object {id}: named with no handles"))
                }
                _ => {}
            }
        }
        for (n, id) in &self.names {
            if self.objects.get(id).and_then(|o| o.name.as_ref()) != Some(n) {
                return Err(format!("directory name {n} is stale"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_handle_values_are_multiples_of_four_never_zero() {
        assert_eq!(Handle::from_slot(0), Handle(4));
        assert_eq!(Handle::from_slot(9), Handle(40));
        assert_eq!(Handle(0).slot(), None);
        assert_eq!(Handle(6).slot(), None);
        assert_eq!(Handle(8).slot(), Some(1));
    }

    #[test]
    fn test_f36_f37_name_paths() {
        let s = |n| object_path(Some(n)).unwrap().unwrap();
        assert_eq!(
            s("Foo"),
            s("Local\\Foo"),
            "Local\\ and unprefixed share the session namespace"
        );
        assert_ne!(s("Foo"), s("Global\\Foo"));
        assert_ne!(s("Foo"), s("foo"), "case-sensitive");
        assert_eq!(object_path(None), Ok(None));
        assert_eq!(object_path(Some("")), Ok(None));
        assert_eq!(
            object_path(Some("Local\\")),
            Err(NtStatus::STATUS_OBJECT_NAME_INVALID)
        );
        assert_eq!(
            object_path(Some("Local\\a\\b")),
            Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND)
        );
        assert!(object_path(Some(&"x".repeat(32766))).is_ok());
        assert_eq!(
            object_path(Some(&"x".repeat(32767))),
            Err(NtStatus::STATUS_OBJECT_NAME_INVALID)
        );
    }
}
