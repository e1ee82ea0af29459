-- cohort_retention: cohort = the month of a user's first month end with
-- MRR > 0 (any currency); for cohort c and every month c + k (k ≥ 0) of
-- the lake: retained = users of c paying at the end of c + k,
-- rate = retained ÷ cohort_size. bucket is the cohort month; both the
-- cohort and c + k must lie in the window. Monthly only.
-- Columns: offset, cohort_size, retained, rate.
WITH paid AS (
    SELECT DISTINCT user_id, mi FROM subscriptions WHERE mrr_minor > 0
),
cohort AS (
    SELECT user_id, min(mi) AS c FROM paid GROUP BY user_id
),
sizes AS (
    SELECT c, count(*) AS cohort_size FROM cohort GROUP BY c
),
kept AS (
    SELECT k.c, p.mi, count(*) AS retained
    FROM paid p JOIN cohort k ON k.user_id = p.user_id
    GROUP BY k.c, p.mi
)
SELECT cm.month AS bucket, m.mi - s.c AS "offset", s.cohort_size,
       coalesce(k.retained, 0) AS retained,
       CAST(coalesce(k.retained, 0) AS DOUBLE) / s.cohort_size AS rate
FROM sizes s
JOIN billing_months cm ON cm.mi = s.c
JOIN billing_months m ON m.mi >= s.c
LEFT JOIN kept k ON k.c = s.c AND k.mi = m.mi
WHERE s.c >= {{from_mi}} AND m.mi < {{to_mi}}
ORDER BY bucket, "offset"
