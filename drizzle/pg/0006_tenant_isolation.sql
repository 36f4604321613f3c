CREATE TABLE "agent_ids" (
	"id" uuid PRIMARY KEY NOT NULL,
	"permanent_id" text NOT NULL,
	"workspace_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	CONSTRAINT "agent_ids_permanent_id_unique" UNIQUE("permanent_id")
);
--> statement-breakpoint
CREATE TABLE "payloads" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"payload" jsonb NOT NULL,
	"bytes" integer NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_usage" (
	"workspace_id" uuid PRIMARY KEY NOT NULL,
	"messages" integer NOT NULL,
	"message_bytes" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "metadata_bytes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "payload_id" uuid;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "size_bytes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "payload_id" uuid;--> statement-breakpoint
ALTER TABLE "payloads" ADD CONSTRAINT "payloads_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_usage" ADD CONSTRAINT "workspace_usage_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payloads_expires_idx" ON "payloads" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "commands_workspace_status_idx" ON "commands" USING btree ("workspace_id","status");
--> statement-breakpoint
-- Hand-written below: what the new columns and tables say about rows that already exist.
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
--> statement-breakpoint
-- An agent's size, as near as SQL gets to its JSON: fields, protocols, capabilities.
UPDATE "agents" SET "metadata_bytes" =
  octet_length("name") + coalesce(octet_length("description"), 0)
  + coalesce(octet_length("endpoint_url"), 0) + coalesce(octet_length("webhook_url"), 0)
  + coalesce(octet_length("version"), 0) + coalesce(octet_length("license"), 0)
  + coalesce(octet_length("programming_language"), 0) + octet_length("languages_supported"::text)
  + coalesce(octet_length("framework"), 0) + coalesce(octet_length("label"), 0)
  + octet_length("protocols"::text) + coalesce(octet_length("endpoint_auth_header"), 0)
  + coalesce((SELECT sum(octet_length(c."name") + octet_length(c."metadata"::text) + 8)
              FROM "agent_capabilities" c WHERE c."agent_id" = "agents"."id"), 0);
--> statement-breakpoint
UPDATE "jobs" SET "size_bytes" = coalesce(octet_length("result"::text), 4) + coalesce(octet_length("error"), 0);
--> statement-breakpoint
-- Messages from before payloads were stored once keep theirs inline; they count, without bytes.
INSERT INTO "workspace_usage" ("workspace_id", "messages", "message_bytes")
SELECT "workspace_id", count(*), 0 FROM "messages" GROUP BY "workspace_id";
