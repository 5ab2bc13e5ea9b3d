//! Identity rules: roles and what they may do, and the shape of emails,
//! names and passwords.

use std::fmt;

/// A user's (or API token's) role. Each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "AGENT",
            Role::Supervisor => "SUPERVISOR",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do what `required` may.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an identity field was refused; `field` names the input field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 256;
pub const MAX_NAME_LEN: usize = 200;

/// Emails are compared case-insensitively: stored trimmed and lowercased.
pub fn normalize_email(raw: &str) -> Result<String, FieldError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(FieldError::new("email", "is not a valid email address"))
    }
}

/// A display name (user, organization, contact center): trimmed, 1–200 chars.
pub fn normalize_name(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

pub fn check_password(password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(FieldError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(FieldError::new(
            "password",
            format!("must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// A two-letter region code for phone-number parsing ("US", "GB").
pub fn normalize_region(raw: &str) -> Result<String, FieldError> {
    let region = raw.trim().to_uppercase();
    if region.len() == 2 && region.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(region)
    } else {
        Err(FieldError::new(
            "defaultRegion",
            "must be a two-letter ISO 3166 region code such as US",
        ))
    }
}

/// An admin may not lock themselves out: deactivating their own account or
/// giving up their own admin role is refused (the message says why).
pub fn check_change_to_self(active: Option<bool>, role: Option<Role>) -> Result<(), &'static str> {
    if active == Some(false) {
        return Err("you cannot deactivate your own account");
    }
    if role.is_some_and(|r| r != Role::Admin) {
        return Err("you cannot remove your own admin role");
    }
    Ok(())
}

/// An IANA time-zone name ("America/Chicago"), as chrono-tz knows it.
pub fn normalize_time_zone(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    name.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| FieldError::new(field, format!("{name:?} is not an IANA time-zone name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        assert!(Role::Admin.includes(Role::Supervisor));
        assert!(Role::Supervisor.includes(Role::Agent));
        assert!(!Role::Agent.includes(Role::Supervisor));
        assert!(!Role::Supervisor.includes(Role::Admin));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Agent1@Demo.Pinline.TEST ").as_deref(),
            Ok("agent1@demo.pinline.test")
        );
        for bad in [
            "",
            "no-at",
            "a@b",
            "a@.com",
            "@x.com",
            "a b@x.com",
            "a@x.com.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn admins_cannot_lock_themselves_out() {
        assert!(check_change_to_self(Some(false), None).is_err());
        assert!(check_change_to_self(None, Some(Role::Supervisor)).is_err());
        assert!(check_change_to_self(Some(true), Some(Role::Admin)).is_ok());
        assert!(check_change_to_self(None, None).is_ok());
    }

    #[test]
    fn names_and_passwords_are_bounded() {
        assert!(normalize_name("name", "   ").is_err());
        assert!(normalize_name("name", &"x".repeat(201)).is_err());
        assert_eq!(normalize_name("name", " Ada ").as_deref(), Ok("Ada"));
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert_eq!(normalize_region("us").as_deref(), Ok("US"));
        assert!(normalize_region("USA").is_err());
        assert_eq!(
            normalize_time_zone("timeZone", "America/Chicago").as_deref(),
            Ok("America/Chicago")
        );
        assert!(normalize_time_zone("timeZone", "Mars/Olympus").is_err());
    }
}
