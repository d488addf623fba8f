/**
 * Renderer entry: find the API (Electron preload or the browser-mode bridge), then mount the app.
 * Loaded as an external module script: the page's CSP allows no inline script.
 */
import './zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
import { openApi } from './api.ts';
import { App } from './app.tsx';

const container = document.getElementById('root');
if (container === null) throw new Error('index.html has no #root element');
const root = createRoot(container);

root.render(
  <p className="splash" role="status" aria-label="Connection state">
    connecting to Market Monitor…
  </p>,
);

const opened = await openApi();
if (opened.ok) {
  window.addEventListener('pagehide', () => opened.close(), { once: true });
  root.render(
    <StrictMode>
      <App api={opened.api} mode={opened.mode} onLost={opened.onLost} />
    </StrictMode>,
  );
} else {
  root.render(
    <main className="unavailable">
      <h1>Market Monitor</h1>
      <p role="alert">{opened.message}</p>
    </main>,
  );
}
