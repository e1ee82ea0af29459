-- subscription_movements: per user, currency and month m of billing_months
-- where the user paid at the end of m − 1 or of m: a = MRR at the end of
-- m − 1, b = MRR at the end of m, and whether m is the first month the user
-- ever paid in that currency (then a = 0 < b is "new", else
-- "reactivation"). Users are tracked per currency: moving to another
-- currency is churn in one and new or reactivation in the other.
WITH s AS (
    SELECT user_id, currency, mi, mi + 1 AS next_mi, mrr_minor
    FROM subscriptions
    WHERE mrr_minor > 0
),
firsts AS (
    SELECT user_id, currency, min(mi) AS first_mi FROM s GROUP BY user_id, currency
),
pairs AS (
    SELECT coalesce(b.user_id, a.user_id) AS user_id,
           coalesce(b.currency, a.currency) AS currency,
           coalesce(b.mi, a.next_mi) AS mi,
           coalesce(a.mrr_minor, 0) AS a,
           coalesce(b.mrr_minor, 0) AS b
    FROM s b
    FULL OUTER JOIN s a
      ON a.user_id = b.user_id AND a.currency = b.currency AND a.next_mi = b.mi
)
SELECT p.user_id, p.currency, p.mi, m.month, p.a, p.b, p.mi = f.first_mi AS first_paid
FROM pairs p
JOIN billing_months m ON m.mi = p.mi
JOIN firsts f ON f.user_id = p.user_id AND f.currency = p.currency
