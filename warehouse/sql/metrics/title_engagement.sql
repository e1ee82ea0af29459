-- title_engagement: per title_id (first, like a breakdown): starts (views
-- with a first frame), completions (views whose view_ended reason is
-- completed), completion_rate = completions ÷ starts (null without starts),
-- watch_hours (Σ playing_ms ÷ 3,600,000).
-- Columns: title_id, starts, completions, completion_rate, watch_hours.
SELECT bucket, title_id{{dims}},
       sum(CASE WHEN ff_ms IS NOT NULL THEN 1 ELSE 0 END) AS starts,
       sum(CASE WHEN completed THEN 1 ELSE 0 END) AS completions,
       CAST(sum(CASE WHEN completed THEN 1 ELSE 0 END) AS DOUBLE)
           / nullif(sum(CASE WHEN ff_ms IS NOT NULL THEN 1 ELSE 0 END), 0) AS completion_rate,
       coalesce(CAST(sum(playing_ms) AS DOUBLE), 0) / 3600000.0 AS watch_hours
FROM v
GROUP BY bucket, title_id{{dims}}
ORDER BY bucket, title_id{{dims}}
