-- transactional_revenue (ClickHouse): as transactional_revenue.sql; one row
-- per event_id. Columns: revenue_minor, rentals, refunds_minor.
SELECT {{bucket}} AS bucket, currency{{dims}},
       sum(if(event_type = 'rental_purchased', amount_minor, 0)) AS revenue_minor,
       toInt64(sum(event_type = 'rental_purchased')) AS rentals,
       sum(if(event_type = 'refunded', amount_minor, 0)) AS refunds_minor
FROM (
    SELECT occurred_at AS t, event_type, currency, amount_minor, title_id
    FROM {{db}}.billing
    WHERE event_type IN ('rental_purchased', 'refunded')
      AND occurred_at >= {{from_ms}} AND occurred_at < {{to_ms}}
    {{dedup}}
)
GROUP BY bucket, currency{{dims}}
ORDER BY bucket, currency{{dims}}
