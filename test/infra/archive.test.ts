/**
 * The function-source zip: the same bytes for the same files whatever their dates and modes, a
 * different hash for any change of a name or a byte, and a zip an independent reader (Python's
 * zipfile, which gcloud's emulators already need) opens, checks and extracts as written.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_NAME, deterministicZip, writeDeterministicZip } from '../../infra/archive.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'zip-src-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const FILES = { 'package.json': '{"name":"x"}\n', 'functions/index.js': 'export {};\n', 'shared/ü-config.js': 'const a = 1;\n', '.npmrc': 'ignore-scripts=true\n', 'b/a/z.js': '' };

/** What Python's zipfile reads from the archive: the entries in order, with date, mode and bytes. */
function readWithPython(zip: Buffer): { bad: string | null; entries: Array<{ name: string; date: number[]; mode: string; system: number; compress: number; data: string }> } {
  const script = `
import io, json, sys, zipfile
z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
print(json.dumps({"bad": z.testzip(), "entries": [
  {"name": i.filename, "date": list(i.date_time), "mode": oct(i.external_attr >> 16), "system": i.create_system,
   "compress": i.compress_type, "data": z.read(i).decode("utf-8")} for i in z.infolist()]}))`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: zip }).toString()) as ReturnType<typeof readWithPython>;
}

describe('the function-source zip', () => {
  it('holds every file under its relative path, in byte order, dated 1980-01-01, mode 0644, as written', () => {
    const read = readWithPython(deterministicZip(tree(FILES)));
    expect(read.bad).toBeNull();
    expect(read.entries.map((e) => e.name)).toEqual(['.npmrc', 'b/a/z.js', 'functions/index.js', 'package.json', 'shared/ü-config.js']);
    for (const entry of read.entries) {
      expect(entry).toMatchObject({ date: [1980, 1, 1, 0, 0, 0], mode: '0o100644', system: 3, compress: 0 });
      expect(entry.data).toBe(FILES[entry.name as keyof typeof FILES]);
    }
  });

  it('is the same bytes whatever the files\' dates, modes and creation order', () => {
    const a = tree(FILES);
    const b = tree(Object.fromEntries(Object.entries(FILES).reverse()));
    utimesSync(join(b, 'package.json'), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
    chmodSync(join(b, 'functions/index.js'), 0o755);
    chmodSync(join(b, '.npmrc'), 0o600);
    expect(deterministicZip(b).equals(deterministicZip(a))).toBe(true);
  });

  it('names the archive by its content: a renamed file or a moved byte is a new hash', () => {
    const a = tree(FILES);
    const first = writeDeterministicZip(a);
    expect(first.path).toBe(join(`${a}-source`, ARCHIVE_NAME));
    expect(first.hash).toMatch(/^[0-9A-F]{32}$/);
    expect(writeDeterministicZip(a).hash).toBe(first.hash);
    // cdktf's own asset hash (an MD5 of the contents alone) kept the hash of a renamed file.
    renameSync(join(a, 'functions/index.js'), join(a, 'functions/main.js'));
    expect(writeDeterministicZip(a).hash).not.toBe(first.hash);
    // The same bytes split differently between two files: still another hash.
    const split = tree({ 'a.js': 'ab', 'b.js': 'c' });
    const moved = tree({ 'a.js': 'a', 'b.js': 'bc' });
    expect(writeDeterministicZip(split).hash).not.toBe(writeDeterministicZip(moved).hash);
  });

  it('refuses what is neither a file nor a directory, rather than zip a link to outside the bundle', () => {
    const dir = tree(FILES);
    symlinkSync('/etc/hostname', join(dir, 'link'));
    expect(() => deterministicZip(dir)).toThrow(/only regular files and directories/);
  });
});
