-- mrr_movements: per month m and currency, each user's change from
-- a = MRR at the end of m − 1 to b = MRR at the end of m:
--   new           b when a = 0 < b and the user never paid at an earlier month end
--   reactivation  b when a = 0 < b otherwise
--   expansion     b − a when 0 < a < b
--   contraction   a − b when 0 < b < a
--   churn         a when a > 0 = b
--   net_new       new + expansion + reactivation − contraction − churn
--                 (= MRR(m) − MRR(m − 1))
-- The first month of the lake's billing has a = 0 for everyone. Monthly only.
SELECT month AS bucket, currency,
       sum(CASE WHEN a = 0 AND b > 0 AND first_paid THEN b ELSE 0 END) AS "new",
       sum(CASE WHEN a > 0 AND a < b THEN b - a ELSE 0 END) AS expansion,
       sum(CASE WHEN b > 0 AND b < a THEN a - b ELSE 0 END) AS contraction,
       sum(CASE WHEN a > 0 AND b = 0 THEN a ELSE 0 END) AS churn,
       sum(CASE WHEN a = 0 AND b > 0 AND NOT first_paid THEN b ELSE 0 END) AS reactivation,
       sum(CASE WHEN a = 0 AND b > 0 THEN b ELSE 0 END)
         + sum(CASE WHEN a > 0 AND a < b THEN b - a ELSE 0 END)
         - sum(CASE WHEN b > 0 AND b < a THEN a - b ELSE 0 END)
         - sum(CASE WHEN a > 0 AND b = 0 THEN a ELSE 0 END) AS net_new
FROM subscription_movements
WHERE mi >= {{from_mi}} AND mi < {{to_mi}}
GROUP BY month, currency
ORDER BY month, currency
