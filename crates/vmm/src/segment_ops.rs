//! Segment lifecycle: creation, extension, commit through views, purge and deletion
//! (nt_internals §1.8–§1.9, §6.2–§6.3).

use crate::addr::{PageCount, ProtoIndex, PAGE_SIZE};
use crate::error::{Result, VmmError};
use crate::id::{SegmentId, StoreId};
use crate::machine::Machine;
use crate::pfn::PageLocation;
use crate::protection::Protection;
use crate::pte::ProtoPte;
use crate::segment::{Segment, SegmentKind};

/// The protection NT gives every prototype PTE of a data file (§1.8: the view governs access).
pub const FILE_PROTO_PROTECTION: Protection = Protection::EXECUTE_READWRITE;

/// The largest segment, in pages: its byte size must fit in 64 bits.
pub const MAX_SEGMENT_PAGES: u64 = u64::MAX / PAGE_SIZE;

impl Machine {
    fn check_segment_size(pages: u64) -> Result<()> {
        if pages == 0 {
            return Err(VmmError::InvalidParameter(
                "a segment needs at least one page",
            ));
        }
        if pages > MAX_SEGMENT_PAGES {
            return Err(VmmError::RangeOverflow);
        }
        Ok(())
    }

    /// A pagefile-backed segment (`MiCreatePagingFileMap`). Unless `reserve`, every page is
    /// committed now (demand-zero with the protection) and charged (§1.9); with `reserve` the
    /// prototype PTEs are zero (not committed) and nothing is charged.
    pub(crate) fn create_pagefile_segment(
        &mut self,
        pages: u64,
        protection: Protection,
        reserve: bool,
    ) -> Result<SegmentId> {
        Self::check_segment_size(pages)?;
        if !protection.is_accessible() || protection.is_guard() {
            return Err(VmmError::InvalidProtection);
        }
        let charge = if reserve { 0 } else { pages };
        self.commit.charge(charge)?;
        let id = self.new_segment_id();
        let template = if reserve {
            ProtoPte::Zero
        } else {
            ProtoPte::DemandZero { protection }
        };
        let mut seg = Segment::new(id, SegmentKind::Pagefile, pages, protection, template);
        seg.committed = charge;
        self.segments.insert(id, seg);
        self.events.emit(crate::event::VmmEvent::SegmentCreated {
            segment: id,
            kind: SegmentKind::Pagefile,
            pages,
            protection,
            reserve,
        });
        Ok(id)
    }

    /// A file-backed segment over `store` (`MiCreateDataFileMap`): every prototype PTE is in
    /// subsection form; nothing is charged.
    pub(crate) fn create_file_segment(&mut self, store: StoreId, pages: u64) -> Result<SegmentId> {
        Self::check_segment_size(pages)?;
        if !self.stores.contains_key(&store) {
            return Err(VmmError::UnknownStore(store));
        }
        let id = self.new_segment_id();
        let seg = Segment::new(
            id,
            SegmentKind::File { store },
            pages,
            FILE_PROTO_PROTECTION,
            ProtoPte::Subsection {
                protection: FILE_PROTO_PROTECTION,
            },
        );
        self.segments.insert(id, seg);
        self.events.emit(crate::event::VmmEvent::SegmentCreated {
            segment: id,
            kind: SegmentKind::File { store },
            pages,
            protection: FILE_PROTO_PROTECTION,
            reserve: false,
        });
        Ok(id)
    }

    /// An image segment over `store` (`MiCreateImageFileMap`, nt_internals §1.5): one prototype
    /// PTE per page of the image, in subsection form where the page has raw data in the file,
    /// demand-zero past it; each with its section's protection. Nothing is charged (NT's image
    /// commitment is not modelled: copy-on-write views are charged when mapped).
    pub(crate) fn create_image_segment(
        &mut self,
        store: StoreId,
        layout: &[crate::segment::ImagePage],
    ) -> Result<SegmentId> {
        let pages = layout.len() as u64;
        Self::check_segment_size(pages)?;
        if !self.stores.contains_key(&store) {
            return Err(VmmError::UnknownStore(store));
        }
        let id = self.new_segment_id();
        let kind = SegmentKind::Image { store };
        let mut seg = Segment::new(
            id,
            kind,
            pages,
            Protection::EXECUTE_WRITECOPY,
            ProtoPte::Zero,
        );
        for (i, page) in layout.iter().enumerate() {
            let protection = page.protection;
            seg.set(
                ProtoIndex::new(i as u64),
                if page.raw_len > 0 {
                    ProtoPte::Subsection { protection }
                } else {
                    ProtoPte::DemandZero { protection }
                },
            );
        }
        seg.image = layout.into();
        self.segments.insert(id, seg);
        self.events.emit(crate::event::VmmEvent::SegmentCreated {
            segment: id,
            kind,
            pages,
            protection: Protection::EXECUTE_WRITECOPY,
            reserve: false,
        });
        Ok(id)
    }

