CREATE TABLE `agent_ids` (
	`id` text PRIMARY KEY NOT NULL,
	`permanent_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agent_ids_permanent_id_unique` ON `agent_ids` (`permanent_id`);--> statement-breakpoint
CREATE TABLE `payloads` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`payload` text NOT NULL,
	`bytes` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `payloads_expires_idx` ON `payloads` (`expires_at`);--> statement-breakpoint
CREATE TABLE `workspace_usage` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`messages` integer NOT NULL,
	`message_bytes` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `agents` ADD `metadata_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `events` ADD `payload_id` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `size_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `payload_id` text;--> statement-breakpoint
CREATE INDEX `commands_workspace_status_idx` ON `commands` (`workspace_id`,`status`);
--> statement-breakpoint
-- Hand-written below: what the new columns and tables say about rows that already exist.
-- Every agent that exists keeps its ids; so does every agent whose deletion was audited.
INSERT OR IGNORE INTO `agent_ids` (`id`, `permanent_id`, `workspace_id`, `created_at`, `deleted_at`)
SELECT `id`, `permanent_id`, `workspace_id`, `created_at`, NULL FROM `agents`;
--> statement-breakpoint
INSERT OR IGNORE INTO `agent_ids` (`id`, `permanent_id`, `workspace_id`, `created_at`, `deleted_at`)
SELECT `agent_id`, json_extract(`metadata`, '$.permanentId'), `workspace_id`, min(`created_at`), min(`created_at`)
FROM `audit_logs`
WHERE `action` = 'agent_deleted' AND `agent_id` IS NOT NULL AND json_extract(`metadata`, '$.permanentId') IS NOT NULL
GROUP BY `agent_id`;
--> statement-breakpoint
-- An agent's size, as near as SQL gets to its JSON: fields, protocols, capabilities.
UPDATE `agents` SET `metadata_bytes` =
  length(CAST(`name` AS BLOB)) + coalesce(length(CAST(`description` AS BLOB)), 0)
  + coalesce(length(`endpoint_url`), 0) + coalesce(length(`webhook_url`), 0)
  + coalesce(length(CAST(`version` AS BLOB)), 0) + coalesce(length(CAST(`license` AS BLOB)), 0)
  + coalesce(length(CAST(`programming_language` AS BLOB)), 0) + length(CAST(`languages_supported` AS BLOB))
  + coalesce(length(CAST(`framework` AS BLOB)), 0) + coalesce(length(CAST(`label` AS BLOB)), 0)
  + length(CAST(`protocols` AS BLOB)) + coalesce(length(`endpoint_auth_header`), 0)
  + coalesce((SELECT sum(length(CAST(c.`name` AS BLOB)) + length(CAST(c.`metadata` AS BLOB)) + 8)
              FROM `agent_capabilities` c WHERE c.`agent_id` = `agents`.`id`), 0);
--> statement-breakpoint
UPDATE `jobs` SET `size_bytes` = coalesce(length(CAST(`result` AS BLOB)), 4) + coalesce(length(CAST(`error` AS BLOB)), 0);
--> statement-breakpoint
-- Messages from before payloads were stored once keep theirs inline; they count, without bytes.
INSERT INTO `workspace_usage` (`workspace_id`, `messages`, `message_bytes`)
SELECT `workspace_id`, count(*), 0 FROM `messages` GROUP BY `workspace_id`;
