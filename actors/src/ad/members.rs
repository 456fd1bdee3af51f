//! The member writer: the group-membership adds of concurrent `ad.create_user` jobs,
//! coalesced into one modify per group.
//!
//! - **Owns** the adds waiting for each group, and whether a write to that group is in
//!   flight. Nothing of it is durable: a job whose add was never written runs again and
//!   asks again (adding a member is idempotent).
//! - **Receives** [`AddMember`]: replies once that member is in the group, or why not.
//! - **Sends** one LDAP modify per group at a time, carrying every add that arrived while
//!   the previous one was in flight. No timer: an add to a group with nothing in flight is
//!   written at once, so a lone create waits for nothing. A write the directory refuses
//!   as a whole is retried one member at a time, so each job gets its own outcome (an
//!   existing member, a DN gone since) and never another job's.
//! - Why: the DC runs one write at a time and each costs it a transaction; on Samba ten
//!   member adds in one modify cost 2.2 ms against 10.0 ms as ten modifies, and every
//!   create adds its user to its groups (README "Benchmarks").
//! - **Failure policy**: if the actor is restarted, the adds it held get an error; their
//!   jobs retry like after any lost connection.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use actix::prelude::*;
use ldap3::{Ldap, Mod};
use tokio::sync::oneshot;

use crate::ldap::codes::LdapFailure;
use crate::ldap::dn::Dn;

type Reply = oneshot::Sender<Result<(), LdapFailure>>;

/// Add `member_dn` to `group_dn` over `ldap` (the job's lease on the directory's write
/// connection).
pub struct AddMember {
    pub ldap: Ldap,
    pub timeout: Duration,
    pub directory: String,
    pub group_dn: String,
    pub member_dn: String,
}

impl Message for AddMember {
    type Result = Result<(), LdapFailure>;
}

struct Waiting {
    group_dn: String,
    ldap: Ldap,
    timeout: Duration,
    adds: Vec<(String, Reply)>,
    in_flight: bool,
}

#[derive(Default)]
pub struct MemberWriter {
    /// By (directory, group DN compared as a DN: two spellings of one group share a write).
    groups: HashMap<(String, GroupKey), Waiting>,
}

/// A group's DN as a [`Dn`] (its text when it does not parse: the DC will refuse it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupKey {
    Dn(Dn),
    Text(String),
}

impl GroupKey {
    fn of(dn: &str) -> GroupKey {
        Dn::parse(dn).map(GroupKey::Dn).unwrap_or_else(|_| GroupKey::Text(dn.to_owned()))
    }
}

impl Actor for MemberWriter {
    type Context = Context<Self>;
}

impl Supervised for MemberWriter {}

impl Handler<AddMember> for MemberWriter {
    type Result = ResponseFuture<Result<(), LdapFailure>>;

    fn handle(&mut self, msg: AddMember, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let key = (msg.directory, GroupKey::of(&msg.group_dn));
        let waiting = self.groups.entry(key.clone()).or_insert_with(|| Waiting {
            group_dn: msg.group_dn,
            ldap: msg.ldap.clone(),
            timeout: msg.timeout,
            adds: Vec::new(),
            in_flight: false,
        });
        // The newest lease's connection: the one most likely still open.
        waiting.ldap = msg.ldap;
        waiting.adds.push((msg.member_dn, tx));
        if !waiting.in_flight {
            self.write_next(key, ctx);
        }
        Box::pin(
            async move { rx.await.unwrap_or_else(|_| Err(LdapFailure::Lost("the member writer restarted".into()))) },
        )
    }
}

impl MemberWriter {
    /// Writes every add waiting for the group, then whatever arrived meanwhile.
    fn write_next(&mut self, key: (String, GroupKey), ctx: &mut Context<Self>) {
        let Some(waiting) = self.groups.get_mut(&key) else { return };
        if waiting.adds.is_empty() {
            self.groups.remove(&key);
            return;
        }
        waiting.in_flight = true;
        let (members, replies): (Vec<String>, Vec<Reply>) = std::mem::take(&mut waiting.adds).into_iter().unzip();
        let (ldap, group, timeout) = (waiting.ldap.clone(), waiting.group_dn.clone(), waiting.timeout);
        tracing::debug!(group = %group, members = members.len(), "adding members");
        let write = move |batch: Vec<String>| add_members(ldap.clone(), group.clone(), timeout, batch);
        written_each(members, write)
            .into_actor(self)
            .map(move |outcomes, act, ctx| {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                if let Some(w) = act.groups.get_mut(&key) {
                    w.in_flight = false;
                }
                act.write_next(key, ctx);
            })
            .spawn(ctx);
    }
}

async fn add_members(
    mut ldap: Ldap,
    group_dn: String,
    timeout: Duration,
    members: Vec<String>,
) -> Result<(), LdapFailure> {
    let values: HashSet<Vec<u8>> = members.into_iter().map(String::into_bytes).collect();
    LdapFailure::checked(ldap.with_timeout(timeout).modify(&group_dn, vec![Mod::Add(b"member".to_vec(), values)]).await)
}

/// One outcome per member, in order: all of them in one write, or, when that write is
/// refused, one write each.
async fn written_each<F, Fut>(members: Vec<String>, write: F) -> Vec<Result<(), LdapFailure>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<(), LdapFailure>>,
{
    if members.len() > 1 && write(members.clone()).await.is_ok() {
        return vec![Ok(()); members.len()];
    }
    let mut outcomes = Vec::with_capacity(members.len());
    for m in members {
        outcomes.push(write(vec![m]).await);
    }
    outcomes
}

#[cfg(test)]
mod tests;
