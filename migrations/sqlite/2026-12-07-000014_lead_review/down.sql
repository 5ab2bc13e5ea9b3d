DROP INDEX leads_for_review;
ALTER TABLE leads DROP COLUMN judged_at;
ALTER TABLE leads DROP COLUMN last_verdict;
