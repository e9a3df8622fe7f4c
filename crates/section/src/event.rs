//! The section layer's typed events: sections, views, control areas and flushes, delivered to
//! subscribers and to `tracing` as the machine's are ([`ntmm_vmm::event`]: synchronous, in
//! order, a subscriber only records).
//!
//! Each kind is emitted from one place: a section from `create_section`/`close_section`
//! (section.rs), a view from `map_view`/`unmap_view` (view.rs), a count change from
//! `State::change_counts`, a control area's parking, revival and deletion from
//! `State::check_control_area`, `data_control_area` and `State::delete_file_control_area`, a
//! flush from `flush_view`.

use crate::ids::{ControlAreaId, SectionId, StreamId};
use ntmm_vmm::{AsId, Protection, SegmentId, Traced, Va};

/// The three counts of a control area (§6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Counts {
    /// `NumberOfSectionReferences`.
    pub section_references: u32,
    /// `NumberOfMappedViews`.
    pub mapped_views: u32,
    /// `NumberOfUserReferences`.
    pub user_references: u32,
}

/// The NT operation that changed a control area's counts (§6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CountChange {
    /// A user section object was created on it (`MmCreateSection`).
    UserSectionAdded,
    /// A user section object was deleted (`MiSectionDelete`).
    UserSectionRemoved,
    /// The cache manager took its section reference (`CcInitializeCacheMap`).
    CacheSectionAdded,
    /// The cache manager dropped it (`CcUninitializeCacheMap`).
    CacheSectionRemoved,
    /// A view was mapped (`MiMapViewOfSection`).
    ViewMapped,
    /// A view was unmapped (`MiRemoveMappedView`).
    ViewUnmapped,
}

/// One event of the section layer.
#[derive(Clone, Debug, PartialEq, Eq, strum::EnumDiscriminants)]
#[strum_discriminants(
    name(SectionEventKind),
    derive(strum::EnumIter, Hash, PartialOrd, Ord),
    doc = "The kinds of [`SectionEvent`], one per variant (`SectionEventKind::iter()` lists them all)."
)]
pub enum SectionEvent {
    /// A control area was created over a new segment (`MiCreateDataFileMap`,
    /// `MiCreatePagingFileMap`).
    ControlAreaCreated {
        /// The control area.
        control_area: ControlAreaId,
        /// Its segment.
        segment: SegmentId,
        /// Its file stream (`None`: pagefile-backed).
        stream: Option<StreamId>,
    },
    /// A section object was created (`NtCreateSection`).
    SectionCreated {
        /// The section.
        section: SectionId,
        /// Its control area.
        control_area: ControlAreaId,
        /// Its size in bytes.
        size: u64,
        /// Its protection.
        protection: Protection,
        /// Its `SEC_*` attributes as reported.
        attributes: u32,
    },
    /// A section object was deleted (`MiSectionDelete`).
    SectionDeleted {
        /// The section.
        section: SectionId,
        /// Its control area.
        control_area: ControlAreaId,
    },
    /// A view was mapped (`NtMapViewOfSection`).
    ViewMapped {
        /// The process.
        asid: AsId,
        /// The section.
        section: SectionId,
        /// The control area the view refers to.
        control_area: ControlAreaId,
        /// The view's base.
        base: Va,
        /// Its pages.
        pages: u64,
        /// Its protection.
        protection: Protection,
    },
    /// A view was unmapped (`NtUnmapViewOfSection`): dirty bits captured, nothing written.
    ViewUnmapped {
        /// The process.
        asid: AsId,
        /// The view's base.
        base: Va,
        /// The control area it referred to.
        control_area: ControlAreaId,
    },
    /// A control area's counts changed.
    ControlAreaCounts {
        /// The control area.
        control_area: ControlAreaId,
        /// What changed them.
        change: CountChange,
        /// The counts before.
        before: Counts,
        /// The counts after.
        after: Counts,
    },
    /// `MiCheckControlArea` parked a file control area on the unused-segment list (§6.2).
    ControlAreaParked {
        /// The control area.
        control_area: ControlAreaId,
    },
    /// A new section revived a parked control area (§6.2 point 4).
    ControlAreaRevived {
        /// The control area.
        control_area: ControlAreaId,
    },
    /// A control area was deleted with its segment (§6.2, §6.3).
    ControlAreaDeleted {
        /// The control area.
        control_area: ControlAreaId,
        /// File-backed (else pagefile-backed).
        file: bool,
    },
    /// An image control area was deleted with its segment, its last section and view gone: it
    /// leaves its file's `ImageSectionObject` (§1.6, §6.2).
    ImageControlAreaDeleted {
        /// The control area.
        control_area: ControlAreaId,
    },
    /// A view's range was flushed (`NtFlushVirtualMemory`, §5.2).
    Flushed {
        /// The process.
        asid: AsId,
        /// The rounded range's base.
        base: Va,
        /// Its pages.
        pages: u64,
        /// The control area flushed.
        control_area: ControlAreaId,
        /// Whether the flush was made durable (write-through).
        durable: bool,
    },
}

impl SectionEvent {
    /// The event's kind.
    pub fn kind(&self) -> SectionEventKind {
        SectionEventKind::from(self)
    }
}

impl Traced for SectionEvent {
    fn trace(&self) {
        use tracing::debug;
        match self {
            SectionEvent::ControlAreaCreated {
                control_area,
                segment,
                stream,
            } => debug!(id = ?control_area, ?segment, ?stream, "control area created"),
            SectionEvent::SectionCreated {
                section,
                control_area,
                size,
                protection,
                attributes,
            } => debug!(
                id = ?section,
                ca = ?control_area,
                size,
                ?protection,
                attributes,
                "section created"
            ),
            SectionEvent::SectionDeleted {
                section,
                control_area,
            } => debug!(id = ?section, ca = ?control_area, "section deleted"),
            SectionEvent::ViewMapped {
                asid,
                section,
                control_area,
                base,
                pages,
                protection,
            } => debug!(
                ?asid,
                ?section,
                ca = ?control_area,
                %base,
                pages,
                ?protection,
                "view mapped"
            ),
            SectionEvent::ViewUnmapped {
                asid,
                base,
                control_area,
            } => debug!(?asid, %base, ca = ?control_area, "view unmapped"),
            SectionEvent::ControlAreaCounts {
                control_area,
                change,
                before,
                after,
            } => debug!(
                id = ?control_area,
                ?change,
                ?before,
                ?after,
                "control area counts changed"
            ),
            SectionEvent::ControlAreaParked { control_area } => debug!(
                id = ?control_area,
                "file control area parked on the unused-segment list"
            ),
            SectionEvent::ControlAreaRevived { control_area } => {
                debug!(id = ?control_area, "parked control area revived")
            }
            SectionEvent::ControlAreaDeleted {
                control_area,
                file: true,
            } => debug!(id = ?control_area, "file control area deleted"),
            SectionEvent::ControlAreaDeleted {
                control_area,
                file: false,
            } => debug!(id = ?control_area, "pagefile-backed control area deleted"),
            SectionEvent::ImageControlAreaDeleted { control_area } => {
                debug!(id = ?control_area, "image control area deleted")
            }
            SectionEvent::Flushed {
                asid,
                base,
                pages,
                control_area,
                durable,
            } => debug!(
                ?asid,
                %base,
                pages,
                ca = ?control_area,
                durable,
                "view flushed"
            ),
        }
    }
}
