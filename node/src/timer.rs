//! The one helper for periodic jobs: run a job every period until stop,
//! one run at a time (a run that outlasts the period delays the next, it
//! never overlaps it), logging failures and going on.

use std::fmt::Display;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::stop::Stop;

/// Runs `job` every `period` (first after one period) until `stop`; a
/// failed run is logged with `name` and the next one still happens.
pub fn every<F, Fut, E>(
    name: &'static str,
    period: Duration,
    stop: Stop,
    mut job: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Display,
{
    tokio::spawn(async move {
        let stopped = stop.stopped();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                biased;
                () = &mut stopped => return,
                () = tokio::time::sleep(period) => {}
            }
            if let Err(e) = job().await {
                tracing::warn!(job = name, error = %e, "periodic job failed; next run in {period:?}");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_again_after_failures_and_stops() {
        let (handle, stop) = crate::stop::channel();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut n = 0u32;
        let task = every("test", Duration::from_millis(5), stop, move || {
            n += 1;
            let (tx, k) = (tx.clone(), n);
            async move {
                let _ = tx.send(k);
                // every other run fails: the timer goes on
                if k % 2 == 0 { Err("boom") } else { Ok(()) }
            }
        });
        for want in 1..=4 {
            let got = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
            assert_eq!(got.expect("a run").expect("open"), want);
        }
        handle.stop();
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("stops")
            .expect("no panic");
        // the job (and its sender) is gone with the task
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {}
        assert!(rx.is_closed() || rx.is_empty());
    }
}
