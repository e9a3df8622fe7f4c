//! Containment of host-directory volumes: whatever links the volume directory holds (to files,
//! to directories, dangling, to `/`, in the last or in an earlier component), no host file
//! outside it is opened, created, read, written or deleted, and every operation through a link
//! fails with `ERROR_CANT_ACCESS_FILE` (a reparse point the volume does not handle:
//! `STATUS_IO_REPARSE_TAG_NOT_HANDLED`, DESIGN.md "Volumes").
#![cfg(unix)]
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

// The codes, spelled out so that this suite also builds against code that lacks their names.
const CANT_ACCESS: u32 = 1920; // ERROR_CANT_ACCESS_FILE
const RW: u32 = GENERIC_READ | GENERIC_WRITE;

/// Everything observable about a directory tree: per path, the kind, mode, size, times, inode
/// and contents (links are recorded, never followed).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let md = std::fs::symlink_metadata(&dir).unwrap();
        out.insert(
            dir.clone(),
            format!("dir {:o} {} {}", md.mode(), md.ino(), md.mtime_nsec()),
        );
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                stack.push(p);
            } else if md.file_type().is_symlink() {
                out.insert(
                    p.clone(),
                    format!("link {:?}", std::fs::read_link(&p).unwrap()),
                );
            } else {
                let data = std::fs::read(&p).unwrap();
                out.insert(
                    p.clone(),
                    format!(
                        "file {:o} {} {} {} {} {:?}",
                        md.mode(),
                        md.len(),
                        md.ino(),
                        md.mtime(),
                        md.mtime_nsec(),
                        data
                    ),
                );
            }
        }
    }
    out
}

/// A temp tree: `outside/` (a secret file and a directory) and `vol/`, whose entries are links
/// leading out. Returns (temp dir, outside, volume, names that go through a link).
fn planted() -> (tempfile::TempDir, PathBuf, PathBuf, Vec<String>) {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    let vol = t.path().join("vol");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("secret.txt"), b"secret").unwrap();
    std::fs::write(outside.join("dir/inner.txt"), b"inner").unwrap();
    std::fs::create_dir_all(vol.join("real")).unwrap();
    symlink(outside.join("secret.txt"), vol.join("flink.bin")).unwrap();
    symlink(&outside, vol.join("dlink")).unwrap();
    symlink(outside.join("nothere.bin"), vol.join("dangling.bin")).unwrap();
    symlink("/", vol.join("rootlink")).unwrap();
    symlink(outside.join("dir"), vol.join("real/sub")).unwrap();
    symlink("../../outside/secret.txt", vol.join("real/rel.bin")).unwrap();
    let abs = outside
        .strip_prefix("/")
        .unwrap()
        .to_str()
        .unwrap()
        .replace('/', "\\");
    let names = vec![
        "flink.bin".to_string(),
        "FLINK.BIN".to_string(),
        "dlink\\secret.txt".to_string(),
        "dlink\\made.bin".to_string(),
        "DLink\\dir\\inner.txt".to_string(),
        "dangling.bin".to_string(),
        format!("rootlink\\{abs}\\secret.txt"),
        format!("rootlink\\{abs}\\made.bin"),
        "real\\sub\\inner.txt".to_string(),
        "real\\sub\\made.bin".to_string(),
        "real\\rel.bin".to_string(),
    ];
    (t, outside, vol, names)
}

fn host_system(vol: &Path) -> System {
    System::new(SystemConfig {
        vmm: VmmConfig {
            frames: 64,
            ..VmmConfig::default()
        },
        volume: Volume::HostDirectory(vol.to_path_buf()),
    })
    .unwrap()
}

#[test]
fn links_in_the_volume_are_never_followed_by_any_call() {
    let (_t, outside, vol, names) = planted();
    let before = snapshot(&outside);
    let vol_before = snapshot(&vol);
    let s = host_system(&vol);
    let p = s.create_process(None, false).unwrap();
    for name in &names {
        for disposition in [
            CREATE_NEW,
            CREATE_ALWAYS,
            OPEN_EXISTING,
            OPEN_ALWAYS,
            TRUNCATE_EXISTING,
        ] {
            let r = s.create_file(p, name, RW, 7, false, disposition, 0);
            assert_eq!(
                err(&s, p, r),
                CANT_ACCESS,
                "CreateFile {name} {disposition}"
            );
        }
        assert_eq!(
            err(&s, p, s.delete_file(p, name)),
            CANT_ACCESS,
            "DeleteFile {name}"
        );
        assert_eq!(
            s.create_volume_file(name, b"evil").unwrap_err().0,
            CANT_ACCESS,
            "file directive {name}"
        );
        assert_eq!(
            s.read_disk(name).unwrap_err().0,
            CANT_ACCESS,
            "expect disk {name}"
        );
    }
    drop(s);
    assert_eq!(
        snapshot(&outside),
        before,
        "nothing outside the volume changed"
    );
    assert_eq!(snapshot(&vol), vol_before, "no directory was left behind");
}

