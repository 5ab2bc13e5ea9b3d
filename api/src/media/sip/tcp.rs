//! SIP over TCP toward the trunk (`--sip-transport tcp`): one connection,
//! opened on the first message and again after it drops, carrying every
//! request and response to and from the trunk. Messages are framed by
//! their Content-Length (RFC 3261 §18.3); a reliable transport needs no
//! retransmissions (timer B still ends a transaction nobody answers).
//! Agents' phones stay on UDP.

use std::net::SocketAddr;
use std::sync::Weak;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::Inner;
use super::msg::SipMessage;

/// The largest message taken (headers and body); a longer one ends the
/// connection rather than grow the buffer without bound.
const MAX_MESSAGE: usize = 64 * 1024;

/// Where outgoing messages for the trunk go.
pub(super) struct TcpLink {
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl TcpLink {
    pub(super) fn start(
        rt: &tokio::runtime::Handle,
        trunk: SocketAddr,
        inner: Weak<Inner>,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        rt.spawn(run(trunk, rx, inner));
        TcpLink { tx }
    }

    pub(super) fn send(&self, bytes: &[u8]) {
        let _ = self.tx.send(bytes.to_vec());
    }
}

/// One complete message at the front of `buf`: its length, or `None`
/// while it is incomplete. Blank lines between messages (keep-alives)
/// are skipped by the caller. `Err` for a message that cannot be framed.
pub fn frame(buf: &[u8]) -> Result<Option<usize>, &'static str> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_MESSAGE {
            Err("headers over 64 KB")
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "headers are not text")?;
    let mut length = None;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| "a bad Content-Length")?,
                );
            }
        }
    }
    // Over a stream, Content-Length is required.
    let length = length.ok_or("no Content-Length")?;
    let total = end + 4 + length;
    if total > MAX_MESSAGE {
        return Err("a message over 64 KB");
    }
    Ok((buf.len() >= total).then_some(total))
}

async fn run(trunk: SocketAddr, mut rx: mpsc::UnboundedReceiver<Vec<u8>>, inner: Weak<Inner>) {
    // Wait for something to send before connecting.
    let Some(mut first) = rx.recv().await else {
        return;
    };
    loop {
        let stream = match TcpStream::connect(trunk).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%trunk, error = %e, "cannot connect to the trunk over TCP; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if inner.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tracing::info!(%trunk, "SIP over TCP to the trunk connected");
        let (mut read, mut write) = stream.into_split();
        if write.write_all(&first).await.is_err() {
            continue;
        }
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 8192];
        let dropped = loop {
            tokio::select! {
                out = rx.recv() => {
                    let Some(out) = out else { return };
                    if write.write_all(&out).await.is_err() {
                        first = out;
                        break true;
                    }
                }
                n = read.read(&mut chunk) => {
                    let n = match n {
                        Ok(0) | Err(_) => break false,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(inner) = inner.upgrade() else { return };
                    loop {
                        let skip = buf.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
                        buf.drain(..skip);
                        match frame(&buf) {
                            Ok(Some(len)) => {
                                match SipMessage::parse(&buf[..len]) {
                                    Ok(m) => inner.on_message(m, trunk),
                                    Err(e) => tracing::debug!(error = %e, "unreadable SIP message over TCP"),
                                }
                                buf.drain(..len);
                            }
                            Ok(None) => break,
                            Err(e) => {
                                tracing::warn!(%trunk, "the trunk's TCP stream cannot be read ({e}): reconnecting");
                                buf.clear();
                                break;
                            }
                        }
                    }
                }
            }
        };
        tracing::warn!(%trunk, "the TCP connection to the trunk closed");
        if !dropped {
            // Closed by the trunk: reconnect when there is something to send.
            let Some(next) = rx.recv().await else { return };
            first = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_framed_by_content_length() {
        let one = b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n";
        assert_eq!(frame(one), Ok(Some(one.len())));
        assert_eq!(frame(&one[..one.len() - 1]), Ok(None), "body not all there");
        assert_eq!(frame(&one[..20]), Ok(None), "headers not all there");
        let mut two = one.to_vec();
        two.extend_from_slice(b"BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n");
        assert_eq!(frame(&two), Ok(Some(one.len())));
        assert_eq!(frame(&two[one.len()..]), Ok(Some(two.len() - one.len())));
        assert_eq!(
            frame(b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n"),
            Err("no Content-Length")
        );
        assert_eq!(
            frame(b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n"),
            Err("a bad Content-Length")
        );
        assert_eq!(
            frame(b"SIP/2.0 200 OK\r\nContent-Length: 999999\r\n\r\n"),
            Err("a message over 64 KB")
        );
    }
}
