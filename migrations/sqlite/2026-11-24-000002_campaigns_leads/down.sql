DROP TABLE compliance_trail;
DROP TABLE dial_attempts;
DROP TABLE invalid_numbers;
DROP TABLE dnt_entries;
DROP TABLE dnc_entries;
DROP TABLE leads;
DROP TABLE campaigns;
