-- The instance running an import (a survivor fails it when that instance dies).
ALTER TABLE import_jobs ADD COLUMN instance_id TEXT;
