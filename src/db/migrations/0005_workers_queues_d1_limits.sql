ALTER TABLE `captured_mail` ADD `to_address` text;--> statement-breakpoint
ALTER TABLE `captured_mail` ADD `reply_to_address` text;--> statement-breakpoint
CREATE INDEX `captured_mail_to_ix` ON `captured_mail` (`to_address`);--> statement-breakpoint
CREATE INDEX `captured_mail_reply_to_ix` ON `captured_mail` (`reply_to_address`);--> statement-breakpoint
ALTER TABLE `outbox` ADD `enqueued_at` integer;--> statement-breakpoint
-- Mail captured before this migration: the bare address out of "Name" <address> (or <address>).
UPDATE `captured_mail` SET `to_address` = lower(CASE WHEN instr(`to_header`, '<') > 0 THEN substr(`to_header`, instr(`to_header`, '<') + 1, length(`to_header`) - instr(`to_header`, '<') - 1) ELSE `to_header` END) WHERE `to_address` IS NULL;--> statement-breakpoint
UPDATE `captured_mail` SET `reply_to_address` = lower(CASE WHEN instr(`reply_to`, '<') > 0 THEN substr(`reply_to`, instr(`reply_to`, '<') + 1, length(`reply_to`) - instr(`reply_to`, '<') - 1) ELSE `reply_to` END) WHERE `reply_to_address` IS NULL AND `reply_to` IS NOT NULL;
