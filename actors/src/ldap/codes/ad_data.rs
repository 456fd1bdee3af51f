//! Active Directory's diagnostic `data` codes: the hex Win32 error code AD (and Samba)
//! put in the text of a result ("…, data 52e, v4563", or a leading "0000052D: …"), named
//! once. Source: Microsoft, "System Error Codes (1300-1699)" and "(1700-3999)"
//! (learn.microsoft.com/windows/win32/debug/system-error-codes), each code given here
//! lower-case without leading zeros, as [`ad_data_code`] returns it.

/// `ERROR_INVALID_PASSWORD` (86 = 0x56): a self-service change gave a wrong old password.
pub const INVALID_PASSWORD: &str = "56";
/// `ERROR_NO_SUCH_USER` (1317 = 0x525).
pub const NO_SUCH_USER: &str = "525";
/// `ERROR_PASSWORD_RESTRICTION` (1325 = 0x52d): complexity, history or length.
pub const PASSWORD_RESTRICTION: &str = "52d";
/// `ERROR_LOGON_FAILURE` (1326 = 0x52e): wrong user name or password.
pub const LOGON_FAILURE: &str = "52e";
/// `ERROR_INVALID_LOGON_HOURS` (1328 = 0x530): not permitted to log on at this time.
pub const INVALID_LOGON_HOURS: &str = "530";
/// `ERROR_INVALID_WORKSTATION` (1329 = 0x531): not permitted to log on at this workstation.
pub const INVALID_WORKSTATION: &str = "531";
/// `ERROR_PASSWORD_EXPIRED` (1330 = 0x532).
pub const PASSWORD_EXPIRED: &str = "532";
/// `ERROR_ACCOUNT_DISABLED` (1331 = 0x533).
pub const ACCOUNT_DISABLED: &str = "533";
/// `ERROR_ACCOUNT_EXPIRED` (1793 = 0x701).
pub const ACCOUNT_EXPIRED: &str = "701";
/// `ERROR_PASSWORD_MUST_CHANGE` (1907 = 0x773): set to change at next logon.
pub const PASSWORD_MUST_CHANGE: &str = "773";
/// `ERROR_ACCOUNT_LOCKED_OUT` (1909 = 0x775).
pub const ACCOUNT_LOCKED_OUT: &str = "775";

/// The hex `data` code of an AD diagnostic message ("…, data 52e, v4563"), lower-case,
/// without leading zeros.
pub fn ad_data_code(text: &str) -> Option<String> {
    let code: String = match text.find("data ") {
        Some(i) => text[i + 5..].chars().take_while(|c| c.is_ascii_hexdigit()).collect(),
        // Samba and AD also lead with the code itself: "0000052D: Constraint violation …".
        None => {
            let lead: String = text.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            if lead.len() == 8 && text[8..].starts_with(':') {
                lead
            } else {
                String::new()
            }
        }
    };
    if code.is_empty() {
        return None;
    }
    let trimmed = code.trim_start_matches('0');
    Some(if trimmed.is_empty() { "0".into() } else { trimmed.to_lowercase() })
}
