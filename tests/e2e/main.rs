//! End-to-end tests through the front door: the real server, over HTTP and
//! websocket, on SQLite and PostgreSQL.

mod access;
mod auth;
mod campaigns;
mod centers;
mod claims;
mod cli;
mod cluster;
mod compliance;
mod conformance;
mod consent;
mod demo;
mod edge;
mod engine;
mod engine_props;
mod engine_ws;
mod exports;
mod floor;
mod follow_ups;
mod frontend_ops;
mod import_takeover;
mod imports;
mod instances;
mod ops;
mod reports;
mod restart;
mod sign_in_burst;
mod supervisor_only;
mod webhook_restart;
mod websocket;
mod whatif;
mod workspace_api;
mod wrapup;
mod wrapup_ws;
mod write_failures;
mod writer_groups;
