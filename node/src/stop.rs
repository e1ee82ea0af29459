//! Graceful shutdown: a [`Stop`] every task watches, set once by its
//! [`StopHandle`] (on a signal, or when a job is done).

use tokio::sync::watch;

/// What tasks watch.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

/// What sets it.
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

/// A new stop, not set.
pub fn channel() -> (StopHandle, Stop) {
    let (tx, rx) = watch::channel(false);
    (StopHandle(tx), Stop(rx))
}

impl StopHandle {
    /// Tells every task to stop.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Stop {
    /// Resolves once stopping (a future of its own, for a task to own).
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.clone();
        async move {
            let _ = rx.wait_for(|v| *v).await;
        }
    }

    /// Whether stopping.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
