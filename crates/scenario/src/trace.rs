//! `--trace`: every fault and transition explained in one human line.
//!
//! While a statement runs, a `tracing` layer records the machine's and the section layer's
//! events; afterwards each is rendered as a sentence, with address-space ids replaced by process
//! names. `RUST_LOG` additionally prints the raw events (tracing-subscriber's `EnvFilter`) on
//! standard error.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

#[derive(Debug, Clone, Default)]
struct Raw {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Visit for Raw {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let v = format!("{value:?}");
        if field.name() == "message" {
            self.message = v;
        } else {
            self.fields.insert(field.name().to_string(), v);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields
                .insert(field.name().to_string(), value.to_string());
        }
    }
}

/// Installs a global subscriber that prints the raw tracing events selected by `RUST_LOG` on
/// standard error.
pub fn init_raw_logging() -> Result<(), tracing::subscriber::SetGlobalDefaultError> {
    let filter = tracing_subscriber::EnvFilter::from_default_env();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .without_time()
            .with_filter(filter),
    );
    tracing::subscriber::set_global_default(subscriber)
}

/// Collects events while statements run.
#[derive(Debug, Clone, Default)]
pub struct TraceSink {
    events: Arc<Mutex<Vec<Raw>>>,
}

struct SinkLayer(TraceSink);

impl<S: tracing::Subscriber> Layer<S> for SinkLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let target = event.metadata().target();
        if !(target.starts_with("ntmm_vmm") || target.starts_with("ntmm_section")) {
            return;
        }
        let mut raw = Raw::default();
        event.record(&mut raw);
        self.0.events.lock().push(raw);
    }
}

impl TraceSink {
    /// Runs `f` with this sink (and, if `RUST_LOG` is set, a raw-event printer on standard
    /// error) as the thread's subscriber.
    pub fn capture<R>(&self, f: impl FnOnce() -> R) -> R {
        let raw = std::env::var("RUST_LOG").ok().map(|filter| {
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .without_time()
                .with_filter(tracing_subscriber::EnvFilter::new(filter))
        });
        let subscriber = tracing_subscriber::registry()
            .with(SinkLayer(self.clone()))
            .with(raw);
        tracing::subscriber::with_default(subscriber, f)
    }

    /// The explanations of the events recorded since the last drain.
    pub fn drain(&self, names: &BTreeMap<u32, String>) -> Vec<String> {
        let events = std::mem::take(&mut *self.events.lock());
        events.iter().filter_map(|e| explain(e, names)).collect()
    }
}

fn variant(s: &str) -> (&str, &str) {
    let s = s
        .strip_prefix("Some(")
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(s);
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(s.len());
    (&s[..end], s)
}

fn protection_of(s: &str) -> Option<&str> {
    let i = s.find("protection: ")? + "protection: ".len();
    let rest = &s[i..];
    Some(&rest[..rest.find([' ', ',', '}']).unwrap_or(rest.len())])
}

fn pte_words(s: &str) -> String {
    let (v, full) = variant(s);
    let prot = protection_of(full)
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    match v {
        "Zero" => "empty".into(),
        "Valid" if full.contains("copy_on_write: true") => "valid, copy-on-write".into(),
        "Valid" => "valid".into(),
        "Prototype" => "prototype pointer".into(),
        "PrototypeLookup" => format!("prototype, lookup needed{prot}"),
        "Transition" => format!("transition{prot}"),
        "Pagefile" => format!("in the pagefile{prot}"),
        "DemandZero" => format!("demand-zero{prot}"),
        other => other.to_string(),
    }
}

fn proto_words(s: &str) -> String {
    match variant(s).0 {
        "Zero" => "not committed".into(),
        "DemandZero" => "demand-zero".into(),
        "Valid" => "valid (the page is already mapped)".into(),
        "Transition" => "in transition (frame on a page list)".into(),
        "Pagefile" => "in the pagefile".into(),
        "Subsection" => "in the file".into(),
        other => other.to_string(),
    }
}

fn list_words(s: &str, taken: bool) -> String {
    match variant(s).0 {
        "Zeroed" => "the zeroed list".into(),
        "Free" => "the free list".into(),
        "Standby" if taken => "the standby list (repurposed)".into(),
        "Standby" => "the standby list (clean, cached)".into(),
        "Modified" if !taken => "the modified list (must be written before reuse)".into(),
        "Modified" => "the modified list".into(),
        "ModifiedNoWrite" => "the modified-no-write list".into(),
        other => other.to_string(),
    }
}

fn hex(s: &str) -> String {
    s.parse::<u64>()
        .map_or_else(|_| s.to_string(), |v| format!("{v:#x}"))
}

