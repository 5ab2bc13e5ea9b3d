//! The anonymous lane: work for callers without a valid token (parsing,
//! validating and running their documents) runs on one thread of its own
//! on the kernel's idle policy, below the engine and the signed-in requests.
//! However hard anonymous clients push, the scheduler gives a call's next
//! step and an agent's request the cores first; anonymous work gets what
//! is left, and is also bounded in number (`budget`).

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// How much nicer than the process the lane's thread runs where the idle
/// policy cannot be had (Linux nice levels: 10 weighs about a tenth of 0).
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

/// This thread (and the threads it starts) on the kernel's idle policy
/// (`SCHED_IDLE`): it runs on a core no other thread wants, and a thread
/// of the process that wakes up takes the core from it at once, where a
/// nice level would let it finish its time slice first (a millisecond or
/// more on every hop of a call's next step). Needs no privilege; where the
/// policy is refused the thread is made nicer instead, and where that
/// fails too the lane still works, at the process's priority.
fn lower_priority() {
    if idle_policy().is_ok() {
        return;
    }
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

/// The calling thread put on `SCHED_IDLE` (inherited by the threads and
/// processes it starts). Only a system call: safe between fork and exec.
pub fn idle_policy() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` lives across the call.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
            return Ok(());
        }
        Err(std::io::Error::last_os_error())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(std::io::Error::other("no idle scheduling policy here"))
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
    async fn work_runs_on_the_lane_at_the_idle_policy() {
        let (name, policy) = run(async {
            let name = std::thread::current().name().map(str::to_owned);
            // SAFETY: pid 0 is the calling thread.
            (name, unsafe { libc::sched_getscheduler(0) })
        })
        .await
        .expect("ran");
        // SAFETY: as above.
        let ours = unsafe { libc::sched_getscheduler(0) };
        assert_eq!(name.as_deref(), Some("pinline-anonymous"));
        assert_eq!(policy, libc::SCHED_IDLE, "the caller's policy is {ours}");
        assert_ne!(ours, libc::SCHED_IDLE);
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
