//! Backing stores: page-granular storage for file data and for the pagefile.
//!
//! One trait, [`BackingStore`], with three implementations: [`MemoryStore`] (the default,
//! deterministic), [`HostFileStore`] (a real file in a real directory) and [`FaultyStore`] (a
//! wrapper that fails chosen reads or writes). A store has a byte size; pages past it read as
//! zeros, and a page write stores only the bytes below the size — as a file system does with the
//! last, partial page of a file written by the mapped page writer.
//!
//! A store also keeps what is on its disk apart from what is durable ([`BackingStore::flush`],
//! [`BackingStore::crash`]; implemented once, by an undo log in `durable.rs`).

mod durable;
mod faulty;
mod host;
mod memory;

pub use faulty::{FaultDuration, FaultPlan, FaultyStore};
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
    /// A power loss putting back the durable contents.
    Crash,
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
    /// A host I/O error: a full host file system or a file past the host's size limit
    /// (`ENOSPC`, `EDQUOT`, `EFBIG`) is `STATUS_DISK_FULL`, as NTFS reports a volume that
    /// cannot hold the data; anything else is `STATUS_UNEXPECTED_IO_ERROR`.
    pub fn host(op: StoreOp, page: u64, err: &std::io::Error) -> Self {
        tracing::warn!(?op, page, %err, "host store I/O failed");
        let status = if host_disk_full(err) {
            NtStatus::STATUS_DISK_FULL
        } else {
            NtStatus::STATUS_UNEXPECTED_IO_ERROR
        };
        StoreError::new(op, page, status)
    }
}

/// Whether a host I/O error says the disk is full or the file too large.
#[cfg(unix)]
fn host_disk_full(err: &std::io::Error) -> bool {
    use rustix::io::Errno;
    matches!(
        Errno::from_io_error(err),
        Some(Errno::NOSPC | Errno::DQUOT | Errno::FBIG)
    )
}

/// Whether a host I/O error says the disk is full or the file too large.
#[cfg(not(unix))]
fn host_disk_full(_err: &std::io::Error) -> bool {
    false
}

