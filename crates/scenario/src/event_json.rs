//! The typed form of a traced event for `--json --trace` (docs/JSON.md "Trace objects"): its
//! `kind` (the variant's name) and its fields as JSON values, so a harness reads them without
//! parsing the sentence. Processes are named as in the transcript; addresses, frames and masks
//! are hex strings (`"0x10000"`), identities as the trace names them (`"section#2"`, `"ca#1"`).

use ntmm_api::section::SectionEvent;
use ntmm_api::{ApiEvent, Event, ObjectRef};
use ntmm_vmm::VmmEvent;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A hex string.
fn hex(v: impl Into<u64>) -> Value {
    let v: u64 = v.into();
    Value::from(format!("{v:#x}"))
}

/// An NTSTATUS as `{value, name}`.
fn status(s: ntmm_vmm::NtStatus) -> Value {
    json!({"value": s.raw(), "name": s.name()})
}

/// The event as a JSON object with `kind` and typed fields.
pub fn event_json(e: &Event, names: &BTreeMap<u32, String>) -> Value {
    let who = |asid: &ntmm_vmm::AsId| {
        Value::from(
            names
                .get(&asid.raw())
                .cloned()
                .unwrap_or_else(|| asid.raw().to_string()),
        )
    };
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    match e {
        Event::Vmm(v) => {
            put("kind", Value::from(format!("{:?}", v.kind())));
            match v {
                VmmEvent::FaultResolved { asid, va, outcome } => {
                    put("process", who(asid));
                    put("va", hex(va.raw()));
                    put("fault", Value::from(format!("{:?}", outcome.kind)));
                    put("pfn", hex(outcome.pfn.raw()));
                    put(
                        "from_list",
                        outcome
                            .taken_from()
                            .map_or(Value::Null, |l| Value::from(format!("{l:?}"))),
                    );
                }
                VmmEvent::Exception {
                    asid, exception, ..
                } => {
                    put("process", who(asid));
                    put("code", status(exception.code()));
                    put("address", hex(exception.address.raw()));
                    put("access", Value::from(format!("{:?}", exception.access)));
                }
                VmmEvent::PageTrimmed { asid, va, pfn, .. } => {
                    put("process", who(asid));
                    put("va", hex(va.raw()));
                    put("pfn", hex(pfn.raw()));
                }
                VmmEvent::FrameMoved {
                    pfn,
                    from,
                    to,
                    reason,
                } => {
                    put("pfn", hex(pfn.raw()));
                    put("from", Value::from(format!("{from:?}")));
                    put("to", Value::from(format!("{to:?}")));
                    put("reason", Value::from(format!("{reason:?}")));
                }
                VmmEvent::FrameRepurposed { pfn, original, .. } => {
                    put("pfn", hex(pfn.raw()));
                    put(
                        "original",
                        Value::from(match original {
                            ntmm_vmm::OriginalPte::DemandZero { .. } => "DemandZero",
                            ntmm_vmm::OriginalPte::Pagefile { .. } => "Pagefile",
                            ntmm_vmm::OriginalPte::Subsection { .. } => "Subsection",
                        }),
                    );
                }
                VmmEvent::WriterRan {
                    writer,
                    trigger,
                    pages_written,
                    failed,
                } => {
                    put("writer", Value::from(format!("{writer:?}")));
                    put("trigger", Value::from(format!("{trigger:?}")));
                    put("pages_written", Value::from(*pages_written));
                    put("failed", Value::from(*failed));
                }
                VmmEvent::Placeholder {
                    asid,
                    base,
                    pages,
                    change,
                } => {
                    put("process", who(asid));
                    put("base", hex(base.raw()));
                    put("pages", Value::from(*pages));
                    put("change", Value::from(format!("{change:?}")));
                }
                VmmEvent::FailureInjected {
                    store,
                    op,
                    page,
                    status: s,
                } => {
                    put("store", Value::from(store.clone()));
                    put("op", Value::from(format!("{op:?}")));
                    put("page", Value::from(*page));
                    put("status", status(*s));
                }
                VmmEvent::AddressSpaceCreated { asid } | VmmEvent::AddressSpaceDeleted { asid } => {
                    put("process", who(asid));
                }
                VmmEvent::PrivateAllocated {
                    asid,
                    base,
                    pages,
                    protection,
                    committed,
                } => {
                    put("process", who(asid));
                    put("base", hex(base.raw()));
                    put("pages", Value::from(*pages));
                    put("protection", Value::from(format!("{protection:?}")));
                    put("committed", Value::from(*committed));
                }
                VmmEvent::SegmentMapped {
                    asid,
                    segment,
                    first_index,
                    pages,
                    protection,
                    base,
                } => {
                    put("process", who(asid));
                    put("segment", Value::from(format!("{segment:?}")));
                    put("first_index", hex(first_index.raw()));
                    put("pages", Value::from(*pages));
                    put("protection", Value::from(format!("{protection:?}")));
                    put("base", hex(base.raw()));
                }
                VmmEvent::SegmentCommitted {
                    segment,
                    first,
                    pages,
                    committed,
                } => {
                    put("segment", Value::from(format!("{segment:?}")));
                    put("first_index", hex(first.raw()));
                    put("pages", Value::from(*pages));
                    put("committed_pages", Value::from(*committed));
                }
                VmmEvent::ProtectionChanged {
                    asid,
                    base,
                    pages,
                    old,
                    new,
                } => {
                    put("process", who(asid));
                    put("base", hex(base.raw()));
                    put("pages", Value::from(*pages));
                    put("old_protection", Value::from(format!("{old:?}")));
                    put("protection", Value::from(format!("{new:?}")));
                }
                VmmEvent::RegionDeleted { asid, base, pages } => {
                    put("process", who(asid));
                    put("base", hex(base.raw()));
                    put("pages", Value::from(*pages));
                }
                VmmEvent::SegmentCreated {
                    segment,
                    kind,
                    pages,
                    protection,
                    reserve,
                } => {
                    put("segment", Value::from(format!("{segment:?}")));
                    put(
                        "backing",
                        Value::from(match kind {
                            ntmm_vmm::SegmentKind::Pagefile => "pagefile".to_string(),
                            ntmm_vmm::SegmentKind::File { store }
                            | ntmm_vmm::SegmentKind::Image { store } => format!("{store:?}"),
                        }),
                    );
                    put("pages", Value::from(*pages));
                    put("protection", Value::from(format!("{protection:?}")));
                    put("reserve", Value::from(*reserve));
                }
                VmmEvent::SegmentDeleted { segment } => {
                    put("segment", Value::from(format!("{segment:?}")));
                }
                VmmEvent::StoreIo {
                    target,
                    op,
                    page,
                    failed,
                } => {
                    put(
                        "target",
                        Value::from(match target {
                            ntmm_vmm::IoTarget::Pagefile => "pagefile".to_string(),
                            ntmm_vmm::IoTarget::File(store) => format!("{store:?}"),
                        }),
                    );
                    put("op", Value::from(format!("{op:?}")));
                    put("page", Value::from(*page));
                    put("status", failed.map_or(Value::Null, status));
                }
                VmmEvent::SegmentFlushed {
                    segment,
                    first,
                    count,
                    written,
                } => {
                    put("segment", Value::from(format!("{segment:?}")));
                    put("first_index", hex(first.raw()));
                    put("pages", Value::from(*count));
                    put("written", Value::from(*written));
                }
            }
        }
        Event::Section(s) => {
            put("kind", Value::from(format!("{:?}", s.kind())));
            match s {
                SectionEvent::ViewMapped {
                    asid,
                    section,
                    control_area,
                    base,
                    pages,
                    protection,
                } => {
                    put("process", who(asid));
                    put("section", Value::from(format!("{section:?}")));
                    put("control_area", Value::from(format!("{control_area:?}")));
                    put("base", hex(base.raw()));
                    put("pages", Value::from(*pages));
                    put("protection", Value::from(format!("{protection:?}")));
                }
                SectionEvent::ViewUnmapped {
                    asid,
                    base,
                    control_area,
                } => {
                    put("process", who(asid));
                    put("base", hex(base.raw()));
                    put("control_area", Value::from(format!("{control_area:?}")));
                }
                SectionEvent::SectionCreated {
                    section,
                    control_area,
                    size,
                    protection,
                    attributes,
                } => {
                    put("section", Value::from(format!("{section:?}")));
                    put("control_area", Value::from(format!("{control_area:?}")));
                    put("size", Value::from(*size));
                    put("protection", Value::from(format!("{protection:?}")));
                    put("attributes", hex(*attributes));
                }
                SectionEvent::SectionDeleted {
                    section,
                    control_area,
                } => {
                    put("section", Value::from(format!("{section:?}")));
                    put("control_area", Value::from(format!("{control_area:?}")));
                }
                SectionEvent::ControlAreaDeleted { control_area, file } => {
                    put("control_area", Value::from(format!("{control_area:?}")));
                    put("file", Value::from(*file));
                }
                SectionEvent::ControlAreaParked { control_area }
                | SectionEvent::ControlAreaRevived { control_area }
                | SectionEvent::ImageControlAreaDeleted { control_area } => {
                    put("control_area", Value::from(format!("{control_area:?}")));
                }
                SectionEvent::ControlAreaCreated {
                    control_area,
                    segment,
                    stream,
                } => {
                    put("control_area", Value::from(format!("{control_area:?}")));
                    put("segment", Value::from(format!("{segment:?}")));
                    put(
                        "stream",
                        stream.map_or(Value::Null, |f| Value::from(format!("{f:?}"))),
                    );
                }
                SectionEvent::ControlAreaCounts {
                    control_area,
                    change,
                    before,
                    after,
                } => {
                    let counts = |c: &ntmm_api::section::Counts| {
                        json!({
                            "section_references": c.section_references,
                            "mapped_views": c.mapped_views,
                            "user_references": c.user_references,
                        })
                    };
                    put("control_area", Value::from(format!("{control_area:?}")));
                    put("change", Value::from(format!("{change:?}")));
                    put("before", counts(before));
                    put("after", counts(after));
                }
                SectionEvent::Flushed {
                    asid,
                    base,
                    pages,
                    control_area,
                    durable,
                } => {
                    put("process", who(asid));
                    put("base", hex(base.raw()));
                    put("pages", Value::from(*pages));
                    put("control_area", Value::from(format!("{control_area:?}")));
                    put("durable", Value::from(*durable));
                }
            }
        }
        Event::Api(a) => {
            put("kind", Value::from(format!("{:?}", a.kind())));
            let object = |t: &ObjectRef| match t {
                ObjectRef::Process(p) => json!({"type": "process", "process": who(p)}),
                ObjectRef::File(n) => json!({"type": "file", "name": n}),
                ObjectRef::Section(s) => json!({"type": "section", "section": format!("{s:?}")}),
                ObjectRef::Event(id) => json!({"type": "event", "id": id}),
            };
            match a {
                ApiEvent::ProcessCreated {
                    pid,
                    parent,
                    inherit,
                } => {
                    put("process", who(pid));
                    put("parent", parent.as_ref().map_or(Value::Null, who));
                    put("inherit", Value::from(*inherit));
                }
                ApiEvent::ProcessExited { pid } => put("process", who(pid)),
                ApiEvent::HandleOpened {
                    pid,
                    handle,
                    object_type,
                    target,
                    granted_access,
                    inherit,
                    ..
                } => {
                    put("process", who(pid));
                    put("handle", hex(handle.0));
                    put("object", object(target));
                    put("granted_access", hex(*granted_access));
                    put(
                        "granted_access_names",
                        Value::from(ntmm_api::why::access_names(*object_type, *granted_access)),
                    );
                    put("inherit", Value::from(*inherit));
                }
                ApiEvent::HandleClosed {
                    pid,
                    handle,
                    target,
                    last_handle,
                    last_pointer,
                    ..
                } => {
                    put("process", who(pid));
                    put("handle", hex(handle.0));
                    put("object", object(target));
                    put("last_handle", Value::from(*last_handle));
                    put("last_reference", Value::from(*last_pointer));
                }
                ApiEvent::HandleDuplicated {
                    pid,
                    source_process,
                    source,
                    target_process,
                    handle,
                } => {
                    put("process", who(pid));
                    put("source_process", who(source_process));
                    put("source", hex(source.0));
                    put("target_process", who(target_process));
                    put("handle", hex(handle.0));
                }
                ApiEvent::NameInserted { name, target, .. }
                | ApiEvent::NameRemoved { name, target, .. } => {
                    put("name", Value::from(name.clone()));
                    put("object", object(target));
                }
                ApiEvent::NameExists {
                    pid,
                    name,
                    target,
                    opened,
                    ..
                } => {
                    put("process", who(pid));
                    put("name", Value::from(name.clone()));
                    put("object", object(target));
                    put("opened", Value::from(*opened));
                }
                ApiEvent::FileIo {
                    pid,
                    file,
                    write,
                    offset,
                    bytes,
                    write_through,
                } => {
                    put("process", who(pid));
                    put("name", Value::from(file.clone()));
                    put("write", Value::from(*write));
                    put("offset", hex(*offset));
                    put("bytes", Value::from(*bytes));
                    put("write_through", Value::from(*write_through));
                }
                ApiEvent::CallFailed {
                    pid,
                    status: s,
                    win32_error,
                    rule,
                } => {
                    put("process", who(pid));
                    put("status", s.map_or(Value::Null, status));
                    put("last_error", Value::from(*win32_error));
                    put(
                        "last_error_name",
                        ntmm_api::error_name(*win32_error).map_or(Value::Null, Value::from),
                    );
                    put("rule", rule.clone().map_or(Value::Null, Value::from));
                }
                ApiEvent::NativeCallFailed {
                    pid,
                    status: s,
                    rule,
                } => {
                    put("process", who(pid));
                    put("status", status(*s));
                    put("rule", rule.clone().map_or(Value::Null, Value::from));
                }
            }
        }
    }
    Value::Object(m)
}
