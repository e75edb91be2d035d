-- Demo data (issue 11): 1 for a case created as demo data, 2 once the bureau recorded
-- 清除演示数据 on it (it leaves lists and statistics at once, and the store when the hub has
-- purged it). The projection version changed, so existing rows are re-projected on open.
ALTER TABLE cases ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
