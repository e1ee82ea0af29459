//! [`Node`]: the roles of one process, started together or in steps
//! (`standalone` starts ingest before it publishes the first run, the rest
//! once it is ingested), stopped by one [`Stop`], waited for together.

use std::net::SocketAddr;

use std::sync::Arc;
use std::time::Duration;

use showrunner_bus as nats;
use showrunner_dashboard::Surface;
use showrunner_events::Validator;
use showrunner_ingest::consumer::{self, IngestReport, IngestSettings};
use showrunner_ingest::metrics::Metrics;
use showrunner_ingest::sinks::clickhouse::sink::{self, SinkReport, SinkSettings};
use showrunner_web::Telemetry;
use showrunner_web::telemetry::Durations;
use tokio::task::JoinHandle;

use crate::api::{self, ApiSettings};
use crate::roles::{Role, Roles};
use crate::stop::Stop;
use crate::{Error, Result, jobs, timer};

/// Everything the roles need, validated by whoever built it (the binary's
/// configuration).
#[derive(Clone)]
pub struct NodeSettings {
    /// The lake: a directory, or an object store (every role runs on
    /// either; model versions live in the directory `api.models`).
    pub lake: showrunner_lake::Store,
    /// The Parquet ingest (NATS URL and streams included).
    pub ingest: IngestSettings,
    /// The ClickHouse sink.
    pub clickhouse: SinkSettings,
    /// The HTTP roles.
    pub api: ApiSettings,
    /// Materializer period (zero: the role does nothing).
    pub materialize_every: Duration,
    /// Trainer period (zero: the role does nothing).
    pub retrain_every: Duration,
    /// Seed of the trainer's protocol.
    pub train_seed: u64,
    /// Model versions kept.
    pub keep_versions: usize,
    /// Compactor period (zero: the role does nothing).
    pub compact_every: Duration,
    /// A partition is closed this many days after its date.
    pub closed_after_days: u32,
}

/// The running roles of a process.
pub struct Node {
    settings: NodeSettings,
    stop: Stop,
    /// Counters of the collector and ingest.
    pub metrics: Arc<Metrics>,
    /// The process's telemetry: every role registers its own figures.
    pub telemetry: Telemetry,
    /// How long each periodic job's runs took, by role.
    jobs: Durations,
    started: Roles,
    ingest: Option<JoinHandle<showrunner_ingest::Result<IngestReport>>>,
    clickhouse: Option<(JoinHandle<showrunner_ingest::Result<()>>, Arc<SinkReport>)>,
    http: Option<(SocketAddr, JoinHandle<Result<()>>)>,
    timers: Vec<JoinHandle<()>>,
}

/// How far the ingest role is through its durable consumer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestProgress {
    /// Events this process ingested into the lake so far.
    pub ingested: u64,
    /// Messages the durable consumer still holds (pending or unacked).
    pub left: u64,
    /// Lake files this process committed so far.
    pub files: u64,
}

/// What the roles did, once stopped.
#[derive(Debug, Default)]
pub struct NodeReport {
    /// The ingest role's totals.
    pub ingest: Option<IngestReport>,
    /// The ClickHouse sink's counters.
    pub clickhouse: Option<Arc<SinkReport>>,
}

fn joined<T>(role: &'static str, r: std::result::Result<T, tokio::task::JoinError>) -> Result<T> {
    r.map_err(|e| Error::Task {
        role,
        message: e.to_string(),
    })
}

impl Node {
    /// Its settings.
    pub fn settings(&self) -> &NodeSettings {
        &self.settings
    }

    /// A node with no role started yet.
    pub fn new(settings: NodeSettings, stop: Stop) -> Node {
        let telemetry = Telemetry::new();
        let metrics = Arc::new(Metrics::default());
        telemetry.register_collector(metrics.clone());
        let jobs = telemetry.durations(
            "showrunner_job_duration_seconds",
            "time one run of a periodic job took (materializer, trainer — the recommender's training —, compactor), failures included",
        );
        Node {
            settings,
            stop,
            metrics,
            telemetry,
            jobs,
            started: Roles::default(),
            ingest: None,
            clickhouse: None,
            http: None,
            timers: Vec::new(),
        }
    }

