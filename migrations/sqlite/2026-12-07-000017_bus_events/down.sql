DROP TABLE bus_events;
