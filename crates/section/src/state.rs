//! The executive's object tables — processes, control areas, section objects, file streams,
//! views — with the records they hold and the links between them (nt_internals §1.1): a
//! section names its control area, a view names its control area (not its section, §6.1), a
//! file names its data control area (`DataSectionObject`, §1.6).
//!
//! The mechanisms (section.rs, view.rs, file.rs, virtual_memory.rs, invariants.rs) operate on
//! [`State`]; this module depends on none of them, only on the [`ControlArea`] record.

use crate::control_area::{ControlArea, ControlAreaInfo, Disposition};
use crate::error::{Result, SectionError};
use crate::event::{CountChange, SectionEvent};
use crate::ids::{ControlAreaId, SectionId, StreamId};
use ntmm_vmm::{AsId, Protection, ProtoIndex, StoreId, Vmm};
use std::collections::{BTreeMap, BTreeSet};

/// A file stream: its data on a backing store, its data control area, and whether the cache
/// manager holds it cached (its own section reference). The file's
/// `SECTION_OBJECT_POINTERS` (§1.6).
///
/// # Invariants
/// `data_ca` names a live control area whose stream is this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stream {
    pub(crate) store: StoreId,
    pub(crate) data_ca: Option<ControlAreaId>,
    /// `ImageSectionObject`: the image control area, beside the data one (§1.6, §1.7).
    pub(crate) image_ca: Option<ControlAreaId>,
    pub(crate) cached: bool,
}

/// A section object (`SECTION`, §1.2).
///
/// # Invariants
/// It holds one section reference (and one user reference) on its control area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SectionObject {
    pub(crate) id: SectionId,
    pub(crate) control_area: ControlAreaId,
    pub(crate) size: u64,
    pub(crate) protection: Protection,
    pub(crate) attributes: u32,
    /// Created from a file object opened with `FILE_FLAG_WRITE_THROUGH`: flushes of its views
    /// are durable before they return (nt_internals §5.2; the contract's "Durability").
    pub(crate) write_through: bool,
}

/// A mapped view's record (the section part of its VAD, §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ViewRecord {
    pub(crate) control_area: ControlAreaId,
    pub(crate) first_index: ProtoIndex,
    pub(crate) pages: u64,
    /// Mapped from a write-through section: a flush of the view is durable.
    pub(crate) write_through: bool,
}

/// The state of the executive objects.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) processes: BTreeSet<AsId>,
    pub(crate) control_areas: BTreeMap<ControlAreaId, ControlArea>,
    pub(crate) sections: BTreeMap<SectionId, SectionObject>,
    pub(crate) streams: BTreeMap<StreamId, Stream>,
    pub(crate) views: BTreeMap<(AsId, u64), ViewRecord>,
    /// The subscribers of the layer's events.
    pub(crate) events: ntmm_vmm::Subscribers<SectionEvent>,
    next: u32,
}

impl State {
    pub(crate) fn next_id(&mut self) -> u32 {
        self.next += 1;
        self.next
    }
    pub(crate) fn new_ca_id(&mut self) -> ControlAreaId {
        ControlAreaId(self.next_id())
    }
    pub(crate) fn new_section_id(&mut self) -> SectionId {
        SectionId(self.next_id())
    }

    /// A live process, or `UnknownProcess`.
    pub(crate) fn check_process(&self, asid: AsId) -> Result<()> {
        if self.processes.contains(&asid) {
            Ok(())
        } else {
            Err(SectionError::UnknownProcess(asid))
        }
    }

    /// A file stream.
    pub(crate) fn stream(&self, id: StreamId) -> Result<&Stream> {
        self.streams.get(&id).ok_or(SectionError::UnknownStream(id))
    }

    /// A file stream, for changing.
    pub(crate) fn stream_mut(&mut self, id: StreamId) -> Result<&mut Stream> {
        self.streams
            .get_mut(&id)
            .ok_or(SectionError::UnknownStream(id))
    }

