-- GET /api/agents?q= (docs/adr/0016-text-search.md): the folded name and description stored
-- beside the agent, so that checking a trigram index's candidate is a LIKE on stored text, not
-- a lower() of each (about 0.3 µs a candidate; a q that 11,000 agents match has 11,000 of them).
-- One ALTER for both columns: the table is rewritten once. Not in the drizzle schema: no query
-- selects them, and only Postgres has them.
-- First a fill factor, so that the rewrite leaves a fifth of each page free: an update of a
-- column no index holds (a heartbeat's, a health check's, activity) then stays on its page and
-- writes no index entry (a HOT update). With full pages each such update wrote an entry into all
-- eight of the table's indexes, the two trigram ones included: 85 µs an update on 100,000 agents,
-- 13 µs with the free space.
ALTER TABLE "agents" SET (fillfactor = 80);--> statement-breakpoint
ALTER TABLE "agents"
	ADD COLUMN IF NOT EXISTS "name_folded" text GENERATED ALWAYS AS (lower("name")) STORED,
	ADD COLUMN IF NOT EXISTS "description_folded" text GENERATED ALWAYS AS (lower(coalesce("description", ''))) STORED;--> statement-breakpoint
DO $$
DECLARE
	trgm_schema text;
BEGIN
	SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'pg_trgm';
	IF trgm_schema IS NOT NULL THEN
		-- The same names as 0008's, now over the stored columns (the query no longer says lower()).
		DROP INDEX IF EXISTS "agents_name_trgm_idx";
		DROP INDEX IF EXISTS "agents_description_trgm_idx";
		EXECUTE format('CREATE INDEX "agents_name_trgm_idx" ON "agents"
			USING gin ("name_folded" %I.gin_trgm_ops) WITH (gin_pending_list_limit = 64)', trgm_schema);
		EXECUTE format('CREATE INDEX "agents_description_trgm_idx" ON "agents"
			USING gin ("description_folded" %I.gin_trgm_ops) WITH (gin_pending_list_limit = 64)', trgm_schema);
	END IF;
END $$;
