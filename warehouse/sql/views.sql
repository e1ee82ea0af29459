-- views: one row per play attempt (a view_id with a play_requested event),
-- exactly as docs/metrics.md defines it. Times are epoch milliseconds.
--
--   start_ms   earliest play_requested; its context gives the breakdowns
--   ff_ms      earliest first_frame (null when none)
--   end_ms     earliest view_ended, else the view's latest event
--   stall_ms / stalls            non-seek stalls after ff (count, total)
--   seek_stall_ms                stalls starting ≤ 2,000 ms after a seek
--   paused_ms                    pause→resume (or end) intervals, clipped to [ff, end]
--   playing_ms                   max(0, (end − ff) − paused − stall − seek stall), views with ff
--   bitrate_ms / bitrate_kbps_ms Σ ms and Σ kbps×ms of bitrate segments clipped to [ff, end]
--   fatal_before_ff, fatal_any, completed
--   startup_band       not_started, under_1s, 1_2s, 2_4s, 4_8s, over_8s
--                      (startup_ms under 1,000 — a negative one, a first
--                      frame stamped before its play request, included —,
--                      [1,000, 2,000), …)
--   rebuffering_band   not_started; none (no stall); under_1pct, 1_2pct,
--                      2_5pct, over_5pct: stall_ms ÷ (playing_ms +
--                      stall_ms) in (0, 1 %), [1 %, 2 %), … (integer
--                      arithmetic, the same in every engine)
--
-- Edge cases (docs/metrics.md, "Refinements"): a stall with no rebuffer_end
-- closes at end; stalls, pauses and bitrate segments are clipped to
-- [ff, end]; a rebuffer_start while a stall is open, or a pause while
-- paused, opens nothing new; events are ordered by (occurred_at, event_id).
WITH ev AS (
    SELECT view_id, event_id, event_type, t, fatal, bitrate_kbps, reason
    FROM player_events
),
starts AS (
    SELECT * FROM (
        SELECT p.*, p.t AS start_ms,
               row_number() OVER (PARTITION BY p.view_id ORDER BY p.t, p.event_id) AS rn
        FROM player_events p
        WHERE p.event_type = 'play_requested'
    ) WHERE rn = 1
),
marks AS (
    SELECT view_id,
           min(CASE WHEN event_type = 'first_frame' THEN t END) AS ff_ms,
           min(CASE WHEN event_type = 'view_ended' THEN t END) AS ended_ms,
           max(t) AS last_ms
    FROM ev GROUP BY view_id
),
bounds AS (
    SELECT s.view_id, s.start_ms, m.ff_ms, coalesce(m.ended_ms, m.last_ms) AS end_ms
    FROM starts s JOIN marks m ON s.view_id = m.view_id
),
flags AS (
    SELECT b.view_id,
           bool_or(e.event_type = 'error' AND e.fatal AND (b.ff_ms IS NULL OR e.t < b.ff_ms)) AS fatal_before_ff,
           bool_or(e.event_type = 'error' AND e.fatal) AS fatal_any,
           bool_or(e.event_type = 'view_ended' AND e.t = b.end_ms AND e.reason = 'completed') AS completed
    FROM bounds b JOIN ev e ON e.view_id = b.view_id
    GROUP BY b.view_id
),
rebuf AS (
    -- rebuffer events from the first frame on, each start with the next end
    -- and the kind of the rebuffer event before it
    SELECT ev.view_id, ev.event_id, ev.event_type, ev.t, b.end_ms,
           lag(ev.event_type) OVER w AS prev_type,
           min(CASE WHEN ev.event_type = 'rebuffer_end' THEN ev.t END) OVER w_next AS next_end
    FROM ev JOIN bounds b ON ev.view_id = b.view_id
    WHERE ev.event_type IN ('rebuffer_start', 'rebuffer_end') AND b.ff_ms IS NOT NULL AND ev.t >= b.ff_ms
    WINDOW w AS (PARTITION BY ev.view_id ORDER BY ev.t, ev.event_id),
           w_next AS (PARTITION BY ev.view_id ORDER BY ev.t, ev.event_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
),
stall AS (
    -- a start while a stall is already open does not open another one
    SELECT s.view_id, s.event_id,
           max(least(coalesce(s.next_end, s.end_ms), s.end_ms) - s.t) AS ms,
           bool_or(k.t IS NOT NULL) AS seek_induced
    FROM rebuf s
    LEFT JOIN ev k ON k.view_id = s.view_id AND k.event_type = 'seek' AND k.t <= s.t AND k.t >= s.t - 2000
    WHERE s.event_type = 'rebuffer_start' AND s.t < s.end_ms
      AND (s.prev_type IS NULL OR s.prev_type <> 'rebuffer_start')
    GROUP BY s.view_id, s.event_id
),
stalls AS (
    SELECT view_id,
           sum(CASE WHEN seek_induced THEN 0 ELSE ms END) AS stall_ms,
           sum(CASE WHEN seek_induced THEN 0 ELSE 1 END) AS stalls,
           sum(CASE WHEN seek_induced THEN ms ELSE 0 END) AS seek_stall_ms
    FROM stall GROUP BY view_id
),
pz AS (
    SELECT ev.view_id, ev.event_type, ev.t, b.ff_ms, b.end_ms,
           lag(ev.event_type) OVER w AS prev_type,
           min(CASE WHEN ev.event_type = 'resume' THEN ev.t END) OVER w_next AS next_resume
    FROM ev JOIN bounds b ON ev.view_id = b.view_id
    WHERE ev.event_type IN ('pause', 'resume') AND b.ff_ms IS NOT NULL
    WINDOW w AS (PARTITION BY ev.view_id ORDER BY ev.t, ev.event_id),
           w_next AS (PARTITION BY ev.view_id ORDER BY ev.t, ev.event_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
),
pauses AS (
    -- a pause while already paused does not open another interval
    SELECT view_id,
           sum(greatest(least(coalesce(next_resume, end_ms), end_ms) - greatest(t, ff_ms), 0)) AS paused_ms
    FROM pz
    WHERE event_type = 'pause' AND (prev_type IS NULL OR prev_type <> 'pause')
    GROUP BY view_id
),
br AS (
    SELECT ev.view_id, ev.t, ev.bitrate_kbps, b.ff_ms, b.end_ms,
           lead(ev.t) OVER (PARTITION BY ev.view_id ORDER BY ev.t, ev.event_id) AS next_t
    FROM ev JOIN bounds b ON ev.view_id = b.view_id
    WHERE ev.event_type = 'bitrate_changed' AND b.ff_ms IS NOT NULL AND ev.bitrate_kbps IS NOT NULL
),
rates AS (
    SELECT view_id, sum(ms) AS bitrate_ms, sum(CAST(bitrate_kbps AS DOUBLE) * ms) AS bitrate_kbps_ms
    FROM (
        SELECT view_id, bitrate_kbps,
               greatest(least(coalesce(next_t, end_ms), end_ms) - greatest(t, ff_ms), 0) AS ms
        FROM br
    ) segments
    GROUP BY view_id
)
SELECT *,
       CASE WHEN ff_ms IS NULL THEN 'not_started'
            WHEN startup_ms < 1000 THEN 'under_1s'
            WHEN startup_ms < 2000 THEN '1_2s'
            WHEN startup_ms < 4000 THEN '2_4s'
            WHEN startup_ms < 8000 THEN '4_8s'
            ELSE 'over_8s' END AS startup_band,
       CASE WHEN ff_ms IS NULL THEN 'not_started'
            WHEN stall_ms = 0 THEN 'none'
            WHEN stall_ms * 100 < playing_ms + stall_ms THEN 'under_1pct'
            WHEN stall_ms * 100 < 2 * (playing_ms + stall_ms) THEN '1_2pct'
            WHEN stall_ms * 100 < 5 * (playing_ms + stall_ms) THEN '2_5pct'
            ELSE 'over_5pct' END AS rebuffering_band
FROM (
SELECT s.view_id, s.title_id, s.user_id, s.device_type, s.os, s.player_name, s.player_version,
       s.app_version, s.cdn, s.country, s.isp, s.network_type,
       b.start_ms, b.ff_ms, b.end_ms,
       b.ff_ms - b.start_ms AS startup_ms,
       coalesce(st.stall_ms, 0) AS stall_ms,
       coalesce(st.stalls, 0) AS stalls,
       coalesce(st.seek_stall_ms, 0) AS seek_stall_ms,
       coalesce(pa.paused_ms, 0) AS paused_ms,
       CASE WHEN b.ff_ms IS NULL THEN NULL
            ELSE greatest(b.end_ms - b.ff_ms - coalesce(pa.paused_ms, 0) - coalesce(st.stall_ms, 0) - coalesce(st.seek_stall_ms, 0), 0)
       END AS playing_ms,
       coalesce(r.bitrate_ms, 0) AS bitrate_ms,
       coalesce(r.bitrate_kbps_ms, 0) AS bitrate_kbps_ms,
       coalesce(f.fatal_before_ff, false) AS fatal_before_ff,
       coalesce(f.fatal_any, false) AS fatal_any,
       coalesce(f.completed, false) AS completed
FROM starts s
JOIN bounds b ON s.view_id = b.view_id
LEFT JOIN flags f ON s.view_id = f.view_id
LEFT JOIN stalls st ON s.view_id = st.view_id
LEFT JOIN pauses pa ON s.view_id = pa.view_id
LEFT JOIN rates r ON s.view_id = r.view_id
) per_view
