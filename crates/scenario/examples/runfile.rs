//! Runs one scenario file with the library (a development aid).
fn main() {
    let path = std::env::args().nth(1).expect("usage: runfile FILE");
    let src = std::fs::read_to_string(&path).expect("readable file");
    let opts = ntmm_scenario::Options {
        trace: std::env::args().any(|a| a == "--trace"),
        ..Default::default()
    };
    let r = ntmm_scenario::run_source(&path, &src, &opts);
    print!("{}", r.output);
    println!("{}", ntmm_scenario::summary(r.passed, r.failed));
}
