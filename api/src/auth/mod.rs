//! Authentication: who is calling. Passwords, signed tokens, the log-in
//! rate limits, the signing secret, and `authenticate`, which turns a bearer
//! token into an [`Actor`] after checking its session or API-token row.

pub mod password;
pub mod ratelimit;
pub mod token;

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::domain::identity::Role;
use crate::store::{self, Db, StoreError};
use token::{TokenError, TokenKeys, TokenKind};

/// Who is calling, once their token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub organization_id: String,
    /// The role in force now (read from the database, not from the token).
    pub role: Role,
    pub principal: Principal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User { user_id: String, session_id: String },
    ApiToken { token_id: String },
}

impl Actor {
    pub fn user_id(&self) -> Option<&str> {
        match &self.principal {
            Principal::User { user_id, .. } => Some(user_id),
            Principal::ApiToken { .. } => None,
        }
    }

    /// The id recorded in the audit trail.
    pub fn audit_id(&self) -> &str {
        match &self.principal {
            Principal::User { user_id, .. } => user_id,
            Principal::ApiToken { token_id } => token_id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the session token could not be signed: {0}")]
    Token(#[from] TokenError),
}

/// Open a login session for `user` lasting `ttl`: the session row, then
/// its signed token. Returns the token and when it expires.
pub async fn open_session(
    db: &Db,
    keys: &TokenKeys,
    user: &store::models::User,
    ttl: chrono::Duration,
    client_ip: Option<String>,
) -> Result<(String, DateTime<Utc>), SessionError> {
    let now = Utc::now();
    let expires_at = now + ttl;
    let session = store::models::Session {
        id: store::new_id(),
        user_id: user.id.clone(),
        created_at: now.naive_utc(),
        expires_at: expires_at.naive_utc(),
        ended_at: None,
        client_ip,
    };
    store::sessions::insert(db, &session).await?;
    let token = keys.issue(&token::Claims {
        sub: user.id.clone(),
        org: user.organization_id.clone(),
        kind: TokenKind::Session,
        sid: session.id,
        iat: now.timestamp(),
        exp: Some(expires_at.timestamp()),
        iss: token::ISSUER.into(),
    })?;
    Ok((token, expires_at))
}

/// Check a bearer token at `now`: signature, expiry, then its row — a
/// session must be open and its user active; an API token must not be
/// revoked or expired.
pub async fn authenticate(
    db: &Db,
    keys: &TokenKeys,
    bearer: &str,
    now: DateTime<Utc>,
) -> Result<Actor, AuthError> {
    let claims = keys.verify(bearer, now.timestamp()).map_err(|e| match e {
        TokenError::Expired => AuthError::Unauthenticated("the token has expired"),
        TokenError::Invalid => AuthError::Unauthenticated("the token is not valid"),
    })?;
    let naive_now = now.naive_utc();
    match claims.kind {
        TokenKind::Session => {
            let (session, user) = store::sessions::get_with_user(db, &claims.sid)
                .await?
                .ok_or(AuthError::Unauthenticated("the session does not exist"))?;
            if session.user_id != claims.sub || user.organization_id != claims.org {
                return Err(AuthError::Unauthenticated("the token is not valid"));
            }
            if session.ended_at.is_some() {
                return Err(AuthError::Unauthenticated("the session has ended"));
            }
            if session.expires_at <= naive_now {
                return Err(AuthError::Unauthenticated("the session has expired"));
            }
            if !user.active {
                return Err(AuthError::Unauthenticated("the account is deactivated"));
            }
            let role = Role::parse(&user.role)
                .ok_or(AuthError::Unauthenticated("the account has no valid role"))?;
            Ok(Actor {
                organization_id: user.organization_id,
                role,
                principal: Principal::User {
                    user_id: user.id,
                    session_id: session.id,
                },
            })
        }
        TokenKind::Api => {
            let token = store::api_tokens::get(db, &claims.sid)
                .await?
                .ok_or(AuthError::Unauthenticated("the API token does not exist"))?;
            if token.organization_id != claims.org {
                return Err(AuthError::Unauthenticated("the token is not valid"));
            }
            if token.revoked_at.is_some() {
                return Err(AuthError::Unauthenticated("the API token was revoked"));
            }
            if token.expires_at.is_some_and(|e| e <= naive_now) {
                return Err(AuthError::Unauthenticated("the API token has expired"));
            }
            let role = Role::parse(&token.role)
                .ok_or(AuthError::Unauthenticated("the token has no valid role"))?;
            Ok(Actor {
                organization_id: token.organization_id,
                role,
                principal: Principal::ApiToken { token_id: token.id },
            })
        }
    }
}

/// The file in the data dir that holds the generated signing secret.
pub const SECRET_FILE: &str = "jwt-secret";

/// The signing secret: the configured one, else the one persisted in the
/// data dir, else a new random one written there (mode 0600) for next time.
pub fn load_or_create_secret(
    configured: Option<&str>,
    data_dir: &Path,
) -> std::io::Result<Vec<u8>> {
    if let Some(s) = configured.filter(|s| !s.is_empty()) {
        return Ok(s.as_bytes().to_vec());
    }
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is too short to be a signing secret", path.display()),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret)?;
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_generated_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("pinline-secret-{}", store::new_id()));
        let a = load_or_create_secret(None, &dir).expect("create");
        let b = load_or_create_secret(None, &dir).expect("reuse");
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        let other = std::env::temp_dir().join(format!("pinline-secret-{}", store::new_id()));
        assert_ne!(a, load_or_create_secret(None, &other).expect("create"));
        assert_eq!(
            load_or_create_secret(Some("configured"), &dir).expect("configured"),
            b"configured"
        );
        let _ = std::fs::remove_dir_all(dir);
        let _ = std::fs::remove_dir_all(other);
    }
}
