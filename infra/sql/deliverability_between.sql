-- Table function deliverability_between(start_ts, end_ts): per message source and channel, what
-- the deliverability guard judges, for event times in [start_ts, end_ts). A source is what
-- Customer.io names on the event: a campaign or an API-triggered broadcast with its action (the
-- message within it), a newsletter, or a transactional message — of one workspace, since those ids
-- are a workspace's own (workspace is null with one workspace). It reads events_unique_between,
-- so each event counts once however often it was written (retries, redeliveries, replays) and late
-- events count in the window of their event time; only the range's days are read.
--
-- complaint_rate = spammed / delivered, bounce_rate = bounced / sent, unsubscribe_rate =
-- unsubscribed / delivered; null when the denominator is 0. The counts are additive: sum them by
-- workspace and source_id for a whole campaign. Only the five metrics counted are read (the table
-- is clustered by metric, so BigQuery skips the rest's blocks), and a source with none of them in
-- the range has no row; events that name no message source (test sends) are left out. Only
-- identifiers and metrics are read: no address, recipient or content.
SELECT
  workspace, source, source_id, action_id, channel,
  sent, delivered, bounced, spammed, unsubscribed,
  CASE WHEN delivered > 0 THEN spammed / delivered END AS complaint_rate,
  CASE WHEN sent > 0 THEN bounced / sent END AS bounce_rate,
  CASE WHEN delivered > 0 THEN unsubscribed / delivered END AS unsubscribe_rate
FROM (
  SELECT
    workspace, source, source_id, action_id, channel,
    COUNT(CASE WHEN metric = 'sent' THEN 1 END) AS sent,
    COUNT(CASE WHEN metric = 'delivered' THEN 1 END) AS delivered,
    COUNT(CASE WHEN metric = 'bounced' THEN 1 END) AS bounced,
    COUNT(CASE WHEN metric = 'spammed' THEN 1 END) AS spammed,
    COUNT(CASE WHEN metric = 'unsubscribed' THEN 1 END) AS unsubscribed
  FROM (
    SELECT
      workspace,
      CASE
        WHEN campaign_id IS NOT NULL THEN 'campaign'
        WHEN broadcast_id IS NOT NULL THEN 'broadcast'
        WHEN newsletter_id IS NOT NULL THEN 'newsletter'
        ELSE 'transactional'
      END AS source,
      COALESCE(campaign_id, broadcast_id, newsletter_id, transactional_message_id) AS source_id,
      CASE WHEN campaign_id IS NOT NULL OR broadcast_id IS NOT NULL THEN action_id END AS action_id,
      object_type AS channel,
      metric
    FROM {{unique_events}}
    WHERE object_type <> 'customer'
      AND metric IN ('sent', 'delivered', 'bounced', 'spammed', 'unsubscribed')
      AND COALESCE(campaign_id, broadcast_id, newsletter_id, transactional_message_id) IS NOT NULL
  ) AS keyed
  GROUP BY workspace, source, source_id, action_id, channel
) AS counted
