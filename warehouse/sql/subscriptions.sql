-- subscriptions: each user's state at the end of every month (the last
-- instant before the next month starts), from the month of the user's first
-- subscription event to the last month of billing_months.
--   mi, month    the month (see billing_months)
--   status       trial | active | canceled
--   plan, currency
--   mrr_minor    MRR(user, end of month): the paid monthly price, 0 when none
SELECT c.user_id, m.mi, m.month, c.status, c.plan, c.currency, c.price_minor AS mrr_minor
FROM subscription_changes c
JOIN billing_months m
  ON c.t < m.end_ms AND (c.next_t IS NULL OR c.next_t >= m.end_ms)
