//! What `standalone` prints once everything runs: where to look and a
//! working `curl` for each role, with the development keys when the config
//! holds them (placeholders otherwise — a real key is never printed).

use std::net::SocketAddr;
use std::path::Path;

use showrunner_web::Role;
use showrunner_web::keys::{DEV_KEYS, dev_entries};

use crate::Roles;
use crate::config::Config;

/// The banner of a node serving on `addr` with `roles` over `lake`.
pub fn banner(cfg: &Config, addr: Option<SocketAddr>, roles: &Roles, lake: &Path) -> String {
    let addr = addr.map_or_else(String::new, |a| a.to_string());
    let key = dev_key(cfg, Role::Ingest);
    let analyst = dev_key(cfg, Role::Analyst);
    let app = dev_key(cfg, Role::App);
    let lake = lake.display();
    let mut lines = vec![
        format!("\nShowrunner is running (roles {roles}):"),
        format!(
            "  dashboard   http://{addr}/ (sign in with the analyst key {analyst}; Live: http://{addr}/live)"
        ),
        format!("  metrics     http://{addr}/metrics"),
        format!(
            "  send events curl -H 'Authorization: Bearer {key}' --data-binary @events.ndjson http://{addr}/v1/events"
        ),
        format!(
            "  metrics API curl -H 'Authorization: Bearer {analyst}' 'http://{addr}/v1/metrics/mrr'"
        ),
        format!(
            "  for you     curl -H 'Authorization: Bearer {app}' 'http://{addr}/v1/users/<user>/recommendations?row=for_you'"
        ),
        format!(
            "  models      {lake}/models/<version>/ (retrained every {} s)",
            cfg.recommender.retrain_every.as_secs()
        ),
        format!(
            "  metric tables {lake}/metrics/<name>/month=YYYY-MM/data.parquet (every {} s)",
            cfg.warehouse.materialize_every.as_secs()
        ),
        format!("  lake        {lake}/events/<family>/date=YYYY-MM-DD/*.parquet"),
    ];
    if cfg.clickhouse.enabled {
        lines.push(format!("  clickhouse  {} database {} (fed by its own consumer; `metrics --engine clickhouse`, API `engine=clickhouse`)",
            cfg.clickhouse.url, cfg.clickhouse.database
        ));
    }
    lines.push("Ctrl-C stops everything.\n".into());
    lines.join("\n")
}

/// The development key of `role` when the config holds it, else a
/// placeholder.
fn dev_key(cfg: &Config, role: Role) -> String {
    DEV_KEYS
        .iter()
        .zip(dev_entries())
        .find(|((_, r, _), e)| *r == role && cfg.http.keys.contains(e))
        .map_or_else(|| format!("<{role} key>"), |((_, _, k), _)| (*k).to_owned())
}
