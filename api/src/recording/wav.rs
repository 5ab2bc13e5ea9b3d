//! The stored format: a two-channel WAV of G.711 μ-law at 8 kHz (channel
//! 0 the lead, channel 1 the agent side) — the bytes the relay already
//! carries, no transcoding, 16,000 bytes a second (57.6 MB an hour).
//! Written as the call goes, its header's sizes brought up to date at
//! every checkpoint, so a file cut by a crash plays up to its last
//! checkpoint; [`repair`] closes such a file at the next start.
//!
//! Browsers do not all play μ-law WAV, so recordings are served as
//! 16-bit PCM WAV ([`Pcm16`]): the same frames, each μ-law byte widened
//! to two bytes on the way out, with byte ranges mapped onto the stored
//! file (a seek reads only what it needs).

use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::media::g711::ulaw_to_linear;

/// Samples a second, per channel.
pub const RATE: u32 = 8_000;
/// Channels: the lead, the agent side.
pub const CHANNELS: u16 = 2;
/// μ-law silence.
pub const SILENCE: u8 = 0xFF;
/// Bytes before the frames in a stored file.
pub const HEADER: u64 = 58;
/// Bytes before the frames in the served PCM file.
pub const PCM_HEADER: u64 = 44;

const WAVE_FORMAT_MULAW: u16 = 7;

/// The stored file's header for `frames` frames.
fn mulaw_header(frames: u32) -> [u8; HEADER as usize] {
    let data = frames.saturating_mul(u32::from(CHANNELS));
    let mut h = [0u8; HEADER as usize];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        h[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(b"RIFF");
    put(&(HEADER as u32 - 8).saturating_add(data).to_le_bytes());
    put(b"WAVE");
    put(b"fmt ");
    put(&18u32.to_le_bytes());
    put(&WAVE_FORMAT_MULAW.to_le_bytes());
    put(&CHANNELS.to_le_bytes());
    put(&RATE.to_le_bytes());
    put(&(RATE * u32::from(CHANNELS)).to_le_bytes());
    put(&CHANNELS.to_le_bytes()); // block align: one byte per channel
    put(&8u16.to_le_bytes());
    put(&0u16.to_le_bytes()); // no extension
    put(b"fact");
    put(&4u32.to_le_bytes());
    put(&frames.to_le_bytes());
    put(b"data");
    put(&data.to_le_bytes());
    h
}

/// Why a stored file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a recording: {0}")]
    NotARecording(&'static str),
}

/// A stored recording being written.
pub struct Writer<W: Write + Seek> {
    out: W,
    frames: u64,
}

impl<W: Write + Seek> Writer<W> {
    /// Start a recording in `out` (at its beginning).
    pub fn new(mut out: W) -> io::Result<Writer<W>> {
        out.seek(SeekFrom::Start(0))?;
        out.write_all(&mulaw_header(0))?;
        Ok(Writer { out, frames: 0 })
    }

    /// Append interleaved frames (lead, agent, lead, agent, …).
    pub fn write(&mut self, interleaved: &[u8]) -> io::Result<()> {
        let whole = interleaved.len() - interleaved.len() % usize::from(CHANNELS);
        self.out.write_all(&interleaved[..whole])?;
        self.frames += (whole / usize::from(CHANNELS)) as u64;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bring the header's sizes up to date (the file plays to here).
    pub fn checkpoint(&mut self) -> io::Result<()> {
        let frames = u32::try_from(self.frames).unwrap_or(u32::MAX);
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&mulaw_header(frames))?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()
    }

    /// Checkpoint and hand the output back.
    pub fn finish(mut self) -> io::Result<W> {
        self.checkpoint()?;
        Ok(self.out)
    }
}

/// Close a stored file a crash cut: its header is made to cover every
/// whole frame in it (a torn last frame is cut off). Its frames.
pub fn repair(file: &mut std::fs::File) -> Result<u64, FormatError> {
    let len = file.metadata()?.len();
    if len < HEADER {
        return Err(FormatError::NotARecording("shorter than its header"));
    }
    check_header(file)?;
    let frames = (len - HEADER) / u64::from(CHANNELS);
    file.set_len(HEADER + frames * u64::from(CHANNELS))?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&mulaw_header(u32::try_from(frames).unwrap_or(u32::MAX)))?;
    file.sync_all()?;
    Ok(frames)
}

