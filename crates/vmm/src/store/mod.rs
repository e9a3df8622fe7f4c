//! Backing stores: page-granular storage for file data and for the pagefile.
//!
//! One trait, [`BackingStore`], with three implementations: [`MemoryStore`] (the default,
//! deterministic), [`HostFileStore`] (a real file in a real directory) and [`FaultyStore`] (a
//! wrapper that fails chosen reads or writes). A store has a byte size; pages past it read as
//! zeros, and a page write stores only the bytes below the size — as a file system does with the
//! last, partial page of a file written by the mapped page writer.

mod faulty;
mod host;
mod memory;

pub use faulty::{FaultPlan, FaultyStore};
pub use host::HostFileStore;
pub use memory::MemoryStore;

use crate::addr::{ByteCount, PAGE_BYTES, PAGE_SIZE};
use crate::status::NtStatus;
use std::fmt;

/// A page of data.
pub type PageBuf = [u8; PAGE_BYTES];

/// Which store operation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum StoreOp {
    /// A page read.
    Read,
    /// A page write.
    Write,
    /// A size change.
    Resize,
    /// A flush to stable storage.
    Flush,
}

/// A failed store operation, with the NTSTATUS the I/O completed with.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("store {op:?} of page {page} failed: {status}")]
pub struct StoreError {
    /// The operation.
    pub op: StoreOp,
    /// The page it concerned (0 for resize and flush).
    pub page: u64,
    /// The I/O status.
    pub status: NtStatus,
}

impl StoreError {
    /// A failure of `op` on `page` with `status`.
    pub fn new(op: StoreOp, page: u64, status: NtStatus) -> Self {
        StoreError { op, page, status }
    }
    /// A host I/O error, reported as `STATUS_UNEXPECTED_IO_ERROR`.
    pub fn host(op: StoreOp, page: u64, err: &std::io::Error) -> Self {
        tracing::warn!(?op, page, %err, "host store I/O failed");
        StoreError::new(op, page, NtStatus::STATUS_UNEXPECTED_IO_ERROR)
    }
}

