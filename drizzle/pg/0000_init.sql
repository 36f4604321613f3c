CREATE TABLE "agent_capabilities" (
	"agent_id" uuid NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"metadata" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "agent_capabilities_agent_id_name_pk" PRIMARY KEY("agent_id","name")
);
--> statement-breakpoint
CREATE TABLE "agent_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"agent_id" uuid NOT NULL,
	"workspace_id" uuid NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "agent_tokens_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"permanent_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"endpoint_url" text,
	"webhook_url" text,
	"version" text,
	"license" text,
	"programming_language" text,
	"languages_supported" jsonb NOT NULL,
	"framework" text,
	"label" text,
	"client_type" text,
	"token_ttl_seconds" integer,
	"protocols" jsonb NOT NULL,
	"external_invocation" boolean NOT NULL,
	"fallback_agent_id" uuid,
	"endpoint_credential" text,
	"endpoint_credential_hint" text,
	"endpoint_auth_header" text,
	"status" text NOT NULL,
	"archived" boolean NOT NULL,
	"presence" text NOT NULL,
	"reported_status" text,
	"last_heartbeat_at" timestamp (3) with time zone,
	"last_active_at" timestamp (3) with time zone,
	"last_health_check_at" timestamp (3) with time zone,
	"last_health_check_ok" boolean,
	"last_health_check_status" integer,
	"last_health_check_latency_ms" integer,
	"last_health_check_error" text,
	"last_health_ok_at" timestamp (3) with time zone,
	"socket_seen_at" timestamp (3) with time zone,
	"task_count" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "agents_permanent_id_unique" UNIQUE("permanent_id")
);
--> statement-breakpoint
CREATE TABLE "audit_logs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid,
	"action" text NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text,
	"metadata" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	"last_used_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "workspace_keys_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "workspaces_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "agent_capabilities" ADD CONSTRAINT "agent_capabilities_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_tokens" ADD CONSTRAINT "agent_tokens_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_keys" ADD CONSTRAINT "workspace_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_capabilities_workspace_name_idx" ON "agent_capabilities" USING btree ("workspace_id","name");--> statement-breakpoint
CREATE INDEX "agent_tokens_agent_idx" ON "agent_tokens" USING btree ("agent_id");--> statement-breakpoint
CREATE INDEX "agents_workspace_idx" ON "agents" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "agents_workspace_presence_idx" ON "agents" USING btree ("workspace_id","presence");--> statement-breakpoint
CREATE INDEX "audit_logs_workspace_idx" ON "audit_logs" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "audit_logs_agent_idx" ON "audit_logs" USING btree ("agent_id","id");--> statement-breakpoint
CREATE INDEX "workspace_keys_workspace_idx" ON "workspace_keys" USING btree ("workspace_id");