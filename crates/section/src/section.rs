//! Section objects: creation (`NtCreateSection`), deletion, query and extension
//! (nt_internals §1.2, §1.7–§1.9; facts F4–F30, F142).

use crate::consts::*;
use crate::control_area::ControlArea;
use crate::error::{Result, SectionError};
use crate::event::{CountChange, SectionEvent};
use crate::ids::{ControlAreaId, SectionId, StreamId};
use crate::state::{SectionObject, State};
use ntmm_vmm::{AsId, ByteCount, PageCount, Protection, Vmm, PAGE_SIZE};

/// Access the file handle was granted, as far as section creation cares (`MmMakeFileAccess`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileAccess {
    /// `FILE_READ_DATA`.
    pub read: bool,
    /// `FILE_WRITE_DATA`.
    pub write: bool,
    /// `FILE_EXECUTE`.
    pub execute: bool,
}

impl FileAccess {
    /// Read, write and execute.
    pub const ALL: FileAccess = FileAccess {
        read: true,
        write: true,
        execute: true,
    };
    /// Read only.
    pub const READ: FileAccess = FileAccess {
        read: true,
        write: false,
        execute: false,
    };
}

/// The file behind a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// The file's stream.
    pub stream: StreamId,
    /// What the file handle may do.
    pub access: FileAccess,
}

/// The arguments of `NtCreateSection` that matter to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateSection {
    /// The file; `None` for a pagefile-backed section.
    pub file: Option<FileSpec>,
    /// `MaximumSize` in bytes; 0 means "the file's size" (file-backed only).
    pub maximum_size: u64,
    /// `SectionPageProtection` (a `PAGE_*` value).
    pub protection: u32,
    /// `AllocationAttributes` (`SEC_*`).
    pub attributes: u32,
}

/// `SECTION_BASIC_INFORMATION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionBasicInformation {
    /// Always 0 (based sections are not modelled).
    pub base_address: u64,
    /// `SEC_*` attributes as Windows reports them (F4, F26, F27, F142).
    pub attributes: u32,
    /// The section size in bytes (page-rounded for pagefile sections, exact for files).
    pub size: u64,
}

/// The page protections a section may be created with (F19, F20): exactly one of read-only,
/// read-write, write-copy and their execute forms.
pub(crate) fn section_protection(value: u32) -> Result<Protection> {
    match value {
        PAGE_READONLY
        | PAGE_READWRITE
        | PAGE_WRITECOPY
        | PAGE_EXECUTE_READ
        | PAGE_EXECUTE_READWRITE
        | PAGE_EXECUTE_WRITECOPY => {
            Protection::from_win32(value).ok_or(SectionError::InvalidPageProtection(value))
        }
        _ => Err(SectionError::InvalidPageProtection(value)),
    }
}

/// Validated `SEC_*` attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Attributes {
    pub reported: u32,
    pub reserve: bool,
    pub nocache: bool,
    /// `SEC_IMAGE` on a file.
    pub image: bool,
}

/// The attribute rules of F26 (pagefile) and F27 (data file).
pub(crate) fn parse_attributes(attrs: u32, file: bool) -> Result<Attributes> {
    const KNOWN: u32 = SEC_COMMIT
        | SEC_RESERVE
        | SEC_FILE
        | SEC_IMAGE
        | SEC_NOCACHE
        | SEC_WRITECOMBINE
        | SEC_LARGE_PAGES
        | SEC_BASED
        | SEC_NO_CHANGE;
    let bad = |what| Err(SectionError::param(6, what));
    if attrs & !KNOWN != 0 {
        return bad("unknown SEC_* bits");
    }
    if attrs & SEC_IMAGE != 0 {
        if attrs & !(SEC_IMAGE | SEC_NOCACHE) != 0 {
            return bad("SEC_IMAGE combined with other SEC_* flags"); // F26, F27, F28
        }
        if !file {
            return Err(SectionError::NotAnImage { file }); // F26
        }
        // F28, F142: an image reports SEC_FILE|SEC_IMAGE; a SEC_NOCACHE is dropped.
        return Ok(Attributes {
            reported: SEC_FILE | SEC_IMAGE,
            reserve: false,
            nocache: false,
            image: true,
        });
    }
    if attrs & (SEC_FILE | SEC_LARGE_PAGES) != 0 {
        return bad("SEC_FILE and SEC_LARGE_PAGES are not requestable");
    }
    if attrs & SEC_BASED != 0 {
        return Err(SectionError::NotSupported("based sections (SEC_BASED)"));
    }
    if attrs & SEC_NO_CHANGE != 0 {
        return Err(SectionError::NotSupported("SEC_NO_CHANGE"));
    }
    let base = attrs & (SEC_COMMIT | SEC_RESERVE);
    let modifiers = attrs & (SEC_NOCACHE | SEC_WRITECOMBINE);
    if base == SEC_COMMIT | SEC_RESERVE {
        return bad("SEC_COMMIT with SEC_RESERVE");
    }
    if base == 0 && modifiers != 0 {
        return bad("SEC_NOCACHE/SEC_WRITECOMBINE need SEC_COMMIT or SEC_RESERVE");
    }
    if modifiers == SEC_NOCACHE | SEC_WRITECOMBINE {
        return bad("SEC_NOCACHE with SEC_WRITECOMBINE");
    }
    // F6: no SEC_* bit means SEC_COMMIT. F27/F29: a file ignores SEC_RESERVE.
    let base = if base == 0 { SEC_COMMIT } else { base };
    Ok(Attributes {
        reported: if file { SEC_FILE } else { base } | modifiers,
        reserve: !file && base == SEC_RESERVE,
        nocache: modifiers != 0,
        image: false,
    })
}