    /// Starts `roles` (those already started are skipped; the HTTP roles
    /// must be started together, in one call).
    pub async fn start(&mut self, roles: &Roles) -> Result<()> {
        let new: Vec<Role> = roles.iter().filter(|r| !self.started.has(*r)).collect();
        if self.settings.api.models.is_none()
            && let Some(role) = new.iter().find(|r| matches!(r, Role::Api | Role::Trainer))
        {
            return Err(Error::Roles(format!(
                "role {role} needs a directory for the model versions, and the lake {} is an \
                 object store: set config field `recommender.models_dir` \
                 (SHOWRUNNER_RECOMMENDER_MODELS_DIR)",
                self.settings.lake
            )));
        }
        for role in new {
            match role {
                Role::Ingest => self.start_ingest(),
                Role::ClickhouseSink => self.start_clickhouse(),
                Role::Materializer => self.start_materializer(),
                Role::Trainer => self.start_trainer(),
                Role::Compactor => self.start_compactor(),
                Role::Collector | Role::Api => continue,
            }
            tracing::info!(%role, "role started");
        }
        if roles.http() && self.http.is_none() {
            let surface = Surface {
                collector: roles.has(Role::Collector),
                api: roles.has(Role::Api),
            };
            let state = api::state(
                &self.settings.api,
                &self.telemetry,
                self.metrics.clone(),
                surface.api,
            )
            .await?;
            self.http =
                Some(api::serve(&self.settings.api.bind, state, surface, &self.stop).await?);
            tracing::info!(roles = %roles, addr = ?self.addr(), "http roles started");
        }
        for r in roles.iter() {
            self.started.insert(r);
        }
        Ok(())
    }

