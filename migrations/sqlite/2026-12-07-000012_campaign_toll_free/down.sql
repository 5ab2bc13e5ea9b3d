ALTER TABLE campaigns DROP COLUMN allow_toll_free;
