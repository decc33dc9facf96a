/**
 * The console's entry point: the key form, the navigation and a hash router. Each section renders
 * into `<main>` and gets an abort signal that fires when the operator leaves it or changes the key.
 */
import { h } from './dom.js';
import { currentKey, forgetKey, rememberKey } from './key-store.js';
import type { Section } from './section.js';
import { auditSection } from './sections/audit.js';
import { catalogSection } from './sections/catalog.js';
import { gamesSection } from './sections/games.js';
import { healthSection } from './sections/health.js';
import { leaderboardsSection } from './sections/leaderboards.js';
import { leasesSection } from './sections/leases.js';
import { matchesSection } from './sections/matches.js';
import { rankingsSection } from './sections/rankings.js';
import { statsSection } from './sections/stats.js';

const sections: readonly Section[] = [
  gamesSection,
  statsSection,
  leaderboardsSection,
  matchesSection,
  rankingsSection,
  catalogSection,
  leasesSection,
  auditSection,
  healthSection,
];

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const main = element<HTMLElement>('main');
const nav = element<HTMLElement>('nav');
const keyForm = element<HTMLFormElement>('key-form');
const keyInput = element<HTMLInputElement>('api-key');
const keyState = element<HTMLElement>('key-state');
const links = new Map<string, HTMLAnchorElement>();

nav.append(
  h(
    'ul',
    {},
    ...sections.map((section) => {
      const link = h('a', { href: `#${section.id}` }, section.title);
      links.set(section.id, link);
      return h('li', {}, link);
    }),
  ),
);

let current: AbortController | undefined;

function route(): void {
  const [id = '', ...rest] = location.hash.replace(/^#/, '').split('/');
  const section = sections.find((candidate) => candidate.id === id) ?? sections[0];
  if (section === undefined) return;
  const argText = rest.join('/');
  current?.abort();
  current = new AbortController();
  for (const [linkId, link] of links) {
    if (linkId === section.id) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${section.title} · Savepoint console`;
  main.replaceChildren();
  section.render(main, {
    arg: argText === '' ? undefined : decodeURIComponent(argText),
    signal: current.signal,
  });
}

function showKeyState(): void {
  keyState.textContent = currentKey() === undefined ? 'No key: public reads only' : 'Key set for this tab';
}

keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (key === '') forgetKey();
  else rememberKey(key);
  keyInput.value = '';
  showKeyState();
  route();
});
element<HTMLButtonElement>('forget-key').addEventListener('click', () => {
  forgetKey();
  keyInput.value = '';
  showKeyState();
  route();
});
window.addEventListener('hashchange', () => {
  route();
  main.focus();
});

showKeyState();
route();
