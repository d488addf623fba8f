/**
 * The frame every panel sits in: a labelled region (so it is a landmark for screen readers and
 * `getByRole('region', { name })` in tests), a title bar with optional actions, and a body.
 * `id` is also the anchor that the keyboard shortcuts focus (Alt+1..6).
 */
import type { ReactNode } from 'react';

export interface PanelProps {
  readonly id: string;
  readonly title: string;
  /** Buttons or status at the right of the title bar. */
  readonly actions?: ReactNode;
  readonly className?: string;
  readonly children: ReactNode;
}

export function Panel({ id, title, actions, className, children }: PanelProps): ReactNode {
  return (
    <section
      id={id}
      className={className === undefined ? 'panel' : `panel ${className}`}
      aria-labelledby={`${id}-title`}
      tabIndex={-1}
    >
      <header className="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {actions !== undefined ? <div className="panel-actions">{actions}</div> : null}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}
