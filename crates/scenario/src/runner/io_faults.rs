//! The `fail` and `heal` directives (SCENARIO.md, additions of 2026-11-30, "I/O faults"): each
//! result says in one sentence what will fail, or what was cleared.

use super::{Runner, StmtError};
use crate::ast::FaultTarget;
use crate::value::Value;
use ntmm_api::{FaultDuration, IoKind};

/// `fail read|write ("NAME" page N | pagefile) [always]`.
pub(super) fn fail(
    r: &mut Runner,
    kind: IoKind,
    target: &FaultTarget,
    always: bool,
) -> Result<String, StmtError> {
    let duration = if always {
        FaultDuration::UntilCleared
    } else {
        FaultDuration::Once
    };
    let verb = match kind {
        IoKind::Read => "read",
        IoKind::Write => "write",
    };
    let what = match target {
        FaultTarget::Pagefile => {
            r.system()?.inject_pagefile_fault(kind, duration);
            "the pagefile".to_string()
        }
        FaultTarget::File { name, page } => {
            let page = match r.eval(page)? {
                Value::Int(p) => p,
                other => {
                    return Err(StmtError(format!(
                        "a page number must be an integer, not {other}"
                    )))
                }
            };
            r.system()?
                .inject_file_fault(name, kind, page, duration)
                .map_err(|e| StmtError(format!("cannot inject a fault into {name:?}: {e}")))?;
            format!("page {page} of {name:?}")
        }
    };
    Ok(if always {
        format!("every {verb} of {what} will fail with STATUS_DEVICE_DATA_ERROR until `heal`")
    } else {
        format!("the next {verb} of {what} will fail with STATUS_DEVICE_DATA_ERROR")
    })
}

/// `heal`.
pub(super) fn heal(r: &mut Runner) -> Result<String, StmtError> {
    let n = r.system()?.heal();
    Ok(match n {
        0 => "no injected fault was pending".into(),
        1 => "1 injected fault cleared".into(),
        n => format!("{n} injected faults cleared"),
    })
}
