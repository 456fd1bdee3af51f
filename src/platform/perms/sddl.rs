//! Reading a DACL in SDDL, the text form Windows gives of a security descriptor
//! ("Security Descriptor String Format", MS-DTYP §2.5.1): `D:PAI(A;OICI;FA;;;SY)(…)`.
//! Pure text, so the rule is tested on every platform.

/// The SIDs that SYSTEM and Administrators are written as: `SY`, `BA`, or numerically.
const TRUSTED: [&str; 4] = ["SY", "BA", "S-1-5-18", "S-1-5-32-544"];

/// Who besides SYSTEM, Administrators and `also` (the account the service and `check`
/// run as: the Unix "owner") the DACL `sddl` lets in, e.g. `["BU", "WD"]`; empty when
/// the DACL is private. A missing or null DACL lets everyone in (`"everyone (no
/// DACL)"`). Deny ACEs (`D`) and audit-only parts are ignored: they never grant.
pub fn foreign_access(sddl: &str, also: Option<&str>) -> Vec<String> {
    let Some(dacl) = dacl_part(sddl) else {
        return vec!["everyone (no DACL)".to_owned()];
    };
    if dacl.starts_with("NO_ACCESS_CONTROL") {
        return vec!["everyone (null DACL)".to_owned()];
    }
    let mut foreign = Vec::new();
    for ace in dacl.split('(').skip(1) {
        let fields: Vec<&str> = ace.trim_end_matches(')').split(';').collect();
        let (Some(kind), Some(sid)) = (fields.first(), fields.get(5)) else { continue };
        let grants = matches!(*kind, "A" | "OA" | "XA" | "ZA");
        let trusted = TRUSTED.iter().chain(also.as_slice()).any(|t| t.eq_ignore_ascii_case(sid));
        if grants && !trusted && !foreign.iter().any(|f| f == sid) {
            foreign.push((*sid).to_owned());
        }
    }
    foreign
}

/// The text after `D:` up to the SACL (`S:`) or the end; `None` without a DACL.
fn dacl_part(sddl: &str) -> Option<&str> {
    let start = sddl.find("D:")? + 2;
    let rest = &sddl[start..];
    // `S:` can only start a new part outside parentheses.
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            'S' if depth == 0 && rest[i..].starts_with("S:") => return Some(&rest[..i]),
            _ => {}
        }
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::foreign_access;

    #[test]
    fn system_and_administrators_only_is_private() {
        assert!(foreign_access("D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", None).is_empty());
        assert!(foreign_access("O:BAG:SYD:PAI(A;OICIID;FA;;;S-1-5-18)(A;;FA;;;S-1-5-32-544)", None).is_empty());
        // A deny ACE for Users grants nothing.
        assert!(foreign_access("D:P(D;;FA;;;BU)(A;;FA;;;SY)", None).is_empty());
        // The service's own account is its owner, as on Unix.
        let own = "D:(A;OICI;FA;;;SY)(A;OICI;FA;;;S-1-5-21-0-0-0-1000)";
        assert!(foreign_access(own, Some("S-1-5-21-0-0-0-1000")).is_empty());
        assert_eq!(foreign_access(own, Some("S-1-5-21-0-0-0-1001")), ["S-1-5-21-0-0-0-1000"]);
    }

    #[test]
    fn anyone_else_is_named_once() {
        assert_eq!(foreign_access("D:AI(A;OICIID;FA;;;SY)(A;OICIID;0x1200a9;;;BU)(A;ID;FR;;;BU)", None), ["BU"]);
        assert_eq!(
            foreign_access("D:(A;;FA;;;WD)(A;;FA;;;S-1-5-21-1-2-3-1001)S:(AU;FA;FA;;;WD)", None),
            ["WD", "S-1-5-21-1-2-3-1001"]
        );
    }

    #[test]
    fn no_dacl_or_a_null_one_lets_everyone_in() {
        assert_eq!(foreign_access("O:SYG:SY", None), ["everyone (no DACL)"]);
        assert_eq!(foreign_access("D:NO_ACCESS_CONTROL", None), ["everyone (null DACL)"]);
    }

    #[test]
    fn the_sacl_is_not_read_as_the_dacl() {
        assert!(foreign_access("D:P(A;;FA;;;SY)S:(AU;SAFA;FA;;;WD)", None).is_empty());
    }
}
