//! Cached access to a segment's pages (nt_internals §5.2, §8); flushing them is `flush.rs`.
//!
//! `ReadFile`/`WriteFile` on a cached file copy between the caller's buffer and the file's
//! frames through the *same prototype PTEs* every view uses, so file I/O is coherent with every
//! view by construction. NT does it through system-cache views; this model uses the shortcut
//! §8 allows: each page is made resident through its prototype PTE, held by one share reference
//! for the copy, then released — which puts it on the standby or modified list exactly as the
//! unmapping of a system-cache view would.

use crate::addr::{ProtoIndex, PAGE_BYTES, PAGE_SIZE};
use crate::error::{Result, VmmError};
use crate::id::SegmentId;
use crate::machine::Machine;
use crate::pte::ProtoRef;

impl Machine {
    fn check_segment_bytes(&self, id: SegmentId, offset: u64, len: usize) -> Result<()> {
        let seg = self.segment(id)?;
        let end = offset
            .checked_add(len as u64)
            .ok_or(VmmError::RangeOverflow)?;
        let bytes = seg.pages.saturating_mul(PAGE_SIZE);
        if end > bytes {
            return Err(VmmError::BeyondSegment {
                segment: id,
                index: end.saturating_sub(1) / PAGE_SIZE,
                pages: seg.page_count(),
            });
        }
        Ok(())
    }

    /// Copies one page's bytes through the prototype PTE: `f` gets the frame to copy from or to.
    fn with_segment_page(
        &mut self,
        id: SegmentId,
        index: ProtoIndex,
        write: bool,
        f: impl FnOnce(&crate::memory::PhysicalMemory, &mut crate::memory::StoreRight, crate::addr::Pfn),
    ) -> Result<()> {
        self.ensure_available(1)?;
        let proto = ProtoRef { segment: id, index };
        let pfn = self
            .make_proto_resident(proto)
            .map_err(|f| f.into_io_error(index.byte_offset()))?
            .pfn;
        f(&self.memory, &mut self.memory_right, pfn);
        if write {
            // Cc's MmSetAddressRangeModified: the frame is dirty now.
            self.mark_modified(pfn);
        }
        self.decrement_share_count(pfn);
        Ok(())
    }

    /// Reads `buf.len()` bytes of a segment at byte `offset`.
    pub(crate) fn read_segment(
        &mut self,
        id: SegmentId,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<()> {
        self.check_segment_bytes(id, offset, buf.len())?;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let off = (pos % PAGE_SIZE) as usize;
            let n = (PAGE_BYTES - off).min(buf.len() - done);
            let out = &mut buf[done..done + n];
            self.with_segment_page(id, ProtoIndex::of_byte(pos), false, |memory, right, pfn| {
                memory.read(right, pfn, off, out);
            })?;
            done += n;
        }
        Ok(())
    }

    /// Appends `len` bytes of a segment at byte `offset` to `out`, whose spare capacity the
    /// caller has reserved: no zero-fill first, one bulk copy per page (`ReadFile`, issue 7/7).
    pub(crate) fn read_segment_append(
        &mut self,
        id: SegmentId,
        offset: u64,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        self.check_segment_bytes(id, offset, len)?;
        let mut done = 0usize;
        while done < len {
            let pos = offset + done as u64;
            let off = (pos % PAGE_SIZE) as usize;
            let n = (PAGE_BYTES - off).min(len - done);
            self.with_segment_page(id, ProtoIndex::of_byte(pos), false, |memory, right, pfn| {
                memory.read_append(right, pfn, off, n, out);
            })?;
            done += n;
        }
        Ok(())
    }

    /// Writes `data` into a segment at byte `offset`; the pages become modified.
    pub(crate) fn write_segment(&mut self, id: SegmentId, offset: u64, data: &[u8]) -> Result<()> {
        self.check_segment_bytes(id, offset, data.len())?;
        let mut done = 0usize;
        while done < data.len() {
            let pos = offset + done as u64;
            let off = (pos % PAGE_SIZE) as usize;
            let n = (PAGE_BYTES - off).min(data.len() - done);
            let src = &data[done..done + n];
            self.with_segment_page(id, ProtoIndex::of_byte(pos), true, |memory, right, pfn| {
                memory.write(right, pfn, off, src);
            })?;
            done += n;
        }
        Ok(())
    }
}
