//! Tokens of a scenario line.

use crate::error::ParseError;

/// A token with its 1-based column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// 1-based column in the (joined) line.
    pub col: usize,
}

/// Token kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An identifier (`flush-modified` is lexed as one).
    Ident(String),
    /// An integer literal.
    Int(u64),
    /// A string literal (escapes resolved): its bytes — the UTF-8 of its characters, and the
    /// byte `HH` for each `\xHH`.
    Str(Vec<u8>),
    /// `hex"…"`.
    Bytes(Vec<u8>),
    /// Punctuation: `( ) , = == != | ^ & << >> + - * / % ~ . < <= > >=`.
    Punct(&'static str),
}

fn err(line: usize, col: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        col,
        message: message.into(),
    }
}

fn parse_int(digits: &str, line: usize, col: usize) -> Result<u64, ParseError> {
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let r = if let Some(h) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16)
    } else {
        clean.parse::<u64>()
    };
    r.map_err(|_| err(line, col, format!("bad integer {digits:?}")))
}

/// Splits one logical line (comment already removed) into tokens.
pub fn lex(text: &str, line: usize) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == 'h'
            && chars.get(i + 1) == Some(&'e')
            && chars.get(i + 2) == Some(&'x')
            && chars.get(i + 3) == Some(&'"')
        {
            let mut j = i + 4;
            let mut digits = String::new();
            while j < chars.len() && chars[j] != '"' {
                if !chars[j].is_whitespace() {
                    digits.push(chars[j]);
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(err(line, col, "unterminated hex string"));
            }
            if digits.len() % 2 != 0 || !digits.chars().all(|d| d.is_ascii_hexdigit()) {
                return Err(err(line, col, "hex string needs pairs of hex digits"));
            }
            let bytes = (0..digits.len())
                .step_by(2)
                .map(|k| u8::from_str_radix(&digits[k..k + 2], 16).unwrap_or(0))
                .collect();
            out.push(Token {
                kind: Tok::Bytes(bytes),
                col,
            });
            i = j + 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            // The one directive whose name has a dash.
            let rest: String = chars[i..].iter().take(14).collect();
            if rest == "flush-modified"
                && chars
                    .get(i + 14)
                    .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != '_')
            {
                j = i + 14;
            }
            out.push(Token {
                kind: Tok::Ident(chars[i..j].iter().collect()),
                col,
            });
            i = j;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let text: String = chars[i..j].iter().collect();
            out.push(Token {
                kind: Tok::Int(parse_int(&text, line, col)?),
                col,
            });
            i = j;
            continue;
        }
        if c == '"' {
            let mut j = i + 1;
            let mut s = Vec::new();
            loop {
                let Some(&d) = chars.get(j) else {
                    return Err(err(line, col, "unterminated string"));
                };
                j += 1;
                match d {
                    '"' => break,
                    '\\' => {
                        let Some(&e) = chars.get(j) else {
                            return Err(err(line, j, "unterminated escape"));
                        };
                        j += 1;
                        match e {
                            '\\' => s.push(b'\\'),
                            '"' => s.push(b'"'),
                            'n' => s.push(b'\n'),
                            't' => s.push(b'\t'),
                            '0' => s.push(0),
                            'x' => {
                                let hex: String = chars
                                    .get(j..j + 2)
                                    .map(|h| h.iter().collect())
                                    .unwrap_or_default();
                                let v = u8::from_str_radix(&hex, 16)
                                    .map_err(|_| err(line, j, "\\x needs two hex digits"))?;
                                // The byte itself, not the UTF-8 of the character U+00HH.
                                s.push(v);
                                j += 2;
                            }
                            other => {
                                return Err(err(line, j - 1, format!("unknown escape \\{other}")))
                            }
                        }
                    }
                    other => s.extend_from_slice(other.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
            out.push(Token {
                kind: Tok::Str(s),
                col,
            });
            i = j;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let p: &'static str = match two.as_str() {
            "==" => "==",
            "!=" => "!=",
            "<<" => "<<",
            ">>" => ">>",
            "<=" => "<=",
            ">=" => ">=",
            _ => match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '=' => "=",
                '|' => "|",
                '&' => "&",
                '+' => "+",
                '-' => "-",
                '.' => ".",
                '>' => ">",
                '<' => "<",
                '^' => "^",
                '*' => "*",
                '/' => "/",
                '%' => "%",
                '~' => "~",
                other => return Err(err(line, col, format!("unexpected character {other:?}"))),
            },
        };
        out.push(Token {
            kind: Tok::Punct(p),
            col,
        });
        i += p.len();
    }
    Ok(out)
}

/// Removes a `#` comment (outside string literals) from a physical line.
pub fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '#' {
            return &line[..i];
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_literals_and_escapes() {
        let t = lex(r#"x = 0x1_0000 + 42 "a\\b\"c\n\x41" hex"de ad" -1"#, 1).unwrap();
        let kinds: Vec<Tok> = t.into_iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Ident("x".into()),
                Tok::Punct("="),
                Tok::Int(0x10000),
                Tok::Punct("+"),
                Tok::Int(42),
                Tok::Str(b"a\\b\"c\nA".to_vec()),
                Tok::Bytes(vec![0xde, 0xad]),
                Tok::Punct("-"),
                Tok::Int(1),
            ]
        );
    }

    /// `\xHH` is the byte HH (not the UTF-8 of U+00HH); other characters are their UTF-8.
    #[test]
    fn test_hex_escape_is_one_byte() {
        let t = lex(r#""\xff" "\xe9" "é""#, 1).unwrap();
        let kinds: Vec<Tok> = t.into_iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Str(vec![0xff]),
                Tok::Str(vec![0xe9]),
                Tok::Str(vec![0xc3, 0xa9]),
            ]
        );
    }

    #[test]
    fn test_comments_respect_strings() {
        assert_eq!(
            strip_comment(r#"write(p, "a#b") # note"#),
            r#"write(p, "a#b") "#
        );
        assert_eq!(strip_comment(r##"x = "\"#" # c"##), r##"x = "\"#" "##);
    }

    #[test]
    fn test_errors_carry_columns() {
        assert_eq!(lex("x = \"open", 3).unwrap_err().col, 5);
        assert_eq!(lex("x = 0xZZ", 1).unwrap_err().col, 5);
        assert_eq!(lex("x @ 1", 1).unwrap_err().col, 3);
        assert!(lex(r#"hex"abc""#, 1).is_err());
    }

    /// SCENARIO.md "Expressions (reach)": the new operators are tokens; two-character ones are
    /// one token.
    #[test]
    fn test_reach_operators() {
        let t = lex("a*b/c%d^e<<f>>g ~h < i <= j > k >= l", 1).unwrap();
        let puncts: Vec<Tok> = t
            .into_iter()
            .map(|t| t.kind)
            .filter(|k| matches!(k, Tok::Punct(_)))
            .collect();
        let want = ["*", "/", "%", "^", "<<", ">>", "~", "<", "<=", ">", ">="];
        assert_eq!(puncts, want.map(Tok::Punct).to_vec());
    }

    #[test]
    fn test_flush_modified_is_one_identifier() {
        let t = lex("flush-modified", 1).unwrap();
        assert_eq!(t[0].kind, Tok::Ident("flush-modified".into()));
        assert_eq!(
            lex("p-1", 1).unwrap().len(),
            3,
            "a subtraction, not a directive name"
        );
        assert_eq!(lex("p-q", 1).unwrap().len(), 3);
        assert_eq!(lex("flush-x", 1).unwrap().len(), 3);
    }
}
