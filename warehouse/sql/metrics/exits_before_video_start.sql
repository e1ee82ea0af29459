-- exits_before_video_start: views abandoned before the first frame
-- without a fatal error (the viewer left), ÷ views.
-- Columns: ebvs_views, views, ebvs_rate.
SELECT bucket{{dims}},
       sum(CASE WHEN ff_ms IS NULL AND NOT fatal_any THEN 1 ELSE 0 END) AS ebvs_views,
       count(*) AS views,
       CAST(sum(CASE WHEN ff_ms IS NULL AND NOT fatal_any THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS ebvs_rate
FROM v
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
