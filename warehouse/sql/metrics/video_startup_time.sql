-- video_startup_time: how long viewers wait for the first frame.
-- Over views with a first frame: startup_ms = ff − start.
-- Percentiles are nearest-rank: sort the n values ascending, v[1..n];
-- pXX = v[⌈XX/100 · n⌉], computed in integers as rn = (XX·n + 99) / 100.
-- Columns: p50_ms, p90_ms, p95_ms, p99_ms, views.
SELECT bucket{{dims}},
       max(CASE WHEN rn = (50 * n + 99) / 100 THEN startup_ms END) AS p50_ms,
       max(CASE WHEN rn = (90 * n + 99) / 100 THEN startup_ms END) AS p90_ms,
       max(CASE WHEN rn = (95 * n + 99) / 100 THEN startup_ms END) AS p95_ms,
       max(CASE WHEN rn = (99 * n + 99) / 100 THEN startup_ms END) AS p99_ms,
       max(n) AS views
FROM (
    SELECT bucket{{dims}}, startup_ms,
           row_number() OVER (PARTITION BY bucket{{dims}} ORDER BY startup_ms) AS rn,
           count(*) OVER (PARTITION BY bucket{{dims}}) AS n
    FROM v
    WHERE ff_ms IS NOT NULL
) ranked
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
