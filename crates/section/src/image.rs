//! Images: the minimal PE32+ file the scenario's `image` directive writes, and the layout NT
//! builds from a PE file when it creates an image section (`MiCreateImageFileMap`,
//! nt_internals §1.5, §1.7; facts F11, F28, F30, F134, F135).
//!
//! Both directions go through the `object` crate (its PE reader and writer): the headers are
//! never parsed by hand here. What ntmm takes from a PE file is exactly what the memory
//! manager needs: the image base, the image size, the headers' size and, per section, its
//! virtual range, its raw data in the file and its characteristics. Imports, relocations and
//! the entry point are not looked at (the loader's work, not the memory manager's).

use crate::error::{Result, SectionError};
use ntmm_vmm::{ImagePage, Protection, PAGE_SIZE};
use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader};

/// Bytes of the file read to parse the headers: the DOS header, the NT headers and the
/// section table must lie inside them (else `STATUS_INVALID_IMAGE_FORMAT`).
pub const HEADER_READ: usize = 0x1_0000;

/// The largest image ntmm maps: 256 MiB of address space (a stated limit; a bigger
/// `SizeOfImage` is `STATUS_INVALID_IMAGE_FORMAT`).
pub const MAX_IMAGE_SIZE: u64 = 256 << 20;

/// One PE section of an image to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSectionSpec {
    /// The section name (at most 8 bytes are kept, as in the PE format).
    pub name: String,
    /// `IMAGE_SCN_MEM_READ`.
    pub read: bool,
    /// `IMAGE_SCN_MEM_WRITE`.
    pub write: bool,
    /// `IMAGE_SCN_MEM_EXECUTE` (and `IMAGE_SCN_CNT_CODE`).
    pub execute: bool,
    /// `IMAGE_SCN_MEM_SHARED`.
    pub shared: bool,
    /// The raw data.
    pub data: Vec<u8>,
    /// `VirtualSize`; `None` means the raw data's length.
    pub virtual_size: Option<u32>,
}

/// An image to write: its preferred base and its sections, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSpec {
    /// `ImageBase` (64 KiB-aligned).
    pub base: u64,
    /// The sections, laid out from RVA 0x1000 on, each at the next page after the previous.
    pub sections: Vec<ImageSectionSpec>,
}

/// Why an image could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageBuildError {
    /// The base is not 64 KiB-aligned or not in the user range.
    #[error("image base {0:#x} must be 64 KiB-aligned and in the user range")]
    BadBase(u64),
    /// A section has neither data nor a virtual size, or the image is too big.
    #[error("{0}")]
    BadSection(String),
    /// The PE writer refused.
    #[error("PE writer: {0}")]
    Writer(String),
}

/// The characteristics of a section spec.
fn characteristics(s: &ImageSectionSpec) -> u32 {
    let mut c = 0;
    if s.read {
        c |= pe::IMAGE_SCN_MEM_READ.0;
    }
    if s.write {
        c |= pe::IMAGE_SCN_MEM_WRITE.0;
    }
    if s.execute {
        c |= pe::IMAGE_SCN_MEM_EXECUTE.0 | pe::IMAGE_SCN_CNT_CODE.0;
    } else if s.data.is_empty() {
        c |= pe::IMAGE_SCN_CNT_UNINITIALIZED_DATA.0;
    } else {
        c |= pe::IMAGE_SCN_CNT_INITIALIZED_DATA.0;
    }
    if s.shared {
        c |= pe::IMAGE_SCN_MEM_SHARED.0;
    }
    c
}

