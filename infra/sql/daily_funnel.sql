-- Daily delivery funnel per campaign, broadcast, newsletter or transactional message and channel,
-- in each workspace: a message id is one workspace's (campaign 101 of one workspace and campaign 101
-- of another are different campaigns). workspace is null with one workspace (CIO_WORKSPACES unset).
-- Opens and clicks are split into human and machine: link scanners (machine clicks) and privacy
-- prefetching (prefetched opens) are not people. Proxied opens (e.g. Apple Mail Privacy Protection)
-- are counted as human, as the handler does, and also reported on their own.
-- As the view daily_funnel it reads events_unique (a filter on day prunes partitions through it);
-- as the table function funnel_between(start_ts, end_ts) it reads events_unique_between.
SELECT
  CAST(event_timestamp AS DATE) AS day,
  workspace,
  CASE
    WHEN campaign_id IS NOT NULL THEN 'campaign'
    WHEN broadcast_id IS NOT NULL THEN 'broadcast'
    WHEN newsletter_id IS NOT NULL THEN 'newsletter'
    WHEN transactional_message_id IS NOT NULL THEN 'transactional'
    ELSE 'other'
  END AS source,
  COALESCE(campaign_id, broadcast_id, newsletter_id, transactional_message_id) AS source_id,
  object_type,
  SUM(CASE WHEN metric = 'sent' THEN 1 ELSE 0 END) AS sent,
  SUM(CASE WHEN metric = 'delivered' THEN 1 ELSE 0 END) AS delivered,
  SUM(CASE WHEN metric = 'opened' AND NOT COALESCE(prefetched, FALSE) THEN 1 ELSE 0 END) AS human_opens,
  SUM(CASE WHEN metric = 'opened' AND COALESCE(prefetched, FALSE) THEN 1 ELSE 0 END) AS machine_opens,
  SUM(CASE WHEN metric = 'opened' AND COALESCE(proxied, FALSE) THEN 1 ELSE 0 END) AS proxied_opens,
  SUM(CASE WHEN metric = 'clicked' AND NOT COALESCE(machine, FALSE) THEN 1 ELSE 0 END) AS human_clicks,
  SUM(CASE WHEN metric = 'clicked' AND COALESCE(machine, FALSE) THEN 1 ELSE 0 END) AS machine_clicks,
  SUM(CASE WHEN metric = 'converted' THEN 1 ELSE 0 END) AS converted,
  SUM(CASE WHEN metric = 'bounced' THEN 1 ELSE 0 END) AS bounced,
  SUM(CASE WHEN metric = 'spammed' THEN 1 ELSE 0 END) AS spammed,
  SUM(CASE WHEN metric = 'unsubscribed' THEN 1 ELSE 0 END) AS unsubscribed,
  SUM(CASE WHEN metric IN ('dropped', 'failed', 'undeliverable') THEN 1 ELSE 0 END) AS failed
FROM {{source}}
WHERE object_type <> 'customer' AND event_timestamp IS NOT NULL
GROUP BY day, workspace, source, source_id, object_type
