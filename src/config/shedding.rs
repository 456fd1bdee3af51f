//! `[connector] shed_logins_after`: how long a login may have waited (since the portal
//! created it) when its turn to run comes; longer, and it is answered `timeout`
//! (retryable) without touching the directory (issue #17's overload;
//! `connector_actors::queue::shedding`). Absent: logins are never shed.

use std::time::Duration;

use toml::Spanned;

use super::validate::Validator;

const KEY: &str = "connector.shed_logins_after";

/// The least threshold: a login on a busy but healthy connector waits tens of ms (a poll
/// round, a flush, a free slot); a bound below this would shed logins that were not late.
pub const SHED_LOGINS_AFTER_MIN: Duration = Duration::from_millis(100);

impl Validator<'_, '_> {
    /// The threshold, or `None` when the key is absent or wrong (reported by key and line).
    pub(super) fn shed_logins_after(&mut self, v: &Option<Spanned<String>>) -> Option<Duration> {
        let v = v.as_ref()?;
        let at = Some(v.span());
        let after = match humantime::parse_duration(v.get_ref()) {
            Ok(d) => d,
            Err(e) => {
                self.c.at(at, KEY, format!("expected a duration such as \"500ms\" or \"2s\" ({e})"));
                return None;
            }
        };
        if after < SHED_LOGINS_AFTER_MIN {
            let msg = format!(
                "\"{}\" is below the least of 100ms: logins queue for tens of ms on a busy but healthy connector, and would be shed; set 100ms or more (e.g. \"500ms\"), or remove the key to never shed logins",
                v.get_ref()
            );
            self.c.at(at, KEY, msg);
            return None;
        }
        Some(after)
    }
}

#[cfg(test)]
#[path = "shedding_tests.rs"]
mod tests;
