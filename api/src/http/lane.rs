//! The anonymous lane: work for callers without a valid token (parsing,
//! validating and running their documents) runs on one thread of its own
//! at a lower CPU priority than the engine and the signed-in requests.
//! However hard anonymous clients push, the scheduler gives a call's next
//! step and an agent's request the cores first; anonymous work gets what
//! is left, and is also bounded in number (`budget`).

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// How much nicer than the process the lane's thread runs (Linux nice
/// levels: 10 weighs about a tenth of 0 when both want a core).
const NICENESS: i32 = 10;

static LANE: OnceLock<Option<Handle>> = OnceLock::new();

/// The lane's runtime, started on first use; `None` where no thread could
/// be started (the work then runs where it was asked for).
fn lane() -> Option<&'static Handle> {
    LANE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        let started = std::thread::Builder::new()
            .name("pinline-anonymous".into())
            .spawn(move || {
                lower_priority();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(rt) => {
                        let _ = tx.send(Some(rt.handle().clone()));
                        rt.block_on(std::future::pending::<()>());
                    }
                    Err(e) => {
                        tracing::warn!("the anonymous lane's runtime: {e}");
                        let _ = tx.send(None);
                    }
                }
            });
        match started {
            Ok(_) => rx.recv().ok().flatten(),
            Err(e) => {
                tracing::warn!("the anonymous lane's thread: {e}");
                None
            }
        }
    })
    .as_ref()
}

/// This thread's niceness raised by [`NICENESS`] (Linux applies nice
/// levels per thread). Raising needs no privilege; where it fails the lane
/// still works, at the process's priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take plain integers and touch no
        // memory of ours.
        let done = unsafe {
            let tid = libc::gettid();
            let now = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, now + NICENESS)
        };
        if done != 0 {
            tracing::warn!(
                "the anonymous lane runs at the process's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Aborts the lane's task when the caller stops waiting (the client hung
/// up), so abandoned work does not go on.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `work` run on the anonymous lane; `None` if it panicked.
pub async fn run<F>(work: F) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match lane() {
        Some(handle) => {
            let mut task = AbortOnDrop(handle.spawn(work));
            (&mut task.0).await.ok()
        }
        None => Some(work.await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_lane_at_a_lower_priority() {
        let (name, nice) = run(async {
            let name = std::thread::current().name().map(str::to_owned);
            // SAFETY: as in lower_priority.
            let nice =
                unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
            (name, nice)
        })
        .await
        .expect("ran");
        // SAFETY: as in lower_priority.
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        assert_eq!(name.as_deref(), Some("pinline-anonymous"));
        assert!(nice > ours, "lane at nice {nice}, caller at {ours}");
    }

    #[tokio::test]
    async fn work_stops_when_the_caller_stops_waiting() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let waiting = run(async move {
            let _keep = tx;
            std::future::pending::<()>().await;
        });
        // The caller gives up; the lane's task is aborted and drops `tx`.
        drop(tokio::time::timeout(std::time::Duration::from_millis(20), waiting).await);
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(5), rx)
                .await
                .expect("the task ended")
                .is_err()
        );
    }
}
