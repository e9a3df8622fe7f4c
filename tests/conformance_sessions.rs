//! Sessions and `SeCreateGlobalPrivilege` (SCENARIO.md, additions of 2026-11-30, "Sessions and
//! privileges"; Microsoft Learn "Kernel object namespaces" and `CreateFileMapping`'s remarks):
//! `Local\X` is the caller's session's object, `Global\X` the one of `\BaseNamedObjects`, and
//! creating a file mapping in the global namespace from a session other than 0 needs the
//! privilege, while opening an existing one does not.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

fn anon(s: &System, p: AsId, name: &str) -> Result<Handle, Win32Error> {
    s.create_file_mapping(
        p,
        Handle::INVALID,
        false,
        PAGE_READWRITE,
        0,
        0x1000,
        Some(name),
    )
}

#[test]
fn test_a_user_outside_session_0_cannot_create_a_global_mapping() {
    let s = sys();
    let u = s
        .create_process_with_token(None, false, Some(Token::user(1)))
        .unwrap();
    assert_eq!(err(&s, u, anon(&s, u, "Global\\X")), ERROR_ACCESS_DENIED);
    // Nothing was inserted: an administrator creates it afresh.
    let a = s.create_process(None, false).unwrap();
    anon(&s, a, "Global\\X").unwrap();
    assert_eq!(s.get_last_error(a), ERROR_SUCCESS);
    s.check_invariants().unwrap();
}

#[test]
fn test_opening_an_existing_global_mapping_needs_no_privilege() {
    let s = sys();
    let svc = s
        .create_process_with_token(None, false, Some(Token::user(0)))
        .unwrap();
    anon(&s, svc, "Global\\Shared").unwrap();
    let u = s
        .create_process_with_token(None, false, Some(Token::user(2)))
        .unwrap();
    s.open_file_mapping(u, FILE_MAP_READ, false, "Global\\Shared")
        .unwrap();
    // CreateFileMapping finds the name and returns the object: no new insertion, no check.
    anon(&s, u, "Global\\Shared").unwrap();
    assert_eq!(s.get_last_error(u), ERROR_ALREADY_EXISTS);
}

#[test]
fn test_session_0_and_administrators_may_create_global_mappings() {
    let s = sys();
    let svc = s
        .create_process_with_token(None, false, Some(Token::user(0)))
        .unwrap();
    anon(&s, svc, "Global\\A").unwrap();
    let admin = s
        .create_process_with_token(None, false, Some(Token::administrator(3)))
        .unwrap();
    anon(&s, admin, "Global\\B").unwrap();
}

#[test]
fn test_events_are_not_subject_to_the_privilege_rule() {
    let s = sys();
    let u = s
        .create_process_with_token(None, false, Some(Token::user(1)))
        .unwrap();
    s.create_event(u, false, true, false, Some("Global\\Ev"))
        .unwrap();
}

#[test]
fn test_local_names_are_per_session_and_session_0_local_is_global() {
    let s = sys();
    let one = s.create_process(None, false).unwrap();
    let two = s
        .create_process_with_token(None, false, Some(Token::administrator(2)))
        .unwrap();
    let zero = s
        .create_process_with_token(None, false, Some(Token::administrator(0)))
        .unwrap();
    anon(&s, one, "Local\\L").unwrap();
    assert_eq!(
        err(&s, two, s.open_file_mapping(two, FILE_MAP_READ, false, "L")),
        ERROR_FILE_NOT_FOUND
    );
    s.open_file_mapping(one, FILE_MAP_READ, false, "L").unwrap();
    anon(&s, zero, "Local\\Z").unwrap();
    s.open_file_mapping(two, FILE_MAP_READ, false, "Global\\Z")
        .unwrap();
    anon(&s, two, "Global\\G").unwrap();
    s.open_file_mapping(zero, FILE_MAP_READ, false, "G")
        .unwrap();
}

#[test]
fn test_a_child_takes_its_parents_token_unless_told() {
    let s = sys();
    let parent = s
        .create_process_with_token(None, false, Some(Token::user(2)))
        .unwrap();
    let child = s
        .create_process_with_token(Some(parent), false, None)
        .unwrap();
    assert_eq!(s.process_token(child).unwrap(), Token::user(2));
    let plain = s.create_process(None, false).unwrap();
    assert_eq!(s.process_token(plain).unwrap(), Token::administrator(1));
    assert_eq!(
        s.create_process_with_token(None, false, Some(Token::user(0x1_0000))),
        Err(Win32Error(ERROR_INVALID_PARAMETER))
    );
}

#[test]
fn test_the_scenario_words_session_and_user() {
    let src = r#"
process S session 0
hs = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Local\\Svc")
process U user
expect CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Global\\New") == NULL, ERROR_ACCESS_DENIED
expect OpenFileMapping(FILE_MAP_READ, FALSE, "Global\\Svc") != NULL
process A
expect CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Global\\New") != NULL, ERROR_SUCCESS
expect CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Mine") != NULL
process V from A session 2 user
expect OpenFileMapping(FILE_MAP_READ, FALSE, "Mine") == NULL, ERROR_FILE_NOT_FOUND
expect CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Global\\V") == NULL, ERROR_ACCESS_DENIED
"#;
    let r = ntmm::scenario::run_source("s.ntm", src, &Default::default());
    assert_eq!((r.passed, r.failed), (6, 0), "{}", r.output);
    let bad = ntmm::scenario::run_source("b.ntm", "process A session x\n", &Default::default());
    assert_eq!(bad.failed, 1, "{}", bad.output);
}
