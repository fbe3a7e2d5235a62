-- Openings a chat's filters (severity, metrics) leave out are recorded too,
-- as 'skipped_filter': a resolution that finds no record at all of its
-- opening for a chat then knows the opening has not been handled yet (a
-- notifier died holding it) and waits for it, instead of dropping the
-- resolution (bot/notifier/decide.ts).
ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_outcome_check;
ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_outcome_check
  CHECK (outcome IN ('sent', 'skipped_quiet', 'skipped_cap', 'skipped_disabled', 'skipped_filter'));
