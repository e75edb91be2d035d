-- A township device's first pull (issue 15): the documents it may hold were found by walking
-- every document of the county and, for each, reading its changes' rows to see who wrote
-- them. Both tables keep their blobs in their rows, so each step read a snapshot or a change
-- from disk: with 1,000 offices enrolling on a hub of 20,000 cases, every first pull cost a
-- walk of the whole county. The scope query now starts from the township's own cases and the
-- county's rules documents (`docs_kind`); `changes_case_device` answers "did another device
-- write this document" without reading any change.
CREATE INDEX docs_kind ON docs (kind);
CREATE INDEX changes_case_device ON changes (case_id, kind, device);
