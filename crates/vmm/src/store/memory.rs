//! The in-memory store: the default, deterministic backing for files and the pagefile.

use super::durable::{RawPages, UndoLog};
use super::{page_extent, BackingStore, PageBuf, StoreError};
use crate::addr::{ByteCount, PAGE_BYTES, PAGE_SIZE};
use std::collections::BTreeMap;

/// The pages of a memory store's disk, sparse: only pages holding a non-zero byte take space.
///
/// # Invariants
/// Every stored page lies wholly or partly below `size`, holds a non-zero byte, and its bytes
/// at or past `size` are zero.
#[derive(Debug, Default, Clone)]
struct Pages {
    size: u64,
    pages: BTreeMap<u64, Box<PageBuf>>,
}

impl RawPages for Pages {
    fn raw_size(&self) -> u64 {
        self.size
    }

    fn raw_set_size(&mut self, new: u64) -> Result<(), StoreError> {
        if new < self.size {
            // Drop whole pages past the end and zero the tail of the new last page.
            let keep = new.div_ceil(PAGE_SIZE);
            self.pages.split_off(&keep);
            if let Some((start, len)) = page_extent(keep.saturating_sub(1), new) {
                let last = start / PAGE_SIZE;
                if let Some(p) = self.pages.get_mut(&last) {
                    p[len..].fill(0);
                    if p.iter().all(|&b| b == 0) {
                        self.pages.remove(&last);
                    }
                }
            }
        }
        self.size = new;
        Ok(())
    }

    fn raw_read(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError> {
        match self.pages.get(&page) {
            Some(p) => buf.copy_from_slice(&p[..]),
            None => buf.fill(0),
        }
        Ok(())
    }

    fn raw_write(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError> {
        let Some((_, len)) = page_extent(page, self.size) else {
            return Ok(());
        };
        // An all-zero page is not kept: `file "x" size 1 GiB` costs no host memory.
        if buf[..len].iter().all(|&b| b == 0) {
            self.pages.remove(&page);
            return Ok(());
        }
        let p = self
            .pages
            .entry(page)
            .or_insert_with(|| Box::new([0u8; PAGE_BYTES]));
        p[..len].copy_from_slice(&buf[..len]);
        p[len..].fill(0);
        Ok(())
    }

    fn raw_sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn raw_nonzero_pages(&self, from: u64, to: u64) -> Vec<u64> {
        if from >= to {
            return Vec::new();
        }
        self.pages.range(from..to).map(|(&p, _)| p).collect()
    }
}

/// A store held in memory, sparse: only pages holding non-zero data take space, on the disk
/// and in the undo log alike (see [`BackingStore`]'s durability contract).
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    disk: Pages,
    log: UndoLog,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
    /// A store holding `bytes`, durably.
    pub fn with_contents(bytes: &[u8]) -> Self {
        let mut disk = Pages {
            size: bytes.len() as u64,
            pages: BTreeMap::new(),
        };
        for (i, chunk) in bytes.chunks(PAGE_BYTES).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                let mut page = Box::new([0u8; PAGE_BYTES]);
                page[..chunk.len()].copy_from_slice(chunk);
                disk.pages.insert(i as u64, page);
            }
        }
        MemoryStore {
            log: UndoLog::new(disk.size),
            disk,
        }
    }
}

impl BackingStore for MemoryStore {
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
        self.disk.pages.len() as u64 * PAGE_SIZE + self.log.host_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_memory_store_conformance() {
        super::super::conformance::check_store_conformance(MemoryStore::new);
    }

    #[test]
    fn test_host_bytes_count_the_stored_pages_only() {
        let mut s = MemoryStore::new();
        s.set_size(ByteCount::new(1 << 30)).unwrap();
        assert_eq!(s.host_bytes(), 0, "a grown store holds nothing");
        s.write_page(7, &[1u8; crate::addr::PAGE_BYTES]).unwrap();
        assert_eq!(s.host_bytes(), crate::addr::PAGE_SIZE);
        assert_eq!(MemoryStore::with_contents(&[0u8; 3 << 12]).host_bytes(), 0);
    }

    #[test]
    fn test_with_contents_reads_back() {
        let mut s = MemoryStore::with_contents(b"hello");
        assert_eq!(s.size(), ByteCount::new(5));
        let mut buf = [0xFFu8; PAGE_BYTES];
        s.read_page(0, &mut buf).unwrap();
        assert_eq!(&buf[..6], b"hello\0");
    }

    /// A gigabyte of zeros costs nothing; written zeros and zeroed tails give their page back.
    #[test]
    fn test_zero_pages_take_no_host_memory() {
        let mut s = MemoryStore::new();
        s.set_size(ByteCount::new(1 << 30)).unwrap();
        assert_eq!(s.host_bytes(), 0);
        s.write_page(7, &[0u8; PAGE_BYTES]).unwrap();
        assert_eq!(s.host_bytes(), 0, "an all-zero page is not stored");
        let mut page = [0u8; PAGE_BYTES];
        page[100] = 1;
        s.write_page(7, &page).unwrap();
        assert_eq!(s.host_bytes(), PAGE_SIZE);
        s.write_page(7, &[0u8; PAGE_BYTES]).unwrap();
        assert_eq!(s.host_bytes(), 0, "zeroing a page frees it");
        s.write_page(7, &page).unwrap();
        s.set_size(ByteCount::new(7 * PAGE_SIZE + 50)).unwrap();
        assert_eq!(s.host_bytes(), 0, "a tail cut to zeros frees the page");
        // Undo data is counted too, and sparse: a flushed non-zero page changed once.
        s.set_size(ByteCount::new(1 << 30)).unwrap();
        s.write_page(7, &page).unwrap();
        s.flush().unwrap();
        s.write_page(7, &[9u8; PAGE_BYTES]).unwrap();
        assert_eq!(
            s.host_bytes(),
            2 * PAGE_SIZE,
            "the page and its durable version"
        );
        s.write_page(6, &[9u8; PAGE_BYTES]).unwrap();
        assert_eq!(
            s.host_bytes(),
            3 * PAGE_SIZE,
            "a durably zero page's undo entry takes no page"
        );
    }
}
