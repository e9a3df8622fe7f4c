//! The image statements (SCENARIO.md "Image sections (images)"): the `image` directive writes
//! a PE32+ file and says how it is laid out; `process NAME image "FILE"` maps a process's
//! executable at its creation.

use super::{Runner, StmtError};
use crate::ast::ImageSection;
use crate::value::Value;
use ntmm_api::section::image::{ImageSectionSpec, ImageSpec};
use ntmm_api::AsId;

/// The largest raw data or virtual size of one section (the image as a whole is limited by
/// `ntmm_section::image::MAX_IMAGE_SIZE`).
const MAX_SECTION_BYTES: u64 = 64 << 20;

/// `image "NAME" base N section … `: writes the image and returns its layout, one section per
/// item: its RVA and flags.
pub(super) fn write(
    r: &mut Runner,
    name: &str,
    base: &crate::ast::Expr,
    sections: &[ImageSection],
) -> Result<String, StmtError> {
    let base = match r.eval(base)? {
        Value::Int(b) => b,
        other => {
            return Err(StmtError(format!(
                "an image base is an integer, not {other}"
            )))
        }
    };
    let mut spec = ImageSpec {
        base,
        sections: Vec::new(),
    };
    let mut layout = Vec::new();
    let mut rva = 0x1000u64;
    for s in sections {
        let data = match &s.data {
            None => Vec::new(),
            Some(e) => match r.eval(e)? {
                v @ (Value::Str(_) | Value::Bytes(_)) => v.as_bytes().unwrap_or_default().to_vec(),
                other => {
                    return Err(StmtError(format!(
                        "section {:?}: its data must be bytes, not {other}",
                        s.name
                    )))
                }
            },
        };
        let size = match &s.size {
            None => None,
            Some(e) => match r.eval(e)? {
                Value::Int(n) if n <= MAX_SECTION_BYTES => Some(n as u32),
                other => {
                    return Err(StmtError(format!(
                        "section {:?}: size must be an integer up to {MAX_SECTION_BYTES:#x}, not {other}",
                        s.name
                    )))
                }
            },
        };
        if data.len() as u64 > MAX_SECTION_BYTES {
            return Err(StmtError(format!(
                "section {:?}: more than {MAX_SECTION_BYTES:#x} bytes of data",
                s.name
            )));
        }
        let vsize = u64::from(size.unwrap_or(0)).max(data.len() as u64);
        layout.push(format!("{} {:#x} {}", s.name, rva, s.flags));
        rva += vsize.div_ceil(0x1000).max(1) * 0x1000;
        spec.sections.push(ImageSectionSpec {
            name: s.name.clone(),
            read: s.flags.contains('r'),
            write: s.flags.contains('w'),
            execute: s.flags.contains('x'),
            shared: s.flags.contains('s'),
            data,
            virtual_size: size,
        });
    }
    let bytes = r.system()?.write_image(name, &spec).map_err(StmtError)?;
    Ok(format!(
        "PE32+ {name}, {bytes:#x} bytes, base {base:#x}, image {rva:#x}: headers 0x0 r, {}",
        layout.join(", ")
    ))
}

/// `process NAME … image "FILE"`: maps the executable into the new process; on failure the
/// process is ended again and the statement fails with the loader's error.
pub(super) fn map_executable(r: &mut Runner, pid: AsId, path: &str) -> Result<(), StmtError> {
    let sys = r.system()?;
    match sys.map_process_image(pid, path) {
        Ok(_) => Ok(()),
        Err(e) => {
            let _ = sys.exit_process(pid);
            Err(StmtError(format!(
                "the executable {path:?} cannot be mapped: {e}"
            )))
        }
    }
}
