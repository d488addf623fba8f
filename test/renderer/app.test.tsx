/**
 * The shell's own rules: keyboard shortcuts by physical key, and a panel that throws stays alone.
 */
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { shortcutTarget } from '../../renderer/app.tsx';
import { PanelBoundary } from '../../renderer/panels/boundary.tsx';

describe('shortcutTarget', () => {
  it('maps Alt+1..7 by physical key, whatever character the layout types', () => {
    expect(shortcutTarget('Digit1')).toEqual({ panel: 'watchlist-table-area' });
    expect(shortcutTarget('Digit2')).toEqual({ panel: 'health' });
    expect(shortcutTarget('Numpad3')).toEqual({ panel: 'counters' });
    expect(shortcutTarget('Digit6')).toEqual({ panel: 'settings', dock: 'settings' });
    expect(shortcutTarget('Digit7')).toEqual({ panel: 'alerts', dock: 'alerts' });
    expect(shortcutTarget('Digit8')).toBeUndefined();
    expect(shortcutTarget('KeyA')).toBeUndefined();
  });
});

describe('PanelBoundary', () => {
  it('a panel that throws shows its error; its neighbour keeps rendering; it can try again', async () => {
    const user = userEvent.setup();
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let broken = true;
    function Fragile() {
      if (broken) throw new Error('bad value');
      return <p>fine again</p>;
    }
    render(
      <>
        <PanelBoundary title="Fragile">
          <Fragile />
        </PanelBoundary>
        <p>neighbour</p>
      </>,
    );
    expect(screen.getByRole('alert').textContent).toMatch(/stopped on an error: bad value/);
    expect(screen.getByText('neighbour')).toBeTruthy();
    broken = false;
    await user.click(screen.getByRole('button', { name: 'Show the panel again' }));
    expect(screen.getByText('fine again')).toBeTruthy();
    quiet.mockRestore();
  });
});
