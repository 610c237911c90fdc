/**
 * The function-source zip, written so its bytes depend on nothing but the files' relative paths and
 * contents: entries in byte order of their paths, every date 1980-01-01 00:00 (the zip format's
 * first), every file mode 0644, stored uncompressed (no compressor version can change a byte), no
 * directory entries, no extra fields. cdktf 0.21's ARCHIVE asset (lib/private/fs.js) zips with
 * archiver, which records each file's mtime and mode in readdir order, so two synths of one commit
 * gave different bytes under the same asset hash — and google_storage_bucket_object's CustomizeDiff
 * re-uploads whenever the local file's MD5 changes: the plan was never empty. Its asset hash is an
 * MD5 of the contents alone, in readdir order, so a renamed file kept the old hash. Here the hash
 * is the SHA-256 of the zip itself: any change of a name or a byte is a new object, nothing else is.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { crc32 } from 'node:zlib';

/** 1980-01-01 00:00:00 in MS-DOS date and time fields. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** Version 1.0 suffices to extract a stored entry; made by "Unix" (3) so the mode field is read. */
const VERSION_NEEDED = 10;
const VERSION_MADE_BY = (3 << 8) | 20;
/** Bit 11: names are UTF-8. */
const FLAGS = 0x0800;
const REGULAR_FILE_0644 = (0o100644 << 16) >>> 0;
const ZIP32_LIMIT = 0xffff_ffff;

interface Entry {
  name: string;
  data: Buffer;
}

/** Every regular file under `dir`, as posix paths relative to it, in byte order. */
function filesUnder(dir: string, prefix = ''): Entry[] {
  const entries: Entry[] = [];
  for (const name of readdirSync(join(dir, prefix))) {
    const relative = prefix === '' ? name : posix.join(prefix, name);
    const stat = lstatSync(join(dir, relative));
    if (stat.isDirectory()) entries.push(...filesUnder(dir, relative));
    else if (stat.isFile()) entries.push({ name: relative, data: readFileSync(join(dir, relative)) });
    else throw new Error(`${join(dir, relative)}: only regular files and directories can go into the function source`);
  }
  return entries;
}

/**
 * The fields the local header and the central directory entry share, in the same order (APPNOTE
 * 4.3.7 and 4.3.12): version needed, flags, method (0, stored), time, date, CRC, both sizes (equal:
 * stored), name length. `at` is where "version needed" sits in each.
 */
function writeEntryFields(header: Buffer, at: number, crc: number, size: number, nameLength: number): void {
  header.writeUInt16LE(VERSION_NEEDED, at);
  header.writeUInt16LE(FLAGS, at + 2);
  header.writeUInt16LE(0, at + 4);
  header.writeUInt16LE(DOS_TIME, at + 6);
  header.writeUInt16LE(DOS_DATE, at + 8);
  header.writeUInt32LE(crc, at + 10);
  header.writeUInt32LE(size, at + 14);
  header.writeUInt32LE(size, at + 18);
  header.writeUInt16LE(nameLength, at + 22);
}

const byteOrder = (a: Entry, b: Entry) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));

/** The zip of every file under `dir` (see the module comment for what makes it deterministic). */
export function deterministicZip(dir: string): Buffer {
  const entries = filesUnder(dir).sort(byteOrder);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(local, 4, crc, data.length, nameBytes.length);
    // extra length: 0
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    writeEntryFields(central, 6, crc, data.length, nameBytes.length);
    // extra length, comment length, disk number, internal attributes: all 0
    central.writeUInt32LE(REGULAR_FILE_0644, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  if (entries.length > 0xffff || offset + directory.length > ZIP32_LIMIT) throw new Error(`${dir}: too large for a zip without zip64`);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The zip's file name, which is also its name in the synthesized stack's assets. */
export const ARCHIVE_NAME = 'function-source.zip';

export interface WrittenArchive {
  /** Where the zip was written: `<dir>-source/function-source.zip`, beside the directory (one per directory). */
  path: string;
  /** The first 128 bits of the zip's SHA-256, in upper-case hex (the length of cdktf's asset hashes). */
  hash: string;
}

/** Zips `dir` into `<dir>-source/function-source.zip` and names it by its content. */
export function writeDeterministicZip(dir: string): WrittenArchive {
  const zip = deterministicZip(dir);
  const target = `${dir.replace(/\/+$/, '')}-source`;
  mkdirSync(target, { recursive: true });
  const path = join(target, ARCHIVE_NAME);
  writeFileSync(path, zip);
  return { path, hash: createHash('sha256').update(zip).digest('hex').slice(0, 32).toUpperCase() };
}
