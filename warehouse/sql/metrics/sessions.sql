-- sessions: viewing sessions. A user's views, ordered by start (then
-- view_id), open a new session when a view starts more than 30 minutes
-- (1,800,000 ms) after the latest end of the user's earlier views; else
-- the view joins the current session (as the watch_sessions projection).
-- Sessions are made from the views the filters keep, over all time, and
-- bucketed and windowed by their start (a session started before `from`
-- is not counted, whatever it watched after). Anonymous views have no
-- session. By a breakdown, sessions are made within each of its values
-- (a user's views on tv make the tv sessions), as a filter keeps a
-- value's views before sessions are made.
-- ({{views}}: the views projection, with the viewer's plan when asked.)
-- Views of a session begun before `from` (none of them opens one) share
-- session_no 0: they are not counted. The views before `from` count
-- through one row per user (and breakdown value): their latest end.
-- Columns: sessions, users, views, playing_ms, avg_playing_ms (per
-- session), views_per_session.
WITH b AS ({{views}}),
u AS (
    SELECT user_id, CAST(NULL AS VARCHAR) AS view_id, max(start_ms) AS start_ms,
           max(end_ms) AS end_ms, CAST(NULL AS BIGINT) AS playing_ms{{dims}}, 1 AS pre
    FROM b
    WHERE user_id IS NOT NULL AND start_ms < {{from_ms}}
    GROUP BY user_id{{dims}}
    UNION ALL
    SELECT user_id, view_id, start_ms, end_ms, playing_ms{{dims}}, 0 AS pre
    FROM b
    WHERE user_id IS NOT NULL AND start_ms >= {{from_ms}}
),
o AS (
    SELECT *,
           max(end_ms) OVER (PARTITION BY user_id{{dims}} ORDER BY start_ms, view_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
    FROM u
),
s AS (
    SELECT *,
           sum(CASE WHEN pre = 0 AND (prev_end IS NULL OR start_ms - prev_end > 1800000) THEN 1 ELSE 0 END)
               OVER (PARTITION BY user_id{{dims}} ORDER BY start_ms, view_id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM o
),
g AS (
    SELECT user_id, session_no{{dims}}, min(start_ms) AS t, count(*) AS views,
           coalesce(sum(playing_ms), 0) AS playing_ms
    FROM s
    WHERE pre = 0 AND session_no > 0
    GROUP BY user_id, session_no{{dims}}
)
SELECT {{bucket}} AS bucket{{dims}},
       count(*) AS sessions,
       count(DISTINCT user_id) AS users,
       sum(views) AS views,
       sum(playing_ms) AS playing_ms,
       CAST(sum(playing_ms) AS DOUBLE) / count(*) AS avg_playing_ms,
       CAST(sum(views) AS DOUBLE) / count(*) AS views_per_session
FROM g
WHERE t >= {{from_ms}} AND t < {{to_ms}}
GROUP BY 1{{dims}}
ORDER BY 1{{dims}}
