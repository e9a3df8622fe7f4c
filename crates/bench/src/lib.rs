//! `ntmm bench`: fixed workloads run on ntmm (through the Win32 facade, as users call it) and,
//! interleaved in the same run, their equivalents on the host kernel (memfd and file mappings),
//! reporting for each side the 10th percentile, median and 90th percentile of the cost per
//! operation, and the ratio of the medians ntmm / host.
//!
//! Each workload takes `repetitions` samples; a sample times a batch of operations and divides
//! by the batch size. ntmm and host samples alternate, so drift of the machine (frequency, other
//! load) touches both sides alike. Set-up and tear-down are outside the timed region. The two
//! sides of a pairing do the same work: the same bytes, the same durability (a sync on both
//! sides or on neither), the same zeroing, the same address pattern; each ntmm sample checks
//! (with the fault counters, or the bytes returned) that the work it times really happened.
//!
//! `unsafe` is denied except in the host module, where the host side's bare loads and stores
//! on its own mappings are volatile pointer accesses (no per-access checks, as the hardware
//! does them; see `host.rs`).
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

/// The spread of one side's samples: the 10th percentile, the median and the 90th percentile
/// (nearest rank on the sorted samples; the median as [`median`] takes it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The 10th percentile.
    pub p10: f64,
    /// The median.
    pub median: f64,
    /// The 90th percentile.
    pub p90: f64,
}

impl Spread {
    /// The spread of `samples` (sorted in place); all NaN when there are none.
    pub fn of(samples: &mut [f64]) -> Spread {
        let m = median(samples);
        let rank = |q: f64| {
            if samples.is_empty() {
                f64::NAN
            } else {
                samples[((samples.len() - 1) as f64 * q).round() as usize]
            }
        };
        Spread {
            p10: rank(0.1),
            median: m,
            p90: rank(0.9),
        }
    }

    /// One figure for every percentile (a single measurement).
    pub fn single(v: f64) -> Spread {
        Spread {
            p10: v,
            median: v,
            p90: v,
        }
    }
}

/// One workload's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The workload's fixed name.
    pub name: &'static str,
    /// The unit of the figures (`ns/op`, `ns/MiB`, `stmt/s`, `bytes`).
    pub unit: &'static str,
    /// ntmm's spread.
    pub ntmm: Spread,
    /// The host's spread, where the workload has a host equivalent (and the host is unix).
    pub host: Option<Spread>,
    /// The ratio of medians: `ntmm / host` where there is a host figure; for a few rows without
    /// one, the ratio against another row that [`Row::ratio_of`] names.
    pub ratio: Option<f64>,
    /// What the ratio compares against: `host`, or a description naming another row.
    pub ratio_of: Option<&'static str>,
}

impl Row {
    /// A row whose ratio, if any, is `ntmm / host` of the medians.
    pub fn new(name: &'static str, unit: &'static str, ntmm: Spread, host: Option<Spread>) -> Row {
        let ratio = host
            .filter(|h| h.median > 0.0)
            .map(|h| ntmm.median / h.median);
        Row {
            name,
            unit,
            ntmm,
            host,
            ratio,
            ratio_of: ratio.map(|_| "host"),
        }
    }

    /// The row as one line of JSON: `{"name", "unit", "ntmm", "ntmm_p10", "ntmm_p90", "host",
    /// "host_p10", "host_p90" (the three null without a host figure), "ratio", "ratio_of"
    /// (null without a ratio)}`. `ntmm` and `host` are the medians.
    pub fn json(&self) -> String {
        serde_json::json!({
            "name": self.name,
            "unit": self.unit,
            "ntmm": round(self.ntmm.median),
            "ntmm_p10": round(self.ntmm.p10),
            "ntmm_p90": round(self.ntmm.p90),
            "host": self.host.map(|h| round(h.median)),
            "host_p10": self.host.map(|h| round(h.p10)),
            "host_p90": self.host.map(|h| round(h.p90)),
            "ratio": self.ratio.map(|r| (r * 1000.0).round() / 1000.0),
            "ratio_of": self.ratio_of,
        })
        .to_string()
    }
}

/// Rounded to 0.1, or to 0.01 below 10.
fn round(v: f64) -> f64 {
    if v.abs() < 10.0 {
        (v * 100.0).round() / 100.0
    } else {
        (v * 10.0).round() / 10.0
    }
}

/// The rows as an aligned text table: for each side its p10, median and p90, then the ratio of
/// the medians (and, when it is not against the host, what it is against).
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<30} {:>8} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>7}\n",
        "workload", "unit", "ntmm p10", "median", "p90", "host p10", "median", "p90", "ratio"
    );
    // Two decimals below 10 (the resident loads cost about a nanosecond), one above.
    let f = |v: f64| {
        if v.abs() < 10.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.1}")
        }
    };
    for r in rows {
        let host = r
            .host
            .map_or(["-".to_string(), "-".into(), "-".into()], |h| {
                [f(h.p10), f(h.median), f(h.p90)]
            });
        let ratio = r.ratio.map_or("-".to_string(), |x| format!("{x:.3}"));
        let of = match r.ratio_of {
            Some(o) if o != "host" => format!("  ({o})"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{:<30} {:>8} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>7}{of}\n",
            r.name,
            r.unit,
            f(r.ntmm.p10),
            f(r.ntmm.median),
            f(r.ntmm.p90),
            host[0],
            host[1],
            host[2],
            ratio
        ));
    }
    out
}

/// The median of samples (the mean of the middle two for an even count), sorting them.
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
    fn test_spread_takes_the_10th_and_90th_percentiles() {
        let mut v: Vec<f64> = (1..=11).rev().map(f64::from).collect();
        let s = Spread::of(&mut v);
        assert_eq!((s.p10, s.median, s.p90), (2.0, 6.0, 10.0));
        let s = Spread::of(&mut [5.0]);
        assert_eq!((s.p10, s.median, s.p90), (5.0, 5.0, 5.0));
        assert!(Spread::of(&mut []).p90.is_nan());
    }

    #[test]
    fn test_row_json_has_the_protocol_fields() {
        let r = Row::new(
            "x",
            "ns/op",
            Spread {
                p10: 4.0,
                median: 5.0,
                p90: 7.0,
            },
            Some(Spread {
                p10: 9.0,
                median: 10.0,
                p90: 12.0,
            }),
        );
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["name"], "x");
        assert_eq!(v["ratio"], 0.5);
        assert_eq!(v["ratio_of"], "host");
        assert_eq!(
            (v["ntmm_p10"].as_f64(), v["ntmm_p90"].as_f64()),
            (Some(4.0), Some(7.0))
        );
        assert_eq!(
            (v["host_p10"].as_f64(), v["host_p90"].as_f64()),
            (Some(9.0), Some(12.0))
        );
        let r = Row::new("x", "ns/op", Spread::single(5.0), None);
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert!(v["host"].is_null() && v["host_p10"].is_null() && v["ratio"].is_null());
        assert!(v["ratio_of"].is_null());
        assert!(table(&[r]).contains("x "));
    }
}
