-- rebuffering_ratio (ClickHouse): as rebuffering_ratio.sql (sums renamed
-- inside: an alias equal to a column name would shadow the column).
-- Columns: stall_ms, playing_ms, ratio.
SELECT bucket{{dims}},
       stall AS stall_ms,
       playing AS playing_ms,
       stall / nullIf(playing + stall, 0) AS ratio
FROM (
    SELECT bucket{{dims}}, sum(stall_ms) AS stall, sum(playing_ms) AS playing
    FROM {{v}}
    WHERE ff_ms IS NOT NULL
    GROUP BY bucket{{dims}}
)
ORDER BY bucket{{dims}}