/// The same refusals on the `O_NOFOLLOW`-per-component path (kernels without `openat2`) are
/// checked by the volume module's unit tests; here a link swapped in for a file after it was
/// opened: the open file keeps its own data, writes, views and shutdown never reach the link's
/// target, and deleting the name removes the link itself.
#[test]
fn a_link_swapped_in_after_open_leads_nowhere() {
    let (_t, outside, vol, _) = planted();
    let before = snapshot(&outside);
    let s = host_system(&vol);
    let p = s.create_process(None, false).unwrap();
    let h = s
        .create_file(p, "victim.bin", RW, 7, false, CREATE_NEW, 0)
        .unwrap();
    s.write_file(p, h, b"victim data").unwrap();
    // Replace the host file by a link to the secret.
    std::fs::remove_file(vol.join("victim.bin")).unwrap();
    symlink(outside.join("secret.txt"), vol.join("victim.bin")).unwrap();
    s.write_file(p, h, b" more").unwrap();
    s.flush_file_buffers(p, h).unwrap();
    let m = s
        .create_file_mapping(p, h, false, PAGE_READWRITE, 0, 0x2000, None)
        .unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"VIEW").unwrap();
    s.flush_view_of_file(p, v, 0).unwrap();
    s.unmap_view_of_file(p, v).unwrap();
    s.close_handle(p, m).unwrap();
    s.close_handle(p, h).unwrap();
    assert_eq!(s.read_disk("victim.bin").unwrap()[..4], *b"VIEW");
    s.delete_file(p, "victim.bin").unwrap();
    s.exit_process(p).unwrap();
    drop(s);
    assert!(std::fs::symlink_metadata(vol.join("victim.bin")).is_err());
    assert_eq!(snapshot(&outside), before);
}

/// The scenario language on a planted volume (`ntmm --volume DIR run`): every call through a
/// link fails with `ERROR_CANT_ACCESS_FILE` (checked by the scenario's own expectations), the
/// `file` directive and `expect disk` refuse it with that error, views of a real file and the
/// end of the run write nothing outside.
#[test]
fn scenarios_through_links_touch_nothing_outside() {
    let (t, outside, vol, names) = planted();
    let before = snapshot(&outside);
    let mut text = String::from("process A\n");
    for name in &names {
        let n = name.replace('\\', "\\\\");
        for d in [
            "CREATE_NEW",
            "CREATE_ALWAYS",
            "OPEN_EXISTING",
            "OPEN_ALWAYS",
            "TRUNCATE_EXISTING",
        ] {
            text += &format!(
                "expect CreateFile(\"{n}\", GENERIC_READ | GENERIC_WRITE, 0, NULL, {d}, FILE_ATTRIBUTE_NORMAL, NULL) == INVALID_HANDLE_VALUE, ERROR_CANT_ACCESS_FILE\n"
            );
        }
        text += &format!("expect DeleteFile(\"{n}\") == FALSE, ERROR_CANT_ACCESS_FILE\n");
    }
    text += "h = CreateFile(\"real\\\\ok.bin\", GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL)\n";
    text += "expect WriteFile(h, \"in the volume\", 13, &n, NULL) == TRUE\n";
    text += "m = CreateFileMapping(h, NULL, PAGE_READWRITE, 0, 0x2000, NULL)\n";
    text += "v = MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, 0)\n";
    text += "write(v + 0x1000, \"view\")\n";
    text += "expect SetFilePointer(h, 0, NULL, FILE_BEGIN) == 0\n";
    text += "expect ReadFile(h, &data, 13, &n, NULL) == TRUE\n";
    text += "expect data == \"in the volume\"\n";
    let ok_file = t.path().join("ok.ntm");
    std::fs::write(&ok_file, &text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ntmm"))
        .arg("--volume")
        .arg(&vol)
        .arg("run")
        .arg(&ok_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    for name in &names {
        let n = name.replace('\\', "\\\\");
        for stmt in [
            format!("process A\nfile \"{n}\" = \"evil\"\n"),
            format!("process A\nexpect disk \"{n}\" == \"secret\"\n"),
        ] {
            let f = t.path().join("bad.ntm");
            std::fs::write(&f, &stmt).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_ntmm"))
                .arg("--volume")
                .arg(&vol)
                .arg("run")
                .arg(&f)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(!out.status.success(), "{stmt}: {stdout}");
            assert!(
                stdout.contains("ERROR_CANT_ACCESS_FILE"),
                "{stmt}: {stdout}"
            );
        }
    }
    assert_eq!(snapshot(&outside), before);
    assert_eq!(
        std::fs::read(vol.join("real/ok.bin")).unwrap().len(),
        0x2000
    );
}

/// The volume's root may itself be reached through a link (the user chose it); links below it
/// are still refused.
#[test]
fn a_linked_volume_root_is_the_users_choice() {
    let (t, outside, vol, _) = planted();
    let before = snapshot(&outside);
    let alias = t.path().join("alias");
    symlink(&vol, &alias).unwrap();
    let s = host_system(&alias);
    let p = s.create_process(None, false).unwrap();
    let h = s
        .create_file(p, "through-alias.bin", RW, 0, false, CREATE_NEW, 0)
        .unwrap();
    s.write_file(p, h, b"ok").unwrap();
    s.flush_file_buffers(p, h).unwrap();
    assert_eq!(std::fs::read(vol.join("through-alias.bin")).unwrap(), b"ok");
    let r = s.create_file(p, "flink.bin", RW, 0, false, OPEN_EXISTING, 0);
    assert_eq!(err(&s, p, r), CANT_ACCESS);
    assert_eq!(snapshot(&outside), before);
}
