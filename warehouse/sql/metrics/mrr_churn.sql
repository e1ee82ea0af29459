-- mrr_churn: per month m and currency, with the movements of mrr_movements
-- and MRR(m − 1) = Σ a:
--   gross = (churn + contraction) ÷ MRR(m − 1)
--   net   = (churn + contraction − expansion − reactivation) ÷ MRR(m − 1)
-- Both null when MRR(m − 1) = 0. Monthly only. Columns: gross, net.
SELECT month AS bucket, currency,
       CAST(sum(CASE WHEN a > 0 AND b = 0 THEN a ELSE 0 END)
            + sum(CASE WHEN b > 0 AND b < a THEN a - b ELSE 0 END) AS DOUBLE)
         / nullif(sum(a), 0) AS gross,
       CAST(sum(CASE WHEN a > 0 AND b = 0 THEN a ELSE 0 END)
            + sum(CASE WHEN b > 0 AND b < a THEN a - b ELSE 0 END)
            - sum(CASE WHEN a > 0 AND a < b THEN b - a ELSE 0 END)
            - sum(CASE WHEN a = 0 AND b > 0 AND NOT first_paid THEN b ELSE 0 END) AS DOUBLE)
         / nullif(sum(a), 0) AS net
FROM subscription_movements
WHERE mi >= {{from_mi}} AND mi < {{to_mi}}
GROUP BY month, currency
ORDER BY month, currency
