CREATE TABLE "app_connections" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"base_url" text NOT NULL,
	"auth" jsonb NOT NULL,
	"secret" text NOT NULL,
	"secret_hint" text,
	"secret_version" integer NOT NULL,
	"allowed_agent_ids" jsonb,
	"allowed_methods" jsonb,
	"allowed_path_prefixes" jsonb,
	"timeout_ms" integer,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "app_connections" ADD CONSTRAINT "app_connections_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "app_connections_workspace_idx" ON "app_connections" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "app_connections_name_idx" ON "app_connections" USING btree ("workspace_id","name");