//! The narrated demo: the worked example of nt_internals §5.4, step by step, on the machine
//! layer, printing the PTEs, prototype PTEs and PFN entries a student would look at in WinDbg.

use ntmm_vmm::codec;
use ntmm_vmm::store::read_bytes;
use ntmm_vmm::*;
use std::fmt::Write as _;

struct Demo {
    vmm: Vmm,
    out: String,
    a: AsId,
    b: AsId,
    seg: SegmentId,
    store: StoreId,
    pa: Va,
    pb: Va,
}

impl Demo {
    fn say(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    fn pte_line(&self, who: &str, asid: AsId, va: Va) -> String {
        let pte = self.vmm.pte(asid, va).unwrap_or_default();
        let bits = codec::encode(&pte).map_or_else(|e| format!("({e})"), |b| format!("{b:#018x}"));
        format!("    {who} PTE {va}: {bits}  {pte:?}")
    }

    fn show(&mut self) {
        let lines = [
            self.pte_line("A", self.a, self.pa),
            self.pte_line("B", self.b, self.pb),
        ];
        for l in lines {
            self.say(&l);
        }
        let proto = self.vmm.proto_pte(self.seg, 0).unwrap_or_default();
        let pbits = codec::encode_proto(&proto, self.seg)
            .map_or_else(|e| format!("({e})"), |b| format!("{b:#018x}"));
        self.say(&format!("    prototype PTE 0:   {pbits}  {proto:?}"));
        if let Some(pfn) = proto.pfn() {
            if let Some(e) = self.vmm.pfn_entry(pfn) {
                self.say(&format!(
                    "    PFN {pfn}: {:?} share={} ref={} modified={} original={:?}",
                    e.location(),
                    e.share_count(),
                    e.reference_count(),
                    e.modified(),
                    e.original()
                ));
            }
        }
        let mut disk = [0u8; 8];
        let _ = self
            .vmm
            .with_store(self.store, |s| read_bytes(s, 0, &mut disk));
        let c = self.vmm.list_counts();
        self.say(&format!(
            "    on disk: {:?}   lists: zeroed={} free={} standby={} modified={}",
            String::from_utf8_lossy(&disk).trim_end_matches('\0'),
            c.zeroed,
            c.free,
            c.standby,
            c.modified
        ));
    }

    fn flush(&mut self, asid: AsId, va: Va) -> u64 {
        let _ = self.vmm.harvest_dirty(asid, va, PageCount::new(1));
        self.vmm
            .flush_segment(self.seg, 0, PageCount::new(1))
            .unwrap_or(0)
    }
}

/// Runs the demo and returns its transcript. The transcript is the same on every run.
pub fn run() -> Result<String> {
    let vmm = Vmm::new(VmmConfig {
        frames: 16,
        pagefile_pages: 64,
        working_set_max: 8,
        writer: WriterPolicy::Lazy,
    })?;
    let store = vmm.add_store(Box::new(MemoryStore::with_contents(&[0u8; 8192])));
    let seg = vmm.create_file_segment(store, PageCount::new(2))?;
    let (a, b) = (vmm.create_address_space(), vmm.create_address_space());
    let map = |s| {
        vmm.map_segment(
            s,
            seg,
            0,
            PageCount::new(2),
            Placement::BottomUp,
            Protection::READWRITE,
        )
    };
    let (pa, pb) = (map(a)?, map(b)?);
    let mut d = Demo {
        vmm,
        out: String::new(),
        a,
        b,
        seg,
        store,
        pa,
        pb,
    };
    d.say("ntmm demo — nt_internals §5.4: one file page, two processes, flush and unmap");
    d.say("A file F of 8 KiB is mapped read-write by process A and process B.");
    d.say("Views start with zero PTEs: nothing is resident until touched.");
    d.show();

    d.say("\n1. A writes page 0: first-touch fault → hard fault from the file, the prototype");
    d.say("   PTE becomes valid, and because the access is a store the frame is modified now.");
    d.vmm.write(a, pa, b"A-one")?;
    d.show();

    d.say("\n2. B reads page 0: the prototype PTE is already valid → share fault, share = 2.");
    let mut buf = [0u8; 5];
    d.vmm.read(b, pb, &mut buf)?;
    d.say(&format!("   B sees {:?}", String::from_utf8_lossy(&buf)));
    d.show();

    d.say("\n3. A writes again: the PTE is valid and dirty, no fault.");
    d.vmm.write(a, pa, b"A-two")?;

    d.say("\n4. B flushes page 0: B's PTE is clean, but the frame is modified (step 1),");
    d.say("   so the page — with A's bytes — is written.");
    let n = d.flush(b, pb);
    d.say(&format!("   pages written: {n}"));
    d.show();

    d.say("\n5. A writes again: its PTE is already dirty, so the frame stays clean.");
    d.vmm.write(a, pa, b"A-3rd")?;

    d.say("\n6. B flushes again: B's PTE clean, frame clean → nothing written.");
    d.say(
        "   The file lags A's last write: dirty bits live in the PTEs of the process that wrote.",
    );
    let n = d.flush(b, pb);
    d.say(&format!("   pages written: {n}"));
    d.show();

    d.say("\n7. A unmaps: its dirty bit is captured into the frame; share 2 → 1. Nothing written.");
    d.vmm.free_region(a, pa)?;
    d.show();

    d.say("\n8. B unmaps: share → 0, the prototype PTE goes to transition and the frame to the");
    d.say("   modified list. Unmapping never writes; the mapped page writer does, later.");
    d.vmm.free_region(b, pb)?;
    d.show();

    d.say("\n   The mapped page writer runs: the page reaches the disk and waits on standby.");
    let r = d.vmm.run_writers();
    d.say(&format!("   file pages written: {}", r.file_pages));
    d.show();

    let c = d.vmm.fault_counters(a)?;
    let cb = d.vmm.fault_counters(b)?;
    d.say(&format!(
        "\nFaults — A: {} hard (file), {} share; B: {} hard (file), {} share.",
        c.hard_file, c.share, cb.hard_file, cb.share
    ));
    match d.vmm.check_invariants() {
        Ok(()) => d.say("Invariants of nt_internals §9.3: all hold."),
        Err(v) => d.say(&format!("Invariant violated: {v}")),
    }
    Ok(d.out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_demo_runs_deterministically_and_shows_the_lag() {
        let first = super::run().unwrap();
        assert_eq!(first, super::run().unwrap(), "same transcript on every run");
        assert!(first.contains("pages written: 1"));
        assert!(first.contains("pages written: 0"));
        assert!(
            first.contains("on disk: \"A-two\""),
            "step 6: the file lags A's last write"
        );
        assert!(
            first.contains("on disk: \"A-3rd\""),
            "after the mapped writer"
        );
        assert!(first.contains("all hold"));
    }
}
