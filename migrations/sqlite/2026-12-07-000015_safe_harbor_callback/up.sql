-- The safe-harbor (information) message must give a number to call back
-- (FTC 16 CFR 310.4(b)(4)(iii); Ofcom): campaigns still on the old default,
-- which named none, get the new one, which reads out the caller ID.
UPDATE campaigns
SET safe_harbor_message = 'Sorry we missed you. This call was from {callerId}; we will try again later. To stop these calls, call us back on {callerId} and ask to be removed.'
WHERE safe_harbor_message = 'Sorry we missed you. We were calling from our team and will try again later. To stop these calls, call us back and ask to be removed.';
