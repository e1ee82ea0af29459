-- mrr: monthly recurring revenue, per month and currency: Σ over users of
-- MRR at the end of the month (the paid monthly price then; 0 in a trial,
-- after a cancel, or without a subscription), and the users paying.
-- Monthly only. Breakdown: plan (the plan held at the month's end).
-- Columns: currency, mrr_minor, paying_users.
SELECT month AS bucket, currency{{dims}},
       sum(mrr_minor) AS mrr_minor,
       count(DISTINCT user_id) AS paying_users
FROM subscriptions
WHERE mrr_minor > 0 AND mi >= {{from_mi}} AND mi < {{to_mi}}
GROUP BY month, currency{{dims}}
ORDER BY month, currency{{dims}}
