/**
 * Every relative link in the README and docs/ reaches a file of the project, and every #anchor a
 * heading of the page it names (GitHub's slugs): a renamed heading or a moved page fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../../scripts/local/function-process.js';
import { docPages } from '../support/docs.js';

const pages = docPages();

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    ids.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return ids;
}

/** The targets of inline links outside code: `[text](target)`. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

it.each(pages.map((page) => [page.path, page.text]))('%s links only to files and headings that exist', (page, markdown) => {
  const broken: string[] = [];
  for (const target of links(markdown)) {
    if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), path);
    if (!existsSync(file) || !relative(ROOT, file) || relative(ROOT, file).startsWith('..')) {
      broken.push(`${target} (no such file)`);
      continue;
    }
    if (anchor !== undefined && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${target} (no such heading)`);
  }
  expect(broken).toEqual([]);
});

it('finds the links and headings it checks', () => {
  expect(links('see [a](docs/x.md#y) and `[b](z)`')).toEqual(['docs/x.md#y']);
  expect([...anchors('# Title\n## 3. Configure the webhook in Customer.io\n## Title\n```\n# not a heading\n```')])
    .toEqual(['title', '3-configure-the-webhook-in-customerio', 'title-1']);
});