fn pages_for(bytes: ByteCount) -> PageCount {
    bytes.pages_rounded_up().max(PageCount::new(1))
}

impl State {
    /// `NtCreateSection`.
    pub(crate) fn create_section(&mut self, vmm: &Vmm, spec: CreateSection) -> Result<SectionId> {
        let protection = section_protection(spec.protection)?;
        let attrs = parse_attributes(spec.attributes, spec.file.is_some())?;
        let (ca, size) = match spec.file {
            Some(file) if attrs.image => self.image_control_area(vmm, file, protection)?,
            None => {
                let size = spec.maximum_size;
                if size == 0 {
                    // §1.8: MiCreatePagingFileMap needs a size (F9).
                    return Err(SectionError::param(
                        4,
                        "a pagefile-backed section needs a size",
                    ));
                }
                if size >= MAX_SECTION_SIZE {
                    return Err(SectionError::SectionTooBig);
                }
                if size > MAX_PAGEFILE_SECTION_SIZE {
                    return Err(SectionError::InsufficientResources);
                }
                let pages = pages_for(ByteCount::new(size));
                // F4/F5: the size is rounded up to pages. §1.9: SEC_COMMIT charges it all now.
                let segment = vmm.create_pagefile_segment(pages, protection, attrs.reserve)?;
                let id = self.new_ca_id();
                self.add_control_area(ControlArea::new(id, segment, None, attrs.nocache));
                (id, pages.raw() * PAGE_SIZE)
            }
            Some(file) => {
                if !self.streams.contains_key(&file.stream) {
                    return Err(SectionError::UnknownStream(file.stream));
                }
                // MmMakeFileAccess: the file handle must allow the protection (F22–F25).
                let a = file.access;
                if !a.read
                    || (protection.is_writable() && !a.write)
                    || (protection.is_executable() && !a.execute)
                {
                    return Err(SectionError::AccessDenied);
                }
                let file_size = self.file_size(vmm, file.stream)?;
                let size = if spec.maximum_size == 0 {
                    if file_size == 0 {
                        return Err(SectionError::MappedFileSizeZero); // F11
                    }
                    file_size
                } else {
                    spec.maximum_size
                };
                if size >= MAX_SECTION_SIZE {
                    return Err(SectionError::SectionTooBig);
                }
                if size > file_size {
                    // F12/F13: a writable section grows the file; §1.7: a read-only one fails.
                    if !protection.is_writable() {
                        return Err(SectionError::SectionTooBig);
                    }
                    self.grow_file(vmm, file.stream, size)?;
                }
                let ca = self.data_control_area(vmm, file.stream)?;
                if attrs.nocache {
                    if let Some(c) = self.control_areas.get_mut(&ca) {
                        c.nocache = true;
                    }
                }
                (ca, size)
            }
        };
        if !self.control_areas.contains_key(&ca) {
            return Err(SectionError::NotSupported("lost control area"));
        }
        let id = self.new_section_id();
        self.sections.insert(
            id,
            SectionObject {
                id,
                control_area: ca,
                size,
                protection,
                attributes: attrs.reported,
                write_through: false,
            },
        );
        self.events.emit(SectionEvent::SectionCreated {
            section: id,
            control_area: ca,
            size,
            protection,
            attributes: attrs.reported,
        });
        // The counts change with the object's creation, told after it.
        self.change_counts(ca, CountChange::UserSectionAdded);
        Ok(id)
    }