    /// Grows a file segment to `pages` (`NtExtendSection`); pagefile segments cannot grow.
    pub(crate) fn extend_segment(&mut self, id: SegmentId, pages: u64) -> Result<()> {
        Self::check_segment_size(pages)?;
        let seg = self.segment_mut(id)?;
        if !matches!(seg.kind, SegmentKind::File { .. }) {
            return Err(VmmError::InvalidParameter(
                "pagefile-backed and image segments cannot be extended",
            ));
        }
        seg.extend(pages);
        Ok(())
    }

    /// Shrinks a file segment to `pages` (the file was truncated). Pages past the new end must
    /// not be mapped; their cached frames are discarded (they are past the end of the file, so
    /// there is nothing to write).
    pub(crate) fn truncate_segment(&mut self, id: SegmentId, pages: u64) -> Result<()> {
        Self::check_segment_size(pages)?;
        let seg = self.segment(id)?;
        if !matches!(seg.kind, SegmentKind::File { .. }) {
            return Err(VmmError::InvalidParameter(
                "pagefile-backed and image segments cannot be truncated",
            ));
        }
        if pages >= seg.pages {
            return Ok(());
        }
        let tail = seg.pages - pages;
        for (index, pte) in seg.resident(ProtoIndex::new(pages), PageCount::new(tail)) {
            let ProtoPte::Transition { pfn, .. } = pte else {
                return Err(VmmError::SegmentInUse(id));
            };
            let seg = self.segment_mut(id)?;
            seg.set(
                index,
                ProtoPte::Subsection {
                    protection: FILE_PROTO_PROTECTION,
                },
            );
            seg.pfn_references -= 1;
            self.free_deleted(pfn);
        }
        self.segment_mut(id)?.truncate(pages);
        Ok(())
    }

    /// Commits the not-yet-committed prototype PTEs of `[first, first + count)` of a pagefile
    /// segment (SEC_RESERVE pages committed through a view, §1.9). Returns the pages charged.
    pub(crate) fn commit_segment(
        &mut self,
        id: SegmentId,
        first: ProtoIndex,
        count: PageCount,
    ) -> Result<PageCount> {
        let seg = self.segment(id)?;
        let end = first.checked_add(count).ok_or(VmmError::RangeOverflow)?;
        if end.raw() > seg.pages {
            return Err(VmmError::BeyondSegment {
                segment: id,
                index: end.raw().saturating_sub(1),
                pages: seg.page_count(),
            });
        }
        if seg.kind != SegmentKind::Pagefile {
            return Ok(PageCount::ZERO);
        }
        let fresh: Vec<ProtoIndex> = if seg.template == ProtoPte::Zero {
            let set: std::collections::BTreeSet<ProtoIndex> = seg
                .non_template(first, count)
                .into_iter()
                .map(|(i, _)| i)
                .collect();
            (first.raw()..end.raw())
                .map(ProtoIndex::new)
                .filter(|i| !set.contains(i))
                .collect()
        } else {
            seg.non_template(first, count)
                .into_iter()
                .filter(|(_, p)| *p == ProtoPte::Zero)
                .map(|(i, _)| i)
                .collect()
        };
        self.commit.charge(fresh.len() as u64)?;
        let seg = self.segment_mut(id)?;
        let protection = seg.protection;
        for &i in &fresh {
            seg.set(i, ProtoPte::DemandZero { protection });
        }
        seg.committed += fresh.len() as u64;
        self.events.emit(crate::event::VmmEvent::SegmentCommitted {
            segment: id,
            first,
            pages: count.raw(),
            committed: fresh.len() as u64,
        });
        Ok(PageCount::new(fresh.len() as u64))
    }

    /// Marks a segment as let go by its owner (no section and no view refer to it any more),
    /// or revives it. A parked segment with no resident page is queued for deletion
    /// ([`Segment::is_reapable`]; the vmm part of `MiCheckControlArea`).
    pub(crate) fn set_parked(&mut self, id: SegmentId, parked: bool) -> Result<()> {
        let seg = self.segment_mut(id)?;
        seg.parked = parked;
        if seg.is_reapable() {
            self.deletion_queue.push(id);
        }
        Ok(())
    }

    /// Drains the queue of parked segments whose last page has left memory (each still
    /// [`Segment::is_reapable`]): the owner deletes them, as NT's segment dereference thread
    /// does after `MiCheckControlArea` queued them (§6.2).
    pub(crate) fn take_deletion_queue(&mut self) -> Vec<SegmentId> {
        let mut q = std::mem::take(&mut self.deletion_queue);
        q.sort();
        q.dedup();
        q.retain(|id| self.segments.get(id).is_some_and(Segment::is_reapable));
        q
    }

