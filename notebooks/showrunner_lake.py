"""Read a Showrunner lake with polars, as every engine of the project reads it.

The notebooks import this module; it holds the lake's layout contract
(docs/metrics.md, "Inputs the metrics rely on"; lake/src/layout.rs), the one
"one row per event_id" rule (lake/src/dedup.rs), the per-view and
subscription replays the metrics are defined on (docs/metrics.md), and a
small client of the HTTP API.

Where things are, from the environment:

- ``SR_LAKE``: the lake root, a directory or ``s3://bucket/prefix``
  (then polars reads with ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_REGION`` and ``AWS_ENDPOINT_URL`` when set);
- ``SR_URL`` (default ``http://127.0.0.1:8080``), with
  ``SR_ANALYST_KEY`` (default the development key
  ``dev-analyst-key``) and ``SR_APP_KEY`` (``dev-app-key``).

(``SR_``, not ``SHOWRUNNER_``: the binary reads every ``SHOWRUNNER_*``
variable as a configuration override and refuses the ones it does not know.)
"""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request

import polars as pl

# lake/src/layout.rs
EVENTS = "events"
# lake/src/dedup.rs: the copy received first is kept (nulls last)
DEDUP_KEY = "event_id"
DEDUP_ORDER = ["received_at", "occurred_at"]

# The view's breakdown context (docs/metrics.md): the API's dimension name
# and the lake's column.
DIMENSIONS = {
    "device": "device_type",
    "os": "os",
    "player": "player_name",
    "player_version": "player_version",
    "app_version": "app_version",
    "cdn": "cdn",
    "country": "country",
    "isp": "isp",
    "network": "network_type",
    "title": "title_id",
}

MS_PER_DAY = 86_400_000


def lake_root() -> str:
    root = os.environ.get("SR_LAKE")
    if not root:
        raise RuntimeError("set SR_LAKE to the lake's root (a directory or s3://bucket/prefix)")
    return root.rstrip("/")


def storage_options() -> dict | None:
    if not lake_root().startswith("s3://"):
        return None
    names = {
        "AWS_ACCESS_KEY_ID": "aws_access_key_id",
        "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
        "AWS_REGION": "aws_region",
        "AWS_ENDPOINT_URL": "aws_endpoint_url",
    }
    opts = {key: os.environ[var] for var, key in names.items() if os.environ.get(var)}
    if opts.get("aws_endpoint_url", "").startswith("http://"):
        opts["aws_allow_http"] = "true"
    return opts


def raw(family: str) -> pl.LazyFrame:
    """Every row of a family's table, copies included (Hive partitions)."""
    return pl.scan_parquet(
        f"{lake_root()}/{EVENTS}/{family}/**/*.parquet",
        hive_partitioning=True,
        storage_options=storage_options(),
    )


def scan(family: str) -> pl.LazyFrame:
    """A family's events, one row per ``event_id``: the lake's rule."""
    return (
        raw(family)
        .sort(DEDUP_ORDER, nulls_last=True, maintain_order=True)
        .unique(subset=DEDUP_KEY, keep="first", maintain_order=True)
    )


def epoch_ms(col: str) -> pl.Expr:
    return pl.col(col).dt.epoch("ms")


