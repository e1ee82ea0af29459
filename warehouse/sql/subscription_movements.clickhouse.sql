-- subscription_movements (ClickHouse): subscription_movements.sql — per
-- user, currency and month m where the user paid at the end of m − 1 or of
-- m: a, b and first_paid. The pairs are a full join of the paying months
-- with themselves shifted by one month (an unmatched side is 0).
SELECT user_id, currency, mi,
       toString(addMonths(toDate('1970-01-01'), toInt32(mi - 23640))) AS month,
       a, b, mi = first_mi AS first_paid
FROM (
    SELECT user_id, currency, mi, a, b
    FROM (
        SELECT user_id, cur AS currency, mi, b
        FROM (
            SELECT user_id, assumeNotNull(currency) AS cur, mi, assumeNotNull(mrr_minor) AS b
            FROM {{subscriptions}}
            WHERE mrr_minor > 0
        )
    )
    ALL FULL OUTER JOIN (
        SELECT user_id, cur AS currency, next_mi AS mi, a
        FROM (
            SELECT user_id, assumeNotNull(currency) AS cur, mi + 1 AS next_mi, assumeNotNull(mrr_minor) AS a
            FROM {{subscriptions}}
            WHERE mrr_minor > 0
        )
    ) USING (user_id, currency, mi)
)
ALL INNER JOIN (
    SELECT user_id, cur AS currency, first_mi
    FROM (
        SELECT user_id, assumeNotNull(currency) AS cur, min(mi) AS first_mi
        FROM {{subscriptions}}
        WHERE mrr_minor > 0
        GROUP BY user_id, cur
    )
) USING (user_id, currency)
WHERE mi <= {{hi_mi}}
