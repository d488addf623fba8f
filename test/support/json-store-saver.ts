/**
 * A child process for the kill -9 test of JsonFileStore: saves `{ n }` with n counting up from
 * argv[3] into the file argv[2], as fast as saves complete, and prints each n on stdout only after
 * its save resolved (an acknowledged edit). The test kills it with SIGKILL at some point.
 */
import { z } from 'zod';
import { JsonFileStore } from '../../electron/core/json-store.ts';

const [path, start] = process.argv.slice(2);
if (path === undefined || start === undefined)
  throw new Error('usage: json-store-saver PATH START');
const store = new JsonFileStore<{ n: number }>({
  path,
  schema: z.strictObject({ n: z.number().int() }),
  defaults: () => ({ n: -1 }),
  label: 'counter',
});
await store.load();
for (let n = Number(start); ; n++) {
  await store.save({ n });
  process.stdout.write(`${n}\n`);
}
