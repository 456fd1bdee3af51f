//! `ad.delete_group`: refused for a protected group (by SID, `adminCount`, or nested into
//! one) and outside `allowed_ous`. The intent journals the group's DN and GUID before the
//! delete: a re-run looks for that GUID (the name may have been given to another group
//! since), and one that finds it gone knows it was this job's own delete.

use serde_json::{json, Value};

use crate::ad::context::{AdContext, Write};
use crate::ad::resolve::resolve;
use crate::ad::target::Kind;
use crate::errors::{ErrorCode, JobError};
use crate::ldap::codes::rc;
use crate::protocol::payload::{GroupTarget, ObjectRef};

const INTENT: &str = "delete_group.intent";

pub async fn delete(ctx: &AdContext, p: &GroupTarget) -> Result<Value, JobError> {
    let intent = ctx.step(INTENT).await?;
    let reference = match intent.as_ref().and_then(|i| i["guid"].as_str()) {
        Some(guid) => ObjectRef::guid(guid),
        None => p.group.clone(),
    };
    let group = match resolve(ctx, Kind::Group, &reference, &[]).await {
        Ok(g) => g,
        Err(e) if e.code == ErrorCode::GroupNotFound => {
            return match intent.as_ref().and_then(|i| i["dn"].as_str()) {
                Some(dn) => Ok(json!({"dn": dn})),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    ctx.changeable_group(&group).await?;
    ctx.record(INTENT, json!({"dn": group.dn, "guid": group.guid})).await?;
    match ctx.write(&group.dn, group.guid.as_deref(), Vec::new(), Write::Delete).await? {
        Ok(()) => {}
        Err(e) if e.rc() == Some(rc::NO_SUCH_OBJECT) => {} // gone meanwhile: deleted all the same
        Err(e) => return Err(e.to_job_error("delete")),
    }
    Ok(json!({"dn": group.dn}))
}
