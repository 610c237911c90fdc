-- Table function events_unique_between(start_ts, end_ts): events_unique for event times in
-- [start_ts, end_ts). The filter sits inside, before the window, so only those days' partitions are
-- read, whatever the query around it does. Rows without an event_timestamp are never in a range.
SELECT *
FROM {{events}}
WHERE event_timestamp >= start_ts AND event_timestamp < end_ts
QUALIFY ROW_NUMBER() OVER (PARTITION BY workspace, event_id, event_timestamp ORDER BY publish_time, message_id) = 1
