//! A fault-injecting wrapper: fail the k-th read or write, a chosen page's read or write (once,
//! or until cleared), or all I/O until cleared.

use super::{BackingStore, PageBuf, StoreError, StoreOp};
use crate::addr::ByteCount;
use crate::event::{Subscribers, Traced, VmmEvent};
use crate::status::NtStatus;
use parking_lot::Mutex;
use std::sync::Arc;

#[derive(Debug, Default)]
struct PlanState {
    reads: u64,
    writes: u64,
    ios: u64,
    fail_read_at: Option<u64>,
    fail_write_at: Option<u64>,
    fail_io_at: Option<u64>,
    fail_all: bool,
    status: Option<NtStatus>,
    injected: u64,
    /// Page faults armed by [`FaultPlan::fail_page`], checked in the order they were armed.
    pages: Vec<PageFault>,
    /// What the store is, for the trace of an injected failure ("file \"data.bin\"").
    label: Option<String>,
    /// Inspections in progress ([`FaultPlan::unchecked`]): no failure, nothing counted.
    unchecked: u32,
    /// The subscribers of the machine the store belongs to: an injected failure is emitted
    /// to them ([`VmmEvent::FailureInjected`], the one place it is).
    events: Option<Subscribers<VmmEvent>>,
}

/// How long an armed page fault lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultDuration {
    /// The next matching I/O fails, and the fault is used up.
    Once,
    /// Every matching I/O fails until [`FaultPlan::clear`].
    UntilCleared,
}

/// One armed page fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PageFault {
    op: StoreOp,
    /// The page (`None`: any page).
    page: Option<u64>,
    duration: FaultDuration,
}

/// The control handle of a [`FaultyStore`]: keep a clone to change the plan after the store
/// has been handed to the machine.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan(Arc<Mutex<PlanState>>);

