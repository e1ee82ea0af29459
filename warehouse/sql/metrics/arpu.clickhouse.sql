-- arpu (ClickHouse): as arpu.sql. Columns: currency, arpu_minor.
SELECT month AS bucket, currency{{dims}},
       sum(mrr_minor) / uniqExact(user_id) AS arpu_minor
FROM {{subscriptions}}
WHERE mrr_minor > 0 AND mi >= {{from_mi}} AND mi < {{to_mi}}
GROUP BY month, currency{{dims}}
ORDER BY month, currency{{dims}}
