-- subscriptions (ClickHouse): subscriptions.sql — each user's state at the
-- end of every month from the month of the user's first subscription event
-- to the last month of billing_months: the last change before the next
-- month starts (changes are sorted, so its index is the count of changes
-- before that instant). DISTINCT (one row per user and month) keeps the
-- captured columns on 18.16 (see views).
--   mi, month, status, plan, currency, mrr_minor as in subscriptions.sql
SELECT DISTINCT user_id, mi,
       toString(addMonths(toDate('1970-01-01'), toInt32(mi - 23640))) AS month,
       statuses[idx] AS status, plans[idx] AS plan, currencies[idx] AS currency,
       prices[idx] AS mrr_minor
FROM (
    SELECT user_id, statuses, plans, prices, currencies,
           first_mi + toInt64(k) AS mi,
           toInt64(toUInt16(addMonths(toDate('1970-01-01'), toInt32(mi + 1 - 23640)))) * 86400000 AS end_ms,
           arrayCount(x -> x < end_ms, ts) AS idx
    FROM (
        SELECT *,
               toInt64(toYear(toDateTime(intDiv(ts[1], 1000), 'UTC'))) * 12
                 + toMonth(toDateTime(intDiv(ts[1], 1000), 'UTC')) - 1 AS first_mi
        FROM {{subscription_changes}}
    )
    ARRAY JOIN range(toUInt64(greatest({{hi_mi}} - first_mi + 1, 0))) AS k
)
