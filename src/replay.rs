//! `ntmm replay FILE -o PAGE.html` and `ntmm demo --html PAGE.html`: a scenario as a
//! self-contained step-through page (`ntmm::scenario::replay`).

use ntmm::scenario::replay::Replay;
use ntmm::scenario::Options;
use std::path::Path;
use std::process::ExitCode;

/// Records `source` (named `name`) step by step and writes its page to `out`.
pub fn write_page(name: &str, source: &str, opts: &Options, out: &Path) -> Result<usize, String> {
    let replay = Replay::record(name, source, opts).map_err(|e| format!("{name}: {e}"))?;
    std::fs::write(out, replay.html())
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(replay.steps.len())
}

/// `ntmm replay`.
pub fn command(file: &Path, out: &Path, opts: &Options) -> ExitCode {
    let src = match ntmm::scenario::limits::read_source(file) {
        Ok(s) => s,
        Err(e) => {
            errln!("ntmm: {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    // The page is titled by the file's name (not the path it was given).
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match write_page(&name, &src, opts, out) {
        Ok(steps) => {
            outln!("{steps} steps written to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("ntmm: {e}");
            ExitCode::FAILURE
        }
    }
}
