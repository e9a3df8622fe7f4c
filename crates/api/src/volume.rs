//! A host-directory volume: files kept as real files under a directory of the host, and the one
//! place where ntmm touches host paths.
//!
//! Containment: the volume keeps a directory descriptor of its root and resolves every name
//! beneath it, one component at a time, never through a symbolic link and never by a joined
//! path string. Each component is opened with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)` relative to its parent's descriptor, or, where the
//! kernel has no `openat2` (`ENOSYS`), with `openat(O_NOFOLLOW)` (plus `O_DIRECTORY` for a
//! directory) followed by a check that it lies on the root's file system. Before anything is
//! opened, the entry is examined without following it (`fstatat(AT_SYMLINK_NOFOLLOW)`).
//!
//! So no host path outside the directory is ever opened, created, read, written, renamed or
//! deleted, whatever the directory contains. A symbolic link (or a FIFO, socket, device node or
//! another mount) met on the way is to the volume a reparse point it does not handle: the
//! operation fails with `STATUS_IO_REPARSE_TAG_NOT_HANDLED` → `ERROR_CANT_ACCESS_FILE`.
//!
//! Names: a component is found by listing its directory and comparing names folded as NTFS
//! folds them ([`upcase`]), so `Data.BIN` made outside ntmm is found as `data.bin`, and a new
//! file or directory gets the case the program gave. Host names that are not UTF-8 are not
//! seen. Where the host directory (case-sensitive) holds several names that fold alike, the one
//! spelled exactly as asked wins, else the least in byte order; the others stay unreachable
//! under that name (deterministic: never the order of the directory listing).

use crate::dos_path::{upcase, FileName};
use crate::system::{Fail, R};
use crate::win32::*;
use ntmm_vmm::NtStatus;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The opened host directory of a volume configuration (`None` for a memory volume).
pub(crate) fn open_volume(v: &crate::system::Volume) -> Result<Option<HostVolume>, Win32Error> {
    match v {
        crate::system::Volume::Memory => Ok(None),
        crate::system::Volume::HostDirectory(dir) => HostVolume::open(dir).map(Some),
    }
}

/// A file's components as they are spelled in the host directory.
pub(crate) type HostName = Vec<String>;

/// How a host error reads to the program.
#[cfg(unix)]
fn host_error(e: rustix::io::Errno) -> Fail {
    use rustix::io::Errno;
    match e {
        Errno::LOOP | Errno::XDEV | Errno::MLINK => {
            NtStatus::STATUS_IO_REPARSE_TAG_NOT_HANDLED.into()
        }
        Errno::NOENT => NtStatus::STATUS_OBJECT_NAME_NOT_FOUND.into(),
        Errno::NOTDIR => NtStatus::STATUS_OBJECT_PATH_NOT_FOUND.into(),
        Errno::ACCESS | Errno::PERM | Errno::ROFS | Errno::TXTBSY => {
            NtStatus::STATUS_ACCESS_DENIED.into()
        }
        Errno::ISDIR => NtStatus::STATUS_FILE_IS_A_DIRECTORY.into(),
        // A component of 255 UTF-16 units or fewer can still be more than the host's 255
        // bytes of UTF-8: the host refuses the name as NTFS refuses a longer one.
        Errno::NAMETOOLONG => NtStatus::STATUS_OBJECT_NAME_INVALID.into(),
        Errno::NOSPC | Errno::DQUOT | Errno::FBIG => NtStatus::STATUS_DISK_FULL.into(),
        Errno::EXIST => Fail::Win32(ERROR_FILE_EXISTS),
        _ => NtStatus::STATUS_UNEXPECTED_IO_ERROR.into(),
    }
}

#[cfg(unix)]
fn io_error(e: std::io::Error) -> Fail {
    host_error(rustix::io::Errno::from_io_error(&e).unwrap_or(rustix::io::Errno::IO))
}

fn reparse() -> Fail {
    NtStatus::STATUS_IO_REPARSE_TAG_NOT_HANDLED.into()
}

#[cfg(unix)]
pub(crate) use unix::HostVolume;

