//! The `sim` provider: a simulated carrier and simulated agent legs. Call
//! outcomes, ring and talk times come from the seeded model in
//! `sim_model` (or a lead's `sim.*` properties); events are scheduled into
//! the sink ahead of time, so the same engine runs in real time in `serve`
//! and on a manual clock in tests and the simulator.
//!
//! Outside numbers (transfers, consults, participants) answer after 2 s,
//! except numbers ending in `0000`, which are busy: the sim's test numbers
//! for a failed transfer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::sim_model::{SimConfig, SimOutcome, plan};
use super::{
    AnsweredBy, LegId, LegPurpose, MediaError, MediaEvent, MediaProvider, MediaSink, Originate,
    TONE,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegKind {
    Pinned,
    Call,
}

pub struct SimProvider {
    config: SimConfig,
    seed: u64,
    calls: AtomicU64,
    sink: Arc<dyn MediaSink>,
    legs: Mutex<HashMap<LegId, LegKind>>,
}

/// Outside numbers ending in this are busy in the sim.
pub const SIM_BUSY_SUFFIX: &str = "0000";
const PINNED_UP_AFTER: Duration = Duration::from_millis(200);
const RINGING_AFTER: Duration = Duration::from_millis(300);
const OUTSIDE_ANSWER_AFTER: Duration = Duration::from_secs(2);
/// A voicemail greeting hangs up after this if nobody does.
const MACHINE_HANGS_UP_AFTER: Duration = Duration::from_secs(40);

impl SimProvider {
    pub fn new(config: SimConfig, seed: u64, sink: Arc<dyn MediaSink>) -> SimProvider {
        SimProvider {
            config,
            seed,
            calls: AtomicU64::new(0),
            sink,
            legs: Mutex::new(HashMap::new()),
        }
    }

    fn legs(&self) -> std::sync::MutexGuard<'_, HashMap<LegId, LegKind>> {
        self.legs.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn known(&self, leg: &LegId, kind: LegKind) -> Result<(), MediaError> {
        match self.legs().get(leg) {
            Some(k) if *k == kind => Ok(()),
            _ => Err(MediaError::UnknownLeg(leg.clone())),
        }
    }

    fn new_leg(&self, kind: LegKind) -> LegId {
        let id = uuid::Uuid::now_v7().to_string();
        self.legs().insert(id.clone(), kind);
        id
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s.max(0.0))
    }
}

impl MediaProvider for SimProvider {
    fn simulated(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "sim"
    }

    fn create_pinned_leg(&self, _agent_id: &str) -> Result<LegId, MediaError> {
        let leg = self.new_leg(LegKind::Pinned);
        self.sink.emit(
            PINNED_UP_AFTER,
            MediaEvent::PinnedLegUp { leg: leg.clone() },
        );
        Ok(leg)
    }

    fn originate(&self, req: &Originate) -> Result<LegId, MediaError> {
        let id = self.new_leg(LegKind::Call);
        let leg = id.clone();
        let emit = |after: Duration, e: MediaEvent| self.sink.emit(after, e);
        if req.purpose != LegPurpose::Lead {
            emit(RINGING_AFTER, MediaEvent::Ringing { leg: leg.clone() });
            if req.to.ends_with(SIM_BUSY_SUFFIX) {
                emit(OUTSIDE_ANSWER_AFTER, MediaEvent::Busy { leg: leg.clone() });
            } else {
                emit(
                    OUTSIDE_ANSWER_AFTER,
                    MediaEvent::Answered {
                        leg: leg.clone(),
                        by: AnsweredBy::Human,
                    },
                );
            }
            return Ok(id);
        }
        let index = self.calls.fetch_add(1, Ordering::Relaxed);
        let p = plan(
            &self.config,
            self.seed,
            index,
            &req.hints,
            req.ring_timeout.as_secs_f64(),
        );
        let after = Self::secs(p.after_secs);
        if !matches!(p.outcome, SimOutcome::Failed) || after > RINGING_AFTER {
            emit(
                RINGING_AFTER.min(after),
                MediaEvent::Ringing { leg: leg.clone() },
            );
        }
        match p.outcome {
            SimOutcome::Human => {
                emit(
                    after,
                    MediaEvent::Answered {
                        leg: leg.clone(),
                        by: AnsweredBy::Human,
                    },
                );
                emit(
                    after + Self::secs(p.talk_secs),
                    MediaEvent::RemoteHangUp { leg },
                );
            }
            SimOutcome::Machine => {
                emit(
                    after,
                    MediaEvent::Answered {
                        leg: leg.clone(),
                        by: AnsweredBy::Machine,
                    },
                );
                emit(
                    after + MACHINE_HANGS_UP_AFTER,
                    MediaEvent::RemoteHangUp { leg },
                );
            }
            SimOutcome::NoAnswer => emit(req.ring_timeout, MediaEvent::NoAnswer { leg }),
            SimOutcome::Busy => emit(after, MediaEvent::Busy { leg }),
            SimOutcome::Failed => emit(
                after,
                MediaEvent::Failed {
                    leg,
                    reason: "the carrier refused the call".into(),
                },
            ),
        }
        Ok(id)
    }

