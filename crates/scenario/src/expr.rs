//! The arithmetic of expressions and the comparisons of `expect` (SCENARIO.md "Expressions
//! (reach)"): 64-bit two's-complement integers, wrapping; `/` and `%` unsigned; a shift count
//! taken modulo 64, as x64's shift instructions take it (C leaves a count ≥ 64 undefined; the
//! MSVC code for `x << n` gives this result); dividing by zero is a statement error.

use crate::ast::{BinOp, CmpOp};
use crate::error::StmtError;
use crate::value::Value;

/// `x op y`.
pub fn binary(op: BinOp, x: u64, y: u64) -> Result<u64, StmtError> {
    Ok(match op {
        BinOp::Or => x | y,
        BinOp::Xor => x ^ y,
        BinOp::And => x & y,
        BinOp::Shl => x.wrapping_shl((y & 63) as u32),
        BinOp::Shr => x.wrapping_shr((y & 63) as u32),
        BinOp::Add => x.wrapping_add(y),
        BinOp::Sub => x.wrapping_sub(y),
        BinOp::Mul => x.wrapping_mul(y),
        BinOp::Div | BinOp::Rem if y == 0 => {
            return Err(StmtError(format!(
                "division by zero ({x:#x} {} 0)",
                if op == BinOp::Div { "/" } else { "%" }
            )))
        }
        BinOp::Div => x / y,
        BinOp::Rem => x % y,
    })
}

/// Whether `actual op want` holds: `==`/`!=` by the language's equality ([`Value::same`]);
/// the ordered comparisons compare integers as unsigned 64-bit numbers, and anything else is a
/// statement error.
pub fn compare(op: CmpOp, actual: &Value, want: &Value) -> Result<bool, StmtError> {
    let ordered = |f: fn(&u64, &u64) -> bool| match (actual, want) {
        (Value::Int(a), Value::Int(b)) => Ok(f(a, b)),
        _ => Err(StmtError(format!(
            "`{}` compares integers, not {actual} and {want}",
            symbol(op)
        ))),
    };
    match op {
        CmpOp::Eq => Ok(actual.same(want)),
        CmpOp::Ne => Ok(!actual.same(want)),
        CmpOp::Lt => ordered(u64::lt),
        CmpOp::Le => ordered(u64::le),
        CmpOp::Gt => ordered(u64::gt),
        CmpOp::Ge => ordered(u64::ge),
    }
}

/// The comparison's symbol.
pub fn symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// How a failed expectation names what it wanted: `not X` for `!=`, `< X` for `<`, …
pub fn expected_prefix(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "",
        CmpOp::Ne => "not ",
        CmpOp::Lt => "< ",
        CmpOp::Le => "<= ",
        CmpOp::Gt => "> ",
        CmpOp::Ge => ">= ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_arithmetic_wraps_and_is_unsigned() {
        assert_eq!(binary(BinOp::Mul, u64::MAX, 2).unwrap(), u64::MAX - 1);
        assert_eq!(binary(BinOp::Div, u64::MAX, 2).unwrap(), u64::MAX / 2);
        assert_eq!(binary(BinOp::Rem, 0u64.wrapping_sub(1), 10).unwrap(), 5);
        assert_eq!(binary(BinOp::Shl, 1, 64).unwrap(), 1, "count modulo 64");
        assert_eq!(binary(BinOp::Shl, 1, 65).unwrap(), 2);
        assert_eq!(binary(BinOp::Shr, 1 << 63, 63).unwrap(), 1, "logical");
        assert_eq!(binary(BinOp::Xor, 0b1100, 0b1010).unwrap(), 0b0110);
        assert!(binary(BinOp::Div, 1, 0)
            .unwrap_err()
            .0
            .contains("division by zero"));
        assert!(binary(BinOp::Rem, 1, 0).is_err());
    }

    #[test]
    fn test_ordered_comparisons_are_unsigned_and_of_integers() {
        let (one, big) = (Value::Int(1), Value::Int(u64::MAX));
        assert!(compare(CmpOp::Lt, &one, &big).unwrap());
        assert!(!compare(CmpOp::Gt, &one, &big).unwrap());
        assert!(compare(CmpOp::Le, &one, &one).unwrap());
        assert!(compare(CmpOp::Ge, &big, &one).unwrap());
        assert!(compare(CmpOp::Lt, &Value::Bytes(b"a".to_vec()), &one).is_err());
        assert!(compare(CmpOp::Ne, &Value::Bytes(b"a".to_vec()), &one).unwrap());
    }
}
