-- title_engagement (ClickHouse): as title_engagement.sql.
-- Columns: title_id, starts, completions, completion_rate, watch_hours.
SELECT bucket, title_id{{dims}},
       toInt64(sum(ff_ms IS NOT NULL)) AS starts,
       toInt64(sum(completed)) AS completions,
       sum(completed) / nullIf(sum(ff_ms IS NOT NULL), 0) AS completion_rate,
       ifNull(toFloat64(sum(playing_ms)), 0) / 3600000.0 AS watch_hours
FROM {{v}}
GROUP BY bucket, title_id{{dims}}
ORDER BY bucket, title_id{{dims}}
