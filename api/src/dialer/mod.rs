//! The dialer engine. So far: claiming eligible leads for a running
//! campaign, with every decision recorded in the compliance trail.

pub mod claim;
pub mod facts;
