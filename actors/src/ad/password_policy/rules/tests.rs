use super::*;

fn rules(min: u32, complexity: Complexity) -> Rules {
    Rules {
        min_length: min,
        complexity,
        names: Names::Refused,
        source: "the domain policy (DC=example,DC=test)".into(),
    }
}

fn holder<'a>(sam: &'a str, display: Option<&'a str>) -> Holder<'a> {
    Holder { sam_account_name: sam, display_name: display }
}

#[test]
fn length_counts_utf16_units_and_the_message_names_the_rule_not_the_password() {
    let r = rules(8, Complexity::Off);
    let broken = judge(&r, holder("jdoe", None), "Zebra-4").unwrap_err();
    assert_eq!(broken, Broken::TooShort { length: 7, min: 8 });
    let message = broken.message(&r);
    assert!(message.contains("minimum length is 8") && message.contains("domain policy"), "{message}");
    assert!(!message.contains("Zebra"), "{message}");
    assert!(judge(&r, holder("jdoe", None), "Zebra-42").is_ok());
    // One character outside the BMP is two UTF-16 units, as the DC counts it.
    assert!(judge(&rules(2, Complexity::Off), holder("jdoe", None), "😀").is_ok());
}

#[test]
fn complexity_needs_three_of_five_categories() {
    let r = rules(1, Complexity::Required);
    let h = holder("jdoe", None);
    assert_eq!(judge(&r, h, "alllowercase"), Err(Broken::TooFewCategories { found: 1 }));
    assert_eq!(judge(&r, h, "lowerUPPER"), Err(Broken::TooFewCategories { found: 2 }));
    assert_eq!(judge(&r, h, "lower 1234"), Err(Broken::TooFewCategories { found: 2 }), "a space is no symbol");
    for ok in ["lowerUPPER1", "lower12#$", "UPPER12€", "lower日本1", "Ünïcödé1"] {
        assert!(judge(&r, h, ok).is_ok(), "{ok}");
    }
    assert!(judge(&rules(1, Complexity::Off), h, "alllowercase").is_ok());
}

#[test]
fn complexity_refuses_the_account_name_and_display_name_parts() {
    let r = rules(1, Complexity::Required);
    let h = holder("jsmith", Some("John-Paul Smith, Jr."));
    assert_eq!(judge(&r, h, "xxJSMITH1!"), Err(Broken::ContainsAccountName));
    assert_eq!(judge(&r, h, "Paul#2024x"), Err(Broken::ContainsDisplayNamePart));
    // Tokens under three characters ("Jr") and a name under three characters are ignored.
    assert!(judge(&r, h, "Jr-Zebra-42").is_ok());
    assert!(judge(&r, holder("jd", None), "jd-Zebra-42").is_ok());
    let message = judge(&r, h, "Paul#2024x").unwrap_err().message(&r);
    assert!(message.contains("displayName") && !message.contains("Paul"), "{message}");
}

#[test]
fn on_samba_the_names_are_left_to_the_dc_and_the_categories_still_count() {
    let r = Rules { names: Names::LeftToTheDc, ..rules(1, Complexity::Required) };
    let h = holder("jsmith", Some("John-Paul Smith, Jr."));
    assert!(judge(&r, h, "xxJSMITH1!").is_ok());
    assert!(judge(&r, h, "Paul#2024x").is_ok());
    assert_eq!(judge(&r, h, "paulsmith"), Err(Broken::TooFewCategories { found: 1 }));
}

/// Samba counts every uncased non-ASCII character (a superscript or Arabic-Indic digit,
/// a no-break space, a currency sign) in its fifth category: never refused locally.
#[test]
fn uncased_non_ascii_characters_count_as_samba_counts_them() {
    let r = rules(8, Complexity::Required);
    for pw in ["Abcdefgh\u{b2}\u{b2}", "Abcdefgh\u{663}", "Abcdefgh\u{a0}x", "abcdefgh1\u{a3}"] {
        assert_eq!(judge(&r, holder("someone", None), pw), Ok(()), "{pw:?}");
    }
    // Two categories however counted: still refused.
    assert!(judge(&r, holder("someone", None), "abcdefgh\u{a0}").is_err(), "lower + Samba's Unicode: two");
    assert!(judge(&r, holder("someone", None), "abcdefgh    ").is_err(), "ASCII spaces count in no category");
    assert!(judge(&r, holder("someone", None), "ABCDEFGHijkl").is_err());
}
