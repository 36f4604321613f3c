CREATE TABLE "agent_ids" (
	"id" uuid PRIMARY KEY NOT NULL,
	"permanent_id" text NOT NULL,
	"workspace_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	CONSTRAINT "agent_ids_permanent_id_unique" UNIQUE("permanent_id")
);
--> statement-breakpoint
-- Every agent that exists keeps its ids; so does every agent whose deletion was audited.
INSERT INTO "agent_ids" ("id", "permanent_id", "workspace_id", "created_at", "deleted_at")
SELECT "id", "permanent_id", "workspace_id", "created_at", NULL FROM "agents"
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "agent_ids" ("id", "permanent_id", "workspace_id", "created_at", "deleted_at")
SELECT DISTINCT ON ("agent_id") "agent_id", "metadata"->>'permanentId', "workspace_id", "created_at", "created_at"
FROM "audit_logs"
WHERE "action" = 'agent_deleted' AND "agent_id" IS NOT NULL AND "metadata"->>'permanentId' IS NOT NULL
ORDER BY "agent_id", "created_at"
ON CONFLICT DO NOTHING;
