//! [`Executive`]: the executive memory objects over one machine, behind one lock.
//!
//! Lock order: the section state lock, then the machine lock (inside [`Vmm`]). Memory accesses
//! go straight to the machine without the section lock.

use crate::control_area::ControlAreaInfo;
use crate::error::{Result, SectionError};
use crate::ids::{SectionId, StreamId};
use crate::invariants::SectionInvariantViolation;
use crate::section::{CreateSection, SectionBasicInformation};
use crate::state::{State, Stream};
use crate::view::MapView;
use crate::virtual_memory::MemoryBasicInformation;
use ntmm_vmm::{AsId, BackingStore, Va, Vmm, VmmConfig, WriterReport};
use parking_lot::Mutex;

/// NT's executive memory objects — sections, control areas, views, files — over a machine,
/// speaking NTSTATUS ([`SectionError::status`]).
///
/// ```
/// use ntmm_section::*;
/// use ntmm_section::consts::*;
/// let ex = Executive::new(ntmm_vmm::VmmConfig::default()).unwrap();
/// let p = ex.create_process();
/// let s = ex.create_section(CreateSection {
///     file: None, maximum_size: 4090, protection: PAGE_READWRITE, attributes: 0,
/// }).unwrap();
/// assert_eq!(ex.query_section(s).unwrap().size, 4096); // F4: page-rounded
/// let (base, size) = ex.map_view(p, s, MapView { protection: PAGE_READWRITE, ..MapView::default() }).unwrap();
/// ex.close_section(s).unwrap(); // the view keeps the memory alive (§6.1)
/// ex.vmm().write(p, base, b"hi").unwrap();
/// assert_eq!(size, 4096);
/// ex.unmap_view(p, base).unwrap();
/// ex.check_invariants().unwrap();
/// ```
#[derive(Debug)]
pub struct Executive {
    vmm: Vmm,
    state: Mutex<State>,
    /// The subscribers of the layer's events (the list `State` emits to).
    events: ntmm_vmm::Subscribers<crate::SectionEvent>,
}

impl Executive {
    /// An executive over a new machine.
    pub fn new(config: VmmConfig) -> Result<Self> {
        Ok(Self::with_vmm(Vmm::new(config)?))
    }

    /// An executive over an existing machine (which must have no address spaces or segments
    /// made outside it).
    pub fn with_vmm(vmm: Vmm) -> Self {
        let state = State::default();
        Executive {
            vmm,
            events: state.events.clone(),
            state: Mutex::new(state),
        }
    }

    /// Subscribes to the section layer's events ([`crate::SectionEvent`]; the machine's are
    /// [`Vmm::subscribe`]'s): `subscriber` is called with each, in order, while the section
    /// lock is held — it must only record the event (see [`ntmm_vmm::event`]).
    pub fn subscribe(&self, subscriber: ntmm_vmm::Subscriber<crate::SectionEvent>) {
        // The list is shared: subscribing takes no section lock.
        self.events.subscribe(subscriber);
    }

    /// The machine: memory accesses, inspection, and memory pressure.
    pub fn vmm(&self) -> &Vmm {
        &self.vmm
    }

    fn op<R>(&self, f: impl FnOnce(&mut State, &Vmm) -> Result<R>) -> Result<R> {
        let mut s = self.state.lock();
        let r = f(&mut s, &self.vmm);
        s.reap(&self.vmm);
        r
    }

    // ---- processes ------------------------------------------------------------------------

    /// Creates a process's address space.
    pub fn create_process(&self) -> AsId {
        let mut s = self.state.lock();
        let id = self.vmm.create_address_space();
        s.processes.insert(id);
        id
    }

    /// Process exit (§6.4): every view unmapped through the unmap path, private memory released.
    pub fn terminate_process(&self, asid: AsId) -> Result<()> {
        self.op(|s, vmm| {
            s.check_process(asid)?;
            let bases: Vec<u64> = s
                .views
                .range((asid, 0)..=(asid, u64::MAX))
                .map(|(k, _)| k.1)
                .collect();
            for b in bases {
                s.unmap_view(vmm, asid, Va::new(b))?;
            }
            vmm.delete_address_space(asid)?;
            s.processes.remove(&asid);
            Ok(())
        })
    }

