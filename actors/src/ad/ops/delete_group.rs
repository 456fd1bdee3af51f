//! `ad.delete_group`: refused for a protected group (by SID, `adminCount`, or nested into
//! one) and outside `allowed_ous`. The intent journals the group's DN and GUID before the
//! delete: a re-run looks for that GUID (the name may have been given to another group
//! since), and one that finds it gone knows it was this job's own delete.

use serde_json::{json, Value};

use crate::ad::context::{AdContext, Write};
use crate::ad::resolve::resolve;
use crate::ad::steps::DeleteGroupIntent;
use crate::ad::target::Kind;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::protocol::payload::{GroupTarget, ObjectRef};

pub async fn delete(ctx: &AdContext, p: &GroupTarget) -> Result<Value, JobError> {
    let journal = ctx.journal();
    let intent = journal.read::<DeleteGroupIntent>().await?;
    let reference = match intent.as_ref().and_then(|i| i.guid.as_deref()) {
        Some(guid) => ObjectRef::guid(guid),
        None => p.group.clone(),
    };
    let group = match resolve(ctx, Kind::Group, &reference, &[]).await {
        Ok(g) => g,
        Err(e) if e.code == ErrorCode::GroupNotFound => {
            return match intent {
                Some(i) => Ok(json!({"dn": i.dn})),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    ctx.changeable_group(&group).await?;
    journal.record(&DeleteGroupIntent { dn: group.dn.clone(), guid: group.guid.clone() }).await?;
    match ctx.write(&group.dn, group.guid.as_deref(), Vec::new(), Write::Delete).await? {
        Ok(()) => {}
        Err(e) if e.rc() == Some(rc::NO_SUCH_OBJECT) => {} // gone meanwhile: deleted all the same
        Err(e) => return Err(e.to_job_error("delete")),
    }
    Ok(json!({"dn": group.dn}))
}
