//! Runtime values and their display.

use std::fmt;

/// A value of the scenario language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A 64-bit integer (two's complement, wrapping).
    Int(u64),
    /// A string: its bytes (the UTF-8 of its characters; `\xHH` is the byte HH). As a name or
    /// path it must be valid UTF-8 text.
    Str(Vec<u8>),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A record (`MEMORY_BASIC_INFORMATION`, `SYSTEM_INFO`).
    Record(Vec<(&'static str, u64)>),
    /// `INHERITABLE` security attributes.
    Inheritable,
    /// No value (a function returning `void`).
    Unit,
}

impl Value {
    /// The value as bytes, if it is data.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(b) | Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// SCENARIO.md: a byte string equals a string with the same bytes; an integer never equals a
    /// byte string.
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (a, b) if a.as_bytes().is_some() && b.as_bytes().is_some() => {
                a.as_bytes() == b.as_bytes()
            }
            (a, b) => a == b,
        }
    }
}

fn printable(b: &[u8]) -> bool {
    b.iter()
        .all(|c| (0x20..0x7F).contains(c) || *c == b'\n' || *c == b'\t')
}

/// A value displayed whole, however long (`--full-values`); [`Value`]'s own `Display`
/// abbreviates long byte strings (`crate::limits::show`).
#[derive(Clone, Copy, Debug)]
pub struct Whole<'a>(pub &'a Value);

impl fmt::Display for Value {
    /// Short values whole, long byte strings and strings as their length and a prefix
    /// (`crate::limits`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::limits::show(self, false))
    }
}

impl fmt::Display for Whole<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Int(v) if *v < 10 => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v:#x}"),
            Value::Str(s) => match std::str::from_utf8(s) {
                Ok(text) => write!(f, "{text:?}"),
                // Bytes that are not text show as the byte string they equal.
                Err(_) => write!(f, "{}", Value::Bytes(s.clone())),
            },
            Value::Bytes(b) if printable(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Value::Bytes(b) => {
                write!(f, "hex\"")?;
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{x:02x}")?;
                }
                write!(f, "\"")
            }
            Value::Record(fields) => {
                write!(f, "{{")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {:#x}", v)?;
                }
                write!(f, "}}")
            }
            Value::Inheritable => write!(f, "INHERITABLE"),
            Value::Unit => write!(f, "(no value)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_equality_rules() {
        assert!(Value::Str(b"abc".to_vec()).same(&Value::Bytes(b"abc".to_vec())));
        assert!(Value::Str(vec![0xff]).same(&Value::Bytes(vec![0xff])));
        assert!(!Value::Str(vec![0xe9]).same(&Value::Str("é".into())));
        assert!(!Value::Int(0x61).same(&Value::Bytes(b"a".to_vec())));
        assert!(!Value::Int(1).same(&Value::Int(2)));
    }

    #[test]
    fn test_display() {
        assert_eq!(Value::Int(7).to_string(), "7");
        assert_eq!(Value::Int(0x1000).to_string(), "0x1000");
        assert_eq!(Value::Bytes(vec![0, 0xff]).to_string(), "hex\"00 ff\"");
        assert_eq!(Value::Bytes(b"hi".to_vec()).to_string(), "\"hi\"");
        assert_eq!(Value::Str("é\n".into()).to_string(), "\"é\\n\"");
        assert_eq!(Value::Str(vec![0xff]).to_string(), "hex\"ff\"");
    }
}
