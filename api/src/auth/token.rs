//! Signed tokens (JWT, HS256 only): session tokens issued at `login`, and
//! API tokens for integrators. A token names its session or API-token row;
//! the row decides whether it still works (logout, revocation,
//! deactivation), so a token is never trusted on its signature alone.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A signed-in user's session; `sid` is the session id, `sub` the user.
    Session,
    /// An integrator's API token; `sid` is the token's id.
    Api,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id (session) or API token id.
    pub sub: String,
    pub org: String,
    pub kind: TokenKind,
    /// Session id or API token id.
    pub sid: String,
    pub iat: i64,
    /// Expiry as Unix seconds; API tokens without expiry carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    pub iss: String,
}

pub const ISSUER: &str = "pinline";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

/// The signing keys, made from the configured (or generated) secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(&self, claims: &Claims) -> Result<String, TokenError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)
    }

    /// Check signature, algorithm (HS256 only: `none` and others are
    /// refused), issuer and expiry at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.required_spec_claims.clear();
        validation.required_spec_claims.insert("iss".into());
        // Expiry is checked below against the injected `now`.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        if let Some(exp) = claims.exp
            && exp <= now
        {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn claims(exp: Option<i64>) -> Claims {
        Claims {
            sub: "u".into(),
            org: "o".into(),
            kind: TokenKind::Session,
            sid: "s".into(),
            iat: 100,
            exp,
            iss: ISSUER.into(),
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let keys = TokenKeys::new(b"k1");
        let t = keys.issue(&claims(Some(200))).expect("issue");
        assert_eq!(keys.verify(&t, 150).expect("valid").sid, "s");
        assert_eq!(keys.verify(&t, 200).unwrap_err(), TokenError::Expired);
        let forever = keys.issue(&claims(None)).expect("issue");
        assert!(keys.verify(&forever, i64::MAX / 2).is_ok());
    }

    #[test]
    fn wrong_key_and_alg_none_are_refused() {
        let t = TokenKeys::new(b"k1").issue(&claims(None)).expect("issue");
        assert_eq!(
            TokenKeys::new(b"k2").verify(&t, 0).unwrap_err(),
            TokenError::Invalid
        );
        let payload = t.split('.').nth(1).expect("payload");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{header}.{payload}.");
        assert_eq!(
            TokenKeys::new(b"k1").verify(&unsigned, 0).unwrap_err(),
            TokenError::Invalid
        );
    }
}
