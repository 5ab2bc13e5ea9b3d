//! Spoken prompts on real legs (the safe-harbor message on an abandoned
//! call, a voicemail message): the text is spoken by `espeak-ng` (Debian
//! package `espeak-ng`, needed on a server running `--media sip`), resampled
//! to 8 kHz and encoded as PCMU. Each text is synthesized once and kept.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use crate::media::g711;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("espeak-ng could not run ({0}): install the Debian package espeak-ng")]
    Missing(String),
    #[error("espeak-ng failed: {0}")]
    Failed(String),
    #[error("espeak-ng's output is not a 16-bit mono WAV")]
    NotWav,
}

fn cache() -> &'static Mutex<HashMap<String, Arc<Vec<u8>>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The prompt as 8-kHz μ-law (blocking: run it off the async threads).
pub fn speak(text: &str) -> Result<Arc<Vec<u8>>, PromptError> {
    if let Some(hit) = cache().lock().unwrap_or_else(|p| p.into_inner()).get(text) {
        return Ok(hit.clone());
    }
    let out = Command::new("espeak-ng")
        .args(["--stdout", "-v", "en-us", "-s", "165", "--"])
        .arg(text)
        .output()
        .map_err(|e| PromptError::Missing(e.to_string()))?;
    if !out.status.success() {
        return Err(PromptError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    let (rate, samples) = wav_mono16(&out.stdout).ok_or(PromptError::NotWav)?;
    let ulaw: Vec<u8> = resample_to_8k(&samples, rate)
        .into_iter()
        .map(g711::linear_to_ulaw)
        .collect();
    let ulaw = Arc::new(ulaw);
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(text.to_owned(), ulaw.clone());
    Ok(ulaw)
}

/// Sample rate and samples of a 16-bit mono PCM WAV. espeak-ng writes the
/// sizes as unknown (0x7fffffff) on a pipe: the data runs to the end.
pub fn wav_mono16(b: &[u8]) -> Option<(u32, Vec<i16>)> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return None;
    }
    let mut i = 12;
    let mut rate = None;
    while i + 8 <= b.len() {
        let id = &b[i..i + 4];
        let size = u32::from_le_bytes(b[i + 4..i + 8].try_into().ok()?) as usize;
        let body = i + 8;
        if id == b"fmt " {
            let f = b.get(body..body + 16)?;
            let format = u16::from_le_bytes([f[0], f[1]]);
            let channels = u16::from_le_bytes([f[2], f[3]]);
            let bits = u16::from_le_bytes([f[14], f[15]]);
            if format != 1 || channels != 1 || bits != 16 {
                return None;
            }
            rate = Some(u32::from_le_bytes([f[4], f[5], f[6], f[7]]));
        } else if id == b"data" {
            let end = body.saturating_add(size).min(b.len());
            let samples = b[body..end]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            return Some((rate?, samples));
        }
        i = body.checked_add(size + size % 2)?;
    }
    None
}

/// To 8 kHz: a moving-average low-pass over one output period, then
/// linear interpolation (speech, not music: enough for a prompt).
pub fn resample_to_8k(x: &[i16], rate: u32) -> Vec<i16> {
    if rate == 8000 || x.is_empty() || rate == 0 {
        return x.to_vec();
    }
    let step = f64::from(rate) / 8000.0;
    let width = step.round().max(1.0) as usize;
    let mut smooth = Vec::with_capacity(x.len());
    let mut sum: i64 = 0;
    for (i, &v) in x.iter().enumerate() {
        sum += i64::from(v);
        if i >= width {
            sum -= i64::from(x[i - width]);
        }
        smooth.push(sum as f64 / width.min(i + 1) as f64);
    }
    let n = (x.len() as f64 / step) as usize;
    (0..n)
        .map(|k| {
            let pos = k as f64 * step;
            let i = pos as usize;
            let frac = pos - i as f64;
            let a = smooth[i];
            let b = smooth.get(i + 1).copied().unwrap_or(a);
            (a + (b - a) * frac).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, samples: &[i16], data_size: u32) -> Vec<u8> {
        let mut b = b"RIFF\xff\xff\xff\x7fWAVEfmt ".to_vec();
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_size.to_le_bytes());
        for s in samples {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    #[test]
    fn reads_a_wav_whose_sizes_are_unknown() {
        let (rate, s) = wav_mono16(&wav(22050, &[1, -2, 3], 0x7fff_ffff)).unwrap();
        assert_eq!((rate, s), (22050, vec![1, -2, 3]));
        assert_eq!(wav_mono16(b"RIFX...."), None);
        let mut stereo = wav(8000, &[0, 0], 4);
        stereo[22] = 2;
        assert_eq!(wav_mono16(&stereo), None);
    }

    #[test]
    fn resampling_keeps_a_speech_band_tone_and_the_length() {
        let rate = 22050;
        let x: Vec<i16> = (0..rate)
            .map(|n| {
                ((2.0 * std::f64::consts::PI * 500.0 * n as f64 / rate as f64).sin() * 10000.0)
                    as i16
            })
            .collect();
        let y = resample_to_8k(&x, rate as u32);
        assert!((7990..=8000).contains(&y.len()), "{}", y.len());
        // Still 500 Hz: zero crossings ≈ 1000 a second.
        let crossings = y.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!((990..=1010).contains(&crossings), "{crossings}");
        let peak = y.iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!(peak > 8000, "{peak}");
    }
}
