-- cohort_mrr_retention: the MRR a cohort keeps. Cohort = the month c of a
-- user's first month end with MRR > 0 (any currency), as cohort_retention;
-- per cohort and currency with MRR at the end of c: cohort_mrr_minor = the
-- cohort's users' MRR in that currency at the end of c; for every month
-- c + k (k ≥ 0) of the lake, mrr_minor = the same users' MRR in that
-- currency at the end of c + k (expansion counts: net MRR retention), rate
-- = mrr_minor ÷ cohort_mrr_minor. bucket is the cohort month; both the
-- cohort and c + k must lie in the window. Monthly only.
-- Columns: currency, offset, cohort_mrr_minor, mrr_minor, rate.
WITH paid AS (
    SELECT user_id, mi, currency, mrr_minor FROM subscriptions WHERE mrr_minor > 0
),
cohort AS (
    SELECT user_id, min(mi) AS c FROM paid GROUP BY user_id
),
base AS (
    SELECT k.c, p.currency, sum(p.mrr_minor) AS cohort_mrr
    FROM paid p JOIN cohort k ON k.user_id = p.user_id AND p.mi = k.c
    GROUP BY k.c, p.currency
),
kept AS (
    SELECT k.c, p.currency, p.mi, sum(p.mrr_minor) AS mrr
    FROM paid p JOIN cohort k ON k.user_id = p.user_id
    GROUP BY k.c, p.currency, p.mi
)
SELECT cm.month AS bucket, b.currency, m.mi - b.c AS "offset",
       b.cohort_mrr AS cohort_mrr_minor,
       coalesce(k.mrr, 0) AS mrr_minor,
       CAST(coalesce(k.mrr, 0) AS DOUBLE) / b.cohort_mrr AS rate
FROM base b
JOIN billing_months cm ON cm.mi = b.c
JOIN billing_months m ON m.mi >= b.c
LEFT JOIN kept k ON k.c = b.c AND k.currency = b.currency AND k.mi = m.mi
WHERE b.c >= {{from_mi}} AND m.mi < {{to_mi}}
ORDER BY bucket, b.currency, "offset"
