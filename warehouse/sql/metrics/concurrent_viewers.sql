-- concurrent_viewers: at each whole minute t (epoch ms divisible by 60,000)
-- of the window, the views playing: first frame ≤ t < end. Per bucket of t
-- (a view spanning buckets counts in each): peak = the largest minute count,
-- average = Σ minute counts ÷ the bucket's minutes inside the window.
-- Buckets without any viewer have no row. Columns: peak, average.
-- ({{views}}: the views projection, with the viewer's plan when asked.)
WITH v AS ({{views}}),
minutes AS (
    SELECT t{{dims}}, count(*) AS viewers
    FROM (
        SELECT unnest(range((ff_ms + 59999) / 60000 * 60000, end_ms, 60000)) AS t{{dims}}
        FROM v
        WHERE ff_ms IS NOT NULL AND ff_ms < {{to_ms}} AND end_ms > {{from_ms}}
    ) x
    WHERE t >= {{from_ms}} AND t < {{to_ms}}
    GROUP BY t{{dims}}
)
SELECT bucket{{dims}},
       max(viewers) AS peak,
       CAST(sum(viewers) AS DOUBLE)
         / ((least(max(b1), {{to_ms}}) - greatest(min(b0), {{from_ms}})) / 60000) AS average
FROM (
    SELECT {{bucket}} AS bucket, {{bucket_start}} AS b0, {{bucket_end}} AS b1, viewers{{dims}}
    FROM minutes
) b
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
