//! A local `clickhouse-server` child process (tests and benchmarks): its
//! data under a directory, HTTP, native and interserver ports on loopback,
//! killed when dropped (`stop` and `restart` keep data and ports). The
//! system configuration file of the package is used, with every path and
//! port overridden on the command line. A missing binary fails loudly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

/// A free loopback port.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

/// The package's configuration file.
const CONFIG: &str = "/etc/clickhouse-server/config.xml";

/// A running clickhouse-server.
pub struct LocalClickHouse {
    child: Option<Child>,
    dir: PathBuf,
    http_port: u16,
    ports: (u16, u16),
}

impl Drop for LocalClickHouse {
    fn drop(&mut self) {
        self.stop();
    }
}

impl LocalClickHouse {
    /// Starts a server with its data in `dir` on free ports, and waits
    /// until it answers.
    pub async fn start(dir: &Path) -> Result<Self> {
        let mut s = Self {
            child: None,
            dir: dir.to_path_buf(),
            http_port: free_port()?,
            ports: (free_port()?, free_port()?),
        };
        s.restart().await?;
        Ok(s)
    }

    /// Starts the (stopped) server again, on its data and ports.
    pub async fn restart(&mut self) -> Result<()> {
        let d = self.dir.display().to_string();
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("create {d}: {e}"))?;
        let child = Command::new("clickhouse-server")
            .arg(format!("--config-file={CONFIG}"))
            .arg("--")
            .arg(format!("--path={d}/"))
            .arg(format!("--tmp_path={d}/tmp/"))
            .arg(format!("--user_files_path={d}/user_files/"))
            .arg(format!("--format_schema_path={d}/format_schemas/"))
            .arg(format!("--logger.log={d}/server.log"))
            .arg(format!("--logger.errorlog={d}/error.log"))
            .arg(format!("--http_port={}", self.http_port))
            .arg(format!("--tcp_port={}", self.ports.0))
            .arg(format!("--interserver_http_port={}", self.ports.1))
            .arg("--listen_host=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "clickhouse-server not found ({e}): install it with `apt-get install -y clickhouse-server`"
                )
            })?;
        self.child = Some(child);
        let url = format!("{}/ping", self.url());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ping(&url).await {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!(
                    "clickhouse-server exited ({status}); see {d}/error.log"
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "clickhouse-server did not answer in 60 s; see {d}/error.log"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Its HTTP URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Its HTTP port.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// Runs a query over HTTP; returns the body (TSV unless the query
    /// says), or the server's error.
    pub async fn try_query(&self, sql: &str) -> Result<String> {
        let r = reqwest::Client::new()
            .post(self.url())
            .body(sql.to_owned())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let ok = r.status().is_success();
        let body = r.text().await.map_err(|e| e.to_string())?;
        if ok {
            Ok(body)
        } else {
            Err(format!("{sql}: {body}"))
        }
    }

    /// Runs a query that must succeed (panics with the server's error).
    pub async fn query(&self, sql: &str) -> String {
        self.try_query(sql).await.unwrap_or_else(|e| panic!("{e}"))
    }
}

/// `GET /ping` answers `Ok.` (a bare HTTP/1.0 exchange: no client needed).
async fn ping(url: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut s) = tokio::net::TcpStream::connect(host).await else {
        return false;
    };
    let req = format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    text.starts_with("HTTP/1.") && text.contains(" 200 ") && text.ends_with("Ok.\n")
}