    fn bridge(&self, leg: &LegId, pinned: &LegId) -> Result<(), MediaError> {
        self.known(leg, LegKind::Call)?;
        self.known(pinned, LegKind::Pinned)?;
        self.sink.emit(
            TONE,
            MediaEvent::TonePlayed {
                leg: pinned.clone(),
            },
        );
        self.sink.emit(
            TONE,
            MediaEvent::Bridged {
                leg: leg.clone(),
                pinned: pinned.clone(),
            },
        );
        Ok(())
    }

    fn unbridge(&self, leg: &LegId) -> Result<(), MediaError> {
        self.known(leg, LegKind::Call)
    }

    fn mute(&self, pinned: &LegId, _muted: bool) -> Result<(), MediaError> {
        self.known(pinned, LegKind::Pinned)
    }

    fn hold(&self, leg: &LegId, _on_hold: bool) -> Result<(), MediaError> {
        self.known(leg, LegKind::Call)
    }

    fn transfer(&self, leg: &LegId, to: &str) -> Result<(), MediaError> {
        self.known(leg, LegKind::Call)?;
        let ok = !to.ends_with(SIM_BUSY_SUFFIX);
        self.sink.emit(
            OUTSIDE_ANSWER_AFTER,
            MediaEvent::TransferDone {
                leg: leg.clone(),
                ok,
            },
        );
        if ok {
            self.legs().remove(leg);
        }
        Ok(())
    }

    fn join(&self, leg: &LegId, other: &LegId) -> Result<(), MediaError> {
        self.known(leg, LegKind::Call)?;
        self.known(other, LegKind::Call)
    }

    fn play(&self, leg: &LegId, prompt: &str, then_hang_up: bool) -> Result<(), MediaError> {
        self.known(leg, LegKind::Call)?;
        // About 15 characters a second of speech.
        let secs = (prompt.chars().count() as f64 / 15.0).clamp(1.0, 60.0);
        self.sink.emit(
            Self::secs(secs),
            MediaEvent::PromptDone { leg: leg.clone() },
        );
        if then_hang_up {
            self.legs().remove(leg);
        }
        Ok(())
    }

    fn hang_up(&self, leg: &LegId) {
        self.legs().remove(leg);
    }

    fn tear_down(&self, pinned: &LegId) {
        self.legs().remove(pinned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(Duration, MediaEvent)>>);
    impl MediaSink for Recorder {
        fn emit(&self, after: Duration, event: MediaEvent) {
            self.0.lock().unwrap().push((after, event));
        }
    }

    #[test]
    fn a_forced_busy_lead_rings_then_is_busy() {
        let rec = Arc::new(Recorder::default());
        let sim = SimProvider::new(SimConfig::default(), 1, rec.clone());
        let leg = sim
            .originate(&Originate {
                to: "+12025550123".into(),
                caller_id: "+12025550100".into(),
                ring_timeout: Duration::from_secs(25),
                purpose: LegPurpose::Lead,
                hints: vec![
                    ("sim.outcome".into(), "busy".into()),
                    ("sim.ring_seconds".into(), "4".into()),
                ],
            })
            .unwrap();
        let got = rec.0.lock().unwrap().clone();
        assert_eq!(
            got,
            vec![
                (RINGING_AFTER, MediaEvent::Ringing { leg: leg.clone() }),
                (Duration::from_secs(4), MediaEvent::Busy { leg }),
            ]
        );
    }

    #[test]
    fn controls_on_unknown_legs_are_refused() {
        let sim = SimProvider::new(SimConfig::default(), 1, Arc::new(Recorder::default()));
        let pinned = sim.create_pinned_leg("a").unwrap();
        assert!(sim.mute(&pinned, true).is_ok());
        assert!(sim.hold(&pinned, true).is_err(), "a pinned leg is not held");
        sim.tear_down(&pinned);
        assert!(sim.mute(&pinned, true).is_err());
    }
}
