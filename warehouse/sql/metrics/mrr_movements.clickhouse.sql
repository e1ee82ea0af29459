-- mrr_movements (ClickHouse): as mrr_movements.sql.
-- Columns: new, expansion, contraction, churn, reactivation, net_new.
SELECT month AS bucket, currency,
       sum(if(a = 0 AND b > 0 AND first_paid, b, 0)) AS `new`,
       sum(if(a > 0 AND a < b, b - a, 0)) AS expansion,
       sum(if(b > 0 AND b < a, a - b, 0)) AS contraction,
       sum(if(a > 0 AND b = 0, a, 0)) AS churn,
       sum(if(a = 0 AND b > 0 AND NOT first_paid, b, 0)) AS reactivation,
       sum(if(a = 0 AND b > 0, b, 0)) + sum(if(a > 0 AND a < b, b - a, 0))
         - sum(if(b > 0 AND b < a, a - b, 0)) - sum(if(a > 0 AND b = 0, a, 0)) AS net_new
FROM {{subscription_movements}}
WHERE mi >= {{from_mi}} AND mi < {{to_mi}}
GROUP BY month, currency
ORDER BY month, currency
