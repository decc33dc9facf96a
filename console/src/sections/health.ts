/**
 * Health: the storage state, pending writes and any start-up recovery notice (a public read), and
 * the sweep, backup and integrity-check actions, each behind a confirmation.
 */
import { ApiError, api, authHeaders } from '../api.js';
import { h } from '../dom.js';
import { jsonTree } from '../json-tree.js';
import type { Section } from '../section.js';
import type { Health } from '../types.js';
import {
  card,
  confirmAction,
  errorBox,
  facts,
  fill,
  formatNumber,
  formatTime,
  hasKey,
  notice,
} from '../ui.js';

interface Action {
  readonly label: string;
  readonly question: string;
  /** Runs the call and says what it did. */
  readonly perform: () => Promise<string>;
}

const actions: readonly Action[] = [
  {
    label: 'Sweep',
    question:
      'Remove every expired record now? Expired records are already invisible; this reclaims their space.',
    perform: async () => {
      const answer = await api<{ total: number; streams: number }>('/v1/admin/sweep', {
        method: 'POST',
        body: {},
      });
      return `Sweep done: ${formatNumber(answer.total)} records removed (${formatNumber(answer.streams)} streams).`;
    },
  },
  {
    label: 'Backup',
    question: 'Write a backup of the database file on the server now?',
    perform: async () => {
      const answer = await api<{ path: string; bytes: number }>('/v1/admin/backup', { method: 'POST' });
      return `Backup written: ${answer.path} (${formatNumber(answer.bytes)} bytes).`;
    },
  },
  {
    label: 'Integrity check',
    question: 'Run the integrity check now? It reads the whole store, off the request path.',
    perform: async () => {
      const answer = await api<{ ok: boolean; problems: string[] }>('/v1/admin/check');
      return answer.ok
        ? 'Integrity check passed: no problems.'
        : `Integrity check found ${answer.problems.length} problems: ${answer.problems.join('; ')}`;
    },
  },
];

/** `/health` answers 503 with the health fields inside the problem document; both are shown. */
async function readHealth(): Promise<{ health: Health; unavailable?: ApiError }> {
  const response = await fetch('/health', {
    // The key matters only where public reads are turned off.
    headers: { accept: 'application/json', ...authHeaders() },
    cache: 'no-store',
  });
  const body = (await response.json()) as Health & { code?: string; detail?: string };
  if (response.ok) return { health: body };
  if (body.storage === undefined)
    throw new ApiError(response.status, body.code ?? `HTTP_${response.status}`, body.detail ?? '');
  return { health: body, unavailable: new ApiError(response.status, body.code ?? '', body.detail ?? '') };
}

function healthView(health: Health, problem: ApiError | undefined): HTMLElement[] {
  return [
    problem === undefined ? h('span') : errorBox(problem),
    h(
      'div',
      { class: 'cards' },
      card('status', h('span', { class: health.status === 'ok' ? 'ok' : 'bad' }, health.status)),
      card(
        'storage',
        h('span', { class: health.storage.ok ? 'ok' : 'bad' }, health.storage.ok ? 'serving' : 'failing'),
      ),
      card('pending writes', formatNumber(health.storage.pendingWrites)),
      card('uptime', `${formatNumber(health.uptimeSeconds)} s`),
    ),
    facts([
      ['driver', health.driver],
      ['version', health.version],
      ['last storage error', health.storage.lastError ?? 'none'],
      ['last error at', formatTime(health.storage.lastErrorAt)],
    ]),
    health.recovery === undefined
      ? h('p', { class: 'muted' }, 'No recovery was needed at start-up.')
      : h(
          'div',
          {},
          notice('A fallback was taken at start-up: see the recovery details below.'),
          jsonTree(health.recovery, 'recovery'),
        ),
  ];
}

export const healthSection: Section = {
  id: 'health',
  title: 'Health',
  render(root) {
    root.append(h('h2', {}, 'Health'));
    const state = h('div');
    const output = h('div', { id: 'action-result', role: 'status' });
    const refresh = (): void => {
      void fill(state, async () => {
        const { health, unavailable } = await readHealth();
        return healthView(health, unavailable);
      });
    };
    const buttons = actions.map((action) =>
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            if (!(await confirmAction(action.label, action.question, action.label))) return;
            output.replaceChildren(h('p', { class: 'muted' }, `${action.label}…`));
            try {
              output.replaceChildren(h('p', { class: 'result' }, await action.perform()));
              refresh();
            } catch (error) {
              output.replaceChildren(errorBox(error));
            }
          },
        },
        action.label,
      ),
    );
    root.append(
      state,
      h('h3', {}, 'Actions'),
      hasKey()
        ? h('div', { class: 'row' }, ...buttons)
        : h('p', { class: 'notice' }, 'Enter the API key above to run the actions.'),
      output,
    );
    refresh();
  },
};
