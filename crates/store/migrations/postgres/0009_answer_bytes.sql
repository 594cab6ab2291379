-- Check answers as bytes: a zstd frame of the answer's JSON compressed with a dictionary shipped in
-- the code (see crates/store/src/body.rs), about a fifth of the text; answers written before stay
-- their JSON, now as its UTF-8 bytes, and are read as they are. Audit entries keep the digest of the
-- answer's text, so they verify as before.
ALTER TABLE checks ALTER COLUMN answer TYPE bytea USING convert_to(answer, 'UTF8');
