-- cohort_retention (ClickHouse): as cohort_retention.sql; the months
-- c + k of a cohort are generated from its month to the lake's last.
-- Columns: offset, cohort_size, retained, rate.
SELECT toString(addMonths(toDate('1970-01-01'), toInt32(c - 23640))) AS bucket,
       mi - c AS `offset`, cohort_size, retained,
       retained / cohort_size AS rate
FROM (
    SELECT c, mi, cohort_size, retained
    FROM (
        SELECT c, c + toInt64(k) AS mi, cohort_size
        FROM (
            SELECT c, toInt64(count()) AS cohort_size
            FROM (SELECT user_id, min(mi) AS c FROM {{subscriptions}} WHERE mrr_minor > 0 GROUP BY user_id)
            GROUP BY c
        )
        ARRAY JOIN range(toUInt64(greatest({{hi_mi}} - c + 1, 0))) AS k
    )
    ALL LEFT JOIN (
        SELECT c, mi, toInt64(count()) AS retained
        FROM (SELECT DISTINCT user_id, mi FROM {{subscriptions}} WHERE mrr_minor > 0)
        ALL INNER JOIN (
            SELECT user_id, min(mi) AS c FROM {{subscriptions}} WHERE mrr_minor > 0 GROUP BY user_id
        ) USING user_id
        GROUP BY c, mi
    ) USING (c, mi)
)
WHERE c >= {{from_mi}} AND mi < {{to_mi}}
ORDER BY bucket, `offset`
