//! [`System`]: the emulated machine as programs see it — processes, handles, names, and the
//! native (`nt_*`, NTSTATUS) and Win32 (`Result<T, Win32Error>`, last error) functions.
//!
//! Lock order: the object manager, then the section layer, then the machine.

use crate::access::*;
use crate::object::*;
use crate::win32::*;
use ntmm_section::{Executive, SectionError};
use ntmm_vmm::{AsId, NtStatus, Va, VmmConfig, VmmError};
use parking_lot::Mutex;
use std::path::PathBuf;

/// Where files live.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Volume {
    /// In memory (the default; deterministic).
    #[default]
    Memory,
    /// Real files under a host directory.
    HostDirectory(PathBuf),
}

/// System configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemConfig {
    /// The machine.
    pub vmm: VmmConfig,
    /// The volume.
    pub volume: Volume,
}

/// `SYSTEM_INFO` (the fields the model fills).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemInfo {
    /// `dwPageSize` (F1).
    pub page_size: u32,
    /// `dwAllocationGranularity` (F1).
    pub allocation_granularity: u32,
    /// `lpMinimumApplicationAddress`.
    pub minimum_application_address: u64,
    /// `lpMaximumApplicationAddress`.
    pub maximum_application_address: u64,
    /// `dwNumberOfProcessors`.
    pub number_of_processors: u32,
}

/// Why a call failed, before translation to the caller's vocabulary.
#[derive(Debug)]
pub(crate) enum Fail {
    Status(NtStatus),
    Section(SectionError),
    Win32(u32),
    /// A status with the rule that failed, stated where the check is made (`why`).
    Rule(NtStatus, String),
    /// A Win32 error the Win32 layer decides alone, with its rule.
    Win32Rule(u32, String),
}

impl From<NtStatus> for Fail {
    fn from(s: NtStatus) -> Self {
        Fail::Status(s)
    }
}
impl From<SectionError> for Fail {
    fn from(e: SectionError) -> Self {
        Fail::Section(e)
    }
}
impl From<VmmError> for Fail {
    fn from(e: VmmError) -> Self {
        Fail::Section(SectionError::Vmm(e))
    }
}

impl Fail {
    pub(crate) fn status(&self) -> NtStatus {
        match self {
            Fail::Status(s) => *s,
            Fail::Section(e) => e.status(),
            Fail::Rule(s, _) => *s,
            Fail::Win32(_) | Fail::Win32Rule(..) => NtStatus::STATUS_INVALID_PARAMETER,
        }
    }
    pub(crate) fn win32(&self) -> Win32Error {
        Win32Error(match self {
            Fail::Status(s) => dos_error(*s),
            Fail::Section(e) => dos_error(e.status()),
            Fail::Rule(s, _) => dos_error(*s),
            Fail::Win32(c) | Fail::Win32Rule(c, _) => *c,
        })
    }
    /// The NTSTATUS behind the failure, `None` for one the Win32 layer decides alone.
    pub(crate) fn native_status(&self) -> Option<NtStatus> {
        match self {
            Fail::Win32(_) | Fail::Win32Rule(..) => None,
            other => Some(other.status()),
        }
    }
    /// The rule that failed, in one sentence with its reference (`why`).
    pub(crate) fn rule(&self) -> Option<String> {
        match self {
            Fail::Rule(_, r) | Fail::Win32Rule(_, r) => Some(r.clone()),
            Fail::Section(e) => Some(crate::why::section_rule(e)),
            Fail::Status(s) => crate::why::status_rule(*s).map(str::to_string),
            Fail::Win32(_) => None,
        }
    }
}

pub(crate) type R<T> = Result<T, Fail>;

