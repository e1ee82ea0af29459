-- sessions (ClickHouse): as sessions.sql, without window functions
-- (18.16 on). Each user's views are gathered into one array sorted by
-- (start_ms, view_id); view i opens a session when it is the first or
-- starts more than 30 minutes after the latest end of views 1..i−1, and
-- the running count of openings numbers the sessions. Each view gets its
-- (skey, session_no, opens) back by view_id; the first views give the
-- sessions' start and breakdown values, all views their counts and
-- playing time. (DISTINCT, which removes nothing, keeps the columns the
-- lambdas capture on 18.16: see views.clickhouse.sql.)
-- Sums are renamed inside (an alias equal to a column name would shadow
-- the column). Columns: sessions, users, views, playing_ms,
-- avg_playing_ms, views_per_session.
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
        SELECT skey, session_no, start_ms AS t{{dims}}
        FROM (SELECT * FROM {{views}} WHERE user_id IS NOT NULL)
        ALL INNER JOIN (
            SELECT vid AS view_id, skey, sno AS session_no, op AS opens
            FROM (
                SELECT DISTINCT skey, vs,
                       arrayMap(x -> x.1, vs) AS st,
                       arrayMap(x -> x.3, vs) AS en,
                       arrayMap(i -> toUInt8(i = 1 OR st[i] - arrayReduce('max', arraySlice(en, 1, i - 1)) > 1800000),
                                arrayEnumerate(vs)) AS ops,
                       arrayCumSum(ops) AS snos
                FROM (
                    SELECT ifNull(user_id, '') AS skey, arraySort(groupArray((start_ms, view_id, end_ms))) AS vs
                    FROM {{views}}
                    WHERE user_id IS NOT NULL
                    GROUP BY skey
                )
            )
            ARRAY JOIN arrayMap(x -> x.2, vs) AS vid, snos AS sno, ops AS op
        ) USING view_id
        WHERE opens = 1
    )
    ALL INNER JOIN (
        SELECT skey, session_no, count() AS n, sum(ifNull(playing_ms, 0)) AS play
        FROM (SELECT view_id, playing_ms FROM {{views}} WHERE user_id IS NOT NULL)
        ALL INNER JOIN (
            SELECT vid AS view_id, skey, sno AS session_no
            FROM (
                SELECT DISTINCT skey, vs,
                       arrayMap(x -> x.1, vs) AS st,
                       arrayMap(x -> x.3, vs) AS en,
                       arrayMap(i -> toUInt8(i = 1 OR st[i] - arrayReduce('max', arraySlice(en, 1, i - 1)) > 1800000),
                                arrayEnumerate(vs)) AS ops,
                       arrayCumSum(ops) AS snos
                FROM (
                    SELECT ifNull(user_id, '') AS skey, arraySort(groupArray((start_ms, view_id, end_ms))) AS vs
                    FROM {{views}}
                    WHERE user_id IS NOT NULL
                    GROUP BY skey
                )
            )
            ARRAY JOIN arrayMap(x -> x.2, vs) AS vid, snos AS sno
        ) USING view_id
        GROUP BY skey, session_no
    ) USING skey, session_no
    WHERE t >= {{from_ms}} AND t < {{to_ms}}
)
GROUP BY bucket{{dims}}
)
ORDER BY bucket{{dims}}
