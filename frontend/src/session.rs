//! The signed-in session: the token, kept in localStorage so a reload keeps
//! the user signed in until the token expires or they sign out.

use gloo_storage::{LocalStorage, Storage};

const KEY: &str = "pinline.token";
const CENTER: &str = "pinline.center";

pub fn token() -> Option<String> {
    LocalStorage::get::<String>(KEY)
        .ok()
        .filter(|t| !t.is_empty())
}

pub fn save(token: &str) {
    let _ = LocalStorage::set(KEY, token);
}

pub fn clear() {
    LocalStorage::delete(KEY);
}

/// The contact center the user last chose to work in.
pub fn center() -> Option<String> {
    LocalStorage::get::<String>(CENTER).ok()
}

pub fn save_center(id: &str) {
    let _ = LocalStorage::set(CENTER, id);
}

/// Open `path` with a full page load: the way between the agents' app and
/// the supervisors' (each is its own download) and to the sign-in page.
pub fn open(path: &str) {
    let _ = leptos::prelude::window().location().assign(path);
}
