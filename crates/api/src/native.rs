//! Native calls by NT's own conventions (SCENARIO.md "Native calls (reach)"): object names in
//! NT's namespace (`OBJECT_ATTRIBUTES`), in-out ranges written back, and
//! `NtAreMappedFilesTheSame`. The other `nt_*` functions are beside their Win32 forms
//! (mapping.rs, memory.rs, system.rs).

use crate::mapping::NtCreateSectionArgs;
use crate::object::{object_path, Handle};
use crate::system::{System, R};
use ntmm_section::consts::*;
use ntmm_vmm::{AsId, NtStatus, Va};

/// The session of a process created without a token of its own (its `Local\` names live in
/// `\Sessions\1\BaseNamedObjects`, as `sessions::win32_object_path` places them).
pub const DEFAULT_SESSION: u32 = 1;

/// `OBJECT_ATTRIBUTES` as a native call takes them: the object's full name in NT's namespace
/// (`\BaseNamedObjects\Foo`), or none, and the attribute flags the emulator models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectAttributes<'a> {
    /// `ObjectName`: the full NT name, or `None` for an unnamed object.
    pub name: Option<&'a str>,
    /// `OBJ_INHERIT`: the handle is inheritable.
    pub inherit: bool,
    /// `OBJ_OPENIF`: creating an object whose name exists opens it (`STATUS_OBJECT_NAME_EXISTS`)
    /// instead of failing with `STATUS_OBJECT_NAME_COLLISION`. kernel32 passes it; a native
    /// caller that does not gets the collision.
    pub open_if: bool,
}

/// The one place where an object's NT name (an `OBJECT_ATTRIBUTES` `ObjectName`) becomes the
/// name the Win32 layer gives it, for a caller in `session`: `\BaseNamedObjects\X` is
/// `Global\X`, and `\Sessions\N\BaseNamedObjects\X` is `Local\X` for a process of session N
/// (session 0's local directory is `\BaseNamedObjects` itself). `sessions::win32_object_path`
/// is its inverse.
///
/// An empty name is no name (`Ok(None)`). Errors are NT's: a name that does not start at the
/// root is `STATUS_OBJECT_PATH_SYNTAX_BAD` (no `RootDirectory` handle is modelled); a
/// directory that is not one of those above (another session's included) is
/// `STATUS_OBJECT_PATH_NOT_FOUND`; a directory itself, or an empty last component, is
/// `STATUS_OBJECT_NAME_INVALID`. Directory names compare exactly as spelled; the last
/// component is case-sensitive, as kernel32's names are (F36).
pub fn win32_object_name(nt_name: &str, session: u32) -> Result<Option<String>, NtStatus> {
    if nt_name.is_empty() {
        return Ok(None);
    }
    if !nt_name.starts_with('\\') {
        return Err(NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD);
    }
    let global = "\\BaseNamedObjects";
    let local = format!("\\Sessions\\{session}\\BaseNamedObjects");
    let (prefix, leaf) = if let Some(rest) = nt_name.strip_prefix(global) {
        ("Global\\", rest)
    } else if let Some(rest) = nt_name.strip_prefix(local.as_str()) {
        ("Local\\", rest)
    } else {
        return Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND);
    };
    let prefix = if session == 0 { "Local\\" } else { prefix };
    let Some(leaf) = leaf.strip_prefix('\\') else {
        // `\BaseNamedObjectsX` names another directory; `\BaseNamedObjects` is the directory.
        return Err(if leaf.is_empty() {
            NtStatus::STATUS_OBJECT_NAME_INVALID
        } else {
            NtStatus::STATUS_OBJECT_PATH_NOT_FOUND
        });
    };
    let name = format!("{prefix}{leaf}");
    // The same checks the Win32 names get (empty leaf, a deeper path, the length limit).
    object_path(Some(&name))?;
    Ok(Some(name))
}

/// What a Win32 or native call does with a `NULL` pointer where it must write a result: a
/// native service probes its pointer arguments before it does anything, so the call fails
/// with `STATUS_ACCESS_VIOLATION` and changes nothing (F90: `NtProtectVirtualMemory` with a
/// NULL `OldProtect`); a Win32 function built on it fails with `ERROR_NOACCESS` (998).
pub const NULL_POINTER_STATUS: NtStatus = NtStatus::STATUS_ACCESS_VIOLATION;

