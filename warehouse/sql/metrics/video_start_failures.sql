-- video_start_failures: views with a fatal error before the first frame
-- (or any fatal error when there is no first frame), ÷ views.
-- Columns: vsf_views, views, vsf_rate.
SELECT bucket{{dims}},
       sum(CASE WHEN fatal_before_ff THEN 1 ELSE 0 END) AS vsf_views,
       count(*) AS views,
       CAST(sum(CASE WHEN fatal_before_ff THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS vsf_rate
FROM v
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
