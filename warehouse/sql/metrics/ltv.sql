-- ltv: customer lifetime value, per month m and currency:
-- arpu(m) ÷ mean of customer_churn's rate over months m − 2 .. m (the
-- months of the lake that have a rate; null rates are skipped). Null when
-- that mean is 0 or there is none. Monthly only. Columns: currency, ltv_minor.
WITH arpu AS (
    SELECT mi, month, currency, CAST(sum(mrr_minor) AS DOUBLE) / count(DISTINCT user_id) AS arpu_minor
    FROM subscriptions
    WHERE mrr_minor > 0
    GROUP BY mi, month, currency
),
mean_churn AS (
    SELECT m.mi, avg(c.rate) AS rate
    FROM billing_months m
    JOIN monthly_churn c ON c.mi >= m.mi - 2 AND c.mi <= m.mi
    GROUP BY m.mi
)
SELECT a.month AS bucket, a.currency, a.arpu_minor / nullif(c.rate, 0) AS ltv_minor
FROM arpu a
LEFT JOIN mean_churn c ON c.mi = a.mi
WHERE a.mi >= {{from_mi}} AND a.mi < {{to_mi}}
ORDER BY a.month, a.currency
