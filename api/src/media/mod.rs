//! The media module: call legs and what happens on them. The
//! `MediaProvider` trait and its providers arrive with the dialer engine;
//! so far, the `sim` carrier's model of how calls turn out.

pub mod sim_model;
