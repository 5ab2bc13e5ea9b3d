//! The dialer engine: claiming eligible leads (every decision in the
//! compliance trail), pacers, answer→agent routing, and the engine that
//! runs campaigns, agents' presence and calls.

pub mod claim;
pub mod engine;
pub mod facts;
pub mod pacer;
pub mod review;
pub mod router;
