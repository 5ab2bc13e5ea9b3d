//! Pinline: an outbound dialer for contact centers. This crate is the API
//! server and its command line; see README.md for the tour and
//! docs/design.md for how the layers fit.

pub mod app;
pub mod auth;
pub mod bench;
pub mod bootstrap;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod dialer;
pub mod domain;
pub mod events;
pub mod graphql;
pub mod http;
pub mod import;
pub mod media;
pub mod metrics;
pub mod recording;
pub mod sim;
pub mod store;
pub mod webhooks;
