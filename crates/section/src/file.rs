//! Files: the per-stream state of the file system (`SECTION_OBJECT_POINTERS`, its record
//! `Stream` kept in the state's tables), file sizing, and cached file I/O through the data
//! control area's prototype PTEs (nt_internals §1.6, §8).

use crate::error::{Result, SectionError};
use crate::event::CountChange;
use crate::ids::{ControlAreaId, StreamId};
use crate::state::State;
use ntmm_vmm::{ByteCount, PageCount, ProtoPte, Vmm, PAGE_SIZE};

impl State {
    /// The file's size in bytes.
    pub(crate) fn file_size(&self, vmm: &Vmm, id: StreamId) -> Result<u64> {
        let s = self.stream(id)?;
        Ok(vmm.with_store(s.store, |st| st.size().raw())?)
    }

    /// The data control area, with the cache manager's section reference taken on first use
    /// (`CcInitializeCacheMap` creates its own section on the file, §8).
    fn cache_control_area(&mut self, vmm: &Vmm, id: StreamId) -> Result<ControlAreaId> {
        let ca = self.data_control_area(vmm, id)?;
        let s = self.stream_mut(id)?;
        if !s.cached {
            s.cached = true;
            self.change_counts(ca, CountChange::CacheSectionAdded);
        }
        Ok(ca)
    }

    pub(crate) fn segment_of(&self, ca: ControlAreaId) -> Result<ntmm_vmm::SegmentId> {
        self.control_areas
            .get(&ca)
            .map(|c| c.segment)
            .ok_or(SectionError::NotSupported("lost control area"))
    }

    /// Zeroes the cached bytes `[from, to)` of the page holding `from` if that page is
    /// resident (bytes past end-of-file in the last page must read as zero).
    fn zero_cached_tail(&mut self, vmm: &Vmm, id: StreamId, from: u64, to: u64) -> Result<()> {
        let Some(ca) = self.streams.get(&id).and_then(|s| s.data_ca) else {
            return Ok(());
        };
        let seg = self.segment_of(ca)?;
        let page_end = from.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let end = to.min(page_end);
        if from >= end || from / PAGE_SIZE >= vmm.segment_info(seg)?.pages.raw() {
            return Ok(());
        }
        if matches!(
            vmm.proto_pte(seg, from / PAGE_SIZE)?,
            ProtoPte::Valid { .. } | ProtoPte::Transition { .. }
        ) {
            vmm.write_segment(seg, from, &vec![0u8; (end - from) as usize])?;
        }
        Ok(())
    }

    /// Grows the file to `size` bytes (zero-filled), extending its segment.
    pub(crate) fn grow_file(&mut self, vmm: &Vmm, id: StreamId, size: u64) -> Result<()> {
        let old = self.file_size(vmm, id)?;
        if size <= old {
            return Ok(());
        }
        let s = self.stream(id)?.clone();
        if size > crate::consts::MAX_FILE_SIZE {
            return Err(ntmm_vmm::VmmError::from(ntmm_vmm::StoreError::new(
                ntmm_vmm::StoreOp::Resize,
                0,
                ntmm_vmm::NtStatus::STATUS_DISK_FULL,
            ))
            .into());
        }
        vmm.with_store(s.store, |st| st.set_size(ByteCount::new(size)))?
            .map_err(ntmm_vmm::VmmError::from)?;
        if let Some(ca) = s.data_ca {
            let seg = self.segment_of(ca)?;
            let pages = ByteCount::new(size).pages_rounded_up();
            if vmm.segment_info(seg)?.pages < pages {
                vmm.extend_segment(seg, pages)?;
            }
            self.zero_cached_tail(vmm, id, old, size)?;
        }
        Ok(())
    }

