-- views (ClickHouse): the projection of views.sql — one row per play
-- attempt, with the same columns and the same definitions — for servers
-- without window functions (18.16 on): each view's events are gathered into
-- one array sorted by (occurred_at, event_id), and the stalls, pauses and
-- bitrate segments are walked with array functions. A redelivered event is
-- the same event: one copy is kept, by the lake's rule (the dedup
-- placeholder: the earliest received_at, then occurred_at).
--   ev      (t, event_id, event_type, fatal, bitrate_kbps or −1, reason)
--   ff      first frame (0 when none: has_ff says), end_ms as in views.sql
--   opens   indexes of the rebuffer_start events that open a stall, closes
--           the rebuffer_end closing each (0: closed by end)
-- The bands (startup_band, rebuffering_band) as in views.sql.
-- Every step is an alias of one SELECT, and the outer SELECT is DISTINCT
-- (each view is one row, so it removes nothing): ClickHouse 18.16 prunes a
-- subquery's unused columns without seeing the ones lambdas capture, which
-- breaks the arrays; DISTINCT keeps every column.
SELECT *,
       multiIf(ff_ms IS NULL, 'not_started',
               startup_ms < 1000, 'under_1s',
               startup_ms < 2000, '1_2s',
               startup_ms < 4000, '2_4s',
               startup_ms < 8000, '4_8s',
               'over_8s') AS startup_band,
       multiIf(ff_ms IS NULL, 'not_started',
               stall_ms = 0, 'none',
               stall_ms * 100 < playing_ms + stall_ms, 'under_1pct',
               stall_ms * 100 < 2 * (playing_ms + stall_ms), '1_2pct',
               stall_ms * 100 < 5 * (playing_ms + stall_ms), '2_5pct',
               'over_5pct') AS rebuffering_band
FROM (
SELECT DISTINCT
       view_id, title_id, user_id, device_type, os, player_name, player_version,
       app_version, cdn, country, isp, network_type,
       start_ms,
       if(has_ff, ff, NULL) AS ff_ms,
       end_ms,
       if(has_ff, ff - start_ms, NULL) AS startup_ms,
       stall_ms, stalls, seek_stall_ms, paused_ms,
       if(has_ff, greatest(end_ms - ff - paused_ms - stall_ms - seek_stall_ms, 0), NULL) AS playing_ms,
       bitrate_ms, bitrate_kbps_ms,
       fatal_before_ff, fatal_any, completed
FROM (
    SELECT view_id, title_id, user_id, device_type, os, player_name, player_version,
           app_version, cdn, country, isp, network_type, start_ms,
           arrayMap(x -> x.1, ev) AS ts,
           arrayFirstIndex(x -> x.3 = 'first_frame', ev) AS ffi,
           ffi > 0 AS has_ff,
           ts[ffi] AS ff,
           arrayFirstIndex(x -> x.3 = 'view_ended', ev) AS vei,
           if(vei > 0, ts[vei], ts[length(ts)]) AS end_ms,
           -- the first fatal error (the earliest: ev is sorted)
           arrayFirstIndex(x -> x.3 = 'error' AND x.4 = 1, ev) AS fei,
           fei > 0 AS fatal_any,
           fei > 0 AND (NOT has_ff OR ts[fei] < ff) AS fatal_before_ff,
           arrayExists(x -> x.3 = 'view_ended' AND x.1 = end_ms AND x.6 = 'completed', ev) AS completed,
           -- stalls: rebuffer events from the first frame on; a
           -- rebuffer_start opens one unless a stall is open
           arrayFilter(x -> (x.3 = 'rebuffer_start' OR x.3 = 'rebuffer_end') AND x.1 >= ff, ev) AS rb,
           arrayMap(x -> x.3 = 'rebuffer_start', rb) AS rbs,
           arrayMap(x -> x.1, rb) AS rbt,
           arrayFilter(i -> has_ff AND rbs[i] = 1 AND (i = 1 OR rbs[i - 1] = 0) AND rbt[i] < end_ms,
                       arrayEnumerate(rb)) AS opens,
           arrayMap(i -> arrayFirstIndex((s, j) -> j > i AND s = 0, rbs, arrayEnumerate(rbs)), opens) AS closes,
           arrayMap((i, c) -> if(c = 0, end_ms, least(rbt[c], end_ms)) - rbt[i], opens, closes) AS durations,
           arrayMap(i -> arrayExists(x -> x.3 = 'seek' AND x.1 <= rbt[i] AND x.1 >= rbt[i] - 2000, ev), opens) AS seeky,
           arraySum(arrayMap((d, k) -> if(k, 0, d), durations, seeky)) AS stall_ms,
           arraySum(arrayMap(k -> if(k, 0, 1), seeky)) AS stalls,
           arraySum(arrayMap((d, k) -> if(k, d, 0), durations, seeky)) AS seek_stall_ms,
           -- pauses: a pause opens an interval unless already paused
           arrayFilter(x -> x.3 = 'pause' OR x.3 = 'resume', ev) AS pz,
           arrayMap(x -> x.3 = 'pause', pz) AS pzp,
           arrayMap(x -> x.1, pz) AS pzt,
           arrayFilter(i -> has_ff AND pzp[i] = 1 AND (i = 1 OR pzp[i - 1] = 0), arrayEnumerate(pz)) AS popens,
           arrayMap(i -> arrayFirstIndex((s, j) -> j > i AND s = 0, pzp, arrayEnumerate(pzp)), popens) AS pcloses,
           arraySum(arrayMap((i, c) -> greatest(if(c = 0, end_ms, least(pzt[c], end_ms)) - greatest(pzt[i], ff), 0),
                             popens, pcloses)) AS paused_ms,
           -- bitrate segments, each until the next one or the end, clipped to [ff, end]
           arrayFilter(x -> has_ff AND x.3 = 'bitrate_changed' AND x.5 >= 0, ev) AS br,
           arrayMap(x -> x.1, br) AS brt,
           arrayMap(i -> greatest(if(i = length(brt), end_ms, least(brt[i + 1], end_ms)) - greatest(brt[i], ff), 0),
                    arrayEnumerate(brt)) AS brms,
           arraySum(brms) AS bitrate_ms,
           arraySum(arrayMap((x, d) -> toFloat64(x.5) * d, br, brms)) AS bitrate_kbps_ms
    FROM (
        SELECT vid AS view_id, arraySort(groupArray((t, event_id, event_type, fatal, kbps, reason))) AS ev
        FROM (
            SELECT ifNull(view_id, '') AS vid, event_id, event_type, occurred_at AS t,
                   ifNull(fatal, 0) AS fatal, ifNull(bitrate_kbps, -1) AS kbps, ifNull(reason, '') AS reason
            FROM {{db}}.player
            WHERE view_id IS NOT NULL
            {{dedup}}
        )
        GROUP BY vid
    )
    ALL INNER JOIN (
        -- the earliest play_requested of each view, with its context
        SELECT vid AS view_id, start_ms, title_id, user_id,
               device_type, os, player_name, player_version, app_version, cdn, country, isp, network_type
        FROM (
            SELECT ifNull(view_id, '') AS vid, occurred_at AS start_ms, event_id, title_id, user_id,
                   device_type, os, player_name, player_version, app_version, cdn, country, isp, network_type
            FROM {{db}}.player
            WHERE event_type = 'play_requested' AND view_id IS NOT NULL
            ORDER BY occurred_at, event_id
            LIMIT 1 BY vid
        )
    ) USING view_id
)
)
