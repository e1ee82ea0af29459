-- subscription_changes: each user's paid monthly price as it changes, by
-- replaying the user's subscription_started, renewed, plan_changed and
-- canceled events in (occurred_at, event_id) order (docs/metrics.md,
-- "Subscriptions and revenue"). One row per such event: the state it sets
-- holds over [t, next_t) (next_t null: until now).
--   status       trial | active | canceled
--   plan         the plan (null once canceled)
--   price_minor  paid monthly price (MRR): the event's price_minor, but 0 in
--                a trial and once canceled
--   currency     null once canceled
-- A trial lasts from a subscription_started with trial = true until the
-- next renewed (conversion), canceled or paid subscription_started; a
-- plan_changed during a trial changes the plan, not the price (refinement 8).
-- payment_failed and refunded change nothing.
SELECT user_id, event_id, event_type, t,
       lead(t) OVER (PARTITION BY user_id ORDER BY t, event_id) AS next_t,
       CASE WHEN event_type = 'canceled' THEN 'canceled'
            WHEN in_trial THEN 'trial'
            ELSE 'active' END AS status,
       CASE WHEN event_type = 'canceled' THEN NULL ELSE plan END AS plan,
       CASE WHEN event_type = 'canceled' OR in_trial THEN 0 ELSE price_minor END AS price_minor,
       CASE WHEN event_type = 'canceled' THEN NULL ELSE currency END AS currency
FROM (
    -- a trial runs from its subscription_started to the next event that is
    -- not a plan_changed: number those "anchor" events, and a row is in
    -- trial when its anchor is a trial start
    SELECT user_id, event_id, event_type, t, plan, price_minor, currency,
           max(CASE WHEN event_type = 'subscription_started' AND trial THEN 1 ELSE 0 END)
               OVER (PARTITION BY user_id, anchor) = 1 AS in_trial
    FROM (
        SELECT user_id, event_id, event_type, CAST(occurred_at AS BIGINT) AS t,
               plan, price_minor, currency, trial,
               sum(CASE WHEN event_type = 'plan_changed' THEN 0 ELSE 1 END)
                   OVER (PARTITION BY user_id ORDER BY occurred_at, event_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anchor
        FROM billing
        WHERE user_id IS NOT NULL
          AND event_type IN ('subscription_started', 'renewed', 'plan_changed', 'canceled')
    ) numbered
) e