#[cfg(unix)]
mod unix {
    use super::*;
    use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
    use rustix::fs::{self, AtFlags, FileType, Mode, OFlags};
    use rustix::io::Errno;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A host directory serving as the volume (see the module docs).
    #[derive(Debug)]
    pub(crate) struct HostVolume {
        root: OwnedFd,
        dev: u64,
        dir: PathBuf,
        /// Whether `openat2` is used (cleared when the kernel lacks it).
        openat2: AtomicBool,
    }

    /// A directory opened on the way down, and whether this walk created it.
    struct Level {
        fd: OwnedFd,
        name: String,
        created: bool,
    }

    impl HostVolume {
        /// Opens (creating it and its parents if needed) the directory `dir` as a volume. The
        /// root itself is the user's choice and may be reached through links; nothing below it
        /// is.
        pub(crate) fn open(dir: &Path) -> Result<Self, Win32Error> {
            std::fs::create_dir_all(dir).map_err(|_| Win32Error(ERROR_PATH_NOT_FOUND))?;
            let root = fs::open(
                dir,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|_| Win32Error(ERROR_PATH_NOT_FOUND))?;
            let dev = fs::fstat(&root)
                .map_err(|_| Win32Error(ERROR_PATH_NOT_FOUND))?
                .st_dev;
            Ok(HostVolume {
                root,
                dev: dev as u64,
                dir: dir.to_path_buf(),
                openat2: AtomicBool::new(true),
            })
        }

        /// Makes every later open take the `O_NOFOLLOW` path, as on a kernel without
        /// `openat2` (tests of that path).
        #[cfg(test)]
        pub(crate) fn without_openat2(self) -> Self {
            self.openat2.store(false, Ordering::Relaxed);
            self
        }

        /// The host path of a file, for display only (never used to reach the file).
        pub(crate) fn display_path(&self, host: &HostName) -> PathBuf {
            let mut p = self.dir.clone();
            p.extend(host);
            p
        }

        /// Opens the single component `name` beneath the directory `dir`, never following a
        /// link and never leaving the root's file system.
        fn open_beneath(
            &self,
            dir: BorrowedFd<'_>,
            name: &str,
            flags: OFlags,
            mode: Mode,
        ) -> Result<OwnedFd, Errno> {
            // Names reaching here are single components; refuse anything else outright.
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
                return Err(Errno::INVAL);
            }
            let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY;
            let fd = loop {
                #[cfg(target_os = "linux")]
                if self.openat2.load(Ordering::Relaxed) {
                    use rustix::fs::ResolveFlags;
                    let resolve = ResolveFlags::BENEATH
                        | ResolveFlags::NO_SYMLINKS
                        | ResolveFlags::NO_MAGICLINKS
                        | ResolveFlags::NO_XDEV;
                    match fs::openat2(dir, name, flags, mode, resolve) {
                        Err(Errno::NOSYS) => {
                            self.openat2.store(false, Ordering::Relaxed);
                            continue;
                        }
                        // openat2 refuses to follow a link with ELOOP and to cross a mount
                        // with EXDEV: both are reparse points to the volume.
                        r => break r?,
                    }
                }
                break fs::openat(dir, name, flags, mode)?;
            };
            let st = fs::fstat(&fd)?;
            if st.st_dev as u64 != self.dev {
                return Err(Errno::XDEV);
            }
            Ok(fd)
        }

