//! A call's recording as the API shows it (the audio itself is served by
//! `GET /recordings/{callId}`).

use async_graphql::{Enum, Object, SimpleObject};

use crate::store;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RecordingState {
    /// Being made.
    Recording,
    /// Paused by the agent (a payment card being read out).
    Paused,
    /// Finished with the call.
    Done,
    /// A crash ended it: it plays to its last second.
    Cut,
}

/// A paused span, in seconds from the recording's start (silence in both
/// channels).
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct PausedSpan {
    pub from: f64,
    /// Null while still paused.
    pub to: Option<f64>,
}

/// A call's recording: the lead on one channel, the agent side on the
/// other.
pub struct Recording(pub store::recordings::Recording);

#[Object]
impl Recording {
    async fn state(&self) -> RecordingState {
        match self.0.state.as_str() {
            "RECORDING" => RecordingState::Recording,
            "PAUSED" => RecordingState::Paused,
            "CUT" => RecordingState::Cut,
            _ => RecordingState::Done,
        }
    }
    async fn duration_seconds(&self) -> f64 {
        self.0.frames as f64 / f64::from(crate::recording::wav::RATE)
    }
    /// Channel 1 the lead, channel 2 the agent side.
    async fn channels(&self) -> i32 {
        i32::from(crate::recording::wav::CHANNELS)
    }
    /// Bytes kept (16,000 a second of audio, plus a 58-byte header).
    async fn size_bytes(&self) -> i32 {
        i32::try_from(self.0.size_bytes).unwrap_or(i32::MAX)
    }
    async fn paused_spans(&self) -> Vec<PausedSpan> {
        let spans: Vec<serde_json::Value> =
            serde_json::from_str(&self.0.paused_spans).unwrap_or_default();
        spans
            .iter()
            .filter_map(|s| {
                Some(PausedSpan {
                    from: s["fromMs"].as_u64()? as f64 / 1000.0,
                    to: s["toMs"].as_u64().map(|t| t as f64 / 1000.0),
                })
            })
            .collect()
    }
    /// Where the audio is served (16-bit PCM WAV; byte ranges; with the
    /// same bearer token).
    async fn url(&self) -> String {
        format!("/recordings/{}", self.0.call_id)
    }
}
