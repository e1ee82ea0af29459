-- rolling_active_users (ClickHouse): as rolling_active_users.sql; each
-- (user, day) is spread over the 28 days it counts for.
-- Columns: dau, wau_7d, mau_28d.
SELECT {{bucket}} AS bucket{{dims}}, dau, wau_7d, mau_28d
FROM (
    SELECT d * 86400000 AS t{{dims}},
           toInt64(uniqExactIf(user_id, vday = d)) AS dau,
           toInt64(uniqExactIf(user_id, vday > d - 7)) AS wau_7d,
           toInt64(uniqExact(user_id)) AS mau_28d
    FROM (
        SELECT arrayJoin(arrayMap(k -> vday + toInt64(k), range(28))) AS d, vday, user_id{{dims}}
        FROM (
            SELECT DISTINCT intDiv(start_ms, 86400000) AS vday, user_id{{dims}}
            FROM {{views}}
            WHERE user_id IS NOT NULL
              AND start_ms < {{to_ms}}
              AND start_ms + 2332800000 >= {{from_ms}} -- 27 days
        )
    )
    WHERE d * 86400000 >= {{from_ms}} AND d * 86400000 < {{to_ms}}
    GROUP BY d{{dims}}
)
WHERE dau > 0
ORDER BY bucket{{dims}}
