DROP INDEX calls_live_answers;
DROP TABLE wrap_hours;
DROP TABLE call_hours;