    /// `SetEndOfFile`: grows, or shrinks when no user section or view holds the file
    /// (`MmCanFileBeTruncated`, §8: else `STATUS_USER_MAPPED_FILE`). Cached pages past the new
    /// end are discarded.
    pub(crate) fn set_file_size(&mut self, vmm: &Vmm, id: StreamId, size: u64) -> Result<()> {
        let old = self.file_size(vmm, id)?;
        if size >= crate::consts::MAX_SECTION_SIZE {
            return Err(SectionError::param(0, "file size"));
        }
        if size >= old {
            return self.grow_file(vmm, id, size);
        }
        let s = self.stream(id)?.clone();
        // An image section holds the file's size as a data section does (§8).
        if s.image_ca.is_some() {
            return Err(SectionError::UserMappedFile);
        }
        if let Some(ca) = s.data_ca {
            let c = self
                .control_areas
                .get(&ca)
                .ok_or(SectionError::UnknownStream(id))?;
            if c.is_user_referenced() {
                return Err(SectionError::UserMappedFile);
            }
            vmm.truncate_segment(c.segment, PageCount::new(size.div_ceil(PAGE_SIZE).max(1)))?;
        }
        vmm.with_store(s.store, |st| st.set_size(ByteCount::new(size)))?
            .map_err(ntmm_vmm::VmmError::from)?;
        self.zero_cached_tail(vmm, id, size, u64::MAX)?;
        // The truncation may have freed the last cached page of a parked control area.
        if let Some(ca) = s.data_ca {
            if let Some(c) = self.control_areas.get(&ca) {
                if c.is_parked_without_pages(vmm)? {
                    self.delete_file_control_area(vmm, ca)?;
                }
            }
        }
        Ok(())
    }

