-- billing_months: the calendar of the subscription metrics, one row per
-- month from the first to the last month holding a billing event (months
-- without any event in between included).
--   mi                month index: year · 12 + month − 1
--   month             its first day, 'YYYY-MM-DD' (the metrics' bucket)
--   start_ms, end_ms  [first instant of the month, first instant of the next)
SELECT mi,
       to_char(make_date(CAST(mi / 12 AS INT), CAST(mi % 12 + 1 AS INT), 1), '%Y-%m-%d') AS month,
       CAST(to_unixtime(make_date(CAST(mi / 12 AS INT), CAST(mi % 12 + 1 AS INT), 1)) AS BIGINT) * 1000 AS start_ms,
       CAST(to_unixtime(make_date(CAST((mi + 1) / 12 AS INT), CAST((mi + 1) % 12 + 1 AS INT), 1)) AS BIGINT) * 1000 AS end_ms
FROM (
    SELECT unnest(range(lo, hi + 1)) AS mi
    FROM (
        SELECT min(mi) AS lo, max(mi) AS hi
        FROM (
            SELECT CAST(date_part('year', occurred_at) AS BIGINT) * 12
                   + CAST(date_part('month', occurred_at) AS BIGINT) - 1 AS mi
            FROM billing
        ) e
    ) bounds
    WHERE lo IS NOT NULL
) months
