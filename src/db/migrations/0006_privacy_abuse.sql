DROP INDEX `letters_email_created_ix`;--> statement-breakpoint
ALTER TABLE `letters` ADD `supporter_email_key` text;--> statement-breakpoint
ALTER TABLE `letters` ADD `flags` text;--> statement-breakpoint
ALTER TABLE `letters` ADD `anonymised_at` integer;--> statement-breakpoint
CREATE INDEX `letters_email_key_created_ix` ON `letters` (`supporter_email_key`,`created_at`);--> statement-breakpoint
ALTER TABLE `privacy_requests` ADD `email` text;--> statement-breakpoint
ALTER TABLE `privacy_requests` ADD `processed_at` integer;--> statement-breakpoint
ALTER TABLE `privacy_requests` ADD `mailed` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `privacy_requests_pending_ix` ON `privacy_requests` (`processed_at`);--> statement-breakpoint
CREATE INDEX `privacy_requests_email_ix` ON `privacy_requests` (`email_norm`,`kind`,`created_at`);--> statement-breakpoint
ALTER TABLE `supporter_pledges` ADD `email` text;--> statement-breakpoint
-- Rows from before: their key is what keys were then (trimmed, lower case); pledges were sent to
-- email_norm; privacy requests were mailed when they were made.
UPDATE `letters` SET `supporter_email_key` = lower(trim(`supporter_email`)) WHERE `supporter_email_key` IS NULL;--> statement-breakpoint
UPDATE `supporter_pledges` SET `email` = `email_norm` WHERE `email` IS NULL;--> statement-breakpoint
UPDATE `privacy_requests` SET `processed_at` = `created_at`, `mailed` = 1 WHERE `processed_at` IS NULL;
