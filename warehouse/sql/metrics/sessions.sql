-- sessions: viewing sessions. A user's views, ordered by start (then
-- view_id), open a new session when a view starts more than 30 minutes
-- (1,800,000 ms) after the latest end of the user's earlier views; else
-- the view joins the current session (as the watch_sessions projection).
-- Sessions are made from the views the filters keep, over all time, and
-- bucketed and windowed by their start (a session started before `from`
-- is not counted, whatever it watched after). Anonymous views have no
-- session. The session's breakdown values are those of its first view.
-- ({{views}}: the views projection, with the viewer's plan when asked.)
-- Views of a session begun before `from` (none of them opens one) share
-- session_no 0, which no first view names: they are not counted.
-- Columns: sessions, users, views, playing_ms, avg_playing_ms (per
-- session), views_per_session.
WITH b AS ({{views}}),
-- only views from `from` on can open a session of the window; what came
-- before matters through one number per user: the latest end of the
-- views that started before `from`
pre AS (
    SELECT user_id, max(end_ms) AS pre_end
    FROM b
    WHERE user_id IS NOT NULL AND start_ms < {{from_ms}}
    GROUP BY user_id
),
o AS (
    -- only the columns the sessions need travel through the windows' sorts
    SELECT b.user_id, b.view_id, b.start_ms, b.end_ms, b.playing_ms{{dims}},
           greatest(p.pre_end,
                    max(b.end_ms) OVER (PARTITION BY b.user_id ORDER BY b.start_ms, b.view_id
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) AS prev_end
    FROM b
    LEFT JOIN pre p ON p.user_id = b.user_id
    WHERE b.user_id IS NOT NULL AND b.start_ms >= {{from_ms}}
),
s AS (
    SELECT *,
           CASE WHEN prev_end IS NULL OR start_ms - prev_end > 1800000 THEN 1 ELSE 0 END AS opens,
           sum(CASE WHEN prev_end IS NULL OR start_ms - prev_end > 1800000 THEN 1 ELSE 0 END)
               OVER (PARTITION BY user_id ORDER BY start_ms, view_id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM o
),
firsts AS (
    SELECT user_id, session_no, start_ms AS t{{dims}} FROM s WHERE opens = 1
),
totals AS (
    SELECT user_id, session_no, count(*) AS views, coalesce(sum(playing_ms), 0) AS playing_ms
    FROM s GROUP BY user_id, session_no
)
SELECT {{bucket}} AS bucket{{dims}},
       count(*) AS sessions,
       count(DISTINCT f.user_id) AS users,
       sum(n.views) AS views,
       sum(n.playing_ms) AS playing_ms,
       CAST(sum(n.playing_ms) AS DOUBLE) / count(*) AS avg_playing_ms,
       CAST(sum(n.views) AS DOUBLE) / count(*) AS views_per_session
FROM firsts f
JOIN totals n ON n.user_id = f.user_id AND n.session_no = f.session_no
WHERE t >= {{from_ms}} AND t < {{to_ms}}
GROUP BY 1{{dims}}
ORDER BY 1{{dims}}
