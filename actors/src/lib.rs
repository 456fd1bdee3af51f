//! The integration connector's working parts: the durable job queue, the server link,
//! the dispatcher that runs jobs, the directories and the LDAP/AD work done on them, and
//! the typed errors they exchange.
//!
//! This crate knows nothing of files other than its storage path, environment
//! variables, signals, the CLI or HTTP serving: `src/` of the root package wires it.
//! Handlers never panic on input: `unwrap`/`expect`/`panic!` are denied outside tests.
//!
//! # The actors
//!
//! | actor | folder | owns | receives |
//! |---|---|---|---|
//! | `Session` | [`link`] | registration, link state, commands seen | `LinkProblem` (401/403), `StartDraining`, `CommandDone` |
//! | `Poller` | [`link`] | the long poll | `Poll` (its own, after a round or when the link or queue figures it waits on change), `StartDraining` |
//! | `Courier` | [`link`] | the outbox drain loop | `OutboxChanged` (sent by its own watch of the queue's outbox head and of the link state, and when a backoff ends) |
//! | `QueueActor` | [`queue`] | sled: jobs, outbox, step journal, spool | `AcceptJobs`, `MarkAcknowledged`, `DropJob`, `ListUnacknowledged`, `TakeRunnable`, `CompleteJob`, `CancelJob`, `CommitBatch`, `PeekOutbox`, `MarkDelivered`, `SplitBatch`, `ReadStep`, `RecordStep`, `GetProgress`, `LoadSeen`, `GetSpool`, `GetConnectorId`, `SetConnectorId`, `NextWakeup`, `TrackImport`, `RememberScopeTotal`, `WatchImports` (running imports' progress, published at each batch) |
//! | `Dispatcher` | [`dispatcher`] | the running jobs | `JobsArrived`, `CancelRunning`, `Drain`, `RunningCount`, `ReplaceDirectories` (a reload), `RunFinished` (its own), one timer for the queue's next due retry |
//! | `DirectoryActor` (one per directory) | [`directory`] | the connection pool, the user-bind connections, the login memory (lockout shield counts, group cache: lent with each `Lease`) | `Checkout`, `CheckoutWrites`, `TakeUserConnection`, `ReturnUserConnection`, `Retire` (a reload replaced it), its 10 s health tick |
//! | `MemberWriter` | [`ad`] (`members.rs`) | group adds in flight, per group | `AddMember` |
//! | `AuditActor` | [`audit`] | `audit.jsonl` and its hash chain | `AppendAudit` |
//! | `LogShipper` | [`logship`] | log commands in progress | `LogCommand` |
//!
//! Job work is not an actor: the executors ([`ldap::auth`], [`ldap::import`], [`ad`])
//! are plain async code that the dispatcher runs in a task per job, holding a `Lease` of
//! a directory connection and the job's [`queue::Journal`] (typed [`queue::Step`]s).
//! Every actor publishes its state into the [`status`] board (a `watch` channel), which
//! the UI and the heartbeat read without asking a mailbox.
//!
//! # A job, from poll to portal
//!
//! Each arrow names the message (or HTTP call) that carries it.
//!
//! ```text
//!  portal ──GET /jobs──▶ Poller ──AcceptJobs──▶ QueueActor   (stored and flushed)
//!  portal ◀─POST /jobs/{id}/ack── Poller ──MarkAcknowledged / DropJob──▶ QueueActor
//!                         Poller ──JobsArrived──▶ Dispatcher
//!  Dispatcher ──TakeRunnable──▶ QueueActor   (answers the jobs it marked Running; a login
//!                                            past `shed_logins_after` gets its `timeout`
//!                                            result there instead: queue/shedding.rs)
//!  Dispatcher task ──Checkout / CheckoutWrites──▶ DirectoryActor   (answers a Lease)
//!  task ──LDAP bind / search / modify (ldap3, on the Lease)──▶ directory server
//!     ldap.authenticate: user search; the lockout shield (the Lease's login memory);
//!                        ──TakeUserConnection / ReturnUserConnection──▶ DirectoryActor
//!                        (the bind); then groups and expiry read on the Lease
//!     ldap.import:       ──ReadStep / RecordStep (its Journal) / GetProgress / LoadSeen / GetSpool──▶ QueueActor
//!                        writes each batch into the spool, then ──CommitBatch──▶ QueueActor
//!                          (the batch joins the outbox)
//!     ad.*:              ──ReadStep / RecordStep (its Journal: intent before write)──▶ QueueActor
//!                        ──AddMember──▶ MemberWriter      ──AppendAudit──▶ AuditActor
//!  task ends ──RunFinished──▶ Dispatcher ──CompleteJob (result into the outbox)──▶ QueueActor
//!  Dispatcher ──NextWakeup──▶ QueueActor   (when nothing is runnable: one timer to the next due retry)
//!  QueueActor ──outbox head (watch)──▶ Courier ──OutboxChanged (to itself)
//!  Courier ──PeekOutbox──▶ QueueActor
//!  Courier ──POST /jobs/{id}/records, POST /jobs/{id}/result──▶ portal
//!  Courier ──MarkDelivered (2xx, 409) / SplitBatch (413)──▶ QueueActor
//! ```
//!
//! # Beside the jobs
//!
//! ```text
//!  Session ──POST /register, POST /heartbeat──▶ portal
//!  Session ──GetConnectorId / SetConnectorId──▶ QueueActor
//!  portal command cancel_job ─▶ Session ──CancelJob──▶ QueueActor, ──CancelRunning──▶ Dispatcher
//!  portal command upload_logs / stream_logs ─▶ Session ──LogCommand──▶ LogShipper
//!  LogShipper ──POST /log-requests/{id}/upload, POST /log-streams/{id}──▶ portal
//!  LogShipper ──CommandDone──▶ Session
//!  Poller, Courier ──LinkProblem (401 / 403, through a Recipient)──▶ Session
//!    (the session's mailbox opens first, [`system::Early`]: `src/app.rs` builds the
//!     courier, the log shipper and the poller with its recipients, then starts it)
//!  lifecycle (src/) ──StartDraining──▶ Poller, Session; ──Drain, RunningCount──▶ Dispatcher
//!  any actor past its restart budget ──escalation (status board watch)──▶ lifecycle (drain, exit 70)
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod ad;
pub mod audit;
pub mod directory;
pub mod dispatcher;
pub mod errors;
pub mod ldap;
pub mod link;
pub mod logship;
pub mod metrics;
pub mod platform;
pub mod protocol;
pub mod queue;
pub mod secret;
pub mod status;
pub mod system;
pub mod time;
