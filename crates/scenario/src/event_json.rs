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
                VmmEvent::FrameRepurposed { pfn, .. } => put("pfn", hex(pfn.raw())),
                VmmEvent::WriterRan { writer, .. } => {
                    put("writer", Value::from(format!("{writer:?}")));
                }
                VmmEvent::FailureInjected {
                    store,
                    op,
                    status: s,
                    ..
                } => {
                    put("store", Value::from(store.clone()));
                    put("op", Value::from(format!("{op:?}")));
                    put("status", status(*s));
                }
                _ => {}
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
                    protection,
                    ..
                } => {
                    put("process", who(asid));
                    put("section", Value::from(format!("{section:?}")));
                    put("control_area", Value::from(format!("{control_area:?}")));
                    put("base", hex(base.raw()));
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
                    ..
                }
                | SectionEvent::SectionDeleted {
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
                _ => {}
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
            }
        }
    }
    Value::Object(m)
}
