-- ltv (ClickHouse): as ltv.sql; each month's churn rate is spread over the
-- months m, m + 1, m + 2 it counts for, then averaged (nulls skipped).
-- Columns: currency, ltv_minor.
SELECT month AS bucket, currency, arpu_minor / nullIf(rate, 0) AS ltv_minor
FROM (
    SELECT mi, month, currency, sum(mrr_minor) / uniqExact(user_id) AS arpu_minor
    FROM {{subscriptions}}
    WHERE mrr_minor > 0 AND mi >= {{from_mi}} AND mi < {{to_mi}}
    GROUP BY mi, month, currency
)
ALL LEFT JOIN (
    SELECT target AS mi, avg(r) AS rate
    FROM (
        SELECT mi + toInt64(d) AS target, rate AS r
        FROM {{monthly_churn}}
        ARRAY JOIN [0, 1, 2] AS d
    )
    GROUP BY target
) USING mi
ORDER BY month, currency
