//! Password hashing with argon2id — m = 19 MiB, t = 2, p = 1 (the argon2
//! crate's defaults, OWASP's recommended minimum) — on blocking threads so
//! a sign-in never stalls the async workers.
//!
//! Each hash needs its 19 MiB at once. A shift start (hundreds of agents
//! signing in together) must not take that many times over, nor leave the
//! allocator holding it afterwards: at most [`slots`] hashes run at a time
//! (one per core, at most 4), each in a buffer of its own that is kept and
//! reused, so sign-ins cost a fixed ~19 MiB per slot however many arrive.
//! Others queue (fairly: first come, first served) for up to
//! [`MAX_WAIT`]; beyond that, or with [`MAX_QUEUED`] already waiting, the
//! answer is "busy" and the client is told when to retry.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// Too many sign-ins at once: retry after the given seconds.
    #[error("too many sign-ins at once: try again in {0} s")]
    Busy(u64),
}

/// The longest a sign-in waits for a hashing slot.
pub const MAX_WAIT: Duration = Duration::from_secs(15);
/// At most this many wait; more are answered "busy" at once.
pub const MAX_QUEUED: usize = 1024;

struct Slots {
    permits: tokio::sync::Semaphore,
    /// One argon2 buffer per slot, allocated once.
    buffers: Mutex<Vec<Vec<Block>>>,
    waiting: AtomicUsize,
}

/// How many hashes run at once.
pub fn slots() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4)
}

fn pool() -> &'static Slots {
    static POOL: std::sync::OnceLock<Slots> = std::sync::OnceLock::new();
    POOL.get_or_init(|| Slots {
        permits: tokio::sync::Semaphore::new(slots()),
        buffers: Mutex::new(Vec::new()),
        waiting: AtomicUsize::new(0),
    })
}

fn params() -> Params {
    Params::DEFAULT
}

fn err(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hash(e.to_string())
}

/// The output of `argon` over `password` and `salt`, in `blocks`.
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    output_len: usize,
    blocks: &mut Vec<Block>,
) -> Result<Output, PasswordError> {
    let needed = argon.params().block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(err)?;
    Output::init_with(output_len, |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(err)
}

/// Hash with a fresh salt, in `blocks`: a PHC string (`$argon2id$v=19$…`).
fn hash_in(password: &str, blocks: &mut Vec<Block>) -> Result<String, PasswordError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(err)?;
    let params = params();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output = compute(
        &argon,
        password.as_bytes(),
        salt.as_salt(),
        Params::DEFAULT_OUTPUT_LEN,
        blocks,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(err)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Check `password` against a stored PHC string, in `blocks`. False for a
/// wrong password and for a malformed stored hash.
fn verify_in(password: &str, stored: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    match compute(&argon, password.as_bytes(), salt, expected.len(), blocks) {
        // `Output`'s equality is constant-time.
        Ok(computed) => computed == expected,
        Err(_) => false,
    }
}

pub fn hash(password: &str) -> Result<String, PasswordError> {
    hash_in(password, &mut Vec::new())
}

/// False for a wrong password and for a malformed stored hash.
pub fn verify(password: &str, stored: &str) -> bool {
    verify_in(password, stored, &mut Vec::new())
}

/// Run `work` on a blocking thread with a hashing slot and its buffer.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let slots = pool();
    let queued = slots.waiting.fetch_add(1, Ordering::SeqCst);
    let permit = if queued >= MAX_QUEUED {
        None
    } else {
        tokio::time::timeout(MAX_WAIT, slots.permits.acquire())
            .await
            .ok()
            .and_then(Result::ok)
    };
    slots.waiting.fetch_sub(1, Ordering::SeqCst);
    let Some(permit) = permit else {
        tracing::warn!(
            waiting = queued,
            "sign-ins queued past the limit: answered busy"
        );
        return Err(PasswordError::Busy(5));
    };
    let mut buffer = slots
        .buffers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop()
        .unwrap_or_default();
    let (out, buffer) = tokio::task::spawn_blocking(move || {
        let out = work(&mut buffer);
        (out, buffer)
    })
    .await
    .map_err(err)?;
    slots
        .buffers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(buffer);
    drop(permit);
    Ok(out)
}

pub async fn hash_async(password: String) -> Result<String, PasswordError> {
    in_slot(move |blocks| hash_in(&password, blocks)).await?
}

/// Verify; when there is no stored hash (unknown account) a dummy hash is
/// checked so the answer takes as long as for a real account.
pub async fn verify_async(password: String, stored: Option<String>) -> Result<bool, PasswordError> {
    in_slot(move |blocks| match stored {
        Some(h) => verify_in(&password, &h, blocks),
        None => {
            let _ = verify_in(&password, dummy_hash(), blocks);
            false
        }
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("pinline-timing-equalizer").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash("correct horse").expect("hash");
        let b = super::hash("correct horse").expect("hash");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert!(super::verify("correct horse", &a));
        assert!(!super::verify("wrong horse", &a));
        assert!(!super::verify("correct horse", "not a hash"));
    }

    /// Hashes stored by the argon2 crate's own hasher (every password
    /// before this module pooled its memory) still verify, and ours verify
    /// with it: the same PHC strings.
    #[test]
    fn compatible_with_the_crates_own_hasher() {
        let salt =
            argon2::password_hash::SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let theirs = argon2::Argon2::default()
            .hash_password(b"correct horse", &salt)
            .expect("hash")
            .to_string();
        assert!(super::verify("correct horse", &theirs));
        assert!(!super::verify("correct hors", &theirs));
        let ours = super::hash("correct horse").expect("hash");
        let parsed = argon2::password_hash::PasswordHash::new(&ours).expect("PHC");
        assert!(
            argon2::Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_at_once_share_the_slots_and_all_answer() {
        let stored = super::hash("pw").expect("hash");
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let stored = stored.clone();
                tokio::spawn(async move {
                    let pw = if i % 2 == 0 { "pw" } else { "nope" };
                    super::verify_async(pw.into(), Some(stored)).await
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.expect("joined").expect("a slot"), i % 2 == 0);
        }
        let buffers = super::pool().buffers.lock().expect("lock").len();
        assert!(buffers <= super::slots(), "{buffers} buffers");
    }
}