    /// The image control area of a file (`ImageSectionObject`), created from its PE headers
    /// (`MiCreateImageFileMap`, §1.5) or shared (§1.7: every image section of one file uses
    /// it). Returns it and the image's size. No reference is taken here.
    fn image_control_area(
        &mut self,
        vmm: &Vmm,
        file: FileSpec,
        protection: Protection,
    ) -> Result<(ControlAreaId, u64)> {
        let s = self.stream(file.stream)?.clone();
        // MmMakeFileAccess, as for data files (F22–F25); F135: a writable protection needs a
        // file opened for writing, and then succeeds.
        let a = file.access;
        if !a.read
            || (protection.is_writable() && !a.write)
            || (protection.is_executable() && !a.execute)
        {
            return Err(SectionError::AccessDenied);
        }
        if let Some(id) = s.image_ca {
            let ca = self
                .control_areas
                .get(&id)
                .ok_or(SectionError::UnknownStream(file.stream))?;
            let pages = ca.image.as_ref().map_or(1, |i| i.pages);
            return Ok((id, pages * PAGE_SIZE));
        }
        let file_size = self.file_size(vmm, file.stream)?;
        if file_size == 0 {
            return Err(SectionError::NotAnImage { file: false }); // F11
        }
        // §1.7: the data section is flushed first, so the image reads what the cache holds
        // (F30, F110: a header overwritten through a data view, unflushed, is seen): the dirty
        // bits of every view of it, in every process, then its modified pages.
        if let Some(ca) = s.data_ca {
            let views: Vec<(AsId, u64, u64)> = self
                .views
                .iter()
                .filter(|(_, r)| r.control_area == ca)
                .map(|(&(asid, base), r)| (asid, base, r.pages))
                .collect();
            for (asid, base, pages) in views {
                vmm.harvest_dirty(asid, ntmm_vmm::Va::new(base), PageCount::new(pages))?;
            }
            let seg = self.segment_of(ca)?;
            let pages = vmm.segment_info(seg)?.pages;
            vmm.flush_segment(seg, 0, pages)?;
        }
        let want = crate::image::HEADER_READ.min(usize::try_from(file_size).unwrap_or(usize::MAX));
        let mut headers = vec![0u8; want];
        let n = vmm
            .with_store(s.store, |st| {
                ntmm_vmm::store::read_bytes(st, 0, &mut headers)
            })?
            .map_err(ntmm_vmm::VmmError::from)?;
        headers.truncate(n);
        let layout = crate::image::parse(&headers, file_size)?;
        let segment = vmm.create_image_segment(s.store, &layout.pages)?;
        let mut runs: Vec<(u64, u64, Protection)> = Vec::new();
        for (i, p) in layout.pages.iter().enumerate() {
            match runs.last_mut() {
                Some((_, n, prot)) if *prot == p.protection => *n += 1,
                _ => runs.push((i as u64, 1, p.protection)),
            }
        }
        let pages = layout.pages.len() as u64;
        let id = self.new_ca_id();
        let mut ca = ControlArea::new(id, segment, Some(file.stream), false);
        ca.image = Some(std::sync::Arc::new(crate::control_area::ImageInfo {
            image_base: layout.image_base,
            pages,
            runs,
        }));
        self.add_control_area(ca);
        self.stream_mut(file.stream)?.image_ca = Some(id);
        Ok((id, pages * PAGE_SIZE))
    }

    /// The data control area of a file, created or revived (§1.7: every section and the cache
    /// of one file share it). No reference is taken here.
    pub(crate) fn data_control_area(
        &mut self,
        vmm: &Vmm,
        stream: StreamId,
    ) -> Result<ControlAreaId> {
        let s = self
            .streams
            .get(&stream)
            .ok_or(SectionError::UnknownStream(stream))?;
        let file_pages = pages_for(vmm.with_store(s.store, |st| st.size())?);
        if let Some(id) = s.data_ca {
            let ca = self
                .control_areas
                .get_mut(&id)
                .ok_or(SectionError::UnknownStream(stream))?;
            let (revived, segment) = (ca.revive(vmm)?, ca.segment);
            if revived {
                self.events
                    .emit(SectionEvent::ControlAreaRevived { control_area: id });
            }
            if vmm.segment_info(segment)?.pages < file_pages {
                vmm.extend_segment(segment, file_pages)?;
            }
            return Ok(id);
        }
        let segment = vmm.create_file_segment(s.store, file_pages)?;
        let id = self.new_ca_id();
        self.add_control_area(ControlArea::new(id, segment, Some(stream), false));
        if let Some(s) = self.streams.get_mut(&stream) {
            s.data_ca = Some(id);
        }
        Ok(id)
    }

    /// The section object's deletion (`MiSectionDelete`): its control area loses a section
    /// reference and a user reference. Views keep the control area, not the section (§6.1).
    pub(crate) fn close_section(&mut self, vmm: &Vmm, id: SectionId) -> Result<()> {
        let s = self
            .sections
            .remove(&id)
            .ok_or(SectionError::UnknownSection(id))?;
        self.events.emit(SectionEvent::SectionDeleted {
            section: id,
            control_area: s.control_area,
        });
        self.change_counts(s.control_area, CountChange::UserSectionRemoved);
        self.check_control_area(vmm, s.control_area)
    }