        /// The entry of `dir` whose name folds like `want` (see the module docs for names that
        /// fold alike), with its type as it is (links not followed).
        fn lookup_in(&self, dir: BorrowedFd<'_>, want: &str) -> R<Option<(String, FileType)>> {
            let folded = upcase(want);
            let mut found: Option<String> = None;
            let mut listing = fs::Dir::read_from(dir).map_err(host_error)?;
            while let Some(entry) = listing.read() {
                let entry = entry.map_err(host_error)?;
                let Ok(name) = entry.file_name().to_str() else {
                    continue;
                };
                if name == "." || name == ".." || upcase(name) != folded {
                    continue;
                }
                let better = match &found {
                    None => true,
                    Some(f) => f != want && (name == want || name < f.as_str()),
                };
                if better {
                    found = Some(name.to_string());
                }
            }
            let Some(name) = found else {
                return Ok(None);
            };
            let st = match fs::statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) => return Ok(None),
                Err(e) => return Err(host_error(e)),
            };
            Ok(Some((name, FileType::from_raw_mode(st.st_mode))))
        }

        /// Opens the directory `name` found in `dir`; a link or any other kind of entry is a
        /// reparse point, a file where a directory should be is a path not found.
        fn enter(&self, dir: BorrowedFd<'_>, name: &str, kind: FileType) -> R<OwnedFd> {
            match kind {
                FileType::Directory => self
                    .open_beneath(dir, name, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
                    .map_err(host_error),
                FileType::RegularFile => Err(NtStatus::STATUS_OBJECT_PATH_NOT_FOUND.into()),
                _ => Err(reparse()),
            }
        }

        /// Opens the regular file `name` of `dir` read-write (with `extra` flags).
        fn open_file_in(
            &self,
            dir: BorrowedFd<'_>,
            name: &str,
            extra: OFlags,
            mode: Mode,
        ) -> R<File> {
            let fd = self
                .open_beneath(dir, name, OFlags::RDWR | OFlags::NONBLOCK | extra, mode)
                .map_err(host_error)?;
            let st = fs::fstat(&fd).map_err(host_error)?;
            match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => Ok(File::from(fd)),
                FileType::Directory => Err(NtStatus::STATUS_FILE_IS_A_DIRECTORY.into()),
                _ => Err(reparse()),
            }
        }

        /// The existing file of that name, opened, with its host spelling; `None` if there is
        /// none.
        pub(crate) fn open_existing(&self, name: &FileName) -> R<Option<(HostName, File)>> {
            let comps = name.components();
            let mut host = HostName::new();
            let mut cur: Option<OwnedFd> = None;
            for (i, want) in comps.iter().enumerate() {
                let dir = cur.as_ref().map_or(self.root.as_fd(), |f| f.as_fd());
                let Some((found, kind)) = self.lookup_in(dir, want)? else {
                    return Ok(None);
                };
                if i + 1 < comps.len() {
                    let fd = self.enter(dir, &found, kind)?;
                    host.push(found);
                    cur = Some(fd);
                    continue;
                }
                return match kind {
                    FileType::RegularFile => {
                        let file =
                            self.open_file_in(dir, &found, OFlags::empty(), Mode::empty())?;
                        host.push(found);
                        Ok(Some((host, file)))
                    }
                    FileType::Directory => Err(NtStatus::STATUS_FILE_IS_A_DIRECTORY.into()),
                    _ => Err(reparse()),
                };
            }
            Ok(None)
        }

        /// Whether the directory of components `dirs` exists beneath the root (links are not
        /// followed: a link is a reparse point, an error).
        pub(crate) fn directory_exists(&self, dirs: &[String]) -> R<bool> {
            let mut cur: Option<OwnedFd> = None;
            for want in dirs {
                let dir = cur.as_ref().map_or(self.root.as_fd(), |f| f.as_fd());
                match self.lookup_in(dir, want)? {
                    Some((found, FileType::Directory)) => {
                        cur = Some(self.enter(dir, &found, FileType::Directory)?);
                    }
                    Some(_) | None => return Ok(false),
                }
            }
            Ok(true)
        }

        /// Creates the file (empty; an existing regular file of that name is truncated),
        /// making the directories on its way as needed with the program's spelling. If the
        /// file cannot be made, the directories this call made are removed again.
        pub(crate) fn create(&self, name: &FileName) -> R<(HostName, File)> {
            let comps = name.components();
            let mut levels: Vec<Level> = Vec::new();
            let r = self.create_walk(comps, &mut levels);
            if r.is_err() {
                for i in (0..levels.len()).rev() {
                    if levels[i].created {
                        let parent = if i == 0 {
                            self.root.as_fd()
                        } else {
                            levels[i - 1].fd.as_fd()
                        };
                        let _ = fs::unlinkat(parent, levels[i].name.as_str(), AtFlags::REMOVEDIR);
                    }
                }
            }
            r
        }

        fn create_walk(&self, comps: &[String], levels: &mut Vec<Level>) -> R<(HostName, File)> {
            let (file, dirs) = comps
                .split_last()
                .ok_or(Fail::Win32(ERROR_PATH_NOT_FOUND))?;
            for want in dirs {
                let dir = levels.last().map_or(self.root.as_fd(), |l| l.fd.as_fd());
                let (name, fd, created) = match self.lookup_in(dir, want)? {
                    Some((found, kind)) => {
                        let fd = self.enter(dir, &found, kind)?;
                        (found, fd, false)
                    }
                    None => {
                        fs::mkdirat(dir, want.as_str(), Mode::from_raw_mode(0o777))
                            .map_err(host_error)?;
                        let opened = self.open_beneath(
                            dir,
                            want,
                            OFlags::RDONLY | OFlags::DIRECTORY,
                            Mode::empty(),
                        );
                        match opened {
                            Ok(fd) => (want.clone(), fd, true),
                            Err(e) => {
                                let _ = fs::unlinkat(dir, want.as_str(), AtFlags::REMOVEDIR);
                                return Err(host_error(e));
                            }
                        }
                    }
                };
                levels.push(Level { fd, name, created });
            }
            let dir = levels.last().map_or(self.root.as_fd(), |l| l.fd.as_fd());
            let mut host: HostName = levels.iter().map(|l| l.name.clone()).collect();
            let (spelled, handle) = match self.lookup_in(dir, file)? {
                Some((found, FileType::RegularFile)) => {
                    let f = self.open_file_in(dir, &found, OFlags::TRUNC, Mode::empty())?;
                    (found, f)
                }
                Some((_, FileType::Directory)) => {
                    return Err(NtStatus::STATUS_FILE_IS_A_DIRECTORY.into())
                }
                Some(_) => return Err(reparse()),
                None => {
                    let f = self.open_file_in(
                        dir,
                        file,
                        OFlags::CREATE | OFlags::EXCL,
                        Mode::from_raw_mode(0o666),
                    )?;
                    (file.clone(), f)
                }
            };
            host.push(spelled);
            Ok((host, handle))
        }

        /// Deletes the file of that host spelling (a link in its place is removed itself, never
        /// followed).
        pub(crate) fn remove(&self, host: &HostName) -> R<()> {
            let Some((file, dirs)) = host.split_last() else {
                return Ok(());
            };
            let mut cur: Option<OwnedFd> = None;
            for d in dirs {
                let dir = cur.as_ref().map_or(self.root.as_fd(), |f| f.as_fd());
                let st =
                    fs::statat(dir, d.as_str(), AtFlags::SYMLINK_NOFOLLOW).map_err(host_error)?;
                cur = Some(self.enter(dir, d, FileType::from_raw_mode(st.st_mode))?);
            }
            let dir = cur.as_ref().map_or(self.root.as_fd(), |f| f.as_fd());
            fs::unlinkat(dir, file.as_str(), AtFlags::empty()).map_err(host_error)
        }
    }

    /// A file opened by a volume as a backing store.
    pub(crate) fn store_of(
        v: &HostVolume,
        host: &HostName,
        file: File,
    ) -> R<ntmm_vmm::HostFileStore> {
        ntmm_vmm::HostFileStore::from_file(file, v.display_path(host)).map_err(io_error)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::os::unix::fs::symlink;

        fn name(p: &str) -> FileName {
            FileName::parse(p).unwrap()
        }

        fn code<T>(r: R<T>) -> u32 {
            match r {
                Ok(_) => 0,
                Err(f) => f.win32().0,
            }
        }

        /// Links (to a file, to a directory, in an earlier component) are refused on both
        /// open paths, `openat2` and `O_NOFOLLOW` per component; deleting a name that is a
        /// link removes the link, never its target.
        #[test]
        fn test_links_are_refused_with_and_without_openat2() {
            for with_openat2 in [true, false] {
                let t = tempfile::tempdir().unwrap();
                let outside = t.path().join("outside");
                let vol = t.path().join("vol");
                std::fs::create_dir_all(&outside).unwrap();
                std::fs::create_dir_all(vol.join("r")).unwrap();
                std::fs::write(outside.join("secret.txt"), b"secret").unwrap();
                symlink(outside.join("secret.txt"), vol.join("f")).unwrap();
                symlink(&outside, vol.join("d")).unwrap();
                symlink(&outside, vol.join("r/s")).unwrap();
                let v = HostVolume::open(&vol).unwrap();
                let v = if with_openat2 { v } else { v.without_openat2() };
                for n in ["f", "F", "d\\secret.txt", "r\\s\\secret.txt"] {
                    assert_eq!(code(v.open_existing(&name(n))), 1920, "{n}");
                    assert_eq!(code(v.create(&name(n))), 1920, "{n}");
                }
                assert_eq!(code(v.create(&name("d\\new\\x"))), 1920);
                assert_eq!(code(v.create(&name("r\\s\\new"))), 1920);
                // Below the lstat check, the open itself refuses a link.
                let root = v.root.as_fd();
                assert_eq!(
                    v.open_beneath(root, "f", OFlags::RDWR, Mode::empty()).err(),
                    Some(Errno::LOOP)
                );
                let d =
                    v.open_beneath(root, "d", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty());
                assert!(matches!(d, Err(Errno::LOOP | Errno::NOTDIR)), "{d:?}");
                for bad in ["", ".", "..", "a/b"] {
                    assert!(v
                        .open_beneath(root, bad, OFlags::RDONLY, Mode::empty())
                        .is_err());
                }
                assert_eq!(code(v.remove(&vec!["d".into(), "secret.txt".into()])), 1920);
                v.remove(&vec!["f".into()]).unwrap();
                assert!(std::fs::symlink_metadata(vol.join("f")).is_err());
                assert_eq!(
                    std::fs::read(outside.join("secret.txt")).unwrap(),
                    b"secret"
                );
                // An ordinary file is made and found again, by any case.
                let (host, _) = v.create(&name("r\\New.bin")).unwrap();
                assert_eq!(host, ["r", "New.bin"]);
                let (host, _) = v.open_existing(&name("R\\NEW.BIN")).unwrap().unwrap();
                assert_eq!(host, ["r", "New.bin"]);
            }
        }
    }
}

