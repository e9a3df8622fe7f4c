//! Win32 file names as `RtlDosPathNameToNtPathName_U` turns them into names on the volume, and
//! names compared as NTFS compares them (through its `$UpCase` table).
//!
//! The rules modelled (each checked against Wine's conformance tests of Windows, which record
//! what Windows returns; cited per rule below):
//! * A name ends at its first NUL, as the C string a program passes would.
//! * `\` and `/` both separate components; a leading `C:` (either case) or `\` is the volume's
//!   root; repeated separators collapse; `.` is dropped and `..` removes the component before
//!   it, never climbing above the root.
//! * Trailing dots and spaces: the final component loses all of them; any other component
//!   loses one trailing dot and keeps its spaces (Wine `dlls/ntdll/tests/path.c`,
//!   `test_RtlGetFullPathName_U`: `"c:/test  ....   ..   "` → `c:\test`, `"c:/test./file"` →
//!   `c:\test\file`, `"c:/test.. /file"` → `c:\test.. \file`; `test_RtlDosPathNameToNtPathName_U`:
//!   `"c:/foo . ."` → `\??\c:\foo`). A final component of only dots and spaces leaves a path
//!   that names a directory.
//! * Reserved DOS device names (`CON`, `PRN`, `AUX`, `NUL`, `COM1`–`COM9`, `LPT1`–`LPT9`, the
//!   superscript `COM¹²³`/`LPT¹²³`, `CONIN$`, `CONOUT$`) as the final component, in any
//!   directory, before an extension, trailing spaces or a colon (`test_RtlIsDosDeviceName_U`:
//!   `"c:\\…\\nul.txt"`, `"c:NUL  ....  "`, `"c:prn:aaa"` are devices; `"c:\\lpt0.txt"`,
//!   `"c:nul0"`, `"c:\\nul\\foo"` are not). This is the documented rule of Windows 10 and
//!   earlier (MS docs "Naming Files, Paths, and Namespaces": `NUL.txt` is equivalent to `NUL`);
//!   Windows 11 narrowed it (`nul.txt` is an ordinary file there). The model has no devices:
//!   the name resolves to `\??\NUL` etc., which does not exist, so the open fails with
//!   `STATUS_OBJECT_NAME_NOT_FOUND` → `ERROR_FILE_NOT_FOUND` for every disposition (as opening
//!   `COM1` does on a machine without a serial port).
//! * `\\?\` turns normalisation off: the rest (after an optional `C:\`) is split at `\` only,
//!   nothing is stripped, no device names apply (`"\\\\?\\foo. . "` → `\??\foo. . `); a `.` or
//!   `..` component or a `/` is then an invalid NT name (`test_nt_names`:
//!   `\??\C:\windows\system32\.\kernel32.dll` and `\??\C:\windows/system32/…` are
//!   `STATUS_OBJECT_NAME_INVALID`).
//! * Characters NTFS refuses in a name (`< > : " | ? *` and 1–31) are `ERROR_INVALID_NAME`.
//! * Lengths: a component of more than 255 UTF-16 units is `ERROR_INVALID_NAME` (NTFS's
//!   limit, `STATUS_OBJECT_NAME_INVALID`); without `\\?\`, a full path (`C:\` + the name) of
//!   `MAX_PATH` (260) UTF-16 units or more, counting its NUL, is `ERROR_PATH_NOT_FOUND`; with
//!   `\\?\`, more than 32767 units is `ERROR_FILENAME_EXCED_RANGE`. The references do not
//!   state these two errors; they are the model's choice (docs/SCENARIO.md).

use crate::system::{Fail, R};
use crate::win32::*;
use ntmm_vmm::NtStatus;

/// The longest component NTFS stores, in UTF-16 units.
pub const MAX_COMPONENT_UNITS: usize = 255;
/// `MAX_PATH`: the longest full Win32 path without `\\?\`, in UTF-16 units including its NUL.
pub const MAX_PATH: usize = 260;
/// The longest `\\?\` path, in UTF-16 units (a `UNICODE_STRING`'s limit).
pub const MAX_LONG_PATH: usize = 32767;

/// A file's name on the volume: its components below the root, with the case the program gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileName {
    components: Vec<String>,
}

/// NTFS's name comparison: each character through `$UpCase`, modelled as Unicode's simple
/// uppercase mapping where it is a single character of the Basic Multilingual Plane (NTFS
/// upcases UTF-16 units one by one, so a character outside it, or one whose uppercase is
/// several characters, such as `ß`, stays itself). So `data.bin` and `DATA.BIN` are one name,
/// while `k` (→ `K`) and the Kelvin sign U+212A (its own uppercase), or `ß` and `ss`, stay
/// apart.
pub fn upcase(name: &str) -> String {
    name.chars()
        .map(|c| {
            if u32::from(c) > 0xFFFF {
                return c;
            }
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) if u32::from(u) <= 0xFFFF => u,
                _ => c,
            }
        })
        .collect()
}

