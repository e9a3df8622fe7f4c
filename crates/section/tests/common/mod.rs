//! Fixtures for the section-layer tests.
#![allow(dead_code, unused_imports)]

pub use ntmm_section::consts::*;
pub use ntmm_section::*;
pub use ntmm_vmm::{
    AsId, ExceptionKind, MemoryStore, NtStatus, Va, VmmConfig, VmmError, WriterPolicy, PAGE_SIZE,
};

/// An executive with `frames` frames.
pub fn exec(frames: u32) -> Executive {
    Executive::new(VmmConfig {
        frames,
        pagefile_pages: 1024,
        working_set_max: 64,
        writer: WriterPolicy::Lazy,
    })
    .unwrap()
}

/// A pagefile-backed section.
pub fn anon(ex: &Executive, size: u64, protection: u32, attributes: u32) -> Result<SectionId> {
    ex.create_section(CreateSection {
        file: None,
        maximum_size: size,
        protection,
        attributes,
    })
}

/// A file holding `bytes`.
pub fn file(ex: &Executive, bytes: &[u8]) -> StreamId {
    ex.create_stream(Box::new(MemoryStore::with_contents(bytes)))
}

/// A section on a file opened with `access`.
pub fn file_section(
    ex: &Executive,
    f: StreamId,
    access: FileAccess,
    size: u64,
    protection: u32,
) -> Result<SectionId> {
    ex.create_section(CreateSection {
        file: Some(FileSpec { stream: f, access }),
        maximum_size: size,
        protection,
        attributes: 0,
    })
}

/// Maps a whole section with a protection, the system choosing the base.
pub fn map(ex: &Executive, p: AsId, s: SectionId, protection: u32) -> Result<Va> {
    ex.map_view(
        p,
        s,
        MapView {
            protection,
            ..MapView::default()
        },
    )
    .map(|(b, _)| b)
}

/// The status of an error result.
pub fn status<T: std::fmt::Debug>(r: Result<T>) -> NtStatus {
    r.expect_err("expected an error").status()
}

/// The exception kind of a failed access.
pub fn raised<T: std::fmt::Debug>(r: ntmm_vmm::Result<T>) -> ExceptionKind {
    match r {
        Err(VmmError::Exception(e)) => e.kind,
        other => panic!("expected an exception, got {other:?}"),
    }
}

/// The bytes on disk.
pub fn disk(ex: &Executive, f: StreamId, offset: u64, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    let n = ex.read_disk(f, offset, &mut b).unwrap();
    b.truncate(n);
    b
}

/// `VirtualQuery`.
pub fn query(ex: &Executive, p: AsId, va: Va) -> MemoryBasicInformation {
    ex.query_virtual_memory(p, va).unwrap()
}

/// Asserts every invariant.
pub fn ok(ex: &Executive) {
    if let Err(v) = ex.check_invariants() {
        panic!("{v}");
    }
}

/// `va + off`.
pub fn at(va: Va, off: u64) -> Va {
    Va::new(va.raw() + off)
}
