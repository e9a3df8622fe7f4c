//! A store backed by a real file in a real directory of the host.
//!
//! The host file is "the disk": writes reach it at once (not durable); a flush is an `fsync`
//! of the host file; a crash writes the durable versions of the changed pages back, restores
//! the durable length and syncs (see [`BackingStore`]'s durability contract).

use super::durable::{RawPages, UndoLog};
use super::{page_extent, BackingStore, PageBuf, StoreError, StoreOp};
use crate::addr::{ByteCount, PAGE_SIZE};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The host file as a disk.
#[derive(Debug)]
struct HostDisk {
    file: File,
    size: u64,
}

impl RawPages for HostDisk {
    fn raw_size(&self) -> u64 {
        self.size
    }

    fn raw_set_size(&mut self, size: u64) -> Result<(), StoreError> {
        self.file
            .set_len(size)
            .map_err(|e| StoreError::host(StoreOp::Resize, 0, &e))?;
        self.size = size;
        Ok(())
    }

    fn raw_read(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError> {
        buf.fill(0);
        let Some((start, len)) = page_extent(page, self.size) else {
            return Ok(());
        };
        let err = |e: std::io::Error| StoreError::host(StoreOp::Read, page, &e);
        self.file.seek(SeekFrom::Start(start)).map_err(err)?;
        self.file.read_exact(&mut buf[..len]).map_err(err)
    }

    fn raw_write(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError> {
        let Some((start, len)) = page_extent(page, self.size) else {
            return Ok(());
        };
        debug_assert!(len as u64 <= PAGE_SIZE);
        let err = |e: std::io::Error| StoreError::host(StoreOp::Write, page, &e);
        self.file.seek(SeekFrom::Start(start)).map_err(err)?;
        self.file.write_all(&buf[..len]).map_err(err)
    }

    fn raw_sync(&mut self) -> Result<(), StoreError> {
        // Data and length (a shrink or growth is metadata `fdatasync` may leave behind).
        self.file
            .sync_all()
            .map_err(|e| StoreError::host(StoreOp::Flush, 0, &e))
    }

    fn raw_nonzero_pages(&self, from: u64, to: u64) -> Vec<u64> {
        // The file's data extents (SEEK_DATA / SEEK_HOLE): a sparse host file's holes read as
        // zeros and need no undo data, so a shrink of a large sparse file lists only its data.
        // Where the file system cannot say, every page of the range.
        data_pages(&self.file, from, to).unwrap_or_else(|_| (from..to).collect())
    }
}

/// The pages in `[from, to)` that hold data extents of `file` (pages wholly inside holes are
/// left out).
fn data_pages(file: &File, from: u64, to: u64) -> std::io::Result<Vec<u64>> {
    use rustix::fs::{seek, SeekFrom};
    let end = to.saturating_mul(PAGE_SIZE);
    let mut pos = from.saturating_mul(PAGE_SIZE);
    let mut pages = Vec::new();
    while pos < end {
        let data = match seek(file, SeekFrom::Data(pos)) {
            Ok(d) => d,
            Err(rustix::io::Errno::NXIO) => break, // no data past `pos`
            Err(e) => return Err(e.into()),
        };
        if data >= end {
            break;
        }
        let hole = seek(file, SeekFrom::Hole(data))?.min(end);
        pages.extend(data / PAGE_SIZE..hole.div_ceil(PAGE_SIZE));
        pos = hole.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    }
    pages.dedup();
    Ok(pages)
}

/// A store kept in a host file. Page `n` lives at byte offset `n × 4096`; the host file's
/// length is the store's size.
#[derive(Debug)]
pub struct HostFileStore {
    path: PathBuf,
    disk: HostDisk,
    log: UndoLog,
}

impl HostFileStore {
    /// Opens (creating if needed) the host file at `path`. Its current length is the size, and
    /// its current contents are taken as durable.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let size = file.metadata()?.len();
        Ok(HostFileStore {
            path,
            disk: HostDisk { file, size },
            log: UndoLog::new(size),
        })
    }

    /// Creates (or truncates) the host file at `path` with `size` zero bytes. The new file
    /// (a directory operation, journaled by the file system) is durable with that size; the
    /// next flush syncs it on the host.
    pub fn create(path: impl AsRef<Path>, size: ByteCount) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        file.set_len(size.raw())?;
        Ok(HostFileStore {
            path,
            disk: HostDisk {
                file,
                size: size.raw(),
            },
            log: UndoLog::unsynced(size.raw()),
        })
    }

