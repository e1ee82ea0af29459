//! The sink run loop on a real nats-server, with a sink that records what
//! it writes and fails as each test tells it: retried failures write each
//! message once, refused rows are split out to tagged dead letters,
//! contract refusals go untagged, left messages come back, a fatal error
//! stops the loop, and shutdown ends a write being retried forever without
//! acking it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use showrunner_bus::deadletter::{H_FIELD, H_SINK};
use showrunner_bus::durable::{self, Acks, Durable};
use showrunner_bus::server::LocalNatsServer;
use showrunner_bus::sink::{
    self, Batch, Class, Counters, LoopReport, LoopSettings, Part, Prepared, Refusal, Settlement,
    Sink,
};
use showrunner_bus::{StreamSettings, connect, context, ensure_streams};

#[derive(Debug, thiserror::Error)]
enum TestError {
    #[error("destination down")]
    Down,
    #[error("row refused")]
    Refused,
    #[error("broken")]
    Broken,
    #[error(transparent)]
    Bus(#[from] showrunner_bus::Error),
}

/// How the recording sink behaves.
#[derive(Default, Clone, Copy)]
struct Behaviour {
    /// Writes that fail with a retryable error before any succeeds.
    fail_first: usize,
    /// Fail every write, retryably.
    always_down: bool,
    /// Fail every write fatally.
    fatal: bool,
    /// Leave messages whose payload starts with `late` on first delivery.
    leave_late: bool,
}

/// Messages as indexes of their batch.
struct Rows(Vec<usize>);

impl Part for Rows {
    fn messages(&self) -> Vec<usize> {
        self.0.clone()
    }

    fn split(mut self) -> Result<(Self, Self), Self> {
        if self.0.len() < 2 {
            return Err(self);
        }
        let high = self.0.split_off(self.0.len() / 2);
        Ok((self, Rows(high)))
    }
}

struct Recorder {
    b: Behaviour,
    /// The stream sequences written, in order.
    written: Arc<Mutex<Vec<u64>>>,
    /// Every write attempt's size.
    attempts: Arc<Mutex<Vec<usize>>>,
}

impl Sink for Recorder {
    const NAME: &'static str = "recorder";
    type Part = Rows;
    type Error = TestError;

    /// `invalid…` payloads are the contract's refusals, settled at once.
    fn preparer(&self) -> impl FnMut(&Batch) -> Prepared<Rows> + Send + 'static {
        |batch: &Batch| {
            let mut settled = Settlement::default();
            let mut rows = Vec::new();
            for (i, m) in batch.iter().enumerate() {
                if m.payload.starts_with(b"invalid") {
                    let why = Refusal {
                        field: "kind".into(),
                        reason: "is invalid".into(),
                    };
                    settled.dead.push((i, why));
                } else {
                    rows.push(i);
                }
            }
            Prepared {
                parts: vec![Rows(rows)],
                settled,
            }
        }
    }

    /// `bad…` payloads are refused by the destination, whole parts with them.
    async fn write(&mut self, batch: &Batch, part: &mut Rows) -> Result<Settlement, TestError> {
        self.attempts.lock().expect("lock").push(part.0.len());
        if self.b.fatal {
            return Err(TestError::Broken);
        }
        if self.b.always_down || self.b.fail_first > 0 {
            self.b.fail_first = self.b.fail_first.saturating_sub(1);
            return Err(TestError::Down);
        }
        if part.0.iter().any(|&i| batch[i].payload.starts_with(b"bad")) {
            return Err(TestError::Refused);
        }
        let mut s = Settlement::default();
        for &i in &part.0 {
            let m = &batch[i];
            if self.b.leave_late && m.payload.starts_with(b"late") && m.delivered == 1 {
                s.leave.push(i);
            } else {
                self.written.lock().expect("lock").push(m.seq);
                s.ack.push(i);
            }
        }
        Ok(s)
    }

    fn classify(&self, e: &TestError) -> Class {
        match e {
            TestError::Down => Class::Retry,
            TestError::Refused => Class::Refuse,
            TestError::Broken | TestError::Bus(_) => Class::Fatal,
        }
    }
}

struct Bed {
    _dir: tempfile::TempDir,
    _server: LocalNatsServer,
    js: jetstream::Context,
}

async fn bed(payloads: &[&str]) -> Bed {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LocalNatsServer::start(dir.path(), 0)
        .unwrap_or_else(|e| panic!("the tests need a real nats-server: {e}"));
    let client = connect(&server.url(), Duration::from_secs(10))
        .await
        .expect("connect");
    let js = context(client, Duration::from_secs(10), 64);
    ensure_streams(&js, &StreamSettings::default())
        .await
        .expect("streams");
    for p in payloads {
        js.publish("events.player.test", p.as_bytes().to_vec().into())
            .await
            .expect("publish")
            .await
            .expect("stored");
    }
    Bed {
        _dir: dir,
        _server: server,
        js,
    }
}

struct Ran {
    result: Result<LoopReport, TestError>,
    written: Vec<u64>,
    attempts: Vec<usize>,
    counters: Arc<Counters>,
    consumer: durable::Consumer,
}