/// Page-granular storage behind a file or the pagefile.
///
/// # Contract
/// * `read_page` of a page wholly or partly past `size()` fills the part past the size with
///   zeros and succeeds.
/// * `write_page` stores only the bytes below `size()`; it never grows the store.
/// * `set_size` grows (with zeros) or shrinks the store.
/// * A failed operation changes nothing.
pub trait BackingStore: Send + fmt::Debug {
    /// The size in bytes.
    fn size(&self) -> ByteCount;
    /// Changes the size; new bytes read as zeros.
    fn set_size(&mut self, size: ByteCount) -> Result<(), StoreError>;
    /// Reads page `page` into `buf`.
    fn read_page(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError>;
    /// Writes `buf` to page `page`, clipped to the size.
    fn write_page(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError>;
    /// Makes written data durable (a no-op for memory).
    fn flush(&mut self) -> Result<(), StoreError>;
    /// Bytes of host memory the store holds for its contents (0 for a store whose data lives
    /// elsewhere, such as a host file). Counted against a scenario's host-memory budget.
    fn host_bytes(&self) -> u64 {
        0
    }
}

impl BackingStore for Box<dyn BackingStore> {
    fn size(&self) -> ByteCount {
        (**self).size()
    }
    fn set_size(&mut self, size: ByteCount) -> Result<(), StoreError> {
        (**self).set_size(size)
    }
    fn read_page(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError> {
        (**self).read_page(page, buf)
    }
    fn write_page(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError> {
        (**self).write_page(page, buf)
    }
    fn flush(&mut self) -> Result<(), StoreError> {
        (**self).flush()
    }
    fn host_bytes(&self) -> u64 {
        (**self).host_bytes()
    }
}

/// Reads `buf.len()` bytes at `offset` through whole-page reads, stopping at the store's size.
/// Returns the number of bytes read.
pub fn read_bytes(
    store: &mut dyn BackingStore,
    offset: u64,
    buf: &mut [u8],
) -> Result<usize, StoreError> {
    let size = store.size().raw();
    if offset >= size {
        return Ok(0);
    }
    let want = buf
        .len()
        .min(usize::try_from(size - offset).unwrap_or(usize::MAX));
    let mut page = [0u8; PAGE_BYTES];
    let mut done = 0;
    while done < want {
        let pos = offset + done as u64;
        let in_page = (pos % PAGE_SIZE) as usize;
        let n = (PAGE_BYTES - in_page).min(want - done);
        store.read_page(pos / PAGE_SIZE, &mut page)?;
        buf[done..done + n].copy_from_slice(&page[in_page..in_page + n]);
        done += n;
    }
    Ok(want)
}

/// Page index and in-page range of the bytes of page `page` that lie below `size`.
pub(crate) fn page_extent(page: u64, size: u64) -> Option<(u64, usize)> {
    let start = page.checked_mul(PAGE_SIZE)?;
    if start >= size {
        return None;
    }
    let len = (size - start).min(PAGE_SIZE) as usize;
    Some((start, len))
}

#[cfg(test)]
pub(crate) mod conformance {
    //! The store contract, checked once for every implementation (style anchor L14).
    use super::*;

    fn page_of(byte: u8) -> PageBuf {
        [byte; PAGE_BYTES]
    }

    /// Runs every check of the contract against stores made by `make` (each one empty).
    pub fn check_store_conformance<S: BackingStore>(mut make: impl FnMut() -> S) {
        // Empty store: reads are zeros, writes are dropped.
        let mut s = make();
        assert_eq!(s.size(), ByteCount::new(0));
        let mut buf = page_of(0xAA);
        s.read_page(3, &mut buf).unwrap();
        assert_eq!(buf, page_of(0));
        s.write_page(0, &page_of(1)).unwrap();
        assert_eq!(s.size(), ByteCount::new(0), "a write never grows the store");

        // Grow, write, read back.
        let mut s = make();
        s.set_size(ByteCount::new(3 * PAGE_SIZE)).unwrap();
        s.write_page(1, &page_of(7)).unwrap();
        s.read_page(1, &mut buf).unwrap();
        assert_eq!(buf, page_of(7));
        s.read_page(0, &mut buf).unwrap();
        assert_eq!(buf, page_of(0), "grown bytes read as zeros");

        // Partial last page: bytes past the size are not stored and read as zeros.
        let mut s = make();
        s.set_size(ByteCount::new(PAGE_SIZE + 10)).unwrap();
        s.write_page(1, &page_of(9)).unwrap();
        s.read_page(1, &mut buf).unwrap();
        assert_eq!(&buf[..10], &[9; 10]);
        assert!(buf[10..].iter().all(|&b| b == 0));
        s.set_size(ByteCount::new(2 * PAGE_SIZE)).unwrap();
        s.read_page(1, &mut buf).unwrap();
        assert!(
            buf[10..].iter().all(|&b| b == 0),
            "clipped bytes never reached the store"
        );

        // Shrink then grow: the cut-off bytes are gone.
        s.set_size(ByteCount::new(5)).unwrap();
        s.set_size(ByteCount::new(PAGE_SIZE + 10)).unwrap();
        s.read_page(1, &mut buf).unwrap();
        assert_eq!(buf, page_of(0));

        // Byte reads through pages.
        let mut s = make();
        s.set_size(ByteCount::new(2 * PAGE_SIZE)).unwrap();
        let mut p = page_of(0);
        p[PAGE_BYTES - 2..].copy_from_slice(b"ab");
        s.write_page(0, &p).unwrap();
        let mut q = page_of(0);
        q[..2].copy_from_slice(b"cd");
        s.write_page(1, &q).unwrap();
        let mut out = [0u8; 4];
        assert_eq!(read_bytes(&mut s, PAGE_SIZE - 2, &mut out).unwrap(), 4);
        assert_eq!(&out, b"abcd");
        let mut tail = [0u8; 8];
        assert_eq!(read_bytes(&mut s, 2 * PAGE_SIZE - 3, &mut tail).unwrap(), 3);
        assert_eq!(read_bytes(&mut s, 10 * PAGE_SIZE, &mut tail).unwrap(), 0);
        s.flush().unwrap();

        // Large, sparse offsets work.
        let mut s = make();
        s.set_size(ByteCount::new(1000 * PAGE_SIZE)).unwrap();
        s.write_page(999, &page_of(3)).unwrap();
        s.read_page(999, &mut buf).unwrap();
        assert_eq!(buf, page_of(3));
        s.read_page(500, &mut buf).unwrap();
        assert_eq!(buf, page_of(0));
    }
}
