//! `GetTempPath` and `GetTempFileName` (kernel32 path.c `test_InitPathA`; Microsoft Learn
//! `GetTempFileNameW`): the path and its length, the name's form, `unique` 0 making the file
//! with a deterministic number, non-zero only forming the name, and the errors.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

#[test]
fn test_get_temp_path_returns_the_length_or_the_size_needed() {
    let (s, p) = one();
    assert_eq!(
        s.get_temp_path(p, 260).unwrap(),
        TempPath::Copied(8, "C:\\Temp\\".into())
    );
    // path.c: a buffer one short (no room for the NUL) gives len + 1.
    assert_eq!(s.get_temp_path(p, 8).unwrap(), TempPath::TooSmall(9));
    assert_eq!(s.get_temp_path(p, 0).unwrap(), TempPath::TooSmall(9));
}

#[test]
fn test_unique_zero_creates_numbered_empty_files() {
    let (s, p) = one();
    let (n, name) = s.get_temp_file_name(p, TEMP_PATH, Some("path"), 0).unwrap();
    assert_eq!((n, name.as_str()), (1, "C:\\Temp\\pat0001.tmp"));
    // The file exists: CREATE_NEW of it fails (file.c test_CreateFileW), DeleteFile succeeds.
    assert_eq!(
        err(
            &s,
            p,
            s.create_file(p, &name, GENERIC_READ, 0, false, CREATE_NEW, 0)
        ),
        ERROR_FILE_EXISTS
    );
    // A name in use is skipped.
    s.create_volume_file("Temp\\pat0002.tmp", b"taken").unwrap();
    let (n, name2) = s
        .get_temp_file_name(p, "C:\\Temp", Some("path"), 0)
        .unwrap();
    assert_eq!((n, name2.as_str()), (3, "C:\\Temp\\pat0003.tmp"));
    s.delete_file(p, &name).unwrap();
    let (n, name) = s.get_temp_file_name(p, "C:\\Temp\\", None, 0).unwrap();
    assert_eq!((n, name.as_str()), (4, "C:\\Temp\\0004.tmp"));
}

#[test]
fn test_unique_nonzero_only_forms_the_name() {
    let (s, p) = one();
    let (n, name) = s
        .get_temp_file_name(p, "C:\\Temp\\", Some("abc"), 2)
        .unwrap();
    assert_eq!((n, name.as_str()), (2, "C:\\Temp\\abc0002.tmp"));
    assert_eq!(err(&s, p, s.delete_file(p, &name)), ERROR_FILE_NOT_FOUND);
    let (n, name) = s
        .get_temp_file_name(p, "C:\\", Some("x"), 0x1_BEEF)
        .unwrap();
    assert_eq!((n, name.as_str()), (0x1_BEEF, "C:\\xBEEF.tmp"));
}

#[test]
fn test_errors_of_get_temp_file_name() {
    let (s, p) = one();
    for unique in 0..3 {
        assert_eq!(
            err(
                &s,
                p,
                s.get_temp_file_name(p, "C:\\Temp\\missing_dir", Some("tfn"), unique)
            ),
            ERROR_DIRECTORY,
            "path.c: a nonexistent directory, unique {unique}"
        );
    }
    let long = format!("C:\\{}", "d".repeat(243));
    assert_eq!(
        err(&s, p, s.get_temp_file_name(p, &long, Some("x"), 1)),
        ERROR_BUFFER_OVERFLOW
    );
    // A directory holding a file exists.
    s.create_volume_file("work\\a.bin", b"").unwrap();
    s.get_temp_file_name(p, "C:\\work", Some("w"), 0).unwrap();
}

#[test]
fn test_the_scenario_calls() {
    let src = r#"
process A
expect GetTempPath(260, &dir) == 8
expect dir == "C:\\Temp\\"
expect GetTempFileName(dir, "PWK", 0, &name) == 1
expect name == "C:\\Temp\\PWK0001.tmp"
hf = CreateFile(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL)
expect GetFileSize(hf, NULL) == 0
expect GetTempFileName("C:\\nodir", "x", 1, &name) == 0, ERROR_DIRECTORY
"#;
    let r = ntmm::scenario::run_source("t.ntm", src, &Default::default());
    assert_eq!((r.passed, r.failed), (6, 0), "{}", r.output);
}
