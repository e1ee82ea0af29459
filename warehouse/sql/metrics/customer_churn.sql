-- customer_churn: per month m, users paying at the end of m − 1 (in any
-- currency) who pay nothing at the end of m, ÷ users paying at the end of
-- m − 1. A user who joins and leaves within m never counts (a = 0).
-- rate is null when nobody paid at the start. Monthly only.
-- Columns: churned, active_at_start, rate.
SELECT month AS bucket, churned, active_at_start, rate
FROM monthly_churn
WHERE mi >= {{from_mi}} AND mi < {{to_mi}}
ORDER BY month