/// The stored header is ours (μ-law, two channels, 8 kHz).
fn check_header<R: Read + Seek>(src: &mut R) -> Result<(), FormatError> {
    let mut h = [0u8; HEADER as usize];
    src.seek(SeekFrom::Start(0))?;
    src.read_exact(&mut h)?;
    let expected = mulaw_header(0);
    let same = |r: std::ops::Range<usize>| h[r.clone()] == expected[r];
    if !(same(0..4) && same(8..46) && same(50..54)) {
        return Err(FormatError::NotARecording(
            "not a two-channel 8 kHz μ-law WAV",
        ));
    }
    Ok(())
}

/// The frames a stored file holds (by its length: a file still being
/// written counts what is on disk).
pub fn frames_in<R: Read + Seek>(src: &mut R) -> Result<u64, FormatError> {
    check_header(src)?;
    let len = src.seek(SeekFrom::End(0))?;
    Ok(len.saturating_sub(HEADER) / u64::from(CHANNELS))
}

/// A stored recording as the 16-bit PCM WAV it is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pcm16 {
    pub frames: u64,
}

impl Pcm16 {
    /// The served file's length.
    pub fn len(&self) -> u64 {
        PCM_HEADER + self.frames * u64::from(CHANNELS) * 2
    }

    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    fn header(&self) -> [u8; PCM_HEADER as usize] {
        let data = u32::try_from(self.len() - PCM_HEADER).unwrap_or(u32::MAX);
        let mut h = [0u8; PCM_HEADER as usize];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            h[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(b"RIFF");
        put(&(PCM_HEADER as u32 - 8).saturating_add(data).to_le_bytes());
        put(b"WAVE");
        put(b"fmt ");
        put(&16u32.to_le_bytes());
        put(&1u16.to_le_bytes()); // PCM
        put(&CHANNELS.to_le_bytes());
        put(&RATE.to_le_bytes());
        put(&(RATE * u32::from(CHANNELS) * 2).to_le_bytes());
        put(&(CHANNELS * 2).to_le_bytes());
        put(&16u16.to_le_bytes());
        put(b"data");
        put(&data.to_le_bytes());
        h
    }

    /// The bytes of the stored file that bytes `[start, end)` of the
    /// served one are made of (`None`: only the header, or nothing).
    pub fn stored_range(&self, start: u64, end: u64) -> Option<std::ops::Range<u64>> {
        let end = end.min(self.len());
        let from = start.max(PCM_HEADER) - PCM_HEADER;
        let to = end.max(PCM_HEADER) - PCM_HEADER;
        // Served byte k of the frames is half of stored sample k / 2.
        (start < end && from < to).then(|| HEADER + from / 2..HEADER + (to - 1) / 2 + 1)
    }

    /// Bytes `[start, end)` of the served file, from `stored` (the bytes
    /// [`Pcm16::stored_range`] names; `end` is cut to the file's length).
    pub fn render(&self, start: u64, end: u64, stored: &[u8]) -> Result<Vec<u8>, FormatError> {
        let end = end.min(self.len());
        let mut out = Vec::with_capacity(usize::try_from(end.saturating_sub(start)).unwrap_or(0));
        if start >= end {
            return Ok(out);
        }
        if start < PCM_HEADER {
            let h = self.header();
            out.extend_from_slice(&h[start as usize..end.min(PCM_HEADER) as usize]);
        }
        if let Some(range) = self.stored_range(start, end) {
            if stored.len() as u64 != range.end - range.start {
                return Err(FormatError::NotARecording("shorter than its header says"));
            }
            let (from, to) = (start.max(PCM_HEADER) - PCM_HEADER, end - PCM_HEADER);
            let first = range.start - HEADER;
            for k in from..to {
                let sample = ulaw_to_linear(stored[(k / 2 - first) as usize]).to_le_bytes();
                out.push(sample[(k % 2) as usize]);
            }
        }
        Ok(out)
    }

    /// Bytes `[start, end)` of the served file, read from the stored one.
    pub fn read_range<R: Read + Seek>(
        &self,
        src: &mut R,
        start: u64,
        end: u64,
    ) -> Result<Vec<u8>, FormatError> {
        let mut stored = Vec::new();
        if let Some(range) = self.stored_range(start, end) {
            stored.resize((range.end - range.start) as usize, 0);
            src.seek(SeekFrom::Start(range.start))?;
            src.read_exact(&mut stored)?;
        }
        self.render(start, end, &stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn recorded(frames: &[(u8, u8)]) -> Cursor<Vec<u8>> {
        let mut w = Writer::new(Cursor::new(Vec::new())).expect("writer");
        let interleaved: Vec<u8> = frames.iter().flat_map(|(a, b)| [*a, *b]).collect();
        w.write(&interleaved).expect("write");
        w.finish().expect("finish")
    }

    #[test]
    fn a_written_file_is_a_two_channel_mulaw_wav_of_its_frames() {
        let file = recorded(&[(1, 2), (3, 4), (5, 6)]).into_inner();
        assert_eq!(file.len() as u64, HEADER + 6);
        assert_eq!(&file[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(file[4..8].try_into().unwrap()), 50 + 6);
        assert_eq!(u16::from_le_bytes([file[20], file[21]]), WAVE_FORMAT_MULAW);
        assert_eq!(u16::from_le_bytes([file[22], file[23]]), 2);
        assert_eq!(u32::from_le_bytes(file[24..28].try_into().unwrap()), 8_000);
        assert_eq!(
            u32::from_le_bytes(file[46..50].try_into().unwrap()),
            3,
            "fact: frames"
        );
        assert_eq!(
            u32::from_le_bytes(file[54..58].try_into().unwrap()),
            6,
            "data bytes"
        );
        assert_eq!(&file[58..], &[1, 2, 3, 4, 5, 6]);
        assert_eq!(frames_in(&mut Cursor::new(file)).expect("frames"), 3);
    }

    #[test]
    fn a_torn_file_is_repaired_to_its_whole_frames() {
        let path = std::env::temp_dir().join(format!(
            "pinline-torn-{}-{}.wav",
            std::process::id(),
            crate::store::new_id()
        ));
        {
            let f = std::fs::File::create(&path).expect("file");
            let mut w = Writer::new(f).expect("writer");
            w.write(&[9; 200]).expect("write");
            w.checkpoint().expect("checkpoint");
            w.write(&[7; 100]).expect("write");
            // A crash: no checkpoint after the last 50 frames, and half a
            // frame written by hand.
            let mut f = w.finish().expect("finish");
            f.write_all(&[1]).expect("torn byte");
        }
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open");
        assert_eq!(repair(&mut f).expect("repaired"), 150);
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len() as u64, HEADER + 300);
        assert_eq!(u32::from_le_bytes(bytes[54..58].try_into().unwrap()), 300);
        std::fs::write(&path, b"RIFF").expect("short");
        let mut short = std::fs::File::open(&path).expect("open");
        assert!(matches!(
            repair(&mut short),
            Err(FormatError::NotARecording(_))
        ));
        std::fs::write(&path, [0u8; 100]).expect("not ours");
        let mut other = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open");
        assert!(matches!(
            repair(&mut other),
            Err(FormatError::NotARecording(_))
        ));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_header_cut_at_its_checkpoint_still_plays_to_it() {
        let mut w = Writer::new(Cursor::new(Vec::new())).expect("writer");
        w.write(&[5; 20]).expect("write");
        w.checkpoint().expect("checkpoint");
        w.write(&[6; 20]).expect("write");
        let file = w.out.into_inner();
        // The header says the first 10 frames (what a player plays).
        assert_eq!(u32::from_le_bytes(file[46..50].try_into().unwrap()), 10);
    }

    #[test]
    fn any_range_of_the_served_pcm_is_the_widened_stored_frames() {
        let frames: Vec<(u8, u8)> = (0..50u8).map(|i| (i.wrapping_mul(37), 255 - i)).collect();
        let mut src = recorded(&frames);
        let pcm = Pcm16 { frames: 50 };
        let whole = pcm.read_range(&mut src, 0, u64::MAX).expect("whole");
        assert_eq!(whole.len() as u64, pcm.len());
        assert_eq!(&whole[0..4], b"RIFF");
        assert_eq!(u16::from_le_bytes([whole[20], whole[21]]), 1, "PCM");
        assert_eq!(u16::from_le_bytes([whole[34], whole[35]]), 16, "bits");
        for (i, (lead, agent)) in frames.iter().enumerate() {
            let at = PCM_HEADER as usize + i * 4;
            assert_eq!(
                i16::from_le_bytes([whole[at], whole[at + 1]]),
                ulaw_to_linear(*lead)
            );
            assert_eq!(
                i16::from_le_bytes([whole[at + 2], whole[at + 3]]),
                ulaw_to_linear(*agent)
            );
        }
        for (start, end) in [
            (0, 1),
            (3, 47),
            (44, 45),
            (45, 46),
            (101, 233),
            (40, 48),
            (200, 244),
        ] {
            let part = pcm.read_range(&mut src, start, end).expect("range");
            assert_eq!(part, whole[start as usize..end as usize], "{start}..{end}");
        }
        assert!(pcm.read_range(&mut src, 300, 400).expect("past").is_empty());
    }
}
