//! The DACL: SYSTEM and Administrators with full control, protected (nothing inherited
//! from the parent), inherited by what a folder holds ("the Windows meaning of 0700").

use std::io;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{null, null_mut};

use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, ERROR_SUCCESS, HANDLE};
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetNamedSecurityInfoW, SetNamedSecurityInfoW,
    SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    GetSecurityDescriptorDacl, GetTokenInformation, TokenUser, ACL, DACL_SECURITY_INFORMATION,
    PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::{Exposure, Kind};

/// Folders: full control for SYSTEM (SY) and Administrators (BA), inherited by files
/// (OI) and folders (CI) below; P = protected from the parent's ACEs.
const FOLDER_SDDL: &str = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
const FILE_SDDL: &str = "D:PAI(A;;FA;;;SY)(A;;FA;;;BA)";

fn wide(s: &std::ffi::OsStr) -> Vec<u16> {
    s.encode_wide().chain(Some(0)).collect()
}

/// The DACL of `path` in SDDL.
fn dacl_sddl(path: &Path) -> io::Result<String> {
    let name = wide(path.as_os_str());
    let mut dacl: *mut ACL = null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: `name` is NUL-terminated; the out pointers are valid; `sd` is freed below.
    let rc = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            &mut dacl,
            null_mut(),
            &mut sd,
        )
    };
    if rc != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    let mut text: *mut u16 = null_mut();
    let mut len = 0u32;
    // SAFETY: `sd` came from GetNamedSecurityInfoW; `text` is freed with LocalFree.
    let ok = unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd,
            SDDL_REVISION_1,
            DACL_SECURITY_INFORMATION,
            &mut text,
            &mut len,
        )
    };
    let result = if ok == 0 || text.is_null() {
        Err(io::Error::last_os_error())
    } else {
        // SAFETY: the API wrote `len` UTF-16 units (the NUL included or not) at `text`.
        let units = unsafe { std::slice::from_raw_parts(text, len as usize) };
        Ok(String::from_utf16_lossy(units).trim_end_matches('\0').to_owned())
    };
    // SAFETY: both were allocated by the system with LocalAlloc.
    unsafe {
        LocalFree(text.cast());
        LocalFree(sd);
    }
    result
}

/// The SID of the account this process runs as (`S-1-5-18` for the service), the
/// Windows "owner": `check` runs as the service's account, as install.sh does on Linux.
fn own_sid() -> Option<String> {
    let mut token: HANDLE = null_mut();
    // SAFETY: the pseudo handle needs no closing; `token` is closed below.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return None;
    }
    let mut buf = vec![0u64; 64]; // 512 bytes, aligned for TOKEN_USER
    let mut len = 0u32;
    // SAFETY: `buf` is writable for the length given.
    let ok = unsafe { GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), 512, &mut len) };
    // SAFETY: `token` came from OpenProcessToken.
    unsafe { CloseHandle(token) };
    if ok == 0 {
        return None;
    }
    // SAFETY: GetTokenInformation wrote a TOKEN_USER at the start of `buf`.
    let sid = unsafe { (*buf.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text: *mut u16 = null_mut();
    // SAFETY: `sid` points into `buf`, alive here; `text` is freed with LocalFree.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 || text.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string from the system.
    let s = unsafe {
        let n = (0..).take_while(|&i| *text.add(i) != 0).count();
        String::from_utf16_lossy(std::slice::from_raw_parts(text, n))
    };
    // SAFETY: allocated by ConvertSidToStringSidW.
    unsafe { LocalFree(text.cast()) };
    Some(s)
}

pub fn exposure(path: &Path, kind: Kind) -> io::Result<Option<Exposure>> {
    let sddl = dacl_sddl(path)?;
    let foreign = super::foreign_access(&sddl, own_sid().as_deref());
    if foreign.is_empty() {
        return Ok(None);
    }
    let (what, inherit) = match kind {
        Kind::Folder => ("folder", "(OI)(CI)"),
        Kind::Secret => ("file", ""),
    };
    Ok(Some(Exposure {
        what: format!("open to {} besides SYSTEM and Administrators (ACL {sddl})", foreign.join(", ")),
        fix: format!(
            "run as Administrator: `icacls \"{}\" /inheritance:r /grant:r SYSTEM:{inherit}F Administrators:{inherit}F` (a {what} the service and administrators only may touch), then remove the other entries",
            path.display()
        ),
    }))
}

pub fn describe(path: &Path) -> String {
    match dacl_sddl(path) {
        Ok(sddl) if super::foreign_access(&sddl, own_sid().as_deref()).is_empty() => {
            "ACL: SYSTEM, Administrators and the service's account only".to_owned()
        }
        Ok(sddl) => format!("ACL {sddl}"),
        Err(e) => format!("ACL unreadable: {e}"),
    }
}

pub fn protect(path: &Path, kind: Kind) -> io::Result<()> {
    let sddl = wide(std::ffi::OsStr::new(match kind {
        Kind::Folder => FOLDER_SDDL,
        Kind::Secret => FILE_SDDL,
    }));
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: `sddl` is NUL-terminated; `sd` is freed with LocalFree below.
    if unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.as_ptr(), SDDL_REVISION_1, &mut sd, null_mut())
    } == 0
    {
        return Err(io::Error::last_os_error());
    }
    let (mut present, mut defaulted) = (0, 0);
    let mut dacl: *mut ACL = null_mut();
    // SAFETY: `sd` is a valid self-relative descriptor; `dacl` points into it.
    let result = if unsafe { GetSecurityDescriptorDacl(sd, &mut present, &mut dacl, &mut defaulted) } == 0 {
        Err(io::Error::last_os_error())
    } else {
        let name = wide(path.as_os_str());
        // SAFETY: `name` is NUL-terminated; `dacl` lives as long as `sd`.
        let rc = unsafe {
            SetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                null_mut(),
                null_mut(),
                dacl,
                null(),
            )
        };
        if rc == ERROR_SUCCESS {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(rc as i32))
        }
    };
    // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW.
    unsafe { LocalFree(sd) };
    result?;
    // Read back: a file system that keeps no ACL must not pass for protected.
    match exposure(path, kind)? {
        None => Ok(()),
        Some(e) => Err(io::Error::other(format!("the ACL did not take: {} is {}", path.display(), e.what))),
    }
}