/// Whether `component` is a reserved DOS device name in the final position (see the module
/// docs).
pub fn is_dos_device(component: &str) -> bool {
    let base = component.split(['.', ':']).next().unwrap_or("");
    let base = base.trim_end_matches(' ');
    let upper = base.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let (Some(stem), Some(n)) = (upper.get(..3), upper.get(3..)) else {
                return false;
            };
            matches!(stem, "COM" | "LPT")
                && matches!(
                    n,
                    "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
                )
        }
    }
}

fn invalid_char(c: char) -> bool {
    matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') || (c as u32) < 32
}

impl FileName {
    /// The name of `path` (see the module docs for the rules and their errors).
    pub(crate) fn parse(path: &str) -> R<FileName> {
        // An embedded NUL ends the name, as it ends a C string.
        let path = path.split('\0').next().unwrap_or("");
        if let Some(rest) = path.strip_prefix("\\\\?\\") {
            return Self::parse_verbatim(rest);
        }
        let p = path.replace('/', "\\");
        let p = p
            .strip_prefix("C:")
            .or_else(|| p.strip_prefix("c:"))
            .unwrap_or(&p);
        let raw: Vec<&str> = p.split('\\').collect();
        let last = raw.len() - 1;
        let mut parts: Vec<String> = Vec::new();
        for (i, c) in raw.iter().enumerate() {
            let c: &str = match *c {
                c if c.chars().all(|x| x == '.') => c,
                c if i == last => c.trim_end_matches(['.', ' ']),
                c => c.strip_suffix('.').unwrap_or(c),
            };
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                c => parts.push(c.to_string()),
            }
        }
        // A path ending in a separator, `.`, `..` or a component of only dots and spaces
        // names a directory, not a file.
        let final_name = match raw[last] {
            "." | ".." => "",
            c => c.trim_end_matches(['.', ' ']),
        };
        let Some(file) = parts.last().filter(|_| !final_name.is_empty()) else {
            return Err(Fail::Win32(ERROR_PATH_NOT_FOUND));
        };
        if is_dos_device(file) {
            return Err(NtStatus::STATUS_OBJECT_NAME_NOT_FOUND.into());
        }
        if parts.iter().any(|c| c.chars().any(invalid_char)) {
            return Err(Fail::Win32(ERROR_INVALID_NAME));
        }
        let name = FileName { components: parts };
        name.check_component_lengths()?;
        if "C:\\".len() + name.display().encode_utf16().count() + 1 > MAX_PATH {
            return Err(Fail::Win32(ERROR_PATH_NOT_FOUND));
        }
        Ok(name)
    }

    /// A `\\?\` name: no normalisation.
    fn parse_verbatim(rest: &str) -> R<FileName> {
        if rest.encode_utf16().count() + 4 > MAX_LONG_PATH {
            return Err(Fail::Win32(ERROR_FILENAME_EXCED_RANGE));
        }
        let rest = rest
            .strip_prefix("C:\\")
            .or_else(|| rest.strip_prefix("c:\\"))
            .unwrap_or(rest);
        if rest.is_empty() || rest.ends_with('\\') {
            return Err(Fail::Win32(ERROR_PATH_NOT_FOUND));
        }
        let parts: Vec<String> = rest.split('\\').map(str::to_string).collect();
        if parts.iter().any(|c| {
            matches!(c.as_str(), "" | "." | "..")
                || c.chars().any(|ch| invalid_char(ch) || ch == '/')
        }) {
            return Err(NtStatus::STATUS_OBJECT_NAME_INVALID.into());
        }
        let name = FileName { components: parts };
        name.check_component_lengths()?;
        Ok(name)
    }

    fn check_component_lengths(&self) -> R<()> {
        if self
            .components
            .iter()
            .any(|c| c.encode_utf16().count() > MAX_COMPONENT_UNITS)
        {
            return Err(NtStatus::STATUS_OBJECT_NAME_INVALID.into());
        }
        Ok(())
    }

    /// The components, as the program spelled them.
    pub(crate) fn components(&self) -> &[String] {
        &self.components
    }

    /// The name as the program spelled it, components joined by `\`.
    pub(crate) fn display(&self) -> String {
        self.components.join("\\")
    }

    /// The directory key: the components folded by [`upcase`] and joined by `\`. Two names are
    /// the same file exactly when their keys are equal.
    pub(crate) fn key(&self) -> String {
        upcase(&self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> String {
        FileName::parse(p).unwrap().display()
    }
    fn err(p: &str) -> u32 {
        FileName::parse(p).unwrap_err().win32().0
    }

    #[test]
    fn test_trailing_dots_and_spaces_follow_rtl_get_full_path_name() {
        // Wine dlls/ntdll/tests/path.c, test_RtlGetFullPathName_U.
        assert_eq!(ok("c:/test     "), "test");
        assert_eq!(ok("c:/test."), "test");
        assert_eq!(ok("c:/test  ....   ..   "), "test");
        assert_eq!(ok("c:/test./file"), "test\\file");
        assert_eq!(ok("c:/test.. /file"), "test.. \\file");
        assert_eq!(ok("c:/test../file"), "test.\\file");
        // test_RtlDosPathNameToNtPathName_U.
        assert_eq!(ok("c:/foo . ."), "foo");
        assert_eq!(ok("c:/foo.a"), "foo.a");
        assert_eq!(ok("c:/foo a"), "foo a");
        // A final component of dots and spaces leaves a directory name.
        assert_eq!(err("c:/test/  ....   ..   "), ERROR_PATH_NOT_FOUND);
        assert_eq!(err("c:/test/.. "), ERROR_PATH_NOT_FOUND);
        assert_eq!(err("..."), ERROR_PATH_NOT_FOUND);
        assert_eq!(err(" "), ERROR_PATH_NOT_FOUND);
    }

    #[test]
    fn test_device_names_follow_rtl_is_dos_device_name() {
        // Wine dlls/ntdll/tests/path.c, test_RtlIsDosDeviceName_U and the \windows\nul,
        // C:\con\con rows of test_RtlGetFullPathName_U.
        for d in [
            "nul",
            "NUL",
            "c:prn     ",
            "c:prn.......",
            "c:NUL  ....  ",
            "c:nul . . ",
            "con",
            "CoM4",
            "lpt9",
            "a\\b\\nul.txt",
            "\\windows\\nul",
            "C:\\con\\con",
            "AUX",
            "COM1",
            "CONIN$",
            "conout$",
            "com¹",
            "LPT³.log",
        ] {
            assert_eq!(err(d), ERROR_FILE_NOT_FOUND, "{d}");
        }
        for f in [
            "c:\\lpt0.txt",
            "c:nul0",
            "c:\\nul\\foo",
            "PIPE",
            "CONERR$",
            "com10",
            "nulx",
        ] {
            assert!(FileName::parse(f).is_ok(), "{f}");
        }
        // \\?\ turns device names off.
        assert_eq!(ok("\\\\?\\C:\\nul"), "nul");
    }

    #[test]
    fn test_embedded_nul_ends_the_name() {
        assert_eq!(ok("abc.bin\0def"), "abc.bin");
        assert_eq!(ok("dir\\x\0\\..\\y"), "dir\\x");
        assert_eq!(err("\0abc"), ERROR_PATH_NOT_FOUND);
    }

    #[test]
    fn test_verbatim_names_are_not_normalised() {
        assert_eq!(ok("\\\\?\\C:\\foo. . "), "foo. . ");
        assert_eq!(ok("\\\\?\\foo\\bar"), "foo\\bar");
        for bad in [
            "\\\\?\\foo/bar",
            "\\\\?\\foo\\.\\x",
            "\\\\?\\foo\\..\\x",
            "\\\\?\\a\\\\b",
        ] {
            assert_eq!(err(bad), ERROR_INVALID_NAME, "{bad}");
        }
    }

    #[test]
    fn test_length_limits() {
        let c255 = "a".repeat(255);
        assert_eq!(ok(&c255), c255);
        assert_eq!(err(&"a".repeat(256)), ERROR_INVALID_NAME);
        // 255 UTF-16 units of a two-byte UTF-8 character are still one valid component.
        assert!(FileName::parse(&"é".repeat(255)).is_ok());
        assert_eq!(err(&"é".repeat(256)), ERROR_INVALID_NAME);
        // Multi-byte names never split inside a character (the device check).
        assert!(FileName::parse("éé").is_ok() && FileName::parse("cö").is_ok());
        // C:\ + 256 units + NUL = MAX_PATH fits; one more does not.
        let p = format!("{}\\{}", "b".repeat(100), "c".repeat(155));
        assert_eq!(ok(&p).len(), 256);
        let q = format!("{}\\{}", "b".repeat(100), "c".repeat(156));
        assert_eq!(err(&q), ERROR_PATH_NOT_FOUND);
        let long = format!("{}\\{}", "b".repeat(200), "c".repeat(200));
        assert_eq!(err(&long), ERROR_PATH_NOT_FOUND);
        assert_eq!(ok(&format!("\\\\?\\C:\\{long}")), long);
        let huge = format!("\\\\?\\{}", vec!["d".repeat(200); 170].join("\\"));
        assert_eq!(err(&huge), ERROR_FILENAME_EXCED_RANGE);
    }

    #[test]
    fn test_upcase_folds_as_ntfs_keeps_names_apart() {
        assert_eq!(upcase("Data.bin"), upcase("DATA.BIN"));
        assert_ne!(upcase("k"), upcase("\u{212A}"));
        assert_ne!(upcase("ß"), upcase("ss"));
        assert_eq!(upcase("é"), "É");
        assert_eq!(
            upcase("\u{10428}"),
            "\u{10428}",
            "outside the BMP: unchanged"
        );
    }
}
