CREATE TABLE `agent_webhooks` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`events` text,
	`secret` text,
	`secret_prev` text,
	`secret_prev_until` integer,
	`failing_since` integer,
	`disabled_at` integer,
	`disabled_reason` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `trigger_calls` (
	`id` text PRIMARY KEY NOT NULL,
	`trigger_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`job_id` text,
	`outcome` text NOT NULL,
	`dedupe_key` text,
	`delivery_id` text,
	`source_ip` text,
	`content_type` text,
	`bytes` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`trigger_id`) REFERENCES `triggers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trigger_calls_dedupe_idx` ON `trigger_calls` (`trigger_id`,`dedupe_key`);--> statement-breakpoint
CREATE INDEX `trigger_calls_trigger_idx` ON `trigger_calls` (`trigger_id`,`id`);--> statement-breakpoint
CREATE INDEX `trigger_calls_created_idx` ON `trigger_calls` (`created_at`);--> statement-breakpoint
CREATE TABLE `triggers` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`name` text NOT NULL,
	`protocol` text,
	`verify_type` text NOT NULL,
	`verify_header` text,
	`verify_secret` text,
	`verify_secret_hint` text,
	`transform` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `triggers_workspace_idx` ON `triggers` (`workspace_id`,`created_at`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`target_workspace_id` text NOT NULL,
	`connection_id` text,
	`caller_agent_id` text,
	`target_agent_id` text NOT NULL,
	`handled_by_agent_id` text NOT NULL,
	`status` text NOT NULL,
	`http_status` integer,
	`result` text,
	`error` text,
	`callback_url` text,
	`trigger_id` text,
	`traceparent` text,
	`tracestate` text,
	`deadline_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`completed_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_jobs`("id", "workspace_id", "target_workspace_id", "connection_id", "caller_agent_id", "target_agent_id", "handled_by_agent_id", "status", "http_status", "result", "error", "callback_url", "trigger_id", "traceparent", "tracestate", "deadline_at", "created_at", "updated_at", "completed_at") SELECT "id", "workspace_id", "target_workspace_id", "connection_id", "caller_agent_id", "target_agent_id", "handled_by_agent_id", "status", "http_status", "result", "error", "callback_url", NULL, "traceparent", "tracestate", "deadline_at", "created_at", "updated_at", "completed_at" FROM `jobs`;--> statement-breakpoint
DROP TABLE `jobs`;--> statement-breakpoint
ALTER TABLE `__new_jobs` RENAME TO `jobs`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `jobs_workspace_idx` ON `jobs` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_target_idx` ON `jobs` (`target_agent_id`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_caller_idx` ON `jobs` (`caller_agent_id`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_status_deadline_idx` ON `jobs` (`status`,`deadline_at`);--> statement-breakpoint
ALTER TABLE `webhook_attempts` ADD `response_excerpt` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `agent_id` text REFERENCES agents(id) ON DELETE cascade;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `event_id` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_agent_event_idx` ON `webhook_deliveries` (`agent_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_agent_status_idx` ON `webhook_deliveries` (`agent_id`,`status`,`locked_until`);