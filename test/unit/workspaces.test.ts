import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dedupeDocumentId } from '../../shared/dedupe.js';
import { EVENT_COLUMNS, METADATA_COLUMNS, TABLE_COLUMNS, attributesOf } from '../../shared/row.js';
import { RegionEU, RegionUS } from 'customerio-node';
import { TRACK_API_URLS, WorkspacesError, formatWorkspaces, parseWorkspaces, workspaceOfPath, workspaceVariable } from '../../shared/workspaces.js';
import { eventRow } from '../support/handler-harness.js';

describe('CIO_WORKSPACES', () => {
  it('unset or empty is the single-workspace mode', () => {
    for (const raw of [undefined, '', ' ', ' , ']) expect(parseWorkspaces(raw)).toBeNull();
  });

  it('names each workspace with its region, the default region where none is given', () => {
    expect(parseWorkspaces('acme:us, beta:eu,gamma-2', 'eu')).toEqual([
      { name: 'acme', region: 'us' },
      { name: 'beta', region: 'eu' },
      { name: 'gamma-2', region: 'eu' },
    ]);
    expect(formatWorkspaces(parseWorkspaces('acme,beta:eu')!)).toBe('acme:us,beta:eu');
  });

  it.each([
    ['Acme', /"Acme" is not a workspace name/],
    ['a', /"a" is not a workspace name/],
    ['acme-', /"acme-" is not a workspace name/],
    ['1acme', /"1acme" is not a workspace name/],
    ['acme_eu', /"acme_eu" is not a workspace name/],
    ['a'.repeat(21), /is not a workspace name/],
    ['acme:mars', /"acme:mars": the region must be us or eu/],
    ['acme:us:x', /"acme:us:x" is not name or name:region/],
    ['acme,acme:eu', /"acme" is named twice/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseWorkspaces(raw)).toThrow(WorkspacesError);
    expect(() => parseWorkspaces(raw)).toThrow(message);
  });

  it('reports every problem at once', () => {
    expect(() => parseWorkspaces('Acme,beta:mars')).toThrow(/"Acme" is not a workspace name.*; "beta:mars": the region must be us or eu/);
  });

  it('suffixes a per-workspace variable so the base name stays whole whatever the workspace is called', () => {
    expect(workspaceVariable('CIO_SITE_ID_SECRET', 'acme-eu')).toBe('CIO_SITE_ID_SECRET__ACME_EU');
    expect(workspaceVariable('CIO_SITE_ID', 'secret')).toBe('CIO_SITE_ID__SECRET');
    expect(workspaceVariable('CIO_SITE_ID', 'secret')).not.toBe('CIO_SITE_ID_SECRET');
  });

  it('finds the workspace a request path names, and no other', () => {
    const workspaces = parseWorkspaces('acme,beta')!;
    expect(workspaceOfPath('/acme', workspaces)?.name).toBe('acme');
    expect(workspaceOfPath('/beta/', workspaces)?.name).toBe('beta');
    expect(workspaceOfPath('/acme?x=1', workspaces)?.name).toBe('acme');
    for (const path of ['/', '/gamma', '/acme/x', '//acme', '/ACME', '/acmebeta', '']) expect(workspaceOfPath(path, workspaces), path).toBeNull();
  });
});

describe('the Track API of each region', () => {
  it('is the one customerio-node calls for that region', () => {
    expect(TRACK_API_URLS).toEqual({ us: RegionUS.trackUrl, eu: RegionEU.trackUrl });
  });
});

describe('the workspace in the data', () => {
  it('is a nullable column of the row, kept after the metadata columns in the table so an upgrade adds it in place', () => {
    expect(EVENT_COLUMNS.at(-1)).toMatchObject({ name: 'workspace', type: 'STRING', mode: 'NULLABLE' });
    const names = TABLE_COLUMNS.map((c) => c.name);
    expect(names.slice(-METADATA_COLUMNS.length - 1, -1)).toEqual(METADATA_COLUMNS.map((c) => c.name));
    expect(names.at(-1)).toBe('workspace');
    // Every column of the first release keeps its position.
    expect(names.slice(0, EVENT_COLUMNS.length - 1)).toEqual(EVENT_COLUMNS.slice(0, -1).map((c) => c.name));
  });

  it('is a message attribute only when set', () => {
    const row = eventRow('email', 'bounced');
    expect(attributesOf(row)).not.toHaveProperty('workspace');
    expect(attributesOf({ ...row, workspace: 'acme' }).workspace).toBe('acme');
  });

  it('keys dedupe records by the event id alone with one workspace (records from before stay valid), by both with several', () => {
    const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    expect(dedupeDocumentId('ev-1')).toBe(sha256('ev-1'));
    expect(dedupeDocumentId('ev-1', null)).toBe(sha256('ev-1'));
    expect(dedupeDocumentId('ev-1', 'acme')).not.toBe(dedupeDocumentId('ev-1', 'beta'));
    expect(dedupeDocumentId('ev-1', 'acme')).not.toBe(dedupeDocumentId('ev-1'));
  });
});
