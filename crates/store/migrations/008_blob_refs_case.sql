-- The attachments a case cites, found by case: what a case that just arrived still needs from
-- the hub (read for every case of a page), and what goes when a case leaves.
CREATE INDEX blob_refs_case ON blob_refs (case_id);
