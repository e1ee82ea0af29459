-- transactional_revenue: TVOD, per bucket (of occurred_at) and currency:
-- revenue_minor = Σ rental_purchased.amount_minor, rentals = their count,
-- refunds_minor = Σ refunded.amount_minor (every refund, reported apart,
-- never netted). Breakdown: title (refunds carry none: a null title row).
SELECT {{bucket}} AS bucket, currency{{dims}},
       sum(CASE WHEN event_type = 'rental_purchased' THEN amount_minor ELSE 0 END) AS revenue_minor,
       sum(CASE WHEN event_type = 'rental_purchased' THEN 1 ELSE 0 END) AS rentals,
       sum(CASE WHEN event_type = 'refunded' THEN amount_minor ELSE 0 END) AS refunds_minor
FROM (
    SELECT CAST(occurred_at AS BIGINT) AS t, event_type, currency, amount_minor, title_id
    FROM billing
    WHERE event_type IN ('rental_purchased', 'refunded')
) e
WHERE t >= {{from_ms}} AND t < {{to_ms}}
GROUP BY 1, currency{{dims}}
ORDER BY 1, currency{{dims}}