fn rename(s: &str, names: &BTreeMap<u32, String>) -> String {
    let mut out = s.to_string();
    for (id, n) in names.iter().rev() {
        out = out.replace(&format!("as#{id}"), n);
    }
    out
}

fn explain(e: &Raw, names: &BTreeMap<u32, String>) -> Option<String> {
    let f = |k: &str| e.fields.get(k).map(String::as_str).unwrap_or("");
    let who = |k: &str| {
        f(k).parse::<u32>()
            .ok()
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| rename(f(k), names))
    };
    let mut s = String::new();
    match e.message.as_str() {
        "fault resolved" => {
            let kind = match f("kind") {
                "DemandZero" => "demand-zero fault",
                "Share" => "share fault",
                "Transition" => "soft fault",
                "CopyOnWrite" => "copy-on-write fault",
                "HardFile" => "hard fault, page read from the file",
                "HardPagefile" => "hard fault, page read from the pagefile",
                other => other,
            };
            let _ = write!(
                s,
                "{}: {kind} at {}: PTE {}",
                who("asid"),
                hex(f("va")),
                pte_words(f("pte_before"))
            );
            if f("proto_before") != "None" && !f("proto_before").is_empty() {
                let _ = write!(s, ", prototype PTE {}", proto_words(f("proto_before")));
            }
            let _ = write!(s, " → frame {}", hex(f("pfn")));
            if f("from") != "None" && !f("from").is_empty() {
                let _ = write!(s, " from {}", list_words(f("from"), true));
            }
        }
        "exception raised" => {
            let _ = write!(s, "{}: {}", who("asid"), f("exception"));
        }
        "working-set entry trimmed" => {
            let _ = write!(
                s,
                "{}: trimmed {} from the working set (frame {}); PTE now {}",
                who("asid"),
                hex(f("va")),
                hex(f("pfn")),
                pte_words(f("pte_after"))
            );
        }
        "frame left the working sets" => {
            let _ = write!(
                s,
                "frame {} left every working set → {}",
                hex(f("pfn")),
                list_words(f("list"), false)
            );
        }
        "standby frame repurposed" => {
            let _ = write!(
                s,
                "frame {} repurposed: its old PTE is restored to {}",
                hex(f("pfn")),
                variant(f("original")).0
            );
        }
        "modified page writer ran" | "mapped page writer ran" if f("written") != "0" => {
            let _ = write!(
                s,
                "{}: {} pages written",
                e.message.trim_end_matches(" ran"),
                f("written")
            );
        }
        "view mapped" => {
            let _ = write!(
                s,
                "{}: view of {} mapped at {} ({} pages, {})",
                rename(f("asid"), names),
                f("section"),
                f("base"),
                f("pages"),
                f("protection")
            );
        }
        "view unmapped" => {
            let _ = write!(
                s,
                "{}: view at {} unmapped (dirty bits captured, nothing written)",
                rename(f("asid"), names),
                f("base")
            );
        }
        "section created" => {
            let _ = write!(
                s,
                "section {} created on {} ({} bytes)",
                f("id"),
                f("ca"),
                f("size")
            );
        }
        "segment range flushed" if f("written") != "0" => {
            let _ = write!(s, "flush: {} pages written", f("written"));
        }
        "injected store failure" => {
            let op = match f("op") {
                "Read" => "read",
                "Write" => "write",
                "Flush" => "flush",
                "Resize" => "size change",
                other => other,
            };
            let _ = write!(
                s,
                "injected I/O fault: the {op} of page {} of {} failed with {}",
                f("page"),
                f("store"),
                f("status")
            );
        }
        "pagefile-backed control area deleted"
        | "file control area parked on the unused-segment list"
        | "file control area deleted"
        | "parked control area revived" => {
            let _ = write!(s, "{} {}", f("id"), e.message);
        }
        _ => return None,
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_fault_explanation_reads_like_a_sentence() {
        let mut raw = Raw {
            message: "fault resolved".into(),
            ..Raw::default()
        };
        for (k, v) in [
            ("asid", "1"),
            ("va", "65552"),
            ("kind", "DemandZero"),
            ("pfn", "31"),
            ("pte_before", "Some(Zero)"),
            (
                "proto_before",
                "Some(DemandZero { protection: MM_READWRITE })",
            ),
            ("from", "Some(Zeroed)"),
        ] {
            raw.fields.insert(k.into(), v.into());
        }
        let names = BTreeMap::from([(1, "A".to_string())]);
        assert_eq!(
            explain(&raw, &names).unwrap(),
            "A: demand-zero fault at 0x10010: PTE empty, prototype PTE demand-zero → frame 0x1f from the zeroed list"
        );
    }
}
