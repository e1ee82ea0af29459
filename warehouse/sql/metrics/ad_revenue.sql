-- ad_revenue: AVOD, per bucket (of occurred_at) and currency:
-- revenue_micros = Σ ad_impression.revenue_micros (millionths of the
-- currency unit), impressions = their count. Breakdown: title.
SELECT {{bucket}} AS bucket, currency{{dims}},
       sum(revenue_micros) AS revenue_micros,
       count(*) AS impressions
FROM (
    SELECT CAST(occurred_at AS BIGINT) AS t, currency, revenue_micros, title_id
    FROM billing
    WHERE event_type = 'ad_impression'
) e
WHERE t >= {{from_ms}} AND t < {{to_ms}}
GROUP BY 1, currency{{dims}}
ORDER BY 1, currency{{dims}}
