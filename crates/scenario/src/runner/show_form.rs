//! The `show` directive: its operands evaluated in the scenario (addresses, handles, process
//! names), then rendered by [`crate::show`], which sees only the system.

use super::{Runner, StmtError};
use crate::ast::{Expr, Show};
use crate::show::{render, ShowTarget};
use crate::value::Value;
use ntmm_api::Handle;
use ntmm_vmm::{Pfn, Va};

fn int(r: &mut Runner, e: &Expr) -> Result<u64, StmtError> {
    match r.eval(e)? {
        Value::Int(v) => Ok(v),
        other => Err(StmtError(format!("expected an integer, not {other}"))),
    }
}

/// Renders a `show` form.
pub(super) fn show(r: &mut Runner, what: &Show) -> Result<String, StmtError> {
    let names = r.process_names();
    let target = match what {
        Show::Pte(e) => {
            let va = Va::new(int(r, e)?);
            ShowTarget::Pte {
                pid: r.current_pid()?,
                va,
            }
        }
        Show::Pfn(e) => ShowTarget::Pfn(Pfn::new(
            u32::try_from(int(r, e)?).map_err(|_| StmtError("no such frame".into()))?,
        )),
        Show::Vad(p) => ShowTarget::Vad {
            pid: *r
                .procs
                .get(p)
                .ok_or_else(|| StmtError(format!("no process named {p}")))?,
            name: p.clone(),
        },
        Show::Section(e) => {
            let handle = Handle(int(r, e)?);
            ShowTarget::Section {
                pid: r.current_pid()?,
                handle,
            }
        }
        Show::Memory => ShowTarget::Memory,
    };
    render(r.system()?, &target, &names).map_err(StmtError)
}
