//! `ntmm bench`: fixed workloads run on ntmm (through the Win32 facade, as users call it) and,
//! interleaved in the same run, their equivalents on the host kernel (memfd and file mappings),
//! reporting the median cost per operation and the ratio ntmm / host.
//!
//! Each workload takes `repetitions` samples; a sample times a batch of operations and divides
//! by the batch size. ntmm and host samples alternate, so drift of the machine (frequency, other
//! load) touches both sides alike. Set-up and tear-down are outside the timed region.
#![deny(unsafe_code)]

pub mod fixture;
mod host;
mod workloads;

pub use workloads::run;

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Fewer repetitions and smaller batches (a smoke run, for tests and CI).
    pub quick: bool,
    /// Only the workloads whose row names start with this (all when `None`).
    pub only: Option<String>,
    /// Net bytes allocated so far on the heap (from a counting global allocator, which only a
    /// binary can install). With it, the metadata rows are measured; without it, omitted.
    pub heap_bytes: Option<fn() -> i64>,
}

/// One workload's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The workload's fixed name.
    pub name: &'static str,
    /// The unit of the medians (`ns/op`, `ns/MiB`, `bytes`).
    pub unit: &'static str,
    /// ntmm's median.
    pub ntmm: f64,
    /// The host's median, where the workload has a host equivalent (and the host is unix).
    pub host: Option<f64>,
}

impl Row {
    /// `ntmm / host`, where there is a host figure.
    pub fn ratio(&self) -> Option<f64> {
        self.host.filter(|h| *h > 0.0).map(|h| self.ntmm / h)
    }

    /// The row as one line of JSON:
    /// `{"name", "unit", "ntmm", "host" (or null), "ratio" (or null)}`.
    pub fn json(&self) -> String {
        serde_json::json!({
            "name": self.name,
            "unit": self.unit,
            "ntmm": round(self.ntmm),
            "host": self.host.map(round),
            "ratio": self.ratio().map(|r| (r * 1000.0).round() / 1000.0),
        })
        .to_string()
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The rows as an aligned text table.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<34} {:>7} {:>14} {:>14} {:>9}\n",
        "workload", "unit", "ntmm", "host", "ratio"
    );
    for r in rows {
        let host = r.host.map_or("-".to_string(), |h| format!("{h:.1}"));
        let ratio = r.ratio().map_or("-".to_string(), |x| format!("{x:.3}"));
        out.push_str(&format!(
            "{:<34} {:>7} {:>14.1} {:>14} {:>9}\n",
            r.name, r.unit, r.ntmm, host, ratio
        ));
    }
    out
}

/// The median of samples (the mean of the middle two for an even count).
pub fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_median_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn test_row_json_has_the_protocol_fields() {
        let r = Row {
            name: "x",
            unit: "ns/op",
            ntmm: 5.0,
            host: Some(10.0),
        };
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["name"], "x");
        assert_eq!(v["ratio"], 0.5);
        let r = Row { host: None, ..r };
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert!(v["host"].is_null() && v["ratio"].is_null());
    }
}
