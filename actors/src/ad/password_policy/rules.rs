//! The length and complexity rules of an AD password policy, judged locally on the
//! password the job sends. Pure functions; the messages name the rule, never the
//! password or the part of it that broke the rule.
//!
//! Complexity per Microsoft's "Password must meet complexity requirements" (Windows
//! security policy settings reference):
//! - the password does not contain the account's sAMAccountName (case-insensitive),
//!   checked only when that name has three characters or more;
//! - nor any token of its displayName of three characters or more, the name being split
//!   at commas, periods, hyphens, underscores, spaces, number signs and tabs;
//!
//! (these two only on a Windows DC: Samba's `samdb_check_password` checks names only
//! through its optional `check password script`, and accepts them otherwise, measured on
//! Samba 4.17 — a local refusal there would refuse what the DC accepts; see [`Names`]);
//! - it has characters of at least three of five categories: uppercase letters,
//!   lowercase letters, digits, non-alphanumeric characters (``~!@#$%^&*_-+=`|\(){}[]:;"'<>,.?/``
//!   and any other symbol or punctuation), and letters that are neither upper nor lower
//!   case (e.g. CJK); Samba puts every non-ASCII character that is not cased in that
//!   fifth category, and the count is the more lenient of the two (see [`categories`]).
//!
//! Length is counted in UTF-16 code units, as the DC counts it (`unicodePwd` is UTF-16).
//! History and minimum age are left to the DC: only it knows them.

/// What the DC will check of a new password for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub min_length: u32,
    pub complexity: Complexity,
    /// Whether complexity also refuses the account's names (a Windows DC does, Samba not).
    pub names: Names,
    /// Where the rules come from, for the message: `the domain policy (DC=…)` or `the
    /// fine-grained password policy CN=…`.
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complexity {
    Required,
    Off,
}

/// Whether complexity refuses a password holding the account's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Windows: the sAMAccountName and the displayName's parts are refused.
    Refused,
    /// Samba: only its optional script judges them (the connector cannot see it).
    LeftToTheDc,
}

/// Whom the password is for: what complexity compares it with.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub sam_account_name: &'a str,
    pub display_name: Option<&'a str>,
}

/// Which rule a password breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    TooShort { length: usize, min: u32 },
    ContainsAccountName,
    ContainsDisplayNamePart,
    TooFewCategories { found: usize },
}

impl Broken {
    /// A short name of the rule, for `details.rule`.
    pub fn rule(&self) -> &'static str {
        match self {
            Broken::TooShort { .. } => "min_length",
            Broken::ContainsAccountName => "complexity_account_name",
            Broken::ContainsDisplayNamePart => "complexity_display_name",
            Broken::TooFewCategories { .. } => "complexity_categories",
        }
    }

    /// The message: the rule, its figures and where it comes from; never the password.
    pub fn message(&self, rules: &Rules) -> String {
        let what = match self {
            Broken::TooShort { length, min } => {
                format!("it has {length} characters and the minimum length is {min}")
            }
            Broken::ContainsAccountName => "complexity: it contains the account's sAMAccountName".to_owned(),
            Broken::ContainsDisplayNamePart => {
                "complexity: it contains a part (3 or more characters) of the account's displayName".to_owned()
            }
            Broken::TooFewCategories { found } => format!(
                "complexity: it has characters of {found} of the categories uppercase, lowercase, digits, \
                 symbols and other letters, and needs 3"
            ),
        };
        format!("the new password does not meet {}: {what} (refused by the connector; nothing was sent)", rules.source)
    }
}

/// The first rule `password` breaks, if any.
pub fn judge(rules: &Rules, holder: Holder<'_>, password: &str) -> Result<(), Broken> {
    let length = password.encode_utf16().count();
    if length < rules.min_length as usize {
        return Err(Broken::TooShort { length, min: rules.min_length });
    }
    if rules.complexity == Complexity::Off {
        return Ok(());
    }
    if rules.names == Names::Refused {
        contains_names(holder, password)?;
    }
    let found = categories(password);
    if found < 3 {
        return Err(Broken::TooFewCategories { found });
    }
    Ok(())
}

fn contains_names(holder: Holder<'_>, password: &str) -> Result<(), Broken> {
    let lower = password.to_lowercase();
    let sam = holder.sam_account_name.to_lowercase();
    if sam.chars().count() >= 3 && lower.contains(&sam) {
        return Err(Broken::ContainsAccountName);
    }
    let tokens = holder.display_name.unwrap_or_default().split([',', '.', '-', '_', ' ', '#', '\t']);
    if tokens.filter(|t| t.chars().count() >= 3).any(|t| lower.contains(&t.to_lowercase())) {
        return Err(Broken::ContainsDisplayNamePart);
    }
    Ok(())
}

/// How many of the five categories the password has characters of, counted the most
/// lenient of the two ways a DC counts them, so the connector never refuses what the DC
/// accepts (what it accepts wrongly, the DC still refuses):
/// - by Unicode properties, as Windows documents it (symbols and punctuation of any
///   script are non-alphanumeric; uncased letters are the fifth category);
/// - as Samba's `check_password_quality` (lib/util/genrand_util.c): an ASCII character
///   counts as a digit, a letter or one of the listed symbols (else nothing), and every
///   non-ASCII character that is neither upper- nor lower-case (a superscript or
///   Arabic-Indic digit, a no-break space, a currency sign, CJK) is of the fifth,
///   "Unicode", category.
fn categories(password: &str) -> usize {
    by_unicode_properties(password).max(as_samba(password))
}

fn by_unicode_properties(password: &str) -> usize {
    count(password, |c| {
        if c.is_uppercase() {
            Some(0)
        } else if c.is_lowercase() {
            Some(1)
        } else if c.is_ascii_digit() {
            Some(2)
        } else if c.is_alphabetic() {
            Some(4)
        } else if !c.is_whitespace() && !c.is_control() && !c.is_numeric() {
            Some(3)
        } else {
            None
        }
    })
}

fn as_samba(password: &str) -> usize {
    count(password, |c| match c {
        'A'..='Z' => Some(0),
        'a'..='z' => Some(1),
        '0'..='9' => Some(2),
        c if c.is_ascii_punctuation() => Some(3),
        c if c.is_ascii() => None,
        c if c.is_uppercase() => Some(0),
        c if c.is_lowercase() => Some(1),
        _ => Some(4),
    })
}

/// How many distinct categories (0..5) `slot` gives the password's characters.
fn count(password: &str, slot: impl Fn(char) -> Option<usize>) -> usize {
    let mut seen = [false; 5];
    for s in password.chars().filter_map(slot) {
        seen[s] = true;
    }
    seen.iter().filter(|s| **s).count()
}

/// Rules by where they were read (the domain root's DN or a PSO's), with when;
/// `None`: unreadable. Kept in the AD knowledge (here, not beside the reader, so the
/// knowledge does not import the reader that imports the context that holds it).
#[derive(Default)]
pub struct PolicyCache(pub(super) std::collections::HashMap<String, (std::time::Instant, Option<Rules>)>);

#[cfg(test)]
mod tests;
