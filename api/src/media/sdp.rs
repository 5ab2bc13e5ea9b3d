//! SDP (RFC 4566) for audio legs, as far as Pinline needs it: the offer it
//! sends (PCMU and telephone-event, 20-ms packets) and reading the far
//! end's answer or offer — where to send RTP, which payload types, which
//! direction.

use std::net::IpAddr;

use thiserror::Error;

use super::rtp::PT_PCMU;

/// The dynamic payload type Pinline offers for DTMF (RFC 4733).
pub const PT_TELEPHONE_EVENT: u8 = 101;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SdpError {
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("SDP audio stream was rejected (port 0)")]
    Rejected,
    #[error("SDP offers no PCMU (payload type 0), the only codec Pinline relays")]
    NoPcmu,
    #[error("SDP has no connection address for its audio")]
    NoAddress,
    #[error("SDP line {line}: {why}")]
    Bad { line: usize, why: &'static str },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// What the far end's SDP says about its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAudio {
    pub address: IpAddr,
    pub port: u16,
    /// The payload types it lists, in its order of preference.
    pub payload_types: Vec<u8>,
    /// Its telephone-event payload type, if it has one.
    pub telephone_event: Option<u8>,
    pub direction: Direction,
    pub ptime_ms: Option<u32>,
}

/// Pinline's offer: PCMU and telephone-event on `port` at `address`.
pub fn offer(session_id: u64, version: u64, address: IpAddr, port: u16) -> String {
    let family = if address.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\n\
         o=pinline {session_id} {version} IN {family} {address}\r\n\
         s=pinline\r\n\
         c=IN {family} {address}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP {PT_PCMU} {PT_TELEPHONE_EVENT}\r\n\
         a=rtpmap:{PT_PCMU} PCMU/8000\r\n\
         a=rtpmap:{PT_TELEPHONE_EVENT} telephone-event/8000\r\n\
         a=fmtp:{PT_TELEPHONE_EVENT} 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    )
}

fn address(value: &str, line: usize) -> Result<IpAddr, SdpError> {
    let mut it = value.split_whitespace();
    match (it.next(), it.next(), it.next()) {
        (Some("IN"), Some("IP4" | "IP6"), Some(a)) => {
            // A multicast TTL or count may follow a slash.
            let a = a.split('/').next().unwrap_or(a);
            a.parse().map_err(|_| SdpError::Bad {
                line,
                why: "connection address is not an IP address",
            })
        }
        _ => Err(SdpError::Bad {
            line,
            why: "expected c=IN IP4|IP6 <address>",
        }),
    }
}

