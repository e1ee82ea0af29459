-- subscription_changes (ClickHouse): the replay of subscription_changes.sql
-- with the same rules, shaped for a server without window functions: one
-- row per user, the user's subscription_started, renewed, plan_changed and
-- canceled events as parallel arrays in (occurred_at, event_id) order.
--   ts                 the events' times (ms); change k holds over [ts[k], ts[k + 1])
--   anchor             per event, how many non-plan_changed events reach it:
--                      the trial test of subscription_changes.sql
--   in_trial           its anchor event is a subscription_started with trial
--   statuses, plans, prices, currencies   the state each event sets
--                      (prices: the paid monthly price, 0 in a trial or once canceled)
-- The outer SELECT is DISTINCT (one row per user: it removes nothing) so
-- that ClickHouse 18.16 keeps the columns lambdas capture (see views).
SELECT DISTINCT user_id, ts, statuses, plans, prices, currencies
FROM (
    SELECT user_id,
           arrayMap(x -> x.1, e) AS ts,
           arrayCumSum(arrayMap(x -> x.3 != 'plan_changed', e)) AS anchor,
           arrayMap(x -> x.3 = 'subscription_started' AND x.7 = 1,
                    arrayFilter(x -> x.3 != 'plan_changed', e)) AS anchor_trial,
           arrayMap(g -> g > 0 AND anchor_trial[g] = 1, anchor) AS in_trial,
           arrayMap((x, tr) -> if(x.3 = 'canceled', 'canceled', if(tr = 1, 'trial', 'active')), e, in_trial) AS statuses,
           arrayMap(x -> if(x.3 = 'canceled', NULL, x.4), e) AS plans,
           arrayMap((x, tr) -> if(x.3 = 'canceled' OR tr = 1, 0, x.5), e, in_trial) AS prices,
           arrayMap(x -> if(x.3 = 'canceled', NULL, x.6), e) AS currencies
    FROM (
        SELECT uid AS user_id,
               arraySort(groupArray((t, event_id, event_type, plan, price_minor, currency, trial))) AS e
        FROM (
            SELECT ifNull(user_id, '') AS uid, event_id, event_type, occurred_at AS t,
                   plan, price_minor, currency, ifNull(trial, 0) AS trial
            FROM {{db}}.billing
            WHERE user_id IS NOT NULL
              AND event_type IN ('subscription_started', 'renewed', 'plan_changed', 'canceled')
            {{dedup}}
        )
        GROUP BY uid
    )
)
