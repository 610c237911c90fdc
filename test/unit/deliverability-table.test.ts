/**
 * `ops deliverability`'s table: with several workspaces a source is one workspace's, so the table
 * names it in a column of its own; with one workspace the table is as it was.
 */
import { describe, expect, it } from 'vitest';
import { judge, loadDeliverabilityConfig, worstFirst, type DeliverabilityRow } from '../../shared/deliverability.js';
import { deliverabilityTable } from '../../ops/commands/deliverability.js';

const config = loadDeliverabilityConfig({});
const row = (fields: Partial<DeliverabilityRow>): DeliverabilityRow => ({
  workspace: null, source: 'campaign', source_id: 101, action_id: 501, channel: 'email', sent: 1000, delivered: 1000, bounced: 0, spammed: 0, unsubscribed: 0, complaint_rate: 0, bounce_rate: 0, unsubscribe_rate: 0, ...fields,
});
const table = (rows: DeliverabilityRow[]) => deliverabilityTable(worstFirst(rows.map((r) => judge(r, config)), config), config);

describe('the deliverability table', () => {
  it('has a workspace column when the sources name workspaces, and two workspaces\' campaign 101 are two lines', () => {
    const lines = table([row({ workspace: 'beta', spammed: 1, complaint_rate: 0.001 }), row({ workspace: 'acme', spammed: 5, complaint_rate: 0.005 })]);
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['verdict', 'workspace', 'source', 'id', 'action', 'channel', 'sent', 'delivered', 'bounced', 'spammed', 'unsub', 'bounce', 'complaint', 'unsub %']);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4))).toEqual([['CRITICAL complaint', 'acme', 'campaign', '101'], ['WARNING complaint', 'beta', 'campaign', '101']]);
    // Text to the left, numbers to the right, as before.
    expect(lines[1]!.indexOf('acme')).toBe(lines[0]!.indexOf('workspace'));
  });

  it('is as it was with one workspace', () => {
    // The lines the command printed before workspaces existed, for the same rows.
    expect(table([row({}), row({ source: 'newsletter', action_id: null, spammed: 3, complaint_rate: 0.003 })])).toEqual([
      'verdict             source       id  action  channel   sent  delivered  bounced  spammed  unsub  bounce  complaint  unsub %',
      'CRITICAL complaint  newsletter  101       —  email    1,000      1,000        0        3      0      0%       0.3%       0%',
      'ok                  campaign    101     501  email    1,000      1,000        0        0      0      0%         0%       0%',
    ]);
  });
});