    /// `NtQuerySection(SectionBasicInformation)`.
    pub(crate) fn query_section(&self, id: SectionId) -> Result<SectionBasicInformation> {
        let s = self
            .sections
            .get(&id)
            .ok_or(SectionError::UnknownSection(id))?;
        Ok(SectionBasicInformation {
            base_address: 0,
            attributes: s.attributes,
            size: s.size,
        })
    }

    /// `NtExtendSection`: grows a file-backed section (and its file); a smaller size changes
    /// nothing. Returns the section's size.
    pub(crate) fn extend_section(&mut self, vmm: &Vmm, id: SectionId, size: u64) -> Result<u64> {
        let s = self
            .sections
            .get(&id)
            .ok_or(SectionError::UnknownSection(id))?;
        let ca = self
            .control_areas
            .get(&s.control_area)
            .ok_or(SectionError::UnknownSection(id))?;
        let Some(stream) = ca.stream else {
            return Err(SectionError::SectionNotExtended);
        };
        if size <= s.size {
            return Ok(s.size);
        }
        if size >= MAX_SECTION_SIZE {
            return Err(SectionError::SectionTooBig);
        }
        if !s.protection.is_writable() {
            return Err(SectionError::SectionNotExtended);
        }
        if size > self.file_size(vmm, stream)? {
            self.grow_file(vmm, stream, size)?;
        }
        if let Some(s) = self.sections.get_mut(&id) {
            s.size = size;
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_section_protections_f19() {
        for ok in [
            PAGE_READONLY,
            PAGE_READWRITE,
            PAGE_WRITECOPY,
            PAGE_EXECUTE_READ,
            PAGE_EXECUTE_READWRITE,
            PAGE_EXECUTE_WRITECOPY,
        ] {
            assert!(section_protection(ok).is_ok(), "{ok:#x}");
        }
        for bad in [
            0,
            PAGE_NOACCESS,
            PAGE_EXECUTE,
            PAGE_READONLY | PAGE_NOACCESS,
            PAGE_EXECUTE_READ | PAGE_EXECUTE,
            PAGE_READWRITE | PAGE_GUARD,
            0x1234,
        ] {
            assert_eq!(
                section_protection(bad),
                Err(SectionError::InvalidPageProtection(bad)),
                "{bad:#x}"
            );
        }
    }

    #[test]
    fn test_pagefile_attribute_rules_f26() {
        let ok = |a| parse_attributes(a, false).map(|x| x.reported);
        assert_eq!(ok(0), Ok(SEC_COMMIT), "F6");
        assert_eq!(ok(SEC_RESERVE), Ok(SEC_RESERVE));
        assert_eq!(ok(SEC_RESERVE | SEC_NOCACHE), Ok(SEC_RESERVE | SEC_NOCACHE));
        assert_eq!(
            ok(SEC_COMMIT | SEC_WRITECOMBINE),
            Ok(SEC_COMMIT | SEC_WRITECOMBINE)
        );
        for bad in [
            SEC_RESERVE | SEC_LARGE_PAGES,
            SEC_RESERVE | SEC_COMMIT,
            SEC_IMAGE | SEC_RESERVE,
            SEC_NOCACHE,
            SEC_LARGE_PAGES,
            SEC_WRITECOMBINE,
            SEC_FILE,
            SEC_FILE | SEC_COMMIT,
        ] {
            assert_eq!(
                ok(bad).unwrap_err().status(),
                ntmm_vmm::NtStatus::STATUS_INVALID_PARAMETER_6,
                "{bad:#x}"
            );
        }
        assert_eq!(
            ok(SEC_IMAGE).unwrap_err(),
            SectionError::NotAnImage { file: false }
        );
    }

    #[test]
    fn test_file_attribute_rules_f27() {
        let ok = |a| parse_attributes(a, true).map(|x| (x.reported, x.reserve));
        assert_eq!(
            ok(SEC_RESERVE),
            Ok((SEC_FILE, false)),
            "reserve dropped for files"
        );
        assert_eq!(ok(SEC_COMMIT), Ok((SEC_FILE, false)));
        assert_eq!(ok(0), Ok((SEC_FILE, false)));
        assert_eq!(
            ok(SEC_COMMIT | SEC_NOCACHE),
            Ok((SEC_FILE | SEC_NOCACHE, false))
        );
        assert_eq!(
            parse_attributes(SEC_IMAGE | SEC_NOCACHE, true).map(|a| (a.reported, a.image)),
            Ok((SEC_FILE | SEC_IMAGE, true)),
            "F28: the no-cache bit is dropped"
        );
        assert!(ok(SEC_IMAGE | SEC_COMMIT).is_err());
    }
}
