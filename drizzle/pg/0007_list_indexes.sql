DROP INDEX "agents_workspace_presence_idx";--> statement-breakpoint
DROP INDEX "agent_capabilities_workspace_name_idx";--> statement-breakpoint
CREATE INDEX "agents_workspace_presence_id_idx" ON "agents" USING btree ("workspace_id","presence","id");--> statement-breakpoint
CREATE INDEX "agents_workspace_label_idx" ON "agents" USING btree ("workspace_id","label","id");--> statement-breakpoint
CREATE INDEX "agents_presence_idx" ON "agents" USING btree ("presence","id");--> statement-breakpoint
CREATE INDEX "agent_capabilities_workspace_name_idx" ON "agent_capabilities" USING btree ("workspace_id","name","agent_id");