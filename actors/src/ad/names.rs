//! The naming rules AD applies to what a job names, checked before any write so that a
//! bad name is the job's `invalid_job` naming its field, not a DC error code.
//!
//! Sources: the schema's `rangeUpper` of `cn` (64) and `sAMAccountName` (256; the
//! 20-character limit is SAM's for user accounts, not for groups), and the characters
//! "SAM-Account-Name attribute" (AD schema reference) and "Naming conventions in Active
//! Directory" forbid in a pre-Windows 2000 name: `" / \ [ ] : ; | = , + * ? < >`, control
//! characters, and a name of only periods or spaces.

use crate::errors::JobError;

/// `cn`'s rangeUpper in the AD schema.
pub const CN_MAX: usize = 64;
/// `sAMAccountName`'s rangeUpper in the AD schema (a group's limit).
pub const GROUP_SAM_MAX: usize = 256;
/// Characters a sAMAccountName may not hold.
const SAM_FORBIDDEN: &str = "\"/\\[]:;|=,+*?<>";

/// A CN the job gives (a group's `name`, a move's `new_cn`): 1 to 64 characters, no
/// control character, not only spaces. RFC 4514 specials are fine: the DN escapes them.
pub fn check_cn(field: &str, cn: &str) -> Result<(), JobError> {
    let len = cn.chars().count();
    if cn.trim().is_empty() {
        return Err(JobError::invalid_job(format!("field `{field}` is empty or only spaces")));
    }
    if len > CN_MAX {
        return Err(JobError::invalid_job(format!(
            "field `{field}` has {len} characters; AD allows at most {CN_MAX} in a CN"
        )));
    }
    if cn.chars().any(char::is_control) {
        return Err(JobError::invalid_job(format!("field `{field}` holds a control character")));
    }
    Ok(())
}

/// A group's sAMAccountName (the job's, or its `name` when it gives none: `field` says
/// which): 1 to 256 characters, none of AD's forbidden ones, not only periods or spaces.
pub fn check_group_sam(field: &str, sam: &str) -> Result<(), JobError> {
    let len = sam.chars().count();
    if sam.chars().all(|c| c == '.' || c == ' ') {
        return Err(JobError::invalid_job(format!(
            "{field} `{sam}` is empty or only periods and spaces, which AD refuses as a sAMAccountName"
        )));
    }
    if len > GROUP_SAM_MAX {
        return Err(JobError::invalid_job(format!(
            "{field} has {len} characters; a group's sAMAccountName holds at most {GROUP_SAM_MAX}"
        )));
    }
    if let Some(c) = sam.chars().find(|c| SAM_FORBIDDEN.contains(*c) || c.is_control()) {
        return Err(JobError::invalid_job(format!(
            "{field} `{}` holds `{}`, which AD does not allow in a sAMAccountName (none of {SAM_FORBIDDEN} or control characters); \
             give `sam_account_name` without it",
            sam.escape_debug(),
            c.escape_debug()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cn_may_hold_dn_specials_but_not_control_characters_or_too_many() {
        assert!(check_cn("name", "R&D, Lab #1 + \"quoted\" <x>; a=b \\ ").is_ok());
        assert!(check_cn("name", &"é".repeat(64)).is_ok());
        assert!(check_cn("name", &"é".repeat(65)).unwrap_err().message.contains("65 characters"));
        assert!(check_cn("name", "a\nb").unwrap_err().message.contains("control"));
        assert!(check_cn("new_cn", "   ").unwrap_err().message.contains("new_cn"));
    }

    #[test]
    fn a_group_sam_refuses_what_ad_refuses_and_names_the_field() {
        assert!(check_group_sam("sam_account_name", "helpdesk-t0_2.x").is_ok());
        assert!(check_group_sam("sam_account_name", &"g".repeat(256)).is_ok());
        assert!(check_group_sam("sam_account_name", &"g".repeat(257)).is_err());
        for bad in
            ["a,b", "a/b", "a\\b", "a[b]", "a:b", "a;b", "a|b", "a=b", "a+b", "a*b", "a?b", "a<b", "a\"b", "a\tb"]
        {
            let e = check_group_sam("name (the default sAMAccountName)", bad).unwrap_err();
            assert!(e.message.contains("name (the default sAMAccountName)"), "{bad}: {}", e.message);
        }
        assert!(check_group_sam("sam_account_name", ". .").is_err());
        assert!(check_group_sam("sam_account_name", "").is_err());
    }
}
