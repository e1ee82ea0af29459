-- ad_revenue (ClickHouse): as ad_revenue.sql; one row per event_id.
-- Columns: revenue_micros, impressions.
SELECT {{bucket}} AS bucket, currency{{dims}},
       sum(revenue_micros) AS revenue_micros,
       toInt64(count()) AS impressions
FROM (
    SELECT occurred_at AS t, currency, revenue_micros, title_id
    FROM {{db}}.billing
    WHERE event_type = 'ad_impression'
      AND occurred_at >= {{from_ms}} AND occurred_at < {{to_ms}}
    {{dedup}}
)
GROUP BY bucket, currency{{dims}}
ORDER BY bucket, currency{{dims}}
