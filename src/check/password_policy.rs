//! The AD password policies as the service account sees them: what the connector checks
//! locally before a password is sent, and which fine-grained policies (PSOs) it cannot
//! read (their users' passwords are then judged by the DC alone).

use connector_actors::ad::password_policy::{Complexity, PolicyReader, Rules};
use connector_actors::directory::DirectorySettings;

use super::{Check, Report};

fn describe(rules: &Rules) -> String {
    let complexity = match rules.complexity {
        Complexity::Required => "complexity required",
        Complexity::Off => "no complexity",
    };
    format!("minimum length {}, {complexity}", rules.min_length)
}

pub async fn checks(d: &DirectorySettings, ldap: &ldap3::Ldap, r: &mut Report) {
    let name = format!("directory.{}.password_policy", d.name);
    let reader = PolicyReader { ldap: ldap.clone(), timeout: d.operation_timeout };
    let survey = match reader.survey().await {
        Ok(s) => s,
        Err(e) => return r.add(Check::warn(name, format!("cannot read the password policies: {e}"))),
    };
    let domain = match &survey.domain {
        Some(rules) => format!("domain {}: {}", survey.domain_dn, describe(rules)),
        None => {
            format!("the domain policy of {} is not readable: passwords are judged by the DC alone", survey.domain_dn)
        }
    };
    let hidden: Vec<&str> =
        survey.psos.iter().filter(|(_, rules)| rules.is_none()).map(|(dn, _)| dn.as_str()).collect();
    let readable = survey.psos.len() - hidden.len();
    if hidden.is_empty() && survey.domain.is_some() {
        r.add(Check::ok(
            name,
            format!("{domain}; {readable} fine-grained policies readable, checked before each write"),
        ));
    } else if hidden.is_empty() {
        r.add(Check::warn(name, domain));
    } else {
        r.add(Check::warn(
            name,
            format!(
                "{domain}; {} fine-grained policies the service account cannot read (their users' new passwords are judged by the DC alone; grant it Read on them): {}",
                hidden.len(),
                hidden.join("; ")
            ),
        ));
    }
}
