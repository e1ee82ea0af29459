-- monthly_churn: per month m of billing_months, customers (users, in any
-- currency) paying at the end of m − 1 and how many of them pay nothing at
-- the end of m. Join-and-leave within m never counts (a = 0).
--   churned, active_at_start, rate = churned ÷ active_at_start (null at 0)
WITH u AS (
    SELECT mi, user_id, max(a) > 0 AS paid_before, max(b) > 0 AS paid_after
    FROM subscription_movements
    GROUP BY mi, user_id
),
c AS (
    SELECT mi,
           sum(CASE WHEN paid_before AND NOT paid_after THEN 1 ELSE 0 END) AS churned,
           sum(CASE WHEN paid_before THEN 1 ELSE 0 END) AS active_at_start
    FROM u
    GROUP BY mi
)
SELECT m.mi, m.month,
       coalesce(c.churned, 0) AS churned,
       coalesce(c.active_at_start, 0) AS active_at_start,
       CAST(c.churned AS DOUBLE) / nullif(c.active_at_start, 0) AS rate
FROM billing_months m
LEFT JOIN c ON c.mi = m.mi
