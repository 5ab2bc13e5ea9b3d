//! One call's recording as it is made: the mixer's frames written to a
//! spool file as they are ready, the file's header brought up to date
//! every [`CHECKPOINT_MS`] (a crash loses at most that, plus the mixer's
//! lag), and at the end the rest written and the file checksummed.
//! Blocking file IO: the media task that owns the recorder runs it off
//! the async threads.

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::mixer::{Mixer, Side, Span};
use super::wav::{CHANNELS, HEADER, RATE, Writer};

/// How often the spool file's header is brought up to date.
pub const CHECKPOINT_MS: u64 = 1_000;

pub struct Recorder {
    mixer: Mixer,
    writer: Writer<BufWriter<File>>,
    path: PathBuf,
    checkpointed_ms: u64,
}

/// A finished recording, still in its spool file.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub path: PathBuf,
    pub frames: u64,
    pub size_bytes: u64,
    /// Hex SHA-256 of the file.
    pub sha256: String,
    pub paused: Vec<Span>,
}

impl Finished {
    pub fn duration_seconds(&self) -> f64 {
        self.frames as f64 / f64::from(RATE)
    }
}

impl Recorder {
    /// Start recording into a new spool file at `path`.
    pub fn create(path: &Path) -> io::Result<Recorder> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
        Ok(Recorder {
            mixer: Mixer::new(),
            writer: Writer::new(BufWriter::new(file))?,
            path: path.to_owned(),
            checkpointed_ms: 0,
        })
    }

    /// `side`'s audio, arrived `at_ms` after the recording started.
    pub fn push(&mut self, side: Side, at_ms: u64, samples: &[u8]) -> io::Result<()> {
        self.mixer.push(side, at_ms, samples);
        self.advance(at_ms)
    }

    /// Time passed with or without audio (`at_ms`): what is ready is
    /// written, and the header brought up to date when it is due.
    pub fn advance(&mut self, at_ms: u64) -> io::Result<()> {
        let ready = self.mixer.ready(at_ms);
        self.writer.write(&ready)?;
        if at_ms >= self.checkpointed_ms + CHECKPOINT_MS {
            self.writer.checkpoint()?;
            self.checkpointed_ms = at_ms;
        }
        Ok(())
    }

    pub fn pause(&mut self, at_ms: u64) {
        self.mixer.pause(at_ms);
    }

    pub fn resume(&mut self, at_ms: u64) {
        self.mixer.resume(at_ms);
    }

    pub fn paused(&self) -> bool {
        self.mixer.paused()
    }

    pub fn spans(&self) -> &[Span] {
        self.mixer.spans()
    }

    /// The call ended at `end_ms`: the rest written, the file closed and
    /// checksummed.
    pub fn finish(mut self, end_ms: u64) -> io::Result<Finished> {
        let rest = self.mixer.finish(end_ms);
        self.writer.write(&rest)?;
        let frames = self.writer.frames();
        let file = self
            .writer
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        let (size_bytes, sha256) = checksum(&self.path)?;
        debug_assert_eq!(size_bytes, HEADER + frames * u64::from(CHANNELS));
        Ok(Finished {
            path: self.path,
            frames,
            size_bytes,
            sha256,
            paused: self.mixer.spans().to_vec(),
        })
    }
}

/// A file's size and hex SHA-256.
pub fn checksum(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, hex))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711::{SAMPLES_PER_PACKET, sine};
    use crate::recording::wav::{self, SILENCE};

    fn spool() -> PathBuf {
        std::env::temp_dir()
            .join(format!("pinline-rec-{}", std::process::id()))
            .join(format!("{}.wav", crate::store::new_id()))
    }

    #[test]
    fn a_call_is_recorded_to_a_checksummed_file() {
        let path = spool();
        let mut r = Recorder::create(&path).expect("recorder");
        let (lead, agent) = (sine(440.0, 2000), sine(1000.0, 2000));
        for (k, (l, a)) in lead
            .chunks(SAMPLES_PER_PACKET)
            .zip(agent.chunks(SAMPLES_PER_PACKET))
            .enumerate()
        {
            let at = k as u64 * 20;
            if at == 1000 {
                r.pause(1000);
            }
            if at == 1500 {
                r.resume(1500);
            }
            r.push(Side::Lead, at, l).expect("lead");
            r.push(Side::Agent, at, a).expect("agent");
        }
        let done = r.finish(2000).expect("finish");
        assert_eq!(done.frames, 16_000);
        assert!((done.duration_seconds() - 2.0).abs() < 1e-9);
        assert_eq!(done.size_bytes, HEADER + 32_000);
        assert_eq!(done.sha256.len(), 64);
        assert_eq!(checksum(&path).expect("again").1, done.sha256);
        assert_eq!(
            done.paused,
            vec![Span {
                from_ms: 1000,
                to_ms: Some(1500)
            }]
        );
        let bytes = std::fs::read(&path).expect("read");
        let frames = &bytes[HEADER as usize..];
        // The paused half second is silence in both channels.
        assert!(frames[16_000..24_000].iter().all(|b| *b == SILENCE));
        assert!(frames[..16_000].iter().any(|b| *b != SILENCE));
        assert_eq!(
            wav::frames_in(&mut std::fs::File::open(&path).expect("open")).expect("ours"),
            16_000
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_recording_cut_mid_call_plays_to_its_last_checkpoint_and_is_repaired() {
        let path = spool();
        let mut r = Recorder::create(&path).expect("recorder");
        let tone = sine(440.0, 3000);
        for (k, l) in tone.chunks(SAMPLES_PER_PACKET).enumerate() {
            r.push(Side::Lead, k as u64 * 20, l).expect("lead");
        }
        // A crash: the recorder is never finished (its buffer may or may
        // not reach the disk).
        std::mem::forget(r);
        let bytes = std::fs::read(&path).expect("read");
        let said = u32::from_le_bytes(bytes[46..50].try_into().expect("4 bytes"));
        assert!(
            said >= 8 * 1_800,
            "the header covers the last checkpoint: {said}"
        );
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open");
        let frames = wav::repair(&mut f).expect("repaired");
        assert!(frames >= u64::from(said), "{frames} < {said}");
        let _ = std::fs::remove_file(&path);
    }
}
