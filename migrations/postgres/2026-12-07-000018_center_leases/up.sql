-- Which instance owns each contact center's live state (its agents, calls,
-- running campaigns), for instances sharing this database. An instance
-- takes free or expired leases, renews its own every second, and gives
-- them back when it stops. `epoch` goes up at every taking: the engine's
-- writes for a center carry the epoch they were made under, and
-- `pinline_fence` refuses them once the lease has moved on, so an owner
-- that was paused or cut off past its lease writes nothing after it.
CREATE TABLE center_leases (
    contact_center_id TEXT PRIMARY KEY REFERENCES contact_centers(id),
    owner TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    taken_at TIMESTAMP
);
CREATE INDEX center_leases_by_owner ON center_leases (owner);

-- The first statement of a transaction writing for a center: it holds the
-- lease row (FOR SHARE) until the transaction ends, so a taking waits for
-- a write already under way, and fails the transaction when the epoch is
-- no longer the center's.
CREATE FUNCTION pinline_fence(center TEXT, held BIGINT) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM center_leases
        WHERE contact_center_id = center AND epoch = held
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pinline: lease lost: contact center % is no longer held under epoch %',
            center, held;
    END IF;
    RETURN TRUE;
END
$$;
