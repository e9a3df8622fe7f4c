//! Why a call failed, in one sentence with its reference: the rule each check makes, stated
//! where the check is made (`Fail::Rule`), and for the section layer's errors the rule its
//! variant stands for (`section_rule`). Also names access masks (`access_names`) for these
//! sentences and for the trace of handles.

use crate::access::*;
use ntmm_section::SectionError;
use ntmm_vmm::{NtStatus, VmmError};

/// The composite masks of each object type, largest first, then its single rights.
fn named_rights(kind: ObjectType) -> &'static [(&'static str, u32)] {
    match kind {
        ObjectType::Section => &[
            ("SECTION_ALL_ACCESS", SECTION_ALL_ACCESS),
            ("SECTION_QUERY", SECTION_QUERY),
            ("SECTION_MAP_WRITE", SECTION_MAP_WRITE),
            ("SECTION_MAP_READ", SECTION_MAP_READ),
            ("SECTION_MAP_EXECUTE", SECTION_MAP_EXECUTE),
            ("SECTION_EXTEND_SIZE", SECTION_EXTEND_SIZE),
            ("SECTION_MAP_EXECUTE_EXPLICIT", SECTION_MAP_EXECUTE_EXPLICIT),
        ],
        ObjectType::Process => &[
            ("PROCESS_ALL_ACCESS", PROCESS_ALL_ACCESS),
            ("PROCESS_TERMINATE", PROCESS_TERMINATE),
            ("PROCESS_CREATE_THREAD", PROCESS_CREATE_THREAD),
            ("PROCESS_SET_SESSIONID", PROCESS_SET_SESSIONID),
            ("PROCESS_VM_OPERATION", PROCESS_VM_OPERATION),
            ("PROCESS_VM_READ", PROCESS_VM_READ),
            ("PROCESS_VM_WRITE", PROCESS_VM_WRITE),
            ("PROCESS_DUP_HANDLE", PROCESS_DUP_HANDLE),
            ("PROCESS_CREATE_PROCESS", PROCESS_CREATE_PROCESS),
            ("PROCESS_SET_QUOTA", PROCESS_SET_QUOTA),
            ("PROCESS_SET_INFORMATION", PROCESS_SET_INFORMATION),
            ("PROCESS_QUERY_INFORMATION", PROCESS_QUERY_INFORMATION),
            ("PROCESS_SUSPEND_RESUME", PROCESS_SUSPEND_RESUME),
            (
                "PROCESS_QUERY_LIMITED_INFORMATION",
                PROCESS_QUERY_LIMITED_INFORMATION,
            ),
            (
                "PROCESS_SET_LIMITED_INFORMATION",
                PROCESS_SET_LIMITED_INFORMATION,
            ),
        ],
        ObjectType::File => &[
            ("FILE_ALL_ACCESS", FILE_ALL_ACCESS),
            ("FILE_GENERIC_READ", FILE_GENERIC_READ),
            ("FILE_GENERIC_WRITE", FILE_GENERIC_WRITE),
            ("FILE_GENERIC_EXECUTE", FILE_GENERIC_EXECUTE),
            ("FILE_READ_DATA", FILE_READ_DATA),
            ("FILE_WRITE_DATA", FILE_WRITE_DATA),
            ("FILE_APPEND_DATA", FILE_APPEND_DATA),
            ("FILE_READ_EA", FILE_READ_EA),
            ("FILE_WRITE_EA", FILE_WRITE_EA),
            ("FILE_EXECUTE", FILE_EXECUTE),
            ("FILE_READ_ATTRIBUTES", FILE_READ_ATTRIBUTES),
            ("FILE_WRITE_ATTRIBUTES", FILE_WRITE_ATTRIBUTES),
        ],
        ObjectType::Event => &[
            ("EVENT_ALL_ACCESS", EVENT_ALL_ACCESS),
            ("EVENT_QUERY_STATE", EVENT_QUERY_STATE),
            ("EVENT_MODIFY_STATE", EVENT_MODIFY_STATE),
        ],
    }
}

/// The standard rights, by name.
const STANDARD: &[(&str, u32)] = &[
    ("DELETE", DELETE),
    ("READ_CONTROL", READ_CONTROL),
    ("WRITE_DAC", WRITE_DAC),
    ("WRITE_OWNER", WRITE_OWNER),
    ("SYNCHRONIZE", SYNCHRONIZE),
];

