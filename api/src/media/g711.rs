//! G.711 μ-law (PCMU), the codec lead and agent legs speak: 8 kHz, one byte
//! a sample. Relayed legs pass the bytes through untouched; these are for
//! what the server itself hears (answering-machine detection) and says
//! (the connect tone).

/// Samples per 20-ms RTP packet at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;

const BIAS: i32 = 0x84;
const CLIP: i32 = 32_635;

/// One μ-law byte to a 16-bit linear sample (ITU-T G.711).
pub fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    let v = if sign != 0 { -magnitude } else { magnitude };
    // |v| ≤ 32,124 by construction.
    v as i16
}

/// One 16-bit linear sample to μ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut v = i32::from(sample);
    let sign = if v < 0 {
        v = -v;
        0x80
    } else {
        0
    };
    v = v.min(CLIP) + BIAS;
    let mut exponent = 7u8;
    let mut mask = 0x4000;
    while exponent > 0 && v & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = ((v >> (exponent + 3)) & 0x0F) as u8;
    !(sign | (exponent << 4) | mantissa)
}

/// `ms` of a sine at `hz` as 8-kHz μ-law at about −12 dBFS (test tones,
/// benchmark audio).
pub fn sine(hz: f64, ms: u32) -> Vec<u8> {
    (0..ms * 8)
        .map(|n| {
            let x = (2.0 * std::f64::consts::PI * hz * f64::from(n) / 8000.0).sin();
            linear_to_ulaw((x * 8000.0) as i16)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_round_trips_within_its_quantization() {
        // Digital silence is 0xFF, and full scale stays full scale.
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(linear_to_ulaw(i16::MAX)), 32_124);
        assert_eq!(ulaw_to_linear(linear_to_ulaw(i16::MIN)), -32_124);
        for s in (-32_000i16..32_000).step_by(7) {
            let back = ulaw_to_linear(linear_to_ulaw(s));
            // μ-law keeps about 4 bits of mantissa: error under 1/16 of the
            // value (plus the smallest step near zero).
            let err = (i32::from(back) - i32::from(s)).abs();
            assert!(err <= i32::from(s).abs() / 16 + 8, "{s} → {back}");
        }
        // Every byte decodes to a value that encodes back to itself (0x7F
        // and 0xFF are both zero).
        for u in 0..=255u8 {
            let again = linear_to_ulaw(ulaw_to_linear(u));
            assert!(again == u || ulaw_to_linear(again) == ulaw_to_linear(u));
        }
    }
}
