/**
 * What `npm run build` produced is what a packaged app can run:
 * - the sandboxed preload is ONE CommonJS script whose only require is `electron` (a sandboxed
 *   preload gets a tiny require that knows nothing else, and no module loader at all);
 * - the main bundle needs nothing from node_modules but electron (the package ships none): every
 *   module it loads at run time is a Node builtin, electron, or one of the optional native add-ons
 *   that their packages load inside try/catch and do without;
 * - the renderer is an index.html with external scripts and styles only (strict CSP) whose
 *   assets all exist.
 * Reads the build output; skipped, with the reason, when there is none yet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSync, Visitor } from 'vite';
import type { ESTree } from 'vite';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = join(ROOT, '.vite/build/main.js');
const PRELOAD = join(ROOT, '.vite/build/preload.js');
const RENDERER_DIR = join(ROOT, '.vite/renderer/main_window');
const RENDERER_INDEX = join(RENDERER_DIR, 'index.html');

/**
 * Loaded at run time by bundled packages inside try/catch, and absent from the package on
 * purpose (see MAIN_EXTERNAL in vite.main.config.ts): ws's native helpers (not installed) and
 * msgpackr's native string decoder (msgpackr falls back to pure JS).
 */
const OPTIONAL_NATIVE = new Set(['bufferutil', 'utf-8-validate', 'msgpackr-extract']);
const BUILTINS = new Set(builtinModules);

function missing(path: string): string | undefined {
  return existsSync(path)
    ? undefined
    : `run npm run build first: ${path.slice(ROOT.length + 1)} does not exist`;
}

/** A module request found in a bundle, with where it is. */
interface Request {
  readonly how: 'import' | 'dynamic-import' | 'require';
  /** The specifier, or undefined when it is not a string literal. */
  readonly specifier: string | undefined;
  readonly start: number;
}

interface Scan {
  readonly requests: readonly Request[];
  /** Calls of anything named like a require whose argument is not a string literal. */
  readonly computedRequires: number;
  /** [start, end) of every `try { ... }` block. */
  readonly tryBlocks: ReadonlyArray<readonly [number, number]>;
  readonly hasModuleSyntax: boolean;
}

/** `require`, rolldown's `__require` (createRequire in an ES module), and renamed copies. */
const REQUIRE_NAME = /^_{0,2}require(?:\$\d+)?$/;

function literal(node: ESTree.Node | undefined): string | undefined {
  return node?.type === 'Literal' && typeof node.value === 'string' ? node.value : undefined;
}

/**
 * Every module a bundle asks for at run time, from the real syntax tree (a regular expression
 * would also find `require('x')` in comments and strings).
 */
function scan(path: string): Scan {
  const result = parseSync(path, readFileSync(path, 'utf8'));
  expect(result.errors, `${path} parses`).toEqual([]);
  const requests: Request[] = result.module.staticImports.map((i) => ({
    how: 'import',
    specifier: i.moduleRequest.value,
    start: i.start,
  }));
  let computedRequires = 0;
  const tryBlocks: Array<readonly [number, number]> = [];
  new Visitor({
    ImportExpression(node) {
      requests.push({ how: 'dynamic-import', specifier: literal(node.source), start: node.start });
    },
    TryStatement(node) {
      tryBlocks.push([node.block.start, node.block.end]);
    },
    CallExpression(node) {
      const callee = node.callee;
      // require('x'), __require('x'), and createRequire(import.meta.url)('x').
      const isRequire =
        (callee.type === 'Identifier' && REQUIRE_NAME.test(callee.name)) ||
        (callee.type === 'CallExpression' &&
          callee.callee.type === 'Identifier' &&
          /createRequire/.test(callee.callee.name));
      if (!isRequire) return;
      const specifier = literal(node.arguments[0]);
      if (specifier === undefined) computedRequires += 1;
      else requests.push({ how: 'require', specifier, start: node.start });
    },
  }).visit(result.program);
  return { requests, computedRequires, tryBlocks, hasModuleSyntax: result.module.hasModuleSyntax };
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier);
}

function isElectron(specifier: string): boolean {
  return specifier === 'electron' || specifier.startsWith('electron/');
}

describe('preload bundle', () => {
  it('is one CommonJS script whose only require is electron', (ctx) => {
    const why = missing(PRELOAD);
    if (why !== undefined) ctx.skip(why);
    const found = scan(PRELOAD);

    // No module syntax and no chunk loading: a sandboxed preload has no loader.
    expect(found.hasModuleSyntax).toBe(false);
    expect(found.requests.filter((r) => r.how !== 'require')).toEqual([]);
    expect(found.computedRequires, 'every require names its module').toBe(0);
    const required = new Set(found.requests.map((r) => r.specifier));
    expect(required).toEqual(new Set(['electron']));
    expect(readFileSync(PRELOAD, 'utf8')).not.toMatch(/\bcreateRequire\b/);
  });
});

describe('main bundle', () => {
  it('loads nothing from node_modules but electron', (ctx) => {
    const why = missing(MAIN);
    if (why !== undefined) ctx.skip(why);
    const found = scan(MAIN);
    const specifiers = found.requests.map((r) => r.specifier ?? '<computed>');

    expect(specifiers, 'the bundle imports electron').toContain('electron');
    const foreign = specifiers.filter(
      (s) => !isElectron(s) && !isBuiltin(s) && !OPTIONAL_NATIVE.has(s),
    );
    expect(foreign, 'modules the packaged app would look for in node_modules').toEqual([]);
  });

  it('is one ES module (the shell uses import.meta.dirname)', (ctx) => {
    const why = missing(MAIN);
    if (why !== undefined) ctx.skip(why);
    const found = scan(MAIN);
    expect(found.hasModuleSyntax).toBe(true);
    expect(
      found.requests.find((r) => r.how === 'import' && r.specifier === 'electron'),
    ).toBeDefined();
    // No chunks: nothing relative to load beside it.
    expect(found.requests.filter((r) => r.specifier?.startsWith('.') === true)).toEqual([]);
  });

  it('requires the optional native add-ons only inside a try block', (ctx) => {
    const why = missing(MAIN);
    if (why !== undefined) ctx.skip(why);
    const found = scan(MAIN);
    // Their absence from the packaged app must be caught by the package that wanted them.
    for (const request of found.requests) {
      if (request.specifier === undefined || !OPTIONAL_NATIVE.has(request.specifier)) continue;
      const guarded = found.tryBlocks.some(([s, e]) => s <= request.start && request.start < e);
      expect(guarded, `${request.specifier} is required inside try`).toBe(true);
    }
  });
});

describe('renderer build', () => {
  it('is an index.html with external scripts and styles only, all present', (ctx) => {
    const why = missing(RENDERER_INDEX);
    if (why !== undefined) ctx.skip(why);
    const html = readFileSync(RENDERER_INDEX, 'utf8').replaceAll('&#39;', "'");

    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs = '', body = ''] of scripts) {
      expect(attrs, 'scripts are modules loaded from a file').toMatch(/\btype="module"/);
      expect(attrs).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/);
      expect(body.trim(), 'no inline script').toBe('');
    }
    expect(html, 'no inline <style>').not.toMatch(/<style\b/);
    expect(html, 'no style attributes').not.toMatch(/\sstyle="/);
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="[^"]*script-src 'self'/,
    );

    const referenced = [...html.matchAll(/\b(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(
      referenced.some((r) => r.endsWith('.css')),
      'a stylesheet',
    ).toBe(true);
    for (const file of referenced) {
      expect(existsSync(join(RENDERER_DIR, file)), `${file} exists`).toBe(true);
    }
  });
});