impl FaultPlan {
    /// A plan that fails nothing.
    pub fn new() -> Self {
        Self::default()
    }
    /// Fails the `k`-th read from now (1 = the next one).
    pub fn fail_nth_read(&self, k: u64) {
        let mut s = self.0.lock();
        s.fail_read_at = Some(s.reads + k);
    }
    /// Fails the `k`-th write from now (1 = the next one).
    pub fn fail_nth_write(&self, k: u64) {
        let mut s = self.0.lock();
        s.fail_write_at = Some(s.writes + k);
    }
    /// Fails the `k`-th page read or write from now, whichever it is (1 = the next one).
    pub fn fail_nth_io(&self, k: u64) {
        let mut s = self.0.lock();
        s.fail_io_at = Some(s.ios + k);
    }
    /// Page reads and writes attempted so far (failed ones included).
    pub fn io_count(&self) -> u64 {
        self.0.lock().ios
    }
    /// Fails every operation until [`FaultPlan::clear`].
    pub fn fail_all(&self) {
        self.0.lock().fail_all = true;
    }
    /// The status injected failures complete with (default `STATUS_DEVICE_DATA_ERROR`).
    pub fn set_status(&self, status: NtStatus) {
        self.0.lock().status = Some(status);
    }
    /// Fails the `op` (a page [`StoreOp::Read`] or [`StoreOp::Write`]) of page `page` (`None`:
    /// of any page): the next one only, or every one until [`FaultPlan::clear`]. Other
    /// operations are ignored.
    pub fn fail_page(&self, op: StoreOp, page: Option<u64>, duration: FaultDuration) {
        if matches!(op, StoreOp::Read | StoreOp::Write) {
            self.0.lock().pages.push(PageFault { op, page, duration });
        }
    }
    /// Names the store in the trace event of an injected failure (`file "data.bin"`, `the
    /// pagefile`).
    pub fn set_label(&self, label: &str) {
        self.0.lock().label = Some(label.to_string());
    }
    /// Runs `f` with the plan suspended: an inspection of what the store holds (`expect
    /// disk`) neither fails nor uses up an armed fault, nor counts as an I/O.
    pub fn unchecked<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.lock().unchecked += 1;
        let r = f();
        self.0.lock().unchecked -= 1;
        r
    }
    /// Whether any failure is armed (a pending or persistent page fault, an n-th I/O, or all
    /// I/O).
    pub fn armed(&self) -> bool {
        let s = self.0.lock();
        s.fail_all
            || !s.pages.is_empty()
            || s.fail_read_at.is_some()
            || s.fail_write_at.is_some()
            || s.fail_io_at.is_some()
    }
    /// Stops failing: every pending and persistent fault is cleared. Returns how many armed
    /// faults were cleared.
    pub fn clear(&self) -> usize {
        let mut s = self.0.lock();
        let n = s.pages.len()
            + usize::from(s.fail_all)
            + usize::from(s.fail_read_at.is_some())
            + usize::from(s.fail_write_at.is_some())
            + usize::from(s.fail_io_at.is_some());
        s.fail_all = false;
        s.fail_read_at = None;
        s.fail_write_at = None;
        s.fail_io_at = None;
        s.pages.clear();
        n
    }
    /// How many failures have been injected so far.
    pub fn injected(&self) -> u64 {
        self.0.lock().injected
    }

    fn check(&self, op: StoreOp, page: u64) -> Result<(), StoreError> {
        let mut s = self.0.lock();
        if s.unchecked > 0 {
            return Ok(());
        }
        let page_io = matches!(op, StoreOp::Read | StoreOp::Write);
        if page_io {
            s.ios += 1;
        }
        let nth_io = page_io && s.fail_io_at == Some(s.ios);
        let hit = nth_io
            || match op {
                StoreOp::Read => {
                    s.reads += 1;
                    s.fail_read_at == Some(s.reads)
                }
                StoreOp::Write => {
                    s.writes += 1;
                    s.fail_write_at == Some(s.writes)
                }
                StoreOp::Resize | StoreOp::Flush | StoreOp::Crash => false,
            };
        let armed = s
            .pages
            .iter()
            .position(|f| f.op == op && f.page.is_none_or(|p| p == page));
        let page_hit = match armed {
            Some(i) if s.pages[i].duration == FaultDuration::Once => {
                s.pages.remove(i);
                true
            }
            Some(_) => true,
            None => false,
        };
        if hit || page_hit || s.fail_all {
            s.injected += 1;
            let status = s.status.unwrap_or(NtStatus::STATUS_DEVICE_DATA_ERROR);
            let store = s.label.clone().unwrap_or_else(|| "a store".into());
            let events = s.events.clone();
            drop(s);
            let event = VmmEvent::FailureInjected {
                store,
                op,
                page,
                status,
            };
            match events {
                Some(events) => events.emit(event),
                None => event.trace(),
            }
            return Err(StoreError::new(op, page, status));
        }
        Ok(())
    }
}

/// Wraps a store and fails operations as its [`FaultPlan`] says. A failed operation does not
/// reach the inner store.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    plan: FaultPlan,
}

impl<S: BackingStore> FaultyStore<S> {
    /// Wraps `inner`; returns the store and its control handle.
    pub fn new(inner: S) -> (Self, FaultPlan) {
        let plan = FaultPlan::new();
        (
            FaultyStore {
                inner,
                plan: plan.clone(),
            },
            plan,
        )
    }
}

