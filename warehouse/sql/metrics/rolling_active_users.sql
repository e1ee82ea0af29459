-- rolling_active_users: for each UTC day D of the window, distinct users
-- with a view starting on D (dau), in the 7 days D−6..D (wau_7d) and in
-- the 28 days D−27..D (mau_28d): rolling windows, which look back before
-- the window's start. A row for each day (and breakdown) with at least
-- one view that day. Anonymous views do not count. Always daily.
-- Columns: dau, wau_7d, mau_28d.
-- ({{views}}: the views projection, with the viewer's plan when asked.)
-- Each (day, user) spreads over the days it is the user's latest active
-- day, at most 28 (the next active day takes over): each user is one row
-- on a day, so the counts are sums, not distinct counts.
WITH uv AS (
    SELECT DISTINCT CAST(start_ms / 86400000 AS BIGINT) AS vday, user_id{{dims}}
    FROM ({{views}}) v
    WHERE user_id IS NOT NULL
      AND start_ms < {{to_ms}}
      AND start_ms + 2332800000 >= {{from_ms}} -- 27 days
),
nx AS (
    SELECT vday, user_id{{dims}},
           lead(vday) OVER (PARTITION BY user_id{{dims}} ORDER BY vday) AS next_day
    FROM uv
),
spread AS (
    SELECT unnest(range(vday, least(vday + 28, coalesce(next_day, vday + 28)))) AS d, vday{{dims}}
    FROM nx
)
SELECT {{bucket}} AS bucket{{dims}}, dau, wau_7d, mau_28d
FROM (
    SELECT d * 86400000 AS t{{dims}},
           sum(CASE WHEN vday = d THEN 1 ELSE 0 END) AS dau,
           sum(CASE WHEN d < vday + 7 THEN 1 ELSE 0 END) AS wau_7d,
           count(*) AS mau_28d
    FROM spread
    WHERE d * 86400000 >= {{from_ms}} AND d * 86400000 < {{to_ms}}
    GROUP BY d{{dims}}
) x
WHERE dau > 0
ORDER BY bucket{{dims}}
