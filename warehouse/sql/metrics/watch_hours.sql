-- watch_hours: Σ playing_ms ÷ 3,600,000 over views with a first frame.
-- Columns: hours.
SELECT bucket{{dims}},
       CAST(sum(playing_ms) AS DOUBLE) / 3600000.0 AS hours
FROM v
WHERE ff_ms IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
