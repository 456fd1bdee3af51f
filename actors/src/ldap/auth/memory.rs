//! What the login path of one directory remembers between logins: the lockout shield's
//! counts and the group cache. Held by the directory actor and lent with each lease, so
//! every login of that directory shares it; bounded (see [`SHIELD_CAPACITY`] and
//! [`GROUP_CACHE_CAPACITY`]).
//!
//! [`SHIELD_CAPACITY`]: super::shield::SHIELD_CAPACITY
//! [`GROUP_CACHE_CAPACITY`]: super::groups::GROUP_CACHE_CAPACITY

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::dc_failures::LockoutPolicies;
use super::groups::GroupCache;
use super::ppolicy::PolicyCache;
use super::shield::LoginShield;
use crate::directory::{DirectorySettings, LoginSettings};

pub struct LoginMemory {
    pub shield: LoginShield,
    pub groups: GroupCache,
    pub policies: PolicyCache,
    /// The directory's lockout policies, for its own count of wrong passwords.
    pub lockout: LockoutPolicies,
}

impl LoginMemory {
    pub fn new(settings: &LoginSettings) -> LoginMemory {
        LoginMemory {
            shield: LoginShield::new(settings),
            groups: GroupCache::default(),
            policies: PolicyCache::default(),
            lockout: LockoutPolicies::default(),
        }
    }
}

/// Every directory's [`LoginMemory`], by directory name, for the life of the process: a
/// directory actor made again (a reload that changed its URLs or policy) keeps the
/// shield's counts and the group cache. Changed login settings (limit, window, group
/// keys) start a fresh memory.
#[derive(Default)]
pub struct LoginMemories(Mutex<HashMap<String, (LoginSettings, Arc<LoginMemory>)>>);

impl LoginMemories {
    /// The memory of directory `s.name` under its login settings.
    pub fn of(&self, s: &DirectorySettings) -> Arc<LoginMemory> {
        let Ok(mut all) = self.0.lock() else { return Arc::new(LoginMemory::new(&s.login)) };
        match all.get(&s.name) {
            Some((kept, memory)) if *kept == s.login => memory.clone(),
            _ => {
                let memory = Arc::new(LoginMemory::new(&s.login));
                all.insert(s.name.clone(), (s.login.clone(), memory.clone()));
                memory
            }
        }
    }
}

#[cfg(test)]
mod tests;