/// An access mask of an object of type `kind` by its rights' names, `|`-joined: a composite
/// mask (`SECTION_ALL_ACCESS`, `FILE_GENERIC_READ`, …) where all its bits are present, then the
/// single rights, then the standard rights, and any bit left over in hex. `0` is "no access".
///
/// ```
/// use ntmm_api::{why::access_names, ObjectType, SECTION_MAP_READ, SECTION_QUERY};
/// assert_eq!(access_names(ObjectType::Section, SECTION_MAP_READ | SECTION_QUERY),
///            "SECTION_QUERY|SECTION_MAP_READ");
/// assert_eq!(access_names(ObjectType::Section, 0), "no access");
/// ```
pub fn access_names(kind: ObjectType, mask: u32) -> String {
    if mask == 0 {
        return "no access".into();
    }
    let mut left = mask;
    let mut names = Vec::new();
    for &(name, bits) in named_rights(kind).iter().chain(STANDARD) {
        // A composite may share standard rights with one already named
        // (`FILE_GENERIC_READ|FILE_GENERIC_WRITE` both hold `SYNCHRONIZE`).
        if bits != 0 && mask & bits == bits && left & bits != 0 {
            names.push(name.to_string());
            left &= !bits;
        }
    }
    if left != 0 {
        names.push(format!("{left:#x}"));
    }
    names.join("|")
}

/// The one-sentence rule a section-layer error stands for, with its reference.
pub fn section_rule(e: &SectionError) -> String {
    match e {
        SectionError::InvalidPageProtection(p) => {
            format!("{p:#x} is not a page protection this call accepts (F19, F21)")
        }
        SectionError::InvalidParameter { index: 0, what } => {
            format!("a parameter is invalid: {what}")
        }
        SectionError::InvalidParameter { index, what } => {
            format!("parameter {index} of the native service is invalid: {what}")
        }
        SectionError::NotAnImage { file: true } => {
            "SEC_IMAGE needs a PE image, and the file does not begin with \"MZ\" (F30)".into()
        }
        SectionError::NotAnImage { file: false } => {
            "SEC_IMAGE needs a non-empty file to read a PE image from (F11, F26)".into()
        }
        SectionError::InvalidImageFormat(what) => format!(
            "the file begins with \"MZ\" but is not a PE image ntmm can map: {what} \
             (F30: NT's bad-header status; the case is untested on Windows)"
        ),
        SectionError::MappedFileSizeZero => {
            "the file is empty and no size was given, so the section would have no pages (F11)"
                .into()
        }
        SectionError::SectionTooBig => {
            "the section size is not below the largest section ntmm allows (F17)".into()
        }
        SectionError::InsufficientResources => {
            "the section's prototype PTEs cannot be allocated (F17)".into()
        }
        SectionError::AccessDenied => {
            "the file handle does not grant the access the section's protection needs (F22, F24)"
                .into()
        }
        SectionError::MappedAlignment(v) => {
            if v % ntmm_vmm::PAGE_SIZE != 0 {
                // Not even page-aligned: wrong for a view in a placeholder too.
                format!(
                    "{v:#x} is not a multiple of the 64 KiB allocation granularity, as a view's \
                     offset and base must be (F54, F56), nor of a page, as a view that replaces \
                     a placeholder needs (F68)"
                )
            } else {
                format!(
                    "{v:#x} is not a multiple of the 64 KiB allocation granularity, as a view's \
                     offset and base must be (F54, F56)"
                )
            }
        }
        SectionError::InvalidViewSize => {
            "the view extends past the end of the section (F61)".into()
        }
        SectionError::SectionProtection => {
            "the view protection asks for more than the section's protection allows (F50, F105)"
                .into()
        }
        SectionError::NotMappedView(va) => {
            format!("no mapped view contains {va}: only a view can be unmapped (F112)")
        }
        SectionError::NotMappedData(va) => {
            format!("{va} is not in a view of a data file (§5.2)")
        }
        SectionError::UnableToDeleteSection => {
            "a view is removed only by unmapping it, not by freeing its memory (F100)".into()
        }
        SectionError::UnableToFreeVm => "the range cannot be freed (F100)".into(),
        SectionError::FreeVmNotAtBase => {
            "a release must start at the allocation's base (§7.6)".into()
        }
        SectionError::MemoryNotAllocated(va) => format!("nothing is allocated at {va} (§7.6)"),
        SectionError::ConflictingAddresses => {
            "the requested range overlaps an existing view or allocation (F57)".into()
        }
        SectionError::Placeholder(rule) => format!("{rule} (F68-F72)"),
        SectionError::NotCommitted => "the pages are not committed (F138)".into(),
        SectionError::AlreadyCommitted => "the pages are already committed (F95)".into(),
        SectionError::SectionNotExtended => {
            "only a SEC_RESERVE pagefile section or a file section can be extended (§1.2)".into()
        }
        SectionError::UserMappedFile => {
            "a section object or a mapped view holds the file's data control area (user \
             references), so the file cannot be shrunk or removed (§8: MmCanFileBeTruncated)"
                .into()
        }
        SectionError::UnknownSection(_)
        | SectionError::UnknownStream(_)
        | SectionError::UnknownProcess(_) => format!("{e}: the handle refers to no live object"),
        SectionError::NotSupported(what) => format!("not modelled by ntmm: {what}"),
        SectionError::Vmm(v) => vmm_rule(v),
    }
}

