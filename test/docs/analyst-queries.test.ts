/**
 * The analyst guide's SQL is the SQL `ops queries` runs: every ```sql block of docs/analysts.md is,
 * in page order, the BigQuery text of the ANALYST_QUERIES entry with the same place, and every entry
 * is on the page. An edit of the page without the code (or of the code without the page) fails here,
 * and `ops queries --only N` runs the page's Nth query. The local-stack and workspaces tests run each
 * entry on the DuckDB warehouse; test/unit/ops-queries.test.ts checks the deployed text.
 */
import { describe, expect, it } from 'vitest';
import { ANALYST_QUERIES } from '../../ops/warehouse/analyst-queries.js';
import { docPages, fencedBlocks } from '../support/docs.js';

const pages = docPages();
const guide = pages.find((p) => p.path === 'docs/analysts.md')!.text;
const sqlBlocks = fencedBlocks(guide).filter((b) => b.info === 'sql');

/** The text of the last heading above a 1-based line, with its level. */
function headingAbove(markdown: string, line: number): { level: number; text: string } | null {
  const lines = markdown.split('\n').slice(0, line - 1);
  for (let i = lines.length - 1; i >= 0; i--) {
    const heading = /^(#{1,6}) (.*)$/.exec(lines[i]!);
    if (heading) return { level: heading[1]!.length, text: heading[2]!.trim() };
  }
  return null;
}

describe('docs/analysts.md and ops/warehouse/analyst-queries.ts', () => {
  it('show the same queries, one for one and in the same order', () => {
    expect(sqlBlocks.length).toBeGreaterThan(0);
    expect(sqlBlocks.map((b) => b.body)).toEqual(ANALYST_QUERIES.map((q) => q.bigquery));
  });

  it('name each example by its question: the heading over its block is what ops queries prints', () => {
    const headed = sqlBlocks.map((block, i) => ({ heading: headingAbove(guide, block.line), query: ANALYST_QUERIES[i]! })).filter(({ heading }) => heading?.level === 3);
    expect(headed.length).toBeGreaterThan(0);
    for (const { heading, query } of headed) expect(heading!.text).toBe(query.question);
  });

  it('point `ops queries --only N` in the guide\'s text at the query that follows', () => {
    const mentions = [...guide.matchAll(/`ops queries --only (\d+)`/g)];
    expect(mentions.length).toBeGreaterThan(0);
    const lineOf = (index: number) => guide.slice(0, index).split('\n').length;
    for (const mention of mentions) {
      const next = sqlBlocks.findIndex((b) => b.line > lineOf(mention.index));
      expect(next + 1, mention[0]).toBe(Number(mention[1]));
    }
  });

  it('show `ops queries --only N` output that names the Nth query, on every page', () => {
    const shown = pages.flatMap((page) =>
      [...page.text.matchAll(/^\$ npm run ops -- queries\b[^\n]*--only (\d+)[^\n]*\n(\d+)\. (.*) — \d+ row\(s\)$/gm)].map((m) => ({ page: page.path, only: Number(m[1]), number: Number(m[2]), question: m[3] })),
    );
    expect(shown.map((s) => s.page).sort()).toEqual(expect.arrayContaining(['README.md', 'docs/analysts.md']));
    for (const s of shown) {
      expect(s.number, s.page).toBe(s.only);
      expect(s.question, s.page).toBe(ANALYST_QUERIES[s.only - 1]?.question);
    }
  });
});
