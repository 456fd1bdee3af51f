//! A paged search (RFC 2696) read entry by entry: every search of more than one entry
//! goes through here (an import's, and [`RawEntry::search`] below one-level), because a
//! directory caps what one unpaged search may return (AD's MaxPageSize, 1,000 by
//! default, answers `sizeLimitExceeded` past it; OpenLDAP's `olcSizeLimit`).

use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::controls::RawControl;
use ldap3::{Ldap, Scope, SearchStream};

use crate::ldap::codes::{rc, LdapFailure};
use crate::ldap::entry::RawEntry;

/// The largest page any search asks for: AD's default MaxPageSize.
pub const MAX_PAGE: i32 = 1000;

/// What one paged search asks.
pub struct Query<'q> {
    pub base: &'q str,
    pub scope: Scope,
    pub filter: &'q str,
    pub attributes: Vec<String>,
    pub controls: Vec<RawControl>,
    pub page: i32,
    pub timeout: Duration,
}

/// What a search whose base DN does not exist (`noSuchObject`) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingBase {
    /// No entries: the container was deleted, or a side phase looks where nothing may be.
    Empty,
    /// A failure: the job's own base DN must exist.
    Fails,
}

pub struct Paged(SearchStream<'static, String, Vec<String>>);

impl Paged {
    pub async fn start(ldap: &mut Ldap, q: Query<'_>) -> Result<Paged, LdapFailure> {
        let adapters: Vec<Box<dyn Adapter<'static, String, Vec<String>>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(q.page.clamp(1, MAX_PAGE)))];
        let stream = ldap
            .with_controls(q.controls)
            .with_timeout(q.timeout)
            .streaming_search_with(adapters, q.base, q.scope, q.filter, q.attributes)
            .await
            .map_err(LdapFailure::from_ldap)?;
        Ok(Paged(stream))
    }

    /// The next entry; `None` at the end (then call [`Paged::finish`]).
    pub async fn next(&mut self) -> Result<Option<RawEntry>, LdapFailure> {
        match self.0.next().await.map_err(LdapFailure::from_ldap)? {
            Some(raw) => RawEntry::parse(raw).map(Some),
            None => Ok(None),
        }
    }

    /// The search's outcome: `Ok` for `success`, and for `noSuchObject` (a base that is
    /// gone holds no entries) under [`MissingBase::Empty`].
    pub async fn finish(mut self, missing: MissingBase) -> Result<(), LdapFailure> {
        let res = self.0.finish().await;
        match res.rc {
            rc::SUCCESS => Ok(()),
            rc::NO_SUCH_OBJECT if missing == MissingBase::Empty => Ok(()),
            rc => Err(LdapFailure::Result { rc, text: res.text }),
        }
    }

    /// Reads every entry into `each` (for the small searches of a delta's side phases).
    pub async fn collect(ldap: &mut Ldap, q: Query<'_>, mut each: impl FnMut(RawEntry)) -> Result<(), LdapFailure> {
        let mut search = Paged::start(ldap, q).await?;
        while let Some(e) = search.next().await? {
            each(e);
        }
        search.finish(MissingBase::Empty).await
    }
}