/// The rule a machine error stands for.
fn vmm_rule(e: &VmmError) -> String {
    match e {
        VmmError::CommitmentLimit { .. } => {
            format!("{e}: the commit charge may not exceed the commit limit (§1.9)")
        }
        VmmError::Misaligned { .. } => format!("{e} (§7.2)"),
        VmmError::AddressOutOfRange(_) => format!("{e} (F58)"),
        VmmError::Store(io) => {
            use ntmm_vmm::StoreOp;
            let (op, after) = match io.op {
                StoreOp::Read => ("the read of", "the page is not brought in (§3.4)"),
                StoreOp::Write => (
                    "the write of",
                    "the page stays modified and a later flush or writer tries again (§5.2, §4.6)",
                ),
                StoreOp::Flush => (
                    "the flush to stable storage of",
                    "what was written is not yet durable (§5.2)",
                ),
                StoreOp::Resize => ("the size change of", "the file keeps its size"),
                StoreOp::Crash => ("the power loss of", "the store is as it was"),
            };
            format!(
                "{op} page {} on its backing store failed with {:?}: {after}",
                io.page, io.status
            )
        }
        other => other.to_string(),
    }
}

/// A sentence for a status that was returned without a rule of its own (the generic checks
/// of the object manager).
pub fn status_rule(s: NtStatus) -> Option<&'static str> {
    Some(match s {
        NtStatus::STATUS_INVALID_HANDLE => {
            "the handle is not open in the calling process (F65)"
        }
        NtStatus::STATUS_OBJECT_TYPE_MISMATCH => {
            "the handle refers to an object of another type than the call needs (F65)"
        }
        NtStatus::STATUS_OBJECT_NAME_NOT_FOUND => "no object or file has that name (F33)",
        NtStatus::STATUS_OBJECT_NAME_COLLISION => {
            "an object of that name exists, and a native create without OBJ_OPENIF does not \
             open it (F34)"
        }
        NtStatus::STATUS_PROCESS_IS_TERMINATING => {
            "the process has exited: its handle is valid but its address space is gone (§6.4)"
        }
        NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD => "the object name is not a valid path (F37)",
        NtStatus::STATUS_SHARING_VIOLATION => {
            "the file's open handles or a live section do not share the access asked for (F119)"
        }
        NtStatus::STATUS_PARTIAL_COPY => {
            "the copy reached a page it may not use (not committed, no access, guard, or \
             not writable), so it stops with the bytes before it (Wine kernel32 test_VirtualAllocEx)"
        }
        NtStatus::STATUS_DEVICE_DATA_ERROR => {
            "a page's I/O on its backing store failed, so the data is not where the call needs it"
        }
        NtStatus::STATUS_UNABLE_TO_DELETE_SECTION => {
            "a view is removed only by unmapping it, not by freeing its memory (F100)"
        }
        NtStatus::STATUS_USER_MAPPED_FILE => {
            "a section object or a mapped view holds the file, so it cannot be shrunk (§8, F120)"
        }
        _ => return None,
    })
}

