-- mrr (ClickHouse): as mrr.sql (the sum is renamed inside: an alias equal
-- to a column name would shadow the column in WHERE).
-- Columns: currency, mrr_minor, paying_users.
SELECT bucket, currency{{dims}}, total AS mrr_minor, paying_users
FROM (
    SELECT month AS bucket, currency{{dims}},
           sum(mrr_minor) AS total,
           toInt64(uniqExact(user_id)) AS paying_users
    FROM {{subscriptions}}
    WHERE mrr_minor > 0 AND mi >= {{from_mi}} AND mi < {{to_mi}}
    GROUP BY month, currency{{dims}}
)
ORDER BY bucket, currency{{dims}}
