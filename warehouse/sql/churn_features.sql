-- churn_features: one row per (snapshot instant T, subscriber trialing or
-- paying at T), the churn-risk model's features from events at or before T
-- only, and its label from the 30 days after (docs/churn.md). T comes from
-- the table churn_snapshot_times (snap_ms, epoch ms), which the caller
-- registers. Days are 86,400,000 ms before T, not calendar days.
--
--   snap_ms, user_id
--   churned           a `canceled` in (T, T + 30 d]; NULL when T + 30 d is
--                     after the lake's latest event (not known yet)
--   days_since_play   days since the latest view started (≤ T); NULL: never
--   active_days_7/28  distinct days (UTC) with a view started, last 7 / 28 d
--   views_28          views started in the last 28 d
--   watch_hours_7     playing time of views started in the last 7 d
--   watch_trend       (hours last 7 d ÷ 7) ÷ (hours the 21 d before ÷ 21),
--                     each plus 0.1 h a day so that no viewing is 1, not ÷ 0
--   completion_28     share of the last 28 d's views that completed
--   titles_28         distinct series or movies (an episode counts as its
--                     series, by the catalog's episode_added)
--   top_series_share  share of the last 28 d's views on the most-viewed one
--   rebuffering_28    Σ stall ÷ Σ (playing + stall) over the 28 d's views
--   failures_28       share of the 28 d's views with a fatal error
--   exits_before_start_28  share that never started and had no fatal error
--   startup_p90_28    90th percentile of startup (ms), started views
--                     (nearest rank); NULL when none
--   trial             in a trial at T
--   plan              the plan at T; price_minor its monthly price (0 in a
--                     trial) and currency
--   tenure_days       days since the current subscription started
--   payment_failures_90, plan_changes_90   billing events in the last 90 d
--   pushes_28, push_opens_28               push_sent / push_opened, 28 d
--   push_opt_out      the latest profile_updated ≤ T set push_opt_in false
WITH snaps AS (
    SELECT snap_ms FROM churn_snapshot_times
),
latest AS (
    SELECT max(t) AS latest_ms FROM (
        SELECT CAST(max(occurred_at) AS BIGINT) AS t FROM billing
        UNION ALL SELECT max(start_ms) FROM views
    ) x
),
subs AS (
    SELECT s.snap_ms, c.user_id, c.status, c.plan, c.price_minor, c.currency
    FROM snaps s
    JOIN subscription_changes c
      ON c.t <= s.snap_ms AND (c.next_t IS NULL OR c.next_t > s.snap_ms)
    WHERE c.status IN ('trial', 'active')
),
starts AS (
    SELECT b.snap_ms, b.user_id, max(c.t) AS started_ms
    FROM subs b JOIN subscription_changes c
      ON c.user_id = b.user_id AND c.event_type = 'subscription_started' AND c.t <= b.snap_ms
    GROUP BY b.snap_ms, b.user_id
),
labels AS (
    SELECT b.snap_ms, b.user_id,
           bool_or(c.event_type = 'canceled') AS canceled
    FROM subs b JOIN subscription_changes c
      ON c.user_id = b.user_id AND c.t > b.snap_ms AND c.t <= b.snap_ms + 30 * 86400000
    GROUP BY b.snap_ms, b.user_id
),
billing_90 AS (
    SELECT b.snap_ms, b.user_id,
           sum(CASE WHEN e.event_type = 'payment_failed' THEN 1 ELSE 0 END) AS payment_failures_90,
           sum(CASE WHEN e.event_type = 'plan_changed' THEN 1 ELSE 0 END) AS plan_changes_90
    FROM subs b JOIN billing e
      ON e.user_id = b.user_id
     AND CAST(e.occurred_at AS BIGINT) <= b.snap_ms
     AND CAST(e.occurred_at AS BIGINT) > b.snap_ms - 90 * 86400000
    WHERE e.event_type IN ('payment_failed', 'plan_changed')
    GROUP BY b.snap_ms, b.user_id
),
series AS (
    SELECT title_id, min(series_id) AS series_id
    FROM catalog WHERE event_type = 'episode_added' GROUP BY title_id
),
seen AS (
    SELECT b.snap_ms, b.user_id, max(v.start_ms) AS last_ms
    FROM subs b JOIN views v ON v.user_id = b.user_id AND v.start_ms <= b.snap_ms
    GROUP BY b.snap_ms, b.user_id
),
recent AS (
    SELECT b.snap_ms, b.user_id, v.start_ms, v.ff_ms, v.startup_ms, v.stall_ms,
           coalesce(v.playing_ms, 0) AS playing_ms, v.fatal_any, v.fatal_before_ff,
           v.completed, coalesce(s.series_id, v.title_id) AS series_id,
           v.start_ms > b.snap_ms - 7 * 86400000 AS last_7
    FROM subs b
    JOIN views v
      ON v.user_id = b.user_id AND v.start_ms <= b.snap_ms
     AND v.start_ms > b.snap_ms - 28 * 86400000
    LEFT JOIN series s ON s.title_id = v.title_id
),
viewing AS (
    SELECT snap_ms, user_id,
           count(DISTINCT CASE WHEN last_7 THEN floor(start_ms / 86400000) END) AS active_days_7,
           count(DISTINCT floor(start_ms / 86400000)) AS active_days_28,
           count(*) AS views_28,
           sum(CASE WHEN last_7 THEN playing_ms ELSE 0 END) / 3600000.0 AS watch_hours_7,
           sum(CASE WHEN last_7 THEN 0 ELSE playing_ms END) / 3600000.0 AS watch_hours_prev_21,
           avg(CASE WHEN completed THEN 1.0 ELSE 0.0 END) AS completion_28,
           count(DISTINCT series_id) AS titles_28,
           CAST(sum(stall_ms) AS DOUBLE)
               / nullif(sum(CASE WHEN ff_ms IS NULL THEN 0 ELSE playing_ms + stall_ms END), 0) AS rebuffering_28,
           avg(CASE WHEN fatal_any THEN 1.0 ELSE 0.0 END) AS failures_28,
           avg(CASE WHEN ff_ms IS NULL AND NOT fatal_before_ff THEN 1.0 ELSE 0.0 END) AS exits_before_start_28
    FROM recent
    GROUP BY snap_ms, user_id
),
top_series AS (
    SELECT snap_ms, user_id, max(n) AS top_n
    FROM (SELECT snap_ms, user_id, series_id, count(*) AS n FROM recent GROUP BY snap_ms, user_id, series_id) x
    GROUP BY snap_ms, user_id
),
startup_ranked AS (
    SELECT snap_ms, user_id, startup_ms,
           row_number() OVER (PARTITION BY snap_ms, user_id ORDER BY startup_ms) AS rn,
           count(*) OVER (PARTITION BY snap_ms, user_id) AS n
    FROM recent WHERE ff_ms IS NOT NULL
),
startup AS (
    -- nearest rank: the ceil(0.9 n)-th smallest
    SELECT snap_ms, user_id, min(startup_ms) AS startup_p90_28
    FROM startup_ranked WHERE rn * 10 >= 9 * n
    GROUP BY snap_ms, user_id
),
pushes AS (
    SELECT b.snap_ms, b.user_id,
           sum(CASE WHEN n.event_type = 'push_sent' THEN 1 ELSE 0 END) AS pushes_28,
           sum(CASE WHEN n.event_type = 'push_opened' THEN 1 ELSE 0 END) AS push_opens_28
    FROM subs b JOIN notification n
      ON n.user_id = b.user_id
     AND CAST(n.occurred_at AS BIGINT) <= b.snap_ms
     AND CAST(n.occurred_at AS BIGINT) > b.snap_ms - 28 * 86400000
    GROUP BY b.snap_ms, b.user_id
),
opt_in AS (
    SELECT snap_ms, user_id, push_opt_in FROM (
        SELECT b.snap_ms, b.user_id, u.push_opt_in,
               row_number() OVER (PARTITION BY b.snap_ms, b.user_id
                                  ORDER BY u.occurred_at DESC, u.event_id DESC) AS rn
        FROM subs b JOIN "user" u
          ON u.user_id = b.user_id AND u.event_type = 'profile_updated'
         AND u.push_opt_in IS NOT NULL AND CAST(u.occurred_at AS BIGINT) <= b.snap_ms
    ) x WHERE rn = 1
)
SELECT b.snap_ms, b.user_id,
       CASE WHEN b.snap_ms + 30 * 86400000 > (SELECT latest_ms FROM latest) THEN NULL
            ELSE coalesce(l.canceled, false) END AS churned,
       CAST(b.snap_ms - g.last_ms AS DOUBLE) / 86400000.0 AS days_since_play,
       coalesce(w.active_days_7, 0) AS active_days_7,
       coalesce(w.active_days_28, 0) AS active_days_28,
       coalesce(w.views_28, 0) AS views_28,
       coalesce(w.watch_hours_7, 0.0) AS watch_hours_7,
       (coalesce(w.watch_hours_7, 0.0) / 7.0 + 0.1)
           / (coalesce(w.watch_hours_prev_21, 0.0) / 21.0 + 0.1) AS watch_trend,
       w.completion_28,
       coalesce(w.titles_28, 0) AS titles_28,
       CAST(t.top_n AS DOUBLE) / w.views_28 AS top_series_share,
       w.rebuffering_28,
       w.failures_28,
       w.exits_before_start_28,
       CAST(p.startup_p90_28 AS DOUBLE) AS startup_p90_28,
       b.status = 'trial' AS trial,
       b.plan, b.price_minor, b.currency,
       CAST(b.snap_ms - st.started_ms AS DOUBLE) / 86400000.0 AS tenure_days,
       coalesce(bl.payment_failures_90, 0) AS payment_failures_90,
       coalesce(bl.plan_changes_90, 0) AS plan_changes_90,
       coalesce(pu.pushes_28, 0) AS pushes_28,
       coalesce(pu.push_opens_28, 0) AS push_opens_28,
       coalesce(NOT o.push_opt_in, false) AS push_opt_out
FROM subs b
LEFT JOIN labels l ON l.snap_ms = b.snap_ms AND l.user_id = b.user_id
LEFT JOIN starts st ON st.snap_ms = b.snap_ms AND st.user_id = b.user_id
LEFT JOIN seen g ON g.snap_ms = b.snap_ms AND g.user_id = b.user_id
LEFT JOIN viewing w ON w.snap_ms = b.snap_ms AND w.user_id = b.user_id
LEFT JOIN top_series t ON t.snap_ms = b.snap_ms AND t.user_id = b.user_id
LEFT JOIN startup p ON p.snap_ms = b.snap_ms AND p.user_id = b.user_id
LEFT JOIN billing_90 bl ON bl.snap_ms = b.snap_ms AND bl.user_id = b.user_id
LEFT JOIN pushes pu ON pu.snap_ms = b.snap_ms AND pu.user_id = b.user_id
LEFT JOIN opt_in o ON o.snap_ms = b.snap_ms AND o.user_id = b.user_id
ORDER BY b.snap_ms, b.user_id