    /// Cached read (`CcCopyRead`): returns the bytes read (short at end of file).
    pub(crate) fn read_file(
        &mut self,
        vmm: &Vmm,
        id: StreamId,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize> {
        let size = self.file_size(vmm, id)?;
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        let n = buf
            .len()
            .min(usize::try_from(size - offset).unwrap_or(usize::MAX));
        let ca = self.cache_control_area(vmm, id)?;
        vmm.read_segment(self.segment_of(ca)?, offset, &mut buf[..n])?;
        Ok(n)
    }

    /// Cached read (`CcCopyRead`) of up to `len` bytes appended to `out` (room reserved by the
    /// caller; no zero-fill first): returns the bytes read (short at end of file).
    pub(crate) fn read_file_append(
        &mut self,
        vmm: &Vmm,
        id: StreamId,
        offset: u64,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        let size = self.file_size(vmm, id)?;
        if offset >= size || len == 0 {
            return Ok(0);
        }
        let n = len.min(usize::try_from(size - offset).unwrap_or(usize::MAX));
        let ca = self.cache_control_area(vmm, id)?;
        vmm.read_segment_append(self.segment_of(ca)?, offset, n, out)?;
        Ok(n)
    }

    /// Cached write (`CcCopyWrite`): extends the file if needed; the pages become modified and
    /// reach the disk when the writers run or the file is flushed.
    pub(crate) fn write_file(
        &mut self,
        vmm: &Vmm,
        id: StreamId,
        offset: u64,
        data: &[u8],
    ) -> Result<usize> {
        if data.is_empty() {
            self.stream(id)?;
            return Ok(0);
        }
        let end = offset
            .checked_add(data.len() as u64)
            .filter(|e| *e < crate::consts::MAX_SECTION_SIZE)
            .ok_or(SectionError::param(0, "write past the largest file"))?;
        if end > self.file_size(vmm, id)? {
            self.grow_file(vmm, id, end)?;
        }
        let ca = self.cache_control_area(vmm, id)?;
        vmm.write_segment(self.segment_of(ca)?, offset, data)?;
        Ok(data.len())
    }

    /// `FlushFileBuffers`: every modified cached page of the file is written (the cache
    /// manager's `MmFlushSection` over the whole file, nt_internals §5.2 and §8), then the file
    /// system's `IRP_MJ_FLUSH_BUFFERS` flushes the disk's cache: the store's flush makes the
    /// file's data and size durable.
    pub(crate) fn flush_file(&mut self, vmm: &Vmm, id: StreamId) -> Result<()> {
        let s = self.stream(id)?.clone();
        if let Some(ca) = s.data_ca {
            let seg = self.segment_of(ca)?;
            let pages = vmm.segment_info(seg)?.pages;
            vmm.flush_segment(seg, 0, pages)?;
        }
        vmm.with_store(s.store, |st| st.flush())?
            .map_err(ntmm_vmm::VmmError::from)?;
        Ok(())
    }

    /// A write-through write (`FILE_FLAG_WRITE_THROUGH`): the cached pages of `[offset,
    /// offset + len)` are written at once (`MmFlushSection` over the range, §5.2) and the store
    /// flushed, so the write is durable before the call returns.
    pub(crate) fn write_through(
        &mut self,
        vmm: &Vmm,
        id: StreamId,
        offset: u64,
        len: u64,
    ) -> Result<()> {
        let s = self.stream(id)?.clone();
        if let Some(ca) = s.data_ca {
            let seg = self.segment_of(ca)?;
            let first = offset / PAGE_SIZE;
            let end = offset.saturating_add(len).div_ceil(PAGE_SIZE);
            if end > first {
                vmm.flush_segment(seg, first, PageCount::new(end - first))?;
            }
        }
        vmm.with_store(s.store, |st| st.flush())?
            .map_err(ntmm_vmm::VmmError::from)?;
        Ok(())
    }

    /// Shutdown's write-back of one file: every modified cached page is written, going on past
    /// a page that fails, then the store is flushed (durable). Returns the pages written and
    /// every failure, each with its page (shutdown writes everything, nt_internals §4.6).
    pub(crate) fn write_back_file(
        &mut self,
        vmm: &Vmm,
        id: StreamId,
    ) -> Result<(u64, Vec<ntmm_vmm::StoreError>)> {
        let s = self.stream(id)?.clone();
        let mut failures = Vec::new();
        let mut written = 0;
        if let Some(ca) = s.data_ca {
            let seg = self.segment_of(ca)?;
            let pages = vmm.segment_info(seg)?.pages.raw();
            let mut first = 0;
            while first < pages {
                match vmm.flush_segment(seg, first, PageCount::new(pages - first)) {
                    Ok(n) => {
                        written += n;
                        break;
                    }
                    Err(ntmm_vmm::VmmError::Store(e)) if e.page >= first => {
                        first = e.page + 1;
                        failures.push(e);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if let Err(e) = vmm.with_store(s.store, |st| st.flush())? {
            failures.push(e);
        }
        Ok((written, failures))
    }

    /// `CcUninitializeCacheMap`: the cache manager drops its section reference (at the last
    /// close of the file).
    pub(crate) fn release_file_cache(&mut self, vmm: &Vmm, id: StreamId) -> Result<()> {
        let s = self.stream_mut(id)?;
        if !s.cached {
            return Ok(());
        }
        s.cached = false;
        let Some(ca) = s.data_ca else {
            return Ok(());
        };
        self.change_counts(ca, CountChange::CacheSectionRemoved);
        self.check_control_area(vmm, ca)
    }

    /// Whether user sections or views hold the file (a truncating open must then fail with
    /// `STATUS_USER_MAPPED_FILE`, F120).
    pub(crate) fn is_user_mapped(&self, id: StreamId) -> Result<bool> {
        let s = self.stream(id)?;
        Ok([s.data_ca, s.image_ca]
            .into_iter()
            .flatten()
            .filter_map(|ca| self.control_areas.get(&ca))
            .any(|c| c.is_user_referenced()))
    }

    /// Removes a file stream that no user section or view holds; its cached pages are written
    /// and dropped.
    pub(crate) fn delete_stream(
        &mut self,
        vmm: &Vmm,
        id: StreamId,
    ) -> Result<Box<dyn ntmm_vmm::BackingStore>> {
        if self.is_user_mapped(id)? {
            return Err(SectionError::UserMappedFile);
        }
        self.release_file_cache(vmm, id)?;
        let s = self.stream(id)?.clone();
        if let Some(ca) = s.data_ca {
            let seg = self.segment_of(ca)?;
            vmm.purge_segment(seg)?;
            self.delete_file_control_area(vmm, ca)?;
        }
        let store = vmm.remove_store(s.store)?;
        self.streams.remove(&id);
        Ok(store)
    }
}
