-- active_users: distinct user_id with at least one view in the bucket
-- (bucket day gives DAU, week WAU, month MAU). Anonymous views do not count.
-- Columns: users.
SELECT bucket{{dims}},
       count(DISTINCT user_id) AS users
FROM v
WHERE user_id IS NOT NULL
GROUP BY bucket{{dims}}
ORDER BY bucket{{dims}}
