//! Tones as μ-law and what frequency a run of μ-law audio carries.

use pinline::media::g711;

/// `ms` of a sine at `hz` as 8-kHz μ-law.
pub fn ulaw_tone(hz: f64, ms: u32) -> Vec<u8> {
    g711::sine(hz, ms)
}

/// Power at `hz` relative to the whole signal's (0..1), by Goertzel.
pub fn share_at(samples: &[i16], hz: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut energy = 0.0;
    for &x in samples {
        let x = f64::from(x);
        energy += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if energy == 0.0 {
        0.0
    } else {
        // A pure tone over N samples gives power ≈ energy · N / 2.
        (power / (energy * samples.len() as f64 / 2.0)).min(1.0)
    }
}

/// RMS level in dBFS (−inf for digital silence: −120 here).
pub fn level_dbfs(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return -120.0;
    }
    let ms = samples.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / samples.len() as f64;
    if ms <= 0.0 {
        -120.0
    } else {
        10.0 * (ms / f64::from(i16::MAX).powi(2)).log10()
    }
}

pub fn decode(payload: &[u8]) -> Vec<i16> {
    payload.iter().map(|u| g711::ulaw_to_linear(*u)).collect()
}

/// What a stretch of audio is: silence, or a tone at one of `hz`.
pub fn classify(samples: &[i16], hz: &[f64]) -> String {
    if level_dbfs(samples) < -45.0 {
        return "silence".into();
    }
    hz.iter()
        .map(|f| (f, share_at(samples, *f)))
        .filter(|(_, s)| *s > 0.5)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or_else(|| "other".into(), |(f, _)| format!("{f} Hz"))
}

#[test]
fn the_detector_tells_tones_apart() {
    let a = decode(&ulaw_tone(440.0, 200));
    assert_eq!(classify(&a, &[440.0, 1200.0]), "440 Hz");
    let b = decode(&ulaw_tone(1200.0, 200));
    assert_eq!(classify(&b, &[440.0, 1200.0]), "1200 Hz");
    assert_eq!(classify(&vec![0; 1600], &[440.0]), "silence");
}
