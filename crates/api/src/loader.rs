//! Images at the Win32 level: the `image` directive's PE writer, `LoadLibrary` /
//! `FreeLibrary`, and a process's executable mapped at creation.
//!
//! `LoadLibrary` does what the loader does for the memory manager, and nothing else: it opens
//! the file, creates a `SEC_IMAGE` section, maps a view (at the image base when free, F132),
//! closes both handles (the view keeps the image control area, §6.1) and counts the load per
//! process, so a second `LoadLibrary` of the same file returns the same base and needs a second
//! `FreeLibrary`. Imports are not resolved, relocations are not applied, no entry point
//! (`DllMain`) runs, and there is no module list beyond these counts: stated in
//! docs/SCENARIO.md. An executable mapped at process creation is pinned: `FreeLibrary` of it
//! succeeds and changes nothing (the loader's pinned load count).

use crate::access::*;
use crate::dos_path::FileName;
use crate::mapping::{NtCreateSectionArgs, NtMapViewArgs};
use crate::object::Handle;
use crate::system::{Fail, System, R};
use crate::win32::Win32Error;
use ntmm_section::consts::*;
use ntmm_section::image::ImageSpec;
use ntmm_vmm::{AsId, NtStatus, Va};
use std::collections::BTreeMap;

/// One loaded image in one process.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Module {
    /// The file's key (its upcased name, as the volume compares names).
    key: String,
    /// Where its view is.
    base: Va,
    /// `LoadLibrary` calls not yet matched by `FreeLibrary`.
    count: u32,
    /// The process's executable: never unloaded.
    pinned: bool,
}

/// The loaded images of every process.
#[derive(Debug, Default)]
pub(crate) struct Loader {
    modules: parking_lot::Mutex<BTreeMap<AsId, Vec<Module>>>,
}

impl Loader {
    /// Forgets a process's modules (it exited: its views are gone).
    pub(crate) fn forget(&self, pid: AsId) {
        self.modules.lock().remove(&pid);
    }
}

fn dll_not_found(rule: String) -> Fail {
    Fail::Rule(NtStatus::STATUS_DLL_NOT_FOUND, rule)
}

impl System {
    /// Writes the minimal PE32+ image `spec` describes to the volume (the `image` directive);
    /// a name ending in `.dll` gets `IMAGE_FILE_DLL`. Returns the file's size.
    pub fn write_image(&self, path: &str, spec: &ImageSpec) -> Result<u64, String> {
        let dll = path.to_ascii_lowercase().ends_with(".dll");
        let bytes = ntmm_section::image::build_pe(spec, dll).map_err(|e| e.to_string())?;
        self.create_volume_file(path, &bytes)
            .map_err(|e| e.to_string())?;
        Ok(bytes.len() as u64)
    }

    /// Maps the image `path` into `pid` as the loader does (see the module docs).
    fn load_image(&self, pid: AsId, path: &str, pinned: bool) -> R<Va> {
        let key = FileName::parse(path)?.key();
        if let Some(m) = self
            .loader
            .modules
            .lock()
            .get_mut(&pid)
            .and_then(|ms| ms.iter_mut().find(|m| m.key == key))
        {
            m.count = m.count.saturating_add(1);
            return Ok(m.base);
        }
        let not_found = |f: Fail| match f.win32().0 {
            crate::win32::ERROR_FILE_NOT_FOUND | crate::win32::ERROR_PATH_NOT_FOUND => {
                dll_not_found(format!(
                    "the loader finds no file {path:?} on the volume (LdrLoadDll)"
                ))
            }
            _ => f,
        };
        let (file, _) = self
            .open_file(
                pid,
                path,
                GENERIC_READ | GENERIC_EXECUTE,
                FILE_SHARE_READ | FILE_SHARE_DELETE,
                false,
                crate::files::OPEN_EXISTING,
                0,
            )
            .map_err(not_found)?;
        let section = self.create_section_in(
            pid,
            NtCreateSectionArgs {
                access: SECTION_ALL_ACCESS,
                protection: PAGE_EXECUTE_READ,
                attributes: SEC_IMAGE,
                file: Some(file),
                ..NtCreateSectionArgs::default()
            },
        );
        self.close_quietly(pid, file);
        let (section, _) = section?;
        let view = self.map_in(
            pid,
            section,
            Handle::INVALID,
            NtMapViewArgs {
                inherit: VIEW_SHARE,
                protection: PAGE_EXECUTE_WRITECOPY,
                ..NtMapViewArgs::default()
            },
        );
        self.close_quietly(pid, section);
        let (base, _) = view?;
        self.loader
            .modules
            .lock()
            .entry(pid)
            .or_default()
            .push(Module {
                key,
                base,
                count: 1,
                pinned,
            });
        Ok(base)
    }

    /// Closes a handle the loader opened for itself.
    fn close_quietly(&self, pid: AsId, h: Handle) {
        let mut om = self.om.lock();
        if let Err(e) = self.close_in(&mut om, pid, h) {
            tracing::warn!(
                ?pid,
                ?h,
                "the loader could not close its handle: {:?}",
                e.win32()
            );
        }
    }

    /// `LoadLibrary`: maps the image and returns its base (the module handle). A missing file
    /// is `ERROR_MOD_NOT_FOUND`; a file that is not an image `ERROR_BAD_EXE_FORMAT` (F30).
    pub fn load_library(&self, pid: AsId, path: &str) -> Result<Va, Win32Error> {
        let r = self.load_image(pid, path, false);
        let base = self.win32(pid, r)?;
        Ok(base)
    }

    /// `FreeLibrary`: one load less; the last unmaps the image. A value that is no module's
    /// base in this process is `ERROR_MOD_NOT_FOUND`.
    pub fn free_library(&self, pid: AsId, base: Va) -> Result<(), Win32Error> {
        let r = (|| {
            let unmap = {
                let mut all = self.loader.modules.lock();
                let ms = all.entry(pid).or_default();
                let i = ms.iter().position(|m| m.base == base).ok_or_else(|| {
                    dll_not_found(format!(
                        "{base} is not the base of an image LoadLibrary loaded in this process"
                    ))
                })?;
                if ms[i].pinned {
                    false
                } else {
                    ms[i].count -= 1;
                    if ms[i].count == 0 {
                        ms.remove(i);
                        true
                    } else {
                        false
                    }
                }
            };
            if unmap {
                self.ex.unmap_view(pid, base)?;
            }
            Ok(())
        })();
        self.win32(pid, r)
    }

    /// Maps a process's executable at its creation (`process A image "app.exe"`): pinned.
    pub fn map_process_image(&self, pid: AsId, path: &str) -> Result<Va, Win32Error> {
        let r = self.load_image(pid, path, true);
        self.win32(pid, r)
    }

    /// `STATUS_IMAGE_NOT_AT_BASE` when the view at `base` of `section` is an image mapped away
    /// from its preferred base (F132), else `STATUS_SUCCESS`.
    pub fn image_view_status(&self, pid: AsId, section: Handle, base: Va) -> NtStatus {
        let preferred = self
            .section_id(pid, section)
            .ok()
            .and_then(|id| self.ex.section_image_base(id).ok().flatten());
        match preferred {
            Some(p) if p != base.raw() => NtStatus::STATUS_IMAGE_NOT_AT_BASE,
            _ => NtStatus::STATUS_SUCCESS,
        }
    }
}
