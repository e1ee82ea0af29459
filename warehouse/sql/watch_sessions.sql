-- watch_sessions: each user's viewing split into sessions. Views are
-- ordered by start (then view_id); a view opens a new session when it
-- starts more than 30 minutes (1,800,000 ms) after the latest end of the
-- user's earlier views, otherwise it joins the current session.
-- Anonymous views (no user_id) have no session.
--   session_no     1, 2, … per user, in time order
--   start_ms, end_ms, views, titles (distinct), playing_ms (Σ, views with a
--   first frame), device_type (of the session's first view)
WITH o AS (
    SELECT user_id, view_id, title_id, device_type, start_ms, end_ms,
           coalesce(playing_ms, 0) AS playing_ms,
           max(end_ms) OVER (PARTITION BY user_id ORDER BY start_ms, view_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
    FROM views
    WHERE user_id IS NOT NULL
),
s AS (
    SELECT *,
           sum(CASE WHEN prev_end IS NULL OR start_ms - prev_end > 1800000 THEN 1 ELSE 0 END)
               OVER (PARTITION BY user_id ORDER BY start_ms, view_id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no,
           row_number() OVER (PARTITION BY user_id ORDER BY start_ms, view_id) AS k
    FROM o
)
SELECT user_id, session_no,
       min(start_ms) AS start_ms,
       max(end_ms) AS end_ms,
       count(*) AS views,
       count(DISTINCT title_id) AS titles,
       sum(playing_ms) AS playing_ms,
       min(CASE WHEN prev_end IS NULL OR start_ms - prev_end > 1800000 THEN device_type END) AS device_type
FROM s
GROUP BY user_id, session_no
