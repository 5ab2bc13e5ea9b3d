//! RTP (RFC 3550) for the relayed media path: packet parsing and building,
//! and the rewriting that keeps an agent's pinned leg one continuous
//! stream while leads come and go.
//!
//! The agent's phone or browser sees a single RTP stream for the whole
//! shift: one SSRC, sequence numbers that step by one, timestamps that
//! advance with the audio — across silence while idle, the connect tone,
//! each lead's audio in turn. Leads' packets arrive with their own SSRC,
//! sequence and timestamp bases; [`Outbound`] rewrites the header and
//! passes the PCMU payload through untouched (no transcoding).

use thiserror::Error;

use super::g711;

/// PCMU's static payload type.
pub const PT_PCMU: u8 = 0;
/// Timestamp units per 20-ms packet at 8 kHz.
pub const TS_PER_PACKET: u32 = g711::SAMPLES_PER_PACKET as u32;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RtpError {
    #[error("RTP packet too short ({0} bytes)")]
    Short(usize),
    #[error("not RTP version 2 (version {0})")]
    Version(u8),
    #[error("RTP header runs past the packet (CSRC, extension or padding)")]
    Truncated,
}

/// An RTP packet's header fields and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

impl RtpPacket {
    /// Parse a datagram; CSRCs, a header extension and padding are skipped.
    pub fn parse(b: &[u8]) -> Result<RtpPacket, RtpError> {
        if b.len() < 12 {
            return Err(RtpError::Short(b.len()));
        }
        let version = b[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let padding = b[0] & 0x20 != 0;
        let extension = b[0] & 0x10 != 0;
        let csrcs = usize::from(b[0] & 0x0F);
        let mut start = 12 + 4 * csrcs;
        if extension {
            let words = b.get(start + 2..start + 4).ok_or(RtpError::Truncated)?;
            start += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        let mut end = b.len();
        if padding {
            let pad = usize::from(*b.last().ok_or(RtpError::Truncated)?);
            end = end.checked_sub(pad).ok_or(RtpError::Truncated)?;
        }
        if start > end {
            return Err(RtpError::Truncated);
        }
        Ok(RtpPacket {
            marker: b[1] & 0x80 != 0,
            payload_type: b[1] & 0x7F,
            sequence: u16::from_be_bytes([b[2], b[3]]),
            timestamp: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            payload: b[start..end].to_vec(),
        })
    }

    /// The datagram: a plain 12-byte header and the payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(12 + self.payload.len());
        b.push(0x80);
        b.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7F));
        b.extend_from_slice(&self.sequence.to_be_bytes());
        b.extend_from_slice(&self.timestamp.to_be_bytes());
        b.extend_from_slice(&self.ssrc.to_be_bytes());
        b.extend_from_slice(&self.payload);
        b
    }
}

/// One 20-ms PCMU packet of silence.
pub fn silence_payload() -> Vec<u8> {
    vec![g711::linear_to_ulaw(0); g711::SAMPLES_PER_PACKET]
}

/// The connect tone played to the agent when a lead is bridged: a short
/// two-note chime (660 then 880 Hz, `ms` in all), as 20-ms PCMU payloads.
pub fn connect_tone(ms: u32) -> Vec<Vec<u8>> {
    let samples = (ms * 8) as usize;
    let half = (samples / 2).max(1);
    let pcm: Vec<u8> = (0..samples)
        .map(|i| {
            let f = if i < half { 660.0 } else { 880.0 };
            let t = i as f64 / 8000.0;
            // A 5-ms fade at each end of each note, so it does not click.
            let at = i % half;
            let edge = at.min(half - 1 - at) as f64 / 40.0;
            let amp = 8000.0 * edge.min(1.0);
            g711::linear_to_ulaw((amp * (2.0 * std::f64::consts::PI * f * t).sin()) as i16)
        })
        .collect();
    pcm.chunks(g711::SAMPLES_PER_PACKET)
        .map(|c| {
            let mut p = c.to_vec();
            p.resize(g711::SAMPLES_PER_PACKET, g711::linear_to_ulaw(0));
            p
        })
        .collect()
}

/// The stream the server sends on one leg: its own SSRC, a sequence that
/// steps by one, a timestamp that advances with the audio sent and with
/// the time between, whatever the source of each packet.
#[derive(Debug, Clone)]
pub struct Outbound {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    /// The source the last packet came from, and its last timestamp: a
    /// source's own timestamp gaps (silence suppression) carry over.
    source: Option<(u32, u32)>,
    marker_next: bool,
}

