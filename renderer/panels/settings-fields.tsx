/**
 * Pieces the Settings sections share: the result line under a form, and the write-only key and
 * secret fields (uncontrolled inputs, never read back; emptied as soon as their values are taken,
 * so keys stay on screen no longer than it takes to send them) that both the Alpaca keys and the
 * relay key use.
 */
import type { ReactNode, RefObject } from 'react';

export type Outcome = { readonly ok: boolean; readonly text: string } | undefined;

/**
 * A result line: a status when it worked, an alert when it did not. `panel` names its classes
 * (`settings-ok`, `diag-failure`, ...), styled by that panel's stylesheet.
 */
export function OutcomeLine({
  outcome,
  panel = 'settings',
}: {
  readonly outcome: Outcome;
  readonly panel?: 'settings' | 'diag';
}): ReactNode {
  if (outcome === undefined) return null;
  return outcome.ok ? (
    <p role="status" className={`${panel}-ok`}>
      {outcome.text}
    </p>
  ) : (
    <p role="alert" className={`${panel}-failure`}>
      {outcome.text}
    </p>
  );
}

/** Typed keys are not words: no autofill, spelling, capitals or corrections. */
const KEY_INPUT = {
  autoComplete: 'off',
  spellCheck: false,
  autoCapitalize: 'off',
  autoCorrect: 'off',
} as const;

export function KeyPairFields({
  keyLabel,
  secretLabel,
  keyRef,
  secretRef,
}: {
  readonly keyLabel: string;
  readonly secretLabel: string;
  readonly keyRef: RefObject<HTMLInputElement | null>;
  readonly secretRef: RefObject<HTMLInputElement | null>;
}): ReactNode {
  return (
    <>
      <label>
        {keyLabel}
        <input ref={keyRef} type="text" {...KEY_INPUT} />
      </label>
      <label>
        {secretLabel}
        <input ref={secretRef} type="password" {...KEY_INPUT} />
      </label>
    </>
  );
}

/**
 * The trimmed key and secret, with both fields emptied; 'empty' (fields untouched) when either is
 * blank; undefined when the fields are not mounted.
 */
export function takeKeyPair(
  keyRef: RefObject<HTMLInputElement | null>,
  secretRef: RefObject<HTMLInputElement | null>,
): { readonly keyId: string; readonly secret: string } | 'empty' | undefined {
  const keyField = keyRef.current;
  const secretField = secretRef.current;
  if (keyField === null || secretField === null) return undefined;
  const keyId = keyField.value.trim();
  const secret = secretField.value.trim();
  if (keyId === '' || secret === '') return 'empty';
  keyField.value = '';
  secretField.value = '';
  return { keyId, secret };
}
