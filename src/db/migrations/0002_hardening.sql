CREATE TABLE `rate_limits` (
	`key` text PRIMARY KEY NOT NULL,
	`points` integer DEFAULT 0 NOT NULL,
	`expire` integer
);
--> statement-breakpoint
CREATE INDEX `rate_limits_expire_ix` ON `rate_limits` (`expire`);--> statement-breakpoint
CREATE TABLE `signin_throttle` (
	`key` text PRIMARY KEY NOT NULL,
	`attempts` integer NOT NULL,
	`next_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `signin_throttle_updated_ix` ON `signin_throttle` (`updated_at`);--> statement-breakpoint
ALTER TABLE `rep_pledges` ADD `link_mail_id` text;--> statement-breakpoint
ALTER TABLE `supporter_pledges` ADD `public_id` text;--> statement-breakpoint
ALTER TABLE `supporter_pledges` ADD `confirm_mail_id` text;--> statement-breakpoint
-- Pledges made before random ids get one now; links name only this id from here on.
UPDATE `supporter_pledges` SET `public_id` = lower(hex(randomblob(16))) WHERE `public_id` IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `supporter_pledges_public_id_uq` ON `supporter_pledges` (`public_id`);