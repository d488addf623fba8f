/** The menu template on each system, and the About panel's text. */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { aboutPanelOptions, buildMenuTemplate } from '../../../electron/menu.ts';

function template(platform: NodeJS.Platform): MenuItemConstructorOptions[] {
  return buildMenuTemplate({
    platform,
    appName: 'Market Monitor',
    isDev: false,
    newWindow: () => undefined,
    openExternal: () => undefined,
  });
}

const roles = (items: unknown) =>
  (items as MenuItemConstructorOptions[]).map((i) => i.role ?? i.type ?? i.label);

describe('menu', () => {
  it('macOS: the standard app menu first, under the app’s name; Quit lives there', () => {
    const menu = template('darwin');
    expect(menu[0]!.label).toBe('Market Monitor');
    expect(roles(menu[0]!.submenu)).toEqual([
      'about',
      'separator',
      'services',
      'separator',
      'hide',
      'hideOthers',
      'unhide',
      'separator',
      'quit',
    ]);
    const file = menu.find((m) => m.label === '&File')!;
    expect(roles(file.submenu)).not.toContain('quit');
    const help = menu.find((m) => m.role === 'help')!;
    expect(roles(help.submenu)).not.toContain('about');
  });

  it.each(['linux', 'win32'] as const)('%s: no app menu; About is in Help, Quit in File', (p) => {
    const menu = template(p);
    expect(menu[0]!.label).toBe('&File');
    expect(roles(menu[0]!.submenu)).toContain('quit');
    const help = menu.find((m) => m.role === 'help')!;
    const about = (help.submenu as MenuItemConstructorOptions[]).find((i) => i.role === 'about');
    expect(about?.label).toBe('About Market Monitor');
  });

  it('the About panel names the app’s version and the Electron, Chromium and Node inside', () => {
    expect(
      aboutPanelOptions({
        name: 'Market Monitor',
        version: '0.2.0',
        versions: { electron: '45.5.0', chrome: '142.0.7444.59', node: '24.11.0' },
      }),
    ).toMatchObject({
      applicationName: 'Market Monitor',
      applicationVersion: '0.2.0',
      credits: 'Electron 45.5.0\nChromium 142.0.7444.59\nNode 24.11.0',
    });
    expect(aboutPanelOptions({ name: 'M', version: '1', versions: {} }).credits).toBe(
      'Electron ?\nChromium ?\nNode ?',
    );
  });
});
