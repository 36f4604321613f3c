CREATE TABLE `agent_ids` (
	`id` text PRIMARY KEY NOT NULL,
	`permanent_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agent_ids_permanent_id_unique` ON `agent_ids` (`permanent_id`);--> statement-breakpoint
-- Every agent that exists keeps its ids; so does every agent whose deletion was audited.
INSERT OR IGNORE INTO `agent_ids` (`id`, `permanent_id`, `workspace_id`, `created_at`, `deleted_at`)
SELECT `id`, `permanent_id`, `workspace_id`, `created_at`, NULL FROM `agents`;
--> statement-breakpoint
INSERT OR IGNORE INTO `agent_ids` (`id`, `permanent_id`, `workspace_id`, `created_at`, `deleted_at`)
SELECT `agent_id`, json_extract(`metadata`, '$.permanentId'), `workspace_id`, min(`created_at`), min(`created_at`)
FROM `audit_logs`
WHERE `action` = 'agent_deleted' AND `agent_id` IS NOT NULL AND json_extract(`metadata`, '$.permanentId') IS NOT NULL
GROUP BY `agent_id`;