    /// The live processes.
    pub fn processes(&self) -> Vec<AsId> {
        self.state.lock().processes.iter().copied().collect()
    }

    // ---- files ----------------------------------------------------------------------------

    /// Registers a file's data (a stream) kept in `store`.
    pub fn create_stream(&self, store: Box<dyn BackingStore>) -> StreamId {
        let mut s = self.state.lock();
        let store = self.vmm.add_store(store);
        let id = StreamId(s.next_id());
        s.streams.insert(
            id,
            Stream {
                store,
                data_ca: None,
                image_ca: None,
                cached: false,
            },
        );
        id
    }

    /// Removes a stream no user section or view holds (its cached pages are written first) and
    /// hands its store back.
    pub fn delete_stream(&self, id: StreamId) -> Result<Box<dyn BackingStore>> {
        self.op(|s, vmm| s.delete_stream(vmm, id))
    }

    /// The file's size.
    pub fn file_size(&self, id: StreamId) -> Result<u64> {
        self.state.lock().file_size(&self.vmm, id)
    }

    /// Cached read at `offset`; returns the bytes read.
    pub fn read_file(&self, id: StreamId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.op(|s, vmm| s.read_file(vmm, id, offset, buf))
    }

    /// Cached read of up to `len` bytes at `offset`, appended to `out` (reserve the room first:
    /// the bytes are copied in without a zero-fill); returns the bytes read.
    pub fn read_file_append(
        &self,
        id: StreamId,
        offset: u64,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        self.op(|s, vmm| s.read_file_append(vmm, id, offset, len, out))
    }

    /// Cached write at `offset` (extending the file); returns the bytes written.
    pub fn write_file(&self, id: StreamId, offset: u64, data: &[u8]) -> Result<usize> {
        self.op(|s, vmm| s.write_file(vmm, id, offset, data))
    }

    /// Sets the end of file (grow, or shrink when not user-mapped).
    pub fn set_file_size(&self, id: StreamId, size: u64) -> Result<()> {
        self.op(|s, vmm| s.set_file_size(vmm, id, size))
    }

    /// Writes every modified cached page of the file and flushes its store.
    pub fn flush_file(&self, id: StreamId) -> Result<()> {
        self.op(|s, vmm| s.flush_file(vmm, id))
    }

    /// Cached write at `offset` through a write-through handle: written, then durable
    /// (`FILE_FLAG_WRITE_THROUGH`). Returns the bytes written.
    pub fn write_file_through(&self, id: StreamId, offset: u64, data: &[u8]) -> Result<usize> {
        self.op(|s, vmm| {
            let n = s.write_file(vmm, id, offset, data)?;
            s.write_through(vmm, id, offset, n as u64)?;
            Ok(n)
        })
    }

    /// Shutdown's write-back of one file: every modified page written (past failures), then
    /// made durable. Returns the pages written and the failures.
    pub fn write_back_file(&self, id: StreamId) -> Result<(u64, Vec<ntmm_vmm::StoreError>)> {
        self.op(|s, vmm| s.write_back_file(vmm, id))
    }

    /// A power loss: every file's store is handed over as it is, nothing written (the machine
    /// and everything in memory are to be discarded; the stores' `crash` keeps what is
    /// durable). The executive must not be used afterwards.
    pub fn power_loss(&self) -> Vec<(StreamId, Box<dyn BackingStore>)> {
        let s = self.state.lock();
        let mut stores = self.vmm.take_stores();
        s.streams
            .iter()
            .filter_map(|(id, st)| stores.remove(&st.store).map(|b| (*id, b)))
            .collect()
    }

    /// Marks a section as created from a write-through file object: flushes of views mapped
    /// from it afterwards are durable.
    pub fn set_section_write_through(&self, id: SectionId) -> Result<()> {
        let mut s = self.state.lock();
        s.sections
            .get_mut(&id)
            .ok_or(SectionError::UnknownSection(id))?
            .write_through = true;
        Ok(())
    }

