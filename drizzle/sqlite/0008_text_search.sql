-- GET /api/agents?q= (docs/adr/0016-text-search.md): a trigram index of the agents' name and
-- description. The FTS rows carry no content and are keyed by agent_search_keys, not by the
-- agents' own rowid, which VACUUM may renumber (agents has a text primary key).
CREATE TABLE `agent_search_keys` (
	`id` integer PRIMARY KEY,
	`agent_id` text NOT NULL,
	`workspace_id` text NOT NULL
);--> statement-breakpoint
CREATE UNIQUE INDEX `agent_search_keys_agent_id_unique` ON `agent_search_keys` (`agent_id`);--> statement-breakpoint
CREATE VIRTUAL TABLE `agent_search` USING fts5(name, description, tokenize = 'trigram', content = '', contentless_delete = 1);--> statement-breakpoint
INSERT INTO `agent_search_keys` (`agent_id`, `workspace_id`) SELECT `id`, `workspace_id` FROM `agents` ORDER BY `id`;--> statement-breakpoint
INSERT INTO `agent_search` (rowid, name, description)
	SELECT k.`id`, a.`name`, a.`description` FROM `agents` a JOIN `agent_search_keys` k ON k.`agent_id` = a.`id`;--> statement-breakpoint
CREATE TRIGGER `agents_search_insert` AFTER INSERT ON `agents` BEGIN
	INSERT INTO `agent_search_keys` (`agent_id`, `workspace_id`) VALUES (new.`id`, new.`workspace_id`);
	INSERT INTO `agent_search` (rowid, name, description)
		VALUES ((SELECT `id` FROM `agent_search_keys` WHERE `agent_id` = new.`id`), new.`name`, new.`description`);
END;--> statement-breakpoint
CREATE TRIGGER `agents_search_update` AFTER UPDATE OF `id`, `workspace_id`, `name`, `description` ON `agents`
	WHEN old.`id` IS NOT new.`id` OR old.`workspace_id` IS NOT new.`workspace_id`
		OR old.`name` IS NOT new.`name` OR old.`description` IS NOT new.`description`
BEGIN
	UPDATE `agent_search_keys` SET `agent_id` = new.`id`, `workspace_id` = new.`workspace_id` WHERE `agent_id` = old.`id`;
	UPDATE `agent_search` SET name = new.`name`, description = new.`description`
		WHERE rowid = (SELECT `id` FROM `agent_search_keys` WHERE `agent_id` = new.`id`);
END;--> statement-breakpoint
CREATE TRIGGER `agents_search_delete` AFTER DELETE ON `agents` BEGIN
	DELETE FROM `agent_search` WHERE rowid = (SELECT `id` FROM `agent_search_keys` WHERE `agent_id` = old.`id`);
	DELETE FROM `agent_search_keys` WHERE `agent_id` = old.`id`;
END;
