DROP FUNCTION pinline_fence(TEXT, BIGINT);
DROP TABLE center_leases;
