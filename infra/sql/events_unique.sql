-- One row per event_id: the first copy Pub/Sub wrote. The events table is at-least-once:
-- Customer.io retries, Pub/Sub redelivers and replays (seek) all write duplicate rows.
SELECT *
FROM {{events}}
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY publish_time, message_id) = 1
