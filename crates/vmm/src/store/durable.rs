//! Durability: what a store's disk holds apart from what survives a power loss.
//!
//! A disk has a volatile write cache: a page written to it is *on the disk* (reads see it,
//! `expect disk` sees it) but not yet *durable* until the file is flushed (`FlushFileBuffers`,
//! `IRP_MJ_FLUSH_BUFFERS`, nt_internals §5.2 "does not flush … the disk cache"). A power loss
//! keeps only what is durable.
//!
//! Every store implements this once, through [`UndoLog`]: the store itself holds what is on
//! the disk, and the log holds the durable version of every page changed since the last flush
//! (first change wins) plus the durable size. A flush forgets the log (everything on the disk
//! is durable now); a crash writes the durable versions back and restores the durable size.
//! Pages at or past the durable size need no undo data: a crash cuts the store back to the
//! durable size, and what grows back reads as zeros.

use super::{page_extent, PageBuf, StoreError};
use crate::addr::{PAGE_BYTES, PAGE_SIZE};
use std::collections::BTreeMap;

/// The raw page operations of a store's disk, below durability.
pub(crate) trait RawPages {
    /// The size of the disk's copy of the file, in bytes.
    fn raw_size(&self) -> u64;
    /// Changes the size (new bytes read as zeros; bytes past it are dropped).
    fn raw_set_size(&mut self, size: u64) -> Result<(), StoreError>;
    /// Reads a page (zeros past the size).
    fn raw_read(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError>;
    /// Writes a page, clipped to the size.
    fn raw_write(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError>;
    /// Makes the disk's copy durable on the host (a host file: `fsync`; memory: nothing).
    fn raw_sync(&mut self) -> Result<(), StoreError>;
    /// The pages in `[from, to)` that may hold non-zero bytes (every one if unknown).
    fn raw_nonzero_pages(&self, from: u64, to: u64) -> Vec<u64>;
}

/// The undo log of a store: the durable size, and the durable version of each page changed
/// since the last flush (`None`: the page was durably all zeros; kept sparse).
///
/// # Invariants
/// Every saved page lies below `durable_size`; a page below `durable_size` that is not saved
/// holds on the disk exactly its durable contents.
#[derive(Debug, Clone, Default)]
pub(crate) struct UndoLog {
    durable_size: u64,
    saved: BTreeMap<u64, Option<Box<PageBuf>>>,
    /// Whether the disk changed since the last flush (a flush then syncs the host).
    changed: bool,
}

impl UndoLog {
    /// A log over a disk whose current contents (of `size` bytes) are durable.
    pub(crate) fn new(size: u64) -> Self {
        UndoLog {
            durable_size: size,
            saved: BTreeMap::new(),
            changed: false,
        }
    }

    /// A log over contents that are not durable yet (a flush will sync them), whose durable
    /// size is `durable_size`.
    pub(crate) fn unsynced(durable_size: u64) -> Self {
        UndoLog {
            changed: true,
            ..UndoLog::new(durable_size)
        }
    }

    /// The size a crash would restore.
    pub(crate) fn durable_size(&self) -> u64 {
        self.durable_size
    }

    /// Host memory held by saved pages.
    pub(crate) fn host_bytes(&self) -> u64 {
        self.saved.values().filter(|p| p.is_some()).count() as u64 * PAGE_SIZE
    }

    /// Saves the durable version of `page` before it first changes.
    fn save(&mut self, raw: &mut impl RawPages, page: u64) -> Result<(), StoreError> {
        if page >= self.durable_size.div_ceil(PAGE_SIZE) || self.saved.contains_key(&page) {
            return Ok(());
        }
        let mut buf = Box::new([0u8; PAGE_BYTES]);
        raw.raw_read(page, &mut buf)?;
        let durable = buf.iter().any(|&b| b != 0).then_some(buf);
        self.saved.insert(page, durable);
        Ok(())
    }

    /// A page write: on the disk, not durable.
    pub(crate) fn write_page(
        &mut self,
        raw: &mut impl RawPages,
        page: u64,
        buf: &PageBuf,
    ) -> Result<(), StoreError> {
        if page_extent(page, raw.raw_size()).is_none() {
            return Ok(());
        }
        self.save(raw, page)?;
        self.changed = true;
        raw.raw_write(page, buf)
    }

    /// A size change: on the disk, not durable. Pages that lose bytes are saved first.
    pub(crate) fn set_size(
        &mut self,
        raw: &mut impl RawPages,
        size: u64,
    ) -> Result<(), StoreError> {
        let old = raw.raw_size();
        // Only pages below the durable size have durable contents to keep (`save`).
        let keep_to = old.min(self.durable_size);
        if size < keep_to {
            // The page holding byte `size` loses its tail; every later page goes.
            for page in raw.raw_nonzero_pages(size / PAGE_SIZE, keep_to.div_ceil(PAGE_SIZE)) {
                self.save(raw, page)?;
            }
        }
        if size != old {
            self.changed = true;
        }
        raw.raw_set_size(size)
    }

    /// `FlushFileBuffers`: everything on the disk becomes durable, data and size.
    pub(crate) fn flush(&mut self, raw: &mut impl RawPages) -> Result<(), StoreError> {
        if self.changed {
            raw.raw_sync()?;
        }
        self.durable_size = raw.raw_size();
        self.saved.clear();
        self.changed = false;
        Ok(())
    }

    /// A power loss: the disk goes back to its durable contents and size.
    pub(crate) fn crash(&mut self, raw: &mut impl RawPages) -> Result<(), StoreError> {
        if !self.changed {
            return Ok(());
        }
        raw.raw_set_size(self.durable_size)?;
        let zero = [0u8; PAGE_BYTES];
        while let Some((page, durable)) = self.saved.pop_first() {
            if let Err(e) = raw.raw_write(page, durable.as_deref().unwrap_or(&zero)) {
                self.saved.insert(page, durable);
                return Err(e);
            }
        }
        raw.raw_sync()?;
        self.changed = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BackingStore, HostFileStore, MemoryStore};
    use crate::addr::{ByteCount, PAGE_BYTES, PAGE_SIZE};
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Write(u64, u8),
        Resize(u64),
        Flush,
        Crash,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..6, 1u8..=255).prop_map(|(p, b)| Op::Write(p, b)),
            2 => (0u64..6 * PAGE_SIZE).prop_map(Op::Resize),
            1 => Just(Op::Flush),
            1 => Just(Op::Crash),
        ]
    }

    /// The model: the disk and the durable copy, each a byte vector.
    fn apply(disk: &mut Vec<u8>, durable: &mut Vec<u8>, op: &Op) {
        match *op {
            Op::Write(p, b) => {
                let start = (p * PAGE_SIZE) as usize;
                if start < disk.len() {
                    let end = disk.len().min(start + PAGE_BYTES);
                    disk[start..end].fill(b);
                }
            }
            Op::Resize(n) => disk.resize(n as usize, 0),
            Op::Flush => *durable = disk.clone(),
            Op::Crash => *disk = durable.clone(),
        }
    }

    fn run(s: &mut dyn BackingStore, ops: &[Op]) -> Result<Vec<u8>, TestCaseError> {
        let (mut disk, mut durable) = (Vec::new(), Vec::new());
        for op in ops {
            match *op {
                Op::Write(p, b) => s.write_page(p, &[b; PAGE_BYTES]).unwrap(),
                Op::Resize(n) => s.set_size(ByteCount::new(n)).unwrap(),
                Op::Flush => s.flush().unwrap(),
                Op::Crash => s.crash().unwrap(),
            }
            apply(&mut disk, &mut durable, op);
            prop_assert_eq!(s.size().raw(), disk.len() as u64, "size after {:?}", op);
            prop_assert_eq!(s.durable_size().raw(), durable.len() as u64);
            let mut got = vec![0u8; disk.len()];
            super::super::read_bytes(s, 0, &mut got).unwrap();
            prop_assert!(got == disk, "disk contents after {:?}", op);
        }
        // What survives a last crash is exactly the durable copy.
        s.crash().unwrap();
        let mut got = vec![0u8; durable.len()];
        super::super::read_bytes(s, 0, &mut got).unwrap();
        prop_assert_eq!(s.size().raw(), durable.len() as u64);
        prop_assert!(got == durable, "durable contents");
        Ok(durable)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn prop_memory_store_keeps_exactly_the_durable_contents(ops in proptest::collection::vec(op(), 0..40)) {
            run(&mut MemoryStore::new(), &ops)?;
        }

        #[test]
        fn prop_host_store_keeps_exactly_the_durable_contents(ops in proptest::collection::vec(op(), 0..40)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            let durable = run(&mut HostFileStore::create(&path, ByteCount::new(0)).unwrap(), &ops)?;
            prop_assert!(std::fs::read(&path).unwrap() == durable, "the host file after the crash");
        }
    }
}
