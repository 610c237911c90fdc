/** The project's documentation as the tests read it: the README and every page in docs/. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local/function-process.js';

export interface DocPage {
  /** Relative to the project root, e.g. docs/deploy.md. */
  path: string;
  text: string;
}

export function docPages(): DocPage[] {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return pages.map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
}

export interface FencedBlock {
  /** The info string after the opening fence (`sh`, `sql`, or empty). */
  info: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Fenced code blocks, indented ones (inside list items) included, with their indentation removed. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(Math.min(indent, lines[j]!.length - lines[j]!.trimStart().length)));
    blocks.push({ info: open[2]!, body: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

export const isShell = (block: FencedBlock) => ['sh', 'bash', 'shell'].includes(block.info);