impl System {
    /// A call given a NULL pointer where it must write its result: the service probes its
    /// pointer arguments before it does anything, so it fails and changes nothing (F90). A
    /// Win32 call (`native` false) sets `ERROR_NOACCESS` as the last error; a native call
    /// returns [`NULL_POINTER_STATUS`] and sets nothing. Either way the failure is reported
    /// with its rule (`ApiEvent::CallFailed`, `ApiEvent::NativeCallFailed`). `call` names the
    /// function and `parameter` the pointer, for the rule. Returns the status.
    pub fn null_pointer_probe(
        &self,
        pid: AsId,
        call: &str,
        parameter: &str,
        native: bool,
    ) -> NtStatus {
        let rule = format!(
            "{call} was given NULL for {parameter}, where it must write its result: the probe \
             of the pointer fails before anything is done (F90)"
        );
        let fail = crate::system::Fail::Rule(NULL_POINTER_STATUS, rule.clone());
        if native {
            self.native_failed(pid, NULL_POINTER_STATUS, Some(rule));
        } else {
            let _ = self.win32::<()>(pid, Err(fail));
        }
        NULL_POINTER_STATUS
    }
}

impl System {
    /// The session of a process: its token's ([`crate::sessions::Token`]; a process created
    /// without one is in [`DEFAULT_SESSION`]).
    pub fn session_of(&self, pid: AsId) -> u32 {
        self.om.lock().token(pid).session
    }

    /// `NtCreateSection` with its `OBJECT_ATTRIBUTES` (`attributes.name` an NT name,
    /// [`win32_object_name`]); `args.name` and `args.inherit` are ignored. Returns the handle and
    /// `STATUS_SUCCESS`, or `STATUS_OBJECT_NAME_EXISTS` when `OBJ_OPENIF` opened an existing
    /// section. Without `OBJ_OPENIF` an existing name is `STATUS_OBJECT_NAME_COLLISION` — after
    /// the new section was built and deleted again, as NT builds the object before the object
    /// manager finds the name (the file grows; the commit is checked).
    pub fn nt_create_section_attributes(
        &self,
        pid: AsId,
        attributes: ObjectAttributes<'_>,
        args: NtCreateSectionArgs<'_>,
    ) -> Result<(Handle, NtStatus), NtStatus> {
        let r = {
            // The calls below are made on the program's behalf (why::OnBehalf); this call
            // reports its own result.
            let _on_behalf = crate::why::OnBehalf::enter();
            self.create_section_attributes_in(pid, attributes, args)
        };
        if let Err(status) = r {
            self.native_failed(pid, status, None);
        }
        r
    }

    fn create_section_attributes_in(
        &self,
        pid: AsId,
        attributes: ObjectAttributes<'_>,
        args: NtCreateSectionArgs<'_>,
    ) -> Result<(Handle, NtStatus), NtStatus> {
        let session = self.session_of(pid);
        let name = match attributes.name {
            Some(n) => win32_object_name(n, session)?,
            None => None,
        };
        let args = NtCreateSectionArgs {
            name: name.as_deref(),
            inherit: attributes.inherit,
            ..args
        };
        let (h, existed) = self.native(
            pid,
            self.create_section_in_with(pid, args, attributes.open_if),
        )?;
        Ok((
            h,
            if existed {
                NtStatus::STATUS_OBJECT_NAME_EXISTS
            } else {
                NtStatus::STATUS_SUCCESS
            },
        ))
    }

    /// `NtOpenSection` with its `OBJECT_ATTRIBUTES` (an NT name, [`win32_object_name`]).
    /// `None` (a NULL `ObjectAttributes`) is `STATUS_INVALID_PARAMETER`; an empty name is
    /// `STATUS_OBJECT_PATH_SYNTAX_BAD`.
    pub fn nt_open_section_attributes(
        &self,
        pid: AsId,
        access: u32,
        attributes: Option<ObjectAttributes<'_>>,
    ) -> Result<Handle, NtStatus> {
        let r = {
            let _on_behalf = crate::why::OnBehalf::enter();
            attributes
                .ok_or(NtStatus::STATUS_INVALID_PARAMETER)
                .and_then(|a| {
                    let name = win32_object_name(a.name.unwrap_or(""), self.session_of(pid))?
                        .ok_or(NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD)?;
                    self.nt_open_section(pid, access, a.inherit, &name)
                })
        };
        if let Err(status) = r {
            self.native_failed(pid, status, None);
        }
        r
    }

    /// `NtProtectVirtualMemory` with its in-out range: returns the old protection (of the first
    /// page) and the page-rounded base and size the call covered.
    pub fn nt_protect_virtual_memory_range(
        &self,
        pid: AsId,
        process: Handle,
        base: Va,
        size: u64,
        protection: u32,
    ) -> Result<(u32, Va, u64), NtStatus> {
        let r: R<(u32, Va, u64)> = (|| {
            if process == Handle::NULL {
                return Err(NtStatus::STATUS_INVALID_HANDLE.into());
            }
            let t = self.om.lock().process_of(pid, process)?;
            Ok(self.ex.protect_virtual_memory(t, base, size, protection)?)
        })();
        self.native(pid, r)
    }

