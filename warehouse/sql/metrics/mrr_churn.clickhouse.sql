-- mrr_churn (ClickHouse): as mrr_churn.sql. Columns: gross, net.
SELECT month AS bucket, currency,
       (sum(if(a > 0 AND b = 0, a, 0)) + sum(if(b > 0 AND b < a, a - b, 0)))
         / nullIf(sum(a), 0) AS gross,
       (sum(if(a > 0 AND b = 0, a, 0)) + sum(if(b > 0 AND b < a, a - b, 0))
         - sum(if(a > 0 AND a < b, b - a, 0)) - sum(if(a = 0 AND b > 0 AND NOT first_paid, b, 0)))
         / nullIf(sum(a), 0) AS net
FROM {{subscription_movements}}
WHERE mi >= {{from_mi}} AND mi < {{to_mi}}
GROUP BY month, currency
ORDER BY month, currency
