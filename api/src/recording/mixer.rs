//! Two sides of a call into one time-aligned pair of channels. Audio is
//! placed by when it arrived (milliseconds since the recording started),
//! each side kept contiguous while its packets come on time (a packet
//! within [`SLACK_MS`] of where the last one ended follows it, so
//! scheduling jitter never opens gaps or clicks), and put back in step
//! when a side falls silent or drifts further. Frames are given out once
//! every side has had [`LAG_MS`] to deliver them; what a side never
//! sent is silence. A paused span is silence in both channels, and kept.

use super::wav::{CHANNELS, SILENCE};

/// Which channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Channel 0.
    Lead,
    /// Channel 1: the agent, and anyone conferenced in with them.
    Agent,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Lead => 0,
            Side::Agent => 1,
        }
    }
}

/// How far a packet may stray from where its side's last one ended and
/// still follow it.
pub const SLACK_MS: u64 = 60;
/// How long frames wait for late audio before they are given out.
pub const LAG_MS: u64 = 200;

const PER_MS: u64 = 8;

/// A paused span, in milliseconds since the recording started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from_ms: u64,
    /// `None` while still paused.
    pub to_ms: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Mixer {
    /// Frames given out so far.
    out: u64,
    /// Per side, the samples from frame `out` on (`None`: nothing there).
    ahead: [Vec<Option<u8>>; 2],
    /// Per side, the frame after its last packet.
    next: [Option<u64>; 2],
    spans: Vec<Span>,
}

impl Mixer {
    pub fn new() -> Mixer {
        Mixer::default()
    }

    /// `side`'s μ-law samples, arrived `at_ms` after the start. Audio for
    /// frames already given out is dropped (it came too late).
    pub fn push(&mut self, side: Side, at_ms: u64, samples: &[u8]) {
        let s = side.index();
        let arrived = at_ms * PER_MS;
        let at = match self.next[s] {
            Some(next) if arrived.abs_diff(next) <= SLACK_MS * PER_MS => next,
            _ => arrived,
        };
        self.next[s] = Some(at + samples.len() as u64);
        let (skip, start) = if at < self.out {
            ((self.out - at) as usize, 0)
        } else {
            (0, (at - self.out) as usize)
        };
        if skip >= samples.len() {
            return;
        }
        let buf = &mut self.ahead[s];
        let end = start + samples.len() - skip;
        if buf.len() < end {
            buf.resize(end, None);
        }
        for (slot, b) in buf[start..end].iter_mut().zip(&samples[skip..]) {
            *slot = Some(*b);
        }
    }

    /// Recording paused at `at_ms` (no effect while paused).
    pub fn pause(&mut self, at_ms: u64) {
        if self.paused() {
            return;
        }
        self.spans.push(Span {
            from_ms: at_ms,
            to_ms: None,
        });
    }

    /// Recording resumed at `at_ms` (no effect unless paused).
    pub fn resume(&mut self, at_ms: u64) {
        if let Some(open) = self.spans.last_mut().filter(|s| s.to_ms.is_none()) {
            open.to_ms = Some(at_ms.max(open.from_ms));
        }
    }

