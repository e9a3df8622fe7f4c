//! Files: the volume's directory, `CreateFile` with access, sharing and the five dispositions,
//! `ReadFile`, `WriteFile`, `SetFilePointer`, `SetEndOfFile`, `GetFileSize`,
//! `FlushFileBuffers`, `DeleteFile` (facts §Q).
//!
//! File names follow the Win32 rules of [`crate::dos_path`] (trailing dots and spaces, device
//! names, an embedded NUL, lengths) and are compared as NTFS compares them
//! ([`crate::dos_path::upcase`]): case is kept, and looked up without regard to it, on memory
//! and host volumes alike. A host volume reaches its files only through
//! its volume module (`HostVolume`), which never leaves its directory.

use crate::access::*;
use crate::dos_path::FileName;
use crate::object::*;
use crate::system::{Fail, System, R};
use crate::volume::{store_of, HostName};
use crate::win32::*;
use ntmm_section::StreamId;
use ntmm_vmm::{AsId, BackingStore, MemoryStore, NtStatus};

/// `CREATE_NEW`.
pub const CREATE_NEW: u32 = 1;
/// `CREATE_ALWAYS`.
pub const CREATE_ALWAYS: u32 = 2;
/// `OPEN_EXISTING`.
pub const OPEN_EXISTING: u32 = 3;
/// `OPEN_ALWAYS`.
pub const OPEN_ALWAYS: u32 = 4;
/// `TRUNCATE_EXISTING`.
pub const TRUNCATE_EXISTING: u32 = 5;
/// `FILE_ATTRIBUTE_NORMAL`.
pub const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;
/// `FILE_FLAG_WRITE_THROUGH`: writes through the handle are durable before they return.
pub const FILE_FLAG_WRITE_THROUGH: u32 = 0x8000_0000;
/// `FILE_FLAG_NO_BUFFERING`: non-cached I/O. Not modelled: `CreateFile` refuses it with
/// `ERROR_NOT_SUPPORTED` rather than silently caching (DESIGN.md, "Files").
pub const FILE_FLAG_NO_BUFFERING: u32 = 0x2000_0000;
/// `FILE_BEGIN`.
pub const FILE_BEGIN: u32 = 0;
/// `FILE_CURRENT`.
pub const FILE_CURRENT: u32 = 1;
/// `FILE_END`.
pub const FILE_END: u32 = 2;
/// `INVALID_SET_FILE_POINTER`.
pub const INVALID_SET_FILE_POINTER: u32 = 0xFFFF_FFFF;
/// `INVALID_FILE_SIZE`.
pub const INVALID_FILE_SIZE: u32 = 0xFFFF_FFFF;

const READ_BITS: u32 = FILE_READ_DATA | FILE_EXECUTE;
const WRITE_BITS: u32 = FILE_WRITE_DATA | FILE_APPEND_DATA;

/// The directory key of a path: its [`FileName`] (Win32 rules: separators, drive, `.` and
/// `..` never above the root, trailing dots and spaces, device names, NUL, lengths) folded as
/// NTFS folds names. No key names anything outside the volume.
#[cfg(test)]
pub(crate) fn file_key(path: &str) -> R<String> {
    Ok(FileName::parse(path)?.key())
}

/// A zero-filled buffer of `len` bytes, or `ERROR_NOT_ENOUGH_MEMORY` where the host cannot
/// hold it (never an allocation abort).
fn zeroed(len: usize) -> R<Vec<u8>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| Fail::Win32(ERROR_NOT_ENOUGH_MEMORY))?;
    buf.resize(len, 0);
    Ok(buf)
}

impl System {
    /// Where this system keeps its files.
    pub fn volume(&self) -> &crate::system::Volume {
        &self.volume
    }

