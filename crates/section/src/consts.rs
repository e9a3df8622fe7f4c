//! The numeric constants of the NT memory-management interfaces (docs/FACTS.md §1).

/// `SEC_BASED`.
pub const SEC_BASED: u32 = 0x0020_0000;
/// `SEC_NO_CHANGE`.
pub const SEC_NO_CHANGE: u32 = 0x0040_0000;
/// `SEC_FILE`.
pub const SEC_FILE: u32 = 0x0080_0000;
/// `SEC_IMAGE`.
pub const SEC_IMAGE: u32 = 0x0100_0000;
/// `SEC_RESERVE`.
pub const SEC_RESERVE: u32 = 0x0400_0000;
/// `SEC_COMMIT`.
pub const SEC_COMMIT: u32 = 0x0800_0000;
/// `SEC_NOCACHE`.
pub const SEC_NOCACHE: u32 = 0x1000_0000;
/// `SEC_WRITECOMBINE`.
pub const SEC_WRITECOMBINE: u32 = 0x4000_0000;
/// `SEC_LARGE_PAGES`.
pub const SEC_LARGE_PAGES: u32 = 0x8000_0000;

/// `MEM_COMMIT`.
pub const MEM_COMMIT: u32 = 0x0000_1000;
/// `MEM_RESERVE`.
pub const MEM_RESERVE: u32 = 0x0000_2000;
/// `MEM_DECOMMIT`.
pub const MEM_DECOMMIT: u32 = 0x0000_4000;
/// `MEM_RELEASE`.
pub const MEM_RELEASE: u32 = 0x0000_8000;
/// `MEM_FREE`.
pub const MEM_FREE: u32 = 0x0001_0000;
/// `MEM_PRIVATE`.
pub const MEM_PRIVATE: u32 = 0x0002_0000;
/// `MEM_MAPPED`.
pub const MEM_MAPPED: u32 = 0x0004_0000;
/// `MEM_RESET`.
pub const MEM_RESET: u32 = 0x0008_0000;
/// `MEM_TOP_DOWN`.
pub const MEM_TOP_DOWN: u32 = 0x0010_0000;
/// `MEM_WRITE_WATCH`.
pub const MEM_WRITE_WATCH: u32 = 0x0020_0000;
/// `MEM_IMAGE`.
pub const MEM_IMAGE: u32 = 0x0100_0000;
/// `MEM_LARGE_PAGES`.
pub const MEM_LARGE_PAGES: u32 = 0x2000_0000;
/// `AT_ROUND_TO_PAGE`.
pub const AT_ROUND_TO_PAGE: u32 = 0x4000_0000;
/// `MEM_RESERVE_PLACEHOLDER` (`VirtualAlloc2`, with `MEM_RESERVE`).
pub const MEM_RESERVE_PLACEHOLDER: u32 = 0x0004_0000;
/// `MEM_REPLACE_PLACEHOLDER` (`MapViewOfFile3`, `VirtualAlloc2`).
pub const MEM_REPLACE_PLACEHOLDER: u32 = 0x0000_4000;
/// `MEM_PRESERVE_PLACEHOLDER` (`VirtualFree`, `UnmapViewOfFile2`).
pub const MEM_PRESERVE_PLACEHOLDER: u32 = 0x0000_0002;
/// `MEM_COALESCE_PLACEHOLDERS` (`VirtualFree`, with `MEM_RELEASE`).
pub const MEM_COALESCE_PLACEHOLDERS: u32 = 0x0000_0001;
/// `MEM_UNMAP_WITH_TRANSIENT_BOOST` (`UnmapViewOfFile2`).
pub const MEM_UNMAP_WITH_TRANSIENT_BOOST: u32 = 0x0000_0001;

/// `ViewShare` (`SECTION_INHERIT`).
pub const VIEW_SHARE: u32 = 1;
/// `ViewUnmap` (`SECTION_INHERIT`).
pub const VIEW_UNMAP: u32 = 2;

pub use ntmm_vmm::protection::{
    PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_GUARD,
    PAGE_NOACCESS, PAGE_NOCACHE, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOMBINE, PAGE_WRITECOPY,
};

/// The largest section: 128 TiB (F8: a SEC_RESERVE section of 0x800000000000 bytes fails with
/// `STATUS_SECTION_TOO_BIG`).
pub const MAX_SECTION_SIZE: u64 = 0x8000_0000_0000;
/// The largest pagefile-backed section whose prototype PTE array (8 bytes a page) fits the
/// modelled paged-pool budget of 8 GiB: 4 TiB. Larger ones fail with
/// `STATUS_INSUFFICIENT_RESOURCES`, as 8 TiB does on x64 (F8); 8 GiB succeeds.
pub const MAX_PAGEFILE_SECTION_SIZE: u64 = 0x400_0000_0000;

/// The largest file a volume holds: NTFS's maximum file size with 4 KiB clusters,
/// 16 TiB − 64 KiB. Growing a file past it (`SetEndOfFile`, `WriteFile`, a growing
/// `CreateFileMapping` or `NtExtendSection`) fails with `STATUS_DISK_FULL`, on memory and host
/// volumes alike (a host file system with a smaller limit gives the same status from its own
/// `EFBIG`).
pub const MAX_FILE_SIZE: u64 = 0x0000_0FFF_FFFF_0000;
