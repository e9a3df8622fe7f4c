//! A statement's value in the JSON protocol's typed fields (docs/JSON.md): `value` an integer
//! (a string of hex digits above 2^53, which a JSON number may not hold exactly in every
//! reader), `bytes` the bytes of a byte or string value as hex.

use crate::runner::Outcome;
use crate::value::Value;
use serde_json::Value as Json;

/// The largest integer every JSON reader holds exactly (2^53).
pub const EXACT: u64 = 1 << 53;

/// An integer as a JSON number, or as a `"0x…"` string above [`EXACT`].
pub fn integer(v: u64) -> Json {
    if v <= EXACT {
        Json::from(v)
    } else {
        Json::from(format!("{v:#x}"))
    }
}

/// The `value` and `bytes` fields of a statement's outcome: `value` for an integer result,
/// `bytes` (lower-case hex, two digits a byte) for a byte or string result. A value longer
/// than 64 bytes is given only with `full` (`--full-values`); otherwise `bytes` is null and
/// the statement's `result` shows its length and first bytes, as the transcript does.
pub fn typed(outcome: Option<&Outcome>, full: bool) -> (Json, Json) {
    match outcome.map(|o| &o.value) {
        Some(Value::Int(v)) => (integer(*v), Json::Null),
        Some(Value::Str(b) | Value::Bytes(b)) => {
            if !full && b.len() > 64 {
                return (Json::Null, Json::Null);
            }
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            (Json::Null, Json::from(hex))
        }
        _ => (Json::Null, Json::Null),
    }
}