    pub fn paused(&self) -> bool {
        self.spans.last().is_some_and(|s| s.to_ms.is_none())
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Frames given out so far (the recording's length, in 1/8 ms).
    pub fn frames(&self) -> u64 {
        self.out
    }

    /// The interleaved frames that are ready at `now_ms` (every side has
    /// had [`LAG_MS`] to deliver them).
    pub fn ready(&mut self, now_ms: u64) -> Vec<u8> {
        let until = now_ms.saturating_sub(LAG_MS) * PER_MS;
        self.take_until(until)
    }

    /// Every frame up to `end_ms` (the call ended): the rest is silence,
    /// an open pause ends there.
    pub fn finish(&mut self, end_ms: u64) -> Vec<u8> {
        self.resume(end_ms);
        let mut until = end_ms * PER_MS;
        // What arrived before the end is kept whole.
        for buf in &self.ahead {
            until = until.max(self.out + buf.len() as u64);
        }
        self.take_until(until)
    }

    fn take_until(&mut self, until: u64) -> Vec<u8> {
        if until <= self.out {
            return Vec::new();
        }
        let n = (until - self.out) as usize;
        let mut frames = Vec::with_capacity(n * usize::from(CHANNELS));
        for i in 0..n {
            let frame = self.out + i as u64;
            let silent = self.in_pause(frame);
            for buf in &self.ahead {
                let sample = buf.get(i).copied().flatten().unwrap_or(SILENCE);
                frames.push(if silent { SILENCE } else { sample });
            }
        }
        for buf in &mut self.ahead {
            buf.drain(..n.min(buf.len()));
        }
        self.out = until;
        frames
    }

    fn in_pause(&self, frame: u64) -> bool {
        let ms = frame / PER_MS;
        self.spans
            .iter()
            .any(|s| ms >= s.from_ms && s.to_ms.is_none_or(|to| ms < to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711::{SAMPLES_PER_PACKET, sine};

    fn channel(frames: &[u8], side: Side) -> Vec<u8> {
        frames.chunks(2).map(|f| f[side.index()]).collect()
    }

    /// Hz of the strongest of a few candidate tones in μ-law audio.
    fn tone_of(audio: &[u8]) -> Option<u32> {
        let linear: Vec<f64> = audio
            .iter()
            .map(|b| f64::from(crate::media::g711::ulaw_to_linear(*b)))
            .collect();
        let power = |hz: f64| {
            let (mut re, mut im) = (0.0, 0.0);
            for (n, x) in linear.iter().enumerate() {
                let w = 2.0 * std::f64::consts::PI * hz * n as f64 / 8000.0;
                re += x * w.cos();
                im += x * w.sin();
            }
            (re * re + im * im).sqrt() / linear.len().max(1) as f64
        };
        [440u32, 1000]
            .into_iter()
            .map(|hz| (hz, power(f64::from(hz))))
            .filter(|(_, p)| *p > 500.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(hz, _)| hz)
    }

    /// A second of each side's tone, 20-ms packets arriving with a little
    /// jitter.
    fn call(m: &mut Mixer, from_ms: u64, ms: u64) -> Vec<u8> {
        let lead = sine(440.0, ms as u32);
        let agent = sine(1000.0, ms as u32);
        let mut out = Vec::new();
        for (k, (l, a)) in lead
            .chunks(SAMPLES_PER_PACKET)
            .zip(agent.chunks(SAMPLES_PER_PACKET))
            .enumerate()
        {
            let at = from_ms + k as u64 * 20;
            m.push(Side::Lead, at + (k as u64 * 7) % 5, l);
            m.push(Side::Agent, at + (k as u64 * 3) % 4, a);
            out.extend(m.ready(at));
        }
        out
    }

    #[test]
    fn each_side_has_its_own_channel() {
        let mut m = Mixer::new();
        let mut frames = call(&mut m, 0, 1000);
        frames.extend(m.finish(1000));
        assert_eq!(frames.len(), 8000 * 2);
        assert_eq!(tone_of(&channel(&frames, Side::Lead)), Some(440));
        assert_eq!(tone_of(&channel(&frames, Side::Agent)), Some(1000));
        // Jitter under the slack opened no gap (a tone's zero crossings
        // are silence for a sample or two, never longer).
        for side in [Side::Lead, Side::Agent] {
            let c = channel(&frames, side);
            let longest = c
                .split(|b| *b != SILENCE)
                .map(<[u8]>::len)
                .max()
                .unwrap_or(0);
            assert!(longest < 4, "a gap of {longest} samples in {side:?}");
        }
    }

    #[test]
    fn sides_are_aligned_by_arrival_and_silence_fills_the_rest() {
        let mut m = Mixer::new();
        // The agent speaks from 0, the lead only from 500 ms.
        m.push(Side::Agent, 0, &[1; 160]);
        m.push(Side::Lead, 500, &[2; 160]);
        let frames = m.finish(600);
        let (lead, agent) = (channel(&frames, Side::Lead), channel(&frames, Side::Agent));
        assert_eq!(lead.len(), 4800);
        assert!(lead[..4000].iter().all(|b| *b == SILENCE));
        assert!(lead[4000..4160].iter().all(|b| *b == 2));
        assert!(agent[..160].iter().all(|b| *b == 1));
        assert!(agent[160..].iter().all(|b| *b == SILENCE));
    }

    #[test]
    fn a_side_that_drifts_past_the_slack_is_put_back_in_step() {
        let mut m = Mixer::new();
        m.push(Side::Lead, 0, &[3; 160]);
        // The next packet 200 ms late: placed where it arrived, not at 20.
        m.push(Side::Lead, 220, &[4; 160]);
        let lead = channel(&m.finish(300), Side::Lead);
        assert!(lead[160..1760].iter().all(|b| *b == SILENCE));
        assert!(lead[1760..1920].iter().all(|b| *b == 4));
    }

    #[test]
    fn frames_wait_for_late_audio_then_late_audio_is_dropped() {
        let mut m = Mixer::new();
        m.push(Side::Agent, 0, &[5; 160]);
        assert!(
            m.ready(100).is_empty(),
            "within the lag nothing is given out"
        );
        let first = m.ready(300);
        assert_eq!(first.len(), 800 * 2, "100 ms given out");
        // The lead's packet for 0..20 ms arrives after it was given out.
        m.push(Side::Lead, 0, &[6; 160]);
        let rest = m.finish(300);
        assert!(!channel(&rest, Side::Lead).contains(&6));
        assert_eq!(m.frames(), 300 * 8);
    }

    #[test]
    fn a_pause_is_silence_in_both_channels_and_a_kept_span() {
        let mut m = Mixer::new();
        let mut frames = Vec::new();
        let lead = sine(440.0, 1000);
        let agent = sine(1000.0, 1000);
        for k in 0..50u64 {
            let at = k * 20;
            if at == 300 {
                m.pause(300);
            }
            if at == 700 {
                m.resume(700);
            }
            let r = (k as usize * 160)..(k as usize * 160 + 160);
            m.push(Side::Lead, at, &lead[r.clone()]);
            m.push(Side::Agent, at, &agent[r]);
            frames.extend(m.ready(at));
        }
        frames.extend(m.finish(1000));
        assert_eq!(
            m.spans(),
            &[Span {
                from_ms: 300,
                to_ms: Some(700)
            }]
        );
        for side in [Side::Lead, Side::Agent] {
            let c = channel(&frames, side);
            assert!(
                c[2400..5600].iter().all(|b| *b == SILENCE),
                "{side:?} paused"
            );
            assert!(tone_of(&c[..2400]).is_some() && tone_of(&c[5600..]).is_some());
        }
        // Pausing twice, or resuming when not paused, changes nothing.
        m.resume(900);
        assert_eq!(m.spans().len(), 1);
    }

    #[test]
    fn a_pause_open_at_the_end_is_closed_there() {
        let mut m = Mixer::new();
        m.push(Side::Lead, 0, &[8; 160]);
        m.pause(10);
        m.pause(15);
        let frames = m.finish(40);
        assert_eq!(
            m.spans(),
            &[Span {
                from_ms: 10,
                to_ms: Some(40)
            }]
        );
        let lead = channel(&frames, Side::Lead);
        assert!(lead[..80].iter().all(|b| *b == 8));
        assert!(lead[80..].iter().all(|b| *b == SILENCE));
    }
}
