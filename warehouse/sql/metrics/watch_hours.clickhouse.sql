-- watch_hours (ClickHouse): as watch_hours.sql. Columns: hours.
SELECT bucket{{dims}},
       toFloat64(sum(playing_ms)) / 3600000.0 AS hours
FROM {{v}}
WHERE ff_ms IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