impl<S: BackingStore> BackingStore for FaultyStore<S> {
    fn size(&self) -> ByteCount {
        self.inner.size()
    }
    fn set_size(&mut self, size: ByteCount) -> Result<(), StoreError> {
        self.plan.check(StoreOp::Resize, 0)?;
        self.inner.set_size(size)
    }
    fn read_page(&mut self, page: u64, buf: &mut PageBuf) -> Result<(), StoreError> {
        self.plan.check(StoreOp::Read, page)?;
        self.inner.read_page(page, buf)
    }
    fn write_page(&mut self, page: u64, buf: &PageBuf) -> Result<(), StoreError> {
        self.plan.check(StoreOp::Write, page)?;
        self.inner.write_page(page, buf)
    }
    fn flush(&mut self) -> Result<(), StoreError> {
        self.plan.check(StoreOp::Flush, 0)?;
        self.inner.flush()
    }
    fn crash(&mut self) -> Result<(), StoreError> {
        // A power loss is not an I/O the plan can fail.
        self.inner.crash()
    }
    fn durable_size(&self) -> ByteCount {
        self.inner.durable_size()
    }
    fn host_bytes(&self) -> u64 {
        self.inner.host_bytes()
    }
    fn attach_events(&mut self, events: &Subscribers<VmmEvent>) {
        self.plan.0.lock().events = Some(events.clone());
        self.inner.attach_events(events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn test_faulty_store_conformance_when_not_failing() {
        super::super::conformance::check_store_conformance(|| {
            FaultyStore::new(MemoryStore::new()).0
        });
    }

    #[test]
    fn test_fail_nth_write_then_recover() {
        let (mut s, plan) = FaultyStore::new(MemoryStore::new());
        s.set_size(ByteCount::new(8192)).unwrap();
        plan.fail_nth_write(2);
        let page = [5u8; crate::addr::PAGE_BYTES];
        s.write_page(0, &page).unwrap();
        let err = s.write_page(1, &page).unwrap_err();
        assert_eq!(err.status, NtStatus::STATUS_DEVICE_DATA_ERROR);
        assert_eq!(err.op, StoreOp::Write);
        let mut buf = [0u8; crate::addr::PAGE_BYTES];
        s.read_page(1, &mut buf).unwrap();
        assert_eq!(
            buf,
            [0u8; crate::addr::PAGE_BYTES],
            "the failed write changed nothing"
        );
        s.write_page(1, &page).unwrap();
        assert_eq!(plan.injected(), 1);
    }

    #[test]
    fn test_fail_nth_io_counts_reads_and_writes_together() {
        let (mut s, plan) = FaultyStore::new(MemoryStore::new());
        s.set_size(ByteCount::new(8192)).unwrap();
        let mut buf = [0u8; crate::addr::PAGE_BYTES];
        plan.fail_nth_io(3);
        s.read_page(0, &mut buf).unwrap();
        s.write_page(0, &buf).unwrap();
        assert!(
            s.read_page(1, &mut buf).is_err(),
            "the third I/O fails, a read"
        );
        s.write_page(1, &buf).unwrap();
        assert_eq!(plan.io_count(), 4);
    }

    #[test]
    fn test_fail_all_until_cleared() {
        let (mut s, plan) = FaultyStore::new(MemoryStore::new());
        plan.fail_all();
        plan.set_status(NtStatus::STATUS_UNEXPECTED_IO_ERROR);
        let mut buf = [0u8; crate::addr::PAGE_BYTES];
        assert_eq!(
            s.read_page(0, &mut buf).unwrap_err().status,
            NtStatus::STATUS_UNEXPECTED_IO_ERROR
        );
        assert!(s.flush().is_err());
        plan.clear();
        s.read_page(0, &mut buf).unwrap();
        s.flush().unwrap();
    }

    #[test]
    fn test_a_page_fault_once_fails_that_page_once_and_always_until_cleared() {
        let (mut s, plan) = FaultyStore::new(MemoryStore::new());
        s.set_size(ByteCount::new(4 * 4096)).unwrap();
        let mut buf = [0u8; crate::addr::PAGE_BYTES];
        plan.fail_page(StoreOp::Read, Some(2), FaultDuration::Once);
        s.read_page(1, &mut buf).unwrap();
        s.write_page(2, &buf).unwrap();
        assert_eq!(s.read_page(2, &mut buf).unwrap_err().page, 2);
        s.read_page(2, &mut buf).unwrap();
        plan.fail_page(StoreOp::Write, Some(3), FaultDuration::UntilCleared);
        for _ in 0..3 {
            assert!(s.write_page(3, &buf).is_err());
        }
        s.write_page(2, &buf).unwrap();
        plan.fail_page(StoreOp::Read, None, FaultDuration::Once);
        assert!(plan.armed());
        // An inspection neither fails nor uses the fault up.
        plan.unchecked(|| s.read_page(0, &mut buf)).unwrap();
        assert!(s.read_page(0, &mut buf).is_err());
        assert_eq!(plan.clear(), 1, "the persistent write fault");
        assert!(!plan.armed());
        s.write_page(3, &buf).unwrap();
        assert_eq!(plan.injected(), 5);
    }
}
