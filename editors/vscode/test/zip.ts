// A small reader of zip archives (a .vsix is one), enough to list the
// entries and read them: the end of central directory record, the central
// directory, and stored or deflated entries. No zip64: a .vsix of this size
// never needs it, and one that did would be a finding in itself.

import * as zlib from "zlib";

/** One entry of the archive. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** readZip returns the entries of the archive in buf. */
export function readZip(buf: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  // The EOCD record is 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive: no end of central directory record");
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  let off = buf.readUInt32LE(eocd + 16);
  if (off + cdSize > eocd) throw new Error("central directory overlaps its end record");
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error(`bad central directory entry ${n} at ${off}`);
    const method = buf.readUInt16LE(off + 10);
    const compressedSize = buf.readUInt32LE(off + 20);
    const size = buf.readUInt32LE(off + 24);
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    const localOffset = buf.readUInt32LE(off + 42);
    const name = buf.toString("utf8", off + 46, off + 46 + nameLen);
    entries.push({ name, method, compressedSize, size, localOffset });
    off += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** readEntry returns the uncompressed content of e. */
export function readEntry(buf: Buffer, e: ZipEntry): Buffer {
  const off = e.localOffset;
  if (buf.readUInt32LE(off) !== 0x04034b50) throw new Error(`bad local header for ${e.name}`);
  const nameLen = buf.readUInt16LE(off + 26);
  const extraLen = buf.readUInt16LE(off + 28);
  const start = off + 30 + nameLen + extraLen;
  const data = buf.subarray(start, start + e.compressedSize);
  let out: Buffer;
  if (e.method === 0) out = Buffer.from(data);
  else if (e.method === 8) out = zlib.inflateRawSync(data);
  else throw new Error(`${e.name}: unsupported compression method ${e.method}`);
  if (out.length !== e.size) throw new Error(`${e.name}: ${out.length} bytes, the directory says ${e.size}`);
  return out;
}
