-- play_time (ClickHouse): as play_time.sql (sums renamed inside: an alias
-- equal to a column name would shadow the column).
-- Columns: views, started_views, playing_ms, avg_playing_ms.
SELECT bucket{{dims}},
       n AS views,
       started AS started_views,
       played AS playing_ms,
       if(started = 0, NULL, toFloat64(played) / started) AS avg_playing_ms
FROM (
    SELECT bucket{{dims}},
           toInt64(count()) AS n,
           toInt64(sum(ff_ms IS NOT NULL)) AS started,
           toInt64(sum(ifNull(playing_ms, 0))) AS played
    FROM {{v}}
    GROUP BY bucket{{dims}}
)
ORDER BY bucket{{dims}}