    /// Drops the cache manager's reference on the file (at the file's last close).
    pub fn release_file_cache(&self, id: StreamId) -> Result<()> {
        self.op(|s, vmm| s.release_file_cache(vmm, id))
    }

    /// Whether user sections or views hold the file.
    pub fn is_user_mapped(&self, id: StreamId) -> Result<bool> {
        self.state.lock().is_user_mapped(id)
    }

    /// Reads the file's bytes as they are on disk (the store), not as the cache holds them.
    pub fn read_disk(&self, id: StreamId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let s = self.state.lock();
        let st = s.stream(id)?;
        let n = self
            .vmm
            .with_store(st.store, |store| {
                ntmm_vmm::store::read_bytes(store, offset, buf)
            })?
            .map_err(ntmm_vmm::VmmError::from)?;
        Ok(n)
    }

    // ---- sections -------------------------------------------------------------------------

    /// `NtCreateSection`.
    pub fn create_section(&self, spec: CreateSection) -> Result<SectionId> {
        self.op(|s, vmm| s.create_section(vmm, spec))
    }

    /// Deletes a section object (its last reference went). Views stay.
    pub fn close_section(&self, id: SectionId) -> Result<()> {
        self.op(|s, vmm| s.close_section(vmm, id))
    }

    /// `NtQuerySection(SectionBasicInformation)`.
    pub fn query_section(&self, id: SectionId) -> Result<SectionBasicInformation> {
        self.state.lock().query_section(id)
    }

    /// `NtExtendSection`.
    pub fn extend_section(&self, id: SectionId, size: u64) -> Result<u64> {
        self.op(|s, vmm| s.extend_section(vmm, id, size))
    }

    /// The control area behind a section.
    pub fn section_control_area(&self, id: SectionId) -> Result<ControlAreaInfo> {
        let s = self.state.lock();
        let sec = s
            .sections
            .get(&id)
            .ok_or(SectionError::UnknownSection(id))?;
        s.control_area_info(&self.vmm, sec.control_area)
            .ok_or(SectionError::UnknownSection(id))
    }

    /// The data control area of a file, if it has one (`DataSectionObject`).
    pub fn file_control_area(&self, id: StreamId) -> Result<Option<ControlAreaInfo>> {
        let s = self.state.lock();
        let st = s.stream(id)?;
        Ok(st.data_ca.and_then(|ca| s.control_area_info(&self.vmm, ca)))
    }

    /// Every control area.
    pub fn control_areas(&self) -> Vec<ControlAreaInfo> {
        let s = self.state.lock();
        s.control_areas
            .keys()
            .filter_map(|id| s.control_area_info(&self.vmm, *id))
            .collect()
    }

    // ---- views ----------------------------------------------------------------------------

    /// `NtMapViewOfSection`: returns the base and the page-rounded size.
    pub fn map_view(&self, asid: AsId, section: SectionId, params: MapView) -> Result<(Va, u64)> {
        self.op(|s, vmm| s.map_view(vmm, asid, section, params))
    }

    /// The preferred base of an image section (`None` for a data or pagefile section): a view
    /// elsewhere is `STATUS_IMAGE_NOT_AT_BASE` (F132).
    pub fn section_image_base(&self, section: SectionId) -> Result<Option<u64>> {
        self.state.lock().image_base(section)
    }

    /// The file behind the view holding `va` (its data or its image), if it is a view of a
    /// file.
    pub fn view_file(&self, asid: AsId, va: Va) -> Option<StreamId> {
        let s = self.state.lock();
        let (_, rec, _) = s.view_at(&self.vmm, asid, va).ok()?;
        s.control_areas.get(&rec.control_area)?.stream
    }

    /// Whether `va` lies in a view of an image (`MEM_IMAGE`).
    pub fn is_image_view(&self, asid: AsId, va: Va) -> bool {
        self.state.lock().is_image_view(&self.vmm, asid, va)
    }

