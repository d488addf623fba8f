/**
 * A panel that throws while rendering (a value the formatting did not foresee, a bug) takes down
 * that panel only: the others keep showing the market, and this one says what broke and offers to
 * draw itself again. React catches render errors only in a class component.
 */
import { Component } from 'react';
import type { ErrorInfo, ReactNode } from 'react';

interface BoundaryProps {
  readonly title: string;
  readonly children: ReactNode;
}

interface BoundaryState {
  readonly error: Error | undefined;
}

export class PanelBoundary extends Component<BoundaryProps, BoundaryState> {
  override state: BoundaryState = { error: undefined };

  static getDerivedStateFromError(error: unknown): BoundaryState {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // The page's console is what a bug report from the renderer can carry (and the e2e fixture
    // fails a test on it).
    console.error(`${this.props.title} panel failed:`, error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (error === undefined) return this.props.children;
    return (
      <section className="panel panel-failed" aria-label={this.props.title}>
        <header className="panel-head">
          <h2>{this.props.title}</h2>
        </header>
        <div className="panel-body" role="alert">
          <p>This panel stopped on an error: {error.message}. The rest of the app keeps running.</p>
          <button type="button" onClick={() => this.setState({ error: undefined })}>
            Show the panel again
          </button>
        </div>
      </section>
    );
  }
}
