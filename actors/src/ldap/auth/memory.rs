//! What the login path of one directory remembers between logins: the lockout shield's
//! counts and the group cache. Held by the directory actor and lent with each lease, so
//! every login of that directory shares it; bounded (see [`SHIELD_CAPACITY`] and
//! [`GROUP_CACHE_CAPACITY`]).
//!
//! [`SHIELD_CAPACITY`]: super::shield::SHIELD_CAPACITY
//! [`GROUP_CACHE_CAPACITY`]: super::groups::GROUP_CACHE_CAPACITY

use super::dc_failures::LockoutPolicies;
use super::groups::GroupCache;
use super::ppolicy::PolicyCache;
use super::shield::LoginShield;
use crate::directory::LoginSettings;

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
