//! The case model of Petition Ledger (信访台账): what a petition case is, what may happen to it,
//! when the law says it must happen, and how the annual figures are counted.
//!
//! Everything else stands on this crate and it is pure: no IO, no async, no clock. Callers pass
//! in dates, ids and device times.
//!
//! - [`model`]: one [`Case`] per 信访事项 with its submissions (信访件), event log, attachments
//!   and masked petitioner references; identities apart in an [`Identity`].
//! - [`terms`]: the coded vocabularies (信访形式, 信访来源, 问题类别 ...), each with a stable code,
//!   a stable Chinese label and `Unknown(code)` for values from a newer version.
//! - [`schema`]: the Automerge layout of the case and identity documents, written only by
//!   targeted puts.
//! - [`workflow`]: status derived by replaying the event log; the role table; anomalies.
//! - [`calendar`] and [`deadline`]: working days and the versioned legal deadlines.
//! - [`facts`] and [`stats`]: the per-case projection and the statistics of a period, whose
//!   JSON shape the hub, the office and the reports share.
//! - [`registration`]: registration input checked field by field, in Chinese.
//! - [`idcard`]: the GB 11643 ID number check and display masking.
//! - [`validate`]: whether one change from an untrusted office may enter the county's record.
//! - [`scope`]: which office may hold which document.
//! - [`rules`]: the county's rules as data (deadline policy versions, holidays, document
//!   settings, legal bases), synced in one bureau-written document.
//! - [`work`]: the work that is not a case (政策咨询, 宣传与培训, 矛盾纠纷排查), one document
//!   per record with an append-only log, and what the records add up to.

pub mod calendar;
pub mod coded;
pub mod deadline;
pub mod facts;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod idcard;
pub mod model;
pub mod registration;
pub mod rules;
pub mod schema;
pub mod scope;
pub mod stats;
pub mod terms;
pub mod text;
pub mod validate;
pub mod work;
pub mod workflow;

pub use automerge;
pub use calendar::{CalendarError, Reckoned, WorkCalendar};
pub use deadline::{CaseDeadlines, Deadline, DeadlineKind, Policy, PolicyTable};
pub use facts::CaseFacts;
pub use model::{
    AttachmentRef, Case, CaseId, DeviceTime, Evaluation, Event, EventHead, FirstReceiver, Identity,
    IssuedDocument, Person, PetitionerRef, Roster, SCHEMA_VERSION, StaffEntry, Submission,
};
pub use registration::{FieldError, NewCase, NewPetitioner, NewSubmission, RegistrationContext};
pub use rules::{Rules, RulesDoc};
pub use stats::{Period, Rate, Statistics, StatsQuery};
pub use terms::{
    Category, Channel, CloseReason, DocumentKind, FollowUpMethod, HandlingTrack, IdType, Outcome,
    PetitionerKind, Purpose, ReviewOutcome, Role, Satisfaction, Sector, Source,
};
pub use workflow::{ActionKind, Anomaly, Refusal, Replay, Status};
