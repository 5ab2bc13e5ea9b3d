//! `baresip` as an agent's softphone: listens on loopback, answers every
//! call at once, speaks a sine at a given pitch into its microphone
//! (`ausine`), and records what it hears (`sndfile`, 8-kHz WAV).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::peers::free_udp_port;

pub struct Baresip {
    child: Child,
    pub addr: SocketAddr,
    pub user: String,
    dir: tempfile::TempDir,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Baresip {
    /// A phone for `user` (the SIP URI's user part) speaking at `mic_hz`.
    pub async fn start(user: &str, mic_hz: u32) -> Baresip {
        let dir = tempfile::tempdir().expect("a temp dir");
        let rec = dir.path().join("rec");
        std::fs::create_dir_all(&rec).expect("rec dir");
        let port = free_udp_port();
        let config = format!(
            "poll_method epoll\n\
             sip_listen 127.0.0.1:{port}\n\
             audio_player aubridge,nil\n\
             audio_alert aubridge,nil\n\
             audio_source ausine,{mic_hz}\n\
             ausrc_srate 48000\nauplay_srate 48000\nausrc_channels 2\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\nmodule ausine.so\nmodule aubridge.so\nmodule sndfile.so\n\
             module_app account.so\n\
             snd_path {}\n\
             rtp_timeout 0\n",
            rec.display()
        );
        std::fs::write(dir.path().join("config"), config).expect("config");
        std::fs::write(
            dir.path().join("accounts"),
            format!("<sip:{user}@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU\n"),
        )
        .expect("accounts");
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("baresip could not start ({e}): `./dev setup` installs it"));
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let mut ready_tx = Some(ready_tx);
        let out = child.stdout.take().expect("stdout");
        let l = log.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("baresip is ready")
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(());
                }
                let mut l = l.lock().expect("log");
                l.push_str(&line);
                l.push('\n');
            }
        });
        if tokio::time::timeout(Duration::from_secs(10), ready_rx)
            .await
            .is_err()
        {
            panic!("baresip did not get ready:\n{}", log.lock().expect("log"));
        }
        Baresip {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            user: user.to_owned(),
            dir,
            log,
        }
    }

    /// What baresip printed so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    pub fn uri(&self) -> String {
        format!("sip:{}@{}", self.user, self.addr)
    }

    /// Stop it, and return what it heard (8-kHz samples), from the
    /// recording of its first call.
    pub async fn stop_and_heard(mut self) -> Vec<i16> {
        if let Some(pid) = self.child.id() {
            // SIGTERM: baresip ends its calls and closes the recordings.
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        let rec = self.dir.path().join("rec");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&rec)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .collect();
        files.sort();
        let Some(first) = files.first() else {
            panic!(
                "baresip recorded nothing in {}:\n{}",
                rec.display(),
                self.log.lock().expect("log")
            );
        };
        wav_samples(&std::fs::read(first).expect("the recording"))
    }
}

/// The 16-bit samples of a WAV file's data chunk (to the end of the file:
/// a recording cut short may not have its sizes written).
fn wav_samples(b: &[u8]) -> Vec<i16> {
    let start = b
        .windows(4)
        .position(|w| w == b"data")
        .map_or(44, |i| i + 8)
        .min(b.len());
    b[start..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}