/// The emulated system.
///
/// ```
/// use ntmm_api::*;
/// let sys = System::new(SystemConfig::default()).unwrap();
/// let a = sys.create_process(None, false).unwrap();
/// let h = sys.create_file_mapping(a, Handle::INVALID, false, PAGE_READWRITE, 0, 0x1000, Some("Local\\Demo")).unwrap();
/// assert_eq!(sys.get_last_error(a), ERROR_SUCCESS);
/// let p = sys.map_view_of_file(a, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
/// sys.write_memory(a, p, b"hi").unwrap();
/// let b = sys.create_process(None, false).unwrap();
/// let hb = sys.open_file_mapping(b, FILE_MAP_READ, false, "Foo").unwrap_err();
/// assert_eq!(hb, Win32Error(ERROR_FILE_NOT_FOUND));
/// let hb = sys.open_file_mapping(b, FILE_MAP_READ, false, "Demo").unwrap();
/// let q = sys.map_view_of_file(b, hb, FILE_MAP_READ, 0, 0, 0).unwrap();
/// assert_eq!(sys.read_memory(b, q, 2).unwrap(), b"hi");
/// sys.check_invariants().unwrap();
/// ```
#[derive(Debug)]
pub struct System {
    pub(crate) ex: Executive,
    pub(crate) om: Mutex<ObjectManager>,
    pub(crate) volume: Volume,
    /// The opened host directory of a `Volume::HostDirectory`.
    pub(crate) host: Option<crate::volume::HostVolume>,
    pub(crate) lifecycle: crate::shutdown::Lifecycle,
    /// The injected-fault plans of the pagefile and of every file (`io_faults`).
    pub(crate) faults: crate::io_faults::IoFaults,
    /// The next `GetTempFileName` number (`temp_files`).
    pub(crate) temp_counter: crate::temp_files::TempCounter,
    /// The subscribers of the system's event stream (`event`).
    pub(crate) events: crate::event::SystemEvents,
    /// The rule of the last native failure on each thread, for the Win32 wrapper that
    /// translates its status (`why`).
    pub(crate) native_rule: crate::why::NativeRule,
    /// The images `LoadLibrary` loaded, per process (`loader`).
    pub(crate) loader: crate::loader::Loader,
}

impl System {
    /// A system over a new machine.
    pub fn new(config: SystemConfig) -> Result<Self, Win32Error> {
        Self::with_pagefile_store(config, Box::new(ntmm_vmm::MemoryStore::new()))
    }

    /// A system whose pagefile lives in `pagefile` (for fault injection or a real pagefile).
    pub fn with_pagefile_store(
        config: SystemConfig,
        pagefile: Box<dyn ntmm_vmm::BackingStore>,
    ) -> Result<Self, Win32Error> {
        // Every pagefile I/O can be failed later (`fail read pagefile`, io_faults).
        let (faults, pagefile) = crate::io_faults::IoFaults::with_pagefile(pagefile);
        let vmm = ntmm_vmm::Vmm::with_pagefile_store(config.vmm, pagefile)
            .map_err(|e| Fail::from(e).win32())?;
        let host = crate::volume::open_volume(&config.volume)?;
        let events = crate::event::SystemEvents::default();
        Ok(System {
            ex: Executive::with_vmm(vmm),
            om: Mutex::new(ObjectManager::with_events(events.list.clone())),
            events,
            volume: config.volume,
            host,
            lifecycle: Default::default(),
            faults,
            temp_counter: Default::default(),
            native_rule: Default::default(),
            loader: Default::default(),
        })
    }

    /// The executive layer below (sections, control areas, the machine).
    pub fn executive(&self) -> &Executive {
        &self.ex
    }

    /// The last error of a successful create: `ERROR_ALREADY_EXISTS` if it opened an existing
    /// object (F31), else `ERROR_SUCCESS`.
    pub(crate) fn report_existing(&self, pid: AsId, existed: bool) {
        let code = if existed {
            ERROR_ALREADY_EXISTS
        } else {
            ERROR_SUCCESS
        };
        self.set_last_error(pid, code);
    }

    /// Records a Win32 result in the caller's last error: failures always set it.
    pub(crate) fn win32<T>(&self, pid: AsId, r: R<T>) -> Result<T, Win32Error> {
        r.map_err(|f| {
            let f = self.native_rule.attach(f);
            let e = f.win32();
            self.set_last_error(pid, e.0);
            self.call_failed(pid, &f, e);
            e
        })
    }

    /// A native result; a failure's rule is kept for a Win32 wrapper that translates the
    /// status (`why::NativeRule`).
    /// A failure the program's own native call returns is an [`ApiEvent::NativeCallFailed`]
    /// (crate::event::ApiEvent) with its rule.
    pub(crate) fn native<T>(&self, pid: AsId, r: R<T>) -> Result<T, NtStatus> {
        let rule = r.as_ref().err().and_then(Fail::rule);
        let out = self.native_rule.keep(r);
        if let Err(status) = &out {
            self.native_failed(pid, *status, rule);
        }
        out
    }