    /// The image control area of a file, if it has one (`ImageSectionObject`).
    pub fn file_image_control_area(&self, id: StreamId) -> Result<Option<ControlAreaInfo>> {
        let s = self.state.lock();
        let st = s.stream(id)?;
        Ok(st
            .image_ca
            .and_then(|ca| s.control_area_info(&self.vmm, ca)))
    }

    /// `NtUnmapViewOfSection` (any address inside the view).
    pub fn unmap_view(&self, asid: AsId, va: Va) -> Result<()> {
        self.op(|s, vmm| s.unmap_view(vmm, asid, va))
    }

    /// `NtUnmapViewOfSectionEx(…, MEM_PRESERVE_PLACEHOLDER)`: unmaps a view that replaced a
    /// placeholder and puts the placeholder back (F72); any other view stays mapped and the
    /// call fails with `STATUS_CONFLICTING_ADDRESSES` (F71).
    pub fn unmap_view_to_placeholder(&self, asid: AsId, va: Va) -> Result<()> {
        self.op(|s, vmm| s.unmap_view_as(vmm, asid, va, true))
    }

    /// `NtFlushVirtualMemory`: returns the rounded range flushed.
    pub fn flush_virtual_memory(&self, asid: AsId, va: Va, size: u64) -> Result<(Va, u64)> {
        self.op(|s, vmm| s.flush_view(vmm, asid, va, size))
    }

    // ---- virtual memory -------------------------------------------------------------------

    /// `NtAllocateVirtualMemory`.
    pub fn allocate_virtual_memory(
        &self,
        asid: AsId,
        base: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<(Va, u64)> {
        self.op(|s, vmm| {
            s.allocate_virtual_memory(vmm, asid, base, size, allocation_type, protection)
        })
    }

    /// `NtFreeVirtualMemory`.
    pub fn free_virtual_memory(
        &self,
        asid: AsId,
        base: Va,
        size: u64,
        free_type: u32,
    ) -> Result<(Va, u64)> {
        self.op(|s, vmm| s.free_virtual_memory(vmm, asid, base, size, free_type))
    }

    /// `NtProtectVirtualMemory`: returns the old protection and the range.
    pub fn protect_virtual_memory(
        &self,
        asid: AsId,
        base: Va,
        size: u64,
        protection: u32,
    ) -> Result<(u32, Va, u64)> {
        self.op(|s, vmm| s.protect_virtual_memory(vmm, asid, base, size, protection))
    }

    /// `NtQueryVirtualMemory(MemoryBasicInformation)`.
    pub fn query_virtual_memory(&self, asid: AsId, va: Va) -> Result<MemoryBasicInformation> {
        self.state.lock().query_virtual_memory(&self.vmm, asid, va)
    }

    // ---- memory pressure ------------------------------------------------------------------

    /// Empties a process's working set.
    pub fn trim(&self, asid: AsId) -> Result<u64> {
        self.op(|_, vmm| Ok(vmm.trim(asid, None)?))
    }

    /// Sets a process's working-set maximum (pages, at least 2), trimming its oldest pages
    /// at once if it holds more (`SetProcessWorkingSetSize`).
    pub fn set_working_set_maximum(&self, asid: AsId, pages: u64) -> Result<()> {
        self.op(|_, vmm| Ok(vmm.set_working_set_max(asid, pages)?))
    }

    /// Empties every working set.
    pub fn trim_all(&self) -> u64 {
        self.op(|_, vmm| Ok(vmm.trim_all())).unwrap_or(0)
    }

    /// Runs the writers: every modified page (file pages and cached writes included) reaches
    /// its backing store (the scenario language's `flush-modified`).
    pub fn run_writers(&self) -> WriterReport {
        self.op(|_, vmm| Ok(vmm.run_writers())).unwrap_or_default()
    }

    /// Checks the machine's invariants and the control-area rules of nt_internals §9.3.
    pub fn check_invariants(&self) -> std::result::Result<(), SectionInvariantViolation> {
        let mut s = self.state.lock();
        s.reap(&self.vmm);
        s.check_invariants(&self.vmm)
    }
}