/// A `PAGE_*` view protection by name (its hex value if it has none here).
pub fn protection_name(protection: u32) -> String {
    use ntmm_section::consts::*;
    let base = match protection & 0xFF {
        PAGE_NOACCESS => "PAGE_NOACCESS",
        PAGE_READONLY => "PAGE_READONLY",
        PAGE_READWRITE => "PAGE_READWRITE",
        PAGE_WRITECOPY => "PAGE_WRITECOPY",
        PAGE_EXECUTE => "PAGE_EXECUTE",
        PAGE_EXECUTE_READ => "PAGE_EXECUTE_READ",
        PAGE_EXECUTE_READWRITE => "PAGE_EXECUTE_READWRITE",
        PAGE_EXECUTE_WRITECOPY => "PAGE_EXECUTE_WRITECOPY",
        _ => return format!("{protection:#x}"),
    };
    if protection & !0xFF == 0 {
        base.into()
    } else {
        format!("{base}|{:#x}", protection & !0xFF)
    }
}

/// The rights a handle grants, for a rule: `X|Y only`, or `no access`.
fn granted_only(kind: ObjectType, granted: u32) -> String {
    match access_names(kind, granted).as_str() {
        "no access" => "no access".to_string(),
        names => format!("{names} only"),
    }
}

/// F48: the rule a view's protection broke against the section handle's rights.
pub(crate) fn view_rights_rule(granted: u32, need: u32, protection: u32) -> String {
    let missing = need & !granted;
    let granted = granted_only(ObjectType::Section, granted);
    format!(
        "the section handle grants {granted}; a {} view needs {} (F48)",
        protection_name(protection),
        access_names(ObjectType::Section, missing)
    )
}

/// A section handle without the one right a call needs (`SECTION_QUERY` for
/// `NtQuerySection`, F41; `SECTION_EXTEND_SIZE` for `NtExtendSection`).
pub(crate) fn section_right_rule(granted: u32, need: u32, call: &str, reference: &str) -> String {
    let granted = granted_only(ObjectType::Section, granted);
    format!(
        "the section handle grants {granted}; {call} needs {} ({reference})",
        access_names(ObjectType::Section, need)
    )
}

/// F5, §7.2: the rule an offset and view size broke against the section's size.
pub(crate) fn view_size_rule(offset: u64, view_size: u64, section_size: u64) -> String {
    if offset >= section_size {
        format!(
            "the view's offset {offset:#x} is at or past the end of the section \
             ({section_size:#x} bytes) (§7.2)"
        )
    } else {
        format!(
            "the view ({view_size:#x} bytes at offset {offset:#x}) extends past the end of the \
             section ({section_size:#x} bytes) (F5)"
        )
    }
}

/// `ObjectManager::process_with_access` with the rule of a
/// missing right: the handle's granted rights and the right the call needs.
pub(crate) fn process_with_access(
    om: &crate::object::ObjectManager,
    pid: ntmm_vmm::AsId,
    h: crate::Handle,
    need: u32,
) -> crate::system::R<ntmm_vmm::AsId> {
    om.process_with_access(pid, h, need).map_err(|s| {
        if s != NtStatus::STATUS_ACCESS_DENIED {
            return s.into();
        }
        let granted = om.entry(pid, h).map_or(0, |e| e.access);
        crate::system::Fail::Rule(
            s,
            format!(
                "the process handle grants {}; {} (Wine kernel32 test_OpenProcess)",
                access_names(ObjectType::Process, granted),
                if need == PROCESS_QUERY_LIMITED_INFORMATION {
                    // PROCESS_QUERY_INFORMATION grants the limited right with it.
                    "a query of a process needs PROCESS_QUERY_INFORMATION or (Windows 8 and \
                     later) PROCESS_QUERY_LIMITED_INFORMATION"
                        .to_string()
                } else {
                    format!(
                        "this call needs {}",
                        access_names(ObjectType::Process, need)
                    )
                }
            ),
        )
    })
}

/// F22–F25: the rule a section's protection broke against the file handle's rights (every
/// file section needs `FILE_READ_DATA`; a writable one `FILE_WRITE_DATA`, an executable one
/// `FILE_EXECUTE`).
pub(crate) fn file_rights_rule(granted: u32, protection: u32) -> String {
    use ntmm_section::consts::*;
    let mut need = FILE_READ_DATA;
    if matches!(protection & 0xFF, PAGE_READWRITE | PAGE_EXECUTE_READWRITE) {
        need |= FILE_WRITE_DATA;
    }
    if matches!(
        protection & 0xFF,
        PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY
    ) {
        need |= FILE_EXECUTE;
    }
    let names = |m: u32| {
        // The data rights alone: the rest of a generic mask does not matter here.
        access_names(
            ObjectType::File,
            m & (FILE_READ_DATA | FILE_WRITE_DATA | FILE_EXECUTE),
        )
    };
    let granted_data = names(granted);
    let granted_data = if granted_data == "no access" {
        "none of FILE_READ_DATA, FILE_WRITE_DATA, FILE_EXECUTE".to_string()
    } else {
        format!("{granted_data} only")
    };
    format!(
        "the file handle grants {granted_data}; a {} section needs {} (F22, F24)",
        protection_name(protection & 0xFF),
        names(need)
    )
}