    /// Reports a status the program's own native call returns, when it is not a success
    /// (`NT_SUCCESS`): the rule is `rule`, else the one kept for that status on this thread,
    /// else the status's generic rule (`why::status_rule`). A native call made on the
    /// program's behalf (`why::OnBehalf`) reports nothing.
    pub(crate) fn native_failed(&self, pid: AsId, status: NtStatus, rule: Option<String>) {
        if status.is_success() || !crate::why::called_by_program() {
            return;
        }
        let rule = rule
            .or_else(|| self.native_rule.peek(status))
            .or_else(|| crate::why::status_rule(status).map(str::to_string));
        crate::event::emit(
            &self.events.list,
            crate::event::ApiEvent::NativeCallFailed { pid, status, rule },
        );
    }

    // ---- processes ------------------------------------------------------------------------

    /// Creates a process; with `inherit`, it receives the parent's inheritable handles at the
    /// same values.
    pub fn create_process(&self, parent: Option<AsId>, inherit: bool) -> Result<AsId, Win32Error> {
        let mut om = self.om.lock();
        let inherited: Vec<(usize, HandleEntry)> = match parent {
            Some(pp) => {
                let p = om
                    .processes
                    .get(&pp)
                    .ok_or(Win32Error(ERROR_INVALID_HANDLE))?;
                if inherit {
                    p.handles
                        .iter()
                        .filter(|(_, e)| e.inherit)
                        .map(|(k, e)| (k, *e))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        let pid = self.ex.create_process();
        self.lifecycle.running();
        let object = om.add_object(Body::Process(pid), 1);
        for (_, e) in &inherited {
            if let Some(o) = om.objects.get_mut(&e.object) {
                o.handles += 1;
                o.pointers += 1;
            }
        }
        om.processes.insert(
            pid,
            ProcessState {
                object,
                handles: inherited.into_iter().collect(),
                last_error: 0,
                last_error_writes: 0,
            },
        );
        om.process_created(pid, parent, inherit);
        Ok(pid)
    }

    /// Terminates a process: its views are unmapped and private memory released (§6.4), then its
    /// handles are closed.
    pub fn exit_process(&self, pid: AsId) -> Result<(), Win32Error> {
        let mut om = self.om.lock();
        if !om.processes.contains_key(&pid) {
            return Err(Win32Error(ERROR_INVALID_HANDLE));
        }
        self.ex
            .terminate_process(pid)
            .map_err(|e| Fail::from(e).win32())?;
        let slots: Vec<usize> = om.processes[&pid].handles.iter().map(|(k, _)| k).collect();
        for s in slots {
            let h = Handle((s as u64 + 1) * 4);
            let _ = self.close_in(&mut om, pid, h);
        }
        let p = om.processes.remove(&pid);
        om.tokens.remove(&pid);
        self.loader.forget(pid);
        if let Some(p) = p {
            if om.drop_pointer(p.object) {
                om.objects.remove(&p.object);
            }
        }
        crate::event::emit(
            &self.events.list,
            crate::event::ApiEvent::ProcessExited { pid },
        );
        Ok(())
    }

    /// The live processes.
    pub fn processes(&self) -> Vec<AsId> {
        self.om.lock().processes.keys().copied().collect()
    }

    /// Opens a handle in `caller` to process `target` with `PROCESS_ALL_ACCESS` (what a
    /// scenario's process name stands for).
    pub fn open_process(&self, caller: AsId, target: AsId) -> Result<Handle, Win32Error> {
        let mut om = self.om.lock();
        let obj = om
            .processes
            .get(&target)
            .map(|p| p.object)
            .ok_or(Win32Error(ERROR_INVALID_PARAMETER))?;
        let r = om
            .insert_handle(caller, obj, PROCESS_ALL_ACCESS, false)
            .map_err(Fail::from);
        drop(om);
        self.win32(caller, r)
    }

    /// `GetLastError`.
    pub fn get_last_error(&self, pid: AsId) -> u32 {
        self.om
            .lock()
            .processes
            .get(&pid)
            .map_or(ERROR_INVALID_HANDLE, |p| p.last_error)
    }

    /// `SetLastError`.
    pub fn set_last_error(&self, pid: AsId, value: u32) {
        if let Some(p) = self.om.lock().processes.get_mut(&pid) {
            p.last_error = value;
            p.last_error_writes += 1;
        }
    }

    /// How many times the process's last error has been set (by a failure, by a success that
    /// sets it, or by `SetLastError`): ntmm's aid for telling "a call left the last error
    /// unchanged" from "it set it to the same value" (Windows keeps no such count). 0 for a
    /// process that does not exist.
    pub fn last_error_writes(&self, pid: AsId) -> u64 {
        self.om
            .lock()
            .processes
            .get(&pid)
            .map_or(0, |p| p.last_error_writes)
    }

    /// `GetSystemInfo`.
    pub fn get_system_info(&self) -> SystemInfo {
        SystemInfo {
            page_size: 4096,
            allocation_granularity: 65536,
            minimum_application_address: ntmm_vmm::USER_MIN,
            maximum_application_address: ntmm_vmm::USER_MAX,
            number_of_processors: 1,
        }
    }

    // ---- handles --------------------------------------------------------------------------

    /// Closes a handle and deletes the object if that was its last reference.
    pub(crate) fn close_in(&self, om: &mut ObjectManager, pid: AsId, h: Handle) -> R<()> {
        if h == Handle::INVALID {
            return Ok(()); // the current-process pseudo handle
        }
        let (object, last_pointer, last_handle) = om.remove_handle(pid, h)?;
        if last_handle {
            self.cleanup(om, object)?;
        }
        if last_pointer {
            self.delete_object(om, object)?;
        }
        Ok(())
    }

    /// `IRP_MJ_CLEANUP`: the last handle of a file object went — its share access is released,
    /// the cache manager lets go when no other handle is open on the file, and a pending delete
    /// happens.
    fn cleanup(&self, om: &mut ObjectManager, object: ObjectId) -> R<()> {
        let Some(Body::File(f)) = om.objects.get(&object).map(|o| o.body.clone()) else {
            return Ok(());
        };
        if om.open_files(f.stream, Some(object)).is_empty() {
            self.ex.release_file_cache(f.stream)?;
            let pending = om
                .files
                .get(&f.key)
                .is_some_and(|d| d.delete_pending && d.stream == f.stream);
            if pending && !self.ex.is_user_mapped(f.stream)? {
                if let Some(d) = om.files.remove(&f.key) {
                    self.remove_stream(f.stream, &d)?;
                }
            }
        }
        Ok(())
    }

    /// The object's last pointer went: its type's delete routine.
    fn delete_object(&self, om: &mut ObjectManager, object: ObjectId) -> R<()> {
        let Some(o) = om.objects.remove(&object) else {
            return Ok(());
        };
        self.delete_body(o.body)
    }

    /// The type's delete routine for an object body (a section lets go of its control area).
    fn delete_body(&self, body: Body) -> R<()> {
        if let Body::Section(s) = body {
            self.ex.close_section(s.id)?;
        }
        Ok(())
    }

    /// `NtClose`.
    pub fn nt_close(&self, pid: AsId, h: Handle) -> Result<(), NtStatus> {
        let mut om = self.om.lock();
        self.native(pid, self.close_in(&mut om, pid, h))
    }

    /// `CloseHandle`.
    pub fn close_handle(&self, pid: AsId, h: Handle) -> Result<(), Win32Error> {
        let r = {
            let mut om = self.om.lock();
            self.close_in(&mut om, pid, h)
        };
        self.win32(pid, r)
    }

    fn duplicate(
        &self,
        pid: AsId,
        src_proc: Handle,
        src: Handle,
        tgt_proc: Handle,
        access: u32,
        inherit: bool,
        options: u32,
    ) -> R<Handle> {
        const DUPLICATE_CLOSE_SOURCE: u32 = 1;
        const DUPLICATE_SAME_ACCESS: u32 = 2;
        let mut om = self.om.lock();
        // NtDuplicateObject references both process handles for PROCESS_DUP_HANDLE.
        let sp = om.process_with_access(pid, src_proc, PROCESS_DUP_HANDLE)?;
        let tp = om.process_with_access(pid, tgt_proc, PROCESS_DUP_HANDLE);
        let (object, granted) = if src == Handle::INVALID {
            let obj = om
                .processes
                .get(&sp)
                .map(|p| p.object)
                .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
            (obj, PROCESS_ALL_ACCESS)
        } else {
            let e = om.entry(sp, src)?;
            (e.object, e.access)
        };
        let kind = om
            .objects
            .get(&object)
            .map(|o| o.body.kind())
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        let access = if options & DUPLICATE_SAME_ACCESS != 0 {
            granted
        } else if kind == ObjectType::Process {
            process_rights(access)
        } else {
            map_generic(kind, access)
        };
        let result = tp.map_err(Fail::from).and_then(|tp| {
            let h = om.insert_handle(tp, object, access, inherit)?;
            om.handle_duplicated(pid, sp, src, tp, h);
            Ok(h)
        });
        if options & DUPLICATE_CLOSE_SOURCE != 0 && src != Handle::INVALID {
            // The source is closed whatever the outcome.
            self.close_in(&mut om, sp, src)?;
        }
        result
    }

    /// `NtDuplicateObject`.
    pub fn nt_duplicate_object(
        &self,
        pid: AsId,
        src_proc: Handle,
        src: Handle,
        tgt_proc: Handle,
        access: u32,
        inherit: bool,
        options: u32,
    ) -> Result<Handle, NtStatus> {
        self.native(
            pid,
            self.duplicate(pid, src_proc, src, tgt_proc, access, inherit, options),
        )
    }

    /// `DuplicateHandle`.
    pub fn duplicate_handle(
        &self,
        pid: AsId,
        src_proc: Handle,
        src: Handle,
        tgt_proc: Handle,
        access: u32,
        inherit: bool,
        options: u32,
    ) -> Result<Handle, Win32Error> {
        let r = self.duplicate(pid, src_proc, src, tgt_proc, access, inherit, options);
        self.win32(pid, r)
    }

    /// The access a handle grants (for inspection and tests).
    pub fn handle_access(&self, pid: AsId, h: Handle) -> Result<u32, Win32Error> {
        self.om
            .lock()
            .entry(pid, h)
            .map(|e| e.access)
            .map_err(|s| Win32Error(dos_error(s)))
    }

    /// The process a process handle of `pid` refers to (not the pseudo-handle): lets a caller
    /// that keeps handle values check that a value still means the process it was opened for.
    pub fn process_of_handle(&self, pid: AsId, h: Handle) -> Result<AsId, Win32Error> {
        if h == Handle::INVALID {
            return Err(Win32Error(ERROR_INVALID_HANDLE));
        }
        self.om
            .lock()
            .process_of(pid, h)
            .map_err(|s| Win32Error(dos_error(s)))
    }

    /// The handle and pointer counts of the object behind a handle.
    pub fn object_counts(&self, pid: AsId, h: Handle) -> Result<(u32, u32), Win32Error> {
        let om = self.om.lock();
        let e = om.entry(pid, h).map_err(|s| Win32Error(dos_error(s)))?;
        let o = om
            .objects
            .get(&e.object)
            .ok_or(Win32Error(ERROR_INVALID_HANDLE))?;
        Ok((o.handles, o.pointers))
    }

    // ---- named objects --------------------------------------------------------------------

    /// Creates a named object or, if the name exists with the same type, opens it
    /// (`OBJ_OPENIF`): returns the handle and whether it existed. A name held by another type is
    /// `STATUS_OBJECT_TYPE_MISMATCH`.
    pub(crate) fn create_or_open(
        &self,
        om: &mut ObjectManager,
        pid: AsId,
        name: Option<&str>,
        kind: ObjectType,
        access: u32,
        inherit: bool,
        make: impl FnOnce(&System) -> R<Body>,
    ) -> R<(Handle, bool)> {
        self.create_or_open_with(om, pid, name, kind, access, inherit, true, make)
    }

    /// [`System::create_or_open`] with `OBJ_OPENIF` given or not (`open_if`): without it, an
    /// existing name fails with `STATUS_OBJECT_NAME_COLLISION` after the new object was built
    /// and deleted again, and no handle is made (F34).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_or_open_with(
        &self,
        om: &mut ObjectManager,
        pid: AsId,
        name: Option<&str>,
        kind: ObjectType,
        access: u32,
        inherit: bool,
        open_if: bool,
        make: impl FnOnce(&System) -> R<Body>,
    ) -> R<(Handle, bool)> {
        om.processes
            .get(&pid)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        let token = om.token(pid);
        let path = crate::sessions::win32_object_path(token.session, name)?;
        // NtCreateSection (NtCreateEvent, ...) builds the new object first: a file section grows
        // the file, a pagefile-backed one charges its commit, and either can fail. Only then
        // does the object manager's insert find the name and hand out the existing object
        // instead, deleting the new one (ObInsertObject; KB Q104012). So an existing name does
        // not spare CreateFileMapping its side effects or its errors.
        let body = make(self)?;
        if let Some(p) = &path {
            if let Some(&id) = om.names.get(p) {
                let same_type = om.objects.get(&id).map(|o| o.body.kind()) == Some(kind);
                om.name_exists(pid, p, id, open_if && same_type);
                self.delete_body(body)?;
                // Another type's name is a type mismatch with or without OBJ_OPENIF (Vista and
                // later: ntdll om.c test_case_sensitive); the same type's collides without it.
                if !same_type {
                    return Err(Fail::Rule(
                        NtStatus::STATUS_OBJECT_TYPE_MISMATCH,
                        format!(
                            "the name {p} already names an object of another type (an event, …), \
                             and the new object cannot take it (CreateFileMapping's documentation; \
                             ntdll om.c test_case_sensitive; names: §6.5)"
                        ),
                    ));
                }
                if !open_if {
                    return Err(Fail::Rule(
                        NtStatus::STATUS_OBJECT_NAME_COLLISION,
                        format!(
                            "the name {p} already names an object, and a native create without \
                             OBJ_OPENIF does not open it (F34; ntdll om.c test_name_collisions)"
                        ),
                    ));
                }
                return Ok((om.insert_handle(pid, id, access, inherit)?, true));
            }
        }
        if let (Some(p), ObjectType::Section) = (&path, kind) {
            // SeCreateGlobalPrivilege, checked when a new section would be inserted.
            if let Err(e) = crate::sessions::check_create_section(token, p) {
                self.delete_body(body)?;
                return Err(e.into());
            }
        }
        let id = om.add_object(body, 0);
        if let Some(p) = path {
            om.set_name(id, p);
        }
        Ok((om.insert_handle(pid, id, access, inherit)?, false))
    }

    /// Opens a named object of type `kind`.
    pub(crate) fn open_named(
        &self,
        om: &mut ObjectManager,
        pid: AsId,
        name: &str,
        kind: ObjectType,
        access: u32,
        inherit: bool,
    ) -> R<Handle> {
        let session = om.token(pid).session;
        let path = crate::sessions::win32_object_path(session, Some(name))?
            .ok_or(NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD)?;
        let id = *om.names.get(&path).ok_or_else(|| {
            Fail::Rule(
                NtStatus::STATUS_OBJECT_NAME_NOT_FOUND,
                format!("no object is named {path} in the object directory (F33)"),
            )
        })?;
        if om.objects.get(&id).map(|o| o.body.kind()) != Some(kind) {
            return Err(Fail::Rule(
                NtStatus::STATUS_OBJECT_TYPE_MISMATCH,
                format!(
                    "the name {path} names an object of another type, not the one the call \
                     opens (names: §6.5)"
                ),
            ));
        }
        Ok(om.insert_handle(pid, id, access, inherit)?)
    }

    // ---- events ---------------------------------------------------------------------------

    /// `CreateEvent`: sets `ERROR_ALREADY_EXISTS` or `ERROR_SUCCESS` on success.
    pub fn create_event(
        &self,
        pid: AsId,
        inherit: bool,
        manual_reset: bool,
        initial: bool,
        name: Option<&str>,
    ) -> Result<Handle, Win32Error> {
        let r = {
            let mut om = self.om.lock();
            self.create_or_open(
                &mut om,
                pid,
                name,
                ObjectType::Event,
                EVENT_ALL_ACCESS,
                inherit,
                |_| {
                    Ok(Body::Event(EventObject {
                        manual_reset,
                        signaled: initial,
                    }))
                },
            )
        };
        let (h, existed) = self.win32(pid, r)?;
        self.report_existing(pid, existed);
        Ok(h)
    }

    /// `OpenEvent`.
    pub fn open_event(
        &self,
        pid: AsId,
        access: u32,
        inherit: bool,
        name: &str,
    ) -> Result<Handle, Win32Error> {
        let r = {
            let mut om = self.om.lock();
            let access = map_generic(ObjectType::Event, access);
            self.open_named(&mut om, pid, name, ObjectType::Event, access, inherit)
        };
        self.win32(pid, r)
    }

    // ---- memory access --------------------------------------------------------------------

    fn check_pid(&self, pid: AsId) -> ntmm_vmm::Result<()> {
        if self.om.lock().processes.contains_key(&pid) {
            Ok(())
        } else {
            Err(VmmError::UnknownAddressSpace(pid))
        }
    }

    /// Loads `len` bytes of a process's memory; an exception comes back as
    /// `VmmError::Exception` with its code and address.
    ///
    /// The bytes are read a megabyte at a time, so the buffer grows only with what was read: a
    /// length far beyond the accessible memory raises at the first inaccessible page, as the
    /// access itself does, instead of asking the host for the whole length first. A length
    /// the host cannot hold is `VmmError::InvalidParameter`.
    pub fn read_memory(&self, pid: AsId, va: Va, len: usize) -> ntmm_vmm::Result<Vec<u8>> {
        const STEP: usize = 1 << 20;
        self.check_pid(pid)?;
        let mut buf = Vec::new();
        while buf.len() < len {
            let start = buf.len();
            let at = va
                .checked_add(ntmm_vmm::ByteCount::new(start as u64))
                .ok_or(VmmError::RangeOverflow)?;
            let n = (len - start).min(STEP);
            buf.try_reserve_exact(n)
                .map_err(|_| VmmError::InvalidParameter("a read longer than the host can hold"))?;
            buf.resize(start + n, 0);
            self.ex.vmm().read(pid, at, &mut buf[start..])?;
        }
        Ok(buf)
    }

    /// Stores bytes into a process's memory (page by page).
    pub fn write_memory(&self, pid: AsId, va: Va, data: &[u8]) -> ntmm_vmm::Result<()> {
        self.check_pid(pid)?;
        self.ex.vmm().write(pid, va, data)
    }

    /// Loads a little-endian value of 1, 2, 4 or 8 bytes.
    ///
    /// The hot path: it does not take the object manager's lock, because the machine holds an
    /// address space exactly for each live process (created and deleted together under that
    /// lock) and rejects any other `pid` with the same `UnknownAddressSpace` error.
    #[inline]
    pub fn read_value(&self, pid: AsId, va: Va, size: usize) -> ntmm_vmm::Result<u64> {
        let v = self.ex.vmm();
        match size {
            1 => v.read_u8(pid, va).map(u64::from),
            2 => v.read_u16(pid, va).map(u64::from),
            4 => v.read_u32(pid, va).map(u64::from),
            8 => v.read_u64(pid, va),
            _ => Err(VmmError::InvalidParameter(
                "value size must be 1, 2, 4 or 8",
            )),
        }
    }

    /// Stores a little-endian value of 1, 2, 4 or 8 bytes (all or nothing).
    /// Like [`System::read_value`], without the object manager's lock.
    pub fn write_value(&self, pid: AsId, va: Va, size: usize, value: u64) -> ntmm_vmm::Result<()> {
        let v = self.ex.vmm();
        match size {
            1 => v.write_u8(pid, va, value as u8),
            2 => v.write_u16(pid, va, value as u16),
            4 => v.write_u32(pid, va, value as u32),
            8 => v.write_u64(pid, va, value),
            _ => Err(VmmError::InvalidParameter(
                "value size must be 1, 2, 4 or 8",
            )),
        }
    }

    // ---- invariants -----------------------------------------------------------------------

    /// Checks the machine, the control areas and the object manager.
    pub fn check_invariants(&self) -> Result<(), String> {
        let om = self.om.lock();
        om.check()?;
        for (id, o) in &om.objects {
            if let Body::Section(s) = &o.body {
                self.ex
                    .query_section(s.id)
                    .map_err(|e| format!("object {id}: section gone: {e}"))?;
            }
        }
        self.ex.check_invariants().map_err(|v| v.to_string())
    }
}
