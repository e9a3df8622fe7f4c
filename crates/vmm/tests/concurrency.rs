//! Two threads faulting the same shared pages at once: no deadlock, invariants hold, no byte
//! lost (the machine is `Send + Sync`).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::*;
use std::sync::{mpsc, Arc};
use std::time::Duration;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn test_vmm_is_send_and_sync() {
    assert_send_sync::<Vmm>();
}

fn hammer(vmm: Arc<Vmm>, seg: SegmentId, file: SegmentId, lane: u64) {
    let me = vmm.create_address_space();
    let p = map_rw(&vmm, me, seg);
    let f = map_rw(&vmm, me, file);
    for round in 0..400u64 {
        for pg in 0..8 {
            // Each thread owns the even or odd 8-byte lanes of every page: no byte is shared,
            // every frame is.
            let at = Va::new(page(p, pg).raw() + lane * 8 + (round % 16) * 16);
            vmm.write_u64(me, at, round * 100 + pg).unwrap();
            assert_eq!(vmm.read_u64(me, at).unwrap(), round * 100 + pg);
            let fa = Va::new(page(f, pg % 4).raw() + lane * 8);
            vmm.write_u64(me, fa, round).unwrap();
        }
        if round % 50 == lane {
            vmm.trim(me, None).unwrap();
            vmm.run_writers();
        }
    }
    vmm.delete_address_space(me).unwrap();
}

#[test]
fn test_two_threads_fault_the_same_shared_pages() {
    let vmm = Arc::new(tiny(8));
    let seg = vmm
        .create_pagefile_segment(pages(8), Protection::READWRITE, false)
        .unwrap();
    let (_store, file) = file_segment(&vmm, &[0u8; 4 * 4096]);
    let (tx, rx) = mpsc::channel();
    for lane in 0..2 {
        let (vmm, tx) = (Arc::clone(&vmm), tx.clone());
        std::thread::spawn(move || {
            hammer(vmm, seg, file, lane);
            tx.send(lane).unwrap();
        });
    }
    for _ in 0..2 {
        rx.recv_timeout(Duration::from_secs(120))
            .expect("a thread deadlocked or panicked");
    }
    ok(&vmm);
    // Both lanes of every page hold their thread's last value.
    let mut buf = [0u8; 8];
    for pg in 0..8u64 {
        for lane in 0..2u64 {
            vmm.read_segment(seg, pg * 4096 + lane * 8 + (399 % 16) * 16, &mut buf)
                .unwrap();
            assert_eq!(u64::from_le_bytes(buf), 399 * 100 + pg);
        }
    }
    vmm.run_writers();
    vmm.read_segment(file, 8, &mut buf).unwrap();
    assert_eq!(u64::from_le_bytes(buf), 399);
    ok(&vmm);
}
