//! Answering-machine detection on a lead leg's first seconds of audio.
//!
//! An energy and cadence detector, after the rules contact centres have
//! used for decades (Asterisk's `AMD()` is the best-known open one): a
//! person answers with a short greeting ("Hello?") and then waits for the
//! caller; a machine plays a long greeting of several words without a
//! pause long enough for a reply. Frames of 20 ms are voiced when their
//! energy stands a margin above a noise floor that follows the line's own
//! noise; voiced runs make words; the greeting's length, its word count and
//! the silence after it decide, within [`AmdSettings::decide_within_ms`].
//! When nothing decides by then the call is taken as a person: sending a
//! person to the voicemail branch loses them, sending a machine to an agent
//! costs the agent a few seconds.
//!
//! Measured on the labelled set the tests generate (espeak-ng voices, sox
//! noise, beeps): see `tests/amd/main.rs` and docs/benchmarks.md.

use super::g711;

/// Frame length: one RTP packet.
const FRAME_MS: u32 = 20;
const FRAME: usize = g711::SAMPLES_PER_PACKET;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmdSettings {
    /// A frame is voiced this many dB over the noise floor…
    pub margin_db: f64,
    /// …and over this absolute level (dBFS).
    pub min_level_dbfs: f64,
    /// Voiced this long starts a word.
    pub min_word_ms: u32,
    /// Unvoiced this long ends a word (shorter gaps are inside one).
    pub between_words_ms: u32,
    /// Silence this long after the greeting: a person waiting for a reply.
    pub after_greeting_ms: u32,
    /// Greeting speech longer than this: a machine.
    pub max_greeting_ms: u32,
    /// More words than this: a machine.
    pub max_words: u32,
    /// No speech at all for this long: a machine (a dead air start is
    /// typical of voicemail systems picking up).
    pub initial_silence_ms: u32,
    /// Decide by now whatever the audio; undecided means a person.
    pub decide_within_ms: u32,
}