    /// The HTTP listener's address, when an HTTP role runs.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(a, _)| *a)
    }

    /// Whether the ingest role stopped on its own (an error: it runs until
    /// stopped, or until drained when its settings say so).
    pub fn ingest_finished(&self) -> bool {
        self.ingest.as_ref().is_some_and(|t| t.is_finished())
    }

    /// Waits until the ingest role's durable consumer holds nothing
    /// (pending or unacked), telling `progress` every half second; an
    /// error if the role stops first.
    pub async fn wait_ingested(
        &self,
        mut progress: impl FnMut(IngestProgress),
    ) -> Result<IngestProgress> {
        let s = &self.settings.ingest;
        let client = nats::connect(&s.nats_url, Duration::from_secs(10)).await?;
        let js = nats::context(client, Duration::from_secs(10), 1_024);
        let consumer = consumer::durable_consumer(&js, s).await?;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        loop {
            let info = consumer
                .clone()
                .info()
                .await
                .map_err(showrunner_ingest::Error::nats)?
                .clone();
            let now = IngestProgress {
                ingested: load(&self.metrics.events_ingested),
                left: info.num_pending + info.num_ack_pending as u64,
                files: load(&self.metrics.files),
            };
            progress(now);
            if now.left == 0 {
                return Ok(now);
            }
            if self.ingest_finished() {
                return Err(Error::Task {
                    role: "ingest",
                    message: format!("stopped unexpectedly after {} events", now.ingested),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Rows the ClickHouse sink has inserted so far.
    pub fn clickhouse_inserted(&self) -> Option<u64> {
        self.clickhouse
            .as_ref()
            .map(|(_, r)| r.inserted.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn start_ingest(&mut self) {
        self.metrics
            .ingesting
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.ingest = Some(tokio::spawn(consumer::run(
            self.settings.ingest.clone(),
            Validator::new(self.settings.api.limits.clone()),
            self.metrics.clone(),
            self.stop.stopped(),
        )));
    }

    fn start_clickhouse(&mut self) {
        let (s, stop) = (self.settings.clone(), self.stop.stopped());
        let report = Arc::new(SinkReport::default());
        self.telemetry.register_collector(report.clone());
        let r = report.clone();
        let task = tokio::spawn(async move {
            let client = nats::connect(&s.ingest.nats_url, Duration::from_secs(10)).await?;
            let js = nats::context(client, Duration::from_secs(10), 1_024);
            let v = Validator::new(s.api.limits.clone());
            sink::run(js, &s.ingest.streams, s.clickhouse, v, r, stop).await
        });
        self.clickhouse = Some((task, report));
    }

    fn start_materializer(&mut self) {
        let lake = self.settings.lake.clone();
        self.periodic("materializer", self.settings.materialize_every, move || {
            let lake = lake.clone();
            async move {
                let r = jobs::materialize(&lake).await?;
                if r.new_files > 0 {
                    tracing::info!(
                        new_files = r.new_files,
                        files_written = r.files_written,
                        "metric tables refreshed"
                    );
                }
                Ok::<(), Error>(())
            }
        });
    }

    fn start_trainer(&mut self) {
        let (lake, models, seed, keep) = (
            self.settings.lake.clone(),
            self.settings.api.models.clone().unwrap_or_default(),
            self.settings.train_seed,
            self.settings.keep_versions,
        );
        self.periodic("trainer", self.settings.retrain_every, move || {
            let (lake, models) = (lake.clone(), models.clone());
            async move {
                let m = joined(
                    "trainer",
                    tokio::task::spawn_blocking(move || {
                        jobs::train_store(&lake, &models, seed, keep)
                    })
                    .await,
                )??;
                tracing::info!(version = %m.version, users = m.data.users, "recommender retrained");
                Ok::<(), Error>(())
            }
        });
    }

    fn start_compactor(&mut self) {
        let (lake, days) = (self.settings.lake.clone(), self.settings.closed_after_days);
        self.periodic("compactor", self.settings.compact_every, move || {
            let lake = lake.clone();
            async move {
                let (_, r) = joined(
                    "compactor",
                    tokio::task::spawn_blocking(move || jobs::compact(&lake, days)).await,
                )??;
                if !r.compacted.is_empty() {
                    tracing::info!(partitions = r.compacted.len(), "lake compacted");
                }
                Ok::<(), Error>(())
            }
        });
    }

    fn periodic<F, Fut>(&mut self, name: &'static str, every: Duration, mut job: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send,
    {
        if every.is_zero() {
            tracing::info!(role = name, "period 0: the role does nothing");
            return;
        }
        let durations = self.jobs.clone();
        self.timers
            .push(timer::every(name, every, self.stop.clone(), move || {
                let (run, durations) = (job(), durations.clone());
                async move {
                    let started = std::time::Instant::now();
                    let r = run.await;
                    durations.observe(name, started.elapsed().as_secs_f64());
                    r
                }
            }));
    }

    /// Waits for every role to end (they end once stopped; ingest and the
    /// ClickHouse sink also when drained, if their settings say so).
    pub async fn wait(self) -> Result<NodeReport> {
        let mut report = NodeReport::default();
        for t in self.timers {
            joined("timer", t.await)?;
        }
        if let Some((_, t)) = self.http {
            joined("http", t.await)??;
        }
        if let Some(t) = self.ingest {
            report.ingest = Some(joined("ingest", t.await)??);
        }
        if let Some(c) = self.clickhouse {
            Self::wait_clickhouse(c, &mut report).await?;
        }
        Ok(report)
    }

    /// Waits for the ClickHouse sink alone (it ends by itself when
    /// draining); returns its counters.
    pub async fn wait_clickhouse_drained(&mut self) -> Result<Option<Arc<SinkReport>>> {
        let mut report = NodeReport::default();
        if let Some(c) = self.clickhouse.take() {
            Self::wait_clickhouse(c, &mut report).await?;
        }
        Ok(report.clickhouse)
    }

    async fn wait_clickhouse(
        (task, sink): (JoinHandle<showrunner_ingest::Result<()>>, Arc<SinkReport>),
        report: &mut NodeReport,
    ) -> Result<()> {
        joined("clickhouse-sink", task.await)??;
        report.clickhouse = Some(sink);
        Ok(())
    }
}