#[cfg(unix)]
pub(crate) use unix::store_of;

#[cfg(not(unix))]
pub(crate) use other::{store_of, HostVolume};

#[cfg(not(unix))]
mod other {
    //! Host volumes need the `*at` system calls; elsewhere they are not supported.
    use super::*;

    /// A host directory volume (not supported on this host).
    #[derive(Debug)]
    pub(crate) struct HostVolume;

    impl HostVolume {
        pub(crate) fn open(_dir: &Path) -> Result<Self, Win32Error> {
            Err(Win32Error(ERROR_NOT_SUPPORTED))
        }
        pub(crate) fn open_existing(&self, _: &FileName) -> R<Option<(HostName, File)>> {
            Err(Fail::Win32(ERROR_NOT_SUPPORTED))
        }
        pub(crate) fn create(&self, _: &FileName) -> R<(HostName, File)> {
            Err(Fail::Win32(ERROR_NOT_SUPPORTED))
        }
        pub(crate) fn remove(&self, _: &HostName) -> R<()> {
            Err(Fail::Win32(ERROR_NOT_SUPPORTED))
        }
        pub(crate) fn directory_exists(&self, _: &[String]) -> R<bool> {
            Err(Fail::Win32(ERROR_NOT_SUPPORTED))
        }
    }

    pub(crate) fn store_of(_: &HostVolume, _: &HostName, _: File) -> R<ntmm_vmm::HostFileStore> {
        Err(Fail::Win32(ERROR_NOT_SUPPORTED))
    }
}
