-- rebuffer_frequency (ClickHouse): as rebuffer_frequency.sql (sums renamed
-- inside: an alias equal to a column name would shadow the column).
-- Columns: stalls, playing_ms, per_minute.
SELECT bucket{{dims}},
       toInt64(n) AS stalls,
       playing AS playing_ms,
       n / nullIf(playing / 60000.0, 0) AS per_minute
FROM (
    SELECT bucket{{dims}}, sum(stalls) AS n, sum(playing_ms) AS playing
    FROM {{v}}
    WHERE ff_ms IS NOT NULL
    GROUP BY bucket{{dims}}
)
ORDER BY bucket{{dims}}