/// Read the far end's SDP: its first audio stream.
pub fn parse(text: &str) -> Result<RemoteAudio, SdpError> {
    let mut session_address = None;
    let mut session_direction = Direction::SendRecv;
    let mut audio: Option<RemoteAudio> = None;
    let mut media_address = None;
    let mut in_audio = false;
    let mut seen_audio = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.is_empty() {
            continue;
        }
        let Some((kind, value)) = raw.split_once('=') else {
            return Err(SdpError::Bad {
                line,
                why: "expected <type>=<value>",
            });
        };
        match kind {
            "m" => {
                if seen_audio {
                    // Only the first audio stream matters; stop at the next m=.
                    in_audio = false;
                    continue;
                }
                let mut f = value.split_whitespace();
                let media = f.next();
                in_audio = media == Some("audio");
                if in_audio {
                    seen_audio = true;
                    let port = f
                        .next()
                        .and_then(|p| p.split('/').next()?.parse().ok())
                        .ok_or(SdpError::Bad {
                            line,
                            why: "m=audio needs a port",
                        })?;
                    let _proto = f.next();
                    let payload_types = f.filter_map(|p| p.parse().ok()).collect();
                    audio = Some(RemoteAudio {
                        address: IpAddr::from([0, 0, 0, 0]),
                        port,
                        payload_types,
                        telephone_event: None,
                        direction: session_direction,
                        ptime_ms: None,
                    });
                }
            }
            "c" if in_audio => media_address = Some(address(value, line)?),
            "c" if !seen_audio => session_address = Some(address(value, line)?),
            "a" => {
                let direction = match value {
                    "sendrecv" => Some(Direction::SendRecv),
                    "sendonly" => Some(Direction::SendOnly),
                    "recvonly" => Some(Direction::RecvOnly),
                    "inactive" => Some(Direction::Inactive),
                    _ => None,
                };
                match (direction, in_audio, audio.as_mut()) {
                    (Some(d), false, _) if !seen_audio => session_direction = d,
                    (Some(d), true, Some(a)) => a.direction = d,
                    (None, true, Some(a)) => {
                        if let Some(map) = value.strip_prefix("rtpmap:") {
                            let mut f = map.split_whitespace();
                            let pt = f.next().and_then(|p| p.parse::<u8>().ok());
                            let enc = f.next().unwrap_or("");
                            if enc.to_ascii_lowercase().starts_with("telephone-event/") {
                                a.telephone_event = pt;
                            }
                        } else if let Some(p) = value.strip_prefix("ptime:") {
                            a.ptime_ms = p.trim().parse().ok();
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let mut a = audio.ok_or(SdpError::NoAudio)?;
    if a.port == 0 {
        return Err(SdpError::Rejected);
    }
    if !a.payload_types.contains(&PT_PCMU) {
        return Err(SdpError::NoPcmu);
    }
    a.address = media_address
        .or(session_address)
        .ok_or(SdpError::NoAddress)?;
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinlines_offer_reads_back() {
        let o = offer(7, 1, "192.0.2.10".parse().unwrap(), 40_000);
        assert!(o.contains("m=audio 40000 RTP/AVP 0 101\r\n"));
        let a = parse(&o).unwrap();
        assert_eq!(a.address, "192.0.2.10".parse::<IpAddr>().unwrap());
        assert_eq!((a.port, a.payload_types.clone()), (40_000, vec![0, 101]));
        assert_eq!(a.telephone_event, Some(101));
        assert_eq!((a.direction, a.ptime_ms), (Direction::SendRecv, Some(20)));
        let v6 = offer(7, 2, "2001:db8::5".parse().unwrap(), 40_002);
        assert!(v6.contains("c=IN IP6 2001:db8::5"));
        assert_eq!(parse(&v6).unwrap().port, 40_002);
    }

    #[test]
    fn an_answer_like_sipps() {
        // Bare LF line ends, the media-level address wins, other streams
        // after the first audio one are ignored.
        let sdp = "v=0\n\
                   o=user1 53655765 2353687637 IN IP4 127.0.0.1\n\
                   s=-\n\
                   c=IN IP4 127.0.0.1\n\
                   t=0 0\n\
                   a=sendrecv\n\
                   m=audio 6000 RTP/AVP 8 0 96\n\
                   c=IN IP4 127.0.0.2\n\
                   a=rtpmap:0 PCMU/8000\n\
                   a=rtpmap:96 TELEPHONE-EVENT/8000\n\
                   a=recvonly\n\
                   m=video 6002 RTP/AVP 31\n\
                   c=IN IP4 10.9.9.9\n\
                   a=sendonly\n";
        let a = parse(sdp).unwrap();
        assert_eq!(a.address, "127.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(a.port, 6000);
        assert_eq!(a.payload_types, vec![8, 0, 96]);
        assert_eq!(a.telephone_event, Some(96));
        assert_eq!(a.direction, Direction::RecvOnly);
    }

    #[test]
    fn answers_pinline_cannot_use_are_refused_by_reason() {
        let base = "v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
        assert_eq!(parse(base), Err(SdpError::NoAudio));
        assert_eq!(
            parse(&format!("{base}m=audio 0 RTP/AVP 0\r\n")),
            Err(SdpError::Rejected)
        );
        assert_eq!(
            parse(&format!("{base}m=audio 5000 RTP/AVP 8 18\r\n")),
            Err(SdpError::NoPcmu)
        );
        assert_eq!(
            parse("v=0\r\nm=audio 5000 RTP/AVP 0\r\n"),
            Err(SdpError::NoAddress)
        );
        assert!(matches!(
            parse("v=0\r\nc=IN IP4 nowhere\r\n"),
            Err(SdpError::Bad { line: 2, .. })
        ));
        assert!(matches!(parse("hello"), Err(SdpError::Bad { line: 1, .. })));
        assert!(matches!(
            parse(&format!("{base}m=audio RTP/AVP 0\r\n")),
            Err(SdpError::Bad { line: 4, .. })
        ));
        // Session-level direction applies when the stream has none.
        let held = parse(&format!("{base}a=sendonly\r\nm=audio 5000 RTP/AVP 0\r\n")).unwrap();
        assert_eq!(held.direction, Direction::SendOnly);
    }
}
