//! The pure rules of the business: no database, no tokio, no clock reads.
//! Functions take the facts (and `now`) as arguments and return decisions.

pub mod agent;
pub mod call;
pub mod campaign;
pub mod consent;
pub mod eligibility;
pub mod follow_up;
pub mod identity;
pub mod jurisdiction;
pub mod lead;
pub mod phone;
pub mod policy;
pub mod report;
pub mod window;
pub mod wrap_up;
