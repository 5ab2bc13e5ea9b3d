DROP TABLE center_leases;
