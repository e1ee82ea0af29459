//! Analysts' queries on their own CPU runtime, as DataFusion's thread-pools
//! example does: the threads that answer HTTP (health checks, the
//! collector, recommendations) never run a query's operators, so a heavy
//! query slows other queries, not the server. A query past its time limit,
//! or whose caller went away, is aborted there; with
//! [`crate::coop::CooperativeAmplifiers`] every operator yields often
//! enough for the abort to end its work within a moment, and its memory
//! with it.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};

/// The process's query runtime: as many threads as cores, started on
/// first use and kept for the process's life.
fn runtime() -> Result<&'static Runtime> {
    static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
                .thread_name("showrunner-query")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Output(format!("starting the query runtime: {e}")))
}

/// Aborts the task when dropped: a query whose caller stopped waiting
/// (time limit, closed connection) stops too.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `query` on the query runtime; [`Error::Timeout`] (and the query
/// aborted) when it takes longer than `limit`, if one is given.
pub async fn run<T, F>(limit: Option<Duration>, query: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let mut task = AbortOnDrop(runtime()?.spawn(query));
    let joined = match limit {
        Some(limit) => tokio::time::timeout(limit, &mut task.0)
            .await
            .map_err(|_| Error::Timeout(limit))?,
        None => (&mut task.0).await,
    };
    match joined {
        Ok(answer) => answer,
        Err(e) if e.is_panic() => Err(Error::Output(format!("the query panicked: {e}"))),
        Err(e) => Err(Error::Output(format!("the query was cancelled: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_come_back_and_late_ones_are_aborted() {
        let name = run(Some(Duration::from_secs(5)), async {
            Ok(std::thread::current().name().map(str::to_owned))
        })
        .await
        .expect("answer");
        assert_eq!(name.as_deref(), Some("showrunner-query"));

        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let late = run(Some(Duration::from_millis(50)), async move {
            // holds `tx` until aborted; never finishes by itself
            let _held = tx;
            std::future::pending::<()>().await;
            Ok(())
        })
        .await;
        assert!(matches!(late, Err(Error::Timeout(_))), "{late:?}");
        // the aborted task dropped what it held
        let dropped = tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("the aborted task let go of what it held");
        assert!(dropped.is_err(), "the task was dropped, not finished");
    }
}
