CREATE TABLE `app_connections` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`base_url` text NOT NULL,
	`auth` text NOT NULL,
	`secret` text NOT NULL,
	`secret_hint` text,
	`secret_version` integer NOT NULL,
	`allowed_agent_ids` text,
	`allowed_methods` text,
	`allowed_path_prefixes` text,
	`timeout_ms` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `app_connections_workspace_idx` ON `app_connections` (`workspace_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `app_connections_name_idx` ON `app_connections` (`workspace_id`,`name`);