/// Page-granular storage behind a file or the pagefile.
///
/// # Contract
/// * `read_page` of a page wholly or partly past `size()` fills the part past the size with
///   zeros and succeeds.
/// * `write_page` stores only the bytes below `size()`; it never grows the store.
/// * `set_size` grows (with zeros) or shrinks the store.
/// * A failed operation changes nothing.
///
/// # Durability
/// What `read_page` and `size` show is what is *on the disk*; it becomes *durable* only at a
/// flush. `write_page` and `set_size` change the disk, not what is durable.
/// * `flush` makes everything on the disk durable, data and size (`FlushFileBuffers`,
///   `IRP_MJ_FLUSH_BUFFERS`: the disk's volatile cache is written, nt_internals §5.2).
/// * `crash` is a power loss: the disk goes back to its durable data and size (what was
///   durable at the last flush, or when the store was made over existing contents).
/// * Sector atomicity and torn writes are not modelled: a page write is all or nothing.
pub trait BackingStore: Send + fmt::Debug {
    /// The size in bytes.
    fn size(&self) -> ByteCount;
    /// Changes the size; new bytes read as zeros.
    fn set_size(&mut self, size: ByteCount) -> Result<(), StoreError>;
    /// Reads page `page` into `buf`.
    fn read_page(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError>;
    /// Writes `buf` to page `page`, clipped to the size.
    fn write_page(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError>;
    /// Makes everything on the disk durable: data and size.
    fn flush(&mut self) -> Result<(), StoreError>;
    /// A power loss: everything not durable is lost (data and size).
    fn crash(&mut self) -> Result<(), StoreError>;
    /// The size a crash would leave.
    fn durable_size(&self) -> ByteCount;
    /// Bytes of host memory the store holds (its pages and undo data; 0 for a store whose data
    /// lives elsewhere, such as a host file). Counted against a scenario's host-memory budget.
    fn host_bytes(&self) -> u64 {
        0
    }
    /// Called when the store is handed to a machine (as a file's store or as the pagefile): a
    /// store that emits events of its own (the [`FaultyStore`]'s injected failures) keeps the
    /// machine's subscribers, replacing any earlier machine's. Others ignore it.
    fn attach_events(&mut self, _events: &crate::event::Subscribers<crate::event::VmmEvent>) {}
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
    fn crash(&mut self) -> Result<(), StoreError> {
        (**self).crash()
    }
    fn durable_size(&self) -> ByteCount {
        (**self).durable_size()
    }
    fn attach_events(&mut self, events: &crate::event::Subscribers<crate::event::VmmEvent>) {
        (**self).attach_events(events)
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

#[cfg(all(test, unix))]
mod host_error_tests {
    use super::*;

    #[test]
    fn test_host_disk_full_errors_are_status_disk_full() {
        for errno in [
            rustix::io::Errno::NOSPC,
            rustix::io::Errno::DQUOT,
            rustix::io::Errno::FBIG,
        ] {
            let e = std::io::Error::from_raw_os_error(errno.raw_os_error());
            assert_eq!(
                StoreError::host(StoreOp::Resize, 0, &e).status,
                NtStatus::STATUS_DISK_FULL
            );
        }
        let e = std::io::Error::from_raw_os_error(rustix::io::Errno::IO.raw_os_error());
        assert_eq!(
            StoreError::host(StoreOp::Write, 3, &e).status,
            NtStatus::STATUS_UNEXPECTED_IO_ERROR
        );
    }
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

        check_durability(&mut make);
    }

    /// The durability contract: a crash keeps exactly what the last flush made durable.
    fn check_durability<S: BackingStore>(make: &mut impl FnMut() -> S) {
        let mut buf = page_of(0);
        let read = |s: &mut S, page: u64| {
            let mut b = page_of(0xEE);
            s.read_page(page, &mut b).unwrap();
            b
        };

        // Nothing flushed: a crash leaves the store as it was made (empty).
        let mut s = make();
        s.set_size(ByteCount::new(2 * PAGE_SIZE)).unwrap();
        s.write_page(1, &page_of(4)).unwrap();
        assert_eq!(s.durable_size(), ByteCount::new(0));
        s.crash().unwrap();
        assert_eq!(s.size(), ByteCount::new(0), "the growth was not durable");
        s.set_size(ByteCount::new(2 * PAGE_SIZE)).unwrap();
        assert_eq!(read(&mut s, 1), page_of(0), "nor the data");

        // Flushed data and size survive; later writes, growth and shrinking do not.
        let mut s = make();
        s.set_size(ByteCount::new(3 * PAGE_SIZE)).unwrap();
        s.write_page(0, &page_of(1)).unwrap();
        s.write_page(2, &page_of(2)).unwrap();
        s.flush().unwrap();
        assert_eq!(s.durable_size(), ByteCount::new(3 * PAGE_SIZE));
        s.write_page(0, &page_of(9)).unwrap();
        s.write_page(0, &page_of(8)).unwrap();
        s.write_page(1, &page_of(7)).unwrap();
        s.set_size(ByteCount::new(PAGE_SIZE + 5)).unwrap();
        s.set_size(ByteCount::new(5 * PAGE_SIZE)).unwrap();
        s.write_page(4, &page_of(6)).unwrap();
        assert_eq!(read(&mut s, 0), page_of(8), "the disk holds the last write");
        s.crash().unwrap();
        assert_eq!(s.size(), ByteCount::new(3 * PAGE_SIZE));
        assert_eq!(read(&mut s, 0), page_of(1), "first-written durable version");
        assert_eq!(read(&mut s, 1), page_of(0), "durably zero");
        assert_eq!(read(&mut s, 2), page_of(2), "cut off, then restored");
        assert_eq!(read(&mut s, 4), page_of(0));
        // A crash is idempotent, and the store works on afterwards.
        s.crash().unwrap();
        assert_eq!(read(&mut s, 0), page_of(1));
        s.write_page(1, &page_of(3)).unwrap();
        s.flush().unwrap();
        s.crash().unwrap();
        assert_eq!(read(&mut s, 1), page_of(3));

        // A durable shrink: the cut bytes do not come back.
        let mut s = make();
        s.set_size(ByteCount::new(2 * PAGE_SIZE)).unwrap();
        s.write_page(1, &page_of(5)).unwrap();
        s.flush().unwrap();
        s.set_size(ByteCount::new(PAGE_SIZE + 3)).unwrap();
        s.flush().unwrap();
        s.set_size(ByteCount::new(2 * PAGE_SIZE)).unwrap();
        s.crash().unwrap();
        assert_eq!(s.size(), ByteCount::new(PAGE_SIZE + 3));
        s.read_page(1, &mut buf).unwrap();
        assert_eq!(&buf[..3], &[5; 3]);
        assert!(buf[3..].iter().all(|&b| b == 0));

        // A partial durable page: its durable bytes come back, nothing past them.
        let mut s = make();
        s.set_size(ByteCount::new(10)).unwrap();
        s.write_page(0, &page_of(1)).unwrap();
        s.flush().unwrap();
        s.set_size(ByteCount::new(PAGE_SIZE)).unwrap();
        s.write_page(0, &page_of(2)).unwrap();
        s.crash().unwrap();
        assert_eq!(s.size(), ByteCount::new(10));
        s.read_page(0, &mut buf).unwrap();
        assert_eq!(&buf[..10], &[1; 10]);
        assert!(buf[10..].iter().all(|&b| b == 0));
    }
}
