CREATE TABLE "agent_webhooks" (
	"agent_id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"events" jsonb,
	"secret" text,
	"secret_prev" text,
	"secret_prev_until" timestamp (3) with time zone,
	"failing_since" timestamp (3) with time zone,
	"disabled_at" timestamp (3) with time zone,
	"disabled_reason" text,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trigger_calls" (
	"id" uuid PRIMARY KEY NOT NULL,
	"trigger_id" text NOT NULL,
	"workspace_id" uuid NOT NULL,
	"job_id" uuid,
	"outcome" text NOT NULL,
	"dedupe_key" text,
	"delivery_id" text,
	"source_ip" text,
	"content_type" text,
	"bytes" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "triggers" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"name" text NOT NULL,
	"protocol" text,
	"verify_type" text NOT NULL,
	"verify_header" text,
	"verify_secret" text,
	"verify_secret_hint" text,
	"transform" text NOT NULL,
	"enabled" boolean NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "caller_agent_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "trigger_id" text;--> statement-breakpoint
ALTER TABLE "webhook_attempts" ADD COLUMN "response_excerpt" text;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "agent_id" uuid;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "event_id" bigint;--> statement-breakpoint
ALTER TABLE "agent_webhooks" ADD CONSTRAINT "agent_webhooks_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trigger_calls" ADD CONSTRAINT "trigger_calls_trigger_id_triggers_id_fk" FOREIGN KEY ("trigger_id") REFERENCES "public"."triggers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "triggers" ADD CONSTRAINT "triggers_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "triggers" ADD CONSTRAINT "triggers_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "trigger_calls_dedupe_idx" ON "trigger_calls" USING btree ("trigger_id","dedupe_key");--> statement-breakpoint
CREATE INDEX "trigger_calls_trigger_idx" ON "trigger_calls" USING btree ("trigger_id","id");--> statement-breakpoint
CREATE INDEX "trigger_calls_created_idx" ON "trigger_calls" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "triggers_workspace_idx" ON "triggers" USING btree ("workspace_id","created_at");--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_agent_event_idx" ON "webhook_deliveries" USING btree ("agent_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_agent_status_idx" ON "webhook_deliveries" USING btree ("agent_id","status","locked_until");