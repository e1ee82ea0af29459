-- monthly_churn (ClickHouse): monthly_churn.sql — per month of
-- billing_months, customers paying at the end of m − 1 and how many of them
-- pay nothing at the end of m (months without any: 0, 0, null rate).
SELECT mi, month, churned, active_at_start,
       if(active_at_start = 0, NULL, churned / active_at_start) AS rate
FROM (SELECT mi, month FROM {{billing_months}})
ALL LEFT JOIN (
    SELECT mi,
           toInt64(sum(paid_before AND NOT paid_after)) AS churned,
           toInt64(sum(paid_before)) AS active_at_start
    FROM (
        SELECT mi, user_id, max(a) > 0 AS paid_before, max(b) > 0 AS paid_after
        FROM {{subscription_movements}}
        GROUP BY mi, user_id
    )
    GROUP BY mi
) USING mi
