-- GET /api/agents?q= (docs/adr/0016-text-search.md): pg_trgm indexes for the list's
-- `lower(...) like '%q%'`. Where the extension cannot be created (no privilege, or the contrib
-- package is not installed) the migration goes on without them and the list scans as before.
DO $$
BEGIN
	CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
	RAISE WARNING 'switchboard: pg_trgm not created (%), GET /api/agents?q= scans the workspace', SQLERRM;
END $$;--> statement-breakpoint
DO $$
DECLARE
	trgm_schema text;
BEGIN
	SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'pg_trgm';
	IF trgm_schema IS NOT NULL THEN
		-- The operator class qualified: the extension may live in a schema off the search path.
		-- A short pending list: every search reads all of it, and each presence change adds to it.
		EXECUTE format('CREATE INDEX IF NOT EXISTS "agents_name_trgm_idx" ON "agents"
			USING gin (lower("name") %I.gin_trgm_ops) WITH (gin_pending_list_limit = 64)', trgm_schema);
		EXECUTE format('CREATE INDEX IF NOT EXISTS "agents_description_trgm_idx" ON "agents"
			USING gin (lower(coalesce("description", %L)) %I.gin_trgm_ops) WITH (gin_pending_list_limit = 64)',
			'', trgm_schema);
	END IF;
END $$;
