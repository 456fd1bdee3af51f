//! The wire contract of PROTOCOL.md: request and response bodies ([`wire`]), the job
//! envelope with its derived defaults ([`envelope`]) and the typed payload of each job
//! type ([`payload`]). Parsing here is the only place server input becomes typed data.

pub mod bounds;
pub mod envelope;
pub mod job_type;
pub mod lane;
pub mod payload;
pub mod wire;

pub use envelope::{Envelope, Lane, RejectedJob};
pub use job_type::{Family, JobType};
pub use payload::JobKind;