    /// `NtAreMappedFilesTheSame(File1MappedAsAnImage, File2MappedAsFile)` in the calling
    /// process (F136): `STATUS_SUCCESS` when both addresses lie in the same view, or when the
    /// first lies in an image view and the second in any view (image or data) of the same
    /// file; `STATUS_NOT_SAME_DEVICE` otherwise — two different data views of one file
    /// included, and F136's asymmetry: (data view, image of the same file) is
    /// `STATUS_NOT_SAME_DEVICE` while (image, data view) is `STATUS_SUCCESS` (the first
    /// argument is compared as an image, through the file's `ImageSectionObject`). Each address
    /// in turn: one outside every allocation (NULL, a free address, an address above user
    /// space) is `STATUS_INVALID_ADDRESS`; one in private memory is
    /// `STATUS_CONFLICTING_ADDRESSES`.
    pub fn nt_are_mapped_files_the_same(&self, pid: AsId, a: Va, b: Va) -> NtStatus {
        let view_of = |va: Va| -> Result<u64, NtStatus> {
            match self.nt_query_virtual_memory(pid, Handle::INVALID, va) {
                Ok(m) if m.state == MEM_FREE => Err(NtStatus::STATUS_INVALID_ADDRESS),
                Ok(m) if m.kind == MEM_MAPPED || m.kind == MEM_IMAGE => Ok(m.allocation_base),
                Ok(_) => Err(NtStatus::STATUS_CONFLICTING_ADDRESSES),
                Err(NtStatus::STATUS_INVALID_HANDLE) => Err(NtStatus::STATUS_INVALID_HANDLE),
                Err(_) => Err(NtStatus::STATUS_INVALID_ADDRESS),
            }
        };
        let (status, rule) = {
            let _on_behalf = crate::why::OnBehalf::enter();
            match (view_of(a), view_of(b)) {
                (Err(s), _) | (Ok(_), Err(s)) => (s, are_the_same_rule(s)),
                (Ok(x), Ok(y)) if x == y => (NtStatus::STATUS_SUCCESS, None),
                // F136: an image and any view of the same file, in that order.
                _ if self.ex.is_image_view(pid, a)
                    && self.ex.view_file(pid, a).is_some()
                    && self.ex.view_file(pid, a) == self.ex.view_file(pid, b) =>
                {
                    (NtStatus::STATUS_SUCCESS, None)
                }
                _ => (
                    NtStatus::STATUS_NOT_SAME_DEVICE,
                    Some(
                        "the two addresses lie in different views: two data views are the same \
                         only when they are one view, and a view is the same as an image of its \
                         file only when the image's address comes first (F136)"
                            .to_string(),
                    ),
                ),
            }
        };
        self.native_failed(pid, status, rule);
        status
    }
}

/// F136: why an address was refused by `NtAreMappedFilesTheSame`.
fn are_the_same_rule(s: NtStatus) -> Option<String> {
    Some(
        match s {
            NtStatus::STATUS_INVALID_ADDRESS => {
                "an address lies outside every allocation (free, NULL or above user space) (F136)"
            }
            NtStatus::STATUS_CONFLICTING_ADDRESSES => {
                "an address lies in private memory, not in a mapped view (F136)"
            }
            _ => return None,
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_nt_names_map_to_win32_names_and_back() {
        let map = |n| win32_object_name(n, DEFAULT_SESSION);
        assert_eq!(
            map("\\BaseNamedObjects\\Foo"),
            Ok(Some("Global\\Foo".into()))
        );
        assert_eq!(
            map("\\Sessions\\1\\BaseNamedObjects\\Foo"),
            Ok(Some("Local\\Foo".into()))
        );
        for (nt, win32) in [
            ("\\BaseNamedObjects\\Foo", "Global\\Foo"),
            ("\\Sessions\\1\\BaseNamedObjects\\Foo", "Local\\Foo"),
        ] {
            assert_eq!(object_path(Some(win32)), Ok(Some(nt.to_string())));
        }
        assert_eq!(map(""), Ok(None));
        assert_eq!(map("Foo"), Err(NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD));
        assert_eq!(
            map("\\Sessions\\2\\BaseNamedObjects\\Foo"),
            Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND)
        );
        assert_eq!(map("\\Foo"), Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND));
        assert_eq!(
            map("\\BaseNamedObjectsX\\Foo"),
            Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND)
        );
        assert_eq!(
            map("\\BaseNamedObjects"),
            Err(NtStatus::STATUS_OBJECT_NAME_INVALID)
        );
        assert_eq!(
            map("\\BaseNamedObjects\\"),
            Err(NtStatus::STATUS_OBJECT_NAME_INVALID)
        );
        assert_eq!(
            map("\\BaseNamedObjects\\a\\b"),
            Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND)
        );
        assert_eq!(
            win32_object_name("\\BaseNamedObjects\\Foo", 0),
            Ok(Some("Local\\Foo".into()))
        );
    }
}
