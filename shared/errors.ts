/**
 * One way to turn a caught value into the text a user or a log line shows: an Error's message
 * (its stack goes to the log through the logger's serializer, never into an answer), anything
 * else as a string.
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