/// Writes a minimal valid PE32+ image (the contract's "Image sections"): headers at RVA 0,
/// section alignment 0x1000 (the first section at RVA 0x1000, each next one at the next page
/// after the previous one's virtual size), file alignment 0x200, no imports, no relocations,
/// entry point 0. A DLL when `dll`.
pub fn build_pe(spec: &ImageSpec, dll: bool) -> std::result::Result<Vec<u8>, ImageBuildError> {
    if spec.base % 0x1_0000 != 0 || spec.base == 0 || spec.base >= ntmm_vmm::USER_MAX {
        return Err(ImageBuildError::BadBase(spec.base));
    }
    if spec.sections.len() > 96 {
        return Err(ImageBuildError::BadSection(
            "an image has at most 96 sections".into(),
        ));
    }
    let mut total: u64 = PAGE_SIZE;
    for s in &spec.sections {
        let vsize = u64::from(s.virtual_size.unwrap_or(0)).max(s.data.len() as u64);
        if vsize == 0 {
            return Err(ImageBuildError::BadSection(format!(
                "section {:?} needs data or a size",
                s.name
            )));
        }
        total = total.saturating_add(vsize.div_ceil(PAGE_SIZE) * PAGE_SIZE);
    }
    if total > MAX_IMAGE_SIZE || spec.base.saturating_add(total) > ntmm_vmm::USER_MAX {
        return Err(ImageBuildError::BadSection(format!(
            "the image is {total:#x} bytes: at most {MAX_IMAGE_SIZE:#x}, inside the user range"
        )));
    }
    let mut out = Vec::new();
    let mut w = object::write::pe::Writer::new(true, 0x1000, 0x200, &mut out);
    w.reserve_dos_header_and_stub();
    w.reserve_nt_headers(16);
    w.reserve_section_headers(spec.sections.len() as u16);
    let mut ranges = Vec::new();
    for s in &spec.sections {
        let mut name = [0u8; 8];
        let bytes = s.name.as_bytes();
        let n = bytes.len().min(8);
        name[..n].copy_from_slice(&bytes[..n]);
        let vsize = s.virtual_size.unwrap_or(s.data.len() as u32);
        ranges.push(w.reserve_section(
            name,
            pe::SectionFlags(characteristics(s)),
            vsize,
            s.data.len() as u32,
        ));
    }
    w.write_dos_header_and_stub()
        .map_err(|e| ImageBuildError::Writer(e.to_string()))?;
    w.write_nt_headers(object::write::pe::NtHeaders {
        machine: pe::IMAGE_FILE_MACHINE_AMD64,
        time_date_stamp: 0,
        characteristics: pe::FileFlags(
            pe::IMAGE_FILE_EXECUTABLE_IMAGE.0
                | pe::IMAGE_FILE_LARGE_ADDRESS_AWARE.0
                | if dll { pe::IMAGE_FILE_DLL.0 } else { 0 },
        ),
        major_linker_version: 14,
        minor_linker_version: 0,
        address_of_entry_point: 0,
        image_base: spec.base,
        major_operating_system_version: 6,
        minor_operating_system_version: 0,
        major_image_version: 0,
        minor_image_version: 0,
        major_subsystem_version: 6,
        minor_subsystem_version: 0,
        subsystem: pe::IMAGE_SUBSYSTEM_WINDOWS_CUI,
        dll_characteristics: pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT,
        size_of_stack_reserve: 0x10_0000,
        size_of_stack_commit: 0x1000,
        size_of_heap_reserve: 0x10_0000,
        size_of_heap_commit: 0x1000,
    });
    w.write_section_headers();
    for (s, r) in spec.sections.iter().zip(&ranges) {
        w.write_section(r.file_offset, &s.data);
    }
    Ok(out)
}

/// What an image section is built from: the preferred base and one page source per page of
/// the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageLayout {
    /// `ImageBase`.
    pub image_base: u64,
    /// One entry per page of `SizeOfImage`.
    pub pages: Vec<ImagePage>,
}

/// The page protection NT gives a PE section from its characteristics (Windows Internals'
/// image protection table, nt_internals §1.5): execute/read/write pick the protection; a
/// writable section is copy-on-write unless it is `IMAGE_SCN_MEM_SHARED` (facts F134).
pub fn section_protection(characteristics: u32) -> Protection {
    let x = characteristics & pe::IMAGE_SCN_MEM_EXECUTE.0 != 0;
    let r = characteristics & pe::IMAGE_SCN_MEM_READ.0 != 0;
    let w = characteristics & pe::IMAGE_SCN_MEM_WRITE.0 != 0;
    let shared = characteristics & pe::IMAGE_SCN_MEM_SHARED.0 != 0;
    match (x, r || w, w, shared) {
        (false, false, _, _) => Protection::NOACCESS,
        (true, false, _, _) => Protection::EXECUTE,
        (false, true, false, _) => Protection::READONLY,
        (true, true, false, _) => Protection::EXECUTE_READ,
        (false, true, true, false) => Protection::WRITECOPY,
        (true, true, true, false) => Protection::EXECUTE_WRITECOPY,
        (false, true, true, true) => Protection::READWRITE,
        (true, true, true, true) => Protection::EXECUTE_READWRITE,
    }
}

fn bad_format(why: &'static str) -> SectionError {
    SectionError::InvalidImageFormat(why)
}

