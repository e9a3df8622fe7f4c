//! `GetTempPath` and `GetTempFileName` (the seed's ProcessWalker makes its temporary file with
//! them).
//!
//! * The temporary directory is `C:\Temp\` on the volume (a memory volume's `Temp`, a host
//!   volume's `Temp` subdirectory, made when the first file goes in it). It always exists:
//!   ntmm has no `CreateDirectory`, and directories are otherwise implicit (a directory exists
//!   when a file of the volume is in it, or, on a host volume, when the host directory does).
//! * `GetTempPath(n, buf)`: the length of the path without its NUL when `n` holds the path and
//!   its NUL, else the size needed including the NUL, buffer untouched (kernel32 path.c
//!   `test_InitPathA`: `GetTempPathA(len, …)` with the NUL missing returns `len + 1`).
//! * `GetTempFileName(path, prefix, unique, name)` forms `path\PPPXXXX.tmp`: the first three
//!   characters of the prefix (none for `NULL`), the low 16 bits of the number as four
//!   upper-case hex digits, `.tmp` (Microsoft Learn `GetTempFileNameW`; path.c accepts `%.4x`
//!   and `%x`, compared without case). With `unique` non-zero it only forms the name and
//!   returns `unique`; no file is made (path.c: `DeleteFile` of it fails with
//!   `ERROR_FILE_NOT_FOUND`). With 0 it makes the file, empty, with the first free number and
//!   returns that number. Windows starts from the system time; ntmm, to stay deterministic,
//!   counts from 1 per machine (skipping 0 and names in use). A directory that does not exist
//!   is `ERROR_DIRECTORY` for every `unique` (path.c); a path of `MAX_PATH - 14` characters or
//!   more is `ERROR_BUFFER_OVERFLOW` (Microsoft Learn: "cannot be longer than MAX_PATH–14
//!   characters"); every number in use is `ERROR_FILE_EXISTS`.

use crate::access::GENERIC_WRITE;
use crate::dos_path::{FileName, MAX_PATH};
use crate::files::{CREATE_NEW, FILE_ATTRIBUTE_NORMAL};
use crate::system::{Fail, System, R};
use crate::win32::*;
use ntmm_vmm::AsId;
use std::sync::atomic::{AtomicU32, Ordering};

/// The volume's temporary directory, as `GetTempPath` returns it.
pub const TEMP_PATH: &str = "C:\\Temp\\";

/// The next number `GetTempFileName(…, 0, …)` tries (per machine).
#[derive(Debug)]
pub(crate) struct TempCounter(AtomicU32);

impl Default for TempCounter {
    fn default() -> Self {
        TempCounter(AtomicU32::new(1))
    }
}

impl TempCounter {
    /// The next candidate number in 1..=0xFFFF.
    fn next(&self) -> u32 {
        let n = self.0.fetch_add(1, Ordering::Relaxed) & 0xFFFF;
        if n == 0 {
            self.0.fetch_add(1, Ordering::Relaxed) & 0xFFFF
        } else {
            n
        }
    }
}

/// What `GetTempPath` gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TempPath {
    /// The path fitted: its length in characters (without the NUL) and the path.
    Copied(u32, String),
    /// The buffer was too small: the size needed, NUL included; nothing copied.
    TooSmall(u32),
}

impl System {
    /// `GetTempPath(nBufferLength, lpBuffer)` (module docs).
    pub fn get_temp_path(&self, pid: AsId, buffer_chars: u32) -> Result<TempPath, Win32Error> {
        if !self.om.lock().processes.contains_key(&pid) {
            return Err(Win32Error(ERROR_INVALID_HANDLE));
        }
        let len = TEMP_PATH.len() as u32;
        Ok(if buffer_chars > len {
            TempPath::Copied(len, TEMP_PATH.to_string())
        } else {
            TempPath::TooSmall(len + 1)
        })
    }

    /// `GetTempFileName(lpPathName, lpPrefixString, uUnique, lpTempFileName)`: the number and
    /// the name (module docs).
    pub fn get_temp_file_name(
        &self,
        pid: AsId,
        path: &str,
        prefix: Option<&str>,
        unique: u32,
    ) -> Result<(u32, String), Win32Error> {
        let r = self.temp_file_name(pid, path, prefix, unique);
        self.win32(pid, r)
    }

    fn temp_file_name(
        &self,
        pid: AsId,
        path: &str,
        prefix: Option<&str>,
        unique: u32,
    ) -> R<(u32, String)> {
        if !self.om.lock().processes.contains_key(&pid) {
            return Err(Fail::Win32(ERROR_INVALID_HANDLE));
        }
        if path.encode_utf16().count() >= MAX_PATH - 14 {
            return Err(Fail::Win32(ERROR_BUFFER_OVERFLOW));
        }
        if !self.directory_exists(path)? {
            return Err(Fail::Win32(ERROR_DIRECTORY));
        }
        let dir = if path.ends_with(['\\', '/']) {
            path.to_string()
        } else {
            format!("{path}\\")
        };
        let pre: String = prefix.unwrap_or("").chars().take(3).collect();
        let name = |n: u32| format!("{dir}{pre}{:04X}.tmp", n & 0xFFFF);
        if unique != 0 {
            return Ok((unique, name(unique)));
        }
        for _ in 0..0xFFFF {
            let n = self.temp_counter.next();
            let candidate = name(n);
            match self.create_file(
                pid,
                &candidate,
                GENERIC_WRITE,
                0,
                false,
                CREATE_NEW,
                FILE_ATTRIBUTE_NORMAL,
            ) {
                Ok(h) => {
                    self.close_handle(pid, h).map_err(|e| Fail::Win32(e.0))?;
                    self.set_last_error(pid, ERROR_SUCCESS);
                    return Ok((n, candidate));
                }
                Err(Win32Error(ERROR_FILE_EXISTS)) => continue,
                Err(e) => return Err(Fail::Win32(e.0)),
            }
        }
        Err(Fail::Win32(ERROR_FILE_EXISTS))
    }

    /// Whether the directory `path` exists on the volume: the root, the temporary directory,
    /// a directory holding a file the machine knows, or (host volume) a host directory.
    fn directory_exists(&self, path: &str) -> R<bool> {
        // The directory's components: parse a name inside it.
        let inside = format!("{}\\x", path.trim_end_matches(['\\', '/']));
        let Ok(name) = FileName::parse(&inside) else {
            return Ok(false);
        };
        let comps = name.components();
        let dirs = &comps[..comps.len() - 1];
        let key = dirs
            .iter()
            .map(|c| crate::dos_path::upcase(c))
            .collect::<Vec<_>>()
            .join("\\");
        if key.is_empty() || key == "TEMP" {
            return Ok(true);
        }
        let prefix = format!("{key}\\");
        if self.om.lock().files.keys().any(|k| k.starts_with(&prefix)) {
            return Ok(true);
        }
        match &self.host {
            Some(v) => v.directory_exists(dirs),
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_the_counter_skips_zero() {
        let c = TempCounter(AtomicU32::new(0xFFFF));
        assert_eq!(c.next(), 0xFFFF);
        assert_eq!(c.next(), 1);
    }
}
