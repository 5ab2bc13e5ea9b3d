//! Digest authentication toward a trunk (RFC 3261 §22, RFC 2617): the
//! answer to a 401's WWW-Authenticate or a 407's Proxy-Authenticate, MD5
//! with or without `qop=auth` (what carriers ask for).

use md5::{Digest, Md5};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// Whether the server offered `qop=auth`.
    pub qop_auth: bool,
    pub algorithm: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("not a Digest challenge: {0:?}")]
    NotDigest(String),
    #[error("the challenge has no {0}")]
    Missing(&'static str),
    #[error("unsupported digest algorithm {0} (only MD5)")]
    Algorithm(String),
}

/// Read a `Digest realm="…", nonce="…", …` challenge.
pub fn parse_challenge(value: &str) -> Result<Challenge, DigestError> {
    let rest = value
        .trim()
        .strip_prefix("Digest")
        .or_else(|| value.trim().strip_prefix("digest"))
        .ok_or_else(|| DigestError::NotDigest(value.into()))?;
    let mut realm = None;
    let mut nonce = None;
    let mut opaque = None;
    let mut qop_auth = false;
    let mut algorithm = "MD5".to_owned();
    for (k, v) in params(rest) {
        match k.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(v),
            "nonce" => nonce = Some(v),
            "opaque" => opaque = Some(v),
            "qop" => qop_auth = v.split(',').any(|q| q.trim() == "auth"),
            "algorithm" => algorithm = v,
            _ => {}
        }
    }
    if !algorithm.eq_ignore_ascii_case("MD5") {
        return Err(DigestError::Algorithm(algorithm));
    }
    Ok(Challenge {
        realm: realm.ok_or(DigestError::Missing("realm"))?,
        nonce: nonce.ok_or(DigestError::Missing("nonce"))?,
        opaque,
        qop_auth,
        algorithm,
    })
}

/// `k=v` or `k="v, with commas"` pairs separated by commas.
fn params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.trim().is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        out.push((key.trim().to_owned(), value.trim().to_owned()));
    }
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Authorization (or Proxy-Authorization) value for one request.
/// `cnonce` is the client's random; `nc` counts uses of this nonce.
pub fn authorization(
    ch: &Challenge,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> String {
    let ha1 = md5_hex(&format!("{user}:{}:{password}", ch.realm));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    let nc = format!("{nc:08x}");
    let (response, qop) = if ch.qop_auth {
        (
            md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", ch.nonce)),
            format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""),
        )
    } else {
        (md5_hex(&format!("{ha1}:{}:{ha2}", ch.nonce)), String::new())
    };
    let opaque = ch
        .opaque
        .as_ref()
        .map(|o| format!(", opaque=\"{o}\""))
        .unwrap_or_default();
    format!(
        "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", \
         response=\"{response}\", algorithm=MD5{qop}{opaque}",
        ch.realm, ch.nonce
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_rfc_2617_example() {
        // RFC 2617 §3.5 (its HTTP example: the digest is the same sum).
        let ch = parse_challenge(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert!(ch.qop_auth);
        let a = authorization(
            &ch,
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "0a4f113b",
            1,
        );
        assert!(
            a.contains(r#"response="6629fae49393a05397450978507c4ef1""#),
            "{a}"
        );
        assert!(a.contains("nc=00000001"));
        assert!(a.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#));
    }

    #[test]
    fn answers_without_qop_as_rfc_2069() {
        let ch = parse_challenge(r#"Digest realm="sip.example", nonce="abc""#).unwrap();
        assert!(!ch.qop_auth);
        let a = authorization(&ch, "u", "p", "INVITE", "sip:1@sip.example", "c", 1);
        // MD5(MD5("u:sip.example:p"):abc:MD5("INVITE:sip:1@sip.example"))
        let expected = md5_hex(&format!(
            "{}:abc:{}",
            md5_hex("u:sip.example:p"),
            md5_hex("INVITE:sip:1@sip.example")
        ));
        assert!(a.contains(&format!("response=\"{expected}\"")));
        assert!(!a.contains("qop"));
    }

    #[test]
    fn refuses_what_it_cannot_answer() {
        assert!(matches!(
            parse_challenge("Basic realm=\"x\""),
            Err(DigestError::NotDigest(_))
        ));
        assert_eq!(
            parse_challenge("Digest realm=\"x\""),
            Err(DigestError::Missing("nonce"))
        );
        assert_eq!(
            parse_challenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256"),
            Err(DigestError::Algorithm("SHA-256".into()))
        );
    }
}
