#!/usr/bin/env python3
"""The metric suite on DuckDB, from the very SQL files DataFusion runs.

Reads warehouse/sql/*.sql and warehouse/sql/metrics/*.sql, translates the few
functions whose names differ (DataFusion -> DuckDB), registers the lake's
Parquet files, computes the projections once (as `showrunner metrics` holds
them in memory), then every metric with the suite's default parameters (day buckets,
no window, no breakdown). Prints one JSON object per line:
  {"projection": name, "seconds": s}
  {"stage": "projections", "seconds": s}
  {"metric": name, "seconds": s, "columns": [...], "rows": [[...], ...]}
  {"total_seconds": s, "threads": n}
Used by `showrunner-bench metrics`, which compares the rows with its own.
"""

import argparse
import json
import os
import re
import sys
import time

import duckdb

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "warehouse", "sql")
FAMILIES = ["player", "watch", "billing", "catalog", "user", "notification", "campaign"]
PROJECTIONS = [
    "player_events",
    "views",
    "billing_months",
    "subscription_changes",
    "subscriptions",
    "subscription_movements",
    "monthly_churn",
]
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def translate(sql):
    """DataFusion SQL of this repository -> DuckDB SQL."""
    sql = re.sub(r"CAST\(((?:\w+\.)?(?:occurred_at|received_at)) AS BIGINT\)", r"epoch_ms(\1)", sql)
    sql = sql.replace("to_timestamp_millis(", "epoch_ms(")
    sql = sql.replace("to_char(", "strftime(")
    sql = sql.replace("to_unixtime(", "epoch(")
    return sql


def bucket(unit, col):
    ts = f"epoch_ms({col})"
    fmt = "%Y-%m-%dT%H:00:00Z" if unit == "hour" else "%Y-%m-%d"
    return f"strftime(date_trunc('{unit}', {ts}), '{fmt}')"


def render(name, sql, unit):
    """Mirrors warehouse::metrics::render for the default parameters."""
    body = (
        sql.replace("{{views}}", "SELECT * FROM views")
        .replace("{{dims}}", "")
        .replace("{{bucket}}", bucket(unit, "t"))
        .replace("{{bucket_start}}", f"epoch_ms(date_trunc('{unit}', epoch_ms(t)))")
        .replace("{{bucket_end}}", f"epoch_ms(date_trunc('{unit}', epoch_ms(t)) + INTERVAL '1 {unit}')")
        .replace("{{from_ms}}", str(I64_MIN))
        .replace("{{to_ms}}", str(I64_MAX))
        .replace("{{from_mi}}", str(I64_MIN))
        .replace("{{to_mi}}", str(I64_MAX))
    )
    return translate(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", required=True)
    ap.add_argument("--metrics", required=True, help="comma-separated names, in order")
    ap.add_argument("--view-metrics", required=True, help="the names over the views projection")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument(
        "--dedup",
        required=True,
        help="the lake's one-row-per-event_id SQL over the table {table} (showrunner_lake::dedup)",
    )
    a = ap.parse_args()

    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET integer_division = true")
    t_all = time.perf_counter()
    for f in FAMILIES:
        glob = os.path.join(a.lake, "events", f, "*", "*.parquet")
        con.execute(
            f"CREATE VIEW {f}_raw AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true, hive_types_autocast = false)"
            if any(True for _ in _files(a.lake, f))
            else f"CREATE VIEW {f}_raw AS SELECT NULL AS event_id, NULL AS occurred_at, NULL AS received_at WHERE false"
        )
        con.execute(f"CREATE VIEW {f} AS " + a.dedup.replace("{table}", f"{f}_raw"))
    t = time.perf_counter()
    for name in PROJECTIONS:
        sql = translate(open(os.path.join(ROOT, name + ".sql")).read())
        # held in memory, as Lake::prepare holds them
        t1 = time.perf_counter()
        con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
        print(json.dumps({"projection": name, "seconds": time.perf_counter() - t1}), flush=True)
    print(json.dumps({"stage": "projections", "seconds": time.perf_counter() - t}), flush=True)
    view_metrics = set(a.view_metrics.split(","))
    for name in a.metrics.split(","):
        sql = open(os.path.join(ROOT, "metrics", name + ".sql")).read()
        body = render(name, sql, "day")
        if name in view_metrics:
            body = f"WITH v AS (SELECT {bucket('day', 'start_ms')} AS bucket, * FROM views)\n{body}"
        t = time.perf_counter()
        cur = con.execute(body)
        rows = cur.fetchall()
        secs = time.perf_counter() - t
        cols = [d[0] for d in cur.description]
        print(json.dumps({"metric": name, "seconds": secs, "columns": cols, "rows": [list(r) for r in rows]}, default=str), flush=True)
    print(json.dumps({"total_seconds": time.perf_counter() - t_all, "threads": a.threads}), flush=True)


def _files(lake, family):
    d = os.path.join(lake, "events", family)
    if not os.path.isdir(d):
        return
    for part in os.listdir(d):
        p = os.path.join(d, part)
        if os.path.isdir(p):
            for f in os.listdir(p):
                if f.endswith(".parquet"):
                    yield f


if __name__ == "__main__":
    sys.exit(main())
