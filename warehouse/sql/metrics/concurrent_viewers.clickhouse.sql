-- concurrent_viewers (ClickHouse): as concurrent_viewers.sql; a view's
-- whole minutes in [ff, end) are generated as an array and unrolled.
-- Columns: peak, average.
SELECT bucket{{dims}},
       toInt64(max(viewers)) AS peak,
       sum(viewers) / intDiv(least(max(b1), {{to_ms}}) - greatest(min(b0), {{from_ms}}), 60000) AS average
FROM (
    SELECT {{bucket}} AS bucket, {{bucket_start}} AS b0, {{bucket_end}} AS b1, viewers{{dims}}
    FROM (
        SELECT t{{dims}}, count() AS viewers
        FROM (
            SELECT arrayJoin(arrayMap(k -> m0 + toInt64(k) * 60000,
                                      range(toUInt64(greatest(intDiv(end_ms - m0 + 59999, 60000), 0))))) AS t{{dims}}
            FROM (
                SELECT *, intDiv(assumeNotNull(ff_ms) + 59999, 60000) * 60000 AS m0
                FROM {{views}}
                WHERE ff_ms IS NOT NULL AND ff_ms < {{to_ms}} AND end_ms > {{from_ms}}
            )
        )
        WHERE t >= {{from_ms}} AND t < {{to_ms}}
        GROUP BY t{{dims}}
    )
)
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
