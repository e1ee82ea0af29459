-- player_events: the player events that belong to a view (view_id set),
-- one row per event_id, with only the columns the views projection reads;
-- t = occurred_at in epoch milliseconds; received_ms = received_at, by
-- which Lake::prepare keeps the lake's copy of a repeated event when it
-- reads the raw files. Computed once per suite and held in memory
-- (Lake::prepare), since views.sql reads it several times.
SELECT view_id, event_id, event_type, CAST(occurred_at AS BIGINT) AS t,
       CAST(received_at AS BIGINT) AS received_ms,
       fatal, bitrate_kbps, reason,
       title_id, user_id, device_type, os, player_name, player_version,
       app_version, cdn, country, isp, network_type
FROM player
WHERE view_id IS NOT NULL
