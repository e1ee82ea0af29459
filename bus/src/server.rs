//! A local `nats-server` child process with JetStream (standalone mode,
//! tests and benchmarks): started on a loopback port with its store under a
//! directory, stopped (SIGTERM, then SIGKILL) when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A running nats-server.
pub struct LocalNatsServer {
    child: Option<Child>,
    port: u16,
    store: PathBuf,
    binary: String,
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("bind", "127.0.0.1:0", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("local_addr", "127.0.0.1:0", e))
}

impl LocalNatsServer {
    /// Starts `nats-server -js` on `port` (0 = any free port) with its store
    /// in `store`, and waits until it accepts connections.
    pub fn start(store: &Path, port: u16) -> Result<Self> {
        let binary =
            std::env::var("SHOWRUNNER_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let port = if port == 0 { free_port()? } else { port };
        let mut s = Self {
            child: None,
            port,
            store: store.to_path_buf(),
            binary,
        };
        s.spawn()?;
        Ok(s)
    }

    fn spawn(&mut self) -> Result<()> {
        std::fs::create_dir_all(&self.store).map_err(|e| Error::io("create", &self.store, e))?;
        let log = self.store.join("nats-server.log");
        let log_file = std::fs::File::create(&log).map_err(|e| Error::io("create", &log, e))?;
        let child = Command::new(&self.binary)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::NatsServerMissing(self.binary.clone()),
                _ => Error::NatsServerStart(e.to_string()),
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(Error::NatsServerStart(format!(
                    "exited with {status}: {tail}"
                )));
            }
            if Instant::now() > deadline {
                return Err(Error::NatsServerStart("not listening after 15 s".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (SIGTERM, wait up to 10 s, then SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = c.id() as i32;
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and store.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.spawn()
    }
}

impl Drop for LocalNatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
