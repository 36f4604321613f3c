ALTER TABLE `jobs` ADD `traceparent` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `tracestate` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `traceparent` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `tracestate` text;