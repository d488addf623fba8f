#!/usr/bin/env node
// Draws the app icon (a rising price line with volume bars on a dark rounded square) and writes
// it in every form the packagers look for:
// - build/icons/NxN.png: the Linux desktop entry's icons (electron-builder's linux.icon);
// - build/icon.png (512x512);
// - build/icon.ico (Windows) and build/icon.icns (macOS): what Electron Packager (`npm run
//   package`, forge.config.ts `icon: 'build/icon'`) needs on those platforms, and what
//   electron-builder.yml names for win and mac. Both formats can carry PNG images as they are, so
//   they are a small index in front of the same PNGs.
// No dependencies: shapes are tested per subpixel (4x4 supersampling for smooth edges) and PNG is
// written with node:zlib. The outputs are committed; run `node build/make-icons.mjs` after
// changing the drawing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import { crc32, deflateSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512];
/** ICO entries: 256 is the largest size the format can describe. */
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
/**
 * ICNS chunks that hold a PNG, by type: the plain sizes and the @2x (Retina) ones, up to 512@2x.
 * (icp4/icp5/icp6 and ic07..ic14 all accept PNG data; macOS 10.7 and later read them.)
 */
const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
];
const SUPERSAMPLE = 4;

// Colours (RGB), from the renderer's dark theme.
const BACKGROUND = [19, 26, 34];
const BORDER = [38, 45, 54];
const BARS = [56, 72, 92];
const LINE = [63, 185, 80];

// The drawing, in unit coordinates (0..1, y down).
const CORNER = 0.2;
const BORDER_WIDTH = 0.025;
const LINE_POINTS = [
  [0.16, 0.66],
  [0.34, 0.5],
  [0.5, 0.58],
  [0.68, 0.36],
  [0.84, 0.26],
];
const LINE_WIDTH = 0.06;
const DOT_RADIUS = 0.065;
const BAR_WIDTH = 0.085;
const BAR_BOTTOM = 0.84;
const BAR_TOPS = [0.74, 0.7, 0.76, 0.66, 0.62];

function insideRoundedSquare(x, y, inset) {
  const lo = inset;
  const hi = 1 - inset;
  const r = Math.max(0, CORNER - inset);
  if (x < lo || x > hi || y < lo || y > hi) return false;
  const cx = Math.min(Math.max(x, lo + r), hi - r);
  const cy = Math.min(Math.max(y, lo + r), hi - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function distanceToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** The colour at a point, or undefined outside the icon (transparent). */
function colourAt(x, y) {
  if (!insideRoundedSquare(x, y, 0)) return undefined;
  for (let i = 1; i < LINE_POINTS.length; i++) {
    if (distanceToSegment(x, y, LINE_POINTS[i - 1], LINE_POINTS[i]) <= LINE_WIDTH / 2) return LINE;
  }
  const [ex, ey] = LINE_POINTS[LINE_POINTS.length - 1];
  if (Math.hypot(x - ex, y - ey) <= DOT_RADIUS) return LINE;
  for (let i = 0; i < LINE_POINTS.length; i++) {
    const [bx] = LINE_POINTS[i];
    if (Math.abs(x - bx) <= BAR_WIDTH / 2 && y >= BAR_TOPS[i] && y <= BAR_BOTTOM) return BARS;
  }
  return insideRoundedSquare(x, y, BORDER_WIDTH) ? BACKGROUND : BORDER;
}

/** RGBA pixels, premultiplied coverage averaged over SUPERSAMPLE^2 subpixels. */
function render(size) {
  const pixels = Buffer.alloc(size * size * 4);
  const n = SUPERSAMPLE * SUPERSAMPLE;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const c = colourAt(
            (px + (sx + 0.5) / SUPERSAMPLE) / size,
            (py + (sy + 0.5) / SUPERSAMPLE) / size,
          );
          if (c === undefined) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          covered += 1;
        }
      }
      const at = (py * size + px) * 4;
      if (covered > 0) {
        pixels[at] = Math.round(r / covered);
        pixels[at + 1] = Math.round(g / covered);
        pixels[at + 2] = Math.round(b / covered);
        pixels[at + 3] = Math.round((255 * covered) / n);
      }
    }
  }
  return pixels;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGBA PNG: each scanline prefixed with filter type 0 (none), then deflated. */
export function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter method
  ihdr[12] = 0; // no interlace
  const stride = size * 4;
  const raw = Buffer.alloc((stride + 1) * size);
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A Windows .ico whose images are PNGs (Windows Vista and later read those): a 6-byte header
 * (reserved 0, type 1 = icon, count), one 16-byte directory entry per image, then the PNGs.
 */
export function encodeIco(images) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, png }) => {
    if (size > 256) throw new RangeError(`an .ico image is at most 256x256, not ${size}`);
    const entry = Buffer.alloc(16);
    entry[0] = size === 256 ? 0 : size; // width; 0 means 256
    entry[1] = size === 256 ? 0 : size; // height
    entry[2] = 0; // no palette
    entry[3] = 0; // reserved
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map(({ png }) => png)]);
}

/**
 * A macOS .icns: the magic 'icns' and the file's length, then one chunk per image, each a
 * 4-character type, its length (header included) and the PNG. All lengths are big-endian.
 */
export function encodeIcns(chunks) {
  const parts = chunks.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(8 + png.length, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

const pngs = new Map();
function pngOf(size) {
  let png = pngs.get(size);
  if (png === undefined) {
    png = encodePng(size, render(size));
    pngs.set(size, png);
  }
  return png;
}

const iconsDir = join(HERE, 'icons');
mkdirSync(iconsDir, { recursive: true });
for (const size of SIZES) {
  const png = pngOf(size);
  writeFileSync(join(iconsDir, `${size}x${size}.png`), png);
  console.log(`build/icons/${size}x${size}.png  ${png.length} bytes`);
}
writeFileSync(join(HERE, 'icon.png'), pngOf(512));
console.log('build/icon.png  (512x512)');
const ico = encodeIco(ICO_SIZES.map((size) => ({ size, png: pngOf(size) })));
writeFileSync(join(HERE, 'icon.ico'), ico);
console.log(`build/icon.ico  ${ICO_SIZES.join(', ')}  ${ico.length} bytes`);
const icns = encodeIcns(ICNS_TYPES.map(([type, size]) => ({ type, png: pngOf(size) })));
writeFileSync(join(HERE, 'icon.icns'), icns);
console.log(
  `build/icon.icns  ${ICNS_TYPES.map(([t, s]) => `${t}=${s}`).join(', ')}  ${icns.length} bytes`,
);
