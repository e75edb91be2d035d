-- Device keys (issue 13): each device's Ed25519 public key, registered at enrollment (or, for a
-- device enrolled before keys existed, on its next authenticated sync). USB bundles from the
-- device are checked with it; the hub's own private key lives in a file beside the database,
-- never in it.
ALTER TABLE devices ADD COLUMN public_key TEXT;
