-- rebuffering_ratio: Σ stall_ms ÷ Σ (playing_ms + stall_ms) over views with
-- a first frame. Startup and seek-induced stalls are excluded from stall_ms.
-- Null when nothing was played or stalled.
-- Columns: stall_ms, playing_ms, ratio.
SELECT bucket{{dims}},
       sum(stall_ms) AS stall_ms,
       sum(playing_ms) AS playing_ms,
       CAST(sum(stall_ms) AS DOUBLE) / nullif(sum(playing_ms) + sum(stall_ms), 0) AS ratio
FROM v
WHERE ff_ms IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
