-- active_users (ClickHouse): as active_users.sql. Columns: users.
SELECT bucket{{dims}},
       toInt64(uniqExact(user_id)) AS users
FROM {{v}}
WHERE user_id IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
