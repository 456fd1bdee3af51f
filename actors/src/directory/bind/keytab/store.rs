//! `gss_acquire_cred_from` (MIT krb5 ≥ 1.11, `gssapi_ext.h`), which libgssapi does not
//! wrap: initiator credentials for one principal with `client_keytab` and `ccache` set in
//! the credential store ("Credential store extensions", MIT krb5 documentation).

use std::ffi::CString;
use std::ptr;

use libgssapi::credential::Cred;
use libgssapi_sys::{
    gss_OID_desc, gss_OID_set_desc, gss_acquire_cred_from, gss_buffer_desc, gss_cred_id_t, gss_import_name,
    gss_key_value_element_desc, gss_key_value_set_desc, gss_name_t, gss_release_name, OM_uint32, GSS_C_INITIATE,
    GSS_C_NT_USER_NAME, GSS_S_COMPLETE,
};

/// The Kerberos V5 mechanism, 1.2.840.113554.1.2.2 (RFC 1964 §1), DER without tag and
/// length. Asked for alone: with no mechanism named (GSS_C_NO_OID_SET) MIT acquires for
/// every mechanism it has, Kerberos and again through SPNEGO, and so offers the keytab's
/// key to the KDC twice, each refusal counting toward the account's lockout (measured:
/// one acquisition with a stale keytab raised Samba's `badPwdCount` by 2, `kinit -k` by 1).
const KRB5_MECH: [u8; 9] = *b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";

/// A failed acquisition: the GSS status in words, and the minor status (MIT: a krb5
/// error code, e.g. `KRB5KDC_ERR_PREAUTH_FAILED`).
#[derive(Debug)]
pub struct GssFailure {
    pub text: String,
    pub minor: OM_uint32,
}

/// Credentials of `principal` (`user@REALM`) from `keytab` into `ccache`; without a
/// keytab, only what `ccache` holds (the library then asks no KDC for a new ticket).
///
/// Errors: the GSS status in words.
pub fn acquire(principal: &str, keytab: Option<&str>, ccache: &str) -> Result<Cred, GssFailure> {
    let failed = |text: String| GssFailure { text, minor: 0 };
    let keys = [("client_keytab", keytab), ("ccache", Some(ccache))]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .map(|(k, v)| Ok((CString::new(k).map_err(|e| e.to_string())?, CString::new(v).map_err(|e| e.to_string())?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(failed)?;
    let mut elements: Vec<gss_key_value_element_desc> =
        keys.iter().map(|(k, v)| gss_key_value_element_desc { key: k.as_ptr(), value: v.as_ptr() }).collect();
    let store = gss_key_value_set_desc { count: elements.len() as OM_uint32, elements: elements.as_mut_ptr() };
    let name = import(principal).map_err(failed)?;
    let mut krb5 = KRB5_MECH;
    let mut mech = gss_OID_desc { length: krb5.len() as OM_uint32, elements: krb5.as_mut_ptr().cast() };
    let mut mechs = gss_OID_set_desc { count: 1, elements: &mut mech };
    let mut minor: OM_uint32 = 0;
    let mut cred: gss_cred_id_t = ptr::null_mut();
    // SAFETY: every pointer is valid for the call: `name` was imported above and is
    // released below, `store`, `mechs` and what they point to outlive the call (the
    // library only reads them), and the out-parameters are locals (the two we do not
    // want are null, which the API allows).
    let major = unsafe {
        gss_acquire_cred_from(
            &mut minor,
            name,
            0, // GSS_C_INDEFINITE: as long as the ticket allows
            &mut mechs,
            GSS_C_INITIATE as i32,
            &store,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    release(name);
    if major != GSS_S_COMPLETE {
        return Err(GssFailure { text: status(major, minor), minor });
    }
    Ok(Cred::from(cred))
}

fn import(principal: &str) -> Result<gss_name_t, String> {
    let mut bytes = principal.as_bytes().to_vec();
    let mut buffer = gss_buffer_desc { length: bytes.len(), value: bytes.as_mut_ptr().cast() };
    let mut minor: OM_uint32 = 0;
    let mut name: gss_name_t = ptr::null_mut();
    // SAFETY: `buffer` points into `bytes`, alive for the call; the library copies it.
    // GSS_C_NT_USER_NAME is a constant OID the library exports.
    let major = unsafe { gss_import_name(&mut minor, &mut buffer, GSS_C_NT_USER_NAME, &mut name) };
    if major != GSS_S_COMPLETE {
        return Err(format!("the principal {principal} is not a Kerberos name: {}", status(major, minor)));
    }
    Ok(name)
}

fn release(mut name: gss_name_t) {
    let mut minor: OM_uint32 = 0;
    // SAFETY: `name` came from gss_import_name and is released once.
    unsafe { gss_release_name(&mut minor, &mut name) };
}

/// The major and minor status in words (libgssapi's own display of them).
fn status(major: OM_uint32, minor: OM_uint32) -> String {
    libgssapi::error::Error { major: libgssapi::error::MajorFlags::from_bits_retain(major), minor }.to_string()
}
