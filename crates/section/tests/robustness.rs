//! Bad input never panics: every failure is a specific NTSTATUS, and the invariants hold.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Wild {
    Create(bool, u64, u32, u32, u8),
    Close(u32),
    Map(u32, u32, Option<u64>, u64, u64, u64, u32, u32),
    Unmap(u32, u64),
    Flush(u32, u64, u64),
    Alloc(u32, Option<u64>, u64, u32, u32),
    Free(u32, u64, u64, u32),
    Protect(u32, u64, u64, u32),
    Query(u32, u64),
    FileIo(u32, u64, usize, bool),
    SetSize(u32, u64),
    Extend(u32, u64),
    Terminate(u32),
}

fn n() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..0x30000,
        Just(u64::MAX),
        any::<u64>(),
        (0u64..8).prop_map(|k| k << 16)
    ]
}

fn bits() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        (0u32..12).prop_map(|k| 1 << k),
        (20u32..32).prop_map(|k| 1 << k),
        Just(0)
    ]
}

fn wild() -> impl Strategy<Value = Wild> {
    prop_oneof![
        (any::<bool>(), n(), bits(), bits(), any::<u8>())
            .prop_map(|(f, s, p, a, acc)| Wild::Create(f, s, p, a, acc)),
        (0u32..12).prop_map(Wild::Close),
        (
            0u32..4,
            0u32..12,
            proptest::option::of(n()),
            n(),
            n(),
            n(),
            bits(),
            bits()
        )
            .prop_map(|(p, s, b, z, o, v, t, pr)| Wild::Map(p, s, b, z, o, v, t, pr)),
        (0u32..4, n()).prop_map(|(p, a)| Wild::Unmap(p, a)),
        (0u32..4, n(), n()).prop_map(|(p, a, s)| Wild::Flush(p, a, s)),
        (0u32..4, proptest::option::of(n()), n(), bits(), bits())
            .prop_map(|(p, b, s, t, pr)| Wild::Alloc(p, b, s, t, pr)),
        (0u32..4, n(), n(), bits()).prop_map(|(p, b, s, t)| Wild::Free(p, b, s, t)),
        (0u32..4, n(), n(), bits()).prop_map(|(p, b, s, pr)| Wild::Protect(p, b, s, pr)),
        (0u32..4, n()).prop_map(|(p, a)| Wild::Query(p, a)),
        (0u32..4, n(), 0usize..9000, any::<bool>())
            .prop_map(|(f, o, l, w)| Wild::FileIo(f, o, l, w)),
        (0u32..4, n()).prop_map(|(f, s)| Wild::SetSize(f, s)),
        (0u32..12, n()).prop_map(|(s, z)| Wild::Extend(s, z)),
        (0u32..4).prop_map(Wild::Terminate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_wild_calls_never_panic(calls in prop::collection::vec(wild(), 1..50)) {
        let ex = exec(8);
        let procs = [ex.create_process(), ex.create_process()];
        let files = [file(&ex, b"some file bytes"), file(&ex, &[7u8; 9000])];
        let p = |i: u32| procs.get(i as usize).copied().unwrap_or(AsId::new(1000 + i));
        let f = |i: u32| files.get(i as usize).copied().unwrap_or(StreamId::new(1000 + i));
        // Section ids are handed out in increasing order: probe a window of them.
        let s = |i: u32| SectionId::new(i);
        for call in calls {
            let r: std::result::Result<(), NtStatus> = match call {
                Wild::Create(on_file, size, prot, attrs, acc) => {
                    let access = FileAccess { read: acc & 1 != 0, write: acc & 2 != 0, execute: acc & 4 != 0 };
                    let file = on_file.then_some(FileSpec { stream: files[(acc >> 4) as usize % 2], access });
                    ex.create_section(CreateSection { file, maximum_size: size, protection: prot, attributes: attrs }).map(|_| ()).map_err(|e| e.status())
                }
                Wild::Close(i) => ex.close_section(s(i)).map_err(|e| e.status()),
                Wild::Map(pi, si, base, zb, off, vs, at, prot) => ex
                    .map_view(p(pi), s(si), MapView { base: base.map(Va::new), zero_bits: zb % 3, commit_size: zb, offset: off, view_size: vs, allocation_type: at, protection: prot })
                    .map(|_| ()).map_err(|e| e.status()),
                Wild::Unmap(pi, a) => ex.unmap_view(p(pi), Va::new(a)).map_err(|e| e.status()),
                Wild::Flush(pi, a, z) => ex.flush_virtual_memory(p(pi), Va::new(a), z).map(|_| ()).map_err(|e| e.status()),
                Wild::Alloc(pi, b, z, t, pr) => ex.allocate_virtual_memory(p(pi), b.map(Va::new), z, t, pr).map(|_| ()).map_err(|e| e.status()),
                Wild::Free(pi, b, z, t) => ex.free_virtual_memory(p(pi), Va::new(b), z, t).map(|_| ()).map_err(|e| e.status()),
                Wild::Protect(pi, b, z, pr) => ex.protect_virtual_memory(p(pi), Va::new(b), z, pr).map(|_| ()).map_err(|e| e.status()),
                Wild::Query(pi, a) => ex.query_virtual_memory(p(pi), Va::new(a)).map(|_| ()).map_err(|e| e.status()),
                Wild::FileIo(fi, o, l, w) => {
                    if w {
                        ex.write_file(f(fi), o, &vec![3u8; l]).map(|_| ()).map_err(|e| e.status())
                    } else {
                        ex.read_file(f(fi), o, &mut vec![0u8; l]).map(|_| ()).map_err(|e| e.status())
                    }
                }
                Wild::SetSize(fi, z) => ex.set_file_size(f(fi), z % (1 << 24)).map_err(|e| e.status()),
                Wild::Extend(si, z) => ex.extend_section(s(si), z % (1 << 24)).map(|_| ()).map_err(|e| e.status()),
                Wild::Terminate(pi) => ex.terminate_process(p(pi)).map_err(|e| e.status()),
            };
            if let Err(st) = r {
                prop_assert!(!st.is_success(), "an error must carry a failure status, got {st:?}");
            }
            if let Err(v) = ex.check_invariants() {
                return Err(TestCaseError::fail(v.to_string()));
            }
        }
    }
}
