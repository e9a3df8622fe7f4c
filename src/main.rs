//! The `ntmm` command line. For now: `ntmm demo` (the default) runs the narrated walkthrough of
//! nt_internals §5.4 on the machine layer.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("demo") => match ntmm::demo::run() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ntmm: demo failed: {e} ({})", e.status());
                ExitCode::FAILURE
            }
        },
        Some("help" | "--help" | "-h") => {
            println!("usage: ntmm [demo]\n\n  demo   run the narrated walkthrough (default)");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("ntmm: unknown command {other:?} (try `ntmm help`)");
            ExitCode::from(2)
        }
    }
}
