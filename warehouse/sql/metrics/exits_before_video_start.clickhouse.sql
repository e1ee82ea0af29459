-- exits_before_video_start (ClickHouse): as exits_before_video_start.sql.
-- Columns: ebvs_views, views, ebvs_rate.
SELECT bucket{{dims}},
       toInt64(sum(ff_ms IS NULL AND NOT fatal_any)) AS ebvs_views,
       toInt64(count()) AS views,
       sum(ff_ms IS NULL AND NOT fatal_any) / count() AS ebvs_rate
FROM {{v}}
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
