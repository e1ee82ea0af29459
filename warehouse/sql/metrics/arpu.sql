-- arpu: average revenue per paying user, per month and currency:
-- MRR(m) ÷ users paying at the end of m. Monthly only.
-- Breakdown: plan. Columns: currency, arpu_minor.
SELECT month AS bucket, currency{{dims}},
       CAST(sum(mrr_minor) AS DOUBLE) / count(DISTINCT user_id) AS arpu_minor
FROM subscriptions
WHERE mrr_minor > 0 AND mi >= {{from_mi}} AND mi < {{to_mi}}
GROUP BY month, currency{{dims}}
ORDER BY month, currency{{dims}}
