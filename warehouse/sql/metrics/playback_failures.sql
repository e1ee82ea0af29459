-- playback_failures: views with any fatal error, ÷ views.
-- Columns: failed_views, views, failure_rate.
SELECT bucket{{dims}},
       sum(CASE WHEN fatal_any THEN 1 ELSE 0 END) AS failed_views,
       count(*) AS views,
       CAST(sum(CASE WHEN fatal_any THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS failure_rate
FROM v
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
