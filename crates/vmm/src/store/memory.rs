//! The in-memory store: the default, deterministic backing for files and the pagefile.

use super::{page_extent, BackingStore, PageBuf, StoreError};
use crate::addr::ByteCount;
use std::collections::BTreeMap;

/// A store held in memory, sparse: only pages ever written with non-zero data take space.
///
/// # Invariants
/// Every stored page lies wholly or partly below `size`, and its bytes at or past `size` are
/// zero.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    size: u64,
    pages: BTreeMap<u64, Box<PageBuf>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
    /// A store holding `bytes`.
    pub fn with_contents(bytes: &[u8]) -> Self {
        let mut s = MemoryStore {
            size: bytes.len() as u64,
            pages: BTreeMap::new(),
        };
        for (i, chunk) in bytes.chunks(crate::addr::PAGE_BYTES).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                let mut page = Box::new([0u8; crate::addr::PAGE_BYTES]);
                page[..chunk.len()].copy_from_slice(chunk);
                s.pages.insert(i as u64, page);
            }
        }
        s
    }
}

impl BackingStore for MemoryStore {
    fn size(&self) -> ByteCount {
        ByteCount::new(self.size)
    }

    fn set_size(&mut self, size: ByteCount) -> Result<(), StoreError> {
        let new = size.raw();
        if new < self.size {
            // Drop whole pages past the end and zero the tail of the new last page.
            let keep = new.div_ceil(crate::addr::PAGE_SIZE);
            self.pages.split_off(&keep);
            if let Some((start, len)) = page_extent(keep.saturating_sub(1), new) {
                let last = start / crate::addr::PAGE_SIZE;
                if let Some(p) = self.pages.get_mut(&last) {
                    p[len..].fill(0);
                }
            }
        }
        self.size = new;
        Ok(())
    }

    fn read_page(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError> {
        match self.pages.get(&page) {
            Some(p) => buf.copy_from_slice(&p[..]),
            None => buf.fill(0),
        }
        Ok(())
    }

    fn write_page(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError> {
        let Some((_, len)) = page_extent(page, self.size) else {
            return Ok(());
        };
        let p = self
            .pages
            .entry(page)
            .or_insert_with(|| Box::new([0u8; crate::addr::PAGE_BYTES]));
        p[..len].copy_from_slice(&buf[..len]);
        p[len..].fill(0);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn host_bytes(&self) -> u64 {
        self.pages.len() as u64 * crate::addr::PAGE_SIZE
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
        let mut buf = [0xFFu8; crate::addr::PAGE_BYTES];
        s.read_page(0, &mut buf).unwrap();
        assert_eq!(&buf[..6], b"hello\0");
    }
}
