-- average_bitrate (ClickHouse): as average_bitrate.sql. Columns: kbps.
SELECT bucket{{dims}},
       sum(bitrate_kbps_ms) / nullIf(toFloat64(sum(bitrate_ms)), 0) AS kbps
FROM {{v}}
WHERE ff_ms IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
