//! Sessions and privileges: which namespace a Win32 object name resolves in, and who may create
//! a file mapping in the global one (SCENARIO.md, additions of 2026-11-30, "Sessions and
//! privileges").
//!
//! The rules (Microsoft Learn, "Kernel object namespaces", and `CreateFileMapping`'s remarks):
//! * Each Remote Desktop session has its own namespace for named kernel objects. A process in
//!   session N (N ≠ 0) resolves `Local\X`, and an unprefixed `X`, to
//!   `\Sessions\N\BaseNamedObjects\X`; session 0 (services) uses `\BaseNamedObjects` itself as
//!   its local namespace. `Global\X` is `\BaseNamedObjects\X` from every session.
//! * Creating a file-mapping object in the global namespace from a session other than 0 needs
//!   `SeCreateGlobalPrivilege` (held by administrators and services, not by standard users);
//!   without it the create fails with `ERROR_ACCESS_DENIED`. The check is made only when a new
//!   object would be inserted: opening an existing one (`OpenFileMapping`, or `CreateFileMapping`
//!   finding the name, which returns it with `ERROR_ALREADY_EXISTS`) needs no privilege. As in
//!   `NtCreateSection`, the section is built first (the file may grow) and then refused at the
//!   name's insertion.
//! * The rule is the object manager's for section objects (and symbolic links, not modelled);
//!   events and other objects may be created in `Global\` from any session without the
//!   privilege, and ntmm does so.
//!
//! A process's [`Token`] carries its session and that privilege. Without a word a process is
//! session 1 with an administrator's token (as every process was before sessions were
//! modelled); a child takes its parent's session and token unless told otherwise, as
//! `CreateProcess` gives the child a copy of the parent's primary token (which carries the
//! session id).

use crate::object::MAX_NAME_CHARS;
use crate::system::System;
use crate::win32::*;
use ntmm_vmm::{AsId, NtStatus};

/// The part of a process's token that names resolution and the privilege rule read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token {
    /// The session id (0: services; 1: the first interactive session).
    pub session: u32,
    /// Whether the token holds `SeCreateGlobalPrivilege` (an administrator's or a service's
    /// token does; a standard user's does not).
    pub create_global: bool,
}

impl Default for Token {
    /// Session 1, an administrator: what every process was before sessions were modelled.
    fn default() -> Self {
        Token {
            session: 1,
            create_global: true,
        }
    }
}

impl Token {
    /// An administrator's token in `session`.
    pub fn administrator(session: u32) -> Self {
        Token {
            session,
            create_global: true,
        }
    }
    /// A standard user's token in `session` (no `SeCreateGlobalPrivilege`).
    pub fn user(session: u32) -> Self {
        Token {
            session,
            create_global: false,
        }
    }
}

/// The largest session id accepted (Windows numbers sessions with a `ULONG`; ntmm keeps them
/// small enough to print).
pub const MAX_SESSION: u32 = 0xFFFF;

/// The global namespace's directory.
pub const GLOBAL_DIRECTORY: &str = "\\BaseNamedObjects\\";

/// The local namespace's directory of `session`: `\BaseNamedObjects\` for session 0,
/// `\Sessions\N\BaseNamedObjects\` for any other.
pub fn local_directory(session: u32) -> String {
    if session == 0 {
        GLOBAL_DIRECTORY.to_string()
    } else {
        format!("\\Sessions\\{session}\\BaseNamedObjects\\")
    }
}

/// Turns a Win32 object name, as a process of `session` gives it, into its full path in NT's
/// namespace; `None` for no name. `Global\X` → `\BaseNamedObjects\X`; `Local\X` and `X` → the
/// session's local directory. Only those two prefixes are understood; a further `\` in the
/// name is `STATUS_OBJECT_PATH_NOT_FOUND`; an empty name after a prefix, or one longer than
/// [`MAX_NAME_CHARS`], is `STATUS_OBJECT_NAME_INVALID` (F37).
pub fn win32_object_path(session: u32, name: Option<&str>) -> Result<Option<String>, NtStatus> {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.encode_utf16().count() > MAX_NAME_CHARS {
        return Err(NtStatus::STATUS_OBJECT_NAME_INVALID);
    }
    let (dir, rest) = if let Some(r) = name.strip_prefix("Global\\") {
        (GLOBAL_DIRECTORY.to_string(), r)
    } else if let Some(r) = name.strip_prefix("Local\\") {
        (local_directory(session), r)
    } else {
        (local_directory(session), name)
    };
    if rest.is_empty() {
        return Err(NtStatus::STATUS_OBJECT_NAME_INVALID);
    }
    if rest.contains('\\') {
        return Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND);
    }
    Ok(Some(format!("{dir}{rest}")))
}

/// Whether `token` may insert a new section object at `path` (the `SeCreateGlobalPrivilege`
/// rule): `STATUS_ACCESS_DENIED` for a global name from a session other than 0 without the
/// privilege.
pub(crate) fn check_create_section(token: Token, path: &str) -> Result<(), NtStatus> {
    let global = path
        .strip_prefix(GLOBAL_DIRECTORY)
        .is_some_and(|rest| !rest.contains('\\'));
    if global && token.session != 0 && !token.create_global {
        return Err(NtStatus::STATUS_ACCESS_DENIED);
    }
    Ok(())
}

impl System {
    /// Creates a process with `token` (`None`: its parent's, or [`Token::default`] without a
    /// parent); otherwise as [`System::create_process`].
    pub fn create_process_with_token(
        &self,
        parent: Option<AsId>,
        inherit: bool,
        token: Option<Token>,
    ) -> Result<AsId, Win32Error> {
        if token.is_some_and(|t| t.session > MAX_SESSION) {
            return Err(Win32Error(ERROR_INVALID_PARAMETER));
        }
        let pid = self.create_process(parent, inherit)?;
        let mut om = self.om.lock();
        let token = token
            .or_else(|| parent.map(|p| om.token(p)))
            .unwrap_or_default();
        om.tokens.insert(pid, token);
        Ok(pid)
    }

    /// The token of a live process (session and privilege).
    pub fn process_token(&self, pid: AsId) -> Result<Token, Win32Error> {
        let om = self.om.lock();
        if !om.processes.contains_key(&pid) {
            return Err(Win32Error(ERROR_INVALID_HANDLE));
        }
        Ok(om.token(pid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_local_and_global_names_by_session() {
        let p = |s, n| win32_object_path(s, Some(n)).unwrap().unwrap();
        assert_eq!(p(1, "Foo"), "\\Sessions\\1\\BaseNamedObjects\\Foo");
        assert_eq!(p(2, "Local\\Foo"), "\\Sessions\\2\\BaseNamedObjects\\Foo");
        assert_eq!(p(0, "Local\\Foo"), "\\BaseNamedObjects\\Foo");
        assert_eq!(p(0, "Foo"), "\\BaseNamedObjects\\Foo");
        assert_eq!(p(3, "Global\\Foo"), "\\BaseNamedObjects\\Foo");
    }

    #[test]
    fn test_the_privilege_rule_applies_to_global_names_outside_session_0() {
        let g = "\\BaseNamedObjects\\X";
        assert_eq!(check_create_section(Token::user(0), g), Ok(()));
        assert_eq!(check_create_section(Token::administrator(1), g), Ok(()));
        assert_eq!(
            check_create_section(Token::user(1), g),
            Err(NtStatus::STATUS_ACCESS_DENIED)
        );
        assert_eq!(
            check_create_section(Token::user(1), "\\Sessions\\1\\BaseNamedObjects\\X"),
            Ok(())
        );
    }
}
