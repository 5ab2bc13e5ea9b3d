//! Where finished recordings are kept, behind one interface: the data
//! dir by default (the embedded start needs nothing else); an
//! S3-compatible object store is the other implementation (to come).
//! Recordings are made in a local spool file either way ([`super::recorder`])
//! and handed over whole when the call ends.

use std::future::Future;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// A boxed future that may cross threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("recording store: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a recording's key: {0}")]
    BadKey(String),
    #[error("no recording {0}")]
    Missing(String),
}

/// Finished recordings by key (`<organization>/<call>.wav`).
pub trait Blobs: Send + Sync {
    /// Keep the finished spool file as `key` (the spool file is gone after).
    fn keep<'a>(&'a self, spool: &'a Path, key: &'a str) -> BoxFuture<'a, Result<(), BlobError>>;
    /// Bytes `range` of `key` (cut to its length).
    fn read<'a>(
        &'a self,
        key: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, Result<Vec<u8>, BlobError>>;
    /// `key`'s size, if it is kept.
    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<u64>, BlobError>>;
    /// Forget `key`; whether it was kept.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, BlobError>>;
}

/// A recording's key.
pub fn key(organization_id: &str, call_id: &str) -> String {
    format!("{organization_id}/{call_id}.wav")
}

/// Keys are ours (ids), checked anyway: no way out of the store's root.
fn checked(key: &str) -> Result<&str, BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(key)
    } else {
        Err(BlobError::BadKey(key.chars().take(80).collect()))
    }
}

/// Recordings under a directory (`<data dir>/recordings`).
pub struct DiskBlobs {
    root: PathBuf,
}

impl DiskBlobs {
    pub fn new(root: PathBuf) -> DiskBlobs {
        DiskBlobs { root }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        Ok(self.root.join(checked(key)?))
    }
}

impl Blobs for DiskBlobs {
    fn keep<'a>(&'a self, spool: &'a Path, key: &'a str) -> BoxFuture<'a, Result<(), BlobError>> {
        Box::pin(async move {
            let to = self.path(key)?;
            if let Some(dir) = to.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            // A rename when the spool is on the same filesystem; a copy
            // (then the spool removed) when it is not.
            if tokio::fs::rename(spool, &to).await.is_err() {
                tokio::fs::copy(spool, &to).await?;
                tokio::fs::remove_file(spool).await?;
            }
            Ok(())
        })
    }

    fn read<'a>(
        &'a self,
        key: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, Result<Vec<u8>, BlobError>> {
        Box::pin(async move {
            use tokio::io::{AsyncReadExt, AsyncSeekExt};
            let path = self.path(key)?;
            let mut file = match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(BlobError::Missing(key.to_owned()));
                }
                Err(e) => return Err(e.into()),
            };
            let len = file.metadata().await?.len();
            let (start, end) = (range.start.min(len), range.end.min(len));
            let mut buf = vec![0u8; (end - start) as usize];
            file.seek(std::io::SeekFrom::Start(start)).await?;
            file.read_exact(&mut buf).await?;
            Ok(buf)
        })
    }

    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<u64>, BlobError>> {
        Box::pin(async move {
            match tokio::fs::metadata(self.path(key)?).await {
                Ok(m) => Ok(Some(m.len())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, BlobError>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path(key)?).await {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// Bytes `[start, end)` of a kept recording as served (16-bit PCM WAV),
/// reading only the stored bytes they are made of; and the served
/// file's whole length.
pub async fn served_range(
    blobs: &dyn Blobs,
    key: &str,
    start: u64,
    end: u64,
) -> Result<(Vec<u8>, u64), BlobError> {
    use super::wav::{CHANNELS, HEADER, Pcm16};
    let size = blobs
        .size(key)
        .await?
        .ok_or_else(|| BlobError::Missing(key.to_owned()))?;
    let pcm = Pcm16 {
        frames: size.saturating_sub(HEADER) / u64::from(CHANNELS),
    };
    let stored = match pcm.stored_range(start, end) {
        Some(r) => blobs.read(key, r).await?,
        None => Vec::new(),
    };
    let bytes = pcm
        .render(start, end, &stored)
        .map_err(|e| BlobError::Io(std::io::Error::other(e.to_string())))?;
    Ok((bytes, pcm.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::wav::{self, Writer};

    fn root() -> PathBuf {
        std::env::temp_dir().join(format!(
            "pinline-blobs-{}-{}",
            std::process::id(),
            crate::store::new_id()
        ))
    }

    #[tokio::test]
    async fn kept_recordings_are_read_by_range_served_as_pcm_and_deleted() {
        let root = root();
        let blobs = DiskBlobs::new(root.join("recordings"));
        let spool = root.join("spool.wav");
        std::fs::create_dir_all(&root).expect("root");
        let frames: Vec<u8> = (0..400u32).map(|i| (i * 7 % 256) as u8).collect();
        let mut w = Writer::new(std::fs::File::create(&spool).expect("spool")).expect("writer");
        w.write(&frames).expect("write");
        w.finish().expect("finish");

        let key = key("org-1", "call-1");
        assert_eq!(blobs.size(&key).await.expect("size"), None);
        blobs.keep(&spool, &key).await.expect("kept");
        assert!(!spool.exists(), "the spool file is gone");
        assert_eq!(
            blobs.size(&key).await.expect("size"),
            Some(wav::HEADER + 400)
        );
        let part = blobs.read(&key, 58..62).await.expect("read");
        assert_eq!(part, frames[..4]);
        assert_eq!(blobs.read(&key, 400..10_000).await.expect("past").len(), 58);

        // Served: the same as reading the stored file whole.
        let pcm = wav::Pcm16 { frames: 200 };
        let mut stored =
            std::fs::File::open(root.join("recordings").join(&key)).expect("stored file");
        let whole = pcm.read_range(&mut stored, 0, u64::MAX).expect("whole");
        for (start, end) in [(0, 44), (10, 100), (44, 45), (301, 844), (0, 10_000)] {
            let (bytes, len) = served_range(&blobs, &key, start, end).await.expect("range");
            assert_eq!(len, pcm.len());
            let end = (end as usize).min(whole.len());
            assert_eq!(bytes, whole[start as usize..end], "{start}..{end}");
        }

        assert!(blobs.delete(&key).await.expect("delete"));
        assert!(!blobs.delete(&key).await.expect("again"));
        assert!(matches!(
            served_range(&blobs, &key, 0, 10).await,
            Err(BlobError::Missing(_))
        ));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn a_key_cannot_leave_the_store() {
        let blobs = DiskBlobs::new(root());
        for bad in [
            "../x.wav",
            "a/../../b",
            "/etc/passwd",
            "a//b",
            "",
            "a/./b",
            "a b",
        ] {
            assert!(
                matches!(blobs.size(bad).await, Err(BlobError::BadKey(_))),
                "{bad:?}"
            );
        }
    }
}
