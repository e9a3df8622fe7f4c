//! A store backed by a real file in a real directory of the host.

use super::{page_extent, BackingStore, PageBuf, StoreError, StoreOp};
use crate::addr::{ByteCount, PAGE_SIZE};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A store kept in a host file. Page `n` lives at byte offset `n × 4096`; the host file's
/// length is the store's size.
#[derive(Debug)]
pub struct HostFileStore {
    path: PathBuf,
    file: File,
    size: u64,
}

impl HostFileStore {
    /// Opens (creating if needed) the host file at `path`. Its current length is the size.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let size = file.metadata()?.len();
        Ok(HostFileStore { path, file, size })
    }

    /// Creates (or truncates) the host file at `path` with `size` zero bytes.
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
            file,
            size: size.raw(),
        })
    }

    /// A store over a host file already opened (read-write) by the caller, which has checked
    /// what it is (a volume opens its files beneath its root and never through a link);
    /// `path` is only for display. Its current length is the size.
    pub fn from_file(file: File, path: impl Into<PathBuf>) -> std::io::Result<Self> {
        let size = file.metadata()?.len();
        Ok(HostFileStore {
            path: path.into(),
            file,
            size,
        })
    }

    /// The host path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl BackingStore for HostFileStore {
    fn size(&self) -> ByteCount {
        ByteCount::new(self.size)
    }

    fn set_size(&mut self, size: ByteCount) -> Result<(), StoreError> {
        self.file
            .set_len(size.raw())
            .map_err(|e| StoreError::host(StoreOp::Resize, 0, &e))?;
        self.size = size.raw();
        Ok(())
    }

    fn read_page(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError> {
        buf.fill(0);
        let Some((start, len)) = page_extent(page, self.size) else {
            return Ok(());
        };
        let err = |e: std::io::Error| StoreError::host(StoreOp::Read, page, &e);
        self.file.seek(SeekFrom::Start(start)).map_err(err)?;
        self.file.read_exact(&mut buf[..len]).map_err(err)
    }

    fn write_page(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError> {
        let Some((start, len)) = page_extent(page, self.size) else {
            return Ok(());
        };
        debug_assert!(len as u64 <= PAGE_SIZE);
        let err = |e: std::io::Error| StoreError::host(StoreOp::Write, page, &e);
        self.file.seek(SeekFrom::Start(start)).map_err(err)?;
        self.file.write_all(&buf[..len]).map_err(err)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::host(StoreOp::Flush, 0, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
