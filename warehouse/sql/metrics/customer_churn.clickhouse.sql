-- customer_churn (ClickHouse): as customer_churn.sql.
-- Columns: churned, active_at_start, rate.
SELECT month AS bucket, churned, active_at_start, rate
FROM {{monthly_churn}}
WHERE mi >= {{from_mi}} AND mi < {{to_mi}}
ORDER BY month
