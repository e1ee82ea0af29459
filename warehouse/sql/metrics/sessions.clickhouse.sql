-- sessions (ClickHouse): as sessions.sql, without window functions
-- (18.16 on). Each user's views (per breakdown value) are gathered into one
-- array sorted by (start_ms, view_id); view i opens a session when it is
-- the first or starts more than 30 minutes after the latest end of views
-- 1..i−1, and the running count of openings numbers the sessions; each
-- opening view gives a session: its start, its views and their playing
-- time. Sums are renamed inside (an alias equal to a column name would
-- shadow the column). (DISTINCT, which removes nothing, keeps the columns
-- the lambdas capture on 18.16: see views.clickhouse.sql.)
-- Columns: sessions, users, views, playing_ms, avg_playing_ms,
-- views_per_session.
SELECT bucket{{dims}},
       k AS sessions,
       u AS users,
       nv AS views,
       pl AS playing_ms,
       pl / k AS avg_playing_ms,
       nv / k AS views_per_session
FROM (
    SELECT bucket{{dims}},
           toInt64(count()) AS k,
           toInt64(uniqExact(skey)) AS u,
           toInt64(sum(n)) AS nv,
           toInt64(sum(play)) AS pl
    FROM (
        SELECT {{bucket}} AS bucket, skey, n, play{{dims}}
        FROM (
            SELECT DISTINCT skey{{dims}}, vs,
                   arrayMap(x -> x.1, vs) AS st,
                   arrayMap(x -> x.3, vs) AS en,
                   arrayMap(x -> x.4, vs) AS pls,
                   arrayMap(i -> toUInt8(i = 1 OR st[i] - arrayReduce('max', arraySlice(en, 1, i - 1)) > 1800000),
                            arrayEnumerate(vs)) AS ops,
                   arrayCumSum(ops) AS snos,
                   -- per session (its opening view i): start, views, playing time
                   arrayFilter(i -> ops[i] = 1, arrayEnumerate(vs)) AS firsts,
                   arrayMap(i -> st[i], firsts) AS starts,
                   arrayMap(i -> length(arrayFilter(x -> x = snos[i], snos)), firsts) AS counts,
                   arrayMap(i -> arraySum(arrayFilter((p, x) -> x = snos[i], pls, snos)), firsts) AS plays
            FROM (
                SELECT ifNull(user_id, '') AS skey{{dims}},
                       arraySort(groupArray((start_ms, view_id, end_ms, toInt64(ifNull(playing_ms, 0))))) AS vs
                FROM {{views}}
                WHERE user_id IS NOT NULL
                GROUP BY skey{{dims}}
            )
        )
        ARRAY JOIN starts AS t, counts AS n, plays AS play
        WHERE t >= {{from_ms}} AND t < {{to_ms}}
    )
    GROUP BY bucket{{dims}}
)
ORDER BY bucket{{dims}}
