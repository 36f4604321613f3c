CREATE TABLE `agent_capabilities` (
	`agent_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`metadata` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`agent_id`, `name`),
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `agent_capabilities_workspace_name_idx` ON `agent_capabilities` (`workspace_id`,`name`);--> statement-breakpoint
CREATE TABLE `agent_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agent_tokens_hash_unique` ON `agent_tokens` (`hash`);--> statement-breakpoint
CREATE INDEX `agent_tokens_agent_idx` ON `agent_tokens` (`agent_id`);--> statement-breakpoint
CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`permanent_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`endpoint_url` text,
	`webhook_url` text,
	`version` text,
	`license` text,
	`programming_language` text,
	`languages_supported` text NOT NULL,
	`framework` text,
	`label` text,
	`client_type` text,
	`token_ttl_seconds` integer,
	`protocols` text NOT NULL,
	`external_invocation` integer NOT NULL,
	`fallback_agent_id` text,
	`endpoint_credential` text,
	`endpoint_credential_hint` text,
	`endpoint_auth_header` text,
	`status` text NOT NULL,
	`archived` integer NOT NULL,
	`presence` text NOT NULL,
	`reported_status` text,
	`last_heartbeat_at` integer,
	`last_active_at` integer,
	`last_health_check_at` integer,
	`last_health_check_ok` integer,
	`last_health_check_status` integer,
	`last_health_check_latency_ms` integer,
	`last_health_check_error` text,
	`last_health_ok_at` integer,
	`socket_seen_at` integer,
	`task_count` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agents_permanent_id_unique` ON `agents` (`permanent_id`);--> statement-breakpoint
CREATE INDEX `agents_workspace_idx` ON `agents` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `agents_workspace_presence_idx` ON `agents` (`workspace_id`,`presence`);--> statement-breakpoint
CREATE TABLE `audit_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`agent_id` text,
	`action` text NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text,
	`metadata` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `audit_logs_workspace_idx` ON `audit_logs` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_agent_idx` ON `audit_logs` (`agent_id`,`id`);--> statement-breakpoint
CREATE TABLE `workspace_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`last_used_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workspace_keys_hash_unique` ON `workspace_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `workspace_keys_workspace_idx` ON `workspace_keys` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workspaces_name_unique` ON `workspaces` (`name`);