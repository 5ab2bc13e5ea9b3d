//! SIP messages (RFC 3261 §7): parsing what arrives and building what the
//! user agent sends. Only what a dialer's UAC needs: the start line, the
//! headers in order (compact forms understood), the body by
//! Content-Length. Anything malformed is refused with a typed reason,
//! never a panic: the network is input.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipParseError {
    #[error("not UTF-8 in the head of the message")]
    NotText,
    #[error("no blank line ends the headers")]
    NoHeaderEnd,
    #[error("malformed start line {0:?}")]
    StartLine(String),
    #[error("malformed header line {0:?}")]
    Header(String),
    #[error("Content-Length {declared} but {actual} bytes of body")]
    BodyLength { declared: usize, actual: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage {
    pub start: StartLine,
    /// In the order they came (or will go), names as written.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The full name of a compact header form (RFC 3261 §7.3.3).
fn full_name(name: &str) -> &str {
    match name {
        "v" | "V" => "Via",
        "f" | "F" => "From",
        "t" | "T" => "To",
        "i" | "I" => "Call-ID",
        "m" | "M" => "Contact",
        "l" | "L" => "Content-Length",
        "c" | "C" => "Content-Type",
        "k" | "K" => "Supported",
        _ => name,
    }
}

impl SipMessage {
    pub fn request(method: &str, uri: &str) -> Self {
        SipMessage {
            start: StartLine::Request {
                method: method.into(),
                uri: uri.into(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn response(code: u16, reason: &str) -> Self {
        SipMessage {
            start: StartLine::Response {
                code,
                reason: reason.into(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response to `req` (RFC 3261 §8.2.6): its Via, From, To, Call-ID
    /// and CSeq copied; `to_tag` added to To when it has none.
    pub fn response_to(req: &SipMessage, code: u16, reason: &str, to_tag: Option<&str>) -> Self {
        let mut r = SipMessage::response(code, reason);
        for (name, value) in &req.headers {
            let full = full_name(name);
            if ["Via", "From", "Call-ID", "CSeq"]
                .iter()
                .any(|h| full.eq_ignore_ascii_case(h))
            {
                r.headers.push((full.to_owned(), value.clone()));
            } else if full.eq_ignore_ascii_case("To") {
                let mut v = value.clone();
                if let Some(tag) = to_tag
                    && tag_of(value).is_none()
                {
                    let _ = write!(v, ";tag={tag}");
                }
                r.headers.push(("To".into(), v));
            }
        }
        r
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.headers
            .push(("Content-Type".into(), content_type.into()));
        self.body = body;
        self
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn code(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// Every value of a header (case-insensitive, compact forms too);
    /// comma-joined values are not split (only Via and Record-Route
    /// would need it, and this UA reads just the first).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| full_name(n).eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| full_name(n).eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    /// CSeq: its number and method.
    pub fn cseq(&self) -> Option<(u32, &str)> {
        let v = self.header("CSeq")?;
        let mut parts = v.split_whitespace();
        let n = parts.next()?.parse().ok()?;
        Some((n, parts.next()?))
    }

    /// The branch parameter of the top Via.
    pub fn branch(&self) -> Option<&str> {
        param(self.header("Via")?, "branch")
    }

    pub fn parse(b: &[u8]) -> Result<SipMessage, SipParseError> {
        let end = find(b, b"\r\n\r\n")
            .map(|i| (i, i + 4))
            .or_else(|| find(b, b"\n\n").map(|i| (i, i + 2)))
            .ok_or(SipParseError::NoHeaderEnd)?;
        let head = std::str::from_utf8(&b[..end.0]).map_err(|_| SipParseError::NotText)?;
        let mut lines = head.lines();
        let first = lines.next().unwrap_or_default().trim_end();
        let start = parse_start(first)?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // A folded line continues the last header.
                match headers.last_mut() {
                    Some((_, v)) => {
                        v.push(' ');
                        v.push_str(line.trim());
                    }
                    None => return Err(SipParseError::Header(line.into())),
                }
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| SipParseError::Header(line.into()))?;
            let name = name.trim();
            if name.is_empty() || name.contains(' ') {
                return Err(SipParseError::Header(line.into()));
            }
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let rest = &b[end.1..];
        let mut msg = SipMessage {
            start,
            headers,
            body: Vec::new(),
        };
        let declared = match msg.header("Content-Length") {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| SipParseError::Header(format!("Content-Length: {v}")))?,
            None => rest.len(),
        };
        if declared > rest.len() {
            return Err(SipParseError::BodyLength {
                declared,
                actual: rest.len(),
            });
        }
        msg.body = rest[..declared].to_vec();
        Ok(msg)
    }

    /// The wire form; Content-Length is always written, from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = String::with_capacity(512);
        match &self.start {
            StartLine::Request { method, uri } => {
                let _ = write!(s, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                let _ = write!(s, "SIP/2.0 {code} {reason}\r\n");
            }
        }
        for (n, v) in &self.headers {
            if full_name(n).eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            let _ = write!(s, "{n}: {v}\r\n");
        }
        let _ = write!(s, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

fn parse_start(line: &str) -> Result<StartLine, SipParseError> {
    let bad = || SipParseError::StartLine(line.into());
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code.parse().map_err(|_| bad())?;
        if !(100..700).contains(&code) {
            return Err(bad());
        }
        return Ok(StartLine::Response {
            code,
            reason: reason.into(),
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some("SIP/2.0"), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if method.is_empty() || !method.bytes().all(|c| c.is_ascii_alphabetic()) || uri.is_empty() {
        return Err(bad());
    }
    Ok(StartLine::Request {
        method: method.into(),
        uri: uri.into(),
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A `;name=value` parameter of a header value (outside its `<…>`).
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let after_uri = match value.find('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    after_uri.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The tag of a From or To value.
pub fn tag_of(value: &str) -> Option<&str> {
    param(value, "tag")
}

/// The URI of a name-addr (`"Bob" <sip:bob@host>;tag=x`) or addr-spec.
pub fn uri_of(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// Host and port of a `sip:` URI (`sip:user@host:port;params`).
pub fn host_port(uri: &str) -> Option<(String, u16)> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let rest = rest.split([';', '?']).next()?;
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => 5060,
        };
        return Some((host.into(), port));
    }
    match hostport.split_once(':') {
        Some((h, p)) => Some((h.into(), p.parse().ok()?)),
        None => Some((hostport.into(), 5060)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE_200: &str = "SIP/2.0 200 OK\r\n\
        v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc;rport\r\n\
        From: <sip:pinline@127.0.0.1>;tag=ours\r\n\
        To: <sip:+15551230001@127.0.0.1:5070>;tag=theirs\r\n\
        i: call-1@127.0.0.1\r\n\
        CSeq: 1 INVITE\r\n\
        Contact: <sip:lead@127.0.0.1:5070;transport=udp>\r\n\
        Content-Type: application/sdp\r\n\
        l: 5\r\n\r\nv=0\r\nextra";

    #[test]
    fn parses_a_response_with_compact_headers_and_body_by_length() {
        let m = SipMessage::parse(INVITE_200.as_bytes()).unwrap();
        assert_eq!(m.code(), Some(200));
        assert_eq!(m.call_id(), Some("call-1@127.0.0.1"));
        assert_eq!(m.cseq(), Some((1, "INVITE")));
        assert_eq!(m.branch(), Some("z9hG4bKabc"));
        assert_eq!(tag_of(m.header("To").unwrap()), Some("theirs"));
        assert_eq!(tag_of(m.header("from").unwrap()), Some("ours"));
        assert_eq!(m.body, b"v=0\r\n");
        assert_eq!(
            uri_of(m.header("Contact").unwrap()),
            "sip:lead@127.0.0.1:5070;transport=udp"
        );
    }

    #[test]
    fn builds_what_it_parses() {
        let m = SipMessage::request("INVITE", "sip:+15551230001@10.0.0.1:5080")
            .with("Via", "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1")
            .with("Call-ID", "x")
            .with("CSeq", "1 INVITE")
            .with_body("application/sdp", b"v=0\r\n".to_vec());
        let back = SipMessage::parse(&m.to_bytes()).unwrap();
        assert_eq!(back, m.clone().with("Content-Length", "5"));
        assert_eq!(back.method(), Some("INVITE"));
    }

    #[test]
    fn a_response_copies_the_dialog_headers_and_tags_to() {
        let req = SipMessage::parse(
            b"BYE sip:pinline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKq\r\n\
              From: <sip:a@x>;tag=a\r\nTo: <sip:b@y>\r\nCall-ID: c\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n\r\n",
        )
        .unwrap();
        let r = SipMessage::response_to(&req, 200, "OK", Some("t1"));
        assert_eq!(r.header("To"), Some("<sip:b@y>;tag=t1"));
        assert_eq!(r.cseq(), Some((2, "BYE")));
        assert_eq!(r.header("Max-Forwards"), None);
    }

    #[test]
    fn refuses_malformed_input_with_a_reason() {
        assert_eq!(
            SipMessage::parse(b"SIP/2.0 200 OK\r\nTo: x\r\n"),
            Err(SipParseError::NoHeaderEnd)
        );
        assert!(matches!(
            SipMessage::parse(b"SIP/2.0 99 Odd\r\n\r\n"),
            Err(SipParseError::StartLine(_))
        ));
        assert!(matches!(
            SipMessage::parse(b"INVITE sip:x SIP/3.0\r\n\r\n"),
            Err(SipParseError::StartLine(_))
        ));
        assert!(matches!(
            SipMessage::parse(b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n"),
            Err(SipParseError::Header(_))
        ));
        assert_eq!(
            SipMessage::parse(b"SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            Err(SipParseError::BodyLength {
                declared: 10,
                actual: 3
            })
        );
        assert_eq!(
            SipMessage::parse(&[0xff, 0xfe, b'\r', b'\n', b'\r', b'\n']),
            Err(SipParseError::NotText)
        );
    }

    #[test]
    fn reads_host_and_port_of_uris() {
        assert_eq!(
            host_port("sip:bob@10.0.0.1:5070;transport=udp"),
            Some(("10.0.0.1".into(), 5070))
        );
        assert_eq!(
            host_port("sip:carrier.example"),
            Some(("carrier.example".into(), 5060))
        );
        assert_eq!(host_port("sip:a@[::1]:5062"), Some(("::1".into(), 5062)));
        assert_eq!(host_port("tel:+1555"), None);
        assert_eq!(host_port("sip:a@h:notaport"), None);
    }
}