impl Outbound {
    pub fn new(ssrc: u32, first_sequence: u16, first_timestamp: u32) -> Self {
        Outbound {
            ssrc,
            sequence: first_sequence,
            timestamp: first_timestamp,
            source: None,
            marker_next: true,
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// A packet the server makes itself (silence, tone): the next 20 ms.
    pub fn own(&mut self, payload: Vec<u8>) -> RtpPacket {
        if self.source.take().is_some() {
            self.marker_next = true;
        }
        let ts = payload.len() as u32;
        self.emit(payload, ts)
    }

    /// A packet relayed from a lead: payload untouched, header rewritten.
    /// The first packet of a new source starts a talk spurt (marker); a
    /// source's own timestamp step is kept, so a gap it left stays a gap.
    pub fn relay(&mut self, p: &RtpPacket) -> RtpPacket {
        let len = p.payload.len() as u32;
        match self.source {
            Some((ssrc, last)) if ssrc == p.ssrc => {
                // A gap the source left (more than one packet on, under
                // 5 s) stays a gap; reordered, repeated or absurd steps
                // count as one packet.
                let d = p.timestamp.wrapping_sub(last);
                if d > len && d <= 8000 * 5 {
                    self.timestamp = self.timestamp.wrapping_add(d - len);
                }
            }
            _ => self.marker_next = true,
        }
        self.source = Some((p.ssrc, p.timestamp));
        let mut out = self.emit(p.payload.clone(), len);
        out.payload_type = p.payload_type;
        out
    }

    fn emit(&mut self, payload: Vec<u8>, duration: u32) -> RtpPacket {
        let p = RtpPacket {
            marker: std::mem::take(&mut self.marker_next),
            payload_type: PT_PCMU,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            payload,
        };
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(duration);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead_packet(ssrc: u32, seq: u16, ts: u32, byte: u8) -> RtpPacket {
        RtpPacket {
            marker: false,
            payload_type: PT_PCMU,
            sequence: seq,
            timestamp: ts,
            ssrc,
            payload: vec![byte; 160],
        }
    }

    #[test]
    fn packets_round_trip_and_bad_ones_are_refused() {
        let p = lead_packet(0xDEAD_BEEF, 65_535, 4_294_967_200, 0x55);
        let b = p.to_bytes();
        assert_eq!(b.len(), 172);
        assert_eq!(RtpPacket::parse(&b), Ok(p.clone()));
        // CSRCs, an extension and padding are skipped over.
        let mut x = vec![0x80 | 0x20 | 0x10 | 0x01, 0x00];
        x.extend_from_slice(&b[2..12]);
        x.extend_from_slice(&[1, 2, 3, 4]); // one CSRC
        x.extend_from_slice(&[0xBE, 0xDE, 0, 1, 9, 9, 9, 9]); // extension, 1 word
        x.extend_from_slice(&p.payload);
        x.extend_from_slice(&[0, 0, 3]); // 3 bytes of padding
        assert_eq!(
            RtpPacket::parse(&x).map(|q| q.payload),
            Ok(p.payload.clone())
        );
        assert_eq!(RtpPacket::parse(&b[..11]), Err(RtpError::Short(11)));
        let mut v1 = b.clone();
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::Version(1)));
        let mut lying = b[..12].to_vec();
        lying[0] |= 0x0F; // 15 CSRCs in a 12-byte packet
        assert_eq!(RtpPacket::parse(&lying), Err(RtpError::Truncated));
        let mut pad = b[..12].to_vec();
        pad[0] |= 0x20;
        pad.push(200);
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::Truncated));
    }

    #[test]
    fn the_agent_stream_stays_continuous_across_leads() {
        let mut out = Outbound::new(0x1234_5678, 65_534, 4_294_967_000);
        let mut sent = Vec::new();
        // Idle: silence.
        for _ in 0..3 {
            sent.push(out.own(silence_payload()));
        }
        // The tone, then the first lead (its own SSRC and bases).
        for t in connect_tone(200) {
            sent.push(out.own(t));
        }
        for k in 0..5u16 {
            sent.push(out.relay(&lead_packet(
                0xAAAA,
                1000 + k,
                50_000 + u32::from(k) * 160,
                7,
            )));
        }
        // Idle again, then a second lead with other bases.
        sent.push(out.own(silence_payload()));
        for k in 0..3u16 {
            sent.push(out.relay(&lead_packet(0xBBBB, 9 + k, 7 + u32::from(k) * 160, 9)));
        }
        for w in sent.windows(2) {
            assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1));
            assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(TS_PER_PACKET));
            assert_eq!(w[1].ssrc, 0x1234_5678);
        }
        // The payloads pass through untouched; each lead marks a talk spurt.
        assert!(sent[0].marker, "the stream starts a spurt");
        let first_lead = 3 + connect_tone(200).len();
        assert_eq!(sent[first_lead].payload, vec![7; 160]);
        assert!(sent[first_lead].marker && !sent[first_lead + 1].marker);
        assert!(sent.last().is_some_and(|p| p.payload == vec![9; 160]));
    }

    #[test]
    fn a_lead_gap_stays_a_gap() {
        let mut out = Outbound::new(1, 0, 0);
        let a = out.relay(&lead_packet(5, 1, 1000, 1));
        // The lead skipped 3 packets of silence (timestamp +640).
        let b = out.relay(&lead_packet(5, 2, 1640, 1));
        assert_eq!(b.sequence, a.sequence + 1);
        assert_eq!(b.timestamp, a.timestamp + 640);
        // A repeated timestamp counts as one packet on.
        let c = out.relay(&lead_packet(5, 3, 1640, 1));
        assert_eq!(c.timestamp, b.timestamp + 160);
    }

    #[test]
    fn the_connect_tone_is_audible_and_sized_in_packets() {
        let tone = connect_tone(200);
        assert_eq!(tone.len(), 10);
        assert!(tone.iter().all(|p| p.len() == 160));
        let loud = tone[2]
            .iter()
            .map(|u| i32::from(g711::ulaw_to_linear(*u)).abs())
            .max();
        assert!(loud.is_some_and(|m| m > 6000), "{loud:?}");
        assert!(
            silence_payload()
                .iter()
                .all(|u| g711::ulaw_to_linear(*u) == 0)
        );
    }
}
