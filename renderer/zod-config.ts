/**
 * Imported first by the entry, before any module that builds zod schemas. zod 4 probes whether
 * `new Function` is allowed (to compile faster object parsers); under the page's CSP (no
 * 'unsafe-eval') the probe is refused and Chromium files a CSP violation report on every load.
 * The renderer parses little, so the compiled parsers are not worth a violation: jitless.
 */
import { config } from 'zod';

config({ jitless: true });
