-- playback_failures (ClickHouse): as playback_failures.sql.
-- Columns: failed_views, views, failure_rate.
SELECT bucket{{dims}},
       toInt64(sum(fatal_any)) AS failed_views,
       toInt64(count()) AS views,
       sum(fatal_any) / count() AS failure_rate
FROM {{v}}
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