/// A `FILE_SHARE_*` mask by name.
pub fn share_names(share: u32) -> String {
    let names: Vec<&str> = [
        ("FILE_SHARE_READ", FILE_SHARE_READ),
        ("FILE_SHARE_WRITE", FILE_SHARE_WRITE),
        ("FILE_SHARE_DELETE", FILE_SHARE_DELETE),
    ]
    .iter()
    .filter(|(_, b)| share & b != 0)
    .map(|(n, _)| *n)
    .collect();
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join("|")
    }
}

/// The rule of the last native failure on each thread: a Win32 function built on a native one
/// (`VirtualAllocEx` on `NtAllocateVirtualMemory`, …) gets only its NTSTATUS back, and takes
/// the rule from here when it reports that same status on the same thread. Every native
/// result replaces it (a success clears it), and taking it clears it, so a rule never outlives
/// the call that made it.
#[derive(Debug, Default)]
pub(crate) struct NativeRule(parking_lot::Mutex<Option<(std::thread::ThreadId, NtStatus, String)>>);

impl NativeRule {
    /// Keeps the rule of `r`'s failure (or clears it on success) and returns the native result.
    pub(crate) fn keep<T>(&self, r: crate::system::R<T>) -> Result<T, NtStatus> {
        match r {
            Ok(v) => {
                *self.0.lock() = None;
                Ok(v)
            }
            Err(f) => Err(self.keep_fail(&f)),
        }
    }

    /// Keeps the rule of `f` and returns its status.
    pub(crate) fn keep_fail(&self, f: &crate::system::Fail) -> NtStatus {
        let status = f.status();
        *self.0.lock() = f.rule().map(|r| (std::thread::current().id(), status, r));
        status
    }

    /// `f` with the kept rule attached if `f` is a bare status the last native failure on this
    /// thread returned.
    pub(crate) fn attach(&self, f: crate::system::Fail) -> crate::system::Fail {
        use crate::system::Fail;
        let kept = self.0.lock().take();
        match (f, kept) {
            (Fail::Status(s), Some((thread, k, rule)))
                if s == k && thread == std::thread::current().id() =>
            {
                Fail::Rule(s, rule)
            }
            (f, _) => f,
        }
    }
}

impl NativeRule {
    /// The rule kept for `status` on this thread, without taking it.
    pub(crate) fn peek(&self, status: NtStatus) -> Option<String> {
        match &*self.0.lock() {
            Some((thread, k, rule)) if *k == status && *thread == std::thread::current().id() => {
                Some(rule.clone())
            }
            _ => None,
        }
    }
}

thread_local! {
    /// How many calls on this thread are running native calls on the program's behalf (a
    /// Win32 function on its native one, a native call on another).
    static ON_BEHALF: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// While it lives, the native calls this thread makes are made on the program's behalf by the
/// call that holds it: they report no failure event of their own, as the program did not call
/// them (the holder reports its own result).
#[must_use = "the guard ends when dropped"]
pub(crate) struct OnBehalf(());

impl OnBehalf {
    /// Starts a stretch of native calls made on the program's behalf.
    pub(crate) fn enter() -> Self {
        ON_BEHALF.with(|d| d.set(d.get() + 1));
        OnBehalf(())
    }
}

impl Drop for OnBehalf {
    fn drop(&mut self) {
        ON_BEHALF.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Whether a native call now running was called by the program itself (no [`OnBehalf`] is
/// held on this thread).
pub(crate) fn called_by_program() -> bool {
    ON_BEHALF.with(|d| d.get() == 0)
}

/// F12, §1.7: a section larger than its file grows the file only if it is writable.
pub(crate) fn read_only_growth_rule(size: u64, file_size: u64, protection: u32) -> String {
    format!(
        "the section ({size:#x} bytes) is larger than the file ({file_size:#x} bytes), and only a \
         writable section grows its file; {} is not writable (F12, §1.7)",
        protection_name(protection & 0xFF)
    )
}
