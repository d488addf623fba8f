/**
 * Static path resolution, content types and the CSP: what the browser-mode host and Electron's
 * app:// handler both rely on. Lexical rules are checked directly and by property; the realpath
 * rule on a real temp folder with real symlinks.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  contentTypeFor,
  resolveStaticFile,
  resolveStaticPath,
} from '../../../electron/core/static-files.ts';

const ROOT = resolve(tmpdir(), 'mm-static-root');

describe('resolveStaticPath', () => {
  it('maps ordinary paths inside the root; / and a trailing slash name index.html', () => {
    expect(resolveStaticPath(ROOT, '/')).toBe(join(ROOT, 'index.html'));
    expect(resolveStaticPath(ROOT, '/index.html')).toBe(join(ROOT, 'index.html'));
    expect(resolveStaticPath(ROOT, '/assets/index-3f2a.js')).toBe(
      join(ROOT, 'assets', 'index-3f2a.js'),
    );
    expect(resolveStaticPath(ROOT, '/assets/')).toBe(join(ROOT, 'assets', 'index.html'));
    expect(resolveStaticPath(ROOT, '/a%20b.css?x=1#y')).toBe(join(ROOT, 'a b.css'));
    expect(resolveStaticPath(ROOT, '/%E2%82%AC.svg')).toBe(join(ROOT, '€.svg'));
  });

  it.each([
    ['empty', ''],
    ['relative', 'index.html'],
    ['parent', '/../x'],
    ['parent inside', '/assets/../../x'],
    ['current', '/./index.html'],
    ['encoded parent', '/%2e%2e/x'],
    ['mixed encoded parent', '/.%2E/x'],
    ['encoded slash', '/..%2fx'],
    ['encoded slash in a name', '/assets%2findex.html'],
    ['backslash', '/..\\x'],
    ['encoded backslash', '/%5c..%5cx'],
    ['NUL', '/index.html%00'],
    ['control character', '/a%0ab'],
    ['DEL', '/a%7fb'],
    ['empty segment', '//etc/passwd'],
    ['absolute, encoded', `/${encodeURIComponent('/etc/passwd')}`],
    ['drive letter', '/C:/Windows/win.ini'],
    ['encoded drive letter', '/C%3a%5cWindows'],
    ['NTFS stream', '/index.html::$DATA'],
    ['dotfile', '/.env'],
    ['bad escape', '/%zz'],
    ['truncated escape', '/%e0%a4%a'],
    ['too long', `/${'a'.repeat(2000)}`],
  ])('refuses %s', (_what, path) => {
    expect(resolveStaticPath(ROOT, path)).toBeUndefined();
  });

  it('decodes once: a double-encoded dot-dot is a (missing) file name, not a parent', () => {
    expect(resolveStaticPath(ROOT, '/%252e%252e/x')).toBe(join(ROOT, '%2e%2e', 'x'));
  });

  it('never leaves the root, whatever the path (property)', () => {
    const piece = fc.constantFrom(
      '..',
      '.',
      '%2e',
      '%2E',
      '%2f',
      '%2F',
      '%5c',
      '\\',
      '/',
      '%00',
      '%',
      ':',
      'a',
      'b.js',
      '%25',
      '~',
      ' ',
    );
    const paths = fc.oneof(
      fc.array(piece, { maxLength: 12 }).map((parts) => `/${parts.join('')}`),
      fc.string({ maxLength: 40 }),
      fc.string({ maxLength: 40 }).map((s) => `/${s}`),
    );
    fc.assert(
      fc.property(paths, (path) => {
        const resolved = resolveStaticPath(ROOT, path);
        if (resolved === undefined) return;
        const rel = relative(ROOT, resolved);
        expect(rel.startsWith('..')).toBe(false);
        expect(rel.split(sep)).not.toContain('..');
        expect(resolved.startsWith(ROOT + sep)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('resolveStaticFile', () => {
  let base: string;
  let root: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'mm-static-'));
    root = join(base, 'root');
    await mkdir(join(root, 'assets'), { recursive: true });
    await mkdir(join(base, 'outside'));
    await writeFile(join(root, 'index.html'), '<!doctype html>');
    await writeFile(join(root, 'assets', 'app.js'), 'export {};');
    await writeFile(join(base, 'outside', 'secret.txt'), 'secret');
    await symlink(join(base, 'outside'), join(root, 'linked-dir'));
    await symlink(join(base, 'outside', 'secret.txt'), join(root, 'linked.txt'));
    await symlink(join(root, 'assets', 'app.js'), join(root, 'inside-link.js'));
    await symlink(join(root, 'missing.js'), join(root, 'dangling.js'));
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('finds a regular file and gives its real path and size', async () => {
    const file = await resolveStaticFile(root, '/assets/app.js');
    expect(file).toMatchObject({ size: 'export {};'.length });
    expect(file?.path.endsWith(join('assets', 'app.js'))).toBe(true);
    expect((await resolveStaticFile(root, '/'))?.size).toBe('<!doctype html>'.length);
  });

  it('follows a link that stays inside the root', async () => {
    const file = await resolveStaticFile(root, '/inside-link.js');
    expect(file?.path.endsWith(join('assets', 'app.js'))).toBe(true);
  });

  it.each([
    ['a link to a folder outside', '/linked-dir/secret.txt'],
    ['a link to a file outside', '/linked.txt'],
    ['a dangling link', '/dangling.js'],
    ['a folder', '/assets'],
    ['a missing file', '/nope.js'],
    ['a refused path', '/../outside/secret.txt'],
  ])('refuses %s', async (_what, path) => {
    expect(await resolveStaticFile(root, path)).toBeUndefined();
  });

  it('answers undefined for a root that does not exist', async () => {
    expect(await resolveStaticFile(join(base, 'no-such-root'), '/')).toBeUndefined();
  });
});

describe('contentTypeFor', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['app.JS', 'text/javascript; charset=utf-8'],
    ['app.mjs', 'text/javascript; charset=utf-8'],
    ['app.css', 'text/css; charset=utf-8'],
    ['app.js.map', 'application/json; charset=utf-8'],
    ['icon.svg', 'image/svg+xml'],
    ['icon.png', 'image/png'],
    ['font.woff2', 'font/woff2'],
    ['mod.wasm', 'application/wasm'],
    ['README', 'application/octet-stream'],
    ['x.exe', 'application/octet-stream'],
  ])('%s -> %s', (file, type) => {
    expect(contentTypeFor(join('/srv', file))).toBe(type);
  });
});

describe('contentSecurityPolicy', () => {
  it('allows only the app itself, plus the given connect sources', () => {
    const csp = contentSecurityPolicy({ connectSrc: ['ws://127.0.0.1:5123'] });
    const directives = new Map(
      csp.split('; ').map((d) => {
        const [name, ...values] = d.split(' ');
        return [name, values.join(' ')];
      }),
    );
    expect(directives.get('default-src')).toBe("'self'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('style-src')).toBe("'self'");
    expect(directives.get('connect-src')).toBe("'self' ws://127.0.0.1:5123");
    expect(directives.get('img-src')).toBe("'self' data:");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'none'");
    expect(contentSecurityPolicy({ connectSrc: [] })).toContain("connect-src 'self';");
  });

  it.each([
    "ws://127.0.0.1:1; script-src 'unsafe-inline'",
    'ws://a b',
    'ws://a,b',
    '',
    "'unsafe-eval' x",
  ])('refuses a connect source that could change the policy: %j', (source) => {
    expect(() => contentSecurityPolicy({ connectSrc: [source] })).toThrow(RangeError);
  });
});
