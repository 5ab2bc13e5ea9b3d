//! The header names a leads CSV's columns are recognized by when the
//! uploader does not map them (compared as letters and digits only,
//! lowercased). Plain code with no dependencies: the web app's import step
//! includes this file too, so its guess is the server's.

pub const PHONE: &[&str] = &[
    "phone",
    "phonenumber",
    "number",
    "mobile",
    "tel",
    "telephone",
];
pub const FIRST_NAME: &[&str] = &["firstname", "first", "givenname"];
pub const LAST_NAME: &[&str] = &["lastname", "last", "surname", "familyname"];
pub const TIME_ZONE: &[&str] = &["timezone", "tz", "zone"];
/// The state or province of the lead's address.
pub const REGION: &[&str] = &["region", "state", "province", "stateprovince"];

/// The consent to be called that came with the lead: its kind (NONE,
/// EXPRESS, EXPRESS_WRITTEN), when it was given, how, and where the record
/// is (docs/compliance.md).
pub const CONSENT: &[&str] = &["consent", "consentkind", "consenttype"];
pub const CONSENT_AT: &[&str] = &["consentat", "consentdate", "consentgivenat", "consenttime"];
pub const CONSENT_METHOD: &[&str] = &["consentmethod", "consenthow"];
pub const CONSENT_SOURCE: &[&str] = &["consentsource", "consentrecord", "consenturl"];

/// A header name as compared: lowercase letters and digits only.
pub fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The first header whose squashed name is one of `usual`.
pub fn guess(header: &[String], usual: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| usual.contains(&squash(h).as_str()))
}
