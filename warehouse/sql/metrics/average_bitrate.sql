-- average_bitrate: time-weighted over [ff, end]: each bitrate_changed holds
-- its bitrate_kbps until the next one or the end; segments before ff are
-- clipped to start at ff; Σ(kbps × ms) ÷ Σ ms. Null without segments.
-- Columns: kbps.
SELECT bucket{{dims}},
       sum(bitrate_kbps_ms) / nullif(CAST(sum(bitrate_ms) AS DOUBLE), 0) AS kbps
FROM v
WHERE ff_ms IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
