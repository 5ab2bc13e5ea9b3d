-- The gate's last verdict on a lead, and when it was taken: at claim, or
-- by the review of the leads the claim's SQL passes over (on a list,
-- locked out, outside every open zone, out of attempts). The review writes
-- a compliance-trail row each time a lead's verdict changes, so the trail
-- explains every lead of a campaign, dialed or not (docs/compliance.md).
ALTER TABLE leads ADD COLUMN last_verdict TEXT;
ALTER TABLE leads ADD COLUMN judged_at TIMESTAMP;
CREATE INDEX leads_for_review ON leads (campaign_id, judged_at);
