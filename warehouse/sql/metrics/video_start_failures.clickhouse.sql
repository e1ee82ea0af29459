-- video_start_failures (ClickHouse): as video_start_failures.sql.
-- Columns: vsf_views, views, vsf_rate.
SELECT bucket{{dims}},
       toInt64(sum(fatal_before_ff)) AS vsf_views,
       toInt64(count()) AS views,
       sum(fatal_before_ff) / count() AS vsf_rate
FROM {{v}}
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
