-- Record bodies as bytes: a zstd frame of the record's JSON compressed with a dictionary shipped in
-- the code (see crates/store/src/body.rs), about a sixth of the text; bodies written before stay
-- their JSON, now as its UTF-8 bytes, and are read as they are. The content digest is still the
-- SHA-256 of the JSON.
ALTER TABLE records ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8');