    /// A new, empty store for the file `name` (on a host volume: the host file, created).
    fn create_store(&self, name: &FileName) -> R<(Box<dyn BackingStore>, Option<HostName>)> {
        Ok(match &self.host {
            None => (Box::new(MemoryStore::new()), None),
            Some(v) => {
                let (host, file) = v.create(name)?;
                (Box::new(store_of(v, &host, file)?), Some(host))
            }
        })
    }

    /// The existing file at a Win32 path, for the inspections and directives that name a file
    /// (`expect disk`, `fail`): `ERROR_FILE_NOT_FOUND` when there is none.
    pub(crate) fn existing_file(
        &self,
        om: &mut ObjectManager,
        path: &str,
    ) -> Result<(FileName, DirectoryEntry), Win32Error> {
        let name = FileName::parse(path).map_err(|f| f.win32())?;
        let e = self
            .lookup_file(om, &name)
            .map_err(|f| f.win32())?
            .ok_or(Win32Error(ERROR_FILE_NOT_FOUND))?;
        Ok((name, e))
    }

    /// The stream of an existing file (a host volume also finds files already on disk, by
    /// their folded names).
    pub(crate) fn lookup_file(
        &self,
        om: &mut ObjectManager,
        name: &FileName,
    ) -> R<Option<DirectoryEntry>> {
        let key = name.key();
        if let Some(e) = om.files.get(&key) {
            return Ok(Some(e.clone()));
        }
        if let Some(v) = &self.host {
            if let Some((host, file)) = v.open_existing(name)? {
                let store = store_of(v, &host, file)?;
                let e = self.add_file(om, name, Box::new(store), Some(host));
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// Registers a new file `name` (under its key) whose data lives in `store` (on a host
    /// volume, in the host file spelled `host`).
    fn add_file(
        &self,
        om: &mut ObjectManager,
        name: &FileName,
        store: Box<dyn BackingStore>,
        host: Option<HostName>,
    ) -> DirectoryEntry {
        // Every file's I/O can be failed later, by its name (`fail read "NAME" page N`).
        let (store, plan) = crate::io_faults::IoFaults::wrap(name, store);
        let stream = self.ex.create_stream(store);
        self.faults.register(stream, plan);
        let e = DirectoryEntry {
            stream,
            delete_pending: false,
            name: name.display(),
            host,
        };
        om.files.insert(name.key(), e.clone());
        e
    }

    /// Creates a file in the volume (the scenario's `file` directive and tests).
    pub fn create_volume_file(&self, path: &str, contents: &[u8]) -> Result<(), Win32Error> {
        self.create_volume_file_sized(path, contents, contents.len() as u64)
    }

    /// Creates a file of `size` bytes in the volume: `contents`, then zeros (the scenario's
    /// `file NAME size N`). Only pages holding a non-zero byte are written — a new store reads
    /// as zeros — so a large empty file costs no host memory. `contents` longer than `size` is
    /// `ERROR_INVALID_PARAMETER`.
    pub fn create_volume_file_sized(
        &self,
        path: &str,
        contents: &[u8],
        size: u64,
    ) -> Result<(), Win32Error> {
        if contents.len() as u64 > size {
            return Err(Win32Error(ERROR_INVALID_PARAMETER));
        }
        let mut om = self.om.lock();
        let name = FileName::parse(path).map_err(|f| f.win32())?;
        let key = name.key();
        if let Some(old) = self.lookup_file(&mut om, &name).map_err(|f| f.win32())? {
            if self.ex.is_user_mapped(old.stream).unwrap_or(true)
                || !om.open_files(old.stream, None).is_empty()
            {
                return Err(Win32Error(ERROR_SHARING_VIOLATION));
            }
            om.files.remove(&key);
            self.remove_stream(old.stream, &old)
                .map_err(|f| f.win32())?;
        }
        let (mut store, host) = self.create_store(&name).map_err(|f| f.win32())?;
        store
            .set_size(ntmm_vmm::ByteCount::new(size))
            .map_err(|e| Win32Error(dos_error(e.status)))?;
        for (i, chunk) in contents.chunks(4096).enumerate() {
            if chunk.iter().all(|&b| b == 0) {
                continue; // the store reads zeros there already
            }
            let mut page = [0u8; 4096];
            page[..chunk.len()].copy_from_slice(chunk);
            store
                .write_page(i as u64, &page)
                .map_err(|e| Win32Error(dos_error(e.status)))?;
        }
        // The volume's files are there before the scenario: durable, as if flushed long ago.
        store.flush().map_err(|e| Win32Error(dos_error(e.status)))?;
        self.add_file(&mut om, &name, store, host);
        Ok(())
    }

    /// Adds a file to the volume whose data lives in `store` (any backing store: a
    /// fault-injecting one, say). The path must be free.
    pub fn attach_volume_file(
        &self,
        path: &str,
        store: Box<dyn BackingStore>,
    ) -> Result<(), Win32Error> {
        let mut om = self.om.lock();
        let name = FileName::parse(path).map_err(|f| f.win32())?;
        if om.files.contains_key(&name.key()) {
            return Err(Win32Error(ERROR_FILE_EXISTS));
        }
        self.add_file(&mut om, &name, store, None);
        Ok(())
    }

    /// What the file holds on disk (the backing store, not the cache): `expect disk`.
    pub fn read_disk(&self, path: &str) -> Result<Vec<u8>, Win32Error> {
        self.read_disk_range(path, 0, u64::MAX)
    }

    /// Up to `len` bytes of what the file holds on disk from `offset` (fewer past its end,
    /// none from past it): a check of part of a large file reads only that part.
    pub fn read_disk_range(
        &self,
        path: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, Win32Error> {
        let mut om = self.om.lock();
        let (_, e) = self.existing_file(&mut om, path)?;
        let size = self
            .ex
            .file_size(e.stream)
            .map_err(|e| Fail::from(e).win32())?;
        let n = size.saturating_sub(offset).min(len);
        let mut buf = zeroed(usize::try_from(n).unwrap_or(usize::MAX)).map_err(|f| f.win32())?;
        // An inspection: injected faults neither fail it nor are used up by it.
        let n = self
            .unchecked(e.stream, || self.ex.read_disk(e.stream, offset, &mut buf))
            .map_err(|e| Fail::from(e).win32())?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Deletes a file's stream and, on a host volume, its host file (never through a link).
    pub(crate) fn remove_stream(&self, stream: StreamId, entry: &DirectoryEntry) -> R<()> {
        self.ex.delete_stream(stream)?;
        self.faults.forget(stream);
        if let (Some(v), Some(host)) = (&self.host, &entry.host) {
            if let Err(e) = v.remove(host) {
                tracing::warn!(?host, ?e, "host file of a deleted file not removed");
            }
        }
        Ok(())
    }

    /// Writable user sections on a stream (`MmDoesFileHaveUserWritableReferences`).
    fn writable_sections(om: &ObjectManager, stream: StreamId) -> bool {
        om.objects
            .values()
            .any(|o| matches!(&o.body, Body::Section(s) if s.stream == Some(stream) && s.writable))
    }

    /// `IoCheckShareAccess` against the open file objects, plus the restriction of writable
    /// mappings (F119).
    fn check_sharing(om: &ObjectManager, stream: StreamId, access: u32, share: u32) -> R<()> {
        if Self::writable_sections(om, stream) && share & FILE_SHARE_WRITE == 0 {
            return Err(Fail::Rule(
                NtStatus::STATUS_SHARING_VIOLATION,
                "a writable section of the file exists, so every open must share write (F119)"
                    .into(),
            ));
        }
        let (r, w, d) = (
            access & READ_BITS != 0,
            access & WRITE_BITS != 0,
            access & DELETE != 0,
        );
        if !(r || w || d) {
            return Ok(());
        }
        for (_, f) in om.open_files(stream, None) {
            let (fr, fw, fd) = (
                f.access & READ_BITS != 0,
                f.access & WRITE_BITS != 0,
                f.access & DELETE != 0,
            );
            if !(fr || fw || fd) {
                continue;
            }
            let conflict = (r && f.share & FILE_SHARE_READ == 0)
                || (w && f.share & FILE_SHARE_WRITE == 0)
                || (d && f.share & FILE_SHARE_DELETE == 0)
                || (fr && share & FILE_SHARE_READ == 0)
                || (fw && share & FILE_SHARE_WRITE == 0)
                || (fd && share & FILE_SHARE_DELETE == 0);
            if conflict {
                return Err(Fail::Rule(
                    NtStatus::STATUS_SHARING_VIOLATION,
                    format!(
                        "the file is open with {}, sharing {}; this open asks {}, sharing {}, \
                         and one of them does not share what the other uses (IoCheckShareAccess)",
                        crate::why::access_names(ObjectType::File, f.access),
                        crate::why::share_names(f.share),
                        crate::why::access_names(ObjectType::File, access),
                        crate::why::share_names(share)
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn open_file(
        &self,
        pid: AsId,
        path: &str,
        access: u32,
        share: u32,
        inherit: bool,
        disposition: u32,
        flags: u32,
    ) -> R<(Handle, bool)> {
        let mut om = self.om.lock();
        om.processes
            .get(&pid)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        if !(CREATE_NEW..=TRUNCATE_EXISTING).contains(&disposition) || share & !7 != 0 {
            return Err(Fail::Win32(ERROR_INVALID_PARAMETER));
        }
        if flags & FILE_FLAG_NO_BUFFERING != 0 {
            // Non-cached I/O (sector-aligned transfers that bypass the cache and the mapped
            // pages, nt_internals §8) is not modelled; refusing it says so, where accepting it
            // would silently give cached semantics.
            return Err(Fail::Win32(ERROR_NOT_SUPPORTED));
        }
        let name = FileName::parse(path)?;
        let key = name.key();
        let access = map_generic(ObjectType::File, access);
        let existing = self.lookup_file(&mut om, &name)?;
        let (stream, existed) = match existing {
            Some(e) => {
                if e.delete_pending {
                    return Err(Fail::Win32(ERROR_ACCESS_DENIED));
                }
                if disposition == CREATE_NEW {
                    return Err(Fail::Win32(ERROR_FILE_EXISTS));
                }
                Self::check_sharing(&om, e.stream, access, share)?;
                // MmFlushImageSection(MmFlushForWrite): a file an image section holds cannot be
                // opened for writing (nt_internals §1.7: the image keeps its own pages).
                if access & (FILE_WRITE_DATA | FILE_APPEND_DATA) != 0
                    && self.ex.file_image_control_area(e.stream)?.is_some()
                {
                    return Err(Fail::Rule(
                        NtStatus::STATUS_SHARING_VIOLATION,
                        "an image section maps the file, so it cannot be opened for writing \
                         (MmFlushImageSection, nt_internals §1.7)"
                            .into(),
                    ));
                }
                if disposition == TRUNCATE_EXISTING && access & FILE_WRITE_DATA == 0 {
                    return Err(Fail::Win32(ERROR_INVALID_PARAMETER));
                }
                if matches!(disposition, CREATE_ALWAYS | TRUNCATE_EXISTING) {
                    // F120: a truncating open of a user-mapped file.
                    if self.ex.is_user_mapped(e.stream)? {
                        return Err(Fail::Rule(
                            NtStatus::STATUS_USER_MAPPED_FILE,
                            "a section object or a mapped view holds the file, so a truncating open fails (F120)"
                                .into(),
                        ));
                    }
                    self.ex.set_file_size(e.stream, 0)?;
                }
                (e.stream, true)
            }
            None => {
                if matches!(disposition, OPEN_EXISTING | TRUNCATE_EXISTING) {
                    return Err(Fail::Rule(
                        NtStatus::STATUS_OBJECT_NAME_NOT_FOUND,
                        format!("no file named {path} exists, and the disposition opens only an existing file"),
                    ));
                }
                let (store, host) = self.create_store(&name)?;
                let e = self.add_file(&mut om, &name, store, host);
                (e.stream, false)
            }
        };
        let id = om.add_object(
            Body::File(FileObject {
                stream,
                key,
                access,
                share,
                position: 0,
                write_through: flags & FILE_FLAG_WRITE_THROUGH != 0,
            }),
            0,
        );
        Ok((om.insert_handle(pid, id, access, inherit)?, existed))
    }

    /// `CreateFile`: on success the last error is `ERROR_ALREADY_EXISTS` when `OPEN_ALWAYS` or
    /// `CREATE_ALWAYS` found the file, else `ERROR_SUCCESS`.
    pub fn create_file(
        &self,
        pid: AsId,
        path: &str,
        access: u32,
        share: u32,
        inherit: bool,
        disposition: u32,
        flags: u32,
    ) -> Result<Handle, Win32Error> {
        let r = self.open_file(pid, path, access, share, inherit, disposition, flags);
        let (h, existed) = self.win32(pid, r)?;
        let always = matches!(disposition, OPEN_ALWAYS | CREATE_ALWAYS);
        self.report_existing(pid, existed && always);
        Ok(h)
    }

    fn file_of(om: &ObjectManager, pid: AsId, h: Handle) -> R<(HandleEntry, FileObject)> {
        let (e, o) = om.typed(pid, h, ObjectType::File)?;
        match &o.body {
            Body::File(f) => Ok((e, f.clone())),
            _ => Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH.into()),
        }
    }

    fn set_position(om: &mut ObjectManager, pid: AsId, h: Handle, pos: u64) -> R<()> {
        let e = om.entry(pid, h)?;
        if let Some(Object {
            body: Body::File(f),
            ..
        }) = om.objects.get_mut(&e.object)
        {
            f.position = pos;
        }
        Ok(())
    }

    /// `ReadFile` at the file pointer: returns the bytes read (fewer at end of file).
    pub fn read_file(&self, pid: AsId, h: Handle, len: usize) -> Result<Vec<u8>, Win32Error> {
        let r = (|| {
            let mut om = self.om.lock();
            let (e, f) = Self::file_of(&om, pid, h)?;
            if e.access & FILE_READ_DATA == 0 {
                return Err(Fail::Rule(
                    NtStatus::STATUS_ACCESS_DENIED,
                    format!(
                        "the file handle grants {}; ReadFile needs FILE_READ_DATA",
                        crate::why::access_names(ObjectType::File, e.access)
                    ),
                ));
            }
            // No more than the file holds past the pointer: a huge request on a small file
            // asks the host for no more than that.
            let left = self.ex.file_size(f.stream)?.saturating_sub(f.position);
            // Room reserved (fallibly) and filled by the cache's copy, no zero-fill first.
            let want = len.min(usize::try_from(left).unwrap_or(usize::MAX));
            let mut buf = Vec::new();
            buf.try_reserve_exact(want)
                .map_err(|_| Fail::Win32(ERROR_NOT_ENOUGH_MEMORY))?;
            let n = self
                .ex
                .read_file_append(f.stream, f.position, want, &mut buf)?;
            buf.truncate(n);
            om.file_io(pid, &f, false, f.position, n as u64);
            Self::set_position(&mut om, pid, h, f.position + n as u64)?;
            Ok(buf)
        })();
        self.win32(pid, r)
    }

    /// `WriteFile` at the file pointer (at the end for append-only handles): returns the bytes
    /// written. Through a `FILE_FLAG_WRITE_THROUGH` handle the write is durable on return.
    pub fn write_file(&self, pid: AsId, h: Handle, data: &[u8]) -> Result<u32, Win32Error> {
        let r = (|| {
            let mut om = self.om.lock();
            let (e, f) = Self::file_of(&om, pid, h)?;
            if e.access & WRITE_BITS == 0 {
                return Err(Fail::Rule(
                    NtStatus::STATUS_ACCESS_DENIED,
                    format!(
                        "the file handle grants {}; WriteFile needs FILE_WRITE_DATA or FILE_APPEND_DATA",
                        crate::why::access_names(ObjectType::File, e.access)
                    ),
                ));
            }
            let at = if e.access & FILE_WRITE_DATA == 0 {
                self.ex.file_size(f.stream)?
            } else {
                f.position
            };
            let n = if f.write_through {
                self.ex.write_file_through(f.stream, at, data)?
            } else {
                self.ex.write_file(f.stream, at, data)?
            };
            om.file_io(pid, &f, true, at, n as u64);
            Self::set_position(&mut om, pid, h, at + n as u64)?;
            u32::try_from(n).map_err(|_| Fail::Win32(ERROR_INVALID_PARAMETER))
        })();
        self.win32(pid, r)
    }

    /// `SetFilePointer`: returns the low 32 bits of the new position and, if `high` was
    /// given, the high 32 bits. Sets `ERROR_SUCCESS` when the low part looks like
    /// `INVALID_SET_FILE_POINTER`, so callers can tell.
    pub fn set_file_pointer(
        &self,
        pid: AsId,
        h: Handle,
        distance: i32,
        high: Option<i32>,
        method: u32,
    ) -> Result<(u32, Option<i32>), Win32Error> {
        let r = (|| {
            let mut om = self.om.lock();
            let (_, f) = Self::file_of(&om, pid, h)?;
            let offset = match high {
                Some(hi) => (i64::from(hi) << 32) | i64::from(distance as u32),
                None => i64::from(distance),
            };
            let base = match method {
                FILE_BEGIN => 0,
                FILE_CURRENT => f.position as i64,
                FILE_END => self.ex.file_size(f.stream)? as i64,
                _ => return Err(Fail::Win32(ERROR_INVALID_PARAMETER)),
            };
            let new = base
                .checked_add(offset)
                .ok_or(Fail::Win32(ERROR_INVALID_PARAMETER))?;
            if new < 0 {
                return Err(Fail::Win32(ERROR_NEGATIVE_SEEK));
            }
            if high.is_none() && new > i64::from(u32::MAX) {
                return Err(Fail::Win32(ERROR_INVALID_PARAMETER));
            }
            Self::set_position(&mut om, pid, h, new as u64)?;
            Ok((
                (new as u64 & 0xFFFF_FFFF) as u32,
                high.map(|_| (new >> 32) as i32),
            ))
        })();
        let (low, hi) = self.win32(pid, r)?;
        if low == INVALID_SET_FILE_POINTER {
            self.set_last_error(pid, ERROR_SUCCESS);
        }
        Ok((low, hi))
    }

    /// `SetEndOfFile`: the file ends at the file pointer. Shrinking a user-mapped file is
    /// `ERROR_USER_MAPPED_FILE` (§8).
    pub fn set_end_of_file(&self, pid: AsId, h: Handle) -> Result<(), Win32Error> {
        let r = (|| {
            let om = self.om.lock();
            let (e, f) = Self::file_of(&om, pid, h)?;
            if e.access & FILE_WRITE_DATA == 0 {
                return Err(NtStatus::STATUS_ACCESS_DENIED.into());
            }
            Ok(self.ex.set_file_size(f.stream, f.position)?)
        })();
        self.win32(pid, r)
    }

    /// `GetFileSize` (the full 64-bit size). Sets `ERROR_SUCCESS` when the low part equals
    /// `INVALID_FILE_SIZE`.
    pub fn get_file_size(&self, pid: AsId, h: Handle) -> Result<u64, Win32Error> {
        let r = (|| {
            let om = self.om.lock();
            let (_, f) = Self::file_of(&om, pid, h)?;
            Ok(self.ex.file_size(f.stream)?)
        })();
        let size = self.win32(pid, r)?;
        if size & 0xFFFF_FFFF == u64::from(INVALID_FILE_SIZE) {
            self.set_last_error(pid, ERROR_SUCCESS);
        }
        Ok(size)
    }

    /// `FlushFileBuffers`: every modified cached page of the file reaches the disk, and the
    /// file's data and size on the disk become durable (`IRP_MJ_FLUSH_BUFFERS`).
    pub fn flush_file_buffers(&self, pid: AsId, h: Handle) -> Result<(), Win32Error> {
        let r = (|| {
            let om = self.om.lock();
            let (e, f) = Self::file_of(&om, pid, h)?;
            if e.access & WRITE_BITS == 0 {
                return Err(NtStatus::STATUS_ACCESS_DENIED.into());
            }
            Ok(self.ex.flush_file(f.stream)?)
        })();
        self.win32(pid, r)
    }

    /// `DeleteFile`: refused while a data section exists (F124: `STATUS_CANNOT_DELETE`) or while
    /// an open handle does not share delete; with other handles open (sharing delete) the file
    /// goes when the last one closes.
    pub fn delete_file(&self, pid: AsId, path: &str) -> Result<(), Win32Error> {
        let r = (|| {
            let mut om = self.om.lock();
            om.processes
                .get(&pid)
                .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
            let name = FileName::parse(path)?;
            let key = name.key();
            let e = self
                .lookup_file(&mut om, &name)?
                .ok_or(NtStatus::STATUS_OBJECT_NAME_NOT_FOUND)?;
            if e.delete_pending {
                return Err(Fail::Win32(ERROR_ACCESS_DENIED));
            }
            let open = om.open_files(e.stream, None);
            if open.iter().any(|(_, f)| f.share & FILE_SHARE_DELETE == 0) {
                return Err(Fail::Rule(
                    NtStatus::STATUS_SHARING_VIOLATION,
                    "an open handle of the file does not share delete (FILE_SHARE_DELETE)".into(),
                ));
            }
            if self.ex.is_user_mapped(e.stream)? {
                return Err(Fail::Rule(
                    NtStatus::STATUS_CANNOT_DELETE,
                    "a section object or a mapped view holds the file, so it cannot be marked for deletion (F124)"
                        .into(),
                ));
            }
            if open.is_empty() {
                om.files.remove(&key);
                self.remove_stream(e.stream, &e)?;
            } else if let Some(d) = om.files.get_mut(&key) {
                d.delete_pending = true;
            }
            Ok(())
        })();
        self.win32(pid, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_file_keys_normalise_separators_case_and_drive() {
        assert_eq!(file_key("C:\\Dir/File.BIN").unwrap(), "DIR\\FILE.BIN");
        assert_eq!(file_key("/data.bin").unwrap(), "DATA.BIN");
        assert!(matches!(
            file_key(""),
            Err(Fail::Win32(ERROR_PATH_NOT_FOUND))
        ));
        assert!(matches!(
            file_key("a*b"),
            Err(Fail::Win32(ERROR_INVALID_NAME))
        ));
    }

    /// `.` and `..` are resolved as Win32 normalises a path, and `..` never climbs above the
    /// volume's root, so no name reaches outside a host-directory volume.
    #[test]
    fn test_file_keys_resolve_dot_components_inside_the_volume() {
        assert_eq!(file_key("a\\..\\..\\b.bin").unwrap(), "B.BIN");
        assert_eq!(file_key("..\\..\\etc/passwd").unwrap(), "ETC\\PASSWD");
        assert_eq!(file_key("C:\\x\\.\\y\\\\Z.bin").unwrap(), "X\\Y\\Z.BIN");
        assert_eq!(file_key("d\\e\\..\\f").unwrap(), "D\\F");
        for dir in ["..", ".", "a\\..", "a\\.", "\\"] {
            assert!(
                matches!(file_key(dir), Err(Fail::Win32(ERROR_PATH_NOT_FOUND))),
                "{dir}"
            );
        }
    }
}
