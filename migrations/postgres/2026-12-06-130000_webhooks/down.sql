DROP INDEX outbox_webhook_due;
DELETE FROM outbox WHERE webhook_id IS NOT NULL;
ALTER TABLE outbox DROP COLUMN webhook_id;
DROP TABLE webhooks;
