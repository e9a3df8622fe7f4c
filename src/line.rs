//! Lines of repl input, read as bytes and bounded: whether a line is UTF-8 is the repl's
//! question, and a line longer than the limit is never held whole.

use std::io::BufRead;

/// The longest repl input line accepted (the scenario language's statement limit, 1 MiB); a
/// longer one is answered with an error and discarded without being held whole.
pub const MAX_LINE: usize = ntmm::scenario::limits::MAX_LINE_BYTES;

/// One line of repl input.
#[derive(Debug)]
pub enum Input {
    /// A line, without its `\n`.
    Line(Vec<u8>),
    /// A line longer than the limit: it was read to its end and discarded.
    TooLong,
    /// The end of the input.
    End,
    /// The line was cancelled as it was typed (Ctrl-C in the line editor).
    Cancelled,
}

/// Reads one line of at most `max` bytes as bytes (whether it is UTF-8 is the caller's
/// question); the rest of a longer line is read and discarded, never buffered.
pub fn read_line(r: &mut impl BufRead, max: usize) -> std::io::Result<Input> {
    let mut line = Vec::new();
    let (mut any, mut too_long) = (false, false);
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        any = true;
        let newline = buf.iter().position(|&b| b == b'\n');
        let chunk = &buf[..newline.unwrap_or(buf.len())];
        if !too_long && line.len() + chunk.len() > max {
            too_long = true;
            line = Vec::new();
        }
        if !too_long {
            line.extend_from_slice(chunk);
        }
        let used = newline.map_or(buf.len(), |i| i + 1);
        r.consume(used);
        if newline.is_some() {
            break;
        }
    }
    Ok(match (any, too_long) {
        (false, _) => Input::End,
        (true, true) => Input::TooLong,
        (true, false) => Input::Line(line),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Option<Vec<u8>>> {
        let mut r = std::io::BufReader::with_capacity(4, input);
        let mut v = Vec::new();
        loop {
            match read_line(&mut r, max).unwrap() {
                Input::Line(l) => v.push(Some(l)),
                Input::TooLong => v.push(None),
                Input::End => return v,
                Input::Cancelled => unreachable!("the plain reader never cancels"),
            }
        }
    }

    #[test]
    fn test_lines_are_bytes_without_their_newline() {
        assert_eq!(
            lines(b"ab\n\xff\xfe\n\nlast", 8),
            vec![
                Some(b"ab".to_vec()),
                Some(vec![0xff, 0xfe]),
                Some(vec![]),
                Some(b"last".to_vec())
            ]
        );
        assert!(lines(b"", 8).is_empty());
    }

    #[test]
    fn test_a_line_past_the_limit_is_discarded_and_the_next_one_read() {
        let mut input = vec![b'x'; 100];
        input.extend(b"\nok\n12345678\n123456789\n");
        assert_eq!(
            lines(&input, 8),
            vec![None, Some(b"ok".to_vec()), Some(b"12345678".to_vec()), None]
        );
    }
}
