/**
 * Every renderer test starts from a clean page and a fresh store: React trees unmounted, the store
 * detached from any api and back to its initial slices.
 */
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { resetMonitorStore } from '../../renderer/store.ts';

afterEach(() => {
  cleanup();
  localStorage.clear();
  resetMonitorStore();
  document.documentElement.removeAttribute('data-theme');
});
