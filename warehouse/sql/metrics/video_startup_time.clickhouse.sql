-- video_startup_time (ClickHouse): as video_startup_time.sql, nearest-rank
-- on the sorted startup times of each group (arrays are 1-based):
-- pXX = s[(XX·n + 99) / 100]. Columns: p50_ms, p90_ms, p95_ms, p99_ms,
-- views.
SELECT bucket{{dims}},
       s[intDiv(50 * n + 99, 100)] AS p50_ms,
       s[intDiv(90 * n + 99, 100)] AS p90_ms,
       s[intDiv(95 * n + 99, 100)] AS p95_ms,
       s[intDiv(99 * n + 99, 100)] AS p99_ms,
       n AS views
FROM (
    SELECT bucket{{dims}},
           arraySort(groupArray(assumeNotNull(startup_ms))) AS s,
           toInt64(count()) AS n
    FROM {{v}}
    WHERE ff_ms IS NOT NULL
    GROUP BY bucket{{dims}}
)
ORDER BY bucket{{dims}}