/// Parses a PE image from its first bytes (`headers`, at most [`HEADER_READ`]) and the file's
/// size: `STATUS_INVALID_IMAGE_NOT_MZ` without "MZ" (F30), `STATUS_INVALID_IMAGE_FORMAT` for
/// an MZ file whose PE headers are not a valid image (untested on Windows, F30: NT's
/// `MiVerifyImageHeader` status for a bad header), whose sections lie outside `SizeOfImage`
/// or whose raw data lies past the end of the file.
pub fn parse(headers: &[u8], file_size: u64) -> Result<ImageLayout> {
    if headers.len() < 2 || &headers[..2] != b"MZ" {
        return Err(SectionError::NotAnImage { file: true });
    }
    match object::read::pe::optional_header_magic(headers) {
        Ok(pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC) => {
            parse_as::<pe::ImageNtHeaders64>(headers, file_size)
        }
        Ok(pe::IMAGE_NT_OPTIONAL_HDR32_MAGIC) => {
            parse_as::<pe::ImageNtHeaders32>(headers, file_size)
        }
        _ => Err(bad_format("no PE header")),
    }
}

fn parse_as<H: ImageNtHeaders>(data: &[u8], file_size: u64) -> Result<ImageLayout> {
    let dos = pe::ImageDosHeader::parse(data).map_err(|_| bad_format("DOS header"))?;
    let mut offset = u64::from(dos.nt_headers_offset());
    let (nt, _) = H::parse(data, &mut offset).map_err(|_| bad_format("NT headers"))?;
    let sections = nt
        .sections(data, offset)
        .map_err(|_| bad_format("section table"))?;
    let opt = nt.optional_header();
    // Low-alignment images (section alignment below a page) are not modelled.
    if opt.section_alignment() as u64 % PAGE_SIZE != 0 || opt.section_alignment() == 0 {
        return Err(bad_format("section alignment"));
    }
    let size = u64::from(opt.size_of_image());
    if size == 0 || size > MAX_IMAGE_SIZE {
        return Err(bad_format("size of image"));
    }
    let base = opt.image_base();
    if base % 0x1_0000 != 0 || base.saturating_add(size) > ntmm_vmm::USER_MAX {
        return Err(bad_format("image base"));
    }
    let pages = size.div_ceil(PAGE_SIZE);
    let headers = u64::from(opt.size_of_headers()).min(file_size);
    // Pages not covered by a section (and the header run's tail) are no-access, as NT leaves
    // them; the headers are read-only (F79).
    let mut out = vec![
        ImagePage {
            file_offset: 0,
            raw_len: 0,
            protection: Protection::NOACCESS,
        };
        pages as usize
    ];
    let header_pages = headers.max(1).div_ceil(PAGE_SIZE).min(pages);
    for (i, p) in out.iter_mut().take(header_pages as usize).enumerate() {
        let off = i as u64 * PAGE_SIZE;
        *p = ImagePage {
            file_offset: off,
            raw_len: headers.saturating_sub(off).min(PAGE_SIZE) as u32,
            protection: Protection::READONLY,
        };
    }
    for s in sections.iter() {
        let rva = u64::from(s.virtual_address.get(object::LittleEndian));
        let vsize = u64::from(s.virtual_size.get(object::LittleEndian));
        let raw_off = u64::from(s.pointer_to_raw_data.get(object::LittleEndian));
        let raw_size = u64::from(s.size_of_raw_data.get(object::LittleEndian));
        let chars = s.characteristics.get(object::LittleEndian).0;
        // F134: the section spans max(VirtualSize, SizeOfRawData); raw data past VirtualSize
        // is mapped, bytes past the raw data read as zero.
        let span = vsize.max(raw_size);
        if rva % PAGE_SIZE != 0 || rva < header_pages * PAGE_SIZE || rva + span > pages * PAGE_SIZE
        {
            return Err(bad_format("section outside the image"));
        }
        if raw_size > 0 && raw_off.saturating_add(raw_size) > file_size {
            return Err(bad_format("raw data past the end of the file"));
        }
        let protection = section_protection(chars);
        for k in 0..span.div_ceil(PAGE_SIZE) {
            let at = k * PAGE_SIZE;
            out[((rva + at) / PAGE_SIZE) as usize] = ImagePage {
                file_offset: raw_off + at,
                raw_len: raw_size.saturating_sub(at).min(PAGE_SIZE) as u32,
                protection,
            };
        }
    }
    Ok(ImageLayout {
        image_base: base,
        pages: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ImageSpec {
        ImageSpec {
            base: 0x1_8000_0000,
            sections: vec![
                ImageSectionSpec {
                    name: ".text".into(),
                    read: true,
                    execute: true,
                    data: b"code bytes".to_vec(),
                    ..Default::default()
                },
                ImageSectionSpec {
                    name: ".data".into(),
                    read: true,
                    write: true,
                    virtual_size: Some(0x2000),
                    ..Default::default()
                },
                ImageSectionSpec {
                    name: ".shared".into(),
                    read: true,
                    write: true,
                    shared: true,
                    data: b"shared between processes".to_vec(),
                    ..Default::default()
                },
            ],
        }
    }

    /// The contract's layout: headers at RVA 0, sections from 0x1000 page after page, file
    /// alignment 0x200, each with its protection (F134: writable copy-on-write, shared RW).
    #[test]
    fn test_written_image_parses_to_the_contract_layout_f134() {
        let file = build_pe(&sample(), true).unwrap();
        assert_eq!(&file[..2], b"MZ");
        assert_eq!(file.len() % 0x200, 0, "file alignment 0x200");
        let l = parse(&file[..file.len().min(HEADER_READ)], file.len() as u64).unwrap();
        assert_eq!(l.image_base, 0x1_8000_0000);
        let prots: Vec<Protection> = l.pages.iter().map(|p| p.protection).collect();
        assert_eq!(
            prots,
            vec![
                Protection::READONLY,
                Protection::EXECUTE_READ,
                Protection::WRITECOPY,
                Protection::WRITECOPY,
                Protection::READWRITE,
            ]
        );
        assert_eq!(l.pages[1].raw_len, 0x200, "raw data is file-aligned");
        assert_eq!(l.pages[2].raw_len, 0, ".data has no raw data: demand-zero");
        let text = l.pages[1].file_offset as usize;
        assert_eq!(&file[text..text + 10], b"code bytes");
    }

    /// F30: no "MZ" is STATUS_INVALID_IMAGE_NOT_MZ; an MZ file without a PE header is
    /// STATUS_INVALID_IMAGE_FORMAT (untested on Windows: NT's bad-header status).
    #[test]
    fn test_not_mz_and_bad_pe_f30() {
        assert_eq!(
            parse(&[0u8; 64], 64).unwrap_err().status(),
            ntmm_vmm::NtStatus::STATUS_INVALID_IMAGE_NOT_MZ
        );
        let mut mz = vec![0u8; 256];
        mz[..2].copy_from_slice(b"MZ");
        assert_eq!(
            parse(&mz, 256).unwrap_err().status(),
            ntmm_vmm::NtStatus::STATUS_INVALID_IMAGE_FORMAT
        );
        let file = build_pe(&sample(), false).unwrap();
        assert_eq!(
            parse(&file, 0x300).unwrap_err(),
            SectionError::InvalidImageFormat("raw data past the end of the file"),
        );
    }

    #[test]
    fn test_protection_table() {
        let p = section_protection;
        const IMAGE_SCN_MEM_READ: u32 = pe::IMAGE_SCN_MEM_READ.0;
        const IMAGE_SCN_MEM_WRITE: u32 = pe::IMAGE_SCN_MEM_WRITE.0;
        const IMAGE_SCN_MEM_EXECUTE: u32 = pe::IMAGE_SCN_MEM_EXECUTE.0;
        const IMAGE_SCN_MEM_SHARED: u32 = pe::IMAGE_SCN_MEM_SHARED.0;
        assert_eq!(p(IMAGE_SCN_MEM_READ), Protection::READONLY);
        assert_eq!(
            p(IMAGE_SCN_MEM_READ | IMAGE_SCN_MEM_EXECUTE),
            Protection::EXECUTE_READ
        );
        assert_eq!(
            p(IMAGE_SCN_MEM_READ | IMAGE_SCN_MEM_WRITE),
            Protection::WRITECOPY
        );
        assert_eq!(
            p(IMAGE_SCN_MEM_READ | IMAGE_SCN_MEM_WRITE | IMAGE_SCN_MEM_SHARED),
            Protection::READWRITE
        );
        assert_eq!(
            p(IMAGE_SCN_MEM_WRITE | IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_MEM_SHARED),
            Protection::EXECUTE_READWRITE
        );
        assert_eq!(p(0), Protection::NOACCESS);
    }
}
