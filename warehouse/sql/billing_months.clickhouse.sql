-- billing_months (ClickHouse): billing_months.sql's calendar, one row per
-- month from the first to the last month holding a billing event
-- ({{lo_mi}}, {{hi_mi}}: those month indexes, scalar subqueries); no row
-- when there is no billing event.
--   mi, month, start_ms, end_ms as in billing_months.sql
SELECT mi,
       toString(addMonths(toDate('1970-01-01'), toInt32(mi - 23640))) AS month,
       toInt64(toUInt16(addMonths(toDate('1970-01-01'), toInt32(mi - 23640)))) * 86400000 AS start_ms,
       toInt64(toUInt16(addMonths(toDate('1970-01-01'), toInt32(mi + 1 - 23640)))) * 86400000 AS end_ms
FROM (
    SELECT lo + toInt64(k) AS mi
    FROM (SELECT {{lo_mi}} AS lo, {{hi_mi}} AS hi)
    ARRAY JOIN range(toUInt64(greatest(hi - lo + 1, 0))) AS k
    WHERE (SELECT count() FROM {{db}}.billing) > 0
)
