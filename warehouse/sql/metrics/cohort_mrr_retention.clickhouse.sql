-- cohort_mrr_retention (ClickHouse): as cohort_mrr_retention.sql; the
-- months c + k of a cohort are generated from its month to the lake's last.
-- Columns: currency, offset, cohort_mrr_minor, mrr_minor, rate.
SELECT toString(addMonths(toDate('1970-01-01'), toInt32(c - 23640))) AS bucket,
       currency, mi - c AS `offset`,
       base AS cohort_mrr_minor, kept AS mrr_minor,
       kept / base AS rate
FROM (
    SELECT c, currency, mi, base, kept
    FROM (
        SELECT c, currency, c + toInt64(k) AS mi, base
        FROM (
            SELECT c, currency, toInt64(sum(mrr_minor)) AS base
            FROM (SELECT user_id, mi, currency, mrr_minor FROM {{subscriptions}} WHERE mrr_minor > 0)
            ALL INNER JOIN (
                SELECT user_id, min(mi) AS c FROM {{subscriptions}} WHERE mrr_minor > 0 GROUP BY user_id
            ) USING user_id
            WHERE mi = c
            GROUP BY c, currency
        )
        ARRAY JOIN range(toUInt64(greatest({{hi_mi}} - c + 1, 0))) AS k
    )
    ALL LEFT JOIN (
        SELECT c, currency, mi, toInt64(sum(mrr_minor)) AS kept
        FROM (SELECT user_id, mi, currency, mrr_minor FROM {{subscriptions}} WHERE mrr_minor > 0)
        ALL INNER JOIN (
            SELECT user_id, min(mi) AS c FROM {{subscriptions}} WHERE mrr_minor > 0 GROUP BY user_id
        ) USING user_id
        GROUP BY c, currency, mi
    ) USING (c, currency, mi)
)
WHERE c >= {{from_mi}} AND mi < {{to_mi}}
ORDER BY bucket, currency, `offset`