def nearest_rank(col: str, pct: int) -> pl.Expr:
    """Nearest-rank percentile, v[ceil(pct/100 * n)], in integers
    (docs/metrics.md, refinement 3)."""
    n = pl.col(col).count()
    return pl.col(col).drop_nulls().sort().get((n * pct + 99) // 100 - 1)


def views() -> pl.DataFrame:
    """One row per view (a ``view_id`` with a ``play_requested``):
    ``start_ms`` (earliest play request), ``ff_ms`` (earliest first frame,
    null without), ``end_ms`` (earliest ``view_ended``, else the latest
    event), ``end_reason``, ``fatal_before_ff``, ``fatal_any``,
    ``startup_ms``, ``user_id``, and the play request's context columns.
    """
    ev = (
        scan("player")
        .filter(pl.col("view_id").is_not_null())
        .with_columns(t=epoch_ms("occurred_at"))
        .sort(["view_id", "t", "event_id"])
    )
    context = ["user_id", *DIMENSIONS.values()]
    start = (
        ev.filter(pl.col("event_type") == "play_requested")
        .group_by("view_id", maintain_order=True)
        .agg(pl.col("t").first().alias("start_ms"), *[pl.col(c).first() for c in context])
    )
    ff = ev.filter(pl.col("event_type") == "first_frame").group_by("view_id").agg(ff_ms=pl.col("t").min())
    ended = (
        ev.filter(pl.col("event_type") == "view_ended")
        .group_by("view_id", maintain_order=True)
        .agg(ended_ms=pl.col("t").first(), end_reason=pl.col("reason").first())
    )
    last = ev.group_by("view_id").agg(last_ms=pl.col("t").max())
    fatal = ev.filter((pl.col("event_type") == "error") & pl.col("fatal").fill_null(False)).select(
        "view_id", fatal_ms="t"
    )
    v = (
        start.join(ff, on="view_id", how="left")
        .join(ended, on="view_id", how="left")
        .join(last, on="view_id", how="left")
        .with_columns(end_ms=pl.coalesce("ended_ms", "last_ms"))
    )
    fatal_flags = (
        fatal.join(v.select("view_id", "ff_ms"), on="view_id")
        .group_by("view_id")
        .agg(
            fatal_any=pl.lit(True),
            fatal_before_ff=(pl.col("ff_ms").is_null() | (pl.col("fatal_ms") < pl.col("ff_ms"))).any(),
        )
    )
    return (
        v.join(fatal_flags, on="view_id", how="left")
        .with_columns(
            pl.col("fatal_any").fill_null(False),
            pl.col("fatal_before_ff").fill_null(False),
            startup_ms=pl.col("ff_ms") - pl.col("start_ms"),
            start=pl.from_epoch("start_ms", time_unit="ms").dt.replace_time_zone("UTC"),
        )
        .drop("ended_ms", "last_ms")
        .collect()
    )


# ---------------------------------------------------------------- billing


def subscription_changes() -> pl.DataFrame:
    """Each user's paid monthly price as it changes (the replay of
    ``warehouse/sql/subscription_changes.sql``): one row per
    ``subscription_started``, ``renewed``, ``plan_changed`` and
    ``canceled``, holding from ``t`` until ``next_t`` (null: until now)."""
    e = (
        scan("billing")
        .filter(
            pl.col("user_id").is_not_null()
            & pl.col("event_type").is_in(["subscription_started", "renewed", "plan_changed", "canceled"])
        )
        .with_columns(t=epoch_ms("occurred_at"))
        .sort(["user_id", "t", "event_id"])
        # a trial runs from its subscription_started to the next event that
        # is not a plan_changed (refinement 8)
        .with_columns(anchor=(pl.col("event_type") != "plan_changed").cast(pl.Int64).cum_sum().over("user_id"))
        .with_columns(
            in_trial=(
                (pl.col("event_type") == "subscription_started") & pl.col("trial").fill_null(False)
            ).any().over(["user_id", "anchor"]),
            next_t=pl.col("t").shift(-1).over("user_id"),
        )
    )
    canceled = pl.col("event_type") == "canceled"
    return (
        e.select(
            "user_id",
            "event_id",
            "event_type",
            "t",
            "next_t",
            status=pl.when(canceled).then(pl.lit("canceled")).when("in_trial").then(pl.lit("trial")).otherwise(pl.lit("active")),
            plan=pl.when(canceled).then(None).otherwise("plan"),
            price_minor=pl.when(canceled | pl.col("in_trial")).then(0).otherwise("price_minor"),
            currency=pl.when(canceled).then(None).otherwise("currency"),
        )
        .collect()
    )


def month_index(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int64) * 12 + pl.col(col).dt.month().cast(pl.Int64) - 1


def billing_months() -> pl.DataFrame:
    """The calendar of the subscription metrics: every month from the first
    to the last holding a billing event, with ``[start_ms, end_ms)``."""
    b = scan("billing").select(mi=month_index("occurred_at")).select(lo=pl.col("mi").min(), hi=pl.col("mi").max()).collect()
    lo, hi = b["lo"][0], b["hi"][0]
    if lo is None:
        return pl.DataFrame(schema={"mi": pl.Int64, "month": pl.Date, "start_ms": pl.Int64, "end_ms": pl.Int64})
    rows = []
    for mi in range(lo, hi + 1):
        y, m = divmod(mi, 12)
        ny, nm = divmod(mi + 1, 12)
        rows.append({"mi": mi, "month": f"{y:04}-{m + 1:02}-01", "next": f"{ny:04}-{nm + 1:02}-01"})
    return (
        pl.DataFrame(rows)
        .with_columns(pl.col("month").str.to_date(), pl.col("next").str.to_date())
        .with_columns(
            start_ms=pl.col("month").cast(pl.Datetime("ms")).dt.epoch("ms"),
            end_ms=pl.col("next").cast(pl.Datetime("ms")).dt.epoch("ms"),
        )
        .drop("next")
    )


def month_end_states(months: pl.DataFrame | None = None) -> pl.DataFrame:
    """Each user's state at the end of every month (the last instant before
    the next month), from the month of their first subscription event:
    ``user_id, mi, month, status, plan, currency, mrr_minor``. ``months``:
    :func:`billing_months`, when the caller has it already."""
    c = subscription_changes()
    m = billing_months() if months is None else months
    return (
        c.join(m, how="cross")
        .filter((pl.col("t") < pl.col("end_ms")) & (pl.col("next_t").is_null() | (pl.col("next_t") >= pl.col("end_ms"))))
        .select("user_id", "mi", "month", "status", "plan", "currency", mrr_minor="price_minor")
        .sort("user_id", "mi")
    )


def mrr_movements(states: pl.DataFrame, months: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per user, currency and month: ``a`` (MRR at the end of the month
    before), ``b`` (at the end of the month) and whether it is the user's
    first paid month in that currency; users are tracked per currency.
    ``months``: :func:`billing_months`, when the caller has it already."""
    s = states.filter(pl.col("mrr_minor") > 0).select("user_id", "currency", "mi", "mrr_minor")
    firsts = s.group_by("user_id", "currency").agg(first_mi=pl.col("mi").min())
    before = s.select("user_id", "currency", mi=pl.col("mi") + 1, a="mrr_minor")
    after = s.select("user_id", "currency", "mi", b="mrr_minor")
    months = (billing_months() if months is None else months).select("mi", "month")
    return (
        after.join(before, on=["user_id", "currency", "mi"], how="full", coalesce=True)
        .with_columns(pl.col("a").fill_null(0), pl.col("b").fill_null(0))
        .join(months, on="mi")
        .join(firsts, on=["user_id", "currency"])
        .with_columns(first_paid=pl.col("mi") == pl.col("first_mi"))
        .drop("first_mi")
    )


def waterfall(moves: pl.DataFrame) -> pl.DataFrame:
    """The month's MRR movements per currency (``mrr_movements``)."""
    a, b = pl.col("a"), pl.col("b")
    return (
        moves.group_by("month", "currency")
        .agg(
            new=pl.when((a == 0) & (b > 0) & pl.col("first_paid")).then(b).otherwise(0).sum(),
            expansion=pl.when((a > 0) & (a < b)).then(b - a).otherwise(0).sum(),
            contraction=pl.when((b > 0) & (b < a)).then(a - b).otherwise(0).sum(),
            churn=pl.when((a > 0) & (b == 0)).then(a).otherwise(0).sum(),
            reactivation=pl.when((a == 0) & (b > 0) & ~pl.col("first_paid")).then(b).otherwise(0).sum(),
        )
        .with_columns(net_new=pl.col("new") + pl.col("expansion") + pl.col("reactivation") - pl.col("contraction") - pl.col("churn"))
        .sort("month", "currency")
    )


def wilson(successes: pl.Expr, n: pl.Expr, z: float = 1.96) -> tuple[pl.Expr, pl.Expr]:
    """The Wilson score interval of a proportion (95 % by default)."""
    # in floats: counts from `len()` and boolean sums are UInt32, whose n²
    # wraps from n = 32,768 on
    successes, n = successes.cast(pl.Float64), n.cast(pl.Float64)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    # exact at the ends (the float formula leaves ±1e-17 there)
    low = pl.when(successes == 0).then(0.0).otherwise((centre - half).clip(0.0, 1.0))
    high = pl.when(successes == n).then(1.0).otherwise((centre + half).clip(0.0, 1.0))
    return low, high


# ---------------------------------------------------------------- the API


class Api:
    """The HTTP API with a bearer key: JSON answers, metrics as DataFrames."""

    def __init__(self, base: str | None = None, key: str | None = None):
        self.base = (base or os.environ.get("SR_URL", "http://127.0.0.1:8080")).rstrip("/")
        self.key = key or os.environ.get("SR_ANALYST_KEY", "dev-analyst-key")

    @classmethod
    def app(cls) -> "Api":
        return cls(key=os.environ.get("SR_APP_KEY", "dev-app-key"))

    def get(self, path: str, **params) -> dict:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.base}{path}" + (f"?{query}" if query else "")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.key}", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"GET {url}: {e.code} {e.read().decode(errors='replace')}") from None

    def metric(self, name: str, **params) -> pl.DataFrame:
        """``GET /v1/metrics/{name}``; lists (``by``) are joined with commas."""
        params = {k: ",".join(v) if isinstance(v, (list, tuple)) else v for k, v in params.items()}
        body = self.get(f"/v1/metrics/{name}", **params)
        return frame(body["columns"], body["rows"])


def frame(columns: list[str], rows: list[list]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)


def assert_same(ours: pl.DataFrame, theirs: pl.DataFrame, on: list[str], rel: float = 1e-9) -> None:
    """Fails unless the two frames hold the same keys and, on every shared
    column, the same values (floats within ``rel``)."""
    a = ours.sort(on)
    b = theirs.sort(on)
    assert a.height == b.height, f"{a.height} rows here, {b.height} from the API"
    for col in a.columns:
        if col not in b.columns:
            continue
        for i, (x, y) in enumerate(zip(a[col].to_list(), b[col].to_list())):
            same = (x is None and y is None) or (
                x is not None and y is not None
                and (math.isclose(float(x), float(y), rel_tol=rel, abs_tol=1e-12) if isinstance(x, float) or isinstance(y, float) else str(x) == str(y))
            )
            assert same, f"row {i}, {col}: {x!r} here, {y!r} from the API ({dict(zip(on, [a[k][i] for k in on]))})"
