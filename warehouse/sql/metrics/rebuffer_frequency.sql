-- rebuffer_frequency: non-seek stalls per minute of playback:
-- Σ stalls ÷ (Σ playing_ms / 60,000) over views with a first frame.
-- Null when nothing was played.
-- Columns: stalls, playing_ms, per_minute.
SELECT bucket{{dims}},
       sum(stalls) AS stalls,
       sum(playing_ms) AS playing_ms,
       CAST(sum(stalls) AS DOUBLE) / nullif(CAST(sum(playing_ms) AS DOUBLE) / 60000.0, 0) AS per_minute
FROM v
WHERE ff_ms IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
