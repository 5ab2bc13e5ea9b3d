UPDATE campaigns
SET safe_harbor_message = 'Sorry we missed you. We were calling from our team and will try again later. To stop these calls, call us back and ask to be removed.'
WHERE safe_harbor_message = 'Sorry we missed you. This call was from {callerId}; we will try again later. To stop these calls, call us back on {callerId} and ask to be removed.';