async fn run(
    bed: &Bed,
    b: Behaviour,
    acks: Acks,
    ack_wait: Duration,
    shutdown_after: Option<Duration>,
) -> Ran {
    let d = Durable {
        name: "test".into(),
        acks,
        ack_wait,
        max_ack_pending: 1_000,
    };
    let (consumer, _) = durable::open(&bed.js, &StreamSettings::default(), &d)
        .await
        .expect("consumer");
    let (written, attempts) = (Arc::default(), Arc::default());
    let recorder = Recorder {
        b,
        written: Arc::clone(&written),
        attempts: Arc::clone(&attempts),
    };
    let settings = LoopSettings {
        stream: "EVENTS".into(),
        acks,
        batch_max: 100,
        batch_wait: Duration::from_millis(200),
        min_pull_wait: Duration::from_millis(50),
        drain: shutdown_after.is_none(),
    };
    let counters = Arc::new(Counters::default());
    let shutdown = async move {
        match shutdown_after {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        sink::run(
            bed.js.clone(),
            consumer.clone(),
            settings,
            recorder,
            counters.clone(),
            shutdown,
        ),
    )
    .await
    .expect("the loop ends");
    let written = written.lock().expect("lock").clone();
    let attempts = attempts.lock().expect("lock").clone();
    Ran {
        result,
        written,
        attempts,
        counters,
        consumer,
    }
}

/// The dead letters stored: (field, sink tag).
async fn dead_letters(js: &jetstream::Context) -> Vec<(String, Option<String>)> {
    let mut stream = js.get_stream("DEADLETTER").await.expect("stream");
    let state = stream.info().await.expect("info").state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        let m = stream.get_raw_message(seq).await.expect("letter");
        let field = m.headers.get(H_FIELD).map(|v| v.as_str().to_owned());
        let tag = m.headers.get(H_SINK).map(|v| v.as_str().to_owned());
        out.push((field.unwrap_or_default(), tag));
    }
    out
}

async fn unacked(consumer: &durable::Consumer) -> usize {
    let mut c = consumer.clone();
    c.info().await.expect("info").num_ack_pending
}

#[tokio::test(flavor = "multi_thread")]
async fn retried_writes_settle_every_message_once() {
    let bed = bed(&["a", "b", "c", "d", "e"]).await;
    let b = Behaviour {
        fail_first: 3,
        ..Behaviour::default()
    };
    let ran = run(&bed, b, Acks::Each, Duration::from_secs(30), None).await;
    let report = ran.result.expect("drained");
    assert_eq!(ran.written, vec![1, 2, 3, 4, 5]);
    assert_eq!(report.retries, 3);
    assert_eq!(Counters::get(&ran.counters.retries), 3);
    assert_eq!((report.settled, report.left), (5, 0));
    assert_eq!(unacked(&ran.consumer).await, 0);
    assert!(dead_letters(&bed.js).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_rows_are_split_out_and_dead_lettered_with_the_sink_tag() {
    let bed = bed(&["a", "bad1", "b", "c", "invalid", "d", "bad2", "e"]).await;
    let ran = run(
        &bed,
        Behaviour::default(),
        Acks::Each,
        Duration::from_secs(30),
        None,
    )
    .await;
    let report = ran.result.expect("drained");
    let mut written = ran.written.clone();
    written.sort_unstable();
    assert_eq!(written, vec![1, 3, 4, 6, 8], "every row but the refused");
    assert_eq!((report.refused, report.deadlettered), (2, 1));
    assert_eq!(report.settled, 8);
    // splitting tried the whole part first, then halves
    assert_eq!(ran.attempts.first(), Some(&7));
    assert!(ran.attempts.contains(&1));
    assert_eq!(unacked(&ran.consumer).await, 0);
    let mut letters = dead_letters(&bed.js).await;
    letters.sort();
    assert_eq!(
        letters,
        vec![
            ("$".into(), Some("recorder".into())),
            ("$".into(), Some("recorder".into())),
            ("kind".into(), None),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cumulative_acks_settle_whole_batches() {
    let bed = bed(&["a", "bad", "b", "c"]).await;
    let ran = run(
        &bed,
        Behaviour::default(),
        Acks::Cumulative,
        Duration::from_secs(30),
        None,
    )
    .await;
    let report = ran.result.expect("drained");
    assert_eq!(ran.written, vec![1, 3, 4]);
    assert_eq!((report.settled, report.refused), (4, 1));
    assert_eq!(unacked(&ran.consumer).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn left_messages_come_back_after_the_ack_wait() {
    let bed = bed(&["a", "late", "b"]).await;
    let b = Behaviour {
        leave_late: true,
        ..Behaviour::default()
    };
    let ran = run(&bed, b, Acks::Each, Duration::from_secs(1), None).await;
    let report = ran.result.expect("drained");
    let mut written = ran.written.clone();
    written.sort_unstable();
    assert_eq!(
        written,
        vec![1, 2, 3],
        "the left message written on redelivery"
    );
    assert_eq!((report.left, report.settled), (1, 3));
    assert_eq!(unacked(&ran.consumer).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fatal_error_stops_the_loop_unacked() {
    let bed = bed(&["a", "b"]).await;
    let b = Behaviour {
        fatal: true,
        ..Behaviour::default()
    };
    let ran = run(&bed, b, Acks::Each, Duration::from_secs(30), None).await;
    assert!(
        matches!(ran.result, Err(TestError::Broken)),
        "{:?}",
        ran.result.err()
    );
    assert!(ran.written.is_empty());
    assert_eq!(unacked(&ran.consumer).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_ends_a_write_retried_forever_without_acking_it() {
    let bed = bed(&["a", "b", "c"]).await;
    let b = Behaviour {
        always_down: true,
        ..Behaviour::default()
    };
    let ran = run(
        &bed,
        b,
        Acks::Each,
        Duration::from_secs(30),
        Some(Duration::from_millis(800)),
    )
    .await;
    let report = ran.result.expect("stopped cleanly");
    assert!(report.retries >= 1, "{report:?}");
    assert_eq!(report.settled, 0);
    assert!(ran.written.is_empty());
    assert_eq!(unacked(&ran.consumer).await, 3, "left to the stream");
}
