//! The `sip` provider against real SIP peers on loopback: `sipp` plays the
//! trunk's far ends (leads that answer, ring out, are busy, fail, hang up)
//! and plays the agent's phone; `baresip` plays a real softphone agent.
//! Audio is checked by frequency (Goertzel) on what each side receives.
//! The browser (WebRTC) pinned leg runs in headless Chromium against the
//! release web build (`scripts/web-build.sh`, which `./dev test` runs).
//!
//! `./dev setup` installs `sip-tester` (sipp) and `baresip` from Debian.

mod audio;
mod baresip;
mod campaign;
mod conference;
mod peers;
mod provider;
mod serve;
mod webrtc;