    /// A store over a host file already opened (read-write) by the caller, which has checked
    /// what it is (a volume opens its files beneath its root and never through a link);
    /// `path` is only for display. Its current length is the size, and its current contents are
    /// taken as durable (the next flush syncs the host file all the same).
    pub fn from_file(file: File, path: impl Into<PathBuf>) -> std::io::Result<Self> {
        let size = file.metadata()?.len();
        Ok(HostFileStore {
            path: path.into(),
            disk: HostDisk { file, size },
            log: UndoLog::unsynced(size),
        })
    }

    /// The host path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl BackingStore for HostFileStore {
    fn size(&self) -> ByteCount {
        ByteCount::new(self.disk.size)
    }

    fn set_size(&mut self, size: ByteCount) -> Result<(), StoreError> {
        self.log.set_size(&mut self.disk, size.raw())
    }

    fn read_page(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError> {
        self.disk.raw_read(page, buf)
    }

    fn write_page(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError> {
        self.log.write_page(&mut self.disk, page, buf)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.log.flush(&mut self.disk)
    }

    fn crash(&mut self) -> Result<(), StoreError> {
        self.log.crash(&mut self.disk)
    }

    fn durable_size(&self) -> ByteCount {
        ByteCount::new(self.log.durable_size())
    }

    fn host_bytes(&self) -> u64 {
        self.log.host_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shrinking a large, durable, sparse host file keeps undo data for its data pages only
    /// (before, the shrink listed every page of the range: 2^32 of them for 16 TiB, and the
    /// allocation aborted the process).
    #[test]
    fn test_shrinking_a_huge_sparse_durable_file_saves_only_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse.bin");
        let f = std::fs::File::create(&path).unwrap();
        let huge = (1u64 << 44) - (64 << 10); // 16 TiB - 64 KiB (the volume's largest file)
        f.set_len(huge).unwrap(); // all hole
        drop(f);
        let mut s = HostFileStore::open(&path).unwrap();
        let mut page = [0u8; crate::addr::PAGE_BYTES];
        page[0] = 7;
        s.write_page(5, &page).unwrap();
        s.flush().unwrap();
        s.set_size(ByteCount::new(0)).unwrap();
        assert!(s.host_bytes() <= 2 * PAGE_SIZE, "{}", s.host_bytes());
        s.crash().unwrap();
        assert_eq!(s.size(), ByteCount::new(huge));
        let mut back = [0u8; crate::addr::PAGE_BYTES];
        s.read_page(5, &mut back).unwrap();
        assert_eq!(back[0], 7);
    }

    #[test]
    fn test_host_file_store_conformance() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        super::super::conformance::check_store_conformance(|| {
            n += 1;
            HostFileStore::create(dir.path().join(format!("s{n}")), ByteCount::new(0)).unwrap()
        });
    }

    #[test]
    fn test_host_file_is_the_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        std::fs::write(&path, b"abc").unwrap();
        let mut s = HostFileStore::open(&path).unwrap();
        assert_eq!(s.size(), ByteCount::new(3));
        let mut page = [0u8; crate::addr::PAGE_BYTES];
        page[..3].copy_from_slice(b"xyz");
        s.write_page(0, &page).unwrap();
        s.flush().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"xyz");
        assert_eq!(s.path(), path.as_path());
    }

    /// The host file is the disk: a write is there at once; a crash puts the durable contents
    /// and length back in the host file itself.
    #[test]
    fn test_crash_restores_the_host_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        std::fs::write(&path, b"durable").unwrap();
        let mut s = HostFileStore::open(&path).unwrap();
        s.set_size(ByteCount::new(PAGE_SIZE + 1)).unwrap();
        let mut page = [0u8; crate::addr::PAGE_BYTES];
        page[..4].copy_from_slice(b"lost");
        s.write_page(0, &page).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..7], b"lost\0\0\0");
        s.crash().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"durable");
        assert_eq!(s.size(), ByteCount::new(7));
    }
}
