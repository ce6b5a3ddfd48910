-- Retention of the webhook outbox (runtime/db/webhooks.py, ``prune``): the dispatchers delete
-- delivered deliveries and dead letters past their age, then events no delivery is left of,
-- a small batch at a time. These indexes let each batch find its rows without reading the
-- whole outbox.

CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at)
    WHERE delivered_at IS NOT NULL;
CREATE INDEX webhook_deliveries_dead_at ON webhook_deliveries (dead_at)
    WHERE dead_at IS NOT NULL;
CREATE INDEX webhook_events_created ON webhook_events (created_at);