impl Default for AmdSettings {
    fn default() -> Self {
        AmdSettings {
            margin_db: 12.0,
            min_level_dbfs: -50.0,
            min_word_ms: 100,
            between_words_ms: 160,
            after_greeting_ms: 700,
            max_greeting_ms: 1900,
            max_words: 4,
            initial_silence_ms: 2500,
            decide_within_ms: 3000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmdVerdict {
    Human,
    Machine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmdDecision {
    pub verdict: AmdVerdict,
    /// Milliseconds of audio heard when it decided.
    pub at_ms: u32,
    /// Which rule decided, for logs and the call's events.
    pub why: &'static str,
}

/// A streaming detector: feed it the lead's audio as it arrives.
#[derive(Debug, Clone)]
pub struct Amd {
    s: AmdSettings,
    pending: Vec<i16>,
    heard_ms: u32,
    floor: Option<f64>,
    in_word: bool,
    voiced_run: u32,
    gap: u32,
    words: u32,
    first_speech: Option<u32>,
    decided: Option<AmdDecision>,
}

impl Amd {
    pub fn new(s: AmdSettings) -> Self {
        Amd {
            s,
            pending: Vec::with_capacity(FRAME),
            heard_ms: 0,
            floor: None,
            in_word: false,
            voiced_run: 0,
            gap: 0,
            words: 0,
            first_speech: None,
            decided: None,
        }
    }

    /// The decision, once made.
    pub fn decision(&self) -> Option<AmdDecision> {
        self.decided
    }

    /// Linear 16-bit samples at 8 kHz, any count.
    pub fn push(&mut self, samples: &[i16]) -> Option<AmdDecision> {
        for &x in samples {
            if self.decided.is_some() {
                break;
            }
            self.pending.push(x);
            if self.pending.len() == FRAME {
                let frame = std::mem::take(&mut self.pending);
                self.frame(&frame);
                self.pending = frame;
                self.pending.clear();
            }
        }
        self.decided
    }

    /// μ-law bytes as they come off RTP.
    pub fn push_ulaw(&mut self, payload: &[u8]) -> Option<AmdDecision> {
        let linear: Vec<i16> = payload.iter().map(|u| g711::ulaw_to_linear(*u)).collect();
        self.push(&linear)
    }

    /// Decide on a whole recording (the audio after answer); undecided at
    /// its end means a person.
    pub fn classify(s: AmdSettings, samples: &[i16]) -> AmdDecision {
        let mut amd = Amd::new(s);
        amd.push(samples).unwrap_or(AmdDecision {
            verdict: AmdVerdict::Human,
            at_ms: amd.heard_ms,
            why: "audio ended undecided",
        })
    }

    fn frame(&mut self, frame: &[i16]) {
        self.heard_ms += FRAME_MS;
        let t = self.heard_ms;
        let power = frame.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / frame.len() as f64;
        let db = 10.0 * (power / f64::from(i16::MAX).powi(2) + 1e-12).log10();
        // The floor drops to quiet frames at once and creeps up 2.5 dB a
        // second, so steady line noise becomes the floor and speech, which
        // comes and goes, does not.
        let floor = match self.floor {
            None => db,
            Some(f) if db < f + 3.0 => db.min(f + 0.05),
            Some(f) => f + 0.05,
        };
        self.floor = Some(floor);
        let voiced = db > (floor + self.s.margin_db).max(self.s.min_level_dbfs);
        if voiced {
            self.voiced_run += FRAME_MS;
            self.gap = 0;
            if self.voiced_run >= self.s.min_word_ms && !self.in_word {
                self.in_word = true;
                self.words += 1;
                self.first_speech
                    .get_or_insert(t.saturating_sub(self.voiced_run));
            }
        } else {
            self.gap += FRAME_MS;
            if self.gap >= self.s.between_words_ms {
                self.in_word = false;
                self.voiced_run = 0;
            }
        }
        let decide = |verdict, why| {
            Some(AmdDecision {
                verdict,
                at_ms: t,
                why,
            })
        };
        self.decided = match self.first_speech {
            Some(first) => {
                let greeting = t - first - self.gap.min(t - first);
                if self.words > self.s.max_words {
                    decide(AmdVerdict::Machine, "too many words")
                } else if !self.in_word && self.gap >= self.s.after_greeting_ms {
                    decide(AmdVerdict::Human, "short greeting, then silence")
                } else if self.in_word && greeting >= self.s.max_greeting_ms {
                    decide(AmdVerdict::Machine, "long greeting")
                } else {
                    None
                }
            }
            None if t >= self.s.initial_silence_ms => {
                decide(AmdVerdict::Machine, "silence from the start")
            }
            None => None,
        }
        .or(if t >= self.s.decide_within_ms {
            decide(AmdVerdict::Human, "undecided in time")
        } else {
            None
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tone burst standing in for speech, and line noise, at 8 kHz.
    fn tone(ms: u32, amp: f64) -> Vec<i16> {
        (0..ms * 8)
            .map(|i| {
                (amp * (f64::from(i) * 2.0 * std::f64::consts::PI * 300.0 / 8000.0).sin()) as i16
            })
            .collect()
    }

    fn quiet(ms: u32) -> Vec<i16> {
        // Deterministic low noise (about −60 dBFS).
        (0..ms * 8).map(|i| ((i * 7919 % 61) as i16) - 30).collect()
    }

    fn audio(parts: &[(bool, u32)]) -> Vec<i16> {
        parts
            .iter()
            .flat_map(|&(speech, ms)| if speech { tone(ms, 8000.0) } else { quiet(ms) })
            .collect()
    }

    #[test]
    fn a_short_hello_then_silence_is_a_person() {
        let a = audio(&[(false, 300), (true, 600), (false, 3000)]);
        let d = Amd::classify(AmdSettings::default(), &a);
        assert_eq!(d.verdict, AmdVerdict::Human, "{d:?}");
        assert_eq!(d.why, "short greeting, then silence");
        // 300 ms before, 600 ms hello, 700 ms of silence.
        assert!((1500..=1700).contains(&d.at_ms), "{d:?}");
    }

    /// 200 ms of line noise, then `n` words of `on` ms with `off` between.
    fn words(n: usize, on: u32, off: u32) -> Vec<i16> {
        let mut parts = vec![(false, 200)];
        parts.extend([(true, on), (false, off)].repeat(n));
        audio(&parts)
    }

    #[test]
    fn a_long_greeting_is_a_machine() {
        let d = Amd::classify(AmdSettings::default(), &words(4, 500, 100));
        assert_eq!(d.verdict, AmdVerdict::Machine, "{d:?}");
        assert_eq!(d.why, "long greeting");
        assert!(d.at_ms <= 2300, "{d:?}");
    }

    #[test]
    fn many_short_words_are_a_machine() {
        let d = Amd::classify(AmdSettings::default(), &words(6, 150, 200));
        assert_eq!((d.verdict, d.why), (AmdVerdict::Machine, "too many words"));
    }

    #[test]
    fn dead_air_is_a_machine_and_nothing_waits_past_the_deadline() {
        let d = Amd::classify(AmdSettings::default(), &quiet(5000));
        assert_eq!((d.verdict, d.at_ms), (AmdVerdict::Machine, 2500));
        // Speech that neither stops nor runs long enough by 3 s: a person.
        let s = AmdSettings {
            max_greeting_ms: 10_000,
            ..AmdSettings::default()
        };
        let d = Amd::classify(s, &audio(&[(false, 100), (true, 5000)]));
        assert_eq!((d.verdict, d.at_ms), (AmdVerdict::Human, 3000));
    }

    #[test]
    fn steady_noise_is_not_speech_and_packets_may_be_any_size() {
        // A loud hum from the start becomes the floor; the hello over it
        // still counts, fed as μ-law in odd-sized pieces.
        let hum = |ms: u32| tone(ms, 600.0);
        let mut a = hum(300);
        a.extend(
            tone(600, 9000.0)
                .iter()
                .zip(hum(600))
                .map(|(x, y)| x.saturating_add(y)),
        );
        a.extend(hum(3000));
        let ulaw: Vec<u8> = a.iter().map(|x| g711::linear_to_ulaw(*x)).collect();
        let mut amd = Amd::new(AmdSettings::default());
        let mut got = None;
        for chunk in ulaw.chunks(97) {
            got = got.or(amd.push_ulaw(chunk));
        }
        let d = got.expect("decided");
        assert_eq!(d.verdict, AmdVerdict::Human, "{d:?}");
        assert_eq!(amd.decision(), Some(d));
    }
}
