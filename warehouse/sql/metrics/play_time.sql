-- play_time: plays and how long they played. Per bucket × breakdown:
-- views (every view), started_views (views with a first frame),
-- playing_ms (Σ playing_ms of the started views) and avg_playing_ms =
-- playing_ms ÷ started_views (null without a started view). Broken down by
-- `startup` or `rebuffering` (the views' bands) it is QoE against
-- engagement: how many plays, and how long they last, by startup time and
-- by rebuffering.
-- Columns: views, started_views, playing_ms, avg_playing_ms.
SELECT bucket{{dims}},
       count(*) AS views,
       sum(CASE WHEN ff_ms IS NOT NULL THEN 1 ELSE 0 END) AS started_views,
       coalesce(sum(playing_ms), 0) AS playing_ms,
       CAST(sum(playing_ms) AS DOUBLE)
           / nullif(sum(CASE WHEN ff_ms IS NOT NULL THEN 1 ELSE 0 END), 0) AS avg_playing_ms
FROM v
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