    /// `MiCleanSection` for a file segment: writes its modified pages, then frees every
    /// resident frame (restoring the subsection-form prototype PTEs). Fails, changing nothing
    /// more, if a page is still mapped or a write fails.
    pub(crate) fn purge_segment(&mut self, id: SegmentId) -> Result<()> {
        let seg = self.segment(id)?;
        let pages = seg.page_count();
        if seg.mapped > 0 {
            return Err(VmmError::SegmentInUse(id));
        }
        if let SegmentKind::File { .. } = seg.kind {
            self.flush_segment(id, ProtoIndex::ZERO, pages)?;
        }
        for (index, pte) in self.segment(id)?.resident(ProtoIndex::ZERO, pages) {
            let ProtoPte::Transition { pfn, .. } = pte else {
                return Err(VmmError::SegmentInUse(id));
            };
            let e = self.pfn.entry(pfn);
            if e.modified() {
                // Only pagefile and image segments get here with modified pages: their
                // contents die.
                debug_assert!(!matches!(self.segment(id)?.kind, SegmentKind::File { .. }));
            }
            let original = e.original();
            let seg = self.segment_mut(id)?;
            seg.set(index, original.to_proto());
            seg.pfn_references -= 1;
            self.free_deleted(pfn);
        }
        Ok(())
    }

    /// Deletes a segment (`MiSegmentDelete`). It must not be mapped. A pagefile segment's
    /// resident pages and pagefile slots are discarded and its commit returned; a file segment
    /// must have no resident page (purge it first).
    pub(crate) fn delete_segment(&mut self, id: SegmentId) -> Result<()> {
        let seg = self.segment(id)?;
        if seg.mapped > 0 {
            return Err(VmmError::SegmentInUse(id));
        }
        match seg.kind {
            // An image's pages are either in its file (never written) or, once modified, in
            // the pagefile like a pagefile segment's: both die with it (§6.3).
            SegmentKind::Pagefile | SegmentKind::Image { .. } => {
                for (index, pte) in seg.non_template(ProtoIndex::ZERO, seg.page_count()) {
                    match pte {
                        ProtoPte::Transition { pfn, .. } => {
                            self.segment_mut(id)?.pfn_references -= 1;
                            self.free_deleted(pfn);
                        }
                        ProtoPte::Pagefile { slot, .. } => self.pagefile.release(slot),
                        ProtoPte::Valid { .. } => return Err(VmmError::SegmentInUse(id)),
                        _ => {}
                    }
                    let _ = index;
                }
            }
            SegmentKind::File { .. } => {
                if seg.pfn_references > 0 {
                    return Err(VmmError::SegmentInUse(id));
                }
            }
        }
        let seg = self
            .segments
            .remove(&id)
            .ok_or(VmmError::UnknownSegment(id))?;
        self.commit.release(seg.committed);
        self.deletion_queue.retain(|s| *s != id);
        self.events
            .emit(crate::event::VmmEvent::SegmentDeleted { segment: id });
        Ok(())
    }

    /// Registers a backing store.
    pub(crate) fn add_store(&mut self, mut store: Box<dyn crate::store::BackingStore>) -> StoreId {
        store.attach_events(&self.events);
        let id = self.new_store_id();
        self.stores.insert(id, store);
        id
    }

    /// Removes a backing store no segment uses.
    pub(crate) fn remove_store(
        &mut self,
        id: StoreId,
    ) -> Result<Box<dyn crate::store::BackingStore>> {
        if self.segments.values().any(|s| {
            s.kind == SegmentKind::File { store: id } || s.kind == SegmentKind::Image { store: id }
        }) {
            return Err(VmmError::StoreInUse(id));
        }
        self.stores.remove(&id).ok_or(VmmError::UnknownStore(id))
    }

    /// Disables (`on`) or re-enables the writing of a segment's modified pages
    /// (`MmDisableModifiedWriteOfSection`). On re-enabling, the segment's frames on the
    /// modified-no-write list move back to the modified list.
    pub(crate) fn set_no_modified_writing(&mut self, id: SegmentId, on: bool) -> Result<()> {
        self.segment_mut(id)?.no_modified_writing = on;
        if !on {
            for pfn in self.pfn.list(PageLocation::ModifiedNoWrite) {
                if let Some(crate::pte::PteRef::Proto(r)) = self.pfn.entry(pfn).pte() {
                    if r.segment == id {
                        self.pfn
                            .move_to_modified(pfn, crate::event::MoveReason::WritingEnabled);
                    }
                }
            }
        }
        Ok(())
    }
}
