//! What several benchmarks share: the simulated message fixtures
//! (`messages`, used by ingest, stages and clickhouse; `testkit`'s
//! `fixtures` serialized) and the one row comparator (`testkit`'s, at the
//! tolerance the engines are held to).

use anyhow::{Context, Result, bail};
use serde_json::Value;
use showrunner_ingest::publish::Outgoing;
use showrunner_testkit::{fixtures, rows};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Simulated events of the few busy days of a large audience, serialized.
pub fn messages(n: usize) -> Vec<Outgoing> {
    fixtures::busy(n, Outgoing::event)
}

/// `n` simulated events spanning `days` days, serialized, and the number
/// of distinct event dates among them.
pub fn messages_over_days(n: usize, days: u32) -> (Vec<Outgoing>, usize) {
    fixtures::over_days(n, days, Outgoing::event)
}

/// Where the rows of two engines differ first, if they do (order-free;
/// numbers to 1e-9 relative).
pub fn disagreement(a: &[Vec<Value>], b: &[Vec<Value>]) -> Option<String> {
    rows::disagreement(a, b, 1e-9)
}

/// One keep-alive HTTP/1.1 GET with a bearer key (the body read by its
/// `Content-Length`); returns the status.
pub async fn get(
    conn: &mut BufReader<tokio::net::TcpStream>,
    path: &str,
    key: &str,
    body: &mut Vec<u8>,
) -> Result<u16> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n");
    conn.get_mut().write_all(req.as_bytes()).await?;
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line `{line}`"))?;
    let mut len = 0usize;
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            bail!("connection closed");
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse()?;
        }
    }
    body.resize(len, 0);
    conn.read_exact(body).await?;
    Ok(status)
}

/// The nearest-rank percentile `p` (0–1) of ascending `sorted`; 0 when empty.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