    /// `MiCheckControlArea` (§6.2) on the control area `id`, after one of its counts went down
    /// ([`ControlArea::check`] decides); a control area it deletes leaves the tables here.
    pub(crate) fn check_control_area(&mut self, vmm: &Vmm, id: ControlAreaId) -> Result<()> {
        let Some(ca) = self.control_areas.get_mut(&id) else {
            return Ok(());
        };
        match ca.check(vmm)? {
            Disposition::Kept => Ok(()),
            Disposition::Parked => {
                self.events
                    .emit(SectionEvent::ControlAreaParked { control_area: id });
                Ok(())
            }
            Disposition::SegmentDeleted => {
                let image = self
                    .control_areas
                    .remove(&id)
                    .and_then(|ca| ca.stream.filter(|_| ca.image.is_some()));
                // An image control area leaves its file's `ImageSectionObject`.
                if let Some(s) = image.and_then(|s| self.streams.get_mut(&s)) {
                    if s.image_ca == Some(id) {
                        s.image_ca = None;
                    }
                }
                self.events.emit(if image.is_some() {
                    SectionEvent::ImageControlAreaDeleted { control_area: id }
                } else {
                    SectionEvent::ControlAreaDeleted {
                        control_area: id,
                        file: false,
                    }
                });
                Ok(())
            }
            Disposition::DeleteFileControlArea => self.delete_file_control_area(vmm, id),
        }
    }

    /// Deletes a file-backed control area with no resident page: the segment goes and the
    /// file's `DataSectionObject` is cleared (§6.2, §6.3).
    pub(crate) fn delete_file_control_area(&mut self, vmm: &Vmm, id: ControlAreaId) -> Result<()> {
        let Some(ca) = self.control_areas.remove(&id) else {
            return Ok(());
        };
        vmm.delete_segment(ca.segment)?;
        if let Some(s) = ca.stream.and_then(|s| self.streams.get_mut(&s)) {
            s.data_ca = None;
        }
        self.events.emit(SectionEvent::ControlAreaDeleted {
            control_area: id,
            file: true,
        });
        Ok(())
    }

    /// The segment dereference thread: deletes the parked control areas whose last cached page
    /// has been reused (`MiCheckForControlAreaDeletion`, nt_internals §4.7).
    pub(crate) fn reap(&mut self, vmm: &Vmm) {
        for seg in vmm.take_segments_to_delete() {
            let found = self
                .control_areas
                .values()
                .find(|c| c.segment == seg && c.is_parked())
                .map(|c| c.id);
            if let Some(id) = found {
                if let Err(e) = self.delete_file_control_area(vmm, id) {
                    tracing::warn!(?id, %e, "parked control area could not be deleted");
                }
            }
        }
    }

    /// Changes a control area's counts as `change` says (through its named operation) and
    /// emits the change with the counts before and after: the one place counts change.
    pub(crate) fn change_counts(&mut self, id: ControlAreaId, change: CountChange) {
        let Some(c) = self.control_areas.get_mut(&id) else {
            return;
        };
        let before = c.counts();
        match change {
            CountChange::UserSectionAdded => c.add_user_section_reference(),
            CountChange::UserSectionRemoved => c.remove_user_section_reference(),
            CountChange::CacheSectionAdded => c.add_cache_section_reference(),
            CountChange::CacheSectionRemoved => c.remove_cache_section_reference(),
            CountChange::ViewMapped => c.add_mapped_view(),
            CountChange::ViewUnmapped => c.remove_mapped_view(),
        }
        let after = c.counts();
        self.events.emit(SectionEvent::ControlAreaCounts {
            control_area: id,
            change,
            before,
            after,
        });
    }

    /// Adds a new control area to the table.
    pub(crate) fn add_control_area(&mut self, ca: ControlArea) {
        self.events.emit(SectionEvent::ControlAreaCreated {
            control_area: ca.id,
            segment: ca.segment,
            stream: ca.stream,
        });
        self.control_areas.insert(ca.id, ca);
    }

    /// A control area's snapshot.
    pub(crate) fn control_area_info(
        &self,
        vmm: &Vmm,
        id: ControlAreaId,
    ) -> Option<ControlAreaInfo> {
        Some(self.control_areas.get(&id)?.info(vmm))
    }
}
