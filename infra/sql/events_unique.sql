-- One row per event: the first copy Pub/Sub wrote. The events table is at-least-once: Customer.io
-- retries, Pub/Sub redelivers and replays (seek) all write duplicate rows of the same payload.
--
-- The window is partitioned by event_timestamp as well as event_id. Every copy of one event carries
-- the same event_timestamp (it comes from the same payload), so the rows kept are the same as with
-- event_id alone, but a filter on event_timestamp in a query on this view can now be pushed below
-- the window and prune the table's day partitions. With PARTITION BY event_id alone BigQuery cannot
-- push it down, and every query on the view reads every day of history.
--
-- And by workspace: an event is one workspace's (the handler's dedupe records are keyed the same
-- way), so two workspaces' events never stand for each other. With one workspace it is null on
-- every row, and the rows kept are the same.
SELECT *
FROM {{events}}
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY workspace, event_id, event_timestamp ORDER BY publish_time, message_id) = 1
